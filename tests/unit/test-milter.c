/*
 * test-milter - the daemon's callbacks, driven in-process as Postfix
 * would drive them, with the real writer on a temporary database: a
 * SQLite file ("/milter/NN"), and again a schema and a role of their own
 * on the PostgreSQL cluster TM_TEST_PG_URI names ("/milter/pg/NN", the
 * same numbers; skipped without a cluster, which tests/run starts) for
 * every row whose outcome is in the store: a ticket, or a fault of it.
 *
 * The libmilter calls go through milter/io.h; here they are answered by a
 * fake MTA (struct smfi_str is ours: libmilter leaves it incomplete) that
 * holds the session's macros and keeps the copy it would deliver: the
 * headers as received, then every header added or changed and the body
 * replaced.  One row per case a user would check: what the SMTP client is
 * told at each step (code, enhanced code and text), the headers and body
 * of the delivered copy, and the tickets and messages in the database.
 * A row is one or more SMTP sessions in order on one database; the fault
 * of a row (busy, full, read-only, ...) is made before one of them (the
 * last, unless the row names another) and lifted after it, so that a
 * session after it is the sending server's retry.  Whatever a session
 * was answered 451 at its end, it left nothing in the database: no
 * ticket, message or outbox row more than before it.
 *
 * Each backend fails its own way.  SQLite: another connection's write
 * lock, a page limit on the writer's own connection (sqlite-hook.h), and
 * query_only.  PostgreSQL (pg-fault.h): another session's lock on the
 * messages table, triggers on it that answer as the server does (a disk
 * full, a lost race once, at COMMIT, or every time the writer tries, a
 * COMMIT that fails, a statement past statement_timeout, the store's
 * session ended in the middle of the message), the store's session ended
 * between two messages (a restart), its role refused at login (the
 * server is down) or made read-only (a standby).  The rows of faults only
 * PostgreSQL has are "/milter/pg/fault/NN".
 *
 * Beyond the rows: sessions at once, as libmilter runs them, which the
 * writer commits in shared batches (on both backends, and on PostgreSQL
 * with a batch that must be run again), and on PostgreSQL the same
 * message taken by another daemon while ours stores it.
 *
 * The envelope as Postfix gives it: each RCPT as the client wrote it, and
 * optionally the {rcpt_addr} macro, Postfix's resolved reading of it; the
 * fake keeps the recipients and removes one only on the exact string it
 * was given.  This program is linked with router_decide wrapped
 * (-Wl,--wrap, in the Makefile) so that a test can see the recipients the
 * router was given and, where the router names none, stand in for its rule
 * for an internal note: remove every recipient that is neither staff nor
 * support.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <sqlite3.h>

#include "config/config.h"
#include "milter/ingest.h"
#include "milter/io.h"
#include "milter/milter.h"
#include "milter/stats.h"
#include "parser/mail.h"
#include "router/keys.h"
#include "router/router.h"
#include "store/db.h"
#include "store/messages.h"
#include "store/store.h"
#include "store/tickets.h"
#include "store/writer.h"
#include "tests/unit/pg-fault.h"
#include "tests/unit/sqlite-hook.h"

/* ---- the fake MTA ---- */

struct header {
    char *name;
    char *value; /* as the MTA holds it: with its leading space */
};

struct smfi_str {
    void *priv;
    GHashTable *macros;   /* "i", "{auth_authen}" */
    char *reply;          /* "CODE XCODE TEXT" set during the current step, or NULL */
    GPtrArray *headers;   /* struct header*: the delivered copy's */
    GByteArray *body;     /* the delivered copy's body */
    GByteArray *new_body; /* what smfi_replacebody sent; NULL when nothing */
    GString *edits;       /* "add NAME; change NAME[I]; delete NAME[I]; body; delrcpt R" */
    GPtrArray *rcpts;     /* char*: the recipients, as the client wrote them, with <> */
    bool leading_space;   /* the milter asked for header values with their leading space */
    bool delrcpt_fails;   /* smfi_delrcpt answers MI_FAILURE (the connection to it broke) */
};

static void
header_free(gpointer p)
{
    struct header *h = p;

    g_free(h->name);
    g_free(h->value);
    g_free(h);
}

static void
ctx_init(struct smfi_str *ctx)
{
    *ctx = (struct smfi_str){
        .macros = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free),
        .headers = g_ptr_array_new_with_free_func(header_free),
        .body = g_byte_array_new(),
        .edits = g_string_new(NULL),
        .rcpts = g_ptr_array_new_with_free_func(g_free),
    };
}

static void
ctx_clear(struct smfi_str *ctx)
{
    g_hash_table_unref(ctx->macros);
    g_free(ctx->reply);
    g_ptr_array_unref(ctx->headers);
    g_byte_array_unref(ctx->body);
    if (ctx->new_body != NULL)
        g_byte_array_unref(ctx->new_body);
    g_string_free(ctx->edits, TRUE);
    g_ptr_array_unref(ctx->rcpts);
}

static void
edit(struct smfi_str *ctx, const char *what)
{
    g_string_append_printf(ctx->edits, "%s%s", ctx->edits->len > 0 ? "; " : "", what);
}

static void *
fake_getpriv(SMFICTX *ctx)
{
    return ctx->priv;
}

static int
fake_setpriv(SMFICTX *ctx, void *priv)
{
    ctx->priv = priv;
    return MI_SUCCESS;
}

static char *
fake_getsymval(SMFICTX *ctx, char *name)
{
    return g_hash_table_lookup(ctx->macros, name);
}

static int
fake_setreply(SMFICTX *ctx, char *code, char *xcode, char *text)
{
    /* libmilter refuses what the MTA could not send on one line. */
    g_assert_null(strpbrk(text, "\r\n"));
    g_free(ctx->reply);
    ctx->reply = g_strdup_printf("%s %s %s", code, xcode, text);
    return MI_SUCCESS;
}

static int
fake_addheader(SMFICTX *ctx, char *name, char *value)
{
    struct header *h = g_new0(struct header, 1);

    h->name = g_strdup(name);
    h->value = g_strdup(value);
    g_ptr_array_add(ctx->headers, h);
    g_autofree char *what = g_strdup_printf("add %s", name);
    edit(ctx, what);
    return MI_SUCCESS;
}

/* Sendmail's rule, which Postfix follows: the INDEX-th header of that
 * name is changed, or deleted with a NULL value; past the last one a
 * value is added. */
static int
fake_chgheader(SMFICTX *ctx, char *name, int index, char *value)
{
    g_autofree char *what =
        g_strdup_printf("%s %s[%d]", value != NULL ? "change" : "delete", name, index);
    int seen = 0;

    edit(ctx, what);
    for (guint i = 0; i < ctx->headers->len; i++) {
        struct header *h = g_ptr_array_index(ctx->headers, i);
        if (g_ascii_strcasecmp(h->name, name) != 0 || ++seen != index)
            continue;
        if (value == NULL) {
            g_ptr_array_remove_index(ctx->headers, i);
        } else {
            g_free(h->value);
            h->value = g_strdup(value);
        }
        return MI_SUCCESS;
    }
    if (value != NULL) {
        struct header *h = g_new0(struct header, 1);
        h->name = g_strdup(name);
        h->value = g_strdup(value);
        g_ptr_array_add(ctx->headers, h);
    }
    return MI_SUCCESS;
}

static int
fake_replacebody(SMFICTX *ctx, unsigned char *body, int len)
{
    g_assert_cmpint(len, >=, 0);
    g_assert_cmpint(len, <=, 65535);
    if (ctx->new_body == NULL) {
        ctx->new_body = g_byte_array_new();
        edit(ctx, "body");
    }
    g_byte_array_append(ctx->new_body, body, (guint)len);
    return MI_SUCCESS;
}

/* Postfix matches what it is given against the recipients it holds; the
 * milter must give the string it got, so anything else fails the test. */
static int
fake_delrcpt(SMFICTX *ctx, char *rcpt)
{
    g_autofree char *what = g_strdup_printf("delrcpt %s", rcpt);

    edit(ctx, what);
    if (ctx->delrcpt_fails)
        return MI_FAILURE;
    for (guint i = 0; i < ctx->rcpts->len; i++) {
        if (strcmp(g_ptr_array_index(ctx->rcpts, i), rcpt) == 0) {
            g_ptr_array_remove_index(ctx->rcpts, i);
            return MI_SUCCESS;
        }
    }
    g_test_message("delrcpt of %s, which is no recipient", rcpt);
    g_test_fail();
    return MI_FAILURE;
}

static const struct milter_io fake_io = {
    .getpriv = fake_getpriv,
    .setpriv = fake_setpriv,
    .getsymval = fake_getsymval,
    .setreply = fake_setreply,
    .addheader = fake_addheader,
    .chgheader = fake_chgheader,
    .replacebody = fake_replacebody,
    .delrcpt = fake_delrcpt,
};

/* ---- the router, wrapped ---- */

struct decision *__real_router_decide(const struct policy *p, const struct router_input *in,
                                      const struct router_view *v);
struct decision *__wrap_router_decide(const struct policy *p, const struct router_input *in,
                                      const struct router_view *v);

static GString *router_saw; /* the recipients of the last decision, ", " between */

struct decision *
__wrap_router_decide(const struct policy *p, const struct router_input *in,
                     const struct router_view *v)
{
    struct decision *d = __real_router_decide(p, in, v);

    g_string_truncate(router_saw, 0);
    for (guint i = 0; in->recipients != NULL && i < in->recipients->len; i++)
        g_string_append_printf(router_saw, "%s%s", i > 0 ? ", " : "",
                               (const char *)g_ptr_array_index(in->recipients, i));
    return d;
}

/* The value of the first delivered header NAME without its leading
 * blanks; NULL when there is none. */
static const char *
delivered_header(const struct smfi_str *ctx, const char *name)
{
    for (guint i = 0; i < ctx->headers->len; i++) {
        const struct header *h = g_ptr_array_index(ctx->headers, i);
        if (g_ascii_strcasecmp(h->name, name) == 0) {
            const char *v = h->value;
            while (*v == ' ' || *v == '\t')
                v++;
            return v;
        }
    }
    return NULL;
}

static char *
delivered_body(const struct smfi_str *ctx)
{
    const GByteArray *b = ctx->new_body != NULL ? ctx->new_body : ctx->body;

    return g_strndup((const char *)b->data, b->len);
}

/* ---- rows ---- */

#define SUPPORT "support@example.com"
#define FORGED "support+tkt-1.0123456789abcdef0123456789abcdef@example.com"

#define CONFIG                                                                                     \
    "[milter]\n"                                                                                   \
    "support_addresses = " SUPPORT "\n"                                                            \
    "[staff]\n"                                                                                    \
    "domains = example.com\n"                                                                      \
    "trusted_networks = 192.0.2.0/24\n"                                                            \
    "[outbound]\n"                                                                                 \
    "template_dir = templates\n"                                                                   \
    "[customer:acme]\n"                                                                            \
    "domains = acme.test\n"                                                                        \
    "timezone = Europe/Amsterdam\n"                                                                \
    "language = en\n"

#define CUSTOMER_MAIL                                                                              \
    "From: Jan Jansen <jan@acme.test>\nTo: " SUPPORT "\nSubject: Printer offline\n"                \
    "Message-ID: <m1@acme.test>\nDate: Tue, 24 Nov 2026 10:00:00 +0100\n\n"                        \
    "The printer on the second floor is offline.\n"

#define STRANGER_MAIL                                                                              \
    "From: Eve <eve@stranger.test>\nTo: " SUPPORT "\nSubject: Hello\n"                             \
    "Message-ID: <e1@stranger.test>\n\nPlease call me.\n"

/* Staff answer the customer from a client of the trusted network. */
#define STAFF_REPLY(cc, command)                                                                   \
    "From: John Doe <john.doe@example.com>\nTo: jan@acme.test\n" cc                                \
    "Subject: Re: [TKT-1] Printer offline\nMessage-ID: <r1@example.com>\n"                         \
    "In-Reply-To: <m1@acme.test>\nDate: Tue, 24 Nov 2026 11:00:00 +0100\n\n" command               \
    "Could you send us the printer's log?\n"

/* Its first header has a control character in its name: no header block
 * GMime can read.  (Postfix would take such a line for the body; this MTA
 * hands it over as a header to reach the refusal.) */
#define UNREADABLE "X-A\x7f: b\nFrom: jan@acme.test\n\nHello\n"

#define RCPT_OK(a) "RCPT <" a ">: continue\n"
#define TAGGED "add X-Ticket-ID; change Subject[1]"
#define BUSY_TEXT "Support system is busy, please try again later"
#define FULL_TEXT "Support system is out of storage space, please try again later"
#define STORE_TEXT "Support system cannot store the message right now, please try again later"
#define UNREACHABLE_TEXT                                                                           \
    "Support system's database is not reachable right now, please try again later"
#define UNREGISTERED                                                                               \
    "reject 550 5.7.1 This address takes mail from registered support contacts only; please "      \
    "ask your administrator to register you"

#define STAFF_TOO_BIG                                                                              \
    "Staff mail over the support system's size limit cannot be recorded, and its command lines"    \
    " would reach the customer; please send the attachment separately"

/* What a staff message too big to read hears at its end, and the limit
 * the rows about it use. */
#define STAFF_REFUSED "DATA: continue\nEOM: reject 552 5.3.4 " STAFF_TOO_BIG "\n"
#define SMALL_LIMIT "[milter]\nmax_message_size = 4096\n"

#define CUSTOMER_CLIENT "198.51.100.7"
#define STAFF_CLIENT "192.0.2.10"

struct session {
    const char *client;       /* the SMTP client's IPv4 address */
    const char *auth;         /* the SMTP AUTH login; NULL: none */
    const char *mail_from;    /* MAIL FROM:<this> */
    const char *mail_arg;     /* an ESMTP parameter ("SIZE=..."), or NULL */
    const char *rcpt[4];      /* RCPT TO:<each> */
    const char *rcpt_addr[4]; /* Postfix's {rcpt_addr} for each; NULL: no such macro */
    const char *message;      /* header, blank line, body; LF line ends */
    guint pad_kib;            /* that many KiB of text added to the body */

    /* What the client is told: "STEP: ANSWER[ CODE XCODE TEXT]", a line for
     * each RCPT, DATA and end of message, and for any other step that does
     * not say "go on". */
    const char *transcript;
    const char *edits;     /* fake MTA's edit list ("" none); NULL: not checked */
    const char *ticket_id; /* the delivered X-Ticket-ID; NULL: none */
    const char *subject;   /* the delivered Subject; NULL: not checked */
    const char *body_has;  /* in the delivered body; NULL: not checked */
    const char *body_lacks;
    const char *delivered_to; /* the recipients left, ", " between; NULL: not checked */
    const char *router_saw;   /* the recipients the router got, ", " between; NULL: not checked */
    bool delrcpt_fails;       /* the MTA fails to remove a recipient */
};

enum fault {
    FAULT_NONE,
    FAULT_BUSY,     /* another process holds a lock past busy_timeout */
    FAULT_FULL,     /* no room for the message */
    FAULT_READONLY, /* the store's connection may not write */
    /* PostgreSQL's alone: */
    FAULT_RACE_ONCE,               /* the message's transaction loses a race once (40001) */
    FAULT_RACE_AT_COMMIT,          /* its COMMIT loses a race once */
    FAULT_RACE_LOST,               /* it loses the race every time the writer runs it */
    FAULT_COMMIT_FAILS,            /* its COMMIT fails once (a check the server makes then) */
    FAULT_STATEMENT_TIMEOUT,       /* a statement of it runs past statement_timeout once */
    FAULT_SESSION_ENDED,           /* the store's session ends in the middle of it */
    FAULT_SESSION_ENDED_AT_COMMIT, /* ... in its COMMIT */
    FAULT_RESTART,                 /* the store's session ended before it (a restart) */
    FAULT_SERVER_DOWN,             /* the server takes no connection of the store's */
};

struct row {
    const char *fact;
    const char *config;  /* appended to CONFIG; NULL: none */
    enum fault fault;    /* made before session FAULT_AT, lifted after it */
    guint fault_at;      /* from 1; 0: the last session */
    struct session s[3]; /* in order; the first with no client ends them */
    /* The database after them: the tickets, and on TKT-1 (or TAG; when
     * there is one) its status, its messages and the last one's
     * "direction kind". */
    guint tickets;
    enum ticket_status status;
    guint messages;
    const char *last_message;
    const char *tag; /* of the ticket looked at; NULL: TKT-1 */
    guint outbox;    /* outbox rows (acknowledgements, notices); 0: not checked */
    guint attempts;  /* PostgreSQL: how often the fault's trigger was met; 0: not checked */
    guint busy_ms;   /* busy_timeout; 0: the backend's (BUSY_MS_SQLITE, BUSY_MS_PG) */
};

/* The customer mail of the first row, answered ANSWER_EOM at its end and
 * delivered with X-Ticket-ID TAG. */
#define CUSTOMER_SESSION(answer_eom, tag)                                                          \
    {                                                                                              \
        .client = CUSTOMER_CLIENT, .mail_from = "jan@acme.test", .rcpt = { SUPPORT },              \
        .message = CUSTOMER_MAIL,                                                                  \
        .transcript = RCPT_OK(SUPPORT) "DATA: continue\nEOM: " answer_eom "\n", .ticket_id = tag,  \
    }

/* What a customer's mail that lost to a fault hears at its end, and what
 * the sending server's retry of it hears once the fault is gone. */
#define DEFERRED(text) CUSTOMER_SESSION("tempfail 451 4.3.0 " text, NULL)
#define RETRIED CUSTOMER_SESSION("continue", "TKT-1")
#define RETRIED_AS(tag) CUSTOMER_SESSION("continue", tag)
/* The database after such a retry: the mail is ticket TAG, with one
 * message and one acknowledgement. */
#define STORED_ONCE_AS(t)                                                                          \
    .tickets = 1, .status = TICKET_OPEN, .messages = 1, .last_message = "in customer", .tag = t,   \
    .outbox = 1

static const struct row rows[] = {
    {
        .fact = "a new customer mail is accepted, tagged, and one ticket",
        .s = { {
            .client = CUSTOMER_CLIENT,
            .mail_from = "jan@acme.test",
            .rcpt = { SUPPORT },
            .message = CUSTOMER_MAIL,
            .transcript = RCPT_OK(SUPPORT) "DATA: continue\nEOM: continue\n",
            .edits = TAGGED,
            .ticket_id = "TKT-1",
            .subject = "[TKT-1] Printer offline",
            .body_has = "second floor",
        } },
        .tickets = 1,
        .status = TICKET_OPEN,
        .messages = 1,
        .last_message = "in customer",
    },
    {
        .fact = "an X-Ticket-ID the sender wrote is not delivered: ours replaces it",
        .s = { {
            .client = CUSTOMER_CLIENT,
            .mail_from = "jan@acme.test",
            .rcpt = { SUPPORT },
            .message = "X-Ticket-ID: TKT-99\n" CUSTOMER_MAIL,
            .transcript = RCPT_OK(SUPPORT) "DATA: continue\nEOM: continue\n",
            .edits = "delete X-Ticket-ID[1]; " TAGGED,
            .ticket_id = "TKT-1",
        } },
        .tickets = 1,
        .status = TICKET_OPEN,
        .messages = 1,
        .last_message = "in customer",
    },
    {
        .fact = "the same message twice is one ticket with one message, tagged both times",
        .s = { CUSTOMER_SESSION("continue", "TKT-1"),
               {
                   .client = CUSTOMER_CLIENT,
                   .mail_from = "jan@acme.test",
                   .rcpt = { SUPPORT },
                   .message = CUSTOMER_MAIL,
                   .transcript = RCPT_OK(SUPPORT) "DATA: continue\nEOM: continue\n",
                   .edits = TAGGED,
                   .ticket_id = "TKT-1",
                   .subject = "[TKT-1] Printer offline",
               } },
        .tickets = 1,
        .status = TICKET_OPEN,
        .messages = 1,
        .last_message = "in customer",
    },
    {
        .fact = "a forged ticket address is refused at RCPT, for that recipient alone",
        .s = { {
            .client = CUSTOMER_CLIENT,
            .mail_from = "jan@acme.test",
            .rcpt = { FORGED, SUPPORT, "piet@acme.test" },
            .message = CUSTOMER_MAIL,
            .transcript = "RCPT <" FORGED ">: reject 550 5.7.1 This ticket address is not valid;"
                          " please write to the support address\n" RCPT_OK(SUPPORT)
                              RCPT_OK("piet@acme.test") "DATA: continue\nEOM: continue\n",
            .ticket_id = "TKT-1",
        } },
        .tickets = 1,
        .status = TICKET_OPEN,
        .messages = 1,
        .last_message = "in customer",
    },
    {
        .fact = "a message announced too big is refused at RCPT",
        .s = { {
            .client = CUSTOMER_CLIENT,
            .mail_from = "jan@acme.test",
            .mail_arg = "SIZE=30000000",
            .rcpt = { SUPPORT },
            .message = CUSTOMER_MAIL,
            .transcript = "RCPT <" SUPPORT ">: reject 552 5.3.4 Message too big for the support"
                          " system\n",
        } },
    },
    {
        .fact = "an envelope sender that is not UTF-8 is refused at RCPT",
        .s = { {
            .client = CUSTOMER_CLIENT,
            .mail_from = "j\xe9@acme.test",
            .rcpt = { SUPPORT },
            .message = CUSTOMER_MAIL,
            .transcript = "RCPT <" SUPPORT ">: reject 553 5.6.7 The sender address is not valid"
                          " UTF-8\n",
        } },
    },
    {
        .fact = "unknown_senders = reject: a stranger is refused at RCPT",
        .config = "[milter]\nunknown_senders = reject\n",
        .s = { {
            .client = CUSTOMER_CLIENT,
            .mail_from = "eve@stranger.test",
            .rcpt = { SUPPORT },
            .message = STRANGER_MAIL,
            .transcript = "RCPT <" SUPPORT ">: " UNREGISTERED "\n",
        } },
    },
    {
        .fact = "unknown_senders = reject: a stranger's mail goes on to the other recipient",
        .config = "[milter]\nunknown_senders = reject\n",
        .s = { {
            .client = CUSTOMER_CLIENT,
            .mail_from = "eve@stranger.test",
            .rcpt = { SUPPORT, "friend@elsewhere.test" },
            .message = STRANGER_MAIL,
            .transcript = "RCPT <" SUPPORT ">: " UNREGISTERED
                          "\n" RCPT_OK("friend@elsewhere.test") "DATA: accept\n",
            .edits = "",
        } },
    },
    {
        .fact = "mail for no support address is let go at DATA, nothing stored",
        .s = { {
            .client = CUSTOMER_CLIENT,
            .mail_from = "jan@acme.test",
            .rcpt = { "friend@elsewhere.test" },
            .message = CUSTOMER_MAIL,
            .transcript = RCPT_OK("friend@elsewhere.test") "DATA: accept\n",
            .edits = "",
        } },
    },
    {
        .fact = "a trusted staff reply with support in Cc: the command applies, the customer"
                " gets the reply without it",
        .s = { CUSTOMER_SESSION("continue", "TKT-1"),
               {
                   .client = STAFF_CLIENT,
                   .mail_from = "john.doe@example.com",
                   .rcpt = { "jan@acme.test", SUPPORT },
                   .message = STAFF_REPLY("Cc: " SUPPORT "\n", "#status pending\n\n"),
                   .transcript =
                       RCPT_OK("jan@acme.test") RCPT_OK(SUPPORT) "DATA: continue\nEOM: continue\n",
                   /* The stripped body is plain text, and says so. */
                   .edits = "add X-Ticket-ID; body; add Content-Type",
                   .ticket_id = "TKT-1",
                   .subject = "Re: [TKT-1] Printer offline",
                   .body_has = "Could you send us the printer's log?",
                   .body_lacks = "#status",
               } },
        .tickets = 1,
        .status = TICKET_PENDING,
        .messages = 2,
        .last_message = "out staff",
    },
    {
        .fact = "a staff reply from anywhere, by SMTP AUTH as its sender: trusted as well",
        .s = { CUSTOMER_SESSION("continue", "TKT-1"),
               {
                   .client = CUSTOMER_CLIENT,
                   .auth = "john.doe@example.com",
                   .mail_from = "john.doe@example.com",
                   .rcpt = { "jan@acme.test", SUPPORT },
                   .message = STAFF_REPLY("Cc: " SUPPORT "\n", "#status pending\n\n"),
                   .transcript =
                       RCPT_OK("jan@acme.test") RCPT_OK(SUPPORT) "DATA: continue\nEOM: continue\n",
                   .ticket_id = "TKT-1",
                   .body_lacks = "#status",
               } },
        .tickets = 1,
        .status = TICKET_PENDING,
        .messages = 2,
        .last_message = "out staff",
    },
    {
        .fact = "an outgoing staff reply from a trusted network is recorded on its ticket",
        .s = { CUSTOMER_SESSION("continue", "TKT-1"),
               {
                   .client = STAFF_CLIENT,
                   .mail_from = "john.doe@example.com",
                   .rcpt = { "jan@acme.test" },
                   .message = STAFF_REPLY("", ""),
                   .transcript = RCPT_OK("jan@acme.test") "DATA: continue\nEOM: continue\n",
                   .edits = "add X-Ticket-ID",
                   .ticket_id = "TKT-1",
                   .body_has = "Could you send us the printer's log?",
               } },
        .tickets = 1,
        .status = TICKET_OPEN,
        .messages = 2,
        .last_message = "out staff",
    },
    {
        .fact = "outgoing mail of a trusted client that is no staff reply goes untouched",
        .s = { {
            .client = STAFF_CLIENT,
            .mail_from = "john.doe@example.com",
            .rcpt = { "friend@elsewhere.test" },
            .message = "From: John Doe <john.doe@example.com>\nTo: friend@elsewhere.test\n"
                       "Subject: Lunch on Friday?\nMessage-ID: <l1@example.com>\n\nAt noon?\n",
            .transcript = RCPT_OK("friend@elsewhere.test") "DATA: continue\nEOM: continue\n",
            .edits = "",
        } },
    },
    {
        .fact = "an unparsable message for support alone is refused for good",
        .s = { {
            .client = CUSTOMER_CLIENT,
            .mail_from = "jan@acme.test",
            .rcpt = { SUPPORT },
            .message = UNREADABLE,
            .transcript = RCPT_OK(
                SUPPORT) "DATA: continue\nEOM: reject 554 5.6.0 This message"
                         " has no header the support system can read; please resend it from a"
                         " mail program\n",
            .edits = "",
        } },
    },
    {
        .fact = "an unparsable message with another recipient goes on, not ticketed",
        .s = { {
            .client = CUSTOMER_CLIENT,
            .mail_from = "jan@acme.test",
            .rcpt = { SUPPORT, "piet@acme.test" },
            .message = UNREADABLE,
            .transcript =
                RCPT_OK(SUPPORT) RCPT_OK("piet@acme.test") "DATA: continue\nEOM: continue\n",
            .edits = "",
        } },
    },
    {
        .fact = "a database locked past busy_timeout: 451, busy",
        .fault = FAULT_BUSY,
        .s = { CUSTOMER_SESSION("tempfail 451 4.3.0 " BUSY_TEXT, NULL) },
    },
    {
        .fact = "a database out of space: 451, out of storage space",
        .fault = FAULT_FULL,
        .s = { {
            .client = CUSTOMER_CLIENT,
            .mail_from = "jan@acme.test",
            .rcpt = { SUPPORT },
            .message = CUSTOMER_MAIL,
            .pad_kib = 256,
            .transcript =
                RCPT_OK(SUPPORT) "DATA: continue\nEOM: tempfail 451 4.3.0 " FULL_TEXT "\n",
            .edits = "",
        } },
    },
    {
        .fact = "a database that may not be written: 451, cannot store",
        .fault = FAULT_READONLY,
        .s = { CUSTOMER_SESSION("tempfail 451 4.3.0 " STORE_TEXT, NULL) },
    },

    /* ---- the envelope as hostile mail writes it ---- */
    {
        .fact = "support with a quoted local part is support: the mail is ticketed, not slipped"
                " into the mailbox past us",
        .s = { {
            .client = CUSTOMER_CLIENT,
            .mail_from = "jan@acme.test",
            .rcpt = { "\"support\"@example.com" },
            .message = CUSTOMER_MAIL,
            .transcript = RCPT_OK("\"support\"@example.com") "DATA: continue\nEOM: continue\n",
            .edits = TAGGED,
            .ticket_id = "TKT-1",
            .subject = "[TKT-1] Printer offline",
            .delivered_to = "<\"support\"@example.com>",
            .router_saw = SUPPORT,
        } },
        .tickets = 1,
        .status = TICKET_OPEN,
        .messages = 1,
        .last_message = "in customer",
    },
    {
        .fact = "support with an escape, a trailing dot, an upper-case domain: support each time",
        .s = { {
                   .client = CUSTOMER_CLIENT,
                   .mail_from = "jan@acme.test",
                   .rcpt = { "sup\\port@example.com" },
                   .message = CUSTOMER_MAIL,
                   .transcript = RCPT_OK("sup\\port@example.com") "DATA: continue\nEOM: continue\n",
                   .edits = TAGGED,
                   .ticket_id = "TKT-1",
                   .router_saw = SUPPORT,
               },
               {
                   .client = CUSTOMER_CLIENT,
                   .mail_from = "jan@acme.test",
                   .rcpt = { "support@example.com." },
                   .message = CUSTOMER_MAIL,
                   .transcript = RCPT_OK("support@example.com.") "DATA: continue\nEOM: continue\n",
                   .edits = TAGGED,
                   .ticket_id = "TKT-1",
                   .router_saw = SUPPORT,
               },
               {
                   .client = CUSTOMER_CLIENT,
                   .mail_from = "jan@acme.test",
                   .rcpt = { "support@EXAMPLE.COM" },
                   .message = CUSTOMER_MAIL,
                   .transcript = RCPT_OK("support@EXAMPLE.COM") "DATA: continue\nEOM: continue\n",
                   .edits = TAGGED,
                   .ticket_id = "TKT-1",
                   .router_saw = SUPPORT,
               } },
        .tickets = 1,
        .status = TICKET_OPEN,
        .messages = 1,
        .last_message = "in customer",
    },
    {
        .fact = "unknown_senders = reject: a stranger is refused at support however it is written",
        .config = "[milter]\nunknown_senders = reject\n",
        .s = { {
            .client = CUSTOMER_CLIENT,
            .mail_from = "eve@stranger.test",
            .rcpt = { "sup\\port@example.com", "\"support\"@EXAMPLE.COM.",
                      "friend@elsewhere.test" },
            .message = STRANGER_MAIL,
            .transcript = "RCPT <sup\\port@example.com>: " UNREGISTERED "\n"
                          "RCPT <\"support\"@EXAMPLE.COM.>: " UNREGISTERED
                          "\n" RCPT_OK("friend@elsewhere.test") "DATA: accept\n",
            .edits = "",
            .delivered_to = "<friend@elsewhere.test>",
        } },
    },
    {
        .fact = "a forged tag in quotes or behind a trailing dot is refused at RCPT, not let by",
        .s = { {
            .client = CUSTOMER_CLIENT,
            .mail_from = "jan@acme.test",
            .rcpt = { "\"support+tkt-1.0123456789abcdef0123456789abcdef\"@example.com", FORGED ".",
                      SUPPORT },
            .message = CUSTOMER_MAIL,
            .transcript = "RCPT <\"support+tkt-1.0123456789abcdef0123456789abcdef\"@example.com>:"
                          " reject 550 5.7.1 This ticket address is not valid; please write to"
                          " the support address\n"
                          "RCPT <" FORGED ".>: reject 550 5.7.1 This ticket address is not valid;"
                          " please write to the support address\n" RCPT_OK(
                              SUPPORT) "DATA: continue\nEOM: continue\n",
            .ticket_id = "TKT-1",
            .delivered_to = "<" SUPPORT ">",
        } },
        .tickets = 1,
        .status = TICKET_OPEN,
        .messages = 1,
        .last_message = "in customer",
    },
    {
        .fact = "Postfix's reading of a routed recipient ({rcpt_addr}) decides: user%domain@host"
                " that leads to support is support, and its forged tag is refused",
        .s = { {
            .client = CUSTOMER_CLIENT,
            .mail_from = "jan@acme.test",
            .rcpt = { "support+tkt-1.0123456789abcdef0123456789abcdef%example.com@mx.example.com",
                      "support%example.com@mx.example.com" },
            .rcpt_addr = { FORGED, SUPPORT },
            .message = CUSTOMER_MAIL,
            .transcript =
                "RCPT <support+tkt-1.0123456789abcdef0123456789abcdef%example.com"
                "@mx.example.com>: reject 550 5.7.1 This ticket address is not valid;"
                " please write to the support address\n" RCPT_OK(
                    "support%example.com@mx.example.com") "DATA: continue\nEOM: continue\n",
            .edits = TAGGED,
            .ticket_id = "TKT-1",
            .router_saw = SUPPORT,
            .delivered_to = "<support%example.com@mx.example.com>",
        } },
        .tickets = 1,
        .status = TICKET_OPEN,
        .messages = 1,
        .last_message = "in customer",
    },
    {
        .fact = "a bare local part is what Postfix completes it to; no address at all is nobody's",
        .s = { {
            .client = CUSTOMER_CLIENT,
            .mail_from = "jan@acme.test",
            .rcpt = { "support", "\"unclosed@acme.test" },
            .rcpt_addr = { SUPPORT, NULL },
            .message = CUSTOMER_MAIL,
            .transcript = RCPT_OK("support")
                RCPT_OK("\"unclosed@acme.test") "DATA: continue\nEOM: continue\n",
            .edits = TAGGED,
            .ticket_id = "TKT-1",
            .router_saw = SUPPORT ", \"unclosed@acme.test",
        } },
        .tickets = 1,
        .status = TICKET_OPEN,
        .messages = 1,
        .last_message = "in customer",
    },
    {
        .fact = "the router gets every recipient let through, canonical, and none refused",
        .s = { {
            .client = CUSTOMER_CLIENT,
            .mail_from = "jan@acme.test",
            .rcpt = { FORGED, "\"support\"@example.com", "Piet@ACME.Test.",
                      "\"piet de vries\"@acme.test" },
            .message = CUSTOMER_MAIL,
            .transcript =
                "RCPT <" FORGED ">: reject 550 5.7.1 This ticket address is not valid;"
                " please write to the support address\n" RCPT_OK("\"support\"@example.com")
                    RCPT_OK("Piet@ACME.Test.")
                        RCPT_OK("\"piet de vries\"@acme.test") "DATA: continue\nEOM: continue\n",
            .ticket_id = "TKT-1",
            .router_saw = SUPPORT ", Piet@acme.test, \"piet de vries\"@acme.test",
        } },
        .tickets = 1,
        .status = TICKET_OPEN,
        .messages = 1,
        .last_message = "in customer",
    },
    {
        .fact = "a sender refused at the end of the message: support is removed as Postfix knows"
                " it, the others keep their copy, and support's mailbox gets none unticketed",
        .config = "[milter]\nunknown_senders = reject\n",
        .s = { {
            .client = CUSTOMER_CLIENT,
            .mail_from = "jan@acme.test",
            .rcpt = { "\"support\"@example.com", "piet@acme.test" },
            .message = STRANGER_MAIL,
            .transcript = RCPT_OK("\"support\"@example.com")
                RCPT_OK("piet@acme.test") "DATA: continue\nEOM: continue\n",
            .edits = "delrcpt <\"support\"@example.com>",
            .delivered_to = "<piet@acme.test>",
        } },
    },
    {
        .fact = "a support recipient the MTA fails to remove: 451, nothing unticketed goes on",
        .config = "[milter]\nunknown_senders = reject\n",
        .s = { {
            .client = CUSTOMER_CLIENT,
            .mail_from = "jan@acme.test",
            .rcpt = { SUPPORT, "piet@acme.test" },
            .message = STRANGER_MAIL,
            .delrcpt_fails = true,
            .transcript = RCPT_OK(SUPPORT)
                RCPT_OK("piet@acme.test") "DATA: continue\nEOM: tempfail 451 4.3.0 Support system "
                                          "cannot take the"
                                          " message right now, please try again later\n",
            .edits = "delrcpt <" SUPPORT ">",
        } },
    },
    {
        .fact = "too big at its end, with another recipient: it goes on to everyone untouched",
        .config = "[milter]\nmax_message_size = 1024\n",
        .s = { {
            .client = CUSTOMER_CLIENT,
            .mail_from = "jan@acme.test",
            .rcpt = { SUPPORT, "piet@acme.test" },
            .message = CUSTOMER_MAIL,
            .pad_kib = 2,
            .transcript =
                RCPT_OK(SUPPORT) RCPT_OK("piet@acme.test") "DATA: continue\nEOM: continue\n",
            .edits = "",
            .delivered_to = "<" SUPPORT ">, <piet@acme.test>",
        } },
    },
    {
        .fact = "too big at its end, for support alone: refused",
        .config = "[milter]\nmax_message_size = 1024\n",
        .s = { {
            .client = CUSTOMER_CLIENT,
            .mail_from = "jan@acme.test",
            .rcpt = { SUPPORT },
            .message = CUSTOMER_MAIL,
            .pad_kib = 2,
            .transcript = RCPT_OK(SUPPORT) "DATA: continue\nEOM: reject 552 5.3.4 Message too"
                                           " big for the support system\n",
            .edits = "",
        } },
    },
    {
        .fact = "too big at its end, with another recipient: an X-Ticket-ID the sender wrote"
                " does not reach support's mailbox",
        .config = "[milter]\nmax_message_size = 1024\n",
        .s = { {
            .client = CUSTOMER_CLIENT,
            .mail_from = "jan@acme.test",
            .rcpt = { SUPPORT, "piet@acme.test" },
            .message = "X-Ticket-ID: TKT-1\n" CUSTOMER_MAIL,
            .pad_kib = 2,
            .transcript =
                RCPT_OK(SUPPORT) RCPT_OK("piet@acme.test") "DATA: continue\nEOM: continue\n",
            .edits = "delete X-Ticket-ID[1]",
            .delivered_to = "<" SUPPORT ">, <piet@acme.test>",
        } },
    },
    {
        .fact = "a staff reply over max_message_size with support in Cc: refused whole, its"
                " internal note reaches nobody",
        .config = SMALL_LIMIT,
        .s = { CUSTOMER_SESSION("continue", "TKT-1"),
               {
                   .client = STAFF_CLIENT,
                   .mail_from = "john.doe@example.com",
                   .rcpt = { "jan@acme.test", SUPPORT },
                   .message = STAFF_REPLY("Cc: " SUPPORT "\n", "#internal\n\n"),
                   .pad_kib = 8,
                   .transcript = RCPT_OK("jan@acme.test") RCPT_OK(SUPPORT) STAFF_REFUSED,
                   .edits = "",
               } },
        .tickets = 1,
        .status = TICKET_OPEN,
        .messages = 1,
        .last_message = "in customer",
    },
    {
        .fact = "a staff reply over max_message_size on its way out (no support recipient):"
                " refused whole",
        .config = SMALL_LIMIT,
        .s = { CUSTOMER_SESSION("continue", "TKT-1"),
               {
                   .client = STAFF_CLIENT,
                   .mail_from = "john.doe@example.com",
                   .rcpt = { "jan@acme.test" },
                   .message = STAFF_REPLY("", "#internal\n\n"),
                   .pad_kib = 8,
                   .transcript = RCPT_OK("jan@acme.test") STAFF_REFUSED,
                   .edits = "",
               } },
        .tickets = 1,
        .status = TICKET_OPEN,
        .messages = 1,
        .last_message = "in customer",
    },
    {
        .fact = "a staff reply announced too big: support is refused at RCPT, and the copy"
                " for the customer is refused at its end",
        .config = SMALL_LIMIT,
        .s = { CUSTOMER_SESSION("continue", "TKT-1"),
               {
                   .client = STAFF_CLIENT,
                   .mail_from = "john.doe@example.com",
                   .mail_arg = "SIZE=9000",
                   .rcpt = { "jan@acme.test", SUPPORT },
                   .message = STAFF_REPLY("Cc: " SUPPORT "\n", "#internal\n\n"),
                   .pad_kib = 8,
                   .transcript = RCPT_OK(
                       "jan@acme.test") "RCPT <" SUPPORT
                                        ">: reject 552 5.3.4 Message too big for the support"
                                        " system\n" STAFF_REFUSED,
                   .edits = "",
               } },
        .tickets = 1,
        .status = TICKET_OPEN,
        .messages = 1,
        .last_message = "in customer",
    },
    {
        .fact = "a customer's mail announced too big with another recipient: support is"
                " refused at RCPT, the other gets it as it came",
        .config = SMALL_LIMIT,
        .s = { {
            .client = CUSTOMER_CLIENT,
            .mail_from = "jan@acme.test",
            .mail_arg = "SIZE=9000",
            .rcpt = { SUPPORT, "piet@acme.test" },
            .message = CUSTOMER_MAIL,
            .pad_kib = 8,
            .transcript = "RCPT <" SUPPORT ">: reject 552 5.3.4 Message too big for the support"
                          " system\n" RCPT_OK("piet@acme.test") "DATA: continue\nEOM: continue\n",
            .edits = "",
            .delivered_to = "<piet@acme.test>",
        } },
    },
    {
        .fact = "a staff mail that is no reply, over max_message_size on its way out, goes"
                " untouched",
        .config = SMALL_LIMIT,
        .s = { {
            .client = STAFF_CLIENT,
            .mail_from = "john.doe@example.com",
            .rcpt = { "friend@elsewhere.test" },
            .message = "From: John Doe <john.doe@example.com>\nTo: friend@elsewhere.test\n"
                       "Subject: Holiday photos\nMessage-ID: <l2@example.com>\n\nHere.\n",
            .pad_kib = 8,
            .transcript = RCPT_OK("friend@elsewhere.test") "DATA: continue\nEOM: continue\n",
            .edits = "",
        } },
    },

    /* ---- X-Ticket-ID is ours: a sender's never reaches support ---- */
    {
        .fact = "a forged X-Ticket-ID on a duplicate and on a reply: deleted, ours added",
        .s = { CUSTOMER_SESSION("continue", "TKT-1"),
               {
                   .client = CUSTOMER_CLIENT,
                   .mail_from = "jan@acme.test",
                   .rcpt = { SUPPORT },
                   .message = "X-Ticket-ID: TKT-7\n" CUSTOMER_MAIL,
                   .transcript = RCPT_OK(SUPPORT) "DATA: continue\nEOM: continue\n",
                   .edits = "delete X-Ticket-ID[1]; " TAGGED,
                   .ticket_id = "TKT-1",
               },
               {
                   .client = CUSTOMER_CLIENT,
                   .mail_from = "jan@acme.test",
                   .rcpt = { SUPPORT },
                   .message = "X-Ticket-ID: TKT-7\nX-Ticket-ID: TKT-8\n"
                              "From: Jan Jansen <jan@acme.test>\nTo: " SUPPORT "\n"
                              "Subject: Re: [TKT-1] Printer offline\nMessage-ID: <m2@acme.test>\n"
                              "In-Reply-To: <m1@acme.test>\n\nStill offline.\n",
                   .transcript = RCPT_OK(SUPPORT) "DATA: continue\nEOM: continue\n",
                   .edits = "delete X-Ticket-ID[2]; delete X-Ticket-ID[1]; add X-Ticket-ID",
                   .ticket_id = "TKT-1",
               } },
        .tickets = 1,
        .status = TICKET_OPEN,
        .messages = 2,
        .last_message = "in customer",
    },
    {
        .fact = "a forged X-Ticket-ID on mail the router passes without a ticket: deleted",
        .s = { CUSTOMER_SESSION("continue", "TKT-1"),
               {
                   .client = CUSTOMER_CLIENT,
                   .mail_from = "eve@evil.test",
                   .rcpt = { SUPPORT },
                   .message =
                       "X-Ticket-ID: TKT-1\nFrom: Jan Jansen <jan@acme.tset>\nTo: " SUPPORT "\n"
                       "Subject: Re: [TKT-1] Printer offline\nAuto-Submitted: auto-generated\n"
                       "Message-ID: <p1@evil.test>\n\nLog in at http://phish.example.\n",
                   .transcript = RCPT_OK(SUPPORT) "DATA: continue\nEOM: continue\n",
                   .edits = "delete X-Ticket-ID[1]",
               } },
        .tickets = 1,
        .status = TICKET_OPEN,
        .messages = 1,
        .last_message = "in customer",
    },
    {
        .fact = "a forged X-Ticket-ID on staff mail to support and a colleague: deleted, the"
                " ticket it opens is the one named",
        .s = { CUSTOMER_SESSION("continue", "TKT-1"),
               {
                   .client = STAFF_CLIENT,
                   .mail_from = "john.doe@example.com",
                   .rcpt = { SUPPORT, "mary@example.com" },
                   .message = "X-Ticket-ID: TKT-1\nFrom: John Doe <john.doe@example.com>\n"
                              "To: mary@example.com\nCc: " SUPPORT "\nSubject: Lunch\n"
                              "Message-ID: <l3@example.com>\n\nAt noon?\n",
                   .transcript = RCPT_OK(SUPPORT)
                       RCPT_OK("mary@example.com") "DATA: continue\nEOM: continue\n",
                   .edits = "delete X-Ticket-ID[1]; " TAGGED,
                   .ticket_id = "TKT-2",
               } },
        .tickets = 2,
        .status = TICKET_OPEN,
        .messages = 1,
        .last_message = "in customer",
    },
    {
        .fact = "a forged X-Ticket-ID on unparsable mail passed on to another recipient:"
                " deleted",
        .s = { {
            .client = CUSTOMER_CLIENT,
            .mail_from = "jan@acme.test",
            .rcpt = { SUPPORT, "piet@acme.test" },
            .message = "X-A\x7f: b\nX-Ticket-ID: TKT-1\nFrom: jan@acme.test\n\nHello\n",
            .transcript =
                RCPT_OK(SUPPORT) RCPT_OK("piet@acme.test") "DATA: continue\nEOM: continue\n",
            .edits = "delete X-Ticket-ID[1]",
        } },
    },
    {
        .fact = "an internal note copied to the customer: the customer is removed by the string"
                " the client wrote, support keeps the note",
        .s = { CUSTOMER_SESSION("continue", "TKT-1"),
               {
                   .client = STAFF_CLIENT,
                   .mail_from = "john.doe@example.com",
                   .rcpt = { "\"Jan\"@ACME.test.", SUPPORT },
                   .message = STAFF_REPLY("Cc: " SUPPORT "\n", "#internal\n\n"),
                   .transcript = RCPT_OK("\"Jan\"@ACME.test.")
                       RCPT_OK(SUPPORT) "DATA: continue\nEOM: continue\n",
                   .ticket_id = "TKT-1",
                   .delivered_to = "<" SUPPORT ">",
                   .router_saw = "Jan@acme.test, " SUPPORT,
               } },
        .tickets = 1,
        .status = TICKET_OPEN,
        .messages = 2,
        .last_message = "out internal",
    },
    {
        .fact = "an internal note to the customer alone: recorded on the ticket, sent to nobody",
        .s = { CUSTOMER_SESSION("continue", "TKT-1"),
               {
                   .client = STAFF_CLIENT,
                   .mail_from = "john.doe@example.com",
                   .rcpt = { "jan@acme.test" },
                   .message = STAFF_REPLY("", "#internal\n\n"),
                   .transcript = RCPT_OK("jan@acme.test") "DATA: continue\nEOM: discard\n",
                   .edits = "",
                   .router_saw = "jan@acme.test",
               } },
        .tickets = 1,
        .status = TICKET_OPEN,
        .messages = 2,
        .last_message = "out internal",
    },

    /* ---- after a fault, the sending server's retry ---- */
    {
        .fact = "a database locked past busy_timeout, then free again: the retry is stored once",
        .fault = FAULT_BUSY,
        .fault_at = 1,
        .s = { DEFERRED(BUSY_TEXT), RETRIED },
        STORED_ONCE_AS("TKT-1"),
    },
};

/* The ways only a PostgreSQL server fails: every one is a 451 or, where
 * the writer can run the transaction again, nothing the client sees; the
 * message is then stored once, with one acknowledgement.  A ticket number
 * a rolled-back run drew from the sequence is not drawn again (SQLite
 * takes the next free one): the ticket is TKT-2 after one such run. */
static const struct row pg_rows[] = {
    {
        .fact = "the message's transaction loses a race once: run again, accepted, stored once",
        .fault = FAULT_RACE_ONCE,
        .s = { RETRIED_AS("TKT-2") },
        STORED_ONCE_AS("TKT-2"),
        .attempts = 2,
    },
    {
        .fact = "its COMMIT loses a race once: the batch is replayed, accepted, stored once",
        .fault = FAULT_RACE_AT_COMMIT,
        .s = { RETRIED_AS("TKT-2") },
        STORED_ONCE_AS("TKT-2"),
        .attempts = 2,
    },
    {
        .fact = "it loses the race every time: three runs, then 451, busy; the retry is stored"
                " once",
        .fault = FAULT_RACE_LOST,
        .fault_at = 1,
        .s = { DEFERRED(BUSY_TEXT), RETRIED_AS("TKT-4") },
        STORED_ONCE_AS("TKT-4"),
        .attempts = 3,
    },
    {
        .fact = "its COMMIT fails: 451 (no 250 before the commit), nothing stored; the retry is"
                " stored once",
        .fault = FAULT_COMMIT_FAILS,
        .fault_at = 1,
        .s = { DEFERRED(STORE_TEXT), RETRIED_AS("TKT-2") },
        STORED_ONCE_AS("TKT-2"),
        .attempts = 1,
    },
    {
        .fact = "a statement past statement_timeout: 451, busy; the retry is stored once",
        .fault = FAULT_STATEMENT_TIMEOUT,
        .fault_at = 1,
        .s = { DEFERRED(BUSY_TEXT), RETRIED_AS("TKT-2") },
        STORED_ONCE_AS("TKT-2"),
        .attempts = 1,
    },
    {
        .fact = "the store's session ends in the middle of the message: 451, not reachable;"
                " the retry reconnects and is stored once",
        .fault = FAULT_SESSION_ENDED,
        .fault_at = 1,
        .s = { DEFERRED(UNREACHABLE_TEXT), RETRIED_AS("TKT-2") },
        STORED_ONCE_AS("TKT-2"),
        .attempts = 1,
    },
    {
        .fact = "the store's session ends in its COMMIT: 451, not reachable, nothing stored;"
                " the retry is stored once",
        .fault = FAULT_SESSION_ENDED_AT_COMMIT,
        .fault_at = 1,
        .s = { DEFERRED(UNREACHABLE_TEXT), RETRIED_AS("TKT-2") },
        STORED_ONCE_AS("TKT-2"),
        .attempts = 1,
    },
    {
        .fact = "the server restarted between two messages: the next one reconnects and is"
                " accepted",
        .fault = FAULT_RESTART,
        .s = { RETRIED,
               {
                   .client = CUSTOMER_CLIENT,
                   .mail_from = "jan@acme.test",
                   .rcpt = { SUPPORT },
                   .message = "From: Jan Jansen <jan@acme.test>\nTo: " SUPPORT "\n"
                              "Subject: Re: [TKT-1] Printer offline\nMessage-ID: <m2@acme.test>\n"
                              "In-Reply-To: <m1@acme.test>\n\nStill offline.\n",
                   .transcript = RCPT_OK(SUPPORT) "DATA: continue\nEOM: continue\n",
                   .ticket_id = "TKT-1",
               } },
        .tickets = 1,
        .status = TICKET_OPEN,
        .messages = 2,
        .last_message = "in customer",
    },
    {
        .fact = "the server is down (no connection of the store's is taken): 451, not reachable;"
                " once it is back the retry is stored once",
        .fault = FAULT_SERVER_DOWN,
        .fault_at = 1,
        .s = { DEFERRED(UNREACHABLE_TEXT), RETRIED },
        STORED_ONCE_AS("TKT-1"),
    },
};

/* ---- driving a session ---- */

struct fixture {
    char *dir;
    struct config *cfg;
    struct keys *keys;
    struct store_writer *writer;
    bool skipped; /* PostgreSQL without a cluster */
    /* SQLite */
    sqlite3 *db;   /* the writer's connection: only in its jobs */
    sqlite3 *lock; /* FAULT_BUSY: another process's, holding the write lock */
    /* PostgreSQL: the case's schema and role (pg.setup NULL on SQLite) */
    struct pg_fault pg;
    struct db *pg_lock; /* FAULT_BUSY: another session's, on the messages table */
};

#define IS_PG(f) ((f)->pg.setup != NULL)
#define SKIPPED(f) ((f)->skipped)

static const char *
answer_name(sfsistat rc)
{
    switch (rc) {
    case SMFIS_CONTINUE:
        return "continue";
    case SMFIS_REJECT:
        return "reject";
    case SMFIS_DISCARD:
        return "discard";
    case SMFIS_ACCEPT:
        return "accept";
    case SMFIS_TEMPFAIL:
        return "tempfail";
    case SMFIS_NOREPLY:
        return "noreply";
    default:
        return "?";
    }
}

/* Notes the answer of STEP with the reply set during it; true when the
 * session goes on to the next step. */
static bool
note(struct smfi_str *ctx, GString *out, const char *step, sfsistat rc, bool always)
{
    bool go_on = rc == SMFIS_CONTINUE || rc == SMFIS_NOREPLY;

    if (always || !go_on)
        g_string_append_printf(out, "%s: %s%s%s\n", step, answer_name(rc),
                               ctx->reply != NULL ? " " : "", ctx->reply != NULL ? ctx->reply : "");
    g_clear_pointer(&ctx->reply, g_free);
    return go_on;
}

/* The header fields of MESSAGE into CTX, as the MTA receives them (values
 * with their leading space, folded lines joined by LF); returns the body. */
static const char *
read_headers(struct smfi_str *ctx, const char *message)
{
    const char *p = message;

    while (*p != '\0' && *p != '\n') {
        const char *eol = strchrnul(p, '\n');
        if ((*p == ' ' || *p == '\t') && ctx->headers->len > 0) {
            struct header *h = g_ptr_array_index(ctx->headers, ctx->headers->len - 1);
            g_autofree char *old = h->value;
            g_autofree char *more = g_strndup(p, eol - p);
            h->value = g_strconcat(old, "\n", more, NULL);
        } else {
            const char *colon = memchr(p, ':', eol - p);
            struct header *h = g_new0(struct header, 1);
            g_assert_nonnull(colon);
            h->name = g_strndup(p, colon - p);
            h->value = g_strndup(colon + 1, eol - colon - 1);
            g_ptr_array_add(ctx->headers, h);
        }
        p = *eol == '\n' ? eol + 1 : eol;
    }
    return *p == '\n' ? p + 1 : p;
}

/* The body as the MTA sends it: CRLF line ends, PAD_KIB KiB more text. */
static void
read_body(struct smfi_str *ctx, const char *body, guint pad_kib)
{
    for (const char *p = body; *p != '\0'; p++) {
        if (*p == '\n')
            g_byte_array_append(ctx->body, (const guint8 *)"\r", 1);
        g_byte_array_append(ctx->body, (const guint8 *)p, 1);
    }
    for (guint i = 0; i < pad_kib * 16; i++) {
        g_autofree char *line =
            g_strdup_printf("%06u: a line of the printer's log, written to make it large.\r\n", i);
        g_assert_cmpuint(strlen(line), ==, 64);
        g_byte_array_append(ctx->body, (const guint8 *)line, 64);
    }
}

/* Headers, end of headers and the body in chunks; false when a step
 * ended the message. */
static bool
send_content(struct smfi_str *ctx, GString *out)
{
    /* The copy is edited only at the end of the message, after this. */
    for (guint i = 0; i < ctx->headers->len; i++) {
        const struct header *h = g_ptr_array_index(ctx->headers, i);
        char *value = h->value;
        if (!ctx->leading_space && *value == ' ')
            value++;
        if (!note(ctx, out, "HEADER", milter_desc.xxfi_header(ctx, h->name, value), false))
            return false;
    }
    if (!note(ctx, out, "EOH", milter_desc.xxfi_eoh(ctx), false))
        return false;
    for (guint off = 0; off < ctx->body->len; off += 65535) {
        guint n = MIN(65535, ctx->body->len - off);
        if (!note(ctx, out, "BODY", milter_desc.xxfi_body(ctx, ctx->body->data + off, n), false))
            return false;
    }
    return true;
}

/* One SMTP session through the callbacks; what the client was told. */
static char *
run_session(const struct session *s, struct smfi_str *ctx)
{
    const unsigned long actions = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGBODY | SMFIF_ADDRCPT |
                                  SMFIF_DELRCPT | SMFIF_QUARANTINE | SMFIF_CHGFROM;
    unsigned long pf0 = 0, pf1 = 0, pf2 = 0, pf3 = 0;
    struct sockaddr_in sin = { .sin_family = AF_INET };
    GString *out = g_string_new(NULL);
    g_autofree char *from = g_strdup_printf("<%s>", s->mail_from);
    char *mail_argv[] = { from, (char *)s->mail_arg, NULL };
    guint accepted = 0;

    g_hash_table_insert(ctx->macros, g_strdup("i"), g_strdup("4XyZ1"));
    g_assert_cmpint(inet_pton(AF_INET, s->client, &sin.sin_addr), ==, 1);
    /* What Postfix offers: every protocol step and its no-reply flag. */
    g_assert_cmpint(
        milter_desc.xxfi_negotiate(ctx, actions, SMFI_CURR_PROT, 0, 0, &pf0, &pf1, &pf2, &pf3), ==,
        SMFIS_CONTINUE);
    ctx->leading_space = (pf1 & SMFIP_HDR_LEADSPC) != 0;
    if (s->auth != NULL)
        g_hash_table_insert(ctx->macros, g_strdup("{auth_authen}"), g_strdup(s->auth));
    note(ctx, out, "CONNECT", milter_desc.xxfi_connect(ctx, "client.test", (void *)&sin), false);
    if (!note(ctx, out, "MAIL", milter_desc.xxfi_envfrom(ctx, mail_argv), false))
        goto close;
    for (guint i = 0; i < G_N_ELEMENTS(s->rcpt) && s->rcpt[i] != NULL; i++) {
        g_autofree char *step = g_strdup_printf("RCPT <%s>", s->rcpt[i]);
        g_autofree char *rcpt = g_strdup_printf("<%s>", s->rcpt[i]);
        char *rcpt_argv[] = { rcpt, NULL };
        if (s->rcpt_addr[i] != NULL)
            g_hash_table_insert(ctx->macros, g_strdup("{rcpt_addr}"), g_strdup(s->rcpt_addr[i]));
        else
            g_hash_table_remove(ctx->macros, "{rcpt_addr}");
        if (note(ctx, out, step, milter_desc.xxfi_envrcpt(ctx, rcpt_argv), true)) {
            g_ptr_array_add(ctx->rcpts, g_steal_pointer(&rcpt));
            accepted++;
        }
    }
    g_hash_table_remove(ctx->macros, "{rcpt_addr}");
    /* With no recipient left the client's DATA is refused by the MTA. */
    if (accepted == 0 || !note(ctx, out, "DATA", milter_desc.xxfi_data(ctx), true)) {
        milter_desc.xxfi_abort(ctx);
        goto close;
    }
    if (send_content(ctx, out))
        note(ctx, out, "EOM", milter_desc.xxfi_eom(ctx), true);
close:
    g_assert_cmpint(milter_desc.xxfi_close(ctx), ==, SMFIS_CONTINUE);
    g_assert_null(ctx->priv);
    return g_string_free(out, FALSE);
}

static void
check_session(const struct session *s)
{
    struct smfi_str ctx;
    g_autofree char *body = NULL;
    g_autofree char *transcript = NULL;
    g_autoptr(GString) delivered_to = g_string_new(NULL);

    g_string_truncate(router_saw, 0);
    ctx_init(&ctx);
    ctx.delrcpt_fails = s->delrcpt_fails;
    read_body(&ctx, read_headers(&ctx, s->message), s->pad_kib);
    transcript = run_session(s, &ctx);
    g_test_message("edits: %s", ctx.edits->str);
    g_assert_cmpstr(transcript, ==, s->transcript);
    if (s->edits != NULL)
        g_assert_cmpstr(ctx.edits->str, ==, s->edits);
    g_assert_cmpstr(delivered_header(&ctx, "X-Ticket-ID"), ==, s->ticket_id);
    if (s->subject != NULL)
        g_assert_cmpstr(delivered_header(&ctx, "Subject"), ==, s->subject);
    body = delivered_body(&ctx);
    if (s->body_has != NULL)
        g_assert_nonnull(strstr(body, s->body_has));
    if (s->body_lacks != NULL)
        g_assert_null(strstr(body, s->body_lacks));
    for (guint i = 0; i < ctx.rcpts->len; i++)
        g_string_append_printf(delivered_to, "%s%s", i > 0 ? ", " : "",
                               (const char *)g_ptr_array_index(ctx.rcpts, i));
    if (s->delivered_to != NULL)
        g_assert_cmpstr(delivered_to->str, ==, s->delivered_to);
    if (s->router_saw != NULL)
        g_assert_cmpstr(router_saw->str, ==, s->router_saw);
    ctx_clear(&ctx);
}

/* ---- the database ---- */

/* SQLite's busy_timeout; on PostgreSQL lock_timeout, and twice it
 * statement_timeout, which every statement must stay under on a loaded
 * machine: longer there. */
#define BUSY_MS_SQLITE 100
#define BUSY_MS_PG 500

/* As the daemon starts on DATABASE: the config, the store, its writer,
 * then the callbacks.  MORE: config lines of the backend's. */
static void
fixture_start(struct fixture *f, const struct row *r, const char *database, guint busy_ms,
              const char *more)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *conf = g_build_filename(f->dir, "ticket-milter.conf", NULL);
    g_autofree char *text = g_strdup_printf(
        CONFIG "[milter]\ndatabase = %s\nbusy_timeout = %u\n%s%s", database,
        r->busy_ms > 0 ? r->busy_ms : busy_ms, more, r->config != NULL ? r->config : "");
    struct store *st;

    g_assert_true(g_file_set_contents(conf, text, -1, &error));
    f->cfg = config_load(conf, &error);
    g_assert_no_error(error);
    f->keys = keys_new("the secret of the milter's tests");
    st = store_open(f->cfg->database, STORE_READ_WRITE, f->cfg->busy_timeout, &error);
    g_assert_no_error(error);
    if (!IS_PG(f))
        f->db = sqlite_hook_db();
    f->writer = store_writer_new(st);
    milter_setup(f->cfg, f->writer, NULL, NULL, f->keys);
}

static void
fixture_setup(struct fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *db_path = NULL;

    f->dir = g_dir_make_tmp("test-milter-XXXXXX", &error);
    g_assert_no_error(error);
    db_path = g_build_filename(f->dir, "tickets.db", NULL);
    fixture_start(f, data, db_path, BUSY_MS_SQLITE, "");
}

/* The store in a schema, as a role, of the case's own; the secret is
 * named, as with every database on a server. */
static void
fixture_setup_pg(struct fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *secret = NULL;

    f->dir = g_dir_make_tmp("test-milter-XXXXXX", &error);
    g_assert_no_error(error);
    if (!pg_fault_start(&f->pg, "milter")) {
        f->skipped = true;
        return;
    }
    secret = g_strdup_printf("secret_file = %s/secret\n", f->dir);
    fixture_start(f, data, f->pg.uri, BUSY_MS_PG, secret);
}

static void
fixture_teardown(struct fixture *f, gconstpointer data)
{
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", f->dir);

    if (f->lock != NULL)
        sqlite3_close(f->lock);
    f->pg_lock = pg_fault_unlock(f->pg_lock);
    milter_set_config(NULL);
    f->writer = store_writer_free(f->writer);
    f->cfg = config_unref(f->cfg);
    f->keys = keys_free(f->keys);
    if (IS_PG(f))
        pg_fault_stop(&f->pg);
    g_assert_cmpint(system(cmd), ==, 0);
    g_free(f->dir);
}

/* The trigger of a PostgreSQL fault sits on the table every stored
 * message writes a row to. */
#define PG_FAULT_TABLE "messages"

static void
make_fault_pg(struct fixture *f, enum fault fault)
{
    struct pg_fault *pf = &f->pg;

    switch (fault) {
    case FAULT_NONE:
        break;
    case FAULT_BUSY:
        f->pg_lock = pg_fault_lock(pf, PG_FAULT_TABLE);
        break;
    case FAULT_FULL:
        /* What the server says when its disk is full. */
        pg_fault_rows(pf, PG_FAULT_TABLE, G_MAXINT32, false, PG_FAULT_RAISE("53100"));
        break;
    case FAULT_READONLY:
        pg_fault_role(pf, "SET default_transaction_read_only = on");
        break;
    case FAULT_RACE_ONCE:
        pg_fault_rows(pf, PG_FAULT_TABLE, 1, false, PG_FAULT_RAISE("40001"));
        break;
    case FAULT_RACE_AT_COMMIT:
        pg_fault_rows(pf, PG_FAULT_TABLE, 1, true, PG_FAULT_RAISE("40001"));
        break;
    case FAULT_RACE_LOST:
        pg_fault_rows(pf, PG_FAULT_TABLE, G_MAXINT32, false, PG_FAULT_RAISE("40001"));
        break;
    case FAULT_COMMIT_FAILS:
        pg_fault_rows(pf, PG_FAULT_TABLE, 1, true, PG_FAULT_RAISE("P0001"));
        break;
    case FAULT_STATEMENT_TIMEOUT:
        pg_fault_rows(pf, PG_FAULT_TABLE, 1, false, PG_FAULT_SLEEP("30"));
        break;
    case FAULT_SESSION_ENDED:
        pg_fault_rows(pf, PG_FAULT_TABLE, 1, false, PG_FAULT_TERMINATE);
        break;
    case FAULT_SESSION_ENDED_AT_COMMIT:
        pg_fault_rows(pf, PG_FAULT_TABLE, 1, true, PG_FAULT_TERMINATE);
        break;
    case FAULT_RESTART:
        pg_fault_disconnect(pf);
        break;
    case FAULT_SERVER_DOWN:
        pg_fault_role(pf, "NOLOGIN");
        break;
    }
}

static void
lift_fault_pg(struct fixture *f, enum fault fault)
{
    switch (fault) {
    case FAULT_BUSY:
        f->pg_lock = pg_fault_unlock(f->pg_lock);
        break;
    case FAULT_READONLY:
        pg_fault_role(&f->pg, "RESET default_transaction_read_only");
        break;
    case FAULT_SERVER_DOWN:
        pg_fault_role(&f->pg, "LOGIN");
        break;
    case FAULT_FULL:
    case FAULT_RACE_ONCE:
    case FAULT_RACE_AT_COMMIT:
    case FAULT_RACE_LOST:
    case FAULT_COMMIT_FAILS:
    case FAULT_STATEMENT_TIMEOUT:
    case FAULT_SESSION_ENDED:
    case FAULT_SESSION_ENDED_AT_COMMIT:
        pg_fault_rows_end(&f->pg, PG_FAULT_TABLE);
        break;
    case FAULT_NONE:
    case FAULT_RESTART:
        break;
    }
}

static void
make_fault(struct fixture *f, enum fault fault)
{
    if (IS_PG(f)) {
        make_fault_pg(f, fault);
        return;
    }
    switch (fault) {
    case FAULT_NONE:
        break;
    case FAULT_BUSY:
        g_assert_cmpint(sqlite3_open(f->cfg->database, &f->lock), ==, SQLITE_OK);
        g_assert_cmpint(sqlite3_exec(f->lock, "BEGIN IMMEDIATE", NULL, NULL, NULL), ==, SQLITE_OK);
        break;
    case FAULT_FULL:
        /* No page more than the database has now. */
        sqlite_hook_exec(f->writer, f->db, "PRAGMA max_page_count = 1");
        break;
    case FAULT_READONLY:
        sqlite_hook_exec(f->writer, f->db, "PRAGMA query_only = ON");
        break;
    default:
        g_error("fault %d is PostgreSQL's alone", fault);
    }
}

static void
lift_fault(struct fixture *f, enum fault fault)
{
    if (IS_PG(f)) {
        lift_fault_pg(f, fault);
        return;
    }
    switch (fault) {
    case FAULT_BUSY:
        g_assert_cmpint(sqlite3_exec(f->lock, "ROLLBACK", NULL, NULL, NULL), ==, SQLITE_OK);
        sqlite3_close(f->lock);
        f->lock = NULL;
        break;
    case FAULT_FULL:
        sqlite_hook_exec(f->writer, f->db, "PRAGMA max_page_count = 1073741823");
        break;
    default:
        /* query_only stays: the writer, the only way onto its connection,
         * cannot begin a transaction to turn it off.  No row has a session
         * after it. */
        break;
    }
}

/* What the database holds: tickets, messages, messages kept apart, outbox rows. */
struct counts {
    gint64 n[4];
};

static struct counts
count_rows(const struct fixture *f)
{
    g_autoptr(GError) error = NULL;
    struct db *db = db_open(f->cfg->database, DB_READ_ONLY, 1000, &error);
    struct db_stmt *s;
    struct counts c;

    g_assert_no_error(error);
    s = db_prepare(db,
                   "SELECT (SELECT count(*) FROM tickets), (SELECT count(*) FROM messages),"
                   " (SELECT count(*) FROM unattached), (SELECT count(*) FROM outbox)",
                   &error);
    g_assert_no_error(error);
    g_assert_cmpint(db_step(s, &error), ==, DB_ROW);
    for (guint i = 0; i < G_N_ELEMENTS(c.n); i++)
        c.n[i] = db_column_int64(s, (int)i);
    db_reset(s);
    db_close(db);
    return c;
}

/* What ticketctl would show: the tickets, and TKT-1's status and messages. */
static void
check_database(const struct fixture *f, const struct row *r)
{
    g_autoptr(GError) error = NULL;
    struct store *st = store_open(f->cfg->database, STORE_READ_ONLY, 1000, &error);
    g_autoptr(GPtrArray) tickets = NULL;
    g_autoptr(GPtrArray) messages = NULL;
    struct ticket *t;

    g_assert_no_error(error);
    tickets = store_ticket_list(st, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(tickets->len, ==, r->tickets);
    if (r->tickets > 0) {
        t = store_ticket_get_by_tag(st, r->tag != NULL ? r->tag : "TKT-1", &error);
        g_assert_nonnull(t);
        g_assert_cmpstr(ticket_status_name(t->status), ==, ticket_status_name(r->status));
        g_assert_cmpstr(t->requester, ==, "jan@acme.test");
        g_assert_cmpstr(t->customer, ==, "acme");
        messages = store_ticket_messages(st, t->id, &error);
        g_assert_no_error(error);
        g_assert_cmpuint(messages->len, ==, r->messages);
        const struct ticket_message *m = g_ptr_array_index(messages, messages->len - 1);
        g_autofree char *last = g_strdup_printf("%s %s", m->direction, m->kind);
        g_assert_cmpstr(last, ==, r->last_message);
        g_assert_cmpstr(m->queue_id, ==, "4XyZ1");
        ticket_free(t);
    }
    store_close(st);
    if (r->outbox > 0)
        g_assert_cmpint(count_rows(f).n[3], ==, r->outbox);
    if (r->attempts > 0)
        g_assert_cmpint(pg_fault_fired(&f->pg, PG_FAULT_TABLE), ==, r->attempts);
}

static void
test_row(struct fixture *f, gconstpointer data)
{
    const struct row *r = data;
    guint n = 0;

    if (SKIPPED(f))
        return;
    g_test_message("%s", r->fact);
    while (n < G_N_ELEMENTS(r->s) && r->s[n].client != NULL)
        n++;
    for (guint i = 0; i < n; i++) {
        bool faulty = i + 1 == (r->fault_at > 0 ? r->fault_at : n);
        bool deferred = strstr(r->s[i].transcript, "EOM: tempfail") != NULL;
        struct counts before = { { 0 } };

        if (deferred)
            before = count_rows(f);
        if (faulty)
            make_fault(f, r->fault);
        check_session(&r->s[i]);
        if (faulty)
            lift_fault(f, r->fault);
        /* A 451 leaves nothing behind: the retry finds nothing half done. */
        if (deferred) {
            struct counts after = count_rows(f);
            for (guint k = 0; k < G_N_ELEMENTS(before.n); k++)
                g_assert_cmpint(after.n[k], ==, before.n[k]);
        }
    }
    check_database(f, r);
}

/* ---- many sessions at once ---- */

#define CONCURRENT_MAILS 6

/* One SMTP session on a thread of its own, as libmilter runs them. */
struct concurrent {
    struct session s;
    char *message;
    char *transcript;
    char *ticket_id;
    GThread *thread;
};

static gpointer
concurrent_main(gpointer data)
{
    struct concurrent *c = data;
    struct smfi_str ctx;

    ctx_init(&ctx);
    read_body(&ctx, read_headers(&ctx, c->message), 0);
    c->transcript = run_session(&c->s, &ctx);
    c->ticket_id = g_strdup(delivered_header(&ctx, "X-Ticket-ID"));
    ctx_clear(&ctx);
    return NULL;
}

/* Customers' mails that arrive together, each of them twice (a client
 * that retried while its first try was still being stored), from as many
 * senders (each is acknowledged): every copy is accepted only once it is
 * committed, the two copies of a mail name one ticket, and each mail is
 * one ticket with one message and one acknowledgement, whatever batches
 * the writer made of them, and whatever batch it had to run again (the
 * row's fault). */
static void
test_concurrent(struct fixture *f, gconstpointer data)
{
    const struct row *r = data;
    struct concurrent c[2 * CONCURRENT_MAILS];
    g_autoptr(GHashTable) tags = g_hash_table_new(g_str_hash, g_str_equal);
    char *senders[CONCURRENT_MAILS];
    struct counts after;

    if (SKIPPED(f))
        return;
    g_test_message("%s", r->fact);
    for (guint i = 0; i < G_N_ELEMENTS(c); i++) {
        guint mail = i % CONCURRENT_MAILS;
        if (i < CONCURRENT_MAILS)
            senders[mail] = g_strdup_printf("user%u@acme.test", mail);
        c[i] = (struct concurrent){
            .s = { .client = CUSTOMER_CLIENT, .mail_from = senders[mail], .rcpt = { SUPPORT } },
            .message = g_strdup_printf("From: <%s>\nTo: " SUPPORT "\n"
                                       "Subject: Printer %u offline\nMessage-ID: <c%u@acme.test>\n"
                                       "\nPrinter %u on the second floor is offline.\n",
                                       senders[mail], mail, mail, mail),
        };
    }
    make_fault(f, r->fault);
    for (guint i = 0; i < G_N_ELEMENTS(c); i++)
        c[i].thread = g_thread_new("session", concurrent_main, &c[i]);
    for (guint i = 0; i < G_N_ELEMENTS(c); i++)
        g_thread_join(c[i].thread);
    lift_fault(f, r->fault);
    for (guint i = 0; i < G_N_ELEMENTS(c); i++) {
        g_assert_cmpstr(c[i].transcript, ==, RCPT_OK(SUPPORT) "DATA: continue\nEOM: continue\n");
        g_assert_nonnull(c[i].ticket_id);
        g_assert_cmpstr(c[i].ticket_id, ==, c[i % CONCURRENT_MAILS].ticket_id);
        g_hash_table_add(tags, c[i].ticket_id);
    }
    g_assert_cmpuint(g_hash_table_size(tags), ==, CONCURRENT_MAILS);
    after = count_rows(f);
    g_assert_cmpint(after.n[0], ==, CONCURRENT_MAILS);
    g_assert_cmpint(after.n[1], ==, CONCURRENT_MAILS);
    g_assert_cmpint(after.n[3], ==, CONCURRENT_MAILS);
    if (r->attempts > 0)
        g_assert_cmpint(pg_fault_fired(&f->pg, PG_FAULT_TABLE), ==, r->attempts);
    for (guint i = 0; i < G_N_ELEMENTS(c); i++) {
        g_free(c[i].message);
        g_free(c[i].transcript);
        g_free(c[i].ticket_id);
    }
    for (guint i = 0; i < CONCURRENT_MAILS; i++)
        g_free(senders[i]);
}

static const struct row concurrent_row = { .fact = "sessions at once" };
/* The first COMMIT that carries a message loses a race: that batch, with
 * whatever copies it holds, is run again; every stored message meets the
 * check once more when it is committed. */
static const struct row concurrent_replay_row = {
    .fact = "sessions at once, and the COMMIT of the first batch with one of them loses a race",
    .fault = FAULT_RACE_AT_COMMIT,
    .attempts = 1 + CONCURRENT_MAILS,
};

/* ---- two hosts, one message ---- */

/* Another daemon on the same database has the same message in its
 * transaction, not yet committed, when ours takes it: our look-up does not
 * see it, our insert of its key waits for the other's commit and then
 * finds the key taken (23505); the writer decides again and sees a
 * duplicate.  The client is accepted with the other's ticket, and the
 * database holds one ticket, one message, one acknowledgement. */
static const struct row other_host_row = {
    .fact = "the same message on another host, committed while ours waits for it",
    /* Ours waits for the other's commit, which waits for the test to see it waiting. */
    .busy_ms = 5000,
};

static void
test_other_host_race(struct fixture *f, gconstpointer data)
{
    const char *rcpt[] = { SUPPORT };
    g_autoptr(GPtrArray) recipients = g_ptr_array_new();
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    g_autoptr(GError) error = NULL;
    g_autofree char *ours = NULL;
    struct mail *mail = NULL;
    struct store *other = NULL;
    struct counts after;
    struct concurrent c = {
        .s = { .client = CUSTOMER_CLIENT, .mail_from = "jan@acme.test", .rcpt = { SUPPORT } },
        .message = g_strdup(CUSTOMER_MAIL),
    };

    if (SKIPPED(f)) {
        g_free(c.message);
        return;
    }
    g_ptr_array_add(recipients, (gpointer)rcpt[0]);
    mail = parser_mail_parse(CUSTOMER_MAIL, strlen(CUSTOMER_MAIL), &error);
    g_assert_no_error(error);
    struct ingest_job job = {
        .cfg = f->cfg,
        .keys = f->keys,
        .mail = mail,
        .raw = CUSTOMER_MAIL,
        .raw_len = strlen(CUSTOMER_MAIL),
        .queue_id = "4XyZ1",
        .envelope_from = "jan@acme.test",
        .client_addr = CUSTOMER_CLIENT,
        .recipients = recipients,
        .now = now,
    };
    other = store_open(f->pg.setup, STORE_READ_WRITE, 5000, &error);
    g_assert_no_error(error);
    g_assert_true(store_begin(other, &error));
    g_assert_true(ingest_job_run(other, &job, &error));
    g_assert_no_error(error);

    c.thread = g_thread_new("session", concurrent_main, &c);
    ours = g_strdup_printf("usename = '%s'", f->pg.role);
    pg_fault_wait_locked(&f->pg, ours);
    g_assert_true(store_commit(other, &error));
    g_assert_no_error(error);
    g_thread_join(c.thread);

    g_assert_cmpstr(c.transcript, ==, RCPT_OK(SUPPORT) "DATA: continue\nEOM: continue\n");
    g_assert_cmpstr(c.ticket_id, ==, job.tag);
    after = count_rows(f);
    g_assert_cmpint(after.n[0], ==, 1);
    g_assert_cmpint(after.n[1], ==, 1);
    g_assert_cmpint(after.n[3], ==, 1);
    ingest_job_clear(&job);
    parser_mail_free(mail);
    store_close(other);
    g_free(c.message);
    g_free(c.transcript);
    g_free(c.ticket_id);
}

/* A client that names more recipients than the milter keeps hears 452
 * (send the rest later) for the one too many, whatever the address. */
static const struct row limit_row = { .fact = "recipients past MILTER_MAX_RECIPIENTS: 452" };

static void
test_recipient_limit(struct fixture *f, gconstpointer data)
{
    const unsigned long actions = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGBODY | SMFIF_DELRCPT;
    unsigned long pf0 = 0, pf1 = 0, pf2 = 0, pf3 = 0;
    struct sockaddr_in sin = { .sin_family = AF_INET };
    char from[] = "<jan@acme.test>";
    char *mail_argv[] = { from, NULL };
    struct smfi_str ctx;

    ctx_init(&ctx);
    g_assert_cmpint(inet_pton(AF_INET, CUSTOMER_CLIENT, &sin.sin_addr), ==, 1);
    g_assert_cmpint(
        milter_desc.xxfi_negotiate(&ctx, actions, SMFI_CURR_PROT, 0, 0, &pf0, &pf1, &pf2, &pf3), ==,
        SMFIS_CONTINUE);
    g_assert_cmpuint(pf0 & SMFIF_DELRCPT, ==, SMFIF_DELRCPT);
    milter_desc.xxfi_connect(&ctx, "client.test", (void *)&sin);
    g_assert_cmpint(milter_desc.xxfi_envfrom(&ctx, mail_argv), ==, SMFIS_CONTINUE);
    for (guint i = 0; i < 1000; i++) {
        g_autofree char *rcpt = g_strdup_printf("<user%u@elsewhere.test>", i);
        char *rcpt_argv[] = { rcpt, NULL };
        g_assert_cmpint(milter_desc.xxfi_envrcpt(&ctx, rcpt_argv), ==, SMFIS_CONTINUE);
    }
    char support[] = "<" SUPPORT ">";
    char *rcpt_argv[] = { support, NULL };
    g_assert_cmpint(milter_desc.xxfi_envrcpt(&ctx, rcpt_argv), ==, SMFIS_TEMPFAIL);
    g_assert_cmpstr(ctx.reply, ==, "452 4.5.3 Too many recipients");
    g_assert_cmpint(milter_desc.xxfi_close(&ctx), ==, SMFIS_CONTINUE);
    ctx_clear(&ctx);
}

/* ---- the budget of bytes in flight ---- */

#define BUDGET_TEXT                                                                                \
    "451 4.3.2 Support system is busy with other large messages, please try again later"

static const struct row budget_row = {
    .fact = "max_buffered_bytes: a message that does not fit is deferred, and the bytes come"
            " back when a message is aborted or ends",
    .config = "[milter]\nmax_message_size = 65536\nmax_buffered_bytes = 102400\n",
    .tickets = 1,
    .status = TICKET_OPEN,
    .messages = 1,
    .last_message = "in customer",
};

/* A customer's session up to DATA for support, with MAIL FROM's ARG
 * (NULL: none); DATA's answer. */
static sfsistat
open_message(struct smfi_str *ctx, const char *arg)
{
    unsigned long pf0 = 0, pf1 = 0, pf2 = 0, pf3 = 0;
    struct sockaddr_in sin = { .sin_family = AF_INET };
    char from[] = "<jan@acme.test>";
    char support[] = "<" SUPPORT ">";
    char *mail_argv[] = { from, (char *)arg, NULL };
    char *rcpt_argv[] = { support, NULL };

    ctx_init(ctx);
    g_hash_table_insert(ctx->macros, g_strdup("i"), g_strdup("4XyZ1"));
    g_assert_cmpint(inet_pton(AF_INET, CUSTOMER_CLIENT, &sin.sin_addr), ==, 1);
    g_assert_cmpint(milter_desc.xxfi_negotiate(
                        ctx, SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGBODY | SMFIF_DELRCPT,
                        SMFI_CURR_PROT, 0, 0, &pf0, &pf1, &pf2, &pf3),
                    ==, SMFIS_CONTINUE);
    ctx->leading_space = (pf1 & SMFIP_HDR_LEADSPC) != 0;
    milter_desc.xxfi_connect(ctx, "client.test", (void *)&sin);
    g_assert_cmpint(milter_desc.xxfi_envfrom(ctx, mail_argv), ==, SMFIS_CONTINUE);
    g_assert_cmpint(milter_desc.xxfi_envrcpt(ctx, rcpt_argv), ==, SMFIS_CONTINUE);
    g_ptr_array_add(ctx->rcpts, g_strdup(support));
    return milter_desc.xxfi_data(ctx);
}

/* The reply CTX got in its last step ("" none), and forgets it. */
static char *
take_reply(struct smfi_str *ctx)
{
    char *reply = ctx->reply != NULL ? ctx->reply : g_strdup("");

    ctx->reply = NULL;
    return reply;
}

/* What the metrics say of the bytes kept now. */
static guint64
gauge_buffered(void)
{
    g_autofree char *text = stats_render(NULL);
    const char *line = strstr(text, "\nticket_milter_buffered_bytes ");

    g_assert_nonnull(line);
    return g_ascii_strtoull(line + strlen("\nticket_milter_buffered_bytes "), NULL, 10);
}

static void
test_budget(struct fixture *f, gconstpointer data)
{
    struct smfi_str a, b, c;
    g_autoptr(GString) out = g_string_new(NULL);
    g_autofree char *reply = NULL;
    guint64 held;

    g_assert_cmpuint(milter_buffered_bytes(), ==, 0);
    /* A: 60 KiB of body kept, its end not yet come. */
    g_assert_cmpint(open_message(&a, NULL), ==, SMFIS_CONTINUE);
    read_body(&a, read_headers(&a, CUSTOMER_MAIL), 60);
    g_assert_true(send_content(&a, out));
    held = milter_buffered_bytes();
    g_assert_cmpuint(held, >, 60 * 1024);
    g_assert_cmpuint(held, <, 64 * 1024);
    g_assert_cmpuint(gauge_buffered(), ==, held);

    /* B announces no size: 64 KiB more cannot fit, so DATA is deferred. */
    g_assert_cmpint(open_message(&b, NULL), ==, SMFIS_TEMPFAIL);
    reply = take_reply(&b);
    g_assert_cmpstr(reply, ==, BUDGET_TEXT);
    g_clear_pointer(&reply, g_free);
    milter_desc.xxfi_abort(&b);
    milter_desc.xxfi_close(&b);
    ctx_clear(&b);
    g_assert_cmpuint(milter_buffered_bytes(), ==, held);

    /* C announces 2000 bytes and sends 50 KiB: the body runs out of
     * budget (the MTA does not wait for a chunk's answer), the end is
     * deferred, and what C kept goes back. */
    g_assert_cmpint(open_message(&c, "SIZE=2000"), ==, SMFIS_CONTINUE);
    read_body(&c, read_headers(&c, CUSTOMER_MAIL), 50);
    g_assert_true(send_content(&c, out));
    g_assert_cmpint(milter_desc.xxfi_eom(&c), ==, SMFIS_TEMPFAIL);
    reply = take_reply(&c);
    g_assert_cmpstr(reply, ==, BUDGET_TEXT);
    g_assert_cmpuint(milter_buffered_bytes(), ==, held);
    g_autofree char *metrics = stats_render(NULL);
    g_assert_nonnull(strstr(metrics, "ticket_milter_tempfails_total{reason=\"busy-buffers\"} "));
    milter_desc.xxfi_close(&c);
    ctx_clear(&c);

    /* A is aborted (the client gave up): every byte of it comes back. */
    milter_desc.xxfi_abort(&a);
    g_assert_cmpuint(milter_buffered_bytes(), ==, 0);
    g_assert_cmpuint(gauge_buffered(), ==, 0);
    milter_desc.xxfi_close(&a);
    ctx_clear(&a);

    /* Now the same message fits, is taken, and leaves nothing behind. */
    const struct session again = {
        .client = CUSTOMER_CLIENT,
        .mail_from = "jan@acme.test",
        .rcpt = { SUPPORT },
        .message = CUSTOMER_MAIL,
        .pad_kib = 60,
        .transcript = RCPT_OK(SUPPORT) "DATA: continue\nEOM: continue\n",
        .ticket_id = "TKT-1",
    };
    check_session(&again);
    g_assert_cmpuint(milter_buffered_bytes(), ==, 0);
    check_database(f, data);
}

/* A message too big, or one whose connection closes mid-message, gives its
 * bytes back too. */
static void
test_budget_release(struct fixture *f, gconstpointer data)
{
    struct smfi_str a;
    g_autoptr(GString) out = g_string_new(NULL);

    (void)f;
    (void)data;
    g_assert_cmpuint(milter_buffered_bytes(), ==, 0);
    g_assert_cmpint(open_message(&a, NULL), ==, SMFIS_CONTINUE);
    read_body(&a, read_headers(&a, CUSTOMER_MAIL), 40);
    g_assert_true(send_content(&a, out));
    g_assert_cmpuint(milter_buffered_bytes(), >, 40 * 1024);
    /* The connection ends without an abort: close gives them back. */
    milter_desc.xxfi_close(&a);
    ctx_clear(&a);
    g_assert_cmpuint(milter_buffered_bytes(), ==, 0);

    /* Over max_message_size: nothing more is kept from the moment it is. */
    g_assert_cmpint(open_message(&a, NULL), ==, SMFIS_CONTINUE);
    read_body(&a, read_headers(&a, CUSTOMER_MAIL), 70);
    g_assert_true(send_content(&a, out));
    g_assert_cmpuint(milter_buffered_bytes(), ==, 0);
    g_assert_cmpint(milter_desc.xxfi_eom(&a), ==, SMFIS_REJECT);
    milter_desc.xxfi_close(&a);
    ctx_clear(&a);
    g_assert_cmpuint(milter_buffered_bytes(), ==, 0);
}

/* An MTA that cannot remove recipients cannot keep a note from outsiders:
 * the milter does not take part in its connections. */
static void
test_negotiate_delrcpt(void)
{
    const unsigned long without = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGBODY;
    unsigned long pf0 = 0, pf1 = 0, pf2 = 0, pf3 = 0;
    struct smfi_str ctx;

    ctx_init(&ctx);
    g_assert_cmpint(
        milter_desc.xxfi_negotiate(&ctx, without, SMFI_CURR_PROT, 0, 0, &pf0, &pf1, &pf2, &pf3), ==,
        SMFIS_REJECT);
    g_assert_null(ctx.priv);
    g_assert_cmpuint(milter_desc.xxfi_flags & SMFIF_DELRCPT, ==, SMFIF_DELRCPT);
    ctx_clear(&ctx);
}

/* Whether what R shows is in the store: a ticket it made, or a fault of
 * the store's; such a row runs on PostgreSQL too. */
static bool
is_about_store(const struct row *r)
{
    return r->tickets > 0 || r->fault != FAULT_NONE;
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    parser_init();
    sqlite_hook_install();
    milter_io_set(&fake_io);
    router_saw = g_string_new(NULL);
    for (guint i = 0; i < G_N_ELEMENTS(rows); i++) {
        g_autofree char *name = g_strdup_printf("/milter/%02u", i + 1);
        g_test_add(name, struct fixture, &rows[i], fixture_setup, test_row, fixture_teardown);
    }
    g_test_add("/milter/recipient-limit", struct fixture, &limit_row, fixture_setup,
               test_recipient_limit, fixture_teardown);
    g_test_add_func("/milter/negotiate-delrcpt", test_negotiate_delrcpt);
    g_test_add("/milter/budget", struct fixture, &budget_row, fixture_setup, test_budget,
               fixture_teardown);
    g_test_add("/milter/budget-release", struct fixture, &budget_row, fixture_setup,
               test_budget_release, fixture_teardown);
    g_test_add("/milter/concurrent", struct fixture, &concurrent_row, fixture_setup,
               test_concurrent, fixture_teardown);
    /* The same rows on PostgreSQL keep their numbers. */
    for (guint i = 0; i < G_N_ELEMENTS(rows); i++) {
        g_autofree char *name = g_strdup_printf("/milter/pg/%02u", i + 1);
        if (is_about_store(&rows[i]))
            g_test_add(name, struct fixture, &rows[i], fixture_setup_pg, test_row,
                       fixture_teardown);
    }
    g_test_add("/milter/pg/concurrent", struct fixture, &concurrent_row, fixture_setup_pg,
               test_concurrent, fixture_teardown);
    g_test_add("/milter/pg/concurrent-replayed", struct fixture, &concurrent_replay_row,
               fixture_setup_pg, test_concurrent, fixture_teardown);
    g_test_add("/milter/pg/other-host-race", struct fixture, &other_host_row, fixture_setup_pg,
               test_other_host_race, fixture_teardown);
    for (guint i = 0; i < G_N_ELEMENTS(pg_rows); i++) {
        g_autofree char *name = g_strdup_printf("/milter/pg/fault/%02u", i + 1);
        g_test_add(name, struct fixture, &pg_rows[i], fixture_setup_pg, test_row, fixture_teardown);
    }
    return g_test_run();
}
