/*
 * session - what the milter's callbacks (callbacks.c) and its end of
 * message (eom.c) share: the connection and message contexts, the
 * daemon's writer, dispatcher, scheduler and keys they commit with, and
 * the few helpers both call.  Private to milter/: nothing else includes
 * it.
 *
 * The contexts belong to libmilter's thread for the connection; the
 * shared pointers are set once by milter_setup() before libmilter starts
 * and never change.  milter_lock guards milter_stopping, milter_cfg and
 * the drain's count milter_in_commit.
 */
#ifndef MILTER_SESSION_H
#define MILTER_SESSION_H

#include <stdbool.h>

#include <glib.h>
#include <libmilter/mfapi.h>

#include "config/config.h"
#include "outbound/dispatch.h"
#include "outbound/scheduler.h"
#include "router/keys.h"
#include "store/store.h"

/* A recipient that was let through at RCPT. */
struct rcpt {
    char *raw;       /* exactly as xxfi_envrcpt got it: what smfi_delrcpt matches */
    char *addr;      /* as the checks compare it (recipient_address()) */
    bool is_support; /* a support address (its checks passed) */
};

struct msg_ctx {
    struct config *cfg; /* reference taken at MAIL FROM: a reload mid-message is harmless */
    char *envelope_from;
    GPtrArray *rcpts;          /* struct rcpt*, in RCPT order */
    GPtrArray *recipients;     /* char*: each rcpt's addr (borrowed), for the router */
    bool is_support;           /* a support address is a recipient (after its checks) */
    bool is_outbound;          /* no support recipient, but a trusted staff client: read on */
    bool is_ignored;           /* outgoing mail that is no staff reply: passes untouched */
    GByteArray *raw;           /* what is kept of the message; emptied once none is needed */
    guint64 size;              /* bytes of it seen so far, kept or not */
    guint64 buffered;          /* bytes of raw counted in the process-wide budget */
    bool too_big;              /* over max_message_size: refused at end of message */
    bool over_budget;          /* max_buffered_bytes ran out for it: 451 4.3.2 */
    bool support_too_big;      /* a support recipient was refused at RCPT for its SIZE= */
    guint64 announced_size;    /* the client's MAIL FROM SIZE=, 0 when none */
    gint64 address_ticket;     /* from a signed support+tkt-N.TAG@ recipient */
    gint64 return_path_ticket; /* from our signed return path as recipient (a bounce) */
    bool other_recipients;     /* it goes on to someone besides support (a staff reply) */
    bool has_content_type;
    bool has_encoding;
    char *auth_login;     /* the client's SMTP AUTH login; NULL when none */
    bool leading_space;   /* header values arrive with their leading space */
    char *subject_raw;    /* the first Subject header's value as received */
    char *from_raw;       /* the first From header's value as received */
    bool has_references;  /* In-Reply-To or References came with it */
    guint ticket_headers; /* X-Ticket-ID headers that came with the message */
    bool seen_received;   /* a Received header went by: what follows came from outside */
    GPtrArray *top_auth;  /* struct mail_auth_result* of the A-R headers above it */
};

struct conn_ctx {
    char *client_addr;
    struct msg_ctx *msg;
    bool leading_space;
    unsigned long noreply; /* SMFIP_NR_* steps the MTA agreed not to wait for */
};

extern GMutex milter_lock;
extern struct store_writer *milter_writer;
extern const struct keys *milter_keys; /* of the start: a reload keeps them */
extern struct dispatcher *milter_dispatcher;
extern struct scheduler *milter_scheduler;
extern gint milter_in_commit;
extern bool milter_stopping; /* under milter_lock: no new commit may start */

/* The SMTP reply CTX gives for this message. */
void set_reply(SMFICTX *ctx, const char *code, const char *xcode, const char *text);
/* Postfix's queue id of the message, "NOQUEUE" before it has one. */
const char *queue_id(SMFICTX *ctx);
/* The answer to a message max_buffered_bytes has no room for: 451 4.3.2. */
sfsistat budget_deferred(SMFICTX *ctx, const struct msg_ctx *msg, const char *qid);
/* A parse of MSG takes its share of the budget (returned), waiting for
 * room; parse_end() gives it back. */
guint64 parse_begin(const struct msg_ctx *msg);
void parse_end(guint64 cost);

/* The end of a message with something kept (eom.c): too big, deferred,
 * or parsed, committed and answered. */
sfsistat milter_end_of_message(SMFICTX *ctx, const struct conn_ctx *conn, const struct msg_ctx *msg,
                               const char *qid);

#endif
