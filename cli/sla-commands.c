/*
 * sla-commands - ticketctl list and sla: which tickets there are, and what
 * is late now and what breaches next.
 *
 * list filters by status, customer, severity and creation period; sla
 * takes the open and pending tickets, sorts them by their next deadline
 * (the earliest of the response goal not yet met, the update interval
 * while it runs and the resolution goal not yet met) and can keep only
 * the overdue ones or those due within a duration.  Tickets waiting for the
 * customer have their clocks stopped: they come last, marked paused.
 *
 * Tables line up by display width, with long values cut (util/table.c),
 * so that a long or non-ASCII customer name or subject keeps the columns
 * straight.  Each command prints one sentence and returns an exit status
 * (cli/ticketctl.h) when it fails.
 */
#include <stdio.h>
#include <string.h>

#include <glib.h>
#include <json-glib/json-glib.h>

#include "cli/ticketctl.h"
#include "store/report.h"
#include "util/table.h"
#include "util/timefmt.h"

/* The widest a cell of these columns gets on a terminal. */
#define CUSTOMER_WIDTH 20
#define REQUESTER_WIDTH 32
#define SUBJECT_WIDTH 60

struct store_report *
cli_open_report(const char *db_path, GError **error)
{
    /* store_open checks that the schema is one this ticketctl reads. */
    struct store *st = store_open(db_path, STORE_READ_ONLY, CLI_READ_BUSY_MS, error);

    if (st == NULL)
        return NULL;
    store_close(st);
    return store_report_open(db_path, CLI_READ_BUSY_MS, error);
}

void
cli_filter_clear(struct cli_filter *cf)
{
    g_clear_pointer(&cf->from_text, g_free);
    g_clear_pointer(&cf->to_text, g_free);
    g_clear_pointer(&cf->from, g_date_time_unref);
    g_clear_pointer(&cf->to, g_date_time_unref);
}

bool
cli_filter_init(const struct config *cfg, const struct options *o, struct cli_filter *cf)
{
    const char *zone = options_zone(cfg);

    memset(cf, 0, sizeof(*cf));
    cf->f.customer = o->customer;
    cf->f.plan = o->plan;
    cf->f.severity = o->severity;
    if (o->from != NULL && (cf->from = options_date("--from", o->from, zone, false)) == NULL)
        return false;
    if (o->to != NULL && (cf->to = options_date("--to", o->to, zone, true)) == NULL)
        return false;
    if (cf->from != NULL && cf->to != NULL && g_date_time_compare(cf->from, cf->to) >= 0) {
        fprintf(stderr, "ticketctl: --from %s is not before --to %s\n", o->from, o->to);
        return false;
    }
    cf->from_text = cf->from != NULL ? timefmt_iso8601(cf->from) : NULL;
    cf->to_text = cf->to != NULL ? timefmt_iso8601(cf->to) : NULL;
    if (o->status != NULL) {
        g_auto(GStrv) words = g_strsplit(o->status, ",", -1);
        for (char **w = words; *w != NULL; w++) {
            enum ticket_status s;
            if (!ticket_status_parse(g_strstrip(*w), &s)) {
                fprintf(stderr,
                        "ticketctl: --status \"%s\": a status is open, pending, "
                        "resolved or closed\n",
                        *w);
                return false;
            }
            cf->f.statuses |= 1u << s;
        }
    }
    return true;
}

/* The tickets CF lets through, read in one snapshot; CF is cleared.  NULL
 * (with the sentence printed) when the database cannot be read. */
static GPtrArray *
read_filtered(const char *db_path, struct cli_filter *cf)
{
    g_autoptr(GError) error = NULL;
    struct store_report *r = cli_open_report(db_path, &error);
    GPtrArray *tickets = r != NULL ? store_report_tickets(r, &cf->f, &error) : NULL;

    store_report_close(r);
    cli_filter_clear(cf);
    if (tickets == NULL)
        fprintf(stderr, "ticketctl: %s\n", error->message);
    return tickets;
}

/* ---- list ---- */

int
cmd_list(const struct config *cfg, const char *db_path, const struct options *o)
{
    static const char *const headings[] = { "ID",       "STATUS",    "SEV",     "STAGE",
                                            "CUSTOMER", "REQUESTER", "CREATED", "SUBJECT" };
    g_autoptr(GPtrArray) tickets = NULL;
    struct cli_filter cf;

    if (!cli_filter_init(cfg, o, &cf)) {
        cli_filter_clear(&cf);
        return EXIT_USAGE;
    }
    cf.f.created_from = cf.from_text;
    cf.f.created_to = cf.to_text;
    if ((tickets = read_filtered(db_path, &cf)) == NULL)
        return EXIT_DATABASE;
    if (o->json) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_array(b);
        for (guint i = 0; i < tickets->len; i++) {
            json_builder_begin_object(b);
            ticket_json_members(b, g_ptr_array_index(tickets, i));
            json_builder_end_object(b);
        }
        json_builder_end_array(b);
        print_json(b);
        return 0;
    }
    struct table *t = table_new(headings, G_N_ELEMENTS(headings));
    table_set_limit(t, 4, CUSTOMER_WIDTH);
    table_set_limit(t, 5, REQUESTER_WIDTH);
    table_set_limit(t, 7, SUBJECT_WIDTH);
    table_set_right(t, 2);
    table_set_right(t, 3);
    for (guint i = 0; i < tickets->len; i++) {
        const struct ticket *k = g_ptr_array_index(tickets, i);
        g_autofree char *sev = g_strdup_printf("%d", k->severity);
        g_autofree char *stage = g_strdup_printf("%d", k->stage);
        const char *cells[] = { k->tag,        ticket_status_name(k->status),
                                sev,           stage,
                                k->customer,   k->requester,
                                k->created_at, k->subject };
        table_add(t, cells);
    }
    g_autofree char *text = table_render(t);
    fputs(text, stdout);
    if (tickets->len == 0)
        printf("(no tickets)\n");
    table_free(t);
    return 0;
}

/* ---- sla ---- */

struct deadline {
    const char *goal; /* NULL: none runs */
    gint64 due;       /* Unix seconds */
};

static gint64
unix_of(const char *iso)
{
    g_autoptr(GDateTime) t = iso != NULL ? timefmt_parse(iso) : NULL;

    return t != NULL ? g_date_time_to_unix(t) : G_MAXINT64;
}

/* The deadline of each goal that runs for T, in goal order (GOAL_*). */
static void
running_deadlines(const struct ticket *t, struct deadline out[GOAL_COUNT])
{
    bool runs = t->status == TICKET_OPEN;

    out[GOAL_RESPONSE] = (struct deadline){
        runs && t->first_response_at == NULL && t->first_response_due != NULL ? "response" : NULL,
        unix_of(t->first_response_due)
    };
    out[GOAL_UPDATE] = (struct deadline){ runs && t->next_update_due != NULL ? "update" : NULL,
                                          unix_of(t->next_update_due) };
    out[GOAL_RESOLUTION] = (struct deadline){
        runs && t->resolved_at == NULL && t->resolution_due != NULL ? "resolution" : NULL,
        unix_of(t->resolution_due)
    };
}

static struct deadline
next_deadline(const struct ticket *t)
{
    struct deadline all[GOAL_COUNT], best = { NULL, G_MAXINT64 };

    running_deadlines(t, all);
    for (int k = 0; k < GOAL_COUNT; k++)
        if (all[k].goal != NULL && all[k].due < best.due)
            best = all[k];
    return best;
}

static gint
by_next_deadline(gconstpointer a, gconstpointer b)
{
    const struct ticket *x = *(struct ticket *const *)a, *y = *(struct ticket *const *)b;
    struct deadline dx = next_deadline(x), dy = next_deadline(y);

    if (dx.due != dy.due)
        return dx.due < dy.due ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* "90m", "4h", "2d", "45s": seconds; -1 when TEXT is none of these. */
static gint64
parse_duration(const char *text)
{
    char *end = NULL;
    gint64 n = g_ascii_strtoll(text, &end, 10);

    if (end == text || n < 0 || n > 100000)
        return -1;
    if (strcmp(end, "s") == 0)
        return n;
    if (strcmp(end, "m") == 0)
        return n * 60;
    if (strcmp(end, "h") == 0)
        return n * 3600;
    if (strcmp(end, "d") == 0)
        return n * 86400;
    return -1;
}

static char *
human_left(gint64 s)
{
    gint64 a = s < 0 ? -s : s;

    if (a >= 86400 * 2)
        return g_strdup_printf("%s%" G_GINT64_FORMAT "d%02" G_GINT64_FORMAT "h%s",
                               s < 0 ? "overdue " : "", a / 86400, a / 3600 % 24,
                               s < 0 ? "" : " left");
    return g_strdup_printf("%s%" G_GINT64_FORMAT "h%02" G_GINT64_FORMAT "m%s",
                           s < 0 ? "overdue " : "", a / 3600, a / 60 % 60, s < 0 ? "" : " left");
}

static void
goal_json(JsonBuilder *b, const char *name, const char *due, const char *met, GDateTime *now)
{
    json_builder_set_member_name(b, name);
    if (due == NULL) {
        json_builder_add_null_value(b);
        return;
    }
    json_builder_begin_object(b);
    ticket_json_string(b, "due", due);
    ticket_json_string(b, "met_at", met);
    json_builder_set_member_name(b, "seconds_left");
    if (met != NULL)
        json_builder_add_null_value(b);
    else
        json_builder_add_int_value(b, unix_of(due) - g_date_time_to_unix(now));
    json_builder_end_object(b);
}

/* The text of one goal's cell. */
static char *
goal_cell(const struct ticket *t, const char *due, const char *met, GDateTime *now)
{
    if (met != NULL)
        return g_strdup("met");
    if (due == NULL)
        return g_strdup("-");
    if (t->status == TICKET_PENDING)
        return g_strdup("paused");
    return human_left(unix_of(due) - g_date_time_to_unix(now));
}

static void
sla_json(GPtrArray *tickets, GDateTime *now)
{
    g_autoptr(JsonBuilder) b = json_builder_new();

    json_builder_begin_array(b);
    for (guint i = 0; i < tickets->len; i++) {
        const struct ticket *t = g_ptr_array_index(tickets, i);
        struct deadline next = next_deadline(t);
        json_builder_begin_object(b);
        ticket_json_members(b, t);
        json_builder_set_member_name(b, "paused");
        json_builder_add_boolean_value(b, t->status == TICKET_PENDING);
        goal_json(b, "response", t->first_response_due, t->first_response_at, now);
        goal_json(b, "update", t->next_update_due, NULL, now);
        goal_json(b, "resolution", t->resolution_due, t->resolved_at, now);
        json_builder_set_member_name(b, "next");
        if (next.goal == NULL) {
            json_builder_add_null_value(b);
        } else {
            g_autoptr(GDateTime) due = g_date_time_new_from_unix_utc(next.due);
            g_autofree char *text = timefmt_iso8601(due);
            json_builder_begin_object(b);
            ticket_json_string(b, "goal", next.goal);
            ticket_json_string(b, "due", text);
            ticket_json_int(b, "seconds_left", next.due - g_date_time_to_unix(now));
            json_builder_end_object(b);
        }
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    print_json(b);
}

static void
sla_text(GPtrArray *tickets, GDateTime *now)
{
    static const char *const headings[] = { "ID",   "SEV",      "STAGE",  "STATUS",     "CUSTOMER",
                                            "NEXT", "RESPONSE", "UPDATE", "RESOLUTION", "SUBJECT" };
    struct table *t = table_new(headings, G_N_ELEMENTS(headings));
    g_autofree char *text = NULL;

    table_set_limit(t, 4, CUSTOMER_WIDTH);
    table_set_limit(t, 9, SUBJECT_WIDTH);
    table_set_right(t, 1);
    table_set_right(t, 2);
    for (guint i = 0; i < tickets->len; i++) {
        const struct ticket *k = g_ptr_array_index(tickets, i);
        struct deadline next = next_deadline(k);
        g_autofree char *sev = g_strdup_printf("%d", k->severity);
        g_autofree char *stage = g_strdup_printf("%d", k->stage);
        g_autofree char *left =
            next.goal != NULL ? human_left(next.due - g_date_time_to_unix(now)) : NULL;
        g_autofree char *next_text = next.goal != NULL
                                         ? g_strdup_printf("%s %s", next.goal, left)
                                         : g_strdup(k->status == TICKET_PENDING ? "paused" : "-");
        g_autofree char *resp = goal_cell(k, k->first_response_due, k->first_response_at, now);
        g_autofree char *upd = goal_cell(k, k->next_update_due, NULL, now);
        g_autofree char *reso = goal_cell(k, k->resolution_due, k->resolved_at, now);
        const char *cells[] = { k->tag,      sev,       stage, ticket_status_name(k->status),
                                k->customer, next_text, resp,  upd,
                                reso,        k->subject };
        table_add(t, cells);
    }
    text = table_render(t);
    fputs(text, stdout);
    if (tickets->len == 0)
        printf("(no open ticket matches)\n");
    table_free(t);
}

int
cmd_sla(const struct config *cfg, const char *db_path, const struct options *o)
{
    g_autoptr(GDateTime) now = options_time(o);
    g_autoptr(GPtrArray) tickets = NULL;
    gint64 within = -1, now_s;
    struct cli_filter cf;

    if (now == NULL)
        return EXIT_USAGE;
    if (o->due_within != NULL && (within = parse_duration(o->due_within)) < 0) {
        fprintf(stderr,
                "ticketctl: --due-within \"%s\" is not a duration such as 90m, 4h or "
                "2d\n",
                o->due_within);
        return EXIT_USAGE;
    }
    if (!cli_filter_init(cfg, o, &cf)) {
        cli_filter_clear(&cf);
        return EXIT_USAGE;
    }
    if (cf.f.statuses == 0)
        cf.f.statuses = 1u << TICKET_OPEN | 1u << TICKET_PENDING;
    if ((tickets = read_filtered(db_path, &cf)) == NULL)
        return EXIT_DATABASE;
    now_s = g_date_time_to_unix(now);
    /* Overdue: a running deadline has passed; due within D: the next one
     * comes by NOW + D (the overdue are due within any D). */
    for (guint i = tickets->len; i-- > 0;) {
        struct deadline next = next_deadline(g_ptr_array_index(tickets, i));
        bool keep = true;
        if (o->overdue)
            keep = next.goal != NULL && next.due < now_s;
        if (within >= 0)
            keep = keep && next.goal != NULL && next.due <= now_s + within;
        if (!keep)
            g_ptr_array_remove_index(tickets, i);
    }
    g_ptr_array_sort(tickets, by_next_deadline);
    if (o->json)
        sla_json(tickets, now);
    else
        sla_text(tickets, now);
    return 0;
}
