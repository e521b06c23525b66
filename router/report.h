/*
 * report - the service report of a period, computed from the tickets and
 * their history: what ticketctl report prints as text, JSON and HTML.
 *
 * Pure: the caller reads the tickets and their events (store/report.c)
 * and passes them in with the period, the time the report is made and the
 * policy (for the plans' calendars); report_compute() returns a value that
 * the renderers only read.
 *
 * The definitions (ticketctl(1) says the same to the reader):
 *   - The period is [FROM, TO).  Facts count up to END, the earlier of TO
 *     and NOW: a report of a past period never changes afterwards.
 *   - The goal and duration figures are about the tickets opened in the
 *     period (created_at in [FROM, END)).  A ticket counts under the
 *     severity and plan it has when the report is made, against the
 *     deadlines it has then (a met goal keeps the deadline it was met
 *     against).
 *   - A response or resolution goal is met when its fact (the first staff
 *     reply the customer reads; the resolution in force at END) came by
 *     the deadline and before END; missed when it came later, or when the
 *     deadline passed before END without it; running otherwise, and also
 *     while the ticket waits for the customer at END.  A ticket resolved
 *     without any response has its response judged at its resolution.
 *     Percentages are met / (met + missed).
 *   - An update goal applies to a ticket whose plan sets an update
 *     interval for its severity and that had its first response by END:
 *     missed when at least one update deadline passed (an sla-breach event
 *     of goal update before END), met otherwise.
 *   - Business time is the plan's calendar in the ticket's zone, counted
 *     only while the ticket is open: time waiting for the customer
 *     (pending) and time resolved before a reopen are pauses and do not
 *     count.  Real time is the wall clock from the first contact,
 *     pauses included.
 *   - Median and p90 are nearest-rank percentiles: the smallest value with
 *     at least that share of the values at or below it (of an even count,
 *     the median is the lower middle value).
 *   - "Resolved within N business days" compares the business time to the
 *     resolution with N times the length of the plan's business day; a
 *     ticket is decided once resolved, or once more than that business time
 *     passed open without a resolution; the share is of the decided.
 *   - Escalations (stage rises) and breaches are the events that happened
 *     in [FROM, END), on any ticket the filters let through; a breach is
 *     listed with the severity it happened at (the ticket's when the event
 *     does not say).
 *   - The backlog of a day is the tickets open or pending at the end of
 *     that day (in the report's zone), or at NOW for the current day.
 */
#ifndef TM_ROUTER_REPORT_H
#define TM_ROUTER_REPORT_H

#include <stdbool.h>

#include <glib.h>

#include "router/event.h"
#include "router/plan.h"
#include "router/policy.h"
#include "router/ticket.h"

/* The longest period a report covers: a backlog chart of two years. */
#define REPORT_MAX_DAYS 732

/* One event of a ticket's history, with the detail members a report uses. */
struct report_event {
    enum event_type type;
    gint64 at;       /* Unix seconds */
    char *goal;      /* sla-warning, sla-breach: "response", "update", "resolution" */
    char *due;       /* sla-warning, sla-breach */
    int stage;       /* stage: the new stage */
    int from_stage;  /* stage: the old one */
    char *cause;     /* stage: automatic, missed-goal, ladder, customer, staff */
    char *to_status; /* status, reopened */
    int severity;    /* sla-warning, sla-breach: the severity then; 0 when not recorded */
};

struct report_ticket {
    struct ticket *ticket;
    GPtrArray *events; /* struct report_event*, in the order they happened */
};

struct report_event *report_event_new(void);
void report_event_free(gpointer e);
struct report_ticket *report_ticket_new(struct ticket *t);
void report_ticket_free(gpointer rt);
/* The event type called NAME; false when the catalogue has none. */
bool report_event_type(const char *name, enum event_type *out);

enum report_cause {
    CAUSE_AUTOMATIC,
    CAUSE_MISSED_GOAL,
    CAUSE_LADDER,
    CAUSE_CUSTOMER,
    CAUSE_STAFF,
    CAUSE_COUNT,
};
/* "automatic", "missed-goal", "ladder", "customer", "staff". */
extern const char *const report_cause_names[CAUSE_COUNT];

/* Median, p90 and max of a set of durations in seconds; -1 when empty. */
struct report_stat {
    guint count;
    gint64 median;
    gint64 p90;
    gint64 max;
};

struct report_goal {
    guint met;
    guint missed;
    guint running;
};

/* The thresholds of the "resolved within" figures, in business days. */
#define REPORT_WITHIN_COUNT 3
extern const int report_within_days[REPORT_WITHIN_COUNT]; /* 1, 2, 5 */

struct report_within {
    guint within;
    guint decided;
};

struct report_group {
    char *name;        /* the plan or customer; NULL for the total and severities */
    int severity;      /* by_severity: 1..4; else 0 */
    guint opened;      /* created in the period */
    guint resolved;    /* resolved in the period (the resolution in force at END) */
    guint open_at_end; /* open or pending at END, whenever opened */
    struct report_goal goals[GOAL_COUNT];
    struct report_stat response_business, response_real;
    struct report_stat resolution_business, resolution_real;
    struct report_within within[REPORT_WITHIN_COUNT];
    guint breaches;    /* sla-breach events in the period */
    guint escalations; /* stage rises in the period */
};

struct report_breach {
    char *tag;
    char *subject;
    char *customer; /* NULL: unknown sender */
    int severity;
    char *goal;
    char *due; /* ISO 8601 UTC */
    gint64 at; /* when it was recorded */
};

struct report_day {
    char date[11]; /* YYYY-MM-DD in the report's zone */
    guint open;
};

/* The buckets of the first-response histogram (business time), upper
 * bounds in seconds; a last bucket takes the rest. */
#define REPORT_BUCKETS 9
extern const gint64 report_bucket_limits[REPORT_BUCKETS - 1];

struct report {
    gint64 from, to, end, now; /* Unix seconds */
    char *zone;                /* the zone of the days */
    guint open_at_start;       /* open or pending at FROM */
    struct report_group total;
    struct report_group severity[5]; /* [1..4] */
    GPtrArray *plans;                /* struct report_group*, by name */
    GPtrArray *customers; /* struct report_group*, by name; the unknown last (name NULL) */
    guint escalations[4][CAUSE_COUNT]; /* [stage 1..3][cause] */
    GPtrArray *breaches;               /* struct report_breach*, in time order */
    GArray *backlog;                   /* struct report_day, one per day of the period up to NOW */
    guint response_buckets[REPORT_BUCKETS]; /* tickets opened, by business time to first response */
    guint no_response;                      /* tickets opened without a first response by END */
};

struct report_params {
    gint64 from, to, now;        /* Unix seconds; FROM < TO */
    const char *zone;            /* IANA name for the days; UTC when unknown */
    const struct policy *policy; /* for the plans; NULL: every ticket on 9-17 UTC weekdays */
};

/* The report of TICKETS (struct report_ticket*, any order, as the filters
 * chose them) over the period of P.  Never NULL. */
struct report *report_compute(const struct report_params *p, const GPtrArray *tickets);
struct report *report_free(struct report *r);

/* 100 * PART / WHOLE rounded to one decimal; negative when WHOLE is 0. */
double report_percent(guint part, guint whole);

/* The last full calendar month before NOW in ZONE: *FROM and *TO (Unix seconds). */
void report_last_month(GDateTime *now, const char *zone, gint64 *from, gint64 *to);

#endif
