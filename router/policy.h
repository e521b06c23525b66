/*
 * policy - everything the router decides by: customers and their contacts,
 * staff, plans with their calendars and goals, severity rules, the
 * escalation ladder and who hears of each stage, acknowledgement limits.
 *
 * config/ builds one from ticket-milter.conf; the router only reads it.
 * The pointers are borrowed from the config that built the policy and live
 * as long as the caller's reference to that config.  A policy is never
 * changed after it is built, so threads share it freely.
 */
#ifndef TM_ROUTER_POLICY_H
#define TM_ROUTER_POLICY_H

#include <stdbool.h>

#include <glib.h>

#include "router/plan.h"
#include "router/severity.h"

enum unknown_senders {
    UNKNOWN_SENDERS_ACCEPT, /* record the mail; the sender gets the not-contact reply */
    UNKNOWN_SENDERS_REJECT, /* refuse it with 550 5.7.1 */
};

enum auto_replies {
    AUTO_REPLIES_RECORD, /* auto-replies are stored on the ticket they answer */
    AUTO_REPLIES_IGNORE, /* they are accepted and passed on, but not stored */
};

/* How far a From address is believed before it counts as a customer's
 * contact (the mail is kept either way). */
enum verify_senders {
    VERIFY_NONE,          /* the From decides, as in most ticket systems */
    VERIFY_ALIGNED,       /* our verifier vouches (DKIM, DMARC), or the envelope sender's
                           * domain is the From's (or one a subdomain of the other) */
    VERIFY_AUTHENTICATED, /* our verifier vouches */
};

struct customer {
    char *name;      /* NAME of [customer:NAME] */
    char **domains;  /* lower-case, NULL-terminated, may be empty */
    char **contacts; /* lower-case addresses, NULL-terminated, may be empty */
    char *plan;      /* plan name, "standard" when not set */
    char *timezone;  /* IANA zone name, "UTC" when not set */
    char *language;  /* "en" or "nl" */
};

struct policy {
    const char *ticket_prefix;       /* "TKT" */
    char **support_addresses;        /* lower-case, at least one */
    const char *recipient_delimiter; /* characters an address extension starts at; the
                                         * first is the one our addresses are made with */
    enum unknown_senders unknown_senders;
    enum auto_replies auto_replies;
    enum verify_senders verify_senders;
    guint reopen_days;
    char **staff_addresses; /* lower-case */
    char **staff_domains;
    char **staff_logins;        /* "login:address", lower-case: SMTP AUTH names of staff */
    char **authserv_ids;        /* our own Authentication-Results verifiers */
    const GPtrArray *customers; /* struct customer*, in file order */
    const GPtrArray *plans;     /* struct plan* */
    const struct severity_rules *severity;
    char **stage_contacts[4]; /* [1..3]: who hears of a ticket at that stage */
    const struct ladder *ladder;
    guint ack_limit;         /* acknowledgements per address per hour */
    guint not_contact_limit; /* not-contact replies per hour, all senders together */
    bool ack_followup;       /* acknowledge follow-ups too */
    const char *language;    /* of mail to staff and to senders who are no contact */
};

/* The plan called NAME, else "standard"; never NULL for a built policy. */
const struct plan *policy_plan(const struct policy *p, const char *name);
/* The customer of [customer:NAME] (exact name); NULL when none. */
const struct customer *policy_customer_named(const struct policy *p, const char *name);

#endif
