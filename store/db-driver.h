/*
 * store/db-driver.h - what store/db.c asks of a database driver, and what
 * the drivers share.  Only store/db.c, store/db-sqlite.c and store/db-pg.c
 * include it; the store is written against store/db.h alone.
 *
 * store/db.c owns what must behave the same on every backend: the
 * statement cache, the savepoint stack, the rule that a transaction in
 * which a statement failed takes nothing but a rollback (PostgreSQL's
 * "current transaction is aborted", kept on SQLite too so that a store
 * tested on one behaves the same on the other) and the wording of errors.
 * A driver only talks to its database.
 */
#ifndef TM_STORE_DB_DRIVER_H
#define TM_STORE_DB_DRIVER_H

#include <stdbool.h>

#include <glib.h>

#include "store/db.h"

struct db_ops {
    /* Frees the driver's connection and DB itself (statements are gone). */
    void (*close)(struct db *db);
    bool (*exec)(struct db *db, const char *sql, GError **error);
    /* A new statement (db.c caches it by SQL); its base is filled. */
    struct db_stmt *(*prepare)(struct db *db, const char *sql, GError **error);
    void (*finalize)(struct db_stmt *s);
    void (*bind_text)(struct db_stmt *s, int i, const char *text);
    void (*bind_int64)(struct db_stmt *s, int i, gint64 value);
    void (*bind_blob)(struct db_stmt *s, int i, const void *data, gsize len);
    void (*bind_null)(struct db_stmt *s, int i);
    enum db_step (*step)(struct db_stmt *s, GError **error);
    void (*reset)(struct db_stmt *s);
    bool (*column_is_null)(struct db_stmt *s, int col);
    const char *(*column_text)(struct db_stmt *s, int col);
    gint64 (*column_int64)(struct db_stmt *s, int col);
    const void *(*column_blob)(struct db_stmt *s, int col, gsize *len);
    gint64 (*changes)(struct db_stmt *s);
    /* BEGIN as this backend and mode want it (a PostgreSQL driver
     * reconnects here). */
    bool (*begin)(struct db *db, GError **error);
    bool (*commit)(struct db *db, GError **error);
    void (*rollback)(struct db *db);
    /* Runs one parameterless transaction-control statement (SAVEPOINT,
     * RELEASE, ROLLBACK TO); valid in a failed transaction too. */
    bool (*control)(struct db *db, const char *sql, GError **error);
    /* What the backend says now, not what db.c believes. */
    bool (*in_transaction)(struct db *db);
    /* db_lock_key() inside an open transaction that has not failed. */
    bool (*lock_key)(struct db *db, const char *purpose, const char *key, GError **error);
};

struct db {
    const struct db_ops *ops;
    enum db_kind kind;
    enum db_mode mode;
    char *name;        /* db_name(): never a password */
    GHashTable *stmts; /* SQL -> struct db_stmt *, owned */
    /* What db.c believes of the transaction (see db.c). */
    bool in_tx;
    GError *failure;       /* the error that failed the open transaction */
    GPtrArray *savepoints; /* names, outermost first */
};

struct db_stmt {
    struct db *db;
    char *sql; /* as the store wrote it; the cache key */
};

/* Fills the common part of a new DB. NAME is copied. */
void db_init(struct db *db, const struct db_ops *ops, enum db_kind kind, enum db_mode mode,
             const char *name);
/* Fills the common part of a new statement. */
void db_stmt_init(struct db_stmt *s, struct db *db, const char *sql);

/* ERROR becomes "NAME: HINT (WHAT: DETAIL)", HINT being what CODE means to
 * an admin; the one wording of database errors on every backend. */
void db_set_error(GError **error, const struct db *db, int code, const char *what,
                  const char *detail);

struct db *db_sqlite_open(const char *path, enum db_mode mode, guint busy_timeout_ms,
                          GError **error);
struct db *db_pg_open(const char *target, enum db_mode mode, guint busy_timeout_ms, GError **error);
/* TARGET as it may be shown: without a password, whichever way it was
 * written (URI user info, URI parameter, key=value).  Newly allocated. */
char *db_pg_safe_name(const char *target);
/* SQL with ?N written $N outside literals, identifiers and comments;
 * *NPARAMS is the highest N.  Exposed for the tests. */
char *db_pg_rewrite(const char *sql, int *nparams);

#endif
