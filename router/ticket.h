/*
 * ticket - the model of a ticket, as every part of ticket-milter sees it.
 *
 * The store reads and writes it, the router decides on it, ticketctl and
 * the templates show it.  It lives here, with the decisions, so that the
 * router depends on nothing that does I/O.
 *
 * Clocks: the goals of a ticket run from clock_start (its creation, the
 * last severity change, or the moment staff accepted a sender who is no
 * designated contact) plus the business time it spent waiting for the
 * customer (paused_seconds).  clock_start NULL means no goal runs: the
 * sender is not entitled to the service until staff accept the ticket.
 * The update interval runs from update_from (the last staff reply, or the
 * customer's answer to a pending ticket) while the ticket is open.
 *
 * Times are ISO 8601 UTC text ("2026-11-24T09:02:55Z"), as in the store.
 */
#ifndef TM_ROUTER_TICKET_H
#define TM_ROUTER_TICKET_H

#include <stdbool.h>

#include <glib.h>

enum ticket_status {
    TICKET_OPEN,
    TICKET_PENDING,  /* waiting for the customer: the clocks stop */
    TICKET_RESOLVED, /* done; a reply within reopen_days opens it again */
    TICKET_CLOSED,   /* done for good */
};
#define TICKET_STATUS_COUNT 4

/* "open", "pending", "resolved", "closed". */
const char *ticket_status_name(enum ticket_status s);
/* Reads NAME (any case); false when it names no status. */
bool ticket_status_parse(const char *name, enum ticket_status *out);
/* Resolved or closed. */
bool ticket_status_is_done(enum ticket_status s);

struct ticket {
    gint64 id; /* 0 for a ticket not yet stored */
    char *tag; /* "TKT-42"; NULL until stored */
    enum ticket_status status;
    int severity;    /* 1..4 */
    int stage;       /* 0..3 */
    char *customer;  /* NULL when the sender is no designated contact */
    char *requester; /* the one address the ticket answers to; "" when none */
    char *subject;
    char *created_at;
    char *updated_at;
    char *clock_start;        /* NULL: no goal runs (not entitled yet) */
    char *first_response_due; /* NULL when there is no such goal */
    char *first_response_at;
    char *update_from; /* the update interval runs from here; NULL: it does not run */
    char *next_update_due;
    char *resolution_due;
    char *resolved_at;
    char *plan;
    char *timezone;
    char *language;
    char *assignee;
    char *paused_at;       /* when it went pending; NULL when not waiting */
    gint64 paused_seconds; /* business time spent pending since clock_start */
};

struct ticket *ticket_new(void);
struct ticket *ticket_copy(const struct ticket *t);
/* Frees T (NULL is fine). Returns NULL. */
struct ticket *ticket_free(struct ticket *t);
/* Replaces the string *FIELD by a copy of VALUE (NULL allowed). */
void ticket_set(char **field, const char *value);

#endif
