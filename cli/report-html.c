/*
 * report-html - the service report as one self-contained HTML page: inline
 * CSS, SVG charts this file draws, no script and no external resource, in
 * English or Dutch, printable on A4.
 *
 * Owns: nothing; it returns the page as a string.
 *
 * Every value from the database (subjects, customer and plan names, ticket
 * tags) is escaped with g_markup_escape_text, so a subject that holds
 * <script> shows as text.  A Content-Security-Policy in the page forbids
 * every fetch but inline styles, so even a mistake of ours cannot make the
 * browser load anything.  Every number in the page carries data-json, the
 * path of the same number in ticketctl report --json, and data-value, its
 * value there: the tests compare the two.
 *
 * Edge cases: an empty period draws empty charts with their axes; a chart
 * whose largest value is 0 scales to 1.
 */
#include <string.h>

#include <glib.h>

#include "cli/report.h"

#define CHART_W 640
#define CHART_H 200
#define PAD_L 40
#define PAD_B 24
#define PAD_T 12

static const char css[] =
    "@page{size:A4;margin:14mm}"
    "*{box-sizing:border-box}"
    "body{font:10pt/1.4 'DejaVu Sans',Arial,Helvetica,sans-serif;color:#1d2530;margin:0 auto;"
    "max-width:190mm;padding:8mm 6mm}"
    "h1{font-size:18pt;margin:0 0 2mm}h2{font-size:12pt;margin:7mm 0 2mm;"
    "border-bottom:1px solid #c8ced6;padding-bottom:1mm;break-after:avoid}"
    "p.meta{color:#4a5563;margin:0 0 4mm}"
    ".kpis{display:flex;flex-wrap:wrap;gap:3mm}"
    ".kpi{flex:1 1 28mm;border:1px solid #c8ced6;border-radius:2mm;padding:2mm 3mm}"
    ".kpi b{display:block;font-size:16pt}.kpi>span{color:#4a5563;font-size:8.5pt}"
    "table{border-collapse:collapse;width:100%;margin:1mm 0 2mm;font-size:9pt;"
    "break-inside:auto}"
    "tr{break-inside:avoid}"
    "th,td{border-bottom:1px solid #e1e5ea;padding:1mm 1.5mm;text-align:right;"
    "vertical-align:top}"
    "th:first-child,td:first-child,td.text,th.text{text-align:left}"
    "td.text{overflow-wrap:break-word}td.goal{white-space:nowrap}"
    "p.legend{color:#4a5563;font-size:8.5pt;margin:0}"
    /* Headers wrap between words, never inside one ("Severit y"). */
    "th{background:#f1f3f6;font-weight:600;font-size:8pt;overflow-wrap:normal;"
    "word-break:normal}"
    "td:first-child{white-space:nowrap}"
    "figure{margin:3mm 0;break-inside:avoid}figcaption{font-weight:600;margin-bottom:1mm}"
    "svg{width:100%;height:auto;display:block}"
    "svg text{font-size:10px;fill:#4a5563}"
    ".bar{fill:#3b6ea5}.bar.missed{fill:#c0504d}.bar.none{fill:#9aa5b1}"
    ".axis{stroke:#9aa5b1;stroke-width:1}"
    ".defs li{margin-bottom:1mm}"
    "@media print{body{padding:0;max-width:none}.kpi,figure{break-inside:avoid}}";

/* ---- building blocks ---- */

static void
esc(GString *out, const char *text)
{
    g_autofree char *e = g_markup_escape_text(text != NULL ? text : "", -1);

    g_string_append(out, e);
}

/* A number with the JSON path PATH; TEXT what the reader sees (NULL: the number). */
static void
number(GString *out, const char *path, gint64 value, const char *text)
{
    g_string_append_printf(out, "<span data-json=\"%s\" data-value=\"%" G_GINT64_FORMAT "\">", path,
                           value);
    if (text != NULL)
        esc(out, text);
    else
        g_string_append_printf(out, "%" G_GINT64_FORMAT, value);
    g_string_append(out, "</span>");
}

/* A percentage; PATH's value is null when there is none. */
static void
percent(GString *out, const struct report_view *v, const char *path, double pct)
{
    g_autofree char *text = report_percent_text(v, pct);
    char buf[G_ASCII_DTOSTR_BUF_SIZE];

    if (pct < 0)
        g_strlcpy(buf, "null", sizeof(buf));
    else
        g_ascii_formatd(buf, sizeof(buf), "%.1f", pct);
    g_string_append_printf(out, "<span data-json=\"%s\" data-value=\"%s\">%s</span>", path, buf,
                           text);
}

/* A duration in seconds (null when negative), shown for people. */
static void
duration(GString *out, const char *path, gint64 s)
{
    g_autofree char *text = report_duration(s);

    if (s < 0)
        g_string_append_printf(out, "<span data-json=\"%s\" data-value=\"null\">-</span>", path);
    else
        number(out, path, s, text);
}

static void
cell_number(GString *out, const char *path, gint64 value)
{
    g_string_append(out, "<td>");
    number(out, path, value, NULL);
    g_string_append(out, "</td>");
}

/* The headings CELLS; bit I of TEXT_COLUMNS marks a column of text, which
 * is aligned left like its cells. */
static void
heading_row(GString *out, const char *const *cells, guint n, guint text_columns)
{
    g_string_append(out, "<thead><tr>");
    for (guint i = 0; i < n; i++) {
        g_string_append(out, text_columns & (1u << i) ? "<th class=\"text\">" : "<th>");
        esc(out, cells[i]);
        g_string_append(out, "</th>");
    }
    g_string_append(out, "</tr></thead>");
}

/* ---- charts ---- */

static void
chart_open(GString *out, const char *kind, const char *caption, guint height)
{
    g_string_append_printf(out, "<figure class=\"chart\" data-chart=\"%s\"><figcaption>", kind);
    esc(out, caption);
    g_string_append_printf(out,
                           "</figcaption><svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" "
                           "viewBox=\"0 0 %d %u\"><title>",
                           CHART_W, height);
    esc(out, caption);
    g_string_append(out, "</title>");
}

static void
chart_close(GString *out)
{
    g_string_append(out, "</svg></figure>");
}

/* The value axis from 0 to MAX at the left, for a plot of HEIGHT. */
static void
value_axis(GString *out, guint max, guint height)
{
    double plot = height - PAD_B - PAD_T;

    g_string_append_printf(out, "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%u\"/>",
                           PAD_L, PAD_T, PAD_L, height - PAD_B);
    g_string_append_printf(out, "<line class=\"axis\" x1=\"%d\" y1=\"%u\" x2=\"%d\" y2=\"%u\"/>",
                           PAD_L, height - PAD_B, CHART_W, height - PAD_B);
    for (guint k = 0; k <= 2; k++) {
        guint value = max * k / 2;
        double y = height - PAD_B - plot * value / max;
        g_string_append_printf(out, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%u</text>",
                               PAD_L - 4, y + 3, value);
    }
}

/* One bar of VALUE (of MAX) in slot I of N, with the JSON path PATH. */
static void
bar(GString *out, const char *cls, guint i, guint n, guint value, guint max, guint height,
    const char *path, const char *label)
{
    double slot = (double)(CHART_W - PAD_L - 4) / n;
    double plot = height - PAD_B - PAD_T;
    double h = plot * value / max;
    double x = PAD_L + 2 + slot * i + slot * 0.12;

    g_string_append_printf(out,
                           "<rect class=\"bar %s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                           "height=\"%.1f\" data-json=\"%s\" data-value=\"%u\"><title>",
                           cls, x, height - PAD_B - h, slot * 0.76, h, path, value);
    esc(out, label);
    g_string_append_printf(out, ": %u</title></rect>", value);
}

static void
backlog_chart(GString *out, const struct report_view *v)
{
    const GArray *days = v->r->backlog;
    guint max = 1;

    chart_open(out, "backlog", report_word(v, "backlog"), CHART_H);
    for (guint i = 0; i < days->len; i++)
        max = MAX(max, g_array_index(days, struct report_day, i).open);
    value_axis(out, max, CHART_H);
    for (guint i = 0; i < days->len; i++) {
        const struct report_day *d = &g_array_index(days, struct report_day, i);
        g_autofree char *path = g_strdup_printf("backlog.%u.open", i);
        bar(out, "", i, days->len, d->open, max, CHART_H, path, d->date);
        /* The first day and every seventh are named, and the last when
         * there is room for it. */
        if (i % 7 == 0 || (i + 1 == days->len && i % 7 >= 3)) {
            double slot = (double)(CHART_W - PAD_L - 4) / days->len;
            g_string_append_printf(out,
                                   "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>",
                                   PAD_L + 2 + slot * (i + 0.5), CHART_H - 8, d->date + 5);
        }
    }
    chart_close(out);
}

static void
attainment_chart(GString *out, const struct report_view *v)
{
    static const int goals[] = { GOAL_RESPONSE, GOAL_UPDATE, GOAL_RESOLUTION };
    const guint row = 16, height = PAD_T + 4 * (3 * row + 10) + 4;
    double width = CHART_W - 210 - 50;

    chart_open(out, "attainment", report_word(v, "attainment"), height);
    for (int s = 1; s <= 4; s++) {
        const struct report_group *g = &v->r->severity[s];
        double top = PAD_T + (s - 1) * (3 * row + 10);
        g_string_append_printf(out, "<text x=\"0\" y=\"%.1f\" font-weight=\"600\">%s %d</text>",
                               top + row - 4, report_word(v, "sev"), s);
        for (guint k = 0; k < G_N_ELEMENTS(goals); k++) {
            const struct report_goal *goal = &g->goals[goals[k]];
            double pct = report_percent(goal->met, goal->met + goal->missed);
            double y = top + k * row;
            g_autofree char *pct_text = report_percent_text(v, pct);
            g_autofree char *path =
                g_strdup_printf("by_severity.%d.%s.percent", s - 1, plan_goal_names[goals[k]]);
            char buf[G_ASCII_DTOSTR_BUF_SIZE];
            g_string_append_printf(out, "<text x=\"200\" y=\"%.1f\" text-anchor=\"end\">%s</text>",
                                   y + row - 4, report_word(v, plan_goal_names[goals[k]]));
            g_string_append_printf(out,
                                   "<rect class=\"bar none\" x=\"210\" y=\"%.1f\" width=\"%.1f\" "
                                   "height=\"%u\" opacity=\"0.25\"/>",
                                   y + 2, width, row - 4);
            if (pct < 0)
                g_strlcpy(buf, "null", sizeof(buf));
            else
                g_ascii_formatd(buf, sizeof(buf), "%.1f", pct);
            g_string_append_printf(out,
                                   "<rect class=\"bar%s\" x=\"210\" y=\"%.1f\" width=\"%.1f\" "
                                   "height=\"%u\" data-json=\"%s\" data-value=\"%s\"><title>%s: "
                                   "%s</title></rect>",
                                   pct >= 0 && pct < 100 && goal->missed > 0 ? " missed" : "",
                                   y + 2, pct >= 0 ? width * pct / 100 : 0, row - 4, path, buf,
                                   report_word(v, plan_goal_names[goals[k]]), pct_text);
            g_string_append_printf(out, "<text x=\"%.1f\" y=\"%.1f\">%s</text>", 214 + width,
                                   y + row - 4, pct_text);
        }
    }
    chart_close(out);
}

/* "15m", "1h", "24h": a bucket's bound, short enough for the axis. */
static char *
short_duration(gint64 s)
{
    if (s < 3600)
        return g_strdup_printf("%" G_GINT64_FORMAT "m", s / 60);
    return g_strdup_printf("%" G_GINT64_FORMAT "h", s / 3600);
}

static char *
bucket_label(int k)
{
    g_autofree char *bound = NULL;

    if (k < REPORT_BUCKETS - 1) {
        bound = short_duration(report_bucket_limits[k]);
        return g_strdup_printf("≤ %s", bound);
    }
    bound = short_duration(report_bucket_limits[k - 1]);
    return g_strdup_printf("> %s", bound);
}

static void
distribution_chart(GString *out, const struct report_view *v)
{
    const struct report *r = v->r;
    guint n = REPORT_BUCKETS + 1, max = MAX(r->no_response, 1u);
    double slot = (double)(CHART_W - PAD_L - 4) / n;

    chart_open(out, "distribution", report_word(v, "distribution"), CHART_H);
    for (int k = 0; k < REPORT_BUCKETS; k++)
        max = MAX(max, r->response_buckets[k]);
    value_axis(out, max, CHART_H);
    for (guint k = 0; k < n; k++) {
        bool is_none = k == REPORT_BUCKETS;
        g_autofree char *label =
            is_none ? g_strdup(report_word(v, "no_response")) : bucket_label((int)k);
        g_autofree char *path = is_none ? g_strdup("no_first_response")
                                        : g_strdup_printf("first_response_histogram.%u.tickets", k);
        bar(out, is_none ? "none" : "", k, n, is_none ? r->no_response : r->response_buckets[k],
            max, CHART_H, path, label);
        g_string_append_printf(out, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">",
                               PAD_L + 2 + slot * (k + 0.5), CHART_H - 8);
        esc(out, is_none ? report_word(v, "none") : label);
        g_string_append(out, "</text>");
    }
    chart_close(out);
}

/* ---- tables ---- */

static void
kpi(GString *out, const char *label, const char *path, gint64 value)
{
    g_string_append(out, "<div class=\"kpi\"><b>");
    number(out, path, value, NULL);
    g_string_append(out, "</b><span>");
    esc(out, label);
    g_string_append(out, "</span></div>");
}

static void
goal_cells(GString *out, const struct report_view *v, const char *base,
           const struct report_group *g)
{
    for (int k = 0; k < GOAL_COUNT; k++) {
        const struct report_goal *goal = &g->goals[k];
        g_autofree char *met = g_strdup_printf("%s.%s.met", base, plan_goal_names[k]);
        g_autofree char *missed = g_strdup_printf("%s.%s.missed", base, plan_goal_names[k]);
        g_autofree char *running = g_strdup_printf("%s.%s.running", base, plan_goal_names[k]);
        g_autofree char *pct = g_strdup_printf("%s.%s.percent", base, plan_goal_names[k]);
        g_string_append(out, "<td class=\"goal\">");
        number(out, met, goal->met, NULL);
        g_string_append(out, "/");
        number(out, missed, goal->missed, NULL);
        g_string_append(out, "/");
        number(out, running, goal->running, NULL);
        g_string_append(out, " <b>");
        percent(out, v, pct, report_percent(goal->met, goal->met + goal->missed));
        g_string_append(out, "</b></td>");
    }
}

/* One row of the goals tables: NAME, then the group's counts and goals. */
static void
group_row(GString *out, const struct report_view *v, const char *name, const char *base,
          const struct report_group *g)
{
    g_autofree char *p1 = g_strdup_printf("%s.opened", base);
    g_autofree char *p2 = g_strdup_printf("%s.resolved", base);
    g_autofree char *p3 = g_strdup_printf("%s.open_at_end", base);
    g_autofree char *p4 = g_strdup_printf("%s.breaches", base);
    g_autofree char *p5 = g_strdup_printf("%s.escalations", base);

    g_string_append(out, "<tr><td class=\"text\">");
    esc(out, name);
    g_string_append(out, "</td>");
    cell_number(out, p1, g->opened);
    cell_number(out, p2, g->resolved);
    cell_number(out, p3, g->open_at_end);
    goal_cells(out, v, base, g);
    cell_number(out, p4, g->breaches);
    cell_number(out, p5, g->escalations);
    g_string_append(out, "</tr>");
}

static void
groups_table(GString *out, const struct report_view *v, const char *first)
{
    const char *h[REPORT_GROUP_COLUMNS];

    report_group_headings(v, first, h);
    g_string_append_printf(out, "<p class=\"legend\">%s / %s / %s, %s</p><table>",
                           report_word(v, "met"), report_word(v, "missed"),
                           report_word(v, "running"), report_word(v, "share_met"));
    heading_row(out, h, G_N_ELEMENTS(h), 0);
    g_string_append(out, "<tbody>");
}

static void
severity_tables(GString *out, const struct report_view *v)
{
    const struct report *r = v->r;

    g_string_append_printf(out, "<h2>%s</h2>", report_word(v, "goals"));
    groups_table(out, v, report_word(v, "severity"));
    group_row(out, v, report_word(v, "total"), "total", &r->total);
    for (int s = 1; s <= 4; s++) {
        g_autofree char *name = g_strdup_printf("%s %d", report_word(v, "sev"), s);
        g_autofree char *base = g_strdup_printf("by_severity.%d", s - 1);
        group_row(out, v, name, base, &r->severity[s]);
    }
    g_string_append(out, "</tbody></table>");
}

static void
named_tables(GString *out, const struct report_view *v, const char *title, const char *first,
             const char *key, const GPtrArray *groups)
{
    g_string_append(out, "<h2>");
    esc(out, title);
    g_string_append(out, "</h2>");
    groups_table(out, v, first);
    for (guint i = 0; i < groups->len; i++) {
        const struct report_group *g = g_ptr_array_index(groups, i);
        g_autofree char *base = g_strdup_printf("%s.%u", key, i);
        group_row(out, v, g->name != NULL ? g->name : report_word(v, "unknown"), base, g);
    }
    g_string_append(out, "</tbody></table>");
}

static void
stat_cells(GString *out, const char *base, const struct report_stat *s)
{
    g_autofree char *c = g_strdup_printf("%s.count", base);
    g_autofree char *m = g_strdup_printf("%s.median", base);
    g_autofree char *p = g_strdup_printf("%s.p90", base);
    g_autofree char *x = g_strdup_printf("%s.max", base);

    cell_number(out, c, s->count);
    g_string_append(out, "<td>");
    duration(out, m, s->median);
    g_string_append(out, "</td><td>");
    duration(out, p, s->p90);
    g_string_append(out, "</td><td>");
    duration(out, x, s->max);
    g_string_append(out, "</td>");
}

static void
times_table(GString *out, const struct report_view *v, const char *title, const char *key)
{
    const struct report *r = v->r;
    g_autofree char *b =
        g_strdup_printf("%s: %s", report_word(v, "business"), report_word(v, "count"));
    g_autofree char *t = g_strdup_printf("%s: %s", report_word(v, "real"), report_word(v, "count"));
    const char *h[] = { report_word(v, "severity"), b, report_word(v, "median"), "p90",
                        report_word(v, "max"),      t, report_word(v, "median"), "p90",
                        report_word(v, "max") };
    bool is_response = strcmp(key, "first_response") == 0;

    g_string_append(out, "<h2>");
    esc(out, title);
    g_string_append(out, "</h2><table>");
    heading_row(out, h, G_N_ELEMENTS(h), 0);
    g_string_append(out, "<tbody>");
    for (int s = 0; s <= 4; s++) {
        const struct report_group *g = s == 0 ? &r->total : &r->severity[s];
        g_autofree char *base =
            s == 0 ? g_strdup("total") : g_strdup_printf("by_severity.%d", s - 1);
        g_autofree char *bb = g_strdup_printf("%s.%s.business", base, key);
        g_autofree char *rb = g_strdup_printf("%s.%s.real", base, key);
        g_autofree char *name = s == 0 ? g_strdup(report_word(v, "total"))
                                       : g_strdup_printf("%s %d", report_word(v, "sev"), s);
        g_string_append(out, "<tr><td class=\"text\">");
        esc(out, name);
        g_string_append(out, "</td>");
        stat_cells(out, bb, is_response ? &g->response_business : &g->resolution_business);
        stat_cells(out, rb, is_response ? &g->response_real : &g->resolution_real);
        g_string_append(out, "</tr>");
    }
    g_string_append(out, "</tbody></table>");
}

static void
within_table(GString *out, const struct report_view *v)
{
    const struct report_group *g = &v->r->total;
    const char *h[] = { report_word(v, "within"), report_word(v, "resolved"),
                        report_word(v, "decided"), "%" };

    g_string_append(out, "<table>");
    heading_row(out, h, G_N_ELEMENTS(h), 0);
    g_string_append(out, "<tbody>");
    for (int i = 0; i < REPORT_WITHIN_COUNT; i++) {
        g_autofree char *key = g_strdup_printf("within_%d", report_within_days[i]);
        g_autofree char *base =
            g_strdup_printf("total.resolved_within.%dbd", report_within_days[i]);
        g_autofree char *p1 = g_strdup_printf("%s.within", base);
        g_autofree char *p2 = g_strdup_printf("%s.decided", base);
        g_autofree char *p3 = g_strdup_printf("%s.percent", base);
        g_string_append(out, "<tr><td class=\"text\">");
        esc(out, report_word(v, key));
        g_string_append(out, "</td>");
        cell_number(out, p1, g->within[i].within);
        cell_number(out, p2, g->within[i].decided);
        g_string_append(out, "<td>");
        percent(out, v, p3, report_percent(g->within[i].within, g->within[i].decided));
        g_string_append(out, "</td></tr>");
    }
    g_string_append(out, "</tbody></table>");
}

static void
escalations_table(GString *out, const struct report_view *v)
{
    const char *h[] = { report_word(v, "stage"),       report_word(v, "automatic"),
                        report_word(v, "missed-goal"), report_word(v, "ladder"),
                        report_word(v, "by_customer"), report_word(v, "staff") };

    g_string_append_printf(out, "<h2>%s</h2><table>", report_word(v, "escalations"));
    heading_row(out, h, G_N_ELEMENTS(h), 0);
    g_string_append(out, "<tbody>");
    for (int s = 1; s <= 3; s++) {
        g_string_append_printf(out, "<tr><td>%d</td>", s);
        for (int c = 0; c < CAUSE_COUNT; c++) {
            g_autofree char *path =
                g_strdup_printf("escalations.by_stage.%d.%s", s, report_cause_names[c]);
            cell_number(out, path, v->r->escalations[s][c]);
        }
        g_string_append(out, "</tr>");
    }
    g_string_append(out, "</tbody></table>");
}

static void
breaches_table(GString *out, const struct report_view *v)
{
    const struct report *r = v->r;
    const char *h[] = { report_word(v, "ticket"),   report_word(v, "sev"),
                        report_word(v, "goal"),     report_word(v, "due"),
                        report_word(v, "customer"), report_word(v, "subject") };

    g_string_append_printf(out, "<h2>%s (", report_word(v, "breaches"));
    number(out, "breaches.length", r->breaches->len, NULL);
    g_string_append(out, ")</h2>");
    if (r->breaches->len == 0) {
        g_string_append_printf(out, "<p>%s</p>", report_word(v, "no_breaches"));
        return;
    }
    g_string_append(out, "<table>");
    heading_row(out, h, G_N_ELEMENTS(h), 0x3d);
    g_string_append(out, "<tbody>");
    for (guint i = 0; i < r->breaches->len; i++) {
        const struct report_breach *b = g_ptr_array_index(r->breaches, i);
        g_autoptr(GDateTime) due =
            b->due != NULL ? g_date_time_new_from_iso8601(b->due, NULL) : NULL;
        g_autofree char *due_text =
            due != NULL ? report_local_time(g_date_time_to_unix(due), r->zone) : g_strdup("-");
        g_autofree char *sev = g_strdup_printf("breaches.%u.severity", i);
        g_string_append_printf(out, "<tr data-breach=\"%u\"><td class=\"text\">", i);
        esc(out, b->tag);
        g_string_append(out, "</td>");
        cell_number(out, sev, b->severity);
        g_string_append(out, "<td class=\"text\">");
        esc(out, report_word(v, b->goal != NULL ? b->goal : "-"));
        g_string_append(out, "</td><td class=\"text\">");
        esc(out, due_text);
        g_string_append(out, "</td><td class=\"text\">");
        esc(out, b->customer != NULL ? b->customer : report_word(v, "unknown"));
        g_string_append(out, "</td><td class=\"text\">");
        esc(out, b->subject);
        g_string_append(out, "</td></tr>");
    }
    g_string_append(out, "</tbody></table>");
}

/* The escalations by stage and cause, as the JSON's escalations.total. */
static gint64
escalations_total(const struct report *r)
{
    gint64 n = 0;

    for (int s = 1; s <= 3; s++)
        for (int c = 0; c < CAUSE_COUNT; c++)
            n += r->escalations[s][c];
    return n;
}

char *
report_html(const struct report_view *v)
{
    const struct report *r = v->r;
    GString *out = g_string_new(NULL);
    g_autofree char *first = report_first_day(r), *last = report_last_day(r);
    g_autofree char *until = report_local_time(r->end, r->zone);
    g_autofree char *made = report_local_time(r->now, r->zone);
    const struct report_goal *resp = &r->total.goals[GOAL_RESPONSE];

    g_string_append_printf(out,
                           "<!DOCTYPE html>\n<html lang=\"%s\"><head><meta charset=\"utf-8\">"
                           "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src "
                           "'none'; style-src 'unsafe-inline'\">"
                           "<meta name=\"viewport\" content=\"width=device-width, "
                           "initial-scale=1\"><title>",
                           strcmp(v->language, "nl") == 0 ? "nl" : "en");
    g_string_append_printf(out, "%s %s – %s</title><style>%s</style></head><body>",
                           report_word(v, "title"), first, last, css);
    g_string_append_printf(out, "<header><h1>%s %s – %s</h1><p class=\"meta\">",
                           report_word(v, "title"), first, last);
    g_string_append_printf(out, "%s %s; %s %s; %s %s", report_word(v, "zone"), r->zone,
                           report_word(v, "facts"), until, report_word(v, "made"), made);
    if (v->customer != NULL || v->plan != NULL) {
        g_string_append_printf(out, "<br>%s: ", report_word(v, "customer"));
        esc(out, v->customer != NULL ? v->customer : report_word(v, "all"));
        g_string_append_printf(out, ", %s: ", report_word(v, "plan"));
        esc(out, v->plan != NULL ? v->plan : report_word(v, "all"));
    }
    g_string_append(out, "</p></header><section class=\"kpis\">");
    kpi(out, report_word(v, "opened"), "total.opened", r->total.opened);
    kpi(out, report_word(v, "resolved"), "total.resolved", r->total.resolved);
    kpi(out, report_word(v, "open_at_start"), "open_at_start", r->open_at_start);
    kpi(out, report_word(v, "open_at_end"), "total.open_at_end", r->total.open_at_end);
    g_string_append_printf(out, "<div class=\"kpi\"><b>");
    percent(out, v, "total.response.percent", report_percent(resp->met, resp->met + resp->missed));
    g_string_append_printf(out, "</b><span>%s: %s</span></div>", report_word(v, "response"),
                           report_word(v, "met"));
    kpi(out, report_word(v, "breaches"), "total.breaches", r->total.breaches);
    kpi(out, report_word(v, "escalations"), "escalations.total", escalations_total(r));
    g_string_append(out, "</section>");
    backlog_chart(out, v);
    attainment_chart(out, v);
    distribution_chart(out, v);
    severity_tables(out, v);
    times_table(out, v, report_word(v, "response_time"), "first_response");
    times_table(out, v, report_word(v, "resolution_time"), "resolution_time");
    within_table(out, v);
    named_tables(out, v, report_word(v, "per_plan"), report_word(v, "plan"), "by_plan", r->plans);
    named_tables(out, v, report_word(v, "per_customer"), report_word(v, "customer"), "by_customer",
                 r->customers);
    escalations_table(out, v);
    breaches_table(out, v);
    g_string_append_printf(out,
                           "<h2>%s</h2><ul class=\"defs\"><li>%s</li><li>%s</li><li>%s</li>"
                           "<li>%s</li></ul></body></html>\n",
                           report_word(v, "definitions"), report_word(v, "def_period"),
                           report_word(v, "def_met"), report_word(v, "def_time"),
                           report_word(v, "def_rank"));
    return g_string_free(out, FALSE);
}
