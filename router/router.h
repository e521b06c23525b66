/*
 * router - what a support message means: who sent it, which ticket it
 * belongs to, what to do with it.
 *
 * Pure: a decision is a function of the parsed mail, the config, what the
 * store already knows (struct router_view, looked up by the caller) and the
 * time.  No I/O, no globals, so every rule is a table-driven unit test.
 *
 * Ownership: returned strings are the caller's (g_free); pointers into the
 * config (a struct customer) live as long as the config reference the
 * caller holds.
 */
#ifndef TM_ROUTER_H
#define TM_ROUTER_H

#include <stdbool.h>

#include <glib.h>

#include "config/config.h"
#include "parser/mail.h"

enum router_action {
    ROUTER_CREATE,    /* a new ticket with this message */
    ROUTER_FOLLOWUP,  /* one more message on an existing ticket */
    ROUTER_DUPLICATE, /* this very message is stored already: accept, record nothing */
    ROUTER_REJECT,    /* refuse at SMTP time (550 5.7.1) */
    ROUTER_PASS,      /* accept, record nothing (our own mail, machine mail about nothing of ours) */
    ROUTER_BOUNCE,    /* a delivery failure about one of the ticket's messages */
    ROUTER_AUTO,      /* an auto-reply or list mail in a ticket's thread: recorded, never answered */
};

/* How a message named the ticket it belongs to, strongest first. */
enum router_ref_via {
    REF_NONE,
    REF_ADDRESS,    /* the signed support+tkt-N.MAC@ recipient */
    REF_REFERENCES, /* In-Reply-To/References naming a message of the ticket */
    REF_SUBJECT,    /* [TKT-N] in the subject */
};

/* What the store knows about this message, looked up before deciding. */
struct router_view {
    bool is_stored;        /* a message with the same dedup key and digest exists */
    gint64 stored_ticket;  /* its ticket, when is_stored */
    gint64 ref_ticket;     /* the existing ticket the message refers to, 0 when none */
    enum router_ref_via ref_via;
    const char *ref_requester;
    const char *ref_customer; /* NULL for a ticket of an unknown sender */
    bool is_own_mail;         /* our loop mark with a valid MAC */
    const char *ref_status;   /* the referenced ticket's status */
    const char *ref_resolved_at; /* ISO 8601 UTC; NULL while unresolved */
};

struct decision {
    enum router_action action;
    const struct customer *customer; /* NULL: the sender is no known contact */
    char *requester;                 /* lower-case address the ticket answers to */
    char *subject;                   /* the ticket's subject */
    int severity;
    int stage;
    const char *status;
    gint64 ticket_id;                /* for ROUTER_DUPLICATE and ROUTER_FOLLOWUP */
    gint64 refused_ticket;           /* a reference not honoured: the sender is no participant */
    gint64 linked_ticket;            /* a new ticket that follows up one resolved too long ago */
    bool is_staff;
    const char *kind;                /* customer, staff, unknown */
    const char *reason;              /* short, for the log and the SMTP reply */
};

/* The customer whose contacts hold ADDR, else whose domains hold its
 * domain; NULL when none. Case-insensitive. */
const struct customer *router_find_customer(const struct config *cfg, const char *addr);

/* The address a message's ticket answers to: the From mailbox, else the
 * envelope sender. Lower-case; NULL when there is neither (a bounce). */
char *router_requester(const struct mail *mail, const char *envelope_from);

/* The key two copies of one message share: the Message-ID, or the digest
 * when there is none. */
char *router_dedup_key(const struct mail *mail);
/* The key for a message that reuses a stored Message-ID with other content:
 * it is a different message and must be kept apart. */
char *router_dedup_key_variant(const struct mail *mail);

struct decision *router_decide(const struct mail *mail, const char *envelope_from,
                               const struct config *cfg, const struct router_view *view,
                               GDateTime *now);
struct decision *router_decision_free(struct decision *d);

/* Whether RESULTS (struct mail_auth_result*, those the milter kept: added
 * by a host in [staff] authserv_networks above every Received header) vouch
 * for FROM: from one of [staff] authserv_ids, dkim=pass with header.d
 * aligned to FROM's domain, or dmarc=pass for FROM's domain. Returns
 * "dkim" or "dmarc", else NULL. */
const char *router_auth_vouches(const struct config *cfg, const GPtrArray *results,
                                const char *from);

/* Whether ADDR is staff: in [staff] addresses or domains. */
bool router_is_staff(const struct config *cfg, const char *addr);

/* The ticket number in the first "[PREFIX-N]" of SUBJECT; 0 when none. */
gint64 router_subject_ticket(const char *prefix, const char *subject);

enum router_address_tag {
    ADDRESS_UNTAGGED, /* no +extension, or one that is not a ticket tag */
    ADDRESS_VALID,    /* support+tkt-N.MAC@ with the right MAC */
    ADDRESS_FORGED,   /* a ticket tag whose MAC is wrong */
};
/* Reads the signed ticket reference in the recipient ADDR. */
enum router_address_tag router_address_ticket(const char *secret, const char *prefix,
                                              const char *addr, gint64 *ticket);

/* "TKT-42" */
char *router_ticket_tag(const char *prefix, gint64 id);

/* Whether SUBJECT already carries "[TAG]" (any case). */
bool router_subject_has_tag(const char *subject, const char *tag);

#endif
