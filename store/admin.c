/*
 * admin - the admin handle of ticketctl, and the statistics, customers and
 * unattached-mail reads on it.
 *
 * Owns: one store/db.h connection per struct admin (its other jobs are in
 * store/search.c, store/export.c, store/purge.c).
 *
 * Edge cases: the daemon writes while we read, so every read here is one
 * read transaction (one snapshot); a database that does not exist is not
 * created (STORE_ERROR_READONLY).  On failure: STORE_ERROR from
 * store/db.c, naming the database and the statement.
 */
#include <string.h>

#include <glib.h>

#include "store/admin.h"
#include "store/internal.h"
#include "util/percentile.h"

struct admin *
admin_open(const char *path, bool writable, guint busy_timeout_ms, GError **error)
{
    struct db *db = store_db_open_existing(path, writable ? DB_READ_WRITE : DB_READ_ONLY,
                                           busy_timeout_ms, error);
    struct admin *a;

    if (db == NULL)
        return NULL;
    a = g_new0(struct admin, 1);
    a->db = db;
    return a;
}

struct admin *
admin_close(struct admin *a)
{
    if (a == NULL)
        return NULL;
    db_close(a->db);
    g_free(a);
    return NULL;
}

/* ---- statistics ---- */

gint64
admin_percentile(const gint64 *sorted, gsize n, double p)
{
    /* One nearest-rank rule for every figure we print. */
    return percentile_nearest_rank(sorted, n, (guint)CLAMP(p, 1, 100));
}

static gint
compare_gint64(gconstpointer a, gconstpointer b)
{
    gint64 x = *(const gint64 *)a, y = *(const gint64 *)b;

    return x < y ? -1 : x > y;
}

static bool
read_counters(struct admin *a, GHashTable *into, GError **error)
{
    struct db_stmt *s = db_prepare(a->db, "SELECT name, value FROM counters", error);
    enum db_step r;

    if (s == NULL)
        return false;
    while ((r = db_step(s, error)) == DB_ROW) {
        gint64 *v = g_new(gint64, 1);
        *v = db_column_int64(s, 1);
        g_hash_table_insert(into, db_column_dup(s, 0), v);
    }
    return r == DB_DONE;
}

static bool
read_ack_latency(struct admin *a, struct admin_stats *out, GError **error)
{
    g_autofree char *sql = g_strdup_printf(
        "SELECT sent_us - queued_us FROM outbox WHERE template LIKE 'ack%%' AND status = 'sent'"
        " AND sent_us IS NOT NULL AND queued_us IS NOT NULL ORDER BY id DESC LIMIT %d",
        ADMIN_LATENCY_SAMPLES);
    g_autoptr(GArray) values = g_array_new(FALSE, FALSE, sizeof(gint64));
    struct db_stmt *s = db_prepare(a->db, sql, error);
    enum db_step r;

    if (s == NULL)
        return false;
    while ((r = db_step(s, error)) == DB_ROW) {
        gint64 v = db_column_int64(s, 0);
        g_array_append_val(values, v);
    }
    if (r != DB_DONE)
        return false;
    g_array_sort(values, compare_gint64);
    out->ack_latency_samples = values->len;
    out->ack_latency_p50_us = admin_percentile((gint64 *)values->data, values->len, 50);
    out->ack_latency_p99_us = admin_percentile((gint64 *)values->data, values->len, 99);
    return true;
}

/* 1 for each row where COND holds: a sum that means the same on every
 * backend (a comparison is a boolean in PostgreSQL, not a number). */
#define COUNT_IF(cond) "sum(CASE WHEN " cond " THEN 1 ELSE 0 END)"

static bool
read_figures(struct admin *a, struct admin_stats *out, GError **error)
{
    gint64 v[3];

    if (!store_query_ints(
            a->db, "SELECT count(*), " COUNT_IF("status IN ('open', 'pending')") " FROM tickets", v,
            2, error))
        return false;
    out->tickets_total = v[0];
    out->tickets_open = v[1];
    if (!store_query_ints(
            a->db,
            "SELECT " COUNT_IF("status = 'sent'") ", " COUNT_IF("status = 'failed'") ", " COUNT_IF(
                "status = 'pending'") " FROM outbox WHERE template LIKE 'ack%'",
            v, 3, error))
        return false;
    out->acks_sent = v[0];
    out->acks_failed = v[1];
    out->acks_pending = v[2];
    if (!store_query_ints(
            a->db,
            "SELECT " COUNT_IF("type = 'sla-warning'") ", " COUNT_IF(
                "type = 'sla-breach'") " FROM events WHERE type IN ('sla-warning', 'sla-breach')",
            v, 2, error))
        return false;
    out->sla_warnings = v[0];
    out->sla_breaches = v[1];
    return store_query_ints(a->db, "SELECT count(*) FROM outbox WHERE status = 'pending'",
                            &out->outbox_depth, 1, error);
}

bool
admin_stats_read(struct admin *a, struct admin_stats *out, GError **error)
{
    bool ok;

    memset(out, 0, sizeof(*out));
    out->counters = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    if (!store_read_begin(a->db, error))
        return false;
    ok = read_counters(a, out->counters, error) && read_figures(a, out, error) &&
         read_ack_latency(a, out, error);
    store_read_end(a->db);
    return ok;
}

void
admin_stats_clear(struct admin_stats *s)
{
    g_clear_pointer(&s->counters, g_hash_table_unref);
}

gint64
admin_stats_counter(const struct admin_stats *s, const char *name)
{
    const gint64 *v = s->counters != NULL ? g_hash_table_lookup(s->counters, name) : NULL;

    return v != NULL ? *v : 0;
}

/* ---- customers ---- */

static void
customer_free(gpointer p)
{
    struct admin_customer *c = p;

    g_free(c->name);
    g_free(c);
}

static gpointer
customer_from_row(struct db_stmt *s)
{
    struct admin_customer *c = g_new0(struct admin_customer, 1);

    c->name = db_column_dup(s, 0);
    c->tickets = db_column_int64(s, 1);
    c->open = db_column_int64(s, 2);
    c->breaches = db_column_int64(s, 3);
    c->open_breached = db_column_int64(s, 4);
    return c;
}

GPtrArray *
admin_customers(struct admin *a, GError **error)
{
    static const char
        sql[] =
            "SELECT t.customer, count(*), " COUNT_IF(
                "t.status IN ('open', 'pending')") ","
                                                   " coalesce(sum(b.n), 0), " COUNT_IF(
                                                       "t.status IN ('open', 'pending') AND b.n > "
                                                       "0") " FROM tickets t LEFT JOIN (SELECT "
                                                            "ticket_id, count(*) AS n FROM events"
                                                            "  WHERE type = 'sla-breach' GROUP BY "
                                                            "ticket_id) b ON b.ticket_id = t.id"
                                                            " GROUP BY t.customer ORDER BY "
                                                            "t.customer IS NULL, t.customer";

    return store_collect(db_prepare(a->db, sql, error), customer_from_row, customer_free, error);
}

/* ---- unattached bounces ---- */

static void
unattached_free(gpointer p)
{
    struct admin_unattached *u = p;

    g_free(u->received_at);
    g_free(u->queue_id);
    g_free(u->envelope_from);
    g_free(u->from);
    g_free(u->subject);
    g_free(u->message_id);
    g_free(u->reason);
    g_free(u);
}

static gpointer
unattached_from_row(struct db_stmt *s)
{
    struct admin_unattached *u = g_new0(struct admin_unattached, 1);

    u->id = db_column_int64(s, 0);
    u->received_at = db_column_dup(s, 1);
    u->queue_id = db_column_dup(s, 2);
    u->envelope_from = db_column_dup(s, 3);
    u->from = db_column_dup(s, 4);
    u->subject = db_column_dup(s, 5);
    u->message_id = db_column_dup(s, 6);
    u->reason = db_column_dup(s, 7);
    return u;
}

GPtrArray *
admin_unattached(struct admin *a, guint limit, GError **error)
{
    struct db_stmt *s = db_prepare(a->db,
                                   "SELECT id, received_at, queue_id, envelope_from, from_addr,"
                                   " subject, message_id, reason"
                                   " FROM unattached ORDER BY id DESC LIMIT ?1",
                                   error);

    if (s == NULL)
        return NULL;
    db_bind_int64(s, 1, limit);
    return store_collect(s, unattached_from_row, unattached_free, error);
}
