/*
 * apply - makes a decision so: the store writes and the outbox rows it
 * calls for, inside the caller's transaction.
 *
 * The one applier for the daemon (a message), the scheduler (a timer) and
 * ticketctl (close, reopen): none of them writes a ticket any other way,
 * so a rule lives in the router alone.
 */
#ifndef TM_OUTBOUND_APPLY_H
#define TM_OUTBOUND_APPLY_H

#include <stdbool.h>

#include <glib.h>

#include "config/config.h"
#include "parser/mail.h"
#include "router/decision.h"
#include "router/keys.h"
#include "store/store.h"

/* The message a decision is about (NULL members for a timer or ticketctl). */
struct apply_message {
    const struct mail *mail;
    const char *raw;
    gsize raw_len;
    const char *dedup_key;
    const char *queue_id;
    const char *envelope_from;
    const char *client_addr;
};

struct apply_result {
    gint64 ticket_id; /* the ticket written, 0 when none */
    char *tag;        /* its tag; caller frees */
    guint queued;     /* outbox rows written: the dispatcher has work */
};

/* Writes D. MSG may be NULL when D is about no message; CFG and KEYS may
 * be NULL for a decision that creates no ticket and sends nothing. On
 * failure the caller rolls the transaction (or savepoint) back. */
bool apply_decision(struct store *st, const struct config *cfg, const struct keys *keys,
                    struct decision *d, const struct apply_message *msg, GDateTime *now,
                    struct apply_result *out, GError **error);

void apply_result_clear(struct apply_result *r);

#endif
