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
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include <glib.h>

#include "store/internal.h"
#include "store/schema.h"
#include "store/store.h"
#include "util/log.h"
#include "util/timefmt.h"

/* The quark's name is the first argument as written. */
/* clang-format off */
G_DEFINE_QUARK(store-error-quark, store_error)
/* clang-format on */

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
    return db_exec(
        db, db_kind(db) == DB_SQLITE ? "BEGIN" : "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
        error);
}

void
store_read_end(struct db *db)
{
    if (db_in_transaction(db))
        db_exec(db, "COMMIT", NULL);
}

struct db *
store_db_open_existing(const char *target, enum db_mode mode, guint busy_timeout_ms, GError **error)
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

/* The mode bits restrict_files() takes away: every permission of other
 * users, and setuid, setgid and sticky, which a database file has no use
 * for and which would survive a copy made by an admin's tool. */
#define FILE_MODE_DROPPED (S_IRWXO | S_ISUID | S_ISGID | S_ISVTX)

/* The database files (PATH, its -wal and -shm) lose every permission for
 * other users: they hold customers' mail.  New ones are made under the
 * daemon's umask (027), SQLite gives the -wal and -shm files the main
 * file's mode, but files made before, by hand or by another tool may be
 * readable by all.  One log line says what changed; after that nothing
 * is left to change, so it is said once.  Failing to change a mode (a file
 * of another user) is said too, and is no reason not to open.
 *
 * Only regular files are changed: a symbolic link (an admin's choice of
 * where the database lives) is not followed, nor a FIFO or a device.  A
 * link whose target has bits to lose is logged, for the admin to change
 * the target; one whose target is fine is not, or every start would say
 * so.  (SQLite resolves a linked database path and keeps its -wal and
 * -shm beside the target, where they are not looked at here.)
 * lstat() says what a name is, and fchmodat(AT_SYMLINK_NOFOLLOW) changes
 * the mode of what the name is when it runs, so a symbolic link swapped in
 * between is not followed either: it gives EOPNOTSUPP, and the link is
 * left as it is and logged.  (A regular file swapped in between gets the
 * mode the first one was to get; the directory is the daemon's, and
 * whoever can rename files in it can read them anyway.)
 *
 * Our own code opens no descriptor for this: closing one would drop every
 * POSIX lock this process holds on the file, and the daemon's other
 * connections hold SQLite's locks on these very files.  glibc's
 * fchmodat(AT_SYMLINK_NOFOLLOW) opens the name with O_PATH, and closing an
 * O_PATH descriptor drops no lock. */
static void
restrict_files(const char *path)
{
    static const char *const suffixes[] = { "", "-wal", "-shm" };
    g_autoptr(GString) changed = g_string_new(NULL);
    g_autoptr(GString) failed = g_string_new(NULL);
    g_autoptr(GString) swapped = g_string_new(NULL);
    g_autoptr(GString) linked = g_string_new(NULL);
    bool special = false;

    for (guint i = 0; i < G_N_ELEMENTS(suffixes); i++) {
        g_autofree char *file = g_strconcat(path, suffixes[i], NULL);
        struct stat sb, target;
        GString *to;

        if (lstat(file, &sb) != 0)
            continue;
        if (S_ISLNK(sb.st_mode) && stat(file, &target) == 0 && S_ISREG(target.st_mode) &&
            (target.st_mode & FILE_MODE_DROPPED) != 0)
            g_string_append_printf(linked, "%s%s", linked->len > 0 ? ", " : "", file);
        if (!S_ISREG(sb.st_mode) || (sb.st_mode & FILE_MODE_DROPPED) == 0)
            continue;
        if (fchmodat(AT_FDCWD, file, sb.st_mode & 07777 & ~FILE_MODE_DROPPED,
                     AT_SYMLINK_NOFOLLOW) == 0) {
            to = changed;
            special |= (sb.st_mode & (S_ISUID | S_ISGID | S_ISVTX)) != 0;
        } else {
            /* EOPNOTSUPP is also glibc's answer when /proc is missing:
             * only a name that is a link now was swapped. */
            struct stat now;
            to = errno == EOPNOTSUPP && lstat(file, &now) == 0 && S_ISLNK(now.st_mode) ? swapped
                                                                                       : failed;
        }
        g_string_append_printf(to, "%s%s", to->len > 0 ? ", " : "", file);
    }
    if (changed->len > 0 && !special)
        log_warning("database files were open to other users; their permissions for others"
                    " are removed (chmod o-rwx): %s",
                    changed->str);
    else if (changed->len > 0)
        log_warning("database files were open to other users or marked setuid, setgid or"
                    " sticky; those permissions are removed (chmod o-rwx,ug-s,-t): %s",
                    changed->str);
    if (failed->len > 0)
        log_warning("database files are open to other users or marked setuid, setgid or sticky,"
                    " and their mode cannot be changed (chmod o-rwx,ug-s,-t them as their"
                    " owner): %s",
                    failed->str);
    if (linked->len > 0)
        log_warning("database files are symbolic links to files open to other users or marked"
                    " setuid, setgid or sticky; links are not followed, so those files are left"
                    " as they are (chmod o-rwx,ug-s,-t the files they point to): %s",
                    linked->str);
    if (swapped->len > 0)
        log_warning("database files became symbolic links while their mode was being changed;"
                    " they are left as they are (check who else writes to their directory): %s",
                    swapped->str);
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

bool
store_lock_key(struct store *st, const char *purpose, const char *key, GError **error)
{
    return db_lock_key(st->db, purpose, key, error);
}
