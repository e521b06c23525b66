/*
 * test-commands - staff command lines, and what they do to a ticket.
 */
#include <string.h>

#include <glib.h>

#include "router/change.h"
#include "router/clock.h"
#include "router/commands.h"

static const struct {
    const char *text;
    int count;
    enum command_kind first;
    const char *rest; /* commands_strip() */
} cases[] = {
    { "#severity 1\n#status pending\n\nHello\n", 2, CMD_SEVERITY, "Hello\n" },
    { "\n  #assign Lead@Example.com\nHello\n", 1, CMD_ASSIGN, "Hello\n" },
    { "#internal\nNote for us.", 1, CMD_INTERNAL, "Note for us." },
    { "#escalate\n", 1, CMD_ESCALATE, "" },
    { "#stage 3\n", 1, CMD_STAGE, "" },
    { "#severity 7\nHi", 1, CMD_UNKNOWN, "Hi" },
    { "#status done\nHi", 1, CMD_UNKNOWN, "Hi" },
    { "#assign nobody\nHi", 1, CMD_UNKNOWN, "Hi" },
    { "#assign a@b.c\"\nBcc: x\nHi", 1, CMD_UNKNOWN, "Bcc: x\nHi" },
    { "#frobnicate now\nHi", 1, CMD_UNKNOWN, "Hi" },
    { "#requester Jan@Acme.Test\n#customer acme\nCall notes", 2, CMD_REQUESTER, "Call notes" },
    { "#requester \"x,eve@evil.test\"@evil.test\nHi", 1, CMD_UNKNOWN, "Hi" },
    { "#customer acme corp\nHi", 1, CMD_UNKNOWN, "Hi" },
    { "Hello\n#severity 1\n", 0, CMD_UNKNOWN, "Hello\n#severity 1\n" },
    { "# heading\n", 0, CMD_UNKNOWN, "# heading\n" },
    { "", 0, CMD_UNKNOWN, "" },
};

static void
test_parse(void)
{
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GPtrArray) cmds = commands_parse(cases[i].text);
        g_autofree char *rest = commands_strip(cases[i].text);
        g_test_message("%u: %s", i, cases[i].text);
        g_assert_cmpuint(cmds->len, ==, (guint)cases[i].count);
        if (cases[i].count > 0)
            g_assert_cmpint(((struct command *)g_ptr_array_index(cmds, 0))->kind, ==,
                            cases[i].first);
        g_assert_cmpstr(rest, ==, cases[i].rest);
    }
}

static struct ticket *
ticket(void)
{
    struct ticket *t = ticket_new();

    t->id = 1;
    t->tag = g_strdup("TKT-1");
    t->severity = 3;
    t->stage = 0;
    ticket_set(&t->requester, "jan@acme.test");
    t->subject = g_strdup("x");
    t->created_at = g_strdup("2026-11-20T15:30:00Z"); /* Friday 16:30 in Amsterdam */
    t->updated_at = g_strdup(t->created_at);
    t->clock_start = g_strdup(t->created_at);
    t->timezone = g_strdup("Europe/Amsterdam");
    t->plan = g_strdup("standard");
    return t;
}

static guint
count_events(const struct decision *d, enum event_type type)
{
    guint n = 0;

    for (guint i = 0; i < d->events->len; i++)
        n += ((const struct event *)g_ptr_array_index(d->events, i))->type == type;
    return n;
}

/* Pending stops the clock; the business time waited moves the deadline. */
static void
test_pause_and_resume(void)
{
    struct plan *plan = plan_preset("standard");
    g_autoptr(GPtrArray) plans = g_ptr_array_new();
    static char *support[] = { "support@example.com", NULL };
    static char *none[] = { NULL };
    struct ladder l;
    struct policy p = { .support_addresses = support,
                        .recipient_delimiter = "+",
                        .staff_addresses = none,
                        .ladder = &l };
    struct ticket *t = ticket();
    struct command pending = { .kind = CMD_STATUS, .word = "pending" };
    struct decision *d = decision_new(ROUTER_CHANGE, "test");
    g_autoptr(GDateTime) mon9 = g_date_time_new_utc(2026, 11, 23, 8, 0, 0);   /* Mon 09:00 CET */
    g_autoptr(GDateTime) mon11 = g_date_time_new_utc(2026, 11, 23, 10, 0, 0); /* Mon 11:00 */

    ladder_init(&l);
    g_ptr_array_add(plans, plan);
    p.plans = plans;
    clock_deadlines(&p, t);
    /* Sev3: 3 business days of 9 h from Friday 16:30 = Wednesday 16:30 CET. */
    g_assert_cmpstr(t->first_response_due, ==, "2026-11-25T15:30:00Z");
    change_command(&p, t, &pending, "lead@example.com", mon9, d);
    g_assert_cmpuint(count_events(d, EVENT_STATUS), ==, 1);
    g_assert_cmpint(t->status, ==, TICKET_PENDING);
    g_assert_cmpstr(t->paused_at, ==, "2026-11-23T08:00:00Z");
    /* The customer is told, at the one address the ticket answers to. */
    g_assert_cmpuint(decision_count_notices(d, "status-change"), ==, 1);
    change_resume(&p, t, "jan@acme.test", mon11, d);
    g_assert_cmpint(t->status, ==, TICKET_OPEN);
    g_assert_null(t->paused_at);
    g_assert_cmpint(t->paused_seconds, ==, 2 * 3600);
    clock_deadlines(&p, t);
    /* Two business hours later: Thursday 09:30 (half an hour is left on Wednesday). */
    g_assert_cmpstr(t->first_response_due, ==, "2026-11-26T08:30:00Z");

    /* Severity 1: one hour around the clock from the change. */
    struct command sev1 = { .kind = CMD_SEVERITY, .number = 1 };
    change_command(&p, t, &sev1, "lead@example.com", mon11, d);
    clock_deadlines(&p, t);
    g_assert_cmpint(t->severity, ==, 1);
    g_assert_cmpint(t->stage, ==, 2);
    g_assert_cmpstr(t->first_response_due, ==, "2026-11-23T11:00:00Z");
    g_assert_cmpuint(decision_count_notices(d, "escalation-staff"), ==, 1);

    struct command resolved = { .kind = CMD_STATUS, .word = "resolved" };
    change_command(&p, t, &resolved, "lead@example.com", mon11, d);
    g_assert_nonnull(t->resolved_at);
    g_assert_true(change_escalate(&p, t, "staff", "test", NULL, false, d));
    g_assert_cmpint(t->stage, ==, 3);
    g_assert_false(change_escalate(&p, t, "staff", "test", NULL, false, d));
    decision_free(d);
    ticket_free(t);
    plan_free(plan);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/commands/parse", test_parse);
    g_test_add_func("/commands/pause-and-resume", test_pause_and_resume);
    return g_test_run();
}
