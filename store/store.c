/*
 * store - the SQLite connection, the schema and the queries.
 *
 * One struct store is one connection with its prepared statements.  The
 * daemon has exactly one read-write store, owned by the writer thread
 * (store/writer.c); ticketctl opens its own.  Statements are prepared once
 * per connection and reset after each use, so the per-message cost is the
 * binding and the stepping, not the SQL compiler.
 *
 * Errors: every SQLite failure becomes a STORE_ERROR whose code says what
 * the admin can do about it (wait, free space, fix permissions, restore),
 * with SQLite's own message kept in the text.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include <glib.h>
#include <json-glib/json-glib.h>
#include <sqlite3.h>

#include "store/internal.h"
#include "store/store.h"
#include "store/store-private.h"
#include "util/log.h"

G_DEFINE_QUARK(store-error-quark, store_error)

/*
 * Schema migrations, applied in order inside one transaction each; the
 * version is the number of entries applied.  Never edit an entry that has
 * shipped: append a new one.
 */
static const char *const migrations[] = {
    /* 1: tickets, messages, events */
    "CREATE TABLE schema_version (version INTEGER NOT NULL, applied_at TEXT NOT NULL);"
    "CREATE TABLE tickets ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  prefix TEXT NOT NULL,"
    "  status TEXT NOT NULL CHECK (status IN ('open','pending','resolved','closed')),"
    "  severity INTEGER NOT NULL CHECK (severity BETWEEN 1 AND 4),"
    "  stage INTEGER NOT NULL CHECK (stage BETWEEN 0 AND 3),"
    "  customer TEXT,"
    "  requester TEXT NOT NULL,"
    "  subject TEXT NOT NULL,"
    "  created_at TEXT NOT NULL,"
    "  updated_at TEXT NOT NULL,"
    "  first_response_due TEXT, first_response_at TEXT,"
    "  next_update_due TEXT, resolution_due TEXT, resolved_at TEXT"
    ");"
    "CREATE INDEX tickets_status ON tickets(status);"
    "CREATE TABLE messages ("
    "  id INTEGER PRIMARY KEY,"
    "  ticket_id INTEGER NOT NULL REFERENCES tickets(id),"
    "  dedup_key TEXT NOT NULL UNIQUE,"
    "  message_id TEXT,"
    "  digest TEXT NOT NULL,"
    "  direction TEXT NOT NULL CHECK (direction IN ('in','out')),"
    "  kind TEXT NOT NULL,"
    "  from_addr TEXT, to_addrs TEXT, cc_addrs TEXT, subject TEXT,"
    "  in_reply_to TEXT, refs TEXT, text TEXT, raw BLOB,"
    "  received_at TEXT NOT NULL, queue_id TEXT, envelope_from TEXT, client_addr TEXT"
    ");"
    "CREATE INDEX messages_ticket ON messages(ticket_id);"
    "CREATE INDEX messages_message_id ON messages(message_id);"
    "CREATE TABLE events ("
    "  id INTEGER PRIMARY KEY,"
    "  ticket_id INTEGER REFERENCES tickets(id),"
    "  at TEXT NOT NULL,"
    "  type TEXT NOT NULL,"
    "  actor TEXT,"
    "  detail TEXT"
    ");"
    "CREATE INDEX events_ticket ON events(ticket_id);",
    /* 2: the outbox, and named values */
    "CREATE TABLE outbox ("
    "  id INTEGER PRIMARY KEY,"
    "  ticket_id INTEGER REFERENCES tickets(id),"
    "  kind TEXT NOT NULL,"
    "  template TEXT,"
    "  transport TEXT NOT NULL CHECK (transport IN ('smtp','webhook')),"
    "  mail_from TEXT NOT NULL DEFAULT '',"
    "  recipients TEXT NOT NULL,"
    "  message_id TEXT,"
    "  body TEXT NOT NULL,"
    "  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','sent','failed')),"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  created_at TEXT NOT NULL,"
    "  next_attempt_at TEXT NOT NULL,"
    "  sent_at TEXT,"
    "  last_error TEXT"
    ");"
    "CREATE INDEX outbox_due ON outbox(status, next_attempt_at);"
    "CREATE INDEX outbox_recipient ON outbox(kind, recipients, created_at);"
    "CREATE INDEX outbox_ticket ON outbox(ticket_id);"
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
    /* 3: replies to our own mail find their ticket by its Message-ID */
    "CREATE INDEX outbox_message_id ON outbox(message_id);",
    /* 4: what the clocks need, and the timers the scheduler fires */
    "ALTER TABLE tickets ADD COLUMN plan TEXT;"
    "ALTER TABLE tickets ADD COLUMN timezone TEXT;"
    "ALTER TABLE tickets ADD COLUMN language TEXT;"
    "ALTER TABLE tickets ADD COLUMN assignee TEXT;"
    "ALTER TABLE tickets ADD COLUMN paused_at TEXT;"
    "CREATE TABLE timers ("
    "  id INTEGER PRIMARY KEY,"
    "  ticket_id INTEGER NOT NULL REFERENCES tickets(id),"
    "  kind TEXT NOT NULL,"
    "  due_at TEXT NOT NULL,"
    "  fired_at TEXT,"
    "  UNIQUE (ticket_id, kind)"
    ");"
    "CREATE INDEX timers_due ON timers(due_at) WHERE fired_at IS NULL;",
    /* 5: business time spent waiting for the customer, excluded from goals */
    "ALTER TABLE tickets ADD COLUMN paused_seconds INTEGER NOT NULL DEFAULT 0;",
    /* 6: queue-to-relay latency in microseconds, for statistics */
    "ALTER TABLE outbox ADD COLUMN queued_us INTEGER;"
    "ALTER TABLE outbox ADD COLUMN sent_us INTEGER;",
    /* 7: full-text search (ticketctl search) and the daemon's counters.
     * The indexes are external-content: the words live once, in tickets
     * and messages, and the triggers keep the index in step with them.
     * The update triggers name their columns so that touching a ticket or
     * purging a raw message does not rewrite the index. */
    "CREATE VIRTUAL TABLE tickets_fts USING fts5(subject, content='tickets',"
    "  content_rowid='id', tokenize='unicode61 remove_diacritics 2');"
    "CREATE VIRTUAL TABLE messages_fts USING fts5(subject, text, content='messages',"
    "  content_rowid='id', tokenize='unicode61 remove_diacritics 2');"
    "CREATE TRIGGER tickets_fts_insert AFTER INSERT ON tickets BEGIN"
    "  INSERT INTO tickets_fts (rowid, subject) VALUES (new.id, new.subject);"
    " END;"
    "CREATE TRIGGER tickets_fts_delete AFTER DELETE ON tickets BEGIN"
    "  INSERT INTO tickets_fts (tickets_fts, rowid, subject)"
    "  VALUES ('delete', old.id, old.subject);"
    " END;"
    "CREATE TRIGGER tickets_fts_update AFTER UPDATE OF subject ON tickets BEGIN"
    "  INSERT INTO tickets_fts (tickets_fts, rowid, subject)"
    "  VALUES ('delete', old.id, old.subject);"
    "  INSERT INTO tickets_fts (rowid, subject) VALUES (new.id, new.subject);"
    " END;"
    "CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN"
    "  INSERT INTO messages_fts (rowid, subject, text) VALUES (new.id, new.subject, new.text);"
    " END;"
    "CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN"
    "  INSERT INTO messages_fts (messages_fts, rowid, subject, text)"
    "  VALUES ('delete', old.id, old.subject, old.text);"
    " END;"
    "CREATE TRIGGER messages_fts_update AFTER UPDATE OF subject, text ON messages BEGIN"
    "  INSERT INTO messages_fts (messages_fts, rowid, subject, text)"
    "  VALUES ('delete', old.id, old.subject, old.text);"
    "  INSERT INTO messages_fts (rowid, subject, text) VALUES (new.id, new.subject, new.text);"
    " END;"
    "INSERT INTO tickets_fts (tickets_fts) VALUES ('rebuild');"
    "INSERT INTO messages_fts (messages_fts) VALUES ('rebuild');"
    "CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL DEFAULT 0);",
    /* 8: the new part of a reply apart from the whole text, and what the
     * attachments were (a JSON array: name, type, size, sha256, ...); the
     * bytes stay in raw. */
    "ALTER TABLE messages ADD COLUMN reply_text TEXT;"
    "ALTER TABLE messages ADD COLUMN attachments TEXT;",
    /* 9: the clocks a ticket's goals run from (NULL: not entitled until
     * staff accept it), outbox recipients as a JSON array (a joined string
     * was split again into more RCPTs than were meant), and bounces about
     * no mail of ours, kept on no ticket. */
    "ALTER TABLE tickets ADD COLUMN clock_start TEXT;"
    "ALTER TABLE tickets ADD COLUMN update_from TEXT;"
    "UPDATE tickets SET clock_start = created_at;"
    "UPDATE tickets SET update_from = first_response_at"
    "  WHERE status = 'open' AND next_update_due IS NOT NULL;"
    "UPDATE outbox SET recipients = ("
    "  WITH RECURSIVE split(rest, item) AS ("
    "    SELECT recipients || ',', NULL"
    "    UNION ALL"
    "    SELECT substr(rest, instr(rest, ',') + 1), trim(substr(rest, 1, instr(rest, ',') - 1))"
    "    FROM split WHERE rest <> '')"
    "  SELECT json_group_array(item) FROM split WHERE item IS NOT NULL AND item <> '')"
    " WHERE transport = 'smtp' AND recipients NOT LIKE '[%';"
    "UPDATE outbox SET recipients = json_array(recipients)"
    " WHERE transport = 'webhook' AND recipients NOT LIKE '[%';"
    "CREATE TABLE unattached ("
    "  id INTEGER PRIMARY KEY,"
    "  dedup_key TEXT NOT NULL UNIQUE,"
    "  message_id TEXT, digest TEXT NOT NULL, kind TEXT NOT NULL,"
    "  from_addr TEXT, envelope_from TEXT, subject TEXT, raw BLOB,"
    "  received_at TEXT NOT NULL, queue_id TEXT, client_addr TEXT, reason TEXT"
    ");",
    /* 10: the search index leaves the commit.  Triggers that indexed every
     * row as it was written made each message cost a new FTS segment (and
     * a flush at every savepoint) before Postfix heard back; now the writer
     * indexes what was committed, in batches, when it is idle
     * (store_fts_index).  fts_indexed says how far each table is indexed:
     * every row with an id up to last_id is in the index, none above it.
     * So a row deleted or changed is taken out of the index only when it
     * was in it.  messages reuses the highest id after that row is deleted
     * (no AUTOINCREMENT), so a delete also lowers last_id to the highest id
     * left: the next message then gets an id above it, and is indexed. */
    "DROP TRIGGER tickets_fts_insert;"
    "DROP TRIGGER tickets_fts_delete;"
    "DROP TRIGGER tickets_fts_update;"
    "DROP TRIGGER messages_fts_insert;"
    "DROP TRIGGER messages_fts_delete;"
    "DROP TRIGGER messages_fts_update;"
    "CREATE TABLE fts_indexed (name TEXT PRIMARY KEY, last_id INTEGER NOT NULL);"
    "INSERT INTO fts_indexed (name, last_id) VALUES"
    "  ('tickets', coalesce((SELECT max(id) FROM tickets), 0)),"
    "  ('messages', coalesce((SELECT max(id) FROM messages), 0));"
    "CREATE TRIGGER tickets_fts_delete AFTER DELETE ON tickets"
    " WHEN old.id <= (SELECT last_id FROM fts_indexed WHERE name = 'tickets') BEGIN"
    "  INSERT INTO tickets_fts (tickets_fts, rowid, subject)"
    "  VALUES ('delete', old.id, old.subject);"
    " END;"
    "CREATE TRIGGER tickets_fts_update AFTER UPDATE OF subject ON tickets"
    " WHEN old.id <= (SELECT last_id FROM fts_indexed WHERE name = 'tickets') BEGIN"
    "  INSERT INTO tickets_fts (tickets_fts, rowid, subject)"
    "  VALUES ('delete', old.id, old.subject);"
    "  INSERT INTO tickets_fts (rowid, subject) VALUES (new.id, new.subject);"
    " END;"
    "CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages"
    " WHEN old.id <= (SELECT last_id FROM fts_indexed WHERE name = 'messages') BEGIN"
    "  INSERT INTO messages_fts (messages_fts, rowid, subject, text)"
    "  VALUES ('delete', old.id, old.subject, old.text);"
    " END;"
    "CREATE TRIGGER messages_fts_reuse AFTER DELETE ON messages BEGIN"
    "  UPDATE fts_indexed SET last_id = (SELECT coalesce(max(id), 0) FROM messages)"
    "  WHERE name = 'messages' AND last_id > (SELECT coalesce(max(id), 0) FROM messages);"
    " END;"
    "CREATE TRIGGER messages_fts_update AFTER UPDATE OF subject, text ON messages"
    " WHEN old.id <= (SELECT last_id FROM fts_indexed WHERE name = 'messages') BEGIN"
    "  INSERT INTO messages_fts (messages_fts, rowid, subject, text)"
    "  VALUES ('delete', old.id, old.subject, old.text);"
    "  INSERT INTO messages_fts (rowid, subject, text) VALUES (new.id, new.subject, new.text);"
    " END;",
    /* 11: the dispatcher's lanes find their due rows in an index of the
     * pending rows alone, by transport: outbox_due held every row ever
     * sent, and a lane's query went through the other lane's rows. */
    "DROP INDEX outbox_due;"
    "CREATE INDEX outbox_pending ON outbox(transport, next_attempt_at) WHERE status = 'pending';",
};

/* The statements every store prepares; indexes into st->stmt. */
enum stmt_id {
    STMT_BEGIN,
    STMT_COMMIT,
    STMT_ROLLBACK,
    STMT_SAVEPOINT,
    STMT_RELEASE,
    STMT_ROLLBACK_TO,
    STMT_TICKET_INSERT,
    STMT_MESSAGE_INSERT,
    STMT_MESSAGE_FIND,
    STMT_EVENT_INSERT,
    STMT_TICKET_LIST,
    STMT_TICKET_GET,
    STMT_TICKET_MESSAGES,
    STMT_TICKET_EVENTS,
    STMT_OUTBOX_INSERT,
    STMT_OUTBOX_COUNT_SINCE,
    STMT_OUTBOX_DUE,
    STMT_OUTBOX_DUE_LANE,
    STMT_OUTBOX_FOR_TICKET,
    STMT_OUTBOX_NEXT_DUE,
    STMT_OUTBOX_NEXT_DUE_LANE,
    STMT_OUTBOX_SENT,
    STMT_OUTBOX_RETRY,
    STMT_OUTBOX_FAILED,
    STMT_OUTBOX_PENDING,
    STMT_META_GET,
    STMT_META_SET,
    STMT_META_DELETE,
    STMT_TICKET_BY_MESSAGE_ID,
    STMT_TICKET_TOUCH,
    STMT_OUTBOX_TICKET_BY_MESSAGE_ID,
    STMT_TICKET_SUBJECTS,
    STMT_MESSAGE_RAW,
    STMT_UNATTACHED_INSERT,
    STMT_TIMER_SET,
    STMT_TIMER_CLEAR,
    STMT_TIMER_DUE,
    STMT_TIMER_NEXT,
    STMT_TIMER_FIRED,
    STMT_TICKET_OPEN,
    STMT_TICKET_UPDATE,
    STMT_FTS_LAST,
    STMT_FTS_SET,
    STMT_FTS_TICKETS_UPTO,
    STMT_FTS_TICKETS_ADD,
    STMT_FTS_MESSAGES_UPTO,
    STMT_FTS_MESSAGES_ADD,
    STMT_COUNT
};

#define TICKET_COLUMNS STORE_TICKET_COLUMNS

#define OUTBOX_COLUMNS                                                                             \
    "id, ticket_id, kind, template, transport, mail_from, recipients, message_id, body,"         \
    " attempts, status, created_at, next_attempt_at, sent_at, last_error"

static const char *const stmt_sql[STMT_COUNT] = {
    [STMT_BEGIN] = "BEGIN IMMEDIATE",
    [STMT_COMMIT] = "COMMIT",
    [STMT_ROLLBACK] = "ROLLBACK",
    [STMT_SAVEPOINT] = "SAVEPOINT job",
    [STMT_RELEASE] = "RELEASE job",
    [STMT_ROLLBACK_TO] = "ROLLBACK TO job",
    [STMT_TICKET_INSERT] =
        "INSERT INTO tickets (prefix, status, severity, stage, customer, requester, subject,"
        " created_at, updated_at, first_response_due, next_update_due, resolution_due, plan,"
        " timezone, language, clock_start, assignee, update_from, first_response_at)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,"
        " ?18)",
    [STMT_MESSAGE_INSERT] =
        "INSERT INTO messages (ticket_id, dedup_key, message_id, digest, direction, kind,"
        " from_addr, to_addrs, cc_addrs, subject, in_reply_to, refs, text, raw, received_at,"
        " queue_id, envelope_from, client_addr, reply_text, attachments)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,"
        " ?19, ?20)",
    [STMT_MESSAGE_FIND] = "SELECT ticket_id, digest FROM messages WHERE dedup_key = ?1"
                          " UNION ALL SELECT 0, digest FROM unattached WHERE dedup_key = ?1"
                          " LIMIT 1",
    [STMT_EVENT_INSERT] =
        "INSERT INTO events (ticket_id, at, type, actor, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
    [STMT_TICKET_LIST] = "SELECT " TICKET_COLUMNS " FROM tickets ORDER BY id",
    [STMT_TICKET_GET] = "SELECT " TICKET_COLUMNS " FROM tickets WHERE id = ?1",
    [STMT_TICKET_MESSAGES] =
        "SELECT id, message_id, direction, kind, from_addr, subject, received_at, queue_id"
        " FROM messages WHERE ticket_id = ?1 ORDER BY id",
    [STMT_TICKET_EVENTS] =
        "SELECT id, at, type, actor, detail FROM events WHERE ticket_id = ?1 ORDER BY id",
    [STMT_OUTBOX_INSERT] =
        "INSERT INTO outbox (ticket_id, kind, template, transport, mail_from, recipients,"
        " message_id, body, created_at, next_attempt_at, queued_us)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,"
        " coalesce(?10, strftime('%Y-%m-%dT%H:%M:%SZ', 'now')), ?11)",
    [STMT_OUTBOX_COUNT_SINCE] =
        "SELECT count(*) FROM outbox WHERE kind = ?1 AND recipients = ?2 AND created_at >= ?3",
    /* status = 'pending' as written: what lets SQLite use outbox_pending. */
    [STMT_OUTBOX_DUE] = "SELECT " OUTBOX_COLUMNS " FROM outbox"
                        " WHERE status = 'pending' AND next_attempt_at <= ?1"
                        " ORDER BY next_attempt_at, id LIMIT ?2",
    [STMT_OUTBOX_DUE_LANE] = "SELECT " OUTBOX_COLUMNS " FROM outbox"
                             " WHERE status = 'pending' AND transport = ?3"
                             " AND next_attempt_at <= ?1 ORDER BY next_attempt_at, id LIMIT ?2",
    [STMT_OUTBOX_FOR_TICKET] =
        "SELECT " OUTBOX_COLUMNS " FROM outbox WHERE ticket_id = ?1 ORDER BY id",
    [STMT_OUTBOX_NEXT_DUE] = "SELECT min(next_attempt_at) FROM outbox WHERE status = 'pending'",
    [STMT_OUTBOX_NEXT_DUE_LANE] =
        "SELECT min(next_attempt_at) FROM outbox WHERE status = 'pending' AND transport = ?1",
    [STMT_OUTBOX_SENT] =
        "UPDATE outbox SET status = 'sent', sent_at = ?2, attempts = attempts + 1,"
        " last_error = NULL, sent_us = ?3 WHERE id = ?1",
    [STMT_OUTBOX_RETRY] = "UPDATE outbox SET next_attempt_at = ?2, last_error = ?3,"
                          " attempts = attempts + 1 WHERE id = ?1",
    [STMT_OUTBOX_FAILED] = "UPDATE outbox SET status = 'failed', sent_at = ?2, last_error = ?3,"
                           " attempts = attempts + 1 WHERE id = ?1",
    [STMT_OUTBOX_PENDING] = "SELECT count(*) FROM outbox WHERE status = 'pending'",
    [STMT_META_GET] = "SELECT value FROM meta WHERE key = ?1",
    [STMT_META_SET] = "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
    [STMT_META_DELETE] = "DELETE FROM meta WHERE key = ?1",
    [STMT_TICKET_BY_MESSAGE_ID] =
        "SELECT ticket_id FROM messages WHERE message_id = ?1"
        " UNION ALL SELECT ticket_id FROM outbox WHERE message_id = ?1 AND ticket_id IS NOT NULL"
        " LIMIT 1",
    [STMT_TICKET_TOUCH] = "UPDATE tickets SET updated_at = ?2 WHERE id = ?1",
    [STMT_OUTBOX_TICKET_BY_MESSAGE_ID] =
        "SELECT ticket_id FROM outbox WHERE message_id = ?1 AND ticket_id IS NOT NULL LIMIT 1",
    [STMT_MESSAGE_RAW] = "SELECT raw FROM messages WHERE ticket_id = ?1 ORDER BY id"
                         " LIMIT 1 OFFSET ?2",
    /* Newest first: under the limit, a long ticket's recent subjects are
     * the ones that say whether escalation was asked for already. */
    [STMT_TICKET_SUBJECTS] = "SELECT subject FROM messages"
                             " WHERE ticket_id = ?1 AND subject IS NOT NULL"
                             " GROUP BY subject ORDER BY max(id) DESC LIMIT ?2",
    [STMT_UNATTACHED_INSERT] =
        "INSERT INTO unattached (dedup_key, message_id, digest, kind, from_addr, envelope_from,"
        " subject, raw, received_at, queue_id, client_addr, reason)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    /* Setting a timer to the time it has changes nothing: one that fired
     * stays fired. Moving it arms it again. */
    [STMT_TIMER_SET] = "INSERT INTO timers (ticket_id, kind, due_at) VALUES (?1, ?2, ?3)"
                       " ON CONFLICT (ticket_id, kind) DO UPDATE SET due_at = excluded.due_at,"
                       " fired_at = CASE WHEN timers.due_at = excluded.due_at"
                       " THEN timers.fired_at END",
    [STMT_TIMER_CLEAR] = "DELETE FROM timers WHERE ticket_id = ?1 AND kind = ?2",
    [STMT_TIMER_DUE] = "SELECT id, ticket_id, kind, due_at FROM timers"
                       " WHERE fired_at IS NULL AND due_at <= ?1 ORDER BY due_at, id LIMIT ?2",
    [STMT_TIMER_NEXT] = "SELECT min(due_at) FROM timers WHERE fired_at IS NULL",
    [STMT_TIMER_FIRED] = "UPDATE timers SET fired_at = ?2 WHERE id = ?1",
    [STMT_TICKET_UPDATE] =
        "UPDATE tickets SET status = ?2, severity = ?3, stage = ?4, assignee = ?5,"
        " first_response_due = ?6, next_update_due = ?7, resolution_due = ?8, resolved_at = ?9,"
        " paused_at = ?10, paused_seconds = ?11, updated_at = ?12, customer = ?13,"
        " requester = ?14, plan = ?15, timezone = ?16, language = ?17, clock_start = ?18,"
        " update_from = ?19, first_response_at = ?20 WHERE id = ?1",
    [STMT_TICKET_OPEN] = "SELECT " TICKET_COLUMNS " FROM tickets"
                         " WHERE status IN ('open', 'pending') ORDER BY id",
    [STMT_FTS_LAST] = "SELECT last_id FROM fts_indexed WHERE name = ?1",
    [STMT_FTS_SET] = "UPDATE fts_indexed SET last_id = ?2 WHERE name = ?1",
    /* The id that ends the next batch of at most ?2 rows after ?1. */
    [STMT_FTS_TICKETS_UPTO] =
        "SELECT max(id) FROM (SELECT id FROM tickets WHERE id > ?1 ORDER BY id LIMIT ?2)",
    [STMT_FTS_TICKETS_ADD] = "INSERT INTO tickets_fts (rowid, subject)"
                             " SELECT id, subject FROM tickets WHERE id > ?1 AND id <= ?2",
    [STMT_FTS_MESSAGES_UPTO] =
        "SELECT max(id) FROM (SELECT id FROM messages WHERE id > ?1 ORDER BY id LIMIT ?2)",
    [STMT_FTS_MESSAGES_ADD] =
        "INSERT INTO messages_fts (rowid, subject, text)"
        " SELECT id, subject, text FROM messages WHERE id > ?1 AND id <= ?2",
};

struct store {
    sqlite3 *db;
    char *path;
    enum store_mode mode;
    sqlite3_stmt *stmt[STMT_COUNT];
};

int
store_error_code(int rc, int sys_errno)
{
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return STORE_ERROR_BUSY;
    case SQLITE_FULL:
        return STORE_ERROR_FULL;
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_AUTH:
        return STORE_ERROR_READONLY;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        return STORE_ERROR_CORRUPT;
    case SQLITE_IOERR:
        /* SQLite reports some out-of-space conditions as I/O errors on
         * write (the WAL grows first); errno tells them apart. */
        if (sys_errno == ENOSPC || sys_errno == EDQUOT)
            return STORE_ERROR_FULL;
        return STORE_ERROR_FAILED;
    default:
        return STORE_ERROR_FAILED;
    }
}

static const char *
store_error_hint(int code)
{
    switch (code) {
    case STORE_ERROR_BUSY:
        return "database is locked by another process";
    case STORE_ERROR_FULL:
        return "no space left for the database";
    case STORE_ERROR_READONLY:
        return "database is not writable";
    case STORE_ERROR_CORRUPT:
        return "database is damaged";
    default:
        return "database error";
    }
}

void
store_set_error(struct store *st, int rc, GError **error, const char *what)
{
    int code = store_error_code(rc, st != NULL && st->db != NULL ? sqlite3_system_errno(st->db) : 0);
    const char *detail = st != NULL && st->db != NULL ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc);

    g_set_error(error, STORE_ERROR, code, "%s: %s (%s: %s)", st != NULL ? st->path : "database",
                store_error_hint(code), what, detail);
}

static bool
store_exec(struct store *st, const char *sql, GError **error)
{
    char *msg = NULL;
    int rc = sqlite3_exec(st->db, sql, NULL, NULL, &msg);

    if (rc != SQLITE_OK) {
        int code = store_error_code(rc, sqlite3_system_errno(st->db));
        g_set_error(error, STORE_ERROR, code, "%s: %s (%s)", st->path, store_error_hint(code),
                    msg != NULL ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        return false;
    }
    return true;
}

/* Runs a prepared statement that returns no rows. */
static bool
store_step_done(struct store *st, enum stmt_id id, GError **error)
{
    sqlite3_stmt *s = st->stmt[id];
    int rc = sqlite3_step(s);

    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    if (rc != SQLITE_DONE) {
        store_set_error(st, rc, error, stmt_sql[id]);
        return false;
    }
    return true;
}

static int
store_schema_version(struct store *st, GError **error)
{
    sqlite3_stmt *s = NULL;
    int version = 0;
    int rc;

    rc = sqlite3_prepare_v2(st->db,
                            "SELECT count(*) FROM sqlite_master"
                            " WHERE type = 'table' AND name = 'schema_version'",
                            -1, &s, NULL);
    if (rc != SQLITE_OK || sqlite3_step(s) != SQLITE_ROW) {
        store_set_error(st, rc != SQLITE_OK ? rc : sqlite3_errcode(st->db), error,
                        "reading the schema");
        sqlite3_finalize(s);
        return -1;
    }
    bool has_table = sqlite3_column_int(s, 0) > 0;
    sqlite3_finalize(s);
    if (!has_table)
        return 0;

    rc = sqlite3_prepare_v2(st->db, "SELECT max(version) FROM schema_version", -1, &s, NULL);
    if (rc != SQLITE_OK || sqlite3_step(s) != SQLITE_ROW) {
        store_set_error(st, rc != SQLITE_OK ? rc : sqlite3_errcode(st->db), error,
                        "reading the schema version");
        sqlite3_finalize(s);
        return -1;
    }
    version = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    return version;
}

static bool
store_migrate(struct store *st, GError **error)
{
    int have;
    int want = G_N_ELEMENTS(migrations);

    if (!store_exec(st, "BEGIN IMMEDIATE", error))
        return false;
    have = store_schema_version(st, error);
    if (have < 0)
        goto fail;
    if (have > want) {
        g_set_error(error, STORE_ERROR, STORE_ERROR_VERSION,
                    "%s: schema version %d is newer than this ticket-milter knows (%d);"
                    " run the newer version or restore a backup",
                    st->path, have, want);
        goto fail;
    }
    for (int v = have; v < want; v++) {
        g_autofree char *mark = g_strdup_printf(
            "INSERT INTO schema_version (version, applied_at)"
            " VALUES (%d, strftime('%%Y-%%m-%%dT%%H:%%M:%%SZ', 'now'))",
            v + 1);
        if (!store_exec(st, migrations[v], error) || !store_exec(st, mark, error))
            goto fail;
    }
    return store_exec(st, "COMMIT", error);

fail:
    sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    return false;
}

static bool
store_prepare_all(struct store *st, GError **error)
{
    for (int i = 0; i < STMT_COUNT; i++) {
        int rc = sqlite3_prepare_v3(st->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                                    &st->stmt[i], NULL);
        if (rc != SQLITE_OK) {
            store_set_error(st, rc, error, "preparing statements");
            return false;
        }
    }
    return true;
}

/* The mode bits restrict_files() takes away: every permission of other
 * users, and setuid, setgid and sticky, which a database file has no use
 * for and which would survive a copy made by an admin's tool. */
#define FILE_MODE_DROPPED (S_IRWXO | S_ISUID | S_ISGID | S_ISVTX)

/* The database files (PATH, its -wal and -shm) lose every permission for
 * other users: they hold customers' mail.  New ones are made under the
 * daemon's umask (027), SQLite gives the -wal and -shm files the main
 * file's mode, but files made before, by hand or by another tool may be
 * readable by all.  One log line says what changed; after that nothing
 * is left to change, so it is said once.  Failing to change a mode (a file
 * of another user) is said too, and is no reason not to open.
 *
 * Only regular files are changed: a symbolic link (an admin's choice of
 * where the database lives) is not followed, nor a FIFO or a device.  A
 * link whose target has bits to lose is logged, for the admin to change
 * the target; one whose target is fine is not, or every start would say
 * so.  (SQLite resolves a linked database path and keeps its -wal and
 * -shm beside the target, where they are not looked at here.)
 * lstat() says what a name is, and fchmodat(AT_SYMLINK_NOFOLLOW) changes
 * the mode of what the name is when it runs, so a symbolic link swapped in
 * between is not followed either: it gives EOPNOTSUPP, and the link is
 * left as it is and logged.  (A regular file swapped in between gets the
 * mode the first one was to get; the directory is the daemon's, and
 * whoever can rename files in it can read them anyway.)
 *
 * Our own code opens no descriptor for this: closing one would drop every
 * POSIX lock this process holds on the file, and the daemon's other
 * connections hold SQLite's locks on these very files.  glibc's
 * fchmodat(AT_SYMLINK_NOFOLLOW) opens the name with O_PATH, and closing an
 * O_PATH descriptor drops no lock. */
static void
restrict_files(const char *path)
{
    static const char *const suffixes[] = { "", "-wal", "-shm" };
    g_autoptr(GString) changed = g_string_new(NULL);
    g_autoptr(GString) failed = g_string_new(NULL);
    g_autoptr(GString) swapped = g_string_new(NULL);
    g_autoptr(GString) linked = g_string_new(NULL);
    bool special = false;

    for (guint i = 0; i < G_N_ELEMENTS(suffixes); i++) {
        g_autofree char *file = g_strconcat(path, suffixes[i], NULL);
        struct stat sb, target;
        GString *to;

        if (lstat(file, &sb) != 0)
            continue;
        if (S_ISLNK(sb.st_mode) && stat(file, &target) == 0 && S_ISREG(target.st_mode) &&
            (target.st_mode & FILE_MODE_DROPPED) != 0)
            g_string_append_printf(linked, "%s%s", linked->len > 0 ? ", " : "", file);
        if (!S_ISREG(sb.st_mode) || (sb.st_mode & FILE_MODE_DROPPED) == 0)
            continue;
        if (fchmodat(AT_FDCWD, file, sb.st_mode & 07777 & ~FILE_MODE_DROPPED,
                     AT_SYMLINK_NOFOLLOW) == 0) {
            to = changed;
            special |= (sb.st_mode & (S_ISUID | S_ISGID | S_ISVTX)) != 0;
        } else {
            /* EOPNOTSUPP is also glibc's answer when /proc is missing:
             * only a name that is a link now was swapped. */
            struct stat now;
            to = errno == EOPNOTSUPP && lstat(file, &now) == 0 && S_ISLNK(now.st_mode) ? swapped
                                                                                     : failed;
        }
        g_string_append_printf(to, "%s%s", to->len > 0 ? ", " : "", file);
    }
    if (changed->len > 0 && !special)
        log_warning("database files were open to other users; their permissions for others"
                    " are removed (chmod o-rwx): %s",
                    changed->str);
    else if (changed->len > 0)
        log_warning("database files were open to other users or marked setuid, setgid or"
                    " sticky; those permissions are removed (chmod o-rwx,ug-s,-t): %s",
                    changed->str);
    if (failed->len > 0)
        log_warning("database files are open to other users or marked setuid, setgid or sticky,"
                    " and their mode cannot be changed (chmod o-rwx,ug-s,-t them as their"
                    " owner): %s",
                    failed->str);
    if (linked->len > 0)
        log_warning("database files are symbolic links to files open to other users or marked"
                    " setuid, setgid or sticky; links are not followed, so those files are left"
                    " as they are (chmod o-rwx,ug-s,-t the files they point to): %s",
                    linked->str);
    if (swapped->len > 0)
        log_warning("database files became symbolic links while their mode was being changed;"
                    " they are left as they are (check who else writes to their directory): %s",
                    swapped->str);
}

struct store *
store_open(const char *path, enum store_mode mode, guint busy_timeout_ms, GError **error)
{
    struct store *st = g_new0(struct store, 1);
    int flags = mode == STORE_READ_ONLY ? SQLITE_OPEN_READONLY
                                        : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    int rc;

    st->path = g_strdup(path);
    st->mode = mode;
    /* Each connection is used by one thread at a time (the writer, or
     * ticketctl), so SQLite's own per-connection mutex is not needed. */
    rc = sqlite3_open_v2(path, &st->db, flags | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        if (mode == STORE_READ_ONLY && !g_file_test(path, G_FILE_TEST_EXISTS))
            g_set_error(error, STORE_ERROR, STORE_ERROR_READONLY,
                        "%s: no such database (has ticket-milter run yet?)", path);
        else
            store_set_error(st, rc, error, "opening");
        return store_close(st);
    }
    sqlite3_extended_result_codes(st->db, 1);
    sqlite3_busy_timeout(st->db, (int)busy_timeout_ms);

    if (mode == STORE_READ_WRITE) {
        /* FULL: a commit is on disk (WAL fsync'd) before we tell Postfix
         * to accept the message. */
        /* temp_store: a savepoint's journal (one per message) and the
         * sorter stay in memory instead of a file created and unlinked
         * in /var/tmp for each. */
        if (!store_exec(st, "PRAGMA journal_mode = WAL", error) ||
            !store_exec(st, "PRAGMA synchronous = FULL", error) ||
            !store_exec(st, "PRAGMA temp_store = MEMORY", error) ||
            !store_exec(st, "PRAGMA foreign_keys = ON", error) || !store_migrate(st, error))
            return store_close(st);
        /* After the journal mode: the -wal and -shm files exist now. */
        restrict_files(path);
    } else {
        int version = store_schema_version(st, error);
        if (version < 0)
            return store_close(st);
        if (version != (int)G_N_ELEMENTS(migrations)) {
            g_set_error(error, STORE_ERROR, STORE_ERROR_VERSION,
                        "%s: schema version %d, this ticketctl reads version %d;"
                        " start ticket-milter once to migrate it",
                        path, version, (int)G_N_ELEMENTS(migrations));
            return store_close(st);
        }
    }
    if (!store_prepare_all(st, error))
        return store_close(st);
    return st;
}

struct store *
store_close(struct store *st)
{
    if (st == NULL)
        return NULL;
    for (int i = 0; i < STMT_COUNT; i++)
        sqlite3_finalize(st->stmt[i]);
    sqlite3_close(st->db);
    g_free(st->path);
    g_free(st);
    return NULL;
}

bool
store_begin(struct store *st, GError **error)
{
    return store_step_done(st, STMT_BEGIN, error);
}

bool
store_commit(struct store *st, GError **error)
{
    if (store_step_done(st, STMT_COMMIT, error))
        return true;
    /* A failed COMMIT (busy, full) leaves the transaction open. */
    if (!sqlite3_get_autocommit(st->db))
        store_rollback(st);
    return false;
}

void
store_rollback(struct store *st)
{
    if (!sqlite3_get_autocommit(st->db))
        store_step_done(st, STMT_ROLLBACK, NULL);
}

bool
store_savepoint(struct store *st, GError **error)
{
    return store_step_done(st, STMT_SAVEPOINT, error);
}

bool
store_savepoint_release(struct store *st, GError **error)
{
    return store_step_done(st, STMT_RELEASE, error);
}

void
store_savepoint_rollback(struct store *st)
{
    store_step_done(st, STMT_ROLLBACK_TO, NULL);
    store_step_done(st, STMT_RELEASE, NULL);
}

bool
store_in_transaction(struct store *st)
{
    return !sqlite3_get_autocommit(st->db);
}

/* Binds TEXT or NULL; SQLITE_TRANSIENT is not needed because every value
 * outlives the step that uses it. */
static void
bind_text(sqlite3_stmt *s, int i, const char *text)
{
    if (text == NULL)
        sqlite3_bind_null(s, i);
    else
        sqlite3_bind_text(s, i, text, -1, SQLITE_STATIC);
}

char *
store_column_dup(sqlite3_stmt *s, int i)
{
    const unsigned char *t = sqlite3_column_text(s, i);

    return t != NULL ? g_strdup((const char *)t) : NULL;
}

bool
store_ticket_insert(struct store *st, const struct ticket *t, const char *prefix, gint64 *id,
                    GError **error)
{
    sqlite3_stmt *s = st->stmt[STMT_TICKET_INSERT];

    bind_text(s, 1, prefix);
    bind_text(s, 2, ticket_status_name(t->status));
    sqlite3_bind_int(s, 3, t->severity);
    sqlite3_bind_int(s, 4, t->stage);
    bind_text(s, 5, t->customer);
    bind_text(s, 6, t->requester != NULL ? t->requester : "");
    bind_text(s, 7, t->subject);
    bind_text(s, 8, t->created_at);
    bind_text(s, 9, t->first_response_due);
    bind_text(s, 10, t->next_update_due);
    bind_text(s, 11, t->resolution_due);
    bind_text(s, 12, t->plan);
    bind_text(s, 13, t->timezone);
    bind_text(s, 14, t->language);
    bind_text(s, 15, t->clock_start);
    bind_text(s, 16, t->assignee);
    bind_text(s, 17, t->update_from);
    bind_text(s, 18, t->first_response_at);
    if (!store_step_done(st, STMT_TICKET_INSERT, error))
        return false;
    *id = sqlite3_last_insert_rowid(st->db);
    return true;
}

bool
store_message_insert(struct store *st, const struct store_new_message *m, gint64 *id,
                     GError **error)
{
    sqlite3_stmt *s = st->stmt[STMT_MESSAGE_INSERT];

    sqlite3_bind_int64(s, 1, m->ticket_id);
    bind_text(s, 2, m->dedup_key);
    bind_text(s, 3, m->message_id);
    bind_text(s, 4, m->digest);
    bind_text(s, 5, m->direction);
    bind_text(s, 6, m->kind);
    bind_text(s, 7, m->from);
    bind_text(s, 8, m->to);
    bind_text(s, 9, m->cc);
    bind_text(s, 10, m->subject);
    bind_text(s, 11, m->in_reply_to);
    bind_text(s, 12, m->references);
    bind_text(s, 13, m->text);
    if (m->raw != NULL)
        sqlite3_bind_blob64(s, 14, m->raw, m->raw_len, SQLITE_STATIC);
    else
        sqlite3_bind_null(s, 14);
    bind_text(s, 15, m->received_at);
    bind_text(s, 16, m->queue_id);
    bind_text(s, 17, m->envelope_from);
    bind_text(s, 18, m->client_addr);
    bind_text(s, 19, m->reply_text);
    bind_text(s, 20, m->attachments);
    if (!store_step_done(st, STMT_MESSAGE_INSERT, error))
        return false;
    if (id != NULL)
        *id = sqlite3_last_insert_rowid(st->db);
    return true;
}

bool
store_message_find(struct store *st, const char *dedup_key, bool *found, gint64 *ticket_id,
                   char **digest, GError **error)
{
    sqlite3_stmt *s = st->stmt[STMT_MESSAGE_FIND];
    int rc;

    bind_text(s, 1, dedup_key);
    rc = sqlite3_step(s);
    *found = rc == SQLITE_ROW;
    if (*found) {
        *ticket_id = sqlite3_column_int64(s, 0);
        *digest = store_column_dup(s, 1);
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        store_set_error(st, rc, error, "looking up a message");
        return false;
    }
    return true;
}

bool
store_event_insert(struct store *st, gint64 ticket_id, const char *at, const char *type,
                   const char *actor, const char *detail_json, GError **error)
{
    sqlite3_stmt *s = st->stmt[STMT_EVENT_INSERT];

    if (ticket_id > 0)
        sqlite3_bind_int64(s, 1, ticket_id);
    else
        sqlite3_bind_null(s, 1);
    bind_text(s, 2, at);
    bind_text(s, 3, type);
    bind_text(s, 4, actor);
    bind_text(s, 5, detail_json);
    return store_step_done(st, STMT_EVENT_INSERT, error);
}

/* ---- reading ---- */

static void
ticket_free_cb(gpointer p)
{
    ticket_free(p);
}

struct ticket *
store_ticket_from_row(sqlite3_stmt *s)
{
    struct ticket *t = g_new0(struct ticket, 1);
    const char *status = (const char *)sqlite3_column_text(s, 2);

    t->id = sqlite3_column_int64(s, 0);
    t->tag = store_column_dup(s, 1);
    /* The schema's CHECK keeps the status one of the four. */
    if (!ticket_status_parse(status, &t->status))
        t->status = TICKET_OPEN;
    t->severity = CLAMP(sqlite3_column_int(s, 3), 1, 4);
    t->stage = CLAMP(sqlite3_column_int(s, 4), 0, 3);
    t->customer = store_column_dup(s, 5);
    t->requester = store_column_dup(s, 6);
    t->subject = store_column_dup(s, 7);
    t->created_at = store_column_dup(s, 8);
    t->updated_at = store_column_dup(s, 9);
    t->first_response_due = store_column_dup(s, 10);
    t->first_response_at = store_column_dup(s, 11);
    t->next_update_due = store_column_dup(s, 12);
    t->resolution_due = store_column_dup(s, 13);
    t->resolved_at = store_column_dup(s, 14);
    t->plan = store_column_dup(s, 15);
    t->timezone = store_column_dup(s, 16);
    t->language = store_column_dup(s, 17);
    t->assignee = store_column_dup(s, 18);
    t->paused_at = store_column_dup(s, 19);
    t->paused_seconds = sqlite3_column_int64(s, 20);
    t->clock_start = store_column_dup(s, 21);
    t->update_from = store_column_dup(s, 22);
    return t;
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
ticket_message_from_row(sqlite3_stmt *s)
{
    struct ticket_message *m = g_new0(struct ticket_message, 1);

    m->id = sqlite3_column_int64(s, 0);
    m->message_id = store_column_dup(s, 1);
    m->direction = store_column_dup(s, 2);
    m->kind = store_column_dup(s, 3);
    m->from = store_column_dup(s, 4);
    m->subject = store_column_dup(s, 5);
    m->received_at = store_column_dup(s, 6);
    m->queue_id = store_column_dup(s, 7);
    return m;
}

static void
ticket_event_free(gpointer p)
{
    struct ticket_event *e = p;

    g_free(e->at);
    g_free(e->type);
    g_free(e->actor);
    g_free(e->detail);
    g_free(e);
}

static gpointer
ticket_event_from_row(sqlite3_stmt *s)
{
    struct ticket_event *e = g_new0(struct ticket_event, 1);

    e->id = sqlite3_column_int64(s, 0);
    e->at = store_column_dup(s, 1);
    e->type = store_column_dup(s, 2);
    e->actor = store_column_dup(s, 3);
    e->detail = store_column_dup(s, 4);
    return e;
}

/* Steps statement ID (already bound) and collects every row with FROM_ROW. */
static GPtrArray *
store_collect(struct store *st, enum stmt_id id, gpointer (*from_row)(sqlite3_stmt *),
              GDestroyNotify free_fn, GError **error)
{
    sqlite3_stmt *s = st->stmt[id];
    GPtrArray *rows = g_ptr_array_new_with_free_func(free_fn);
    int rc;

    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        g_ptr_array_add(rows, from_row(s));
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    if (rc != SQLITE_DONE) {
        store_set_error(st, rc, error, "reading");
        g_ptr_array_unref(rows);
        return NULL;
    }
    return rows;
}

GPtrArray *
store_ticket_list(struct store *st, GError **error)
{
    return store_collect(st, STMT_TICKET_LIST, (gpointer(*)(sqlite3_stmt *))store_ticket_from_row,
                         ticket_free_cb, error);
}

GPtrArray *
store_ticket_messages(struct store *st, gint64 ticket_id, GError **error)
{
    sqlite3_bind_int64(st->stmt[STMT_TICKET_MESSAGES], 1, ticket_id);
    return store_collect(st, STMT_TICKET_MESSAGES, ticket_message_from_row, ticket_message_free,
                         error);
}

GPtrArray *
store_ticket_events(struct store *st, gint64 ticket_id, GError **error)
{
    sqlite3_bind_int64(st->stmt[STMT_TICKET_EVENTS], 1, ticket_id);
    return store_collect(st, STMT_TICKET_EVENTS, ticket_event_from_row, ticket_event_free,
                         error);
}

struct ticket *
store_ticket_get(struct store *st, gint64 id, GError **error)
{
    g_autoptr(GPtrArray) rows = NULL;

    sqlite3_bind_int64(st->stmt[STMT_TICKET_GET], 1, id);
    rows = store_collect(st, STMT_TICKET_GET, (gpointer(*)(sqlite3_stmt *))store_ticket_from_row,
                         ticket_free_cb, error);
    if (rows == NULL || rows->len == 0)
        return NULL;
    return g_ptr_array_steal_index(rows, 0);
}

struct ticket *
store_ticket_get_by_tag(struct store *st, const char *tag, GError **error)
{
    const char *dash = strrchr(tag, '-');
    struct ticket *t;
    char *end = NULL;
    gint64 id;

    if (dash == NULL || dash[1] == '\0')
        return NULL;
    id = g_ascii_strtoll(dash + 1, &end, 10);
    if (*end != '\0' || id <= 0)
        return NULL;
    t = store_ticket_get(st, id, error);
    /* The number alone is not enough: "ABC-7" must not find "TKT-7". */
    if (t != NULL && g_ascii_strcasecmp(t->tag, tag) != 0)
        t = ticket_free(t);
    return t;
}

/* ---- the outbox ---- */

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
store_outbox_insert(struct store *st, const struct store_new_outbox *o, gint64 *id,
                    GError **error)
{
    sqlite3_stmt *s = st->stmt[STMT_OUTBOX_INSERT];
    g_autofree char *recipients = recipients_json(o->recipients);

    if (o->ticket_id > 0)
        sqlite3_bind_int64(s, 1, o->ticket_id);
    else
        sqlite3_bind_null(s, 1);
    bind_text(s, 2, o->kind);
    bind_text(s, 3, o->template_name);
    bind_text(s, 4, o->transport);
    bind_text(s, 5, o->mail_from != NULL ? o->mail_from : "");
    bind_text(s, 6, recipients);
    bind_text(s, 7, o->message_id);
    bind_text(s, 8, o->body);
    bind_text(s, 9, o->created_at);
    bind_text(s, 10, o->send_at);
    sqlite3_bind_int64(s, 11, g_get_real_time());
    if (!store_step_done(st, STMT_OUTBOX_INSERT, error))
        return false;
    if (id != NULL)
        *id = sqlite3_last_insert_rowid(st->db);
    return true;
}

/* Runs statement ID (already bound) that yields one value in column 0. */
static bool
store_scalar(struct store *st, enum stmt_id id, gint64 *number, char **text, GError **error)
{
    sqlite3_stmt *s = st->stmt[id];
    int rc = sqlite3_step(s);

    if (rc == SQLITE_ROW) {
        if (number != NULL)
            *number = sqlite3_column_int64(s, 0);
        if (text != NULL)
            *text = store_column_dup(s, 0);
    } else if (text != NULL) {
        *text = NULL;
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        store_set_error(st, rc, error, stmt_sql[id]);
        return false;
    }
    return true;
}

bool
store_outbox_count_since(struct store *st, const char *kind, const char *recipient,
                         const char *since, gint64 *count, GError **error)
{
    sqlite3_stmt *s = st->stmt[STMT_OUTBOX_COUNT_SINCE];
    const char *one[] = { recipient, NULL };
    g_autofree char *json = recipients_json(one);

    bind_text(s, 1, kind);
    bind_text(s, 2, json);
    bind_text(s, 3, since);
    return store_scalar(st, STMT_OUTBOX_COUNT_SINCE, count, NULL, error);
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
outbox_row_from_row(sqlite3_stmt *s)
{
    struct outbox_row *r = g_new0(struct outbox_row, 1);

    r->id = sqlite3_column_int64(s, 0);
    r->ticket_id = sqlite3_column_int64(s, 1);
    r->kind = store_column_dup(s, 2);
    r->template_name = store_column_dup(s, 3);
    r->transport = store_column_dup(s, 4);
    r->mail_from = store_column_dup(s, 5);
    r->recipients = recipients_list((const char *)sqlite3_column_text(s, 6));
    r->message_id = store_column_dup(s, 7);
    r->body = store_column_dup(s, 8);
    r->attempts = sqlite3_column_int(s, 9);
    r->status = store_column_dup(s, 10);
    r->created_at = store_column_dup(s, 11);
    r->next_attempt_at = store_column_dup(s, 12);
    r->sent_at = store_column_dup(s, 13);
    r->last_error = store_column_dup(s, 14);
    return r;
}

GPtrArray *
store_outbox_due(struct store *st, const char *now, const char *transport, guint limit,
                 GError **error)
{
    enum stmt_id id = transport != NULL ? STMT_OUTBOX_DUE_LANE : STMT_OUTBOX_DUE;

    bind_text(st->stmt[id], 1, now);
    sqlite3_bind_int(st->stmt[id], 2, (int)limit);
    if (transport != NULL)
        bind_text(st->stmt[id], 3, transport);
    return store_collect(st, id, outbox_row_from_row, outbox_row_free_cb, error);
}

GPtrArray *
store_outbox_for_ticket(struct store *st, gint64 ticket_id, GError **error)
{
    sqlite3_bind_int64(st->stmt[STMT_OUTBOX_FOR_TICKET], 1, ticket_id);
    return store_collect(st, STMT_OUTBOX_FOR_TICKET, outbox_row_from_row, outbox_row_free_cb,
                         error);
}

bool
store_outbox_next_due(struct store *st, const char *transport, char **when, GError **error)
{
    if (transport == NULL)
        return store_scalar(st, STMT_OUTBOX_NEXT_DUE, NULL, when, error);
    bind_text(st->stmt[STMT_OUTBOX_NEXT_DUE_LANE], 1, transport);
    return store_scalar(st, STMT_OUTBOX_NEXT_DUE_LANE, NULL, when, error);
}

bool
store_outbox_pending(struct store *st, gint64 *count, GError **error)
{
    return store_scalar(st, STMT_OUTBOX_PENDING, count, NULL, error);
}

/* The three outcomes of a delivery attempt share their shape. */
static bool
outbox_mark(struct store *st, enum stmt_id id, gint64 row, const char *at, const char *last_error,
            GError **error)
{
    sqlite3_stmt *s = st->stmt[id];

    sqlite3_bind_int64(s, 1, row);
    bind_text(s, 2, at);
    if (id != STMT_OUTBOX_SENT)
        bind_text(s, 3, last_error);
    return store_step_done(st, id, error);
}

bool
store_outbox_mark_sent(struct store *st, gint64 id, const char *at, gint64 sent_us,
                       GError **error)
{
    sqlite3_bind_int64(st->stmt[STMT_OUTBOX_SENT], 3, sent_us);
    return outbox_mark(st, STMT_OUTBOX_SENT, id, at, NULL, error);
}

bool
store_outbox_mark_retry(struct store *st, gint64 id, const char *next_at, const char *last_error,
                        GError **error)
{
    return outbox_mark(st, STMT_OUTBOX_RETRY, id, next_at, last_error, error);
}

bool
store_outbox_mark_failed(struct store *st, gint64 id, const char *at, const char *last_error,
                         GError **error)
{
    return outbox_mark(st, STMT_OUTBOX_FAILED, id, at, last_error, error);
}

bool
store_meta_get(struct store *st, const char *key, char **value, GError **error)
{
    bind_text(st->stmt[STMT_META_GET], 1, key);
    return store_scalar(st, STMT_META_GET, NULL, value, error);
}

bool
store_meta_set(struct store *st, const char *key, const char *value, GError **error)
{
    bind_text(st->stmt[STMT_META_SET], 1, key);
    bind_text(st->stmt[STMT_META_SET], 2, value);
    return store_step_done(st, STMT_META_SET, error);
}

bool
store_meta_delete(struct store *st, const char *key, GError **error)
{
    bind_text(st->stmt[STMT_META_DELETE], 1, key);
    return store_step_done(st, STMT_META_DELETE, error);
}

bool
store_ticket_by_message_id(struct store *st, const char *message_id, gint64 *ticket_id,
                           GError **error)
{
    *ticket_id = 0;
    bind_text(st->stmt[STMT_TICKET_BY_MESSAGE_ID], 1, message_id);
    return store_scalar(st, STMT_TICKET_BY_MESSAGE_ID, ticket_id, NULL, error);
}

bool
store_outbox_ticket_by_message_id(struct store *st, const char *message_id, gint64 *ticket_id,
                                  GError **error)
{
    *ticket_id = 0;
    bind_text(st->stmt[STMT_OUTBOX_TICKET_BY_MESSAGE_ID], 1, message_id);
    return store_scalar(st, STMT_OUTBOX_TICKET_BY_MESSAGE_ID, ticket_id, NULL, error);
}

char **
store_ticket_subjects(struct store *st, gint64 id, guint limit, GError **error)
{
    sqlite3_stmt *s = st->stmt[STMT_TICKET_SUBJECTS];
    GPtrArray *out = g_ptr_array_new();
    int rc;

    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int(s, 2, (int)limit);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        g_ptr_array_add(out, store_column_dup(s, 0));
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    g_ptr_array_add(out, NULL);
    if (rc != SQLITE_DONE) {
        store_set_error(st, rc, error, stmt_sql[STMT_TICKET_SUBJECTS]);
        g_strfreev((char **)g_ptr_array_free(out, FALSE));
        return NULL;
    }
    return (char **)g_ptr_array_free(out, FALSE);
}

bool
store_message_raw(struct store *st, gint64 ticket_id, guint index, bool *found, GBytes **raw,
                  GError **error)
{
    sqlite3_stmt *s = st->stmt[STMT_MESSAGE_RAW];
    int rc;

    *found = false;
    *raw = NULL;
    sqlite3_bind_int64(s, 1, ticket_id);
    sqlite3_bind_int64(s, 2, index);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *found = true;
        if (sqlite3_column_type(s, 0) != SQLITE_NULL)
            *raw = g_bytes_new(sqlite3_column_blob(s, 0), (gsize)sqlite3_column_bytes(s, 0));
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        store_set_error(st, rc, error, stmt_sql[STMT_MESSAGE_RAW]);
        return false;
    }
    return true;
}

bool
store_unattached_insert(struct store *st, const struct store_unattached *u, GError **error)
{
    sqlite3_stmt *s = st->stmt[STMT_UNATTACHED_INSERT];

    bind_text(s, 1, u->dedup_key);
    bind_text(s, 2, u->message_id);
    bind_text(s, 3, u->digest);
    bind_text(s, 4, u->kind);
    bind_text(s, 5, u->from);
    bind_text(s, 6, u->envelope_from);
    bind_text(s, 7, u->subject);
    if (u->raw != NULL)
        sqlite3_bind_blob64(s, 8, u->raw, u->raw_len, SQLITE_STATIC);
    else
        sqlite3_bind_null(s, 8);
    bind_text(s, 9, u->received_at);
    bind_text(s, 10, u->queue_id);
    bind_text(s, 11, u->client_addr);
    bind_text(s, 12, u->reason);
    return store_step_done(st, STMT_UNATTACHED_INSERT, error);
}

bool
store_ticket_touch(struct store *st, gint64 id, const char *at, GError **error)
{
    sqlite3_bind_int64(st->stmt[STMT_TICKET_TOUCH], 1, id);
    bind_text(st->stmt[STMT_TICKET_TOUCH], 2, at);
    return store_step_done(st, STMT_TICKET_TOUCH, error);
}

/* ---- clocks and timers ---- */

bool
store_timer_set(struct store *st, gint64 ticket_id, const char *kind, const char *due_at,
                GError **error)
{
    sqlite3_stmt *s = st->stmt[STMT_TIMER_SET];

    sqlite3_bind_int64(s, 1, ticket_id);
    bind_text(s, 2, kind);
    bind_text(s, 3, due_at);
    return store_step_done(st, STMT_TIMER_SET, error);
}

bool
store_timer_clear(struct store *st, gint64 ticket_id, const char *kind, GError **error)
{
    sqlite3_stmt *s = st->stmt[STMT_TIMER_CLEAR];

    sqlite3_bind_int64(s, 1, ticket_id);
    bind_text(s, 2, kind);
    return store_step_done(st, STMT_TIMER_CLEAR, error);
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
timer_from_row(sqlite3_stmt *s)
{
    struct timer *t = g_new0(struct timer, 1);

    t->id = sqlite3_column_int64(s, 0);
    t->ticket_id = sqlite3_column_int64(s, 1);
    t->kind = store_column_dup(s, 2);
    t->due_at = store_column_dup(s, 3);
    return t;
}

GPtrArray *
store_timers_due(struct store *st, const char *now, guint limit, GError **error)
{
    bind_text(st->stmt[STMT_TIMER_DUE], 1, now);
    sqlite3_bind_int(st->stmt[STMT_TIMER_DUE], 2, (int)limit);
    return store_collect(st, STMT_TIMER_DUE, timer_from_row, timer_free, error);
}

bool
store_timer_next(struct store *st, char **when, GError **error)
{
    return store_scalar(st, STMT_TIMER_NEXT, NULL, when, error);
}

bool
store_timer_fired(struct store *st, gint64 id, const char *at, GError **error)
{
    sqlite3_bind_int64(st->stmt[STMT_TIMER_FIRED], 1, id);
    bind_text(st->stmt[STMT_TIMER_FIRED], 2, at);
    return store_step_done(st, STMT_TIMER_FIRED, error);
}

GPtrArray *
store_ticket_list_open(struct store *st, GError **error)
{
    return store_collect(st, STMT_TICKET_OPEN, (gpointer(*)(sqlite3_stmt *))store_ticket_from_row,
                         ticket_free_cb, error);
}

bool
store_ticket_update(struct store *st, const struct ticket *t, const char *at, GError **error)
{
    sqlite3_stmt *s = st->stmt[STMT_TICKET_UPDATE];

    sqlite3_bind_int64(s, 1, t->id);
    bind_text(s, 2, ticket_status_name(t->status));
    sqlite3_bind_int(s, 3, t->severity);
    sqlite3_bind_int(s, 4, t->stage);
    bind_text(s, 5, t->assignee);
    bind_text(s, 6, t->first_response_due);
    bind_text(s, 7, t->next_update_due);
    bind_text(s, 8, t->resolution_due);
    bind_text(s, 9, t->resolved_at);
    bind_text(s, 10, t->paused_at);
    sqlite3_bind_int64(s, 11, t->paused_seconds);
    bind_text(s, 12, at);
    bind_text(s, 13, t->customer);
    bind_text(s, 14, t->requester != NULL ? t->requester : "");
    bind_text(s, 15, t->plan);
    bind_text(s, 16, t->timezone);
    bind_text(s, 17, t->language);
    bind_text(s, 18, t->clock_start);
    bind_text(s, 19, t->update_from);
    bind_text(s, 20, t->first_response_at);
    return store_step_done(st, STMT_TICKET_UPDATE, error);
}

/* ---- the search index ---- */

/* Indexes the rows of one table after its last_id, at most LIMIT. */
static bool
fts_index_table(struct store *st, const char *name, enum stmt_id upto, enum stmt_id add,
                guint limit, guint *added, GError **error)
{
    gint64 last = 0, end = 0;

    *added = 0;
    bind_text(st->stmt[STMT_FTS_LAST], 1, name);
    if (!store_scalar(st, STMT_FTS_LAST, &last, NULL, error))
        return false;
    sqlite3_bind_int64(st->stmt[upto], 1, last);
    sqlite3_bind_int(st->stmt[upto], 2, (int)limit);
    if (!store_scalar(st, upto, &end, NULL, error))
        return false;
    if (end <= last)
        return true;
    sqlite3_bind_int64(st->stmt[add], 1, last);
    sqlite3_bind_int64(st->stmt[add], 2, end);
    if (!store_step_done(st, add, error))
        return false;
    *added = (guint)sqlite3_changes(st->db);
    bind_text(st->stmt[STMT_FTS_SET], 1, name);
    sqlite3_bind_int64(st->stmt[STMT_FTS_SET], 2, end);
    return store_step_done(st, STMT_FTS_SET, error);
}

bool
store_fts_index(struct store *st, guint limit, bool *more, GError **error)
{
    guint tickets = 0, messages = 0;

    g_assert(limit > 0);
    *more = false;
    if (!fts_index_table(st, "tickets", STMT_FTS_TICKETS_UPTO, STMT_FTS_TICKETS_ADD, limit,
                         &tickets, error) ||
        !fts_index_table(st, "messages", STMT_FTS_MESSAGES_UPTO, STMT_FTS_MESSAGES_ADD, limit,
                         &messages, error))
        return false;
    *more = tickets == limit || messages == limit;
    return true;
}
