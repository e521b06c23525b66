/*
 * outbox - the outbox table: what is to be sent, and what became of it.
 *
 * Owns the recipients' form in the table: a JSON array of strings (an
 * address list joined with commas was split again into more RCPTs than
 * were meant), read back into a NULL-terminated list.
 *
 * Edge cases: a recipients value that is not a JSON array (a damaged row)
 * is one recipient as written, so that the dispatcher fails it visibly
 * rather than sending it somewhere else; a row with no first attempt time
 * is due at once.  On failure: STORE_ERROR from store/db.c, naming the
 * statement.
 *
 * Also owns the claims (store/outbox.h): claimed_by and claimed_until,
 * set by store_outbox_claim() and checked by every outcome.  Times are
 * the store's ISO 8601 UTC text, so a lease compares as text.
 *
 * The counts behind ack_limit and not_contact_limit (acks_since,
 * not_contacts_since) are only as exact as what runs between them and
 * the insert they allow.  One daemon's writer runs its jobs one after the
 * other in one transaction, and on SQLite there is one writer at all; but
 * the daemons of several MX hosts on one PostgreSQL database run READ
 * COMMITTED transactions side by side, each of which would count before
 * the other commits and let one more reply through.  So the caller locks
 * the key it counts (store_lock_key: a transaction-level advisory lock)
 * and holds it to its commit; a second host counting that key waits, then
 * reads the committed row.  Keys are locked in no fixed order across the
 * jobs of a batch, so two hosts may deadlock: the server fails one
 * transaction (STORE_ERROR_RETRY), and the writer runs its batch again,
 * each job deciding anew (store/writer.c, milter/ingest.c).
 */
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <json-glib/json-glib.h>

#include "store/internal.h"
#include "store/outbox.h"

#define OUTBOX_COLUMNS                                                                             \
    "id, ticket_id, kind, template, transport, mail_from, recipients, message_id, body,"           \
    " attempts, status, created_at, next_attempt_at, sent_at, last_error"
#define OUTBOX_SELECT "SELECT " OUTBOX_COLUMNS " FROM outbox"

/* A list of addresses as the outbox keeps it: a JSON array, so that no
 * address can be split into two, or two joined into one. */
static char *
recipients_json(const char *const *list)
{
    g_autoptr(JsonGenerator) gen = json_generator_new();
    g_autoptr(JsonNode) root = json_node_new(JSON_NODE_ARRAY);
    JsonArray *a = json_array_new();

    for (const char *const *p = list; p != NULL && *p != NULL; p++)
        json_array_add_string_element(a, *p);
    json_node_take_array(root, a);
    json_generator_set_root(gen, root);
    return json_generator_to_data(gen, NULL);
}

/* The outbox's JSON array back as a NULL-terminated list; a value that is
 * not one (a damaged row) is one recipient as written. */
static char **
recipients_list(const char *json)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    GPtrArray *out = g_ptr_array_new();
    JsonNode *root;

    if (json != NULL && json_parser_load_from_data(parser, json, -1, NULL) &&
        (root = json_parser_get_root(parser)) != NULL && JSON_NODE_HOLDS_ARRAY(root)) {
        JsonArray *a = json_node_get_array(root);
        for (guint i = 0; i < json_array_get_length(a); i++) {
            const char *v = json_node_get_string(json_array_get_element(a, i));
            if (v != NULL)
                g_ptr_array_add(out, g_strdup(v));
        }
    } else if (json != NULL) {
        g_ptr_array_add(out, g_strdup(json));
    }
    g_ptr_array_add(out, NULL);
    return (char **)g_ptr_array_free(out, FALSE);
}

bool
store_outbox_insert(struct store *st, const struct store_new_outbox *o, gint64 *id, GError **error)
{
    struct db_stmt *s = db_prepare(
        st->db,
        "INSERT INTO outbox (ticket_id, kind, template, transport, mail_from, recipients,"
        " message_id, body, created_at, next_attempt_at, queued_us, ack_key)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) RETURNING id",
        error);
    g_autofree char *recipients = recipients_json(o->recipients);
    g_autofree char *now = o->send_at == NULL ? store_now() : NULL;

    if (s == NULL)
        return false;
    store_bind_id(s, 1, o->ticket_id);
    db_bind_text(s, 2, o->kind);
    db_bind_text(s, 3, o->template_name);
    db_bind_text(s, 4, o->transport);
    db_bind_text(s, 5, o->mail_from != NULL ? o->mail_from : "");
    db_bind_text(s, 6, recipients);
    db_bind_text(s, 7, o->message_id);
    db_bind_text(s, 8, o->body);
    db_bind_text(s, 9, o->created_at);
    db_bind_text(s, 10, o->send_at != NULL ? o->send_at : now);
    db_bind_int64(s, 11, g_get_real_time());
    db_bind_text(s, 12, o->ack_key);
    return store_scalar(s, id, NULL, error);
}

bool
store_outbox_acks_since(struct store *st, const char *ack_key, const char *since, gint64 *count,
                        GError **error)
{
    struct db_stmt *s = db_prepare(
        st->db, "SELECT count(*) FROM outbox WHERE ack_key = ?1 AND created_at >= ?2", error);

    if (s == NULL)
        return false;
    db_bind_text(s, 1, ack_key);
    db_bind_text(s, 2, since);
    return store_scalar(s, count, NULL, error);
}

bool
store_outbox_not_contacts_since(struct store *st, const char *since, gint64 *count, GError **error)
{
    /* The template written as the index's condition writes it. */
    struct db_stmt *s = db_prepare(
        st->db, "SELECT count(*) FROM outbox WHERE template = 'not-contact' AND created_at >= ?1",
        error);

    if (s == NULL)
        return false;
    db_bind_text(s, 1, since);
    return store_scalar(s, count, NULL, error);
}

bool
store_outbox_ticket_by_message_id(struct store *st, const char *message_id, gint64 *ticket_id,
                                  GError **error)
{
    struct db_stmt *s = db_prepare(
        st->db,
        "SELECT ticket_id FROM outbox WHERE message_id = ?1 AND ticket_id IS NOT NULL LIMIT 1",
        error);

    *ticket_id = 0;
    if (s == NULL)
        return false;
    db_bind_text(s, 1, message_id);
    return store_scalar(s, ticket_id, NULL, error);
}

struct outbox_row *
store_outbox_row_free(struct outbox_row *r)
{
    if (r == NULL)
        return NULL;
    g_free(r->kind);
    g_free(r->template_name);
    g_free(r->transport);
    g_free(r->mail_from);
    g_strfreev(r->recipients);
    g_free(r->message_id);
    g_free(r->body);
    g_free(r->status);
    g_free(r->created_at);
    g_free(r->next_attempt_at);
    g_free(r->sent_at);
    g_free(r->last_error);
    g_free(r);
    return NULL;
}

static void
outbox_row_free_cb(gpointer p)
{
    store_outbox_row_free(p);
}

static gpointer
outbox_row_from_row(struct db_stmt *s)
{
    struct outbox_row *r = g_new0(struct outbox_row, 1);

    r->id = db_column_int64(s, 0);
    r->ticket_id = db_column_int64(s, 1);
    r->kind = db_column_dup(s, 2);
    r->template_name = db_column_dup(s, 3);
    r->transport = db_column_dup(s, 4);
    r->mail_from = db_column_dup(s, 5);
    r->recipients = recipients_list(db_column_text(s, 6));
    r->message_id = db_column_dup(s, 7);
    r->body = db_column_dup(s, 8);
    r->attempts = (int)db_column_int64(s, 9);
    r->status = db_column_dup(s, 10);
    r->created_at = db_column_dup(s, 11);
    r->next_attempt_at = db_column_dup(s, 12);
    r->sent_at = db_column_dup(s, 13);
    r->last_error = db_column_dup(s, 14);
    return r;
}

char *
store_outbox_claimant(void)
{
    /* The host name is the admin's to read in the table; the random part
     * tells two lives of one pid apart. */
    char *name = g_strdup_printf("%.64s:%d:%08x", g_get_host_name(), (int)getpid(), g_random_int());

    G_STATIC_ASSERT(64 + 1 + 10 + 1 + 8 < STORE_CLAIMANT_MAX);
    return name;
}

/* Due order (next attempt, then id): RETURNING promises none. */
static gint
outbox_due_order(gconstpointer a, gconstpointer b)
{
    const struct outbox_row *x = *(const struct outbox_row *const *)a;
    const struct outbox_row *y = *(const struct outbox_row *const *)b;
    int c = g_strcmp0(x->next_attempt_at, y->next_attempt_at);

    return c != 0 ? c : (x->id > y->id) - (x->id < y->id);
}

GPtrArray *
store_outbox_claim(struct store *st, const char *now, const char *transport, guint limit,
                   const char *claimant, const char *lease_until, GError **error)
{
    /* The inner SELECT picks the rows, the UPDATE claims them.  On
     * PostgreSQL the picked rows are locked and the ones another
     * transaction has locked skipped; a row claimed and committed since
     * our snapshot is read again as it is now, and its live lease keeps it
     * out.  status = 'pending' as written: what lets SQLite use
     * outbox_pending. */
#define OUTBOX_CLAIM(lock)                                                                         \
    "UPDATE outbox SET claimed_by = ?1, claimed_until = ?2 WHERE id IN ("                          \
    "SELECT id FROM outbox WHERE status = 'pending' AND transport = ?3"                            \
    " AND next_attempt_at <= ?4 AND (claimed_until IS NULL OR claimed_until <= ?4)"                \
    " ORDER BY next_attempt_at, id LIMIT ?5" lock ") RETURNING " OUTBOX_COLUMNS
    struct db_stmt *s = db_prepare(
        st->db,
        db_kind(st->db) == DB_POSTGRES ? OUTBOX_CLAIM(" FOR UPDATE SKIP LOCKED") : OUTBOX_CLAIM(""),
        error);
#undef OUTBOX_CLAIM
    GPtrArray *rows;

    if (s == NULL)
        return NULL;
    db_bind_text(s, 1, claimant);
    db_bind_text(s, 2, lease_until);
    db_bind_text(s, 3, transport);
    db_bind_text(s, 4, now);
    db_bind_int64(s, 5, limit);
    rows = store_collect(s, outbox_row_from_row, outbox_row_free_cb, error);
    if (rows != NULL)
        g_ptr_array_sort(rows, outbox_due_order);
    return rows;
}

GPtrArray *
store_outbox_for_ticket(struct store *st, gint64 ticket_id, GError **error)
{
    struct db_stmt *s =
        db_prepare(st->db, OUTBOX_SELECT " WHERE ticket_id = ?1 ORDER BY id", error);

    if (s == NULL)
        return NULL;
    db_bind_int64(s, 1, ticket_id);
    return store_collect(s, outbox_row_from_row, outbox_row_free_cb, error);
}

bool
store_outbox_next_due(struct store *st, const char *transport, char **when, GError **error)
{
    /* A row another daemon holds is not due before its lease runs out:
     * else the lane would wake at once, again and again, for it. */
#define OUTBOX_NEXT                                                                                \
    "SELECT min(CASE WHEN claimed_until > next_attempt_at THEN claimed_until"                      \
    " ELSE next_attempt_at END) FROM outbox WHERE status = 'pending'"
    struct db_stmt *s;

    if (transport == NULL)
        return store_scalar(db_prepare(st->db, OUTBOX_NEXT, error), NULL, when, error);
    s = db_prepare(st->db, OUTBOX_NEXT " AND transport = ?1", error);
#undef OUTBOX_NEXT
    if (s != NULL)
        db_bind_text(s, 1, transport);
    return store_scalar(s, NULL, when, error);
}

bool
store_outbox_pending(struct store *st, gint64 *count, GError **error)
{
    return store_scalar(
        db_prepare(st->db, "SELECT count(*) FROM outbox WHERE status = 'pending'", error), count,
        NULL, error);
}

/* The outcomes of a delivery attempt share their shape: row ?1, time ?2,
 * the error ?3 (or the relay's time, for a sent row), and the claimant ?4,
 * without whose claim nothing changes. */
static struct db_stmt *
outbox_mark(struct store *st, const char *sql, gint64 row, const char *claimant, const char *at,
            GError **error)
{
    struct db_stmt *s = db_prepare(st->db, sql, error);

    if (s != NULL) {
        db_bind_int64(s, 1, row);
        db_bind_text(s, 2, at);
        db_bind_text(s, 4, claimant);
    }
    return s;
}

/* Runs the bound outcome S; *RECORDED: whether the claim was still ours. */
static bool
outbox_mark_done(struct db_stmt *s, bool *recorded, GError **error)
{
    *recorded = false;
    if (!store_step_done(s, error))
        return false;
    *recorded = db_changes(s) == 1;
    return true;
}

bool
store_outbox_mark_sent(struct store *st, gint64 id, const char *claimant, const char *at,
                       gint64 sent_us, bool *recorded, GError **error)
{
    struct db_stmt *s = outbox_mark(st,
                                    "UPDATE outbox SET status = 'sent', sent_at = ?2,"
                                    " attempts = attempts + 1, last_error = NULL, sent_us = ?3,"
                                    " claimed_until = NULL WHERE id = ?1 AND claimed_by = ?4",
                                    id, claimant, at, error);

    if (s != NULL)
        db_bind_int64(s, 3, sent_us);
    return outbox_mark_done(s, recorded, error);
}

bool
store_outbox_mark_retry(struct store *st, gint64 id, const char *claimant, const char *next_at,
                        const char *last_error, bool *recorded, GError **error)
{
    struct db_stmt *s = outbox_mark(st,
                                    "UPDATE outbox SET next_attempt_at = ?2, last_error = ?3,"
                                    " attempts = attempts + 1, claimed_by = NULL,"
                                    " claimed_until = NULL WHERE id = ?1 AND claimed_by = ?4",
                                    id, claimant, next_at, error);

    if (s != NULL)
        db_bind_text(s, 3, last_error);
    return outbox_mark_done(s, recorded, error);
}

bool
store_outbox_mark_failed(struct store *st, gint64 id, const char *claimant, const char *at,
                         const char *last_error, bool *recorded, GError **error)
{
    struct db_stmt *s = outbox_mark(st,
                                    "UPDATE outbox SET status = 'failed', sent_at = ?2,"
                                    " last_error = ?3, attempts = attempts + 1,"
                                    " claimed_until = NULL WHERE id = ?1 AND claimed_by = ?4",
                                    id, claimant, at, error);

    if (s != NULL)
        db_bind_text(s, 3, last_error);
    return outbox_mark_done(s, recorded, error);
}
