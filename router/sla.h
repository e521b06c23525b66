/*
 * sla - the due times of a ticket: response, update and resolution goals,
 * the warnings before them, and the next escalation stage.
 *
 * Pure: computed from the plan, the ladder, the severity, the ticket's
 * start and the time it spent paused (status pending), so that the same
 * inputs always give the same deadlines, and a severity change recomputes
 * them from the ticket's start.
 */
#ifndef TM_ROUTER_SLA_H
#define TM_ROUTER_SLA_H

#include <glib.h>

#include "router/plan.h"

struct sla_times {
    GDateTime *due[GOAL_COUNT]; /* NULL: no such goal */
    GDateTime *warn[GOAL_COUNT];
    int stage;      /* the stage a ticket of this severity opens at */
    int next_stage; /* 0: it climbs no further by itself */
    GDateTime *next_stage_at;
};

/* Fills OUT for a ticket of SEVERITY that started at START on plan P in
 * the customer's ZONE; PAUSED is the business time it spent waiting. */
void sla_compute(const struct plan *p, const struct ladder *ladder, const char *zone, int severity,
                 GDateTime *start, gint64 paused, struct sla_times *out);
void sla_times_clear(struct sla_times *t);

/* The timer names: "response-warning", "response-breach", ..., "stage". */
char *sla_timer_kind(enum goal_kind goal, bool breach);

#endif
