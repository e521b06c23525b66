/*
 * sqlite-hook - the tests' way onto a connection the store opened.
 *
 * store/ keeps its sqlite3 handle to itself, as it should; but some
 * failures can only be had on that very connection: a page limit (the
 * disk is full for it alone), query_only (it may not write), a commit
 * hook (count the commits, or make one fail).  SQLite runs an "automatic
 * extension" on every connection it opens; ours only remembers the
 * handle, so right after store_open() the test holds the store's own
 * connection.  Use it only from the thread that owns the connection: for
 * a writer's store, inside a job (sqlite_hook_exec_job below).
 *
 * Header-only, static: each test program that includes it gets its own
 * copy, and nothing of it reaches the daemon.
 */
#ifndef TM_TESTS_SQLITE_HOOK_H
#define TM_TESTS_SQLITE_HOOK_H

#include <glib.h>
#include <sqlite3.h>

#include "store/store.h"
#include "store/writer.h"

static sqlite3 *sqlite_hook_last;

static int
sqlite_hook_entry(sqlite3 *db, char **errmsg, const struct sqlite3_api_routines *api)
{
    (void)errmsg;
    (void)api;
    sqlite_hook_last = db;
    return SQLITE_OK;
}

/* From now on every connection opened is remembered; call once, first. */
static inline void
sqlite_hook_install(void)
{
    sqlite3_auto_extension((void (*)(void))sqlite_hook_entry);
}

/* The connection opened last (by the last store_open()). */
static inline sqlite3 *
sqlite_hook_db(void)
{
    g_assert_nonnull(sqlite_hook_last);
    return sqlite_hook_last;
}

/* Counts the commits of one connection; the VETO_AT-th (from 1) fails. */
struct sqlite_hook_commits {
    gint commits;
    gint veto_at; /* 0: none fails */
};

static int
sqlite_hook_on_commit(void *data)
{
    struct sqlite_hook_commits *c = data;
    gint n = g_atomic_int_add(&c->commits, 1) + 1;

    /* Non-zero turns the COMMIT into a ROLLBACK, and COMMIT fails. */
    return n == g_atomic_int_get(&c->veto_at);
}

static inline void
sqlite_hook_watch_commits(sqlite3 *db, struct sqlite_hook_commits *c)
{
    sqlite3_commit_hook(db, sqlite_hook_on_commit, c);
}

/* A writer job that runs SQL on the writer's connection, in the writer's
 * thread: the SQL is the job; its failure is the job's. */
struct sqlite_hook_exec {
    sqlite3 *db;
    const char *sql;
};

static bool
sqlite_hook_exec_job(struct store *st, void *data, GError **error)
{
    struct sqlite_hook_exec *e = data;
    char *msg = NULL;
    int rc = sqlite3_exec(e->db, e->sql, NULL, NULL, &msg);

    (void)st;
    if (rc != SQLITE_OK) {
        g_set_error(error, STORE_ERROR, STORE_ERROR_FAILED, "%s: %s", e->sql,
                    msg != NULL ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        return false;
    }
    return true;
}

/* Runs SQL on DB (the connection of W's store) through W; asserts it worked. */
static inline void
sqlite_hook_exec(struct store_writer *w, sqlite3 *db, const char *sql)
{
    struct sqlite_hook_exec e = { .db = db, .sql = sql };
    g_autoptr(GError) error = NULL;

    g_assert_true(store_writer_run(w, sqlite_hook_exec_job, &e, &error));
    g_assert_no_error(error);
}

#endif
