/*
 * store/report - filtered ticket lists and report histories.
 *
 * Owns: one read-only store/db.h connection per struct store_report.
 *
 * The WHERE clause is built from a fixed set of conditions, each with its
 * own parameters, numbered as they come; the values are always bound,
 * never written into the SQL.  Event details are read with json_extract() behind json_valid(),
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

#include "store/internal.h"
#include "store/report.h"
#include "util/timefmt.h"

struct store_report {
    struct db *db;
};

struct store_report *
store_report_open(const char *path, guint busy_timeout_ms, GError **error)
{
    struct store_report *r = g_new0(struct store_report, 1);

    r->db = store_db_open_existing(path, DB_READ_ONLY, busy_timeout_ms, error);
    if (r->db == NULL)
        return store_report_close(r);
    return r;
}

struct store_report *
store_report_close(struct store_report *r)
{
    if (r == NULL)
        return NULL;
    db_close(r->db);
    g_free(r);
    return NULL;
}

/* A filter as SQL: the WHERE clause with its parameters numbered in the
 * order they appear (every ?N must appear, store/db.h), and their values. */
struct filter {
    GString *where;
    GPtrArray *texts; /* the value of ?1, ?2, ... (NULL binds NULL) */
    int severity_at;  /* ?N of the severity, an integer; 0: none */
    int severity;
};

/* Appends condition COND, in which each "?" is the next parameter, with
 * the values VALUES[0..N-1]. */
static void
filter_add(struct filter *q, const char *cond, const char *const *values, int n)
{
    g_string_append(q->where, q->where->len == 0 ? " WHERE " : " AND ");
    for (const char *p = cond; *p != '\0'; p++) {
        if (*p != '?') {
            g_string_append_c(q->where, *p);
            continue;
        }
        g_string_append_printf(q->where, "?%u", q->texts->len + 1);
        g_ptr_array_add(q->texts, (gpointer)values[0]);
        values++;
        n--;
    }
    g_assert(n == 0);
}

/* F over the tickets table (alias t). */
static void
filter_build(struct filter *q, const struct store_ticket_filter *f)
{
    q->where = g_string_new(NULL);
    q->texts = g_ptr_array_new();
    q->severity_at = 0;
    if (f->created_from != NULL)
        filter_add(q, "t.created_at >= ?", &f->created_from, 1);
    if (f->created_to != NULL)
        filter_add(q, "t.created_at < ?", &f->created_to, 1);
    if (f->active_since != NULL)
        filter_add(q, "(t.status IN ('open', 'pending') OR t.updated_at >= ?)", &f->active_since,
                   1);
    if (f->customer != NULL)
        filter_add(q, "t.customer = ?", &f->customer, 1);
    if (f->plan != NULL)
        filter_add(q, "coalesce(t.plan, 'standard') = ?", &f->plan, 1);
    if (f->statuses != 0) {
        /* Four slots, one per status; a status not asked for binds NULL,
         * which IN never matches. */
        const char *names[TICKET_STATUS_COUNT];

        for (int k = 0; k < TICKET_STATUS_COUNT; k++)
            names[k] = f->statuses & (1u << k) ? ticket_status_name(k) : NULL;
        filter_add(q,
                   "t.status IN (CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT),"
                   " CAST(? AS TEXT))",
                   names, TICKET_STATUS_COUNT);
    }
    if (f->severity != 0) {
        g_string_append(q->where, q->where->len == 0 ? " WHERE " : " AND ");
        q->severity_at = (int)q->texts->len + 1;
        q->severity = f->severity;
        g_string_append_printf(q->where, "t.severity = ?%d", q->severity_at);
    }
}

static void
filter_clear(struct filter *q)
{
    g_string_free(q->where, TRUE);
    g_ptr_array_unref(q->texts);
}

/* SQL, whose parameters are those of Q, prepared and bound. */
static struct db_stmt *
prepare(struct store_report *r, const char *sql, const struct filter *q, GError **error)
{
    struct db_stmt *s = db_prepare(r->db, sql, error);

    if (s == NULL)
        return NULL;
    for (guint i = 0; i < q->texts->len; i++)
        db_bind_text(s, (int)i + 1, g_ptr_array_index(q->texts, i));
    if (q->severity_at > 0)
        db_bind_int64(s, q->severity_at, q->severity);
    return s;
}

static bool
read_tickets(struct store_report *r, const struct filter *q, GPtrArray *out, GError **error)
{
    g_autofree char *sql = g_strdup_printf(
        "SELECT " STORE_TICKET_COLUMNS " FROM tickets t%s ORDER BY t.id", q->where->str);
    struct db_stmt *s = prepare(r, sql, q, error);
    enum db_step step;

    if (s == NULL)
        return false;
    while ((step = db_step(s, error)) == DB_ROW) {
        if (out->len == STORE_REPORT_MAX_TICKETS) {
            db_reset(s);
            g_set_error(error, STORE_ERROR, STORE_ERROR_FAILED,
                        "%s: more than %d tickets match; choose a shorter period, a customer "
                        "or a plan",
                        db_name(r->db), STORE_REPORT_MAX_TICKETS);
            return false;
        }
        g_ptr_array_add(out, store_ticket_from_row(s));
    }
    return step == DB_DONE;
}

static void
free_ticket(gpointer t)
{
    ticket_free(t);
}

GPtrArray *
store_report_tickets(struct store_report *r, const struct store_ticket_filter *f, GError **error)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(free_ticket);
    struct filter q;
    bool ok;

    filter_build(&q, f);
    ok = read_tickets(r, &q, out, error);
    filter_clear(&q);
    if (!ok)
        return g_ptr_array_unref(out), NULL;
    return out;
}

/* Detail member NAME of the event row, when the detail is JSON: SQLite's
 * JSON functions, or PostgreSQL's jsonb through tm_json() (store/schema.c). */
#define DETAIL(name) "CASE WHEN json_valid(e.detail) THEN json_extract(e.detail, '$." name "') END"
#define DETAIL_PG(name) "tm_json(e.detail) ->> '" name "'"
#define EVENT_COLUMNS(D)                                                                           \
    "SELECT e.ticket_id, e.at, e.type, " D("goal") ", " D("due") ", " D("stage") ", " D(           \
        "from") ", " D("cause") ", " D("to") ", " D("severity")

/* The event row's columns 3.. as a report event of TYPE at AT. */
static struct report_event *
event_from_row(struct db_stmt *s, enum event_type type, GDateTime *at)
{
    struct report_event *e = report_event_new();

    e->type = type;
    e->at = g_date_time_to_unix(at);
    e->goal = db_column_dup(s, 3);
    e->due = db_column_dup(s, 4);
    e->stage = (int)db_column_int64(s, 5);
    e->from_stage = (int)db_column_int64(s, 6);
    e->cause = db_column_dup(s, 7);
    e->to_status = db_column_dup(s, 8);
    e->severity = (int)db_column_int64(s, 9);
    return e;
}

static bool
read_events(struct store_report *r, const struct filter *q, GHashTable *by_id, GError **error)
{
    g_autofree char *sql = g_strdup_printf(
        "%s FROM events e WHERE e.type IN ('status', 'reopened', 'stage', 'sla-warning',"
        " 'sla-breach') AND e.ticket_id IN (SELECT t.id FROM tickets t%s)"
        " ORDER BY e.ticket_id, e.id",
        db_kind(r->db) == DB_SQLITE ? EVENT_COLUMNS(DETAIL) : EVENT_COLUMNS(DETAIL_PG),
        q->where->str);
    struct db_stmt *s = prepare(r, sql, q, error);
    enum db_step step;

    if (s == NULL)
        return false;
    while ((step = db_step(s, error)) == DB_ROW) {
        gint64 id = db_column_int64(s, 0);
        struct report_ticket *rt = g_hash_table_lookup(by_id, &id);
        g_autoptr(GDateTime) at = timefmt_parse(db_column_text(s, 1));
        enum event_type type;

        if (rt == NULL || at == NULL || !report_event_type(db_column_text(s, 2), &type))
            continue;
        g_ptr_array_add(rt->events, event_from_row(s, type, at));
    }
    return step == DB_DONE;
}

GPtrArray *
store_report_history(struct store_report *r, const struct store_ticket_filter *f, GError **error)
{
    g_autoptr(GPtrArray) tickets = g_ptr_array_new();
    g_autoptr(GPtrArray) unused = NULL;
    g_autoptr(GHashTable) by_id = g_hash_table_new(g_int64_hash, g_int64_equal);
    GPtrArray *out = g_ptr_array_new_with_free_func(report_ticket_free);
    bool ok;

    struct filter q;

    if (!store_read_begin(r->db, error))
        return g_ptr_array_unref(out), NULL;
    filter_build(&q, f);
    ok = read_tickets(r, &q, tickets, error);
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
    ok = ok && read_events(r, &q, by_id, error);
    filter_clear(&q);
    store_read_end(r->db);
    if (!ok)
        return g_ptr_array_unref(out), NULL;
    return out;
}
