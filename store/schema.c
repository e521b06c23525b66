/*
 * schema - the tables of the store and their migrations, one list per
 * backend, numbered alike: version N on SQLite and on PostgreSQL holds the
 * same tables, columns and keys, each written as that backend wants it.
 *
 * Owns: the schema_version table (one row per migration applied, the
 * version being the number of entries applied) and every CREATE and ALTER
 * of the store.  Never edit an entry that has shipped: append a new one;
 * a database of any earlier version upgrades by running the entries it
 * lacks, in order, inside one transaction (store/db.h: db_exec of several
 * statements is atomic only inside a transaction on SQLite).
 *
 * Edge cases: a database written by a newer ticket-milter is refused
 * (STORE_ERROR_VERSION), never downgraded; a reader refuses any version
 * but the current one, asking for the daemon to migrate it first.
 */
#include <glib.h>

#include "store/internal.h"
#include "store/schema.h"

/* The advisory lock key of the migrations: "tmsc" in ASCII. */
#define STORE_SCHEMA_LOCK 1953330019

/*
 * SQLite's migrations, applied in order inside one transaction each.
 */
static const char *const sqlite_migrations[] = {
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
    /* 12: ack_limit counts a mailbox, not a spelling of it: the
     * acknowledgements to jan+1@ and jan+2@ are jan@'s (ack_key), and the
     * not-contact replies of the last hour are counted by their template.
     * Rows from before count by their recipient as it is. */
    "ALTER TABLE outbox ADD COLUMN ack_key TEXT;"
    "UPDATE outbox SET ack_key = lower(json_extract(recipients, '$[0]')) WHERE kind = 'ack';"
    "CREATE INDEX outbox_ack_key ON outbox(ack_key, created_at) WHERE ack_key IS NOT NULL;"
    "CREATE INDEX outbox_not_contact ON outbox(created_at) WHERE template = 'not-contact';",
    /* 13: claims on outbox rows, so that of several daemons on one
     * database each row is sent by one: claimed_by names the daemon
     * (host, pid and a random part), claimed_until is when its lease runs
     * out and another may take the row (a daemon that died). */
    "ALTER TABLE outbox ADD COLUMN claimed_by TEXT;"
    "ALTER TABLE outbox ADD COLUMN claimed_until TEXT;",
    /* 14: since 12 nothing looks rows up by their recipients (ack_limit
     * reads ack_key), and the index on that JSON list was the largest
     * key every queued mail wrote.  The statistics' first read of the
     * goal events went through every event; an index of those alone is
     * written only when a goal is missed or nearly so. */
    "DROP INDEX IF EXISTS outbox_recipient;"
    "CREATE INDEX IF NOT EXISTS events_sla ON events(id) WHERE type IN ('sla-warning', "
    "'sla-breach');",
};

/*
 * PostgreSQL's migrations: the same versions as SQLite's, each making the
 * same tables, columns and keys in PostgreSQL's words.  Ids are BIGINT
 * identities (ticket numbers come from the tickets id: one sequence for
 * every host), raw messages BYTEA, flags and counts integers, and every
 * text column collates "C", so that comparing and ordering are byte for
 * byte as SQLite's are.  No PostgreSQL database older than this list
 * exists, so the entries that only moved data on SQLite (9's recipients,
 * 10's search index) have nothing to move here.
 */
#define TXT "TEXT COLLATE \"C\""
#define ID "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
/* tm_fold()'s work: the accents off Latin letters. */
/* clang-format off */
#define FOLD_LATIN \
    "translate($1, " \
    "'ÀÁÂÃÄÅàáâãäåÇçÈÉÊËèéêëÌÍÎÏìíîïÑñÒÓÔÕÖØòóôõöøÙÚÛÜùúûüÝýÿŠšŽžČčĆćĐđŁłŃńŚśŹźŻżĘęĄąŘřŤťŮůĚěŇň'," \
    "  " \
    "'AAAAAAaaaaaaCcEEEEeeeeIIIIiiiiNnOOOOOOooooooUUUUuuuuYyySsZzCcCcDdLlNnSsZzZzEeAaRrTtUuEeNn')"
/* clang-format on */

static const char *const pg_migrations[] = {
    /* 1: tickets, messages, events */
    "CREATE TABLE schema_version (version INTEGER NOT NULL, applied_at " TXT " NOT NULL);"
    "CREATE TABLE tickets ("
    "  id " ID ","
    "  prefix " TXT " NOT NULL,"
    "  status " TXT " NOT NULL CHECK (status IN ('open','pending','resolved','closed')),"
    "  severity INTEGER NOT NULL CHECK (severity BETWEEN 1 AND 4),"
    "  stage INTEGER NOT NULL CHECK (stage BETWEEN 0 AND 3),"
    "  customer " TXT ","
    "  requester " TXT " NOT NULL,"
    "  subject " TXT " NOT NULL,"
    "  created_at " TXT " NOT NULL,"
    "  updated_at " TXT " NOT NULL,"
    "  first_response_due " TXT ", first_response_at " TXT ","
    "  next_update_due " TXT ", resolution_due " TXT ", resolved_at " TXT ");"
    "CREATE INDEX tickets_status ON tickets(status);"
    "CREATE TABLE messages ("
    "  id " ID ","
    "  ticket_id BIGINT NOT NULL REFERENCES tickets(id),"
    "  dedup_key " TXT " NOT NULL UNIQUE,"
    "  message_id " TXT ","
    "  digest " TXT " NOT NULL,"
    "  direction " TXT " NOT NULL CHECK (direction IN ('in','out')),"
    "  kind " TXT " NOT NULL,"
    "  from_addr " TXT ", to_addrs " TXT ", cc_addrs " TXT ", subject " TXT ","
    "  in_reply_to " TXT ", refs " TXT ", text " TXT ", raw BYTEA,"
    "  received_at " TXT " NOT NULL, queue_id " TXT ", envelope_from " TXT ", client_addr " TXT ");"
    "CREATE INDEX messages_ticket ON messages(ticket_id);"
    "CREATE INDEX messages_message_id ON messages(message_id);"
    "CREATE TABLE events ("
    "  id " ID ","
    "  ticket_id BIGINT REFERENCES tickets(id),"
    "  at " TXT " NOT NULL,"
    "  type " TXT " NOT NULL,"
    "  actor " TXT ","
    "  detail " TXT ");"
    "CREATE INDEX events_ticket ON events(ticket_id);",
    /* 2: the outbox, and named values */
    "CREATE TABLE outbox ("
    "  id " ID ","
    "  ticket_id BIGINT REFERENCES tickets(id),"
    "  kind " TXT " NOT NULL,"
    "  template " TXT ","
    "  transport " TXT " NOT NULL CHECK (transport IN ('smtp','webhook')),"
    "  mail_from " TXT " NOT NULL DEFAULT '',"
    "  recipients " TXT " NOT NULL,"
    "  message_id " TXT ","
    "  body " TXT " NOT NULL,"
    "  status " TXT " NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','sent','failed')),"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  created_at " TXT " NOT NULL,"
    "  next_attempt_at " TXT " NOT NULL,"
    "  sent_at " TXT ","
    "  last_error " TXT ");"
    "CREATE INDEX outbox_due ON outbox(status, next_attempt_at);"
    "CREATE INDEX outbox_recipient ON outbox(kind, recipients, created_at);"
    "CREATE INDEX outbox_ticket ON outbox(ticket_id);"
    "CREATE TABLE meta (key " TXT " PRIMARY KEY, value " TXT " NOT NULL);",
    /* 3: replies to our own mail find their ticket by its Message-ID */
    "CREATE INDEX outbox_message_id ON outbox(message_id);",
    /* 4: what the clocks need, and the timers the scheduler fires */
    "ALTER TABLE tickets ADD COLUMN plan " TXT ", ADD COLUMN timezone " TXT ","
    " ADD COLUMN language " TXT ", ADD COLUMN assignee " TXT ", ADD COLUMN paused_at " TXT ";"
    "CREATE TABLE timers ("
    "  id " ID ","
    "  ticket_id BIGINT NOT NULL REFERENCES tickets(id),"
    "  kind " TXT " NOT NULL,"
    "  due_at " TXT " NOT NULL,"
    "  fired_at " TXT ","
    "  UNIQUE (ticket_id, kind)"
    ");"
    "CREATE INDEX timers_due ON timers(due_at) WHERE fired_at IS NULL;",
    /* 5: business time spent waiting for the customer, excluded from goals */
    "ALTER TABLE tickets ADD COLUMN paused_seconds BIGINT NOT NULL DEFAULT 0;",
    /* 6: queue-to-relay latency in microseconds, for statistics */
    "ALTER TABLE outbox ADD COLUMN queued_us BIGINT, ADD COLUMN sent_us BIGINT;",
    /* 7: full-text search (ticketctl search) and the daemon's counters.
     * The words are indexed as they are written, in English and Dutch at
     * once (a word matches in either), by generated columns; a message's
     * first SEARCH_CHARS characters only, since a tsvector holds at most
     * 1 MB and a message that did not fit must still be stored.  tm_fold()
     * takes the accents off Latin letters, as SQLite's remove_diacritics
     * does (unaccent is an extension that needs rights we do not ask for),
     * for the words and the queries alike.  tm_json()
     * reads a detail that may not be JSON as NULL, as SQLite's json_valid()
     * lets the reports do. */
    "CREATE FUNCTION tm_fold(t text) RETURNS text LANGUAGE sql IMMUTABLE STRICT AS $$"
    " SELECT " FOLD_LATIN " "
    "$$;"
    "ALTER TABLE tickets ADD COLUMN search tsvector GENERATED ALWAYS AS ("
    "  to_tsvector('english', tm_fold(subject)) || to_tsvector('dutch', tm_fold(subject))) STORED;"
    "ALTER TABLE messages ADD COLUMN search tsvector GENERATED ALWAYS AS ("
    "  to_tsvector('english',"
    "   tm_fold(left(coalesce(subject, '') || ' ' || coalesce(text, ''), 200000)))"
    "  || to_tsvector('dutch',"
    "   tm_fold(left(coalesce(subject, '') || ' ' || coalesce(text, ''), 200000)))) STORED;"
    "CREATE INDEX tickets_search ON tickets USING gin (search);"
    "CREATE INDEX messages_search ON messages USING gin (search);"
    "CREATE FUNCTION tm_json(t text) RETURNS jsonb LANGUAGE plpgsql IMMUTABLE AS $$"
    " BEGIN RETURN t::jsonb; EXCEPTION WHEN others THEN RETURN NULL; END $$;"
    "CREATE TABLE counters (name " TXT " PRIMARY KEY, value BIGINT NOT NULL DEFAULT 0);",
    /* 8: the new part of a reply apart from the whole text, and what the
     * attachments were (a JSON array); the bytes stay in raw. */
    "ALTER TABLE messages ADD COLUMN reply_text " TXT ", ADD COLUMN attachments " TXT ";",
    /* 9: the clocks a ticket's goals run from, and bounces about no mail of
     * ours, kept on no ticket.  (Recipients were JSON arrays from the
     * start here.) */
    "ALTER TABLE tickets ADD COLUMN clock_start " TXT ", ADD COLUMN update_from " TXT ";"
    "UPDATE tickets SET clock_start = created_at;"
    "UPDATE tickets SET update_from = first_response_at"
    "  WHERE status = 'open' AND next_update_due IS NOT NULL;"
    "CREATE TABLE unattached ("
    "  id " ID ","
    "  dedup_key " TXT " NOT NULL UNIQUE,"
    "  message_id " TXT ", digest " TXT " NOT NULL, kind " TXT " NOT NULL,"
    "  from_addr " TXT ", envelope_from " TXT ", subject " TXT ", raw BYTEA,"
    "  received_at " TXT " NOT NULL, queue_id " TXT ", client_addr " TXT ", reason " TXT ");",
    /* 10: SQLite's search index left the commit; the generated columns of
     * 7 index each row as it is written, in the same transaction, which
     * PostgreSQL does without a segment per row: nothing to change. */
    "SELECT 1;",
    /* 11: the dispatcher's lanes find their due rows in an index of the
     * pending rows alone, by transport.  (In parentheses: one entry of two
     * statements, not two entries that lost their comma.) */
    ("DROP INDEX outbox_due;"
     "CREATE INDEX outbox_pending ON outbox(transport, next_attempt_at) WHERE status = 'pending';"),
    /* 12: ack_limit counts a mailbox (ack_key); not-contact replies by
     * their template. */
    ("ALTER TABLE outbox ADD COLUMN ack_key " TXT ";"
     "UPDATE outbox SET ack_key = lower(recipients::json->>0) WHERE kind = 'ack';"
     "CREATE INDEX outbox_ack_key ON outbox(ack_key, created_at) WHERE ack_key IS NOT NULL;"
     "CREATE INDEX outbox_not_contact ON outbox(created_at) WHERE template = 'not-contact';"),
    /* 13: claims on outbox rows: who is sending a row, and until when. */
    "ALTER TABLE outbox ADD COLUMN claimed_by " TXT ", ADD COLUMN claimed_until " TXT ";",
    /* 14: the index on the recipients nothing reads any more; one of
     * the goal events alone, for the statistics.  The due rows' indexes
     * end in id, as SQLite's end in the rowid, so that the claims' and
     * the timer passes' ORDER BY ..., id is read from them, not sorted
     * (the planner sorted every due row when the statistics were young).
     * tm_fold() leaves ASCII text as it is: translate() took 0.8 ms of
     * the server per 2 KB message, twice (English and Dutch), in the
     * writer's commit; the words and queries it folds are unchanged. */
    ("DROP INDEX IF EXISTS outbox_recipient;"
     "CREATE INDEX IF NOT EXISTS events_sla ON events(id)"
     " WHERE type IN ('sla-warning', 'sla-breach');"
     "DROP INDEX outbox_pending;"
     "CREATE INDEX outbox_pending ON outbox(transport, next_attempt_at, id)"
     " WHERE status = 'pending';"
     "DROP INDEX timers_due;"
     "CREATE INDEX timers_due ON timers(due_at, id) WHERE fired_at IS NULL;"
     "CREATE OR REPLACE FUNCTION tm_fold(t text) RETURNS text LANGUAGE sql IMMUTABLE STRICT AS $$"
     " SELECT CASE WHEN octet_length($1) = char_length($1) THEN $1 ELSE " FOLD_LATIN " END $$;"),
};

G_STATIC_ASSERT(G_N_ELEMENTS(pg_migrations) == G_N_ELEMENTS(sqlite_migrations));

/* The list of KIND. */
static const char *const *
migrations_of(enum db_kind kind, int *count)
{
    if (kind == DB_POSTGRES) {
        *count = G_N_ELEMENTS(pg_migrations);
        return pg_migrations;
    }
    *count = G_N_ELEMENTS(sqlite_migrations);
    return sqlite_migrations;
}

int
store_schema_latest(enum db_kind kind)
{
    int count;

    migrations_of(kind, &count);
    return count;
}

int
store_schema_version(struct db *db, GError **error)
{
    const char *probe = db_kind(db) == DB_SQLITE
                            ? "SELECT count(*) FROM sqlite_master"
                              " WHERE type = 'table' AND name = 'schema_version'"
                            : "SELECT count(*) FROM information_schema.tables"
                              " WHERE table_schema = current_schema()"
                              " AND table_name = 'schema_version'";
    gint64 has_table = 0, version = 0;

    if (!store_scalar(db_prepare(db, probe, error), &has_table, NULL, error))
        return -1;
    if (has_table == 0)
        return 0;
    if (!store_scalar(db_prepare(db, "SELECT max(version) FROM schema_version", error), &version,
                      NULL, error))
        return -1;
    return (int)version;
}

/* Applies the migrations DB lacks; inside the caller's transaction. */
static bool
migrate_in_transaction(struct db *db, GError **error)
{
    int want;
    const char *const *list = migrations_of(db_kind(db), &want);
    int have = store_schema_version(db, error);

    if (have < 0)
        return false;
    if (have > want) {
        g_set_error(error, STORE_ERROR, STORE_ERROR_VERSION,
                    "%s: schema version %d is newer than this ticket-milter knows (%d);"
                    " run the newer version or restore a backup",
                    db_name(db), have, want);
        return false;
    }
    for (int v = have; v < want; v++) {
        g_autofree char *now = store_now();
        struct db_stmt *mark;

        if (!db_exec(db, list[v], error))
            return false;
        mark = db_prepare(db, "INSERT INTO schema_version (version, applied_at) VALUES (?1, ?2)",
                          error);
        if (mark == NULL)
            return false;
        db_bind_int64(mark, 1, v + 1);
        db_bind_text(mark, 2, now);
        if (!store_step_done(mark, error))
            return false;
    }
    return true;
}

/* PostgreSQL: hosts that start at once migrate one after the other (the
 * second then finds nothing to do), however long it takes. */
static bool
pg_migration_lock(struct db *db, GError **error)
{
    return db_exec(db,
                   "SET LOCAL lock_timeout = 0; SET LOCAL statement_timeout = 0;"
                   " SELECT pg_advisory_xact_lock(" G_STRINGIFY(STORE_SCHEMA_LOCK) ")",
                   error);
}

bool
store_schema_migrate(struct db *db, GError **error)
{
    if (!db_begin(db, error))
        return false;
    if ((db_kind(db) == DB_POSTGRES && !pg_migration_lock(db, error)) ||
        !migrate_in_transaction(db, error)) {
        db_rollback(db);
        return false;
    }
    return db_commit(db, error);
}

bool
store_schema_check(struct db *db, GError **error)
{
    int version = store_schema_version(db, error);
    int want = store_schema_latest(db_kind(db));

    if (version < 0)
        return false;
    if (version != want) {
        g_set_error(error, STORE_ERROR, STORE_ERROR_VERSION,
                    "%s: schema version %d, this ticketctl reads version %d;"
                    " start ticket-milter once to migrate it",
                    db_name(db), version, want);
        return false;
    }
    return true;
}
