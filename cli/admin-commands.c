/*
 * admin-commands - ticketctl's commands for the mail admin: stats,
 * customers, close/reopen, search, export, purge, backup, verify, restore.
 *
 * Each prints one sentence naming the file or ticket when it fails, and
 * returns an exit status (cli/ticketctl.h). The daemon may be running
 * throughout: readers take one snapshot; writers use BEGIN IMMEDIATE with a
 * busy timeout, and only restore insists on having the database alone.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <glib.h>
#include <json-glib/json-glib.h>

#include "cli/ticketctl.h"
#include "outbound/apply.h"
#include "parser/mail.h"
#include "router/timer.h"
#include "store/admin.h"
#include "store/counters.h"
#include "util/timefmt.h"

/* Long enough to outwait a burst of the daemon's commits. */
#define WRITE_BUSY_TIMEOUT_MS 10000
#define READ_BUSY_TIMEOUT_MS 5000

static int
fail(const GError *error, int status)
{
    fprintf(stderr, "ticketctl: %s\n", error != NULL ? error->message : "failed");
    return status;
}

/* Opens DB_PATH for the admin queries after the store has checked that
 * its schema is the one this ticketctl reads. */
static struct admin *
open_checked(const char *db_path, bool writable, GError **error)
{
    struct store *st = store_open(db_path, STORE_READ_ONLY, READ_BUSY_TIMEOUT_MS, error);

    if (st == NULL)
        return NULL;
    store_close(st);
    return admin_open(db_path, writable, writable ? WRITE_BUSY_TIMEOUT_MS : READ_BUSY_TIMEOUT_MS,
                      error);
}

static const char *
arg(const struct options *o, guint i)
{
    return i < o->args->len ? g_ptr_array_index(o->args, i) : NULL;
}

/* Microseconds for people: "850 us", "12.3 ms", "2.05 s"; "-" for none. */
static char *
human_us(gint64 us)
{
    if (us < 0)
        return g_strdup("-");
    if (us < 1000)
        return g_strdup_printf("%" G_GINT64_FORMAT " us", us);
    if (us < 1000000)
        return g_strdup_printf("%.1f ms", us / 1000.0);
    return g_strdup_printf("%.2f s", us / 1000000.0);
}

static char *
human_bytes(gint64 n)
{
    return g_format_size((guint64)(n < 0 ? 0 : n));
}

/* ---- stats ---- */

/* Counter names with PREFIX, sorted, without the prefix. */
static GPtrArray *
counter_reasons(const struct admin_stats *s, const char *prefix)
{
    GPtrArray *names = g_ptr_array_new();
    GHashTableIter it;
    gpointer key;

    g_hash_table_iter_init(&it, s->counters);
    while (g_hash_table_iter_next(&it, &key, NULL))
        if (g_str_has_prefix(key, prefix))
            g_ptr_array_add(names, key);
    return names;
}

static gint
compare_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void
reasons_json(JsonBuilder *b, const struct admin_stats *s, const char *name, const char *prefix)
{
    g_autoptr(GPtrArray) names = counter_reasons(s, prefix);

    g_ptr_array_sort(names, compare_names);
    json_builder_set_member_name(b, name);
    json_builder_begin_object(b);
    for (guint i = 0; i < names->len; i++) {
        const char *full = g_ptr_array_index(names, i);
        ticket_json_int(b, full + strlen(prefix), admin_stats_counter(s, full));
    }
    json_builder_end_object(b);
}

static void
latency_json(JsonBuilder *b, const char *name, gint64 p50, gint64 p99, gint64 samples)
{
    json_builder_set_member_name(b, name);
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "p50");
    if (p50 >= 0)
        json_builder_add_int_value(b, p50);
    else
        json_builder_add_null_value(b);
    json_builder_set_member_name(b, "p99");
    if (p99 >= 0)
        json_builder_add_int_value(b, p99);
    else
        json_builder_add_null_value(b);
    if (samples >= 0)
        ticket_json_int(b, "samples", samples);
    json_builder_end_object(b);
}

/* Commit latency is what the daemon last measured; "not yet" is -1. */
static gint64
counter_or_none(const struct admin_stats *s, const char *name)
{
    return g_hash_table_contains(s->counters, name) ? admin_stats_counter(s, name) : -1;
}

static void
stats_json(const struct admin_stats *s)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autoptr(GPtrArray) all = counter_reasons(s, "");

    json_builder_begin_object(b);
    ticket_json_int(b, "messages_seen", admin_stats_counter(s, "messages_seen"));
    ticket_json_int(b, "tickets_created", admin_stats_counter(s, "tickets_created"));
    ticket_json_int(b, "followups", admin_stats_counter(s, "followups"));
    ticket_json_int(b, "staff_replies", admin_stats_counter(s, "staff_replies"));
    reasons_json(b, s, "tempfails", "tempfail_");
    reasons_json(b, s, "rejects", "reject_");
    json_builder_set_member_name(b, "tickets");
    json_builder_begin_object(b);
    ticket_json_int(b, "total", s->tickets_total);
    ticket_json_int(b, "open", s->tickets_open);
    json_builder_end_object(b);
    json_builder_set_member_name(b, "acks");
    json_builder_begin_object(b);
    ticket_json_int(b, "sent", s->acks_sent);
    ticket_json_int(b, "failed", s->acks_failed);
    ticket_json_int(b, "pending", s->acks_pending);
    json_builder_end_object(b);
    json_builder_set_member_name(b, "sla");
    json_builder_begin_object(b);
    ticket_json_int(b, "warnings", s->sla_warnings);
    ticket_json_int(b, "breaches", s->sla_breaches);
    json_builder_end_object(b);
    ticket_json_int(b, "outbox_depth", s->outbox_depth);
    latency_json(b, "commit_latency_us", counter_or_none(s, "commit_us_p50"),
                 counter_or_none(s, "commit_us_p99"), -1);
    latency_json(b, "ack_latency_us", s->ack_latency_p50_us, s->ack_latency_p99_us,
                 s->ack_latency_samples);
    /* Everything the daemon counts, for whoever graphs more than we show. */
    g_ptr_array_sort(all, compare_names);
    json_builder_set_member_name(b, "counters");
    json_builder_begin_object(b);
    for (guint i = 0; i < all->len; i++)
        ticket_json_int(b, g_ptr_array_index(all, i),
                admin_stats_counter(s, g_ptr_array_index(all, i)));
    json_builder_end_object(b);
    json_builder_end_object(b);
    print_json(b);
}

static void
reasons_text(const struct admin_stats *s, const char *title, const char *prefix)
{
    g_autoptr(GPtrArray) names = counter_reasons(s, prefix);
    gint64 total = 0;

    g_ptr_array_sort(names, compare_names);
    for (guint i = 0; i < names->len; i++)
        total += admin_stats_counter(s, g_ptr_array_index(names, i));
    printf("%-24s %" G_GINT64_FORMAT "\n", title, total);
    for (guint i = 0; i < names->len; i++) {
        const char *full = g_ptr_array_index(names, i);
        printf("  %-22s %" G_GINT64_FORMAT "\n", full + strlen(prefix),
               admin_stats_counter(s, full));
    }
}

static void
stats_text(const struct admin_stats *s)
{
    g_autofree char *c50 = human_us(counter_or_none(s, "commit_us_p50"));
    g_autofree char *c99 = human_us(counter_or_none(s, "commit_us_p99"));
    g_autofree char *a50 = human_us(s->ack_latency_p50_us);
    g_autofree char *a99 = human_us(s->ack_latency_p99_us);

    printf("%-24s %" G_GINT64_FORMAT "\n", "Messages seen",
           admin_stats_counter(s, "messages_seen"));
    printf("%-24s %" G_GINT64_FORMAT "\n", "Tickets created",
           admin_stats_counter(s, "tickets_created"));
    printf("%-24s %" G_GINT64_FORMAT "\n", "Follow-ups", admin_stats_counter(s, "followups"));
    printf("%-24s %" G_GINT64_FORMAT "\n", "Staff replies",
           admin_stats_counter(s, "staff_replies"));
    reasons_text(s, "Tempfails", "tempfail_");
    reasons_text(s, "Rejects", "reject_");
    printf("%-24s %" G_GINT64_FORMAT " open of %" G_GINT64_FORMAT "\n", "Tickets",
           s->tickets_open, s->tickets_total);
    printf("%-24s %" G_GINT64_FORMAT " sent, %" G_GINT64_FORMAT " failed, %" G_GINT64_FORMAT
           " pending\n",
           "Acknowledgements", s->acks_sent, s->acks_failed, s->acks_pending);
    printf("%-24s p50 %s, p99 %s (last %" G_GINT64_FORMAT " sent)\n", "  queue to relay", a50,
           a99, s->ack_latency_samples);
    printf("%-24s %" G_GINT64_FORMAT " warnings, %" G_GINT64_FORMAT " breaches\n", "SLA",
           s->sla_warnings, s->sla_breaches);
    printf("%-24s %" G_GINT64_FORMAT " pending\n", "Outbox", s->outbox_depth);
    printf("%-24s p50 %s, p99 %s\n", "Commit latency", c50, c99);
}

int
cmd_stats(const char *db_path, const struct options *o)
{
    g_autoptr(GError) error = NULL;
    struct admin *a = open_checked(db_path, false, &error);
    struct admin_stats s;
    bool ok;

    if (a == NULL)
        return fail(error, EXIT_DATABASE);
    ok = admin_stats_read(a, &s, &error);
    admin_close(a);
    if (!ok) {
        admin_stats_clear(&s);
        return fail(error, EXIT_DATABASE);
    }
    if (o->json)
        stats_json(&s);
    else
        stats_text(&s);
    admin_stats_clear(&s);
    return 0;
}

/* ---- customers ---- */

static const struct admin_customer *
find_customer(GPtrArray *rows, const char *name)
{
    for (guint i = 0; i < rows->len; i++) {
        const struct admin_customer *c = g_ptr_array_index(rows, i);
        if (g_strcmp0(c->name, name) == 0)
            return c;
    }
    return NULL;
}

static void
customer_out(JsonBuilder *b, const char *name, const struct admin_customer *c, bool in_config)
{
    static const struct admin_customer none = { 0 };

    if (c == NULL)
        c = &none;
    if (b != NULL) {
        json_builder_begin_object(b);
        ticket_json_string(b, "customer", name);
        ticket_json_int(b, "open", c->open);
        ticket_json_int(b, "open_breached", c->open_breached);
        ticket_json_int(b, "breaches", c->breaches);
        ticket_json_int(b, "tickets", c->tickets);
        json_builder_set_member_name(b, "in_config");
        json_builder_add_boolean_value(b, in_config);
        json_builder_end_object(b);
        return;
    }
    printf("%-20s %6" G_GINT64_FORMAT " %14" G_GINT64_FORMAT " %9" G_GINT64_FORMAT
           " %8" G_GINT64_FORMAT "%s\n",
           name, c->open, c->open_breached, c->breaches, c->tickets,
           in_config || g_strcmp0(name, "unknown") == 0 ? "" : "  (not in the configuration)");
}

int
cmd_customers(const struct config *cfg, const char *db_path, const struct options *o)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) rows = NULL;
    g_autoptr(JsonBuilder) b = o->json ? json_builder_new() : NULL;
    struct admin *a = open_checked(db_path, false, &error);

    if (a == NULL)
        return fail(error, EXIT_DATABASE);
    rows = admin_customers(a, &error);
    admin_close(a);
    if (rows == NULL)
        return fail(error, EXIT_DATABASE);
    if (b != NULL)
        json_builder_begin_array(b);
    else
        printf("%-20s %6s %14s %9s %8s\n", "CUSTOMER", "OPEN", "OPEN-BREACHED", "BREACHES",
               "TICKETS");
    /* The configured customers first, in the file's order, with or
     * without tickets; then names only the database still knows. */
    for (guint i = 0; cfg != NULL && i < cfg->customers->len; i++) {
        const struct customer *c = g_ptr_array_index(cfg->customers, i);
        customer_out(b, c->name, find_customer(rows, c->name), true);
    }
    for (guint i = 0; i < rows->len; i++) {
        const struct admin_customer *c = g_ptr_array_index(rows, i);
        bool configured = false;
        for (guint k = 0; c->name != NULL && cfg != NULL && k < cfg->customers->len; k++)
            configured |= strcmp(((struct customer *)g_ptr_array_index(cfg->customers, k))->name,
                                 c->name) == 0;
        if (c->name != NULL && !configured)
            customer_out(b, c->name, c, cfg == NULL);
    }
    customer_out(b, "unknown", find_customer(rows, NULL), false);
    if (b != NULL) {
        json_builder_end_array(b);
        print_json(b);
    }
    return 0;
}

/* ---- close and reopen ---- */

struct status_job {
    const struct config *cfg;
    const struct options *o;
    const char *tag;
    enum ticket_status to;
    GDateTime *now;
};

/* {"id", "from", "to", "changed", "customer_told"} for close/reopen --json. */
static void
print_status_change(const struct ticket *t, enum ticket_status to, bool changed, bool told)
{
    g_autoptr(JsonBuilder) b = json_builder_new();

    json_builder_begin_object(b);
    ticket_json_string(b, "id", t->tag);
    ticket_json_string(b, "from", ticket_status_name(t->status));
    ticket_json_string(b, "to", ticket_status_name(to));
    json_builder_set_member_name(b, "changed");
    json_builder_add_boolean_value(b, changed);
    json_builder_set_member_name(b, "customer_told");
    json_builder_add_boolean_value(b, told);
    json_builder_end_object(b);
    print_json(b);
}

/* Inside BEGIN IMMEDIATE: the router decides, the applier writes. Returns
 * an exit status, -1 for "nothing to do". */
static int
status_change(struct store *st, struct status_job *job, GError **error)
{
    g_autofree char *actor = g_strdup_printf("ticketctl:%s", g_get_user_name());
    struct ticket *t = store_ticket_get_by_tag(st, job->tag, error);
    struct keys *keys = NULL;
    struct decision *d;
    struct apply_result r = { 0 };
    bool ok;

    if (t == NULL)
        return *error != NULL ? EXIT_DATABASE : EXIT_NOT_FOUND;
    if (t->status == job->to || (job->to == TICKET_OPEN && t->status == TICKET_PENDING)) {
        if (job->o->json)
            print_status_change(t, t->status, false, false);
        else
            printf("%s is already %s: nothing to do\n", t->tag, ticket_status_name(t->status));
        ticket_free(t);
        return -1;
    }
    d = router_admin_status(job->cfg != NULL ? &job->cfg->policy : NULL, t, job->to, actor,
                            job->o->quiet, job->now);
    /* Notices are signed: only a user who can read the secret sends them. */
    if (d->notices->len > 0 && (keys = cli_keys(job->cfg, error)) == NULL) {
        decision_free(d);
        ticket_free(t);
        return EXIT_USAGE;
    }
    /* Without a configuration the decision has no notice: nothing of the
     * config is needed to write it. */
    ok = apply_decision(st, job->cfg, keys, d, NULL, job->now, &r, error);
    bool told = decision_count_notices(d, "status-change") > 0;
    if (ok && job->o->json)
        print_status_change(t, d->ticket->status, true, told);
    else if (ok)
        printf("%s: %s -> %s%s\n", t->tag, ticket_status_name(t->status),
               ticket_status_name(d->ticket->status), told ? "; the customer is told" : "");
    apply_result_clear(&r);
    keys_free(keys);
    decision_free(d);
    ticket_free(t);
    return ok ? 0 : EXIT_DATABASE;
}

int
cmd_status(const struct config *cfg, const char *db_path, const struct options *o)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GDateTime) now = options_time(o);
    const char *command = arg(o, 0);
    struct status_job job = {
        .cfg = cfg,
        .o = o,
        .tag = arg(o, 1),
        .to = strcmp(command, "close") == 0 ? TICKET_CLOSED : TICKET_OPEN,
        .now = now,
    };
    struct store *st;
    int rc;

    if (job.tag == NULL || o->args->len != 2) {
        fprintf(stderr, "ticketctl: %s takes one ticket, e.g. ticketctl %s TKT-42\n", command,
                command);
        return EXIT_USAGE;
    }
    if (now == NULL)
        return EXIT_USAGE;
    if (!g_file_test(db_path, G_FILE_TEST_IS_REGULAR)) {
        fprintf(stderr, "ticketctl: %s: no such database file\n", db_path);
        return EXIT_DATABASE;
    }
    if (cfg != NULL)
        parser_init();
    st = store_open(db_path, STORE_READ_WRITE, WRITE_BUSY_TIMEOUT_MS, &error);
    if (st == NULL)
        return fail(error, EXIT_DATABASE);
    if (!store_begin(st, &error)) {
        store_close(st);
        return fail(error, EXIT_DATABASE);
    }
    rc = status_change(st, &job, &error);
    if (rc == 0 && !store_commit(st, &error))
        rc = EXIT_DATABASE;
    if (rc != 0)
        store_rollback(st);
    store_close(st);
    if (rc == EXIT_NOT_FOUND)
        fprintf(stderr, "ticketctl: no ticket %s\n", job.tag);
    else if (rc == EXIT_DATABASE)
        return fail(error, rc);
    return rc < 0 ? 0 : rc;
}

/* ---- unattached bounces ---- */

int
cmd_unattached(const char *db_path, const struct options *o)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) rows = NULL;
    struct admin *a = open_checked(db_path, false, &error);

    if (a == NULL)
        return fail(error, EXIT_DATABASE);
    rows = admin_unattached(a, (guint)o->limit, &error);
    admin_close(a);
    if (rows == NULL)
        return fail(error, EXIT_DATABASE);
    if (o->json) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_array(b);
        for (guint i = 0; i < rows->len; i++) {
            const struct admin_unattached *u = g_ptr_array_index(rows, i);
            json_builder_begin_object(b);
            ticket_json_int(b, "id", u->id);
            ticket_json_string(b, "received_at", u->received_at);
            ticket_json_string(b, "queue_id", u->queue_id);
            ticket_json_string(b, "envelope_from", u->envelope_from);
            ticket_json_string(b, "from", u->from);
            ticket_json_string(b, "subject", u->subject);
            ticket_json_string(b, "message_id", u->message_id);
            ticket_json_string(b, "reason", u->reason);
            json_builder_end_object(b);
        }
        json_builder_end_array(b);
        print_json(b);
        return 0;
    }
    for (guint i = 0; i < rows->len; i++) {
        const struct admin_unattached *u = g_ptr_array_index(rows, i);
        printf("%s  queue=%s  from=<%s> envelope=<%s>\n    %s\n", u->received_at,
               u->queue_id != NULL ? u->queue_id : "-", u->from != NULL ? u->from : "",
               u->envelope_from != NULL ? u->envelope_from : "",
               u->subject != NULL ? u->subject : "");
    }
    if (rows->len == 0)
        printf("(no unattached mail)\n");
    return 0;
}

/* ---- search ---- */

int
cmd_search(const char *db_path, const struct options *o)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) hits = NULL;
    g_autofree char *text = NULL;
    struct admin *a;

    if (o->args->len < 2) {
        fprintf(stderr, "ticketctl: search needs words to look for, e.g. ticketctl search "
                        "checkout error\n");
        return EXIT_USAGE;
    }
    {
        GString *words = g_string_new(NULL);
        for (guint i = 1; i < o->args->len; i++)
            g_string_append_printf(words, "%s%s", i > 1 ? " " : "",
                                   (const char *)g_ptr_array_index(o->args, i));
        text = g_string_free(words, FALSE);
    }
    a = open_checked(db_path, false, &error);
    if (a == NULL)
        return fail(error, EXIT_DATABASE);
    hits = admin_search(a, text, o->limit > 0 ? (guint)o->limit : 50, &error);
    admin_close(a);
    if (hits == NULL)
        return fail(error, EXIT_DATABASE);
    if (o->json) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_array(b);
        for (guint i = 0; i < hits->len; i++) {
            const struct admin_hit *h = g_ptr_array_index(hits, i);
            json_builder_begin_object(b);
            ticket_json_string(b, "id", h->tag);
            ticket_json_string(b, "status", h->status);
            ticket_json_string(b, "subject", h->subject);
            ticket_json_string(b, "snippet", h->snippet);
            json_builder_end_object(b);
        }
        json_builder_end_array(b);
        print_json(b);
        return 0;
    }
    for (guint i = 0; i < hits->len; i++) {
        const struct admin_hit *h = g_ptr_array_index(hits, i);
        /* One line of context, whatever the lines of the mail were. */
        g_autofree char *context = g_strdup(h->snippet != NULL ? h->snippet : "");
        g_strdelimit(context, "\r\n\t", ' ');
        printf("%-10s %-8s %s\n           %s\n", h->tag, h->status, h->subject, context);
    }
    if (hits->len == 0)
        printf("(no ticket has \"%s\")\n", text);
    return 0;
}

/* ---- export ---- */

static void
export_messages(JsonBuilder *b, GPtrArray *messages)
{
    json_builder_set_member_name(b, "messages");
    json_builder_begin_array(b);
    for (guint i = 0; i < messages->len; i++) {
        const struct admin_message *m = g_ptr_array_index(messages, i);
        json_builder_begin_object(b);
        ticket_json_string(b, "message_id", m->message_id);
        ticket_json_string(b, "direction", m->direction);
        ticket_json_string(b, "kind", m->kind);
        ticket_json_string(b, "from", m->from);
        ticket_json_string(b, "to", m->to);
        ticket_json_string(b, "cc", m->cc);
        ticket_json_string(b, "subject", m->subject);
        ticket_json_string(b, "in_reply_to", m->in_reply_to);
        ticket_json_string(b, "references", m->references);
        ticket_json_string(b, "received_at", m->received_at);
        ticket_json_string(b, "queue_id", m->queue_id);
        ticket_json_string(b, "envelope_from", m->envelope_from);
        ticket_json_string(b, "client_addr", m->client_addr);
        json_builder_set_member_name(b, "raw_size");
        if (m->raw_size >= 0)
            json_builder_add_int_value(b, m->raw_size);
        else
            json_builder_add_null_value(b); /* purged */
        ticket_json_string(b, "text", m->text);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
}

struct export_out {
    JsonGenerator *gen;
    guint written;
};

/* One ticket at a time, so that exporting a large database takes the
 * memory of its largest ticket, not of all of them. */
static bool
export_one(const struct ticket *t, GPtrArray *messages, GPtrArray *events, void *data,
           GError **error)
{
    struct export_out *out = data;
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autoptr(JsonNode) root = NULL;
    g_autofree char *text = NULL;

    json_builder_begin_object(b);
    ticket_json_members(b, t);
    export_messages(b, messages);
    ticket_json_events(b, events);
    json_builder_end_object(b);
    root = json_builder_get_root(b);
    json_generator_set_root(out->gen, root);
    text = json_generator_to_data(out->gen, NULL);
    if (printf("%s%s", out->written > 0 ? ",\n" : "", text) < 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot write the export: %s",
                    g_strerror(errno));
        return false;
    }
    out->written++;
    return true;
}

static void
ticket_free_cb(gpointer t)
{
    ticket_free(t);
}

/* The "From " line of an mbox entry: who, and when in asctime's form. */
static void
mbox_from_line(GString *out, const char *from, const char *received_at)
{
    static const char *const days[] = { "", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
    static const char *const months[] = { "", "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
    g_autoptr(GDateTime) t = received_at != NULL ? timefmt_parse(received_at) : NULL;
    g_autoptr(GDateTime) when = t != NULL ? g_date_time_ref(t) : g_date_time_new_now_utc();
    g_autofree char *clock = g_date_time_format(when, "%H:%M:%S");

    /* An address with a blank would split the line: it is no address. */
    g_string_append_printf(out, "From %s %s %s %2d %s %d\n",
                           from != NULL && *from != '\0' && strpbrk(from, " \t\r\n") == NULL
                               ? from
                               : "MAILER-DAEMON",
                           days[g_date_time_get_day_of_week(when)],
                           months[g_date_time_get_month(when)],
                           g_date_time_get_day_of_month(when), clock,
                           g_date_time_get_year(when));
}

/* RAW as an mboxrd entry: LF line ends, every line that starts with
 * ">*From " gets one more '>', a blank line after. */
static void
mbox_body(GString *out, const guint8 *raw, gsize len)
{
    const char *p = (const char *)raw, *end = p + len;

    while (p < end) {
        const char *eol = memchr(p, '\n', (gsize)(end - p));
        const char *stop = eol != NULL ? eol : end;
        const char *q = p;
        gsize n;
        while (q < stop && *q == '>')
            q++;
        if ((gsize)(stop - q) >= 5 && memcmp(q, "From ", 5) == 0)
            g_string_append_c(out, '>');
        n = (gsize)(stop - p);
        if (n > 0 && p[n - 1] == '\r')
            n--;
        g_string_append_len(out, p, (gssize)n);
        g_string_append_c(out, '\n');
        p = eol != NULL ? eol + 1 : end;
    }
    g_string_append_c(out, '\n');
}

/* export --mbox [TAG]: every stored message of the ticket (or of all), as
 * it arrived, in one mbox a mail client opens; messages whose raw bytes
 * were purged are left out (and counted on stderr). */
static int
export_mbox(const char *db_path, const char *tag)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) tickets = NULL;
    struct store *st = store_open(db_path, STORE_READ_ONLY, READ_BUSY_TIMEOUT_MS, &error);
    guint purged = 0;
    int rc = 0;

    if (st == NULL)
        return fail(error, EXIT_DATABASE);
    if (tag != NULL) {
        struct ticket *t = store_ticket_get_by_tag(st, tag, &error);
        tickets = g_ptr_array_new_with_free_func(ticket_free_cb);
        if (t != NULL)
            g_ptr_array_add(tickets, t);
        else if (error == NULL) {
            store_close(st);
            fprintf(stderr, "ticketctl: no ticket %s\n", tag);
            return EXIT_NOT_FOUND;
        }
    } else {
        tickets = store_ticket_list(st, &error);
    }
    for (guint i = 0; tickets != NULL && error == NULL && i < tickets->len; i++) {
        const struct ticket *t = g_ptr_array_index(tickets, i);
        g_autoptr(GPtrArray) messages = store_ticket_messages(st, t->id, &error);
        for (guint k = 0; messages != NULL && k < messages->len; k++) {
            const struct ticket_message *m = g_ptr_array_index(messages, k);
            g_autoptr(GBytes) raw = NULL;
            g_autoptr(GString) entry = g_string_new(NULL);
            bool found = false;
            if (!store_message_raw(st, t->id, k, &found, &raw, &error))
                break;
            if (raw == NULL) {
                purged++;
                continue;
            }
            gsize len;
            const guint8 *data = g_bytes_get_data(raw, &len);
            mbox_from_line(entry, m->from, m->received_at);
            mbox_body(entry, data, len);
            if (fwrite(entry->str, 1, entry->len, stdout) != entry->len) {
                g_set_error(&error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot write the mbox: %s",
                            g_strerror(errno));
                break;
            }
        }
    }
    store_close(st);
    if (error != NULL || fflush(stdout) != 0)
        rc = fail(error, EXIT_DATABASE);
    if (purged > 0)
        fprintf(stderr, "ticketctl: %u messages were purged and are not in the mbox\n", purged);
    return rc;
}

int
cmd_export(const char *db_path, const struct options *o)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonGenerator) gen = json_generator_new();
    struct export_out out = { .gen = gen };
    const char *tag = arg(o, 1);
    struct admin *a;
    gint64 id = 0;
    guint count = 0;
    bool ok;

    if (o->args->len > 2) {
        fprintf(stderr, "ticketctl: export takes at most one ticket, e.g. ticketctl export "
                        "--json TKT-42\n");
        return EXIT_USAGE;
    }
    if (o->mbox && o->json) {
        fprintf(stderr, "ticketctl: export --mbox writes an mbox: no --json\n");
        return EXIT_USAGE;
    }
    if (o->mbox)
        return export_mbox(db_path, tag);
    if (tag != NULL) {
        struct store *st = store_open(db_path, STORE_READ_ONLY, READ_BUSY_TIMEOUT_MS, &error);
        struct ticket *t = st != NULL ? store_ticket_get_by_tag(st, tag, &error) : NULL;
        if (t != NULL)
            id = t->id;
        ticket_free(t);
        store_close(st);
        if (error != NULL)
            return fail(error, EXIT_DATABASE);
        if (id == 0) {
            fprintf(stderr, "ticketctl: no ticket %s\n", tag);
            return EXIT_NOT_FOUND;
        }
    }
    a = open_checked(db_path, false, &error);
    if (a == NULL)
        return fail(error, EXIT_DATABASE);
    json_generator_set_pretty(gen, TRUE);
    printf("[\n");
    ok = admin_export(a, id, export_one, &out, &count, &error);
    admin_close(a);
    printf("%s]\n", out.written > 0 ? "\n" : "");
    if (fflush(stdout) != 0 && ok) {
        fprintf(stderr, "ticketctl: cannot write the export: %s\n", g_strerror(errno));
        return EXIT_DATABASE;
    }
    return ok ? 0 : fail(error, EXIT_DATABASE);
}

/* ---- purge ---- */

/* DATE as YYYY-MM-DD (midnight UTC) or an ISO 8601 time with a zone. */
static GDateTime *
parse_date(const char *text)
{
    int y, m, d;
    char end;

    if (sscanf(text, "%4d-%2d-%2d%c", &y, &m, &d, &end) == 3 && strlen(text) == 10)
        return g_date_time_new_utc(y, m, d, 0, 0, 0);
    return timefmt_parse(text);
}

int
cmd_purge(const struct config *cfg, const char *db_path, const struct options *o)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GDateTime) now = options_time(o);
    g_autoptr(GDateTime) before = o->before != NULL ? parse_date(o->before) : NULL;
    g_autofree char *before_text = NULL, *at = NULL, *size = NULL;
    g_autofree char *actor = g_strdup_printf("ticketctl:%s", g_get_user_name());
    struct admin_purge_result r;
    struct admin *a;
    bool ok;

    if (o->before == NULL || o->args->len != 1) {
        fprintf(stderr, "ticketctl: purge needs --before DATE, e.g. ticketctl purge --before "
                        "2026-01-01\n");
        return EXIT_USAGE;
    }
    if (before == NULL) {
        fprintf(stderr, "ticketctl: \"%s\" is not a date (YYYY-MM-DD) or an ISO 8601 time with "
                        "a zone\n",
                o->before);
        return EXIT_USAGE;
    }
    if (now == NULL)
        return EXIT_USAGE;
    before_text = timefmt_iso8601(before);
    at = timefmt_iso8601(now);
    a = open_checked(db_path, true, &error);
    if (a == NULL)
        return fail(error, EXIT_DATABASE);
    ok = admin_purge(a, before_text, at, actor, &r, &error);
    admin_close(a);
    size = human_bytes(r.bytes);
    if (o->json && ok) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        ticket_json_string(b, "before", before_text);
        ticket_json_int(b, "tickets", r.tickets);
        ticket_json_int(b, "messages", r.messages);
        ticket_json_int(b, "attachments", r.attachments);
        ticket_json_int(b, "bytes", r.bytes);
        json_builder_end_object(b);
        print_json(b);
    } else if (r.tickets > 0 || ok) {
        printf("purged %u closed tickets last changed before %s: %u raw messages (%s), %u "
               "attachments; their events are kept\n",
               r.tickets, before_text, r.messages, size, r.attachments);
    }
    return ok ? 0 : fail(error, EXIT_DATABASE);
}

/* ---- backup, verify, restore ---- */

static gint64
table_rows(GPtrArray *counts, const char *table)
{
    for (guint i = 0; i < counts->len; i++) {
        const struct admin_table_count *c = g_ptr_array_index(counts, i);
        if (strcmp(c->table, table) == 0)
            return c->rows;
    }
    return 0;
}

/* Writes the time of a verified backup where the daemon's metrics read it. */
static bool
record_backup(const char *db_path, GDateTime *now, GError **error)
{
    g_autofree char *at = timefmt_iso8601(now);
    struct store *st = store_open(db_path, STORE_READ_WRITE, WRITE_BUSY_TIMEOUT_MS, error);
    bool ok;

    if (st == NULL)
        return false;
    ok = store_begin(st, error) && store_meta_set(st, STORE_META_BACKUP_VERIFIED, at, error) &&
         store_commit(st, error);
    if (!ok)
        store_rollback(st);
    store_close(st);
    return ok;
}

int
cmd_backup(const struct config *cfg, const char *db_path, const struct options *o)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GDateTime) now = options_time(o);
    g_autoptr(GPtrArray) dropped = NULL;
    g_autofree char *size = NULL, *copy = NULL, *verify = NULL;
    struct admin_retention keep = ADMIN_RETENTION_DEFAULT;
    struct admin_backup b;
    const char *dir = arg(o, 1);
    bool recorded = false;

    if (dir == NULL || o->args->len != 2) {
        fprintf(stderr, "ticketctl: backup takes the directory to write to, e.g. ticketctl "
                        "backup /var/backups/ticket-milter\n");
        return EXIT_USAGE;
    }
    if (now == NULL)
        return EXIT_USAGE;
    if (o->daily >= 0)
        keep.daily = (guint)o->daily;
    if (o->weekly >= 0)
        keep.weekly = (guint)o->weekly;
    if (o->monthly >= 0)
        keep.monthly = (guint)o->monthly;
    if (!admin_backup_run(db_path, dir, now,
                          cfg != NULL ? MAX(cfg->busy_timeout, READ_BUSY_TIMEOUT_MS)
                                      : READ_BUSY_TIMEOUT_MS,
                          &b, &error))
        return fail(error, EXIT_DATABASE);
    {
        /* The copy just verified is never pruned, whatever sorts newer. */
        g_autofree char *made = g_path_get_basename(b.path);
        dropped = admin_prune(dir, &keep, made, &error);
    }
    if (dropped != NULL)
        recorded = record_backup(db_path, now, &error);
    size = human_bytes(b.bytes);
    copy = human_us(b.copy_us);
    verify = human_us(b.verify_us);
    if (o->json) {
        g_autoptr(JsonBuilder) jb = json_builder_new();
        json_builder_begin_object(jb);
        ticket_json_string(jb, "path", b.path);
        ticket_json_int(jb, "bytes", b.bytes);
        ticket_json_int(jb, "copy_us", b.copy_us);
        ticket_json_int(jb, "verify_us", b.verify_us);
        json_builder_set_member_name(jb, "rows");
        json_builder_begin_object(jb);
        for (guint i = 0; i < b.counts->len; i++) {
            const struct admin_table_count *c = g_ptr_array_index(b.counts, i);
            ticket_json_int(jb, c->table, c->rows);
        }
        json_builder_end_object(jb);
        json_builder_set_member_name(jb, "pruned");
        json_builder_begin_array(jb);
        for (guint i = 0; dropped != NULL && i < dropped->len; i++)
            json_builder_add_string_value(jb, g_ptr_array_index(dropped, i));
        json_builder_end_array(jb);
        json_builder_end_object(jb);
        print_json(jb);
    } else {
        printf("backup %s: %" G_GINT64_FORMAT " tickets, %" G_GINT64_FORMAT " messages, %"
               G_GINT64_FORMAT " events, %s; copied in %s, verified in %s (integrity ok, row "
               "counts of %u tables equal)\n",
               b.path, table_rows(b.counts, "tickets"), table_rows(b.counts, "messages"),
               table_rows(b.counts, "events"), size, copy, verify, b.counts->len);
        for (guint i = 0; dropped != NULL && i < dropped->len; i++)
            printf("pruned %s/%s\n", dir, (char *)g_ptr_array_index(dropped, i));
    }
    admin_backup_clear(&b);
    /* The backup itself is good; a prune that failed is still an error the
     * admin must see, or the disk fills, and so is a time not recorded: the
     * backup alert would fire. */
    return dropped != NULL && recorded ? 0 : fail(error, EXIT_DATABASE);
}

int
cmd_verify(const struct options *o)
{
    g_autoptr(GError) error = NULL;
    const char *file = arg(o, 1);
    struct admin_verify v;

    if (file == NULL || o->args->len != 2) {
        fprintf(stderr, "ticketctl: verify takes one backup file, e.g. ticketctl verify "
                        "tickets-20261127T1630Z.db\n");
        return EXIT_USAGE;
    }
    if (!admin_verify_file(file, &v, &error))
        return fail(error, EXIT_NOT_FOUND);
    if (o->json) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        ticket_json_string(b, "file", file);
        ticket_json_string(b, "integrity", "ok");
        ticket_json_int(b, "schema_version", v.schema_version);
        ticket_json_int(b, "known_version", v.known_version);
        ticket_json_int(b, "tickets", v.tickets);
        ticket_json_int(b, "messages", v.messages);
        json_builder_end_object(b);
        print_json(b);
    } else {
        printf("%s: integrity ok, schema version %d (%s), %" G_GINT64_FORMAT " tickets, %"
               G_GINT64_FORMAT " messages\n",
               file, v.schema_version,
               v.schema_version == v.known_version ? "current"
                                                   : "older: ticket-milter migrates it on start",
               v.tickets, v.messages);
    }
    return 0;
}

/* The pid in the daemon's pid file when that process is alive; 0 else. */
static pid_t
daemon_pid(const char *pid_file)
{
    g_autofree char *text = NULL;
    gint64 pid;

    if (pid_file == NULL || !g_file_get_contents(pid_file, &text, NULL, NULL))
        return 0;
    pid = g_ascii_strtoll(g_strstrip(text), NULL, 10);
    if (pid <= 1 || pid > G_MAXINT)
        return 0;
    return kill((pid_t)pid, 0) == 0 || errno == EPERM ? (pid_t)pid : 0;
}

int
cmd_restore(const struct config *cfg, const char *db_path, const struct options *o)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    g_autofree char *saved = NULL;
    const char *file = arg(o, 1);
    pid_t pid;

    if (file == NULL || o->args->len != 2) {
        fprintf(stderr, "ticketctl: restore takes one backup file, e.g. ticketctl restore "
                        "tickets-20261127T1630Z.db\n");
        return EXIT_USAGE;
    }
    pid = cfg != NULL ? daemon_pid(cfg->pid_file) : 0;
    if (pid > 0 && !o->force) {
        fprintf(stderr, "ticketctl: ticket-milter is running (pid %ld in %s): stop it before "
                        "restoring %s, or add --force if that pid is not ticket-milter\n",
                (long)pid, cfg->pid_file, db_path);
        return EXIT_IN_USE;
    }
    /* The lock is a fact, not a guess like a pid file: no --force past it. */
    pid = admin_database_holder(db_path);
    if (pid != 0) {
        fprintf(stderr, "ticketctl: %s is in use by process %ld (ticket-milter or a reader): "
                        "stop it before restoring\n",
                db_path, (long)pid);
        return EXIT_IN_USE;
    }
    if (!admin_restore(file, db_path, now, &saved, &error)) {
        int status = g_error_matches(error, STORE_ERROR, STORE_ERROR_CORRUPT) ||
                             g_error_matches(error, STORE_ERROR, STORE_ERROR_VERSION)
                         ? EXIT_NOT_FOUND
                         : EXIT_DATABASE;
        fail(error, status);
        /* Whatever went wrong, the admin must know where the old data is. */
        if (saved != NULL)
            fprintf(stderr, "ticketctl: the database as it was before this restore is saved "
                            "as %s\n",
                    saved);
        return status;
    }
    if (o->json) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        ticket_json_string(b, "database", db_path);
        ticket_json_string(b, "from", file);
        ticket_json_string(b, "replaced_kept_as", saved);
        json_builder_end_object(b);
        print_json(b);
        return 0;
    }
    printf("restored %s from %s", db_path, file);
    if (saved != NULL)
        printf("; the database it replaced is kept as %s", saved);
    printf("\n");
    return 0;
}
