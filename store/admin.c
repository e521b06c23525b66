/*
 * admin - the queries behind ticketctl's admin commands, and backups.
 *
 * Owns: its own SQLite connection per struct admin, and the backup file
 * names in a backup directory (tickets-YYYYMMDDTHHMMSSZ.db, and the older
 * tickets-YYYYMMDDTHHMMZ.db; nothing else in that directory is ever
 * removed), and the files beside the live database a restore makes
 * (DB.before-restore-STAMP[-N], never overwritten, and a hidden .restore.tmp).
 *
 * Edge cases: the daemon writes while we read, so every report is one read
 * transaction (one snapshot). A backup counts the rows of the source inside
 * the very read transaction that feeds the copy, so "the copy has what the
 * source had at that moment" can be checked exactly. Purge commits in small
 * batches so that the daemon's writer, waiting on busy_timeout, is never
 * held up for long.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <sqlite3.h>

#include "router/event.h"
#include "store/admin.h"
#include "store/internal.h"
#include "store/store.h"
#include "util/percentile.h"

#define PURGE_BATCH 200
#define RESTORE_MAX_SAVED_PER_SECOND 1000

struct admin {
    sqlite3 *db;
    char *path;
};

/* ---- errors ---- */


/* "PATH: WHAT failed: SQLite's words". */
static void
set_db_error(GError **error, sqlite3 *db, int rc, const char *path, const char *what)
{
    const char *detail = db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc);

    if ((rc & 0xff) == SQLITE_NOTADB)
        g_set_error(error, STORE_ERROR, STORE_ERROR_CORRUPT, "%s: is not an SQLite database", path);
    else
        g_set_error(error, STORE_ERROR, store_error_code(rc, 0), "%s: %s failed: %s", path, what,
                    detail);
}

static bool
exec_sql(sqlite3 *db, const char *path, const char *sql, GError **error)
{
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);

    if (rc != SQLITE_OK) {
        set_db_error(error, db, rc, path, sql);
        return false;
    }
    return true;
}

static sqlite3_stmt *
prepare(sqlite3 *db, const char *path, const char *sql, GError **error)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);

    if (rc != SQLITE_OK) {
        set_db_error(error, db, rc, path, "preparing a query");
        sqlite3_finalize(s);
        return NULL;
    }
    return s;
}


/* Runs SQL that yields one row of integers into OUT[0..N-1]; NULLs are 0. */
static bool
query_ints(sqlite3 *db, const char *path, const char *sql, gint64 *out, int n, GError **error)
{
    sqlite3_stmt *s = prepare(db, path, sql, error);
    int rc;

    if (s == NULL)
        return false;
    rc = sqlite3_step(s);
    for (int i = 0; i < n; i++)
        out[i] = rc == SQLITE_ROW ? sqlite3_column_int64(s, i) : 0;
    sqlite3_finalize(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        set_db_error(error, db, rc, path, "reading");
        return false;
    }
    return true;
}

static sqlite3 *
open_db(const char *path, int flags, guint busy_timeout_ms, GError **error)
{
    sqlite3 *db = NULL;
    int rc;

    if (!(flags & SQLITE_OPEN_CREATE) && !g_file_test(path, G_FILE_TEST_IS_REGULAR)) {
        g_set_error(error, STORE_ERROR, STORE_ERROR_READONLY, "%s: no such database file", path);
        return NULL;
    }
    rc = sqlite3_open_v2(path, &db, flags, NULL);
    if (rc != SQLITE_OK) {
        set_db_error(error, db, rc, path, "opening");
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, (int)busy_timeout_ms);
    return db;
}

struct admin *
admin_open(const char *path, bool writable, guint busy_timeout_ms, GError **error)
{
    struct admin *a;
    sqlite3 *db = open_db(path, writable ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY,
                          busy_timeout_ms, error);

    if (db == NULL)
        return NULL;
    a = g_new0(struct admin, 1);
    a->db = db;
    a->path = g_strdup(path);
    return a;
}

struct admin *
admin_close(struct admin *a)
{
    if (a == NULL)
        return NULL;
    sqlite3_close(a->db);
    g_free(a->path);
    g_free(a);
    return NULL;
}

/* A read transaction: what follows sees one snapshot. */
static bool
read_begin(struct admin *a, GError **error)
{
    return exec_sql(a->db, a->path, "BEGIN", error);
}

static void
read_end(struct admin *a)
{
    if (!sqlite3_get_autocommit(a->db))
        sqlite3_exec(a->db, "COMMIT", NULL, NULL, NULL);
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
    sqlite3_stmt *s = prepare(a->db, a->path, "SELECT name, value FROM counters", error);
    int rc;

    if (s == NULL)
        return false;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        gint64 *v = g_new(gint64, 1);
        *v = sqlite3_column_int64(s, 1);
        g_hash_table_insert(into, store_column_dup(s, 0), v);
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) {
        set_db_error(error, a->db, rc, a->path, "reading the counters");
        return false;
    }
    return true;
}

static bool
read_ack_latency(struct admin *a, struct admin_stats *out, GError **error)
{
    g_autofree char *sql = g_strdup_printf(
        "SELECT sent_us - queued_us FROM outbox WHERE template LIKE 'ack%%' AND status = 'sent'"
        " AND sent_us IS NOT NULL AND queued_us IS NOT NULL ORDER BY id DESC LIMIT %d",
        ADMIN_LATENCY_SAMPLES);
    g_autoptr(GArray) values = g_array_new(FALSE, FALSE, sizeof(gint64));
    sqlite3_stmt *s = prepare(a->db, a->path, sql, error);
    int rc;

    if (s == NULL)
        return false;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        gint64 v = sqlite3_column_int64(s, 0);
        g_array_append_val(values, v);
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) {
        set_db_error(error, a->db, rc, a->path, "reading the outbox");
        return false;
    }
    g_array_sort(values, compare_gint64);
    out->ack_latency_samples = values->len;
    out->ack_latency_p50_us = admin_percentile((gint64 *)values->data, values->len, 50);
    out->ack_latency_p99_us = admin_percentile((gint64 *)values->data, values->len, 99);
    return true;
}

bool
admin_stats_read(struct admin *a, struct admin_stats *out, GError **error)
{
    gint64 v[3];
    bool ok;

    memset(out, 0, sizeof(*out));
    out->counters = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    if (!read_begin(a, error))
        return false;
    ok = read_counters(a, out->counters, error) &&
         query_ints(a->db, a->path,
                    "SELECT count(*), sum(status IN ('open', 'pending')) FROM tickets", v, 2,
                    error);
    if (ok) {
        out->tickets_total = v[0];
        out->tickets_open = v[1];
        ok = query_ints(a->db, a->path,
                        "SELECT sum(status = 'sent'), sum(status = 'failed'),"
                        " sum(status = 'pending') FROM outbox WHERE template LIKE 'ack%'",
                        v, 3, error);
    }
    if (ok) {
        out->acks_sent = v[0];
        out->acks_failed = v[1];
        out->acks_pending = v[2];
        ok = query_ints(a->db, a->path,
                        "SELECT sum(type = 'sla-warning'), sum(type = 'sla-breach') FROM events"
                        " WHERE type IN ('sla-warning', 'sla-breach')",
                        v, 2, error);
    }
    if (ok) {
        out->sla_warnings = v[0];
        out->sla_breaches = v[1];
        ok = query_ints(a->db, a->path, "SELECT count(*) FROM outbox WHERE status = 'pending'",
                        &out->outbox_depth, 1, error);
    }
    ok = ok && read_ack_latency(a, out, error);
    read_end(a);
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

GPtrArray *
admin_customers(struct admin *a, GError **error)
{
    static const char sql[] =
        "SELECT t.customer, count(*), sum(t.status IN ('open', 'pending')),"
        " coalesce(sum(b.n), 0), sum(t.status IN ('open', 'pending') AND b.n > 0)"
        " FROM tickets t LEFT JOIN (SELECT ticket_id, count(*) AS n FROM events"
        "  WHERE type = 'sla-breach' GROUP BY ticket_id) b ON b.ticket_id = t.id"
        " GROUP BY t.customer ORDER BY t.customer IS NULL, t.customer";
    GPtrArray *rows = g_ptr_array_new_with_free_func(customer_free);
    sqlite3_stmt *s = prepare(a->db, a->path, sql, error);
    int rc;

    if (s == NULL)
        return g_ptr_array_unref(rows), NULL;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct admin_customer *c = g_new0(struct admin_customer, 1);
        c->name = store_column_dup(s, 0);
        c->tickets = sqlite3_column_int64(s, 1);
        c->open = sqlite3_column_int64(s, 2);
        c->breaches = sqlite3_column_int64(s, 3);
        c->open_breached = sqlite3_column_int64(s, 4);
        g_ptr_array_add(rows, c);
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) {
        set_db_error(error, a->db, rc, a->path, "counting tickets by customer");
        g_ptr_array_unref(rows);
        return NULL;
    }
    return rows;
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

GPtrArray *
admin_unattached(struct admin *a, guint limit, GError **error)
{
    static const char sql[] =
        "SELECT id, received_at, queue_id, envelope_from, from_addr, subject, message_id, reason"
        " FROM unattached ORDER BY id DESC LIMIT ?1";
    GPtrArray *rows = g_ptr_array_new_with_free_func(unattached_free);
    sqlite3_stmt *s = prepare(a->db, a->path, sql, error);
    int rc;

    if (s == NULL)
        return g_ptr_array_unref(rows), NULL;
    sqlite3_bind_int(s, 1, (int)limit);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct admin_unattached *u = g_new0(struct admin_unattached, 1);
        u->id = sqlite3_column_int64(s, 0);
        u->received_at = store_column_dup(s, 1);
        u->queue_id = store_column_dup(s, 2);
        u->envelope_from = store_column_dup(s, 3);
        u->from = store_column_dup(s, 4);
        u->subject = store_column_dup(s, 5);
        u->message_id = store_column_dup(s, 6);
        u->reason = store_column_dup(s, 7);
        g_ptr_array_add(rows, u);
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) {
        set_db_error(error, a->db, rc, a->path, "reading the unattached mail");
        g_ptr_array_unref(rows);
        return NULL;
    }
    return rows;
}

/* ---- search ---- */

/* Each word of TEXT as an FTS5 term: a quoted string (whatever it holds,
 * the admin's punctuation can never be FTS5 syntax), '*' after it for a
 * prefix. */
static GPtrArray *
search_terms(const char *text)
{
    g_auto(GStrv) words = g_strsplit_set(text, " \t\r\n", -1);
    GPtrArray *terms = g_ptr_array_new_with_free_func(g_free);

    for (char **w = words; *w != NULL; w++) {
        gsize len = strlen(*w);
        bool is_prefix = len > 1 && (*w)[len - 1] == '*';
        GString *q;

        if (len == 0 || strcmp(*w, "*") == 0)
            continue;
        if (is_prefix)
            (*w)[--len] = '\0';
        q = g_string_new("\"");
        for (const char *c = *w; *c != '\0'; c++) {
            if (*c == '"')
                g_string_append_c(q, '"');
            g_string_append_c(q, *c);
        }
        g_string_append_c(q, '"');
        if (is_prefix)
            g_string_append_c(q, '*');
        g_ptr_array_add(terms, g_string_free(q, FALSE));
    }
    return terms;
}

static char *
join_terms(GPtrArray *terms, const char *sep)
{
    GString *q = g_string_new(NULL);

    for (guint i = 0; i < terms->len; i++)
        g_string_append_printf(q, "%s%s", i > 0 ? sep : "", (char *)g_ptr_array_index(terms, i));
    return g_string_free(q, FALSE);
}

char *
admin_search_query(const char *text)
{
    g_autoptr(GPtrArray) terms = search_terms(text);

    return terms->len > 0 ? join_terms(terms, " ") : NULL;
}

static void
hit_free(gpointer p)
{
    struct admin_hit *h = p;

    g_free(h->tag);
    g_free(h->status);
    g_free(h->subject);
    g_free(h->snippet);
    g_free(h);
}

/* The tickets that have every one of TERMS (each bound as ?N, N from 1)
 * somewhere, in the subject or in any message: one row per ticket and
 * term with that term's best score, kept when all terms are there.
 * FTS5 ANDs words within one row only, so each word is matched alone.
 * The score is the sum of each word's best bm25 (lower is better). */
static char *
search_sql(guint n_terms)
{
    GString *q = g_string_new("SELECT t.id, t.prefix || '-' || t.id, t.status, t.subject"
                              " FROM (SELECT ticket_id, sum(best) AS score FROM (");

    for (guint i = 1; i <= n_terms; i++)
        g_string_append_printf(
            q,
            "%sSELECT ticket_id, min(score) AS best FROM ("
            "  SELECT m.ticket_id AS ticket_id, bm25(messages_fts) AS score"
            "  FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid"
            "  WHERE messages_fts MATCH ?%u"
            "  UNION ALL"
            "  SELECT rowid, bm25(tickets_fts) FROM tickets_fts WHERE tickets_fts MATCH ?%u)"
            " GROUP BY ticket_id",
            i > 1 ? " UNION ALL " : "", i, i);
    g_string_append_printf(q,
                           ") GROUP BY ticket_id HAVING count(*) = %u) h"
                           " JOIN tickets t ON t.id = h.ticket_id"
                           " ORDER BY h.score, t.id LIMIT ?%u",
                           n_terms, n_terms + 1);
    return g_string_free(q, FALSE);
}

/* The words in context from the row of ticket ID that best matches any
 * of them: its subject or one of its messages. */
static char *
search_snippet(struct admin *a, sqlite3_stmt *s, gint64 id, GError **error)
{
    char *snip = NULL;
    int rc;

    sqlite3_bind_int64(s, 2, id);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        snip = store_column_dup(s, 0);
    sqlite3_reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        set_db_error(error, a->db, rc, a->path, "searching");
        return NULL;
    }
    return snip != NULL ? snip : g_strdup("");
}

GPtrArray *
admin_search(struct admin *a, const char *text, guint limit, GError **error)
{
    static const char snippet_sql[] =
        "SELECT snip FROM ("
        "  SELECT bm25(messages_fts) AS score,"
        "   snippet(messages_fts, -1, '[', ']', '...', 12) AS snip"
        "  FROM messages_fts WHERE messages_fts MATCH ?1"
        "   AND rowid IN (SELECT id FROM messages WHERE ticket_id = ?2)"
        "  UNION ALL"
        "  SELECT bm25(tickets_fts), snippet(tickets_fts, 0, '[', ']', '...', 12)"
        "  FROM tickets_fts WHERE tickets_fts MATCH ?1 AND rowid = ?2)"
        " ORDER BY score LIMIT 1";
    g_autoptr(GPtrArray) terms = search_terms(text);
    g_autofree char *sql = NULL;
    g_autofree char *any = NULL;
    GPtrArray *hits = g_ptr_array_new_with_free_func(hit_free);
    sqlite3_stmt *s = NULL, *snip = NULL;
    bool ok = false;
    int rc;

    if (terms->len == 0)
        return hits;
    if (terms->len > ADMIN_SEARCH_MAX_WORDS) {
        g_set_error(error, STORE_ERROR, STORE_ERROR_FAILED,
                    "search takes at most %d words, not %u", ADMIN_SEARCH_MAX_WORDS, terms->len);
        return g_ptr_array_unref(hits), NULL;
    }
    sql = search_sql(terms->len);
    any = join_terms(terms, " OR ");
    /* One snapshot for the tickets and their snippets. */
    if (!read_begin(a, error))
        return g_ptr_array_unref(hits), NULL;
    s = prepare(a->db, a->path, sql, error);
    if (s != NULL)
        snip = prepare(a->db, a->path, snippet_sql, error);
    if (snip == NULL)
        goto out;
    for (guint i = 0; i < terms->len; i++)
        sqlite3_bind_text(s, (int)i + 1, g_ptr_array_index(terms, i), -1, SQLITE_STATIC);
    sqlite3_bind_int(s, (int)terms->len + 1, (int)limit);
    sqlite3_bind_text(snip, 1, any, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct admin_hit *h = g_new0(struct admin_hit, 1);
        h->ticket_id = sqlite3_column_int64(s, 0);
        h->tag = store_column_dup(s, 1);
        h->status = store_column_dup(s, 2);
        h->subject = store_column_dup(s, 3);
        g_ptr_array_add(hits, h);
        h->snippet = search_snippet(a, snip, h->ticket_id, error);
        if (h->snippet == NULL)
            goto out;
    }
    if (rc != SQLITE_DONE) {
        set_db_error(error, a->db, rc, a->path, "searching");
        goto out;
    }
    ok = true;
out:
    sqlite3_finalize(s);
    sqlite3_finalize(snip);
    read_end(a);
    if (!ok)
        g_clear_pointer(&hits, g_ptr_array_unref);
    return hits;
}

/* ---- export ---- */

#define TICKET_COLUMNS STORE_TICKET_COLUMNS

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

static void
ticket_event_free_cb(gpointer p)
{
    struct ticket_event *e = p;

    g_free(e->at);
    g_free(e->type);
    g_free(e->actor);
    g_free(e->detail);
    g_free(e);
}

static GPtrArray *
read_messages(struct admin *a, sqlite3_stmt *s, gint64 ticket, GError **error)
{
    GPtrArray *rows = g_ptr_array_new_with_free_func(message_free);
    int rc;

    sqlite3_bind_int64(s, 1, ticket);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct admin_message *m = g_new0(struct admin_message, 1);
        m->id = sqlite3_column_int64(s, 0);
        m->message_id = store_column_dup(s, 1);
        m->direction = store_column_dup(s, 2);
        m->kind = store_column_dup(s, 3);
        m->from = store_column_dup(s, 4);
        m->to = store_column_dup(s, 5);
        m->cc = store_column_dup(s, 6);
        m->subject = store_column_dup(s, 7);
        m->in_reply_to = store_column_dup(s, 8);
        m->references = store_column_dup(s, 9);
        m->text = store_column_dup(s, 10);
        m->received_at = store_column_dup(s, 11);
        m->queue_id = store_column_dup(s, 12);
        m->envelope_from = store_column_dup(s, 13);
        m->client_addr = store_column_dup(s, 14);
        m->raw_size = sqlite3_column_int64(s, 15);
        g_ptr_array_add(rows, m);
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) {
        set_db_error(error, a->db, rc, a->path, "reading messages");
        g_ptr_array_unref(rows);
        return NULL;
    }
    return rows;
}

static GPtrArray *
read_events(struct admin *a, sqlite3_stmt *s, gint64 ticket, GError **error)
{
    GPtrArray *rows = g_ptr_array_new_with_free_func(ticket_event_free_cb);
    int rc;

    sqlite3_bind_int64(s, 1, ticket);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct ticket_event *e = g_new0(struct ticket_event, 1);
        e->id = sqlite3_column_int64(s, 0);
        e->at = store_column_dup(s, 1);
        e->type = store_column_dup(s, 2);
        e->actor = store_column_dup(s, 3);
        e->detail = store_column_dup(s, 4);
        g_ptr_array_add(rows, e);
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) {
        set_db_error(error, a->db, rc, a->path, "reading events");
        g_ptr_array_unref(rows);
        return NULL;
    }
    return rows;
}

bool
admin_export(struct admin *a, gint64 id, admin_export_fn fn, void *data, guint *count,
             GError **error)
{
    sqlite3_stmt *tickets = NULL, *messages = NULL, *events = NULL;
    bool ok = false;
    int rc;

    *count = 0;
    if (!read_begin(a, error))
        return false;
    tickets = prepare(a->db, a->path,
                      id > 0 ? "SELECT " TICKET_COLUMNS " FROM tickets WHERE id = ?1"
                             : "SELECT " TICKET_COLUMNS " FROM tickets ORDER BY id",
                      error);
    if (tickets != NULL)
        messages = prepare(a->db, a->path,
                           "SELECT id, message_id, direction, kind, from_addr, to_addrs,"
                           " cc_addrs, subject, in_reply_to, refs, text, received_at, queue_id,"
                           " envelope_from, client_addr,"
                           " CASE WHEN raw IS NULL THEN -1 ELSE length(raw) END"
                           " FROM messages WHERE ticket_id = ?1 ORDER BY id",
                           error);
    if (messages != NULL)
        events = prepare(a->db, a->path,
                         "SELECT id, at, type, actor, detail FROM events"
                         " WHERE ticket_id = ?1 ORDER BY id",
                         error);
    if (events == NULL)
        goto out;
    if (id > 0)
        sqlite3_bind_int64(tickets, 1, id);
    while ((rc = sqlite3_step(tickets)) == SQLITE_ROW) {
        struct ticket *t = store_ticket_from_row(tickets);
        g_autoptr(GPtrArray) msgs = read_messages(a, messages, t->id, error);
        g_autoptr(GPtrArray) evs = msgs != NULL ? read_events(a, events, t->id, error) : NULL;
        bool done = evs != NULL && fn(t, msgs, evs, data, error);

        ticket_free(t);
        if (!done)
            goto out;
        (*count)++;
    }
    if (rc != SQLITE_DONE) {
        set_db_error(error, a->db, rc, a->path, "reading tickets");
        goto out;
    }
    ok = true;
out:
    sqlite3_finalize(tickets);
    sqlite3_finalize(messages);
    sqlite3_finalize(events);
    read_end(a);
    return ok;
}

/* ---- purge ---- */

struct purge_sql {
    sqlite3_stmt *candidates, *measure, *clear, *event;
};

static void
purge_sql_clear(struct purge_sql *q)
{
    sqlite3_finalize(q->candidates);
    sqlite3_finalize(q->measure);
    sqlite3_finalize(q->clear);
    sqlite3_finalize(q->event);
    memset(q, 0, sizeof(*q));
}

static bool
purge_prepare(struct admin *a, struct purge_sql *q, GError **error)
{
    g_autofree char *candidates = g_strdup_printf(
        "SELECT id FROM tickets WHERE status = 'closed' AND updated_at < ?1 AND id > ?2"
        " AND EXISTS (SELECT 1 FROM messages WHERE ticket_id = tickets.id AND raw IS NOT NULL)"
        " ORDER BY id LIMIT %d",
        PURGE_BATCH);

    q->candidates = prepare(a->db, a->path, candidates, error);
    /* Attachments are a JSON list per message (schema 8), their bytes in
     * raw; a list that is not valid JSON counts for none rather than
     * stopping the purge. */
    if (q->candidates != NULL)
        q->measure = prepare(a->db, a->path,
                             "SELECT count(*), coalesce(sum(length(raw)), 0),"
                             " coalesce(sum(CASE WHEN json_valid(attachments)"
                             "  AND json_type(attachments) = 'array'"
                             "  THEN json_array_length(attachments) ELSE 0 END), 0)"
                             " FROM messages WHERE ticket_id = ?1 AND raw IS NOT NULL",
                             error);
    if (q->measure != NULL)
        q->clear = prepare(a->db, a->path,
                           "UPDATE messages SET raw = NULL"
                           " WHERE ticket_id = ?1 AND raw IS NOT NULL",
                           error);
    if (q->clear != NULL)
        q->event = prepare(a->db, a->path,
                           "INSERT INTO events (ticket_id, at, type, actor, detail)"
                           " VALUES (?1, ?2, 'purged', ?3, ?4)",
                           error);
    return q->event != NULL;
}

static bool
step_done(struct admin *a, sqlite3_stmt *s, const char *what, GError **error)
{
    int rc = sqlite3_step(s);

    sqlite3_reset(s);
    if (rc != SQLITE_DONE) {
        set_db_error(error, a->db, rc, a->path, what);
        return false;
    }
    return true;
}

static bool
purge_ticket(struct admin *a, struct purge_sql *q, gint64 id, const char *before, const char *at,
             const char *actor, struct admin_purge_result *out, GError **error)
{
    gint64 messages = 0, bytes = 0, attachments = 0;
    g_autofree char *detail = NULL;
    int rc;

    sqlite3_bind_int64(q->measure, 1, id);
    rc = sqlite3_step(q->measure);
    if (rc == SQLITE_ROW) {
        messages = sqlite3_column_int64(q->measure, 0);
        bytes = sqlite3_column_int64(q->measure, 1);
        attachments = sqlite3_column_int64(q->measure, 2);
    }
    sqlite3_reset(q->measure);
    if (rc != SQLITE_ROW) {
        set_db_error(error, a->db, rc, a->path, "measuring raw messages");
        return false;
    }
    sqlite3_bind_int64(q->clear, 1, id);
    if (!step_done(a, q->clear, "removing raw messages", error))
        return false;
    g_autoptr(JsonObject) o = json_object_new();
    json_object_set_string_member(o, "before", before);
    json_object_set_int_member(o, "messages", messages);
    json_object_set_int_member(o, "bytes", bytes);
    json_object_set_int_member(o, "attachments", attachments);
    detail = event_json_text(o);
    sqlite3_bind_int64(q->event, 1, id);
    sqlite3_bind_text(q->event, 2, at, -1, SQLITE_STATIC);
    sqlite3_bind_text(q->event, 3, actor, -1, SQLITE_STATIC);
    sqlite3_bind_text(q->event, 4, detail, -1, SQLITE_STATIC);
    if (!step_done(a, q->event, "recording the purge", error))
        return false;
    out->tickets++;
    out->messages += (guint)messages;
    out->attachments += (guint)attachments;
    out->bytes += bytes;
    return true;
}

/* One batch in one write transaction; *LAST is the highest id seen. */
static bool
purge_batch(struct admin *a, struct purge_sql *q, const char *before, const char *at,
            const char *actor, gint64 *last, guint *seen, struct admin_purge_result *out,
            GError **error)
{
    g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(gint64));
    int rc;

    *seen = 0;
    if (!exec_sql(a->db, a->path, "BEGIN IMMEDIATE", error))
        return false;
    sqlite3_bind_text(q->candidates, 1, before, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q->candidates, 2, *last);
    while ((rc = sqlite3_step(q->candidates)) == SQLITE_ROW) {
        gint64 id = sqlite3_column_int64(q->candidates, 0);
        g_array_append_val(ids, id);
    }
    sqlite3_reset(q->candidates);
    if (rc != SQLITE_DONE) {
        set_db_error(error, a->db, rc, a->path, "finding closed tickets");
        goto fail;
    }
    for (guint i = 0; i < ids->len; i++) {
        gint64 id = g_array_index(ids, gint64, i);
        if (!purge_ticket(a, q, id, before, at, actor, out, error))
            goto fail;
        *last = id;
    }
    if (!exec_sql(a->db, a->path, "COMMIT", error))
        goto fail;
    *seen = ids->len;
    return true;
fail:
    if (!sqlite3_get_autocommit(a->db))
        sqlite3_exec(a->db, "ROLLBACK", NULL, NULL, NULL);
    return false;
}

bool
admin_purge(struct admin *a, const char *before, const char *at, const char *actor,
            struct admin_purge_result *out, GError **error)
{
    struct purge_sql q = { 0 };
    struct admin_purge_result done = { 0 };
    gint64 last = 0;
    guint seen;
    bool ok;

    memset(out, 0, sizeof(*out));
    if (!purge_prepare(a, &q, error)) {
        purge_sql_clear(&q);
        return false;
    }
    do {
        ok = purge_batch(a, &q, before, at, actor, &last, &seen, &done, error);
        /* Batches already committed stay done: report them either way. */
        if (ok)
            *out = done;
    } while (ok && seen == PURGE_BATCH);
    purge_sql_clear(&q);
    return ok;
}

/* ---- backups ---- */

static void
table_count_free(gpointer p)
{
    struct admin_table_count *c = p;

    g_free(c->table);
    g_free(c);
}

/* Row counts of every ordinary table of DB, by name (inside the caller's
 * transaction, if any). Virtual tables are left out: their rows are those
 * of the tables they index. */
static GPtrArray *
count_rows(sqlite3 *db, const char *path, GError **error)
{
    GPtrArray *counts = g_ptr_array_new_with_free_func(table_count_free);
    sqlite3_stmt *s = prepare(db, path,
                              "SELECT name FROM sqlite_master WHERE type = 'table'"
                              " AND sql NOT LIKE 'CREATE VIRTUAL TABLE%' ORDER BY name",
                              error);
    int rc;

    if (s == NULL)
        return g_ptr_array_unref(counts), NULL;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct admin_table_count *c = g_new0(struct admin_table_count, 1);
        c->table = store_column_dup(s, 0);
        g_ptr_array_add(counts, c);
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) {
        set_db_error(error, db, rc, path, "listing tables");
        return g_ptr_array_unref(counts), NULL;
    }
    for (guint i = 0; i < counts->len; i++) {
        struct admin_table_count *c = g_ptr_array_index(counts, i);
        char *sql = sqlite3_mprintf("SELECT count(*) FROM \"%w\"", c->table);
        bool ok = query_ints(db, path, sql, &c->rows, 1, error);
        sqlite3_free(sql);
        if (!ok)
            return g_ptr_array_unref(counts), NULL;
    }
    return counts;
}

/* "ok", or the first problems integrity_check names. */
static char *
integrity(sqlite3 *db, const char *path, GError **error)
{
    sqlite3_stmt *s = prepare(db, path, "PRAGMA integrity_check(5)", error);
    GString *out = g_string_new(NULL);
    int rc;

    if (s == NULL)
        return g_string_free(out, TRUE), NULL;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (out->len > 0)
            g_string_append(out, "; ");
        g_string_append(out, (const char *)sqlite3_column_text(s, 0));
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) {
        set_db_error(error, db, rc, path, "checking integrity");
        return g_string_free(out, TRUE), NULL;
    }
    return g_string_free(out, FALSE);
}

/* A copy is only a backup once its bytes are on disk. */
static bool
sync_path(const char *path, GError **error)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    bool ok;

    if (fd < 0) {
        g_set_error(error, STORE_ERROR, STORE_ERROR_FAILED, "%s: cannot open to sync: %s", path,
                    g_strerror(errno));
        return false;
    }
    ok = fsync(fd) == 0;
    if (!ok)
        g_set_error(error, STORE_ERROR, errno == ENOSPC ? STORE_ERROR_FULL : STORE_ERROR_FAILED,
                    "%s: cannot sync: %s", path, g_strerror(errno));
    close(fd);
    return ok;
}

/* The rename into DIR is only durable once DIR is synced. Some file
 * systems cannot sync a directory and say so with EINVAL (or ENOTSUP,
 * EBADF); SQLite ignores those too. The file itself is synced already, so
 * a verified backup is not thrown away for them. */
static bool
sync_dir(const char *dir, GError **error)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int err;

    if (fd < 0) {
        g_set_error(error, STORE_ERROR, STORE_ERROR_FAILED, "%s: cannot open to sync: %s", dir,
                    g_strerror(errno));
        return false;
    }
    if (fsync(fd) == 0) {
        close(fd);
        return true;
    }
    err = errno;
    close(fd);
    if (err == EINVAL || err == ENOTSUP || err == EOPNOTSUPP || err == EBADF)
        return true;
    g_set_error(error, STORE_ERROR, err == ENOSPC ? STORE_ERROR_FULL : STORE_ERROR_FAILED,
                "%s: cannot sync: %s", dir, g_strerror(err));
    return false;
}

/* Copies the open SRC (in whatever transaction it is in) into a new file
 * DEST that stands alone: rollback journal, no -wal beside it. */
static bool
copy_into_file(sqlite3 *src, const char *src_path, const char *dest, GError **error)
{
    sqlite3 *db = open_db(dest, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, 5000, error);
    sqlite3_backup *b;
    int rc;

    if (db == NULL)
        return false;
    b = sqlite3_backup_init(db, "main", src, "main");
    if (b == NULL) {
        set_db_error(error, db, sqlite3_errcode(db), dest, "starting the copy");
        sqlite3_close(db);
        return false;
    }
    rc = sqlite3_backup_step(b, -1);
    sqlite3_backup_finish(b);
    if (rc != SQLITE_DONE) {
        g_set_error(error, STORE_ERROR, store_error_code(rc, 0), "%s: copying %s failed: %s", dest,
                    src_path, sqlite3_errstr(rc));
        sqlite3_close(db);
        return false;
    }
    /* The copied header says WAL, as the source is; a backup file is read
     * by tools that may not be able to create a -shm next to it. */
    if (!exec_sql(db, dest, "PRAGMA journal_mode = DELETE", error)) {
        sqlite3_close(db);
        return false;
    }
    sqlite3_close(db);
    return sync_path(dest, error);
}

static bool
counts_equal(GPtrArray *want, GPtrArray *got, const char *path, GError **error)
{
    if (want->len != got->len) {
        g_set_error(error, STORE_ERROR, STORE_ERROR_CORRUPT,
                    "%s: the copy has %u tables, the source had %u", path, got->len, want->len);
        return false;
    }
    for (guint i = 0; i < want->len; i++) {
        const struct admin_table_count *w = g_ptr_array_index(want, i);
        const struct admin_table_count *g = g_ptr_array_index(got, i);
        if (strcmp(w->table, g->table) != 0 || w->rows != g->rows) {
            g_set_error(error, STORE_ERROR, STORE_ERROR_CORRUPT,
                        "%s: table %s has %" G_GINT64_FORMAT " rows in the copy, %" G_GINT64_FORMAT
                        " in the source",
                        path, w->table, g->rows, w->rows);
            return false;
        }
    }
    return true;
}

/* Always to the second: a name to the minute sorts before a later one of
 * the same minute with seconds (T1000Z is 10:00:00, before T100030Z), so a
 * third backup named to the minute would read as older than the second. */
static char *
backup_name(GDateTime *now)
{
    g_autoptr(GDateTime) utc = g_date_time_to_utc(now);

    return g_date_time_format(utc, "tickets-%Y%m%dT%H%M%SZ.db");
}

static void
remove_database_files(const char *path)
{
    g_autofree char *wal = g_strconcat(path, "-wal", NULL);
    g_autofree char *shm = g_strconcat(path, "-shm", NULL);
    g_autofree char *journal = g_strconcat(path, "-journal", NULL);

    g_unlink(path);
    g_unlink(wal);
    g_unlink(shm);
    g_unlink(journal);
}

static bool
has_table(GPtrArray *counts, const char *table)
{
    for (guint i = 0; i < counts->len; i++)
        if (strcmp(((struct admin_table_count *)g_ptr_array_index(counts, i))->table, table) == 0)
            return true;
    return false;
}

/* The snapshot: counts and copy inside one read transaction of SRC. */
static bool
backup_snapshot(const char *db_path, const char *tmp, guint busy_timeout_ms, GPtrArray **counts,
                GError **error)
{
    sqlite3 *src = open_db(db_path, SQLITE_OPEN_READONLY, busy_timeout_ms, error);
    bool ok;

    *counts = NULL;
    if (src == NULL)
        return false;
    ok = exec_sql(src, db_path, "BEGIN", error);
    if (ok)
        *counts = count_rows(src, db_path, error);
    if (*counts != NULL && !has_table(*counts, "schema_version")) {
        /* An empty file verifies as an empty copy: worse than no backup. */
        g_set_error(error, STORE_ERROR, STORE_ERROR_CORRUPT, "%s: is not a ticket-milter database",
                    db_path);
        g_clear_pointer(counts, g_ptr_array_unref);
    }
    ok = *counts != NULL && copy_into_file(src, db_path, tmp, error);
    sqlite3_exec(src, "COMMIT", NULL, NULL, NULL);
    sqlite3_close(src);
    return ok;
}

static bool
backup_check(const char *tmp, GPtrArray *want, GError **error)
{
    sqlite3 *db = open_db(tmp, SQLITE_OPEN_READONLY, 5000, error);
    g_autofree char *check = NULL;
    g_autoptr(GPtrArray) got = NULL;
    bool ok = false;

    if (db == NULL)
        return false;
    check = integrity(db, tmp, error);
    if (check != NULL && strcmp(check, "ok") != 0)
        g_set_error(error, STORE_ERROR, STORE_ERROR_CORRUPT,
                    "%s: integrity check of the copy failed: %s", tmp, check);
    else if (check != NULL && (got = count_rows(db, tmp, error)) != NULL)
        ok = counts_equal(want, got, tmp, error);
    sqlite3_close(db);
    return ok;
}

bool
admin_backup_run(const char *db_path, const char *dir, GDateTime *now, guint busy_timeout_ms,
                 struct admin_backup *out, GError **error)
{
    g_autofree char *name = backup_name(now);
    g_autofree char *path = g_build_filename(dir, name, NULL);
    g_autofree char *tmp = NULL;
    gint64 t0, t1;
    GStatBuf sb;

    memset(out, 0, sizeof(*out));
    if (g_mkdir_with_parents(dir, 0750) != 0) {
        g_set_error(error, STORE_ERROR, STORE_ERROR_READONLY, "%s: cannot create directory: %s",
                    dir, g_strerror(errno));
        return false;
    }
    if (g_file_test(path, G_FILE_TEST_EXISTS)) {
        g_set_error(error, STORE_ERROR, STORE_ERROR_FAILED, "%s: a backup of this second exists",
                    path);
        return false;
    }
    /* Hidden and suffixed, so that pruning and readers never take a copy
     * that is not finished and verified for a backup. */
    tmp = g_strdup_printf("%s/.%s.tmp", dir, name);
    remove_database_files(tmp);
    t0 = g_get_monotonic_time();
    if (!backup_snapshot(db_path, tmp, busy_timeout_ms, &out->counts, error))
        goto fail;
    t1 = g_get_monotonic_time();
    if (!backup_check(tmp, out->counts, error))
        goto fail;
    if (g_rename(tmp, path) != 0) {
        g_set_error(error, STORE_ERROR, STORE_ERROR_FAILED, "%s: cannot rename the copy: %s", path,
                    g_strerror(errno));
        goto fail;
    }
    remove_database_files(tmp);
    if (!sync_dir(dir, error))
        goto fail_final;
    out->path = g_steal_pointer(&path);
    out->copy_us = t1 - t0;
    out->verify_us = g_get_monotonic_time() - t1;
    out->bytes = g_stat(out->path, &sb) == 0 ? (gint64)sb.st_size : 0;
    return true;
fail_final:
    g_unlink(path);
fail:
    remove_database_files(tmp);
    g_clear_pointer(&out->counts, g_ptr_array_unref);
    return false;
}

void
admin_backup_clear(struct admin_backup *b)
{
    g_clear_pointer(&b->path, g_free);
    g_clear_pointer(&b->counts, g_ptr_array_unref);
}

static bool
all_digits(const char *s, gsize n)
{
    for (gsize i = 0; i < n; i++)
        if (!g_ascii_isdigit(s[i]))
            return false;
    return true;
}

GDateTime *
admin_backup_name_time(const char *name)
{
    static const char prefix[] = "tickets-", suffix[] = "Z.db";
    gsize len = strlen(name), mid;
    const char *d = name + strlen(prefix);

    if (!g_str_has_prefix(name, prefix) || !g_str_has_suffix(name, suffix))
        return NULL;
    mid = len - strlen(prefix) - strlen(suffix);
    if ((mid != 13 && mid != 15) || d[8] != 'T' || !all_digits(d, 8) ||
        !all_digits(d + 9, mid - 9))
        return NULL;
    {
        const int at[6] = { 0, 4, 6, 9, 11, 13 }, width[6] = { 4, 2, 2, 2, 2, 2 };
        int v[6] = { 0 };
        for (int i = 0; i < (mid == 15 ? 6 : 5); i++)
            for (int k = 0; k < width[i]; k++)
                v[i] = v[i] * 10 + (d[at[i] + k] - '0');
        return g_date_time_new_utc(v[0], v[1], v[2], v[3], v[4], v[5]);
    }
}

struct dated {
    char *name;
    GDateTime *at;
    bool keep;
};

static gint
newest_first(gconstpointer a, gconstpointer b)
{
    const struct dated *x = *(struct dated *const *)a, *y = *(struct dated *const *)b;
    int c = g_date_time_compare(y->at, x->at);

    return c != 0 ? c : strcmp(y->name, x->name);
}

static void
dated_free(gpointer p)
{
    struct dated *d = p;

    g_free(d->name);
    g_date_time_unref(d->at);
    g_free(d);
}

/* Keeps the newest backup of each of the newest N periods named by FORMAT. */
static void
keep_per_period(GPtrArray *backups, const char *format, guint n)
{
    g_autofree char *last = NULL;
    guint periods = 0;

    for (guint i = 0; i < backups->len && periods <= n; i++) {
        struct dated *d = g_ptr_array_index(backups, i);
        g_autofree char *period = g_date_time_format(d->at, format);
        if (g_strcmp0(period, last) == 0)
            continue;
        g_free(last);
        last = g_steal_pointer(&period);
        if (periods++ < n)
            d->keep = true;
    }
}

GPtrArray *
admin_retention_drop(GPtrArray *names, const struct admin_retention *r, const char *keep)
{
    g_autoptr(GPtrArray) backups = g_ptr_array_new_with_free_func(dated_free);
    GPtrArray *drop = g_ptr_array_new_with_free_func(g_free);

    for (guint i = 0; i < names->len; i++) {
        const char *name = g_ptr_array_index(names, i);
        GDateTime *at = admin_backup_name_time(name);
        if (at == NULL)
            continue;
        struct dated *d = g_new0(struct dated, 1);
        d->name = g_strdup(name);
        d->at = at;
        g_ptr_array_add(backups, d);
    }
    if (backups->len == 0)
        return drop;
    g_ptr_array_sort(backups, newest_first);
    ((struct dated *)g_ptr_array_index(backups, 0))->keep = true;
    keep_per_period(backups, "%Y-%m-%d", r->daily);
    keep_per_period(backups, "%G-W%V", r->weekly);
    keep_per_period(backups, "%Y-%m", r->monthly);
    for (guint i = 0; i < backups->len; i++) {
        struct dated *d = g_ptr_array_index(backups, i);
        /* The backup this run made and verified is never its own victim,
         * whatever else (a file dated in the future, say) sorts newer. */
        if (!d->keep && g_strcmp0(d->name, keep) != 0)
            g_ptr_array_add(drop, g_strdup(d->name));
    }
    return drop;
}

GPtrArray *
admin_prune(const char *dir, const struct admin_retention *r, const char *keep, GError **error)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, error);
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    GPtrArray *drop;
    const char *name;

    if (d == NULL)
        return NULL;
    while ((name = g_dir_read_name(d)) != NULL)
        g_ptr_array_add(names, g_strdup(name));
    drop = admin_retention_drop(names, r, keep);
    for (guint i = 0; i < drop->len; i++) {
        g_autofree char *path = g_build_filename(dir, g_ptr_array_index(drop, i), NULL);
        if (g_unlink(path) != 0 && errno != ENOENT) {
            g_set_error(error, STORE_ERROR, STORE_ERROR_READONLY, "%s: cannot remove: %s", path,
                        g_strerror(errno));
            g_ptr_array_unref(drop);
            return NULL;
        }
    }
    return drop;
}

/* The schema version this build writes: what store_open makes of an empty
 * database. Asked of the store itself so that it cannot drift. */
static int
known_version(GError **error)
{
    g_autofree char *path = NULL;
    struct store *st;
    gint64 version = -1;
    sqlite3 *db;
    int fd = g_file_open_tmp("ticketctl-schema-XXXXXX.db", &path, error);

    if (fd < 0)
        return -1;
    close(fd);
    st = store_open(path, STORE_READ_WRITE, 1000, error);
    if (st != NULL) {
        store_close(st);
        db = open_db(path, SQLITE_OPEN_READONLY, 1000, error);
        if (db != NULL &&
            !query_ints(db, path, "SELECT max(version) FROM schema_version", &version, 1, error))
            version = -1;
        sqlite3_close(db);
    }
    remove_database_files(path);
    return (int)version;
}

bool
admin_verify_file(const char *file, struct admin_verify *out, GError **error)
{
    sqlite3 *db;
    g_autofree char *check = NULL;
    gint64 v[2] = { 0, 0 };
    gint64 version = 0;
    bool ok = false;

    memset(out, 0, sizeof(*out));
    out->known_version = known_version(error);
    if (out->known_version < 0)
        return false;
    db = open_db(file, SQLITE_OPEN_READONLY, 5000, error);
    if (db == NULL)
        return false;
    check = integrity(db, file, error);
    if (check == NULL)
        goto out;
    if (strcmp(check, "ok") != 0) {
        g_set_error(error, STORE_ERROR, STORE_ERROR_CORRUPT, "%s: integrity check failed: %s",
                    file, check);
        goto out;
    }
    if (!query_ints(db, file,
                    "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
                    " AND name IN ('schema_version', 'tickets', 'messages')",
                    &version, 1, error))
        goto out;
    if (version != 3) {
        g_set_error(error, STORE_ERROR, STORE_ERROR_CORRUPT,
                    "%s: is an SQLite database but not a ticket-milter one", file);
        goto out;
    }
    if (!query_ints(db, file, "SELECT max(version) FROM schema_version", &version, 1, error) ||
        !query_ints(db, file,
                    "SELECT (SELECT count(*) FROM tickets), (SELECT count(*) FROM messages)", v,
                    2, error))
        goto out;
    out->schema_version = (int)version;
    out->tickets = v[0];
    out->messages = v[1];
    if (out->schema_version > out->known_version) {
        g_set_error(error, STORE_ERROR, STORE_ERROR_VERSION,
                    "%s: schema version %d is newer than this ticketctl knows (%d)", file,
                    out->schema_version, out->known_version);
        goto out;
    }
    ok = true;
out:
    sqlite3_close(db);
    return ok;
}

/* Who holds an fcntl lock that conflicts with a write lock on LEN bytes at
 * START of PATH; 0 when nobody (or no such file). */
static pid_t
lock_holder(const char *path, off_t start, off_t len)
{
    struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = start, .l_len = len };
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    pid_t pid = 0;

    if (fd < 0)
        return 0;
    if (fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK)
        pid = fl.l_pid > 0 ? fl.l_pid : -1;
    close(fd);
    return pid;
}

pid_t
admin_database_holder(const char *db_path)
{
    g_autofree char *shm = g_strconcat(db_path, "-shm", NULL);
    pid_t pid;

    /* Every connection to a WAL database keeps a shared lock on the
     * "dead man switch" byte of the -shm file (byte 128 in SQLite's unix
     * VFS) for as long as it is open; a connection in a transaction also
     * locks the database file's shared range. Either means "in use". */
    pid = lock_holder(shm, 128, 1);
    if (pid == 0)
        pid = lock_holder(db_path, 0x40000000, 512);
    return pid;
}

/* Renames the database file PATH and its WAL (committed changes may still
 * be there) or rollback journal to TO; the -shm is only an index and goes. */
static bool
move_aside(const char *path, const char *to, GError **error)
{
    g_autofree char *wal = g_strconcat(path, "-wal", NULL);
    g_autofree char *to_wal = g_strconcat(to, "-wal", NULL);
    g_autofree char *journal = g_strconcat(path, "-journal", NULL);
    g_autofree char *to_journal = g_strconcat(to, "-journal", NULL);
    g_autofree char *shm = g_strconcat(path, "-shm", NULL);

    if (g_rename(path, to) != 0 ||
        (g_file_test(wal, G_FILE_TEST_EXISTS) && g_rename(wal, to_wal) != 0) ||
        (g_file_test(journal, G_FILE_TEST_EXISTS) && g_rename(journal, to_journal) != 0)) {
        g_set_error(error, STORE_ERROR, STORE_ERROR_READONLY, "%s: cannot move it aside to %s: %s",
                    path, to, g_strerror(errno));
        return false;
    }
    g_unlink(shm);
    return true;
}

/* A name for the copy of DB_PATH that no earlier restore took, claimed by
 * creating it empty (O_EXCL): two restores within one second must not
 * overwrite the first one's copy, which may be all that is left of the
 * original database. */
static char *
claim_saved_name(const char *db_path, GDateTime *now, GError **error)
{
    g_autoptr(GDateTime) utc = g_date_time_to_utc(now);
    g_autofree char *stamp = g_date_time_format(utc, "%Y%m%dT%H%M%SZ");

    for (int n = 1; n <= RESTORE_MAX_SAVED_PER_SECOND; n++) {
        g_autofree char *name =
            n == 1 ? g_strdup_printf("%s.before-restore-%s", db_path, stamp)
                   : g_strdup_printf("%s.before-restore-%s-%d", db_path, stamp, n);
        g_autofree char *wal = g_strconcat(name, "-wal", NULL);
        g_autofree char *journal = g_strconcat(name, "-journal", NULL);
        int fd;

        /* A -wal or -journal without its database is still someone's data. */
        if (g_file_test(wal, G_FILE_TEST_EXISTS) || g_file_test(journal, G_FILE_TEST_EXISTS))
            continue;
        fd = open(name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd >= 0) {
            close(fd);
            return g_steal_pointer(&name);
        }
        if (errno != EEXIST) {
            g_set_error(error, STORE_ERROR, STORE_ERROR_READONLY, "%s: cannot create: %s", name,
                        g_strerror(errno));
            return NULL;
        }
    }
    g_set_error(error, STORE_ERROR, STORE_ERROR_FAILED,
                "%s: %d copies saved before restores in this second already", db_path,
                RESTORE_MAX_SAVED_PER_SECOND);
    return NULL;
}

/* Saves DB_PATH as a new *SAVED. A damaged database cannot be copied page
 * by page, so it is moved aside whole (onto the name we claimed). */
static bool
save_current(const char *db_path, GDateTime *now, char **saved, GError **error)
{
    g_autofree char *copy = claim_saved_name(db_path, now, error);
    g_autoptr(GPtrArray) counts = NULL;

    if (copy == NULL)
        return false;
    if (!backup_snapshot(db_path, copy, 5000, &counts, NULL)) {
        g_autofree char *wal = g_strconcat(copy, "-wal", NULL);
        g_autofree char *shm = g_strconcat(copy, "-shm", NULL);
        g_autofree char *journal = g_strconcat(copy, "-journal", NULL);
        g_unlink(wal);
        g_unlink(shm);
        g_unlink(journal);
        if (!move_aside(db_path, copy, error)) {
            g_unlink(copy);
            return false;
        }
    }
    *saved = g_steal_pointer(&copy);
    return true;
}

/* The new file gets the old one's owner and mode: the daemon may run as
 * another user than the admin who restores. */
static bool
take_owner(const char *tmp, const GStatBuf *old, GError **error)
{
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    bool ok;

    if (fd < 0) {
        g_set_error(error, STORE_ERROR, STORE_ERROR_READONLY, "%s: cannot create: %s", tmp,
                    g_strerror(errno));
        return false;
    }
    ok = old == NULL || ((fchown(fd, old->st_uid, old->st_gid) == 0 || geteuid() == old->st_uid) &&
                         fchmod(fd, old->st_mode & 0777) == 0);
    if (!ok)
        g_set_error(error, STORE_ERROR, STORE_ERROR_READONLY,
                    "%s: cannot give it the owner and mode of the database: %s", tmp,
                    g_strerror(errno));
    close(fd);
    return ok;
}

/* FILE copied into TMP, which stands alone: its rows counted in the read
 * of FILE that fed the copy and checked in the copy, then switched to WAL
 * as the daemon runs it. */
static bool
restore_copy(const char *file, const char *tmp, GError **error)
{
    g_autoptr(GPtrArray) counts = NULL;
    sqlite3 *db;
    bool ok;

    if (!backup_snapshot(file, tmp, 5000, &counts, error) || !backup_check(tmp, counts, error))
        return false;
    db = open_db(tmp, SQLITE_OPEN_READWRITE, 5000, error);
    ok = db != NULL && exec_sql(db, tmp, "PRAGMA journal_mode = WAL", error);
    sqlite3_close(db);
    return ok && sync_path(tmp, error);
}

bool
admin_restore(const char *file, const char *db_path, GDateTime *now, char **saved,
              GError **error)
{
    g_autofree char *dir = g_path_get_dirname(db_path);
    g_autofree char *base = g_path_get_basename(db_path);
    g_autofree char *tmp = g_strdup_printf("%s/.%s.restore.tmp", dir, base);
    g_autofree char *wal = g_strconcat(db_path, "-wal", NULL);
    g_autofree char *shm = g_strconcat(db_path, "-shm", NULL);
    g_autofree char *journal = g_strconcat(db_path, "-journal", NULL);
    struct admin_verify v;
    GStatBuf old;
    bool has_old;

    *saved = NULL;
    if (!admin_verify_file(file, &v, error))
        return false;
    has_old = g_stat(db_path, &old) == 0;
    /* The database we are about to replace may be the only copy of the
     * last hours: keep it, whatever the admin meant. */
    if (g_file_test(db_path, G_FILE_TEST_EXISTS) && !save_current(db_path, now, saved, error))
        return false;
    /* A new file beside the live one, renamed over it once it is checked:
     * copying into the live file fails when the page sizes differ (the
     * live file is in WAL mode), and a half-written live file is worse
     * than the old one. */
    remove_database_files(tmp);
    if (!take_owner(tmp, has_old ? &old : NULL, error) || !restore_copy(file, tmp, error))
        goto fail;
    /* The old database is saved: its WAL would be replayed into the new
     * file, and its -shm describes that WAL. Nobody has it open (the
     * caller checked), so they can go. */
    g_unlink(wal);
    g_unlink(shm);
    g_unlink(journal);
    if (g_rename(tmp, db_path) != 0) {
        g_set_error(error, STORE_ERROR, STORE_ERROR_READONLY, "%s: cannot rename %s over it: %s",
                    db_path, tmp, g_strerror(errno));
        goto fail;
    }
    remove_database_files(tmp);
    return sync_dir(dir, error);
fail:
    remove_database_files(tmp);
    return false;
}
