/*
 * change - what a staff command, a customer's reply or an admin action
 * does to a ticket.
 *
 * Pure: each function changes a struct ticket in memory and adds to a
 * decision the events, the notices and the stage's people it calls for;
 * the caller orders the timers afterwards from the ticket as it ends up
 * (clock_timers), so no deadline is ever patched.
 */
#ifndef TM_ROUTER_CHANGE_H
#define TM_ROUTER_CHANGE_H

#include <stdbool.h>

#include <glib.h>

#include "router/commands.h"
#include "router/decision.h"
#include "router/policy.h"
#include "router/ticket.h"

/* Applies CMD (trusted staff ACTOR) to T. Returns false when the command
 * cannot be applied (an unknown #customer): it goes back to the sender. */
bool change_command(const struct policy *p, struct ticket *t, const struct command *cmd,
                    const char *actor, GDateTime *now, struct decision *d);

/* T goes to status TO. REASON (may be NULL) is kept in the event; with
 * TELL_CUSTOMER the requester hears of it. Returns whether it changed. */
bool change_status(const struct policy *p, struct ticket *t, enum ticket_status to,
                   const char *actor, const char *reason, bool tell_customer, GDateTime *now,
                   struct decision *d);

/* The customer answered a pending ticket: its clocks run again, and an
 * update is owed from now. */
void change_resume(const struct policy *p, struct ticket *t, const char *actor, GDateTime *now,
                   struct decision *d);
/* A resolved (or closed) ticket is open again; the time since it was
 * resolved does not count against its goals. */
void change_reopen(const struct policy *p, struct ticket *t, const char *actor, const char *reason,
                   GDateTime *now, struct decision *d);

/* One stage up, at most to Stage 3: false when it is there already. */
bool change_escalate(const struct policy *p, struct ticket *t, const char *cause, const char *why,
                     const char *actor, bool tell_customer, struct decision *d);

/* Staff accepted T for CUSTOMER (may be NULL: for REQUESTER alone): its
 * plan, zone and language are the customer's, and its goals run from NOW
 * if they did not yet. */
void change_accept(const struct policy *p, struct ticket *t, const struct customer *customer,
                   const char *requester, const char *actor, GDateTime *now, struct decision *d);

/* The severity and stage a ticket of SEVERITY opens at; with EXPLICIT
 * false (a keyword or the plan default) it never opens above Stage 1. */
int change_initial_stage(const struct policy *p, int severity, bool is_explicit);

#endif
