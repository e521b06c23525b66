/*
 * backup - ticketctl backup and verify on SQLite: a verified copy of the
 * live database while the daemon writes, the retention rule over the
 * copies, and the check of one file.
 *
 * Owns: the backup file names in a backup directory
 * (tickets-YYYYMMDDTHHMMSSZ.db, and the older tickets-YYYYMMDDTHHMMZ.db;
 * nothing else in that directory is ever removed), and the hidden
 * .NAME.tmp a backup is made in before it is verified and renamed.
 *
 * On PostgreSQL the copy is pg_dump's (store/backup-pg.c), under the same
 * names and retention.
 *
 * Edge cases: a backup counts the rows of the source inside the very read
 * transaction that feeds the copy (store/db-sqlite.h's online copy), so
 * "the copy has what the source had at that moment" can be checked
 * exactly; an empty or foreign file is refused rather than verified as an
 * empty copy.  A backup is only reported once the copy and its directory
 * are synced.  On failure: STORE_ERROR naming the file, and nothing left
 * in the backup directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "store/backup-internal.h"
#include "store/backup.h"
#include "store/db-sqlite.h"
#include "store/internal.h"
#include "store/schema.h"

static void
table_count_free(gpointer p)
{
    struct admin_table_count *c = p;

    g_free(c->table);
    g_free(c);
}

struct db *
backup_open_file(const char *path, enum db_mode mode, guint busy_timeout_ms, GError **error)
{
    GError *err = NULL;
    struct db *db = store_db_open_existing(path, mode, busy_timeout_ms, &err);

    /* A file that is not a database at all says so in these words: it is
     * what an admin who gave the wrong file must read. */
    if (db == NULL && g_error_matches(err, STORE_ERROR, STORE_ERROR_CORRUPT)) {
        g_set_error(error, STORE_ERROR, STORE_ERROR_CORRUPT, "%s: is not an SQLite database", path);
        g_error_free(err);
        return NULL;
    }
    if (db == NULL)
        g_propagate_error(error, err);
    return db;
}

/* TABLE as an identifier in SQL. */
static char *
quote_identifier(const char *table)
{
    g_autofree char *doubled = NULL;
    g_auto(GStrv) parts = g_strsplit(table, "\"", -1);

    doubled = g_strjoinv("\"\"", parts);
    return g_strconcat("\"", doubled, "\"", NULL);
}

GPtrArray *
backup_count_rows(struct db *db, const char *tables_sql, GError **error)
{
    struct db_stmt *s = db_prepare(db, tables_sql, error);
    GPtrArray *counts;
    enum db_step r;

    if (s == NULL)
        return NULL;
    counts = g_ptr_array_new_with_free_func(table_count_free);
    while ((r = db_step(s, error)) == DB_ROW) {
        struct admin_table_count *c = g_new0(struct admin_table_count, 1);
        c->table = db_column_dup(s, 0);
        g_ptr_array_add(counts, c);
    }
    if (r == DB_ERROR)
        return g_ptr_array_unref(counts), NULL;
    for (guint i = 0; i < counts->len; i++) {
        struct admin_table_count *c = g_ptr_array_index(counts, i);
        g_autofree char *name = quote_identifier(c->table);
        g_autofree char *sql = g_strconcat("SELECT count(*) FROM ", name, NULL);

        if (!store_query_ints(db, sql, &c->rows, 1, error))
            return g_ptr_array_unref(counts), NULL;
    }
    return counts;
}

/* Row counts of every ordinary table of DB, by name (inside the caller's
 * transaction, if any). Virtual tables are left out: their rows are those
 * of the tables they index. */
static GPtrArray *
count_rows(struct db *db, GError **error)
{
    return backup_count_rows(db,
                             "SELECT name FROM sqlite_master WHERE type = 'table'"
                             " AND sql NOT LIKE 'CREATE VIRTUAL TABLE%' ORDER BY name",
                             error);
}

/* "ok", or the first problems integrity_check names. */
static char *
integrity(struct db *db, GError **error)
{
    struct db_stmt *s = db_prepare(db, "PRAGMA integrity_check(5)", error);
    GString *out;
    enum db_step r;

    if (s == NULL)
        return NULL;
    out = g_string_new(NULL);
    while ((r = db_step(s, error)) == DB_ROW) {
        if (out->len > 0)
            g_string_append(out, "; ");
        g_string_append(out, db_column_text(s, 0));
    }
    if (r == DB_ERROR)
        return g_string_free(out, TRUE), NULL;
    return g_string_free(out, FALSE);
}

/* A copy is only a backup once its bytes are on disk. */
bool
backup_sync_path(const char *path, GError **error)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    bool ok;

    if (fd < 0) {
        g_set_error(error, STORE_ERROR, STORE_ERROR_FAILED, "%s: cannot open to sync: %s", path,
                    g_strerror(errno));
        return false;
    }
    ok = fsync(fd) == 0;
    if (!ok)
        g_set_error(error, STORE_ERROR, errno == ENOSPC ? STORE_ERROR_FULL : STORE_ERROR_FAILED,
                    "%s: cannot sync: %s", path, g_strerror(errno));
    close(fd);
    return ok;
}

/* The rename into DIR is only durable once DIR is synced. Some file
 * systems cannot sync a directory and say so with EINVAL (or ENOTSUP,
 * EBADF); SQLite ignores those too. The file itself is synced already, so
 * a verified backup is not thrown away for them. */
bool
backup_sync_dir(const char *dir, GError **error)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int err;

    if (fd < 0) {
        g_set_error(error, STORE_ERROR, STORE_ERROR_FAILED, "%s: cannot open to sync: %s", dir,
                    g_strerror(errno));
        return false;
    }
    if (fsync(fd) == 0) {
        close(fd);
        return true;
    }
    err = errno;
    close(fd);
    if (err == EINVAL || err == ENOTSUP || err == EOPNOTSUPP || err == EBADF)
        return true;
    g_set_error(error, STORE_ERROR, err == ENOSPC ? STORE_ERROR_FULL : STORE_ERROR_FAILED,
                "%s: cannot sync: %s", dir, g_strerror(err));
    return false;
}

static bool
counts_equal(GPtrArray *want, GPtrArray *got, const char *path, GError **error)
{
    if (want->len != got->len) {
        g_set_error(error, STORE_ERROR, STORE_ERROR_CORRUPT,
                    "%s: the copy has %u tables, the source had %u", path, got->len, want->len);
        return false;
    }
    for (guint i = 0; i < want->len; i++) {
        const struct admin_table_count *w = g_ptr_array_index(want, i);
        const struct admin_table_count *g = g_ptr_array_index(got, i);
        if (strcmp(w->table, g->table) != 0 || w->rows != g->rows) {
            g_set_error(error, STORE_ERROR, STORE_ERROR_CORRUPT,
                        "%s: table %s has %" G_GINT64_FORMAT " rows in the copy, %" G_GINT64_FORMAT
                        " in the source",
                        path, w->table, g->rows, w->rows);
            return false;
        }
    }
    return true;
}

/* Always to the second: a name to the minute sorts before a later one of
 * the same minute with seconds (T1000Z is 10:00:00, before T100030Z), so a
 * third backup named to the minute would read as older than the second. */
static char *
backup_name(GDateTime *now)
{
    g_autoptr(GDateTime) utc = g_date_time_to_utc(now);

    return g_date_time_format(utc, "tickets-%Y%m%dT%H%M%SZ.db");
}

void
backup_remove_files(const char *path)
{
    g_autofree char *wal = g_strconcat(path, "-wal", NULL);
    g_autofree char *shm = g_strconcat(path, "-shm", NULL);
    g_autofree char *journal = g_strconcat(path, "-journal", NULL);

    g_unlink(path);
    g_unlink(wal);
    g_unlink(shm);
    g_unlink(journal);
}

bool
backup_has_table(GPtrArray *counts, const char *table)
{
    for (guint i = 0; i < counts->len; i++)
        if (strcmp(((struct admin_table_count *)g_ptr_array_index(counts, i))->table, table) == 0)
            return true;
    return false;
}

/* The snapshot: counts and copy inside one read transaction of SRC. */
bool
backup_snapshot(const char *db_path, const char *tmp, guint busy_timeout_ms, GPtrArray **counts,
                GError **error)
{
    struct db *src = backup_open_file(db_path, DB_READ_ONLY, busy_timeout_ms, error);
    bool ok;

    *counts = NULL;
    if (src == NULL)
        return false;
    ok = store_read_begin(src, error);
    if (ok)
        *counts = count_rows(src, error);
    if (*counts != NULL && !backup_has_table(*counts, "schema_version")) {
        /* An empty file verifies as an empty copy: worse than no backup. */
        g_set_error(error, STORE_ERROR, STORE_ERROR_CORRUPT, "%s: is not a ticket-milter database",
                    db_path);
        g_clear_pointer(counts, g_ptr_array_unref);
    }
    ok = *counts != NULL && db_sqlite_copy_to_file(src, tmp, error) && backup_sync_path(tmp, error);
    store_read_end(src);
    db_close(src);
    return ok;
}

bool
backup_check(const char *tmp, GPtrArray *want, GError **error)
{
    struct db *db = backup_open_file(tmp, DB_READ_ONLY, 5000, error);
    g_autofree char *check = NULL;
    g_autoptr(GPtrArray) got = NULL;
    bool ok = false;

    if (db == NULL)
        return false;
    check = integrity(db, error);
    if (check != NULL && strcmp(check, "ok") != 0)
        g_set_error(error, STORE_ERROR, STORE_ERROR_CORRUPT,
                    "%s: integrity check of the copy failed: %s", tmp, check);
    else if (check != NULL && (got = count_rows(db, error)) != NULL)
        ok = counts_equal(want, got, tmp, error);
    db_close(db);
    return ok;
}

/* The copy of DB_PATH into TMP, by the backend's own means. */
static bool
backup_copy(const char *db_path, const char *tmp, guint busy_timeout_ms, GPtrArray **counts,
            GError **error)
{
    if (db_kind_of_target(db_path) == DB_POSTGRES)
        return backup_pg_copy(db_path, tmp, busy_timeout_ms, counts, error);
    return backup_snapshot(db_path, tmp, busy_timeout_ms, counts, error);
}

bool
admin_backup_run(const char *db_path, const char *dir, GDateTime *now, guint busy_timeout_ms,
                 struct admin_backup *out, GError **error)
{
    g_autofree char *name = backup_name(now);
    g_autofree char *path = g_build_filename(dir, name, NULL);
    g_autofree char *tmp = NULL;
    gint64 t0, t1;
    GStatBuf sb;

    memset(out, 0, sizeof(*out));
    if (g_mkdir_with_parents(dir, 0750) != 0) {
        g_set_error(error, STORE_ERROR, STORE_ERROR_READONLY, "%s: cannot create directory: %s",
                    dir, g_strerror(errno));
        return false;
    }
    if (g_file_test(path, G_FILE_TEST_EXISTS)) {
        g_set_error(error, STORE_ERROR, STORE_ERROR_FAILED, "%s: a backup of this second exists",
                    path);
        return false;
    }
    /* Hidden and suffixed, so that pruning and readers never take a copy
     * that is not finished and verified for a backup. */
    tmp = g_strdup_printf("%s/.%s.tmp", dir, name);
    backup_remove_files(tmp);
    t0 = g_get_monotonic_time();
    if (!backup_copy(db_path, tmp, busy_timeout_ms, &out->counts, error))
        goto fail;
    t1 = g_get_monotonic_time();
    if (db_kind_of_target(db_path) == DB_POSTGRES ? !backup_pg_check(tmp, out->counts, error)
                                                  : !backup_check(tmp, out->counts, error))
        goto fail;
    if (g_rename(tmp, path) != 0) {
        g_set_error(error, STORE_ERROR, STORE_ERROR_FAILED, "%s: cannot rename the copy: %s", path,
                    g_strerror(errno));
        goto fail;
    }
    backup_remove_files(tmp);
    if (!backup_sync_dir(dir, error))
        goto fail_final;
    out->path = g_steal_pointer(&path);
    out->copy_us = t1 - t0;
    out->verify_us = g_get_monotonic_time() - t1;
    out->bytes = g_stat(out->path, &sb) == 0 ? (gint64)sb.st_size : 0;
    return true;
fail_final:
    g_unlink(path);
fail:
    backup_remove_files(tmp);
    g_clear_pointer(&out->counts, g_ptr_array_unref);
    return false;
}

void
admin_backup_clear(struct admin_backup *b)
{
    g_clear_pointer(&b->path, g_free);
    g_clear_pointer(&b->counts, g_ptr_array_unref);
}

static bool
all_digits(const char *s, gsize n)
{
    for (gsize i = 0; i < n; i++)
        if (!g_ascii_isdigit(s[i]))
            return false;
    return true;
}

GDateTime *
admin_backup_name_time(const char *name)
{
    static const char prefix[] = "tickets-", suffix[] = "Z.db";
    gsize len = strlen(name), mid;
    const char *d = name + strlen(prefix);

    if (!g_str_has_prefix(name, prefix) || !g_str_has_suffix(name, suffix))
        return NULL;
    mid = len - strlen(prefix) - strlen(suffix);
    if ((mid != 13 && mid != 15) || d[8] != 'T' || !all_digits(d, 8) || !all_digits(d + 9, mid - 9))
        return NULL;
    {
        const int at[6] = { 0, 4, 6, 9, 11, 13 }, width[6] = { 4, 2, 2, 2, 2, 2 };
        int v[6] = { 0 };
        for (int i = 0; i < (mid == 15 ? 6 : 5); i++)
            for (int k = 0; k < width[i]; k++)
                v[i] = v[i] * 10 + (d[at[i] + k] - '0');
        return g_date_time_new_utc(v[0], v[1], v[2], v[3], v[4], v[5]);
    }
}

struct dated {
    char *name;
    GDateTime *at;
    bool keep;
};

static gint
newest_first(gconstpointer a, gconstpointer b)
{
    const struct dated *x = *(struct dated *const *)a, *y = *(struct dated *const *)b;
    int c = g_date_time_compare(y->at, x->at);

    return c != 0 ? c : strcmp(y->name, x->name);
}

static void
dated_free(gpointer p)
{
    struct dated *d = p;

    g_free(d->name);
    g_date_time_unref(d->at);
    g_free(d);
}

/* Keeps the newest backup of each of the newest N periods named by FORMAT. */
static void
keep_per_period(GPtrArray *backups, const char *format, guint n)
{
    g_autofree char *last = NULL;
    guint periods = 0;

    for (guint i = 0; i < backups->len && periods <= n; i++) {
        struct dated *d = g_ptr_array_index(backups, i);
        g_autofree char *period = g_date_time_format(d->at, format);
        if (g_strcmp0(period, last) == 0)
            continue;
        g_free(last);
        last = g_steal_pointer(&period);
        if (periods++ < n)
            d->keep = true;
    }
}

GPtrArray *
admin_retention_drop(GPtrArray *names, const struct admin_retention *r, const char *keep)
{
    g_autoptr(GPtrArray) backups = g_ptr_array_new_with_free_func(dated_free);
    GPtrArray *drop = g_ptr_array_new_with_free_func(g_free);

    for (guint i = 0; i < names->len; i++) {
        const char *name = g_ptr_array_index(names, i);
        GDateTime *at = admin_backup_name_time(name);
        if (at == NULL)
            continue;
        struct dated *d = g_new0(struct dated, 1);
        d->name = g_strdup(name);
        d->at = at;
        g_ptr_array_add(backups, d);
    }
    if (backups->len == 0)
        return drop;
    g_ptr_array_sort(backups, newest_first);
    ((struct dated *)g_ptr_array_index(backups, 0))->keep = true;
    keep_per_period(backups, "%Y-%m-%d", r->daily);
    keep_per_period(backups, "%G-W%V", r->weekly);
    keep_per_period(backups, "%Y-%m", r->monthly);
    for (guint i = 0; i < backups->len; i++) {
        struct dated *d = g_ptr_array_index(backups, i);
        /* The backup this run made and verified is never its own victim,
         * whatever else (a file dated in the future, say) sorts newer. */
        if (!d->keep && g_strcmp0(d->name, keep) != 0)
            g_ptr_array_add(drop, g_strdup(d->name));
    }
    return drop;
}

GPtrArray *
admin_prune(const char *dir, const struct admin_retention *r, const char *keep, GError **error)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, error);
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    GPtrArray *drop;
    const char *name;

    if (d == NULL)
        return NULL;
    while ((name = g_dir_read_name(d)) != NULL)
        g_ptr_array_add(names, g_strdup(name));
    drop = admin_retention_drop(names, r, keep);
    for (guint i = 0; i < drop->len; i++) {
        g_autofree char *path = g_build_filename(dir, g_ptr_array_index(drop, i), NULL);
        if (g_unlink(path) != 0 && errno != ENOENT) {
            g_set_error(error, STORE_ERROR, STORE_ERROR_READONLY, "%s: cannot remove: %s", path,
                        g_strerror(errno));
            g_ptr_array_unref(drop);
            return NULL;
        }
    }
    return drop;
}

bool
admin_verify_file(const char *file, struct admin_verify *out, GError **error)
{
    g_autofree char *check = NULL;
    gint64 v[2] = { 0, 0 };
    gint64 version = 0;
    struct db *db;
    bool ok = false;

    if (backup_is_pg_dump(file))
        return backup_pg_verify(file, out, error);
    memset(out, 0, sizeof(*out));
    /* What store_open makes of an empty database: the same list. */
    out->known_version = store_schema_latest(DB_SQLITE);
    db = backup_open_file(file, DB_READ_ONLY, 5000, error);
    if (db == NULL)
        return false;
    check = integrity(db, error);
    if (check == NULL)
        goto out;
    if (strcmp(check, "ok") != 0) {
        g_set_error(error, STORE_ERROR, STORE_ERROR_CORRUPT, "%s: integrity check failed: %s", file,
                    check);
        goto out;
    }
    if (!store_query_ints(db,
                          "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
                          " AND name IN ('schema_version', 'tickets', 'messages')",
                          &version, 1, error))
        goto out;
    if (version != 3) {
        g_set_error(error, STORE_ERROR, STORE_ERROR_CORRUPT,
                    "%s: is an SQLite database but not a ticket-milter one", file);
        goto out;
    }
    if (!store_query_ints(db, "SELECT max(version) FROM schema_version", &version, 1, error) ||
        !store_query_ints(db,
                          "SELECT (SELECT count(*) FROM tickets), (SELECT count(*) FROM messages)",
                          v, 2, error))
        goto out;
    out->schema_version = (int)version;
    out->tickets = v[0];
    out->messages = v[1];
    if (out->schema_version > out->known_version) {
        g_set_error(error, STORE_ERROR, STORE_ERROR_VERSION,
                    "%s: schema version %d is newer than this ticketctl knows (%d)", file,
                    out->schema_version, out->known_version);
        goto out;
    }
    ok = true;
out:
    db_close(db);
    return ok;
}
