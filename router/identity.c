/*
 * identity - who wrote a message, and whether staff mail can be believed.
 *
 * The requester is the one address every answer goes to, so it must be a
 * single plain addr-spec: a From such as
 * "x,victim1@other.test,victim2@third.test,y"@evil.test is one mailbox to
 * a parser but a list of victims to anything that joins and splits
 * addresses later.  Such a From is never written to; the envelope sender
 * stands in when it is plain, else nobody is answered.
 *
 * Staff trust: SMTP AUTH proves who logged in, not what From says; it
 * counts only when the login belongs to the From address.
 */
#include <string.h>

#include "router/address.h"
#include "router/router.h"

char *
router_requester(const struct mail *mail, const char *envelope_from, const char **why)
{
    const char *from = mail->from != NULL ? mail->from->addr : NULL;

    if (why != NULL)
        *why = NULL;
    if (router_is_plain_address(from))
        return router_normal_address(from);
    if (router_is_plain_address(envelope_from)) {
        if (why != NULL && from != NULL)
            *why = "the From address is not a plain address; the envelope sender answers";
        return router_normal_address(envelope_from);
    }
    if (why != NULL)
        *why = from == NULL ? "no From address and no envelope sender"
                            : "neither the From address nor the envelope sender is a plain address";
    return NULL;
}

static bool
strv_has(char **list, const char *value)
{
    for (char **p = list; p != NULL && *p != NULL; p++)
        if (g_ascii_strcasecmp(*p, value) == 0)
            return true;
    return false;
}

/* The customer who names ADDR among its contacts; NULL when none. */
static const struct customer *
contact_owner(const struct policy *p, const char *addr)
{
    for (guint i = 0; p->customers != NULL && i < p->customers->len; i++) {
        const struct customer *c = g_ptr_array_index(p->customers, i);
        if (strv_has(c->contacts, addr))
            return c;
    }
    return NULL;
}

const struct customer *
router_find_customer(const struct policy *p, const char *addr_as_written)
{
    g_autofree char *addr = router_normal_address(addr_as_written);
    const struct customer *c;
    const char *at;

    if (addr == NULL || (at = strrchr(addr, '@')) == NULL || p->customers == NULL)
        return NULL;
    /* A named contact beats a domain rule: a partner's address may sit in
     * another customer's domain. */
    if ((c = contact_owner(p, addr)) != NULL)
        return c;
    for (guint i = 0; i < p->customers->len; i++) {
        c = g_ptr_array_index(p->customers, i);
        if (strv_has(c->domains, at + 1))
            return c;
    }
    return NULL;
}

bool
router_is_staff(const struct policy *p, const char *addr_as_written)
{
    g_autofree char *addr = router_normal_address(addr_as_written);
    const char *at;

    if (addr == NULL || (at = strrchr(addr, '@')) == NULL)
        return false;
    if (strv_has(p->staff_addresses, addr))
        return true;
    /* A customer's named contact inside a staff domain (a contractor's
     * mailbox on our domain, a shared test account) writes as that
     * customer: the narrower rule wins, as for customers' domains. */
    return strv_has(p->staff_domains, at + 1) && contact_owner(p, addr) == NULL;
}

/* Whether LOGIN may send as FROM: the same address, or "login:from" in
 * [staff] logins. */
static bool
login_owns(const struct policy *p, const char *login, const char *from)
{
    gsize n = strlen(login);

    if (g_ascii_strcasecmp(login, from) == 0)
        return true;
    for (char **m = p->staff_logins; m != NULL && *m != NULL; m++)
        if (g_ascii_strncasecmp(*m, login, n) == 0 && (*m)[n] == ':' &&
            g_ascii_strcasecmp(*m + n + 1, from) == 0)
            return true;
    return false;
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
router_auth_vouches(const struct policy *p, const GPtrArray *results, const char *from_as_written)
{
    g_autofree char *from = router_normal_address(from_as_written);
    const char *at = from != NULL ? strrchr(from, '@') : NULL;

    if (at == NULL || results == NULL || p->authserv_ids == NULL)
        return NULL;
    for (guint i = 0; i < results->len; i++) {
        const struct mail_auth_result *r = g_ptr_array_index(results, i);
        if (r->authserv_id == NULL || r->result == NULL || r->method == NULL ||
            !g_strv_contains((const char *const *)p->authserv_ids, r->authserv_id) ||
            strcmp(r->result, "pass") != 0)
            continue;
        /* A verifier may write a domain as the header had it. */
        g_autofree char *header_from = router_ascii_domain(r->header_from);
        g_autofree char *header_d = router_ascii_domain(r->header_d);
        if (strcmp(r->method, "dmarc") == 0 && header_from != NULL &&
            strcmp(header_from, at + 1) == 0)
            return "dmarc";
        if (strcmp(r->method, "dkim") == 0 && header_d != NULL && is_aligned(header_d, at + 1))
            return "dkim";
    }
    return NULL;
}

/* Whether domains A and B are one organisation's as far as can be told
 * without the public suffix list: the same, or one under the other. */
static bool
domains_aligned(const char *a, const char *b)
{
    return is_aligned(a, b) || is_aligned(b, a);
}

const char *
router_sender_verified(const struct policy *p, const struct router_input *in,
                       const char *from_as_written)
{
    g_autofree char *from = router_normal_address(from_as_written);
    g_autofree char *envelope_from = router_normal_address(in->envelope_from);
    const char *at = from != NULL ? strrchr(from, '@') : NULL;
    const char *env_at = envelope_from != NULL ? strrchr(envelope_from, '@') : NULL;
    const char *vouch;

    if (p->verify_senders == VERIFY_NONE)
        return "not checked (verify_senders = none)";
    if (at == NULL)
        return NULL;
    if ((vouch = router_auth_vouches(p, in->auth_results, from)) != NULL)
        return vouch;
    if (p->verify_senders == VERIFY_ALIGNED && env_at != NULL &&
        domains_aligned(at + 1, env_at + 1))
        return "envelope sender of the same domain";
    return NULL;
}

const char *
router_staff_trust(const struct policy *p, const struct router_input *in, const char *from)
{
    if (from == NULL)
        return NULL;
    if (in->auth_login != NULL && *in->auth_login != '\0' && login_owns(p, in->auth_login, from))
        return "smtp-auth";
    if (in->from_trusted_network)
        return "trusted-network";
    return router_auth_vouches(p, in->auth_results, from);
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

bool
router_subject_has_tag(const char *subject, const char *tag)
{
    g_autofree char *want = g_strdup_printf("[%s]", tag);
    g_autofree char *lower_subject = g_ascii_strdown(subject, -1);
    g_autofree char *lower_want = g_ascii_strdown(want, -1);

    return strstr(lower_subject, lower_want) != NULL;
}

char *
router_ticket_tag(const char *prefix, gint64 id)
{
    return g_strdup_printf("%s-%" G_GINT64_FORMAT, prefix, id);
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
router_is_bounce(const struct mail *mail, const char *envelope_from)
{
    return envelope_from == NULL || *envelope_from == '\0' || mail->is_report;
}

bool
router_is_support_address(const struct policy *p, const char *addr)
{
    /* The support addresses are kept with an international domain in
     * its xn-- form; a client speaking SMTPUTF8 may name it in Unicode. */
    g_autofree char *normal = router_normal_address(addr);
    const char *ext =
        normal != NULL ? router_extension_start(normal, p->recipient_delimiter) : NULL;
    g_autofree char *base = NULL;

    if (normal == NULL)
        return false;
    addr = normal;
    /* support+anything@ is support@: replies to a signed ticket address
     * must reach us like any other support mail. */
    if (ext != NULL)
        addr = base = g_strdup_printf("%.*s%s", (int)(ext - normal), normal, strrchr(normal, '@'));
    for (char **s = p->support_addresses; *s != NULL; s++)
        if (g_ascii_strcasecmp(*s, addr) == 0)
            return true;
    return false;
}
