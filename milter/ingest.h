/*
 * ingest - one support message into the store, run by the writer thread.
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
#include "router/router.h"
#include "store/store.h"

struct ingest_job {
    /* in: borrowed from the milter's message context */
    const struct config *cfg;
    const struct mail *mail;
    const char *raw;
    gsize raw_len;
    const char *queue_id;      /* NULL when Postfix did not say */
    const char *envelope_from;
    const char *client_addr;
    const char *secret;        /* signs ticket addresses and our loop mark */
    gint64 address_ticket;     /* from a signed support+tkt-N.MAC@ recipient, 0 when none */
    bool trusted;              /* TRUST is set */
    const char *trust;         /* why staff mail is believed: smtp-auth, trusted-network, dkim, dmarc */
    GDateTime *now;

    /* out: owned by the job, freed by ingest_job_clear() */
    enum router_action action;
    gint64 ticket_id;
    char *tag;                 /* "TKT-42" for create and duplicate */
    char *customer;            /* customer name or NULL */
    char *requester;
    const char *reason;        /* static text */
    const char *ack;           /* what became of the acknowledgement ("send", "bulk", ...) */
    guint queued;              /* outbox rows written: the dispatcher has work */
    int severity;              /* of a new ticket */
    bool soon;                 /* a timer of the new ticket falls due within a minute */
    guint commands;            /* command lines in a staff reply: strip them from the copy */
    const char *security;      /* a security event to log, NULL when none */
};

/* store_job_fn for the writer thread. */
bool ingest_job_run(struct store *st, void *job, GError **error);

void ingest_job_clear(struct ingest_job *job);

#endif
