/*
 * admin - the decisions behind ticketctl close and reopen.
 *
 * Reopening is what a customer's late reply does: the time since the
 * ticket was resolved is a pause, so its deadlines do not fall in the past
 * and the next tick does not escalate and mail at once.
 */
#include "router/change.h"
#include "router/clock.h"
#include "router/notices.h"
#include "router/timer.h"
#include "util/timefmt.h"

/* Without a configuration there are no plans: the status alone. */
static void
plain_status(struct ticket *t, enum ticket_status to, const char *actor, GDateTime *now,
             struct decision *d)
{
    g_autofree char *at = timefmt_iso8601(now);
    struct event *e = decision_event(d, EVENT_STATUS, actor);

    event_set_string(e, "from", ticket_status_name(t->status));
    event_set_string(e, "to", ticket_status_name(to));
    if (ticket_status_is_done(to)) {
        if (t->resolved_at == NULL)
            ticket_set(&t->resolved_at, at);
    } else {
        g_clear_pointer(&t->resolved_at, g_free);
    }
    g_clear_pointer(&t->paused_at, g_free);
    g_clear_pointer(&t->update_from, g_free);
    g_clear_pointer(&t->next_update_due, g_free);
    t->status = to;
    d->ticket_changed = true;
}

struct decision *
router_admin_status(const struct policy *p, const struct ticket *t, enum ticket_status to,
                    const char *actor, bool quiet, GDateTime *now)
{
    struct decision *d = decision_new(ROUTER_CHANGE, "ticketctl");
    enum ticket_status from = t->status;

    d->ticket_id = t->id;
    d->ticket = ticket_copy(t);
    if (p == NULL) {
        plain_status(d->ticket, to, actor, now, d);
        return d;
    }
    if (to == TICKET_OPEN && ticket_status_is_done(from)) {
        change_reopen(p, d->ticket, actor, "ticketctl reopen", now, d);
        if (!quiet)
            notices_status_change(d, d->ticket, from);
    } else {
        change_status(p, d->ticket, to, actor, NULL, !quiet, now, d);
    }
    clock_deadlines(p, d->ticket);
    clock_timers(p, d->ticket, now, d);
    return d;
}
