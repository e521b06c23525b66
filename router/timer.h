/*
 * timer - the decision for a ticket's timer that fell due (the scheduler),
 * and for an admin's status change (ticketctl close and reopen).
 */
#ifndef TM_ROUTER_TIMER_H
#define TM_ROUTER_TIMER_H

#include <stdbool.h>

#include <glib.h>

#include "router/decision.h"
#include "router/policy.h"
#include "router/ticket.h"

/* The decision for timer KIND (one of clock_timer_kinds) of T at NOW. */
struct decision *router_timer(const struct policy *p, const struct ticket *t, const char *kind,
                              GDateTime *now);

/* An admin (ACTOR) sets T to TO: closing it, or opening it again. With
 * QUIET the customer is not told. P may be NULL (no configuration): then
 * only the status changes, and the deadlines stay as they are. */
struct decision *router_admin_status(const struct policy *p, const struct ticket *t,
                                     enum ticket_status to, const char *actor, bool quiet,
                                     GDateTime *now);

#endif
