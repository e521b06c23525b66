/*
 * timers - the timers table: when each ticket's next warning, breach or
 * stage is due, and whether it fired.
 *
 * Owns the rule that a timer is one row per ticket and kind: setting it
 * again moves it, and moving it arms it again; setting it to the time it
 * has changes nothing, so one that fired stays fired (a decision that
 * recomputes its deadlines does not fire them twice).
 *
 * Several daemons on one database (PostgreSQL): a due timer is taken by
 * the one pass that locks it first (store_timers_due), so it fires once
 * across hosts.
 *
 * On failure: STORE_ERROR from store/db.c, naming the statement.
 */
#include <glib.h>

#include "store/internal.h"
#include "store/timers.h"

bool
store_timer_set(struct store *st, gint64 ticket_id, const char *kind, const char *due_at,
                GError **error)
{
    struct db_stmt *s =
        db_prepare(st->db,
                   "INSERT INTO timers (ticket_id, kind, due_at) VALUES (?1, ?2, ?3)"
                   " ON CONFLICT (ticket_id, kind) DO UPDATE SET due_at = excluded.due_at,"
                   " fired_at = CASE WHEN timers.due_at = excluded.due_at"
                   " THEN timers.fired_at END",
                   error);

    if (s == NULL)
        return false;
    db_bind_int64(s, 1, ticket_id);
    db_bind_text(s, 2, kind);
    db_bind_text(s, 3, due_at);
    return store_step_done(s, error);
}

bool
store_timer_clear(struct store *st, gint64 ticket_id, const char *kind, GError **error)
{
    struct db_stmt *s =
        db_prepare(st->db, "DELETE FROM timers WHERE ticket_id = ?1 AND kind = ?2", error);

    if (s == NULL)
        return false;
    db_bind_int64(s, 1, ticket_id);
    db_bind_text(s, 2, kind);
    return store_step_done(s, error);
}

static void
timer_free(gpointer p)
{
    struct timer *t = p;

    g_free(t->kind);
    g_free(t->due_at);
    g_free(t);
}

static gpointer
timer_from_row(struct db_stmt *s)
{
    struct timer *t = g_new0(struct timer, 1);

    t->id = db_column_int64(s, 0);
    t->ticket_id = db_column_int64(s, 1);
    t->kind = db_column_dup(s, 2);
    t->due_at = db_column_dup(s, 3);
    return t;
}

GPtrArray *
store_timers_due(struct store *st, const char *now, guint limit, GError **error)
{
    /* On PostgreSQL the timers read are locked until the transaction ends
     * and those another host's pass has locked are skipped; one that pass
     * fired and committed since our snapshot is read again as it is now,
     * fired, and left out.  On SQLite the write lock serialises the
     * passes. */
#define TIMERS_DUE(lock)                                                                           \
    "SELECT id, ticket_id, kind, due_at FROM timers WHERE fired_at IS NULL AND due_at <= ?1"       \
    " ORDER BY due_at, id LIMIT ?2" lock
    struct db_stmt *s = db_prepare(
        st->db,
        db_kind(st->db) == DB_POSTGRES ? TIMERS_DUE(" FOR UPDATE SKIP LOCKED") : TIMERS_DUE(""),
        error);
#undef TIMERS_DUE

    if (s == NULL)
        return NULL;
    db_bind_text(s, 1, now);
    db_bind_int64(s, 2, limit);
    return store_collect(s, timer_from_row, timer_free, error);
}

bool
store_timer_next(struct store *st, char **when, GError **error)
{
    return store_scalar(
        db_prepare(st->db, "SELECT min(due_at) FROM timers WHERE fired_at IS NULL", error), NULL,
        when, error);
}

bool
store_timer_fired(struct store *st, gint64 id, const char *at, GError **error)
{
    struct db_stmt *s = db_prepare(st->db, "UPDATE timers SET fired_at = ?2 WHERE id = ?1", error);

    if (s == NULL)
        return false;
    db_bind_int64(s, 1, id);
    db_bind_text(s, 2, at);
    return store_step_done(s, error);
}
