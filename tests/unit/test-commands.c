/*
 * test-commands - staff command lines, and what they do to a ticket.
 */
#include <string.h>

#include <glib.h>

#include "router/change.h"
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
    struct ticket *t = g_new0(struct ticket, 1);

    t->id = 1;
    t->tag = g_strdup("TKT-1");
    t->status = g_strdup("open");
    t->severity = 3;
    t->stage = 0;
    t->requester = g_strdup("jan@acme.test");
    t->subject = g_strdup("x");
    t->created_at = g_strdup("2026-11-20T15:30:00Z"); /* Friday 16:30 in Amsterdam */
    t->updated_at = g_strdup(t->created_at);
    t->timezone = g_strdup("Europe/Amsterdam");
    t->plan = g_strdup("standard");
    return t;
}

/* Pending stops the clock; the business time waited moves the deadline. */
static void
test_pause_and_resume(void)
{
    struct plan *p = plan_preset("standard", 2026);
    struct ladder l;
    struct ticket *t = ticket();
    struct command pending = { .kind = CMD_STATUS, .word = "pending" };
    struct change c = { 0 };
    g_autoptr(GDateTime) mon9 = g_date_time_new_utc(2026, 11, 23, 8, 0, 0);  /* Mon 09:00 CET */
    g_autoptr(GDateTime) mon11 = g_date_time_new_utc(2026, 11, 23, 10, 0, 0); /* Mon 11:00 */
    g_autofree char *before = NULL;

    ladder_init(&l);
    change_recompute(t, p, &l);
    /* Sev3: 3 business days of 9 h from Friday 16:30 = Wednesday 16:30 CET. */
    g_assert_cmpstr(t->first_response_due, ==, "2026-11-25T15:30:00Z");
    before = g_strdup(t->first_response_due);
    change_apply(t, &pending, p, &l, mon9, &c);
    g_assert_cmpstr(c.type, ==, "status");
    g_assert_cmpstr(t->status, ==, "pending");
    g_assert_cmpstr(t->paused_at, ==, "2026-11-23T08:00:00Z");
    change_clear(&c);
    change_resume(t, p, &l, mon11, &c);
    g_assert_cmpstr(t->status, ==, "open");
    g_assert_null(t->paused_at);
    g_assert_cmpint(t->paused_seconds, ==, 2 * 3600);
    /* Two business hours later: Thursday 09:30 (half an hour is left on Wednesday). */
    g_assert_cmpstr(t->first_response_due, ==, "2026-11-26T08:30:00Z");
    change_clear(&c);

    /* Severity 1: one hour around the clock from the start, plus the pause. */
    struct command sev1 = { .kind = CMD_SEVERITY, .number = 1 };
    change_apply(t, &sev1, p, &l, mon11, &c);
    g_assert_cmpstr(c.type, ==, "severity");
    g_assert_cmpint(t->severity, ==, 1);
    g_assert_cmpint(t->stage, ==, 2);
    g_assert_cmpint(c.stage_entered, ==, 2);
    change_clear(&c);

    struct command resolved = { .kind = CMD_STATUS, .word = "resolved" };
    change_apply(t, &resolved, p, &l, mon11, &c);
    g_assert_nonnull(t->resolved_at);
    g_assert_cmpstr(c.old_status, ==, "open");
    change_clear(&c);
    g_assert_true(change_escalate(t, "test", &c));
    g_assert_cmpint(t->stage, ==, 3);
    change_clear(&c);
    g_assert_false(change_escalate(t, "test", &c));
    store_ticket_free(t);
    plan_free(p);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/commands/parse", test_parse);
    g_test_add_func("/commands/pause-and-resume", test_pause_and_resume);
    return g_test_run();
}
