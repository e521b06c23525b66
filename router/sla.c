/*
 * sla - deadlines from a plan.
 */
#include <string.h>

#include "router/sla.h"

void
sla_compute(const struct plan *p, const struct ladder *ladder, const char *zone, int severity,
            GDateTime *start, gint64 paused, struct sla_times *out)
{
    struct calendar *cal = plan_calendar(p, zone);
    bool clock = p->around_the_clock[severity];
    g_autoptr(GDateTime) from = NULL;

    memset(out, 0, sizeof(*out));
    /* A pause moves the start on by the business time it lasted. */
    from = paused > 0 ? calendar_add(cal, start, paused) : g_date_time_ref(start);
    for (int k = 0; k < GOAL_COUNT; k++) {
        const struct goal *g = &p->goals[severity][k];
        out->due[k] = goal_due(g, cal, clock, from, 100);
        out->warn[k] = goal_due(g, cal, clock, from, ladder->warn_at);
    }
    out->stage = ladder->initial_stage[severity];
    if (ladder->next_stage[severity] > out->stage) {
        out->next_stage = ladder->next_stage[severity];
        /* Escalation counts business days even for around-the-clock goals:
         * "not resolved in one Business Day". */
        out->next_stage_at = goal_due(&ladder->next_after[severity], cal, false, from, 100);
        if (out->next_stage_at == NULL)
            out->next_stage = 0;
    }
    calendar_free(cal);
}

void
sla_times_clear(struct sla_times *t)
{
    for (int k = 0; k < GOAL_COUNT; k++) {
        g_clear_pointer(&t->due[k], g_date_time_unref);
        g_clear_pointer(&t->warn[k], g_date_time_unref);
    }
    g_clear_pointer(&t->next_stage_at, g_date_time_unref);
}

char *
sla_timer_kind(enum goal_kind goal, bool breach)
{
    return g_strdup_printf("%s-%s", plan_goal_names[goal], breach ? "breach" : "warning");
}
