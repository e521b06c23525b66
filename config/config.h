/*
 * config - the daemon's and ticketctl's view of ticket-milter.conf.
 *
 * Reads a GKeyFile, checks every key and value, and returns an immutable
 * struct config.  A config that does not check out is never half-returned:
 * config_load() fails with an error that names the file, the line and the
 * key, so that "ticket-milter -t" can tell the admin exactly what to fix.
 *
 * Ownership: config_load() returns a reference the caller owns; the daemon
 * shares it between threads with config_ref()/config_unref() so that a
 * reload (SIGUSR1) can swap configs while messages are in flight.
 * Addresses and domains are stored lower-case.
 */
#ifndef TM_CONFIG_H
#define TM_CONFIG_H

#include <stdbool.h>

#include <gio/gio.h>
#include <glib.h>

#include "router/policy.h"
#include "templates/template.h"

#define CONFIG_ERROR (config_error_quark())
GQuark config_error_quark(void);

enum config_error_code {
    CONFIG_ERROR_IO,       /* cannot read the file */
    CONFIG_ERROR_SYNTAX,   /* a line that is not a group, key = value or comment */
    CONFIG_ERROR_UNKNOWN,  /* unknown group or key (usually a typo) */
    CONFIG_ERROR_VALUE,    /* a key whose value is out of range or malformed */
    CONFIG_ERROR_MISSING,  /* a required key is absent */
    CONFIG_ERROR_TEMPLATE, /* a template is missing or does not compile */
};

/* The groups of customers are [customer:NAME]. */
#define CONFIG_CUSTOMER_PREFIX "customer:"

struct config {
    int refcount;
    char *path;

    /* [milter] */
    char *socket;               /* libmilter connection spec */
    char *database;             /* SQLite file */
    char **support_addresses;   /* lower-case, at least one */
    char *ticket_prefix;        /* "TKT" */
    char *recipient_delimiter;  /* Postfix's recipient_delimiter: "+" by default */
    guint64 max_message_size;   /* bytes */
    guint64 max_buffered_bytes; /* bytes all messages in flight keep, >= max_message_size */
    enum unknown_senders unknown_senders;
    guint busy_timeout;   /* ms SQLite waits for a lock before we answer 451 */
    char *hostname;       /* used in generated Message-IDs and log lines */
    char *secret_file;    /* the signing secret, a file of its own (0600) */
    guint max_mime_depth; /* nesting beyond this is recorded, not parsed */
    guint max_mime_parts; /* parts beyond this are recorded, not parsed */
    guint max_headers;    /* header fields beyond this are not parsed */
    guint reopen_days;    /* a reply this soon after resolution reopens the ticket */
    enum auto_replies auto_replies;
    enum verify_senders verify_senders;
    char *user;             /* started as root: drop to this user after binding; NULL: stay */
    char *socket_owner;     /* unix: socket owner[:group]; NULL: the daemon's */
    guint socket_mode;      /* unix: socket permission bits */
    char *socket_mode_text; /* as written */
    char *pid_file;         /* NULL: none */
    char *metrics_file;     /* Prometheus textfile; NULL: none */
    guint metrics_interval; /* seconds between two writes of it */

    /* [staff] */
    char **staff_addresses;
    char **staff_domains;
    GPtrArray *trusted_networks; /* GInetAddressMask* */
    char **authserv_ids;
    GPtrArray *authserv_networks; /* GInetAddressMask*: hosts whose Authentication-Results count */
    char **staff_logins;          /* "login:address": SMTP AUTH names that are not the address */
    char *staff_timezone;         /* the support desk's zone: the days and months of reports */

    /* [outbound] */
    char *smtp_url;
    char *from;
    char *webhook_url;       /* NULL when unset */
    guint ack_limit;         /* acknowledgements per recipient per hour */
    guint not_contact_limit; /* not-contact replies per hour, all senders together */
    bool ack_followup;       /* acknowledge follow-ups too */
    char *language;          /* default language of mail we send */
    char *template_dir;      /* DIR/LANG/NAME.txt */
    guint retry_base;        /* seconds before the first retry; doubles each time */
    guint retry_max;         /* longest wait between two attempts, seconds */
    guint give_up;           /* seconds after which a delivery counts as failed */
    guint lease;             /* seconds a daemon holds the outbox rows it claimed */
    struct template_set *templates;

    GPtrArray *customers; /* struct customer*, in file order */

    /* [plan:NAME], the presets first */
    GPtrArray *plans; /* struct plan* */
    /* [severity] */
    struct severity_rules *severity;
    char *severity_aliases, *severity_keywords, *severity_matrix;            /* as written */
    char *severity_keywords_nl, *severity_negations, *severity_negations_nl; /* as written */
    guint severity_keyword_max; /* the most severe a keyword alone makes a message, 1..4 */
    /* [escalation] */
    char **stage_contacts[4]; /* [1..3]: who is told when a ticket enters the stage */
    struct ladder ladder;
    char *sev1_next_after, *sev2_next_after; /* as written */

    /* What the router decides by, pointing into the fields above. */
    struct policy policy;

    /* "group\nkey" -> its line in the file, so that warnings name it. */
    GHashTable *lines;
};

/* The plan called NAME; NULL when there is none. */
const struct plan *config_plan(const struct config *cfg, const char *name);

/* Loads and checks PATH. Returns NULL and sets ERROR (CONFIG_ERROR) with a
 * message of the form "PATH:LINE: [group] key: what is wrong". */
struct config *config_load(const char *path, GError **error);

struct config *config_ref(struct config *cfg);
/* Drops one reference; frees on the last. Returns NULL. */
struct config *config_unref(struct config *cfg);

/* Case-insensitive membership of ADDR in [milter] support_addresses; an
 * address extension (support+tkt-42.mac@) is ignored. */
bool config_is_support_address(const struct config *cfg, const char *addr);

/* What in CFG works but is likely not what the admin meant, one sentence
 * each, naming the key and, when the file sets it, its line ("line 12:
 * [staff] trusted_networks: ..."): escalations that reach nobody but the
 * support mailbox, staff trust or Authentication-Results believed from
 * loopback or from very wide networks, authserv_ids with no
 * authserv_networks, a network in both trusted_networks and
 * authserv_networks, a customer's contact or domain that is also staff,
 * an inet socket.  "ticket-milter -t" prints them and the daemon logs them at
 * start. */
GPtrArray *config_warnings(const struct config *cfg);

/* Whether ADDR (a textual IPv4/IPv6 address) is in [staff] trusted_networks. */
bool config_is_trusted_client(const struct config *cfg, const char *addr);
/* Whether ADDR is in [staff] authserv_networks: the hosts that verify DKIM
 * and DMARC for us and hand the mail on with their Authentication-Results. */
bool config_is_authserv_client(const struct config *cfg, const char *addr);

#endif
