/*
 * options - ticketctl's command line, read by GLib's option parser.
 *
 * One table says every command, what it takes and which options apply to
 * it; the parser is built for the command given, so "--limit=5" and
 * "--limit 5" both work, "ticketctl COMMAND --help" lists that command's
 * options only, and an option that does not apply to the command is an
 * error that says so.
 *
 * Edge cases: the global options (-c, --db) may stand before or after the
 * command; the first word that is not an option or an option's value is
 * the command.  Numbers are checked against their range here, dates and
 * durations by the commands (they need the configuration's zone).
 */
#include <stdio.h>
#include <string.h>

#include "cli/options.h"
#include "cli/ticketctl.h"
#include "util/version.h"

#define DEFAULT_CONFIG SYSCONFDIR "/ticket-milter.conf"

enum {
    OPT_JSON = 1 << 0,
    OPT_AT = 1 << 1,
    OPT_BEFORE = 1 << 2,
    OPT_RETENTION = 1 << 3,
    OPT_LIMIT = 1 << 4,
    OPT_PERIOD = 1 << 5,
    OPT_STATUS = 1 << 6,
    OPT_CUSTOMER = 1 << 7,
    OPT_PLAN = 1 << 8,
    OPT_SEVERITY = 1 << 9,
    OPT_OVERDUE = 1 << 10,
    OPT_DUE_WITHIN = 1 << 11,
    OPT_HTML = 1 << 12,
    OPT_LANGUAGE = 1 << 13,
    OPT_QUIET = 1 << 14,
    OPT_FORCE = 1 << 15,
    OPT_RAW = 1 << 16,
    OPT_MBOX = 1 << 17,
};

static const struct command_def {
    const char *name;
    const char *args; /* what follows the command, for the usage line */
    const char *summary;
    unsigned options;
} commands[] = {
    { "list", "", "tickets, oldest first", OPT_JSON | OPT_STATUS | OPT_CUSTOMER | OPT_PERIOD },
    { "show", "TAG [N]", "one ticket (e.g. TKT-42); --raw TAG N: its message N as it arrived",
      OPT_JSON | OPT_RAW },
    { "sla", "", "open tickets by their next deadline",
      OPT_JSON | OPT_AT | OPT_OVERDUE | OPT_DUE_WITHIN | OPT_CUSTOMER | OPT_SEVERITY },
    { "report", "", "the service report of a period",
      OPT_JSON | OPT_AT | OPT_PERIOD | OPT_CUSTOMER | OPT_PLAN | OPT_HTML | OPT_LANGUAGE },
    { "tick", "", "fire the timers that are due (what the daemon does itself)", OPT_JSON | OPT_AT },
    { "stats", "", "what the daemon has done: mail, tickets, acks, SLA, latency", OPT_JSON },
    { "customers", "", "each customer with its open tickets and SLA breaches", OPT_JSON },
    { "close", "TAG", "close a ticket", OPT_JSON | OPT_AT | OPT_QUIET },
    { "reopen", "TAG", "open a closed or resolved ticket again", OPT_JSON | OPT_AT | OPT_QUIET },
    { "search", "TEXT...", "tickets with every word in their subject or messages",
      OPT_JSON | OPT_LIMIT },
    { "unattached", "", "bounces kept on no ticket (they named no mail of ours)",
      OPT_JSON | OPT_LIMIT },
    { "export", "[TAG]", "whole tickets with messages and events, as JSON or an mbox",
      OPT_JSON | OPT_MBOX },
    { "purge", "", "drop the raw mail of closed tickets last changed before a date",
      OPT_JSON | OPT_BEFORE | OPT_AT },
    { "backup", "DIR", "verified online copy into DIR, then prune old copies",
      OPT_JSON | OPT_RETENTION | OPT_AT },
    { "verify", "FILE", "check a backup: integrity and schema version", OPT_JSON },
    { "restore", "FILE", "replace the database by a backup (daemon stopped)",
      OPT_JSON | OPT_FORCE },
};

const char *const *
options_command_names(void)
{
    static const char *names[G_N_ELEMENTS(commands) + 1];

    for (guint i = 0; i < G_N_ELEMENTS(commands); i++)
        names[i] = commands[i].name;
    return names;
}

static const struct command_def *
find_command(const char *name)
{
    for (guint i = 0; name != NULL && i < G_N_ELEMENTS(commands); i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

void
options_usage(FILE *out)
{
    fprintf(out, "usage: ticketctl [-c FILE] [--db PATH|URI] COMMAND [options]\n"
                 "       ticketctl COMMAND --help    the options of one command\n"
                 "       ticketctl --version\ncommands:\n");
    for (guint i = 0; i < G_N_ELEMENTS(commands); i++) {
        g_autofree char *head = g_strdup_printf("%s %s", commands[i].name, commands[i].args);
        fprintf(out, "  %-18s %s\n", head, commands[i].summary);
    }
    fprintf(out, "global options:\n"
                 "  -c, --config FILE  configuration file (default " DEFAULT_CONFIG ")\n"
                 "  --db PATH|URI      use this database (a SQLite file or a PostgreSQL URI)\n"
                 "                     instead of the configured one\n");
}

/* The options global to every command, the command's own after them. */
static GArray *
entries_for(const struct command_def *c, struct options *o, char **severity)
{
    GArray *e = g_array_new(TRUE, TRUE, sizeof(GOptionEntry));
    const GOptionEntry global[] = {
        { "config", 'c', 0, G_OPTION_ARG_FILENAME, &o->config_path,
          "configuration file (default " DEFAULT_CONFIG ")", "FILE" },
        { "db", 0, 0, G_OPTION_ARG_FILENAME, &o->db_path,
          "use this database (a SQLite file or a PostgreSQL URI) instead of the configured one "
          "(the configuration is still read when -c is given)",
          "PATH|URI" },
    };
    const struct {
        unsigned bit;
        GOptionEntry entry;
    } own[] = {
        { OPT_JSON,
          { "json", 0, 0, G_OPTION_ARG_NONE, &o->json, "machine-readable output", NULL } },
        { OPT_AT,
          { "now", 0, 0, G_OPTION_ARG_STRING, &o->at,
            "act or report as if it were T (ISO 8601, e.g. 2026-11-24T10:00:00Z)", "T" } },
        { OPT_AT, { "at", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING, &o->at, NULL, "T" } },
        { OPT_BEFORE,
          { "before", 0, 0, G_OPTION_ARG_STRING, &o->before,
            "the date (YYYY-MM-DD or ISO 8601) before which closed tickets last changed",
            "DATE" } },
        { OPT_RETENTION,
          { "daily", 0, 0, G_OPTION_ARG_INT, &o->daily, "daily copies to keep (default 7)", "N" } },
        { OPT_RETENTION,
          { "weekly", 0, 0, G_OPTION_ARG_INT, &o->weekly, "weekly copies to keep (default 5)",
            "N" } },
        { OPT_RETENTION,
          { "monthly", 0, 0, G_OPTION_ARG_INT, &o->monthly, "monthly copies to keep (default 13)",
            "N" } },
        { OPT_LIMIT,
          { "limit", 0, 0, G_OPTION_ARG_INT, &o->limit, "at most N rows (default 50)", "N" } },
        { OPT_PERIOD,
          { "from", 0, 0, G_OPTION_ARG_STRING, &o->from, "from this date (YYYY-MM-DD or ISO 8601)",
            "DATE" } },
        { OPT_PERIOD,
          { "to", 0, 0, G_OPTION_ARG_STRING, &o->to,
            "to this date (a YYYY-MM-DD includes that day)", "DATE" } },
        { OPT_STATUS,
          { "status", 0, 0, G_OPTION_ARG_STRING, &o->status,
            "only tickets in these statuses (open, pending, resolved, closed)", "S[,S]" } },
        { OPT_CUSTOMER,
          { "customer", 0, 0, G_OPTION_ARG_STRING, &o->customer,
            "only the tickets of this [customer:NAME]", "NAME" } },
        { OPT_PLAN,
          { "plan", 0, 0, G_OPTION_ARG_STRING, &o->plan, "only the tickets of this plan",
            "NAME" } },
        { OPT_SEVERITY,
          { "severity", 0, 0, G_OPTION_ARG_STRING, severity,
            "only tickets of this severity (1 to 4)", "N" } },
        { OPT_OVERDUE,
          { "overdue", 0, 0, G_OPTION_ARG_NONE, &o->overdue, "only tickets with a deadline passed",
            NULL } },
        { OPT_DUE_WITHIN,
          { "due-within", 0, 0, G_OPTION_ARG_STRING, &o->due_within,
            "only tickets due within D (e.g. 90m, 4h, 2d)", "D" } },
        { OPT_HTML,
          { "html", 0, 0, G_OPTION_ARG_FILENAME, &o->html, "write a self-contained HTML file",
            "FILE" } },
        { OPT_LANGUAGE,
          { "language", 0, 0, G_OPTION_ARG_STRING, &o->language,
            "en or nl (default [outbound] language)", "L" } },
        { OPT_QUIET,
          { "quiet", 0, 0, G_OPTION_ARG_NONE, &o->quiet, "do not tell the customer", NULL } },
        { OPT_FORCE,
          { "force", 0, 0, G_OPTION_ARG_NONE, &o->force,
            "the daemon is stopped, whatever its pid file says", NULL } },
        { OPT_RAW,
          { "raw", 0, 0, G_OPTION_ARG_NONE, &o->raw, "print message N of the ticket as it arrived",
            NULL } },
        { OPT_MBOX,
          { "mbox", 0, 0, G_OPTION_ARG_NONE, &o->mbox,
            "the messages as an mbox (mboxrd) a mail client can open", NULL } },
    };

    g_array_append_vals(e, global, G_N_ELEMENTS(global));
    for (guint i = 0; c != NULL && i < G_N_ELEMENTS(own); i++)
        if (c->options & own[i].bit)
            g_array_append_val(e, own[i].entry);
    return e;
}

/* The command: the first word that is neither an option nor the value of
 * a global option. */
static const char *
command_word(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0 || strcmp(a, "--db") == 0) {
            i++;
            continue;
        }
        if (a[0] != '-')
            return a;
    }
    return NULL;
}

static bool
has_arg(int argc, char **argv, const char *want)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], want) == 0)
            return true;
    return false;
}

/* A number option's range. */
static bool
check_range(const char *command, const char *name, int value, int min, int max)
{
    if (value == -1 || (value >= min && value <= max))
        return true;
    fprintf(stderr, "ticketctl %s: --%s is a number from %d to %d\n", command, name, min, max);
    return false;
}

bool
options_parse(int argc, char **argv, struct options *o, int *exit_now)
{
    const char *word = command_word(argc, argv);
    const struct command_def *c = find_command(word);
    g_autofree char *severity = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(GOptionContext) ctx = NULL;
    g_autoptr(GArray) entries = NULL;
    g_auto(GStrv) args = NULL;

    memset(o, 0, sizeof(*o));
    o->daily = o->weekly = o->monthly = -1;
    o->limit = 50;
    o->args = g_ptr_array_new_with_free_func(g_free);
    *exit_now = -1;
    if (word == NULL) {
        if (has_arg(argc, argv, "--version") || has_arg(argc, argv, "-V")) {
            printf("ticketctl %s\n", TM_VERSION);
            *exit_now = 0;
            return true;
        }
        bool help = has_arg(argc, argv, "--help") || has_arg(argc, argv, "-h");
        options_usage(help ? stdout : stderr);
        *exit_now = help ? 0 : EXIT_USAGE;
        return help;
    }
    if (c == NULL) {
        fprintf(stderr, "ticketctl: unknown command \"%s\"\n", word);
        options_usage(stderr);
        *exit_now = EXIT_USAGE;
        return false;
    }
    g_autofree char *param = g_strdup_printf("%s %s", c->name, c->args);
    ctx = g_option_context_new(param);
    g_option_context_set_summary(ctx, c->summary);
    g_option_context_set_description(ctx, "See ticketctl(1) for the details.");
    entries = entries_for(c, o, &severity);
    g_option_context_add_main_entries(ctx, (const GOptionEntry *)entries->data, NULL);
    g_option_context_set_help_enabled(ctx, TRUE);
    args = g_new0(char *, argc + 1);
    for (int i = 0; i < argc; i++)
        args[i] = g_strdup(argv[i]);
    if (!g_option_context_parse_strv(ctx, &args, &error)) {
        fprintf(stderr, "ticketctl %s: %s (\"ticketctl %s --help\" lists its options)\n", c->name,
                error->message, c->name);
        *exit_now = EXIT_USAGE;
        return false;
    }
    o->has_config = has_arg(argc, argv, "-c") || has_arg(argc, argv, "--config");
    for (int i = 0; i < argc; i++)
        o->has_config |= g_str_has_prefix(argv[i], "--config=");
    /* What is left: the program's name, the command and its words. */
    for (char **a = args + 1; *a != NULL; a++)
        g_ptr_array_add(o->args, g_strdup(*a));
    if (severity != NULL) {
        guint64 n = 0;
        if (!g_ascii_string_to_unsigned(severity, 10, 1, 4, &n, NULL)) {
            fprintf(stderr, "ticketctl %s: --severity is 1, 2, 3 or 4\n", c->name);
            *exit_now = EXIT_USAGE;
            return false;
        }
        o->severity = (int)n;
    }
    if (!check_range(c->name, "limit", o->limit, 0, 100000) ||
        !check_range(c->name, "daily", o->daily, 0, 100000) ||
        !check_range(c->name, "weekly", o->weekly, 0, 100000) ||
        !check_range(c->name, "monthly", o->monthly, 0, 100000)) {
        *exit_now = EXIT_USAGE;
        return false;
    }
    return true;
}

void
options_clear(struct options *o)
{
    char **strings[] = { &o->config_path, &o->db_path,    &o->at,     &o->before,
                         &o->from,        &o->to,         &o->status, &o->customer,
                         &o->plan,        &o->due_within, &o->html,   &o->language };

    for (guint i = 0; i < G_N_ELEMENTS(strings); i++)
        g_clear_pointer(strings[i], g_free);
    if (o->args != NULL)
        g_ptr_array_unref(o->args);
    o->args = NULL;
}
