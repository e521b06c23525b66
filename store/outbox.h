/*
 * store/outbox.h - mail and webhooks to send, written in the same
 * transaction as the decision that made them, and what became of each
 * delivery attempt.
 *
 * The outbox survives restarts and relay outages: the dispatcher
 * (outbound/dispatch.c) claims the due rows, sends them and marks them.
 *
 * Claims: several daemons may share one database (PostgreSQL, one per MX
 * host).  A daemon claims a row before sending it, for a lease: until the
 * lease runs out no other claims it; a daemon that died holds its rows
 * only that long.  Only the claimant records the outcome; an outcome that
 * comes after the lease ran out and another daemon claimed the row is not
 * recorded (*RECORDED false): the row was sent at least once, as a crash
 * between sending and marking would also have it.
 * Errors are STORE_ERROR (store/store.h).
 */
#ifndef TM_STORE_OUTBOX_H
#define TM_STORE_OUTBOX_H

#include <stdbool.h>

#include <glib.h>

#include "store/store.h"

struct store_new_outbox {
    gint64 ticket_id;              /* 0 when about no ticket */
    const char *kind;              /* "ack" (counted for ack_limit), "notice", "webhook" */
    const char *template_name;     /* which template made it, NULL for webhooks */
    const char *transport;         /* "smtp" or "webhook" */
    const char *mail_from;         /* envelope sender; "" is the null sender <> */
    const char *const *recipients; /* NULL-terminated: addresses, or the webhook URL */
    const char *message_id;        /* of the rendered mail, NULL for webhooks */
    const char *body;              /* the whole message (RFC 5322) or the JSON */
    const char *created_at;        /* when it was decided (ticketctl tick --now may say when) */
    const char *send_at;           /* first attempt; NULL: at once */
    const char *ack_key;           /* kind "ack": the mailbox ack_limit counts (router_ack_key) */
};

/* Inside a transaction; *ID (may be NULL) is the new row's id. */
bool store_outbox_insert(struct store *st, const struct store_new_outbox *o, gint64 *id,
                         GError **error);
/* How many acknowledgements went to the mailbox ACK_KEY (router_ack_key)
 * since SINCE (any status).  A caller that inserts one on the strength of
 * this count takes store_lock_key(st, "ack", ACK_KEY) first, and
 * store_lock_key(st, "not-contact", "all") before the count below: the
 * limit then holds for every daemon on the database (store/outbox.c). */
bool store_outbox_acks_since(struct store *st, const char *ack_key, const char *since,
                             gint64 *count, GError **error);
/* How many not-contact replies went to anyone since SINCE. */
bool store_outbox_not_contacts_since(struct store *st, const char *since, gint64 *count,
                                     GError **error);
/* The ticket of a message we sent (the outbox only) with MESSAGE_ID; 0 when none. */
bool store_outbox_ticket_by_message_id(struct store *st, const char *message_id, gint64 *ticket_id,
                                       GError **error);

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

struct outbox_row *store_outbox_row_free(struct outbox_row *r);

/* A name for this process's claims: host, pid and a random part (a
 * daemon restarted with the pid of one that died is not taken for it).
 * At most STORE_CLAIMANT_MAX bytes. */
#define STORE_CLAIMANT_MAX 128
char *store_outbox_claimant(void);
/* Inside a write transaction: claims for CLAIMANT until LEASE_UNTIL at
 * most LIMIT pending rows of TRANSPORT ("smtp", "webhook") due at NOW that
 * nobody holds (never claimed, or the lease ran out by NOW); returns them,
 * struct outbox_row*, in due order.  On PostgreSQL rows another
 * transaction is claiming are skipped (FOR UPDATE SKIP LOCKED): two hosts
 * claiming at once get disjoint rows, and neither waits.  On SQLite the
 * write lock does that.  The claim holds once the transaction commits. */
GPtrArray *store_outbox_claim(struct store *st, const char *now, const char *transport, guint limit,
                              const char *claimant, const char *lease_until, GError **error);
/* Rows about TICKET_ID (all statuses), oldest first. */
GPtrArray *store_outbox_for_ticket(struct store *st, gint64 ticket_id, GError **error);
/* When a pending row of TRANSPORT (NULL: any) is next to be claimed: the
 * earliest next_attempt_at, or the end of the lease of a row claimed past
 * it; *WHEN NULL when none. */
bool store_outbox_next_due(struct store *st, const char *transport, char **when, GError **error);
/* The outcomes of an attempt on row ID, recorded only while CLAIMANT holds
 * its claim: *RECORDED says whether it was (false: the lease ran out and
 * another daemon claimed the row).  A sent or failed row keeps the name of
 * its claimant; a row to retry is let go, for anyone at NEXT_AT.
 * SENT_US: when the relay accepted it (g_get_real_time()). */
bool store_outbox_mark_sent(struct store *st, gint64 id, const char *claimant, const char *at,
                            gint64 sent_us, bool *recorded, GError **error);
bool store_outbox_mark_retry(struct store *st, gint64 id, const char *claimant, const char *next_at,
                             const char *last_error, bool *recorded, GError **error);
bool store_outbox_mark_failed(struct store *st, gint64 id, const char *claimant, const char *at,
                              const char *last_error, bool *recorded, GError **error);
/* Pending rows (the outbox depth). */
bool store_outbox_pending(struct store *st, gint64 *count, GError **error);

#endif
