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
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <glib.h>
#include <json-glib/json-glib.h>

#include "cli/options.h"
#include "cli/ticketctl.h"
#include "config/config.h"
#include "config/secret.h"
#include "outbound/scheduler.h"
#include "outbound/ticket-json.h"
#include "parser/mail.h"
#include "store/admin.h"
#include "store/messages.h"
#include "store/store.h"
#include "store/tickets.h"
#include "util/timefmt.h"

#define DEFAULT_CONFIG SYSCONFDIR "/ticket-milter.conf"

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

static void
show_text(const struct ticket *t, GPtrArray *messages, GPtrArray *events)
{
    printf("%s  %s  severity %d  stage %d\n", t->tag, ticket_status_name(t->status), t->severity,
           t->stage);
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
    ticket_json_members(b, t);
    json_builder_set_member_name(b, "messages");
    json_builder_begin_array(b);
    for (guint i = 0; i < messages->len; i++) {
        const struct ticket_message *m = g_ptr_array_index(messages, i);
        json_builder_begin_object(b);
        ticket_json_string(b, "message_id", m->message_id);
        ticket_json_string(b, "direction", m->direction);
        ticket_json_string(b, "kind", m->kind);
        ticket_json_string(b, "from", m->from);
        ticket_json_string(b, "subject", m->subject);
        ticket_json_string(b, "received_at", m->received_at);
        ticket_json_string(b, "queue_id", m->queue_id);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    ticket_json_events(b, events);
    json_builder_end_object(b);
    print_json(b);
}

/* show --raw TAG N: message N of the ticket on stdout, byte for byte. */
static int
show_raw(struct store *st, const struct ticket *t, const char *which)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) raw = NULL;
    guint64 n = 0;
    bool found = false;
    const guint8 *data;
    gsize size;

    if (which == NULL || !g_ascii_string_to_unsigned(which, 10, 1, G_MAXUINT, &n, NULL)) {
        fprintf(stderr, "ticketctl show --raw: which message? e.g. ticketctl show --raw %s 1\n",
                t->tag);
        return EXIT_USAGE;
    }
    if (!store_message_raw(st, t->id, (guint)(n - 1), &found, &raw, &error)) {
        fprintf(stderr, "ticketctl: %s\n", error->message);
        return EXIT_DATABASE;
    }
    if (!found) {
        fprintf(stderr, "ticketctl: %s has no message %" G_GUINT64_FORMAT "\n", t->tag, n);
        return EXIT_NOT_FOUND;
    }
    if (raw == NULL) {
        fprintf(stderr, "ticketctl: message %" G_GUINT64_FORMAT " of %s was purged\n", n, t->tag);
        return EXIT_NOT_FOUND;
    }
    data = g_bytes_get_data(raw, &size);
    if (fwrite(data, 1, size, stdout) != size || fflush(stdout) != 0) {
        fprintf(stderr, "ticketctl: cannot write the message: %s\n", g_strerror(errno));
        return EXIT_USAGE;
    }
    return 0;
}

static int
cmd_show(const char *db_path, const struct options *o)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) messages = NULL;
    g_autoptr(GPtrArray) events = NULL;
    struct store *st;
    const char *tag;
    struct ticket *t;
    int rc = 0;

    if (o->args->len != (o->raw ? 3u : 2u)) {
        fprintf(stderr, o->raw ? "ticketctl: show --raw takes a ticket and a message number, "
                                 "e.g. ticketctl show --raw TKT-42 1\n"
                               : "ticketctl: show takes one ticket, e.g. ticketctl show TKT-42\n");
        return EXIT_USAGE;
    }
    if (o->raw && o->json) {
        fprintf(stderr, "ticketctl: show --raw prints the message itself: no --json\n");
        return EXIT_USAGE;
    }
    st = store_open(db_path, STORE_READ_ONLY, 5000, &error);
    if (st == NULL) {
        fprintf(stderr, "ticketctl: %s\n", error->message);
        return EXIT_DATABASE;
    }
    tag = g_ptr_array_index(o->args, 1);
    t = store_ticket_get_by_tag(st, tag, &error);
    if (t == NULL) {
        store_close(st);
        if (error != NULL) {
            fprintf(stderr, "ticketctl: %s\n", error->message);
            return EXIT_DATABASE;
        }
        fprintf(stderr, "ticketctl: no ticket %s\n", tag);
        return EXIT_NOT_FOUND;
    }
    if (o->raw) {
        rc = show_raw(st, t, g_ptr_array_index(o->args, 2));
        goto done;
    }
    messages = store_ticket_messages(st, t->id, &error);
    if (messages != NULL)
        events = store_ticket_events(st, t->id, &error);
    if (events == NULL) {
        fprintf(stderr, "ticketctl: %s\n", error->message);
        rc = EXIT_DATABASE;
        goto done;
    }
    if (o->json)
        show_json(t, messages, events);
    else
        show_text(t, messages, events);
done:
    ticket_free(t);
    store_close(st);
    return rc;
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
        fprintf(stderr,
                "ticketctl: \"%s\" is not an ISO 8601 time with a zone, e.g. "
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
        fprintf(stderr,
                "ticketctl: %s \"%s\" is not a date (YYYY-MM-DD) or an ISO 8601 time "
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
    if (o->json) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        ticket_json_string(b, "at", at);
        ticket_json_int(b, "due", total_seen);
        ticket_json_int(b, "fired", total_fired);
        json_builder_end_object(b);
        print_json(b);
    } else {
        printf("tick at %s: %u timers due, %u fired\n", at, total_seen, total_fired);
    }
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

/* The commands that take a configuration, or a database alone with --db. */
static int
run(const char *command, struct options *o)
{
    g_autoptr(GError) error = NULL;
    struct config *cfg = NULL;
    const char *db_path;
    bool known;
    int rc;

    /* A backup file is checked on its own: no configuration needed. */
    if (strcmp(command, "verify") == 0)
        return cmd_verify(o);
    /* --db names the database and nothing else: a configuration named
     * with -c still gives the notices, timers and pid file. Without -c,
     * --db works on a database alone, even where no default config is. */
    if (o->db_path == NULL || o->has_config) {
        cfg = config_load(o->config_path, &error);
        if (cfg == NULL) {
            fprintf(stderr, "ticketctl: %s\n", error->message);
            return EXIT_USAGE;
        }
    }
    db_path = o->db_path != NULL ? o->db_path : cfg->database;
    if (strcmp(command, "tick") == 0)
        rc = cmd_tick(cfg, db_path, o);
    else if (strcmp(command, "show") == 0)
        rc = cmd_show(db_path, o);
    else
        rc = run_admin_command(command, cfg, db_path, o, &known);
    config_unref(cfg);
    return rc;
}

int
main(int argc, char **argv)
{
    struct options o;
    int exit_now;
    int rc;

    if (!options_parse(argc, argv, &o, &exit_now) || exit_now >= 0) {
        options_clear(&o);
        return exit_now >= 0 ? exit_now : EXIT_USAGE;
    }
    if (o.config_path == NULL)
        o.config_path = g_strdup(DEFAULT_CONFIG);
    /* Backups and restored databases hold customers' mail: group-readable
     * at most, like the daemon's own files. */
    umask(027);
    rc = run(g_ptr_array_index(o.args, 0), &o);
    options_clear(&o);
    return rc;
}

/* ---- what the commands share ---- */

int
cli_fail(const GError *error, int status)
{
    fprintf(stderr, "ticketctl: %s\n", error != NULL ? error->message : "failed");
    return status;
}

struct admin *
cli_open_admin(const char *db_path, bool writable, GError **error)
{
    struct store *st = store_open(db_path, STORE_READ_ONLY, CLI_READ_BUSY_MS, error);

    if (st == NULL)
        return NULL;
    store_close(st);
    return admin_open(db_path, writable, writable ? CLI_WRITE_BUSY_MS : CLI_READ_BUSY_MS, error);
}

const char *
cli_arg(const struct options *o, guint i)
{
    return i < o->args->len ? g_ptr_array_index(o->args, i) : NULL;
}

char *
cli_human_us(gint64 us)
{
    if (us < 0)
        return g_strdup("-");
    if (us < 1000)
        return g_strdup_printf("%" G_GINT64_FORMAT " us", us);
    if (us < 1000000)
        return g_strdup_printf("%.1f ms", us / 1000.0);
    return g_strdup_printf("%.2f s", us / 1000000.0);
}

char *
cli_human_bytes(gint64 n)
{
    return g_format_size((guint64)(n < 0 ? 0 : n));
}
