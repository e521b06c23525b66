/*
 * test-router - identity and the decision, as pure functions on a config
 * and a mail built in the test.
 */
#include <string.h>

#include <glib.h>

#include "router/outbound.h"
#include "router/router.h"

static struct customer acme = {
    .name = "acme",
    .domains = (char *[]){ "acme.test", NULL },
    .contacts = (char *[]){ "ops@partner.test", NULL },
};
static struct customer bakker = {
    .name = "bakker",
    .domains = (char *[]){ "bakker.nl", NULL },
    .contacts = (char *[]){ NULL },
};

static struct config *
make_config(enum unknown_senders unknown)
{
    struct config *cfg = g_new0(struct config, 1);

    cfg->ticket_prefix = "TKT";
    cfg->unknown_senders = unknown;
    cfg->customers = g_ptr_array_new();
    g_ptr_array_add(cfg->customers, &acme);
    g_ptr_array_add(cfg->customers, &bakker);
    return cfg;
}

static void
free_config(struct config *cfg)
{
    g_ptr_array_unref(cfg->customers);
    g_free(cfg);
}

static void
test_find_customer(void)
{
    static const struct {
        const char *addr;
        const char *customer; /* NULL: unknown */
    } cases[] = {
        { "jan@acme.test", "acme" },
        { "JAN@ACME.TEST", "acme" },
        { "ops@partner.test", "acme" },      /* a named contact outside the domain */
        { "other@partner.test", NULL },
        { "piet@bakker.nl", "bakker" },
        { "piet@sub.bakker.nl", NULL },      /* a domain rule is exact */
        { "acme.test", NULL },               /* no @ */
        { "", NULL },
        { NULL, NULL },
    };
    struct config *cfg = make_config(UNKNOWN_SENDERS_ACCEPT);

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        const struct customer *c = router_find_customer(cfg, cases[i].addr);
        g_assert_cmpstr(c != NULL ? c->name : NULL, ==, cases[i].customer);
    }
    free_config(cfg);
}

static struct mail *
make_mail(const char *from, const char *subject, const char *message_id)
{
    struct mail *m = g_new0(struct mail, 1);

    if (from != NULL) {
        m->from = g_new0(struct mail_address, 1);
        m->from->name = g_strdup("");
        m->from->addr = g_strdup(from);
    }
    m->subject = g_strdup(subject);
    m->message_id = g_strdup(message_id);
    m->digest = g_strdup("abc123");
    m->text = g_strdup("");
    return m;
}

static void
free_mail(struct mail *m)
{
    if (m->from != NULL) {
        g_free(m->from->name);
        g_free(m->from->addr);
        g_free(m->from);
    }
    g_free(m->subject);
    g_free(m->message_id);
    g_free(m->digest);
    g_free(m->text);
    g_free(m);
}

static void
test_decide(void)
{
    static const struct {
        const char *from;
        const char *envelope_from;
        const char *subject;
        enum unknown_senders unknown;
        bool is_stored;
        enum router_action action;
        const char *customer;
        const char *requester;
        const char *ticket_subject;
    } cases[] = {
        { "Jan@Acme.Test", "bounce@acme.test", "Down", UNKNOWN_SENDERS_ACCEPT, false,
          ROUTER_CREATE, "acme", "jan@acme.test", "Down" },
        { "x@nowhere.test", "x@nowhere.test", "Hi", UNKNOWN_SENDERS_ACCEPT, false, ROUTER_CREATE,
          NULL, "x@nowhere.test", "Hi" },
        { "x@nowhere.test", "x@nowhere.test", "Hi", UNKNOWN_SENDERS_REJECT, false, ROUTER_REJECT,
          NULL, "x@nowhere.test", "Hi" },
        /* A copy already stored is accepted again, whatever the policy now says. */
        { "x@nowhere.test", "x@nowhere.test", "Hi", UNKNOWN_SENDERS_REJECT, true,
          ROUTER_DUPLICATE, NULL, "x@nowhere.test", "Hi" },
        /* No From: the envelope sender is who we answer. */
        { NULL, "piet@bakker.nl", "", UNKNOWN_SENDERS_REJECT, false, ROUTER_CREATE, "bakker",
          "piet@bakker.nl", "(no subject)" },
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        struct config *cfg = make_config(cases[i].unknown);
        struct mail *m = make_mail(cases[i].from, cases[i].subject, "id@x");
        struct router_view view = { .is_stored = cases[i].is_stored, .stored_ticket = 7 };
        g_autoptr(GDateTime) now = g_date_time_new_utc(2026, 11, 24, 9, 0, 0);
        struct decision *d = router_decide(m, cases[i].envelope_from, cfg, &view, now);

        g_test_message("case %u", i);
        g_assert_cmpint(d->action, ==, cases[i].action);
        g_assert_cmpstr(d->customer != NULL ? d->customer->name : NULL, ==, cases[i].customer);
        g_assert_cmpstr(d->requester, ==, cases[i].requester);
        g_assert_cmpstr(d->subject, ==, cases[i].ticket_subject);
        g_assert_cmpstr(d->status, ==, "open");
        if (d->action == ROUTER_DUPLICATE)
            g_assert_cmpint(d->ticket_id, ==, 7);
        router_decision_free(d);
        free_mail(m);
        free_config(cfg);
    }
}

/* The decision for each kind of message and what the store knows. */
static void
test_machines_and_threads(void)
{
    static const struct {
        const char *what;
        const char *from;
        const char *envelope_from;
        bool bounce, auto_reply, bulk, own;
        gint64 ref;
        const char *ref_requester, *ref_customer;
        enum router_action action;
        gint64 ticket;
    } cases[] = {
        { "own mail passes", "support@example.com", "", false, false, false, true, 1,
          "jan@acme.test", "acme", ROUTER_PASS, 0 },
        { "null sender about a ticket", "mailer-daemon@acme.test", "", false, false, false,
          false, 4, "jan@acme.test", "acme", ROUTER_BOUNCE, 4 },
        { "DSN with a sender", "postmaster@x.test", "x@x.test", true, false, false, false, 4,
          "jan@acme.test", "acme", ROUTER_BOUNCE, 4 },
        { "bounce about nothing", "mailer-daemon@acme.test", "", true, false, false, false, 0,
          NULL, NULL, ROUTER_PASS, 0 },
        { "auto-reply in thread", "jan@acme.test", "jan@acme.test", false, true, false, false,
          4, "jan@acme.test", "acme", ROUTER_AUTO, 4 },
        { "auto-reply outside", "jan@acme.test", "jan@acme.test", false, true, false, false, 0,
          NULL, NULL, ROUTER_PASS, 0 },
        { "list mail from a stranger in a thread", "list@lists.test", "list@lists.test", false,
          false, true, false, 4, "jan@acme.test", "acme", ROUTER_PASS, 0 },
        { "requester follows up", "jan@acme.test", "jan@acme.test", false, false, false, false,
          4, "jan@acme.test", "acme", ROUTER_FOLLOWUP, 4 },
        { "colleague follows up", "piet@acme.test", "piet@acme.test", false, false, false,
          false, 4, "jan@acme.test", "acme", ROUTER_FOLLOWUP, 4 },
        { "other customer is refused", "piet@bakker.nl", "piet@bakker.nl", false, false, false,
          false, 4, "jan@acme.test", "acme", ROUTER_CREATE, 0 },
        { "stranger on an unknown sender's ticket", "eve@evil.test", "eve@evil.test", false,
          false, false, false, 4, "x@nowhere.test", NULL, ROUTER_CREATE, 0 },
        { "staff joins any ticket", "lead@example.com", "lead@example.com", false, false, false,
          false, 4, "jan@acme.test", "acme", ROUTER_FOLLOWUP, 4 },
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        struct config *cfg = make_config(UNKNOWN_SENDERS_ACCEPT);
        char *staff_domains[] = { "example.com", NULL };
        char *none[] = { NULL };
        struct mail *m = make_mail(cases[i].from, "Re: something", "id@x");
        struct router_view view = {
            .ref_ticket = cases[i].ref,
            .ref_requester = cases[i].ref_requester,
            .ref_customer = cases[i].ref_customer,
            .is_own_mail = cases[i].own,
            .ref_via = cases[i].ref > 0 ? REF_REFERENCES : REF_NONE,
        };
        g_autoptr(GDateTime) now = g_date_time_new_utc(2026, 11, 24, 9, 0, 0);
        struct decision *d;

        cfg->staff_domains = staff_domains;
        cfg->staff_addresses = none;
        m->is_bounce = cases[i].bounce;
        m->is_auto_reply = cases[i].auto_reply;
        m->is_bulk = cases[i].bulk;
        d = router_decide(m, cases[i].envelope_from, cfg, &view, now);
        g_test_message("%s", cases[i].what);
        g_assert_cmpint(d->action, ==, cases[i].action);
        if (cases[i].ticket > 0)
            g_assert_cmpint(d->ticket_id, ==, cases[i].ticket);
        if (cases[i].action == ROUTER_CREATE)
            g_assert_cmpint(d->refused_ticket, ==, cases[i].ref);
        router_decision_free(d);
        free_mail(m);
        free_config(cfg);
    }
}

/* A resolved ticket takes replies for reopen_days; a closed one none. */
static void
test_reopen_window(void)
{
    static const struct {
        const char *what;
        const char *from;
        const char *status;
        const char *resolved_at;
        bool auto_reply;
        enum auto_replies rule;
        enum router_action action;
        gint64 linked;
    } cases[] = {
        { "open ticket", "jan@acme.test", "open", NULL, false, AUTO_REPLIES_RECORD,
          ROUTER_FOLLOWUP, 0 },
        { "resolved 13 days ago: reopens", "jan@acme.test", "resolved", "2026-11-11T09:00:00Z",
          false, AUTO_REPLIES_RECORD, ROUTER_FOLLOWUP, 0 },
        { "resolved 15 days ago: a new linked ticket", "jan@acme.test", "resolved",
          "2026-11-09T09:00:00Z", false, AUTO_REPLIES_RECORD, ROUTER_CREATE, 4 },
        { "closed: a new linked ticket", "jan@acme.test", "closed", "2026-11-24T08:00:00Z",
          false, AUTO_REPLIES_RECORD, ROUTER_CREATE, 4 },
        { "staff may still write on an old ticket", "lead@example.com", "closed",
          "2026-01-01T08:00:00Z", false, AUTO_REPLIES_RECORD, ROUTER_FOLLOWUP, 0 },
        { "auto-reply recorded", "jan@acme.test", "open", NULL, true, AUTO_REPLIES_RECORD,
          ROUTER_AUTO, 0 },
        { "auto-reply ignored by the rule", "jan@acme.test", "open", NULL, true,
          AUTO_REPLIES_IGNORE, ROUTER_PASS, 0 },
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        struct config *cfg = make_config(UNKNOWN_SENDERS_ACCEPT);
        char *staff_domains[] = { "example.com", NULL };
        char *none[] = { NULL };
        struct mail *m = make_mail(cases[i].from, "Re: [TKT-4] printer", "id@x");
        struct router_view view = {
            .ref_ticket = 4,
            .ref_requester = "jan@acme.test",
            .ref_customer = "acme",
            .ref_via = REF_REFERENCES,
            .ref_status = cases[i].status,
            .ref_resolved_at = cases[i].resolved_at,
        };
        g_autoptr(GDateTime) now = g_date_time_new_utc(2026, 11, 24, 9, 0, 0);
        struct decision *d;

        cfg->staff_domains = staff_domains;
        cfg->staff_addresses = none;
        cfg->reopen_days = 14;
        cfg->auto_replies = cases[i].rule;
        m->is_auto_reply = cases[i].auto_reply;
        d = router_decide(m, "jan@acme.test", cfg, &view, now);
        g_test_message("%s", cases[i].what);
        g_assert_cmpint(d->action, ==, cases[i].action);
        g_assert_cmpint(d->linked_ticket, ==, cases[i].linked);
        router_decision_free(d);
        free_mail(m);
        free_config(cfg);
    }
}

static struct mail_auth_result *
auth(const char *id, const char *method, const char *result, const char *d, const char *from)
{
    struct mail_auth_result *r = g_new0(struct mail_auth_result, 1);

    r->authserv_id = g_strdup(id);
    r->method = g_strdup(method);
    r->result = g_strdup(result);
    r->header_d = g_strdup(d);
    r->header_from = g_strdup(from);
    return r;
}

static void
free_auth(gpointer p)
{
    struct mail_auth_result *r = p;

    g_free(r->authserv_id);
    g_free(r->method);
    g_free(r->result);
    g_free(r->header_d);
    g_free(r->header_from);
    g_free(r);
}

/* Which Authentication-Results vouch for a staff sender. */
static void
test_auth_vouches(void)
{
    static const struct {
        const char *what, *id, *method, *result, *d, *from, *sender, *want;
    } cases[] = {
        { "dkim pass, same domain", "mx.example.com", "dkim", "pass", "example.com", NULL,
          "lead@example.com", "dkim" },
        { "dkim pass, parent domain (relaxed)", "mx.example.com", "dkim", "pass", "example.com",
          NULL, "lead@eu.example.com", "dkim" },
        { "dkim pass, sub domain signs parent", "mx.example.com", "dkim", "pass",
          "eu.example.com", NULL, "lead@example.com", NULL },
        { "dkim pass, look-alike domain", "mx.example.com", "dkim", "pass", "ample.com", NULL,
          "lead@example.com", NULL },
        { "dkim fail", "mx.example.com", "dkim", "fail", "example.com", NULL,
          "lead@example.com", NULL },
        { "dmarc pass", "mx.example.com", "dmarc", "pass", NULL, "example.com",
          "lead@example.com", "dmarc" },
        { "dmarc pass for another domain", "mx.example.com", "dmarc", "pass", NULL, "evil.test",
          "lead@example.com", NULL },
        { "not our authserv-id", "mx.evil.test", "dkim", "pass", "example.com", NULL,
          "lead@example.com", NULL },
        { "spf pass is not enough", "mx.example.com", "spf", "pass", NULL, NULL,
          "lead@example.com", NULL },
    };
    struct config *cfg = make_config(UNKNOWN_SENDERS_ACCEPT);
    char *ids[] = { "mx.example.com", NULL };

    cfg->authserv_ids = ids;
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GPtrArray) results = g_ptr_array_new_with_free_func(free_auth);
        g_ptr_array_add(results, auth(cases[i].id, cases[i].method, cases[i].result, cases[i].d,
                                      cases[i].from));
        g_test_message("%s", cases[i].what);
        g_assert_cmpstr(router_auth_vouches(cfg, results, cases[i].sender), ==, cases[i].want);
    }
    g_assert_null(router_auth_vouches(cfg, NULL, "lead@example.com"));
    free_config(cfg);
}

static void
test_signed_addresses(void)
{
    static const char *secret = "0123456789abcdef0123456789abcdef";
    g_autofree char *addr = router_ticket_address(secret, "support@example.com", "TKT-42");
    g_autofree char *other = router_ticket_address(secret, "support@example.com", "TKT-43");
    g_autofree char *upper = g_ascii_strup(addr, -1);
    gint64 id = 0;

    g_assert_true(g_str_has_prefix(addr, "support+tkt-42."));
    g_assert_true(g_str_has_suffix(addr, "@example.com"));
    g_assert_cmpint(router_address_ticket(secret, "TKT", addr, &id), ==, ADDRESS_VALID);
    g_assert_cmpint(id, ==, 42);
    g_assert_cmpint(router_address_ticket(secret, "TKT", upper, &id), ==, ADDRESS_VALID);
    /* Another ticket's MAC on this number, or any other secret: forged. */
    g_autofree char *mixed = g_strdup(addr);
    memcpy(strchr(mixed, '.') + 1, strchr(other, '.') + 1, 16);
    g_assert_cmpint(router_address_ticket(secret, "TKT", mixed, &id), ==, ADDRESS_FORGED);
    g_assert_cmpint(router_address_ticket("another secret, long enough", "TKT", addr, &id), ==,
                    ADDRESS_FORGED);
    g_assert_cmpint(router_address_ticket(secret, "TKT", "support@example.com", &id), ==,
                    ADDRESS_UNTAGGED);
    g_assert_cmpint(router_address_ticket(secret, "TKT", "support+sales@example.com", &id), ==,
                    ADDRESS_UNTAGGED);
    g_assert_cmpint(router_subject_ticket("TKT", "Re: [TKT-42] x [TKT-7]"), ==, 42);
    g_assert_cmpint(router_subject_ticket("TKT", "Re: [tkt-9] x"), ==, 9);
    g_assert_cmpint(router_subject_ticket("TKT", "Re: [ABC-9] TKT-3 [TKT-]"), ==, 0);
}

static void
test_dedup_key(void)
{
    struct mail *with = make_mail("a@b", "s", "abc@host");
    struct mail *without = make_mail("a@b", "s", NULL);
    g_autofree char *k1 = router_dedup_key(with);
    g_autofree char *k2 = router_dedup_key(without);
    g_autofree char *k3 = router_dedup_key_variant(with);

    g_assert_cmpstr(k1, ==, "abc@host");
    g_assert_cmpstr(k2, ==, "sha256:abc123");
    g_assert_cmpstr(k3, ==, "abc@host sha256:abc123");
    free_mail(with);
    free_mail(without);
}

static void
test_tags(void)
{
    static const struct {
        const char *subject;
        const char *tag;
        bool has;
    } cases[] = {
        { "[TKT-2] Re: down", "TKT-2", true },
        { "Re: [tkt-2] down", "TKT-2", true },
        { "Re: [TKT-22] down", "TKT-2", false },
        { "TKT-2 down", "TKT-2", false },
        { "", "TKT-2", false },
    };
    g_autofree char *tag = router_ticket_tag("TKT", 42);

    g_assert_cmpstr(tag, ==, "TKT-42");
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++)
        g_assert_cmpint(router_subject_has_tag(cases[i].subject, cases[i].tag), ==,
                        cases[i].has);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/router/find-customer", test_find_customer);
    g_test_add_func("/router/decide", test_decide);
    g_test_add_func("/router/dedup-key", test_dedup_key);
    g_test_add_func("/router/tags", test_tags);
    g_test_add_func("/router/machines-and-threads", test_machines_and_threads);
    g_test_add_func("/router/signed-addresses", test_signed_addresses);
    g_test_add_func("/router/reopen-window", test_reopen_window);
    g_test_add_func("/router/auth-vouches", test_auth_vouches);
    return g_test_run();
}
