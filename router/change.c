/*
 * change - ticket state transitions.
 *
 * Edge cases: a command that changes nothing (the same severity, the
 * status it has) leaves no event; a severity change restarts the goals
 * not yet met from the change (seed 003: the severity reflects the
 * current impact); a pause begun before such a restart counts from the
 * restart only.
 */
#include <string.h>

#include "router/change.h"
#include "router/clock.h"
#include "router/notices.h"
#include "router/router.h"
#include "util/timefmt.h"

int
change_initial_stage(const struct policy *p, int severity, bool is_explicit)
{
    int stage;

    g_assert(severity >= 1 && severity <= 4);
    stage = p->ladder->initial_stage[severity];
    /* Weak evidence never pages managers by itself. */
    return is_explicit ? stage : MIN(stage, 1);
}

/* Ends a pause begun at T->paused_at: its business time no longer counts. */
static gint64
end_pause(const struct policy *p, struct ticket *t, GDateTime *now)
{
    const char *since = t->paused_at;
    gint64 waited;

    /* A restart after the pause began moved its start. */
    if (since != NULL && t->clock_start != NULL && strcmp(since, t->clock_start) < 0)
        since = t->clock_start;
    waited = clock_pause_length(p, t, since, now);
    t->paused_seconds += waited;
    g_clear_pointer(&t->paused_at, g_free);
    return waited;
}

bool
change_status(const struct policy *p, struct ticket *t, enum ticket_status to, const char *actor,
              const char *reason, bool tell_customer, GDateTime *now, struct decision *d)
{
    g_autofree char *at = timefmt_iso8601(now);
    enum ticket_status from = t->status;
    gint64 waited = 0;
    struct event *e;

    if (from == to)
        return false;
    if (from == TICKET_PENDING)
        waited = end_pause(p, t, now);
    if (to == TICKET_PENDING)
        ticket_set(&t->paused_at, at);
    if (ticket_status_is_done(to)) {
        if (t->resolved_at == NULL)
            ticket_set(&t->resolved_at, at);
    } else {
        g_clear_pointer(&t->resolved_at, g_free);
    }
    /* An update is owed while the ticket is open, from the moment it is. */
    if (to == TICKET_OPEN && t->first_response_at != NULL)
        ticket_set(&t->update_from, at);
    else if (to != TICKET_OPEN)
        g_clear_pointer(&t->update_from, g_free);
    t->status = to;
    e = decision_event(d, EVENT_STATUS, actor);
    event_set_string(e, "from", ticket_status_name(from));
    event_set_string(e, "to", ticket_status_name(to));
    if (from == TICKET_PENDING)
        event_set_int(e, "paused_seconds", waited);
    if (reason != NULL)
        event_set_string(e, "reason", reason);
    if (tell_customer)
        notices_status_change(d, t, from);
    d->ticket_changed = true;
    return true;
}

void
change_resume(const struct policy *p, struct ticket *t, const char *actor, GDateTime *now,
              struct decision *d)
{
    change_status(p, t, TICKET_OPEN, actor, "the customer replied", false, now, d);
}

void
change_reopen(const struct policy *p, struct ticket *t, const char *actor, const char *reason,
              GDateTime *now, struct decision *d)
{
    g_autofree char *at = timefmt_iso8601(now);
    enum ticket_status from = t->status;
    gint64 waited;
    struct event *e;

    /* The time since it was resolved is a pause like waiting for the
     * customer: it does not count against the goals. */
    ticket_set(&t->paused_at, t->resolved_at);
    waited = end_pause(p, t, now);
    g_clear_pointer(&t->resolved_at, g_free);
    t->status = TICKET_OPEN;
    if (t->first_response_at != NULL)
        ticket_set(&t->update_from, at);
    e = decision_event(d, EVENT_REOPENED, actor);
    event_set_string(e, "from", ticket_status_name(from));
    event_set_string(e, "to", "open");
    event_set_int(e, "paused_seconds", waited);
    event_set_string(e, "reason", reason);
    d->ticket_changed = true;
}

bool
change_escalate(const struct policy *p, struct ticket *t, const char *cause, const char *why,
                const char *actor, bool tell_customer, struct decision *d)
{
    int from = t->stage;

    if (t->stage >= 3)
        return false;
    t->stage++;
    d->ticket_changed = true;
    notices_stage_entered(p, d, t, from, cause, why, actor, tell_customer);
    return true;
}

static void
change_severity(const struct policy *p, struct ticket *t, int severity, const char *actor,
                GDateTime *now, struct decision *d)
{
    struct event *e = decision_event(d, EVENT_SEVERITY, actor);
    int from = t->severity;

    event_set_int(e, "severity", severity);
    event_set_int(e, "from", from);
    event_set_string(e, "rule", "command");
    t->severity = severity;
    /* The goals not yet met run from the change, for the new severity. */
    if (t->clock_start != NULL)
        clock_restart(t, now);
    d->ticket_changed = true;
    /* A ticket made more severe starts at least at that severity's stage. */
    int stage = change_initial_stage(p, severity, true);
    if (stage > t->stage) {
        int old = t->stage;
        t->stage = stage;
        notices_stage_entered(p, d, t, old, "automatic", "automatic for the new severity", actor,
                              false);
    }
}

void
change_accept(const struct policy *p, struct ticket *t, const struct customer *customer,
              const char *requester, const char *actor, GDateTime *now, struct decision *d)
{
    struct event *e = decision_event(d, EVENT_REQUESTER, actor);

    event_set_string(e, "from_requester", *t->requester != '\0' ? t->requester : NULL);
    event_set_string(e, "from_customer", t->customer);
    if (requester != NULL)
        ticket_set(&t->requester, requester);
    if (customer != NULL) {
        ticket_set(&t->customer, customer->name);
        ticket_set(&t->plan, customer->plan);
        ticket_set(&t->timezone, customer->timezone);
        ticket_set(&t->language, customer->language);
    }
    event_set_string(e, "requester", *t->requester != '\0' ? t->requester : NULL);
    event_set_string(e, "customer", t->customer);
    d->ticket_changed = true;
    if (t->clock_start != NULL)
        return;
    /* Accepted now: the goals start, and the ticket takes the stage of its
     * severity (as read from the mail: no more than Stage 1). */
    clock_restart(t, now);
    int stage = change_initial_stage(p, t->severity, false);
    if (stage > t->stage) {
        int from = t->stage;
        t->stage = stage;
        notices_stage_entered(p, d, t, from, "automatic", "accepted by staff", actor, false);
    }
}

bool
change_command(const struct policy *p, struct ticket *t, const struct command *cmd,
               const char *actor, GDateTime *now, struct decision *d)
{
    enum ticket_status to;

    switch (cmd->kind) {
    case CMD_SEVERITY:
        if (cmd->number != t->severity)
            change_severity(p, t, cmd->number, actor, now, d);
        return true;
    case CMD_STATUS:
        if (ticket_status_parse(cmd->word, &to))
            change_status(p, t, to, actor, NULL, true, now, d);
        return true;
    case CMD_STAGE:
        if (cmd->number != t->stage) {
            int from = t->stage;
            t->stage = cmd->number;
            d->ticket_changed = true;
            notices_stage_entered(p, d, t, from, "staff", "a staff #stage command", actor, false);
        }
        return true;
    case CMD_ASSIGN: {
        struct event *e = decision_event(d, EVENT_ASSIGN, actor);
        event_set_string(e, "assignee", cmd->word);
        ticket_set(&t->assignee, cmd->word);
        d->ticket_changed = true;
        return true;
    }
    case CMD_ESCALATE:
        change_escalate(p, t, "staff", "a staff #escalate command", actor, false, d);
        return true;
    case CMD_REQUESTER:
        change_accept(p, t, t->customer == NULL ? router_find_customer(p, cmd->word) : NULL,
                      cmd->word, actor, now, d);
        return true;
    case CMD_CUSTOMER: {
        const struct customer *c = policy_customer_named(p, cmd->word);
        if (c == NULL)
            return false;
        change_accept(p, t, c, NULL, actor, now, d);
        return true;
    }
    case CMD_INTERNAL:
    case CMD_UNKNOWN:
        return true;
    }
    return true;
}
