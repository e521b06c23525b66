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

#include "store/meta.h"

struct store_counters;

/* Opens PATH, which ticket-milter has created and migrated. NULL and ERROR
 * (STORE_ERROR) when it cannot be used. */
struct store_counters *store_counters_open(const char *path, guint busy_timeout_ms, GError **error);
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

/* The SLA warnings and breaches recorded after event *LAST_ID (0: from the
 * start): each adds 1 to TOTALS under "TYPE GOAL SEVERITY" (for example
 * "sla-breach response 2"; name -> gint64*, made when missing), severity
 * as the event says or else the ticket's; *LAST_ID moves to the newest
 * event seen.  Only the rows after *LAST_ID are read (by rowid), so a
 * caller that keeps its totals reads each event once. */
bool store_counters_sla_events(struct store_counters *c, gint64 *last_id, GHashTable *totals,
                               GError **error);

/* Open tickets (status open) with a running deadline before NOW (ISO 8601
 * UTC): a response or resolution not met in time, or an update owed; by
 * severity, OVERDUE[1..4]. */
bool store_counters_overdue(struct store_counters *c, const char *now, gint64 overdue[5],
                            GError **error);

/* When the oldest pending outbox row was queued (Unix seconds); 0 when
 * the outbox has nothing pending. */
bool store_counters_oldest_pending(struct store_counters *c, gint64 *queued_at, GError **error);

/* When ticketctl backup last wrote and verified a copy (Unix seconds, the
 * meta row STORE_META_BACKUP_VERIFIED); 0 when never. */
bool store_counters_last_backup(struct store_counters *c, gint64 *at, GError **error);

/* The value of counter NAME; 0 when there is no such row. */
bool store_counters_get(struct store_counters *c, const char *name, gint64 *value, GError **error);

#endif
