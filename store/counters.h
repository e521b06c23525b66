/*
 * counters - the daemon's statistics in the database: the counters table
 * (totals across restarts) and the two gauges the metrics need (outbox
 * depth, open tickets).
 *
 * It keeps a connection of its own, used by one thread (the statistics
 * thread), so that reading the gauges never queues behind mail in the
 * writer thread.  Its write transaction is a handful of upserts every
 * metrics_interval seconds; the writer waits for it at most that long.
 */
#ifndef TM_STORE_COUNTERS_H
#define TM_STORE_COUNTERS_H

#include <stdbool.h>

#include <glib.h>

struct store_counters;

/* Opens PATH, which ticket-milter has created and migrated. NULL and ERROR
 * (STORE_ERROR) when it cannot be used. */
struct store_counters *store_counters_open(const char *path, guint busy_timeout_ms,
                                           GError **error);
/* Closes C (NULL is fine). Returns NULL. */
struct store_counters *store_counters_close(struct store_counters *c);

/* In one transaction: adds each DELTAS value (name -> gint64*, names as in
 * the table) to its row, and sets each SETS value (name -> gint64*); either
 * may be NULL.  All or nothing: false and ERROR leave the table as it was. */
bool store_counters_flush(struct store_counters *c, GHashTable *deltas, GHashTable *sets,
                          GError **error);

/* Pending outbox rows and tickets that are open or pending. */
bool store_counters_gauges(struct store_counters *c, gint64 *outbox, gint64 *open_tickets,
                           GError **error);

/* The value of counter NAME; 0 when there is no such row. */
bool store_counters_get(struct store_counters *c, const char *name, gint64 *value,
                        GError **error);

#endif
