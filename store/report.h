/*
 * store/report - the reads behind ticketctl list, sla and report: tickets
 * chosen by status, customer, plan, severity and period, and the history
 * a report needs (status, stage and SLA events, their details read with
 * SQLite's JSON functions).
 *
 * A report handle is a read-only connection of its own; each call reads
 * in one read transaction, so a report is one consistent snapshot while
 * the daemon writes (WAL).
 *
 * Errors are STORE_ERROR with a sentence that names the file.
 */
#ifndef TM_STORE_REPORT_H
#define TM_STORE_REPORT_H

#include <stdbool.h>

#include <glib.h>

#include "router/report.h"
#include "store/store.h"

/* The most tickets one call returns: a report of a longer period, or of a
 * database this large, asks for a filter first. */
#define STORE_REPORT_MAX_TICKETS 500000

struct store_report;

/* Opens PATH read-only; the caller has checked its schema (store_open). */
struct store_report *store_report_open(const char *path, guint busy_timeout_ms, GError **error);
/* Closes R (NULL is fine). Returns NULL. */
struct store_report *store_report_close(struct store_report *r);

/* Which tickets; every member left 0 or NULL lets all through. */
struct store_ticket_filter {
    const char *created_from; /* ISO 8601 UTC: created at or after */
    const char *created_to;   /* ... and before */
    const char *active_since; /* still open or pending, or last changed at or after */
    const char *customer;     /* the exact name */
    const char *plan;         /* the plan; "standard" takes the tickets without one too */
    guint statuses;           /* bits 1 << enum ticket_status */
    int severity;             /* 1..4 */
};

/* The tickets F lets through, by number (struct ticket*). NULL and ERROR
 * on failure, also when more than STORE_REPORT_MAX_TICKETS match. */
GPtrArray *store_report_tickets(struct store_report *r, const struct store_ticket_filter *f,
                                GError **error);

/* The same tickets with their history (struct report_ticket*, by number):
 * the status, reopened, stage, sla-warning and sla-breach events. */
GPtrArray *store_report_history(struct store_report *r, const struct store_ticket_filter *f,
                                GError **error);

#endif
