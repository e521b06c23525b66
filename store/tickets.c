/*
 * tickets - the tickets table and the events table: a ticket's row, its
 * changes, and its history.
 *
 * Owns the statements on tickets and events (but the export's and the
 * reports', which read them in their own snapshot: store/export.c,
 * store/report.c).  Ticket numbers come from the tickets id (SQLite
 * AUTOINCREMENT: never reused), the tag is PREFIX-ID.
 *
 * Edge cases: a status the schema's CHECK would refuse cannot come back,
 * yet a row read is clamped to what struct ticket can hold anyway; a tag
 * is looked up by its number and then compared whole, so "ABC-7" does not
 * find "TKT-7".  On failure: STORE_ERROR from store/db.c, naming the
 * statement.
 */
#include <string.h>

#include <glib.h>

#include "store/internal.h"
#include "store/tickets.h"

#define TICKET_SELECT "SELECT " STORE_TICKET_COLUMNS " FROM tickets"

bool
store_ticket_insert(struct store *st, const struct ticket *t, const char *prefix, gint64 *id,
                    GError **error)
{
    struct db_stmt *s = db_prepare(
        st->db,
        "INSERT INTO tickets (prefix, status, severity, stage, customer, requester, subject,"
        " created_at, updated_at, first_response_due, next_update_due, resolution_due, plan,"
        " timezone, language, clock_start, assignee, update_from, first_response_at)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,"
        " ?18) RETURNING id",
        error);

    if (s == NULL)
        return false;
    db_bind_text(s, 1, prefix);
    db_bind_text(s, 2, ticket_status_name(t->status));
    db_bind_int64(s, 3, t->severity);
    db_bind_int64(s, 4, t->stage);
    db_bind_text(s, 5, t->customer);
    db_bind_text(s, 6, t->requester != NULL ? t->requester : "");
    db_bind_text(s, 7, t->subject);
    db_bind_text(s, 8, t->created_at);
    db_bind_text(s, 9, t->first_response_due);
    db_bind_text(s, 10, t->next_update_due);
    db_bind_text(s, 11, t->resolution_due);
    db_bind_text(s, 12, t->plan);
    db_bind_text(s, 13, t->timezone);
    db_bind_text(s, 14, t->language);
    db_bind_text(s, 15, t->clock_start);
    db_bind_text(s, 16, t->assignee);
    db_bind_text(s, 17, t->update_from);
    db_bind_text(s, 18, t->first_response_at);
    return store_scalar(s, id, NULL, error);
}

bool
store_ticket_touch(struct store *st, gint64 id, const char *at, GError **error)
{
    struct db_stmt *s =
        db_prepare(st->db, "UPDATE tickets SET updated_at = ?2 WHERE id = ?1", error);

    if (s == NULL)
        return false;
    db_bind_int64(s, 1, id);
    db_bind_text(s, 2, at);
    return store_step_done(s, error);
}

bool
store_ticket_update(struct store *st, const struct ticket *t, const char *at, GError **error)
{
    struct db_stmt *s = db_prepare(
        st->db,
        "UPDATE tickets SET status = ?2, severity = ?3, stage = ?4, assignee = ?5,"
        " first_response_due = ?6, next_update_due = ?7, resolution_due = ?8, resolved_at = ?9,"
        " paused_at = ?10, paused_seconds = ?11, updated_at = ?12, customer = ?13,"
        " requester = ?14, plan = ?15, timezone = ?16, language = ?17, clock_start = ?18,"
        " update_from = ?19, first_response_at = ?20 WHERE id = ?1",
        error);

    if (s == NULL)
        return false;
    db_bind_int64(s, 1, t->id);
    db_bind_text(s, 2, ticket_status_name(t->status));
    db_bind_int64(s, 3, t->severity);
    db_bind_int64(s, 4, t->stage);
    db_bind_text(s, 5, t->assignee);
    db_bind_text(s, 6, t->first_response_due);
    db_bind_text(s, 7, t->next_update_due);
    db_bind_text(s, 8, t->resolution_due);
    db_bind_text(s, 9, t->resolved_at);
    db_bind_text(s, 10, t->paused_at);
    db_bind_int64(s, 11, t->paused_seconds);
    db_bind_text(s, 12, at);
    db_bind_text(s, 13, t->customer);
    db_bind_text(s, 14, t->requester != NULL ? t->requester : "");
    db_bind_text(s, 15, t->plan);
    db_bind_text(s, 16, t->timezone);
    db_bind_text(s, 17, t->language);
    db_bind_text(s, 18, t->clock_start);
    db_bind_text(s, 19, t->update_from);
    db_bind_text(s, 20, t->first_response_at);
    return store_step_done(s, error);
}

bool
store_event_insert(struct store *st, gint64 ticket_id, const char *at, const char *type,
                   const char *actor, const char *detail_json, GError **error)
{
    struct db_stmt *s = db_prepare(
        st->db,
        "INSERT INTO events (ticket_id, at, type, actor, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
        error);

    if (s == NULL)
        return false;
    store_bind_id(s, 1, ticket_id);
    db_bind_text(s, 2, at);
    db_bind_text(s, 3, type);
    db_bind_text(s, 4, actor);
    db_bind_text(s, 5, detail_json);
    return store_step_done(s, error);
}

/* ---- reading ---- */

void
store_ticket_free_cb(gpointer p)
{
    ticket_free(p);
}

struct ticket *
store_ticket_from_row(struct db_stmt *s)
{
    struct ticket *t = g_new0(struct ticket, 1);

    t->id = db_column_int64(s, 0);
    t->tag = db_column_dup(s, 1);
    /* The schema's CHECK keeps the status one of the four. */
    if (!ticket_status_parse(db_column_text(s, 2), &t->status))
        t->status = TICKET_OPEN;
    t->severity = (int)CLAMP(db_column_int64(s, 3), 1, 4);
    t->stage = (int)CLAMP(db_column_int64(s, 4), 0, 3);
    t->customer = db_column_dup(s, 5);
    t->requester = db_column_dup(s, 6);
    t->subject = db_column_dup(s, 7);
    t->created_at = db_column_dup(s, 8);
    t->updated_at = db_column_dup(s, 9);
    t->first_response_due = db_column_dup(s, 10);
    t->first_response_at = db_column_dup(s, 11);
    t->next_update_due = db_column_dup(s, 12);
    t->resolution_due = db_column_dup(s, 13);
    t->resolved_at = db_column_dup(s, 14);
    t->plan = db_column_dup(s, 15);
    t->timezone = db_column_dup(s, 16);
    t->language = db_column_dup(s, 17);
    t->assignee = db_column_dup(s, 18);
    t->paused_at = db_column_dup(s, 19);
    t->paused_seconds = db_column_int64(s, 20);
    t->clock_start = db_column_dup(s, 21);
    t->update_from = db_column_dup(s, 22);
    return t;
}

gpointer
store_ticket_from_row_cb(struct db_stmt *s)
{
    return store_ticket_from_row(s);
}

void
store_ticket_event_free(gpointer p)
{
    struct ticket_event *e = p;

    g_free(e->at);
    g_free(e->type);
    g_free(e->actor);
    g_free(e->detail);
    g_free(e);
}

gpointer
store_ticket_event_from_row(struct db_stmt *s)
{
    struct ticket_event *e = g_new0(struct ticket_event, 1);

    e->id = db_column_int64(s, 0);
    e->at = db_column_dup(s, 1);
    e->type = db_column_dup(s, 2);
    e->actor = db_column_dup(s, 3);
    e->detail = db_column_dup(s, 4);
    return e;
}

GPtrArray *
store_ticket_list(struct store *st, GError **error)
{
    return store_collect(db_prepare(st->db, TICKET_SELECT " ORDER BY id", error),
                         store_ticket_from_row_cb, store_ticket_free_cb, error);
}

GPtrArray *
store_ticket_list_open(struct store *st, GError **error)
{
    return store_collect(
        db_prepare(st->db, TICKET_SELECT " WHERE status IN ('open', 'pending') ORDER BY id", error),
        store_ticket_from_row_cb, store_ticket_free_cb, error);
}

GPtrArray *
store_ticket_events(struct store *st, gint64 ticket_id, GError **error)
{
    struct db_stmt *s = db_prepare(
        st->db, "SELECT " STORE_EVENT_COLUMNS " FROM events WHERE ticket_id = ?1 ORDER BY id",
        error);

    if (s == NULL)
        return NULL;
    db_bind_int64(s, 1, ticket_id);
    return store_collect(s, store_ticket_event_from_row, store_ticket_event_free, error);
}

struct ticket *
store_ticket_get(struct store *st, gint64 id, GError **error)
{
    struct db_stmt *s = db_prepare(st->db, TICKET_SELECT " WHERE id = ?1", error);
    g_autoptr(GPtrArray) rows = NULL;

    if (s == NULL)
        return NULL;
    db_bind_int64(s, 1, id);
    rows = store_collect(s, store_ticket_from_row_cb, store_ticket_free_cb, error);
    if (rows == NULL || rows->len == 0)
        return NULL;
    return g_ptr_array_steal_index(rows, 0);
}

struct ticket *
store_ticket_get_by_tag(struct store *st, const char *tag, GError **error)
{
    const char *dash = strrchr(tag, '-');
    struct ticket *t;
    char *end = NULL;
    gint64 id;

    if (dash == NULL || dash[1] == '\0')
        return NULL;
    id = g_ascii_strtoll(dash + 1, &end, 10);
    if (*end != '\0' || id <= 0)
        return NULL;
    t = store_ticket_get(st, id, error);
    /* The number alone is not enough: "ABC-7" must not find "TKT-7". */
    if (t != NULL && g_ascii_strcasecmp(t->tag, tag) != 0)
        t = ticket_free(t);
    return t;
}

char **
store_ticket_subjects(struct store *st, gint64 id, guint limit, GError **error)
{
    /* Newest first: under the limit, a long ticket's recent subjects are
     * the ones that say whether escalation was asked for already. */
    struct db_stmt *s = db_prepare(st->db,
                                   "SELECT subject FROM messages"
                                   " WHERE ticket_id = ?1 AND subject IS NOT NULL"
                                   " GROUP BY subject ORDER BY max(id) DESC LIMIT ?2",
                                   error);
    GPtrArray *out;
    enum db_step r;

    if (s == NULL)
        return NULL;
    out = g_ptr_array_new();
    db_bind_int64(s, 1, id);
    db_bind_int64(s, 2, limit);
    while ((r = db_step(s, error)) == DB_ROW)
        g_ptr_array_add(out, db_column_dup(s, 0));
    g_ptr_array_add(out, NULL);
    if (r == DB_ERROR) {
        g_strfreev((char **)g_ptr_array_free(out, FALSE));
        return NULL;
    }
    return (char **)g_ptr_array_free(out, FALSE);
}
