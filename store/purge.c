/*
 * purge - retention: the raw messages of closed tickets removed once they
 * are old enough, with a "purged" event on each ticket saying what went.
 *
 * Owns nothing but its statements.  The words of a message (its text, the
 * list of its attachments) stay: the ticket's record keeps what was said
 * and attached, only the bytes go.
 *
 * Edge cases: the purge commits in batches of PURGE_BATCH tickets, each in
 * a write transaction of its own, so that the daemon's writer, waiting on
 * busy_timeout, is never held up for long; a batch that fails is rolled
 * back whole, and the batches before it stay done (and are reported).  An
 * attachments list that is not valid JSON counts for none rather than
 * stopping the purge.  On failure: STORE_ERROR from store/db.c.
 */
#include <string.h>

#include <glib.h>
#include <json-glib/json-glib.h>

#include "router/event.h"
#include "store/internal.h"
#include "store/purge.h"

#define PURGE_BATCH 200

/* What ticket ID has to purge: messages, bytes, attachments. */
static bool
purge_measure(struct admin *a, gint64 id, gint64 v[3], GError **error)
{
    /* Attachments are a JSON list per message (schema 8), their bytes in
     * raw. */
    static const char sqlite_sql[] =
        "SELECT count(*), coalesce(sum(length(raw)), 0),"
        " coalesce(sum(CASE WHEN json_valid(attachments) AND json_type(attachments) = 'array'"
        "  THEN json_array_length(attachments) ELSE 0 END), 0)"
        " FROM messages WHERE ticket_id = ?1 AND raw IS NOT NULL";
    static const char pg_sql[] =
        "SELECT count(*), coalesce(sum(length(raw)), 0),"
        " coalesce(sum(CASE WHEN jsonb_typeof(tm_json(attachments)) = 'array'"
        "  THEN jsonb_array_length(tm_json(attachments)) ELSE 0 END), 0)"
        " FROM messages WHERE ticket_id = ?1 AND raw IS NOT NULL";
    struct db_stmt *s = db_prepare(a->db, db_kind(a->db) == DB_SQLITE ? sqlite_sql : pg_sql, error);
    enum db_step r;

    v[0] = v[1] = v[2] = 0;
    if (s == NULL)
        return false;
    db_bind_int64(s, 1, id);
    r = db_step(s, error);
    if (r == DB_ROW) {
        for (int i = 0; i < 3; i++)
            v[i] = db_column_int64(s, i);
        db_reset(s);
    }
    return r != DB_ERROR;
}

/* The "purged" event's detail. */
static char *
purge_detail(const char *before, const gint64 v[3])
{
    g_autoptr(JsonObject) o = json_object_new();

    json_object_set_string_member(o, "before", before);
    json_object_set_int_member(o, "messages", v[0]);
    json_object_set_int_member(o, "bytes", v[1]);
    json_object_set_int_member(o, "attachments", v[2]);
    return event_json_text(o);
}

static bool
purge_ticket(struct admin *a, gint64 id, const char *before, const char *at, const char *actor,
             struct admin_purge_result *out, GError **error)
{
    gint64 v[3];
    g_autofree char *detail = NULL;
    struct db_stmt *clear, *event;

    if (!purge_measure(a, id, v, error))
        return false;
    clear = db_prepare(
        a->db, "UPDATE messages SET raw = NULL WHERE ticket_id = ?1 AND raw IS NOT NULL", error);
    if (clear == NULL)
        return false;
    db_bind_int64(clear, 1, id);
    if (!store_step_done(clear, error))
        return false;
    detail = purge_detail(before, v);
    event = db_prepare(a->db,
                       "INSERT INTO events (ticket_id, at, type, actor, detail)"
                       " VALUES (?1, ?2, 'purged', ?3, ?4)",
                       error);
    if (event == NULL)
        return false;
    db_bind_int64(event, 1, id);
    db_bind_text(event, 2, at);
    db_bind_text(event, 3, actor);
    db_bind_text(event, 4, detail);
    if (!store_step_done(event, error))
        return false;
    out->tickets++;
    out->messages += (guint)v[0];
    out->attachments += (guint)v[2];
    out->bytes += v[1];
    return true;
}

/* The next at most PURGE_BATCH closed tickets after *LAST with raw bytes
 * left, into IDS. */
static bool
purge_candidates(struct admin *a, const char *before, gint64 last, GArray *ids, GError **error)
{
    g_autofree char *sql = g_strdup_printf(
        "SELECT id FROM tickets WHERE status = 'closed' AND updated_at < ?1 AND id > ?2"
        " AND EXISTS (SELECT 1 FROM messages WHERE ticket_id = tickets.id AND raw IS NOT NULL)"
        " ORDER BY id LIMIT %d",
        PURGE_BATCH);
    struct db_stmt *s = db_prepare(a->db, sql, error);
    enum db_step r;

    if (s == NULL)
        return false;
    db_bind_text(s, 1, before);
    db_bind_int64(s, 2, last);
    while ((r = db_step(s, error)) == DB_ROW) {
        gint64 id = db_column_int64(s, 0);
        g_array_append_val(ids, id);
    }
    return r == DB_DONE;
}

/* One batch in one write transaction; *LAST is the highest id seen. */
static bool
purge_batch(struct admin *a, const char *before, const char *at, const char *actor, gint64 *last,
            guint *seen, struct admin_purge_result *out, GError **error)
{
    g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(gint64));
    struct admin_purge_result batch = *out;

    *seen = 0;
    if (!db_begin(a->db, error))
        return false;
    if (!purge_candidates(a, before, *last, ids, error))
        goto fail;
    for (guint i = 0; i < ids->len; i++) {
        gint64 id = g_array_index(ids, gint64, i);
        if (!purge_ticket(a, id, before, at, actor, &batch, error))
            goto fail;
    }
    if (!db_commit(a->db, error))
        return false;
    if (ids->len > 0)
        *last = g_array_index(ids, gint64, ids->len - 1);
    *seen = ids->len;
    *out = batch;
    return true;
fail:
    db_rollback(a->db);
    return false;
}

bool
admin_purge(struct admin *a, const char *before, const char *at, const char *actor,
            struct admin_purge_result *out, GError **error)
{
    struct admin_purge_result done = { 0 };
    gint64 last = 0;
    guint seen;
    bool ok;

    memset(out, 0, sizeof(*out));
    do {
        ok = purge_batch(a, before, at, actor, &last, &seen, &done, error);
        /* Batches already committed stay done: report them either way. */
        *out = done;
    } while (ok && seen == PURGE_BATCH);
    return ok;
}
