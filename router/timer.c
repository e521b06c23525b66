/*
 * timer - what a ticket's timer means when it falls due.
 *
 * A goal's warning or breach tells the people of the ticket's stage (and
 * somebody always: see notices.c) and the webhook; a missed response goal
 * also moves a Stage 0 ticket to Stage 1 (seed 004: "where response times
 * are not being met, the escalation procedure will be used").  The stage
 * timer climbs the ladder (seed 004: Severity 1 to Stage 3 when not
 * resolved in one business day, Severity 2 to Stage 2 after two).
 * A timer whose reason has gone (the goal was met, the ticket waits for
 * the customer or is done) decides nothing: the caller marks it fired.
 */
#include <string.h>

#include "router/change.h"
#include "router/clock.h"
#include "router/notices.h"
#include "router/timer.h"

/* The deadline a goal's timer stands for; NULL when it no longer runs. */
static const char *
goal_deadline(const struct ticket *t, enum goal_kind goal)
{
    if (t->status != TICKET_OPEN || t->clock_start == NULL)
        return NULL;
    switch (goal) {
    case GOAL_RESPONSE:
        return t->first_response_at == NULL ? t->first_response_due : NULL;
    case GOAL_UPDATE:
        return t->update_from != NULL ? t->next_update_due : NULL;
    case GOAL_RESOLUTION:
        return t->resolved_at == NULL ? t->resolution_due : NULL;
    default:
        return NULL;
    }
}

static void
goal_fired(const struct policy *p, struct decision *d, enum goal_kind goal, bool breach,
           GDateTime *now)
{
    struct ticket *t = d->ticket;
    const char *due = goal_deadline(t, goal);
    const char *type = breach ? "sla-breach" : "sla-warning";
    struct notice_order *n;
    struct webhook_order *w;
    struct event *e;

    if (due == NULL)
        return;
    d->reason = type;
    e = decision_event(d, breach ? EVENT_SLA_BREACH : EVENT_SLA_WARNING, NULL);
    event_set_string(e, "goal", plan_goal_names[goal]);
    event_set_string(e, "due", due);
    /* The severity it was missed at: the metrics count by it, and a later
     * change of severity must not move a breach that happened. */
    event_set_int(e, "severity", t->severity);
    n = notices_to_staff(p, d, t, t->stage, true, type);
    n->goal = plan_goal_names[goal];
    n->due = g_strdup(due);
    w = decision_webhook(d, type,
                         g_strdup_printf("%s: %s goal %s %s", breach ? "SLA breach" : "SLA warning",
                                         plan_goal_names[goal], breach ? "was due" : "is due",
                                         due));
    w->detail = json_object_new();
    json_object_set_string_member(w->detail, "goal", plan_goal_names[goal]);
    json_object_set_string_member(w->detail, "due", due);
    if (breach && goal == GOAL_RESPONSE && t->stage == 0) {
        change_escalate(p, t, "missed-goal", "the response goal was missed", NULL, true, d);
        clock_timers(p, t, now, d);
    }
}

static void
stage_fired(const struct policy *p, struct decision *d, GDateTime *now)
{
    struct ticket *t = d->ticket;
    int next = p->ladder->next_stage[t->severity];
    int from = t->stage;
    g_autofree char *why = NULL;

    if (t->status != TICKET_OPEN || next <= t->stage)
        return;
    why = g_strdup_printf("severity %d not resolved in time", t->severity);
    d->reason = "escalation";
    t->stage = next;
    d->ticket_changed = true;
    notices_stage_entered(p, d, t, from, "ladder", why, NULL, true);
    clock_timers(p, t, now, d);
}

struct decision *
router_timer(const struct policy *p, const struct ticket *t, const char *kind, GDateTime *now)
{
    struct decision *d = decision_new(ROUTER_CHANGE, "nothing to do");
    enum goal_kind goal;
    bool breach;

    g_assert(t->severity >= 1 && t->severity <= 4);
    d->ticket_id = t->id;
    d->ticket = ticket_copy(t);
    if (strcmp(kind, "stage") == 0)
        stage_fired(p, d, now);
    else if (clock_timer_goal(kind, &goal, &breach))
        goal_fired(p, d, goal, breach, now);
    return d;
}
