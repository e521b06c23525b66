/*
 * scheduler - what each timer means when it falls due.
 *
 * A timer whose reason has gone (the response was given, the ticket was
 * resolved or is waiting for the customer) is marked fired and does
 * nothing; so moving a deadline only needs to set the timer again.
 */
#include <string.h>

#include <json-glib/json-glib.h>

#include "outbound/dispatch.h"
#include "outbound/notify.h"
#include "outbound/scheduler.h"
#include "router/plan.h"
#include "util/log.h"
#include "util/timefmt.h"

#define SCHEDULER_BATCH 500

static bool
is_active(const struct ticket *t)
{
    return strcmp(t->status, "open") == 0;
}

static JsonNode *
detail_node(const char *goal, const char *due)
{
    g_autoptr(JsonBuilder) b = json_builder_new();

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "goal");
    json_builder_add_string_value(b, goal);
    json_builder_set_member_name(b, "due");
    json_builder_add_string_value(b, due);
    json_builder_end_object(b);
    return json_builder_get_root(b);
}

/* The deadline a goal timer stands for, and whether it still matters. */
static const char *
goal_deadline(const struct ticket *t, enum goal_kind goal)
{
    switch (goal) {
    case GOAL_RESPONSE:
        return t->first_response_at == NULL ? t->first_response_due : NULL;
    case GOAL_UPDATE:
        return t->next_update_due;
    case GOAL_RESOLUTION:
        return t->resolved_at == NULL ? t->resolution_due : NULL;
    default:
        return NULL;
    }
}

static bool
fire_goal(struct store *st, const struct config *cfg, const char *secret, const struct ticket *t,
          enum goal_kind goal, bool breach, GDateTime *now, bool *did, GError **error)
{
    const char *due = goal_deadline(t, goal);
    const char *type = breach ? "sla-breach" : "sla-warning";
    g_autofree char *to = NULL;
    g_autofree char *at = timefmt_iso8601(now);
    g_autofree char *text = NULL;

    if (!is_active(t) || due == NULL)
        return true;
    *did = true;
    g_autoptr(JsonNode) detail = detail_node(plan_goal_names[goal], due);
    g_autoptr(JsonGenerator) gen = json_generator_new();
    json_generator_set_root(gen, detail);
    g_autofree char *detail_text = json_generator_to_data(gen, NULL);
    if (!store_event_insert(st, t->id, at, type, NULL, detail_text, error))
        return false;
    log_notice("ticket=%s action=%s goal=%s due=%s stage=%d", t->tag, type,
               plan_goal_names[goal], due, t->stage);
    to = notify_stage_recipients(cfg, t, t->stage);
    if (to != NULL) {
        struct notice n = {
            .template_name = type,
            .kind = "notice",
            .to = to,
            .auto_submitted = "auto-generated",
            .goal = plan_goal_names[goal],
            .due = due,
        };
        if (!notify_queue(st, cfg, secret, t, &n, now, error))
            return false;
    }
    text = g_strdup_printf("%s %s: %s goal %s %s", t->tag, breach ? "SLA breach" : "SLA warning",
                           plan_goal_names[goal], breach ? "was due" : "is due", due);
    return notify_webhook(st, cfg, t, type, text, json_node_ref(detail), now, error);
}

/* The next stage of the ladder, when the ticket is still not resolved. */
static bool
fire_stage(struct store *st, const struct config *cfg, const char *secret, const struct ticket *t,
           GDateTime *now, bool *did, GError **error)
{
    int next = cfg->ladder.next_stage[t->severity];
    g_autofree char *at = timefmt_iso8601(now);
    g_autofree char *reason = NULL;
    g_autofree char *detail = NULL;
    g_autofree char *to = NULL;
    g_autofree char *text = NULL;
    struct ticket *moved;
    bool ok;

    if (strcmp(t->status, "resolved") == 0 || strcmp(t->status, "closed") == 0 || next <= t->stage)
        return true;
    *did = true;
    reason = g_strdup_printf("severity %d not resolved in time", t->severity);
    detail = g_strdup_printf("{\"stage\":%d,\"from\":%d,\"reason\":\"%s\"}", next, t->stage, reason);
    if (!store_ticket_set_stage(st, t->id, next, at, error) ||
        !store_event_insert(st, t->id, at, "stage", NULL, detail, error))
        return false;
    log_notice("ticket=%s action=escalate stage=%d from=%d", t->tag, next, t->stage);
    moved = store_ticket_get(st, t->id, error);
    if (moved == NULL)
        return false;
    to = notify_stage_recipients(cfg, moved, next);
    struct notice staff = {
        .template_name = "escalation-staff",
        .kind = "notice",
        .to = to,
        .auto_submitted = "auto-generated",
        .reason = reason,
    };
    struct notice customer = {
        .template_name = "escalation-customer",
        .kind = "notice",
        .to = moved->requester,
        .language = moved->language,
        .timezone = moved->timezone,
        .auto_submitted = "auto-generated",
        .reason = reason,
    };
    text = g_strdup_printf("%s escalated to stage %d: %s", moved->tag, next, moved->subject);
    ok = (to == NULL || notify_queue(st, cfg, secret, moved, &staff, now, error)) &&
         (*moved->requester == '\0' || notify_queue(st, cfg, secret, moved, &customer, now, error)) &&
         notify_webhook(st, cfg, moved, "escalation", text, NULL, now, error);
    store_ticket_free(moved);
    return ok;
}

bool
scheduler_run(struct store *st, const struct config *cfg, const char *secret, GDateTime *now,
              guint limit, guint *seen, guint *fired, GError **error)
{
    g_autofree char *at = timefmt_iso8601(now);
    g_autoptr(GPtrArray) timers = store_timers_due(st, at, limit, error);

    *seen = *fired = 0;
    if (timers == NULL)
        return false;
    for (guint i = 0; i < timers->len; i++) {
        const struct timer *tm = g_ptr_array_index(timers, i);
        struct ticket *t = store_ticket_get(st, tm->ticket_id, error);
        bool did = false, ok = true;

        if (t == NULL && error != NULL && *error != NULL)
            return false;
        if (t != NULL && strcmp(tm->kind, "stage") == 0) {
            ok = fire_stage(st, cfg, secret, t, now, &did, error);
        } else if (t != NULL) {
            for (int k = 0; k < GOAL_COUNT; k++) {
                gsize n = strlen(plan_goal_names[k]);
                if (strncmp(tm->kind, plan_goal_names[k], n) == 0 && tm->kind[n] == '-')
                    ok = fire_goal(st, cfg, secret, t, k, strcmp(tm->kind + n + 1, "breach") == 0,
                                   now, &did, error);
            }
        }
        store_ticket_free(t);
        if (!ok || !store_timer_fired(st, tm->id, at, error))
            return false;
        (*seen)++;
        if (did)
            (*fired)++;
    }
    return true;
}

/* ---- the thread ---- */

struct scheduler {
    GMutex lock;
    GCond wake;
    bool kicked;
    bool stopping;
    struct config *cfg;
    char *secret;
    struct store_writer *writer;
    struct dispatcher *dispatcher;
    struct store *reader;
    GThread *thread;
};

struct pass {
    const struct config *cfg;
    const char *secret;
    GDateTime *now;
    guint seen, fired;
};

static bool
pass_job(struct store *st, void *data, GError **error)
{
    struct pass *p = data;

    return scheduler_run(st, p->cfg, p->secret, p->now, SCHEDULER_BATCH, &p->seen, &p->fired,
                         error);
}

/* Until the next timer, at most a minute: a timer set by another process
 * (ticketctl) is seen within that. */
static gint64
time_to_next(struct store *reader)
{
    g_autofree char *next = NULL;
    g_autoptr(GDateTime) when = NULL;
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();

    if (!store_timer_next(reader, &next, NULL) || next == NULL ||
        (when = timefmt_parse(next)) == NULL)
        return 60 * G_TIME_SPAN_SECOND;
    return CLAMP(g_date_time_difference(when, now), 0, 60 * G_TIME_SPAN_SECOND);
}

static gpointer
scheduler_main(gpointer data)
{
    struct scheduler *s = data;

    g_mutex_lock(&s->lock);
    while (!s->stopping) {
        struct config *cfg = config_ref(s->cfg);
        g_autoptr(GDateTime) now = g_date_time_new_now_utc();
        g_autoptr(GError) error = NULL;
        struct pass p = { .cfg = cfg, .secret = s->secret, .now = now };
        bool ok;

        s->kicked = false;
        g_mutex_unlock(&s->lock);
        ok = store_writer_run(s->writer, pass_job, &p, &error);
        if (!ok)
            log_error("scheduler: %s", error->message);
        else if (p.fired > 0)
            dispatch_kick(s->dispatcher);
        config_unref(cfg);
        gint64 wait = !ok ? 5 * G_TIME_SPAN_SECOND
                      : p.seen == SCHEDULER_BATCH ? 0
                                                  : time_to_next(s->reader);
        g_mutex_lock(&s->lock);
        gint64 until = g_get_monotonic_time() + wait;
        while (!s->kicked && !s->stopping && wait > 0)
            if (!g_cond_wait_until(&s->wake, &s->lock, until))
                break;
    }
    g_mutex_unlock(&s->lock);
    return NULL;
}

struct scheduler *
scheduler_start(struct config *cfg, struct store_writer *writer, struct dispatcher *dispatcher,
                const char *secret, GError **error)
{
    struct scheduler *s = g_new0(struct scheduler, 1);

    s->reader = store_open(cfg->database, STORE_READ_ONLY, cfg->busy_timeout, error);
    if (s->reader == NULL) {
        g_free(s);
        return NULL;
    }
    g_mutex_init(&s->lock);
    g_cond_init(&s->wake);
    s->cfg = config_ref(cfg);
    s->secret = g_strdup(secret);
    s->writer = writer;
    s->dispatcher = dispatcher;
    s->thread = g_thread_new("scheduler", scheduler_main, s);
    return s;
}

void
scheduler_kick(struct scheduler *s)
{
    if (s == NULL)
        return;
    g_mutex_lock(&s->lock);
    s->kicked = true;
    g_cond_signal(&s->wake);
    g_mutex_unlock(&s->lock);
}

void
scheduler_set_config(struct scheduler *s, struct config *cfg)
{
    struct config *old;

    g_mutex_lock(&s->lock);
    old = s->cfg;
    s->cfg = config_ref(cfg);
    g_mutex_unlock(&s->lock);
    config_unref(old);
}

struct scheduler *
scheduler_stop(struct scheduler *s)
{
    if (s == NULL)
        return NULL;
    g_mutex_lock(&s->lock);
    s->stopping = true;
    g_cond_signal(&s->wake);
    g_mutex_unlock(&s->lock);
    g_thread_join(s->thread);
    store_close(s->reader);
    config_unref(s->cfg);
    g_free(s->secret);
    g_mutex_clear(&s->lock);
    g_cond_clear(&s->wake);
    g_free(s);
    return NULL;
}
