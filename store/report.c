/*
 * store/report - filtered ticket lists and report histories.
 *
 * Owns: one read-only SQLite connection per struct store_report.
 *
 * The WHERE clause is built from a fixed set of conditions, each with its
 * own named parameter; the values are always bound, never written into
 * the SQL.  Event details are read with json_extract() behind json_valid(),
 * so a detail that is not JSON yields NULL members instead of failing the
 * whole read.
 *
 * Edge cases: a filter that matches more than STORE_REPORT_MAX_TICKETS
 * tickets fails with a sentence asking for a narrower one, rather than
 * taking the machine's memory; the events are read for the same tickets
 * in the same read transaction, so they belong to the tickets returned.
 */
#include <string.h>

#include <glib.h>
#include <sqlite3.h>

#include "store/internal.h"
#include "store/report.h"
#include "util/timefmt.h"

struct store_report {
    sqlite3 *db;
    char *path;
};

static void
report_error(struct store_report *r, int rc, GError **error, const char *what)
{
    g_set_error(error, STORE_ERROR, store_error_code(rc, 0), "%s: %s failed: %s", r->path, what,
                r->db != NULL ? sqlite3_errmsg(r->db) : sqlite3_errstr(rc));
}

struct store_report *
store_report_open(const char *path, guint busy_timeout_ms, GError **error)
{
    struct store_report *r = g_new0(struct store_report, 1);
    int rc;

    r->path = g_strdup(path);
    if (!g_file_test(path, G_FILE_TEST_IS_REGULAR)) {
        g_set_error(error, STORE_ERROR, STORE_ERROR_READONLY, "%s: no such database file", path);
        return store_report_close(r);
    }
    rc = sqlite3_open_v2(path, &r->db, SQLITE_OPEN_READONLY, NULL);
    if (rc != SQLITE_OK) {
        report_error(r, rc, error, "opening");
        return store_report_close(r);
    }
    sqlite3_extended_result_codes(r->db, 1);
    sqlite3_busy_timeout(r->db, (int)busy_timeout_ms);
    return r;
}

struct store_report *
store_report_close(struct store_report *r)
{
    if (r == NULL)
        return NULL;
    sqlite3_close(r->db);
    g_free(r->path);
    g_free(r);
    return NULL;
}

/* " WHERE ..." for F over the tickets table (alias t), or "". */
static char *
filter_sql(const struct store_ticket_filter *f)
{
    GPtrArray *c = g_ptr_array_new();
    g_autofree char *list = NULL;
    char *sql;

    if (f->created_from != NULL)
        g_ptr_array_add(c, "t.created_at >= :created_from");
    if (f->created_to != NULL)
        g_ptr_array_add(c, "t.created_at < :created_to");
    if (f->active_since != NULL)
        g_ptr_array_add(c, "(t.status IN ('open', 'pending') OR t.updated_at >= :active_since)");
    if (f->customer != NULL)
        g_ptr_array_add(c, "t.customer = :customer");
    if (f->plan != NULL)
        g_ptr_array_add(c, "coalesce(t.plan, 'standard') = :plan");
    if (f->statuses != 0)
        g_ptr_array_add(c, "t.status IN (:s0, :s1, :s2, :s3)");
    if (f->severity != 0)
        g_ptr_array_add(c, "t.severity = :severity");
    g_ptr_array_add(c, NULL);
    list = g_strjoinv(" AND ", (char **)c->pdata);
    sql = *list != '\0' ? g_strconcat(" WHERE ", list, NULL) : g_strdup("");
    g_ptr_array_unref(c);
    return sql;
}

static void
bind_name(sqlite3_stmt *s, const char *name, const char *value)
{
    int i = sqlite3_bind_parameter_index(s, name);

    if (i > 0)
        sqlite3_bind_text(s, i, value, -1, SQLITE_TRANSIENT);
}

static void
bind_filter(sqlite3_stmt *s, const struct store_ticket_filter *f)
{
    int i;

    bind_name(s, ":created_from", f->created_from);
    bind_name(s, ":created_to", f->created_to);
    bind_name(s, ":active_since", f->active_since);
    bind_name(s, ":customer", f->customer);
    bind_name(s, ":plan", f->plan);
    /* Four slots, one per status; a status not asked for binds NULL,
     * which IN never matches. */
    for (int k = 0; k < TICKET_STATUS_COUNT; k++) {
        g_autofree char *name = g_strdup_printf(":s%d", k);
        bind_name(s, name, f->statuses & (1u << k) ? ticket_status_name(k) : NULL);
    }
    if ((i = sqlite3_bind_parameter_index(s, ":severity")) > 0)
        sqlite3_bind_int(s, i, f->severity);
}

static sqlite3_stmt *
prepare(struct store_report *r, const char *sql, const struct store_ticket_filter *f,
        GError **error)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(r->db, sql, -1, &s, NULL);

    if (rc != SQLITE_OK) {
        report_error(r, rc, error, "preparing a report query");
        sqlite3_finalize(s);
        return NULL;
    }
    bind_filter(s, f);
    return s;
}

static bool
read_tickets(struct store_report *r, const struct store_ticket_filter *f, GPtrArray *out,
             GError **error)
{
    g_autofree char *where = filter_sql(f);
    g_autofree char *sql =
        g_strdup_printf("SELECT " STORE_TICKET_COLUMNS " FROM tickets t%s ORDER BY t.id", where);
    sqlite3_stmt *s = prepare(r, sql, f, error);
    int rc;

    if (s == NULL)
        return false;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (out->len == STORE_REPORT_MAX_TICKETS) {
            sqlite3_finalize(s);
            g_set_error(error, STORE_ERROR, STORE_ERROR_FAILED,
                        "%s: more than %d tickets match; choose a shorter period, a customer "
                        "or a plan",
                        r->path, STORE_REPORT_MAX_TICKETS);
            return false;
        }
        g_ptr_array_add(out, store_ticket_from_row(s));
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) {
        report_error(r, rc, error, "reading tickets");
        return false;
    }
    return true;
}

static void
free_ticket(gpointer t)
{
    ticket_free(t);
}

static bool
read_begin(struct store_report *r, GError **error)
{
    int rc = sqlite3_exec(r->db, "BEGIN", NULL, NULL, NULL);

    if (rc != SQLITE_OK)
        report_error(r, rc, error, "starting a read");
    return rc == SQLITE_OK;
}

static void
read_end(struct store_report *r)
{
    if (!sqlite3_get_autocommit(r->db))
        sqlite3_exec(r->db, "COMMIT", NULL, NULL, NULL);
}

GPtrArray *
store_report_tickets(struct store_report *r, const struct store_ticket_filter *f, GError **error)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(free_ticket);

    if (!read_tickets(r, f, out, error))
        return g_ptr_array_unref(out), NULL;
    return out;
}

/* Detail member PATH of the event row, when the detail is JSON. */
#define DETAIL(path) "CASE WHEN json_valid(e.detail) THEN json_extract(e.detail, '" path "') END"

static bool
read_events(struct store_report *r, const struct store_ticket_filter *f, GHashTable *by_id,
            GError **error)
{
    g_autofree char *where = filter_sql(f);
    g_autofree char *sql = g_strdup_printf(
        "SELECT e.ticket_id, e.at, e.type, " DETAIL("$.goal") ", " DETAIL("$.due") ", "
        DETAIL("$.stage") ", " DETAIL("$.from") ", " DETAIL("$.cause") ", " DETAIL("$.to") ", "
        DETAIL("$.severity")
        " FROM events e WHERE e.type IN ('status', 'reopened', 'stage', 'sla-warning',"
        " 'sla-breach') AND e.ticket_id IN (SELECT t.id FROM tickets t%s)"
        " ORDER BY e.ticket_id, e.id",
        where);
    sqlite3_stmt *s = prepare(r, sql, f, error);
    int rc;

    if (s == NULL)
        return false;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        gint64 id = sqlite3_column_int64(s, 0);
        struct report_ticket *rt = g_hash_table_lookup(by_id, &id);
        g_autoptr(GDateTime) at = timefmt_parse((const char *)sqlite3_column_text(s, 1));
        struct report_event *e;
        enum event_type type;
        if (rt == NULL || at == NULL ||
            !report_event_type((const char *)sqlite3_column_text(s, 2), &type))
            continue;
        e = report_event_new();
        e->type = type;
        e->at = g_date_time_to_unix(at);
        e->goal = store_column_dup(s, 3);
        e->due = store_column_dup(s, 4);
        e->stage = sqlite3_column_int(s, 5);
        e->from_stage = sqlite3_column_int(s, 6);
        e->cause = store_column_dup(s, 7);
        e->to_status = store_column_dup(s, 8);
        e->severity = sqlite3_column_int(s, 9);
        g_ptr_array_add(rt->events, e);
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) {
        report_error(r, rc, error, "reading the tickets' events");
        return false;
    }
    return true;
}

GPtrArray *
store_report_history(struct store_report *r, const struct store_ticket_filter *f, GError **error)
{
    g_autoptr(GPtrArray) tickets = g_ptr_array_new();
    g_autoptr(GPtrArray) unused = NULL;
    g_autoptr(GHashTable) by_id = g_hash_table_new(g_int64_hash, g_int64_equal);
    GPtrArray *out = g_ptr_array_new_with_free_func(report_ticket_free);
    bool ok;

    if (!read_begin(r, error))
        return g_ptr_array_unref(out), NULL;
    ok = read_tickets(r, f, tickets, error);
    for (guint i = 0; ok && i < tickets->len; i++) {
        struct report_ticket *rt = report_ticket_new(g_ptr_array_index(tickets, i));
        g_ptr_array_add(out, rt);
        g_hash_table_insert(by_id, &rt->ticket->id, rt);
    }
    if (!ok) {
        /* Hand what was read to an array that frees it. */
        unused = g_ptr_array_new_with_free_func(free_ticket);
        g_ptr_array_extend_and_steal(unused, g_steal_pointer(&tickets));
    }
    ok = ok && read_events(r, f, by_id, error);
    read_end(r);
    if (!ok)
        return g_ptr_array_unref(out), NULL;
    return out;
}
