/*
 * store/timers.h - the timers the scheduler fires (outbound/scheduler.c):
 * one per ticket and kind, set and moved by the router's decisions.
 *
 * Errors are STORE_ERROR (store/store.h).
 */
#ifndef TM_STORE_TIMERS_H
#define TM_STORE_TIMERS_H

#include <stdbool.h>

#include <glib.h>

#include "store/store.h"

struct timer {
    gint64 id;
    gint64 ticket_id;
    char *kind; /* response-warning, response-breach, ..., stage */
    char *due_at;
};

/* Sets (or moves, and re-arms) the timer KIND of a ticket. */
bool store_timer_set(struct store *st, gint64 ticket_id, const char *kind, const char *due_at,
                     GError **error);
/* Takes the timer KIND of a ticket away (nothing when it has none). */
bool store_timer_clear(struct store *st, gint64 ticket_id, const char *kind, GError **error);
/* Unfired timers due at NOW (struct timer*), in due order, at most LIMIT.
 * Inside the write transaction that fires them: on PostgreSQL they stay
 * locked until it ends, and timers another transaction holds are skipped,
 * so that two hosts' passes fire each timer once. */
GPtrArray *store_timers_due(struct store *st, const char *now, guint limit, GError **error);
/* The earliest unfired timer; *WHEN NULL when none. */
bool store_timer_next(struct store *st, char **when, GError **error);
bool store_timer_fired(struct store *st, gint64 id, const char *at, GError **error);

#endif
