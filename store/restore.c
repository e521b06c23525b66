/*
 * restore - ticketctl restore on SQLite: a verified backup put in the
 * place of the live database, and the check that nobody has it open.
 *
 * Owns: the files beside the live database a restore makes
 * (DB.before-restore-STAMP[-N], never overwritten, and a hidden
 * .DB.restore.tmp).
 *
 * Edge cases: the database being replaced may be the only copy of the
 * last hours, so it is always saved first: copied page by page when it
 * can be read, moved aside whole when it is damaged.  The backup is copied
 * into a new file beside the live one, checked, and renamed over it, so
 * the page sizes and journal modes of the two never meet and a half-written
 * live file cannot happen.  On failure: STORE_ERROR naming the file; the
 * saved copy is kept and named.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "store/backup-internal.h"
#include "store/backup.h"
#include "store/internal.h"
#include "store/restore.h"

#define RESTORE_MAX_SAVED_PER_SECOND 1000

/* Who holds an fcntl lock that conflicts with a write lock on LEN bytes at
 * START of PATH; 0 when nobody (or no such file). */
static pid_t
lock_holder(const char *path, off_t start, off_t len)
{
    struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = start, .l_len = len };
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    pid_t pid = 0;

    if (fd < 0)
        return 0;
    if (fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK)
        pid = fl.l_pid > 0 ? fl.l_pid : -1;
    close(fd);
    return pid;
}

pid_t
admin_database_holder(const char *db_path)
{
    g_autofree char *shm = g_strconcat(db_path, "-shm", NULL);
    pid_t pid;

    /* Every connection to a WAL database keeps a shared lock on the
     * "dead man switch" byte of the -shm file (byte 128 in SQLite's unix
     * VFS) for as long as it is open; a connection in a transaction also
     * locks the database file's shared range. Either means "in use". */
    pid = lock_holder(shm, 128, 1);
    if (pid == 0)
        pid = lock_holder(db_path, 0x40000000, 512);
    return pid;
}

/* Renames the database file PATH and its WAL (committed changes may still
 * be there) or rollback journal to TO; the -shm is only an index and goes. */
static bool
move_aside(const char *path, const char *to, GError **error)
{
    g_autofree char *wal = g_strconcat(path, "-wal", NULL);
    g_autofree char *to_wal = g_strconcat(to, "-wal", NULL);
    g_autofree char *journal = g_strconcat(path, "-journal", NULL);
    g_autofree char *to_journal = g_strconcat(to, "-journal", NULL);
    g_autofree char *shm = g_strconcat(path, "-shm", NULL);

    if (g_rename(path, to) != 0 ||
        (g_file_test(wal, G_FILE_TEST_EXISTS) && g_rename(wal, to_wal) != 0) ||
        (g_file_test(journal, G_FILE_TEST_EXISTS) && g_rename(journal, to_journal) != 0)) {
        g_set_error(error, STORE_ERROR, STORE_ERROR_READONLY, "%s: cannot move it aside to %s: %s",
                    path, to, g_strerror(errno));
        return false;
    }
    g_unlink(shm);
    return true;
}

/* A name for the copy of DB_PATH that no earlier restore took, claimed by
 * creating it empty (O_EXCL): two restores within one second must not
 * overwrite the first one's copy, which may be all that is left of the
 * original database. */
static char *
claim_saved_name(const char *db_path, GDateTime *now, GError **error)
{
    g_autoptr(GDateTime) utc = g_date_time_to_utc(now);
    g_autofree char *stamp = g_date_time_format(utc, "%Y%m%dT%H%M%SZ");

    for (int n = 1; n <= RESTORE_MAX_SAVED_PER_SECOND; n++) {
        g_autofree char *name = n == 1
                                    ? g_strdup_printf("%s.before-restore-%s", db_path, stamp)
                                    : g_strdup_printf("%s.before-restore-%s-%d", db_path, stamp, n);
        g_autofree char *wal = g_strconcat(name, "-wal", NULL);
        g_autofree char *journal = g_strconcat(name, "-journal", NULL);
        int fd;

        /* A -wal or -journal without its database is still someone's data. */
        if (g_file_test(wal, G_FILE_TEST_EXISTS) || g_file_test(journal, G_FILE_TEST_EXISTS))
            continue;
        fd = open(name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd >= 0) {
            close(fd);
            return g_steal_pointer(&name);
        }
        if (errno != EEXIST) {
            g_set_error(error, STORE_ERROR, STORE_ERROR_READONLY, "%s: cannot create: %s", name,
                        g_strerror(errno));
            return NULL;
        }
    }
    g_set_error(error, STORE_ERROR, STORE_ERROR_FAILED,
                "%s: %d copies saved before restores in this second already", db_path,
                RESTORE_MAX_SAVED_PER_SECOND);
    return NULL;
}

/* Saves DB_PATH as a new *SAVED. A damaged database cannot be copied page
 * by page, so it is moved aside whole (onto the name we claimed). */
static bool
save_current(const char *db_path, GDateTime *now, char **saved, GError **error)
{
    g_autofree char *copy = claim_saved_name(db_path, now, error);
    g_autoptr(GPtrArray) counts = NULL;

    if (copy == NULL)
        return false;
    if (!backup_snapshot(db_path, copy, 5000, &counts, NULL)) {
        g_autofree char *wal = g_strconcat(copy, "-wal", NULL);
        g_autofree char *shm = g_strconcat(copy, "-shm", NULL);
        g_autofree char *journal = g_strconcat(copy, "-journal", NULL);
        g_unlink(wal);
        g_unlink(shm);
        g_unlink(journal);
        if (!move_aside(db_path, copy, error)) {
            g_unlink(copy);
            return false;
        }
    }
    *saved = g_steal_pointer(&copy);
    return true;
}

/* The new file gets the old one's owner and mode: the daemon may run as
 * another user than the admin who restores. */
static bool
take_owner(const char *tmp, const GStatBuf *old, GError **error)
{
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    bool ok;

    if (fd < 0) {
        g_set_error(error, STORE_ERROR, STORE_ERROR_READONLY, "%s: cannot create: %s", tmp,
                    g_strerror(errno));
        return false;
    }
    ok = old == NULL || ((fchown(fd, old->st_uid, old->st_gid) == 0 || geteuid() == old->st_uid) &&
                         fchmod(fd, old->st_mode & 0777) == 0);
    if (!ok)
        g_set_error(error, STORE_ERROR, STORE_ERROR_READONLY,
                    "%s: cannot give it the owner and mode of the database: %s", tmp,
                    g_strerror(errno));
    close(fd);
    return ok;
}

/* FILE copied into TMP, which stands alone: its rows counted in the read
 * of FILE that fed the copy and checked in the copy, then switched to WAL
 * as the daemon runs it. */
static bool
restore_copy(const char *file, const char *tmp, GError **error)
{
    g_autoptr(GPtrArray) counts = NULL;
    struct db *db;

    if (!backup_snapshot(file, tmp, 5000, &counts, error) || !backup_check(tmp, counts, error))
        return false;
    /* A read-write open is what switches it to WAL (store/db-sqlite.c). */
    db = backup_open_file(tmp, DB_READ_WRITE, 5000, error);
    if (db == NULL)
        return false;
    db_close(db);
    return backup_sync_path(tmp, error);
}

bool
admin_restore(const char *file, const char *db_path, GDateTime *now, char **saved, GError **error)
{
    g_autofree char *dir = g_path_get_dirname(db_path);
    g_autofree char *base = g_path_get_basename(db_path);
    g_autofree char *tmp = g_strdup_printf("%s/.%s.restore.tmp", dir, base);
    g_autofree char *wal = g_strconcat(db_path, "-wal", NULL);
    g_autofree char *shm = g_strconcat(db_path, "-shm", NULL);
    g_autofree char *journal = g_strconcat(db_path, "-journal", NULL);
    struct admin_verify v;
    GStatBuf old;
    bool has_old;

    *saved = NULL;
    if (db_kind_of_target(db_path) == DB_POSTGRES) {
        /* A server's database is the server admin's to replace: pg_restore
         * into an empty database (ticketctl(1) says how). */
        g_set_error(error, STORE_ERROR, STORE_ERROR_FAILED,
                    "%s: restore into PostgreSQL with pg_restore into an empty database while"
                    " every ticket-milter is stopped (see ticketctl(1), RESTORE ON POSTGRESQL)",
                    db_path);
        return false;
    }
    if (!admin_verify_file(file, &v, error))
        return false;
    has_old = g_stat(db_path, &old) == 0;
    /* The database we are about to replace may be the only copy of the
     * last hours: keep it, whatever the admin meant. */
    if (g_file_test(db_path, G_FILE_TEST_EXISTS) && !save_current(db_path, now, saved, error))
        return false;
    /* A new file beside the live one, renamed over it once it is checked:
     * copying into the live file fails when the page sizes differ (the
     * live file is in WAL mode), and a half-written live file is worse
     * than the old one. */
    backup_remove_files(tmp);
    if (!take_owner(tmp, has_old ? &old : NULL, error) || !restore_copy(file, tmp, error))
        goto fail;
    /* The old database is saved: its WAL would be replayed into the new
     * file, and its -shm describes that WAL. Nobody has it open (the
     * caller checked), so they can go. */
    g_unlink(wal);
    g_unlink(shm);
    g_unlink(journal);
    if (g_rename(tmp, db_path) != 0) {
        g_set_error(error, STORE_ERROR, STORE_ERROR_READONLY, "%s: cannot rename %s over it: %s",
                    db_path, tmp, g_strerror(errno));
        goto fail;
    }
    backup_remove_files(tmp);
    return backup_sync_dir(dir, error);
fail:
    backup_remove_files(tmp);
    return false;
}
