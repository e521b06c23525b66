/*
 * counters - the statistics rows and gauges, on a connection of their own.
 *
 * Edge cases: the counters table comes with a schema migration; against an
 * older database every call fails with "no such table" and the caller keeps
 * its deltas.  A failed flush is rolled back whole, so a delta is either in
 * the table once or still with the caller, never half-added.
 */
#include <string.h>

#include <glib.h>

#include "store/counters.h"
#include "store/internal.h"
#include "store/meta.h"
#include "store/store.h"
#include "util/timefmt.h"

#define SQL_ADD                                                                                    \
    "INSERT INTO counters (name, value) VALUES (?1, ?2)"                                           \
    " ON CONFLICT (name) DO UPDATE SET value = counters.value + excluded.value"
#define SQL_SET                                                                                    \
    "INSERT INTO counters (name, value) VALUES (?1, ?2)"                                           \
    " ON CONFLICT (name) DO UPDATE SET value = excluded.value"

struct store_counters {
    /* Statements are prepared on first use (store/db.c): a database from
     * before the counters table can still serve the gauges. */
    struct db *db;
    /* The overdue gauge reads every open ticket, and an idle daemon would
     * do so every interval for an answer that cannot have changed: on
     * SQLite it is kept while no other connection has committed (PRAGMA
     * data_version) and the time has not reached the next deadline of an
     * open ticket (nor gone back).  PostgreSQL has no such version; there
     * the server does the scan every time. */
    bool has_overdue;
    gint64 overdue_version;
    char *overdue_at;    /* when they were read (ISO 8601 UTC) */
    char *overdue_until; /* the next deadline then; NULL: none */
    gint64 overdue[5];
};

/* Runs SQL, which returns no row or one integer into *RESULT. */
static bool
counters_scalar(struct store_counters *c, const char *sql, gint64 *result, GError **error)
{
    return store_scalar(db_prepare(c->db, sql, error), result, NULL, error);
}

struct store_counters *
store_counters_open(const char *path, guint busy_timeout_ms, GError **error)
{
    struct store_counters *c = g_new0(struct store_counters, 1);

    /* Never created here: the daemon's writer makes the database, and one
     * made here would have no schema. */
    c->db = store_db_open_existing(path, DB_READ_WRITE, busy_timeout_ms, error);
    if (c->db == NULL)
        return store_counters_close(c);
    /* Statistics may lose their last interval to a power cut; they need not
     * add an fsync to every mail's commit path.  WAL makes NORMAL safe
     * against corruption. */
    if (db_kind(c->db) == DB_SQLITE && !db_exec(c->db, "PRAGMA synchronous = NORMAL", error))
        return store_counters_close(c);
    return c;
}

struct store_counters *
store_counters_close(struct store_counters *c)
{
    if (c == NULL)
        return NULL;
    db_close(c->db);
    g_free(c->overdue_at);
    g_free(c->overdue_until);
    g_free(c);
    return NULL;
}

static bool
counters_apply(struct store_counters *c, GHashTable *values, const char *sql, GError **error)
{
    GHashTableIter it;
    gpointer name, value;

    if (values == NULL)
        return true;
    g_hash_table_iter_init(&it, values);
    while (g_hash_table_iter_next(&it, &name, &value)) {
        struct db_stmt *s = db_prepare(c->db, sql, error);

        if (s == NULL)
            return false;
        db_bind_text(s, 1, name);
        db_bind_int64(s, 2, *(gint64 *)value);
        if (!store_step_done(s, error))
            return false;
    }
    return true;
}

bool
store_counters_flush(struct store_counters *c, GHashTable *deltas, GHashTable *sets, GError **error)
{
    if (!db_begin(c->db, error))
        return false;
    if (counters_apply(c, deltas, SQL_ADD, error) && counters_apply(c, sets, SQL_SET, error))
        return db_commit(c->db, error);
    db_rollback(c->db);
    return false;
}

bool
store_counters_gauges(struct store_counters *c, gint64 *outbox, gint64 *open_tickets,
                      GError **error)
{
    *outbox = *open_tickets = 0;
    return counters_scalar(c, "SELECT count(*) FROM outbox WHERE status = 'pending'", outbox,
                           error) &&
           counters_scalar(c, "SELECT count(*) FROM tickets WHERE status IN ('open', 'pending')",
                           open_tickets, error);
}

bool
store_counters_get(struct store_counters *c, const char *name, gint64 *value, GError **error)
{
    struct db_stmt *s = db_prepare(c->db, "SELECT value FROM counters WHERE name = ?1", error);

    *value = 0;
    if (s == NULL)
        return false;
    db_bind_text(s, 1, name);
    return store_scalar(s, value, NULL, error);
}

/* The Unix time of ISO 8601 TEXT; 0 when it is none. */
static gint64
unix_time(const char *text)
{
    g_autoptr(GDateTime) t = text != NULL ? timefmt_parse(text) : NULL;

    return t != NULL ? g_date_time_to_unix(t) : 0;
}

/* By id from the last one seen: each interval reads the new rows only.
 * A detail that is not JSON counts as "other" at the ticket's severity. */
#define SQL_SLA_TAIL                                                                               \
    " FROM events e LEFT JOIN tickets t ON t.id = e.ticket_id"                                     \
    " WHERE e.id > ?1 AND e.type IN ('sla-warning', 'sla-breach') ORDER BY e.id"
#define SQL_SLA_SQLITE                                                                             \
    "SELECT e.id, e.type,"                                                                         \
    " CASE WHEN json_valid(e.detail) THEN json_extract(e.detail, '$.goal') END,"                   \
    " coalesce(CASE WHEN json_valid(e.detail)"                                                     \
    "  THEN json_extract(e.detail, '$.severity') END, t.severity)" SQL_SLA_TAIL
#define SQL_SLA_PG                                                                                 \
    "SELECT e.id, e.type, tm_json(e.detail) ->> 'goal',"                                           \
    " coalesce(tm_json(e.detail) ->> 'severity', CAST(t.severity AS TEXT))" SQL_SLA_TAIL

/* Adds 1 to TOTALS under "TYPE GOAL SEVERITY". */
static void
count_sla_event(GHashTable *totals, const char *type, const char *goal, gint64 severity)
{
    g_autofree char *key = NULL;
    gint64 *n;

    /* The label values stay a known handful, whatever a row says. */
    if (goal == NULL || (strcmp(goal, "response") != 0 && strcmp(goal, "update") != 0 &&
                         strcmp(goal, "resolution") != 0))
        goal = "other";
    key = g_strdup_printf("%s %s %d", type, goal, (int)CLAMP(severity, 1, 4));
    n = g_hash_table_lookup(totals, key);
    if (n == NULL) {
        n = g_new0(gint64, 1);
        g_hash_table_insert(totals, g_steal_pointer(&key), n);
    }
    (*n)++;
}

bool
store_counters_sla_events(struct store_counters *c, gint64 *last_id, GHashTable *totals,
                          GError **error)
{
    struct db_stmt *s =
        db_prepare(c->db, db_kind(c->db) == DB_SQLITE ? SQL_SLA_SQLITE : SQL_SLA_PG, error);
    enum db_step r;

    if (s == NULL)
        return false;
    db_bind_int64(s, 1, *last_id);
    while ((r = db_step(s, error)) == DB_ROW) {
        count_sla_event(totals, db_column_text(s, 1), db_column_text(s, 2), db_column_int64(s, 3));
        *last_id = db_column_int64(s, 0);
    }
    return r == DB_DONE;
}

/* PRAGMA data_version into *VERSION: it moves whenever another
 * connection commits.  0 on PostgreSQL, whose answers are never kept. */
static bool
data_version(struct store_counters *c, gint64 *version, GError **error)
{
    *version = 0;
    return db_kind(c->db) != DB_SQLITE || counters_scalar(c, "PRAGMA data_version", version, error);
}

/* Until when counts read at NOW hold without a commit: the next deadline
 * of an open ticket (NULL: none ahead). */
static bool
overdue_until(struct store_counters *c, const char *now, GError **error)
{
    struct db_stmt *s = db_prepare(
        c->db,
        "SELECT min(CASE WHEN first_response_at IS NULL AND first_response_due >= ?1"
        "  THEN first_response_due END),"
        " min(CASE WHEN next_update_due >= ?1 THEN next_update_due END),"
        " min(CASE WHEN resolved_at IS NULL AND resolution_due >= ?1 THEN resolution_due END)"
        " FROM tickets WHERE status = 'open'",
        error);

    g_clear_pointer(&c->overdue_until, g_free);
    if (s == NULL)
        return false;
    db_bind_text(s, 1, now);
    if (db_step(s, error) != DB_ROW)
        return false;
    for (int col = 0; col < 3; col++) {
        const char *due = db_column_text(s, col);
        if (due != NULL && (c->overdue_until == NULL || strcmp(due, c->overdue_until) < 0)) {
            g_free(c->overdue_until);
            c->overdue_until = g_strdup(due);
        }
    }
    return db_step(s, error) == DB_DONE;
}

bool
store_counters_overdue(struct store_counters *c, const char *now, gint64 overdue[5], GError **error)
{
    struct db_stmt *s;
    gint64 version = 0;
    enum db_step r;

    memset(overdue, 0, 5 * sizeof(*overdue));
    if (!data_version(c, &version, error))
        return false;
    if (version != 0 && c->has_overdue && version == c->overdue_version &&
        strcmp(now, c->overdue_at) >= 0 &&
        (c->overdue_until == NULL || strcmp(now, c->overdue_until) < 0)) {
        memcpy(overdue, c->overdue, sizeof(c->overdue));
        return true;
    }
    s = db_prepare(c->db,
                   "SELECT severity, count(*) FROM tickets WHERE status = 'open'"
                   " AND ((first_response_at IS NULL AND first_response_due < ?1)"
                   "  OR next_update_due < ?1"
                   "  OR (resolved_at IS NULL AND resolution_due < ?1))"
                   " GROUP BY severity",
                   error);
    if (s == NULL)
        return false;
    c->has_overdue = false;
    db_bind_text(s, 1, now);
    while ((r = db_step(s, error)) == DB_ROW) {
        gint64 severity = db_column_int64(s, 0);
        if (severity >= 1 && severity <= 4)
            overdue[severity] = db_column_int64(s, 1);
    }
    if (r != DB_DONE || (version != 0 && !overdue_until(c, now, error)))
        return false;
    memcpy(c->overdue, overdue, sizeof(c->overdue));
    g_free(c->overdue_at);
    c->overdue_at = g_strdup(now);
    c->overdue_version = version;
    c->has_overdue = true;
    return true;
}

/* Runs SQL, which yields at most one row of one ISO 8601 time. */
static bool
read_time(struct store_counters *c, const char *sql, gint64 *at, GError **error)
{
    g_autofree char *text = NULL;

    *at = 0;
    if (!store_scalar(db_prepare(c->db, sql, error), NULL, &text, error))
        return false;
    *at = unix_time(text);
    return true;
}

bool
store_counters_oldest_pending(struct store_counters *c, gint64 *queued_at, GError **error)
{
    return read_time(c, "SELECT min(created_at) FROM outbox WHERE status = 'pending'", queued_at,
                     error);
}

bool
store_counters_last_backup(struct store_counters *c, gint64 *at, GError **error)
{
    return read_time(c, "SELECT value FROM meta WHERE key = '" STORE_META_BACKUP_VERIFIED "'", at,
                     error);
}
