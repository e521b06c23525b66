/*
 * test-writer - the writer thread: group commit, and every way a commit
 * fails, as the STORE_ERROR code the milter answers by (451 4.3.0 with
 * "busy", "out of storage space", "not reachable" or "cannot store").
 *
 * Jobs are queued together for certain: a first job holds the writer
 * until store_writer_queued() says the others wait behind it.  The cases
 * about the writer's behaviour run on SQLite ("/writer/...") and again on
 * PostgreSQL ("/writer/pg/...", a schema and a role of their own on the
 * cluster TM_TEST_PG_URI names; skipped without one), each failure made
 * the way that backend meets it:
 *
 *   SQLite: a commit hook on the writer's own connection
 *   (tests/unit/sqlite-hook.h) counts the commits and vetoes one; the
 *   full disk is SQLite's page limit on that connection (PRAGMA
 *   max_page_count: no mount and no root needed, and SQLite answers
 *   SQLITE_FULL exactly as on a full file system); a file or directory
 *   that is not writable is tried in a child that runs as nobody when the
 *   test runs as root (root writes through file modes).
 *
 *   PostgreSQL (tests/unit/pg-fault.h): a trigger notes the transaction
 *   of every meta row, so that the commits that carried the jobs are
 *   counted; a deferred trigger fails a COMMIT; another session's lock,
 *   a statement that outlasts statement_timeout, a trigger that raises
 *   40001 (a lost race) or 53100 (the server's disk full), a real
 *   deadlock with another session, the writer's session terminated in
 *   the middle of a batch, and a role made read-only as on a standby.
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

#include "store/db.h"
#include "store/meta.h"
#include "store/store.h"
#include "store/writer.h"
#include "tests/unit/pg-fault.h"
#include "tests/unit/sqlite-hook.h"

#define NOBODY 65534

struct fixture {
    char *dir;
    char *path; /* the SQLite file, or the store's PostgreSQL URI; NULL: skipped */
    struct store_writer *w;
    /* SQLite: the writer's connection, touched only in its jobs */
    sqlite3 *db;
    struct sqlite_hook_commits commits;
    /* PostgreSQL: the case's schema and role (pg.setup NULL on SQLite) */
    struct pg_fault pg;
};

#define IS_PG(f) ((f)->pg.setup != NULL)
/* Every case that runs on both backends starts with this. */
#define SKIPPED(f) ((f)->path == NULL)

/* Long enough that no test meets it by chance; test_busy sets its own. */
#define TIMEOUT_MS 5000

static void
fixture_setup(struct fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    struct store *st;

    f->dir = g_dir_make_tmp("test-writer-XXXXXX", &error);
    g_assert_no_error(error);
    f->path = g_build_filename(f->dir, "tickets.db", NULL);
    st = store_open(f->path, STORE_READ_WRITE, TIMEOUT_MS, &error);
    g_assert_no_error(error);
    f->db = sqlite_hook_db();
    /* From here on: the migrations of store_open() are not counted. */
    sqlite_hook_watch_commits(f->db, &f->commits);
    f->w = store_writer_new(st);
}

/* Every meta row the store writes notes the transaction it was written
 * in; what a rollback takes back goes with it. */
#define PG_NOTE_TRANSACTIONS                                                                       \
    "CREATE TABLE meta_tx (key TEXT, xid BIGINT);"                                                 \
    " CREATE FUNCTION note_tx() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER"                 \
    " SET search_path FROM CURRENT AS $f$ BEGIN"                                                   \
    "  INSERT INTO meta_tx VALUES (NEW.key, txid_current()); RETURN NULL;"                         \
    " END $f$;"                                                                                    \
    " CREATE TRIGGER note_tx AFTER INSERT OR UPDATE ON meta"                                       \
    " FOR EACH ROW EXECUTE FUNCTION note_tx()"

static void
fixture_setup_pg(struct fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    struct store *st;

    f->dir = g_dir_make_tmp("test-writer-XXXXXX", &error);
    g_assert_no_error(error);
    if (!pg_fault_start(&f->pg, "writer"))
        return;
    f->path = g_strdup(f->pg.uri);
    st = store_open(f->path, STORE_READ_WRITE, TIMEOUT_MS, &error);
    g_assert_no_error(error);
    pg_fixture_exec(f->pg.setup, PG_NOTE_TRANSACTIONS);
    f->w = store_writer_new(st);
}

static void
fixture_teardown(struct fixture *f, gconstpointer data)
{
    g_autofree char *cmd = NULL;

    f->w = store_writer_free(f->w);
    if (IS_PG(f))
        pg_fault_stop(&f->pg);
    cmd = g_strdup_printf("rm -rf '%s'", f->dir);
    g_assert_cmpint(system(cmd), ==, 0);
    g_free(f->dir);
    g_free(f->path);
}

/* ---- jobs ---- */

/* Sets meta KEY (a value of SIZE bytes when SIZE > 0), then fails when
 * FAIL.  RUNS: how often the writer ran it (a batch that lost a race runs
 * again). */
struct meta_job {
    const char *key;
    gsize size;
    bool fail;
    int runs;
};

static bool
meta_job(struct store *st, void *data, GError **error)
{
    struct meta_job *j = data;
    g_autofree char *value = j->size > 0 ? g_strnfill(j->size, 'x') : g_strdup("set");

    j->runs++;
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

static void
gate_init(struct gate *g)
{
    *g = (struct gate){ 0 };
    g_mutex_init(&g->lock);
    g_cond_init(&g->cond);
}

static void
gate_clear(struct gate *g)
{
    g_mutex_clear(&g->lock);
    g_cond_clear(&g->cond);
}

/* In the writer: says it came, and waits until the gate opens. */
static void
gate_pass(struct gate *g)
{
    g_mutex_lock(&g->lock);
    g->entered = true;
    g_cond_broadcast(&g->cond);
    while (!g->open)
        g_cond_wait(&g->cond, &g->lock);
    g_mutex_unlock(&g->lock);
}

/* In the test: waits until the writer is at the gate. */
static void
gate_wait_entered(struct gate *g)
{
    g_mutex_lock(&g->lock);
    while (!g->entered)
        g_cond_wait(&g->cond, &g->lock);
    g_mutex_unlock(&g->lock);
}

static void
gate_open(struct gate *g)
{
    g_mutex_lock(&g->lock);
    g->open = true;
    g_cond_broadcast(&g->cond);
    g_mutex_unlock(&g->lock);
}

static bool
gate_job(struct store *st, void *data, GError **error)
{
    gate_pass(data);
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
    struct gate g;
    struct submit gate;

    gate_init(&g);
    submit_start(&gate, f->w, gate_job, &g);
    gate_wait_entered(&g);
    for (guint i = 0; i < n; i++) {
        submit_start(&s[i], f->w, fns[i], jobs[i]);
        wait_queued(f->w, i + 1);
    }
    gate_open(&g);
    submit_join(&gate);
    g_assert_true(gate.ok);
    for (guint i = 0; i < n; i++)
        submit_join(&s[i]);
    gate_clear(&g);
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

/* ---- each backend's ways ---- */

/* The commits that carried the jobs of run_together() batches: SQLite's
 * hook counts every commit of the writer, the gate's too (one a batch);
 * PostgreSQL's trigger the transactions that wrote meta rows, which the
 * gate does not. */
static int
batch_commits(struct fixture *f, guint batches)
{
    if (IS_PG(f))
        return (int)pg_fault_scalar(f->pg.setup, "SELECT count(DISTINCT xid) FROM meta_tx");
    return g_atomic_int_get(&f->commits.commits) - (int)batches;
}

/* The COMMIT of the next run_together() batch fails, and only that one.
 * PostgreSQL: a deferred trigger raises at the first COMMIT that carries
 * a meta row (the gate's carries none). */
static void
veto_batch_commit(struct fixture *f)
{
    if (IS_PG(f)) {
        pg_fault_rows(&f->pg, "meta", 1, true, PG_FAULT_RAISE("P0001"));
        return;
    }
    /* The gate's commit is the next, the batch's the one after it. */
    g_atomic_int_set(&f->commits.veto_at, g_atomic_int_get(&f->commits.commits) + 2);
}

/* Another process's transaction holds what the writer needs: SQLite's
 * write lock, or PostgreSQL's meta table. */
struct other_lock {
    sqlite3 *sqlite;
    struct db *pg;
};

static void
lock_hold(struct fixture *f, struct other_lock *l)
{
    *l = (struct other_lock){ 0 };
    if (IS_PG(f)) {
        l->pg = pg_fault_lock(&f->pg, "meta");
        return;
    }
    g_assert_cmpint(sqlite3_open(f->path, &l->sqlite), ==, SQLITE_OK);
    g_assert_cmpint(sqlite3_exec(l->sqlite, "BEGIN IMMEDIATE", NULL, NULL, NULL), ==, SQLITE_OK);
}

static void
lock_release(struct other_lock *l)
{
    l->pg = pg_fault_unlock(l->pg);
    if (l->sqlite != NULL) {
        g_assert_cmpint(sqlite3_exec(l->sqlite, "ROLLBACK", NULL, NULL, NULL), ==, SQLITE_OK);
        sqlite3_close(l->sqlite);
        l->sqlite = NULL;
    }
}

/* Whether the database has room for more than a few small rows: SQLite's
 * page limit; on PostgreSQL the server's answer to a full disk (53100)
 * for every meta row of more than a page. */
static void
room_limit(struct fixture *f, bool limited)
{
    if (IS_PG(f) && limited)
        pg_fault_rows(&f->pg, "meta", G_MAXINT32, false,
                      "IF length(NEW.value) > 8192 THEN " PG_FAULT_RAISE("53100") "; END IF");
    else if (IS_PG(f))
        pg_fault_rows_end(&f->pg, "meta");
    else
        /* It cannot go below the pages in use: 1 means "no more than now". */
        sqlite_hook_exec(f->w, f->db,
                         limited ? "PRAGMA max_page_count = 1" : "PRAGMA max_page_count = 1000000");
}

/* The writer's connection may read and not write: SQLite's query_only;
 * PostgreSQL's read-only sessions (a standby after a failover, or
 * default_transaction_read_only), which the writer gets when it
 * reconnects after its session was ended. */
static void
writes_forbidden(struct fixture *f)
{
    if (IS_PG(f))
        pg_fault_role(&f->pg, "SET default_transaction_read_only = on");
    else
        sqlite_hook_exec(f->w, f->db, "PRAGMA query_only = ON");
}

/* The rows the store wrote for KEY in committed transactions. */
static gint64
pg_rows_of(struct fixture *f, const char *key)
{
    g_autofree char *sql = g_strdup_printf("SELECT count(*) FROM meta_tx WHERE key = '%s'", key);

    return pg_fault_scalar(f->pg.setup, sql);
}

/* ---- group commit ---- */

/* Five jobs queued together share one commit (one fsync). */
static void
test_shared_commit(struct fixture *f, gconstpointer data)
{
    struct meta_job jobs[5] = {
        { .key = "a" }, { .key = "b" }, { .key = "c" }, { .key = "d" }, { .key = "e" },
    };
    struct submit s[5];

    if (SKIPPED(f))
        return;
    run_meta_together(f, s, jobs, 5);
    for (guint i = 0; i < 5; i++) {
        g_assert_no_error(s[i].error);
        g_assert_true(s[i].ok);
        g_assert_true(meta_stored(f->path, jobs[i].key));
    }
    g_assert_cmpint(batch_commits(f, 1), ==, 1);
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

    if (SKIPPED(f))
        return;
    run_meta_together(f, s, jobs, 3);
    g_assert_cmpint(batch_commits(f, 1), ==, 1);
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

    if (SKIPPED(f))
        return;
    veto_batch_commit(f);
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

/* PostgreSQL's way of losing the transaction: the writer's session is
 * terminated in the middle of a batch (a server restart, a failover,
 * pg_terminate_backend from an admin's session).  Every job of the batch
 * fails as "not reachable" (a 451), nothing of it is stored, and the next
 * batch reconnects and commits. */
static bool
terminate_job(struct store *st, void *data, GError **error)
{
    struct fixture *f = data;

    pg_fault_disconnect(&f->pg);
    return store_meta_set(st, "second", "set", error);
}

static void
test_pg_session_ended_fails_batch(struct fixture *f, gconstpointer data)
{
    struct meta_job first = { .key = "first" };
    struct meta_job later = { .key = "later" };
    const store_job_fn fns[2] = { meta_job, terminate_job };
    void *const jobs[2] = { &first, f };
    g_autoptr(GError) error = NULL;
    struct submit s[2];

    if (SKIPPED(f))
        return;
    run_together(f, s, fns, jobs, 2);
    for (guint i = 0; i < 2; i++) {
        g_assert_false(s[i].ok);
        g_assert_error(s[i].error, STORE_ERROR, STORE_ERROR_UNAVAILABLE);
        g_assert_nonnull(strstr(s[i].error->message, "database server cannot be reached"));
        g_clear_error(&s[i].error);
    }
    g_assert_false(meta_stored(f->path, "first"));
    g_assert_false(meta_stored(f->path, "second"));
    g_assert_true(store_writer_run(f->w, meta_job, &later, &error));
    g_assert_no_error(error);
    g_assert_true(meta_stored(f->path, "later"));
}

/* ---- error paths ---- */

#define BUSY_MS 150

/* Another process holds the write lock past busy_timeout (SQLite), or a
 * lock on the table the job writes past lock_timeout (PostgreSQL): the
 * job fails with BUSY, after the timeout and not before (on SQLite a
 * batch that cannot begin fails whole: writer_run_batch()); once the lock
 * is gone the same job commits. */
static void
test_busy(struct fixture *f, gconstpointer data)
{
    struct meta_job j = { .key = "one" };
    g_autoptr(GError) error = NULL;
    struct other_lock lock;
    gint64 start;

    if (SKIPPED(f))
        return;
    f->w = store_writer_free(f->w);
    f->w = store_writer_new(store_open(f->path, STORE_READ_WRITE, BUSY_MS, &error));
    g_assert_no_error(error);
    lock_hold(f, &lock);
    start = g_get_monotonic_time();
    g_assert_false(store_writer_run(f->w, meta_job, &j, &error));
    g_assert_cmpint(g_get_monotonic_time() - start, >=, BUSY_MS * 1000);
    g_assert_error(error, STORE_ERROR, STORE_ERROR_BUSY);
    g_assert_nonnull(strstr(error->message, "locked by another process"));
    g_clear_error(&error);
    lock_release(&lock);
    g_assert_false(meta_stored(f->path, "one"));
    g_assert_true(store_writer_run(f->w, meta_job, &j, &error));
    g_assert_no_error(error);
    g_assert_true(meta_stored(f->path, "one"));
}

/* PostgreSQL: a statement that runs past statement_timeout (twice the
 * busy timeout) is cancelled, and the job fails with BUSY, nothing
 * stored; the same job again commits. */
static void
test_pg_statement_timeout(struct fixture *f, gconstpointer data)
{
    struct meta_job j = { .key = "slow" };
    g_autoptr(GError) error = NULL;
    gint64 start;

    if (SKIPPED(f))
        return;
    f->w = store_writer_free(f->w);
    f->w = store_writer_new(store_open(f->path, STORE_READ_WRITE, BUSY_MS, &error));
    g_assert_no_error(error);
    pg_fault_rows(&f->pg, "meta", 1, false, PG_FAULT_SLEEP("10"));
    start = g_get_monotonic_time();
    g_assert_false(store_writer_run(f->w, meta_job, &j, &error));
    g_assert_cmpint(g_get_monotonic_time() - start, >=, 2 * BUSY_MS * 1000);
    g_assert_cmpint(g_get_monotonic_time() - start, <, 10 * G_USEC_PER_SEC);
    g_assert_error(error, STORE_ERROR, STORE_ERROR_BUSY);
    g_assert_nonnull(strstr(error->message, "57014"));
    g_clear_error(&error);
    g_assert_false(meta_stored(f->path, "slow"));
    g_assert_true(store_writer_run(f->w, meta_job, &j, &error));
    g_assert_no_error(error);
    g_assert_true(meta_stored(f->path, "slow"));
    g_assert_cmpint(pg_fault_fired(&f->pg, "meta"), ==, 2);
}

/* No room left for the database: the job that needs it fails with FULL
 * and leaves nothing; a small job in the room there is still works; when
 * room is back the big one commits. */
static void
test_full(struct fixture *f, gconstpointer data)
{
    struct meta_job big = { .key = "big", .size = 256 * 1024 };
    struct meta_job small = { .key = "small" };
    g_autoptr(GError) error = NULL;

    if (SKIPPED(f))
        return;
    room_limit(f, true);
    g_assert_false(store_writer_run(f->w, meta_job, &big, &error));
    g_assert_error(error, STORE_ERROR, STORE_ERROR_FULL);
    g_assert_nonnull(strstr(error->message, "no space left for the database"));
    g_assert_nonnull(strstr(error->message, f->path));
    g_clear_error(&error);
    g_assert_false(meta_stored(f->path, "big"));

    g_assert_true(store_writer_run(f->w, meta_job, &small, &error));
    g_assert_no_error(error);

    room_limit(f, false);
    g_assert_true(store_writer_run(f->w, meta_job, &big, &error));
    g_assert_no_error(error);
    g_assert_true(meta_stored(f->path, "big"));
}

/* A job's run fails with READONLY, its message saying WORDS, and its
 * row is not stored. */
static void
refused_as_readonly(struct fixture *f, const char *words)
{
    struct meta_job j = { .key = "k" };
    g_autoptr(GError) error = NULL;

    g_assert_false(store_writer_run(f->w, meta_job, &j, &error));
    g_assert_error(error, STORE_ERROR, STORE_ERROR_READONLY);
    g_assert_nonnull(strstr(error->message, words));
    g_assert_false(meta_stored(f->path, "k"));
}

/* A connection that may not write (as on a file system remounted
 * read-only under the daemon, or a PostgreSQL server that became a
 * standby): the job fails with READONLY, and nothing is stored. */
static void
test_readonly_connection(struct fixture *f, gconstpointer data)
{
    if (SKIPPED(f))
        return;
    writes_forbidden(f);
    refused_as_readonly(f, "database is not writable");
}

/* A role that has lost its right to write the table (42501, a grant
 * taken back by an administrator): READONLY as well, nothing stored. */
static void
test_pg_no_privilege(struct fixture *f, gconstpointer data)
{
    g_autofree char *sql = NULL;

    if (SKIPPED(f))
        return;
    sql = g_strdup_printf("REVOKE INSERT, UPDATE ON %s.meta FROM %s", f->pg.schema, f->pg.role);
    pg_fixture_exec(f->pg.admin, sql);
    refused_as_readonly(f, "[42501]");
}

/* ---- PostgreSQL: races, retried ---- */

/* A statement that loses a race once (40001): the batch runs again from
 * its start, the job succeeds, and its row is written once. */
static void
test_pg_retry_once(struct fixture *f, gconstpointer data)
{
    struct meta_job j = { .key = "once" };
    g_autoptr(GError) error = NULL;

    if (SKIPPED(f))
        return;
    pg_fault_rows(&f->pg, "meta", 1, false, PG_FAULT_RAISE("40001"));
    g_assert_true(store_writer_run(f->w, meta_job, &j, &error));
    g_assert_no_error(error);
    g_assert_cmpint(j.runs, ==, 2);
    g_assert_cmpint(pg_fault_fired(&f->pg, "meta"), ==, 2);
    g_assert_true(meta_stored(f->path, "once"));
    g_assert_cmpint(pg_rows_of(f, "once"), ==, 1);
}

/* The COMMIT of a shared batch loses a race (a deferred check that
 * raises 40001): the whole batch is replayed, every job of it runs again
 * and succeeds, and all of it is one commit, each row written once. */
static void
test_pg_replay_after_commit(struct fixture *f, gconstpointer data)
{
    struct meta_job jobs[3] = { { .key = "p" }, { .key = "q" }, { .key = "r" } };
    struct submit s[3];

    if (SKIPPED(f))
        return;
    pg_fault_rows(&f->pg, "meta", 1, true, PG_FAULT_RAISE("40001"));
    run_meta_together(f, s, jobs, 3);
    for (guint i = 0; i < 3; i++) {
        g_assert_no_error(s[i].error);
        g_assert_true(s[i].ok);
        g_assert_cmpint(jobs[i].runs, ==, 2);
        g_assert_true(meta_stored(f->path, jobs[i].key));
        g_assert_cmpint(pg_rows_of(f, jobs[i].key), ==, 1);
    }
    g_assert_cmpint(batch_commits(f, 1), ==, 1);
}

/* A job that loses its race every time: the batch runs three times in
 * all, no more; in the last run that job fails alone with RETRY (a 451,
 * "busy") and leaves nothing, while its neighbours are committed once.
 * When the race is over, the same job commits. */
static void
test_pg_retry_bounded(struct fixture *f, gconstpointer data)
{
    struct meta_job jobs[3] = { { .key = "left" }, { .key = "loser" }, { .key = "right" } };
    struct meta_job again = { .key = "loser" };
    g_autoptr(GError) error = NULL;
    struct submit s[3];

    if (SKIPPED(f))
        return;
    pg_fault_rows(&f->pg, "meta", G_MAXINT32, false,
                  "IF NEW.key = 'loser' THEN " PG_FAULT_RAISE("40001") "; END IF");
    run_meta_together(f, s, jobs, 3);
    g_assert_false(s[1].ok);
    g_assert_error(s[1].error, STORE_ERROR, STORE_ERROR_RETRY);
    g_assert_nonnull(strstr(s[1].error->message, "lost a race"));
    g_assert_true(s[0].ok);
    g_assert_true(s[2].ok);
    /* A run ends where the race is lost: the job after it runs in the last. */
    g_assert_cmpint(jobs[0].runs, ==, 3);
    g_assert_cmpint(jobs[1].runs, ==, 3);
    g_assert_cmpint(jobs[2].runs, ==, 1);
    for (guint i = 0; i < 3; i++)
        g_clear_error(&s[i].error);
    g_assert_false(meta_stored(f->path, "loser"));
    g_assert_cmpint(pg_rows_of(f, "left"), ==, 1);
    g_assert_cmpint(pg_rows_of(f, "right"), ==, 1);

    pg_fault_rows_end(&f->pg, "meta");
    g_assert_true(store_writer_run(f->w, meta_job, &again, &error));
    g_assert_no_error(error);
    g_assert_true(meta_stored(f->path, "loser"));
    g_assert_cmpint(pg_rows_of(f, "loser"), ==, 1);
}

/* A real deadlock with another session: the writer holds meta "a" and
 * wants "b", the other holds "b" and waits for "a".  The writer waits
 * last and checks first (deadlock_timeout 100 ms for its role, 10 s for
 * the other), so it is the one the server aborts (40P01): its batch runs
 * again once the other is through, and commits. */
struct deadlock_job {
    struct gate pause; /* first run: between "a" and "b" */
    int runs;
};

static bool
deadlock_job(struct store *st, void *data, GError **error)
{
    struct deadlock_job *j = data;

    if (!store_meta_set(st, "a", "writer", error))
        return false;
    if (++j->runs == 1)
        gate_pass(&j->pause);
    return store_meta_set(st, "b", "writer", error);
}

/* Runs SQL on the other session, from a thread of its own: it waits. */
struct other_statement {
    struct db *db;
    const char *sql;
    bool ok;
};

static gpointer
other_statement_main(gpointer data)
{
    struct other_statement *o = data;
    g_autoptr(GError) error = NULL;

    o->ok = db_exec(o->db, o->sql, &error);
    if (error != NULL)
        g_test_message("the other session: %s", error->message);
    return NULL;
}

static char *
meta_value(const char *path, const char *key)
{
    g_autoptr(GError) error = NULL;
    char *value = NULL;
    struct store *st = store_open(path, STORE_READ_ONLY, 1000, &error);

    g_assert_no_error(error);
    g_assert_true(store_meta_get(st, key, &value, &error));
    g_assert_no_error(error);
    store_close(st);
    return value;
}

static void
test_pg_deadlock(struct fixture *f, gconstpointer data)
{
    struct meta_job a = { .key = "a" }, b = { .key = "b" };
    struct deadlock_job j = { 0 };
    struct other_statement wait_a;
    g_autoptr(GError) error = NULL;
    g_autofree char *other_pid = NULL;
    g_autofree char *value_a = NULL, *value_b = NULL;
    struct submit s;
    GThread *other_thread;
    struct db *other;

    if (SKIPPED(f))
        return;
    pg_fault_role(&f->pg, "SET deadlock_timeout = '100ms'");
    g_assert_true(store_writer_run(f->w, meta_job, &a, &error));
    g_assert_true(store_writer_run(f->w, meta_job, &b, &error));
    g_assert_no_error(error);

    other = db_open(f->pg.setup, DB_READ_WRITE, 0, &error);
    g_assert_no_error(error);
    other_pid = g_strdup_printf("pid = %" G_GINT64_FORMAT,
                                pg_fault_scalar_db(other, "SELECT pg_backend_pid()"));
    g_assert_true(db_exec(other,
                          "SET deadlock_timeout = '10s'; BEGIN;"
                          " UPDATE meta SET value = 'other' WHERE key = 'b'",
                          &error));
    g_assert_no_error(error);

    gate_init(&j.pause);
    submit_start(&s, f->w, deadlock_job, &j);
    gate_wait_entered(&j.pause);
    wait_a = (struct other_statement){ .db = other,
                                       .sql = "UPDATE meta SET value = 'other' WHERE key = 'a'" };
    other_thread = g_thread_new("other", other_statement_main, &wait_a);
    pg_fault_wait_locked(&f->pg, other_pid);
    gate_open(&j.pause);
    g_thread_join(other_thread);
    g_assert_true(wait_a.ok);
    g_assert_true(db_exec(other, "COMMIT", &error));
    g_assert_no_error(error);
    db_close(other);
    submit_join(&s);
    gate_clear(&j.pause);

    g_assert_no_error(s.error);
    g_assert_true(s.ok);
    g_assert_cmpint(j.runs, ==, 2);
    value_a = meta_value(f->path, "a");
    value_b = meta_value(f->path, "b");
    g_assert_cmpstr(value_a, ==, "writer");
    g_assert_cmpstr(value_b, ==, "writer");
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
#define ADD_PG(name, fn)                                                                           \
    g_test_add("/writer/pg/" name, struct fixture, NULL, fixture_setup_pg, fn, fixture_teardown)
    ADD_PG("group/shared-commit", test_shared_commit);
    ADD_PG("group/failing-job-alone", test_failing_job_alone);
    ADD_PG("group/failing-commit-fails-batch", test_failing_commit_fails_batch);
    ADD_PG("group/session-ended-fails-batch", test_pg_session_ended_fails_batch);
    ADD_PG("error/busy", test_busy);
    ADD_PG("error/statement-timeout", test_pg_statement_timeout);
    ADD_PG("error/full", test_full);
    ADD_PG("error/readonly-connection", test_readonly_connection);
    ADD_PG("error/no-privilege", test_pg_no_privilege);
    ADD_PG("retry/once", test_pg_retry_once);
    ADD_PG("retry/replay-after-commit", test_pg_replay_after_commit);
    ADD_PG("retry/bounded", test_pg_retry_bounded);
    ADD_PG("retry/deadlock", test_pg_deadlock);
    return g_test_run();
}
