/*
 * test-admin - the queries and backups behind ticketctl's admin commands,
 * on real SQLite files in a temporary directory: full-text search over old
 * and new rows, statistics, customers, purge, export, the retention rule,
 * backups taken while another thread writes, verify and restore.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <sqlite3.h>

#include "store/admin.h"
#include "store/backup.h"
#include "store/db.h"
#include "store/export.h"
#include "store/messages.h"
#include "store/purge.h"
#include "store/restore.h"
#include "store/search.h"
#include "store/store.h"
#include "store/tickets.h"
#include "tests/unit/pg-fixture.h"

struct fixture {
    char *dir;
    char *path;
    char *schema; /* PostgreSQL: the schema of this case */
    char *admin;  /* PostgreSQL: the cluster's URI */
};

/* The errno a directory's fsync fails with; 0: it works. */
static int dir_fsync_errno;

/* This program's fsync stands in for libc's (the store's code is linked
 * in statically), so that a test can be a file system that cannot sync a
 * directory. Files are synced for real. */
int
fsync(int fd)
{
    struct stat sb;

    if (dir_fsync_errno != 0 && fstat(fd, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        errno = dir_fsync_errno;
        return -1;
    }
    return (int)syscall(SYS_fsync, fd);
}

static void
fixture_setup(struct fixture *f, gconstpointer data)
{
    f->dir = g_dir_make_tmp("test-admin-XXXXXX", NULL);
    f->path = g_build_filename(f->dir, "tickets.db", NULL);
}

/* The same cases on PostgreSQL, in a schema of their own. */
static void
fixture_setup_pg(struct fixture *f, gconstpointer data)
{
    f->dir = g_dir_make_tmp("test-admin-XXXXXX", NULL);
    f->path = pg_fixture_start("admin", &f->schema, &f->admin);
}

static void
fixture_teardown(struct fixture *f, gconstpointer data)
{
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", f->dir);
    g_assert_cmpint(system(cmd), ==, 0);
    pg_fixture_stop(f->schema, f->admin);
    g_free(f->dir);
    g_free(f->path);
}

/* Every case that runs on both backends starts with this. */
#define SKIPPED(f) ((f)->path == NULL)

static gint64
add_ticket(struct store *st, const char *status, const char *customer, const char *subject)
{
    struct ticket t = {
        .severity = 2,
        .stage = 1,
        .customer = (char *)customer,
        .requester = "ops@acme.test",
        .subject = (char *)subject,
        .created_at = "2026-01-05T09:00:00Z",
    };
    g_autoptr(GError) error = NULL;
    gint64 id = 0;

    g_assert_true(ticket_status_parse(status, &t.status));
    g_assert_true(store_ticket_insert(st, &t, "TKT", &id, &error));
    g_assert_no_error(error);
    return id;
}

static void
add_message(struct store *st, gint64 ticket, const char *key, const char *text)
{
    struct store_new_message m = {
        .ticket_id = ticket,
        .dedup_key = key,
        .message_id = key,
        .digest = "d1",
        .direction = "in",
        .kind = "customer",
        .from = "ops@acme.test",
        .subject = "Re: report",
        .text = text,
        .raw = "raw\0bytes",
        .raw_len = 9,
        .received_at = "2026-01-05T09:00:00Z",
    };
    g_autoptr(GError) error = NULL;

    g_assert_true(store_message_insert(st, &m, NULL, &error));
    g_assert_no_error(error);
}

/* SQL on PATH behind the store's back: a file through SQLite itself (so
 * that nothing of the store's settings, such as WAL, touches it), a URI
 * through store/db.h. */
static void
exec_ok(const char *path, const char *sql)
{
    g_autoptr(GError) error = NULL;

    if (db_kind_of_target(path) == DB_POSTGRES) {
        struct db *db = db_open(path, DB_READ_WRITE, 5000, &error);
        g_assert_no_error(error);
        if (!db_exec(db, sql, &error))
            g_error("%s: %s", sql, error->message);
        db_close(db);
        return;
    }
    sqlite3 *db;
    char *msg = NULL;

    g_assert_cmpint(sqlite3_open(path, &db), ==, SQLITE_OK);
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        g_error("%s: %s", sql, msg);
    sqlite3_close(db);
}

static gint64
scalar(const char *path, const char *sql)
{
    gint64 v = -1;

    if (db_kind_of_target(path) == DB_POSTGRES) {
        g_autoptr(GError) error = NULL;
        struct db *db = db_open(path, DB_READ_ONLY, 5000, &error);
        struct db_stmt *st = db != NULL ? db_prepare(db, sql, &error) : NULL;

        g_assert_no_error(error);
        if (db_step(st, &error) == DB_ROW) {
            v = db_column_int64(st, 0);
            db_reset(st);
        }
        g_assert_no_error(error);
        db_close(db);
        return v;
    }
    sqlite3 *db;
    sqlite3_stmt *s;

    g_assert_cmpint(sqlite3_open(path, &db), ==, SQLITE_OK);
    g_assert_cmpint(sqlite3_prepare_v2(db, sql, -1, &s, NULL), ==, SQLITE_OK);
    if (sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return v;
}

/* What the daemon's writer does when it is idle: the search index is
 * brought up to date with every row committed so far. Returns how many
 * index transactions it took. */
static guint
index_all(const char *path)
{
    g_autoptr(GError) error = NULL;
    struct store *st = store_open(path, STORE_READ_WRITE, 1000, &error);
    bool more = true;
    guint runs = 0;

    g_assert_no_error(error);
    while (more) {
        g_assert_true(store_begin(st, &error));
        g_assert_true(store_fts_index(st, 2, &more, &error));
        g_assert_no_error(error);
        g_assert_true(store_commit(st, &error));
        runs++;
    }
    store_close(st);
    return runs;
}

static void
fts_integrity_ok(const char *path)
{
    exec_ok(path, "INSERT INTO messages_fts (messages_fts) VALUES ('integrity-check');"
                  "INSERT INTO tickets_fts (tickets_fts) VALUES ('integrity-check')");
}

/* Three tickets: an open one of acme, a closed old one of acme, an open
 * one from an unknown sender. */
static void
seed(const char *path)
{
    g_autoptr(GError) error = NULL;
    struct store *st = store_open(path, STORE_READ_WRITE, 1000, &error);
    gint64 a, b, c;

    g_assert_no_error(error);
    g_assert_true(store_begin(st, &error));
    a = add_ticket(st, "open", "acme", "Checkout page returns error 500");
    add_message(st, a, "<m1@acme.test>", "The café checkout fails since this morning");
    b = add_ticket(st, "closed", "acme", "Wachtwoord vergeten");
    add_message(st, b, "<m2@acme.test>", "Ik kan niet inloggen op het portaal");
    add_message(st, b, "<m3@acme.test>", "Het werkt weer, dank u");
    c = add_ticket(st, "open", NULL, "Question about invoices");
    add_message(st, c, "<m4@other.test>", "Where is my invoice for December?");
    g_assert_true(
        store_event_insert(st, a, "2026-01-05T10:00:00Z", "sla-warning", NULL, NULL, &error));
    g_assert_true(
        store_event_insert(st, a, "2026-01-05T11:00:00Z", "sla-breach", NULL, NULL, &error));
    g_assert_true(
        store_event_insert(st, b, "2026-01-05T11:00:00Z", "sla-breach", NULL, NULL, &error));
    g_assert_true(store_commit(st, &error));
    store_close(st);
    exec_ok(path, "UPDATE tickets SET updated_at = '2026-01-06T00:00:00Z' WHERE id = 2");
    index_all(path);
}

static GPtrArray *
search(const char *path, const char *text)
{
    g_autoptr(GError) error = NULL;
    struct admin *a = admin_open(path, false, 1000, &error);
    GPtrArray *hits;

    g_assert_no_error(error);
    hits = admin_search(a, text, 50, &error);
    g_assert_no_error(error);
    admin_close(a);
    return hits;
}

static const char *
first_tag(GPtrArray *hits)
{
    return hits->len > 0 ? ((struct admin_hit *)g_ptr_array_index(hits, 0))->tag : "(none)";
}

/* ---- search ---- */

static void
test_search_query(void)
{
    static const struct {
        const char *text, *query;
    } cases[] = {
        { "error 500", "\"error\" \"500\"" },
        { "  checkout\t", "\"checkout\"" },
        { "inlog*", "\"inlog\"*" },
        { "a\"b", "\"a\"\"b\"" },
        { "NEAR(a b)", "\"NEAR(a\" \"b)\"" },
        { "subject:x OR y", "\"subject:x\" \"OR\" \"y\"" },
        { "", NULL },
        { " * ", NULL },
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *q = admin_search_query(cases[i].text);
        g_assert_cmpstr(q, ==, cases[i].query);
    }
}

static void
test_search(struct fixture *f, gconstpointer data)
{
    if (SKIPPED(f))
        return;
    seed(f->path);
    {
        g_autoptr(GPtrArray) hits = search(f->path, "cafe checkout");
        g_assert_cmpuint(hits->len, ==, 1);
        g_assert_cmpstr(first_tag(hits), ==, "TKT-1");
        g_assert_nonnull(strstr(((struct admin_hit *)g_ptr_array_index(hits, 0))->snippet, "["));
    }
    {
        /* In the ticket's subject only. */
        g_autoptr(GPtrArray) hits = search(f->path, "wachtwoord");
        g_assert_cmpstr(first_tag(hits), ==, "TKT-2");
    }
    {
        g_autoptr(GPtrArray) hits = search(f->path, "inlog*");
        g_assert_cmpstr(first_tag(hits), ==, "TKT-2");
    }
    {
        /* Two messages of one ticket match: one row for the ticket. */
        g_autoptr(GPtrArray) hits = search(f->path, "het");
        g_assert_cmpuint(hits->len, ==, 1);
    }
    {
        g_autoptr(GPtrArray) hits = search(f->path, "\"unbalanced AND (");
        g_assert_cmpuint(hits->len, ==, 0);
    }
}

/* Every word somewhere in the ticket, not all in one message: FTS5 alone
 * ANDs words within one row. */
static void
test_search_across_messages(struct fixture *f, gconstpointer data)
{
    static const struct {
        const char *text, *tag;
    } cases[] = {
        { "inloggen werkt", "TKT-2" },   /* two messages of one ticket */
        { "wachtwoord werkt", "TKT-2" }, /* the subject and a message */
        { "wachtwoord inlog* dank", "TKT-2" },
        { "inloggen invoice", "(none)" }, /* words of two tickets */
        { "checkout december", "(none)" },
        { "invoice december", "TKT-3" },
    };

    if (SKIPPED(f))
        return;
    seed(f->path);
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GPtrArray) hits = search(f->path, cases[i].text);
        g_assert_cmpuint(hits->len, <=, 1);
        g_assert_cmpstr(first_tag(hits), ==, cases[i].tag);
        if (hits->len > 0)
            g_assert_nonnull(
                strstr(((struct admin_hit *)g_ptr_array_index(hits, 0))->snippet, "["));
    }
    {
        g_autoptr(GError) error = NULL;
        struct admin *a = admin_open(f->path, false, 1000, &error);
        g_autoptr(GPtrArray) hits =
            admin_search(a, "a b c d e f g h i j k l m n o p q", 50, &error);
        g_assert_null(hits);
        g_assert_nonnull(strstr(error->message, "at most 16 words"));
        admin_close(a);
    }
}

/* A database of schema 6 gets its existing rows indexed by migration 7;
 * rows written after are indexed by the batched indexer. */
static void
test_search_migration(struct fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    struct store *st;

    seed(f->path);
    exec_ok(f->path, "DROP TRIGGER tickets_fts_delete; DROP TRIGGER tickets_fts_update;"
                     " DROP TRIGGER messages_fts_delete; DROP TRIGGER messages_fts_reuse;"
                     " DROP TRIGGER messages_fts_update; DROP TABLE fts_indexed;"
                     " DROP INDEX outbox_ack_key; DROP INDEX outbox_not_contact;"
                     " ALTER TABLE outbox DROP COLUMN ack_key; DROP INDEX outbox_pending;"
                     " CREATE INDEX outbox_due ON outbox(status, next_attempt_at);"
                     " DROP TABLE tickets_fts; DROP TABLE messages_fts; DROP TABLE counters;"
                     " ALTER TABLE messages DROP COLUMN reply_text;"
                     " ALTER TABLE messages DROP COLUMN attachments;"
                     " ALTER TABLE tickets DROP COLUMN clock_start;"
                     " ALTER TABLE tickets DROP COLUMN update_from; DROP TABLE unattached;"
                     " ALTER TABLE outbox DROP COLUMN claimed_by;"
                     " ALTER TABLE outbox DROP COLUMN claimed_until;"
                     " DELETE FROM schema_version WHERE version >= 7");
    st = store_open(f->path, STORE_READ_WRITE, 1000, &error);
    g_assert_no_error(error);
    g_assert_true(store_begin(st, &error));
    add_message(st, 3, "<m5@other.test>", "Also the credit note is missing");
    g_assert_true(store_ticket_touch(st, 3, "2026-01-07T00:00:00Z", &error));
    g_assert_true(store_commit(st, &error));
    store_close(st);
    index_all(f->path);
    {
        g_autoptr(GPtrArray) hits = search(f->path, "invoice");
        g_assert_cmpstr(first_tag(hits), ==, "TKT-3");
    }
    {
        g_autoptr(GPtrArray) hits = search(f->path, "credit note");
        g_assert_cmpstr(first_tag(hits), ==, "TKT-3");
    }
    g_assert_cmpint(scalar(f->path, "SELECT count(*) FROM counters"), ==, 0);
    fts_integrity_ok(f->path);
}

/* A database of schema 9 (the index kept by triggers in the commit) keeps
 * its index as it is: every row in it counts as indexed, nothing is
 * indexed twice, and the rows written after wait for the indexer. */
static void
test_search_migration_batched(struct fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    struct store *st;

    seed(f->path);
    /* Back to schema 9: the triggers index every row as it is written. */
    exec_ok(f->path,
            "DROP TRIGGER tickets_fts_delete; DROP TRIGGER tickets_fts_update;"
            " DROP TRIGGER messages_fts_delete; DROP TRIGGER messages_fts_reuse;"
            " DROP TRIGGER messages_fts_update; DROP TABLE fts_indexed;"
            " DROP INDEX outbox_ack_key; DROP INDEX outbox_not_contact;"
            " ALTER TABLE outbox DROP COLUMN ack_key; DROP INDEX outbox_pending;"
            " CREATE INDEX outbox_due ON outbox(status, next_attempt_at);"
            " CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN"
            "  INSERT INTO messages_fts (rowid, subject, text)"
            "  VALUES (new.id, new.subject, new.text); END;"
            " CREATE TRIGGER tickets_fts_insert AFTER INSERT ON tickets BEGIN"
            "  INSERT INTO tickets_fts (rowid, subject) VALUES (new.id, new.subject); END;"
            " CREATE TRIGGER tickets_fts_delete AFTER DELETE ON tickets BEGIN SELECT 1; END;"
            " CREATE TRIGGER tickets_fts_update AFTER UPDATE ON tickets BEGIN SELECT 1; END;"
            " CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN SELECT 1; END;"
            " CREATE TRIGGER messages_fts_update AFTER UPDATE ON messages BEGIN SELECT 1; END;"
            " INSERT INTO messages (ticket_id, dedup_key, digest, direction, kind, subject, text,"
            "  received_at) VALUES (3, '<m6@other.test>', 'd', 'in', 'customer', 'Re: x',"
            "  'the refund arrived twice', '2026-01-05T09:00:00Z');"
            " ALTER TABLE outbox DROP COLUMN claimed_by;"
            " ALTER TABLE outbox DROP COLUMN claimed_until;"
            " DELETE FROM schema_version WHERE version >= 10");
    st = store_open(f->path, STORE_READ_WRITE, 1000, &error);
    g_assert_no_error(error);
    g_assert_cmpint(scalar(f->path, "SELECT last_id FROM fts_indexed WHERE name = 'messages'"), ==,
                    5);
    g_assert_cmpint(scalar(f->path, "SELECT last_id FROM fts_indexed WHERE name = 'tickets'"), ==,
                    3);
    {
        g_autoptr(GPtrArray) hits = search(f->path, "refund");
        g_assert_cmpstr(first_tag(hits), ==, "TKT-3");
    }
    g_assert_true(store_begin(st, &error));
    add_message(st, 1, "<m7@acme.test>", "The receipt printer is offline");
    g_assert_true(store_commit(st, &error));
    store_close(st);
    {
        /* Committed, not yet indexed. */
        g_autoptr(GPtrArray) hits = search(f->path, "printer");
        g_assert_cmpuint(hits->len, ==, 0);
    }
    g_assert_cmpuint(index_all(f->path), ==, 1);
    {
        g_autoptr(GPtrArray) hits = search(f->path, "printer");
        g_assert_cmpstr(first_tag(hits), ==, "TKT-1");
    }
    fts_integrity_ok(f->path);
}

/* The indexer takes what was committed in batches; a row deleted or
 * changed before it was indexed never touches the index, one deleted
 * after leaves it, and an id SQLite gives out again after the highest
 * message was deleted is indexed anew. */
static void
test_search_batched_index(struct fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    struct store *st;

    seed(f->path);
    st = store_open(f->path, STORE_READ_WRITE, 1000, &error);
    g_assert_no_error(error);
    g_assert_true(store_begin(st, &error));
    for (int i = 0; i < 5; i++) {
        g_autofree char *key = g_strdup_printf("<batch%d@acme.test>", i);
        add_message(st, 1, key, "the scanner jams on page two");
    }
    g_assert_true(store_commit(st, &error));
    store_close(st);
    /* Five messages, two a run: three runs, the last one with one. */
    g_assert_cmpuint(index_all(f->path), ==, 3);
    {
        g_autoptr(GPtrArray) hits = search(f->path, "scanner");
        g_assert_cmpstr(first_tag(hits), ==, "TKT-1");
    }
    /* Nothing left: one run that finds nothing. */
    g_assert_cmpuint(index_all(f->path), ==, 1);

    /* Changed and deleted before indexing: the index never hears of them. */
    st = store_open(f->path, STORE_READ_WRITE, 1000, &error);
    g_assert_true(store_begin(st, &error));
    add_message(st, 3, "<late1@other.test>", "the modem blinks red");
    add_message(st, 3, "<late2@other.test>", "the modem blinks orange");
    g_assert_true(store_commit(st, &error));
    store_close(st);
    exec_ok(f->path, "UPDATE messages SET text = 'the router blinks red'"
                     " WHERE message_id = '<late1@other.test>';"
                     " DELETE FROM messages WHERE message_id = '<late2@other.test>'");
    fts_integrity_ok(f->path);
    index_all(f->path);
    {
        g_autoptr(GPtrArray) hits = search(f->path, "router");
        g_assert_cmpstr(first_tag(hits), ==, "TKT-3");
    }
    {
        g_autoptr(GPtrArray) hits = search(f->path, "orange");
        g_assert_cmpuint(hits->len, ==, 0);
    }
    /* Changed after indexing: the index follows. */
    exec_ok(f->path, "UPDATE messages SET text = 'the switch blinks red'"
                     " WHERE message_id = '<late1@other.test>'");
    {
        g_autoptr(GPtrArray) hits = search(f->path, "router");
        g_assert_cmpuint(hits->len, ==, 0);
    }
    fts_integrity_ok(f->path);

    /* The highest message deleted after indexing: its id comes again. */
    gint64 top = scalar(f->path, "SELECT max(id) FROM messages");
    exec_ok(f->path, "DELETE FROM messages WHERE id = (SELECT max(id) FROM messages)");
    g_assert_cmpint(scalar(f->path, "SELECT last_id FROM fts_indexed WHERE name = 'messages'"), ==,
                    top - 1);
    {
        g_autoptr(GPtrArray) hits = search(f->path, "switch");
        g_assert_cmpuint(hits->len, ==, 0);
    }
    st = store_open(f->path, STORE_READ_WRITE, 1000, &error);
    g_assert_true(store_begin(st, &error));
    add_message(st, 2, "<again@acme.test>", "the badge reader refuses my card");
    g_assert_true(store_commit(st, &error));
    store_close(st);
    g_assert_cmpint(
        scalar(f->path, "SELECT id FROM messages WHERE message_id = '<again@acme.test>'"), ==, top);
    index_all(f->path);
    {
        g_autoptr(GPtrArray) hits = search(f->path, "badge");
        g_assert_cmpstr(first_tag(hits), ==, "TKT-2");
    }
    fts_integrity_ok(f->path);
}

/* ---- statistics and customers ---- */

static void
test_percentile(void)
{
    static const gint64 ten[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
    static const gint64 one[] = { 42 };

    g_assert_cmpint(admin_percentile(ten, 10, 50), ==, 5);
    g_assert_cmpint(admin_percentile(ten, 10, 99), ==, 10);
    g_assert_cmpint(admin_percentile(ten, 10, 10), ==, 1);
    g_assert_cmpint(admin_percentile(one, 1, 50), ==, 42);
    g_assert_cmpint(admin_percentile(one, 1, 99), ==, 42);
    g_assert_cmpint(admin_percentile(NULL, 0, 50), ==, -1);
}

static void
test_stats(struct fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    struct admin_stats s;
    struct admin *a;

    if (SKIPPED(f))
        return;
    seed(f->path);
    exec_ok(
        f->path,
        "INSERT INTO counters VALUES ('messages_seen', 7), ('tempfail_busy', 2),"
        " ('reject_size', 1), ('commit_us_p50', 900), ('commit_us_p99', 15000);"
        "INSERT INTO outbox (ticket_id, kind, template, transport, recipients, body, status,"
        " created_at, next_attempt_at, queued_us, sent_us) VALUES"
        " (1, 'ack', 'ack-new', 'smtp', '[\"a@b\"]', 'x', 'sent', 'c', 'n', 1000, 3000),"
        " (1, 'ack', 'ack-followup', 'smtp', '[\"a@b\"]', 'x', 'sent', 'c', 'n', 1000, 11000),"
        " (2, 'ack', 'ack-new', 'smtp', '[\"a@b\"]', 'x', 'failed', 'c', 'n', 1000, NULL),"
        " (2, 'notice', 'staff-new', 'smtp', '[\"a@b\"]', 'x', 'pending', 'c', 'n', 1000, NULL),"
        " (3, 'ack', 'ack-new', 'smtp', '[\"a@b\"]', 'x', 'pending', 'c', 'n', 1000, NULL)");
    a = admin_open(f->path, false, 1000, &error);
    g_assert_true(admin_stats_read(a, &s, &error));
    g_assert_no_error(error);
    admin_close(a);
    g_assert_cmpint(admin_stats_counter(&s, "messages_seen"), ==, 7);
    g_assert_cmpint(admin_stats_counter(&s, "tempfail_busy"), ==, 2);
    g_assert_cmpint(admin_stats_counter(&s, "followups"), ==, 0);
    g_assert_cmpint(s.tickets_total, ==, 3);
    g_assert_cmpint(s.tickets_open, ==, 2);
    g_assert_cmpint(s.acks_sent, ==, 2);
    g_assert_cmpint(s.acks_failed, ==, 1);
    g_assert_cmpint(s.acks_pending, ==, 1);
    g_assert_cmpint(s.sla_warnings, ==, 1);
    g_assert_cmpint(s.sla_breaches, ==, 2);
    g_assert_cmpint(s.outbox_depth, ==, 2);
    g_assert_cmpint(s.ack_latency_samples, ==, 2);
    g_assert_cmpint(s.ack_latency_p50_us, ==, 2000);
    g_assert_cmpint(s.ack_latency_p99_us, ==, 10000);
    admin_stats_clear(&s);
}

static void
test_customers(struct fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) rows = NULL;
    struct admin *a;
    const struct admin_customer *acme, *unknown;

    if (SKIPPED(f))
        return;
    seed(f->path);
    a = admin_open(f->path, false, 1000, &error);
    rows = admin_customers(a, &error);
    g_assert_no_error(error);
    admin_close(a);
    g_assert_cmpuint(rows->len, ==, 2);
    acme = g_ptr_array_index(rows, 0);
    unknown = g_ptr_array_index(rows, 1);
    g_assert_cmpstr(acme->name, ==, "acme");
    g_assert_cmpint(acme->tickets, ==, 2);
    g_assert_cmpint(acme->open, ==, 1);
    g_assert_cmpint(acme->breaches, ==, 2);
    g_assert_cmpint(acme->open_breached, ==, 1);
    g_assert_null(unknown->name);
    g_assert_cmpint(unknown->open, ==, 1);
    g_assert_cmpint(unknown->breaches, ==, 0);
}

/* ---- purge and export ---- */

static void
test_purge(struct fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    struct admin_purge_result r;
    struct admin *a;

    seed(f->path);
    /* Attachments are a JSON list per message (schema 8), NULL for none. */
    exec_ok(f->path, "UPDATE messages SET attachments ="
                     " '[{\"name\":\"a.pdf\",\"sha256\":\"01\"},{\"name\":\"b.png\"}]'"
                     " WHERE message_id = '<m2@acme.test>';"
                     "UPDATE messages SET attachments = '[{\"name\":\"c.txt\"}]'"
                     " WHERE message_id = '<m1@acme.test>'");
    a = admin_open(f->path, true, 1000, &error);
    /* Closed, but changed after the date: kept. */
    g_assert_true(
        admin_purge(a, "2026-01-06T00:00:00Z", "2026-03-01T00:00:00Z", "test", &r, &error));
    g_assert_cmpuint(r.tickets, ==, 0);
    g_assert_true(
        admin_purge(a, "2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z", "test", &r, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(r.tickets, ==, 1);
    g_assert_cmpuint(r.messages, ==, 2);
    g_assert_cmpint(r.bytes, ==, 18);
    g_assert_cmpuint(r.attachments, ==, 2);
    /* Done once: a second run finds nothing more. */
    g_assert_true(
        admin_purge(a, "2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z", "test", &r, &error));
    g_assert_cmpuint(r.tickets, ==, 0);
    admin_close(a);
    g_assert_cmpint(scalar(f->path, "SELECT count(*) FROM messages WHERE raw IS NULL"), ==, 2);
    g_assert_cmpint(scalar(f->path, "SELECT count(*) FROM messages WHERE ticket_id = 2"), ==, 2);
    g_assert_cmpint(scalar(f->path, "SELECT count(*) FROM events WHERE type = 'purged'"
                                    " AND ticket_id = 2 AND actor = 'test'"),
                    ==, 1);
    g_assert_cmpint(scalar(f->path, "SELECT count(*) FROM events WHERE ticket_id = 2"), ==, 2);
    g_assert_cmpint(scalar(f->path, "SELECT json_extract(detail, '$.attachments') FROM events"
                                    " WHERE type = 'purged' AND ticket_id = 2"),
                    ==, 2);
    /* What was attached stays on record; only the bytes (in raw) went. */
    g_assert_cmpint(scalar(f->path, "SELECT json_array_length(attachments) FROM messages"
                                    " WHERE message_id = '<m2@acme.test>'"),
                    ==, 2);
    {
        /* The text is still searchable. */
        g_autoptr(GPtrArray) hits = search(f->path, "inloggen");
        g_assert_cmpstr(first_tag(hits), ==, "TKT-2");
    }
}

struct seen {
    guint tickets, messages, events;
    gint64 purged_raw;
};

static bool
count_export(const struct ticket *t, GPtrArray *messages, GPtrArray *events, void *data,
             GError **error)
{
    struct seen *s = data;

    s->tickets++;
    s->messages += messages->len;
    s->events += events->len;
    for (guint i = 0; i < messages->len; i++)
        if (((struct admin_message *)g_ptr_array_index(messages, i))->raw_size < 0)
            s->purged_raw++;
    return true;
}

static bool
refuse_export(const struct ticket *t, GPtrArray *messages, GPtrArray *events, void *data,
              GError **error)
{
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "stop at %s", t->tag);
    return false;
}

static void
test_export(struct fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    struct seen all = { 0 }, one = { 0 };
    struct admin *a;
    guint count;

    if (SKIPPED(f))
        return;
    seed(f->path);
    a = admin_open(f->path, false, 1000, &error);
    g_assert_true(admin_export(a, 0, count_export, &all, &count, &error));
    g_assert_cmpuint(count, ==, 3);
    g_assert_cmpuint(all.messages, ==, 4);
    g_assert_cmpuint(all.events, ==, 3);
    g_assert_true(admin_export(a, 2, count_export, &one, &count, &error));
    g_assert_cmpuint(count, ==, 1);
    g_assert_cmpuint(one.messages, ==, 2);
    g_assert_false(admin_export(a, 0, refuse_export, NULL, &count, &error));
    g_assert_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED);
    g_assert_cmpstr(error->message, ==, "stop at TKT-1");
    admin_close(a);
}

/* ---- retention ---- */

static void
test_backup_names(void)
{
    g_autoptr(GDateTime) a = admin_backup_name_time("tickets-20261127T1630Z.db");
    g_autoptr(GDateTime) b = admin_backup_name_time("tickets-20261127T163005Z.db");

    g_assert_nonnull(a);
    g_assert_cmpint(g_date_time_get_hour(a), ==, 16);
    g_assert_cmpint(g_date_time_get_minute(a), ==, 30);
    g_assert_cmpint(g_date_time_get_seconds(b), ==, 5);
    g_assert_null(admin_backup_name_time("tickets-20261127T1630Z.db.tmp"));
    g_assert_null(admin_backup_name_time("tickets-2026112xT1630Z.db"));
    g_assert_null(admin_backup_name_time("tickets-20261327T1630Z.db"));
    g_assert_null(admin_backup_name_time("notes.txt"));
    g_assert_null(admin_backup_name_time(".tickets-20261127T1630Z.db.tmp"));
}

/* Hourly backups for 100 days, pruned once: what stays. */
static void
test_retention(void)
{
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GDateTime) start = g_date_time_new_utc(2026, 1, 1, 0, 30, 0);
    g_autoptr(GHashTable) dropped = g_hash_table_new(g_str_hash, g_str_equal);
    struct admin_retention keep = ADMIN_RETENTION_DEFAULT;
    g_autoptr(GPtrArray) drop = NULL;
    guint kept;

    for (int h = 0; h < 100 * 24; h++) {
        g_autoptr(GDateTime) t = g_date_time_add_hours(start, h);
        g_ptr_array_add(names, g_date_time_format(t, "tickets-%Y%m%dT%H%MZ.db"));
    }
    g_ptr_array_add(names, g_strdup("README"));
    drop = admin_retention_drop(names, &keep, NULL);
    for (guint i = 0; i < drop->len; i++)
        g_hash_table_add(dropped, g_ptr_array_index(drop, i));
    kept = names->len - 1 - drop->len;
    /* The newest (2026-04-10 23:30) of each of 7 days, and of 5 ISO weeks
     * (two of them among those days), and of 4 months (2026-01..04). */
    g_assert_false(g_hash_table_contains(dropped, "tickets-20260410T2330Z.db"));
    g_assert_false(g_hash_table_contains(dropped, "tickets-20260404T2330Z.db"));
    g_assert_true(g_hash_table_contains(dropped, "tickets-20260403T2330Z.db"));
    g_assert_false(g_hash_table_contains(dropped, "tickets-20260131T2330Z.db"));
    g_assert_false(g_hash_table_contains(dropped, "tickets-20260331T2330Z.db"));
    g_assert_false(g_hash_table_contains(dropped, "README"));
    g_assert_true(g_hash_table_contains(dropped, "tickets-20260410T2230Z.db"));
    /* 7 days (04-04..04-10); the weeks add 03-29, 03-22, 03-15 (Sundays);
     * the months add 03-31, 02-28, 01-31. */
    g_assert_cmpuint(kept, ==, 7 + 3 + 3);

    /* Nothing asked for: the newest alone stays. */
    {
        struct admin_retention none = { 0, 0, 0 };
        g_autoptr(GPtrArray) all = admin_retention_drop(names, &none, NULL);
        g_assert_cmpuint(all->len, ==, names->len - 2);
    }
}

/* ---- backup, verify, restore ---- */

struct writer_thread {
    const char *path;
    gint stop;
    gint written;
};

/* The daemon's part: commits new tickets with messages as fast as it can. */
static gpointer
writer_main(gpointer data)
{
    struct writer_thread *w = data;
    g_autoptr(GError) error = NULL;
    struct store *st = store_open(w->path, STORE_READ_WRITE, 5000, &error);

    g_assert_no_error(error);
    while (!g_atomic_int_get(&w->stop)) {
        g_autofree char *key = g_strdup_printf("<w%d@acme.test>", g_atomic_int_get(&w->written));
        g_assert_true(store_begin(st, &error));
        gint64 id = add_ticket(st, "open", "acme", "Written during the backup");
        add_message(st, id, key, "concurrent text");
        g_assert_true(store_commit(st, &error));
        g_atomic_int_inc(&w->written);
    }
    store_close(st);
    return NULL;
}

static void
bulk(const char *path, int tickets)
{
    g_autoptr(GError) error = NULL;
    struct store *st = store_open(path, STORE_READ_WRITE, 1000, &error);

    g_assert_true(store_begin(st, &error));
    for (int i = 0; i < tickets; i++) {
        g_autofree char *key = g_strdup_printf("<bulk%d@acme.test>", i);
        gint64 id = add_ticket(st, i % 3 == 0 ? "closed" : "open", "acme", "Bulk ticket");
        add_message(st, id, key, "A message of some length about the trouble we have today");
    }
    g_assert_true(store_commit(st, &error));
    store_close(st);
}

static void
test_backup_while_writing(struct fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_build_filename(f->dir, "backups", NULL);
    struct writer_thread w = { .path = f->path };
    GThread *thread;
    int tickets = 5000;

    bulk(f->path, tickets);
    thread = g_thread_new("writer", writer_main, &w);
    while (g_atomic_int_get(&w.written) < 10)
        g_usleep(1000);
    for (int i = 0; i < 3; i++) {
        g_autoptr(GDateTime) now = g_date_time_new_utc(2026, 11, 27, 16, 30 + i, 0);
        struct admin_backup b;
        struct admin_verify v;
        g_assert_true(admin_backup_run(f->path, dir, now, 5000, &b, &error));
        g_assert_no_error(error);
        g_test_message("backup of %d+ tickets while writing: copy %" G_GINT64_FORMAT
                       " ms, verify %" G_GINT64_FORMAT " ms, %" G_GINT64_FORMAT " bytes",
                       tickets, b.copy_us / 1000, b.verify_us / 1000, b.bytes);
        g_assert_true(g_str_has_suffix(b.path, i == 0   ? "tickets-20261127T163000Z.db"
                                               : i == 1 ? "tickets-20261127T163100Z.db"
                                                        : "tickets-20261127T163200Z.db"));
        g_assert_true(admin_verify_file(b.path, &v, &error));
        g_assert_cmpint(v.schema_version, ==, v.known_version);
        g_assert_cmpint(v.tickets, >=, tickets);
        g_assert_cmpint(v.messages, ==, v.tickets);
        admin_backup_clear(&b);
    }
    g_atomic_int_set(&w.stop, 1);
    g_thread_join(thread);
    {
        /* Same minute again: another second, the first stays. */
        g_autoptr(GDateTime) now = g_date_time_new_utc(2026, 11, 27, 16, 32, 7);
        struct admin_backup b;
        g_assert_true(admin_backup_run(f->path, dir, now, 5000, &b, &error));
        g_assert_true(g_str_has_suffix(b.path, "tickets-20261127T163207Z.db"));
        admin_backup_clear(&b);
    }
    {
        /* No temporary file is left behind. */
        g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
        const char *name;
        int n = 0;
        while ((name = g_dir_read_name(d)) != NULL) {
            g_assert_true(g_str_has_prefix(name, "tickets-"));
            n++;
        }
        g_assert_cmpint(n, ==, 4);
    }
}

/* Backups a few seconds apart, each pruned right after it is made, as
 * cron runs them: the copy just made and verified is never pruned, not by
 * an older name that sorts after it, nor by a copy dated in the future. */
static void
test_backup_keeps_its_own(struct fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_build_filename(f->dir, "backups", NULL);
    g_autofree char *future = g_build_filename(dir, "tickets-20991231T0000Z.db", NULL);
    struct admin_retention one = { 1, 0, 0 };
    static const int seconds[] = { 0, 30, 45 };

    seed(f->path);
    for (gsize i = 0; i < G_N_ELEMENTS(seconds); i++) {
        g_autoptr(GDateTime) now = g_date_time_new_utc(2026, 11, 27, 10, 0, seconds[i]);
        g_autoptr(GPtrArray) dropped = NULL;
        g_autofree char *made = NULL;
        struct admin_backup b;

        g_assert_true(admin_backup_run(f->path, dir, now, 1000, &b, &error));
        g_assert_no_error(error);
        made = g_path_get_basename(b.path);
        g_assert_true(g_str_has_suffix(b.path, "Z.db"));
        g_assert_cmpuint(strlen(made), ==, strlen("tickets-20261127T100000Z.db"));
        dropped = admin_prune(dir, &one, made, &error);
        g_assert_no_error(error);
        g_assert_true(g_file_test(b.path, G_FILE_TEST_EXISTS));
        g_assert_cmpuint(dropped->len, ==, i > 0 ? 1 : 0);
        admin_backup_clear(&b);
    }
    /* A copy named for a later time sorts newest: still ours stays. */
    g_assert_true(g_file_set_contents(future, "", 0, NULL));
    {
        g_autoptr(GDateTime) now = g_date_time_new_utc(2026, 11, 28, 10, 0, 0);
        g_autoptr(GPtrArray) dropped = NULL;
        g_autofree char *made = NULL;
        struct admin_backup b;

        g_assert_true(admin_backup_run(f->path, dir, now, 1000, &b, &error));
        made = g_path_get_basename(b.path);
        dropped = admin_prune(dir, &one, made, &error);
        g_assert_no_error(error);
        g_assert_true(g_file_test(b.path, G_FILE_TEST_EXISTS));
        g_assert_true(g_file_test(future, G_FILE_TEST_EXISTS));
        admin_backup_clear(&b);
    }
    {
        /* Old names to the minute still count for the retention rule. */
        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GPtrArray) drop = NULL;
        g_ptr_array_add(names, g_strdup("tickets-20261127T1000Z.db"));
        g_ptr_array_add(names, g_strdup("tickets-20261127T100030Z.db"));
        drop = admin_retention_drop(names, &one, NULL);
        g_assert_cmpuint(drop->len, ==, 1);
        g_assert_cmpstr(g_ptr_array_index(drop, 0), ==, "tickets-20261127T1000Z.db");
        g_clear_pointer(&drop, g_ptr_array_unref);
        drop = admin_retention_drop(names, &one, "tickets-20261127T1000Z.db");
        g_assert_cmpuint(drop->len, ==, 0);
    }
}

/* A file system that cannot sync a directory (EINVAL) keeps the verified
 * backup; a real failure to sync still fails and leaves nothing. */
static void
test_backup_dir_fsync(struct fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_build_filename(f->dir, "backups", NULL);
    static const int ignored[] = { EINVAL, ENOTSUP, EBADF };
    struct admin_backup b;

    seed(f->path);
    for (gsize i = 0; i < G_N_ELEMENTS(ignored); i++) {
        g_autoptr(GDateTime) now = g_date_time_new_utc(2026, 11, 27, 10, 0, (int)i);
        dir_fsync_errno = ignored[i];
        g_assert_true(admin_backup_run(f->path, dir, now, 1000, &b, &error));
        dir_fsync_errno = 0;
        g_assert_no_error(error);
        g_assert_true(g_file_test(b.path, G_FILE_TEST_EXISTS));
        admin_backup_clear(&b);
    }
    {
        g_autoptr(GDateTime) now = g_date_time_new_utc(2026, 11, 27, 11, 0, 0);
        g_autofree char *path = g_build_filename(dir, "tickets-20261127T110000Z.db", NULL);
        dir_fsync_errno = EIO;
        g_assert_false(admin_backup_run(f->path, dir, now, 1000, &b, &error));
        dir_fsync_errno = 0;
        g_assert_nonnull(strstr(error->message, "cannot sync"));
        g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
    }
}

static void
test_backup_missing_source(struct fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    g_autofree char *dir = g_build_filename(f->dir, "backups", NULL);
    struct admin_backup b;

    g_assert_false(admin_backup_run(f->path, dir, now, 100, &b, &error));
    g_assert_nonnull(strstr(error->message, f->path));
}

static void
test_verify_failures(struct fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *plain = g_build_filename(f->dir, "plain.db", NULL);
    g_autofree char *text = g_build_filename(f->dir, "notes.txt", NULL);
    struct admin_verify v;
    FILE *fp;

    bulk(f->path, 300);
    g_assert_true(admin_verify_file(f->path, &v, &error));
    g_assert_cmpint(v.tickets, ==, 300);

    g_assert_true(g_file_set_contents(text, "not a database at all, not even close....", -1, NULL));
    g_assert_false(admin_verify_file(text, &v, &error));
    g_assert_error(error, STORE_ERROR, STORE_ERROR_CORRUPT);
    g_assert_nonnull(strstr(error->message, "notes.txt"));
    g_clear_error(&error);

    exec_ok(plain, "CREATE TABLE t (x)");
    g_assert_false(admin_verify_file(plain, &v, &error));
    g_assert_nonnull(strstr(error->message, "not a ticket-milter"));
    g_clear_error(&error);

    exec_ok(f->path, "INSERT INTO schema_version VALUES (99, 'later')");
    g_assert_false(admin_verify_file(f->path, &v, &error));
    g_assert_error(error, STORE_ERROR, STORE_ERROR_VERSION);
    g_clear_error(&error);
    exec_ok(f->path, "DELETE FROM schema_version WHERE version = 99; PRAGMA journal_mode = DELETE");

    /* Damage in the middle of the file: pages of the tables. */
    fp = fopen(f->path, "r+b");
    g_assert_nonnull(fp);
    fseek(fp, 4096 * 6, SEEK_SET);
    for (int i = 0; i < 4096 * 4; i++)
        fputc(0x5a, fp);
    fclose(fp);
    g_assert_false(admin_verify_file(f->path, &v, &error));
    g_assert_error(error, STORE_ERROR, STORE_ERROR_CORRUPT);
    g_assert_nonnull(strstr(error->message, "tickets.db"));
}

static void
test_restore(struct fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GDateTime) now = g_date_time_new_utc(2026, 11, 27, 16, 30, 0);
    g_autofree char *dir = g_build_filename(f->dir, "backups", NULL);
    g_autofree char *saved = NULL;
    struct admin_backup b;

    seed(f->path);
    g_assert_true(admin_backup_run(f->path, dir, now, 1000, &b, &error));
    exec_ok(f->path, "DELETE FROM events; UPDATE tickets SET status = 'open'");
    g_assert_true(admin_restore(b.path, f->path, now, &saved, &error));
    g_assert_no_error(error);
    g_assert_cmpint(scalar(f->path, "SELECT count(*) FROM events"), ==, 3);
    g_assert_cmpint(scalar(f->path, "SELECT count(*) FROM tickets WHERE status = 'closed'"), ==, 1);
    g_assert_true(g_str_has_suffix(saved, "tickets.db.before-restore-20261127T163000Z"));
    g_assert_cmpint(scalar(saved, "SELECT count(*) FROM events"), ==, 0);
    {
        /* The restored database works for the store and the search. */
        struct store *st = store_open(f->path, STORE_READ_WRITE, 1000, &error);
        g_assert_no_error(error);
        store_close(st);
        g_autoptr(GPtrArray) hits = search(f->path, "invoice");
        g_assert_cmpstr(first_tag(hits), ==, "TKT-3");
    }
    admin_backup_clear(&b);
}

/* A backup of another page size than the live database (in WAL mode,
 * where the page size cannot change) restores all the same. */
static void
test_restore_page_size(struct fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GDateTime) now = g_date_time_new_utc(2026, 11, 27, 16, 30, 0);
    g_autofree char *dir = g_build_filename(f->dir, "backups", NULL);
    g_autofree char *saved = NULL;
    struct admin_backup b;

    seed(f->path);
    g_assert_true(admin_backup_run(f->path, dir, now, 1000, &b, &error));
    exec_ok(b.path, "PRAGMA page_size = 8192; VACUUM");
    g_assert_cmpint(scalar(b.path, "PRAGMA page_size"), ==, 8192);
    exec_ok(f->path, "DELETE FROM events");
    g_assert_cmpint(scalar(f->path, "PRAGMA page_size"), ==, 4096);
    g_assert_true(admin_restore(b.path, f->path, now, &saved, &error));
    g_assert_no_error(error);
    g_assert_nonnull(saved);
    g_assert_cmpint(scalar(f->path, "PRAGMA page_size"), ==, 8192);
    g_assert_cmpint(scalar(f->path, "SELECT count(*) FROM events"), ==, 3);
    g_assert_cmpint(scalar(saved, "SELECT count(*) FROM events"), ==, 0);
    {
        /* The daemon's way of opening it works, in WAL mode. */
        struct store *st = store_open(f->path, STORE_READ_WRITE, 1000, &error);
        g_assert_no_error(error);
        store_close(st);
    }
    {
        /* Nothing temporary is left beside the database. */
        g_autoptr(GDir) d = g_dir_open(f->dir, 0, NULL);
        const char *name;
        while ((name = g_dir_read_name(d)) != NULL)
            g_assert_null(strstr(name, "tmp"));
    }
    admin_backup_clear(&b);
}

/* Two restores in one second: the copy the first saved (the original
 * database) is not overwritten by the second. */
static void
test_restore_twice(struct fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GDateTime) now = g_date_time_new_utc(2026, 11, 27, 16, 30, 0);
    g_autofree char *dir = g_build_filename(f->dir, "backups", NULL);
    g_autofree char *first = NULL, *second = NULL;
    struct admin_backup b;

    seed(f->path);
    g_assert_true(admin_backup_run(f->path, dir, now, 1000, &b, &error));
    exec_ok(f->path, "INSERT INTO events (ticket_id, at, type) VALUES (1, 'x', 'original')");
    g_assert_true(admin_restore(b.path, f->path, now, &first, &error));
    g_assert_true(admin_restore(b.path, f->path, now, &second, &error));
    g_assert_no_error(error);
    g_assert_true(g_str_has_suffix(first, "tickets.db.before-restore-20261127T163000Z"));
    g_assert_true(g_str_has_suffix(second, "tickets.db.before-restore-20261127T163000Z-2"));
    g_assert_cmpint(scalar(first, "SELECT count(*) FROM events WHERE type = 'original'"), ==, 1);
    g_assert_cmpint(scalar(second, "SELECT count(*) FROM events WHERE type = 'original'"), ==, 0);
    admin_backup_clear(&b);
}

/* A restore that fails after the database was saved says where. */
static void
test_restore_fails_saved(struct fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GDateTime) now = g_date_time_new_utc(2026, 11, 27, 16, 30, 0);
    g_autofree char *dir = g_build_filename(f->dir, "backups", NULL);
    g_autofree char *blocker = g_build_filename(f->dir, ".tickets.db.restore.tmp", "x", NULL);
    g_autofree char *saved = NULL;
    struct admin_backup b;

    seed(f->path);
    g_assert_true(admin_backup_run(f->path, dir, now, 1000, &b, &error));
    /* A directory where the new file would go: the copy cannot be made. */
    g_assert_cmpint(g_mkdir_with_parents(blocker, 0700), ==, 0);
    g_assert_false(admin_restore(b.path, f->path, now, &saved, &error));
    g_assert_nonnull(error);
    g_assert_nonnull(saved);
    g_assert_cmpint(scalar(saved, "SELECT count(*) FROM tickets"), ==, 3);
    g_assert_cmpint(scalar(f->path, "SELECT count(*) FROM tickets"), ==, 3);
    admin_backup_clear(&b);
}

/* The database to replace is damaged: it is moved aside whole, and the
 * backup comes in. */
static void
test_restore_over_damage(struct fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GDateTime) now = g_date_time_new_utc(2026, 11, 27, 16, 30, 0);
    g_autofree char *dir = g_build_filename(f->dir, "backups", NULL);
    g_autofree char *saved = NULL;
    struct admin_backup b;

    seed(f->path);
    g_assert_true(admin_backup_run(f->path, dir, now, 1000, &b, &error));
    g_assert_true(g_file_set_contents(f->path, "overwritten by accident", -1, NULL));
    g_assert_true(admin_restore(b.path, f->path, now, &saved, &error));
    g_assert_no_error(error);
    g_assert_cmpint(scalar(f->path, "SELECT count(*) FROM tickets"), ==, 3);
    {
        g_autofree char *old = NULL;
        g_assert_true(g_file_get_contents(saved, &old, NULL, NULL));
        g_assert_cmpstr(old, ==, "overwritten by accident");
    }
    admin_backup_clear(&b);
}

/* Another process with the database open is seen; none, nothing. */
static void
test_database_holder(struct fixture *f, gconstpointer data)
{
    int ready[2];
    pid_t child;
    char c;

    seed(f->path);
    g_assert_cmpint(admin_database_holder(f->path), ==, 0);
    g_assert_cmpint(pipe(ready), ==, 0);
    child = fork();
    g_assert_cmpint(child, >=, 0);
    if (child == 0) {
        sqlite3 *db;
        sqlite3_open(f->path, &db);
        sqlite3_exec(db, "SELECT count(*) FROM tickets", NULL, NULL, NULL);
        if (write(ready[1], "x", 1) != 1)
            _exit(1);
        pause();
        _exit(0);
    }
    g_assert_cmpint(read(ready[0], &c, 1), ==, 1);
    g_assert_cmpint(admin_database_holder(f->path), ==, child);
    kill(child, SIGTERM);
    waitpid(child, NULL, 0);
    close(ready[0]);
    close(ready[1]);
    g_assert_cmpint(admin_database_holder(f->path), ==, 0);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#define ADD(name, fn) g_test_add(name, struct fixture, NULL, fixture_setup, fn, fixture_teardown)
    g_test_add_func("/admin/search/query", test_search_query);
    ADD("/admin/search/words", test_search);
    ADD("/admin/search/migration-indexes-old-rows", test_search_migration);
    ADD("/admin/search/words-across-messages", test_search_across_messages);
    ADD("/admin/search/migration-keeps-index", test_search_migration_batched);
    ADD("/admin/search/batched-index", test_search_batched_index);
    g_test_add_func("/admin/stats/percentile", test_percentile);
    ADD("/admin/stats/read", test_stats);
    ADD("/admin/customers", test_customers);
    ADD("/admin/purge", test_purge);
    ADD("/admin/export", test_export);
    g_test_add_func("/admin/backup/names", test_backup_names);
    g_test_add_func("/admin/backup/retention", test_retention);
    ADD("/admin/backup/while-writing", test_backup_while_writing);
    ADD("/admin/backup/missing-source", test_backup_missing_source);
    ADD("/admin/backup/keeps-its-own", test_backup_keeps_its_own);
    ADD("/admin/backup/dir-fsync-unsupported", test_backup_dir_fsync);
    ADD("/admin/verify/failures", test_verify_failures);
    ADD("/admin/restore", test_restore);
    ADD("/admin/restore/over-damage", test_restore_over_damage);
    ADD("/admin/restore/page-size", test_restore_page_size);
    ADD("/admin/restore/twice-in-a-second", test_restore_twice);
    ADD("/admin/restore/fails-says-saved", test_restore_fails_saved);
    ADD("/admin/restore/holder", test_database_holder);
#define ADD_PG(name, fn)                                                                           \
    g_test_add("/admin/pg/" name, struct fixture, NULL, fixture_setup_pg, fn, fixture_teardown)
    ADD_PG("search/words", test_search);
    ADD_PG("search/words-across-messages", test_search_across_messages);
    ADD_PG("stats/read", test_stats);
    ADD_PG("customers", test_customers);
    ADD_PG("export", test_export);
    return g_test_run();
}
