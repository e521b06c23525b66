/*
 * router - identity and the decision for one message.
 *
 * Today a support message either opens a ticket, is a copy of one already
 * stored (a retry after a tempfail, a second delivery), or is refused
 * because unknown senders are not served.  Threading onto existing tickets,
 * staff commands and severity rules grow here, as more rows of the same
 * decision.
 */
#include <string.h>

#include "router/router.h"

static bool
strv_has(char **list, const char *value)
{
    for (char **p = list; p != NULL && *p != NULL; p++)
        if (g_ascii_strcasecmp(*p, value) == 0)
            return true;
    return false;
}

const struct customer *
router_find_customer(const struct config *cfg, const char *addr)
{
    const char *at;

    if (addr == NULL || (at = strrchr(addr, '@')) == NULL)
        return NULL;
    /* A named contact beats a domain rule: a partner's address may sit in
     * another customer's domain. */
    for (guint i = 0; i < cfg->customers->len; i++) {
        const struct customer *c = g_ptr_array_index(cfg->customers, i);
        if (strv_has(c->contacts, addr))
            return c;
    }
    for (guint i = 0; i < cfg->customers->len; i++) {
        const struct customer *c = g_ptr_array_index(cfg->customers, i);
        if (strv_has(c->domains, at + 1))
            return c;
    }
    return NULL;
}

char *
router_requester(const struct mail *mail, const char *envelope_from)
{
    if (mail->from != NULL && strchr(mail->from->addr, '@') != NULL)
        return g_ascii_strdown(mail->from->addr, -1);
    if (envelope_from != NULL && *envelope_from != '\0')
        return g_ascii_strdown(envelope_from, -1);
    return NULL;
}

char *
router_dedup_key(const struct mail *mail)
{
    if (mail->message_id != NULL && *mail->message_id != '\0')
        return g_strdup(mail->message_id);
    return g_strconcat("sha256:", mail->digest, NULL);
}

char *
router_dedup_key_variant(const struct mail *mail)
{
    return g_strconcat(mail->message_id != NULL ? mail->message_id : "", " sha256:", mail->digest,
                       NULL);
}

struct decision *
router_decide(const struct mail *mail, const char *envelope_from, const struct config *cfg,
              const struct router_view *view, GDateTime *now)
{
    struct decision *d = g_new0(struct decision, 1);

    d->requester = router_requester(mail, envelope_from);
    d->customer = router_find_customer(cfg, d->requester);
    d->subject = g_strdup(*mail->subject != '\0' ? mail->subject : "(no subject)");
    d->status = "open";
    d->severity = 3;
    d->stage = 0;

    if (view->is_stored) {
        d->action = ROUTER_DUPLICATE;
        d->ticket_id = view->stored_ticket;
        d->reason = "already stored";
    } else if (d->customer == NULL && cfg->unknown_senders == UNKNOWN_SENDERS_REJECT) {
        d->action = ROUTER_REJECT;
        d->reason = "sender is not a registered support contact";
    } else {
        d->action = ROUTER_CREATE;
        d->reason = d->customer != NULL ? "new message from a customer"
                                        : "new message from an unknown sender";
    }
    return d;
}

struct decision *
router_decision_free(struct decision *d)
{
    if (d == NULL)
        return NULL;
    g_free(d->requester);
    g_free(d->subject);
    g_free(d);
    return NULL;
}

char *
router_ticket_tag(const char *prefix, gint64 id)
{
    return g_strdup_printf("%s-%" G_GINT64_FORMAT, prefix, id);
}

bool
router_subject_has_tag(const char *subject, const char *tag)
{
    g_autofree char *want = g_strdup_printf("[%s]", tag);
    g_autofree char *lower_subject = g_ascii_strdown(subject, -1);
    g_autofree char *lower_want = g_ascii_strdown(want, -1);

    return strstr(lower_subject, lower_want) != NULL;
}
