/*
 * writer - the one thread that writes to the database.
 *
 * Milter threads hand it jobs and wait.  It takes whatever jobs have queued
 * up while the last commit was being fsync'd and runs them in one
 * transaction (group commit): under load, twenty messages cost one fsync,
 * not twenty.  Each job runs in a savepoint of its own, so a job that fails
 * undoes only its own changes; a job is reported done only after COMMIT.
 *
 * The search index is kept here too, out of the jobs' transactions: once
 * FTS_BATCH jobs have committed since it was last brought up to date, or
 * when no job has come for FTS_IDLE_MS, the thread indexes what was
 * committed (store_fts_index) in a transaction of its own, at most
 * FTS_BATCH rows of each table at a time and only while no job waits, so
 * that a message's 250 never waits for the indexing of another.  Only when
 * FTS_LAG jobs are behind does it index with jobs waiting, so that a
 * writer that is never idle still keeps search at most that far behind.
 * A new message is thus searchable about FTS_IDLE_MS after its commit when
 * mail comes one at a time, and some hundred messages behind in a burst.
 *
 * Owns the daemon's read-write struct store (store_writer_new() takes it)
 * and its transactions: nothing else writes on that connection.
 *
 * Several hosts on one PostgreSQL database: a job that finds the message
 * it stores taken by another host (STORE_ERROR_CONFLICT) decides again and
 * sees a duplicate; a batch that loses a race (STORE_ERROR_RETRY) runs
 * again from its start, at most WRITER_MAX_RUNS times, then fails.
 *
 * Edge cases: SQLite rolls a whole transaction back by itself on some
 * errors (disk full, I/O); then every job of the batch is failed, since
 * none of them is on disk.  A failed BEGIN (lock held elsewhere past the
 * busy timeout) fails the whole batch with that reason.  A failed index
 * run is rolled back and tried again at an idle moment FTS_RETRY_MS
 * later: the rows are stored, only not searchable yet.  At a stop, what is left to index
 * is indexed for at most FTS_STOP_MS; the rest at the next start.
 */
#include <glib.h>

#include "store/internal.h"
#include "store/search.h"
#include "store/store.h"
#include "store/writer.h"

/* More than this many jobs in one transaction would make the first one
 * wait for the last; 64 is far above what 2 cores produce between fsyncs. */
#define WRITER_MAX_BATCH 64
/* A batch that lost a race with another host runs again, this often in
 * all, before its jobs fail. */
#define WRITER_MAX_RUNS 3
/* The search index: rows per table and transaction, how long the writer
 * must be idle, how far behind it may fall, how long a stop may take. */
#define FTS_BATCH 128
#define FTS_IDLE_MS 100
#define FTS_LAG 1024
#define FTS_STOP_MS 2000
/* After an index run failed (the disk full, a lock held elsewhere), the
 * jobs come first for this long: each try may wait busy_timeout. */
#define FTS_RETRY_MS 5000

struct writer_req {
    store_job_fn fn;
    void *job;
    bool ok;
    bool done;
    GError *error;
    GMutex lock;
    GCond cond;
};

struct store_writer {
    struct store *st;
    GAsyncQueue *queue;
    GThread *thread;
    /* Writer thread only: whether committed rows may wait for the search
     * index (true at start: a crash or a bulk load may have left some),
     * and how many jobs have committed since it was brought up to date. */
    bool fts_behind;
    guint fts_jobs;
    gint64 fts_not_before; /* monotonic; 0: now */
};

/* Queued by store_writer_free() to tell the thread to finish. */
static struct writer_req writer_stop;

static void
writer_finish(struct writer_req *req, bool ok, const GError *error)
{
    g_mutex_lock(&req->lock);
    req->ok = ok;
    if (!ok && req->error == NULL && error != NULL)
        req->error = g_error_copy(error);
    req->done = true;
    g_cond_signal(&req->cond);
    g_mutex_unlock(&req->lock);
}

/* Runs one job in its savepoint. Returns false when the job failed.  A
 * job that lost a unique key to another writer (STORE_ERROR_CONFLICT:
 * another host stored the same message first) runs once more in a fresh
 * savepoint: it then finds what the other stored, and decides again (the
 * same message is a duplicate), rather than failing with a 451. */
static bool
writer_run_job(struct store_writer *w, struct writer_req *req)
{
    struct db *db = w->st->db;

    for (int run = 1;; run++) {
        GError *error = NULL;

        if (!db_savepoint(db, "job", &error)) {
            req->error = error;
            return false;
        }
        if (req->fn(w->st, req->job, &error) && db_release(db, "job", &error))
            return true;
        if (db_in_transaction(db))
            db_rollback_to(db, "job");
        if (run == 1 && db_in_transaction(db) &&
            g_error_matches(error, STORE_ERROR, STORE_ERROR_CONFLICT)) {
            g_error_free(error);
            continue;
        }
        req->error = error;
        return false;
    }
}

static void
writer_fail_all(struct writer_req **batch, guint n, const GError *error)
{
    for (guint i = 0; i < n; i++)
        writer_finish(batch[i], false, error);
}

enum batch_result {
    BATCH_DONE,
    BATCH_FAILED,
    BATCH_RETRY
};

/* One run of the batch in one transaction.  BATCH_RETRY: the transaction
 * lost a race (STORE_ERROR_RETRY: a serialization failure or deadlock on
 * PostgreSQL) and was rolled back; nothing of it is done, and it may run
 * again from its start.  Otherwise every job is finished. */
static enum batch_result
writer_try_batch(struct store_writer *w, struct writer_req **batch, guint n, bool last_run)
{
    g_autoptr(GError) error = NULL;
    bool ok[WRITER_MAX_BATCH] = { false };
    guint i;

    for (i = 0; i < n; i++)
        g_clear_error(&batch[i]->error);
    if (!store_begin(w->st, &error)) {
        writer_fail_all(batch, n, error);
        return BATCH_FAILED;
    }
    for (i = 0; i < n; i++) {
        ok[i] = writer_run_job(w, batch[i]);
        if (!ok[i] && !last_run &&
            g_error_matches(batch[i]->error, STORE_ERROR, STORE_ERROR_RETRY)) {
            store_rollback(w->st);
            return BATCH_RETRY;
        }
        if (!ok[i] && !db_in_transaction(w->st->db)) {
            /* The transaction is gone, and with it the jobs before this one:
             * they all fail as this one did (a full disk stays a full disk
             * in what the clients hear). */
            if (batch[i]->error != NULL)
                error = g_error_copy(batch[i]->error);
            else
                g_set_error(&error, STORE_ERROR, STORE_ERROR_FAILED, "transaction rolled back");
            writer_fail_all(batch, n, error);
            return BATCH_FAILED;
        }
    }
    if (!store_commit(w->st, &error)) {
        if (!last_run && g_error_matches(error, STORE_ERROR, STORE_ERROR_RETRY))
            return BATCH_RETRY;
        writer_fail_all(batch, n, error);
        return BATCH_FAILED;
    }
    for (i = 0; i < n; i++)
        writer_finish(batch[i], ok[i], NULL);
    return BATCH_DONE;
}

/* Runs the batch, again from its start when it lost a race, at most
 * WRITER_MAX_RUNS times; then its jobs fail with that error (a 451). */
static void
writer_run_batch(struct store_writer *w, struct writer_req **batch, guint n)
{
    for (int run = 1; writer_try_batch(w, batch, n, run == WRITER_MAX_RUNS) == BATCH_RETRY; run++)
        continue;
}

enum index_result {
    INDEX_DONE,
    INDEX_MORE,
    INDEX_FAILED
};

/* One index transaction of at most FTS_BATCH rows a table. */
static enum index_result
writer_index_once(struct store_writer *w)
{
    g_autoptr(GError) error = NULL;
    bool more = false;

    if (!store_begin(w->st, &error))
        return INDEX_FAILED;
    if (!store_fts_index(w->st, FTS_BATCH, &more, &error)) {
        store_rollback(w->st);
        return INDEX_FAILED;
    }
    if (!store_commit(w->st, &error))
        return INDEX_FAILED;
    return more ? INDEX_MORE : INDEX_DONE;
}

/* Brings the search index up to date while no job waits; with FORCE, one
 * batch of it whatever waits; with UNTIL > 0, until that monotonic time
 * whatever waits.  A failure ends it: the next idle moment tries again. */
static void
writer_index(struct store_writer *w, bool force, gint64 until)
{
    if (until == 0 && g_get_monotonic_time() < w->fts_not_before)
        return;
    for (;;) {
        enum index_result r = writer_index_once(w);

        if (r == INDEX_DONE) {
            w->fts_behind = false;
            w->fts_jobs = 0;
            return;
        }
        if (r == INDEX_FAILED) {
            w->fts_not_before = g_get_monotonic_time() + FTS_RETRY_MS * 1000;
            return;
        }
        w->fts_jobs = w->fts_jobs > FTS_BATCH ? w->fts_jobs - FTS_BATCH : 0;
        if (force)
            return;
        if (until > 0 ? g_get_monotonic_time() >= until : g_async_queue_length(w->queue) > 0)
            return;
    }
}

static gpointer
writer_main(gpointer data)
{
    struct store_writer *w = data;
    struct writer_req *batch[WRITER_MAX_BATCH];

    w->fts_behind = true;
    for (;;) {
        gint64 idle = MAX(FTS_IDLE_MS * 1000, w->fts_not_before - g_get_monotonic_time());
        struct writer_req *req =
            w->fts_behind ? g_async_queue_timeout_pop(w->queue, idle) : g_async_queue_pop(w->queue);
        bool stopping = false;
        guint n = 0;

        if (req == NULL) {
            writer_index(w, false, 0);
            continue;
        }
        if (req == &writer_stop)
            break;
        batch[n++] = req;
        while (n < WRITER_MAX_BATCH && (req = g_async_queue_try_pop(w->queue)) != NULL) {
            if (req == &writer_stop) {
                stopping = true;
                break;
            }
            batch[n++] = req;
        }
        writer_run_batch(w, batch, n);
        w->fts_behind = true;
        w->fts_jobs += n;
        if (stopping)
            break;
        if (w->fts_jobs >= FTS_LAG)
            writer_index(w, true, 0);
        else if (w->fts_jobs >= FTS_BATCH && g_async_queue_length(w->queue) <= 0)
            writer_index(w, false, 0);
    }
    if (w->fts_behind)
        writer_index(w, false, g_get_monotonic_time() + FTS_STOP_MS * 1000);
    return NULL;
}

struct store_writer *
store_writer_new(struct store *st)
{
    struct store_writer *w = g_new0(struct store_writer, 1);

    w->st = st;
    w->queue = g_async_queue_new();
    w->thread = g_thread_new("store-writer", writer_main, w);
    return w;
}

bool
store_writer_run(struct store_writer *w, store_job_fn fn, void *job, GError **error)
{
    struct writer_req req = { .fn = fn, .job = job };
    bool ok;

    g_mutex_init(&req.lock);
    g_cond_init(&req.cond);
    g_async_queue_push(w->queue, &req);
    g_mutex_lock(&req.lock);
    while (!req.done)
        g_cond_wait(&req.cond, &req.lock);
    g_mutex_unlock(&req.lock);
    ok = req.ok;
    if (!ok) {
        if (req.error != NULL)
            g_propagate_error(error, req.error);
        else
            g_set_error(error, STORE_ERROR, STORE_ERROR_FAILED, "job failed");
    } else {
        g_clear_error(&req.error);
    }
    g_mutex_clear(&req.lock);
    g_cond_clear(&req.cond);
    return ok;
}

struct store_writer *
store_writer_free(struct store_writer *w)
{
    if (w == NULL)
        return NULL;
    g_async_queue_push(w->queue, &writer_stop);
    g_thread_join(w->thread);
    g_async_queue_unref(w->queue);
    store_close(w->st);
    g_free(w);
    return NULL;
}

guint
store_writer_queued(struct store_writer *w)
{
    /* Negative while the thread waits for work: nothing is queued then. */
    gint n = g_async_queue_length(w->queue);

    return n > 0 ? (guint)n : 0;
}
