/*
 * db - the SQL layer's common half: which backend a target names, the
 * statement cache, transactions and savepoints, and the wording of errors.
 * The drivers (store/db-sqlite.c, store/db-pg.c) only talk to their
 * database; see store/db.h for the contract.
 *
 * Owns: per connection, the prepared statements (one per SQL text, kept
 * until db_close()), the stack of open savepoints, and whether the open
 * transaction has failed.
 *
 * A failed statement inside a transaction: PostgreSQL refuses everything
 * after it until ROLLBACK or ROLLBACK TO a savepoint taken before it;
 * SQLite undoes the one statement and lets the transaction go on.  This
 * layer gives both PostgreSQL's rule, so that a store tested on SQLite does
 * not commit half a job on PostgreSQL's behalf: after a failure, every
 * statement, SAVEPOINT and RELEASE is refused (STORE_ERROR_FAILED, naming
 * the error that failed it) until db_rollback_to() or db_rollback(), and
 * db_commit() rolls back and fails with the code of that first error.
 *
 * Edge cases: the backend may end a transaction on its own (SQLite on disk
 * full, a broken PostgreSQL connection); db_in_transaction() then says
 * false at once, and the failure stands until db_rollback() or the next
 * db_begin().  A db_begin() inside a transaction that is still open is
 * refused (PostgreSQL would only warn).
 */
#include <string.h>

#include <glib.h>
#include <libpq-fe.h>

#include "store/db-driver.h"
#include "store/db.h"
#include "util/dbtarget.h"

/* What each code means to the admin who reads the log line. */
static const char *
db_error_hint(int code)
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
    case STORE_ERROR_UNAVAILABLE:
        return "database server cannot be reached";
    case STORE_ERROR_RETRY:
        return "transaction lost a race with another writer";
    case STORE_ERROR_CONFLICT:
        return "the same key was stored by another writer";
    default:
        return "database error";
    }
}

void
db_set_error(GError **error, const struct db *db, int code, const char *what, const char *detail)
{
    g_set_error(error, STORE_ERROR, code, "%s: %s (%s: %s)", db != NULL ? db->name : "database",
                db_error_hint(code), what, detail != NULL ? detail : "unknown error");
}

void
db_init(struct db *db, const struct db_ops *ops, enum db_kind kind, enum db_mode mode,
        const char *name)
{
    db->ops = ops;
    db->kind = kind;
    db->mode = mode;
    db->name = g_strdup(name);
    db->stmts = g_hash_table_new(g_str_hash, g_str_equal);
    db->savepoints = g_ptr_array_new_with_free_func(g_free);
}

void
db_stmt_init(struct db_stmt *s, struct db *db, const char *sql)
{
    s->db = db;
    s->sql = g_strdup(sql);
}

enum db_kind
db_kind_of_target(const char *target)
{
    if (dbtarget_is_uri(target))
        return DB_POSTGRES;
    /* "host=db1 dbname=tickets": libpq's own form.  A file name with an
     * "=" in it parses as that only if it also names a host or database
     * as a keyword, which no path of ours does. */
    if (strchr(target, '=') == NULL)
        return DB_SQLITE;
    PQconninfoOption *opts = PQconninfoParse(target, NULL);
    bool is_pg = false;

    for (PQconninfoOption *o = opts; o != NULL && o->keyword != NULL; o++)
        if (o->val != NULL &&
            (strcmp(o->keyword, "host") == 0 || strcmp(o->keyword, "dbname") == 0))
            is_pg = true;
    PQconninfoFree(opts);
    return is_pg ? DB_POSTGRES : DB_SQLITE;
}

struct db *
db_open(const char *target, enum db_mode mode, guint busy_timeout_ms, GError **error)
{
    if (db_kind_of_target(target) == DB_POSTGRES)
        return db_pg_open(target, mode, busy_timeout_ms, error);
    return db_sqlite_open(target, mode, busy_timeout_ms, error);
}

struct db *
db_close(struct db *db)
{
    GHashTableIter it;
    gpointer value;

    if (db == NULL)
        return NULL;
    g_hash_table_iter_init(&it, db->stmts);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        struct db_stmt *s = value;
        char *sql = s->sql;

        db->ops->finalize(s);
        g_free(sql);
    }
    g_hash_table_destroy(db->stmts);
    g_ptr_array_free(db->savepoints, TRUE);
    g_clear_error(&db->failure);
    g_free(db->name);
    db->ops->close(db);
    return NULL;
}

enum db_kind
db_kind(const struct db *db)
{
    return db->kind;
}

const char *
db_name(const struct db *db)
{
    return db->name;
}

/* Notes ERROR as the failure of the open transaction, if there is one and
 * it has none yet. */
static void
db_note_failure(struct db *db, const GError *error)
{
    if (db->in_tx && db->failure == NULL && error != NULL)
        db->failure = g_error_copy(error);
}

/* False, with ERROR, when the open transaction failed and takes nothing
 * but a rollback. */
static bool
db_usable(struct db *db, const char *what, GError **error)
{
    if (!db->in_tx || db->failure == NULL)
        return true;
    g_autofree char *detail = g_strdup_printf(
        "an earlier statement failed, so the transaction must be rolled back first: %s",
        db->failure->message);
    db_set_error(error, db, STORE_ERROR_FAILED, what, detail);
    return false;
}

static void
db_forget_transaction(struct db *db)
{
    db->in_tx = false;
    g_clear_error(&db->failure);
    g_ptr_array_set_size(db->savepoints, 0);
}

bool
db_exec(struct db *db, const char *sql, GError **error)
{
    GError *err = NULL;

    if (!db_usable(db, sql, error))
        return false;
    if (db->ops->exec(db, sql, &err))
        return true;
    db_note_failure(db, err);
    g_propagate_error(error, err);
    return false;
}

struct db_stmt *
db_prepare(struct db *db, const char *sql, GError **error)
{
    struct db_stmt *s = g_hash_table_lookup(db->stmts, sql);
    GError *err = NULL;

    if (s != NULL)
        return s;
    /* PostgreSQL fails the transaction on a statement it cannot parse. */
    if (!db_usable(db, sql, error))
        return NULL;
    s = db->ops->prepare(db, sql, &err);
    if (s == NULL) {
        db_note_failure(db, err);
        g_propagate_error(error, err);
        return NULL;
    }
    g_hash_table_insert(db->stmts, s->sql, s);
    return s;
}

void
db_bind_text(struct db_stmt *s, int i, const char *text)
{
    s->db->ops->bind_text(s, i, text);
}

void
db_bind_int64(struct db_stmt *s, int i, gint64 value)
{
    s->db->ops->bind_int64(s, i, value);
}

void
db_bind_blob(struct db_stmt *s, int i, const void *data, gsize len)
{
    s->db->ops->bind_blob(s, i, data, len);
}

void
db_bind_null(struct db_stmt *s, int i)
{
    s->db->ops->bind_null(s, i);
}

enum db_step
db_step(struct db_stmt *s, GError **error)
{
    GError *err = NULL;
    enum db_step r;

    if (!db_usable(s->db, s->sql, error)) {
        s->db->ops->reset(s);
        return DB_ERROR;
    }
    r = s->db->ops->step(s, &err);
    if (r == DB_ERROR) {
        db_note_failure(s->db, err);
        g_propagate_error(error, err);
    }
    return r;
}

void
db_reset(struct db_stmt *s)
{
    s->db->ops->reset(s);
}

bool
db_column_is_null(struct db_stmt *s, int col)
{
    return s->db->ops->column_is_null(s, col);
}

const char *
db_column_text(struct db_stmt *s, int col)
{
    return s->db->ops->column_text(s, col);
}

gint64
db_column_int64(struct db_stmt *s, int col)
{
    return s->db->ops->column_int64(s, col);
}

const void *
db_column_blob(struct db_stmt *s, int col, gsize *len)
{
    return s->db->ops->column_blob(s, col, len);
}

char *
db_column_dup(struct db_stmt *s, int col)
{
    return g_strdup(db_column_text(s, col));
}

gint64
db_changes(struct db_stmt *s)
{
    return s->db->ops->changes(s);
}

bool
db_begin(struct db *db, GError **error)
{
    if (db->in_tx) {
        if (db->ops->in_transaction(db)) {
            db_set_error(error, db, STORE_ERROR_FAILED, "BEGIN",
                         "a transaction is open already on this connection");
            return false;
        }
        /* The backend ended it on its own; the caller never rolled back. */
        db_forget_transaction(db);
    }
    if (!db->ops->begin(db, error))
        return false;
    db->in_tx = true;
    return true;
}

bool
db_commit(struct db *db, GError **error)
{
    if (db->failure != NULL || !db->ops->in_transaction(db)) {
        int code = db->failure != NULL ? db->failure->code : STORE_ERROR_FAILED;
        g_autofree char *detail =
            g_strdup_printf("the transaction was not committed: %s",
                            db->failure != NULL ? db->failure->message : "no transaction is open");
        db_set_error(error, db, code, "COMMIT", detail);
        db_rollback(db);
        return false;
    }
    bool ok = db->ops->commit(db, error);

    /* A failed COMMIT (SQLite busy or full) may leave it open. */
    if (!ok && db->ops->in_transaction(db))
        db->ops->rollback(db);
    db_forget_transaction(db);
    return ok;
}

void
db_rollback(struct db *db)
{
    if (db->ops->in_transaction(db))
        db->ops->rollback(db);
    db_forget_transaction(db);
}

/* Savepoint names go into the SQL: a plain identifier only, and quoted
 * there, since a word such as "outer" is reserved in PostgreSQL. */
static bool
db_savepoint_name_ok(struct db *db, const char *name, GError **error)
{
    bool ok = name[0] != '\0' && strlen(name) <= 63 && !g_ascii_isdigit(name[0]);

    for (const char *p = name; ok && *p != '\0'; p++)
        ok = g_ascii_isalnum(*p) || *p == '_';
    if (!ok)
        db_set_error(error, db, STORE_ERROR_FAILED, "SAVEPOINT",
                     "a savepoint name is letters, digits and _ (at most 63)");
    return ok;
}

/* The innermost open savepoint called NAME; -1 when none. */
static int
db_savepoint_find(struct db *db, const char *name)
{
    for (int i = (int)db->savepoints->len - 1; i >= 0; i--)
        if (strcmp(g_ptr_array_index(db->savepoints, i), name) == 0)
            return i;
    return -1;
}

bool
db_savepoint(struct db *db, const char *name, GError **error)
{
    g_autofree char *sql = NULL;

    if (!db_savepoint_name_ok(db, name, error))
        return false;
    sql = g_strconcat("SAVEPOINT \"", name, "\"", NULL);
    if (!db->in_tx) {
        db_set_error(error, db, STORE_ERROR_FAILED, sql, "no transaction is open");
        return false;
    }
    if (!db_usable(db, sql, error))
        return false;
    GError *err = NULL;

    if (!db->ops->control(db, sql, &err)) {
        db_note_failure(db, err);
        g_propagate_error(error, err);
        return false;
    }
    g_ptr_array_add(db->savepoints, g_strdup(name));
    return true;
}

bool
db_release(struct db *db, const char *name, GError **error)
{
    g_autofree char *sql = g_strconcat("RELEASE \"", name, "\"", NULL);
    int i = db_savepoint_find(db, name);
    GError *err = NULL;

    if (i < 0) {
        db_set_error(error, db, STORE_ERROR_FAILED, sql, "no such savepoint is open");
        return false;
    }
    if (!db_usable(db, sql, error))
        return false;
    if (!db->ops->control(db, sql, &err)) {
        db_note_failure(db, err);
        g_propagate_error(error, err);
        return false;
    }
    g_ptr_array_set_size(db->savepoints, i);
    return true;
}

void
db_rollback_to(struct db *db, const char *name)
{
    int i = db_savepoint_find(db, name);

    if (i < 0)
        return;
    if (!db->ops->in_transaction(db)) {
        /* Nothing left to roll back to: the failure stands. */
        g_ptr_array_set_size(db->savepoints, 0);
        return;
    }
    g_autofree char *back = g_strconcat("ROLLBACK TO \"", name, "\"", NULL);
    g_autofree char *release = g_strconcat("RELEASE \"", name, "\"", NULL);

    if (db->ops->control(db, back, NULL) && db->ops->control(db, release, NULL)) {
        /* A failure can only have happened after the savepoint: none
         * could be taken while the transaction was failed. */
        g_clear_error(&db->failure);
        g_ptr_array_set_size(db->savepoints, i);
    }
}

bool
db_in_transaction(struct db *db)
{
    return db->ops->in_transaction(db);
}

bool
db_lock_key(struct db *db, const char *purpose, const char *key, GError **error)
{
    g_autofree char *what = g_strconcat("locking ", purpose, " ", key, NULL);
    GError *err = NULL;

    /* Refused on SQLite too, where it takes nothing: a store tested there
     * must lock where PostgreSQL can hold the lock. */
    if (!db->in_tx) {
        db_set_error(error, db, STORE_ERROR_FAILED, what, "no transaction is open");
        return false;
    }
    if (!db_usable(db, what, error))
        return false;
    if (db->ops->lock_key(db, purpose, key, &err))
        return true;
    db_note_failure(db, err);
    g_propagate_error(error, err);
    return false;
}
