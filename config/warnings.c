/*
 * warnings - what is allowed in a configuration but probably not meant:
 * trust wider than a site's networks, a verifier inside the trusted
 * networks, a customer's contact or domain that is staff too, escalation
 * stages that reach nobody, an inet socket.  "ticket-milter -t" prints
 * them and the daemon logs them at its start; none stops it.  Each names
 * the line, group and key it is about, when the file sets the key.
 */
#include <stdarg.h>
#include <string.h>

#include <gio/gio.h>
#include <glib.h>

#include "config/config.h"
#include "router/address.h"
#include "router/router.h"

/* Trust narrower than this is a site's own networks; wider is half an ISP. */
#define WIDEST_IPV4_PREFIX 16
#define WIDEST_IPV6_PREFIX 48

/* Adds to OUT "line N: [GROUP] KEY: " (without the line when the file does
 * not set KEY) and the sentence. */
static void G_GNUC_PRINTF(5, 6)
    add_warning(GPtrArray *out, const struct config *cfg, const char *group, const char *key,
                const char *fmt, ...)
{
    g_autofree char *id = g_strconcat(group, "\n", key, NULL);
    guint line = cfg->lines != NULL ? GPOINTER_TO_UINT(g_hash_table_lookup(cfg->lines, id)) : 0;
    g_autofree char *where = line > 0 ? g_strdup_printf("line %u: ", line) : g_strdup("");
    g_autofree char *what = NULL;
    va_list ap;

    va_start(ap, fmt);
    what = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_ptr_array_add(out, g_strdup_printf("%s[%s] %s: %s", where, group, key, what));
}

static bool
mask_matches(GInetAddressMask *mask, const char *addr)
{
    g_autoptr(GInetAddress) a = g_inet_address_new_from_string(addr);

    return g_inet_address_mask_matches(mask, a);
}

/* Whether MASK holds a loopback address: one inside 127.0.0.0/8 or ::1, or
 * a network around them. */
static bool
covers_loopback(GInetAddressMask *mask)
{
    return g_inet_address_get_is_loopback(g_inet_address_mask_get_address(mask)) ||
           mask_matches(mask, "127.0.0.1") || mask_matches(mask, "::1") ||
           mask_matches(mask, "::ffff:127.0.0.1");
}

static bool
is_wide(GInetAddressMask *mask)
{
    GSocketFamily family = g_inet_address_mask_get_family(mask);
    guint length = g_inet_address_mask_get_length(mask);

    return length < (family == G_SOCKET_FAMILY_IPV6 ? WIDEST_IPV6_PREFIX : WIDEST_IPV4_PREFIX);
}

/* NETWORKS of [staff] KEY: on loopback any local process can pass for
 * WHO; a network wider than a site's is every host in it. */
static void
warn_networks(GPtrArray *out, const struct config *cfg, const char *key, GPtrArray *networks,
              const char *who)
{
    for (guint i = 0; i < networks->len; i++) {
        GInetAddressMask *mask = g_ptr_array_index(networks, i);
        g_autofree char *net = g_inet_address_mask_to_string(mask);

        if (covers_loopback(mask))
            add_warning(out, cfg, "staff", key,
                        "%s covers loopback: any process on this host that can submit mail %s", net,
                        who);
        if (is_wide(mask))
            add_warning(out, cfg, "staff", key,
                        "%s is wider than /%d (IPv4) or /%d (IPv6): every host in it %s", net,
                        WIDEST_IPV4_PREFIX, WIDEST_IPV6_PREFIX, who);
    }
}

/* Whether masks A and B hold an address in common: networks are nested
 * or apart, so one holds the other's first address. */
static bool
masks_overlap(GInetAddressMask *a, GInetAddressMask *b)
{
    return g_inet_address_mask_matches(a, g_inet_address_mask_get_address(b)) ||
           g_inet_address_mask_matches(b, g_inet_address_mask_get_address(a));
}

/* A client in both trusted_networks and authserv_networks: a verifier
 * there (a front MX, a filter that reinjects) hands on mail from anyone,
 * and the trusted network makes a staff From believed before its
 * Authentication-Results are read, so every forged staff mail it relays
 * passes.  An authserv network of every address (/0: verifiers that are
 * milters in the same smtpd, see ticket-milter.conf(5)) names no relay,
 * and is warned of as wide already. */
static void
warn_trusted_verifiers(GPtrArray *out, const struct config *cfg)
{
    for (guint i = 0; i < cfg->trusted_networks->len; i++) {
        GInetAddressMask *trusted = g_ptr_array_index(cfg->trusted_networks, i);
        g_autofree char *net = g_inet_address_mask_to_string(trusted);

        for (guint j = 0; j < cfg->authserv_networks->len; j++) {
            GInetAddressMask *verifiers = g_ptr_array_index(cfg->authserv_networks, j);
            g_autofree char *other = NULL;
            g_autofree char *how = NULL;

            if (g_inet_address_mask_get_length(verifiers) == 0 ||
                !masks_overlap(trusted, verifiers))
                continue;
            other = g_inet_address_mask_to_string(verifiers);
            how = g_inet_address_mask_equal(trusted, verifiers)
                      ? g_strdup("is also in [staff] authserv_networks")
                      : g_strdup_printf("overlaps %s of [staff] authserv_networks", other);
            add_warning(out, cfg, "staff", "trusted_networks",
                        "%s %s: a verifier there hands on mail"
                        " from anyone, and its trusted network makes every staff From it"
                        " relays believed before its Authentication-Results are read, so"
                        " forged staff mail passes; take the verifiers out of"
                        " trusted_networks (their Authentication-Results vouch for the staff"
                        " mail they pass on) and name there only the networks staff send from",
                        net, how);
        }
    }
}

/* The [staff] key that makes ADDR (lower-case) staff; NULL: none. */
static const char *
staff_rule(const struct config *cfg, const char *addr)
{
    const char *domain = strrchr(addr, '@') + 1;

    if (cfg->staff_addresses != NULL &&
        g_strv_contains((const char *const *)cfg->staff_addresses, addr))
        return "[staff] addresses";
    if (cfg->staff_domains != NULL &&
        g_strv_contains((const char *const *)cfg->staff_domains, domain))
        return "[staff] domains";
    return NULL;
}

/* A customer's contact that staff rules also match: the router takes the
 * named contact for the customer's, so its mail is never staff mail.  A
 * customer's domain that is also a staff domain goes the other way: the
 * staff rule wins over a customer's domain (router/identity.c), so every
 * address there but the named contacts is staff, and the customer's own
 * DKIM or DMARC pass makes it trusted staff mail. */
static void
warn_staff_contacts(GPtrArray *out, const struct config *cfg)
{
    for (guint i = 0; i < cfg->customers->len; i++) {
        const struct customer *c = g_ptr_array_index(cfg->customers, i);
        g_autofree char *group = g_strconcat(CONFIG_CUSTOMER_PREFIX, c->name, NULL);

        for (char **d = c->domains; cfg->staff_domains != NULL && *d != NULL; d++)
            if (g_strv_contains((const char *const *)cfg->staff_domains, *d))
                add_warning(out, cfg, group, "domains",
                            "%s is also in [staff] domains: every address there but the named"
                            " contacts of %s is staff, so its mail is never %s's, and where"
                            " Authentication-Results are believed the domain's own DKIM or"
                            " DMARC pass makes it trusted staff mail that can command any"
                            " ticket; keep the domain in one of the two, and name the others"
                            " by address ([staff] addresses, or contacts)",
                            *d, c->name, c->name);

        for (char **p = c->contacts; *p != NULL; p++) {
            const char *rule = staff_rule(cfg, *p);
            if (rule != NULL)
                add_warning(out, cfg, group, "contacts",
                            "%s is also in %s: the router treats it as a contact of %s, so"
                            " its mail is the customer's and never counts as staff mail",
                            *p, rule, c->name);
        }
    }
}

GPtrArray *
config_warnings(const struct config *cfg)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    bool no_staff = cfg->staff_addresses == NULL || cfg->staff_addresses[0] == NULL;

    if (no_staff)
        add_warning(out, cfg, "staff", "addresses",
                    "empty: new tickets and customer replies are announced to nobody but the"
                    " assignee");
    for (int stage = 1; stage <= 3; stage++) {
        char **contacts = cfg->stage_contacts[stage];
        g_autofree char *key = g_strdup_printf("stage%d", stage);
        if ((contacts != NULL && contacts[0] != NULL) || !no_staff)
            continue;
        add_warning(out, cfg, "escalation", key,
                    "empty, and so is [staff] addresses: warnings, breaches and escalations at"
                    " Stage %d reach only %s",
                    stage, cfg->support_addresses[0]);
    }
    warn_networks(out, cfg, "trusted_networks", cfg->trusted_networks, "passes as staff");
    if (cfg->authserv_ids != NULL && cfg->authserv_ids[0] != NULL &&
        cfg->authserv_networks->len == 0)
        add_warning(out, cfg, "staff", "authserv_ids",
                    "set, but [staff] authserv_networks is empty: no Authentication-Results"
                    " header is believed until it names the networks of the hosts that verify"
                    " DKIM and DMARC for us");
    /* Verifiers that are milters before us in the same smtpd make this
     * every address, on purpose: then only Postfix dropping the headers
     * mail arrives with keeps it safe, which no milter can check. */
    warn_networks(out, cfg, "authserv_networks", cfg->authserv_networks,
                  "can forge the Authentication-Results that make staff mail trusted, unless"
                  " Postfix drops every Authentication-Results header mail arrives with"
                  " (header_checks, see ticket-milter(8))");
    warn_trusted_verifiers(out, cfg);
    warn_staff_contacts(out, cfg);
    if (!g_str_has_prefix(cfg->socket, "unix:") && !g_str_has_prefix(cfg->socket, "local:"))
        add_warning(out, cfg, "milter", "socket",
                    "%s is an inet socket: every local user can connect to it and speak as the"
                    " MTA; prefer unix:PATH with socket_owner and socket_mode 0660",
                    cfg->socket);
    return out;
}
