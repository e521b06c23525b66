/*
 * backup-pg - ticketctl backup and verify on PostgreSQL: pg_dump's custom
 * format into the backup directory, under the names and the retention of
 * SQLite's backups (store/backup.c), checked with pg_restore --list.
 *
 * Owns the dump's snapshot: the rows of every table of the store's schema
 * are counted in a REPEATABLE READ transaction whose snapshot is exported
 * and handed to pg_dump (--snapshot), so that the dump holds exactly what
 * was counted, while the daemons go on writing.  Only the store's schema
 * (the connection's current_schema) is dumped.
 *
 * Edge cases: pg_dump and pg_restore are run by name (PATH), without a
 * shell; their password comes from ~/.pgpass or PGPASSFILE as libpq's
 * does.  Their stderr is kept for the error.  The dump's data of
 * schema_version, tickets and messages is read back by pg_restore for
 * verify as a stream, a line per row, so that a large dump is counted
 * without being held.  On failure: STORE_ERROR naming the file, nothing
 * left in the backup directory.
 */
#include <string.h>

#include <gio/gio.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "store/backup-internal.h"
#include "store/backup.h"
#include "store/internal.h"
#include "store/schema.h"

/* The first bytes of every pg_dump custom-format file. */
#define PGDUMP_MAGIC "PGDMP"

bool
backup_is_pg_dump(const char *file)
{
    char head[5] = { 0 };
    FILE *f = fopen(file, "rb");
    bool is_dump;

    if (f == NULL)
        return false;
    is_dump = fread(head, 1, sizeof(head), f) == sizeof(head) &&
              memcmp(head, PGDUMP_MAGIC, sizeof(head)) == 0;
    fclose(f);
    return is_dump;
}

/* Runs ARGV; its standard output into *OUT (may be NULL).  False and
 * ERROR, with the program's own words, when it fails. */
static bool
run_tool(const char *const *argv, char **out, GError **error)
{
    g_autofree char *err_text = NULL;
    g_autoptr(GError) spawn_error = NULL;
    int status = 0;

    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, out, &err_text,
                      &status, &spawn_error)) {
        g_set_error(error, STORE_ERROR, STORE_ERROR_FAILED, "%s: cannot run: %s", argv[0],
                    spawn_error->message);
        return false;
    }
    if (!g_spawn_check_wait_status(status, NULL)) {
        g_set_error(error, STORE_ERROR, STORE_ERROR_FAILED, "%s failed: %s", argv[0],
                    err_text != NULL ? g_strstrip(err_text) : "");
        return false;
    }
    return true;
}

/* The store's tables and their rows, in the caller's snapshot. */
static GPtrArray *
count_tables(struct db *db, GError **error)
{
    return backup_count_rows(db,
                             "SELECT CAST(table_name AS TEXT) FROM information_schema.tables"
                             " WHERE table_schema = current_schema()"
                             " AND table_type = 'BASE TABLE'"
                             " ORDER BY CAST(table_name AS TEXT) COLLATE \"C\"",
                             error);
}

/* Whether the dump's table of contents has the data of every table. */
static bool
toc_has_tables(const char *toc, GPtrArray *counts, const char *file, GError **error)
{
    for (guint i = 0; i < counts->len; i++) {
        const struct admin_table_count *c = g_ptr_array_index(counts, i);
        bool found = false;

        /* "ID; OID OID TABLE DATA SCHEMA TABLE OWNER" */
        for (const char *p = strstr(toc, " TABLE DATA "); p != NULL && !found;
             p = strstr(p + 1, " TABLE DATA ")) {
            const char *eol = strchr(p, '\n');
            g_autofree char *line = eol != NULL ? g_strndup(p, (gsize)(eol - p)) : g_strdup(p);
            g_auto(GStrv) words = g_strsplit(line, " ", -1);
            /* "", TABLE, DATA, SCHEMA, TABLE, OWNER */
            found = g_strv_length(words) >= 5 && strcmp(words[4], c->table) == 0;
        }
        if (!found) {
            g_set_error(error, STORE_ERROR, STORE_ERROR_CORRUPT,
                        "%s: the dump has no data of table %s", file, c->table);
            return false;
        }
    }
    return true;
}

/* The dump of DB (in its exported snapshot SNAPSHOT) into TMP. */
static bool
dump_into(const char *target, const char *schema, const char *snapshot, const char *tmp,
          GError **error)
{
    const char *const argv[] = { "pg_dump", "--format=custom", "--snapshot", snapshot,   "--schema",
                                 schema,    "--file",          tmp,          "--dbname", target,
                                 NULL };

    return run_tool(argv, NULL, error) && backup_sync_path(tmp, error);
}

bool
backup_pg_copy(const char *target, const char *tmp, guint busy_timeout_ms, GPtrArray **counts,
               GError **error)
{
    struct db *db = db_open(target, DB_READ_ONLY, busy_timeout_ms, error);
    g_autofree char *snapshot = NULL;
    g_autofree char *schema = NULL;
    bool ok;

    *counts = NULL;
    if (db == NULL)
        return false;
    /* A backup reads every row: no statement timeout for it. */
    ok = store_read_begin(db, error) && db_exec(db, "SET LOCAL statement_timeout = 0", error) &&
         store_scalar(db_prepare(db, "SELECT pg_export_snapshot()", error), NULL, &snapshot,
                      error) &&
         store_scalar(db_prepare(db, "SELECT CAST(current_schema() AS TEXT)", error), NULL, &schema,
                      error);
    if (ok && (*counts = count_tables(db, error)) == NULL)
        ok = false;
    if (ok && !backup_has_table(*counts, "schema_version")) {
        g_set_error(error, STORE_ERROR, STORE_ERROR_CORRUPT, "%s: is not a ticket-milter database",
                    db_name(db));
        ok = false;
    }
    ok = ok && dump_into(target, schema, snapshot, tmp, error);
    store_read_end(db);
    db_close(db);
    if (!ok)
        g_clear_pointer(counts, g_ptr_array_unref);
    return ok;
}

bool
backup_pg_check(const char *tmp, GPtrArray *counts, GError **error)
{
    const char *const argv[] = { "pg_restore", "--list", tmp, NULL };
    g_autofree char *toc = NULL;

    if (!run_tool(argv, &toc, error))
        return false;
    return toc_has_tables(toc, counts, tmp, error);
}

/* ---- verify ---- */

/* Counts the data rows pg_restore writes for TABLE of FILE (a COPY
 * block: the lines between "COPY ..." and "\."), reading them as they
 * come; *MAX_FIRST (may be NULL) is the greatest number that starts a row. */
static bool
dump_rows(const char *file, const char *table, gint64 *rows, gint64 *max_first, GError **error)
{
    g_autoptr(GSubprocess) p =
        g_subprocess_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_SILENCE, error,
                         "pg_restore", "--data-only", "--table", table, "--file", "-", file, NULL);
    g_autoptr(GDataInputStream) in = NULL;
    bool in_copy = false;
    char *line;
    gsize len;

    *rows = 0;
    if (max_first != NULL)
        *max_first = 0;
    if (p == NULL)
        return false;
    in = g_data_input_stream_new(g_subprocess_get_stdout_pipe(p));
    while ((line = g_data_input_stream_read_line(in, &len, NULL, error)) != NULL) {
        if (!in_copy) {
            in_copy = g_str_has_prefix(line, "COPY ");
        } else if (strcmp(line, "\\.") == 0) {
            in_copy = false;
        } else {
            (*rows)++;
            if (max_first != NULL)
                *max_first = MAX(*max_first, g_ascii_strtoll(line, NULL, 10));
        }
        g_free(line);
    }
    if (error != NULL && *error != NULL)
        return false;
    if (!g_subprocess_wait_check(p, NULL, error))
        return false;
    return true;
}

bool
backup_pg_verify(const char *file, struct admin_verify *out, GError **error)
{
    const char *const argv[] = { "pg_restore", "--list", file, NULL };
    g_autofree char *toc = NULL;
    gint64 versions = 0, version = 0;

    memset(out, 0, sizeof(*out));
    out->known_version = store_schema_latest(DB_POSTGRES);
    if (!run_tool(argv, &toc, error))
        return false;
    if (strstr(toc, " TABLE DATA ") == NULL || strstr(toc, " schema_version ") == NULL ||
        strstr(toc, " tickets ") == NULL || strstr(toc, " messages ") == NULL) {
        g_set_error(error, STORE_ERROR, STORE_ERROR_CORRUPT,
                    "%s: is a PostgreSQL dump but not of a ticket-milter database", file);
        return false;
    }
    if (!dump_rows(file, "schema_version", &versions, &version, error) ||
        !dump_rows(file, "tickets", &out->tickets, NULL, error) ||
        !dump_rows(file, "messages", &out->messages, NULL, error))
        return false;
    out->schema_version = (int)version;
    if (out->schema_version > out->known_version) {
        g_set_error(error, STORE_ERROR, STORE_ERROR_VERSION,
                    "%s: schema version %d is newer than this ticketctl knows (%d)", file,
                    out->schema_version, out->known_version);
        return false;
    }
    return true;
}
