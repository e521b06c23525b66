/*
 * test-router - identity, references and the decision, as pure functions
 * on a policy, a mail and a view built in the test.  The policy facts of
 * the seeds are in test-policy.c, on a real configuration.
 */
#include <string.h>

#include <glib.h>

#include "router/outbound.h"
#include "router/router.h"

static struct customer acme = {
    .name = "acme",
    .domains = (char *[]){ "acme.test", NULL },
    .contacts = (char *[]){ "ops@partner.test", NULL },
    .plan = "standard",
    .timezone = "Europe/Amsterdam",
    .language = "en",
};
static struct customer bakker = {
    .name = "bakker",
    .domains = (char *[]){ "bakker.nl", NULL },
    .contacts = (char *[]){ NULL },
    .plan = "standard",
    .timezone = "Europe/Amsterdam",
    .language = "nl",
};

struct fixture {
    struct policy policy;
    GPtrArray *customers;
    GPtrArray *plans;
    struct severity_rules *severity;
    struct ladder ladder;
    struct keys *keys;
};

static void
plan_free_cb(gpointer p)
{
    plan_free(p);
}

static struct fixture *
make_policy(enum unknown_senders unknown)
{
    struct fixture *f = g_new0(struct fixture, 1);
    static char *staff_domains[] = { "example.com", NULL };
    static char *none[] = { NULL };
    static char *support[] = { "support@example.com", NULL };

    f->customers = g_ptr_array_new();
    g_ptr_array_add(f->customers, &acme);
    g_ptr_array_add(f->customers, &bakker);
    f->plans = g_ptr_array_new_with_free_func(plan_free_cb);
    g_ptr_array_add(f->plans, plan_preset("standard"));
    f->severity = severity_rules_new();
    ladder_init(&f->ladder);
    f->keys = keys_new("0123456789abcdef0123456789abcdef");
    f->policy = (struct policy){
        .ticket_prefix = "TKT",
        .support_addresses = support,
        .recipient_delimiter = "+",
        .unknown_senders = unknown,
        .reopen_days = 14,
        .staff_addresses = none,
        .staff_domains = staff_domains,
        .customers = f->customers,
        .plans = f->plans,
        .severity = f->severity,
        .ladder = &f->ladder,
        .ack_limit = 5,
        .language = "en",
    };
    return f;
}

static void
free_policy(struct fixture *f)
{
    g_ptr_array_unref(f->customers);
    g_ptr_array_unref(f->plans);
    severity_rules_free(f->severity);
    keys_free(f->keys);
    g_free(f);
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
        { "ops@partner.test", "acme" }, /* a named contact outside the domain */
        { "other@partner.test", NULL },
        { "piet@bakker.nl", "bakker" },
        { "piet@sub.bakker.nl", NULL }, /* a domain rule is exact */
        { "acme.test", NULL },          /* no @ */
        { "", NULL },
        { NULL, NULL },
    };
    struct fixture *f = make_policy(UNKNOWN_SENDERS_ACCEPT);

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        const struct customer *c = router_find_customer(&f->policy, cases[i].addr);
        g_assert_cmpstr(c != NULL ? c->name : NULL, ==, cases[i].customer);
    }
    free_policy(f);
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
    g_free(m->loop);
    g_free(m);
}

/* A stored ticket as the store would hand it over. */
static struct ticket *
make_ticket(gint64 id, const char *requester, const char *customer, enum ticket_status status,
            const char *resolved_at)
{
    struct ticket *t = ticket_new();

    t->id = id;
    t->tag = g_strdup_printf("TKT-%" G_GINT64_FORMAT, id);
    ticket_set(&t->requester, requester != NULL ? requester : "");
    t->customer = g_strdup(customer);
    t->status = status;
    t->resolved_at = g_strdup(resolved_at);
    t->subject = g_strdup("printer");
    t->created_at = g_strdup("2026-11-02T09:00:00Z");
    t->clock_start = g_strdup(t->created_at);
    t->plan = g_strdup("standard");
    t->timezone = g_strdup("Europe/Amsterdam");
    t->language = g_strdup("en");
    return t;
}

static void
candidate_free(gpointer p)
{
    struct router_candidate *c = p;

    ticket_free((struct ticket *)c->ticket);
    g_free(c);
}

/* A view that names ticket T (taken) by VIA; T NULL: names nothing. */
static void
view_with(struct router_view *v, struct ticket *t, enum router_ref_via via)
{
    v->candidates = g_ptr_array_new_with_free_func(candidate_free);
    if (t != NULL) {
        struct router_candidate *c = g_new0(struct router_candidate, 1);
        c->via = via;
        c->ticket = t;
        g_ptr_array_add(v->candidates, c);
    }
}

static struct decision *
decide(const struct fixture *f, const struct mail *m, const char *envelope_from,
       const struct router_view *v)
{
    g_autoptr(GDateTime) now = g_date_time_new_utc(2026, 11, 24, 9, 0, 0);
    struct router_input in = {
        .mail = m,
        .envelope_from = envelope_from,
        .keys = f->keys,
        .client_addr = "192.0.2.7",
        .now = now,
    };

    return router_decide(&f->policy, &in, v);
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
        { "Jan@Acme.Test", "bounce@acme.test", "Down", UNKNOWN_SENDERS_ACCEPT, false, ROUTER_CREATE,
          "acme", "jan@acme.test", "Down" },
        { "x@nowhere.test", "x@nowhere.test", "Hi", UNKNOWN_SENDERS_ACCEPT, false, ROUTER_CREATE,
          NULL, "x@nowhere.test", "Hi" },
        { "x@nowhere.test", "x@nowhere.test", "Hi", UNKNOWN_SENDERS_REJECT, false, ROUTER_REJECT,
          NULL, "x@nowhere.test", "Hi" },
        /* A copy already stored is accepted again, whatever the policy now says. */
        { "x@nowhere.test", "x@nowhere.test", "Hi", UNKNOWN_SENDERS_REJECT, true, ROUTER_DUPLICATE,
          NULL, "x@nowhere.test", "Hi" },
        /* No From: the envelope sender is who we answer. */
        { NULL, "piet@bakker.nl", "", UNKNOWN_SENDERS_REJECT, false, ROUTER_CREATE, "bakker",
          "piet@bakker.nl", "(no subject)" },
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        struct fixture *f = make_policy(cases[i].unknown);
        struct mail *m = make_mail(cases[i].from, cases[i].subject, "id@x");
        struct router_view view = { .is_stored = cases[i].is_stored, .stored_ticket = 7 };
        struct decision *d = decide(f, m, cases[i].envelope_from, &view);

        g_test_message("case %u", i);
        g_assert_cmpint(d->action, ==, cases[i].action);
        g_assert_cmpstr(d->customer != NULL ? d->customer->name : NULL, ==, cases[i].customer);
        g_assert_cmpstr(d->requester, ==, cases[i].requester);
        if (d->action == ROUTER_CREATE) {
            g_assert_cmpstr(d->ticket->subject, ==, cases[i].ticket_subject);
            g_assert_cmpint(d->ticket->status, ==, TICKET_OPEN);
        }
        if (d->action == ROUTER_DUPLICATE)
            g_assert_cmpint(d->ticket_id, ==, 7);
        decision_free(d);
        free_mail(m);
        free_policy(f);
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
        bool report, auto_submitted, bulk;
        gint64 ref;  /* a ticket the mail names by its thread */
        gint64 ours; /* the ticket of our mail it names */
        const char *ref_requester, *ref_customer;
        enum router_action action;
        gint64 ticket;
    } cases[] = {
        { "null sender about our mail", "mailer-daemon@acme.test", "", false, false, false, 4, 4,
          "jan@acme.test", "acme", ROUTER_BOUNCE, 4 },
        { "null sender naming a customer's message only", "mailer-daemon@acme.test", "", false,
          false, false, 4, 0, "jan@acme.test", "acme", ROUTER_UNATTACHED, 0 },
        { "DSN with a sender, about our mail", "postmaster@x.test", "x@x.test", true, false, false,
          4, 4, "jan@acme.test", "acme", ROUTER_BOUNCE, 4 },
        { "bounce about nothing", "mailer-daemon@acme.test", "", true, false, false, 0, 0, NULL,
          NULL, ROUTER_UNATTACHED, 0 },
        { "auto-reply in thread", "jan@acme.test", "jan@acme.test", false, true, false, 4, 0,
          "jan@acme.test", "acme", ROUTER_AUTO, 4 },
        { "auto-reply outside", "jan@acme.test", "jan@acme.test", false, true, false, 0, 0, NULL,
          NULL, ROUTER_PASS, 0 },
        /* A list header is a heuristic sign: the mail is kept, as a
         * stranger's new ticket, with no acknowledgement. */
        { "list mail from a stranger in a thread", "list@lists.test", "list@lists.test", false,
          false, true, 4, 0, "jan@acme.test", "acme", ROUTER_CREATE, 0 },
        { "requester follows up", "jan@acme.test", "jan@acme.test", false, false, false, 4, 0,
          "jan@acme.test", "acme", ROUTER_FOLLOWUP, 4 },
        { "colleague follows up", "piet@acme.test", "piet@acme.test", false, false, false, 4, 0,
          "jan@acme.test", "acme", ROUTER_FOLLOWUP, 4 },
        { "other customer is refused", "piet@bakker.nl", "piet@bakker.nl", false, false, false, 4,
          0, "jan@acme.test", "acme", ROUTER_CREATE, 0 },
        { "stranger on an unknown sender's ticket", "eve@evil.test", "eve@evil.test", false, false,
          false, 4, 0, "x@nowhere.test", NULL, ROUTER_CREATE, 0 },
        { "staff joins any ticket", "lead@example.com", "lead@example.com", false, false, false, 4,
          0, "jan@acme.test", "acme", ROUTER_FOLLOWUP, 4 },
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        struct fixture *f = make_policy(UNKNOWN_SENDERS_ACCEPT);
        struct mail *m = make_mail(cases[i].from, "Re: something", "id@x");
        struct router_view view = { .bounce_ticket = cases[i].ours };
        struct decision *d;

        view_with(&view,
                  cases[i].ref > 0 ? make_ticket(cases[i].ref, cases[i].ref_requester,
                                                 cases[i].ref_customer, TICKET_OPEN, NULL)
                                   : NULL,
                  REF_REFERENCES);
        m->is_report = cases[i].report;
        m->is_auto_submitted = cases[i].auto_submitted;
        m->is_bulk = cases[i].bulk;
        d = decide(f, m, cases[i].envelope_from, &view);
        g_test_message("%s", cases[i].what);
        g_assert_cmpint(d->action, ==, cases[i].action);
        if (cases[i].ticket > 0)
            g_assert_cmpint(d->ticket_id, ==, cases[i].ticket);
        if (cases[i].action == ROUTER_CREATE && cases[i].ref > 0) {
            /* The ticket it named hears of the refused reference. */
            bool refused = false;
            for (guint e = 0; e < d->events->len; e++) {
                const struct event *ev = g_ptr_array_index(d->events, e);
                refused |= ev->type == EVENT_REFERENCE_REFUSED && ev->ticket_id == cases[i].ref;
            }
            g_assert_true(refused);
        }
        decision_free(d);
        g_ptr_array_unref(view.candidates);
        free_mail(m);
        free_policy(f);
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
        { "open ticket", "jan@acme.test", "open", NULL, false, AUTO_REPLIES_RECORD, ROUTER_FOLLOWUP,
          0 },
        { "resolved 13 days ago: reopens", "jan@acme.test", "resolved", "2026-11-11T09:00:00Z",
          false, AUTO_REPLIES_RECORD, ROUTER_FOLLOWUP, 0 },
        { "resolved 15 days ago: a new linked ticket", "jan@acme.test", "resolved",
          "2026-11-09T09:00:00Z", false, AUTO_REPLIES_RECORD, ROUTER_CREATE, 4 },
        { "closed: a new linked ticket", "jan@acme.test", "closed", "2026-11-24T08:00:00Z", false,
          AUTO_REPLIES_RECORD, ROUTER_CREATE, 4 },
        { "staff may still write on an old ticket", "lead@example.com", "closed",
          "2026-01-01T08:00:00Z", false, AUTO_REPLIES_RECORD, ROUTER_FOLLOWUP, 0 },
        { "auto-reply recorded", "jan@acme.test", "open", NULL, true, AUTO_REPLIES_RECORD,
          ROUTER_AUTO, 0 },
        { "auto-reply ignored by the rule", "jan@acme.test", "open", NULL, true,
          AUTO_REPLIES_IGNORE, ROUTER_PASS, 0 },
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        struct fixture *f = make_policy(UNKNOWN_SENDERS_ACCEPT);
        struct mail *m = make_mail(cases[i].from, "Re: [TKT-4] printer", "id@x");
        struct router_view view = { 0 };
        enum ticket_status status;
        struct decision *d;
        gint64 linked = 0;

        g_assert_true(ticket_status_parse(cases[i].status, &status));
        view_with(&view, make_ticket(4, "jan@acme.test", "acme", status, cases[i].resolved_at),
                  REF_REFERENCES);
        f->policy.auto_replies = cases[i].rule;
        m->is_auto_submitted = cases[i].auto_reply;
        d = decide(f, m, "jan@acme.test", &view);
        g_test_message("%s", cases[i].what);
        g_assert_cmpint(d->action, ==, cases[i].action);
        for (guint e = 0; e < d->events->len; e++) {
            const struct event *ev = g_ptr_array_index(d->events, e);
            if (ev->type == EVENT_LINKED && ev->ticket_id > 0)
                linked = ev->ticket_id;
        }
        g_assert_cmpint(linked, ==, cases[i].linked);
        if (d->action == ROUTER_FOLLOWUP && status == TICKET_RESOLVED)
            g_assert_cmpint(d->ticket->status, ==, TICKET_OPEN);
        decision_free(d);
        g_ptr_array_unref(view.candidates);
        free_mail(m);
        free_policy(f);
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
        { "dkim pass, sub domain signs parent", "mx.example.com", "dkim", "pass", "eu.example.com",
          NULL, "lead@example.com", NULL },
        { "dkim pass, look-alike domain", "mx.example.com", "dkim", "pass", "ample.com", NULL,
          "lead@example.com", NULL },
        { "dkim fail", "mx.example.com", "dkim", "fail", "example.com", NULL, "lead@example.com",
          NULL },
        { "dmarc pass", "mx.example.com", "dmarc", "pass", NULL, "example.com", "lead@example.com",
          "dmarc" },
        { "dmarc pass for another domain", "mx.example.com", "dmarc", "pass", NULL, "evil.test",
          "lead@example.com", NULL },
        { "not our authserv-id", "mx.evil.test", "dkim", "pass", "example.com", NULL,
          "lead@example.com", NULL },
        { "spf pass is not enough", "mx.example.com", "spf", "pass", NULL, NULL, "lead@example.com",
          NULL },
    };
    struct fixture *f = make_policy(UNKNOWN_SENDERS_ACCEPT);
    char *ids[] = { "mx.example.com", NULL };

    f->policy.authserv_ids = ids;
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GPtrArray) results = g_ptr_array_new_with_free_func(free_auth);
        g_ptr_array_add(results, auth(cases[i].id, cases[i].method, cases[i].result, cases[i].d,
                                      cases[i].from));
        g_test_message("%s", cases[i].what);
        g_assert_cmpstr(router_auth_vouches(&f->policy, results, cases[i].sender), ==,
                        cases[i].want);
    }
    g_assert_null(router_auth_vouches(&f->policy, NULL, "lead@example.com"));
    free_policy(f);
}

static void
test_signed_addresses(void)
{
    struct keys *k = keys_new("0123456789abcdef0123456789abcdef");
    struct keys *other_key = keys_new("another secret, long enough");
    g_autofree char *addr = router_ticket_address(k, "support@example.com", "+", "TKT-42");
    g_autofree char *other = router_ticket_address(k, "support@example.com", "+", "TKT-43");
    g_autofree char *bounce = router_return_path(k, "support@example.com", "+", "TKT-42");
    g_autofree char *upper = g_ascii_strup(addr, -1);
    gint64 id = 0;

    g_assert_true(g_str_has_prefix(addr, "support+tkt-42."));
    g_assert_true(g_str_has_suffix(addr, "@example.com"));
    /* 128-bit tags: 32 hex digits. */
    g_assert_cmpuint(strlen(strchr(addr, '.') + 1) - strlen("@example.com"), ==, 32);
    g_assert_cmpint(router_address_ticket(k, "TKT", "+", addr, &id), ==, ADDRESS_VALID);
    g_assert_cmpint(id, ==, 42);
    g_assert_cmpint(router_address_ticket(k, "TKT", "+", upper, &id), ==, ADDRESS_VALID);
    /* Another ticket's MAC on this number, or any other secret: forged. */
    g_autofree char *mixed = g_strdup(addr);
    memcpy(strchr(mixed, '.') + 1, strchr(other, '.') + 1, 32);
    g_assert_cmpint(router_address_ticket(k, "TKT", "+", mixed, &id), ==, ADDRESS_FORGED);
    g_assert_cmpint(router_address_ticket(other_key, "TKT", "+", addr, &id), ==, ADDRESS_FORGED);
    g_assert_cmpint(router_address_ticket(k, "TKT", "+", "support@example.com", &id), ==,
                    ADDRESS_UNTAGGED);
    g_assert_cmpint(router_address_ticket(k, "TKT", "+", "support+sales@example.com", &id), ==,
                    ADDRESS_UNTAGGED);
    /* One purpose, one key: a return path is no reply address, and back. */
    g_assert_true(g_str_has_prefix(bounce, "support+bounce-tkt-42."));
    g_assert_cmpint(router_return_path_ticket(k, "TKT", "+", bounce, &id), ==, ADDRESS_VALID);
    g_assert_cmpint(id, ==, 42);
    g_autofree char *swapped = g_strdup_printf("support+bounce-tkt-42.%s", strchr(addr, '.') + 1);
    g_assert_cmpint(router_return_path_ticket(k, "TKT", "+", swapped, &id), ==, ADDRESS_FORGED);
    g_assert_cmpint(router_subject_ticket("TKT", "Re: [TKT-42] x [TKT-7]"), ==, 42);
    g_assert_cmpint(router_subject_ticket("TKT", "Re: [tkt-9] x"), ==, 9);
    g_assert_cmpint(router_subject_ticket("TKT", "Re: [ABC-9] TKT-3 [TKT-]"), ==, 0);
    keys_free(k);
    keys_free(other_key);
}

/* A Postfix whose recipient_delimiter is "-+" delivers help-tkt-42...@
 * to help@: our addresses are made with its first character, and read
 * at whichever comes first. */
static void
test_recipient_delimiter(void)
{
    struct keys *k = keys_new("0123456789abcdef0123456789abcdef");
    g_autofree char *addr = router_ticket_address(k, "help@example.com", "-+", "TKT-42");
    g_autofree char *bounce = router_return_path(k, "help@example.com", "-+", "TKT-42");
    g_autofree char *plus = g_strdup(addr);
    gint64 id = 0;

    g_assert_true(g_str_has_prefix(addr, "help-tkt-42."));
    g_assert_true(g_str_has_prefix(bounce, "help-bounce-tkt-42."));
    g_assert_cmpint(router_address_ticket(k, "TKT", "-+", addr, &id), ==, ADDRESS_VALID);
    g_assert_cmpint(id, ==, 42);
    g_assert_cmpint(router_return_path_ticket(k, "TKT", "-+", bounce, &id), ==, ADDRESS_VALID);
    plus[4] = '+';
    g_assert_cmpint(router_address_ticket(k, "TKT", "-+", plus, &id), ==, ADDRESS_VALID);
    /* Under "+" alone, '-' is part of the local part: no tag there. */
    g_assert_cmpint(router_address_ticket(k, "TKT", "+", addr, &id), ==, ADDRESS_UNTAGGED);
    g_assert_cmpstr(router_extension_start("a-b+c@x-y.test", "+-"), ==, "-b+c@x-y.test");
    g_assert_null(router_extension_start("ab@x-y.test", "-"));
    g_assert_null(router_extension_start("no-at-sign", "-"));
    /* A support address of an international domain, named in Unicode by
     * an SMTPUTF8 client, is support too. */
    {
        char *support[] = { "help@xn--bcher-kva.example", NULL };
        struct policy p = { .support_addresses = support, .recipient_delimiter = "-+" };
        g_assert_true(router_is_support_address(&p, "help@b\u00fccher.example"));
        g_assert_true(router_is_support_address(&p, "Help+tkt-1.x@B\u00dcCHER.example"));
        g_assert_false(router_is_support_address(&p, "helpdesk@b\u00fccher.example"));
    }
    keys_free(k);
}

/* A loop mark made from a reply-address tag proves nothing. */
static void
test_loop_mark(void)
{
    struct keys *k = keys_new("0123456789abcdef0123456789abcdef");
    g_autofree char *addr = router_ticket_address(k, "support@example.com", "+", "TKT-1");
    g_autofree char *mark = router_loop_value(k, "tickets.example", "m1@tickets.example");
    struct mail *m = make_mail("jan@acme.test", "x", "m1@tickets.example");

    m->loop = g_strdup(mark);
    g_assert_true(router_is_own_mail(k, m));
    g_free(m->loop);
    /* The customer copies their ack's Reply-To tag into a loop mark. */
    g_autofree char *tag = g_strndup(strchr(addr, '.') + 1, 32);
    m->loop = g_strdup_printf("tickets.example; mac=%s", tag);
    g_free(m->message_id);
    m->message_id = g_strdup("tkt-1");
    g_assert_false(router_is_own_mail(k, m));
    g_free(m->loop);
    m->loop = NULL;
    free_mail(m);
    keys_free(k);
}

/* Only a single plain addr-spec is ever written to. */
static void
test_plain_addresses(void)
{
    static const struct {
        const char *addr;
        bool plain;
    } cases[] = {
        { "jan@acme.test", true },
        { "Jan.de.Vries+tkt@acme.test", true },
        { "jörg@müller.example", true },
        { "\"x,victim1@other.test,victim2@third.test,y\"@evil.test", false },
        { "\"jan\"@acme.test", false },
        { "jan@acme.test, eve@evil.test", false },
        { "jan @acme.test", false },
        { "jan@acme.test\r\nBcc: eve@evil.test", false },
        { "jan@@acme.test", false },
        { "jan..x@acme.test", false },
        { ".jan@acme.test", false },
        { "jan@localhost", false },
        { "jan@-acme.test", false },
        { "jan\\@acme.test", false },
        { "", false },
        { NULL, false },
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_test_message("%s", cases[i].addr != NULL ? cases[i].addr : "(null)");
        g_assert_cmpint(router_is_plain_address(cases[i].addr), ==, cases[i].plain);
    }
    g_assert_false(router_is_plain_address("a\xff@acme.test"));
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
        g_assert_cmpint(router_subject_has_tag(cases[i].subject, cases[i].tag), ==, cases[i].has);
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
    g_test_add_func("/router/recipient-delimiter", test_recipient_delimiter);
    g_test_add_func("/router/loop-mark", test_loop_mark);
    g_test_add_func("/router/plain-addresses", test_plain_addresses);
    g_test_add_func("/router/reopen-window", test_reopen_window);
    g_test_add_func("/router/auth-vouches", test_auth_vouches);
    return g_test_run();
}
