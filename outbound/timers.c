/*
 * timers - a ticket's SLA timers in the store, from its deadlines.
 */
#include "outbound/timers.h"
#include "util/timefmt.h"

bool
timers_set(struct store *st, gint64 ticket, const struct sla_times *times, GError **error)
{
    for (int k = 0; k < GOAL_COUNT; k++) {
        if (k == GOAL_UPDATE)
            continue;
        for (int breach = 0; breach <= 1; breach++) {
            GDateTime *when = breach ? times->due[k] : times->warn[k];
            g_autofree char *kind = sla_timer_kind(k, breach);
            g_autofree char *at = when != NULL ? timefmt_iso8601(when) : NULL;
            if (at != NULL && !store_timer_set(st, ticket, kind, at, error))
                return false;
        }
    }
    if (times->next_stage > 0 && times->next_stage_at != NULL) {
        g_autofree char *at = timefmt_iso8601(times->next_stage_at);
        if (!store_timer_set(st, ticket, "stage", at, error))
            return false;
    }
    return true;
}

bool
timers_arm(struct store *st, const struct config *cfg, const struct plan *p,
           const struct ticket *t, GError **error)
{
    g_autoptr(GDateTime) start = timefmt_parse(t->created_at);
    struct sla_times times;
    bool ok;

    if (start == NULL)
        return true;
    sla_compute(p, &cfg->ladder, t->timezone, t->severity, start, t->paused_seconds, &times);
    if (t->first_response_at != NULL) {
        g_clear_pointer(&times.due[GOAL_RESPONSE], g_date_time_unref);
        g_clear_pointer(&times.warn[GOAL_RESPONSE], g_date_time_unref);
    }
    if (times.next_stage <= t->stage)
        times.next_stage = 0;
    ok = timers_set(st, t->id, &times, error);
    sla_times_clear(&times);
    return ok;
}
