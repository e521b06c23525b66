/*
 * scheduler - what each timer means when it falls due.
 *
 * A timer whose reason has gone (the response was given, the ticket was
 * resolved or is waiting for the customer) is marked fired and does
 * nothing; so moving a deadline only needs to set the timer again.
 */
#include <string.h>

#include "outbound/apply.h"
#include "outbound/dispatch.h"
#include "outbound/scheduler.h"
#include "router/timer.h"
#include "store/tickets.h"
#include "store/timers.h"
#include "store/writer.h"
#include "util/log.h"
#include "util/timefmt.h"

#define SCHEDULER_BATCH 500

/* One timer: the router decides, the applier writes, the log says so. */
static bool
fire(struct store *st, const struct config *cfg, const struct keys *keys, const struct timer *tm,
     GDateTime *now, bool *did, GError **error)
{
    struct ticket *t = store_ticket_get(st, tm->ticket_id, error);
    struct decision *d;
    struct apply_result r;
    bool ok;

    if (t == NULL)
        return error == NULL || *error == NULL;
    d = router_timer(&cfg->policy, t, tm->kind, now);
    *did = d->events->len > 0;
    ok = apply_decision(st, cfg, keys, d, NULL, now, &r, error);
    if (ok && *did)
        log_notice("ticket=%s action=%s timer=%s due=%s stage=%d", t->tag, d->reason, tm->kind,
                   tm->due_at, d->ticket->stage);
    apply_result_clear(&r);
    decision_free(d);
    ticket_free(t);
    return ok;
}

bool
scheduler_run(struct store *st, const struct config *cfg, const struct keys *keys, GDateTime *now,
              guint limit, guint *seen, guint *fired, GError **error)
{
    g_autofree char *at = timefmt_iso8601(now);
    g_autoptr(GPtrArray) timers = store_timers_due(st, at, limit, error);

    *seen = *fired = 0;
    if (timers == NULL)
        return false;
    for (guint i = 0; i < timers->len; i++) {
        const struct timer *tm = g_ptr_array_index(timers, i);
        bool did = false;

        if (!fire(st, cfg, keys, tm, now, &did, error) || !store_timer_fired(st, tm->id, at, error))
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
    const struct keys *keys;
    struct store_writer *writer;
    struct dispatcher *dispatcher;
    struct store *reader;
    GThread *thread;
};

struct pass {
    const struct config *cfg;
    const struct keys *keys;
    GDateTime *now;
    guint seen, fired;
};

static bool
pass_job(struct store *st, void *data, GError **error)
{
    struct pass *p = data;

    return scheduler_run(st, p->cfg, p->keys, p->now, SCHEDULER_BATCH, &p->seen, &p->fired, error);
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
        struct pass p = { .cfg = cfg, .keys = s->keys, .now = now };
        bool ok;

        s->kicked = false;
        g_mutex_unlock(&s->lock);
        ok = store_writer_run(s->writer, pass_job, &p, &error);
        if (!ok)
            log_error("scheduler: %s", error->message);
        else if (p.fired > 0)
            dispatch_kick(s->dispatcher);
        config_unref(cfg);
        gint64 wait = !ok                         ? 5 * G_TIME_SPAN_SECOND
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
                const struct keys *keys, GError **error)
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
    s->keys = keys;
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
    g_mutex_clear(&s->lock);
    g_cond_clear(&s->wake);
    g_free(s);
    return NULL;
}
