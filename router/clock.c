/*
 * clock - deadlines and timers from the ticket's clocks.
 *
 * Edge cases: a ticket whose plan is gone from the config runs on the
 * standard plan; a goal of "none" has neither deadline nor timers; a pause
 * of an around-the-clock severity counts every hour, as its goals do.
 */
#include <string.h>

#include "router/clock.h"
#include "router/sla.h"
#include "util/timefmt.h"

const char *const clock_timer_kinds[CLOCK_TIMER_KINDS] = {
    "response-warning",   "response-breach",   "update-warning", "update-breach",
    "resolution-warning", "resolution-breach", "stage",
};

bool
clock_timer_goal(const char *kind, enum goal_kind *goal, bool *is_breach)
{
    for (int k = 0; k < GOAL_COUNT; k++) {
        gsize n = strlen(plan_goal_names[k]);
        if (strncmp(kind, plan_goal_names[k], n) != 0 || kind[n] != '-')
            continue;
        if (strcmp(kind + n + 1, "breach") != 0 && strcmp(kind + n + 1, "warning") != 0)
            return false;
        *goal = (enum goal_kind)k;
        *is_breach = strcmp(kind + n + 1, "breach") == 0;
        return true;
    }
    return false;
}

static int
ticket_severity(const struct ticket *t)
{
    /* Indexes below are by severity: the store keeps it in range. */
    g_assert(t->severity >= 1 && t->severity <= 4);
    return t->severity;
}

static struct calendar *
ticket_calendar(const struct plan *plan, const struct ticket *t)
{
    return plan_calendar(plan, t->timezone);
}

gint64
clock_pause_length(const struct policy *p, const struct ticket *t, const char *since,
                   GDateTime *now)
{
    const struct plan *plan = policy_plan(p, t->plan);
    g_autoptr(GDateTime) from = since != NULL ? timefmt_parse(since) : NULL;
    struct calendar *cal;
    gint64 s;

    if (from == NULL)
        return 0;
    if (plan->around_the_clock[ticket_severity(t)])
        return MAX(0, g_date_time_difference(now, from) / G_TIME_SPAN_SECOND);
    cal = ticket_calendar(plan, t);
    s = calendar_between(cal, from, now);
    calendar_free(cal);
    return s;
}

void
clock_restart(struct ticket *t, GDateTime *now)
{
    g_autofree char *at = timefmt_iso8601(now);

    ticket_set(&t->clock_start, at);
    t->paused_seconds = 0;
    if (t->paused_at != NULL)
        ticket_set(&t->paused_at, at);
}

/* The goals from T's clocks; false when none run. */
static bool
compute(const struct policy *p, const struct ticket *t, struct sla_times *times)
{
    g_autoptr(GDateTime) start = t->clock_start != NULL ? timefmt_parse(t->clock_start) : NULL;

    if (start == NULL)
        return false;
    sla_compute(policy_plan(p, t->plan), p->ladder, t->timezone, ticket_severity(t), start,
                t->paused_seconds, times);
    return true;
}

/* The update goal's due time (PERCENT of the way) from update_from. */
static GDateTime *
update_due(const struct policy *p, const struct ticket *t, guint percent)
{
    const struct plan *plan = policy_plan(p, t->plan);
    g_autoptr(GDateTime) from = NULL;
    struct calendar *cal;
    GDateTime *due;

    if (t->update_from == NULL || t->clock_start == NULL || t->status != TICKET_OPEN ||
        (from = timefmt_parse(t->update_from)) == NULL)
        return NULL;
    cal = ticket_calendar(plan, t);
    due = goal_due(&plan->goals[ticket_severity(t)][GOAL_UPDATE], cal,
                   plan->around_the_clock[ticket_severity(t)], from, percent);
    calendar_free(cal);
    return due;
}

static char *
iso_or_null(GDateTime *t)
{
    return t != NULL ? timefmt_iso8601(t) : NULL;
}

void
clock_deadlines(const struct policy *p, struct ticket *t)
{
    struct sla_times times;
    g_autoptr(GDateTime) next_update = update_due(p, t, 100);

    g_free(t->next_update_due);
    t->next_update_due = iso_or_null(next_update);
    if (!compute(p, t, &times)) {
        g_clear_pointer(&t->first_response_due, g_free);
        g_clear_pointer(&t->resolution_due, g_free);
        return;
    }
    /* A goal met keeps the deadline it was met against: reports judge it. */
    if (t->first_response_at == NULL) {
        g_free(t->first_response_due);
        t->first_response_due = iso_or_null(times.due[GOAL_RESPONSE]);
    }
    if (t->resolved_at == NULL) {
        g_free(t->resolution_due);
        t->resolution_due = iso_or_null(times.due[GOAL_RESOLUTION]);
    }
    sla_times_clear(&times);
}

static void
order(struct decision *d, const char *kind, GDateTime *due, GDateTime *now)
{
    decision_timer(d, kind, due);
    if (due != NULL && g_date_time_difference(due, now) < 60 * G_TIME_SPAN_SECOND)
        d->soon = true;
}

void
clock_timers(const struct policy *p, const struct ticket *t, GDateTime *now, struct decision *d)
{
    struct sla_times times = { 0 };
    bool runs = t->status == TICKET_OPEN && compute(p, t, &times);
    g_autoptr(GDateTime) update_warn = runs ? update_due(p, t, p->ladder->warn_at) : NULL;
    g_autoptr(GDateTime) update_breach = runs ? update_due(p, t, 100) : NULL;
    bool responded = t->first_response_at != NULL, resolved = t->resolved_at != NULL;

    order(d, "response-warning", runs && !responded ? times.warn[GOAL_RESPONSE] : NULL, now);
    order(d, "response-breach", runs && !responded ? times.due[GOAL_RESPONSE] : NULL, now);
    order(d, "update-warning", update_warn, now);
    order(d, "update-breach", update_breach, now);
    order(d, "resolution-warning", runs && !resolved ? times.warn[GOAL_RESOLUTION] : NULL, now);
    order(d, "resolution-breach", runs && !resolved ? times.due[GOAL_RESOLUTION] : NULL, now);
    order(d, "stage", runs && times.next_stage > t->stage ? times.next_stage_at : NULL, now);
    if (runs)
        sla_times_clear(&times);
}
