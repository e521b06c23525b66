/*
 * admin - the database side of ticketctl's admin commands: statistics,
 * customers, full-text search, export, purge, and backup, verify, restore.
 *
 * An admin handle is a connection of its own, apart from the daemon's
 * writer: reads run in one read transaction each (a consistent snapshot
 * while the daemon writes, thanks to WAL); writes (purge) commit in small
 * batches with BEGIN IMMEDIATE and a busy timeout, so the daemon never waits
 * long for the write lock.
 *
 * Errors are STORE_ERROR with a sentence that names the file.
 */
#ifndef TM_STORE_ADMIN_H
#define TM_STORE_ADMIN_H

#include <stdbool.h>
#include <sys/types.h>

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
    gint64 tickets_open;  /* open or pending */
    gint64 acks_sent;
    gint64 acks_failed;
    gint64 acks_pending;
    gint64 sla_warnings;
    gint64 sla_breaches;
    gint64 outbox_depth;  /* pending rows of any kind */
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
    char *name;           /* NULL: senders that matched no customer */
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

/* ---- search ---- */

struct admin_hit {
    gint64 ticket_id;
    char *tag;
    char *status;
    char *subject;
    char *snippet; /* the best matching words in context, matches in [ ] */
};

/* TEXT is what the admin typed: every word must occur somewhere in the
 * ticket, in its subject or in any of its messages, not necessarily in the
 * same one (a trailing '*' makes a word a prefix); FTS5 syntax in TEXT is
 * taken literally. Best first. At most ADMIN_SEARCH_MAX_WORDS words. */
GPtrArray *admin_search(struct admin *a, const char *text, guint limit, GError **error);
#define ADMIN_SEARCH_MAX_WORDS 16
/* The FTS5 query for TEXT; NULL when TEXT has no words. */
char *admin_search_query(const char *text);

/* ---- export ---- */

struct admin_message {
    gint64 id;
    char *message_id;
    char *direction;
    char *kind;
    char *from;
    char *to;
    char *cc;
    char *subject;
    char *in_reply_to;
    char *references;
    char *text;
    char *received_at;
    char *queue_id;
    char *envelope_from;
    char *client_addr;
    gint64 raw_size; /* -1: purged */
};

/* Called once per ticket with its messages (struct admin_message*) and events
 * (struct ticket_event*); all owned by the caller of the callback. */
typedef bool (*admin_export_fn)(const struct ticket *t, GPtrArray *messages, GPtrArray *events,
                                void *data, GError **error);

/* Every ticket (ID 0) or ticket ID, in one consistent snapshot.
 * *COUNT is how many tickets were passed to FN. */
bool admin_export(struct admin *a, gint64 id, admin_export_fn fn, void *data, guint *count,
                  GError **error);

/* ---- retention ---- */

struct admin_purge_result {
    guint tickets;
    guint messages;
    guint attachments;
    gint64 bytes;
};

/* Removes the raw messages of closed tickets last updated before BEFORE
 * (ISO 8601 UTC), keeps everything else, and records a "purged" event by
 * ACTOR at AT on each ticket it changed. The attachments' bytes are in the
 * raw message and go with it; ATTACHMENTS counts them, from the JSON list
 * of each purged message (messages.attachments), which is kept as the
 * record of what was attached (name, type, size, hash). */
bool admin_purge(struct admin *a, const char *before, const char *at, const char *actor,
                 struct admin_purge_result *out, GError **error);

/* ---- backups ---- */

struct admin_table_count {
    char *table;
    gint64 rows;
};

struct admin_backup {
    char *path;       /* the verified copy */
    GPtrArray *counts; /* struct admin_table_count*, by table name */
    gint64 bytes;
    gint64 copy_us;   /* the online copy, read transaction included */
    gint64 verify_us;
};

/* Copies DB_PATH into DIR as tickets-YYYYMMDDTHHMMSSZ.db (UTC time NOW) with
 * SQLite's online backup while other connections write, then verifies it:
 * integrity_check, and every table's row count equal to the source's in
 * the snapshot that was copied. Nothing is left in DIR on failure. */
bool admin_backup_run(const char *db_path, const char *dir, GDateTime *now, guint busy_timeout_ms,
                      struct admin_backup *out, GError **error);
void admin_backup_clear(struct admin_backup *b);

struct admin_retention {
    guint daily;   /* the newest backup of each of the last N days with one */
    guint weekly;  /* ... of N ISO weeks */
    guint monthly; /* ... of N months */
};

#define ADMIN_RETENTION_DEFAULT { 7, 5, 13 }

/* The time a backup file name stands for; NULL when NAME is not ours.
 * Names to the minute (tickets-YYYYMMDDTHHMMZ.db, written by older
 * versions) are read too, as that minute's second 0. */
GDateTime *admin_backup_name_time(const char *name);
/* Of NAMES (backup file names), those the retention rule R does not keep,
 * newest first. The newest backup is always kept, and so is KEEP (the
 * name of the backup just made; NULL: none). */
GPtrArray *admin_retention_drop(GPtrArray *names, const struct admin_retention *r,
                                const char *keep);
/* Removes from DIR the backups R does not keep, never KEEP (a file name in
 * DIR, or NULL); returns their names. */
GPtrArray *admin_prune(const char *dir, const struct admin_retention *r, const char *keep,
                       GError **error);

struct admin_verify {
    int schema_version;
    int known_version; /* what this build writes */
    gint64 tickets;
    gint64 messages;
};

/* True when FILE is a sound ticket database this build can use:
 * integrity_check says ok and its schema is not newer than ours. */
bool admin_verify_file(const char *file, struct admin_verify *out, GError **error);

/* The pid of a process that has DB_PATH open (SQLite's WAL lock), 0 when
 * none. It sees other processes only, which is what restore needs. */
pid_t admin_database_holder(const char *db_path);

/* Replaces DB_PATH by FILE (verified first), after saving the current
 * database next to it as DB_PATH.before-restore-STAMP (a name no earlier
 * restore used); *SAVED names that copy (NULL when there was no database),
 * also when the restore fails after saving it. FILE is copied into a new
 * file in DB_PATH's directory, checked, and renamed over DB_PATH, so page
 * size and journal mode of the two never meet. The caller has made sure
 * nobody uses DB_PATH. */
bool admin_restore(const char *file, const char *db_path, GDateTime *now, char **saved,
                   GError **error);

#endif
