/*
 * store - everything ticket-milter keeps, in one database: a connection,
 * its transactions, and the errors of every store call.
 *
 * The only module that speaks SQL (through store/db.h).  The calls of
 * each job have a header of their own: store/tickets.h, messages.h,
 * outbox.h, timers.h, meta.h (the daemon's data), store/writer.h (the one
 * thread that writes it: group commit, one fsync for the messages that
 * arrive together), search.h, export.h, purge.h, backup.h, restore.h,
 * admin.h, report.h, counters.h (ticketctl and the statistics).
 *
 * Durability: WAL, synchronous=FULL, BEGIN IMMEDIATE.  A change is reported
 * done only after COMMIT returned; every failure (busy past the timeout, disk
 * full, read-only, corrupt) comes back as a STORE_ERROR the caller turns into
 * "451 4.3.0", so that a message is never accepted without being stored.
 *
 * Times are ISO 8601 UTC text ("2026-11-24T09:02:55Z").
 */
#ifndef TM_STORE_H
#define TM_STORE_H

#include <stdbool.h>

#include <glib.h>

#define STORE_ERROR (store_error_quark())
GQuark store_error_quark(void);

enum store_error_code {
    STORE_ERROR_BUSY,     /* another process held the lock past busy_timeout */
    STORE_ERROR_FULL,     /* disk or quota full */
    STORE_ERROR_READONLY, /* file or directory not writable */
    STORE_ERROR_CORRUPT,  /* not a database, or damaged */
    STORE_ERROR_VERSION,  /* written by a newer ticket-milter */
    STORE_ERROR_FAILED,   /* anything else */
    /* Added with store/db.h, for several hosts sharing one database: */
    STORE_ERROR_UNAVAILABLE, /* the server cannot be reached, or the connection broke */
    STORE_ERROR_RETRY,       /* the transaction lost a race: run it again from its start */
    STORE_ERROR_CONFLICT,    /* a unique key is taken: another host stored it first */
};

enum store_mode {
    STORE_READ_WRITE, /* creates the file and migrates the schema */
    STORE_READ_ONLY,  /* readers: ticketctl list/show */
};

struct store;

/* Opens PATH (read-write: creates it, and migrates its schema; read-only:
 * it must have the current schema). Returns NULL and sets ERROR when the
 * database cannot be used. */
struct store *store_open(const char *path, enum store_mode mode, guint busy_timeout_ms,
                         GError **error);
/* Closes ST (NULL is fine). Returns NULL. */
struct store *store_close(struct store *st);

/* Explicit transactions for single-threaded users (ticketctl, tests). */
bool store_begin(struct store *st, GError **error); /* BEGIN IMMEDIATE */
bool store_commit(struct store *st, GError **error);
void store_rollback(struct store *st);

/* Inside a transaction (store_begin(), or a job of the writer thread):
 * holds the lock of PURPOSE and KEY until the transaction ends, waiting
 * first while another connection's transaction holds it.  Taken before a
 * count whose result decides an insert (ack_limit: the acknowledgements
 * of one mailbox this hour, then one more), it makes the limit hold for
 * every daemon on the database together: the second one counts after the
 * first committed.  Lock several keys in whatever order; a deadlock
 * between two daemons fails one transaction with STORE_ERROR_RETRY, which
 * the writer runs again from its start (store/writer.h).  A wait longer
 * than the busy timeout is STORE_ERROR_BUSY.  PostgreSQL's advisory lock,
 * nothing on SQLite (one writer at a time already); store/db.h has how. */
bool store_lock_key(struct store *st, const char *purpose, const char *key, GError **error);

#endif
