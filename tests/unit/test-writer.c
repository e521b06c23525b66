/*
 * test-writer - the writer thread: group commit, and every way a commit
 * fails, as the STORE_ERROR code the milter answers by (451 4.3.0 with
 * "busy", "out of storage space" or "cannot store").
 *
 * Jobs are queued together for certain: a first job holds the writer
 * until store_writer_queued() says the others wait behind it, and a
 * commit hook on the writer's own connection (tests/unit/sqlite-hook.h)
 * counts the commits.  The full disk is SQLite's page limit on that
 * connection (PRAGMA max_page_count): no mount and no root needed, and
 * SQLite answers SQLITE_FULL exactly as on a full file system.  A file or
 * directory that is not writable is tried in a child that runs as nobody
 * when the test runs as root (root writes through file modes).
 */
#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <sqlite3.h>

#include "store/meta.h"
#include "store/store.h"
#include "store/writer.h"
#include "tests/unit/sqlite-hook.h"

#define NOBODY 65534

struct fixture {
    char *dir;
    char *path;
    struct store_writer *w;
    sqlite3 *db; /* the writer's connection, touched only in its jobs */
    struct sqlite_hook_commits commits;
};

static void
fixture_setup(struct fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    struct store *st;

    f->dir = g_dir_make_tmp("test-writer-XXXXXX", &error);
    g_assert_no_error(error);
    f->path = g_build_filename(f->dir, "tickets.db", NULL);
    /* Long enough that no test meets it by chance; test_busy sets its own. */
    st = store_open(f->path, STORE_READ_WRITE, 5000, &error);
    g_assert_no_error(error);
    f->db = sqlite_hook_db();
    /* From here on: the migrations of store_open() are not counted. */
    sqlite_hook_watch_commits(f->db, &f->commits);
    f->w = store_writer_new(st);
}

static void
fixture_teardown(struct fixture *f, gconstpointer data)
{
    g_autofree char *cmd = NULL;

    f->w = store_writer_free(f->w);
    cmd = g_strdup_printf("rm -rf '%s'", f->dir);
    g_assert_cmpint(system(cmd), ==, 0);
    g_free(f->dir);
    g_free(f->path);
}

/* ---- jobs ---- */

/* Sets meta KEY (a value of SIZE bytes when SIZE > 0), then fails when FAIL. */
struct meta_job {
    const char *key;
    gsize size;
    bool fail;
};

static bool
meta_job(struct store *st, void *data, GError **error)
{
    struct meta_job *j = data;
    g_autofree char *value = j->size > 0 ? g_strnfill(j->size, 'x') : g_strdup("set");

    if (!store_meta_set(st, j->key, value, error))
        return false;
    if (j->fail) {
        g_set_error(error, STORE_ERROR, STORE_ERROR_FAILED, "%s fails on purpose", j->key);
        return false;
    }
    return true;
}

/* Holds the writer inside its job until released: what is submitted
 * meanwhile queues up for the next batch. */
struct gate {
    GMutex lock;
    GCond cond;
    bool entered;
    bool open;
};

static bool
gate_job(struct store *st, void *data, GError **error)
{
    struct gate *g = data;

    g_mutex_lock(&g->lock);
    g->entered = true;
    g_cond_broadcast(&g->cond);
    while (!g->open)
        g_cond_wait(&g->cond, &g->lock);
    g_mutex_unlock(&g->lock);
    return true;
}

/* One submitter: runs its job through the writer on a thread of its own. */
struct submit {
    struct store_writer *w;
    store_job_fn fn;
    void *job;
    bool ok;
    GError *error;
    GThread *thread;
};

static gpointer
submit_main(gpointer data)
{
    struct submit *s = data;

    s->ok = store_writer_run(s->w, s->fn, s->job, &s->error);
    return NULL;
}

static void
submit_start(struct submit *s, struct store_writer *w, store_job_fn fn, void *job)
{
    *s = (struct submit){ .w = w, .fn = fn, .job = job };
    s->thread = g_thread_new("submit", submit_main, s);
}

static void
submit_join(struct submit *s)
{
    g_thread_join(s->thread);
}

/* Waits (at most 10 s) until N jobs wait in W's queue. */
static void
wait_queued(struct store_writer *w, guint n)
{
    for (guint waited = 0; store_writer_queued(w) < n; waited++) {
        g_assert_cmpuint(waited, <, 10000);
        g_usleep(1000);
    }
}

/* Runs FNS[i](JOBS[i]), N of them, in one batch of the writer, in that
 * order, each from a thread of its own (S[i]): the gate holds the writer
 * until all of them wait in its queue. */
static void
run_together(struct fixture *f, struct submit *s, const store_job_fn *fns, void *const *jobs,
             guint n)
{
    struct gate g = { 0 };
    struct submit gate;

    g_mutex_init(&g.lock);
    g_cond_init(&g.cond);
    submit_start(&gate, f->w, gate_job, &g);
    g_mutex_lock(&g.lock);
    while (!g.entered)
        g_cond_wait(&g.cond, &g.lock);
    g_mutex_unlock(&g.lock);
    for (guint i = 0; i < n; i++) {
        submit_start(&s[i], f->w, fns[i], jobs[i]);
        wait_queued(f->w, i + 1);
    }
    g_mutex_lock(&g.lock);
    g.open = true;
    g_cond_broadcast(&g.cond);
    g_mutex_unlock(&g.lock);
    submit_join(&gate);
    g_assert_true(gate.ok);
    for (guint i = 0; i < n; i++)
        submit_join(&s[i]);
    g_mutex_clear(&g.lock);
    g_cond_clear(&g.cond);
}

/* The same for N meta jobs. */
static void
run_meta_together(struct fixture *f, struct submit *s, struct meta_job *jobs, guint n)
{
    store_job_fn fns[8];
    void *data[8];

    g_assert_cmpuint(n, <=, G_N_ELEMENTS(fns));
    for (guint i = 0; i < n; i++) {
        fns[i] = meta_job;
        data[i] = &jobs[i];
    }
    run_together(f, s, fns, data, n);
}

/* Whether meta KEY is on disk, as a reader of its own sees it. */
static bool
meta_stored(const char *path, const char *key)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *value = NULL;
    struct store *st = store_open(path, STORE_READ_ONLY, 1000, &error);

    g_assert_no_error(error);
    g_assert_true(store_meta_get(st, key, &value, &error));
    g_assert_no_error(error);
    store_close(st);
    return value != NULL;
}

/* ---- group commit ---- */

/* Five jobs queued together share one commit (one fsync), the gate's
 * being the other: two in all. */
static void
test_shared_commit(struct fixture *f, gconstpointer data)
{
    struct meta_job jobs[5] = {
        { .key = "a" }, { .key = "b" }, { .key = "c" }, { .key = "d" }, { .key = "e" },
    };
    struct submit s[5];

    run_meta_together(f, s, jobs, 5);
    for (guint i = 0; i < 5; i++) {
        g_assert_no_error(s[i].error);
        g_assert_true(s[i].ok);
        g_assert_true(meta_stored(f->path, jobs[i].key));
    }
    g_assert_cmpint(g_atomic_int_get(&f->commits.commits), ==, 2);
}

/* A job that fails in a shared batch takes back its own changes and hears
 * its own reason; its neighbours are committed as if it had not been. */
static void
test_failing_job_alone(struct fixture *f, gconstpointer data)
{
    struct meta_job jobs[3] = { { .key = "before" },
                                { .key = "bad", .fail = true },
                                { .key = "after" } };
    struct submit s[3];

    run_meta_together(f, s, jobs, 3);
    g_assert_cmpint(g_atomic_int_get(&f->commits.commits), ==, 2);
    g_assert_true(s[0].ok);
    g_assert_true(s[2].ok);
    g_assert_false(s[1].ok);
    g_assert_error(s[1].error, STORE_ERROR, STORE_ERROR_FAILED);
    g_assert_cmpstr(s[1].error->message, ==, "bad fails on purpose");
    g_assert_true(meta_stored(f->path, "before"));
    g_assert_true(meta_stored(f->path, "after"));
    g_assert_false(meta_stored(f->path, "bad"));
    for (guint i = 0; i < 3; i++)
        g_clear_error(&s[i].error);
}

/* The batch's COMMIT fails: every job of it fails with that reason and
 * none is on disk, though each of them succeeded; the next batch works. */
static void
test_failing_commit_fails_batch(struct fixture *f, gconstpointer data)
{
    struct meta_job jobs[3] = { { .key = "x" }, { .key = "y" }, { .key = "z" } };
    struct meta_job later = { .key = "later" };
    g_autoptr(GError) error = NULL;
    struct submit s[3];

    /* The gate's commit is the next, the batch's the one after it. */
    g_atomic_int_set(&f->commits.veto_at, g_atomic_int_get(&f->commits.commits) + 2);
    run_meta_together(f, s, jobs, 3);
    for (guint i = 0; i < 3; i++) {
        g_assert_false(s[i].ok);
        g_assert_error(s[i].error, STORE_ERROR, STORE_ERROR_FAILED);
        g_assert_nonnull(strstr(s[i].error->message, "COMMIT"));
        g_assert_false(meta_stored(f->path, jobs[i].key));
        g_clear_error(&s[i].error);
    }
    g_assert_true(store_writer_run(f->w, meta_job, &later, &error));
    g_assert_no_error(error);
    g_assert_true(meta_stored(f->path, "later"));
}

/* A job whose failure took the whole transaction with it (SQLite does so
 * on some I/O and disk-full errors; here the job rolls it back itself):
 * the jobs before it in the batch are gone too, and are told so, with the
 * same error (a full disk is what their clients must hear). */
static bool
rollback_job(struct store *st, void *data, GError **error)
{
    sqlite3 *db = data;

    g_assert_cmpint(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL), ==, SQLITE_OK);
    g_set_error(error, STORE_ERROR, STORE_ERROR_FULL, "the transaction is gone");
    return false;
}

static void
test_lost_transaction_fails_batch(struct fixture *f, gconstpointer data)
{
    struct meta_job first = { .key = "first" };
    const store_job_fn fns[2] = { meta_job, rollback_job };
    void *const jobs[2] = { &first, f->db };
    struct submit s[2];

    run_together(f, s, fns, jobs, 2);
    for (guint i = 0; i < 2; i++) {
        g_assert_false(s[i].ok);
        g_assert_error(s[i].error, STORE_ERROR, STORE_ERROR_FULL);
        g_assert_cmpstr(s[i].error->message, ==, "the transaction is gone");
        g_clear_error(&s[i].error);
    }
    g_assert_false(meta_stored(f->path, "first"));
}

/* ---- error paths ---- */

#define BUSY_MS 150

/* Another process holds the write lock past busy_timeout: BEGIN fails
 * with BUSY, after the timeout and not before (a batch that cannot begin
 * fails whole: writer_run_batch()); once the lock is gone the same job
 * commits. */
static void
test_busy(struct fixture *f, gconstpointer data)
{
    struct meta_job j = { .key = "one" };
    g_autoptr(GError) error = NULL;
    sqlite3 *other;
    gint64 start;

    f->w = store_writer_free(f->w);
    f->w = store_writer_new(store_open(f->path, STORE_READ_WRITE, BUSY_MS, &error));
    g_assert_no_error(error);
    g_assert_cmpint(sqlite3_open(f->path, &other), ==, SQLITE_OK);
    g_assert_cmpint(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), ==, SQLITE_OK);
    start = g_get_monotonic_time();
    g_assert_false(store_writer_run(f->w, meta_job, &j, &error));
    g_assert_cmpint(g_get_monotonic_time() - start, >=, BUSY_MS * 1000);
    g_assert_error(error, STORE_ERROR, STORE_ERROR_BUSY);
    g_assert_nonnull(strstr(error->message, "locked by another process"));
    g_clear_error(&error);
    g_assert_cmpint(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL), ==, SQLITE_OK);
    sqlite3_close(other);
    g_assert_false(meta_stored(f->path, "one"));
    g_assert_true(store_writer_run(f->w, meta_job, &j, &error));
    g_assert_no_error(error);
    g_assert_true(meta_stored(f->path, "one"));
}

/* No page left for the database: the job that needs one fails with FULL
 * and leaves nothing; a small job in the pages it has still works; when
 * room is back the big one commits. */
static void
test_full(struct fixture *f, gconstpointer data)
{
    struct meta_job big = { .key = "big", .size = 256 * 1024 };
    struct meta_job small = { .key = "small" };
    g_autoptr(GError) error = NULL;

    /* It cannot go below the pages in use: 1 means "no more than now". */
    sqlite_hook_exec(f->w, f->db, "PRAGMA max_page_count = 1");
    g_assert_false(store_writer_run(f->w, meta_job, &big, &error));
    g_assert_error(error, STORE_ERROR, STORE_ERROR_FULL);
    g_assert_nonnull(strstr(error->message, "no space left for the database"));
    g_assert_nonnull(strstr(error->message, f->path));
    g_clear_error(&error);
    g_assert_false(meta_stored(f->path, "big"));

    g_assert_true(store_writer_run(f->w, meta_job, &small, &error));
    g_assert_no_error(error);

    sqlite_hook_exec(f->w, f->db, "PRAGMA max_page_count = 1000000");
    g_assert_true(store_writer_run(f->w, meta_job, &big, &error));
    g_assert_no_error(error);
    g_assert_true(meta_stored(f->path, "big"));
}

/* A connection that may not write (as on a file system remounted
 * read-only under the daemon): the batch cannot even begin, and its job
 * fails with READONLY. */
static void
test_readonly_connection(struct fixture *f, gconstpointer data)
{
    struct meta_job j = { .key = "k" };
    g_autoptr(GError) error = NULL;

    sqlite_hook_exec(f->w, f->db, "PRAGMA query_only = ON");
    g_assert_false(store_writer_run(f->w, meta_job, &j, &error));
    g_assert_error(error, STORE_ERROR, STORE_ERROR_READONLY);
    g_assert_nonnull(strstr(error->message, "database is not writable"));
    g_assert_false(meta_stored(f->path, "k"));
}

/* Opens PATH for writing and writes what became of it ("ok", or the error
 * code and message) to FD.  As nobody when we are root. */
static void
child_open(const char *path, int fd)
{
    GError *error = NULL;
    struct store *st;
    char *line;

    if (geteuid() == 0 && (setgroups(0, NULL) != 0 || setgid(NOBODY) != 0 || setuid(NOBODY) != 0)) {
        line = g_strdup_printf("setuid: %s", g_strerror(errno));
    } else if ((st = store_open(path, STORE_READ_WRITE, 100, &error)) != NULL) {
        struct store_writer *w = store_writer_new(st);
        struct meta_job j = { .key = "k" };
        if (store_writer_run(w, meta_job, &j, &error))
            line = g_strdup("ok");
        else
            line = g_strdup_printf("%d %s", error->code, error->message);
        store_writer_free(w);
    } else {
        line = g_strdup_printf("%d %s", error->code, error->message);
    }
    if (write(fd, line, strlen(line)) < 0)
        _exit(2);
    _exit(0);
}

/* What became of writing to PATH, as a user who may not. */
static char *
open_as_other(const char *path)
{
    GString *out = g_string_new(NULL);
    char buf[512];
    int fds[2];
    ssize_t n;
    int status;
    pid_t pid;

    g_assert_cmpint(pipe(fds), ==, 0);
    pid = fork();
    g_assert_cmpint(pid, >=, 0);
    if (pid == 0) {
        close(fds[0]);
        child_open(path, fds[1]);
    }
    close(fds[1]);
    while ((n = read(fds[0], buf, sizeof(buf))) > 0)
        g_string_append_len(out, buf, n);
    close(fds[0]);
    g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
    g_assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    return g_string_free(out, FALSE);
}

/* What cannot be written, as modes of the database file and its directory. */
struct unwritable {
    guint file_mode;
    guint dir_mode;
};

/* The database file is not writable (the admin made it so, or it belongs
 * to another user): SQLite opens it for reading, and the writer's first
 * write fails.  Or the file is writable but its directory is not: the
 * write-ahead log cannot be made beside it, and the store does not open.
 * Both READONLY, naming the file. */
static void
test_unwritable(struct fixture *f, gconstpointer data)
{
    const struct unwritable *u = data;
    g_autofree char *result = NULL;
    g_autofree char *want =
        g_strdup_printf("%d %s: database is not writable", STORE_ERROR_READONLY, f->path);

    f->w = store_writer_free(f->w); /* the daemon that made it has stopped */
    g_assert_cmpint(g_chmod(f->path, u->file_mode), ==, 0);
    g_assert_cmpint(g_chmod(f->dir, u->dir_mode), ==, 0);
    result = open_as_other(f->path);
    g_assert_cmpint(g_chmod(f->dir, 0700), ==, 0);
    g_test_message("%s", result);
    g_assert_true(g_str_has_prefix(result, want));
}

static const struct unwritable readonly_file = { .file_mode = 0444, .dir_mode = 0777 };
static const struct unwritable readonly_dir = { .file_mode = 0666, .dir_mode = 0555 };

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    sqlite_hook_install();
#define ADD(name, data, fn)                                                                        \
    g_test_add(name, struct fixture, data, fixture_setup, fn, fixture_teardown)
    ADD("/writer/group/shared-commit", NULL, test_shared_commit);
    ADD("/writer/group/failing-job-alone", NULL, test_failing_job_alone);
    ADD("/writer/group/failing-commit-fails-batch", NULL, test_failing_commit_fails_batch);
    ADD("/writer/group/lost-transaction-fails-batch", NULL, test_lost_transaction_fails_batch);
    ADD("/writer/error/busy", NULL, test_busy);
    ADD("/writer/error/full", NULL, test_full);
    ADD("/writer/error/readonly-connection", NULL, test_readonly_connection);
    ADD("/writer/error/readonly-file", &readonly_file, test_unwritable);
    ADD("/writer/error/readonly-directory", &readonly_dir, test_unwritable);
    return g_test_run();
}
