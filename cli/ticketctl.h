/*
 * ticketctl - what the command files of ticketctl share: the parsed
 * command line, the exit statuses and the JSON helpers.
 */
#ifndef TM_CLI_TICKETCTL_H
#define TM_CLI_TICKETCTL_H

#include <stdbool.h>

#include <glib.h>
#include <json-glib/json-glib.h>

#include "config/config.h"
#include "outbound/ticket-json.h"
#include "router/keys.h"
#include "store/report.h"
#include "store/store.h"

/* Exit statuses; the man page lists them. */
enum {
    EXIT_NOT_FOUND = 1, /* no such ticket, or a file that failed verification */
    EXIT_USAGE = 2,
    EXIT_DATABASE = 3,
    EXIT_IN_USE = 4, /* restore refused: the daemon has the database */
};

/* The parsed command line (cli/options.c). Every string is the parser's
 * and freed by options_clear(); NULL when the option was not given. */
struct options {
    char *config_path;
    bool has_config; /* -c was given: load it even with --db */
    char *db_path;
    gboolean json;
    gboolean force; /* restore: the admin says the daemon is stopped */
    gboolean quiet; /* close/reopen: do not tell the customer */
    char *at;       /* --at / --now: the time to act or report at */
    char *before;
    int daily, weekly, monthly; /* -1: the default */
    int limit;                  /* search, unattached: most rows shown */
    /* list, sla, report: which tickets */
    char *from, *to; /* DATE or ISO 8601 */
    char *status;    /* list: status[,status...] */
    char *customer;
    char *plan;
    int severity;     /* 0: any */
    gboolean overdue; /* sla */
    char *due_within; /* sla: a duration */
    char *html;       /* report: the file to write */
    char *language;   /* report: en or nl */
    gboolean raw;     /* show: one message as it arrived */
    gboolean mbox;    /* export: as an mbox */
    GPtrArray *args;  /* command and its arguments */
};

void print_json(JsonBuilder *b);
/* The signing keys from the configured secret file (which this user must
 * be able to read); NULL and ERROR when it cannot be read. */
struct keys *cli_keys(const struct config *cfg, GError **error);
/* The time --at/--now names, else now. NULL (with a message) when unreadable. */
GDateTime *options_time(const struct options *o);

/* DATE (YYYY-MM-DD: midnight in ZONE, or the next one when IS_END, so
 * that a --to date includes its day) or an ISO 8601 time with a zone;
 * NULL (with a message naming OPTION) when it is neither. */
GDateTime *options_date(const char *option, const char *text, const char *zone, bool is_end);
/* The zone of the report's days: [staff] timezone, UTC without a config. */
const char *options_zone(const struct config *cfg);

/* The filter --from, --to, --status, --customer, --plan and --severity
 * name; the period's ends as times and as the store's text. */
struct cli_filter {
    struct store_ticket_filter f; /* created_* and active_since are the caller's to set */
    GDateTime *from, *to;         /* NULL: not given */
    char *from_text, *to_text;
};
/* False (with a message) when an option's value is wrong; clear CF either way. */
bool cli_filter_init(const struct config *cfg, const struct options *o, struct cli_filter *cf);
void cli_filter_clear(struct cli_filter *cf);
/* A report connection to DB_PATH once its schema is checked. */
struct store_report *cli_open_report(const char *db_path, GError **error);

/* Tickets and deadlines (cli/sla-commands.c). */
int cmd_list(const struct config *cfg, const char *db_path, const struct options *o);
int cmd_sla(const struct config *cfg, const char *db_path, const struct options *o);
/* The service report (cli/report.c). */
int cmd_report(const struct config *cfg, const char *db_path, const struct options *o);

/* Long enough to outwait a burst of the daemon's commits. */
#define CLI_WRITE_BUSY_MS 10000
#define CLI_READ_BUSY_MS 5000

struct admin;
/* Prints "ticketctl: MESSAGE" and returns STATUS. */
int cli_fail(const GError *error, int status);
/* Opens DB_PATH for the admin queries after the store has checked that
 * its schema is the one this ticketctl reads. */
struct admin *cli_open_admin(const char *db_path, bool writable, GError **error);
/* Argument I of the command (0 is the command), or NULL. */
const char *cli_arg(const struct options *o, guint i);
/* Microseconds for people: "850 us", "12.3 ms", "2.05 s"; "-" for none. */
char *cli_human_us(gint64 us);
char *cli_human_bytes(gint64 n);

/* The admin commands (cli/admin-commands.c, export-commands.c,
 * backup-commands.c). CFG is NULL with --db and
 * no -c; DB_PATH is --db when given, else the configured database. */
int cmd_stats(const char *db_path, const struct options *o);
int cmd_customers(const struct config *cfg, const char *db_path, const struct options *o);
int cmd_status(const struct config *cfg, const char *db_path, const struct options *o);
int cmd_search(const char *db_path, const struct options *o);
int cmd_unattached(const char *db_path, const struct options *o);
int cmd_export(const char *db_path, const struct options *o);
int cmd_purge(const struct config *cfg, const char *db_path, const struct options *o);
int cmd_backup(const struct config *cfg, const char *db_path, const struct options *o);
int cmd_verify(const struct options *o);
int cmd_restore(const struct config *cfg, const char *db_path, const struct options *o);

#endif
