/*
 * test-store - the schema, the queries and the writer thread, on real
 * SQLite files in a temporary directory, and the cases that are not about
 * SQLite's files again on PostgreSQL ("/store/pg/..."), each in a schema
 * of its own, when TM_TEST_PG_URI names a cluster (tests/run starts one);
 * without it they are skipped.  Also what opening for writing does to the
 * modes of the database files that are not plain regular files of ours
 * (setgid, behind a symbolic link, a FIFO).  And store_lock_key() on
 * PostgreSQL: a second connection that locks a key another holds waits
 * for its commit, then counts its row (without the lock it counts none);
 * other keys do not wait; a wait ends at the busy timeout; a rolled-back
 * savepoint gives the lock up; two writers that lock two keys in opposite
 * orders deadlock, and the writer thread runs its batch again.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <sqlite3.h>

#include "store/admin.h"
#include "store/backup.h"
#include "store/counters.h"
#include "store/db.h"
#include "store/export.h"
#include "store/messages.h"
#include "store/outbox.h"
#include "store/purge.h"
#include "store/report.h"
#include "store/search.h"
#include "store/store.h"
#include "store/tickets.h"
#include "store/timers.h"
#include "store/writer.h"
#include "tests/unit/pg-fixture.h"
#include "util/log.h"

struct fixture {
    char *dir;
    char *path;   /* the SQLite file, or the PostgreSQL URI; NULL: skipped */
    char *schema; /* PostgreSQL: the schema of this case */
    char *admin;  /* PostgreSQL: the cluster's URI, to make and drop it */
};

static void
fixture_setup(struct fixture *f, gconstpointer data)
{
    f->dir = g_dir_make_tmp("test-store-XXXXXX", NULL);
    f->path = g_build_filename(f->dir, "tickets.db", NULL);
}

/* A schema of the case's own on the cluster TM_TEST_PG_URI names. */
static void
fixture_setup_pg(struct fixture *f, gconstpointer data)
{
    f->dir = g_dir_make_tmp("test-store-XXXXXX", NULL);
    f->path = pg_fixture_start("store", &f->schema, &f->admin);
}

static void
fixture_teardown(struct fixture *f, gconstpointer data)
{
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", f->dir);
    g_assert_cmpint(system(cmd), ==, 0);
    pg_fixture_stop(f->schema, f->admin);
    g_free(f->dir);
    g_free(f->path);
}

/* Every case that runs on both backends starts with this. */
#define SKIPPED(f) ((f)->path == NULL)

static gint64
add_ticket(struct store *st, const char *subject)
{
    struct ticket t = {
        .status = TICKET_OPEN,
        .severity = 2,
        .stage = 1,
        .customer = "acme",
        .requester = "ops@acme.test",
        .subject = (char *)subject,
        .created_at = "2026-11-24T09:00:00Z",
    };
    g_autoptr(GError) error = NULL;
    gint64 id = 0;

    g_assert_true(store_ticket_insert(st, &t, "TKT", &id, &error));
    g_assert_no_error(error);
    return id;
}

static void
add_message(struct store *st, gint64 ticket, const char *key)
{
    struct store_new_message m = {
        .ticket_id = ticket,
        .dedup_key = key,
        .message_id = key,
        .digest = "d1",
        .direction = "in",
        .kind = "customer",
        .from = "ops@acme.test",
        .subject = "s",
        .text = "body",
        .raw = "raw\0bytes",
        .raw_len = 9,
        .received_at = "2026-11-24T09:00:00Z",
        .queue_id = "4ABC",
    };
    g_autoptr(GError) error = NULL;

    g_assert_true(store_message_insert(st, &m, NULL, &error));
    g_assert_no_error(error);
}

static void
test_roundtrip(struct fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    struct store *st = SKIPPED(f) ? NULL : store_open(f->path, STORE_READ_WRITE, 100, &error);
    g_autoptr(GPtrArray) list = NULL, msgs = NULL, events = NULL;
    g_autofree char *digest = NULL;
    struct ticket *t;
    gint64 id, found_ticket = 0;
    bool found = false;

    if (SKIPPED(f))
        return;

    g_assert_no_error(error);
    g_assert_true(store_begin(st, &error));
    id = add_ticket(st, "Printer on fire");
    g_assert_cmpint(id, ==, 1);
    add_message(st, id, "m1@acme.test");
    g_assert_true(store_event_insert(st, id, "2026-11-24T09:00:00Z", "created", "ops@acme.test",
                                     "{\"a\":1}", &error));
    g_assert_true(store_commit(st, &error));
    g_assert_no_error(error);
    st = store_close(st);

    /* A reader sees what the writer committed. */
    st = store_open(f->path, STORE_READ_ONLY, 100, &error);
    g_assert_no_error(error);
    list = store_ticket_list(st, &error);
    g_assert_cmpuint(list->len, ==, 1);
    t = g_ptr_array_index(list, 0);
    g_assert_cmpstr(t->tag, ==, "TKT-1");
    g_assert_cmpint(t->status, ==, TICKET_OPEN);
    g_assert_cmpint(t->severity, ==, 2);
    g_assert_cmpint(t->stage, ==, 1);
    g_assert_cmpstr(t->customer, ==, "acme");
    g_assert_cmpstr(t->subject, ==, "Printer on fire");

    t = store_ticket_get_by_tag(st, "tkt-1", &error);
    g_assert_nonnull(t);
    ticket_free(t);
    g_assert_null(store_ticket_get_by_tag(st, "ABC-1", &error));
    g_assert_null(store_ticket_get_by_tag(st, "TKT-2", &error));
    g_assert_null(store_ticket_get_by_tag(st, "TKT-x", &error));
    g_assert_no_error(error);

    msgs = store_ticket_messages(st, 1, &error);
    g_assert_cmpuint(msgs->len, ==, 1);
    g_assert_cmpstr(((struct ticket_message *)g_ptr_array_index(msgs, 0))->queue_id, ==, "4ABC");
    events = store_ticket_events(st, 1, &error);
    g_assert_cmpuint(events->len, ==, 1);
    g_assert_cmpstr(((struct ticket_event *)g_ptr_array_index(events, 0))->type, ==, "created");

    g_assert_true(store_message_find(st, "m1@acme.test", &found, &found_ticket, &digest, &error));
    g_assert_true(found);
    g_assert_cmpint(found_ticket, ==, 1);
    g_assert_cmpstr(digest, ==, "d1");
    g_assert_true(store_message_find(st, "other", &found, &found_ticket, &digest, &error));
    g_assert_false(found);
    store_close(st);
}

/* The subjects a ticket's mail had, newest first: under the limit a long
 * ticket still shows what its last mail asked. */
static void
test_subjects_newest_first(struct fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    struct store *st = SKIPPED(f) ? NULL : store_open(f->path, STORE_READ_WRITE, 100, &error);
    g_auto(GStrv) subjects = NULL;
    gint64 id;

    if (SKIPPED(f))
        return;

    g_assert_no_error(error);
    g_assert_true(store_begin(st, &error));
    id = add_ticket(st, "Printer");
    for (int i = 0; i < 30; i++) {
        g_autofree char *key = g_strdup_printf("m%d@acme.test", i);
        g_autofree char *subject = g_strdup_printf("Re: Printer (%d)", i);
        struct store_new_message m = {
            .ticket_id = id,
            .dedup_key = key,
            .message_id = key,
            .digest = key,
            .direction = "in",
            .kind = "customer",
            .from = "ops@acme.test",
            .subject = i == 29 ? "Re: Printer, please escalate" : subject,
            .text = "body",
            .raw = "raw",
            .raw_len = 3,
            .received_at = "2026-11-24T09:00:00Z",
        };
        g_assert_true(store_message_insert(st, &m, NULL, &error));
    }
    g_assert_true(store_commit(st, &error));
    subjects = store_ticket_subjects(st, id, 5, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(g_strv_length(subjects), ==, 5);
    g_assert_cmpstr(subjects[0], ==, "Re: Printer, please escalate");
    g_assert_cmpstr(subjects[1], ==, "Re: Printer (28)");
    store_close(st);
}

static void
test_duplicate_key_refused(struct fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    struct store *st = SKIPPED(f) ? NULL : store_open(f->path, STORE_READ_WRITE, 100, &error);
    struct store_new_message m = {
        .ticket_id = 1,
        .dedup_key = "k",
        .digest = "d",
        .direction = "in",
        .kind = "customer",
        .received_at = "2026-11-24T09:00:00Z",
    };

    if (SKIPPED(f))
        return;

    g_assert_true(store_begin(st, &error));
    add_ticket(st, "x");
    g_assert_true(store_message_insert(st, &m, NULL, &error));
    g_assert_false(store_message_insert(st, &m, NULL, &error));
    /* A taken key is a conflict (store/db.h): another host may have
     * stored the same message first. */
    g_assert_error(error, STORE_ERROR, STORE_ERROR_CONFLICT);
    store_rollback(st);
    store_close(st);
}

static void
test_missing_database_for_reader(struct fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;

    g_assert_null(store_open(f->path, STORE_READ_ONLY, 100, &error));
    g_assert_error(error, STORE_ERROR, STORE_ERROR_READONLY);
    g_assert_nonnull(strstr(error->message, "no such database"));
}

static void
test_not_a_database(struct fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;

    g_assert_true(g_file_set_contents(f->path,
                                      "this is not sqlite, but long enough to look at"
                                      " it as a header of one hundred bytes or more....",
                                      -1, NULL));
    g_assert_null(store_open(f->path, STORE_READ_WRITE, 100, &error));
    g_assert_error(error, STORE_ERROR, STORE_ERROR_CORRUPT);
}

static void
test_newer_schema_refused(struct fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    struct store *st = store_open(f->path, STORE_READ_WRITE, 100, &error);
    sqlite3 *db;

    store_close(st);
    g_assert_cmpint(sqlite3_open(f->path, &db), ==, SQLITE_OK);
    g_assert_cmpint(
        sqlite3_exec(db, "INSERT INTO schema_version VALUES (99, 'x')", NULL, NULL, NULL), ==,
        SQLITE_OK);
    sqlite3_close(db);
    g_assert_null(store_open(f->path, STORE_READ_WRITE, 100, &error));
    g_assert_error(error, STORE_ERROR, STORE_ERROR_VERSION);
}

/* ---- the writer ---- */

struct job {
    int n;
    bool fail;
    gint64 ticket;
};

static bool
job_fn(struct store *st, void *data, GError **error)
{
    struct job *j = data;
    g_autofree char *subject = g_strdup_printf("job %d", j->n);
    struct ticket t = {
        .status = TICKET_OPEN,
        .severity = 3,
        .stage = 0,
        .requester = "a@b",
        .subject = subject,
        .created_at = "2026-11-24T09:00:00Z",
    };

    if (!store_ticket_insert(st, &t, "TKT", &j->ticket, error))
        return false;
    if (j->fail) {
        g_set_error(error, STORE_ERROR, STORE_ERROR_FAILED, "job %d fails on purpose", j->n);
        return false;
    }
    return true;
}

struct worker {
    struct store_writer *w;
    int first;
    int count;
    int ok;
};

static gpointer
worker_main(gpointer data)
{
    struct worker *wk = data;

    for (int i = 0; i < wk->count; i++) {
        struct job j = { .n = wk->first + i, .fail = (wk->first + i) % 10 == 3 };
        g_autoptr(GError) error = NULL;
        if (store_writer_run(wk->w, job_fn, &j, &error)) {
            g_assert_false(j.fail);
            wk->ok++;
        } else {
            g_assert_true(j.fail);
            g_assert_error(error, STORE_ERROR, STORE_ERROR_FAILED);
        }
    }
    return NULL;
}

static int
count_tickets(const char *path)
{
    g_autoptr(GError) error = NULL;
    struct store *st = store_open(path, STORE_READ_ONLY, 100, &error);
    g_autoptr(GPtrArray) list = store_ticket_list(st, &error);

    store_close(st);
    return (int)list->len;
}

/* Eight threads at once: every job that succeeded is stored, every job that
 * failed left nothing behind, though they shared transactions. */
static void
test_writer_group_commit(struct fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    struct store *st = SKIPPED(f) ? NULL : store_open(f->path, STORE_READ_WRITE, 1000, &error);
    struct store_writer *w = st != NULL ? store_writer_new(st) : NULL;
    struct worker workers[8];
    GThread *threads[8];
    int ok = 0;

    if (SKIPPED(f))
        return;

    for (int i = 0; i < 8; i++) {
        workers[i] = (struct worker){ .w = w, .first = i * 50, .count = 50 };
        threads[i] = g_thread_new("worker", worker_main, &workers[i]);
    }
    for (int i = 0; i < 8; i++) {
        g_thread_join(threads[i]);
        ok += workers[i].ok;
    }
    store_writer_free(w);
    g_assert_cmpint(ok, ==, 400 - 40);
    g_assert_cmpint(count_tickets(f->path), ==, 360);
}

/* Another process holds the write lock: the writer reports BUSY after the
 * timeout, and works again once the lock is gone. */
static void
test_writer_busy(struct fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    struct store *st = store_open(f->path, STORE_READ_WRITE, 200, &error);
    struct store_writer *w = store_writer_new(st);
    struct job j = { .n = 1 };
    sqlite3 *other;

    g_assert_cmpint(sqlite3_open(f->path, &other), ==, SQLITE_OK);
    g_assert_cmpint(sqlite3_exec(other, "BEGIN EXCLUSIVE", NULL, NULL, NULL), ==, SQLITE_OK);
    g_assert_false(store_writer_run(w, job_fn, &j, &error));
    g_assert_error(error, STORE_ERROR, STORE_ERROR_BUSY);
    g_assert_nonnull(strstr(error->message, "locked"));
    g_clear_error(&error);
    sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(other);

    g_assert_true(store_writer_run(w, job_fn, &j, &error));
    g_assert_no_error(error);
    store_writer_free(w);
    g_assert_cmpint(count_tickets(f->path), ==, 1);
}

/* A database on a read-only file: the reason names it. */
static void
test_readonly_file(struct fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    struct store *st = store_open(f->path, STORE_READ_WRITE, 100, &error);
    struct store_writer *w;
    struct job j = { .n = 1 };

    if (getuid() == 0) {
        /* root writes through file modes; open read-only instead. */
        store_close(st);
        st = store_open(f->path, STORE_READ_ONLY, 100, &error);
    } else {
        store_close(st);
        g_chmod(f->path, 0444);
        st = store_open(f->path, STORE_READ_ONLY, 100, &error);
    }
    g_assert_no_error(error);
    w = store_writer_new(st);
    g_assert_false(store_writer_run(w, job_fn, &j, &error));
    g_assert_error(error, STORE_ERROR, STORE_ERROR_READONLY);
    store_writer_free(w);
}

static guint
mode_of(const char *path)
{
    struct stat sb;

    g_assert_cmpint(lstat(path, &sb), ==, 0);
    return sb.st_mode & 07777;
}

/* Runs the test again in a child whose log goes to stderr and whose umask
 * is the daemon's; the parent's database path is the child's too.  In the
 * child, returns true: the caller does its work and checks there.  In the
 * parent, returns false once the child passed: the caller reads the
 * child's stderr. */
static bool
in_logging_child(struct fixture *f)
{
    if (g_test_subprocess()) {
        g_free(f->path);
        f->path = g_strdup(g_getenv("TEST_STORE_DB"));
        log_init("test-store", true);
        /* As the daemon makes its files. */
        umask(027);
        return true;
    }
    g_setenv("TEST_STORE_DB", f->path, TRUE);
    g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDOUT);
    g_test_trap_assert_passed();
    return false;
}

static void
open_close(const char *path)
{
    g_autoptr(GError) error = NULL;

    store_close(store_open(path, STORE_READ_WRITE, 100, &error));
    g_assert_no_error(error);
}

/* A database file open to all and setgid: other users' permissions and
 * the setgid bit go, the group's stay, and the line says which bits. */
static void
test_modes_setgid(struct fixture *f, gconstpointer data)
{
    if (in_logging_child(f)) {
        open_close(f->path);
        g_assert_cmpint(chmod(f->path, 0666 | S_ISGID), ==, 0);
        g_assert_cmpuint(mode_of(f->path), ==, 0666 | S_ISGID);
        open_close(f->path);
        g_assert_cmpuint(mode_of(f->path), ==, 0660);
        return;
    }
    g_autofree char *line = g_strdup_printf(
        "*database files were open to other users or marked setuid, setgid or sticky; those"
        " permissions are removed (chmod o-rwx,ug-s,-t): %s, %s-wal, %s-shm\n*",
        f->path, f->path, f->path);
    g_test_trap_assert_stderr(line);
}

/* A database path that is a symbolic link: SQLite follows it, we do not;
 * the target keeps its mode, the link stays a link, and the line names
 * the link for the admin to change the file it points to. */
static void
test_modes_symlink_not_followed(struct fixture *f, gconstpointer data)
{
    if (in_logging_child(f)) {
        g_autofree char *dir = g_path_get_dirname(f->path);
        g_autofree char *target = g_build_filename(dir, "elsewhere.db", NULL);

        open_close(target);
        g_assert_cmpint(chmod(target, 0666), ==, 0);
        g_assert_cmpint(symlink(target, f->path), ==, 0);
        open_close(f->path);
        g_assert_cmpuint(mode_of(target), ==, 0666);
        g_assert_true(g_file_test(f->path, G_FILE_TEST_IS_SYMLINK));
        return;
    }
    g_autofree char *line = g_strdup_printf(
        "*database files are symbolic links to files open to other users or marked setuid,"
        " setgid or sticky; links are not followed, so those files are left as they are"
        " (chmod o-rwx,ug-s,-t the files they point to): %s\n*",
        f->path);
    g_test_trap_assert_stderr(line);
    g_test_trap_assert_stderr_unmatched("*removed*");
}

/* A FIFO where the -wal file goes: left as it is and not named, while the
 * regular files beside it are changed.  (SQLite gives an empty journal
 * file the main file's mode when it opens it; with both at 0666 it has
 * nothing to change, so what is seen here is ours.) */
static void
test_modes_fifo_left_alone(struct fixture *f, gconstpointer data)
{
    if (in_logging_child(f)) {
        g_autofree char *wal = g_strconcat(f->path, "-wal", NULL);
        g_autoptr(GError) error = NULL;
        struct store *st;

        open_close(f->path);
        g_assert_cmpint(chmod(f->path, 0666), ==, 0);
        g_assert_cmpint(mkfifo(wal, 0666), ==, 0);
        g_assert_cmpint(chmod(wal, 0666), ==, 0);
        st = store_open(f->path, STORE_READ_WRITE, 100, &error);
        g_assert_no_error(error);
        g_assert_cmpuint(mode_of(f->path), ==, 0660);
        g_assert_cmpuint(mode_of(wal), ==, 0666);
        store_close(st);
        return;
    }
    g_autofree char *line = g_strdup_printf(
        "*database files were open to other users; their permissions for others are removed"
        " (chmod o-rwx): %s, %s-shm\n*",
        f->path, f->path);
    g_test_trap_assert_stderr(line);
}

/* ---- several hosts on one database ---- */

struct opener {
    const char *path;
    bool ok;
};

static gpointer
opener_main(gpointer data)
{
    struct opener *o = data;
    g_autoptr(GError) error = NULL;
    struct store *st = store_open(o->path, STORE_READ_WRITE, 5000, &error);

    o->ok = st != NULL;
    if (error != NULL)
        g_test_message("open: %s", error->message);
    store_close(st);
    return NULL;
}

/* Four hosts start at once on an empty database: each opens it, and the
 * schema is made once. */
static void
test_concurrent_migration(struct fixture *f, gconstpointer data)
{
    struct opener o[4];
    GThread *threads[4];
    g_autoptr(GError) error = NULL;
    gint64 v[2] = { 0, 0 };
    struct db *db;

    if (SKIPPED(f))
        return;
    for (int i = 0; i < 4; i++) {
        o[i] = (struct opener){ .path = f->path };
        threads[i] = g_thread_new("opener", opener_main, &o[i]);
    }
    for (int i = 0; i < 4; i++) {
        g_thread_join(threads[i]);
        g_assert_true(o[i].ok);
    }
    db = db_open(f->path, DB_READ_ONLY, 5000, &error);
    g_assert_no_error(error);
    struct db_stmt *s =
        db_prepare(db, "SELECT count(*), count(DISTINCT version) FROM schema_version", &error);
    g_assert_no_error(error);
    g_assert_cmpint(db_step(s, &error), ==, DB_ROW);
    v[0] = db_column_int64(s, 0);
    v[1] = db_column_int64(s, 1);
    db_reset(s);
    g_assert_cmpint(v[0], ==, v[1]);
    g_assert_cmpint(v[0], >=, 11);
    db_close(db);
}

/* What milter/ingest.c does, in small: a message already stored is a
 * duplicate.  SKIP_LOOKUP_RUNS runs look for it not, as a host that looked
 * before the other host committed. */
struct dedup_job {
    const char *key;
    int skip_lookup_runs;
    int runs;
    bool duplicate;
    int retry_runs; /* fail with STORE_ERROR_RETRY this many first runs */
};

static bool
dedup_job_fn(struct store *st, void *data, GError **error)
{
    struct dedup_job *j = data;
    g_autofree char *digest = NULL;
    gint64 ticket = 0;
    bool found = false;

    j->runs++;
    j->duplicate = false;
    if (j->runs <= j->retry_runs) {
        g_set_error(error, STORE_ERROR, STORE_ERROR_RETRY, "lost a race on purpose");
        return false;
    }
    if (j->runs > j->skip_lookup_runs &&
        !store_message_find(st, j->key, &found, &ticket, &digest, error))
        return false;
    if (found) {
        j->duplicate = true;
        return true;
    }
    ticket = add_ticket(st, "Printer");
    struct store_new_message m = {
        .ticket_id = ticket,
        .dedup_key = j->key,
        .digest = "d",
        .direction = "in",
        .kind = "customer",
        .received_at = "2026-11-24T09:00:00Z",
    };
    return store_message_insert(st, &m, NULL, error);
}

/* Another host stored the same message between our look-up and our
 * insert: the job ends as a duplicate, not as a failure (a 451), and
 * leaves no second ticket. */
static void
test_writer_conflict_is_duplicate(struct fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    struct store *other = SKIPPED(f) ? NULL : store_open(f->path, STORE_READ_WRITE, 1000, &error);
    struct store *st = SKIPPED(f) ? NULL : store_open(f->path, STORE_READ_WRITE, 1000, &error);
    struct dedup_job first = { .key = "m@acme.test" };
    struct dedup_job j = { .key = "m@acme.test", .skip_lookup_runs = 1 };
    struct store_writer *w;

    if (SKIPPED(f))
        return;
    g_assert_no_error(error);
    g_assert_true(store_begin(other, &error));
    g_assert_true(dedup_job_fn(other, &first, &error));
    g_assert_true(store_commit(other, &error));
    store_close(other);

    w = store_writer_new(st);
    g_assert_true(store_writer_run(w, dedup_job_fn, &j, &error));
    g_assert_no_error(error);
    g_assert_true(j.duplicate);
    g_assert_cmpint(j.runs, ==, 2);
    store_writer_free(w);
    g_assert_cmpint(count_tickets(f->path), ==, 1);
}

/* A batch that lost a race runs again from its start, at most three times
 * in all; then its jobs fail with STORE_ERROR_RETRY (a 451). */
static void
test_writer_retry(struct fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    struct store *st = SKIPPED(f) ? NULL : store_open(f->path, STORE_READ_WRITE, 1000, &error);
    struct dedup_job twice = { .key = "a@acme.test", .retry_runs = 2 };
    struct dedup_job always = { .key = "b@acme.test", .retry_runs = 100 };
    struct store_writer *w;

    if (SKIPPED(f))
        return;
    w = store_writer_new(st);
    g_assert_true(store_writer_run(w, dedup_job_fn, &twice, &error));
    g_assert_no_error(error);
    g_assert_cmpint(twice.runs, ==, 3);
    g_assert_false(store_writer_run(w, dedup_job_fn, &always, &error));
    g_assert_error(error, STORE_ERROR, STORE_ERROR_RETRY);
    g_assert_cmpint(always.runs, ==, 3);
    store_writer_free(w);
    g_assert_cmpint(count_tickets(f->path), ==, 1);
}

/* ticketctl search's words on either backend: every word somewhere in the
 * ticket, a prefix with '*', the matches in [ ] in the snippet. */
static void
test_search(struct fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    struct store *st = SKIPPED(f) ? NULL : store_open(f->path, STORE_READ_WRITE, 1000, &error);
    g_autoptr(GPtrArray) hits = NULL;
    struct admin *a;
    bool more = false;
    gint64 id;

    if (SKIPPED(f))
        return;
    g_assert_true(store_begin(st, &error));
    id = add_ticket(st, "Printer on fire");
    add_message(st, id, "m1@acme.test");
    add_ticket(st, "Invoice question");
    g_assert_true(store_commit(st, &error));
    g_assert_true(store_begin(st, &error));
    g_assert_true(store_fts_index(st, 100, &more, &error));
    g_assert_true(store_commit(st, &error));
    store_close(st);

    a = admin_open(f->path, false, 1000, &error);
    g_assert_no_error(error);
    hits = admin_search(a, "printer body", 10, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(hits->len, ==, 1);
    g_assert_cmpstr(((struct admin_hit *)g_ptr_array_index(hits, 0))->tag, ==, "TKT-1");
    g_assert_nonnull(strstr(((struct admin_hit *)g_ptr_array_index(hits, 0))->snippet, "["));
    g_clear_pointer(&hits, g_ptr_array_unref);
    hits = admin_search(a, "invoi*", 10, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(hits->len, ==, 1);
    g_assert_cmpstr(((struct admin_hit *)g_ptr_array_index(hits, 0))->tag, ==, "TKT-2");
    g_clear_pointer(&hits, g_ptr_array_unref);
    hits = admin_search(a, "printer invoice", 10, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(hits->len, ==, 0);
    g_clear_pointer(&hits, g_ptr_array_unref);
    hits = admin_search(a, "\"it's\" o'neil* NEAR(", 10, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(hits->len, ==, 0);
    admin_close(a);
}

static bool
count_export(const struct ticket *t, GPtrArray *messages, GPtrArray *events, void *data,
             GError **error)
{
    guint *n = data;

    *n += messages->len * 100 + events->len;
    return true;
}

/* ticketctl's reads and the statistics on either backend: the same
 * figures from the same rows (booleans, sums and JSON details read alike). */
static void
test_admin_reads(struct fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    struct store *st = SKIPPED(f) ? NULL : store_open(f->path, STORE_READ_WRITE, 1000, &error);
    struct store_ticket_filter filter = { .statuses = 1u << TICKET_OPEN };
    struct admin_purge_result purged = { 0 };
    g_autoptr(GPtrArray) customers = NULL;
    g_autoptr(GPtrArray) history = NULL;
    g_autoptr(GHashTable) totals = NULL;
    g_autoptr(GHashTable) deltas = NULL;
    struct store_counters *c;
    struct store_report *r;
    struct admin_stats stats;
    struct admin *a;
    gint64 id, closed, last = 0, value = 0, outbox = 0, open = 0;
    gint64 overdue[5];
    guint exported = 0, count = 0;

    if (SKIPPED(f))
        return;
    g_assert_true(store_begin(st, &error));
    id = add_ticket(st, "Printer on fire");
    add_message(st, id, "m1@acme.test");
    g_assert_true(store_event_insert(st, id, "2026-11-24T10:00:00Z", "sla-breach", NULL,
                                     "{\"goal\":\"response\",\"severity\":2,\"due\":\"x\"}",
                                     &error));
    g_assert_true(store_event_insert(st, id, "2026-11-24T11:00:00Z", "sla-warning", NULL,
                                     "not json", &error));
    closed = add_ticket(st, "Old one");
    add_message(st, closed, "m2@acme.test");
    struct ticket t = { .id = closed,
                        .status = TICKET_CLOSED,
                        .severity = 3,
                        .stage = 0,
                        .customer = "acme",
                        .requester = "ops@acme.test" };
    g_assert_true(store_ticket_update(st, &t, "2026-01-01T00:00:00Z", &error));
    g_assert_true(store_commit(st, &error));
    store_close(st);

    a = admin_open(f->path, true, 1000, &error);
    g_assert_no_error(error);
    g_assert_true(admin_stats_read(a, &stats, &error));
    g_assert_cmpint(stats.tickets_total, ==, 2);
    g_assert_cmpint(stats.tickets_open, ==, 1);
    g_assert_cmpint(stats.sla_breaches, ==, 1);
    g_assert_cmpint(stats.sla_warnings, ==, 1);
    admin_stats_clear(&stats);
    customers = admin_customers(a, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(customers->len, ==, 1);
    g_assert_cmpint(((struct admin_customer *)g_ptr_array_index(customers, 0))->breaches, ==, 1);
    g_assert_cmpint(((struct admin_customer *)g_ptr_array_index(customers, 0))->open_breached, ==,
                    1);
    g_assert_true(admin_export(a, 0, count_export, &exported, &count, &error));
    g_assert_cmpuint(count, ==, 2);
    g_assert_cmpuint(exported, ==, 202);
    g_assert_true(
        admin_purge(a, "2026-06-01T00:00:00Z", "2026-12-01T00:00:00Z", "admin", &purged, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(purged.tickets, ==, 1);
    g_assert_cmpuint(purged.messages, ==, 1);
    g_assert_cmpint(purged.bytes, ==, 9);
    admin_close(a);

    r = store_report_open(f->path, 1000, &error);
    g_assert_no_error(error);
    history = store_report_history(r, &filter, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(history->len, ==, 1);
    struct report_ticket *rt = g_ptr_array_index(history, 0);
    g_assert_cmpuint(rt->events->len, ==, 2);
    struct report_event *e = g_ptr_array_index(rt->events, 0);
    g_assert_cmpstr(e->goal, ==, "response");
    g_assert_cmpint(e->severity, ==, 2);
    g_assert_null(((struct report_event *)g_ptr_array_index(rt->events, 1))->goal);
    store_report_close(r);

    c = store_counters_open(f->path, 1000, &error);
    g_assert_no_error(error);
    deltas = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
    g_hash_table_insert(deltas, "messages", g_memdup2(&(gint64){ 5 }, sizeof(gint64)));
    g_assert_true(store_counters_flush(c, deltas, NULL, &error));
    g_assert_true(store_counters_flush(c, deltas, NULL, &error));
    g_assert_true(store_counters_get(c, "messages", &value, &error));
    g_assert_cmpint(value, ==, 10);
    g_assert_true(store_counters_gauges(c, &outbox, &open, &error));
    g_assert_cmpint(open, ==, 1);
    totals = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g_assert_true(store_counters_sla_events(c, &last, totals, &error));
    g_assert_no_error(error);
    g_assert_nonnull(g_hash_table_lookup(totals, "sla-breach response 2"));
    g_assert_nonnull(g_hash_table_lookup(totals, "sla-warning other 2"));
    g_assert_true(store_counters_overdue(c, "2030-01-01T00:00:00Z", overdue, &error));
    g_assert_no_error(error);
    store_counters_close(c);
}

/* ticketctl backup and verify on either backend: a copy in the backup
 * directory under the same name, its rows counted in the snapshot copied,
 * and verify reads the copy's schema version and counts. */
static void
test_backup_verify(struct fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    struct store *st = SKIPPED(f) ? NULL : store_open(f->path, STORE_READ_WRITE, 1000, &error);
    g_autoptr(GDateTime) now = g_date_time_new_utc(2026, 11, 30, 3, 0, 0);
    g_autofree char *dir = NULL;
    struct admin_backup b;
    struct admin_verify v;
    gint64 id;

    if (SKIPPED(f))
        return;
    g_assert_true(store_begin(st, &error));
    id = add_ticket(st, "Printer on fire");
    add_message(st, id, "m1@acme.test");
    add_message(st, id, "m2@acme.test");
    g_assert_true(store_commit(st, &error));
    store_close(st);

    dir = g_build_filename(f->dir, "backups", NULL);
    g_assert_true(admin_backup_run(f->path, dir, now, 1000, &b, &error));
    g_assert_no_error(error);
    g_assert_true(g_str_has_suffix(b.path, "/tickets-20261130T030000Z.db"));
    g_assert_cmpint(b.bytes, >, 0);
    for (guint i = 0; i < b.counts->len; i++) {
        const struct admin_table_count *c = g_ptr_array_index(b.counts, i);
        if (strcmp(c->table, "messages") == 0)
            g_assert_cmpint(c->rows, ==, 2);
    }
    g_assert_true(admin_verify_file(b.path, &v, &error));
    g_assert_no_error(error);
    g_assert_cmpint(v.schema_version, ==, v.known_version);
    g_assert_cmpint(v.tickets, ==, 1);
    g_assert_cmpint(v.messages, ==, 2);
    admin_backup_clear(&b);
}

/* The ids of ROWS (struct outbox_row*), in their order, as "1,2". */
static char *
outbox_ids(GPtrArray *rows)
{
    GString *out = g_string_new(NULL);

    for (guint i = 0; i < rows->len; i++) {
        const struct outbox_row *r = g_ptr_array_index(rows, i);
        g_string_append_printf(out, "%s%" G_GINT64_FORMAT, i > 0 ? "," : "", r->id);
    }
    return g_string_free(out, FALSE);
}

/* Claims on ST in a transaction of its own. */
static GPtrArray *
claim_committed(struct store *st, const char *now, guint limit, const char *who, const char *until)
{
    g_autoptr(GError) error = NULL;
    GPtrArray *rows;

    g_assert_true(store_begin(st, &error));
    rows = store_outbox_claim(st, now, "smtp", limit, who, until, &error);
    g_assert_no_error(error);
    g_assert_true(store_commit(st, &error));
    return rows;
}

/* Two daemons claiming at once get disjoint rows (on PostgreSQL while
 * both transactions are open: SKIP LOCKED; on SQLite one after the other,
 * as its write lock has it); a live lease keeps a row from everyone else,
 * an outcome is recorded by the claimant only, and once the lease has run
 * out the row is anyone's. */
static void
test_outbox_claims(struct fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    struct store *st = SKIPPED(f) ? NULL : store_open(f->path, STORE_READ_WRITE, 1000, &error);
    struct store *a, *b;
    const char *to[] = { "ops@acme.test", NULL };
    g_autoptr(GPtrArray) rows_a = NULL;
    g_autoptr(GPtrArray) rows_b = NULL;
    g_autoptr(GPtrArray) none = NULL;
    g_autoptr(GPtrArray) late = NULL;
    g_autofree char *ids_a = NULL, *ids_b = NULL, *ids_late = NULL, *next = NULL;
    bool recorded = true;

    if (SKIPPED(f))
        return;
    g_assert_no_error(error);
    g_assert_true(store_begin(st, &error));
    gint64 ticket = add_ticket(st, "Printer");
    for (int i = 0; i < 4; i++) {
        struct store_new_outbox o = {
            .ticket_id = ticket,
            .kind = "ack",
            .template_name = "ack",
            .transport = "smtp",
            .mail_from = "",
            .recipients = to,
            .message_id = "ack@us.test",
            .body = "mail",
            .created_at = "2026-11-24T09:00:00Z",
            .send_at = "2026-11-24T09:00:00Z",
        };
        g_assert_true(store_outbox_insert(st, &o, NULL, &error));
    }
    g_assert_true(store_commit(st, &error));

    a = store_open(f->path, STORE_READ_WRITE, 1000, &error);
    g_assert_no_error(error);
    b = store_open(f->path, STORE_READ_WRITE, 1000, &error);
    g_assert_no_error(error);
    g_assert_true(store_begin(a, &error));
    rows_a = store_outbox_claim(a, "2026-11-24T10:00:00Z", "smtp", 2, "host-a",
                                "2026-11-24T10:05:00Z", &error);
    g_assert_no_error(error);
    if (db_kind_of_target(f->path) == DB_POSTGRES) {
        g_assert_true(store_begin(b, &error));
        rows_b = store_outbox_claim(b, "2026-11-24T10:00:00Z", "smtp", 10, "host-b",
                                    "2026-11-24T10:05:00Z", &error);
        g_assert_no_error(error);
        g_assert_true(store_commit(a, &error));
        g_assert_true(store_commit(b, &error));
    } else {
        g_assert_true(store_commit(a, &error));
        rows_b = claim_committed(b, "2026-11-24T10:00:00Z", 10, "host-b", "2026-11-24T10:05:00Z");
    }
    ids_a = outbox_ids(rows_a);
    ids_b = outbox_ids(rows_b);
    g_assert_cmpstr(ids_a, ==, "1,2");
    g_assert_cmpstr(ids_b, ==, "3,4");

    /* Held: nobody else gets them, and the lane waits for the lease. */
    none = claim_committed(a, "2026-11-24T10:01:00Z", 10, "host-c", "2026-11-24T10:06:00Z");
    g_assert_cmpuint(none->len, ==, 0);
    g_assert_true(store_outbox_next_due(a, "smtp", &next, &error));
    g_assert_cmpstr(next, ==, "2026-11-24T10:05:00Z");

    /* Only the claimant records an outcome. */
    g_assert_true(store_begin(a, &error));
    g_assert_true(
        store_outbox_mark_sent(a, 1, "host-b", "2026-11-24T10:01:00Z", 1, &recorded, &error));
    g_assert_false(recorded);
    g_assert_true(
        store_outbox_mark_sent(a, 1, "host-a", "2026-11-24T10:01:00Z", 1, &recorded, &error));
    g_assert_true(recorded);
    g_assert_true(store_commit(a, &error));

    /* host-a and host-b died: their rows are host-c's once the lease ran out. */
    late = claim_committed(b, "2026-11-24T10:05:00Z", 10, "host-c", "2026-11-24T10:10:00Z");
    ids_late = outbox_ids(late);
    g_assert_cmpstr(ids_late, ==, "2,3,4");
    g_assert_true(store_begin(a, &error));
    g_assert_true(
        store_outbox_mark_retry(a, 2, "host-a", "2026-11-24T10:09:00Z", "late", &recorded, &error));
    g_assert_false(recorded);
    g_assert_true(
        store_outbox_mark_retry(a, 2, "host-c", "2026-11-24T10:20:00Z", "4xx", &recorded, &error));
    g_assert_true(recorded);
    g_assert_true(
        store_outbox_mark_failed(a, 3, "host-c", "2026-11-24T10:06:00Z", "5xx", &recorded, &error));
    g_assert_true(recorded);
    g_assert_true(store_commit(a, &error));
    g_assert_no_error(error);

    /* A row to retry is let go: anyone's at its next attempt; and 4,
     * whose outcome host-c never recorded, is anyone's again too. */
    g_clear_pointer(&late, g_ptr_array_unref);
    late = claim_committed(b, "2026-11-24T10:20:00Z", 10, "host-d", "2026-11-24T10:25:00Z");
    g_clear_pointer(&ids_late, g_free);
    ids_late = outbox_ids(late);
    g_assert_cmpstr(ids_late, ==, "4,2");
    store_close(a);
    store_close(b);
    store_close(st);
}

/* A due timer read by two passes at once is taken by one: on PostgreSQL
 * the other skips it while the first holds it and, once that committed
 * its firing, reads it as fired; on SQLite the passes run one after the
 * other. */
static void
test_timer_fires_once(struct fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    struct store *a = SKIPPED(f) ? NULL : store_open(f->path, STORE_READ_WRITE, 1000, &error);
    struct store *b;
    g_autoptr(GPtrArray) due_a = NULL;
    g_autoptr(GPtrArray) due_b = NULL;
    g_autoptr(GPtrArray) due_after = NULL;
    const char *now = "2026-11-24T10:00:00Z";
    bool pg;

    if (SKIPPED(f))
        return;
    g_assert_no_error(error);
    pg = db_kind_of_target(f->path) == DB_POSTGRES;
    b = store_open(f->path, STORE_READ_WRITE, 1000, &error);
    g_assert_no_error(error);
    g_assert_true(store_begin(a, &error));
    gint64 ticket = add_ticket(a, "Printer");
    g_assert_true(store_timer_set(a, ticket, "response-warning", "2026-11-24T09:30:00Z", &error));
    g_assert_true(store_commit(a, &error));

    g_assert_true(store_begin(a, &error));
    due_a = store_timers_due(a, now, 500, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(due_a->len, ==, 1);
    if (pg) {
        g_assert_true(store_begin(b, &error));
        due_b = store_timers_due(b, now, 500, &error);
        g_assert_no_error(error);
        g_assert_cmpuint(due_b->len, ==, 0);
    }
    g_assert_true(store_timer_fired(a, ((struct timer *)due_a->pdata[0])->id, now, &error));
    g_assert_true(store_commit(a, &error));
    if (!pg)
        g_assert_true(store_begin(b, &error));
    due_after = store_timers_due(b, now, 500, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(due_after->len, ==, 0);
    g_assert_true(store_commit(b, &error));
    store_close(a);
    store_close(b);
}

/* ---- store_lock_key(): a limit's count and insert, exact across
 * connections as across the daemons of several MX hosts on one
 * PostgreSQL database.  A waiting connection is seen in pg_locks (an
 * advisory lock not granted), not guessed from a sleep. ---- */

/* Long enough that a lock wait in these cases never times out before the
 * server's deadlock_timeout (1 s) has run. */
#define BUSY_MS 5000
/* How long a case waits for another connection to be seen waiting. */
#define SEEN_WAITING_MS 10000

static struct store *
open_store(const struct fixture *f, guint busy_ms)
{
    g_autoptr(GError) error = NULL;
    struct store *st = store_open(f->path, STORE_READ_WRITE, busy_ms, &error);

    g_assert_no_error(error);
    return st;
}

/* One acknowledgement to the mailbox KEY, decided now. */
static void
add_ack(struct store *st, const char *key)
{
    const char *to[] = { key, NULL };
    struct store_new_outbox o = {
        .kind = "ack",
        .template_name = "ack-new",
        .transport = "smtp",
        .mail_from = "",
        .recipients = to,
        .message_id = "ack@tickets.test",
        .body = "mail",
        .created_at = "2026-11-24T09:00:00Z",
        .send_at = "2026-11-24T09:00:00Z",
        .ack_key = key,
    };
    g_autoptr(GError) error = NULL;

    g_assert_true(store_outbox_insert(st, &o, NULL, &error));
    g_assert_no_error(error);
}

static gint64
acks_counted(struct store *st, const char *key)
{
    g_autoptr(GError) error = NULL;
    gint64 n = -1;

    g_assert_true(store_outbox_acks_since(st, key, "2026-11-24T08:00:00Z", &n, &error));
    g_assert_no_error(error);
    return n;
}

/* How many advisory locks some connection of this database waits for. */
static gint64
advisory_waits(const struct fixture *f)
{
    g_autoptr(GError) error = NULL;
    struct db *db = db_open(f->path, DB_READ_WRITE, BUSY_MS, &error);
    struct db_stmt *s;
    gint64 n = -1;

    g_assert_no_error(error);
    s = db_prepare(db,
                   "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                   " AND database = (SELECT oid FROM pg_database"
                   " WHERE datname = current_database())",
                   &error);
    g_assert_no_error(error);
    g_assert_cmpint(db_step(s, &error), ==, DB_ROW);
    n = db_column_int64(s, 0);
    db_reset(s);
    db_close(db);
    return n;
}

/* Until some connection is seen waiting for an advisory lock. */
static void
wait_until_waiting(const struct fixture *f)
{
    for (int ms = 0; advisory_waits(f) < 1; ms += 10) {
        if (ms >= SEEN_WAITING_MS)
            g_error("no connection waited for the lock within %d ms", SEEN_WAITING_MS);
        g_usleep(10 * 1000);
    }
}

/* The second of two deciders: in a transaction of its own, lock the
 * mailbox and count its acknowledgements. */
struct counter {
    struct store *st;
    const char *key;
    gint64 count;
    gint done; /* atomic: it has counted */
    GError *error;
};

static gpointer
counter_main(gpointer data)
{
    struct counter *c = data;

    if (store_begin(c->st, &c->error) && store_lock_key(c->st, "ack", c->key, &c->error) &&
        store_outbox_acks_since(c->st, c->key, "2026-11-24T08:00:00Z", &c->count, &c->error)) {
        g_atomic_int_set(&c->done, 1);
        store_commit(c->st, &c->error);
    } else {
        store_rollback(c->st);
    }
    return NULL;
}

/* The limit check of one mailbox on two connections at once: the second
 * waits for the first's commit, then counts the row the first inserted
 * (with ack_limit 1 it would send nothing). */
static void
test_lock_second_waits(struct fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    struct counter c = { .key = "victim@acme.test", .count = -1 };
    struct store *a;
    GThread *t;

    if (SKIPPED(f))
        return;
    a = open_store(f, BUSY_MS);
    c.st = open_store(f, BUSY_MS);
    g_assert_true(store_begin(a, &error));
    g_assert_true(store_lock_key(a, "ack", c.key, &error));
    g_assert_cmpint(acks_counted(a, c.key), ==, 0);
    add_ack(a, c.key);

    t = g_thread_new("second", counter_main, &c);
    wait_until_waiting(f);
    g_assert_cmpint(g_atomic_int_get(&c.done), ==, 0);
    g_assert_true(store_commit(a, &error));
    g_thread_join(t);
    g_assert_no_error(c.error);
    g_assert_cmpint(c.count, ==, 1);
    store_close(a);
    store_close(c.st);
}

/* What the lock is for: without it, two READ COMMITTED transactions each
 * count before the other committed, and both would send. */
static void
test_lock_absent_both_pass(struct fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    const char *key = "victim@acme.test";
    struct store *a, *b;

    if (SKIPPED(f))
        return;
    a = open_store(f, BUSY_MS);
    b = open_store(f, BUSY_MS);
    g_assert_true(store_begin(a, &error));
    g_assert_cmpint(acks_counted(a, key), ==, 0);
    add_ack(a, key);
    g_assert_true(store_begin(b, &error));
    g_assert_cmpint(acks_counted(b, key), ==, 0);
    add_ack(b, key);
    g_assert_true(store_commit(a, &error));
    g_assert_true(store_commit(b, &error));
    g_assert_true(store_begin(a, &error));
    g_assert_cmpint(acks_counted(a, key), ==, 2);
    store_rollback(a);
    store_close(a);
    store_close(b);
}

/* A holds the lock of victim@acme.test in an open transaction, and B
 * (whose lock waits time out after B_BUSY_MS) has one open too. */
static void
hold(const struct fixture *f, guint b_busy_ms, struct store **a, struct store **b)
{
    g_autoptr(GError) error = NULL;

    *a = open_store(f, BUSY_MS);
    *b = open_store(f, b_busy_ms);
    g_assert_true(store_begin(*a, &error));
    g_assert_true(store_lock_key(*a, "ack", "victim@acme.test", &error));
    g_assert_true(store_begin(*b, &error));
    g_assert_no_error(error);
}

static void
release(struct store *a, struct store *b)
{
    store_rollback(b);
    store_rollback(a);
    store_close(a);
    store_close(b);
}

/* Another mailbox, or the same text under another purpose, is another
 * lock: taken at once while the first is held. */
static void
test_lock_other_keys_do_not_wait(struct fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    struct store *a, *b;

    if (SKIPPED(f))
        return;
    hold(f, 200, &a, &b);
    g_assert_true(store_lock_key(b, "ack", "other@acme.test", &error));
    g_assert_true(store_lock_key(b, "not-contact", "victim@acme.test", &error));
    g_assert_no_error(error);
    release(a, b);
}

/* A wait is bounded by the busy timeout: then STORE_ERROR_BUSY, a 451. */
static void
test_lock_wait_is_bounded(struct fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    struct store *a, *b;

    if (SKIPPED(f))
        return;
    hold(f, 200, &a, &b);
    g_assert_false(store_lock_key(b, "ack", "victim@acme.test", &error));
    g_assert_error(error, STORE_ERROR, STORE_ERROR_BUSY);
    release(a, b);
}

/* A job that failed is rolled back to its savepoint, and its lock with
 * it: the other hosts need not wait for the rest of the batch. */
static void
test_lock_savepoint_rollback(struct fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    struct db *a, *b;

    if (SKIPPED(f))
        return;
    a = db_open(f->path, DB_READ_WRITE, 200, &error);
    g_assert_no_error(error);
    b = db_open(f->path, DB_READ_WRITE, 200, &error);
    g_assert_no_error(error);
    g_assert_true(db_begin(a, &error));
    g_assert_true(db_savepoint(a, "job", &error));
    g_assert_true(db_lock_key(a, "ack", "victim@acme.test", &error));
    db_rollback_to(a, "job");
    g_assert_true(db_begin(b, &error));
    g_assert_true(db_lock_key(b, "ack", "victim@acme.test", &error));
    g_assert_no_error(error);
    db_rollback(b);
    db_rollback(a);
    db_close(a);
    db_close(b);
}

/* Both backends: a lock outlives nothing outside a transaction, so it is
 * refused there; inside one it is taken (on SQLite: nothing to take). */
static void
test_lock_needs_a_transaction(struct fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    struct store *st;

    if (SKIPPED(f))
        return;
    st = open_store(f, BUSY_MS);
    g_assert_false(store_lock_key(st, "ack", "victim@acme.test", &error));
    g_assert_error(error, STORE_ERROR, STORE_ERROR_FAILED);
    g_clear_error(&error);
    g_assert_true(store_begin(st, &error));
    g_assert_true(store_lock_key(st, "ack", "victim@acme.test", &error));
    g_assert_true(store_lock_key(st, "ack", "victim@acme.test", &error));
    add_ack(st, "victim@acme.test");
    g_assert_true(store_commit(st, &error));
    g_assert_no_error(error);
    store_close(st);
}

/* A writer job that locks one key, tells the case so, waits for it to
 * hold the other, then locks that one too (on its first run only). */
struct deadlock_job {
    GAsyncQueue *to_case;
    GAsyncQueue *to_job;
    int runs;
};

static bool
deadlock_job_fn(struct store *st, void *data, GError **error)
{
    struct deadlock_job *j = data;

    j->runs++;
    if (!store_lock_key(st, "ack", "one@acme.test", error))
        return false;
    if (j->runs == 1) {
        g_async_queue_push(j->to_case, GINT_TO_POINTER(1));
        g_async_queue_pop(j->to_job);
    }
    return store_lock_key(st, "ack", "two@acme.test", error);
}

struct writer_call {
    struct store_writer *w;
    struct deadlock_job *job;
    bool ok;
    GError *error;
};

static gpointer
writer_call_main(gpointer data)
{
    struct writer_call *c = data;

    c->ok = store_writer_run(c->w, deadlock_job_fn, c->job, &c->error);
    return NULL;
}

/* Two hosts lock two keys in opposite orders: the writer's job waits
 * first, so its server process finds the deadlock (40P01), and the job
 * fails with STORE_ERROR_RETRY; the writer rolls the batch back, which
 * lets the other host through, and runs it again, and then it is done. */
static void
test_lock_deadlock_replayed(struct fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    struct deadlock_job job = {
        .to_case = g_async_queue_new(),
        .to_job = g_async_queue_new(),
    };
    struct writer_call call = { .job = &job };
    struct store *other;
    GThread *t;

    if (SKIPPED(f))
        return;
    other = open_store(f, BUSY_MS);
    call.w = store_writer_new(open_store(f, BUSY_MS));
    t = g_thread_new("writer-call", writer_call_main, &call);
    g_async_queue_pop(job.to_case);
    g_assert_true(store_begin(other, &error));
    g_assert_true(store_lock_key(other, "ack", "two@acme.test", &error));
    g_async_queue_push(job.to_job, GINT_TO_POINTER(1));
    wait_until_waiting(f);
    /* Waits until the writer has rolled its first run back. */
    g_assert_true(store_lock_key(other, "ack", "one@acme.test", &error));
    g_assert_true(store_commit(other, &error));
    g_thread_join(t);
    g_assert_no_error(call.error);
    g_assert_true(call.ok);
    g_assert_cmpint(job.runs, ==, 2);
    store_writer_free(call.w);
    store_close(other);
    g_async_queue_unref(job.to_case);
    g_async_queue_unref(job.to_job);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#define ADD(name, fn) g_test_add(name, struct fixture, NULL, fixture_setup, fn, fixture_teardown)
    ADD("/store/roundtrip", test_roundtrip);
    ADD("/store/subjects-newest-first", test_subjects_newest_first);
    ADD("/store/duplicate-key-refused", test_duplicate_key_refused);
    ADD("/store/missing-database-for-reader", test_missing_database_for_reader);
    ADD("/store/not-a-database", test_not_a_database);
    ADD("/store/newer-schema-refused", test_newer_schema_refused);
    ADD("/store/writer/group-commit", test_writer_group_commit);
    ADD("/store/writer/busy", test_writer_busy);
    ADD("/store/writer/readonly", test_readonly_file);
    ADD("/store/modes/setgid", test_modes_setgid);
    ADD("/store/modes/symlink-not-followed", test_modes_symlink_not_followed);
    ADD("/store/modes/fifo-left-alone", test_modes_fifo_left_alone);
    ADD("/store/concurrent-migration", test_concurrent_migration);
    ADD("/store/writer/conflict-is-duplicate", test_writer_conflict_is_duplicate);
    ADD("/store/writer/retry", test_writer_retry);
    ADD("/store/search", test_search);
    ADD("/store/admin-reads", test_admin_reads);
    ADD("/store/backup-verify", test_backup_verify);
    ADD("/store/outbox-claims", test_outbox_claims);
    ADD("/store/timer-fires-once", test_timer_fires_once);
    ADD("/store/lock/needs-a-transaction", test_lock_needs_a_transaction);
#define ADD_PG(name, fn)                                                                           \
    g_test_add("/store/pg/" name, struct fixture, NULL, fixture_setup_pg, fn, fixture_teardown)
    ADD_PG("roundtrip", test_roundtrip);
    ADD_PG("subjects-newest-first", test_subjects_newest_first);
    ADD_PG("duplicate-key-refused", test_duplicate_key_refused);
    ADD_PG("writer/group-commit", test_writer_group_commit);
    ADD_PG("concurrent-migration", test_concurrent_migration);
    ADD_PG("writer/conflict-is-duplicate", test_writer_conflict_is_duplicate);
    ADD_PG("writer/retry", test_writer_retry);
    ADD_PG("search", test_search);
    ADD_PG("admin-reads", test_admin_reads);
    ADD_PG("backup-verify", test_backup_verify);
    ADD_PG("outbox-claims", test_outbox_claims);
    ADD_PG("timer-fires-once", test_timer_fires_once);
    ADD_PG("lock/needs-a-transaction", test_lock_needs_a_transaction);
    ADD_PG("lock/second-waits-and-sees-the-row", test_lock_second_waits);
    ADD_PG("lock/without-it-both-pass", test_lock_absent_both_pass);
    ADD_PG("lock/other-keys-do-not-wait", test_lock_other_keys_do_not_wait);
    ADD_PG("lock/wait-is-bounded", test_lock_wait_is_bounded);
    ADD_PG("lock/savepoint-rollback-releases", test_lock_savepoint_rollback);
    ADD_PG("lock/deadlock-is-replayed", test_lock_deadlock_replayed);
    return g_test_run();
}
