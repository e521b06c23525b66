/*
 * test-store-lock - store_lock_key(): the count and the insert of a limit
 * (ack_limit, not_contact_limit) made exact across connections, as the
 * daemons of several MX hosts on one PostgreSQL database need it.
 *
 * On PostgreSQL ("/store-lock/pg/...", each in a schema of its own on the
 * cluster TM_TEST_PG_URI names; skipped without one): a second connection
 * that locks the key another holds waits until that one commits, then
 * counts its row; without the lock it counts none (the race the lock
 * closes); other keys and other purposes do not wait; a rolled-back
 * savepoint gives the lock up; a wait is bounded by the busy timeout; and
 * two writers that lock two keys in opposite orders deadlock, one fails
 * with STORE_ERROR_RETRY and the writer thread runs its batch again.  On
 * both backends: a lock outside a transaction is refused, and inside one
 * it succeeds (on SQLite taking nothing).
 *
 * A waiting connection is seen in pg_locks (an advisory lock not granted),
 * not guessed from a sleep.
 */
#include <stdlib.h>

#include <glib.h>

#include "store/db.h"
#include "store/outbox.h"
#include "store/store.h"
#include "store/writer.h"
#include "tests/unit/pg-fixture.h"

/* Long enough that a lock wait in these cases never times out before the
 * server's deadlock_timeout (1 s) has run. */
#define BUSY_MS 5000
/* How long a case waits for another connection to be seen waiting. */
#define SEEN_WAITING_MS 10000

struct fixture {
    char *dir;
    char *path;   /* the SQLite file, or the PostgreSQL URI; NULL: skipped */
    char *schema; /* PostgreSQL: the schema of this case */
    char *admin;  /* PostgreSQL: the cluster's URI, to make and drop it */
};

static void
fixture_setup(struct fixture *f, gconstpointer data)
{
    f->dir = g_dir_make_tmp("test-store-lock-XXXXXX", NULL);
    f->path = g_build_filename(f->dir, "tickets.db", NULL);
}

static void
fixture_setup_pg(struct fixture *f, gconstpointer data)
{
    f->dir = g_dir_make_tmp("test-store-lock-XXXXXX", NULL);
    f->path = pg_fixture_start("lock", &f->schema, &f->admin);
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

#define SKIPPED(f) ((f)->path == NULL)

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
acks(struct store *st, const char *key)
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

/* The second of two deciders: in a transaction of its own, lock (or not)
 * and count the mailbox's acknowledgements. */
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
test_second_waits_and_sees_the_row(struct fixture *f, gconstpointer data)
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
    g_assert_cmpint(acks(a, c.key), ==, 0);
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
test_without_the_lock_both_pass(struct fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    const char *key = "victim@acme.test";
    struct store *a, *b;

    if (SKIPPED(f))
        return;
    a = open_store(f, BUSY_MS);
    b = open_store(f, BUSY_MS);
    g_assert_true(store_begin(a, &error));
    g_assert_cmpint(acks(a, key), ==, 0);
    add_ack(a, key);
    g_assert_true(store_begin(b, &error));
    g_assert_cmpint(acks(b, key), ==, 0);
    add_ack(b, key);
    g_assert_true(store_commit(a, &error));
    g_assert_true(store_commit(b, &error));
    g_assert_true(store_begin(a, &error));
    g_assert_cmpint(acks(a, key), ==, 2);
    store_rollback(a);
    store_close(a);
    store_close(b);
}

/* Another mailbox, or the same text under another purpose, is another
 * lock: taken at once while the first is held. */
static void
test_other_keys_do_not_wait(struct fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    struct store *a, *b;

    if (SKIPPED(f))
        return;
    a = open_store(f, 200);
    b = open_store(f, 200);
    g_assert_true(store_begin(a, &error));
    g_assert_true(store_lock_key(a, "ack", "one@acme.test", &error));
    g_assert_true(store_begin(b, &error));
    g_assert_true(store_lock_key(b, "ack", "two@acme.test", &error));
    g_assert_true(store_lock_key(b, "not-contact", "one@acme.test", &error));
    g_assert_no_error(error);
    store_rollback(b);
    store_rollback(a);
    store_close(a);
    store_close(b);
}

/* A wait is bounded by the busy timeout: then STORE_ERROR_BUSY, a 451. */
static void
test_wait_is_bounded(struct fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    struct store *a, *b;

    if (SKIPPED(f))
        return;
    a = open_store(f, BUSY_MS);
    b = open_store(f, 200);
    g_assert_true(store_begin(a, &error));
    g_assert_true(store_lock_key(a, "ack", "victim@acme.test", &error));
    g_assert_true(store_begin(b, &error));
    g_assert_false(store_lock_key(b, "ack", "victim@acme.test", &error));
    g_assert_error(error, STORE_ERROR, STORE_ERROR_BUSY);
    store_rollback(b);
    store_rollback(a);
    store_close(a);
    store_close(b);
}

/* A job that failed is rolled back to its savepoint, and its lock with
 * it: the other hosts need not wait for the rest of the batch. */
static void
test_savepoint_rollback_releases(struct fixture *f, gconstpointer data)
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
test_needs_a_transaction(struct fixture *f, gconstpointer data)
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
test_deadlock_is_replayed(struct fixture *f, gconstpointer data)
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
    g_test_add("/store-lock/needs-a-transaction", struct fixture, NULL, fixture_setup,
               test_needs_a_transaction, fixture_teardown);
#define ADD_PG(name, fn)                                                                           \
    g_test_add("/store-lock/pg/" name, struct fixture, NULL, fixture_setup_pg, fn, fixture_teardown)
    ADD_PG("needs-a-transaction", test_needs_a_transaction);
    ADD_PG("second-waits-and-sees-the-row", test_second_waits_and_sees_the_row);
    ADD_PG("without-the-lock-both-pass", test_without_the_lock_both_pass);
    ADD_PG("other-keys-do-not-wait", test_other_keys_do_not_wait);
    ADD_PG("wait-is-bounded", test_wait_is_bounded);
    ADD_PG("savepoint-rollback-releases", test_savepoint_rollback_releases);
    ADD_PG("deadlock-is-replayed", test_deadlock_is_replayed);
    return g_test_run();
}
