/*
 * auto - the signs that a message was sent by a program, not a person.
 *
 * Answering a program starts mail loops, so these signs decide whether we
 * ever reply (see RFC 3834).  Each sign alone is enough: a false "auto" only
 * costs an acknowledgement, a missed one can cost a loop.
 *
 * Header words (Auto-Submitted, Precedence, X-Auto-Response-Suppress) are
 * compared as whole tokens: the value up to ';', a blank or a comment, in
 * any case.  A prefix would read "Auto-Submitted: no-thanks" as RFC 3834's
 * "no" (a person wrote it) and "Precedence: bulky" as bulk.
 */
#include <string.h>

#include "parser/auto.h"
#include "parser/bound.h"
#include "parser/header.h"
#include "parser/text.h"
#include "util/lines.h"

/* Subject starts that vacation responders use when they set no header. */
static const char *const auto_subjects[] = {
    "auto:",
    "automatic reply:",
    "autoreply:",
    "out of office",
    "automatisch antwoord",
    "afwezig",
    "abwesenheitsnotiz",
    "undeliverable:",
    "delivery status notification",
};

static const char *
header(GMimeMessage *msg, const char *name)
{
    return g_mime_object_get_header(GMIME_OBJECT(msg), name);
}

static bool
is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The first token of a structured header value: after blanks and comments,
 * up to ';' (its parameters), a blank or a comment, in lower case.  A
 * comment may nest ("(a (b))"); one never closed ends the value. */
static char *
first_token(const char *value)
{
    const char *p = value;
    const char *end;

    for (;;) {
        while (is_blank(*p))
            p++;
        if (*p != '(')
            break;
        for (guint depth = 0; *p != '\0'; p++) {
            if (*p == '\\' && p[1] != '\0')
                p++;
            else if (*p == '(')
                depth++;
            else if (*p == ')' && --depth == 0) {
                p++;
                break;
            }
        }
    }
    for (end = p; *end != '\0' && *end != ';' && *end != '(' && !is_blank(*end); end++)
        ;
    return g_ascii_strdown(p, end - p);
}

/* Whether VALUE's first token is one of WORDS, exactly: RFC 3834's "no"
 * is not "no-thanks" or "nope", which say automatic like any other value. */
static bool
value_is(const char *value, const char *const *words)
{
    g_autofree char *token = NULL;

    if (value == NULL)
        return false;
    token = first_token(value);
    return g_strv_contains(words, token);
}

static bool
is_delivery_report(GMimeMessage *msg)
{
    GMimeObject *body = g_mime_message_get_mime_part(msg);
    GMimeContentType *ct;
    const char *report_type;

    if (body == NULL)
        return false;
    ct = g_mime_object_get_content_type(body);
    if (!g_mime_content_type_is_type(ct, "multipart", "report"))
        return false;
    report_type = g_mime_content_type_get_parameter(ct, "report-type");
    return report_type != NULL &&
           (g_ascii_strcasecmp(report_type, "delivery-status") == 0 ||
            g_ascii_strcasecmp(report_type, "disposition-notification") == 0);
}

/* The value of FIELD: in a delivery-status block, after "rfc822;" if any,
 * at most PARSER_MAX_HEADER_VALUE bytes of it (TEXT is UTF-8: the cut is
 * between characters), like every other header value. */
static char *
dsn_field(const char *text, const char *field)
{
    g_auto(GStrv) lines = util_split_lines(text);
    gsize n = strlen(field);

    for (char **l = lines; *l != NULL; l++) {
        if (g_ascii_strncasecmp(*l, field, n) != 0 || (*l)[n] != ':')
            continue;
        char *v = g_strstrip(*l + n + 1);
        char *semi = strchr(v, ';');
        if (semi != NULL)
            v = g_strstrip(semi + 1);
        if (strlen(v) > PARSER_MAX_HEADER_VALUE) {
            char *cut = v + PARSER_MAX_HEADER_VALUE;
            while (cut > v && ((guchar)*cut & 0xc0) == 0x80)
                cut--;
            *cut = '\0';
        }
        return parser_header_text(v);
    }
    return NULL;
}

static char *
part_content(GMimeObject *part)
{
    return GMIME_IS_PART(part) ? parser_part_utf8(GMIME_PART(part)) : NULL;
}

/* What a delivery report reports on: the failed recipient and status from
 * its message/delivery-status part, the Message-ID from the returned
 * message or its headers. */
static void
read_report(GMimeMessage *msg, struct mail *mail)
{
    GMimeObject *body = g_mime_message_get_mime_part(msg);
    GMimeMultipart *mp;

    if (body == NULL || !GMIME_IS_MULTIPART(body))
        return;
    mp = GMIME_MULTIPART(body);
    for (int i = 0; i < g_mime_multipart_get_count(mp) && i < 10; i++) {
        GMimeObject *part = g_mime_multipart_get_part(mp, i);
        GMimeContentType *ct = g_mime_object_get_content_type(part);
        if (g_mime_content_type_is_type(ct, "message", "delivery-status")) {
            g_autofree char *text = part_content(part);
            /* A report may hold several such parts: the first that names
             * each field wins. */
            if (text != NULL && mail->dsn_recipient == NULL)
                mail->dsn_recipient = dsn_field(text, "Final-Recipient");
            if (text != NULL && mail->dsn_status == NULL)
                mail->dsn_status = dsn_field(text, "Status");
        } else if (GMIME_IS_MESSAGE_PART(part)) {
            GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(part));
            const char *id = inner != NULL ? g_mime_message_get_message_id(inner) : NULL;
            if (id != NULL && mail->dsn_message_id == NULL)
                mail->dsn_message_id = parser_msgid_text(id);
        } else if (g_mime_content_type_is_type(ct, "text", "rfc822-headers")) {
            g_autofree char *text = part_content(part);
            g_autofree char *id = text != NULL ? dsn_field(text, "Message-ID") : NULL;
            if (id != NULL && mail->dsn_message_id == NULL) {
                g_autoptr(GPtrArray) ids = parser_msgid_list(id);
                if (ids->len > 0)
                    mail->dsn_message_id = g_strdup(g_ptr_array_index(ids, 0));
            }
        }
    }
}

/* Keeps the first heuristic sign (taking SIGN): the event names one. */
static void
note_sign(struct mail *mail, char *sign)
{
    if (mail->automation_sign == NULL)
        mail->automation_sign = sign;
    else
        g_free(sign);
}

void
parser_auto_signs(GMimeMessage *msg, struct mail *mail)
{
    static const char *const bulk[] = { "bulk", "junk", "list", NULL };
    static const char *const suppress[] = { "all", "autoreply", "oof", NULL };
    const char *auto_submitted = header(msg, "Auto-Submitted");
    const char *loop = header(msg, PARSER_LOOP_HEADER);
    g_autofree char *subject = g_ascii_strdown(mail->subject, -1);
    g_auto(GStrv) suppress_items = NULL;
    const char *xars = header(msg, "X-Auto-Response-Suppress");

    mail->is_auto_submitted =
        auto_submitted != NULL && !value_is(auto_submitted, (const char *const[]){ "no", NULL });
    mail->is_report = is_delivery_report(msg);
    mail->is_auto_reply = mail->is_auto_submitted;
    if (header(msg, "X-Autoreply") != NULL || header(msg, "X-Autorespond") != NULL) {
        mail->is_auto_reply = true;
        note_sign(mail, g_strdup(header(msg, "X-Autoreply") != NULL ? "X-Autoreply header"
                                                                    : "X-Autorespond header"));
    }
    for (guint i = 0; i < G_N_ELEMENTS(auto_subjects); i++)
        if (g_str_has_prefix(subject, auto_subjects[i])) {
            mail->is_auto_reply = true;
            note_sign(mail, g_strdup_printf("subject starts with \"%s\"", auto_subjects[i]));
            break;
        }

    const char *precedence = header(msg, "Precedence");
    if (value_is(precedence, bulk)) {
        mail->is_bulk = true;
        g_autofree char *v = parser_header_text(precedence);
        note_sign(mail, g_strdup_printf("Precedence: %.20s", v));
    }
    if (header(msg, "List-Id") != NULL || header(msg, "List-Unsubscribe") != NULL) {
        mail->is_bulk = true;
        note_sign(mail, g_strdup(header(msg, "List-Id") != NULL ? "List-Id header"
                                                                : "List-Unsubscribe header"));
    }

    mail->is_bounce = mail->is_report;
    if (mail->from != NULL && (g_ascii_strncasecmp(mail->from->addr, "mailer-daemon@", 14) == 0 ||
                               g_ascii_strncasecmp(mail->from->addr, "postmaster@", 11) == 0)) {
        mail->is_bounce = true;
        note_sign(mail, g_strdup_printf("from %.14s", mail->from->addr));
    }
    if (mail->is_report)
        note_sign(mail, g_strdup("a delivery report (multipart/report)"));

    /* Outlook's list: "DR, NDR, RN, NRN, OOF, AutoReply" or "All". */
    if (xars != NULL) {
        suppress_items = g_strsplit_set(xars, ",; ", -1);
        for (char **p = suppress_items; *p != NULL; p++)
            if (value_is(*p, suppress))
                mail->suppress_autoreply = true;
    }
    if (loop != NULL)
        mail->loop = parser_header_text(loop);
    if (mail->is_report)
        read_report(msg, mail);
}
