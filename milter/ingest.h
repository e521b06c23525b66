/*
 * ingest - one message into the store, run by the writer thread.
 *
 * The milter thread fills the inputs of a struct ingest_job, hands it to
 * store_writer_run(), and reads the outputs once the commit is done.
 */
#ifndef TM_MILTER_INGEST_H
#define TM_MILTER_INGEST_H

#include <stdbool.h>

#include <glib.h>

#include "config/config.h"
#include "parser/mail.h"
#include "router/keys.h"
#include "router/router.h"
#include "store/store.h"

struct ingest_job {
    /* in: borrowed from the milter's message context */
    const struct config *cfg;
    const struct keys *keys;
    const struct mail *mail;
    const char *raw;
    gsize raw_len;
    const char *queue_id;      /* NULL when Postfix did not say */
    const char *envelope_from; /* "" for the null sender */
    const char *client_addr;
    gint64 address_ticket;     /* from a signed support+tkt-N.TAG@ recipient, 0 when none */
    gint64 return_path_ticket; /* from our signed return path as recipient, 0 when none */
    bool is_outbound;          /* for no support address: staff mail on its way out */
    const char *auth_login;    /* SMTP AUTH login; NULL when none */
    bool from_trusted_network;
    const GPtrArray *auth_results; /* our verifiers' Authentication-Results, or NULL */
    const GPtrArray *recipients;   /* char*: accepted envelope recipients, canonical; or NULL */
    GDateTime *now;

    /* out: owned by the job, freed by ingest_job_clear() */
    struct decision *decision;
    gint64 ticket_id;
    char *tag;    /* "TKT-42" when the message is on a ticket */
    guint queued; /* outbox rows written: the dispatcher has work */
};

/* store_job_fn for the writer thread. */
bool ingest_job_run(struct store *st, void *job, GError **error);

void ingest_job_clear(struct ingest_job *job);

#endif
