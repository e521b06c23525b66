/*
 * pg-fixture - a schema of a test case's own on the PostgreSQL cluster
 * TM_TEST_PG_URI names (tests/run starts a private one with
 * tests/pg-cluster), for the store's tests that run on both backends.
 *
 * pg_fixture_start() makes the schema and returns the URI the store is
 * to open (its search_path is that schema); without TM_TEST_PG_URI it
 * marks the case skipped and returns NULL.  pg_fixture_stop() drops the
 * schema.  Header-only, static, like tests/unit/sqlite-hook.h.
 */
#ifndef TM_TESTS_PG_FIXTURE_H
#define TM_TESTS_PG_FIXTURE_H

#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "store/db.h"

static void
pg_fixture_exec(const char *uri, const char *sql)
{
    g_autoptr(GError) error = NULL;
    struct db *db = db_open(uri, DB_READ_WRITE, 5000, &error);

    g_assert_no_error(error);
    g_assert_true(db_exec(db, sql, &error));
    g_assert_no_error(error);
    db_close(db);
}

/* The store's URI in a new schema; *SCHEMA and *ADMIN (the cluster's URI)
 * are for pg_fixture_stop().  NULL, and the case skipped, without a
 * cluster. */
static inline char *
pg_fixture_start(const char *prefix, char **schema, char **admin)
{
    static guint serial;
    const char *uri = g_getenv("TM_TEST_PG_URI");

    *schema = *admin = NULL;
    if (uri == NULL || uri[0] == '\0') {
        g_test_skip("TM_TEST_PG_URI names no PostgreSQL cluster (tests/run starts one with"
                    " tests/pg-cluster when the server is installed)");
        return NULL;
    }
    *schema = g_strdup_printf("%s_%d_%u", prefix, (int)getpid(), ++serial);
    *admin = g_strdup(uri);
    g_autofree char *sql =
        g_strdup_printf("DROP SCHEMA IF EXISTS %s CASCADE; CREATE SCHEMA %s", *schema, *schema);
    pg_fixture_exec(*admin, sql);
    return g_strdup_printf("%s%coptions=-c%%20search_path%%3D%s", uri,
                           strchr(uri, '?') != NULL ? '&' : '?', *schema);
}

static inline void
pg_fixture_stop(char *schema, char *admin)
{
    if (schema != NULL) {
        g_autofree char *sql = g_strdup_printf("DROP SCHEMA IF EXISTS %s CASCADE", schema);
        pg_fixture_exec(admin, sql);
    }
    g_free(schema);
    g_free(admin);
}

#endif
