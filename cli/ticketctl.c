/*
 * ticketctl - the admin's and support lead's view of the ticket database.
 *
 *   ticketctl [-c FILE] [--db PATH] show TAG [--json]
 *   ticketctl [-c FILE] [--db PATH] tick [--now ISO8601]
 *   list and sla (cli/sla-commands.c), report (cli/report.c), and the
 *   admin commands of cli/admin-commands.c: stats, customers, close,
 *   reopen, search, export, purge, backup, verify, restore.
 *
 * Readers open their own read-only connection: WAL lets them read while the
 * daemon writes, and they can never hold the write lock the milter needs.
 * Exit status: 0 done, 1 no such ticket (or a backup that failed
 * verification), 2 usage or config error, 3 database error, 4 restore
 * refused because the daemon has the database.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <glib.h>
#include <json-glib/json-glib.h>

#include "cli/ticketctl.h"
#include "config/config.h"
#include "config/secret.h"
#include "outbound/scheduler.h"
#include "parser/mail.h"
#include "store/store.h"
#include "util/timefmt.h"

#define DEFAULT_CONFIG SYSCONFDIR "/ticket-milter.conf"

static void
usage(FILE *out)
{
    fprintf(out,
            "usage: ticketctl [-c FILE] [--db PATH] COMMAND [options]\n"
            "commands:\n"
            "  list              tickets, oldest first (--status, --customer, --from, --to)\n"
            "  show TAG          one ticket (e.g. TKT-42) with its messages and events\n"
            "  sla               open tickets by their next deadline (--overdue,\n"
            "                    --due-within DURATION, --customer, --severity)\n"
            "  report            the service report of a period (--from, --to, --customer,\n"
            "                    --plan, --json or --html FILE, --language en|nl)\n"
            "  tick              fire the timers that are due (what the daemon does itself)\n"
            "  stats             what the daemon has done: mail, tickets, acks, SLA, latency\n"
            "  customers         each customer with its open tickets and SLA breaches\n"
            "  close TAG         close a ticket; reopen TAG opens it again\n"
            "  search TEXT...    tickets with every word in their subject or messages\n"
            "  unattached        bounces kept on no ticket (they named no mail of ours)\n"
            "  export [TAG]      whole tickets with messages and events, as JSON\n"
            "  purge --before DATE  drop raw mail of closed tickets last changed before DATE\n"
            "  backup DIR        verified online copy into DIR, then prune old copies\n"
            "  verify FILE       check a backup: integrity and schema version\n"
            "  restore FILE      replace the database by a backup (daemon stopped)\n"
            "options:\n"
            "  -c FILE           configuration file (default " DEFAULT_CONFIG ")\n"
            "  --db PATH         use this database instead of the configured one (the\n"
            "                    configuration is still read when -c is given)\n"
            "  --json            machine-readable output\n"
            "  --at, --now T     act or report as if it were T\n"
            "                    (ISO 8601, e.g. 2026-11-24T10:00:00Z)\n"
            "  --before DATE     purge: YYYY-MM-DD or ISO 8601\n"
            "  --daily N, --weekly N, --monthly N  backup retention (default 7, 5, 13)\n"
            "  --limit N         search, unattached: at most N rows (default 50)\n"
            "  --from D, --to D  a period: YYYY-MM-DD (--to includes that day) or ISO 8601\n"
            "  --status S[,S]    list: open, pending, resolved, closed\n"
            "  --customer NAME, --plan NAME, --severity N   only those tickets\n"
            "  --overdue         sla: only tickets with a deadline passed\n"
            "  --due-within D    sla: only tickets due within D (e.g. 90m, 4h, 2d)\n"
            "  --html FILE       report: a self-contained HTML file\n"
            "  --language L      report: en or nl (default [outbound] language)\n"
            "  --quiet           close, reopen: do not tell the customer\n"
            "  --force           restore: the daemon is stopped, whatever its pid file says\n");
}

/* A non-negative number for option NAME; -2 (with a message) when not one. */
static int
option_number(const char *name, const char *text)
{
    char *end = NULL;
    gint64 n = g_ascii_strtoll(text, &end, 10);

    if (end == text || *end != '\0' || n < 0 || n > 100000) {
        fprintf(stderr, "ticketctl: %s needs a number from 0 to 100000, not \"%s\"\n", name, text);
        return -2;
    }
    return (int)n;
}

static bool
parse_options(int argc, char **argv, struct options *o)
{
    o->config_path = DEFAULT_CONFIG;
    o->daily = o->weekly = o->monthly = -1;
    o->limit = 50;
    o->args = g_ptr_array_new();
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has_value = i + 1 < argc;
        int *number = NULL;

        if ((strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) && has_value) {
            o->config_path = argv[++i];
            o->has_config = true;
        } else if (strcmp(a, "--db") == 0 && has_value)
            o->db_path = argv[++i];
        else if (strcmp(a, "--json") == 0)
            o->json = true;
        else if (strcmp(a, "--force") == 0)
            o->force = true;
        else if (strcmp(a, "--quiet") == 0)
            o->quiet = true;
        else if ((strcmp(a, "--at") == 0 || strcmp(a, "--now") == 0) && has_value)
            o->at = argv[++i];
        else if (strcmp(a, "--before") == 0 && has_value)
            o->before = argv[++i];
        else if (strcmp(a, "--from") == 0 && has_value)
            o->from = argv[++i];
        else if (strcmp(a, "--to") == 0 && has_value)
            o->to = argv[++i];
        else if (strcmp(a, "--status") == 0 && has_value)
            o->status = argv[++i];
        else if (strcmp(a, "--customer") == 0 && has_value)
            o->customer = argv[++i];
        else if (strcmp(a, "--plan") == 0 && has_value)
            o->plan = argv[++i];
        else if (strcmp(a, "--severity") == 0 && has_value)
            number = &o->severity;
        else if (strcmp(a, "--overdue") == 0)
            o->overdue = true;
        else if (strcmp(a, "--due-within") == 0 && has_value)
            o->due_within = argv[++i];
        else if (strcmp(a, "--html") == 0 && has_value)
            o->html = argv[++i];
        else if (strcmp(a, "--language") == 0 && has_value)
            o->language = argv[++i];
        else if (strcmp(a, "--daily") == 0 && has_value)
            number = &o->daily;
        else if (strcmp(a, "--weekly") == 0 && has_value)
            number = &o->weekly;
        else if (strcmp(a, "--monthly") == 0 && has_value)
            number = &o->monthly;
        else if (strcmp(a, "--limit") == 0 && has_value)
            number = &o->limit;
        else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            exit(0);
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "ticketctl: unknown option %s, or it lacks its value\n", a);
            return false;
        } else
            g_ptr_array_add(o->args, (gpointer)a);
        if (number != NULL && (*number = option_number(a, argv[++i])) < 0)
            return false;
    }
    if (o->severity > 4) {
        fprintf(stderr, "ticketctl: --severity is 1, 2, 3 or 4\n");
        return false;
    }
    return o->args->len > 0;
}

void
print_json(JsonBuilder *b)
{
    g_autoptr(JsonGenerator) gen = json_generator_new();
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    g_autofree char *text = NULL;

    json_generator_set_pretty(gen, TRUE);
    json_generator_set_root(gen, root);
    text = json_generator_to_data(gen, NULL);
    printf("%s\n", text);
}

void
add_string(JsonBuilder *b, const char *name, const char *value)
{
    json_builder_set_member_name(b, name);
    if (value != NULL)
        json_builder_add_string_value(b, value);
    else
        json_builder_add_null_value(b);
}

void
add_int(JsonBuilder *b, const char *name, gint64 value)
{
    json_builder_set_member_name(b, name);
    json_builder_add_int_value(b, value);
}

void
ticket_members(JsonBuilder *b, const struct ticket *t)
{
    add_string(b, "id", t->tag);
    add_string(b, "status", ticket_status_name(t->status));
    add_int(b, "severity", t->severity);
    add_int(b, "stage", t->stage);
    add_string(b, "customer", t->customer);
    add_string(b, "requester", t->requester);
    add_string(b, "subject", t->subject);
    add_string(b, "created_at", t->created_at);
}

static void
show_text(const struct ticket *t, GPtrArray *messages, GPtrArray *events)
{
    printf("%s  %s  severity %d  stage %d\n", t->tag, ticket_status_name(t->status), t->severity, t->stage);
    printf("Customer:  %s\n", t->customer != NULL ? t->customer : "(unknown sender)");
    printf("Requester: %s\n", t->requester);
    printf("Subject:   %s\n", t->subject);
    printf("Created:   %s\n", t->created_at);
    printf("Updated:   %s\n", t->updated_at);
    printf("Plan:      %s\n", t->plan != NULL ? t->plan : "-");
    printf("Response:  due %s, given %s\n", t->first_response_due ? t->first_response_due : "-",
           t->first_response_at ? t->first_response_at : "-");
    printf("Update:    due %s\n", t->next_update_due ? t->next_update_due : "-");
    printf("Resolution: due %s, resolved %s\n", t->resolution_due ? t->resolution_due : "-",
           t->resolved_at ? t->resolved_at : "-");
    printf("\nMessages:\n");
    for (guint i = 0; i < messages->len; i++) {
        const struct ticket_message *m = g_ptr_array_index(messages, i);
        printf("  %s  %-3s %-8s %s  queue=%s  <%s>\n    %s\n", m->received_at, m->direction,
               m->kind, m->from != NULL ? m->from : "-", m->queue_id != NULL ? m->queue_id : "-",
               m->message_id != NULL ? m->message_id : "", m->subject != NULL ? m->subject : "");
    }
    printf("\nEvents:\n");
    for (guint i = 0; i < events->len; i++) {
        const struct ticket_event *e = g_ptr_array_index(events, i);
        printf("  %s  %-10s %s  %s\n", e->at, e->type, e->actor != NULL ? e->actor : "-",
               e->detail != NULL ? e->detail : "");
    }
}

static void
show_json(const struct ticket *t, GPtrArray *messages, GPtrArray *events)
{
    g_autoptr(JsonBuilder) b = json_builder_new();

    json_builder_begin_object(b);
    ticket_members(b, t);
    add_string(b, "updated_at", t->updated_at);
    add_string(b, "plan", t->plan);
    add_string(b, "first_response_due", t->first_response_due);
    add_string(b, "first_response_at", t->first_response_at);
    add_string(b, "next_update_due", t->next_update_due);
    add_string(b, "resolution_due", t->resolution_due);
    add_string(b, "resolved_at", t->resolved_at);
    json_builder_set_member_name(b, "messages");
    json_builder_begin_array(b);
    for (guint i = 0; i < messages->len; i++) {
        const struct ticket_message *m = g_ptr_array_index(messages, i);
        json_builder_begin_object(b);
        add_string(b, "message_id", m->message_id);
        add_string(b, "direction", m->direction);
        add_string(b, "kind", m->kind);
        add_string(b, "from", m->from);
        add_string(b, "subject", m->subject);
        add_string(b, "received_at", m->received_at);
        add_string(b, "queue_id", m->queue_id);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_set_member_name(b, "events");
    json_builder_begin_array(b);
    for (guint i = 0; i < events->len; i++) {
        const struct ticket_event *e = g_ptr_array_index(events, i);
        json_builder_begin_object(b);
        add_string(b, "at", e->at);
        add_string(b, "type", e->type);
        add_string(b, "actor", e->actor);
        json_builder_set_member_name(b, "detail");
        /* The detail is JSON already: embed it as an object, not a string. */
        g_autoptr(JsonNode) detail = e->detail != NULL ? json_from_string(e->detail, NULL) : NULL;
        if (detail != NULL)
            json_builder_add_value(b, g_steal_pointer(&detail));
        else
            json_builder_add_null_value(b);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
    print_json(b);
}

static int
cmd_show(struct store *st, const struct options *o)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) messages = NULL;
    g_autoptr(GPtrArray) events = NULL;
    const char *tag;
    struct ticket *t;

    if (o->args->len != 2) {
        fprintf(stderr, "ticketctl: show takes one ticket, e.g. ticketctl show TKT-42\n");
        return EXIT_USAGE;
    }
    tag = g_ptr_array_index(o->args, 1);
    t = store_ticket_get_by_tag(st, tag, &error);
    if (t == NULL) {
        if (error != NULL) {
            fprintf(stderr, "ticketctl: %s\n", error->message);
            return EXIT_DATABASE;
        }
        fprintf(stderr, "ticketctl: no ticket %s\n", tag);
        return EXIT_NOT_FOUND;
    }
    messages = store_ticket_messages(st, t->id, &error);
    if (messages != NULL)
        events = store_ticket_events(st, t->id, &error);
    if (events == NULL) {
        fprintf(stderr, "ticketctl: %s\n", error->message);
        ticket_free(t);
        return EXIT_DATABASE;
    }
    if (o->json)
        show_json(t, messages, events);
    else
        show_text(t, messages, events);
    ticket_free(t);
    return 0;
}

struct keys *
cli_keys(const struct config *cfg, GError **error)
{
    g_autofree char *secret = config_secret_load(cfg->secret_file, false, NULL, error);
    struct keys *k;

    if (secret == NULL)
        return NULL;
    k = keys_new(secret);
    memset(secret, 0, strlen(secret));
    return k;
}

GDateTime *
options_time(const struct options *o)
{
    GDateTime *t;

    if (o->at == NULL)
        return g_date_time_new_now_utc();
    t = timefmt_parse(o->at);
    if (t == NULL)
        fprintf(stderr, "ticketctl: \"%s\" is not an ISO 8601 time with a zone, e.g. "
                        "2026-11-24T10:00:00Z\n",
                o->at);
    return t;
}

GDateTime *
options_date(const char *option, const char *text, const char *zone, bool is_end)
{
    g_autoptr(GTimeZone) tz = g_time_zone_new_identifier(zone != NULL ? zone : "UTC");
    int y, m, d;
    char end;
    GDateTime *t;

    if (tz == NULL)
        tz = g_time_zone_new_utc();
    if (sscanf(text, "%4d-%2d-%2d%c", &y, &m, &d, &end) == 3 && strlen(text) == 10 &&
        g_date_valid_dmy((GDateDay)d, (GDateMonth)m, (GDateYear)y)) {
        g_autoptr(GDateTime) day = g_date_time_new(tz, y, m, d, 0, 0, 0);
        return is_end ? g_date_time_add_days(day, 1) : g_date_time_ref(day);
    }
    t = timefmt_parse(text);
    if (t == NULL)
        fprintf(stderr, "ticketctl: %s \"%s\" is not a date (YYYY-MM-DD) or an ISO 8601 time "
                        "with a zone\n",
                option, text);
    return t;
}

const char *
options_zone(const struct config *cfg)
{
    return cfg != NULL && cfg->staff_timezone != NULL ? cfg->staff_timezone : "UTC";
}

/* One scheduler pass, committed in batches: for cron, tests and catching
 * up after downtime. The daemon does the same by itself. */
static int
cmd_tick(const struct config *cfg, const char *db_path, const struct options *o)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GDateTime) now = options_time(o);
    struct keys *keys = NULL;
    g_autofree char *at = NULL;
    guint seen = 0, fired = 0, total_seen = 0, total_fired = 0;
    struct store *st;

    if (now == NULL)
        return EXIT_USAGE;
    if (cfg == NULL) {
        fprintf(stderr, "ticketctl: tick renders notices and needs the configuration (-c)\n");
        return EXIT_USAGE;
    }
    parser_init();
    keys = cli_keys(cfg, &error);
    if (keys == NULL) {
        fprintf(stderr, "ticketctl: %s\n", error->message);
        return EXIT_USAGE;
    }
    st = store_open(db_path, STORE_READ_WRITE, 10000, &error);
    if (st == NULL) {
        fprintf(stderr, "ticketctl: %s\n", error->message);
        keys_free(keys);
        return EXIT_DATABASE;
    }
    do {
        if (!store_begin(st, &error) ||
            !scheduler_run(st, cfg, keys, now, 500, &seen, &fired, &error) ||
            !store_commit(st, &error)) {
            store_rollback(st);
            fprintf(stderr, "ticketctl: %s\n", error != NULL ? error->message : "tick failed");
            store_close(st);
            keys_free(keys);
            return EXIT_DATABASE;
        }
        total_seen += seen;
        total_fired += fired;
    } while (seen == 500);
    store_close(st);
    keys_free(keys);
    at = timefmt_iso8601(now);
    printf("tick at %s: %u timers due, %u fired\n", at, total_seen, total_fired);
    return 0;
}

/* The admin commands, which open the database their own way. */
static int
run_admin_command(const char *command, const struct config *cfg, const char *db_path,
                  const struct options *o, bool *known)
{
    *known = true;
    if (strcmp(command, "stats") == 0)
        return cmd_stats(db_path, o);
    if (strcmp(command, "customers") == 0)
        return cmd_customers(cfg, db_path, o);
    if (strcmp(command, "list") == 0)
        return cmd_list(cfg, db_path, o);
    if (strcmp(command, "sla") == 0)
        return cmd_sla(cfg, db_path, o);
    if (strcmp(command, "report") == 0)
        return cmd_report(cfg, db_path, o);
    if (strcmp(command, "close") == 0 || strcmp(command, "reopen") == 0)
        return cmd_status(cfg, db_path, o);
    if (strcmp(command, "search") == 0)
        return cmd_search(db_path, o);
    if (strcmp(command, "unattached") == 0)
        return cmd_unattached(db_path, o);
    if (strcmp(command, "export") == 0)
        return cmd_export(db_path, o);
    if (strcmp(command, "purge") == 0)
        return cmd_purge(cfg, db_path, o);
    if (strcmp(command, "backup") == 0)
        return cmd_backup(cfg, db_path, o);
    if (strcmp(command, "restore") == 0)
        return cmd_restore(cfg, db_path, o);
    *known = false;
    return EXIT_USAGE;
}

int
main(int argc, char **argv)
{
    struct options o = { 0 };
    g_autoptr(GError) error = NULL;
    struct config *cfg = NULL;
    struct store *st;
    const char *db_path, *command;
    bool known;
    int rc;

    if (!parse_options(argc, argv, &o)) {
        usage(stderr);
        return EXIT_USAGE;
    }
    /* Backups and restored databases hold customers' mail: group-readable
     * at most, like the daemon's own files. */
    umask(027);
    command = g_ptr_array_index(o.args, 0);
    /* A backup file is checked on its own: no configuration needed. */
    if (strcmp(command, "verify") == 0) {
        rc = cmd_verify(&o);
        g_ptr_array_unref(o.args);
        return rc;
    }
    /* --db names the database and nothing else: a configuration named
     * with -c still gives the notices, timers and pid file. Without -c,
     * --db works on a database alone, even where no default config is. */
    if (o.db_path == NULL || o.has_config) {
        cfg = config_load(o.config_path, &error);
        if (cfg == NULL) {
            fprintf(stderr, "ticketctl: %s\n", error->message);
            return EXIT_USAGE;
        }
    }
    db_path = o.db_path != NULL ? o.db_path : cfg->database;
    if (strcmp(command, "tick") == 0) {
        rc = cmd_tick(cfg, db_path, &o);
        config_unref(cfg);
        g_ptr_array_unref(o.args);
        return rc;
    }
    rc = run_admin_command(command, cfg, db_path, &o, &known);
    if (known) {
        config_unref(cfg);
        g_ptr_array_unref(o.args);
        return rc;
    }
    if (strcmp(command, "show") != 0) {
        fprintf(stderr, "ticketctl: unknown command %s\n", command);
        usage(stderr);
        config_unref(cfg);
        return EXIT_USAGE;
    }
    st = store_open(db_path, STORE_READ_ONLY, 5000, &error);
    if (st == NULL) {
        fprintf(stderr, "ticketctl: %s\n", error->message);
        config_unref(cfg);
        return EXIT_DATABASE;
    }
    rc = cmd_show(st, &o);
    store_close(st);
    config_unref(cfg);
    g_ptr_array_unref(o.args);
    return rc;
}
