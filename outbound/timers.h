/*
 * timers - a ticket's SLA timers in the store, from its deadlines.
 *
 * The daemon (a new ticket, a change by mail) and ticketctl (close, reopen)
 * set them the same way; the scheduler fires them.  Runs inside the
 * caller's transaction.
 */
#ifndef TM_OUTBOUND_TIMERS_H
#define TM_OUTBOUND_TIMERS_H

#include <stdbool.h>

#include <glib.h>

#include "config/config.h"
#include "router/sla.h"
#include "store/store.h"

/* The warning and breach timers of TIMES for TICKET, and its next stage.
 * The update interval runs from the first response on, so its timers are
 * set then, not here. */
bool timers_set(struct store *st, gint64 ticket, const struct sla_times *times, GError **error);

/* Sets T's timers again after its deadlines moved (a severity change, a
 * pause that ended, a reopening), on plan P. A goal already met or gone
 * keeps its timers, which then do nothing. */
bool timers_arm(struct store *st, const struct config *cfg, const struct plan *p,
                const struct ticket *t, GError **error);

#endif
