/*
 * test-router - identity and the decision, as pure functions on a config
 * and a mail built in the test.
 */
#include <string.h>

#include <glib.h>

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
    return g_test_run();
}
