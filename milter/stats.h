/*
 * stats - what the daemon counts, and where it publishes the counts.
 *
 * Milter threads bump counters with stats_count() and friends: a relaxed
 * atomic add for the fixed counters, a short lock for counters by reason.
 * A thread of its own wakes every metrics_interval seconds, writes the
 * Prometheus text file (node_exporter's textfile collector) and adds what
 * changed since the last flush to the database's counters table, where
 * ticketctl stats reads the totals across restarts.
 *
 * A flush that fails (the database is locked, full or gone: the very cases
 * that make us tempfail) leaves the deltas in memory for the next one, so
 * the tempfails a broken database causes are still counted once it works.
 */
#ifndef TM_MILTER_STATS_H
#define TM_MILTER_STATS_H

#include <stdbool.h>

#include <glib.h>

#include "config/config.h"
#include "milter/ingest.h"

/* The verdict a support message got. */
enum stat_verdict {
    STAT_ACCEPT,
    STAT_TEMPFAIL,
    STAT_REJECT,
};

/* One message got VERDICT; REASON ("database-busy", "too-big") names the
 * counter for tempfails and rejects, and for an accept that passed the
 * message on without a ticket (NULL for one that was ticketed).  Reasons
 * are folded to [a-z0-9-] and capped in number; the rest count as "other". */
void stats_count(enum stat_verdict verdict, const char *reason);
/* A message accepted after its commit: counts the accept and what the job
 * did (ticket created, customer follow-up, staff reply). */
void stats_count_job(const struct ingest_job *job);
/* The commit of a message that was handed to the writer at STARTED is done. */
void stats_commit_done(GDateTime *started);
/* The reason name for a tempfail caused by a store error ("database-busy"). */
const char *stats_store_reason(const GError *error);

/* Starts the publishing thread with CFG (a reference is taken); it does
 * nothing but keep counting when neither metrics_file nor a database is set. */
void stats_start(struct config *cfg);
/* For the next interval on (SIGUSR1); the file and interval may change. */
void stats_set_config(struct config *cfg);
/* Publishes once more, with everything counted so far, and stops the thread. */
void stats_stop(void);

/* What the metrics read from the database at each interval; a negative
 * value is one the read failed for, and is left out. */
struct stats_gauges {
    gint64 outbox;         /* pending outbox rows */
    gint64 open_tickets;   /* open or pending */
    gint64 overdue[5];     /* [1..4]: open tickets with a deadline passed, by severity */
    gint64 oldest_pending; /* seconds the oldest pending outbox row has waited; 0: none */
    gint64 last_backup;    /* Unix time of the last verified backup; 0: never */
    GHashTable *sla;       /* "TYPE GOAL SEVERITY" -> gint64*: SLA events ever; NULL: unknown */
};

/* Renders the Prometheus text exposition of the counters and G (NULL: no
 * gauge could be read).  For the thread and the tests. */
char *stats_render(const struct stats_gauges *g);

#endif
