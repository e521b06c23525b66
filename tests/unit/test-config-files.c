/*
 * test-config-files - the files the configuration names and what is
 * refused about them: the secret file (config/secret.c) must belong to the
 * user reading it or to root and sit in a directory not every user may
 * write to; the database files lose the permissions of other users when
 * the database is opened for writing (store/store.c).
 *
 * The cases of other owners need root (to give a file away); without it
 * they are skipped, and say so.
 */
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "config/config.h"
#include "config/secret.h"
#include "store/store.h"
#include "util/log.h"

/* nobody, on Debian; any uid that is neither root nor us would do. */
#define OTHER_UID 65534

struct dir {
    char *path;
};

static void
dir_setup(struct dir *d, gconstpointer data)
{
    d->path = g_dir_make_tmp("test-config-files-XXXXXX", NULL);
    g_assert_nonnull(d->path);
}

static void
dir_teardown(struct dir *d, gconstpointer data)
{
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", d->path);

    g_assert_cmpint(system(cmd), ==, 0);
    g_free(d->path);
}

static guint
mode_of(const char *path)
{
    GStatBuf sb;

    g_assert_cmpint(g_stat(path, &sb), ==, 0);
    return sb.st_mode & 07777;
}

/* A directory every user may write to: refused, made or not, and the
 * sentence names the file and the directory; nothing is made there. */
static void
test_secret_world_writable_dir(struct dir *d, gconstpointer data)
{
    g_autofree char *path = g_build_filename(d->path, "secret", NULL);
    g_autoptr(GError) error = NULL;
    g_autofree char *made = NULL;

    g_assert_cmpint(g_chmod(d->path, 01777), ==, 0);
    g_assert_null(config_secret_load(path, true, NULL, &error));
    g_assert_error(error, CONFIG_ERROR, CONFIG_ERROR_IO);
    g_assert_true(g_str_has_prefix(error->message, path));
    g_assert_nonnull(strstr(error->message, "which every user may write to"));
    g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
    g_clear_error(&error);

    /* Made where it may be, then the directory opened to all: refused too. */
    g_assert_cmpint(g_chmod(d->path, 0700), ==, 0);
    made = config_secret_load(path, true, NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpint(g_chmod(d->path, 0777), ==, 0);
    g_assert_null(config_secret_load(path, false, NULL, &error));
    g_assert_nonnull(strstr(error->message, "chmod o-w"));
    g_clear_error(&error);
    g_assert_cmpint(g_chmod(d->path, 0755), ==, 0);
    g_autofree char *again = config_secret_load(path, false, NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(again, ==, made);
}

/* Another user's file: refused, with a sentence naming the file and the
 * owner; as root, the owner of the directory is the daemon's user. */
static void
test_secret_owner(struct dir *d, gconstpointer data)
{
    g_autofree char *path = g_build_filename(d->path, "secret", NULL);
    g_autoptr(GError) error = NULL;
    g_autofree char *made = NULL;
    g_autofree char *read = NULL;

    made = config_secret_load(path, true, NULL, &error);
    g_assert_no_error(error);
    if (geteuid() != 0) {
        g_test_skip("giving the file to another user needs root");
        return;
    }
    g_assert_cmpint(chown(path, OTHER_UID, -1), ==, 0);
    g_assert_null(config_secret_load(path, false, NULL, &error));
    g_assert_error(error, CONFIG_ERROR, CONFIG_ERROR_IO);
    g_assert_true(g_str_has_prefix(error->message, path));
    g_assert_nonnull(strstr(error->message, "uid 65534"));
    g_assert_nonnull(strstr(error->message, "nor to root"));
    g_clear_error(&error);

    /* The daemon's user's file in the daemon's user's directory: root
     * (ticketctl run by the admin) reads it. */
    g_assert_cmpint(chown(d->path, OTHER_UID, -1), ==, 0);
    read = config_secret_load(path, false, NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(read, ==, made);

    /* Root's own file anywhere is fine. */
    g_assert_cmpint(chown(path, 0, -1), ==, 0);
    g_autofree char *own = config_secret_load(path, false, NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(own, ==, made);
}

/* Opened for writing, existing database files lose every permission of
 * other users (the group's stay); opened read-only they are left alone. */
static void
test_database_modes(struct dir *d, gconstpointer data)
{
    g_autofree char *db = g_build_filename(d->path, "tickets.db", NULL);
    g_autofree char *wal = g_strconcat(db, "-wal", NULL);
    g_autofree char *shm = g_strconcat(db, "-shm", NULL);
    g_autoptr(GError) error = NULL;
    struct store *st;

    st = store_open(db, STORE_READ_WRITE, 100, &error);
    g_assert_no_error(error);
    st = store_close(st);

    g_assert_cmpint(g_chmod(db, 0666), ==, 0);
    st = store_open(db, STORE_READ_ONLY, 100, &error);
    g_assert_no_error(error);
    st = store_close(st);
    g_assert_cmpuint(mode_of(db), ==, 0666);

    st = store_open(db, STORE_READ_WRITE, 100, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(mode_of(db), ==, 0660);
    /* While it is open, the journal files exist, with no more. */
    g_assert_true(g_file_test(wal, G_FILE_TEST_EXISTS));
    g_assert_cmpuint(mode_of(wal) & 0007, ==, 0);
    g_assert_cmpuint(mode_of(shm) & 0007, ==, 0);
    g_assert_cmpint(g_chmod(shm, 0644), ==, 0);
    g_assert_cmpint(g_chmod(wal, 0604), ==, 0);

    /* A second connection (ticketctl beside the daemon) fixes those. */
    struct store *other = store_open(db, STORE_READ_WRITE, 100, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(mode_of(shm) & 0007, ==, 0);
    g_assert_cmpuint(mode_of(wal) & 0007, ==, 0);
    store_close(other);
    store_close(st);
}

/* The change is logged, in one line for all the files, and once: the
 * next open finds nothing to change.  Files made under the daemon's umask
 * need no change. */
static void
test_database_modes_logged(struct dir *d, gconstpointer data)
{
    g_autofree char *db = g_build_filename(d->path, "tickets.db", NULL);

    if (g_test_subprocess()) {
        g_autoptr(GError) error = NULL;
        const char *dir = g_getenv("TEST_DB_DIR");
        g_autofree char *file = g_build_filename(dir, "tickets.db", NULL);

        log_init("test-config-files", true);
        /* As the daemon makes its files. */
        umask(027);
        store_close(store_open(file, STORE_READ_WRITE, 100, &error));
        g_assert_cmpint(g_chmod(file, 0644), ==, 0);
        for (int i = 0; i < 3; i++)
            store_close(store_open(file, STORE_READ_WRITE, 100, &error));
        g_assert_no_error(error);
        return;
    }
    g_setenv("TEST_DB_DIR", d->path, TRUE);
    g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDOUT);
    g_test_trap_assert_passed();
    g_autofree char *line = g_strdup_printf(
        "database files were open to other users; their permissions for others are removed"
        " (chmod o-rwx): %s, %s-wal, %s-shm\n",
        db, db, db);
    g_autofree char *once = g_strconcat("*", line, "*", NULL);
    g_autofree char *twice = g_strconcat("*", line, "*", line, "*", NULL);
    g_test_trap_assert_stderr(once);
    g_test_trap_assert_stderr_unmatched(twice);
    g_assert_cmpuint(mode_of(db), ==, 0640);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add("/config-files/secret-world-writable-dir", struct dir, NULL, dir_setup,
               test_secret_world_writable_dir, dir_teardown);
    g_test_add("/config-files/secret-owner", struct dir, NULL, dir_setup, test_secret_owner,
               dir_teardown);
    g_test_add("/config-files/database-modes", struct dir, NULL, dir_setup, test_database_modes,
               dir_teardown);
    g_test_add("/config-files/database-modes-logged", struct dir, NULL, dir_setup,
               test_database_modes_logged, dir_teardown);
    return g_test_run();
}
