/*
 * dispatch - delivers the outbox: mail over SMTP to the relay, JSON to the
 * webhook, with retries.
 *
 * A thread of the daemon per lane (mail, webhooks).  It reads due rows on a
 * database connection of its own, sends a batch a few at a time on
 * connections to the relay it keeps open, and records every outcome
 * through the store's writer, so that "sent" is on disk before the row
 * could be picked again.
 * It sleeps until the next row falls due, or until dispatch_kick() says a
 * commit has just queued mail.
 */
#ifndef TM_OUTBOUND_DISPATCH_H
#define TM_OUTBOUND_DISPATCH_H

#include <stdbool.h>

#include <glib.h>

#include "config/config.h"
#include "store/outbox.h"
#include "store/store.h"
#include "store/writer.h"

struct dispatcher;

/* Call once in main before threads start. */
void dispatch_global_init(void);

struct dispatcher *dispatch_start(struct config *cfg, struct store_writer *writer, GError **error);
/* Wakes the thread: rows were just committed. */
void dispatch_kick(struct dispatcher *d);
/* Uses CFG (a reference is taken) from the next batch on. */
void dispatch_set_config(struct dispatcher *d, struct config *cfg);
/* Finishes the batch in flight and stops. Returns NULL. */
struct dispatcher *dispatch_stop(struct dispatcher *d);

/* The outcome of one attempt, decided from libcurl's result. */
enum delivery_outcome {
    DELIVERY_SENT,
    DELIVERY_RETRY,  /* 4xx, connection refused, timeout */
    DELIVERY_FAILED, /* 5xx, or a webhook's 4xx: trying again cannot help */
};

/* Sends ROW once, on a connection of its own. *ERROR_TEXT (caller frees)
 * says what went wrong. */
enum delivery_outcome dispatch_send(const struct config *cfg, const struct outbox_row *row,
                                    char **error_text);

/* Runs one pass over due rows with its own connections (ticketctl, tests):
 * returns how many rows were attempted. */
int dispatch_run_once(struct config *cfg, struct store_writer *writer, GDateTime *now,
                      GError **error);

#endif
