/*
 * auto - the signs that a message was sent by a program, not a person.
 *
 * Answering a program starts mail loops, so these signs decide whether we
 * ever reply (see RFC 3834).  Each sign alone is enough: a false "auto" only
 * costs an acknowledgement, a missed one can cost a loop.
 */
#include <string.h>

#include "parser/auto.h"

/* Subject starts that vacation responders use when they set no header. */
static const char *const auto_subjects[] = {
    "auto:", "automatic reply:", "autoreply:", "out of office", "automatisch antwoord",
    "afwezig", "abwesenheitsnotiz", "undeliverable:", "delivery status notification",
};

static const char *
header(GMimeMessage *msg, const char *name)
{
    return g_mime_object_get_header(GMIME_OBJECT(msg), name);
}

static bool
value_is(const char *value, const char *const *words)
{
    g_autofree char *v = NULL;

    if (value == NULL)
        return false;
    v = g_ascii_strdown(value, -1);
    g_strstrip(v);
    for (; *words != NULL; words++)
        if (g_str_has_prefix(v, *words))
            return true;
    return false;
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
    return report_type != NULL && (g_ascii_strcasecmp(report_type, "delivery-status") == 0 ||
                                   g_ascii_strcasecmp(report_type, "disposition-notification") == 0);
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

    mail->is_auto_reply = (auto_submitted != NULL && !value_is(auto_submitted,
                                                               (const char *const[]){ "no", NULL })) ||
                          header(msg, "X-Autoreply") != NULL ||
                          header(msg, "X-Autorespond") != NULL;
    for (guint i = 0; i < G_N_ELEMENTS(auto_subjects) && !mail->is_auto_reply; i++)
        if (g_str_has_prefix(subject, auto_subjects[i]))
            mail->is_auto_reply = true;

    mail->is_bulk = value_is(header(msg, "Precedence"), bulk) || header(msg, "List-Id") != NULL ||
                    header(msg, "List-Unsubscribe") != NULL;

    mail->is_bounce = is_delivery_report(msg) ||
                      (mail->from != NULL &&
                       (g_ascii_strncasecmp(mail->from->addr, "mailer-daemon@", 14) == 0 ||
                        g_ascii_strncasecmp(mail->from->addr, "postmaster@", 11) == 0));

    /* Outlook's list: "DR, NDR, RN, NRN, OOF, AutoReply" or "All". */
    if (xars != NULL) {
        suppress_items = g_strsplit_set(xars, ",; ", -1);
        for (char **p = suppress_items; *p != NULL; p++)
            if (value_is(*p, suppress))
                mail->suppress_autoreply = true;
    }
    if (loop != NULL)
        mail->loop = g_utf8_make_valid(loop, -1);
}
