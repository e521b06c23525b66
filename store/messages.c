/*
 * messages - the messages table (the mail of the tickets) and the
 * unattached table (bounces that named no mail of ours).
 *
 * Owns the statements that write and find a message: by its dedup_key
 * (the Message-ID, or the digest of a message without one), by its
 * Message-ID (replies that lost every other reference), and its raw bytes
 * (ticketctl show --raw).
 *
 * Edge cases: a dedup_key is unique in both tables together, so the same
 * message is found whichever of them took it; a raw message that was
 * purged reads as "found, no bytes".  A second insert of a dedup_key is
 * STORE_ERROR_CONFLICT (store/db.h); everything else is STORE_ERROR from
 * store/db.c, naming the statement.
 */
#include <glib.h>

#include "store/internal.h"
#include "store/messages.h"

/* RAW, or SQL NULL when there is none. */
static void
bind_raw(struct db_stmt *s, int i, const void *raw, gsize len)
{
    if (raw != NULL)
        db_bind_blob(s, i, raw, len);
    else
        db_bind_null(s, i);
}

bool
store_message_insert(struct store *st, const struct store_new_message *m, gint64 *id,
                     GError **error)
{
    struct db_stmt *s = db_prepare(
        st->db,
        "INSERT INTO messages (ticket_id, dedup_key, message_id, digest, direction, kind,"
        " from_addr, to_addrs, cc_addrs, subject, in_reply_to, refs, text, raw, received_at,"
        " queue_id, envelope_from, client_addr, reply_text, attachments)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,"
        " ?19, ?20) RETURNING id",
        error);

    if (s == NULL)
        return false;
    db_bind_int64(s, 1, m->ticket_id);
    db_bind_text(s, 2, m->dedup_key);
    db_bind_text(s, 3, m->message_id);
    db_bind_text(s, 4, m->digest);
    db_bind_text(s, 5, m->direction);
    db_bind_text(s, 6, m->kind);
    db_bind_text(s, 7, m->from);
    db_bind_text(s, 8, m->to);
    db_bind_text(s, 9, m->cc);
    db_bind_text(s, 10, m->subject);
    db_bind_text(s, 11, m->in_reply_to);
    db_bind_text(s, 12, m->references);
    db_bind_text(s, 13, m->text);
    bind_raw(s, 14, m->raw, m->raw_len);
    db_bind_text(s, 15, m->received_at);
    db_bind_text(s, 16, m->queue_id);
    db_bind_text(s, 17, m->envelope_from);
    db_bind_text(s, 18, m->client_addr);
    db_bind_text(s, 19, m->reply_text);
    db_bind_text(s, 20, m->attachments);
    return store_scalar(s, id, NULL, error);
}

bool
store_message_find(struct store *st, const char *dedup_key, bool *found, gint64 *ticket_id,
                   char **digest, GError **error)
{
    struct db_stmt *s =
        db_prepare(st->db,
                   "SELECT ticket_id, digest FROM messages WHERE dedup_key = ?1"
                   " UNION ALL SELECT 0, digest FROM unattached WHERE dedup_key = ?1 LIMIT 1",
                   error);
    enum db_step r;

    *found = false;
    if (s == NULL)
        return false;
    db_bind_text(s, 1, dedup_key);
    r = db_step(s, error);
    if (r == DB_ROW) {
        *found = true;
        *ticket_id = db_column_int64(s, 0);
        *digest = db_column_dup(s, 1);
        db_reset(s);
    }
    return r != DB_ERROR;
}

bool
store_ticket_by_message_id(struct store *st, const char *message_id, gint64 *ticket_id,
                           GError **error)
{
    struct db_stmt *s = db_prepare(
        st->db,
        "SELECT ticket_id FROM messages WHERE message_id = ?1"
        " UNION ALL SELECT ticket_id FROM outbox WHERE message_id = ?1 AND ticket_id IS NOT NULL"
        " LIMIT 1",
        error);

    *ticket_id = 0;
    if (s == NULL)
        return false;
    db_bind_text(s, 1, message_id);
    return store_scalar(s, ticket_id, NULL, error);
}

bool
store_message_raw(struct store *st, gint64 ticket_id, guint index, bool *found, GBytes **raw,
                  GError **error)
{
    struct db_stmt *s = db_prepare(
        st->db, "SELECT raw FROM messages WHERE ticket_id = ?1 ORDER BY id LIMIT 1 OFFSET ?2",
        error);
    enum db_step r;

    *found = false;
    *raw = NULL;
    if (s == NULL)
        return false;
    db_bind_int64(s, 1, ticket_id);
    db_bind_int64(s, 2, index);
    r = db_step(s, error);
    if (r == DB_ROW) {
        gsize len = 0;
        const void *p = db_column_blob(s, 0, &len);

        *found = true;
        if (p != NULL)
            *raw = g_bytes_new(p, len);
        db_reset(s);
    }
    return r != DB_ERROR;
}

static void
ticket_message_free(gpointer p)
{
    struct ticket_message *m = p;

    g_free(m->message_id);
    g_free(m->direction);
    g_free(m->kind);
    g_free(m->from);
    g_free(m->subject);
    g_free(m->received_at);
    g_free(m->queue_id);
    g_free(m);
}

static gpointer
ticket_message_from_row(struct db_stmt *s)
{
    struct ticket_message *m = g_new0(struct ticket_message, 1);

    m->id = db_column_int64(s, 0);
    m->message_id = db_column_dup(s, 1);
    m->direction = db_column_dup(s, 2);
    m->kind = db_column_dup(s, 3);
    m->from = db_column_dup(s, 4);
    m->subject = db_column_dup(s, 5);
    m->received_at = db_column_dup(s, 6);
    m->queue_id = db_column_dup(s, 7);
    return m;
}

GPtrArray *
store_ticket_messages(struct store *st, gint64 ticket_id, GError **error)
{
    struct db_stmt *s =
        db_prepare(st->db,
                   "SELECT id, message_id, direction, kind, from_addr, subject, received_at,"
                   " queue_id FROM messages WHERE ticket_id = ?1 ORDER BY id",
                   error);

    if (s == NULL)
        return NULL;
    db_bind_int64(s, 1, ticket_id);
    return store_collect(s, ticket_message_from_row, ticket_message_free, error);
}

bool
store_unattached_insert(struct store *st, const struct store_unattached *u, GError **error)
{
    struct db_stmt *s = db_prepare(
        st->db,
        "INSERT INTO unattached (dedup_key, message_id, digest, kind, from_addr, envelope_from,"
        " subject, raw, received_at, queue_id, client_addr, reason)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        error);

    if (s == NULL)
        return false;
    db_bind_text(s, 1, u->dedup_key);
    db_bind_text(s, 2, u->message_id);
    db_bind_text(s, 3, u->digest);
    db_bind_text(s, 4, u->kind);
    db_bind_text(s, 5, u->from);
    db_bind_text(s, 6, u->envelope_from);
    db_bind_text(s, 7, u->subject);
    bind_raw(s, 8, u->raw, u->raw_len);
    db_bind_text(s, 9, u->received_at);
    db_bind_text(s, 10, u->queue_id);
    db_bind_text(s, 11, u->client_addr);
    db_bind_text(s, 12, u->reason);
    return store_step_done(s, error);
}
