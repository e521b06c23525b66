/*
 * change - what a staff command or a customer's reply does to a ticket.
 *
 * Pure: works on a struct ticket in memory (as the store read it) and says
 * what changed; the caller writes the ticket, the events, the timers and
 * the notices.  Deadlines are always recomputed from the ticket's start
 * and the business time it spent waiting, never patched.
 */
#ifndef TM_ROUTER_CHANGE_H
#define TM_ROUTER_CHANGE_H

#include <stdbool.h>

#include <glib.h>

#include "router/commands.h"
#include "router/plan.h"
#include "store/store.h"

struct change {
    const char *type;   /* event type: severity, status, stage, assign; NULL: nothing changed */
    char *detail;       /* the event's JSON */
    int stage_entered;  /* a stage the ticket entered: its contacts are told */
    const char *why;    /* for a stage change: why, in words (a string literal) */
    char *old_status;   /* set when the customer should hear of a status change */
    bool rearm;         /* deadlines moved: set the timers again */
};

void change_clear(struct change *c);

/* Applies CMD (not CMD_UNKNOWN, CMD_INTERNAL) to T. */
void change_apply(struct ticket *t, const struct command *cmd, const struct plan *p,
                  const struct ladder *l, GDateTime *now, struct change *out);
/* One stage up (a customer's or staff's #escalate); false at Stage 3. */
bool change_escalate(struct ticket *t, const char *why, struct change *out);
/* The customer answered a pending ticket: the clocks run again. */
void change_resume(struct ticket *t, const struct plan *p, const struct ladder *l, GDateTime *now,
                   struct change *out);
/* Deadlines from the start, the severity and the paused time. */
/* A customer wrote again about a resolved ticket: it is open again. */
void change_reopen(struct ticket *t, const struct plan *p, const struct ladder *l, GDateTime *now,
                   struct change *out);
void change_recompute(struct ticket *t, const struct plan *p, const struct ladder *l);

#endif
