/*
 * store/admin.h - the admin handle ticketctl's admin commands read and
 * write through, and the smallest of them: statistics, customers, the
 * unattached bounces.  The bigger jobs on the same handle have headers of
 * their own: store/search.h, store/export.h, store/purge.h; backups and
 * restores work on files, not a handle (store/backup.h, store/restore.h).
 *
 * An admin handle is a connection of its own, apart from the daemon's
 * writer: reads run in one read transaction each (a consistent snapshot
 * while the daemon writes, thanks to WAL); writes (purge) commit in small
 * batches with BEGIN IMMEDIATE and a busy timeout, so the daemon never waits
 * long for the write lock.
 *
 * Errors are STORE_ERROR with a sentence that names the database.
 */
#ifndef TM_STORE_ADMIN_H
#define TM_STORE_ADMIN_H

#include <stdbool.h>

#include <glib.h>

#include "store/store.h"

struct admin;

/* Opens PATH, which must exist and have the current schema. */
struct admin *admin_open(const char *path, bool writable, guint busy_timeout_ms, GError **error);
/* Closes A (NULL is fine). Returns NULL. */
struct admin *admin_close(struct admin *a);

/* ---- statistics ---- */

struct admin_stats {
    GHashTable *counters; /* name -> gint64*, every row of the counters table */
    gint64 tickets_total;
    gint64 tickets_open; /* open or pending */
    gint64 acks_sent;
    gint64 acks_failed;
    gint64 acks_pending;
    gint64 sla_warnings;
    gint64 sla_breaches;
    gint64 outbox_depth; /* pending rows of any kind */
    /* Queue-to-relay latency of the most recent ADMIN_LATENCY_SAMPLES sent
     * acknowledgements, in microseconds; -1 when there are none. */
    gint64 ack_latency_p50_us;
    gint64 ack_latency_p99_us;
    gint64 ack_latency_samples;
};

#define ADMIN_LATENCY_SAMPLES 10000

bool admin_stats_read(struct admin *a, struct admin_stats *out, GError **error);
void admin_stats_clear(struct admin_stats *s);
/* The value of counter NAME, 0 when the daemon has not written it. */
gint64 admin_stats_counter(const struct admin_stats *s, const char *name);

/* Nearest-rank percentile P (0 < P <= 100) of the sorted VALUES; -1 when empty. */
gint64 admin_percentile(const gint64 *sorted, gsize n, double p);

/* ---- customers ---- */

struct admin_customer {
    char *name; /* NULL: senders that matched no customer */
    gint64 tickets;
    gint64 open;          /* open or pending */
    gint64 breaches;      /* sla-breach events, ever */
    gint64 open_breached; /* open tickets with at least one breach */
};

/* One row per customer that has tickets, by name, the unknown last. */
GPtrArray *admin_customers(struct admin *a, GError **error);

/* ---- unattached bounces ---- */

struct admin_unattached {
    gint64 id;
    char *received_at;
    char *queue_id;      /* NULL when unknown */
    char *envelope_from; /* "" for the null sender */
    char *from;
    char *subject;
    char *message_id;
    char *reason;
};

/* Mail kept on no ticket (bounces that named no mail of ours), newest
 * first, at most LIMIT. */
GPtrArray *admin_unattached(struct admin *a, guint limit, GError **error);

#endif
