/*
 * change - ticket state transitions.
 */
#include <string.h>

#include "router/change.h"
#include "router/sla.h"
#include "util/timefmt.h"

void
change_clear(struct change *c)
{
    g_clear_pointer(&c->detail, g_free);
    g_clear_pointer(&c->old_status, g_free);
    memset(c, 0, sizeof(*c));
}

static void
set(char **field, const char *value)
{
    g_free(*field);
    *field = g_strdup(value);
}

static char *
iso(GDateTime *t)
{
    return t != NULL ? timefmt_iso8601(t) : NULL;
}

void
change_recompute(struct ticket *t, const struct plan *p, const struct ladder *l)
{
    g_autoptr(GDateTime) start = timefmt_parse(t->created_at);
    struct sla_times times;

    if (start == NULL)
        return;
    sla_compute(p, l, t->timezone, t->severity, start, t->paused_seconds, &times);
    if (t->first_response_at == NULL) {
        g_free(t->first_response_due);
        t->first_response_due = iso(times.due[GOAL_RESPONSE]);
    }
    g_free(t->resolution_due);
    t->resolution_due = iso(times.due[GOAL_RESOLUTION]);
    sla_times_clear(&times);
}

/* Business seconds between ISO A and NOW on P's calendar for T. */
static gint64
paused_for(const struct ticket *t, const struct plan *p, GDateTime *now)
{
    g_autoptr(GDateTime) since = timefmt_parse(t->paused_at);
    struct calendar *cal;
    gint64 s;

    if (since == NULL)
        return 0;
    cal = plan_calendar(p, t->timezone);
    calendar_set_always_open(cal, p->around_the_clock[t->severity]);
    s = calendar_between(cal, since, now);
    calendar_free(cal);
    return s;
}

/* Back to open after a stop that began at T->paused_at: that stretch of
 * business time does not count against the goals. */
static void
resume(struct ticket *t, const struct plan *p, const struct ladder *l, GDateTime *now,
       struct change *out)
{
    gint64 waited = paused_for(t, p, now);

    out->old_status = g_strdup(t->status);
    set(&t->status, "open");
    t->paused_seconds += waited;
    g_clear_pointer(&t->paused_at, g_free);
    g_clear_pointer(&t->resolved_at, g_free);
    change_recompute(t, p, l);
    out->type = "status";
    out->detail = g_strdup_printf("{\"from\":\"%s\",\"to\":\"open\",\"paused_seconds\":%"
                                  G_GINT64_FORMAT ",\"reason\":\"the customer replied\"}",
                                  out->old_status, waited);
    out->rearm = true;
}

void
change_resume(struct ticket *t, const struct plan *p, const struct ladder *l, GDateTime *now,
              struct change *out)
{
    resume(t, p, l, now, out);
}

void
change_reopen(struct ticket *t, const struct plan *p, const struct ladder *l, GDateTime *now,
              struct change *out)
{
    set(&t->paused_at, t->resolved_at);
    resume(t, p, l, now, out);
    out->type = "reopened";
}

bool
change_escalate(struct ticket *t, const char *why, struct change *out)
{
    if (t->stage >= 3)
        return false;
    out->type = "stage";
    out->why = why;
    out->detail = g_strdup_printf("{\"stage\":%d,\"from\":%d,\"reason\":\"%s\"}", t->stage + 1,
                                  t->stage, why);
    t->stage++;
    out->stage_entered = t->stage;
    return true;
}

static void
apply_status(struct ticket *t, const char *to, const struct plan *p, const struct ladder *l,
             GDateTime *now, struct change *out)
{
    g_autofree char *at = timefmt_iso8601(now);
    g_autofree char *from = g_strdup(t->status);

    if (strcmp(from, to) == 0)
        return;
    if (strcmp(from, "pending") == 0) {
        t->paused_seconds += paused_for(t, p, now);
        g_clear_pointer(&t->paused_at, g_free);
    }
    if (strcmp(to, "pending") == 0)
        set(&t->paused_at, at);
    if (strcmp(to, "resolved") == 0 || strcmp(to, "closed") == 0) {
        if (t->resolved_at == NULL)
            set(&t->resolved_at, at);
    } else {
        g_clear_pointer(&t->resolved_at, g_free);
    }
    set(&t->status, to);
    change_recompute(t, p, l);
    out->type = "status";
    out->detail = g_strdup_printf("{\"from\":\"%s\",\"to\":\"%s\"}", from, to);
    out->old_status = g_strdup(from);
    out->rearm = true;
}

void
change_apply(struct ticket *t, const struct command *cmd, const struct plan *p,
             const struct ladder *l, GDateTime *now, struct change *out)
{
    switch (cmd->kind) {
    case CMD_SEVERITY:
        if (cmd->number == t->severity)
            return;
        out->type = "severity";
        out->detail = g_strdup_printf("{\"severity\":%d,\"from\":%d,\"rule\":\"command\"}",
                                      cmd->number, t->severity);
        t->severity = cmd->number;
        change_recompute(t, p, l);
        out->rearm = true;
        /* A ticket made more severe starts at least at that severity's stage. */
        if (l->initial_stage[t->severity] > t->stage) {
            t->stage = l->initial_stage[t->severity];
            out->stage_entered = t->stage;
        }
        return;
    case CMD_STATUS:
        apply_status(t, cmd->word, p, l, now, out);
        return;
    case CMD_STAGE:
        if (cmd->number == t->stage)
            return;
        out->type = "stage";
        out->why = "a staff #stage command";
        out->detail = g_strdup_printf("{\"stage\":%d,\"from\":%d,\"reason\":\"command\"}",
                                      cmd->number, t->stage);
        if (cmd->number > t->stage)
            out->stage_entered = cmd->number;
        t->stage = cmd->number;
        return;
    case CMD_ASSIGN:
        out->type = "assign";
        out->detail = g_strdup_printf("{\"assignee\":\"%s\"}", cmd->word);
        set(&t->assignee, cmd->word);
        return;
    case CMD_ESCALATE:
        change_escalate(t, "command", out);
        out->why = "a staff #escalate command";
        return;
    case CMD_INTERNAL:
    case CMD_UNKNOWN:
        return;
    }
}
