/*
 * clock - a ticket's deadlines and timers, as a function of its clocks.
 *
 * The goals run from clock_start moved on by the business time the ticket
 * spent pending (paused_seconds); the update interval runs from
 * update_from while the ticket is open.  Nothing runs for a ticket that is
 * not entitled (clock_start NULL), or that is not open: pending, resolved
 * and closed tickets have no timers, and get them back, moved by the
 * pause, when they open again.
 *
 * Pure: every value is computed from the ticket and the policy, never
 * patched, so the same ticket always has the same deadlines.
 */
#ifndef TM_ROUTER_CLOCK_H
#define TM_ROUTER_CLOCK_H

#include <stdbool.h>

#include <glib.h>

#include "router/decision.h"
#include "router/plan.h"
#include "router/policy.h"
#include "router/ticket.h"

/* The timers a ticket has, by name. */
#define CLOCK_TIMER_KINDS 7
extern const char *const clock_timer_kinds[CLOCK_TIMER_KINDS];

/* Whether KIND names a goal's timer ("response-breach": GOAL_RESPONSE,
 * breach); false for "stage" and for names that are none. */
bool clock_timer_goal(const char *kind, enum goal_kind *goal, bool *is_breach);

/* Business seconds from SINCE (ISO 8601) to NOW on T's calendar: what a
 * pause that began at SINCE lasted. 0 when SINCE is NULL. */
gint64 clock_pause_length(const struct policy *p, const struct ticket *t, const char *since,
                          GDateTime *now);

/* Recomputes T's due columns: the response and resolution goals while
 * they are not met, the update goal while it runs (NULL otherwise). */
void clock_deadlines(const struct policy *p, struct ticket *t);

/* Orders every timer of T into D: set where it runs, taken away where not.
 * Sets D->soon when one falls due within a minute of NOW. */
void clock_timers(const struct policy *p, const struct ticket *t, GDateTime *now,
                  struct decision *d);

/* Starts the goals of T at NOW (a new ticket, an accepted sender, a
 * severity change): the pause so far no longer counts. */
void clock_restart(struct ticket *t, GDateTime *now);

#endif
