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

#include "router/outbound.h"
#include "router/router.h"
#include "util/timefmt.h"

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

bool
router_is_staff(const struct config *cfg, const char *addr)
{
    const char *at;

    if (addr == NULL || (at = strrchr(addr, '@')) == NULL)
        return false;
    return strv_has(cfg->staff_addresses, addr) || strv_has(cfg->staff_domains, at + 1);
}

gint64
router_subject_ticket(const char *prefix, const char *subject)
{
    gsize plen = strlen(prefix);

    for (const char *p = strchr(subject, '['); p != NULL; p = strchr(p + 1, '[')) {
        const char *q = p + 1 + plen;
        gint64 id = 0;
        if (g_ascii_strncasecmp(p + 1, prefix, plen) != 0 || *q != '-' || !g_ascii_isdigit(q[1]))
            continue;
        for (q++; g_ascii_isdigit(*q) && id < G_MAXINT64 / 10; q++)
            id = id * 10 + (*q - '0');
        if (*q == ']')
            return id;
    }
    return 0;
}

enum router_address_tag
router_address_ticket(const char *secret, const char *prefix, const char *addr, gint64 *ticket)
{
    const char *plus = strchr(addr, '+');
    const char *at = strrchr(addr, '@');
    g_autofree char *ext = NULL;
    g_autofree char *want = NULL;
    char *dot;
    gint64 id;

    *ticket = 0;
    if (plus == NULL || at == NULL || plus > at)
        return ADDRESS_UNTAGGED;
    ext = g_ascii_strdown(plus + 1, at - plus - 1);
    dot = strrchr(ext, '.');
    g_autofree char *lower_prefix = g_ascii_strdown(prefix, -1);
    if (dot == NULL || !g_str_has_prefix(ext, lower_prefix) || ext[strlen(prefix)] != '-')
        return ADDRESS_UNTAGGED;
    *dot = '\0';
    id = g_ascii_strtoll(ext + strlen(prefix) + 1, NULL, 10);
    want = router_mac(secret, ext);
    if (id <= 0 || strcmp(want, dot + 1) != 0)
        return ADDRESS_FORGED;
    *ticket = id;
    return ADDRESS_VALID;
}

/* A reference is honoured only for someone who already takes part: the
 * requester, a contact of the same customer, or staff. A tag is not a key. */
static bool
is_participant(const struct decision *d, const struct router_view *view)
{
    if (d->is_staff)
        return true;
    if (d->requester != NULL && view->ref_requester != NULL &&
        g_ascii_strcasecmp(d->requester, view->ref_requester) == 0)
        return true;
    return d->customer != NULL && view->ref_customer != NULL &&
           strcmp(d->customer->name, view->ref_customer) == 0;
}

/* Relaxed alignment (RFC 7489): the signing domain is the From domain or
 * one of its parents. */
static bool
is_aligned(const char *signer, const char *domain)
{
    gsize sl = strlen(signer), dl = strlen(domain);

    if (g_ascii_strcasecmp(signer, domain) == 0)
        return true;
    return strchr(signer, '.') != NULL && dl > sl + 1 && domain[dl - sl - 1] == '.' &&
           g_ascii_strcasecmp(domain + dl - sl, signer) == 0;
}

const char *
router_auth_vouches(const struct config *cfg, const GPtrArray *results, const char *from)
{
    const char *at = from != NULL ? strrchr(from, '@') : NULL;

    if (at == NULL || results == NULL || cfg->authserv_ids == NULL)
        return NULL;
    for (guint i = 0; i < results->len; i++) {
        const struct mail_auth_result *r = g_ptr_array_index(results, i);
        if (r->authserv_id == NULL || r->result == NULL || r->method == NULL ||
            !g_strv_contains((const char *const *)cfg->authserv_ids, r->authserv_id) ||
            strcmp(r->result, "pass") != 0)
            continue;
        if (strcmp(r->method, "dmarc") == 0 && r->header_from != NULL &&
            g_ascii_strcasecmp(r->header_from, at + 1) == 0)
            return "dmarc";
        if (strcmp(r->method, "dkim") == 0 && r->header_d != NULL && is_aligned(r->header_d, at + 1))
            return "dkim";
    }
    return NULL;
}

/* A closed ticket is done for good; a resolved one takes replies for
 * REOPEN_DAYS and is reopened by them. */
static bool
is_past_reopening(const struct router_view *view, guint reopen_days, GDateTime *now)
{
    if (view->ref_status == NULL)
        return false;
    if (strcmp(view->ref_status, "closed") == 0)
        return true;
    if (strcmp(view->ref_status, "resolved") != 0 || view->ref_resolved_at == NULL)
        return false;
    g_autoptr(GDateTime) resolved = timefmt_parse(view->ref_resolved_at);
    return resolved != NULL &&
           g_date_time_difference(now, resolved) > (GTimeSpan)reopen_days * G_TIME_SPAN_DAY;
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

    d->is_staff = router_is_staff(cfg, d->requester);
    d->kind = d->is_staff ? "staff" : d->customer != NULL ? "customer" : "unknown";

    bool is_bounce = envelope_from == NULL || *envelope_from == '\0' || mail->is_bounce;

    if (view->is_stored) {
        d->action = ROUTER_DUPLICATE;
        d->ticket_id = view->stored_ticket;
        d->reason = "already stored";
    } else if (view->is_own_mail) {
        d->action = ROUTER_PASS;
        d->reason = "our own mail";
    } else if (is_bounce) {
        /* Machines never open tickets: a bounce is about a message we know,
         * or about nothing we need. */
        d->kind = "bounce";
        d->action = view->ref_ticket > 0 ? ROUTER_BOUNCE : ROUTER_PASS;
        d->ticket_id = view->ref_ticket;
        d->reason = view->ref_ticket > 0 ? "delivery failure report"
                                         : "delivery report about no message of ours";
    } else if (mail->is_auto_reply || mail->is_bulk) {
        bool joins = view->ref_ticket > 0 && is_participant(d, view) &&
                     cfg->auto_replies == AUTO_REPLIES_RECORD;
        d->kind = "auto";
        d->action = joins ? ROUTER_AUTO : ROUTER_PASS;
        d->ticket_id = joins ? view->ref_ticket : 0;
        d->reason = joins ? "automatic reply in the ticket's thread"
                    : view->ref_ticket > 0 && cfg->auto_replies == AUTO_REPLIES_IGNORE
                        ? "automatic or list mail, ignored (auto_replies = ignore)"
                        : "automatic or list mail outside any ticket";
    } else if (view->ref_ticket > 0 && is_participant(d, view) && !d->is_staff &&
               is_past_reopening(view, cfg->reopen_days, now)) {
        /* Months later, "the same problem again" is a new problem that
         * deserves its own clock; the old ticket stays as it was closed. */
        d->action = ROUTER_CREATE;
        d->linked_ticket = view->ref_ticket;
        d->reason = "reply to a ticket closed or resolved too long ago";
    } else if (view->ref_ticket > 0 && is_participant(d, view)) {
        d->action = ROUTER_FOLLOWUP;
        d->ticket_id = view->ref_ticket;
        d->reason = view->ref_via == REF_ADDRESS      ? "reply to the ticket address"
                    : view->ref_via == REF_REFERENCES ? "reply in the ticket's thread"
                                                      : "ticket tag in the subject";
    } else if (d->customer == NULL && cfg->unknown_senders == UNKNOWN_SENDERS_REJECT) {
        d->action = ROUTER_REJECT;
        d->reason = "sender is not a registered support contact";
    } else {
        d->action = ROUTER_CREATE;
        d->refused_ticket = view->ref_ticket;
        d->reason = d->refused_ticket > 0 ? "reference by a sender who is no participant"
                    : d->customer != NULL ? "new message from a customer"
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
