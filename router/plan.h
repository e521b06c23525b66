/*
 * plan - support plans: a business calendar and, per severity, the
 * response, update and resolution goals; and the escalation ladder.
 *
 * Three presets reproduce the support policies this product automates:
 *   standard  Mon-Fri 08:00-17:00; Sev1 response 1 h around the clock,
 *             Sev2 2 business hours, Sev3 3 business days, Sev4 none.
 *   default   Mon-Fri 10:00-16:00 except on Dutch public holidays; response
 *             high 8, normal 16, low 40 business hours; resolution best effort.
 *   extended  Mon-Fri 08:00-17:00 except on Dutch public holidays; response
 *             4, 4, 8 business hours; resolution 40, 60, 80 business hours.
 * A [plan:NAME] group in the config changes a preset or makes a new plan.
 */
#ifndef TM_ROUTER_PLAN_H
#define TM_ROUTER_PLAN_H

#include <stdbool.h>

#include <glib.h>

#include "router/calendar.h"

enum goal_kind {
    GOAL_RESPONSE,
    GOAL_UPDATE,
    GOAL_RESOLUTION,
    GOAL_COUNT
};

enum goal_unit {
    UNIT_NONE,           /* no goal */
    UNIT_REAL,           /* wall-clock seconds */
    UNIT_BUSINESS_HOURS, /* seconds of open hours */
    UNIT_BUSINESS_DAYS,  /* open days of the plan's average length */
};

struct goal {
    enum goal_unit unit;
    gint64 amount; /* seconds for REAL and BUSINESS_HOURS, days for BUSINESS_DAYS */
};

struct plan {
    char *name;
    char *timezone; /* NULL: the customer's */
    struct calendar *calendar;
    int default_severity;
    struct goal goals[5][GOAL_COUNT]; /* [severity 1..4] */
    bool around_the_clock[5];         /* the severity's goals count every hour */
};

/* The escalation ladder (004: Sev1 opens at Stage 2 and reaches Stage 3
 * when not resolved in one business day; Sev2 opens at Stage 1 and
 * reaches Stage 2 after two). */
struct ladder {
    int initial_stage[5]; /* by severity */
    int next_stage[5];    /* where an unresolved ticket goes, 0: nowhere */
    struct goal next_after[5];
    guint warn_at; /* percent of a goal at which to warn */
};

extern const char *const plan_goal_names[GOAL_COUNT]; /* "response", "update", "resolution" */
/* The keys a [plan:NAME] group may have. */
extern const char *const plan_keys[];

/* The preset NAME (standard, default or extended), NULL for another name.
 * Its Dutch holidays hold for every year, whenever the plan is loaded. */
struct plan *plan_preset(const char *name);
struct plan *plan_new(const char *name);
struct plan *plan_free(struct plan *p);
/* Sets KEY (one of plan_keys) from VALUE; an error sentence or NULL. */
char *plan_set(struct plan *p, const char *key, const char *value);
/* "none", "90m", "1h", "2d" (real), "4bh" (business hours), "3bd" (business days). */
char *plan_parse_goal(const char *text, struct goal *out);

void ladder_init(struct ladder *l);

/* P's calendar in the plan's zone, else ZONE (the customer's). */
struct calendar *plan_calendar(const struct plan *p, const char *zone);
/* START plus goal G on calendar CAL; NULL when G is none. AROUND_THE_CLOCK
 * counts business units in real time. PERCENT (1..100) of the way. */
GDateTime *goal_due(const struct goal *g, const struct calendar *cal, bool around_the_clock,
                    GDateTime *start, guint percent);

#endif
