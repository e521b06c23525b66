/*
 * test-scheduler - the timers of real tickets fall due, on a temporary
 * database.
 *
 * Each row opens a ticket as the daemon does (the customer's mail through
 * ingest_job_run(): the router decides, the applier writes, in one
 * transaction), maybe lets staff answer it, and then runs the scheduler as
 * the daemon's thread would: at each due time of the ticket's timers in
 * turn, up to the row's timer, and once more at that same time.  What a
 * user checks comes from the store: the ticket's stage, its events, the
 * notices in the outbox and their recipients (a JSON array each).  Every
 * row runs on SQLite, and again on PostgreSQL ("/scheduler/pg/NN", in a
 * schema of its own) when TM_TEST_PG_URI names a cluster.
 */
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "config/config.h"
#include "milter/ingest.h"
#include "outbound/scheduler.h"
#include "parser/mail.h"
#include "router/keys.h"
#include "store/db.h"
#include "store/outbox.h"
#include "store/store.h"
#include "store/tickets.h"
#include "store/timers.h"
#include "tests/unit/pg-fixture.h"

#define CONFIG                                                                                     \
    "[milter]\n"                                                                                   \
    "database = /nonexistent/tickets.db\n"                                                         \
    "support_addresses = support@example.com\n"                                                    \
    "[staff]\n"                                                                                    \
    "domains = example.com\n"                                                                      \
    "trusted_networks = 192.0.2.0/24\n"                                                            \
    "[outbound]\n"                                                                                 \
    "template_dir = templates\n"                                                                   \
    "[escalation]\n"                                                                               \
    "stage1 = lead@example.com\n"                                                                  \
    "stage2 = am@example.com\n"                                                                    \
    "stage3 = director@example.com\n"                                                              \
    "[customer:acme]\n"                                                                            \
    "domains = acme.test\n"                                                                        \
    "timezone = Europe/Amsterdam\n"                                                                \
    "language = en\n"

/* Tuesday 24 November 2026, 10:00 in Amsterdam: business hours. */
#define OPENED "2026-11-24T09:00:00Z"

#define CUSTOMER_MAIL(subject, body)                                                               \
    "From: Jan Jansen <jan@acme.test>\r\nTo: support@example.com\r\nSubject: " subject             \
    "\r\nMessage-ID: <m1@acme.test>\r\nDate: Tue, 24 Nov 2026 10:00:00 +0100\r\n\r\n" body "\r\n"

/* Staff answer with support in Cc, from a trusted network, an hour later. */
#define STAFF_REPLY(command)                                                                       \
    "From: John Doe <john.doe@example.com>\r\nTo: jan@acme.test\r\n"                               \
    "Cc: support@example.com\r\nSubject: Re: [TKT-1] Orders fail\r\n"                              \
    "Message-ID: <r1@example.com>\r\nIn-Reply-To: <m1@acme.test>\r\n"                              \
    "Date: Tue, 24 Nov 2026 11:00:00 +0100\r\n\r\n" command "\r\n\r\nCould you send the log?\r\n"

struct row {
    const char *fact;
    const char *mail;        /* the customer's mail that opens TKT-1 */
    const char *staff_reply; /* NULL: none */
    const char *timer;       /* the last run is at this timer's due time, as set at opening */
    const char *due;         /* which is, by the plan and the business hours */
    bool rearm;              /* the timer is set again by hand before that run */
    int stage_before;
    guint seen, fired;         /* what that run takes off the list, and fires */
    const char *events;        /* the event types it adds, in order, blank-separated */
    int stage;                 /* the ticket's stage after it */
    enum ticket_status status; /* and its status */
    const char *notices;       /* what it queues: "template>rcpt,rcpt" sorted, "; " between */
};

static const struct row rows[] = {
    {
        .fact = "a response warning fires once and tells the stage's staff",
        .mail = CUSTOMER_MAIL("Orders fail", "The order page fails for some users."),
        .timer = "response-warning",
        .due = "2026-11-26T11:15:00Z",
        .stage_before = 0,
        .seen = 1,
        .fired = 1,
        .events = "sla-warning mail-queued",
        .stage = 0,
        .status = TICKET_OPEN,
        .notices = "sla-warning>support@example.com",
    },
    {
        .fact = "a missed response goal fires once and moves a Stage 0 ticket to Stage 1",
        .mail = CUSTOMER_MAIL("Orders fail", "The order page fails for some users."),
        .timer = "response-breach",
        .due = "2026-11-27T09:00:00Z",
        .stage_before = 0,
        .seen = 1,
        .fired = 1,
        .events = "sla-breach stage mail-queued mail-queued mail-queued",
        .stage = 1,
        .status = TICKET_OPEN,
        .notices = "escalation-customer>jan@acme.test; escalation-staff>lead@example.com; "
                   "sla-breach>support@example.com",
    },
    {
        .fact = "the ladder moves an open Severity 2 ticket to Stage 2",
        .mail = CUSTOMER_MAIL("[Sev2] Orders fail", "The order page fails for all users."),
        .staff_reply = STAFF_REPLY("Looking into it."),
        .timer = "stage",
        .due = "2026-11-26T09:00:00Z",
        .stage_before = 1,
        .seen = 1,
        .fired = 1,
        .events = "stage mail-queued mail-queued",
        .stage = 2,
        .status = TICKET_OPEN,
        .notices = "escalation-customer>jan@acme.test; escalation-staff>am@example.com",
    },
    {
        .fact = "a pending ticket's stage timer is gone: nothing is due, nothing moves",
        .mail = CUSTOMER_MAIL("[Sev2] Orders fail", "The order page fails for all users."),
        .staff_reply = STAFF_REPLY("#status pending"),
        .timer = "stage",
        .due = "2026-11-26T09:00:00Z",
        .stage_before = 1,
        .seen = 0,
        .fired = 0,
        .events = "",
        .stage = 1,
        .status = TICKET_PENDING,
        .notices = "",
    },
    {
        .fact = "a stage timer left on a pending ticket is taken off and does nothing",
        .mail = CUSTOMER_MAIL("[Sev2] Orders fail", "The order page fails for all users."),
        .staff_reply = STAFF_REPLY("#status pending"),
        .timer = "stage",
        .due = "2026-11-26T09:00:00Z",
        .rearm = true,
        .stage_before = 1,
        .seen = 1,
        .fired = 0,
        .events = "",
        .stage = 1,
        .status = TICKET_PENDING,
        .notices = "",
    },
};

struct fixture {
    char *dir;
    char *path;   /* the SQLite file or the PostgreSQL URI; NULL: skipped */
    char *schema; /* PostgreSQL: the schema of this case */
    char *admin;  /* PostgreSQL: the cluster's URI */
    struct config *cfg;
    struct keys *keys;
    struct store *st;
};

static struct config *
load_config(const char *text)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *path = NULL;
    struct config *cfg;
    int fd = g_file_open_tmp("test-scheduler-XXXXXX.conf", &path, &error);

    g_assert_no_error(error);
    close(fd);
    g_assert_true(g_file_set_contents(path, text, -1, &error));
    cfg = config_load(path, &error);
    g_unlink(path);
    g_assert_no_error(error);
    return cfg;
}

static void
fixture_open(struct fixture *f)
{
    g_autoptr(GError) error = NULL;

    f->cfg = load_config(CONFIG);
    f->keys = keys_new("a secret for the scheduler's tests");
    f->st = store_open(f->path, STORE_READ_WRITE, 1000, &error);
    g_assert_no_error(error);
}

static void
fixture_setup(struct fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;

    f->dir = g_dir_make_tmp("test-scheduler-XXXXXX", &error);
    g_assert_no_error(error);
    f->path = g_build_filename(f->dir, "tickets.db", NULL);
    fixture_open(f);
}

/* The same rows on PostgreSQL, each in a schema of its own. */
static void
fixture_setup_pg(struct fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;

    f->dir = g_dir_make_tmp("test-scheduler-XXXXXX", &error);
    g_assert_no_error(error);
    f->path = pg_fixture_start("scheduler", &f->schema, &f->admin);
    if (f->path != NULL)
        fixture_open(f);
}

static void
fixture_teardown(struct fixture *f, gconstpointer data)
{
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", f->dir);

    f->st = store_close(f->st);
    g_assert_cmpint(system(cmd), ==, 0);
    pg_fixture_stop(f->schema, f->admin);
    g_free(f->dir);
    g_free(f->path);
    config_unref(f->cfg);
    keys_free(f->keys);
}

/* The first column of the one row SQL yields with ?1 = ID and ?2 = TEXT
 * (caller frees); NULL when there is none. */
static char *
read_text(struct fixture *f, const char *sql, gint64 id, const char *text)
{
    g_autoptr(GError) error = NULL;
    struct db *db = db_open(f->path, DB_READ_ONLY, 1000, &error);
    struct db_stmt *s = db != NULL ? db_prepare(db, sql, &error) : NULL;
    char *value = NULL;

    g_assert_no_error(error);
    db_bind_int64(s, 1, id);
    if (text != NULL)
        db_bind_text(s, 2, text);
    if (db_step(s, &error) == DB_ROW) {
        value = db_column_dup(s, 0);
        db_reset(s);
    }
    g_assert_no_error(error);
    db_close(db);
    return value;
}

/* Takes RAW as the daemon does at end of message, at AT; the ticket's id. */
static gint64
ingest(struct fixture *f, const char *raw, const char *envelope_from, const char *client,
       const char *at)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GDateTime) now = g_date_time_new_from_iso8601(at, NULL);
    struct mail *mail = parser_mail_parse(raw, strlen(raw), &error);
    struct ingest_job job = {
        .cfg = f->cfg,
        .keys = f->keys,
        .mail = mail,
        .raw = raw,
        .raw_len = strlen(raw),
        .envelope_from = envelope_from,
        .client_addr = client,
        .now = now,
        .from_trusted_network = config_is_trusted_client(f->cfg, client),
    };
    gint64 id;

    g_assert_no_error(error);
    g_assert_true(store_begin(f->st, &error));
    g_assert_true(ingest_job_run(f->st, &job, &error));
    g_assert_no_error(error);
    g_assert_true(store_commit(f->st, &error));
    id = job.ticket_id;
    g_assert_cmpint(id, >, 0);
    ingest_job_clear(&job);
    parser_mail_free(mail);
    return id;
}

/* When the unfired timer KIND of ticket ID is due (caller frees). */
static char *
timer_due(struct fixture *f, gint64 id, const char *kind)
{
    return read_text(f,
                     "SELECT due_at FROM timers"
                     " WHERE ticket_id = ?1 AND kind = ?2 AND fired_at IS NULL",
                     id, kind);
}

/* One pass of the scheduler at AT, in a transaction of its own. */
static void
run_at(struct fixture *f, const char *at, guint *seen, guint *fired)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GDateTime) now = g_date_time_new_from_iso8601(at, NULL);

    g_assert_nonnull(now);
    g_assert_true(store_begin(f->st, &error));
    g_assert_true(scheduler_run(f->st, f->cfg, f->keys, now, 500, seen, fired, &error));
    g_assert_no_error(error);
    g_assert_true(store_commit(f->st, &error));
}

/* The event types of ticket ID from the FROM-th on, blank-separated. */
static char *
events_text(struct fixture *f, gint64 id, guint from)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) events = store_ticket_events(f->st, id, &error);
    GString *s = g_string_new(NULL);

    g_assert_no_error(error);
    for (guint i = from; i < events->len; i++) {
        const struct ticket_event *e = g_ptr_array_index(events, i);
        g_string_append_printf(s, "%s%s", s->len > 0 ? " " : "", e->type);
    }
    return g_string_free(s, FALSE);
}

static guint
count_events(struct fixture *f, gint64 id)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) events = store_ticket_events(f->st, id, &error);

    g_assert_no_error(error);
    return events->len;
}

/* The recipients column of outbox row ID as stored: a JSON array of
 * addresses, which it must be (one RCPT each). */
static char *
stored_recipients(struct fixture *f, gint64 id)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GError) error = NULL;
    GString *s = g_string_new(NULL);
    g_autofree char *stored = read_text(f, "SELECT recipients FROM outbox WHERE id = ?1", id, NULL);
    JsonArray *list;

    g_assert_nonnull(stored);
    g_assert_true(json_parser_load_from_data(parser, stored, -1, &error));
    g_assert_no_error(error);
    g_assert_true(JSON_NODE_HOLDS_ARRAY(json_parser_get_root(parser)));
    list = json_node_get_array(json_parser_get_root(parser));
    for (guint i = 0; i < json_array_get_length(list); i++)
        g_string_append_printf(s, "%s%s", i > 0 ? "," : "", json_array_get_string_element(list, i));
    return g_string_free(s, FALSE);
}

static gint
compare_strings(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The notices about ticket ID with an outbox id above AFTER, as
 * "template>rcpt,rcpt" sorted and "; " between; *LAST is the highest id. */
static char *
notices_text(struct fixture *f, gint64 id, gint64 after, gint64 *last)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) outbox = store_outbox_for_ticket(f->st, id, &error);
    g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func(g_free);

    g_assert_no_error(error);
    *last = after;
    for (guint i = 0; i < outbox->len; i++) {
        const struct outbox_row *r = g_ptr_array_index(outbox, i);
        if (r->id <= after || strcmp(r->transport, "smtp") != 0)
            continue;
        g_autofree char *to = stored_recipients(f, r->id);
        g_ptr_array_add(items, g_strdup_printf("%s>%s", r->template_name, to));
        *last = MAX(*last, r->id);
    }
    g_ptr_array_sort(items, compare_strings);
    g_ptr_array_add(items, NULL);
    return g_strjoinv("; ", (char **)items->pdata);
}

/* Runs the scheduler at each time a timer of the store falls due before
 * UNTIL, in order, as the daemon's thread wakes for each (a timer fired
 * may set the next). */
static void
run_before(struct fixture *f, const char *until)
{
    for (guint runs = 0;; runs++) {
        g_autoptr(GError) error = NULL;
        g_autofree char *next = NULL;
        guint seen, fired;

        g_assert_true(store_timer_next(f->st, &next, &error));
        g_assert_no_error(error);
        if (next == NULL || strcmp(next, until) >= 0)
            return;
        g_assert_cmpuint(runs, <, 100);
        run_at(f, next, &seen, &fired);
        g_assert_cmpuint(seen, >, 0);
    }
}

static void
test_row(struct fixture *f, gconstpointer data)
{
    const struct row *r = data;
    g_autoptr(GError) error = NULL;
    struct ticket *t;
    guint seen, fired, events_before;
    gint64 id, last_outbox = 0;
    g_autofree char *due = NULL;

    if (f->path == NULL)
        return;
    g_test_message("%s", r->fact);
    id = ingest(f, r->mail, "jan@acme.test", "198.51.100.7", OPENED);
    due = timer_due(f, id, r->timer);
    g_assert_cmpstr(due, ==, r->due);
    if (r->staff_reply != NULL)
        g_assert_cmpint(
            ingest(f, r->staff_reply, "john.doe@example.com", "192.0.2.10", "2026-11-24T10:00:00Z"),
            ==, id);
    run_before(f, due);
    if (r->rearm) {
        g_assert_true(store_begin(f->st, &error));
        g_assert_true(store_timer_set(f->st, id, r->timer, due, &error));
        g_assert_true(store_commit(f->st, &error));
        g_assert_no_error(error);
    }
    t = store_ticket_get(f->st, id, &error);
    g_assert_cmpint(t->stage, ==, r->stage_before);
    ticket_free(t);
    g_free(notices_text(f, id, 0, &last_outbox));
    events_before = count_events(f, id);

    run_at(f, due, &seen, &fired);
    g_autofree char *events = events_text(f, id, events_before);
    gint64 after = last_outbox;
    g_autofree char *notices = notices_text(f, id, after, &last_outbox);
    g_test_message("seen=%u fired=%u events=%s notices=%s", seen, fired, events, notices);
    g_assert_cmpuint(seen, ==, r->seen);
    g_assert_cmpuint(fired, ==, r->fired);
    g_assert_cmpstr(events, ==, r->events);
    g_assert_cmpstr(notices, ==, r->notices);
    t = store_ticket_get(f->st, id, &error);
    g_assert_nonnull(t);
    g_assert_cmpint(t->stage, ==, r->stage);
    g_assert_cmpint(t->status, ==, r->status);
    ticket_free(t);

    /* The same time again (the daemon woke twice, or ticketctl tick ran
     * beside it): every timer of that time is fired already. */
    events_before = count_events(f, id);
    run_at(f, due, &seen, &fired);
    g_assert_cmpuint(seen, ==, 0);
    g_assert_cmpuint(fired, ==, 0);
    g_assert_cmpuint(count_events(f, id), ==, events_before);
    g_autofree char *again = notices_text(f, id, last_outbox, &last_outbox);
    g_assert_cmpstr(again, ==, "");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    parser_init();
    for (guint i = 0; i < G_N_ELEMENTS(rows); i++) {
        g_autofree char *name = g_strdup_printf("/scheduler/%02u", i + 1);
        g_test_add(name, struct fixture, &rows[i], fixture_setup, test_row, fixture_teardown);
    }
    for (guint i = 0; i < G_N_ELEMENTS(rows); i++) {
        g_autofree char *name = g_strdup_printf("/scheduler/pg/%02u", i + 1);
        g_test_add(name, struct fixture, &rows[i], fixture_setup_pg, test_row, fixture_teardown);
    }
    return g_test_run();
}
