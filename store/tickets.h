/*
 * store/tickets.h - tickets and their events in the store: inserting and
 * changing a ticket, its history of events, and reading them back
 * (ticketctl list and show, the router's view of a ticket).
 *
 * The writing calls run inside a transaction (store_begin, or a writer
 * job); errors are STORE_ERROR (store/store.h).
 */
#ifndef TM_STORE_TICKETS_H
#define TM_STORE_TICKETS_H

#include <stdbool.h>

#include <glib.h>

#include "router/ticket.h"
#include "store/store.h"

/* ---- writing (inside a transaction) ---- */

/* Inserts T (its id and tag are ignored) with tag PREFIX-ID for good;
 * *ID is the new ticket's number. */
bool store_ticket_insert(struct store *st, const struct ticket *t, const char *prefix, gint64 *id,
                         GError **error);
/* Marks ticket ID as changed at AT. */
bool store_ticket_touch(struct store *st, gint64 id, const char *at, GError **error);
/* Writes the changeable fields of T (status, severity, stage, customer,
 * requester, plan, zone, language, assignee, clocks, deadlines, resolved
 * and paused state) and updated_at = AT. */
bool store_ticket_update(struct store *st, const struct ticket *t, const char *at, GError **error);
/* An event on ticket TICKET_ID (0: on no ticket); DETAIL_JSON may be NULL. */
bool store_event_insert(struct store *st, gint64 ticket_id, const char *at, const char *type,
                        const char *actor, const char *detail_json, GError **error);

/* ---- reading ---- */

struct ticket_event {
    gint64 id;
    char *at;
    char *type;
    char *actor;  /* NULL when none */
    char *detail; /* JSON text, NULL when none */
};

/* Each returns a GPtrArray that frees its elements; NULL and ERROR on failure. */
GPtrArray *store_ticket_list(struct store *st, GError **error);
/* Tickets with status open or pending, oldest first. */
GPtrArray *store_ticket_list_open(struct store *st, GError **error);
GPtrArray *store_ticket_events(struct store *st, gint64 ticket_id, GError **error);
/* Returns NULL without ERROR when there is no such ticket (free with ticket_free). */
struct ticket *store_ticket_get(struct store *st, gint64 id, GError **error);
/* The same by tag ("TKT-42", any case). */
struct ticket *store_ticket_get_by_tag(struct store *st, const char *tag, GError **error);
/* The distinct subjects of the mail already on ticket ID, at most LIMIT,
 * newest first, NULL-terminated (caller frees with g_strfreev). NULL and
 * ERROR on failure. */
char **store_ticket_subjects(struct store *st, gint64 id, guint limit, GError **error);

#endif
