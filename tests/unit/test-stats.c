/*
 * test-stats - the metrics the daemon reads from the database and the
 * Prometheus text it writes: SLA warnings and breaches by goal and
 * severity (each event once, however often it is read), overdue tickets by
 * severity, the oldest pending outbox row, the last verified backup and
 * build_info; promtool (Debian's prometheus package) checks the text, and
 * the names written are those ticket-milter(8) lists and etc/'s alert rules
 * and Grafana dashboard use.
 */
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "milter/stats.h"
#include "store/counters.h"
#include "store/db.h"
#include "store/meta.h"
#include "store/outbox.h"
#include "store/store.h"
#include "store/tickets.h"
#include "util/timefmt.h"

struct fixture {
    char *dir;
    char *path;
};

static void
setup(struct fixture *f, gconstpointer data)
{
    f->dir = g_dir_make_tmp("test-stats-XXXXXX", NULL);
    f->path = g_build_filename(f->dir, "tickets.db", NULL);
}

static void
teardown(struct fixture *f, gconstpointer data)
{
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", f->dir);
    g_assert_cmpint(system(cmd), ==, 0);
    g_free(f->dir);
    g_free(f->path);
}

static gint64
add_ticket(struct store *st, int severity, const char *status, const char *response_due,
           const char *update_due)
{
    struct ticket t = {
        .severity = severity,
        .stage = 1,
        .customer = "acme",
        .requester = "ops@acme.test",
        .subject = "s",
        .created_at = "2026-11-02T09:00:00Z",
        .first_response_due = (char *)response_due,
        .next_update_due = (char *)update_due,
    };
    g_autoptr(GError) error = NULL;
    gint64 id = 0;

    g_assert_true(ticket_status_parse(status, &t.status));
    g_assert_true(store_ticket_insert(st, &t, "TKT", &id, &error));
    g_assert_no_error(error);
    /* The insert takes the row's fields; the deadlines come with an update. */
    t.id = id;
    g_assert_true(store_ticket_update(st, &t, "2026-11-02T09:00:00Z", &error));
    return id;
}

static void
add_event(struct store *st, gint64 ticket, const char *type, const char *detail)
{
    g_autoptr(GError) error = NULL;

    g_assert_true(
        store_event_insert(st, ticket, "2026-11-02T10:00:00Z", type, NULL, detail, &error));
    g_assert_no_error(error);
}

static void
fill(const char *path)
{
    g_autoptr(GError) error = NULL;
    struct store *st = store_open(path, STORE_READ_WRITE, 1000, &error);
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    g_autoptr(GDateTime) ten_ago = g_date_time_add_minutes(now, -10);
    g_autofree char *queued = timefmt_iso8601(ten_ago);
    const char *const to[] = { "ops@acme.test", NULL };
    struct store_new_outbox o = {
        .kind = "ack",
        .template_name = "ack-new",
        .transport = "smtp",
        .mail_from = "",
        .recipients = to,
        .message_id = "<m1@x>",
        .body = "x",
        .created_at = queued,
    };
    gint64 a, b, c;

    g_assert_nonnull(st);
    g_assert_true(store_begin(st, &error));
    /* An open Sev1 past its response, an open Sev2 past its update, a
     * pending Sev2 past its response (its clock stands still), a Sev3 in
     * time. */
    a = add_ticket(st, 1, "open", "2026-11-02T10:00:00Z", NULL);
    b = add_ticket(st, 2, "open", "2099-01-01T00:00:00Z", "2026-11-03T10:00:00Z");
    add_ticket(st, 2, "pending", "2026-11-02T10:00:00Z", NULL);
    c = add_ticket(st, 3, "open", "2099-01-01T00:00:00Z", NULL);
    add_event(st, a, "sla-warning", "{\"goal\":\"response\",\"due\":\"x\"}");
    add_event(st, a, "sla-breach", "{\"goal\":\"response\",\"due\":\"x\"}");
    add_event(st, b, "sla-breach", "{\"goal\":\"update\",\"due\":\"x\",\"severity\":1}");
    add_event(st, c, "sla-breach", "not json");
    add_event(st, c, "created", "{}");
    g_assert_true(store_outbox_insert(st, &o, NULL, &error));
    g_assert_true(store_meta_set(st, STORE_META_BACKUP_VERIFIED, "2026-11-30T02:17:00Z", &error));
    g_assert_true(store_commit(st, &error));
    store_close(st);
}

static gint64
total(GHashTable *sla, const char *key)
{
    const gint64 *n = g_hash_table_lookup(sla, key);

    return n != NULL ? *n : 0;
}

static void
test_gauges(struct fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GHashTable) sla = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    struct store_counters *c;
    gint64 overdue[5], last = 0, oldest = 0, backup = 0;

    /* fill() dates its rows by its own clock: a now read before it may be
     * a second behind, and the oldest row then less than 600 s old. */
    fill(f->path);
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    g_autofree char *now_text = timefmt_iso8601(now);
    c = store_counters_open(f->path, 1000, &error);
    g_assert_nonnull(c);
    g_assert_true(store_counters_sla_events(c, &last, sla, &error));
    g_assert_cmpint(total(sla, "sla-warning response 1"), ==, 1);
    g_assert_cmpint(total(sla, "sla-breach response 1"), ==, 1);
    /* The event's own severity wins over the ticket's (2). */
    g_assert_cmpint(total(sla, "sla-breach update 1"), ==, 1);
    /* A detail that is not JSON is counted, under goal "other". */
    g_assert_cmpint(total(sla, "sla-breach other 3"), ==, 1);
    g_assert_cmpint(g_hash_table_size(sla), ==, 4);
    /* Read again: nothing new, nothing counted twice. */
    g_assert_true(store_counters_sla_events(c, &last, sla, &error));
    g_assert_cmpint(total(sla, "sla-breach response 1"), ==, 1);

    g_assert_true(store_counters_overdue(c, now_text, overdue, &error));
    g_assert_cmpint(overdue[1], ==, 1);
    g_assert_cmpint(overdue[2], ==, 1);
    g_assert_cmpint(overdue[3], ==, 0);
    g_assert_cmpint(overdue[4], ==, 0);
    /* Nothing written since, a time just before the next deadline and one
     * just after: then the ticket it belongs to is counted too (Sev3; the
     * Sev2 was late already). */
    g_assert_true(store_counters_overdue(c, "2098-12-31T23:59:59Z", overdue, &error));
    g_assert_cmpint(overdue[3], ==, 0);
    g_assert_true(store_counters_overdue(c, "2099-01-01T00:00:01Z", overdue, &error));
    g_assert_cmpint(overdue[1], ==, 1);
    g_assert_cmpint(overdue[2], ==, 1);
    g_assert_cmpint(overdue[3], ==, 1);
    /* A commit by another connection counts at the next read. */
    struct db *other = db_open(f->path, DB_READ_WRITE, 1000, &error);
    g_assert_nonnull(other);
    g_assert_true(
        db_exec(other, "UPDATE tickets SET status = 'resolved' WHERE severity = 1", &error));
    db_close(other);
    g_assert_true(store_counters_overdue(c, now_text, overdue, &error));
    g_assert_no_error(error);
    g_assert_cmpint(overdue[1], ==, 0);
    g_assert_cmpint(overdue[2], ==, 1);
    g_assert_cmpint(overdue[3], ==, 0);
    g_assert_true(store_counters_oldest_pending(c, &oldest, &error));
    g_assert_cmpint(g_date_time_to_unix(now) - oldest, >=, 600);
    g_assert_cmpint(g_date_time_to_unix(now) - oldest, <, 660);
    g_assert_true(store_counters_last_backup(c, &backup, &error));
    g_assert_cmpint(backup, ==, 1796005020);
    store_counters_close(c);
}

static char *
metric_line(const char *text, const char *name)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

    for (char **l = lines; *l != NULL; l++)
        if (g_str_has_prefix(*l, name) && (*l)[strlen(name)] == ' ')
            return g_strdup(*l + strlen(name) + 1);
    return NULL;
}

static void
test_render(struct fixture *f, gconstpointer data)
{
    g_autoptr(GHashTable) sla = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    gint64 *n = g_new(gint64, 1);
    struct stats_gauges g = {
        .outbox = 2,
        .open_tickets = 5,
        .overdue = { 0, 1, 0, 2, 0 },
        .oldest_pending = 75,
        .last_backup = 1796005020,
        .sla = sla,
    };
    g_autofree char *text = NULL, *file = g_build_filename(f->dir, "t.prom", NULL);
    g_autofree char *out = NULL, *err = NULL, *cmd = NULL, *v = NULL, *promtool = NULL;
    int status = 0;

    *n = 3;
    g_hash_table_insert(sla, g_strdup("sla-breach response 2"), n);
    text = stats_render(&g);
    v = metric_line(text, "ticket_milter_sla_breaches_total{goal=\"response\",severity=\"2\"}");
    g_assert_cmpstr(v, ==, "3");
    g_clear_pointer(&v, g_free);
    v = metric_line(text, "ticket_milter_sla_warnings_total{goal=\"resolution\",severity=\"4\"}");
    g_assert_cmpstr(v, ==, "0");
    g_clear_pointer(&v, g_free);
    v = metric_line(text, "ticket_milter_overdue_tickets{severity=\"3\"}");
    g_assert_cmpstr(v, ==, "2");
    g_clear_pointer(&v, g_free);
    v = metric_line(text, "ticket_milter_outbox_oldest_pending_seconds");
    g_assert_cmpstr(v, ==, "75");
    g_clear_pointer(&v, g_free);
    v = metric_line(text, "ticket_milter_last_backup_timestamp_seconds");
    g_assert_cmpstr(v, ==, "1796005020");
    g_clear_pointer(&v, g_free);
    g_assert_nonnull(strstr(text, "ticket_milter_build_info{version=\""
                                  "0.1.0"
                                  "\",sqlite=\""));
    /* Without the database: the gauges are left out, the counters stay. */
    {
        g_autofree char *bare = stats_render(NULL);
        g_assert_null(strstr(bare, "overdue_tickets"));
        g_assert_nonnull(strstr(bare, "ticket_milter_build_info"));
    }

    g_assert_true(g_file_set_contents(file, text, -1, NULL));
    promtool = g_find_program_in_path("promtool");
    if (promtool == NULL) {
        g_test_skip("promtool is not installed (scripts/install-deps installs prometheus)");
        return;
    }
    cmd = g_strdup_printf("sh -c 'promtool check metrics < \"%s\"'", file);
    g_assert_true(g_spawn_command_line_sync(cmd, &out, &err, &status, NULL));
    if (!g_spawn_check_wait_status(status, NULL))
        g_error("promtool check metrics: %s%s", out, err);
    g_assert_cmpstr(g_strstrip(err), ==, "");
}

/* The metric names ticket_milter_* in TEXT (without _sum and _count). */
static GHashTable *
names_in(const char *text)
{
    g_autoptr(GRegex) re = g_regex_new("ticket_milter_[a-z_]+", 0, 0, NULL);
    GHashTable *names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(GMatchInfo) m = NULL;

    g_regex_match(re, text, 0, &m);
    while (g_match_info_matches(m)) {
        char *name = g_match_info_fetch(m, 0);
        if (g_str_has_suffix(name, "_sum") || g_str_has_suffix(name, "_count"))
            name[strlen(name) - (g_str_has_suffix(name, "_sum") ? 4 : 6)] = '\0';
        g_hash_table_add(names, name);
        g_match_info_next(m, NULL);
    }
    return names;
}

/* Every name of A is in B. */
static void
assert_subset(GHashTable *a, GHashTable *b, const char *what)
{
    GHashTableIter it;
    gpointer name;

    g_hash_table_iter_init(&it, a);
    while (g_hash_table_iter_next(&it, &name, NULL))
        if (!g_hash_table_contains(b, name))
            g_error("%s: %s", what, (char *)name);
}

/* The metrics written, those ticket-milter(8) lists, and those the alert
 * rules and the dashboard in etc/ use are the same names. */
static void
test_documented(void)
{
    struct stats_gauges g = { .overdue = { 0 }, .sla = NULL };
    g_autoptr(GHashTable) sla = g_hash_table_new(g_str_hash, g_str_equal);
    g_autofree char *text = NULL, *man = NULL, *rules = NULL, *dash = NULL;
    g_autoptr(GHashTable) written = NULL, listed = NULL, in_rules = NULL, in_dash = NULL;

    g.sla = sla;
    text = stats_render(&g);
    g_assert_true(g_file_get_contents("man/ticket-milter.8", &man, NULL, NULL));
    g_assert_true(g_file_get_contents("etc/ticket-milter-alerts.yml", &rules, NULL, NULL));
    g_assert_true(g_file_get_contents("etc/grafana-dashboard.json", &dash, NULL, NULL));
    written = names_in(text);
    listed = names_in(man);
    in_rules = names_in(rules);
    in_dash = names_in(dash);
    /* Written once the daemon's thread has started, which it has not here. */
    g_hash_table_add(written, g_strdup("ticket_milter_start_time_seconds"));
    assert_subset(written, listed, "written but not in ticket-milter(8)");
    assert_subset(listed, written, "in ticket-milter(8) but not written");
    assert_subset(in_rules, written, "used by the alert rules but not written");
    assert_subset(in_dash, written, "used by the dashboard but not written");
    g_assert_cmpuint(g_hash_table_size(in_rules), >=, 5);
    g_assert_cmpuint(g_hash_table_size(in_dash), >=, 8);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add("/stats/gauges", struct fixture, NULL, setup, test_gauges, teardown);
    g_test_add("/stats/render", struct fixture, NULL, setup, test_render, teardown);
    g_test_add_func("/stats/documented", test_documented);
    return g_test_run();
}
