/*
 * db-sqlite - the SQL layer's driver over SQLite: one connection to one
 * file, used by one thread at a time (see store/db.h).
 *
 * Owns the connection's settings, which the store relies on and no longer
 * sets itself: WAL, synchronous=FULL (a commit is on disk before Postfix
 * hears 250), foreign keys, the busy timeout, extended result codes; and
 * the mapping of SQLite's result codes to STORE_ERROR codes.
 *
 * Edge cases: a read-only open never creates the file (a missing one is
 * STORE_ERROR_READONLY, saying so), and checks that it is a database at
 * once; a read-write open does the same through the first PRAGMA, so a
 * junk file is STORE_ERROR_CORRUPT at db_open(), not at the first query.
 * SQLite returns no pointer for an empty blob: db_column_blob() gives ""
 * then, so NULL means SQL NULL on both backends.  A statement of several
 * is refused at db_prepare() (SQLite would silently drop the rest;
 * PostgreSQL refuses too).  A bind that SQLite rejects (an index out of
 * range) fails the next db_step().
 *
 * Beyond store/db.h (store/db-sqlite.h): the online copy of a database
 * into a file of its own, which ticketctl backup and restore are made of.
 *
 * On failure: every error names the file, what was being done (the SQL)
 * and SQLite's own message.
 */
#include <errno.h>
#include <string.h>

#include <glib.h>
#include <sqlite3.h>

#include "store/db-driver.h"
#include "store/db-sqlite.h"
#include "store/db.h"

struct sqlite_db {
    struct db base;
    sqlite3 *conn;
};

struct sqlite_stmt {
    struct db_stmt base;
    sqlite3_stmt *stmt;
    gint64 changes;
    int bind_rc;    /* the first bind that failed since the last run, or SQLITE_OK */
    int bind_index; /* and its parameter */
};

static const struct db_ops sqlite_ops;

static sqlite3 *
conn_of(struct db *db)
{
    return ((struct sqlite_db *)db)->conn;
}

static struct sqlite_stmt *
stmt_of(struct db_stmt *s)
{
    return (struct sqlite_stmt *)s;
}

/* RC (an extended result code) as what the admin can act on; SYS_ERRNO is
 * what the system said to SQLite's last call, 0 when unknown. */
static int
sqlite_error_code(int rc, int sys_errno)
{
    switch (rc) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
        return STORE_ERROR_CONFLICT;
    case SQLITE_BUSY_SNAPSHOT:
        /* A read transaction that wanted to write after another writer
         * committed: only running it again from its start helps.  BEGIN
         * IMMEDIATE (db_begin) never gets here. */
        return STORE_ERROR_RETRY;
    default:
        break;
    }
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
        /* Some out-of-space conditions come as I/O errors on write (the
         * WAL grows first); errno tells them apart. */
        if (sys_errno == ENOSPC || sys_errno == EDQUOT)
            return STORE_ERROR_FULL;
        return STORE_ERROR_FAILED;
    default:
        return STORE_ERROR_FAILED;
    }
}

/* ERROR from the connection's last failure, RC, while doing WHAT. */
static void
sqlite_set_error(struct db *db, int rc, const char *what, GError **error)
{
    sqlite3 *conn = conn_of(db);
    int code = sqlite_error_code(rc, conn != NULL ? sqlite3_system_errno(conn) : 0);
    const char *msg = conn != NULL ? sqlite3_errmsg(conn) : sqlite3_errstr(rc);

    db_set_error(error, db, code, what, msg);
}

static bool
sqlite_exec(struct db *db, const char *sql, GError **error)
{
    char *msg = NULL;
    int rc = sqlite3_exec(conn_of(db), sql, NULL, NULL, &msg);

    if (rc != SQLITE_OK) {
        int ext = sqlite3_extended_errcode(conn_of(db));
        int code =
            sqlite_error_code(ext != SQLITE_OK ? ext : rc, sqlite3_system_errno(conn_of(db)));
        db_set_error(error, db, code, sql, msg != NULL ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        return false;
    }
    return true;
}

struct db *
db_sqlite_open(const char *path, enum db_mode mode, guint busy_timeout_ms, GError **error)
{
    struct sqlite_db *sd = g_new0(struct sqlite_db, 1);
    struct db *db = &sd->base;
    int flags =
        mode == DB_READ_ONLY ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    int rc;

    db_init(db, &sqlite_ops, DB_SQLITE, mode, path);
    /* One thread at a time uses a connection (store/db.h), so SQLite's
     * own per-connection mutex is not needed. */
    rc = sqlite3_open_v2(path, &sd->conn, flags | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        if (mode == DB_READ_ONLY && !g_file_test(path, G_FILE_TEST_EXISTS))
            g_set_error(error, STORE_ERROR, STORE_ERROR_READONLY,
                        "%s: no such database (has ticket-milter run yet?)", path);
        else
            sqlite_set_error(db, rc, "opening", error);
        return db_close(db);
    }
    sqlite3_extended_result_codes(sd->conn, 1);
    sqlite3_busy_timeout(sd->conn, (int)MIN(busy_timeout_ms, (guint)G_MAXINT));

    if (mode == DB_READ_WRITE) {
        /* synchronous=FULL: a commit is on disk (the WAL fsync'd) before
         * we tell Postfix to accept the message. */
        if (!sqlite_exec(db, "PRAGMA journal_mode = WAL", error) ||
            !sqlite_exec(db, "PRAGMA synchronous = FULL", error) ||
            !sqlite_exec(db, "PRAGMA foreign_keys = ON", error))
            return db_close(db);
    } else if (!sqlite_exec(db, "SELECT count(*) FROM sqlite_master", error)) {
        /* Opening is lazy: read something now, so that a junk file is
         * found here and not at the first query. */
        return db_close(db);
    }
    return db;
}

static void
sqlite_close(struct db *db)
{
    struct sqlite_db *sd = (struct sqlite_db *)db;

    sqlite3_close(sd->conn);
    g_free(sd);
}

/* True when nothing but spaces, semicolons and comments follows. */
static bool
only_comments(const char *p)
{
    while (*p != '\0') {
        if (g_ascii_isspace(*p) || *p == ';') {
            p++;
        } else if (p[0] == '-' && p[1] == '-') {
            while (*p != '\0' && *p != '\n')
                p++;
        } else if (p[0] == '/' && p[1] == '*') {
            const char *end = strstr(p + 2, "*/");
            if (end == NULL)
                return true;
            p = end + 2;
        } else {
            return false;
        }
    }
    return true;
}

static struct db_stmt *
sqlite_prepare(struct db *db, const char *sql, GError **error)
{
    sqlite3_stmt *stmt = NULL;
    const char *tail = NULL;
    int rc = sqlite3_prepare_v3(conn_of(db), sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, &tail);

    if (rc != SQLITE_OK) {
        sqlite_set_error(db, sqlite3_extended_errcode(conn_of(db)), sql, error);
        return NULL;
    }
    if (stmt == NULL || (tail != NULL && !only_comments(tail))) {
        sqlite3_finalize(stmt);
        db_set_error(error, db, STORE_ERROR_FAILED, sql,
                     stmt == NULL ? "no statement" : "one statement at a time");
        return NULL;
    }
    struct sqlite_stmt *s = g_new0(struct sqlite_stmt, 1);

    db_stmt_init(&s->base, db, sql);
    s->stmt = stmt;
    return &s->base;
}

static void
sqlite_finalize(struct db_stmt *s)
{
    sqlite3_finalize(stmt_of(s)->stmt);
    g_free(s);
}

static void
note_bind(struct sqlite_stmt *s, int i, int rc)
{
    if (rc != SQLITE_OK && s->bind_rc == SQLITE_OK) {
        s->bind_rc = rc;
        s->bind_index = i;
    }
}

static void
sqlite_bind_text(struct db_stmt *s, int i, const char *text)
{
    sqlite3_stmt *st = stmt_of(s)->stmt;

    note_bind(stmt_of(s), i,
              text == NULL ? sqlite3_bind_null(st, i)
                           : sqlite3_bind_text(st, i, text, -1, SQLITE_TRANSIENT));
}

static void
sqlite_bind_int64(struct db_stmt *s, int i, gint64 value)
{
    note_bind(stmt_of(s), i, sqlite3_bind_int64(stmt_of(s)->stmt, i, value));
}

static void
sqlite_bind_blob(struct db_stmt *s, int i, const void *data, gsize len)
{
    sqlite3_stmt *st = stmt_of(s)->stmt;

    /* A NULL pointer would bind SQL NULL: an empty blob is a zeroblob. */
    note_bind(stmt_of(s), i,
              len == 0 ? sqlite3_bind_zeroblob(st, i, 0)
                       : sqlite3_bind_blob64(st, i, data, len, SQLITE_TRANSIENT));
}

static void
sqlite_bind_null(struct db_stmt *s, int i)
{
    note_bind(stmt_of(s), i, sqlite3_bind_null(stmt_of(s)->stmt, i));
}

/* Ends a run: the statement reset, its parameters cleared. */
static void
sqlite_end_run(struct sqlite_stmt *s)
{
    sqlite3_reset(s->stmt);
    sqlite3_clear_bindings(s->stmt);
    s->bind_rc = SQLITE_OK;
}

static enum db_step
sqlite_step(struct db_stmt *base, GError **error)
{
    struct sqlite_stmt *s = stmt_of(base);
    int rc;

    if (s->bind_rc != SQLITE_OK) {
        g_autofree char *what = g_strdup_printf("%s (parameter %d)", base->sql, s->bind_index);
        db_set_error(error, base->db, STORE_ERROR_FAILED, what, sqlite3_errstr(s->bind_rc));
        sqlite_end_run(s);
        return DB_ERROR;
    }
    rc = sqlite3_step(s->stmt);
    if (rc == SQLITE_ROW)
        return DB_ROW;
    if (rc == SQLITE_DONE) {
        s->changes = sqlite3_stmt_readonly(s->stmt) ? 0 : sqlite3_changes64(conn_of(base->db));
        sqlite_end_run(s);
        return DB_DONE;
    }
    sqlite_set_error(base->db, sqlite3_extended_errcode(conn_of(base->db)), base->sql, error);
    sqlite_end_run(s);
    return DB_ERROR;
}

static void
sqlite_reset(struct db_stmt *base)
{
    struct sqlite_stmt *s = stmt_of(base);
    bool was_running = sqlite3_stmt_busy(s->stmt);

    sqlite_end_run(s);
    /* INSERT ... RETURNING left after its row: the reset finished it. */
    if (was_running && !sqlite3_stmt_readonly(s->stmt))
        s->changes = sqlite3_changes64(conn_of(base->db));
}

static bool
sqlite_column_is_null(struct db_stmt *s, int col)
{
    return sqlite3_column_type(stmt_of(s)->stmt, col) == SQLITE_NULL;
}

static const char *
sqlite_column_text(struct db_stmt *s, int col)
{
    return (const char *)sqlite3_column_text(stmt_of(s)->stmt, col);
}

static gint64
sqlite_column_int64(struct db_stmt *s, int col)
{
    return sqlite3_column_int64(stmt_of(s)->stmt, col);
}

static const void *
sqlite_column_blob(struct db_stmt *s, int col, gsize *len)
{
    sqlite3_stmt *st = stmt_of(s)->stmt;
    const void *p = sqlite3_column_blob(st, col);

    *len = (gsize)sqlite3_column_bytes(st, col);
    if (p == NULL && sqlite3_column_type(st, col) != SQLITE_NULL)
        return "";
    return p;
}

static gint64
sqlite_changes(struct db_stmt *s)
{
    return stmt_of(s)->changes;
}

/* Statements of the layer's own, prepared once like the store's. */
static bool
sqlite_run(struct db *db, const char *sql, GError **error)
{
    struct db_stmt *s = g_hash_table_lookup(db->stmts, sql);

    if (s == NULL) {
        s = sqlite_prepare(db, sql, error);
        if (s == NULL)
            return false;
        g_hash_table_insert(db->stmts, s->sql, s);
    }
    return sqlite_step(s, error) == DB_DONE;
}

static bool
sqlite_begin(struct db *db, GError **error)
{
    /* Read-write: take the write lock now, so that a busy database fails
     * here and not at some statement in the middle.  Read-only: a read
     * transaction, one snapshot for everything read in it. */
    return sqlite_run(db, db->mode == DB_READ_WRITE ? "BEGIN IMMEDIATE" : "BEGIN", error);
}

static bool
sqlite_commit(struct db *db, GError **error)
{
    return sqlite_run(db, "COMMIT", error);
}

static bool
sqlite_in_transaction(struct db *db)
{
    return !sqlite3_get_autocommit(conn_of(db));
}

static void
sqlite_rollback(struct db *db)
{
    if (sqlite_in_transaction(db))
        sqlite_run(db, "ROLLBACK", NULL);
}

/* Nothing to take: a write transaction began with BEGIN IMMEDIATE, which
 * holds the database's one write lock until it ends, so no other
 * connection writes between this one's count and its insert. */
static bool
sqlite_lock_key(struct db *db, const char *purpose, const char *key, GError **error)
{
    return true;
}

static const struct db_ops sqlite_ops = {
    .close = sqlite_close,
    .exec = sqlite_exec,
    .prepare = sqlite_prepare,
    .finalize = sqlite_finalize,
    .bind_text = sqlite_bind_text,
    .bind_int64 = sqlite_bind_int64,
    .bind_blob = sqlite_bind_blob,
    .bind_null = sqlite_bind_null,
    .step = sqlite_step,
    .reset = sqlite_reset,
    .column_is_null = sqlite_column_is_null,
    .column_text = sqlite_column_text,
    .column_int64 = sqlite_column_int64,
    .column_blob = sqlite_column_blob,
    .changes = sqlite_changes,
    .begin = sqlite_begin,
    .commit = sqlite_commit,
    .rollback = sqlite_rollback,
    .control = sqlite_run,
    .in_transaction = sqlite_in_transaction,
    .lock_key = sqlite_lock_key,
};

bool
db_sqlite_copy_to_file(struct db *src, const char *dest, GError **error)
{
    sqlite3 *to = NULL;
    sqlite3_backup *b;
    g_autofree char *what = g_strdup_printf("copying into %s", dest);
    int rc;

    g_return_val_if_fail(src->kind == DB_SQLITE, false);
    rc = sqlite3_open_v2(dest, &to, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_extended_result_codes(to, 1);
        sqlite3_busy_timeout(to, 5000);
        b = sqlite3_backup_init(to, "main", conn_of(src), "main");
        rc = b != NULL ? sqlite3_backup_step(b, -1) : sqlite3_extended_errcode(to);
        if (b != NULL)
            sqlite3_backup_finish(b);
        if (rc == SQLITE_DONE) {
            /* The copied header says WAL, as the source is; a backup file
             * is read by tools that may not be able to create a -shm next
             * to it. */
            rc = sqlite3_exec(to, "PRAGMA journal_mode = DELETE", NULL, NULL, NULL);
        }
    }
    if (rc != SQLITE_OK && rc != SQLITE_DONE) {
        int code = sqlite_error_code(rc, to != NULL ? sqlite3_system_errno(to) : 0);
        db_set_error(error, src, code, what, sqlite3_errstr(rc));
        sqlite3_close(to);
        return false;
    }
    sqlite3_close(to);
    return true;
}
