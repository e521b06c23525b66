/*
 * store/export.h - every ticket with its messages and events, for
 * ticketctl export: one consistent snapshot, one ticket at a time.
 *
 * Errors are STORE_ERROR (store/store.h).
 */
#ifndef TM_STORE_EXPORT_H
#define TM_STORE_EXPORT_H

#include <stdbool.h>

#include <glib.h>

#include "router/ticket.h"
#include "store/admin.h"
#include "store/tickets.h"

struct admin_message {
    gint64 id;
    char *message_id;
    char *direction;
    char *kind;
    char *from;
    char *to;
    char *cc;
    char *subject;
    char *in_reply_to;
    char *references;
    char *text;
    char *received_at;
    char *queue_id;
    char *envelope_from;
    char *client_addr;
    gint64 raw_size; /* -1: purged */
};

/* Called once per ticket with its messages (struct admin_message*) and events
 * (struct ticket_event*); all owned by the caller of the callback. */
typedef bool (*admin_export_fn)(const struct ticket *t, GPtrArray *messages, GPtrArray *events,
                                void *data, GError **error);

/* Every ticket (ID 0) or ticket ID, in one consistent snapshot.
 * *COUNT is how many tickets were passed to FN. */
bool admin_export(struct admin *a, gint64 id, admin_export_fn fn, void *data, guint *count,
                  GError **error);

#endif
