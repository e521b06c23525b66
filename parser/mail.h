/*
 * parser - turns the raw bytes of one message into a struct mail.
 *
 * Pure: no database, no milter, no globals beyond GMime's and libxml2's
 * one-time initialisation (parser_init(), called once from main before
 * threads start).
 * Every string in a struct mail is valid UTF-8: bytes that are not are
 * converted from the declared charset or, failing that, replaced.
 *
 * Ownership: parser_mail_parse() returns a struct mail the caller frees with
 * parser_mail_free(); it keeps no pointer into RAW.
 */
#ifndef TM_PARSER_MAIL_H
#define TM_PARSER_MAIL_H

#include <stdbool.h>

#include <glib.h>

#define PARSER_ERROR (parser_error_quark())
GQuark parser_error_quark(void);

enum parser_error_code {
    PARSER_ERROR_FAILED, /* GMime could not produce a message at all */
};

struct mail_address {
    char *name; /* display name, UTF-8, "" when none */
    char *addr; /* local@domain as written; compare with g_ascii_strcasecmp */
};

/* One method=result of an Authentication-Results header (RFC 8601). */
struct mail_auth_result {
    char *authserv_id; /* the header's authserv-id, lower-case */
    char *method;      /* "dkim", "spf", "dmarc", ... lower-case */
    char *result;      /* "pass", "fail", ... lower-case */
    char *header_d;    /* header.d= (DKIM signing domain), lower-case; NULL when absent */
    char *header_from; /* header.from= (DMARC), lower-case; NULL when absent */
};

/* A part that is not the message's text. */
struct mail_attachment {
    char *filename;    /* decoded (RFC 2231, encoded words), UTF-8; "" when none */
    char *media_type;  /* "application/pdf", lower-case */
    char *disposition; /* "attachment", "inline" or "" */
    char *content_id;  /* without brackets; NULL when none */
    guint64 size;      /* decoded bytes */
    char sha256[65];   /* hex over the decoded bytes */
    bool is_tnef;      /* winmail.dat / application/ms-tnef */
};

/* What the parser will read at most; beyond it the message is still
 * taken, the rest is not parsed, and struct mail says so. */
struct parser_limits {
    guint max_depth;   /* MIME nesting */
    guint max_parts;   /* MIME parts in all */
    guint max_headers; /* header fields of the top-level header */
};

enum mail_limit_hit {
    MAIL_LIMIT_DEPTH = 1 << 0,
    MAIL_LIMIT_PARTS = 1 << 1,
    MAIL_LIMIT_HEADERS = 1 << 2,
    MAIL_LIMIT_HEADER_BYTES = 1 << 3, /* a header value was longer than the parser reads */
};

struct mail {
    char *message_id;          /* without angle brackets; NULL when absent */
    char *in_reply_to;         /* first msg-id of In-Reply-To, no brackets; NULL when absent */
    GPtrArray *references;     /* char*, msg-ids without brackets, in header order */
    struct mail_address *from; /* first From mailbox; NULL when none could be read */
    GPtrArray *to;             /* struct mail_address* */
    GPtrArray *cc;             /* struct mail_address* */
    char *subject;             /* decoded; "" when absent */
    char *date;                /* ISO 8601 UTC of the Date header; NULL when absent or unreadable */
    char *text;                /* the message's text in UTF-8; "" when it has none */
    bool text_is_forwarded;    /* TEXT is a forwarded message's: no command of the sender's */
    char *digest;              /* hex SHA-256 over what makes two copies "the same message" */

    /* Signs that a machine wrote it (RFC 3834 and common practice). */
    bool is_auto_reply;      /* Auto-Submitted other than "no", X-Autoreply, vacation subjects */
    bool is_bulk;            /* Precedence bulk/junk/list, or List-Id / List-Unsubscribe */
    bool is_bounce;          /* a delivery status report, or from MAILER-DAEMON */
    bool suppress_autoreply; /* X-Auto-Response-Suppress asks for no automatic answer */
    /* Which of those signs are certain: only these may keep a mail out of
     * the tickets (RFC 3834); every other sign only withholds the ack. */
    bool is_auto_submitted; /* Auto-Submitted with a value other than "no" */
    bool is_report;         /* multipart/report: a delivery or disposition notification */
    char *automation_sign;  /* the first heuristic sign, in words; NULL when none */
    char *loop;             /* our X-Ticket-Loop header's value; NULL when absent */
    /* For a delivery status report: what it reports on (NULL when unknown). */
    char *dsn_message_id; /* Message-ID of the message that failed */
    char *dsn_recipient;  /* Final-Recipient address */
    char *dsn_status;     /* Status, e.g. 5.1.1 */

    struct mail_address *reply_to; /* first Reply-To mailbox; NULL when none */
    char *list_id;                 /* List-Id without brackets; NULL when none */
    char *reply_text;              /* the new part of a reply: quotes, attribution, signature cut */
    GPtrArray *attachments;        /* struct mail_attachment*, never NULL */
    GPtrArray *auth_results;       /* struct mail_auth_result*, in header order, never NULL */
    unsigned limits_hit;           /* enum mail_limit_hit bits: what was not parsed */
};

/* Call once before any thread parses. */
void parser_init(void);

/* Parses LEN bytes of RAW (a whole RFC 5322 message, CRLF or LF line ends).
 * Returns NULL and sets ERROR only when nothing usable could be read. */
struct mail *parser_mail_parse(const char *raw, gsize len, GError **error);
/* The same within LIMITS (NULL: parser_default_limits). */
struct mail *parser_mail_parse_limited(const char *raw, gsize len,
                                       const struct parser_limits *limits, GError **error);
extern const struct parser_limits parser_default_limits;

/* The message RAW (LEN bytes) without the command lines its sender put at
 * the top: what milter/ delivers to the other recipients of a staff reply.
 * In every part that shows the message's text (each text/plain and
 * text/html part that is neither an attachment nor a named file, wherever
 * it sits in multipart/alternative, related or mixed, but never inside a
 * forwarded message/rfc822: the same rule that picks the part the text,
 * and so the commands, are read from), the lines before the first line of
 * prose are read; when IS_COMMAND_LINE (given one line, UTF-8, without its
 * line end and leading or trailing blanks) says one of them is a command
 * line, those lines go (the blank ones among and after them too).  In HTML
 * the elements that carried them go with them, so the rest renders as
 * before, and so does the first copy of each command line of the plain
 * part (a hidden preheader that repeats them, a line of prose above them).
 * Changed parts are written in UTF-8 with a 7-bit transfer encoding.  An
 * HTML part libxml2 stops reading before its end (nesting past its depth
 * limit) is written back as far as it was read; one longer than
 * PARSER_HTML_MAX_BYTES is not parsed but replaced by a short HTML
 * document that says so and shows the plain part's text without its
 * commands (or, with no plain part, the text of its first part without
 * them).
 *
 * LIMITS (NULL: parser_default_limits) must be those the message was parsed
 * with, so that the parts commands are read from are the parts they are
 * cut from.
 *
 * On true: *BODY gets everything after the header block, with CRLF line
 * ends; *CONTENT_TYPE and *ENCODING the values of the top-level
 * Content-Type and Content-Transfer-Encoding headers that go with it (NULL
 * when it has none); the caller frees all three.  Returns false, setting
 * nothing, when no part has a command line (nothing to change) or RAW is
 * no message. */
bool parser_strip_commands(const char *raw, gsize len, const struct parser_limits *limits,
                           bool (*is_command_line)(const char *line), GBytes **body,
                           char **content_type, char **encoding);

/* The address of the first mailbox in VALUE, the raw value of an address
 * header (From, To, ...), as parser_mail_parse() would read it; NULL when
 * there is none. */
char *parser_first_address(const char *value);

/* Frees MAIL (NULL is fine). Returns NULL. */
struct mail *parser_mail_free(struct mail *mail);

#endif
