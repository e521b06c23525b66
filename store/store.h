/*
 * store - everything ticket-milter keeps, in one SQLite database.
 *
 * The only module that speaks SQL.  It owns the schema and its migrations,
 * the queries (all prepared statements), and the writer thread: one
 * connection that makes every change, so the daemon never fights itself for
 * the write lock and several messages that arrive together share one commit
 * (group commit), one fsync.
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

#include "router/ticket.h"

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

/* Opens PATH. Returns NULL and sets ERROR when the database cannot be used. */
struct store *store_open(const char *path, enum store_mode mode, guint busy_timeout_ms,
                         GError **error);
/* Closes ST (NULL is fine). Returns NULL. */
struct store *store_close(struct store *st);

/* Explicit transactions for single-threaded users (ticketctl, tests). */
bool store_begin(struct store *st, GError **error); /* BEGIN IMMEDIATE */
bool store_commit(struct store *st, GError **error);
void store_rollback(struct store *st);

/* ---- writing (inside a transaction) ---- */

/* Inserts T (its id and tag are ignored) with tag PREFIX-ID for good;
 * *ID is the new ticket's number. */
bool store_ticket_insert(struct store *st, const struct ticket *t, const char *prefix, gint64 *id,
                         GError **error);

struct store_new_message {
    gint64 ticket_id;
    const char *dedup_key;   /* unique: the Message-ID, or "sha256:DIGEST" without one */
    const char *message_id;  /* NULL when the message had none */
    const char *digest;
    const char *direction;   /* "in" or "out" */
    const char *kind;        /* customer, staff, untrusted-staff, internal, auto, bounce, unknown */
    const char *from;
    const char *to;          /* comma-separated addresses */
    const char *cc;
    const char *subject;
    const char *in_reply_to;
    const char *references;  /* space-separated msg-ids */
    const char *text;
    const void *raw;
    gsize raw_len;
    const char *received_at;
    const char *queue_id;    /* Postfix queue id, NULL when unknown */
    const char *envelope_from;
    const char *client_addr;
    const char *reply_text;  /* the new part of a reply; NULL: same as text */
    const char *attachments; /* JSON array; NULL when none */
};

bool store_message_insert(struct store *st, const struct store_new_message *m, gint64 *id,
                          GError **error);

/* Looks up DEDUP_KEY. Returns false only on a database error; *FOUND says
 * whether it exists, and then *TICKET_ID and *DIGEST (caller frees) are set. */
bool store_message_find(struct store *st, const char *dedup_key, bool *found, gint64 *ticket_id,
                        char **digest, GError **error);

/* The ticket of a message we stored or sent with MESSAGE_ID; 0 when none. */
bool store_ticket_by_message_id(struct store *st, const char *message_id, gint64 *ticket_id,
                                GError **error);
/* The ticket of a message we sent (the outbox only) with MESSAGE_ID; 0 when none. */
bool store_outbox_ticket_by_message_id(struct store *st, const char *message_id,
                                       gint64 *ticket_id, GError **error);
/* Message INDEX (0: the first, in the order ticketctl show lists them) of
 * ticket TICKET_ID as it arrived, byte for byte: *FOUND says whether the
 * ticket has such a message, *RAW is NULL when its bytes were purged. */
bool store_message_raw(struct store *st, gint64 ticket_id, guint index, bool *found,
                       GBytes **raw, GError **error);
/* The distinct subjects of the mail already on ticket ID, at most LIMIT,
 * NULL-terminated (caller frees with g_strfreev). NULL and ERROR on failure. */
char **store_ticket_subjects(struct store *st, gint64 id, guint limit, GError **error);

/* A bounce that names no mail of ours: kept apart, on no ticket, so that
 * nothing is lost and no customer's ticket gets it. */
struct store_unattached {
    const char *dedup_key;
    const char *message_id;
    const char *digest;
    const char *kind;
    const char *from;
    const char *envelope_from;
    const char *subject;
    const void *raw;
    gsize raw_len;
    const char *received_at;
    const char *queue_id;
    const char *client_addr;
    const char *reason;
};
bool store_unattached_insert(struct store *st, const struct store_unattached *u, GError **error);
/* Marks ticket ID as changed at AT. */
bool store_ticket_touch(struct store *st, gint64 id, const char *at, GError **error);

/* DETAIL_JSON may be NULL. */
bool store_event_insert(struct store *st, gint64 ticket_id, const char *at, const char *type,
                        const char *actor, const char *detail_json, GError **error);

struct ticket;

/* ---- the outbox: mail and webhooks to send, written with the decision ---- */

struct store_new_outbox {
    gint64 ticket_id;          /* 0 when about no ticket */
    const char *kind;          /* "ack" (counted for ack_limit), "notice", "webhook" */
    const char *template_name; /* which template made it, NULL for webhooks */
    const char *transport;     /* "smtp" or "webhook" */
    const char *mail_from;     /* envelope sender; "" is the null sender <> */
    const char *const *recipients; /* NULL-terminated: addresses, or the webhook URL */
    const char *message_id;    /* of the rendered mail, NULL for webhooks */
    const char *body;          /* the whole message (RFC 5322) or the JSON */
    const char *created_at;    /* when it was decided (ticketctl tick --now may say when) */
    const char *send_at;       /* first attempt; NULL: at once */
};

bool store_outbox_insert(struct store *st, const struct store_new_outbox *o, gint64 *id,
                         GError **error);
/* How many rows of KIND went to RECIPIENT (alone: a normalised address)
 * since SINCE (any status). */
bool store_outbox_count_since(struct store *st, const char *kind, const char *recipient,
                              const char *since, gint64 *count, GError **error);

struct outbox_row {
    gint64 id;
    gint64 ticket_id;
    char *kind;
    char *template_name;
    char *transport;
    char *mail_from;
    char **recipients; /* NULL-terminated */
    char *message_id;
    char *body;
    int attempts;
    char *status; /* pending, sent, failed */
    char *created_at;
    char *next_attempt_at;
    char *sent_at;
    char *last_error;
};

/* Pending rows due at NOW, of TRANSPORT ("smtp", "webhook"; NULL: any). */
GPtrArray *store_outbox_due(struct store *st, const char *now, const char *transport, guint limit,
                            GError **error);
/* Rows about TICKET_ID (all statuses), oldest first. */
GPtrArray *store_outbox_for_ticket(struct store *st, gint64 ticket_id, GError **error);
/* The earliest next_attempt_at of a pending row; *WHEN NULL when none. */
bool store_outbox_next_due(struct store *st, const char *transport, char **when, GError **error);
/* SENT_US: when the relay accepted it (g_get_real_time()). */
bool store_outbox_mark_sent(struct store *st, gint64 id, const char *at, gint64 sent_us,
                            GError **error);
bool store_outbox_mark_retry(struct store *st, gint64 id, const char *next_at,
                             const char *last_error, GError **error);
bool store_outbox_mark_failed(struct store *st, gint64 id, const char *at,
                              const char *last_error, GError **error);
/* Pending rows (the outbox depth). */
bool store_outbox_pending(struct store *st, gint64 *count, GError **error);

/* Small named values. *VALUE is NULL when KEY is not set.  (Versions
 * before secret_file kept the signing secret here, as "secret".) */
bool store_meta_get(struct store *st, const char *key, char **value, GError **error);
bool store_meta_set(struct store *st, const char *key, const char *value, GError **error);
bool store_meta_delete(struct store *st, const char *key, GError **error);

/* ---- clocks and timers ---- */

/* Writes the changeable fields of T (status, severity, stage, customer,
 * requester, plan, zone, language, assignee, clocks, deadlines, resolved
 * and paused state) and updated_at = AT. */
bool store_ticket_update(struct store *st, const struct ticket *t, const char *at,
                         GError **error);
struct timer {
    gint64 id;
    gint64 ticket_id;
    char *kind;   /* response-warning, response-breach, ..., stage */
    char *due_at;
};

/* Sets (or moves, and re-arms) the timer KIND of a ticket. */
bool store_timer_set(struct store *st, gint64 ticket_id, const char *kind, const char *due_at,
                     GError **error);
/* Takes the timer KIND of a ticket away (nothing when it has none). */
bool store_timer_clear(struct store *st, gint64 ticket_id, const char *kind, GError **error);
/* Unfired timers due at NOW, in due order. */
GPtrArray *store_timers_due(struct store *st, const char *now, guint limit, GError **error);
/* The earliest unfired timer; *WHEN NULL when none. */
bool store_timer_next(struct store *st, char **when, GError **error);
bool store_timer_fired(struct store *st, gint64 id, const char *at, GError **error);
/* Tickets with status open or pending, oldest first. */
GPtrArray *store_ticket_list_open(struct store *st, GError **error);

/* ---- reading ---- */

struct ticket_message {
    gint64 id;
    char *message_id; /* NULL when the message had none */
    char *direction;
    char *kind;
    char *from;
    char *subject;
    char *received_at;
    char *queue_id;   /* NULL when unknown */
};

struct ticket_event {
    gint64 id;
    char *at;
    char *type;
    char *actor;  /* NULL when none */
    char *detail; /* JSON text, NULL when none */
};

/* Each returns a GPtrArray that frees its elements; NULL and ERROR on failure. */
GPtrArray *store_ticket_list(struct store *st, GError **error);
GPtrArray *store_ticket_messages(struct store *st, gint64 ticket_id, GError **error);
GPtrArray *store_ticket_events(struct store *st, gint64 ticket_id, GError **error);
/* Returns NULL without ERROR when there is no such ticket (free with ticket_free). */
struct ticket *store_ticket_get(struct store *st, gint64 id, GError **error);
/* The same by tag ("TKT-42", any case). */
struct ticket *store_ticket_get_by_tag(struct store *st, const char *tag, GError **error);

struct outbox_row *store_outbox_row_free(struct outbox_row *r);

/* ---- the search index ---- */

/* Adds the tickets and messages written since the last call to the
 * full-text index ticketctl search reads, at most LIMIT (> 0) of each, in
 * the caller's transaction.  *MORE says whether rows are left for another
 * call.  The daemon's writer calls it when it is idle (store/writer.c);
 * until then a new row is stored but not found by a search. */
bool store_fts_index(struct store *st, guint limit, bool *more, GError **error);

/* ---- the writer thread ---- */

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
