/*
 * store/writer.h - the one thread that writes to the daemon's database:
 * milter threads hand it jobs and wait for their commit (group commit:
 * the jobs that queue up during one fsync share the next).
 *
 * A job is reported done only after COMMIT returned; every failure comes
 * back as a STORE_ERROR (store/store.h) the caller turns into "451 4.3.0",
 * so that a message is never accepted without being stored.
 */
#ifndef TM_STORE_WRITER_H
#define TM_STORE_WRITER_H

#include <stdbool.h>

#include <glib.h>

#include "store/store.h"

/* Runs inside the writer's transaction, in a savepoint of its own: returning
 * false (with ERROR) undoes this job's changes only. */
typedef bool (*store_job_fn)(struct store *st, void *job, GError **error);

struct store_writer;

/* Starts the writer thread on ST, which it owns from now on. */
struct store_writer *store_writer_new(struct store *st);
/* Runs FN(JOB) in the next commit and waits for it. True only when the job
 * succeeded and its transaction is committed; otherwise ERROR says why. */
bool store_writer_run(struct store_writer *w, store_job_fn fn, void *job, GError **error);
/* Finishes the queued jobs, stops the thread, closes the store. Returns NULL. */
struct store_writer *store_writer_free(struct store_writer *w);
/* How many jobs wait for the writer's next batch (not the one it runs):
 * a test waits on it to know that jobs were queued together. */
guint store_writer_queued(struct store_writer *w);

#endif
