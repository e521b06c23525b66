/*
 * store/messages.h - the mail of the tickets: each message as it arrived
 * (its bytes and what was parsed of it), found again by its deduplication
 * key or its Message-ID, and the bounces kept on no ticket.
 *
 * The writing calls run inside a transaction (store_begin, or a writer
 * job); errors are STORE_ERROR (store/store.h).  A dedup_key is unique in
 * the database: storing one twice is STORE_ERROR_CONFLICT.
 */
#ifndef TM_STORE_MESSAGES_H
#define TM_STORE_MESSAGES_H

#include <stdbool.h>

#include <glib.h>

#include "store/store.h"

struct store_new_message {
    gint64 ticket_id;
    const char *dedup_key;  /* unique: the Message-ID, or "sha256:DIGEST" without one */
    const char *message_id; /* NULL when the message had none */
    const char *digest;
    const char *direction; /* "in" or "out" */
    const char *kind;      /* customer, staff, untrusted-staff, internal, auto, bounce, unknown */
    const char *from;
    const char *to; /* comma-separated addresses */
    const char *cc;
    const char *subject;
    const char *in_reply_to;
    const char *references; /* space-separated msg-ids */
    const char *text;
    const void *raw;
    gsize raw_len;
    const char *received_at;
    const char *queue_id; /* Postfix queue id, NULL when unknown */
    const char *envelope_from;
    const char *client_addr;
    const char *reply_text;  /* the new part of a reply; NULL: same as text */
    const char *attachments; /* JSON array; NULL when none */
};

/* *ID (may be NULL) is the new message's id. */
bool store_message_insert(struct store *st, const struct store_new_message *m, gint64 *id,
                          GError **error);

/* Looks up DEDUP_KEY. Returns false only on a database error; *FOUND says
 * whether it exists, and then *TICKET_ID and *DIGEST (caller frees) are set. */
bool store_message_find(struct store *st, const char *dedup_key, bool *found, gint64 *ticket_id,
                        char **digest, GError **error);

/* The ticket of a message we stored or sent with MESSAGE_ID; 0 when none. */
bool store_ticket_by_message_id(struct store *st, const char *message_id, gint64 *ticket_id,
                                GError **error);
/* Message INDEX (0: the first, in the order ticketctl show lists them) of
 * ticket TICKET_ID as it arrived, byte for byte: *FOUND says whether the
 * ticket has such a message, *RAW is NULL when its bytes were purged. */
bool store_message_raw(struct store *st, gint64 ticket_id, guint index, bool *found, GBytes **raw,
                       GError **error);

struct ticket_message {
    gint64 id;
    char *message_id; /* NULL when the message had none */
    char *direction;
    char *kind;
    char *from;
    char *subject;
    char *received_at;
    char *queue_id; /* NULL when unknown */
};

/* The messages of TICKET_ID (struct ticket_message*, oldest first, freed
 * with the array); NULL and ERROR on failure. */
GPtrArray *store_ticket_messages(struct store *st, gint64 ticket_id, GError **error);

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

#endif
