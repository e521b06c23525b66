/*
 * store - a connection of the store: opening (and migrating), transactions,
 * and the helpers every file of store/ runs its statements with.
 *
 * One struct store is one store/db.h connection.  The daemon has exactly
 * one read-write store, owned by the writer thread (store/writer.c);
 * ticketctl and the daemon's readers open their own.  Statements are
 * prepared once per connection (store/db.c caches them by their SQL) and
 * reset after each use, so the per-message cost is the binding and the
 * stepping, not the SQL compiler.  The queries live with their job:
 * store/tickets.c, messages.c, outbox.c, timers.c, meta.c, search.c.
 *
 * Errors: every failure is a STORE_ERROR from store/db.c whose code says
 * what the admin can do about it (wait, free space, fix permissions,
 * restore), with the database's own message kept in the text.
 */
#include <string.h>
#include <sys/stat.h>

#include <glib.h>

#include "store/internal.h"
#include "store/schema.h"
#include "store/store.h"
#include "util/log.h"
#include "util/timefmt.h"

G_DEFINE_QUARK(store-error-quark, store_error)

/* ---- running statements ---- */

bool
store_step_done(struct db_stmt *s, GError **error)
{
    enum db_step r;

    if (s == NULL)
        return false;
    r = db_step(s, error);
    if (r == DB_ROW) {
        db_reset(s);
        return true;
    }
    return r == DB_DONE;
}

bool
store_scalar(struct db_stmt *s, gint64 *number, char **text, GError **error)
{
    enum db_step r;

    if (text != NULL)
        *text = NULL;
    if (s == NULL)
        return false;
    r = db_step(s, error);
    if (r == DB_ROW) {
        if (number != NULL)
            *number = db_column_int64(s, 0);
        if (text != NULL)
            *text = db_column_dup(s, 0);
        db_reset(s);
    }
    return r != DB_ERROR;
}

GPtrArray *
store_collect(struct db_stmt *s, gpointer (*from_row)(struct db_stmt *), GDestroyNotify free_fn,
              GError **error)
{
    GPtrArray *rows;
    enum db_step r;

    if (s == NULL)
        return NULL;
    rows = g_ptr_array_new_with_free_func(free_fn);
    while ((r = db_step(s, error)) == DB_ROW)
        g_ptr_array_add(rows, from_row(s));
    if (r == DB_ERROR)
        return g_ptr_array_unref(rows), NULL;
    return rows;
}

bool
store_query_ints(struct db *db, const char *sql, gint64 *out, int n, GError **error)
{
    struct db_stmt *s = db_prepare(db, sql, error);
    enum db_step r;

    for (int i = 0; i < n; i++)
        out[i] = 0;
    if (s == NULL)
        return false;
    r = db_step(s, error);
    if (r == DB_ROW) {
        for (int i = 0; i < n; i++)
            out[i] = db_column_int64(s, i);
        db_reset(s);
    }
    return r != DB_ERROR;
}

void
store_bind_id(struct db_stmt *s, int i, gint64 id)
{
    if (id > 0)
        db_bind_int64(s, i, id);
    else
        db_bind_null(s, i);
}

char *
store_now(void)
{
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();

    return timefmt_iso8601(now);
}

bool
store_read_begin(struct db *db, GError **error)
{
    /* Deferred on SQLite: a reader never takes the write lock, even on a
     * connection that may write (purge's). */
    return db_exec(db,
                   db_kind(db) == DB_SQLITE ? "BEGIN"
                                            : "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
                   error);
}

void
store_read_end(struct db *db)
{
    if (db_in_transaction(db))
        db_exec(db, "COMMIT", NULL);
}

struct db *
store_db_open_existing(const char *target, enum db_mode mode, guint busy_timeout_ms,
                       GError **error)
{
    /* A read-write SQLite open creates the file: one made here would have
     * no schema, and the admin would read it as an empty database. */
    if (db_kind_of_target(target) == DB_SQLITE && !g_file_test(target, G_FILE_TEST_IS_REGULAR)) {
        g_set_error(error, STORE_ERROR, STORE_ERROR_READONLY, "%s: no such database file", target);
        return NULL;
    }
    return db_open(target, mode, busy_timeout_ms, error);
}

/* ---- opening ---- */

/* The database files (PATH, its -wal and -shm) lose every permission for
 * other users: they hold customers' mail.  New ones are made under the
 * daemon's umask (027), SQLite gives the -wal and -shm files the main
 * file's mode, but files made before, by hand or by another tool may be
 * readable by all.  One log line says what changed; after that nothing
 * is left to change, so it is said once.  Failing to change a mode (a file
 * of another user) is said too, and is no reason not to open.
 *
 * No file is opened for this: closing any descriptor of a file drops every
 * POSIX lock this process holds on it, and the daemon's other connections
 * hold SQLite's locks on these very files.  lstat() then chmod() by name
 * leaves them alone; a symlink is not followed to its target (the
 * directory is the daemon's: whoever can swap a file there can do more). */
static void
restrict_files(const char *path)
{
    static const char *const suffixes[] = { "", "-wal", "-shm" };
    g_autoptr(GString) changed = g_string_new(NULL);
    g_autoptr(GString) failed = g_string_new(NULL);

    for (guint i = 0; i < G_N_ELEMENTS(suffixes); i++) {
        g_autofree char *file = g_strconcat(path, suffixes[i], NULL);
        struct stat sb;

        if (lstat(file, &sb) != 0 || !S_ISREG(sb.st_mode) || (sb.st_mode & S_IRWXO) == 0)
            continue;
        GString *to = chmod(file, sb.st_mode & 07770) == 0 ? changed : failed;
        g_string_append_printf(to, "%s%s", to->len > 0 ? ", " : "", file);
    }
    if (changed->len > 0)
        log_warning("database files were open to other users; their permissions for others"
                    " are removed (chmod o-rwx): %s",
                    changed->str);
    if (failed->len > 0)
        log_warning("database files are open to other users and their mode cannot be changed"
                    " (chmod o-rwx them as their owner): %s",
                    failed->str);
}

/* What a writer's SQLite connection needs beyond the driver's settings. */
static bool
sqlite_writer_setup(struct store *st, GError **error)
{
    /* temp_store: a savepoint's journal (one per message) and the sorter
     * stay in memory instead of a file created and unlinked in /var/tmp
     * for each. */
    return db_exec(st->db, "PRAGMA temp_store = MEMORY", error);
}

struct store *
store_open(const char *path, enum store_mode mode, guint busy_timeout_ms, GError **error)
{
    struct store *st = g_new0(struct store, 1);
    enum db_mode db_mode = mode == STORE_READ_ONLY ? DB_READ_ONLY : DB_READ_WRITE;

    st->mode = mode;
    st->db = db_open(path, db_mode, busy_timeout_ms, error);
    if (st->db == NULL)
        return store_close(st);
    if (mode == STORE_READ_WRITE) {
        bool is_sqlite = db_kind(st->db) == DB_SQLITE;

        if ((is_sqlite && !sqlite_writer_setup(st, error)) || !store_schema_migrate(st->db, error))
            return store_close(st);
        /* After the journal mode: the -wal and -shm files exist now. */
        if (is_sqlite)
            restrict_files(path);
    } else if (!store_schema_check(st->db, error)) {
        return store_close(st);
    }
    return st;
}

struct store *
store_close(struct store *st)
{
    if (st == NULL)
        return NULL;
    db_close(st->db);
    g_free(st);
    return NULL;
}

bool
store_begin(struct store *st, GError **error)
{
    return db_begin(st->db, error);
}

bool
store_commit(struct store *st, GError **error)
{
    return db_commit(st->db, error);
}

void
store_rollback(struct store *st)
{
    db_rollback(st->db);
}
