/*
 * test-policy - the support policy, as decisions.
 *
 * One row per fact of the support policies the product automates (the
 * seeds: severities and their response goals, the escalation stages and
 * their automatic steps, business hours, the Dutch plans and their
 * priority tiers, entitlement) and per case of mail that real customers,
 * staff and attackers send.  Each row is a configuration, a ticket as the
 * store has it, a mail or a timer or an admin action, and a time; and the
 * decision it must get: the action, the severity and the words that set
 * it, the stage, who is told (template>recipients), the events, the timers.
 * Pure: the router decides, nothing is stored or sent.
 */
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "config/config.h"
#include "router/clock.h"
#include "router/router.h"
#include "router/timer.h"

/* The configuration every row starts from; a row appends its own lines
 * (a group may be opened again further down). */
#define BASE                                                                                       \
    "[milter]\n"                                                                                   \
    "database = /nonexistent/tickets.db\n"                                                         \
    "support_addresses = support@example.com\n"                                                    \
    "[staff]\n"                                                                                    \
    "domains = example.com\n"                                                                      \
    "addresses = lead@example.com\n"                                                               \
    "trusted_networks = 192.0.2.0/24\n"                                                            \
    "logins = jdoe:john.doe@example.com\n"                                                         \
    "[outbound]\n"                                                                                 \
    "template_dir = templates\n"                                                                   \
    "[escalation]\n"                                                                               \
    "stage1 = lead@example.com\n"                                                                  \
    "stage2 = am@example.com; om@example.com\n"                                                    \
    "stage3 = director@example.com\n"                                                              \
    "[customer:acme]\n"                                                                            \
    "domains = acme.test\n"                                                                        \
    "timezone = Europe/Amsterdam\n"                                                                \
    "language = en\n"                                                                              \
    "[customer:bakker]\n"                                                                          \
    "domains = bakker.nl\n"                                                                        \
    "timezone = Europe/Amsterdam\n"                                                                \
    "language = nl\n"                                                                              \
    "plan = default\n"                                                                             \
    "[customer:vries]\n"                                                                           \
    "domains = vries.nl\n"                                                                         \
    "timezone = Europe/Amsterdam\n"                                                                \
    "language = nl\n"                                                                              \
    "plan = extended\n"

/* The ticket a row starts from. */
struct state {
    enum ticket_status status;
    int severity;
    int stage;
    const char *customer; /* NULL: nobody's */
    const char *requester;
    const char *created;   /* ISO 8601 UTC */
    const char *clock;     /* clock_start; NULL: the creation; "-": not entitled */
    const char *responded; /* first_response_at */
    const char *update_from;
    const char *resolved;
    const char *plan;     /* NULL: standard */
    const char *subjects; /* subjects already on the ticket, "|" between */
};

enum input {
    MAIL,
    TIMER,
    ADMIN
};

/* How the session vouches for the sender. */
enum session {
    PLAIN,
    TRUSTED_NETWORK,
    AUTH_OWN,
    AUTH_OTHER,
    OUTBOUND_TRUSTED,
    DKIM_PASS, /* our verifier (mx.example.com) says dkim=pass for example.com */
};

struct row {
    const char *fact;
    const char *config; /* appended to BASE; NULL: none */
    const char *now;
    enum input input;
    const char *mail;     /* MAIL: the message as sent */
    const char *envelope; /* MAIL: the envelope sender; NULL: the From address */
    enum session session;
    gint64 bounce_ticket;       /* MAIL: our mail it names (return path or Message-ID) */
    const struct state *ticket; /* the ticket the mail names (by its tag), or the timer's */
    const char *timer;          /* TIMER: which */
    enum ticket_status admin;   /* ADMIN: the status ticketctl sets */

    /* What must come of it. */
    enum router_action action;
    int severity;             /* 0: not checked */
    const char *rule;         /* in the severity event's rule; NULL: not checked */
    int stage;                /* -1: not checked */
    const char *notices;      /* every notice, "template>to,to; ..." sorted; NULL: not checked */
    const char *events;       /* types that must be among the events, blank-separated */
    const char *no_events;    /* types that must not */
    const char *timers;       /* "kind=ISO" (set) or "kind=-" (taken away), "; " between */
    const char *response_due; /* the ticket's first_response_due after it; "-": none */
    const char *ack;          /* what became of the acknowledgement */
    const struct state *referenced; /* MAIL: a ticket its In-Reply-To names, looked at first */
    const char *recipients;         /* MAIL: the envelope recipients, "a,b"; NULL: not known */
    const char *dropped;            /* recipients the milter must remove, "a,b"; "-": none */
    const char *message_kind;       /* how the message is stored; NULL: not checked */
    bool stored;                    /* MAIL: this very message is stored already */
};

#define MAIL_FROM(from, subject, body)                                                             \
    "From: " from "\nTo: support@example.com\nSubject: " subject                                   \
    "\nMessage-ID: <m1@sender.test>\nDate: Tue, 24 Nov 2026 10:00:00 +0100\n\n" body "\n"

/* ---- tickets that rows start from ---- */

static const struct state acme_sev3 = {
    .status = TICKET_OPEN,
    .severity = 3,
    .stage = 0,
    .customer = "acme",
    .requester = "jan@acme.test",
    .created = "2026-11-24T09:00:00Z",
    .subjects = "Printer offline",
};
static const struct state acme_sev3_escalating = {
    .status = TICKET_OPEN,
    .severity = 3,
    .stage = 1,
    .customer = "acme",
    .requester = "jan@acme.test",
    .created = "2026-11-24T09:00:00Z",
    .subjects = "Printer offline|Re: [TKT-1] Printer offline, please escalate",
};
static const struct state acme_sev1 = {
    .status = TICKET_OPEN,
    .severity = 1,
    .stage = 2,
    .customer = "acme",
    .requester = "jan@acme.test",
    .created = "2026-11-24T09:00:00Z",
};
static const struct state acme_sev2 = {
    .status = TICKET_OPEN,
    .severity = 2,
    .stage = 1,
    .customer = "acme",
    .requester = "jan@acme.test",
    .created = "2026-11-24T09:00:00Z",
};
static const struct state acme_sev1_pending = {
    .status = TICKET_PENDING,
    .severity = 1,
    .stage = 2,
    .customer = "acme",
    .requester = "jan@acme.test",
    .created = "2026-11-24T09:00:00Z",
    .responded = "2026-11-24T09:20:00Z",
};
static const struct state acme_resolved = {
    .status = TICKET_RESOLVED,
    .severity = 2,
    .stage = 1,
    .customer = "acme",
    .requester = "jan@acme.test",
    .created = "2026-11-10T09:00:00Z",
    .responded = "2026-11-10T10:00:00Z",
    .resolved = "2026-11-20T09:00:00Z",
};
static const struct state stranger = {
    .status = TICKET_OPEN,
    .severity = 3,
    .stage = 0,
    .customer = NULL,
    .requester = "someone@elsewhere.test",
    .created = "2026-11-24T09:00:00Z",
    .clock = "-",
};
static const struct state bakker_normaal = {
    .status = TICKET_OPEN,
    .severity = 2,
    .stage = 1,
    .customer = "bakker",
    .requester = "piet@bakker.nl",
    .created = "2026-11-24T09:00:00Z",
    .plan = "default",
    .subjects = "Kassa doet het niet",
};

/* Rows name their fields by position; the few that look at more leave
 * the last ones out. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
static const struct row rows[] = {
    /* ---- severities and their response goals (seeds 003, 004) ---- */
    { "Severity 1: response within 1 hour, around the clock (a Saturday night)",
      NULL,
      "2026-11-28T22:00:00Z",
      MAIL,
      MAIL_FROM("jan@acme.test", "[Sev1] Production down", "All checkouts fail."),
      NULL,
      PLAIN,
      0,
      NULL,
      NULL,
      0,
      ROUTER_CREATE,
      1,
      "subject tag",
      2,
      "ack-new>jan@acme.test; escalation-staff>am@example.com,om@example.com; "
      "staff-new>lead@example.com",
      "created severity stage",
      NULL,
      "response-breach=2026-11-28T23:00:00Z",
      "2026-11-28T23:00:00Z",
      "send" },
    { "Severity 2: response within 2 business hours, Mon-Fri 08-17 local (Friday 16:30)",
      NULL,
      "2026-11-27T15:30:00Z",
      MAIL,
      MAIL_FROM("jan@acme.test", "Orders slow", "Severity: 2\n\nThe order screen is slow."),
      NULL,
      PLAIN,
      0,
      NULL,
      NULL,
      0,
      ROUTER_CREATE,
      2,
      "body field",
      1,
      NULL,
      NULL,
      NULL,
      NULL,
      "2026-11-30T08:30:00Z",
      NULL },
    { "Severity 3: response within 3 business days",
      NULL,
      "2026-11-24T09:00:00Z",
      MAIL,
      MAIL_FROM("jan@acme.test", "Printer offline", "The printer on floor 2 is offline."),
      NULL,
      PLAIN,
      0,
      NULL,
      NULL,
      0,
      ROUTER_CREATE,
      3,
      "plan default",
      0,
      "ack-new>jan@acme.test; staff-new>lead@example.com",
      "created severity",
      "stage",
      "stage=-",
      "2026-11-27T09:00:00Z",
      NULL },
    { "Severity 4: information, no response goal",
      NULL,
      "2026-11-24T09:00:00Z",
      MAIL,
      MAIL_FROM("jan@acme.test", "[Sev4] Documentation question", "Where is the API guide?"),
      NULL,
      PLAIN,
      0,
      NULL,
      NULL,
      0,
      ROUTER_CREATE,
      4,
      "subject tag",
      0,
      NULL,
      NULL,
      NULL,
      "response-breach=-",
      "-",
      NULL },

    /* ---- the escalation stages and their automatic steps (seed 004) ---- */
    { "Severity 1 opens at Stage 2: account and operations managers",
      NULL,
      "2026-11-24T09:00:00Z",
      MAIL,
      MAIL_FROM("jan@acme.test", "Priority 1: outage", "Everything is down."),
      NULL,
      PLAIN,
      0,
      NULL,
      NULL,
      0,
      ROUTER_CREATE,
      1,
      NULL,
      2,
      NULL,
      "stage",
      NULL,
      "stage=2026-11-25T09:00:00Z",
      NULL,
      NULL },
    { "Severity 1 not resolved in one business day: Stage 3, the director, the customer told",
      NULL,
      "2026-11-25T09:00:00Z",
      TIMER,
      NULL,
      NULL,
      PLAIN,
      0,
      &acme_sev1,
      "stage",
      0,
      ROUTER_CHANGE,
      0,
      NULL,
      3,
      "escalation-customer>jan@acme.test; escalation-staff>director@example.com",
      "stage",
      NULL,
      "stage=-",
      NULL,
      NULL },
    { "Severity 2 opens at Stage 1: the support lead",
      NULL,
      "2026-11-24T09:00:00Z",
      MAIL,
      MAIL_FROM("jan@acme.test", "[P2] Reports fail", "The monthly report fails."),
      NULL,
      PLAIN,
      0,
      NULL,
      NULL,
      0,
      ROUTER_CREATE,
      2,
      NULL,
      1,
      NULL,
      NULL,
      NULL,
      "stage=2026-11-26T09:00:00Z",
      NULL,
      NULL },
    { "Severity 2 not resolved in two business days: Stage 2",
      NULL,
      "2026-11-26T09:00:00Z",
      TIMER,
      NULL,
      NULL,
      PLAIN,
      0,
      &acme_sev2,
      "stage",
      0,
      ROUTER_CHANGE,
      0,
      NULL,
      2,
      "escalation-customer>jan@acme.test; escalation-staff>am@example.com,om@example.com",
      "stage",
      NULL,
      NULL,
      NULL,
      NULL },
    { "While a ticket waits for the customer the ladder waits too",
      NULL,
      "2026-11-25T09:00:00Z",
      TIMER,
      NULL,
      NULL,
      PLAIN,
      0,
      &acme_sev1_pending,
      "stage",
      0,
      ROUTER_CHANGE,
      0,
      NULL,
      2,
      "",
      NULL,
      "stage",
      NULL,
      NULL,
      NULL },
    { "A missed response goal (shipped ladder) moves a Stage 0 ticket to Stage 1",
      NULL,
      "2026-11-27T09:00:00Z",
      TIMER,
      NULL,
      NULL,
      PLAIN,
      0,
      &acme_sev3,
      "response-breach",
      0,
      ROUTER_CHANGE,
      0,
      NULL,
      1,
      "escalation-customer>jan@acme.test; escalation-staff>lead@example.com; "
      "sla-breach>lead@example.com",
      "sla-breach stage",
      NULL,
      NULL,
      NULL,
      NULL },
    { "Every breach reaches somebody: no stage contacts, no staff: the support address",
      "[escalation]\nstage1 =\n[staff]\naddresses =\n",
      "2026-11-27T09:00:00Z",
      TIMER,
      NULL,
      NULL,
      PLAIN,
      0,
      &acme_sev3,
      "response-breach",
      0,
      ROUTER_CHANGE,
      0,
      NULL,
      1,
      "escalation-customer>jan@acme.test; escalation-staff>support@example.com; "
      "sla-breach>support@example.com",
      "sla-breach",
      NULL,
      NULL,
      NULL,
      NULL },
    { "A warning is only a warning: told, stage unchanged",
      NULL,
      "2026-11-26T15:00:00Z",
      TIMER,
      NULL,
      NULL,
      PLAIN,
      0,
      &acme_sev3,
      "response-warning",
      0,
      ROUTER_CHANGE,
      0,
      NULL,
      0,
      "sla-warning>lead@example.com",
      "sla-warning",
      "stage",
      NULL,
      NULL,
      NULL },
    { "A timer whose goal was met does nothing",
      NULL,
      "2026-11-27T09:00:00Z",
      TIMER,
      NULL,
      NULL,
      PLAIN,
      0,
      &acme_sev1_pending,
      "response-breach",
      0,
      ROUTER_CHANGE,
      0,
      NULL,
      2,
      "",
      NULL,
      "sla-breach",
      NULL,
      NULL,
      NULL },

    /* ---- the response: first contact to first agent response (seed 004) ---- */
    { "A trusted staff reply is the first response; the update interval runs from it",
      NULL,
      "2026-11-24T09:30:00Z",
      MAIL,
      "From: lead@example.com\nTo: jan@acme.test\nCc: support@example.com\n"
      "Subject: Re: [TKT-1] Printer offline\nMessage-ID: <s1@example.com>\n\n"
      "We are looking into it.\n",
      NULL,
      TRUSTED_NETWORK,
      0,
      &acme_sev3,
      NULL,
      0,
      ROUTER_FOLLOWUP,
      0,
      NULL,
      0,
      "",
      "staff-reply first-response",
      NULL,
      "response-breach=-; response-warning=-",
      NULL,
      NULL },
    { "Staff replies seen on their way out: to the customer only, through this server",
      NULL,
      "2026-11-24T09:30:00Z",
      MAIL,
      "From: lead@example.com\nTo: jan@acme.test\nSubject: Re: [TKT-1] Printer offline\n"
      "Message-ID: <s2@example.com>\n\n#status pending\n\nCould you send a photo?\n",
      NULL,
      OUTBOUND_TRUSTED,
      0,
      &acme_sev3,
      NULL,
      0,
      ROUTER_FOLLOWUP,
      0,
      NULL,
      0,
      "status-change>jan@acme.test",
      "staff-reply first-response status",
      NULL,
      "response-breach=-; update-breach=-",
      NULL,
      NULL },
    { "Outgoing mail of a stranger is none of ours",
      NULL,
      "2026-11-24T09:30:00Z",
      MAIL,
      "From: bob@example.org\nTo: jan@acme.test\nSubject: Re: [TKT-1] Printer offline\n"
      "Message-ID: <s3@example.org>\n\n#status closed\n",
      NULL,
      OUTBOUND_TRUSTED,
      0,
      &acme_sev3,
      NULL,
      0,
      ROUTER_PASS,
      0,
      NULL,
      -1,
      "",
      NULL,
      "status",
      NULL,
      NULL,
      NULL },

    /* ---- Dutch plans: hours 10-16 / 08-17, holidays, tiers (seed 002) ---- */
    { "Default plan, Prioriteit hoog: 8 business hours of 10-16 (Hoog)",
      NULL,
      "2026-11-24T09:00:00Z",
      MAIL,
      MAIL_FROM("piet@bakker.nl", "Kassa storing", "Prioriteit: hoog\n\nDe kassa's werken niet."),
      NULL,
      PLAIN,
      0,
      NULL,
      NULL,
      0,
      ROUTER_CREATE,
      1,
      "Prioriteit: hoog",
      2,
      NULL,
      NULL,
      NULL,
      NULL,
      "2026-11-25T11:00:00Z",
      NULL },
    { "Priority high is the same tier as Prioriteit hoog",
      NULL,
      "2026-11-24T09:00:00Z",
      MAIL,
      MAIL_FROM("piet@bakker.nl", "Till outage", "Priority: high\n\nThe tills do not work."),
      NULL,
      PLAIN,
      0,
      NULL,
      NULL,
      0,
      ROUTER_CREATE,
      1,
      "Priority: high",
      2,
      NULL,
      NULL,
      NULL,
      NULL,
      "2026-11-25T11:00:00Z",
      NULL },
    { "Default plan, normal: the Normaal goal of 16 business hours, not Laag",
      NULL,
      "2026-11-24T09:00:00Z",
      MAIL,
      MAIL_FROM("piet@bakker.nl", "Vraag", "Prioriteit: normaal\n\nHoe exporteer ik?"),
      NULL,
      PLAIN,
      0,
      NULL,
      NULL,
      0,
      ROUTER_CREATE,
      2,
      "normaal",
      1,
      NULL,
      NULL,
      NULL,
      NULL,
      "2026-11-26T13:00:00Z",
      NULL },
    { "Default plan skips Dutch public holidays (Christmas, Boxing Day)",
      NULL,
      "2026-12-24T14:00:00Z",
      MAIL,
      MAIL_FROM("piet@bakker.nl", "Vraag over facturen",
                "Prioriteit: laag\n\nWaar staat de factuur?"),
      NULL,
      PLAIN,
      0,
      NULL,
      NULL,
      0,
      ROUTER_CREATE,
      3,
      "laag",
      0,
      NULL,
      NULL,
      NULL,
      NULL,
      "2027-01-06T12:00:00Z",
      NULL },
    { "Extended plan: hours 08-17, Hoog 4 business hours, resolution 40",
      NULL,
      "2026-11-24T09:00:00Z",
      MAIL,
      MAIL_FROM("anna@vries.nl", "Storing", "Prioriteit: hoog\n\nNiets werkt."),
      NULL,
      PLAIN,
      0,
      NULL,
      NULL,
      0,
      ROUTER_CREATE,
      1,
      NULL,
      2,
      NULL,
      NULL,
      NULL,
      "resolution-breach=2026-11-30T13:00:00Z",
      "2026-11-24T13:00:00Z",
      NULL },
    { "Impact and urgency through the matrix: I-2 and U-1 is priority 1",
      NULL,
      "2026-11-24T09:00:00Z",
      MAIL,
      MAIL_FROM("piet@bakker.nl", "Rapportage", "Impact: I-2\nUrgentie: U-1\n\nRapporten falen."),
      NULL,
      PLAIN,
      0,
      NULL,
      NULL,
      0,
      ROUTER_CREATE,
      1,
      "impact I-2, urgency U-1",
      2,
      NULL,
      NULL,
      NULL,
      NULL,
      NULL,
      NULL },
    { "Impact alone: the missing urgency is the plan default's (seed 002)",
      NULL,
      "2026-11-24T09:00:00Z",
      MAIL,
      MAIL_FROM("piet@bakker.nl", "Rapportage", "Impact: I-3\n\nEen rapport is traag."),
      NULL,
      PLAIN,
      0,
      NULL,
      NULL,
      0,
      ROUTER_CREATE,
      3,
      "from the plan default",
      0,
      NULL,
      NULL,
      NULL,
      NULL,
      NULL,
      NULL },

    /* ---- keywords are weak evidence (issue table) ---- */
    { "English 'storing attachments' is saving, not the Dutch outage",
      NULL,
      "2026-11-24T09:00:00Z",
      MAIL,
      MAIL_FROM("jan@acme.test", "Question about storing attachments",
                "Is there a limit on storing attachments?"),
      NULL,
      PLAIN,
      0,
      NULL,
      NULL,
      0,
      ROUTER_CREATE,
      3,
      "plan default",
      0,
      "ack-new>jan@acme.test; staff-new>lead@example.com",
      NULL,
      "stage",
      NULL,
      NULL,
      NULL },
    { "Dutch 'storing' in Dutch text is an outage: Severity 2, Stage 1, not 2",
      NULL,
      "2026-11-24T09:00:00Z",
      MAIL,
      MAIL_FROM("piet@bakker.nl", "Storing bij het afrekenen",
                "Sinds vanochtend is er een storing bij het afrekenen in de winkel."),
      NULL,
      PLAIN,
      0,
      NULL,
      NULL,
      0,
      ROUTER_CREATE,
      2,
      "storing",
      1,
      NULL,
      NULL,
      NULL,
      NULL,
      NULL,
      NULL },
    { "'App crashed once yesterday, no impact now' pages nobody",
      NULL,
      "2026-11-24T09:00:00Z",
      MAIL,
      MAIL_FROM("jan@acme.test", "App crashed once yesterday, no impact now", "Just so you know."),
      NULL,
      PLAIN,
      0,
      NULL,
      NULL,
      0,
      ROUTER_CREATE,
      3,
      "cancelled",
      0,
      "ack-new>jan@acme.test; staff-new>lead@example.com",
      NULL,
      "stage",
      NULL,
      NULL,
      NULL },
    { "A keyword alone never opens at Stage 2, even where it may give Severity 1",
      "[severity]\nkeyword_max = 1\n",
      "2026-11-24T09:00:00Z",
      MAIL,
      MAIL_FROM("piet@bakker.nl", "De productie ligt plat", "Sinds 9 uur ligt de productie plat."),
      NULL,
      PLAIN,
      0,
      NULL,
      NULL,
      0,
      ROUTER_CREATE,
      1,
      "productie ligt plat",
      1,
      NULL,
      NULL,
      NULL,
      NULL,
      NULL,
      NULL },

    /* ---- customers escalate themselves, once per request (seed 003) ---- */
    { "A customer asks for escalation: one stage, confirmed to them and to staff",
      NULL,
      "2026-11-24T10:00:00Z",
      MAIL,
      "From: jan@acme.test\nTo: support@example.com\n"
      "Subject: Re: [TKT-1] Printer offline, please escalate\nMessage-ID: <c2@acme.test>\n\n"
      "Still offline.\n",
      NULL,
      PLAIN,
      0,
      &acme_sev3,
      NULL,
      0,
      ROUTER_FOLLOWUP,
      0,
      NULL,
      1,
      "escalation-customer>jan@acme.test; escalation-staff>lead@example.com; "
      "staff-reply>lead@example.com",
      "customer-reply stage",
      NULL,
      NULL,
      NULL,
      NULL },
    { "The next reply keeps 'please escalate' in its subject: no second stage",
      NULL,
      "2026-11-24T10:05:00Z",
      MAIL,
      "From: jan@acme.test\nTo: support@example.com\n"
      "Subject: Re: [TKT-1] Printer offline, please escalate\nMessage-ID: <c3@acme.test>\n\n"
      "Any news?\n",
      NULL,
      PLAIN,
      0,
      &acme_sev3_escalating,
      NULL,
      0,
      ROUTER_FOLLOWUP,
      0,
      NULL,
      1,
      "staff-reply>lead@example.com",
      "customer-reply",
      "stage",
      NULL,
      NULL,
      NULL },
    { "Dutch: escaleren in a new subject",
      NULL,
      "2026-11-24T10:00:00Z",
      MAIL,
      "From: piet@bakker.nl\nTo: support@example.com\n"
      "Subject: Re: [TKT-1] Kassa doet het niet - graag escaleren\nMessage-ID: <c4@bakker.nl>\n\n"
      "Nog steeds kapot.\n",
      NULL,
      PLAIN,
      0,
      &bakker_normaal,
      NULL,
      0,
      ROUTER_FOLLOWUP,
      0,
      NULL,
      2,
      NULL,
      "stage",
      NULL,
      NULL,
      NULL,
      NULL },
    { "An #escalate line by the customer",
      NULL,
      "2026-11-24T10:00:00Z",
      MAIL,
      "From: jan@acme.test\nTo: support@example.com\nSubject: Re: [TKT-1] Printer offline\n"
      "Message-ID: <c5@acme.test>\n\n#escalate\n\nThis takes too long.\n",
      NULL,
      PLAIN,
      0,
      &acme_sev3,
      NULL,
      0,
      ROUTER_FOLLOWUP,
      0,
      NULL,
      1,
      NULL,
      "stage",
      NULL,
      NULL,
      NULL,
      NULL },

    /* ---- severity may be upgraded or downgraded (seed 003) ---- */
    { "Staff upgrade to Severity 1: Stage 2, goals run from the change",
      NULL,
      "2026-11-25T12:00:00Z",
      MAIL,
      "From: lead@example.com\nTo: support@example.com\nSubject: Re: [TKT-1] Printer offline\n"
      "Message-ID: <s4@example.com>\n\n#severity 1\n#internal\nThe whole floor is down.\n",
      NULL,
      TRUSTED_NETWORK,
      0,
      &acme_sev3,
      NULL,
      0,
      ROUTER_FOLLOWUP,
      0,
      NULL,
      2,
      "escalation-staff>am@example.com,om@example.com",
      "severity stage internal-note",
      "first-response",
      "response-breach=2026-11-25T13:00:00Z; stage=2026-11-26T12:00:00Z",
      "2026-11-25T13:00:00Z",
      NULL },
    { "Staff commands from an untrusted client change nothing",
      NULL,
      "2026-11-24T10:00:00Z",
      MAIL,
      "From: lead@example.com\nTo: support@example.com\nSubject: Re: [TKT-1] Printer offline\n"
      "Message-ID: <s5@example.com>\n\n#status closed\n#severity 4\n",
      NULL,
      PLAIN,
      0,
      &acme_sev3,
      NULL,
      0,
      ROUTER_FOLLOWUP,
      0,
      NULL,
      0,
      "staff-reply>lead@example.com",
      "untrusted-staff",
      "status severity first-response",
      NULL,
      NULL,
      NULL },
    { "SMTP AUTH counts only for the login's own address",
      NULL,
      "2026-11-24T10:00:00Z",
      MAIL,
      "From: lead@example.com\nTo: support@example.com\nSubject: Re: [TKT-1] Printer offline\n"
      "Message-ID: <s6@example.com>\n\n#status closed\n",
      NULL,
      AUTH_OTHER,
      0,
      &acme_sev3,
      NULL,
      0,
      ROUTER_FOLLOWUP,
      0,
      NULL,
      0,
      NULL,
      "untrusted-staff",
      "status",
      NULL,
      NULL,
      NULL },
    { "A [staff] logins mapping lets a login send as its address",
      NULL,
      "2026-11-24T10:00:00Z",
      MAIL,
      "From: john.doe@example.com\nTo: support@example.com\n"
      "Subject: Re: [TKT-1] Printer offline\nMessage-ID: <s7@example.com>\n\n#status pending\n"
      "Waiting for the part.\n",
      NULL,
      AUTH_OWN,
      0,
      &acme_sev3,
      NULL,
      0,
      ROUTER_FOLLOWUP,
      0,
      NULL,
      0,
      NULL,
      "staff-reply status first-response",
      "untrusted-staff",
      NULL,
      NULL,
      NULL },

    /* ---- only designated contacts get the service (seeds 003, 004) ---- */
    { "A stranger gets the not-contact reply and no goal runs",
      NULL,
      "2026-11-24T09:00:00Z",
      MAIL,
      MAIL_FROM("someone@elsewhere.test", "Help please", "Our system is down."),
      NULL,
      PLAIN,
      0,
      NULL,
      NULL,
      0,
      ROUTER_CREATE,
      0,
      NULL,
      0,
      "not-contact>someone@elsewhere.test; staff-new>lead@example.com",
      "created",
      "stage",
      "response-breach=-",
      "-",
      "send" },
    { "unknown_senders = reject keeps its 550",
      "[milter]\nunknown_senders = reject\n",
      "2026-11-24T09:00:00Z",
      MAIL,
      MAIL_FROM("someone@elsewhere.test", "Help please", "Our system is down."),
      NULL,
      PLAIN,
      0,
      NULL,
      NULL,
      0,
      ROUTER_REJECT,
      0,
      NULL,
      -1,
      "",
      NULL,
      NULL,
      NULL,
      NULL,
      NULL },
    { "Staff accept a stranger's ticket for a customer: the goals start",
      NULL,
      "2026-11-24T11:00:00Z",
      MAIL,
      "From: lead@example.com\nTo: support@example.com\nSubject: Re: [TKT-1] Help please\n"
      "Message-ID: <s8@example.com>\n\n#customer acme\n#internal\nA new colleague at acme.\n",
      NULL,
      TRUSTED_NETWORK,
      0,
      &stranger,
      NULL,
      0,
      ROUTER_FOLLOWUP,
      0,
      NULL,
      0,
      NULL,
      "requester internal-note",
      NULL,
      "response-breach=2026-11-27T11:00:00Z",
      "2026-11-27T11:00:00Z",
      NULL },
    { "Staff open a ticket on behalf of a customer: the ack goes to the customer",
      NULL,
      "2026-11-24T09:00:00Z",
      MAIL,
      "From: lead@example.com\nTo: support@example.com\n"
      "Subject: Phone call from acme: checkout down\nMessage-ID: <s9@example.com>\n\n"
      "#requester jan@acme.test\n#severity 1\n\nJan called: the checkout fails for everyone.\n",
      NULL,
      TRUSTED_NETWORK,
      0,
      NULL,
      NULL,
      0,
      ROUTER_CREATE,
      1,
      NULL,
      2,
      "ack-new>jan@acme.test; escalation-staff>am@example.com,om@example.com; "
      "staff-new>lead@example.com",
      "created requester",
      NULL,
      NULL,
      "2026-11-24T10:00:00Z",
      "send" },
    { "A staff ticket without a customer sends no ack",
      NULL,
      "2026-11-24T09:00:00Z",
      MAIL,
      "From: lead@example.com\nTo: support@example.com\nSubject: Phone call: checkout down\n"
      "Message-ID: <s10@example.com>\n\nSomeone called about the checkout.\n",
      NULL,
      TRUSTED_NETWORK,
      0,
      NULL,
      NULL,
      0,
      ROUTER_CREATE,
      0,
      NULL,
      -1,
      "staff-new>lead@example.com",
      "created",
      NULL,
      NULL,
      "-",
      "staff-ticket" },

    /* ---- hostile and odd mail (issue 12) ---- */
    { "A From of quoted victims: the envelope sender is the one answered",
      NULL,
      "2026-11-24T09:00:00Z",
      MAIL,
      "From: \"x,victim1@other.test,victim2@third.test,y\"@evil.test\nTo: support@example.com\n"
      "Subject: Cheap pills\nMessage-ID: <e1@evil.test>\n\nBuy now.\n",
      "bounce@evil.test",
      PLAIN,
      0,
      NULL,
      NULL,
      0,
      ROUTER_CREATE,
      0,
      NULL,
      -1,
      "not-contact>bounce@evil.test; staff-new>lead@example.com",
      NULL,
      NULL,
      NULL,
      NULL,
      NULL },
    { "Neither From nor envelope is plain: nobody is answered",
      NULL,
      "2026-11-24T09:00:00Z",
      MAIL,
      "From: \"x,victim1@other.test\"@evil.test\nTo: support@example.com\n"
      "Subject: Cheap pills\nMessage-ID: <e2@evil.test>\n\nBuy now.\n",
      "\"a,b\"@evil.test",
      PLAIN,
      0,
      NULL,
      NULL,
      0,
      ROUTER_CREATE,
      0,
      NULL,
      -1,
      "staff-new>lead@example.com",
      "no-requester ack-withheld",
      NULL,
      NULL,
      NULL,
      "no-address" },
    { "A null-sender 'bounce' naming TKT-1 joins no customer's ticket",
      NULL,
      "2026-11-24T09:00:00Z",
      MAIL,
      "From: postmaster@evil.test\nTo: support@example.com\n"
      "Subject: Re: [TKT-1] Printer offline\nMessage-ID: <e3@evil.test>\n\n"
      "Please pay to this IBAN instead.\n",
      "",
      PLAIN,
      0,
      &acme_sev3,
      NULL,
      0,
      ROUTER_UNATTACHED,
      0,
      NULL,
      -1,
      "",
      NULL,
      NULL,
      NULL,
      NULL,
      NULL },
    { "A bounce of mail we sent joins its ticket",
      NULL,
      "2026-11-24T09:00:00Z",
      MAIL,
      "From: MAILER-DAEMON@acme.test\nTo: support@example.com\nSubject: Undelivered\n"
      "Message-ID: <b1@acme.test>\n\nThe mail could not be delivered.\n",
      "",
      PLAIN,
      1,
      &acme_sev3,
      NULL,
      0,
      ROUTER_BOUNCE,
      0,
      NULL,
      -1,
      "",
      "delivery-failed",
      NULL,
      NULL,
      NULL,
      NULL },
    { "A postmaster From with a real sender is a person's mail: kept, not answered",
      NULL,
      "2026-11-24T09:00:00Z",
      MAIL,
      "From: postmaster@evil.test\nTo: support@example.com\n"
      "Subject: Re: [TKT-1] Printer offline\nMessage-ID: <e4@evil.test>\n\nPay here.\n",
      "eve@evil.test",
      PLAIN,
      0,
      &acme_sev3,
      NULL,
      0,
      ROUTER_CREATE,
      0,
      NULL,
      -1,
      "staff-new>lead@example.com",
      "reference-refused ack-withheld",
      NULL,
      NULL,
      NULL,
      "bounce" },
    { "Dutch 'Auto: leaseauto start niet' from a contact is a ticket, ack withheld",
      NULL,
      "2026-11-24T09:00:00Z",
      MAIL,
      MAIL_FROM("piet@bakker.nl", "Auto: leaseauto start niet", "Mijn leaseauto start niet."),
      NULL,
      PLAIN,
      0,
      NULL,
      NULL,
      0,
      ROUTER_CREATE,
      2,
      "plan default",
      1,
      "escalation-staff>lead@example.com; staff-new>lead@example.com",
      "created automation-sign ack-withheld",
      NULL,
      NULL,
      NULL,
      "auto-reply" },
    { "List headers on a contact's mail: a ticket, no ack",
      NULL,
      "2026-11-24T09:00:00Z",
      MAIL,
      "From: jan@acme.test\nTo: support@example.com\nList-Id: <ops.acme.test>\n"
      "Subject: Nightly job failed\nMessage-ID: <l1@acme.test>\n\nThe job failed.\n",
      NULL,
      PLAIN,
      0,
      NULL,
      NULL,
      0,
      ROUTER_CREATE,
      0,
      NULL,
      -1,
      "staff-new>lead@example.com",
      "automation-sign ack-withheld",
      NULL,
      NULL,
      NULL,
      "bulk" },
    { "Auto-Submitted is certain: an auto-reply outside a thread passes",
      NULL,
      "2026-11-24T09:00:00Z",
      MAIL,
      "From: jan@acme.test\nTo: support@example.com\nAuto-Submitted: auto-replied\n"
      "Subject: Out of office\nMessage-ID: <a1@acme.test>\n\nI am away.\n",
      NULL,
      PLAIN,
      0,
      NULL,
      NULL,
      0,
      ROUTER_PASS,
      0,
      NULL,
      -1,
      "",
      NULL,
      "created",
      NULL,
      NULL,
      NULL },
    { .fact = "A participant's tag wins over a stray reference to another's ticket",
      .now = "2026-11-24T10:00:00Z",
      .input = MAIL,
      .mail = "From: jan@acme.test\nTo: support@example.com\n"
              "Subject: Re: [TKT-1] Printer offline\nIn-Reply-To: <someone-elses@bakker.nl>\n"
              "Message-ID: <c6@acme.test>\n\nThanks.\n",
      .ticket = &acme_sev3,
      .referenced = &bakker_normaal,
      .action = ROUTER_FOLLOWUP,
      .stage = -1,
      .events = "customer-reply",
      .no_events = "reference-refused" },
    { .fact = "Update goals count in business time, from the staff reply",
      .now = "2026-11-24T09:30:00Z",
      .input = MAIL,
      .mail = "From: lead@example.com\nTo: jan@acme.test\nCc: support@example.com\n"
              "Subject: Re: [TKT-1] Reports fail\nMessage-ID: <s11@example.com>\n\n"
              "We are on it.\n",
      .session = TRUSTED_NETWORK,
      .ticket = &acme_sev2,
      .action = ROUTER_FOLLOWUP,
      .stage = 1,
      .events = "first-response",
      .timers = "update-warning=2026-11-25T07:15:00Z; update-breach=2026-11-25T09:30:00Z" },
    { "A stranger's tag on a customer's ticket opens a ticket of their own",
      NULL,
      "2026-11-24T10:00:00Z",
      MAIL,
      "From: eve@evil.test\nTo: support@example.com\nSubject: Re: [TKT-1] Printer offline\n"
      "Message-ID: <e5@evil.test>\n\nNew bank details.\n",
      NULL,
      PLAIN,
      0,
      &acme_sev3,
      NULL,
      0,
      ROUTER_CREATE,
      0,
      NULL,
      -1,
      NULL,
      "reference-refused",
      "customer-reply",
      NULL,
      NULL,
      NULL },

    /* ---- who a staff reply reaches (review of issue 12) ---- */
    { .fact = "A staff reply to support alone meets no goal: the customer heard nothing",
      .now = "2026-11-24T09:30:00Z",
      .input = MAIL,
      .mail = "From: lead@example.com\nTo: support@example.com\n"
              "Subject: Re: [TKT-1] Printer offline\nMessage-ID: <r1@example.com>\n\n"
              "Looks like the driver.\n",
      .session = TRUSTED_NETWORK,
      .ticket = &acme_sev3,
      .action = ROUTER_FOLLOWUP,
      .stage = -1,
      .events = "staff-reply internal-note",
      .no_events = "first-response update",
      .recipients = "support@example.com",
      .dropped = "-",
      .message_kind = "internal" },
    { .fact = "A staff reply with the customer in Bcc (the envelope) is the response",
      .now = "2026-11-24T09:30:00Z",
      .input = MAIL,
      .mail = "From: lead@example.com\nTo: support@example.com\n"
              "Subject: Re: [TKT-1] Printer offline\nMessage-ID: <r2@example.com>\n\n"
              "We are on it.\n",
      .session = TRUSTED_NETWORK,
      .ticket = &acme_sev3,
      .action = ROUTER_FOLLOWUP,
      .stage = -1,
      .events = "staff-reply first-response",
      .no_events = "internal-note",
      .recipients = "support@example.com,jan@acme.test",
      .message_kind = "staff" },
    { .fact = "Support copied by its own transaction from another relay (DKIM): the customer in To"
              " is enough",
      .config = "[staff]\nauthserv_ids = mx.example.com\nauthserv_networks = 192.0.2.0/24\n",
      .now = "2026-11-24T09:30:00Z",
      .input = MAIL,
      .mail = "From: lead@example.com\nTo: Jan <jan@acme.test>\nCc: support@example.com\n"
              "Subject: Re: [TKT-1] Printer offline\nMessage-ID: <r3@example.com>\n\n"
              "We are on it.\n",
      .session = DKIM_PASS,
      .ticket = &acme_sev3,
      .action = ROUTER_FOLLOWUP,
      .stage = -1,
      .events = "staff-reply first-response",
      .no_events = "internal-note",
      .recipients = "support@example.com" },
    { .fact = "Sent through this server, a To naming the customer proves nothing: the envelope"
              " says who got it",
      .now = "2026-11-24T09:30:00Z",
      .input = MAIL,
      .mail = "From: lead@example.com\nTo: Jan <jan@acme.test>\nCc: support@example.com\n"
              "Subject: Re: [TKT-1] Printer offline\nMessage-ID: <r3b@example.com>\n\n"
              "We are on it.\n",
      .session = TRUSTED_NETWORK,
      .ticket = &acme_sev3,
      .action = ROUTER_FOLLOWUP,
      .stage = -1,
      .events = "staff-reply internal-note",
      .no_events = "first-response",
      .recipients = "support@example.com",
      .message_kind = "internal" },
    { .fact = "Another contact of the same customer is the customer too",
      .now = "2026-11-24T09:30:00Z",
      .input = MAIL,
      .mail = "From: lead@example.com\nTo: marie@acme.test\n"
              "Subject: Re: [TKT-1] Printer offline\nMessage-ID: <r4@example.com>\n\n"
              "Jan asked us to write to you.\n",
      .session = OUTBOUND_TRUSTED,
      .ticket = &acme_sev3,
      .action = ROUTER_FOLLOWUP,
      .stage = -1,
      .events = "first-response",
      .recipients = "marie@acme.test" },
    { .fact = "A reply to another customer is no response on this ticket",
      .now = "2026-11-24T09:30:00Z",
      .input = MAIL,
      .mail = "From: lead@example.com\nTo: piet@bakker.nl\nCc: support@example.com\n"
              "Subject: Re: [TKT-1] Printer offline\nMessage-ID: <r5@example.com>\n\n"
              "Wrong thread.\n",
      .session = TRUSTED_NETWORK,
      .ticket = &acme_sev3,
      .action = ROUTER_FOLLOWUP,
      .stage = -1,
      .events = "internal-note",
      .no_events = "first-response",
      .recipients = "support@example.com,piet@bakker.nl" },
    { .fact = "An #internal note copied to the customer: the customer is taken off, staff told",
      .now = "2026-11-24T09:30:00Z",
      .input = MAIL,
      .mail = "From: lead@example.com\nTo: support@example.com\nCc: jan@acme.test\n"
              "Subject: Re: [TKT-1] Printer offline\nMessage-ID: <r6@example.com>\n\n"
              "#internal\nTheir contract ends next month; no free visit.\n",
      .session = TRUSTED_NETWORK,
      .ticket = &acme_sev3,
      .action = ROUTER_FOLLOWUP,
      .stage = -1,
      .notices = "note-recipients>lead@example.com",
      .events = "internal-note",
      .no_events = "first-response",
      .recipients = "support@example.com,jan@acme.test,am@example.com,support+tkt-1.x@example.com",
      .dropped = "jan@acme.test",
      .message_kind = "internal" },
    { .fact =
          "The same #internal note again (the first 250 was lost): the outsider is still taken off",
      .now = "2026-11-24T09:31:00Z",
      .input = MAIL,
      .mail = "From: lead@example.com\nTo: support@example.com\nCc: jan@acme.test\n"
              "Subject: Re: [TKT-1] Printer offline\nMessage-ID: <r6@example.com>\n\n"
              "#internal\nTheir contract ends next month; no free visit.\n",
      .session = TRUSTED_NETWORK,
      .ticket = &acme_sev3,
      .action = ROUTER_DUPLICATE,
      .stage = -1,
      .notices = "",
      .no_events = "internal-note",
      .stored = true,
      .recipients = "support@example.com,jan@acme.test",
      .dropped = "jan@acme.test" },
    { .fact = "A customer's mail again is only a duplicate",
      .now = "2026-11-24T09:31:00Z",
      .input = MAIL,
      .mail = MAIL_FROM("jan@acme.test", "Re: [TKT-1] Printer offline", "Cc my colleague."),
      .ticket = &acme_sev3,
      .action = ROUTER_DUPLICATE,
      .stage = -1,
      .notices = "",
      .stored = true,
      .recipients = "support@example.com,piet@bakker.nl",
      .dropped = "-" },
    { .fact = "An #internal note among staff alone removes nobody",
      .now = "2026-11-24T09:30:00Z",
      .input = MAIL,
      .mail = "From: lead@example.com\nTo: am@example.com\nCc: support@example.com\n"
              "Subject: Re: [TKT-1] Printer offline\nMessage-ID: <r7@example.com>\n\n"
              "#internal\nCan you call them?\n",
      .session = TRUSTED_NETWORK,
      .ticket = &acme_sev3,
      .action = ROUTER_FOLLOWUP,
      .stage = -1,
      .notices = "",
      .events = "internal-note",
      .recipients = "am@example.com,support@example.com",
      .dropped = "-" },

    { .fact = "Commands in a staff reply cut at max_mime_parts are not applied, and reported",
      .config = "[milter]\nmax_mime_parts = 3\n",
      .now = "2026-11-24T09:30:00Z",
      .input = MAIL,
      .mail = "From: lead@example.com\nTo: jan@acme.test\nCc: support@example.com\n"
              "Subject: Re: [TKT-1] Printer offline\nMessage-ID: <p1@example.com>\n"
              "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n"
              "--b\nContent-Type: text/plain\n\n#status closed\n#assign bob@example.com\n\nDone.\n"
              "--b\nContent-Type: text/plain\n\n1\n--b\nContent-Type: text/plain\n\n2\n"
              "--b\nContent-Type: text/plain\n\n3\n--b\nContent-Type: text/plain\n\n4\n--b--\n",
      .session = TRUSTED_NETWORK,
      .ticket = &acme_sev3,
      .action = ROUTER_FOLLOWUP,
      .stage = -1,
      .notices = "unknown-command>lead@example.com",
      .events = "staff-reply parse-limits",
      .no_events = "status assign",
      .recipients = "jan@acme.test,support@example.com" },

    /* ---- a contact's address in From is not proof (verify_senders) ---- */
    { .fact = "A contact's From with a stranger's envelope: a stranger's ticket, nobody paged,"
              " no answer to the forged address",
      .now = "2026-11-24T09:00:00Z",
      .input = MAIL,
      .mail = MAIL_FROM("\"Visit http://spam.example\" <piet@acme.test>",
                        "[Sev1] WIN A FREE PRIZE at http://spam.example", "Click."),
      .envelope = "eve@evil.test",
      .action = ROUTER_CREATE,
      .stage = 0,
      .notices = "staff-new>lead@example.com",
      .events = "created unverified-sender ack-withheld",
      .no_events = "stage",
      .response_due = "-",
      .ack = "unverified-sender",
      .message_kind = "unknown" },
    { .fact = "The same contact's own mail (envelope of the From's domain) is the customer's",
      .now = "2026-11-24T09:00:00Z",
      .input = MAIL,
      .mail = MAIL_FROM("Piet <piet@acme.test>", "[Sev1] Checkout down", "All tills fail."),
      .envelope = "bounces+piet@mail.acme.test",
      .action = ROUTER_CREATE,
      .stage = 2,
      .events = "created stage",
      .no_events = "unverified-sender",
      .ack = "send",
      .message_kind = "customer" },
    { .fact = "A forged contact cannot join the customer's ticket or escalate it",
      .now = "2026-11-24T10:00:00Z",
      .input = MAIL,
      .mail =
          "From: jan@acme.test\nTo: support@example.com\n"
          "Subject: Re: [TKT-1] Printer offline, please escalate\nMessage-ID: <v1@evil.test>\n\n"
          "Pay to this IBAN.\n",
      .envelope = "eve@evil.test",
      .ticket = &acme_sev3,
      .action = ROUTER_CREATE,
      .stage = 0,
      .notices = "staff-new>lead@example.com",
      .events = "reference-refused unverified-sender",
      .no_events = "customer-reply stage",
      .ack = "unverified-sender" },
    { .fact = "DKIM from our verifier vouches for a contact whatever the envelope",
      .config = "[staff]\nauthserv_ids = mx.example.com\nauthserv_networks = 192.0.2.0/24\n",
      .now = "2026-11-24T10:00:00Z",
      .input = MAIL,
      .mail = "From: jan@acme.test\nTo: support@example.com\n"
              "Subject: Re: [TKT-1] Printer offline\nMessage-ID: <v2@acme.test>\n\nStill off.\n",
      .envelope = "srs0=ab12=cd=acme.test=jan@forwarder.example",
      .session = DKIM_PASS,
      .ticket = &acme_sev3,
      .action = ROUTER_FOLLOWUP,
      .stage = -1,
      .events = "customer-reply",
      .no_events = "unverified-sender" },
    { .fact = "verify_senders = authenticated: an aligned envelope is not enough",
      .config = "[milter]\nverify_senders = authenticated\n",
      .now = "2026-11-24T10:00:00Z",
      .input = MAIL,
      .mail = MAIL_FROM("jan@acme.test", "Printer offline", "Floor 2."),
      .action = ROUTER_CREATE,
      .stage = -1,
      .notices = "staff-new>lead@example.com",
      .events = "unverified-sender",
      .ack = "unverified-sender" },
    { .fact = "verify_senders = none: the From decides",
      .config = "[milter]\nverify_senders = none\n",
      .now = "2026-11-24T09:00:00Z",
      .input = MAIL,
      .mail = MAIL_FROM("piet@acme.test", "[Sev1] Checkout down", "All fail."),
      .envelope = "eve@evil.test",
      .action = ROUTER_CREATE,
      .stage = 2,
      .no_events = "unverified-sender",
      .ack = "send",
      .message_kind = "customer" },

    /* ---- entitlement, identity and floods (review of issue 12) ---- */
    { .fact = "A stranger asking to escalate pages nobody: no goal runs for them",
      .now = "2026-11-24T10:00:00Z",
      .input = MAIL,
      .mail = "From: someone@elsewhere.test\nTo: support@example.com\n"
              "Subject: Re: [TKT-1] Help please - ESCALATE\nMessage-ID: <x1@elsewhere.test>\n\n"
              "#escalate\nNow!\n",
      .ticket = &stranger,
      .action = ROUTER_FOLLOWUP,
      .stage = 0,
      .notices = "staff-reply>lead@example.com",
      .events = "customer-reply",
      .no_events = "stage" },
    { .fact = "A From of our own support address answers nobody",
      .now = "2026-11-24T09:00:00Z",
      .input = MAIL,
      .mail = MAIL_FROM("Support <support@example.com>", "Invoice", "Pay now."),
      .envelope = "spammer@evil.test",
      .action = ROUTER_CREATE,
      .stage = -1,
      .notices = "staff-new>lead@example.com",
      .events = "no-requester",
      .ack = "no-address" },
    { .fact = "Nor does a From of one of our signed +addresses",
      .now = "2026-11-24T09:00:00Z",
      .input = MAIL,
      .mail = MAIL_FROM("support+tkt-1.abc@example.com", "Invoice", "Pay now."),
      .action = ROUTER_CREATE,
      .stage = -1,
      .notices = "staff-new>lead@example.com",
      .ack = "no-address" },
    { .fact = "A customer's named contact inside a staff domain writes as that customer",
      .config = "[customer:acme]\ncontacts = contractor@example.com\n",
      .now = "2026-11-24T09:00:00Z",
      .input = MAIL,
      .mail = MAIL_FROM("contractor@example.com", "Printer offline", "Floor 3 printer."),
      .session = TRUSTED_NETWORK,
      .action = ROUTER_CREATE,
      .stage = -1,
      .notices = "ack-new>contractor@example.com; staff-new>lead@example.com",
      .events = "created",
      .no_events = "untrusted-staff",
      .ack = "send",
      .message_kind = "customer" },
    { .fact = "A customer domain written in Unicode is the customer's in its xn-- form",
      .config = "[customer:boeken]\ndomains = B\u00fccher.example\n",
      .now = "2026-11-24T09:00:00Z",
      .input = MAIL,
      .mail = MAIL_FROM("Jan <jan@xn--bcher-kva.example>", "Printer offline", "Floor 3."),
      .action = ROUTER_CREATE,
      .stage = -1,
      .notices = "ack-new>jan@xn--bcher-kva.example; staff-new>lead@example.com",
      .events = "created",
      .no_events = "unverified-sender",
      .ack = "send",
      .message_kind = "customer" },
    { .fact = "And a From in Unicode is the customer's of the xn-- domain, answered in ASCII",
      .config = "[customer:boeken]\ndomains = xn--bcher-kva.example\n",
      .now = "2026-11-24T09:00:00Z",
      .input = MAIL,
      .mail = MAIL_FROM("Jan <jan@B\u00dcCHER.example>", "Printer offline", "Floor 3."),
      .envelope = "jan@xn--bcher-kva.example",
      .action = ROUTER_CREATE,
      .stage = -1,
      .notices = "ack-new>jan@xn--bcher-kva.example; staff-new>lead@example.com",
      .events = "created",
      .no_events = "unverified-sender",
      .ack = "send",
      .message_kind = "customer" },
    { .fact =
          "Thirty #stage lines page Stage 2 once; the ten past twenty are reported, not applied",
      .now = "2026-11-24T09:30:00Z",
      .input = MAIL,
      .mail = "From: lead@example.com\nTo: jan@acme.test\nCc: support@example.com\n"
              "Subject: Re: [TKT-1] Printer offline\nMessage-ID: <f1@example.com>\n\n"
              "#stage 2\n#stage 1\n#stage 2\n#stage 1\n#stage 2\n#stage 1\n#stage 2\n#stage 1\n"
              "#stage 2\n#stage 1\n#stage 2\n#stage 1\n#stage 2\n#stage 1\n#stage 2\n#stage 1\n"
              "#stage 2\n#stage 1\n#stage 2\n#stage 2\n#stage 3\n#stage 3\n#stage 3\n#stage 3\n"
              "#stage 3\n#stage 3\n#stage 3\n#stage 3\n#stage 3\n#stage 3\n\nOn it.\n",
      .session = TRUSTED_NETWORK,
      .ticket = &acme_sev3,
      .action = ROUTER_FOLLOWUP,
      .stage = 2,
      .notices = "escalation-staff>am@example.com,om@example.com; "
                 "unknown-command>lead@example.com",
      .events = "stage first-response" },

    /* ---- reopening, and ticketctl ---- */
    { "A reply within reopen_days reopens; the time since resolved is a pause",
      NULL,
      "2026-11-24T10:00:00Z",
      MAIL,
      "From: jan@acme.test\nTo: support@example.com\nSubject: Re: [TKT-1] Printer offline\n"
      "Message-ID: <c7@acme.test>\n\nIt is offline again.\n",
      NULL,
      PLAIN,
      0,
      &acme_resolved,
      NULL,
      0,
      ROUTER_FOLLOWUP,
      0,
      NULL,
      1,
      NULL,
      "reopened",
      NULL,
      "update-breach=2026-11-25T10:00:00Z",
      NULL,
      NULL },
    { "ticketctl reopen tells the customer and sets the timers again",
      NULL,
      "2026-11-24T10:00:00Z",
      ADMIN,
      NULL,
      NULL,
      PLAIN,
      0,
      &acme_resolved,
      NULL,
      TICKET_OPEN,
      ROUTER_CHANGE,
      0,
      NULL,
      1,
      "status-change>jan@acme.test",
      "reopened",
      NULL,
      "update-breach=2026-11-25T10:00:00Z",
      NULL,
      NULL },
    { "ticketctl close takes the timers away",
      NULL,
      "2026-11-24T10:00:00Z",
      ADMIN,
      NULL,
      NULL,
      PLAIN,
      0,
      &acme_sev1,
      NULL,
      TICKET_CLOSED,
      ROUTER_CHANGE,
      0,
      NULL,
      2,
      "status-change>jan@acme.test",
      "status",
      NULL,
      "response-breach=-; stage=-",
      NULL,
      NULL },
};

#pragma GCC diagnostic pop

/* ---- the harness ---- */

static GHashTable *configs; /* extra text -> struct config* */

/* BASE with EXTRA's keys: a key BASE has in the same group is replaced,
 * any other is added at the end under its group. */
static char *
config_text(const char *extra)
{
    g_auto(GStrv) base = g_strsplit(BASE, "\n", -1);
    g_auto(GStrv) more = g_strsplit(extra != NULL ? extra : "", "\n", -1);
    g_autoptr(GString) tail = g_string_new(NULL);
    const char *group = "";

    for (char **m = more; *m != NULL; m++) {
        const char *eq = strchr(*m, '=');
        bool replaced = false;
        if (**m == '[') {
            group = *m;
            continue;
        }
        if (eq == NULL)
            continue;
        g_autofree char *key = g_strndup(*m, (gsize)(eq - *m));
        const char *in = "";
        for (char **b = base; *b != NULL; b++) {
            if (**b == '[')
                in = *b;
            else if (strcmp(in, group) == 0 && g_str_has_prefix(*b, key)) {
                g_free(*b);
                *b = g_strdup(*m);
                replaced = true;
            }
        }
        if (!replaced)
            g_string_append_printf(tail, "%s\n%s\n", group, *m);
    }
    g_autofree char *joined = g_strjoinv("\n", base);
    return g_strconcat(joined, tail->str, NULL);
}

static struct config *
config_for(const char *extra)
{
    struct config *cfg = g_hash_table_lookup(configs, extra != NULL ? extra : "");
    g_autoptr(GError) error = NULL;
    g_autofree char *path = NULL;
    int fd;

    if (cfg != NULL)
        return cfg;
    fd = g_file_open_tmp("test-policy-XXXXXX.conf", &path, &error);
    g_assert_no_error(error);
    g_autofree char *text = config_text(extra);
    g_assert_true(g_file_set_contents(path, text, -1, NULL));
    close(fd);
    cfg = config_load(path, &error);
    g_unlink(path);
    g_assert_no_error(error);
    g_hash_table_insert(configs, g_strdup(extra != NULL ? extra : ""), cfg);
    return cfg;
}

static struct ticket *
ticket_from(const struct policy *p, const struct state *s)
{
    struct ticket *t = ticket_new();

    t->id = 1;
    t->tag = g_strdup("TKT-1");
    t->status = s->status;
    t->severity = s->severity;
    t->stage = s->stage;
    t->customer = g_strdup(s->customer);
    ticket_set(&t->requester, s->requester);
    t->subject = g_strdup("Printer offline");
    t->created_at = g_strdup(s->created);
    t->updated_at = g_strdup(s->created);
    t->clock_start = s->clock == NULL             ? g_strdup(s->created)
                     : strcmp(s->clock, "-") == 0 ? NULL
                                                  : g_strdup(s->clock);
    t->first_response_at = g_strdup(s->responded);
    t->update_from = g_strdup(s->update_from);
    t->resolved_at = g_strdup(s->resolved);
    t->plan = g_strdup(s->plan != NULL ? s->plan : "standard");
    t->timezone = g_strdup("Europe/Amsterdam");
    t->language = g_strdup(s->customer != NULL && strcmp(s->customer, "bakker") == 0 ? "nl" : "en");
    if (t->status == TICKET_PENDING)
        t->paused_at = g_strdup(s->responded);
    /* The due columns as the store has them. */
    clock_deadlines(p, t);
    return t;
}

static void
candidate_free(gpointer p)
{
    struct router_candidate *c = p;

    ticket_free((struct ticket *)c->ticket);
    g_strfreev(c->prior_subjects);
    g_free(c);
}

static struct decision *
decide_mail(const struct row *r, const struct config *cfg, const struct keys *keys, GDateTime *now)
{
    g_autoptr(GError) error = NULL;
    /* Within the configured limits, as the milter parses. */
    struct parser_limits limits = { .max_depth = cfg->max_mime_depth,
                                    .max_parts = cfg->max_mime_parts,
                                    .max_headers = cfg->max_headers };
    struct mail *m = parser_mail_parse_limited(r->mail, strlen(r->mail), &limits, &error);
    g_assert_nonnull(m);
    struct router_view v = { .bounce_ticket = r->bounce_ticket,
                             .acks_last_hour = 0,
                             .is_stored = r->stored,
                             .stored_ticket = r->stored ? 1 : 0 };
    const char *envelope = r->envelope != NULL ? r->envelope : m->from != NULL ? m->from->addr : "";
    struct router_input in = {
        .mail = m,
        .envelope_from = envelope,
        .keys = keys,
        .is_outbound = r->session == OUTBOUND_TRUSTED,
        .auth_login = r->session == AUTH_OWN     ? "jdoe"
                      : r->session == AUTH_OTHER ? "intern@example.com"
                                                 : NULL,
        .from_trusted_network = r->session == TRUSTED_NETWORK || r->session == OUTBOUND_TRUSTED,
        .client_addr = "192.0.2.7",
        .now = now,
    };
    /* DKIM_PASS: a signature of the From's own domain. */
    const char *from_at = m->from != NULL ? strrchr(m->from->addr, '@') : NULL;
    g_autofree char *signer = g_ascii_strdown(from_at != NULL ? from_at + 1 : "example.com", -1);
    struct mail_auth_result dkim = {
        .authserv_id = "mx.example.com", .method = "dkim", .result = "pass", .header_d = signer
    };
    g_autoptr(GPtrArray) results = g_ptr_array_new();
    g_auto(GStrv) rcpts = r->recipients != NULL ? g_strsplit(r->recipients, ",", -1) : NULL;
    g_autoptr(GPtrArray) recipients = NULL;
    struct decision *d;

    if (r->session == DKIM_PASS) {
        g_ptr_array_add(results, &dkim);
        in.auth_results = results;
    }
    if (rcpts != NULL) {
        recipients = g_ptr_array_new();
        for (char **a = rcpts; *a != NULL; a++)
            g_ptr_array_add(recipients, *a);
        in.recipients = recipients;
    }

    g_assert_no_error(error);
    v.candidates = g_ptr_array_new_with_free_func(candidate_free);
    if (r->referenced != NULL) {
        struct router_candidate *c = g_new0(struct router_candidate, 1);
        struct ticket *t = ticket_from(&cfg->policy, r->referenced);
        t->id = 2;
        ticket_set(&t->tag, "TKT-2");
        c->via = REF_REFERENCES;
        c->ticket = t;
        g_ptr_array_add(v.candidates, c);
    }
    if (r->ticket != NULL && router_subject_ticket("TKT", m->subject) == 1) {
        struct router_candidate *c = g_new0(struct router_candidate, 1);
        c->via = REF_SUBJECT;
        c->ticket = ticket_from(&cfg->policy, r->ticket);
        c->prior_subjects =
            r->ticket->subjects != NULL ? g_strsplit(r->ticket->subjects, "|", -1) : NULL;
        g_ptr_array_add(v.candidates, c);
    }
    d = router_decide(&cfg->policy, &in, &v);
    g_ptr_array_unref(v.candidates);
    parser_mail_free(m);
    return d;
}

static gint
compare_strings(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* "template>to,to; ..." of D's notices, sorted. */
static char *
notices_text(const struct decision *d)
{
    g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GString) s = g_string_new(NULL);

    for (guint i = 0; i < d->notices->len; i++) {
        const struct notice_order *n = g_ptr_array_index(d->notices, i);
        GString *one = g_string_new(n->template_name);
        for (guint k = 0; k < n->to->len; k++)
            g_string_append_printf(one, "%c%s", k == 0 ? '>' : ',',
                                   (const char *)g_ptr_array_index(n->to, k));
        g_ptr_array_add(items, g_string_free(one, FALSE));
    }
    g_ptr_array_sort(items, compare_strings);
    for (guint i = 0; i < items->len; i++)
        g_string_append_printf(s, "%s%s", i > 0 ? "; " : "",
                               (const char *)g_ptr_array_index(items, i));
    return g_strdup(s->str);
}

static bool
has_event(const struct decision *d, const char *type)
{
    for (guint i = 0; i < d->events->len; i++)
        if (strcmp(event_type_name(((const struct event *)g_ptr_array_index(d->events, i))->type),
                   type) == 0)
            return true;
    return false;
}

static const char *
severity_rule(const struct decision *d)
{
    for (guint i = 0; i < d->events->len; i++) {
        const struct event *e = g_ptr_array_index(d->events, i);
        if (e->type == EVENT_SEVERITY && json_object_has_member(e->detail, "rule"))
            return json_object_get_string_member(e->detail, "rule");
    }
    return "";
}

static void
check_timers(const struct decision *d, const char *spec)
{
    g_auto(GStrv) want = g_strsplit(spec, "; ", -1);

    for (char **w = want; *w != NULL; w++) {
        g_auto(GStrv) kv = g_strsplit(*w, "=", 2);
        const struct timer_order *found = NULL;
        for (guint i = 0; i < d->timers->len; i++) {
            const struct timer_order *t = g_ptr_array_index(d->timers, i);
            if (strcmp(t->kind, kv[0]) == 0)
                found = t;
        }
        g_test_message("timer %s", *w);
        if (strcmp(kv[1], "-") == 0) {
            /* Taken away, or never ordered (a decision that moves nothing). */
            g_assert_true(found == NULL || found->due == NULL);
        } else {
            g_assert_nonnull(found);
            g_assert_cmpstr(found->due, ==, kv[1]);
        }
    }
}

static void
test_row(gconstpointer data)
{
    const struct row *r = data;
    struct config *cfg = config_for(r->config);
    struct keys *keys = keys_new("0123456789abcdef0123456789abcdef");
    g_autoptr(GDateTime) now = g_date_time_new_from_iso8601(r->now, NULL);
    struct decision *d = NULL;
    struct ticket *t = NULL;

    g_test_message("%s", r->fact);
    g_assert_nonnull(now);
    if (r->input == MAIL) {
        d = decide_mail(r, cfg, keys, now);
    } else {
        t = ticket_from(&cfg->policy, r->ticket);
        d = r->input == TIMER
                ? router_timer(&cfg->policy, t, r->timer, now)
                : router_admin_status(&cfg->policy, t, r->admin, "ticketctl:test", false, now);
    }
    g_assert_cmpint(d->action, ==, r->action);
    if (r->severity > 0)
        g_assert_cmpint(d->ticket->severity, ==, r->severity);
    if (r->rule != NULL) {
        g_test_message("rule: %s", severity_rule(d));
        g_assert_nonnull(strstr(severity_rule(d), r->rule));
    }
    if (r->stage >= 0)
        g_assert_cmpint(d->ticket->stage, ==, r->stage);
    if (r->notices != NULL) {
        g_autofree char *got = notices_text(d);
        g_assert_cmpstr(got, ==, r->notices);
    }
    if (r->events != NULL) {
        g_auto(GStrv) types = g_strsplit(r->events, " ", -1);
        for (char **e = types; *e != NULL; e++) {
            g_test_message("event %s", *e);
            g_assert_true(has_event(d, *e));
        }
    }
    if (r->no_events != NULL) {
        g_auto(GStrv) types = g_strsplit(r->no_events, " ", -1);
        for (char **e = types; *e != NULL; e++) {
            g_test_message("no event %s", *e);
            g_assert_false(has_event(d, *e));
        }
    }
    if (r->timers != NULL)
        check_timers(d, r->timers);
    if (r->response_due != NULL)
        g_assert_cmpstr(d->ticket->first_response_due, ==,
                        strcmp(r->response_due, "-") == 0 ? NULL : r->response_due);
    if (r->ack != NULL)
        g_assert_cmpstr(d->ack, ==, r->ack);
    if (r->dropped != NULL) {
        g_autoptr(GString) got = g_string_new(NULL);
        for (guint i = 0; d->drop_recipients != NULL && i < d->drop_recipients->len; i++)
            g_string_append_printf(got, "%s%s", i > 0 ? "," : "",
                                   (const char *)g_ptr_array_index(d->drop_recipients, i));
        g_assert_cmpstr(got->len > 0 ? got->str : "-", ==, r->dropped);
    }
    if (r->message_kind != NULL)
        g_assert_cmpstr(sender_kind_name(d->message_kind), ==, r->message_kind);
    /* A notice to a customer goes to exactly one address. */
    for (guint i = 0; i < d->notices->len; i++) {
        const struct notice_order *n = g_ptr_array_index(d->notices, i);
        if (n->to_customer)
            g_assert_cmpuint(n->to->len, ==, 1);
    }
    decision_free(d);
    ticket_free(t);
    keys_free(keys);
}

/* The shipped example configuration escalates a missed response goal:
 * a Stage 0 ticket reaches its support lead. */
static void
test_shipped_config(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *text = NULL;
    g_autofree char *path = NULL;
    struct config *cfg;

    g_assert_true(g_file_get_contents("etc/ticket-milter.conf", &text, NULL, &error));
    g_autofree char *local = g_strconcat(text, "", NULL);
    /* Where the templates are here, not where they are installed. */
    GString *s = g_string_new(local);
    g_string_replace(s, "#template_dir = /usr/local/share/ticket-milter/templates",
                     "template_dir = templates", 1);
    int fd = g_file_open_tmp("test-policy-shipped-XXXXXX.conf", &path, &error);
    g_assert_no_error(error);
    g_assert_true(g_file_set_contents(path, s->str, -1, NULL));
    g_string_free(s, TRUE);
    close(fd);
    cfg = config_load(path, &error);
    g_unlink(path);
    g_assert_no_error(error);

    struct state sev3 = acme_sev3;
    sev3.customer = "acme";
    struct ticket *t = ticket_from(&cfg->policy, &sev3);
    g_autoptr(GDateTime) now = g_date_time_new_from_iso8601("2026-11-27T09:00:00Z", NULL);
    struct decision *d = router_timer(&cfg->policy, t, "response-breach", now);
    g_autofree char *notices = notices_text(d);
    g_assert_cmpint(d->ticket->stage, ==, 1);
    g_assert_true(has_event(d, "sla-breach"));
    g_assert_nonnull(strstr(notices, "escalation-staff>lead@example.com"));
    g_assert_nonnull(strstr(notices, "sla-breach>"));
    decision_free(d);
    ticket_free(t);
    config_unref(cfg);
}

static void
config_unref_cb(gpointer p)
{
    config_unref(p);
}

int
main(int argc, char **argv)
{
    int rc;

    g_test_init(&argc, &argv, NULL);
    parser_init();
    configs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, config_unref_cb);
    for (guint i = 0; i < G_N_ELEMENTS(rows); i++) {
        g_autofree char *name = g_strdup_printf("/policy/%02u", i + 1);
        g_test_add_data_func(name, &rows[i], test_row);
    }
    g_test_add_func("/policy/shipped-config", test_shipped_config);
    rc = g_test_run();
    g_hash_table_unref(configs);
    return rc;
}
