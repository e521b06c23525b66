/*
 * db - the one SQL layer under the store: connections, prepared
 * statements, rows, transactions and errors, over SQLite or PostgreSQL.
 *
 * Everything above (the rest of store/) is written once against this:
 * the same statements, the same transactions, the same errors, whichever
 * database holds the tickets.  What only one of them can say (PRAGMAs,
 * FTS5 or tsvector, AUTOINCREMENT or identity columns, FOR UPDATE SKIP
 * LOCKED) the store picks by db_kind(); nothing else looks at the backend.
 *
 * SQL: parameters are written ?1 .. ?N (numbered, each may repeat); the
 * PostgreSQL driver rewrites them to $1 .. $N outside quoted literals.
 * Times are ISO 8601 UTC text in both; integers are 64-bit; raw messages
 * are blobs (BLOB / BYTEA, sent and read in binary).  New ids come back
 * with RETURNING (SQLite 3.35 and later has it).
 *
 * Threads: a connection and its statements belong to one thread at a
 * time (libpq and SQLite alike); the writer thread and each reader open
 * their own.
 *
 * Errors: every failure is a STORE_ERROR (store/store.h) with a code an
 * admin and the milter can act on, and a message that names the database
 * (db_name(): the path, or the URI without its password) and what was
 * being done:
 *   STORE_ERROR_BUSY        locked past the timeout (SQLite), lock or
 *                           statement timeout (PostgreSQL 55P03, 57014)
 *   STORE_ERROR_FULL        disk or quota full (SQLITE_FULL, ENOSPC; 53100)
 *   STORE_ERROR_READONLY    not writable (file modes; 25006, a standby;
 *                           42501, the role's rights)
 *   STORE_ERROR_CORRUPT     not a database, or damaged (XX001, XX002)
 *   STORE_ERROR_UNAVAILABLE the server cannot be reached, or the
 *                           connection broke (08*, 57P01-57P03): the
 *                           next db_begin() reconnects once
 *   STORE_ERROR_RETRY       the transaction lost a race and must be run
 *                           again from its start (40001, 40P01)
 *   STORE_ERROR_CONFLICT    a unique key is taken (SQLITE_CONSTRAINT_UNIQUE
 *                           and _PRIMARYKEY; 23505): another host stored
 *                           the same message first
 *   STORE_ERROR_FAILED      anything else
 * All of them but CONFLICT (and VERSION, from the schema check) are a
 * "451 4.3.0" to the SMTP client: the message is retried and stored once.
 */
#ifndef TM_STORE_DB_H
#define TM_STORE_DB_H

#include <stdbool.h>

#include <glib.h>

#include "store/store.h"

enum db_kind {
    DB_SQLITE,
    DB_POSTGRES,
};

enum db_mode {
    DB_READ_WRITE, /* SQLite: creates the file */
    DB_READ_ONLY,  /* SQLite: SQLITE_OPEN_READONLY; PostgreSQL: default_transaction_read_only */
};

enum db_step {
    DB_ROW,   /* a row is current: read it with db_column_*() */
    DB_DONE,  /* no (more) rows; the statement ran */
    DB_ERROR, /* *error is set; the statement is reset */
};

struct db;
struct db_stmt;

/* Which backend TARGET names: a "postgresql://" or "postgres://" URI (or
 * a libpq "key=value" string with host= or dbname=) is PostgreSQL,
 * anything else a SQLite file path. */
enum db_kind db_kind_of_target(const char *target);

/* Opens TARGET. BUSY_TIMEOUT_MS: SQLite's busy timeout; PostgreSQL's
 * lock_timeout, and twice it its statement_timeout, so that a lock wait
 * reports as one (0: the server's).  The password of
 * a URI comes from ~/.pgpass or PGPASSFILE (a URI that carries one is
 * refused: it would be in the config and in ps).  NULL and ERROR when it
 * cannot be used. */
struct db *db_open(const char *target, enum db_mode mode, guint busy_timeout_ms, GError **error);
/* Closes DB and every statement it prepared (NULL is fine). Returns NULL. */
struct db *db_close(struct db *db);

enum db_kind db_kind(const struct db *db);
/* For messages: the path, or the URI without password. */
const char *db_name(const struct db *db);

/* Runs SQL (one or more statements, no parameters, no rows wanted). */
bool db_exec(struct db *db, const char *sql, GError **error);

/* Prepares SQL once; the statement lives until db_close().  The same SQL
 * again gives the same statement: so a statement is not run again while
 * its rows are being read. */
struct db_stmt *db_prepare(struct db *db, const char *sql, GError **error);

/* Parameters, 1-based; TEXT NULL binds SQL NULL.  Values are copied. */
void db_bind_text(struct db_stmt *s, int i, const char *text);
void db_bind_int64(struct db_stmt *s, int i, gint64 value);
void db_bind_blob(struct db_stmt *s, int i, const void *data, gsize len);
void db_bind_null(struct db_stmt *s, int i);

/* The first call runs the statement with its parameters, each next one
 * moves to the next row.  After DB_DONE or DB_ERROR the statement is reset
 * and its parameters cleared. */
enum db_step db_step(struct db_stmt *s, GError **error);
/* Ends a run early (after DB_ROW) and clears the parameters. */
void db_reset(struct db_stmt *s);

/* Columns of the current row, 0-based.  Pointers are valid until the next
 * db_step() or db_reset() of S. */
bool db_column_is_null(struct db_stmt *s, int col);
const char *db_column_text(struct db_stmt *s, int col); /* NULL for SQL NULL */
gint64 db_column_int64(struct db_stmt *s, int col);     /* 0 for SQL NULL */
const void *db_column_blob(struct db_stmt *s, int col, gsize *len);
/* Column COL as a new string; NULL for SQL NULL. */
char *db_column_dup(struct db_stmt *s, int col);

/* Rows changed by the last INSERT, UPDATE or DELETE that S ran. */
gint64 db_changes(struct db_stmt *s);

/* Transactions.  db_begin() takes the write lock at once where that is how
 * the backend serialises writers (SQLite BEGIN IMMEDIATE); on PostgreSQL a
 * READ COMMITTED transaction whose conflicts surface as CONFLICT or RETRY.
 * Savepoints nest inside: after an error inside one, db_rollback_to()
 * makes the transaction usable again on both backends (PostgreSQL's
 * "current transaction is aborted" state included), and ends it as
 * db_release() would.  Until then, after a failed statement, both backends
 * refuse every statement, savepoint and release of that transaction, and
 * db_commit() rolls back and fails with the first error's code.
 * db_in_transaction() is false once the backend rolled the whole
 * transaction back on its own (SQLite on some disk-full and I/O errors) or
 * the connection broke.  On a DB_READ_ONLY connection db_begin() starts a
 * read transaction: one snapshot for all it reads (SQLite BEGIN, PostgreSQL
 * REPEATABLE READ READ ONLY). */
bool db_begin(struct db *db, GError **error);
bool db_commit(struct db *db, GError **error);
void db_rollback(struct db *db);
bool db_savepoint(struct db *db, const char *name, GError **error);
bool db_release(struct db *db, const char *name, GError **error);
void db_rollback_to(struct db *db, const char *name);
bool db_in_transaction(struct db *db);

/* Inside a transaction: waits until no other connection's transaction
 * holds the lock of PURPOSE and KEY, then holds it until this one ends
 * (a db_rollback_to() to a savepoint taken before it gives it up too).
 * What it is for: a count and the insert that depends on it ("fewer than
 * N rows for KEY, so one more"), exact across connections: whoever takes
 * the lock second counts after the first has committed, and sees its row
 * (READ COMMITTED reads what is committed when each statement starts).
 *   PostgreSQL: pg_advisory_xact_lock(int4, int4) on the first 64 bits of
 *   a SHA-256 of PURPOSE and KEY, the same on every host.  Two keys with
 *   one digest only wait for each other, which costs time, never a wrong
 *   count.  The wait is bounded by the lock timeout (STORE_ERROR_BUSY);
 *   two transactions that take two keys in opposite orders deadlock, and
 *   the server fails one of them with STORE_ERROR_RETRY (40P01) after its
 *   deadlock_timeout, to be run again from its start.
 *   SQLite: nothing to take; BEGIN IMMEDIATE made this connection the
 *   database's one writer already.
 * Outside a transaction, or in a failed one, it fails on both. */
bool db_lock_key(struct db *db, const char *purpose, const char *key, GError **error);

#endif
