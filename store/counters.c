/*
 * counters - the statistics rows and gauges, on a connection of their own.
 *
 * Edge cases: the counters table comes with a schema migration; against an
 * older database every call fails with "no such table" and the caller keeps
 * its deltas.  A failed flush is rolled back whole, so a delta is either in
 * the table once or still with the caller, never half-added.
 */
#include <string.h>

#include <sqlite3.h>

#include <glib.h>

#include "store/counters.h"
#include "store/internal.h"
#include "store/store.h"
#include "util/timefmt.h"

enum counters_stmt {
    CSTMT_BEGIN,
    CSTMT_COMMIT,
    CSTMT_ROLLBACK,
    CSTMT_ADD,
    CSTMT_SET,
    CSTMT_GET,
    CSTMT_OUTBOX,
    CSTMT_OPEN,
    CSTMT_SLA,
    CSTMT_OVERDUE,
    CSTMT_OLDEST,
    CSTMT_BACKUP,
    CSTMT_COUNT,
};

static const char *const counters_sql[CSTMT_COUNT] = {
    [CSTMT_BEGIN] = "BEGIN IMMEDIATE",
    [CSTMT_COMMIT] = "COMMIT",
    [CSTMT_ROLLBACK] = "ROLLBACK",
    [CSTMT_ADD] = "INSERT INTO counters (name, value) VALUES (?1, ?2)"
                  " ON CONFLICT(name) DO UPDATE SET value = value + excluded.value",
    [CSTMT_SET] = "INSERT INTO counters (name, value) VALUES (?1, ?2)"
                  " ON CONFLICT(name) DO UPDATE SET value = excluded.value",
    [CSTMT_GET] = "SELECT value FROM counters WHERE name = ?1",
    [CSTMT_OUTBOX] = "SELECT count(*) FROM outbox WHERE status = 'pending'",
    [CSTMT_OPEN] = "SELECT count(*) FROM tickets WHERE status IN ('open', 'pending')",
    /* By rowid from the last one seen: each interval reads the new rows only. */
    [CSTMT_SLA] = "SELECT e.id, e.type,"
                  " CASE WHEN json_valid(e.detail) THEN json_extract(e.detail, '$.goal') END,"
                  " coalesce(CASE WHEN json_valid(e.detail)"
                  "  THEN json_extract(e.detail, '$.severity') END, t.severity)"
                  " FROM events e LEFT JOIN tickets t ON t.id = e.ticket_id"
                  " WHERE e.id > ?1 AND e.type IN ('sla-warning', 'sla-breach') ORDER BY e.id",
    [CSTMT_OVERDUE] = "SELECT severity, count(*) FROM tickets WHERE status = 'open' AND"
                      " ((first_response_at IS NULL AND first_response_due < ?1)"
                      "  OR next_update_due < ?1"
                      "  OR (resolved_at IS NULL AND resolution_due < ?1))"
                      " GROUP BY severity",
    [CSTMT_OLDEST] = "SELECT min(created_at) FROM outbox WHERE status = 'pending'",
    [CSTMT_BACKUP] = "SELECT value FROM meta WHERE key = '" STORE_META_BACKUP_VERIFIED "'",
};

struct store_counters {
    sqlite3 *db;
    char *path;
    /* Prepared on first use: a database from before the counters table
     * can still serve the gauges. */
    sqlite3_stmt *stmt[CSTMT_COUNT];
};


static void
counters_set_error(struct store_counters *c, int rc, GError **error, const char *what)
{
    g_set_error(error, STORE_ERROR, store_error_code(rc, 0), "%s: statistics: %s: %s", c->path,
                what, c->db != NULL ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
}

static sqlite3_stmt *
counters_stmt(struct store_counters *c, enum counters_stmt id, GError **error)
{
    if (c->stmt[id] == NULL) {
        int rc = sqlite3_prepare_v3(c->db, counters_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
                                    &c->stmt[id], NULL);
        if (rc != SQLITE_OK) {
            counters_set_error(c, rc, error, "preparing");
            c->stmt[id] = NULL;
            return NULL;
        }
    }
    return c->stmt[id];
}

/* Runs statement ID, which returns no row or one integer. */
static bool
counters_step(struct store_counters *c, enum counters_stmt id, const char *name, gint64 value,
              gint64 *result, GError **error)
{
    sqlite3_stmt *s = counters_stmt(c, id, error);
    int rc;

    if (s == NULL)
        return false;
    if (name != NULL) {
        sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 2, value);
    }
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW && result != NULL)
        *result = sqlite3_column_int64(s, 0);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        counters_set_error(c, rc, error, counters_sql[id]);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE;
}

struct store_counters *
store_counters_open(const char *path, guint busy_timeout_ms, GError **error)
{
    struct store_counters *c = g_new0(struct store_counters, 1);
    int rc;

    c->path = g_strdup(path);
    /* No SQLITE_OPEN_CREATE: the daemon's writer makes the file; one made
     * here would have no schema. */
    rc = sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        counters_set_error(c, rc, error, "opening");
        return store_counters_close(c);
    }
    sqlite3_extended_result_codes(c->db, 1);
    sqlite3_busy_timeout(c->db, (int)busy_timeout_ms);
    /* Statistics may lose their last interval to a power cut; they need not
     * add an fsync to every mail's commit path.  WAL makes NORMAL safe
     * against corruption. */
    rc = sqlite3_exec(c->db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        counters_set_error(c, rc, error, "setting up");
        return store_counters_close(c);
    }
    return c;
}

struct store_counters *
store_counters_close(struct store_counters *c)
{
    if (c == NULL)
        return NULL;
    for (int i = 0; i < CSTMT_COUNT; i++)
        sqlite3_finalize(c->stmt[i]);
    sqlite3_close(c->db);
    g_free(c->path);
    g_free(c);
    return NULL;
}

static bool
counters_apply(struct store_counters *c, GHashTable *values, enum counters_stmt id,
               GError **error)
{
    GHashTableIter it;
    gpointer name, value;

    if (values == NULL)
        return true;
    g_hash_table_iter_init(&it, values);
    while (g_hash_table_iter_next(&it, &name, &value)) {
        if (!counters_step(c, id, name, *(gint64 *)value, NULL, error))
            return false;
    }
    return true;
}

bool
store_counters_flush(struct store_counters *c, GHashTable *deltas, GHashTable *sets,
                     GError **error)
{
    if (!counters_step(c, CSTMT_BEGIN, NULL, 0, NULL, error))
        return false;
    if (counters_apply(c, deltas, CSTMT_ADD, error) && counters_apply(c, sets, CSTMT_SET, error) &&
        counters_step(c, CSTMT_COMMIT, NULL, 0, NULL, error))
        return true;
    if (!sqlite3_get_autocommit(c->db))
        counters_step(c, CSTMT_ROLLBACK, NULL, 0, NULL, NULL);
    return false;
}

bool
store_counters_gauges(struct store_counters *c, gint64 *outbox, gint64 *open_tickets,
                      GError **error)
{
    *outbox = *open_tickets = 0;
    return counters_step(c, CSTMT_OUTBOX, NULL, 0, outbox, error) &&
           counters_step(c, CSTMT_OPEN, NULL, 0, open_tickets, error);
}

bool
store_counters_get(struct store_counters *c, const char *name, gint64 *value, GError **error)
{
    sqlite3_stmt *s = counters_stmt(c, CSTMT_GET, error);
    int rc;

    *value = 0;
    if (s == NULL)
        return false;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        *value = sqlite3_column_int64(s, 0);
    else if (rc != SQLITE_DONE)
        counters_set_error(c, rc, error, "reading a counter");
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE;
}

/* The Unix time of ISO 8601 TEXT; 0 when it is none. */
static gint64
unix_time(const unsigned char *text)
{
    g_autoptr(GDateTime) t = text != NULL ? timefmt_parse((const char *)text) : NULL;

    return t != NULL ? g_date_time_to_unix(t) : 0;
}

bool
store_counters_sla_events(struct store_counters *c, gint64 *last_id, GHashTable *totals,
                          GError **error)
{
    sqlite3_stmt *s = counters_stmt(c, CSTMT_SLA, error);
    int rc;

    if (s == NULL)
        return false;
    sqlite3_bind_int64(s, 1, *last_id);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *type = (const char *)sqlite3_column_text(s, 1);
        const char *goal = (const char *)sqlite3_column_text(s, 2);
        int severity = sqlite3_column_int(s, 3);
        g_autofree char *key = NULL;
        gint64 *n;
        /* The label values stay a known handful, whatever a row says. */
        if (goal == NULL || (strcmp(goal, "response") != 0 && strcmp(goal, "update") != 0 &&
                             strcmp(goal, "resolution") != 0))
            goal = "other";
        key = g_strdup_printf("%s %s %d", type, goal, CLAMP(severity, 1, 4));
        n = g_hash_table_lookup(totals, key);
        if (n == NULL) {
            n = g_new0(gint64, 1);
            g_hash_table_insert(totals, g_steal_pointer(&key), n);
        }
        (*n)++;
        *last_id = sqlite3_column_int64(s, 0);
    }
    if (rc != SQLITE_DONE)
        counters_set_error(c, rc, error, "reading the SLA events");
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return rc == SQLITE_DONE;
}

bool
store_counters_overdue(struct store_counters *c, const char *now, gint64 overdue[5],
                       GError **error)
{
    sqlite3_stmt *s = counters_stmt(c, CSTMT_OVERDUE, error);
    int rc;

    memset(overdue, 0, 5 * sizeof(*overdue));
    if (s == NULL)
        return false;
    sqlite3_bind_text(s, 1, now, -1, SQLITE_TRANSIENT);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        int severity = sqlite3_column_int(s, 0);
        if (severity >= 1 && severity <= 4)
            overdue[severity] = sqlite3_column_int64(s, 1);
    }
    if (rc != SQLITE_DONE)
        counters_set_error(c, rc, error, "counting overdue tickets");
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return rc == SQLITE_DONE;
}

/* Runs statement ID, which yields at most one row of one ISO 8601 time. */
static bool
read_time(struct store_counters *c, enum counters_stmt id, gint64 *at, GError **error)
{
    sqlite3_stmt *s = counters_stmt(c, id, error);
    int rc;

    *at = 0;
    if (s == NULL)
        return false;
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        *at = unix_time(sqlite3_column_text(s, 0));
    else if (rc != SQLITE_DONE)
        counters_set_error(c, rc, error, counters_sql[id]);
    sqlite3_reset(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE;
}

bool
store_counters_oldest_pending(struct store_counters *c, gint64 *queued_at, GError **error)
{
    return read_time(c, CSTMT_OLDEST, queued_at, error);
}

bool
store_counters_last_backup(struct store_counters *c, gint64 *at, GError **error)
{
    return read_time(c, CSTMT_BACKUP, at, error);
}
