/*
 * decision - what should happen, as a value.
 *
 * The router returns one for every mail, every timer that falls due and
 * every ticketctl action; outbound/apply.c makes it so inside the caller's
 * transaction.  A reviewer reads the router to know what a mail does to a
 * ticket, and a test compares decisions instead of reading a database.
 *
 * Ownership: a decision owns everything it points to except CUSTOMER
 * (borrowed from the policy); decision_free() releases it.
 */
#ifndef TM_ROUTER_DECISION_H
#define TM_ROUTER_DECISION_H

#include <stdbool.h>

#include <glib.h>

#include "router/event.h"
#include "router/policy.h"
#include "router/ticket.h"

enum router_action {
    ROUTER_CREATE,     /* a new ticket with this message */
    ROUTER_FOLLOWUP,   /* one more message on an existing ticket */
    ROUTER_DUPLICATE,  /* this very message is stored already: accept, record nothing */
    ROUTER_REJECT,     /* refuse at SMTP time (550 5.7.1) */
    ROUTER_PASS,       /* accept, record nothing */
    ROUTER_BOUNCE,     /* a delivery report about mail we sent for the ticket */
    ROUTER_AUTO,       /* an auto-reply in a ticket's thread: recorded, never answered */
    ROUTER_UNATTACHED, /* a bounce about no mail of ours: kept apart, on no ticket */
    ROUTER_CHANGE,     /* no message: a timer or ticketctl changed the ticket */
};

/* Who wrote the message, as the message is stored. */
enum sender_kind {
    SENDER_CUSTOMER,        /* a designated contact */
    SENDER_UNKNOWN,         /* nobody's contact */
    SENDER_STAFF,           /* staff, trusted */
    SENDER_UNTRUSTED_STAFF, /* a staff address without the trust to back it */
    SENDER_INTERNAL,        /* a trusted staff note (#internal) */
    SENDER_AUTO,            /* a program answered */
    SENDER_BOUNCE,          /* a delivery report */
};
const char *sender_kind_name(enum sender_kind k);

enum notice_kind {
    NOTICE_ACK,    /* an answer to a customer's mail: counts for ack_limit */
    NOTICE_NOTICE, /* anything else */
};

/* A mail to queue, rendered by the applier from the ticket as decided. */
struct notice_order {
    const char *template_name; /* static: "ack-new", "sla-breach", ... */
    enum notice_kind kind;
    GPtrArray *to;              /* char*, plain addresses; one for mail to a customer */
    bool to_customer;           /* in the requester's language and zone */
    char *to_name;              /* display name for a single recipient, or NULL */
    bool no_names;              /* the template gets no name from the mail (a stranger's) */
    const char *auto_submitted; /* "auto-replied" (answers) or "auto-generated" */
    bool about_message;         /* threaded under, and quoting, the incoming message */
    /* What the template says. */
    char *reason;
    const char *goal; /* static goal name */
    char *due;        /* ISO 8601 UTC */
    char *old_status;
    const char *untrusted;         /* static warning text */
    GPtrArray *unknown_commands;   /* char*; NULL when none */
    GPtrArray *removed_recipients; /* char*: outsiders an #internal note was kept from */
};

/* A webhook POST: EVENT about the ticket, with TEXT for chat channels:
 * our own words, to which the ticket's tag is put in front and, with
 * WITH_SUBJECT, its subject (the customer's words, made literal for chat
 * markup) after. */
struct webhook_order {
    const char *event; /* static: "escalation", "sla-warning", "sla-breach" */
    char *text;
    bool with_subject;
    JsonObject *detail; /* NULL when none */
};

/* Set or move a timer (DUE non-NULL), or take it away (DUE NULL). */
struct timer_order {
    char *kind; /* "response-warning", ..., "stage" */
    char *due;  /* ISO 8601 UTC or NULL */
};

struct decision {
    enum router_action action;
    const char *reason; /* static, for the log line and the event */

    /* Who and which ticket. */
    char *requester; /* plain lower-case address; NULL when there is none */
    const struct customer *customer;
    enum sender_kind kind;
    const char *trust;     /* why staff mail is believed, or NULL */
    gint64 ticket_id;      /* the existing ticket (0 for a new one) */
    struct ticket *ticket; /* the ticket as it is to be written; NULL: none */
    bool ticket_changed;   /* write its changeable fields */

    /* What becomes of the message. */
    bool store_message;
    enum sender_kind message_kind;

    GPtrArray *events;   /* struct event* */
    GPtrArray *timers;   /* struct timer_order* */
    GPtrArray *notices;  /* struct notice_order* */
    GPtrArray *webhooks; /* struct webhook_order* */

    /* For the milter and its log line. */
    GPtrArray *drop_recipients; /* char*: envelope recipients the milter removes before the
                                  * message goes on (the outsiders of an #internal note);
                                  * NULL when none */
    guint commands;             /* command lines in a staff mail: cut them from the copy */
    bool is_security;           /* log a security line */
    const char *ack;            /* what became of the acknowledgement: "send", "bulk", ... */
    bool soon;                  /* a timer falls due within a minute */
};

struct decision *decision_new(enum router_action action, const char *reason);
struct decision *decision_free(struct decision *d);

/* Appends and returns a new event / notice / timer / webhook order. */
struct event *decision_event(struct decision *d, enum event_type type, const char *actor);
struct notice_order *decision_notice(struct decision *d, const char *template_name,
                                     enum notice_kind kind);
void decision_timer(struct decision *d, const char *kind, GDateTime *due);
struct webhook_order *decision_webhook(struct decision *d, const char *event, char *text);

/* Makes D say each thing once: an address once in a notice, one notice of
 * a template to the same recipients (the last, which has the latest
 * reason), one webhook of an event (the last).  Several commands in one
 * mail ("#stage 2" then "#stage 3") must not page the same people twice. */
void decision_settle(struct decision *d);

/* The number of notices to customers and to staff (for tests and logs). */
guint decision_count_notices(const struct decision *d, const char *template_name);

#endif
