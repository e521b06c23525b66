/*
 * report - ticketctl report: the service report of a period as text, JSON
 * or a self-contained HTML file.
 *
 *   ticketctl report [--from DATE] [--to DATE] [--customer NAME] [--plan NAME]
 *                    [--json | --html FILE] [--language en|nl] [--now TIME]
 *
 * The period defaults to the last full calendar month in the desk's zone
 * ([staff] timezone); --to DATE includes that day.  The tickets are read
 * in one snapshot (store/report.c), the figures computed by
 * router/report.c (whose header has the definitions), and printed here.
 *
 * Failures: one sentence on standard error and an exit status
 * (cli/ticketctl.h); the HTML file is written whole or not at all.
 */
#include <stdio.h>
#include <string.h>

#include <glib.h>
#include <json-glib/json-glib.h>

#include "cli/report.h"
#include "cli/ticketctl.h"
#include "store/report.h"
#include "util/table.h"
#include "util/timefmt.h"

/* ---- JSON ---- */

static void
add_iso(JsonBuilder *b, const char *name, gint64 t)
{
    g_autoptr(GDateTime) d = g_date_time_new_from_unix_utc(t);
    g_autofree char *text = timefmt_iso8601(d);

    ticket_json_string(b, name, text);
}

/* An integer, or null when negative (no value). */
static void
add_count_or_null(JsonBuilder *b, const char *name, gint64 value)
{
    json_builder_set_member_name(b, name);
    if (value >= 0)
        json_builder_add_int_value(b, value);
    else
        json_builder_add_null_value(b);
}

static void
add_percent(JsonBuilder *b, const char *name, double percent)
{
    json_builder_set_member_name(b, name);
    if (percent >= 0)
        json_builder_add_double_value(b, percent);
    else
        json_builder_add_null_value(b);
}

static void
stat_json(JsonBuilder *b, const char *name, const struct report_stat *s)
{
    json_builder_set_member_name(b, name);
    json_builder_begin_object(b);
    ticket_json_int(b, "count", s->count);
    add_count_or_null(b, "median", s->median);
    add_count_or_null(b, "p90", s->p90);
    add_count_or_null(b, "max", s->max);
    json_builder_end_object(b);
}

static void
durations_json(JsonBuilder *b, const char *name, const struct report_stat *business,
               const struct report_stat *real)
{
    json_builder_set_member_name(b, name);
    json_builder_begin_object(b);
    stat_json(b, "business", business);
    stat_json(b, "real", real);
    json_builder_end_object(b);
}

static void
group_members(JsonBuilder *b, const struct report_group *g)
{
    ticket_json_int(b, "opened", g->opened);
    ticket_json_int(b, "resolved", g->resolved);
    ticket_json_int(b, "open_at_end", g->open_at_end);
    for (int k = 0; k < GOAL_COUNT; k++) {
        const struct report_goal *goal = &g->goals[k];
        json_builder_set_member_name(b, plan_goal_names[k]);
        json_builder_begin_object(b);
        ticket_json_int(b, "met", goal->met);
        ticket_json_int(b, "missed", goal->missed);
        ticket_json_int(b, "running", goal->running);
        add_percent(b, "percent", report_percent(goal->met, goal->met + goal->missed));
        json_builder_end_object(b);
    }
    durations_json(b, "first_response", &g->response_business, &g->response_real);
    durations_json(b, "resolution_time", &g->resolution_business, &g->resolution_real);
    json_builder_set_member_name(b, "resolved_within");
    json_builder_begin_object(b);
    for (int i = 0; i < REPORT_WITHIN_COUNT; i++) {
        g_autofree char *key = g_strdup_printf("%dbd", report_within_days[i]);
        json_builder_set_member_name(b, key);
        json_builder_begin_object(b);
        ticket_json_int(b, "within", g->within[i].within);
        ticket_json_int(b, "decided", g->within[i].decided);
        add_percent(b, "percent", report_percent(g->within[i].within, g->within[i].decided));
        json_builder_end_object(b);
    }
    json_builder_end_object(b);
    ticket_json_int(b, "breaches", g->breaches);
    ticket_json_int(b, "escalations", g->escalations);
}

static void
groups_json(JsonBuilder *b, const char *name, const char *key, const GPtrArray *groups)
{
    json_builder_set_member_name(b, name);
    json_builder_begin_array(b);
    for (guint i = 0; i < groups->len; i++) {
        const struct report_group *g = g_ptr_array_index(groups, i);
        json_builder_begin_object(b);
        ticket_json_string(b, key, g->name);
        group_members(b, g);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
}

static void
escalations_json(JsonBuilder *b, const struct report *r)
{
    guint all = 0;

    json_builder_set_member_name(b, "escalations");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "by_stage");
    json_builder_begin_object(b);
    for (int s = 1; s <= 3; s++) {
        g_autofree char *key = g_strdup_printf("%d", s);
        guint total = 0;
        json_builder_set_member_name(b, key);
        json_builder_begin_object(b);
        for (int c = 0; c < CAUSE_COUNT; c++) {
            ticket_json_int(b, report_cause_names[c], r->escalations[s][c]);
            total += r->escalations[s][c];
        }
        ticket_json_int(b, "total", total);
        all += total;
        json_builder_end_object(b);
    }
    json_builder_end_object(b);
    ticket_json_int(b, "total", all);
    json_builder_end_object(b);
}

static void
breaches_json(JsonBuilder *b, const struct report *r)
{
    json_builder_set_member_name(b, "breaches");
    json_builder_begin_array(b);
    for (guint i = 0; i < r->breaches->len; i++) {
        const struct report_breach *x = g_ptr_array_index(r->breaches, i);
        json_builder_begin_object(b);
        ticket_json_string(b, "ticket", x->tag);
        ticket_json_string(b, "customer", x->customer);
        ticket_json_int(b, "severity", x->severity);
        ticket_json_string(b, "goal", x->goal);
        ticket_json_string(b, "due", x->due);
        add_iso(b, "at", x->at);
        ticket_json_string(b, "subject", x->subject);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
}

static void
charts_json(JsonBuilder *b, const struct report *r)
{
    json_builder_set_member_name(b, "backlog");
    json_builder_begin_array(b);
    for (guint i = 0; i < r->backlog->len; i++) {
        const struct report_day *d = &g_array_index(r->backlog, struct report_day, i);
        json_builder_begin_object(b);
        ticket_json_string(b, "date", d->date);
        ticket_json_int(b, "open", d->open);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_set_member_name(b, "first_response_histogram");
    json_builder_begin_array(b);
    for (int k = 0; k < REPORT_BUCKETS; k++) {
        json_builder_begin_object(b);
        ticket_json_int(b, "from_seconds", k > 0 ? report_bucket_limits[k - 1] : 0);
        add_count_or_null(b, "to_seconds", k < REPORT_BUCKETS - 1 ? report_bucket_limits[k] : -1);
        ticket_json_int(b, "tickets", r->response_buckets[k]);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    ticket_json_int(b, "no_first_response", r->no_response);
}

JsonNode *
report_json(const struct report_view *v)
{
    const struct report *r = v->r;
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autofree char *first = report_first_day(r), *last = report_last_day(r);

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "period");
    json_builder_begin_object(b);
    add_iso(b, "from", r->from);
    add_iso(b, "to", r->to);
    add_iso(b, "facts_until", r->end);
    ticket_json_string(b, "first_day", first);
    ticket_json_string(b, "last_day", last);
    ticket_json_string(b, "zone", r->zone);
    json_builder_end_object(b);
    add_iso(b, "made_at", r->now);
    ticket_json_string(b, "language", v->language);
    ticket_json_string(b, "customer", v->customer);
    ticket_json_string(b, "plan", v->plan);
    ticket_json_int(b, "open_at_start", r->open_at_start);
    json_builder_set_member_name(b, "total");
    json_builder_begin_object(b);
    group_members(b, &r->total);
    json_builder_end_object(b);
    json_builder_set_member_name(b, "by_severity");
    json_builder_begin_array(b);
    for (int s = 1; s <= 4; s++) {
        json_builder_begin_object(b);
        ticket_json_int(b, "severity", s);
        group_members(b, &r->severity[s]);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    groups_json(b, "by_plan", "plan", r->plans);
    groups_json(b, "by_customer", "customer", r->customers);
    escalations_json(b, r);
    breaches_json(b, r);
    charts_json(b, r);
    json_builder_end_object(b);
    return json_builder_get_root(b);
}

/* ---- text ---- */

static char *
count_text(guint n)
{
    return g_strdup_printf("%u", n);
}

/* The goal rows of one group: "met/missed/running (share)" per goal. */
static char *
goal_text(const struct report_view *v, const struct report_goal *g)
{
    g_autofree char *pct = report_percent_text(v, report_percent(g->met, g->met + g->missed));

    if (g->met + g->missed + g->running == 0)
        return g_strdup("-");
    return g_strdup_printf("%u/%u/%u %s", g->met, g->missed, g->running, pct);
}

static void
groups_text(GString *out, const struct report_view *v, const char *title,
            const struct report_group *const *groups, guint n)
{
    const char *headings[REPORT_GROUP_COLUMNS];
    struct table *t;
    g_autofree char *text = NULL;

    report_group_headings(v, title, headings);
    t = table_new(headings, G_N_ELEMENTS(headings));
    table_set_limit(t, 0, 24);
    for (guint c = 1; c < G_N_ELEMENTS(headings); c++)
        table_set_right(t, c);
    for (guint i = 0; i < n; i++) {
        const struct report_group *g = groups[i];
        g_autofree char *name =
            g->severity > 0   ? g_strdup_printf("%s %d", report_word(v, "sev"), g->severity)
            : g->name != NULL ? g_strdup(g->name)
                              : g_strdup(i == 0 && g == &v->r->total ? report_word(v, "total")
                                                                     : report_word(v, "unknown"));
        g_autofree char *o = count_text(g->opened), *r = count_text(g->resolved);
        g_autofree char *e = count_text(g->open_at_end), *b = count_text(g->breaches);
        g_autofree char *x = count_text(g->escalations);
        g_autofree char *g1 = goal_text(v, &g->goals[GOAL_RESPONSE]);
        g_autofree char *g2 = goal_text(v, &g->goals[GOAL_UPDATE]);
        g_autofree char *g3 = goal_text(v, &g->goals[GOAL_RESOLUTION]);
        const char *cells[] = { name, o, r, e, g1, g2, g3, b, x };
        table_add(t, cells);
    }
    text = table_render(t);
    g_string_append_printf(out, "%s\n", text);
    table_free(t);
}

/* One table of durations: per severity the count, median, p90 and max in
 * business time and in real time. */
static void
times_text(GString *out, const struct report_view *v, const char *title, bool is_response)
{
    const struct report *r = v->r;
    g_autofree char *b =
        g_strdup_printf("%s: %s", report_word(v, "business"), report_word(v, "median"));
    g_autofree char *t =
        g_strdup_printf("%s: %s", report_word(v, "real"), report_word(v, "median"));
    const char *headings[] = { title, report_word(v, "count"), b, "p90", report_word(v, "max"), t,
                               "p90", report_word(v, "max") };
    struct table *tb = table_new(headings, G_N_ELEMENTS(headings));
    g_autofree char *text = NULL;

    for (guint c = 1; c < G_N_ELEMENTS(headings); c++)
        table_set_right(tb, c);
    for (int s = 0; s <= 4; s++) {
        const struct report_group *g = s == 0 ? &r->total : &r->severity[s];
        const struct report_stat *bs =
            is_response ? &g->response_business : &g->resolution_business;
        const struct report_stat *rs = is_response ? &g->response_real : &g->resolution_real;
        g_autofree char *name = s == 0 ? g_strdup(report_word(v, "total"))
                                       : g_strdup_printf("%s %d", report_word(v, "sev"), s);
        g_autofree char *n = count_text(bs->count);
        g_autofree char *b1 = report_duration(bs->median), *b2 = report_duration(bs->p90);
        g_autofree char *b3 = report_duration(bs->max), *r1 = report_duration(rs->median);
        g_autofree char *r2 = report_duration(rs->p90), *r3 = report_duration(rs->max);
        const char *cells[] = { name, n, b1, b2, b3, r1, r2, r3 };
        table_add(tb, cells);
    }
    text = table_render(tb);
    g_string_append_printf(out, "%s\n", text);
    table_free(tb);
}

static void
within_text(GString *out, const struct report_view *v)
{
    const struct report_group *g = &v->r->total;

    g_string_append_printf(out, "%s:", report_word(v, "within"));
    for (int i = 0; i < REPORT_WITHIN_COUNT; i++) {
        g_autofree char *key = g_strdup_printf("within_%d", report_within_days[i]);
        g_autofree char *pct =
            report_percent_text(v, report_percent(g->within[i].within, g->within[i].decided));
        g_string_append_printf(out, "%s %s %s (%u/%u)", i > 0 ? "," : "", report_word(v, key), pct,
                               g->within[i].within, g->within[i].decided);
    }
    g_string_append(out, "\n\n");
}

static void
escalations_text(GString *out, const struct report_view *v)
{
    const char *headings[] = {
        report_word(v, "stage"),  report_word(v, "automatic"),   report_word(v, "missed-goal"),
        report_word(v, "ladder"), report_word(v, "by_customer"), report_word(v, "staff"),
    };
    struct table *t = table_new(headings, G_N_ELEMENTS(headings));
    g_autofree char *text = NULL;

    for (guint c = 1; c < G_N_ELEMENTS(headings); c++)
        table_set_right(t, c);
    for (int s = 1; s <= 3; s++) {
        char *cells[6];
        cells[0] = g_strdup_printf("%d", s);
        for (int c = 0; c < CAUSE_COUNT; c++)
            cells[1 + c] = count_text(v->r->escalations[s][c]);
        table_add(t, (const char *const *)cells);
        for (int c = 0; c < 6; c++)
            g_free(cells[c]);
    }
    text = table_render(t);
    g_string_append_printf(out, "%s\n%s\n", report_word(v, "escalations"), text);
    table_free(t);
}

static void
breaches_text(GString *out, const struct report_view *v)
{
    const char *headings[] = {
        report_word(v, "ticket"), report_word(v, "sev"),      report_word(v, "goal"),
        report_word(v, "due"),    report_word(v, "customer"), report_word(v, "subject"),
    };
    struct table *t = table_new(headings, G_N_ELEMENTS(headings));
    g_autofree char *text = NULL;

    table_set_limit(t, 4, 20);
    table_set_limit(t, 5, 50);
    for (guint i = 0; i < v->r->breaches->len; i++) {
        const struct report_breach *b = g_ptr_array_index(v->r->breaches, i);
        g_autoptr(GDateTime) due = b->due != NULL ? timefmt_parse(b->due) : NULL;
        g_autofree char *due_text =
            due != NULL ? report_local_time(g_date_time_to_unix(due), v->r->zone) : NULL;
        g_autofree char *sev = g_strdup_printf("%d", b->severity);
        const char *cells[] = { b->tag,
                                sev,
                                report_word(v, b->goal != NULL ? b->goal : "-"),
                                due_text,
                                b->customer != NULL ? b->customer : report_word(v, "unknown"),
                                b->subject };
        table_add(t, cells);
    }
    text = table_render(t);
    g_string_append_printf(out, "%s (%u)\n", report_word(v, "breaches"), v->r->breaches->len);
    if (v->r->breaches->len > 0)
        g_string_append(out, text);
    else
        g_string_append_printf(out, "%s\n", report_word(v, "no_breaches"));
    table_free(t);
}

char *
report_text(const struct report_view *v)
{
    const struct report *r = v->r;
    GString *out = g_string_new(NULL);
    g_autofree char *first = report_first_day(r), *last = report_last_day(r);
    g_autofree char *until = report_local_time(r->end, r->zone);
    g_autoptr(GPtrArray) sev = g_ptr_array_new();

    g_string_append_printf(out, "%s %s – %s (%s %s; %s %s)\n", report_word(v, "title"), first, last,
                           report_word(v, "zone"), r->zone, report_word(v, "facts"), until);
    if (v->customer != NULL || v->plan != NULL)
        g_string_append_printf(out, "%s: %s, %s: %s\n", report_word(v, "customer"),
                               v->customer != NULL ? v->customer : report_word(v, "all"),
                               report_word(v, "plan"),
                               v->plan != NULL ? v->plan : report_word(v, "all"));
    g_string_append_printf(out, "%s: %s %u, %s %u, %s %u, %s %u\n\n", report_word(v, "tickets"),
                           report_word(v, "opened"), r->total.opened, report_word(v, "resolved"),
                           r->total.resolved, report_word(v, "open_at_start"), r->open_at_start,
                           report_word(v, "open_at_end"), r->total.open_at_end);
    g_string_append_printf(out, "%s: %s/%s/%s, %s\n\n", report_word(v, "goals"),
                           report_word(v, "met"), report_word(v, "missed"),
                           report_word(v, "running"), report_word(v, "share_met"));
    g_ptr_array_add(sev, (gpointer)&r->total);
    for (int s = 1; s <= 4; s++)
        g_ptr_array_add(sev, (gpointer)&r->severity[s]);
    groups_text(out, v, report_word(v, "per_severity"),
                (const struct report_group *const *)sev->pdata, sev->len);
    groups_text(out, v, report_word(v, "per_plan"),
                (const struct report_group *const *)r->plans->pdata, r->plans->len);
    groups_text(out, v, report_word(v, "per_customer"),
                (const struct report_group *const *)r->customers->pdata, r->customers->len);
    times_text(out, v, report_word(v, "response_time"), true);
    times_text(out, v, report_word(v, "resolution_time"), false);
    within_text(out, v);
    escalations_text(out, v);
    breaches_text(out, v);
    return g_string_free(out, FALSE);
}

/* ---- the command ---- */

static bool
write_file(const char *path, const char *text, GError **error)
{
    /* g_file_set_contents writes a temporary file and renames it: the
     * page is whole or absent. */
    return g_file_set_contents(path, text, -1, error);
}

static int
render(const struct report_view *v, const struct options *o)
{
    g_autoptr(GError) error = NULL;

    if (o->json) {
        g_autoptr(JsonGenerator) gen = json_generator_new();
        g_autoptr(JsonNode) root = report_json(v);
        g_autofree char *text = NULL;
        json_generator_set_pretty(gen, TRUE);
        json_generator_set_root(gen, root);
        text = json_generator_to_data(gen, NULL);
        printf("%s\n", text);
    } else if (o->html != NULL) {
        g_autofree char *page = report_html(v);
        if (!write_file(o->html, page, &error)) {
            fprintf(stderr, "ticketctl: %s\n", error->message);
            return EXIT_DATABASE;
        }
        printf("wrote %s\n", o->html);
    } else {
        g_autofree char *text = report_text(v);
        fputs(text, stdout);
    }
    return 0;
}

int
cmd_report(const struct config *cfg, const char *db_path, const struct options *o)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GDateTime) now = options_time(o);
    g_autoptr(GPtrArray) history = NULL;
    g_autofree char *active = NULL, *created_to = NULL;
    const char *zone = options_zone(cfg);
    const char *language = o->language != NULL ? o->language : cfg != NULL ? cfg->language : "en";
    struct report_params p = { .zone = zone, .policy = cfg != NULL ? &cfg->policy : NULL };
    struct cli_filter cf;
    struct store_report *sr;
    struct report *r;
    int rc;

    if (now == NULL)
        return EXIT_USAGE;
    if (o->json && o->html != NULL) {
        fprintf(stderr, "ticketctl: report takes --json or --html FILE, not both\n");
        return EXIT_USAGE;
    }
    if (!report_language_known(language)) {
        fprintf(stderr, "ticketctl: --language \"%s\": the report speaks en and nl\n", language);
        return EXIT_USAGE;
    }
    if (o->status != NULL || o->severity != 0) {
        fprintf(stderr, "ticketctl: report counts every status and severity; it takes "
                        "--customer and --plan as filters\n");
        return EXIT_USAGE;
    }
    if (!cli_filter_init(cfg, o, &cf)) {
        cli_filter_clear(&cf);
        return EXIT_USAGE;
    }
    report_last_month(now, zone, &p.from, &p.to);
    if (cf.from != NULL)
        p.from = g_date_time_to_unix(cf.from);
    if (cf.to != NULL)
        p.to = g_date_time_to_unix(cf.to);
    else if (cf.from != NULL)
        p.to = MAX(p.from + 1, g_date_time_to_unix(now));
    p.now = g_date_time_to_unix(now);
    cli_filter_clear(&cf);
    if (p.from >= p.to || p.to - p.from > (gint64)REPORT_MAX_DAYS * 86400) {
        fprintf(stderr, "ticketctl: the period must start before it ends and be at most %d days\n",
                REPORT_MAX_DAYS);
        return EXIT_USAGE;
    }
    {
        /* What a ticket needs to matter: created before the end, and not
         * done and untouched since before the start. */
        g_autoptr(GDateTime) from = g_date_time_new_from_unix_utc(p.from);
        g_autoptr(GDateTime) to = g_date_time_new_from_unix_utc(p.to);
        active = timefmt_iso8601(from);
        created_to = timefmt_iso8601(to);
    }
    cf.f.active_since = active;
    cf.f.created_to = created_to;
    sr = cli_open_report(db_path, &error);
    if (sr != NULL)
        history = store_report_history(sr, &cf.f, &error);
    store_report_close(sr);
    if (history == NULL) {
        fprintf(stderr, "ticketctl: %s\n", error->message);
        return EXIT_DATABASE;
    }
    r = report_compute(&p, history);
    struct report_view v = {
        .r = r, .language = language, .customer = o->customer, .plan = o->plan
    };
    rc = render(&v, o);
    report_free(r);
    return rc;
}
