/*
 * test-report - the pure parts of the service report: nearest-rank
 * percentiles, rounded shares, the default period across a DST change,
 * the verdict of each goal at the edges of the definitions (a goal still
 * running, waiting for the customer, met by a resolution, a fact after the
 * period), business time with a pause, the backlog's days, and the text
 * tables' display widths.
 */
#include <string.h>

#include <glib.h>

#include "router/report.h"
#include "util/percentile.h"
#include "util/table.h"
#include "util/timefmt.h"

static gint64
at(const char *iso)
{
    g_autoptr(GDateTime) t = timefmt_parse(iso);

    g_assert_nonnull(t);
    return g_date_time_to_unix(t);
}

static void
test_percentile(void)
{
    static const gint64 ten[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
    static const gint64 four[] = { 10, 20, 30, 40 };

    g_assert_cmpint(percentile_nearest_rank(ten, 10, 50), ==, 5);
    g_assert_cmpint(percentile_nearest_rank(ten, 10, 90), ==, 9);
    g_assert_cmpint(percentile_nearest_rank(ten, 10, 91), ==, 10);
    g_assert_cmpint(percentile_nearest_rank(four, 4, 50), ==, 20);
    g_assert_cmpint(percentile_nearest_rank(four, 4, 90), ==, 40);
    g_assert_cmpint(percentile_nearest_rank(four, 1, 90), ==, 10);
    g_assert_cmpint(percentile_nearest_rank(NULL, 0, 50), ==, -1);
}

static void
test_percent(void)
{
    static const struct {
        guint part, whole;
        double want;
    } cases[] = {
        { 1, 3, 33.3 },  { 2, 3, 66.7 }, { 1, 8, 12.5 },   { 1, 6, 16.7 },
        { 5, 5, 100.0 }, { 0, 4, 0.0 },  { 1, 2000, 0.1 }, { 0, 0, -1 },
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++)
        g_assert_cmpfloat_with_epsilon(report_percent(cases[i].part, cases[i].whole), cases[i].want,
                                       1e-9);
}

static void
test_last_month(void)
{
    static const struct {
        const char *now, *zone, *from, *to;
    } cases[] = {
        { "2026-11-03T09:00:00Z", "Europe/Amsterdam", "2026-09-30T22:00:00Z",
          "2026-10-31T23:00:00Z" },
        { "2026-01-15T12:00:00Z", "UTC", "2025-12-01T00:00:00Z", "2026-01-01T00:00:00Z" },
        /* Still the 31st in New York: October is the month that ended. */
        { "2026-11-01T02:00:00Z", "America/New_York", "2026-09-01T04:00:00Z",
          "2026-10-01T04:00:00Z" },
        { "2026-03-31T23:30:00Z", "Europe/Amsterdam", "2026-02-28T23:00:00Z",
          "2026-03-31T22:00:00Z" },
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GDateTime) now = timefmt_parse(cases[i].now);
        gint64 from, to;
        report_last_month(now, cases[i].zone, &from, &to);
        g_assert_cmpint(from, ==, at(cases[i].from));
        g_assert_cmpint(to, ==, at(cases[i].to));
    }
}

/* A ticket of the standard plan in UTC (Mon-Fri 08:00-17:00). */
static struct report_ticket *
ticket(const char *created, const char *response_due, const char *response_at, int severity)
{
    struct ticket *t = ticket_new();
    static int n;

    t->id = ++n;
    t->tag = g_strdup_printf("TKT-%d", n);
    t->severity = severity;
    ticket_set(&t->requester, "a@b.test");
    ticket_set(&t->subject, "s");
    ticket_set(&t->created_at, created);
    ticket_set(&t->updated_at, created);
    ticket_set(&t->first_response_due, response_due);
    ticket_set(&t->first_response_at, response_at);
    ticket_set(&t->timezone, "UTC");
    return report_ticket_new(t);
}

static void
status_event(struct report_ticket *rt, const char *when, const char *to)
{
    struct report_event *e = report_event_new();

    e->type = EVENT_STATUS;
    e->at = at(when);
    e->to_status = g_strdup(to);
    g_ptr_array_add(rt->events, e);
}

static struct report *
compute(GPtrArray *tickets, const char *from, const char *to, const char *now)
{
    struct report_params p = {
        .from = at(from),
        .to = at(to),
        .now = at(now),
        .zone = "UTC",
        .policy = NULL,
    };

    return report_compute(&p, tickets);
}

/* Mon 2026-11-02 .. Mon 2026-11-09 UTC, made on Tue 2026-11-10. */
#define FROM "2026-11-02T00:00:00Z"
#define TO "2026-11-09T00:00:00Z"
#define NOW "2026-11-10T00:00:00Z"

static void
test_verdicts(void)
{
    g_autoptr(GPtrArray) tickets = g_ptr_array_new_with_free_func(report_ticket_free);
    struct report_ticket *rt;
    struct report *r;

    /* Met, and missed by a late response. */
    g_ptr_array_add(
        tickets, ticket("2026-11-02T09:00:00Z", "2026-11-02T11:00:00Z", "2026-11-02T10:00:00Z", 2));
    g_ptr_array_add(
        tickets, ticket("2026-11-02T09:00:00Z", "2026-11-02T11:00:00Z", "2026-11-02T12:00:00Z", 2));
    /* No response, the deadline passed: missed. */
    g_ptr_array_add(tickets, ticket("2026-11-03T09:00:00Z", "2026-11-03T11:00:00Z", NULL, 2));
    /* Waiting for the customer at the end, its deadline passed: running. */
    rt = ticket("2026-11-04T09:00:00Z", "2026-11-04T11:00:00Z", NULL, 2);
    status_event(rt, "2026-11-04T10:00:00Z", "pending");
    g_ptr_array_add(tickets, rt);
    /* Resolved without a response, before the deadline: met by the resolution. */
    rt = ticket("2026-11-05T09:00:00Z", "2026-11-05T11:00:00Z", NULL, 3);
    status_event(rt, "2026-11-05T10:00:00Z", "resolved");
    g_ptr_array_add(tickets, rt);
    /* A response after the period, the deadline in it: missed ... */
    g_ptr_array_add(
        tickets, ticket("2026-11-06T15:00:00Z", "2026-11-06T16:00:00Z", "2026-11-09T09:00:00Z", 3));
    /* ... and the deadline after the period too: running. */
    g_ptr_array_add(
        tickets, ticket("2026-11-06T16:30:00Z", "2026-11-09T09:00:00Z", "2026-11-09T08:30:00Z", 3));
    /* No goal at all (a sender who is no contact). */
    g_ptr_array_add(tickets, ticket("2026-11-06T10:00:00Z", NULL, NULL, 3));
    /* Opened before the period: not judged, but part of the backlog. */
    g_ptr_array_add(tickets, ticket("2026-10-30T10:00:00Z", "2026-10-30T12:00:00Z", NULL, 1));

    r = compute(tickets, FROM, TO, NOW);
    g_assert_cmpuint(r->total.opened, ==, 8);
    g_assert_cmpuint(r->total.goals[GOAL_RESPONSE].met, ==, 2);
    g_assert_cmpuint(r->total.goals[GOAL_RESPONSE].missed, ==, 3);
    g_assert_cmpuint(r->total.goals[GOAL_RESPONSE].running, ==, 2);
    g_assert_cmpuint(r->severity[3].goals[GOAL_RESPONSE].met, ==, 1);
    g_assert_cmpuint(r->severity[3].goals[GOAL_RESPONSE].missed, ==, 1);
    g_assert_cmpuint(r->severity[3].goals[GOAL_RESPONSE].running, ==, 1);
    g_assert_cmpuint(r->open_at_start, ==, 1);
    g_assert_cmpuint(r->total.resolved, ==, 1);
    /* Open or pending at the end: all but the resolved one. */
    g_assert_cmpuint(r->total.open_at_end, ==, 8);
    /* Responses within the period only: 1 h and 3 h of business time. */
    g_assert_cmpuint(r->total.response_business.count, ==, 2);
    g_assert_cmpint(r->total.response_business.median, ==, 3600);
    g_assert_cmpint(r->total.response_business.max, ==, 3 * 3600);
    g_assert_cmpuint(r->no_response, ==, 6);
    g_assert_cmpuint(r->backlog->len, ==, 7);
    g_assert_cmpstr(g_array_index(r->backlog, struct report_day, 0).date, ==, "2026-11-02");
    g_assert_cmpuint(g_array_index(r->backlog, struct report_day, 0).open, ==, 3);
    g_assert_cmpuint(g_array_index(r->backlog, struct report_day, 6).open, ==, 8);
    report_free(r);
}

static void
test_pause(void)
{
    g_autoptr(GPtrArray) tickets = g_ptr_array_new_with_free_func(report_ticket_free);
    struct report_ticket *rt = ticket("2026-11-02T08:00:00Z", NULL, "2026-11-02T09:00:00Z", 2);
    struct report *r;

    /* Open 08-10, waiting 10-12, open 12-14, resolved; then reopened on
     * Tuesday 09:00 and resolved again at 11:00: 2 + 2 + 2 business hours. */
    status_event(rt, "2026-11-02T10:00:00Z", "pending");
    status_event(rt, "2026-11-02T12:00:00Z", "open");
    status_event(rt, "2026-11-02T14:00:00Z", "resolved");
    {
        struct report_event *e = report_event_new();
        e->type = EVENT_REOPENED;
        e->at = at("2026-11-03T09:00:00Z");
        e->to_status = g_strdup("open");
        g_ptr_array_add(rt->events, e);
    }
    status_event(rt, "2026-11-03T11:00:00Z", "closed");
    g_ptr_array_add(tickets, rt);
    r = compute(tickets, FROM, TO, NOW);
    g_assert_cmpuint(r->total.resolved, ==, 1);
    g_assert_cmpint(r->total.resolution_business.median, ==, 6 * 3600);
    g_assert_cmpint(r->total.resolution_real.median, ==, 27 * 3600);
    /* 6 business hours: within 1 business day (9 h). */
    g_assert_cmpuint(r->total.within[0].within, ==, 1);
    g_assert_cmpuint(r->total.within[0].decided, ==, 1);
    g_assert_cmpuint(g_array_index(r->backlog, struct report_day, 0).open, ==, 0);
    report_free(r);
}

static void
test_escalations(void)
{
    g_autoptr(GPtrArray) tickets = g_ptr_array_new_with_free_func(report_ticket_free);
    struct report_ticket *rt = ticket("2026-11-02T08:00:00Z", NULL, NULL, 1);
    static const struct {
        int stage, from;
        const char *cause, *when;
    } stages[] = {
        { 2, 0, "automatic", "2026-11-02T08:00:00Z" }, { 3, 2, "ladder", "2026-11-03T08:00:00Z" },
        { 2, 3, "staff", "2026-11-03T09:00:00Z" },    /* down: no escalation */
        { 3, 2, "someday", "2026-11-03T10:00:00Z" },  /* a cause we do not know */
        { 3, 2, "customer", "2026-11-09T10:00:00Z" }, /* after the period */
    };
    struct report *r;

    for (guint i = 0; i < G_N_ELEMENTS(stages); i++) {
        struct report_event *e = report_event_new();
        e->type = EVENT_STAGE;
        e->at = at(stages[i].when);
        e->stage = stages[i].stage;
        e->from_stage = stages[i].from;
        e->cause = g_strdup(stages[i].cause);
        g_ptr_array_add(rt->events, e);
    }
    g_ptr_array_add(tickets, rt);
    r = compute(tickets, FROM, TO, NOW);
    g_assert_cmpuint(r->escalations[2][CAUSE_AUTOMATIC], ==, 1);
    g_assert_cmpuint(r->escalations[3][CAUSE_LADDER], ==, 1);
    g_assert_cmpuint(r->escalations[3][CAUSE_CUSTOMER], ==, 0);
    g_assert_cmpuint(r->escalations[2][CAUSE_STAFF], ==, 0);
    g_assert_cmpuint(r->total.escalations, ==, 3);
    report_free(r);
}

static void
test_backlog_dst(void)
{
    g_autoptr(GPtrArray) tickets = g_ptr_array_new_with_free_func(report_ticket_free);
    struct report_params p = {
        .from = at("2026-10-23T22:00:00Z"),
        .to = at("2026-10-26T23:00:00Z"),
        .now = at("2026-10-26T12:00:00Z"),
        .zone = "Europe/Amsterdam",
    };
    struct report *r;

    /* Opened on the Sunday summer time ends, at 23:30 local (22:30Z). */
    g_ptr_array_add(tickets, ticket("2026-10-25T22:30:00Z", NULL, NULL, 3));
    r = report_compute(&p, tickets);
    g_assert_cmpuint(r->backlog->len, ==, 3);
    g_assert_cmpstr(g_array_index(r->backlog, struct report_day, 1).date, ==, "2026-10-25");
    g_assert_cmpuint(g_array_index(r->backlog, struct report_day, 1).open, ==, 1);
    g_assert_cmpuint(g_array_index(r->backlog, struct report_day, 0).open, ==, 0);
    /* The last day is not over: counted at NOW. */
    g_assert_cmpstr(g_array_index(r->backlog, struct report_day, 2).date, ==, "2026-10-26");
    g_assert_cmpint(r->end, ==, p.now);
    report_free(r);
}

static void
test_table(void)
{
    static const char *const head[] = { "A", "B", "C" };
    struct table *t = table_new(head, 3);
    g_autofree char *cut = table_cell_text("abcdefgh", 5);
    g_autofree char *wide = table_cell_text("注文一覧です", 7);
    g_autofree char *ctl = table_cell_text("a\x1b[31mb\nc", 0);
    g_autofree char *bad = table_cell_text("a\xff"
                                           "b",
                                           0);
    g_autofree char *text = NULL;

    g_assert_cmpuint(table_text_width("注文"), ==, 4);
    g_assert_cmpuint(table_text_width("e\xcc\x81"), ==, 1);
    g_assert_cmpstr(cut, ==, "abcd…");
    g_assert_cmpstr(wide, ==, "注文一…");
    g_assert_cmpstr(ctl, ==, "a?[31mb?c");
    g_assert_cmpstr(bad, ==,
                    "a\xef\xbf\xbd"
                    "b");
    {
        const char *r1[] = { "注文", "x", "end" };
        const char *r2[] = { "ab", NULL, "end" };
        table_set_right(t, 1);
        table_add(t, r1);
        table_add(t, r2);
    }
    text = table_render(t);
    g_assert_cmpstr(text, ==, "A     B  C\n注文  x  end\nab    -  end\n");
    table_free(t);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/report/percentile", test_percentile);
    g_test_add_func("/report/percent", test_percent);
    g_test_add_func("/report/last-month", test_last_month);
    g_test_add_func("/report/verdicts", test_verdicts);
    g_test_add_func("/report/pause", test_pause);
    g_test_add_func("/report/escalations", test_escalations);
    g_test_add_func("/report/backlog-dst", test_backlog_dst);
    g_test_add_func("/report/table", test_table);
    return g_test_run();
}
