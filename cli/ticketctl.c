/*
 * ticketctl - the admin's and support lead's view of the ticket database.
 *
 *   ticketctl [-c FILE | --db PATH] list [--json]
 *   ticketctl [-c FILE | --db PATH] show TAG [--json]
 *
 * It opens its own read-only connection: WAL lets it read while the daemon
 * writes, and it can never hold the write lock the milter needs.
 * Exit status: 0 done, 1 no such ticket, 2 usage or config error,
 * 3 database error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <json-glib/json-glib.h>

#include "config/config.h"
#include "store/store.h"

#define DEFAULT_CONFIG SYSCONFDIR "/ticket-milter.conf"

enum { EXIT_NOT_FOUND = 1, EXIT_USAGE = 2, EXIT_DATABASE = 3 };

struct options {
    const char *config_path;
    const char *db_path;
    bool json;
    GPtrArray *args; /* command and its arguments */
};

static void
usage(FILE *out)
{
    fprintf(out, "usage: ticketctl [-c FILE | --db PATH] COMMAND [--json]\n"
                 "commands:\n"
                 "  list            every ticket, oldest first\n"
                 "  show TAG        one ticket (e.g. TKT-42) with its messages and events\n"
                 "options:\n"
                 "  -c FILE         configuration file (default " DEFAULT_CONFIG ")\n"
                 "  --db PATH       read this database instead of the configured one\n"
                 "  --json          machine-readable output\n");
}

static bool
parse_options(int argc, char **argv, struct options *o)
{
    o->config_path = DEFAULT_CONFIG;
    o->args = g_ptr_array_new();
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if ((strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) && i + 1 < argc)
            o->config_path = argv[++i];
        else if (strcmp(a, "--db") == 0 && i + 1 < argc)
            o->db_path = argv[++i];
        else if (strcmp(a, "--json") == 0)
            o->json = true;
        else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            exit(0);
        } else if (a[0] == '-') {
            fprintf(stderr, "ticketctl: unknown option %s\n", a);
            return false;
        } else
            g_ptr_array_add(o->args, (gpointer)a);
    }
    return o->args->len > 0;
}

static void
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
add_string(JsonBuilder *b, const char *name, const char *value)
{
    json_builder_set_member_name(b, name);
    if (value != NULL)
        json_builder_add_string_value(b, value);
    else
        json_builder_add_null_value(b);
}

static void
add_int(JsonBuilder *b, const char *name, gint64 value)
{
    json_builder_set_member_name(b, name);
    json_builder_add_int_value(b, value);
}

/* The members "list" prints; "show" starts from the same. */
static void
ticket_members(JsonBuilder *b, const struct ticket *t)
{
    add_string(b, "id", t->tag);
    add_string(b, "status", t->status);
    add_int(b, "severity", t->severity);
    add_int(b, "stage", t->stage);
    add_string(b, "customer", t->customer);
    add_string(b, "requester", t->requester);
    add_string(b, "subject", t->subject);
    add_string(b, "created_at", t->created_at);
}

static int
cmd_list(struct store *st, const struct options *o)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) tickets = store_ticket_list(st, &error);

    if (tickets == NULL) {
        fprintf(stderr, "ticketctl: %s\n", error->message);
        return EXIT_DATABASE;
    }
    if (o->json) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_array(b);
        for (guint i = 0; i < tickets->len; i++) {
            json_builder_begin_object(b);
            ticket_members(b, g_ptr_array_index(tickets, i));
            json_builder_end_object(b);
        }
        json_builder_end_array(b);
        print_json(b);
        return 0;
    }
    printf("%-10s %-8s %-3s %-5s %-12s %-28s %-20s %s\n", "ID", "STATUS", "SEV", "STAGE",
           "CUSTOMER", "REQUESTER", "CREATED", "SUBJECT");
    for (guint i = 0; i < tickets->len; i++) {
        const struct ticket *t = g_ptr_array_index(tickets, i);
        printf("%-10s %-8s %-3d %-5d %-12s %-28s %-20s %s\n", t->tag, t->status, t->severity,
               t->stage, t->customer != NULL ? t->customer : "-", t->requester, t->created_at,
               t->subject);
    }
    if (tickets->len == 0)
        printf("(no tickets)\n");
    return 0;
}

static void
show_text(const struct ticket *t, GPtrArray *messages, GPtrArray *events)
{
    printf("%s  %s  severity %d  stage %d\n", t->tag, t->status, t->severity, t->stage);
    printf("Customer:  %s\n", t->customer != NULL ? t->customer : "(unknown sender)");
    printf("Requester: %s\n", t->requester);
    printf("Subject:   %s\n", t->subject);
    printf("Created:   %s\n", t->created_at);
    printf("Updated:   %s\n", t->updated_at);
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
        store_ticket_free(t);
        return EXIT_DATABASE;
    }
    if (o->json)
        show_json(t, messages, events);
    else
        show_text(t, messages, events);
    store_ticket_free(t);
    return 0;
}

int
main(int argc, char **argv)
{
    struct options o = { 0 };
    g_autoptr(GError) error = NULL;
    struct config *cfg = NULL;
    struct store *st;
    const char *db_path, *command;
    int rc;

    if (!parse_options(argc, argv, &o)) {
        usage(stderr);
        return EXIT_USAGE;
    }
    db_path = o.db_path;
    if (db_path == NULL) {
        cfg = config_load(o.config_path, &error);
        if (cfg == NULL) {
            fprintf(stderr, "ticketctl: %s\n", error->message);
            return EXIT_USAGE;
        }
        db_path = cfg->database;
    }
    command = g_ptr_array_index(o.args, 0);
    if (strcmp(command, "list") != 0 && strcmp(command, "show") != 0) {
        fprintf(stderr, "ticketctl: unknown command %s\n", command);
        usage(stderr);
        return EXIT_USAGE;
    }
    st = store_open(db_path, STORE_READ_ONLY, 5000, &error);
    if (st == NULL) {
        fprintf(stderr, "ticketctl: %s\n", error->message);
        config_unref(cfg);
        return EXIT_DATABASE;
    }
    rc = strcmp(command, "list") == 0 ? cmd_list(st, &o) : cmd_show(st, &o);
    store_close(st);
    config_unref(cfg);
    g_ptr_array_unref(o.args);
    return rc;
}
