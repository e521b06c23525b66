/*
 * pg-fault - a PostgreSQL server that fails on purpose, in the ways a
 * store on a real one meets: another session's lock held past
 * lock_timeout, a statement that outlasts statement_timeout, a
 * transaction that loses a race (40001), a COMMIT that fails, the answer
 * of a full disk (53100), the store's connection terminated (a restart, a
 * failover) in the middle of a transaction or between two, the server
 * refusing new connections (down), a session that may not write (a
 * standby).  For the tests of the writer and the milter on PostgreSQL.
 *
 * Each case has a schema (pg-fixture.h) and a login role of its own that
 * owns it.  The store connects as that role (pf->uri), so that its
 * sessions, and no other of the cluster, are terminated, refused at login
 * or made read-only; the test's own sessions (locks, triggers, readers)
 * are the superuser's (pf->setup, in the same schema).
 *
 * What only the server can make happen is made by a trigger the superuser
 * puts on a table of the store: the first N rows inserted or updated run
 * an ACTION (PG_FAULT_RAISE, PG_FAULT_SLEEP, PG_FAULT_TERMINATE), at the
 * statement or, deferred, at COMMIT.  N is counted by a sequence, which
 * no rollback takes back: "once" is once however often the store runs
 * its transaction again, and pg_fault_fired() says how often it tried.
 *
 * Every helper asserts that what it asked of the server worked: a case
 * whose fault could not be made fails rather than passing for the wrong
 * reason.  Header-only, static, like pg-fixture.h and sqlite-hook.h.
 */
#ifndef TM_TESTS_PG_FAULT_H
#define TM_TESTS_PG_FAULT_H

#include <stdbool.h>

#include <glib.h>

#include "store/db.h"
#include "tests/unit/pg-fixture.h"

/* ACTIONs of pg_fault_rows(), PL/pgSQL statements. */
#define PG_FAULT_RAISE(sqlstate)                                                                   \
    "RAISE EXCEPTION 'a failure the test made' USING ERRCODE = '" sqlstate "'"
#define PG_FAULT_SLEEP(seconds) "PERFORM pg_sleep(" seconds ")"
/* The store's session ends itself, as pg_terminate_backend() from an
 * admin's session would end it: in the middle of its statement. */
#define PG_FAULT_TERMINATE "PERFORM pg_terminate_backend(pg_backend_pid())"

/* Ahead of the test's own statements: what the server notes of them
 * (an IF EXISTS that found nothing, what a CASCADE took) is no news. */
#define PG_FAULT_QUIET "SET client_min_messages = warning; "

struct pg_fault {
    char *uri;    /* the store's: as ROLE, in SCHEMA; NULL when the case is skipped */
    char *setup;  /* the superuser, in SCHEMA */
    char *role;   /* the store's login role, this case's alone */
    char *schema; /* for pg_fixture_stop() */
    char *admin;  /* the cluster's URI */
};

/* The one value of SQL, run on DB. */
static inline gint64
pg_fault_scalar_db(struct db *db, const char *sql)
{
    g_autoptr(GError) error = NULL;
    struct db_stmt *s = db_prepare(db, sql, &error);
    gint64 value;

    g_assert_no_error(error);
    g_assert_cmpint(db_step(s, &error), ==, DB_ROW);
    g_assert_no_error(error);
    value = db_column_int64(s, 0);
    db_reset(s);
    return value;
}

/* The same on a session of its own on URI. */
static inline gint64
pg_fault_scalar(const char *uri, const char *sql)
{
    g_autoptr(GError) error = NULL;
    struct db *db = db_open(uri, DB_READ_WRITE, 5000, &error);
    gint64 value;

    g_assert_no_error(error);
    value = pg_fault_scalar_db(db, sql);
    db_close(db);
    return value;
}

/* A schema, and a role that owns it, for the case; false (and the case
 * skipped) without a cluster. */
static inline bool
pg_fault_start(struct pg_fault *pf, const char *prefix)
{
    *pf = (struct pg_fault){ 0 };
    pf->setup = pg_fixture_start(prefix, &pf->schema, &pf->admin);
    if (pf->setup == NULL)
        return false;
    pf->role = g_strdup(pf->schema);
    g_autofree char *sql =
        g_strdup_printf(PG_FAULT_QUIET "DROP ROLE IF EXISTS %s; CREATE ROLE %s LOGIN;"
                                       " ALTER SCHEMA %s OWNER TO %s",
                        pf->role, pf->role, pf->schema, pf->role);
    pg_fixture_exec(pf->admin, sql);
    pf->uri = g_strdup_printf("%s&user=%s", pf->setup, pf->role);
    return true;
}

/* Waits (at most 10 s) until the one value SQL has on the cluster is
 * not 0 (WHILE false) or is 0 (WHILE true). */
static inline void
pg_fault_poll(const struct pg_fault *pf, const char *sql, bool while_nonzero)
{
    for (guint waited = 0; (pg_fault_scalar(pf->admin, sql) != 0) == while_nonzero; waited++) {
        g_assert_cmpuint(waited, <, 1000);
        g_usleep(10 * 1000);
    }
}

/* Waits until a session that WHO says (a condition on pg_stat_activity:
 * "pid = 42", "usename = 'r'") waits for a lock another session holds. */
static inline void
pg_fault_wait_locked(const struct pg_fault *pf, const char *who)
{
    g_autofree char *sql = g_strdup_printf(
        "SELECT count(*) FROM pg_stat_activity WHERE %s AND wait_event_type = 'Lock'", who);

    pg_fault_poll(pf, sql, false);
}

/* Ends the role's sessions and waits until they are gone: the store
 * learns of it at its next statement, as after a restart. */
static inline void
pg_fault_disconnect(const struct pg_fault *pf)
{
    g_autofree char *kill = g_strdup_printf(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = '%s'",
        pf->role);
    g_autofree char *left =
        g_strdup_printf("SELECT count(*) FROM pg_stat_activity WHERE usename = '%s'", pf->role);

    pg_fault_scalar(pf->admin, kill);
    pg_fault_poll(pf, left, true);
}

/* ALTER ROLE the store's role ALTERATION ("NOLOGIN": the server refuses
 * it as a server that is down refuses everyone; "SET
 * default_transaction_read_only = on": a standby), and its sessions
 * ended, so that the next one has it. */
static inline void
pg_fault_role(const struct pg_fault *pf, const char *alteration)
{
    g_autofree char *sql = g_strdup_printf("ALTER ROLE %s %s", pf->role, alteration);

    pg_fixture_exec(pf->admin, sql);
    pg_fault_disconnect(pf);
}

/* The first N rows inserted into or updated in TABLE run ACTION, at the
 * statement, or at COMMIT when AT_COMMIT.  One such fault a table. */
static inline void
pg_fault_rows(const struct pg_fault *pf, const char *table, guint n, bool at_commit,
              const char *action)
{
    g_autofree char *sql = g_strdup_printf(
        PG_FAULT_QUIET
        "DROP TRIGGER IF EXISTS tm_fault ON %1$s.%2$s;"
        " DROP SEQUENCE IF EXISTS %1$s.tm_fault_%2$s;"
        " CREATE SEQUENCE %1$s.tm_fault_%2$s;"
        " CREATE OR REPLACE FUNCTION %1$s.tm_fault_%2$s() RETURNS trigger LANGUAGE plpgsql"
        " SECURITY DEFINER AS $f$ BEGIN"
        "  IF nextval('%1$s.tm_fault_%2$s') <= %3$u THEN %4$s; END IF;"
        "  RETURN NULL;"
        " END $f$;"
        " CREATE %5$s TRIGGER tm_fault AFTER INSERT OR UPDATE ON %1$s.%2$s %6$s"
        " FOR EACH ROW EXECUTE FUNCTION %1$s.tm_fault_%2$s()",
        pf->schema, table, n, action, at_commit ? "CONSTRAINT" : "",
        at_commit ? "DEFERRABLE INITIALLY DEFERRED" : "");

    pg_fixture_exec(pf->setup, sql);
}

/* How often the fault on TABLE was met: its action ran that often, or
 * fewer times once N is reached. */
static inline gint64
pg_fault_fired(const struct pg_fault *pf, const char *table)
{
    g_autofree char *sql =
        g_strdup_printf("SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM %s.tm_fault_%s",
                        pf->schema, table);

    return pg_fault_scalar(pf->setup, sql);
}

/* The fault on TABLE is gone. */
static inline void
pg_fault_rows_end(const struct pg_fault *pf, const char *table)
{
    g_autofree char *sql = g_strdup_printf(
        PG_FAULT_QUIET "DROP TRIGGER IF EXISTS tm_fault ON %1$s.%2$s", pf->schema, table);

    pg_fixture_exec(pf->setup, sql);
}

/* Another session's transaction holds TABLE in ACCESS EXCLUSIVE mode
 * (nobody else reads or writes it) until pg_fault_unlock(). */
static inline struct db *
pg_fault_lock(const struct pg_fault *pf, const char *table)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *sql =
        g_strdup_printf("BEGIN; LOCK TABLE %s.%s IN ACCESS EXCLUSIVE MODE", pf->schema, table);
    struct db *db = db_open(pf->setup, DB_READ_WRITE, 5000, &error);

    g_assert_no_error(error);
    g_assert_true(db_exec(db, sql, &error));
    g_assert_no_error(error);
    return db;
}

/* Ends the lock's transaction.  Returns NULL. */
static inline struct db *
pg_fault_unlock(struct db *db)
{
    g_autoptr(GError) error = NULL;

    if (db == NULL)
        return NULL;
    g_assert_true(db_exec(db, "ROLLBACK", &error));
    g_assert_no_error(error);
    return db_close(db);
}

/* The schema and the role go.  The store's connections must be closed. */
static inline void
pg_fault_stop(struct pg_fault *pf)
{
    if (pf->role != NULL) {
        g_autofree char *sql = g_strdup_printf(
            PG_FAULT_QUIET "DROP SCHEMA IF EXISTS %s CASCADE; DROP ROLE IF EXISTS %s", pf->schema,
            pf->role);
        pg_fixture_exec(pf->admin, sql);
    }
    /* Dropped already: pg_fixture_stop() has only the URI to free. */
    g_free(pf->schema);
    pg_fixture_stop(NULL, pf->admin);
    g_free(pf->uri);
    g_free(pf->setup);
    g_free(pf->role);
    *pf = (struct pg_fault){ 0 };
}

#endif
