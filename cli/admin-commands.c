/*
 * admin-commands - ticketctl's commands for the mail admin: stats,
 * customers, close/reopen, unattached bounces, search, purge (export is in
 * export-commands.c, backup, verify and restore in backup-commands.c).
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
#include "store/purge.h"
#include "store/search.h"
#include "store/tickets.h"
#include "util/dbtarget.h"
#include "util/timefmt.h"

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
    g_autofree char *c50 = cli_human_us(counter_or_none(s, "commit_us_p50"));
    g_autofree char *c99 = cli_human_us(counter_or_none(s, "commit_us_p99"));
    g_autofree char *a50 = cli_human_us(s->ack_latency_p50_us);
    g_autofree char *a99 = cli_human_us(s->ack_latency_p99_us);

    printf("%-24s %" G_GINT64_FORMAT "\n", "Messages seen",
           admin_stats_counter(s, "messages_seen"));
    printf("%-24s %" G_GINT64_FORMAT "\n", "Tickets created",
           admin_stats_counter(s, "tickets_created"));
    printf("%-24s %" G_GINT64_FORMAT "\n", "Follow-ups", admin_stats_counter(s, "followups"));
    printf("%-24s %" G_GINT64_FORMAT "\n", "Staff replies",
           admin_stats_counter(s, "staff_replies"));
    reasons_text(s, "Tempfails", "tempfail_");
    reasons_text(s, "Rejects", "reject_");
    printf("%-24s %" G_GINT64_FORMAT " open of %" G_GINT64_FORMAT "\n", "Tickets", s->tickets_open,
           s->tickets_total);
    printf("%-24s %" G_GINT64_FORMAT " sent, %" G_GINT64_FORMAT " failed, %" G_GINT64_FORMAT
           " pending\n",
           "Acknowledgements", s->acks_sent, s->acks_failed, s->acks_pending);
    printf("%-24s p50 %s, p99 %s (last %" G_GINT64_FORMAT " sent)\n", "  queue to relay", a50, a99,
           s->ack_latency_samples);
    printf("%-24s %" G_GINT64_FORMAT " warnings, %" G_GINT64_FORMAT " breaches\n", "SLA",
           s->sla_warnings, s->sla_breaches);
    printf("%-24s %" G_GINT64_FORMAT " pending\n", "Outbox", s->outbox_depth);
    printf("%-24s p50 %s, p99 %s\n", "Commit latency", c50, c99);
}

int
cmd_stats(const char *db_path, const struct options *o)
{
    g_autoptr(GError) error = NULL;
    struct admin *a = cli_open_admin(db_path, false, &error);
    struct admin_stats s;
    bool ok;

    if (a == NULL)
        return cli_fail(error, EXIT_DATABASE);
    ok = admin_stats_read(a, &s, &error);
    admin_close(a);
    if (!ok) {
        admin_stats_clear(&s);
        return cli_fail(error, EXIT_DATABASE);
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
    struct admin *a = cli_open_admin(db_path, false, &error);

    if (a == NULL)
        return cli_fail(error, EXIT_DATABASE);
    rows = admin_customers(a, &error);
    admin_close(a);
    if (rows == NULL)
        return cli_fail(error, EXIT_DATABASE);
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
    const char *command = cli_arg(o, 0);
    struct status_job job = {
        .cfg = cfg,
        .o = o,
        .tag = cli_arg(o, 1),
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
    if (!dbtarget_is_uri(db_path) && !g_file_test(db_path, G_FILE_TEST_IS_REGULAR)) {
        fprintf(stderr, "ticketctl: %s: no such database file\n", db_path);
        return EXIT_DATABASE;
    }
    if (cfg != NULL)
        parser_init();
    st = store_open(db_path, STORE_READ_WRITE, CLI_WRITE_BUSY_MS, &error);
    if (st == NULL)
        return cli_fail(error, EXIT_DATABASE);
    if (!store_begin(st, &error)) {
        store_close(st);
        return cli_fail(error, EXIT_DATABASE);
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
        return cli_fail(error, rc);
    return rc < 0 ? 0 : rc;
}

/* ---- unattached bounces ---- */

int
cmd_unattached(const char *db_path, const struct options *o)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) rows = NULL;
    struct admin *a = cli_open_admin(db_path, false, &error);

    if (a == NULL)
        return cli_fail(error, EXIT_DATABASE);
    rows = admin_unattached(a, (guint)o->limit, &error);
    admin_close(a);
    if (rows == NULL)
        return cli_fail(error, EXIT_DATABASE);
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
    a = cli_open_admin(db_path, false, &error);
    if (a == NULL)
        return cli_fail(error, EXIT_DATABASE);
    hits = admin_search(a, text, o->limit > 0 ? (guint)o->limit : 50, &error);
    admin_close(a);
    if (hits == NULL)
        return cli_fail(error, EXIT_DATABASE);
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
        fprintf(stderr,
                "ticketctl: \"%s\" is not a date (YYYY-MM-DD) or an ISO 8601 time with "
                "a zone\n",
                o->before);
        return EXIT_USAGE;
    }
    if (now == NULL)
        return EXIT_USAGE;
    before_text = timefmt_iso8601(before);
    at = timefmt_iso8601(now);
    a = cli_open_admin(db_path, true, &error);
    if (a == NULL)
        return cli_fail(error, EXIT_DATABASE);
    ok = admin_purge(a, before_text, at, actor, &r, &error);
    admin_close(a);
    size = cli_human_bytes(r.bytes);
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
    return ok ? 0 : cli_fail(error, EXIT_DATABASE);
}
