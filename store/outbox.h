/*
 * store/outbox.h - mail and webhooks to send, written in the same
 * transaction as the decision that made them, and what became of each
 * delivery attempt.
 *
 * The outbox survives restarts and relay outages: the dispatcher
 * (outbound/dispatch.c) reads the due rows, sends them and marks them.
 * Errors are STORE_ERROR (store/store.h).
 */
#ifndef TM_STORE_OUTBOX_H
#define TM_STORE_OUTBOX_H

#include <stdbool.h>

#include <glib.h>

#include "store/store.h"

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
    const char *ack_key;       /* kind "ack": the mailbox ack_limit counts (router_ack_key) */
};

/* Inside a transaction; *ID (may be NULL) is the new row's id. */
bool store_outbox_insert(struct store *st, const struct store_new_outbox *o, gint64 *id,
                         GError **error);
/* How many acknowledgements went to the mailbox ACK_KEY (router_ack_key)
 * since SINCE (any status). */
bool store_outbox_acks_since(struct store *st, const char *ack_key, const char *since,
                             gint64 *count, GError **error);
/* How many not-contact replies went to anyone since SINCE. */
bool store_outbox_not_contacts_since(struct store *st, const char *since, gint64 *count,
                                     GError **error);
/* The ticket of a message we sent (the outbox only) with MESSAGE_ID; 0 when none. */
bool store_outbox_ticket_by_message_id(struct store *st, const char *message_id,
                                       gint64 *ticket_id, GError **error);

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

/* Pending rows due at NOW, of TRANSPORT ("smtp", "webhook"; NULL: any),
 * struct outbox_row*, at most LIMIT, due order. */
GPtrArray *store_outbox_due(struct store *st, const char *now, const char *transport, guint limit,
                            GError **error);
/* Rows about TICKET_ID (all statuses), oldest first. */
GPtrArray *store_outbox_for_ticket(struct store *st, gint64 ticket_id, GError **error);
/* The earliest next_attempt_at of a pending row of TRANSPORT (NULL: any);
 * *WHEN NULL when none. */
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

#endif
