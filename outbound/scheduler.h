/*
 * scheduler - fires the timers: SLA warnings and breaches, and the next
 * escalation stage (what each means is router/timer.c's to say).
 *
 * scheduler_run() is one pass, in the caller's transaction, so that firing
 * a timer, the event, the notices and marking it fired are one commit: a
 * timer fires exactly once even when the daemon's thread and "ticketctl
 * tick" race.  The daemon's thread sleeps until the next timer is due.
 */
#ifndef TM_OUTBOUND_SCHEDULER_H
#define TM_OUTBOUND_SCHEDULER_H

#include <stdbool.h>

#include <glib.h>

#include "config/config.h"
#include "router/keys.h"
#include "store/store.h"
#include "store/writer.h"

/* KEYS is borrowed for the scheduler's life. Fires up to LIMIT timers due at NOW, oldest first; *FIRED counts the ones
 * that did something, *SEEN all that were taken off the list. */
bool scheduler_run(struct store *st, const struct config *cfg, const struct keys *keys,
                   GDateTime *now, guint limit, guint *seen, guint *fired, GError **error);

struct scheduler;
struct dispatcher;

struct scheduler *scheduler_start(struct config *cfg, struct store_writer *writer,
                                  struct dispatcher *dispatcher, const struct keys *keys,
                                  GError **error);
void scheduler_kick(struct scheduler *s);
void scheduler_set_config(struct scheduler *s, struct config *cfg);
struct scheduler *scheduler_stop(struct scheduler *s);

#endif
