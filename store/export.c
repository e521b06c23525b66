/*
 * export - every ticket (or one) with its messages and events, read in one
 * snapshot and handed to the caller one ticket at a time (ticketctl
 * export writes each as it comes, so memory holds one ticket, not all).
 *
 * Edge cases: a purged raw message has raw_size -1, so that an export says
 * "purged" rather than "empty"; the callback may stop the export by
 * returning false (with ERROR), which ends the snapshot.  On failure:
 * STORE_ERROR from store/db.c, naming the statement.
 */
#include <glib.h>

#include "store/export.h"
#include "store/internal.h"

#define TICKET_SELECT "SELECT " STORE_TICKET_COLUMNS " FROM tickets"

static void
message_free(gpointer p)
{
    struct admin_message *m = p;

    g_free(m->message_id);
    g_free(m->direction);
    g_free(m->kind);
    g_free(m->from);
    g_free(m->to);
    g_free(m->cc);
    g_free(m->subject);
    g_free(m->in_reply_to);
    g_free(m->references);
    g_free(m->text);
    g_free(m->received_at);
    g_free(m->queue_id);
    g_free(m->envelope_from);
    g_free(m->client_addr);
    g_free(m);
}

static gpointer
message_from_row(struct db_stmt *s)
{
    struct admin_message *m = g_new0(struct admin_message, 1);

    m->id = db_column_int64(s, 0);
    m->message_id = db_column_dup(s, 1);
    m->direction = db_column_dup(s, 2);
    m->kind = db_column_dup(s, 3);
    m->from = db_column_dup(s, 4);
    m->to = db_column_dup(s, 5);
    m->cc = db_column_dup(s, 6);
    m->subject = db_column_dup(s, 7);
    m->in_reply_to = db_column_dup(s, 8);
    m->references = db_column_dup(s, 9);
    m->text = db_column_dup(s, 10);
    m->received_at = db_column_dup(s, 11);
    m->queue_id = db_column_dup(s, 12);
    m->envelope_from = db_column_dup(s, 13);
    m->client_addr = db_column_dup(s, 14);
    m->raw_size = db_column_int64(s, 15);
    return m;
}

static GPtrArray *
read_messages(struct admin *a, gint64 ticket, GError **error)
{
    struct db_stmt *s = db_prepare(a->db,
                                   "SELECT id, message_id, direction, kind, from_addr, to_addrs,"
                                   " cc_addrs, subject, in_reply_to, refs, text, received_at,"
                                   " queue_id, envelope_from, client_addr,"
                                   " CASE WHEN raw IS NULL THEN -1 ELSE length(raw) END"
                                   " FROM messages WHERE ticket_id = ?1 ORDER BY id",
                                   error);

    if (s == NULL)
        return NULL;
    db_bind_int64(s, 1, ticket);
    return store_collect(s, message_from_row, message_free, error);
}

static GPtrArray *
read_events(struct admin *a, gint64 ticket, GError **error)
{
    struct db_stmt *s = db_prepare(
        a->db, "SELECT " STORE_EVENT_COLUMNS " FROM events WHERE ticket_id = ?1 ORDER BY id",
        error);

    if (s == NULL)
        return NULL;
    db_bind_int64(s, 1, ticket);
    return store_collect(s, store_ticket_event_from_row, store_ticket_event_free, error);
}

/* The tickets to export, read whole first: the messages and events of
 * each are read with statements of their own while we go through them,
 * and a PostgreSQL result is whole anyway.  Only the ids: the tickets
 * themselves are read one at a time. */
static GArray *
ticket_ids(struct admin *a, gint64 id, GError **error)
{
    struct db_stmt *s = db_prepare(a->db,
                                   id > 0 ? "SELECT id FROM tickets WHERE id = ?1"
                                          : "SELECT id FROM tickets ORDER BY id",
                                   error);
    GArray *ids;
    enum db_step r;

    if (s == NULL)
        return NULL;
    if (id > 0)
        db_bind_int64(s, 1, id);
    ids = g_array_new(FALSE, FALSE, sizeof(gint64));
    while ((r = db_step(s, error)) == DB_ROW) {
        gint64 v = db_column_int64(s, 0);
        g_array_append_val(ids, v);
    }
    if (r == DB_ERROR)
        return g_array_unref(ids), NULL;
    return ids;
}

/* Ticket ID with its messages and events, handed to FN. */
static bool
export_one(struct admin *a, gint64 id, admin_export_fn fn, void *data, GError **error)
{
    struct db_stmt *s = db_prepare(a->db, TICKET_SELECT " WHERE id = ?1", error);
    g_autoptr(GPtrArray) tickets = NULL;
    g_autoptr(GPtrArray) msgs = NULL;
    g_autoptr(GPtrArray) evs = NULL;

    if (s == NULL)
        return false;
    db_bind_int64(s, 1, id);
    tickets = store_collect(s, store_ticket_from_row_cb, store_ticket_free_cb, error);
    if (tickets == NULL)
        return false;
    if (tickets->len == 0)
        return true;
    msgs = read_messages(a, id, error);
    evs = msgs != NULL ? read_events(a, id, error) : NULL;
    return evs != NULL && fn(g_ptr_array_index(tickets, 0), msgs, evs, data, error);
}

bool
admin_export(struct admin *a, gint64 id, admin_export_fn fn, void *data, guint *count,
             GError **error)
{
    g_autoptr(GArray) ids = NULL;
    bool ok = true;

    *count = 0;
    if (!store_read_begin(a->db, error))
        return false;
    ids = ticket_ids(a, id, error);
    ok = ids != NULL;
    for (guint i = 0; ok && i < ids->len; i++) {
        ok = export_one(a, g_array_index(ids, gint64, i), fn, data, error);
        if (ok)
            (*count)++;
    }
    store_read_end(a->db);
    return ok;
}
