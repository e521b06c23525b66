/*
 * test-store - the schema, the queries and the writer thread, on real
 * SQLite files in a temporary directory.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <sqlite3.h>

#include "store/messages.h"
#include "store/store.h"
#include "store/tickets.h"
#include "store/writer.h"

struct fixture {
    char *dir;
    char *path;
};

static void
fixture_setup(struct fixture *f, gconstpointer data)
{
    f->dir = g_dir_make_tmp("test-store-XXXXXX", NULL);
    f->path = g_build_filename(f->dir, "tickets.db", NULL);
}

static void
fixture_teardown(struct fixture *f, gconstpointer data)
{
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", f->dir);
    g_assert_cmpint(system(cmd), ==, 0);
    g_free(f->dir);
    g_free(f->path);
}

static gint64
add_ticket(struct store *st, const char *subject)
{
    struct ticket t = {
        .status = TICKET_OPEN, .severity = 2, .stage = 1, .customer = "acme",
        .requester = "ops@acme.test", .subject = (char *)subject,
        .created_at = "2026-11-24T09:00:00Z",
    };
    g_autoptr(GError) error = NULL;
    gint64 id = 0;

    g_assert_true(store_ticket_insert(st, &t, "TKT", &id, &error));
    g_assert_no_error(error);
    return id;
}

static void
add_message(struct store *st, gint64 ticket, const char *key)
{
    struct store_new_message m = {
        .ticket_id = ticket, .dedup_key = key, .message_id = key, .digest = "d1",
        .direction = "in", .kind = "customer", .from = "ops@acme.test", .subject = "s",
        .text = "body", .raw = "raw\0bytes", .raw_len = 9, .received_at = "2026-11-24T09:00:00Z",
        .queue_id = "4ABC",
    };
    g_autoptr(GError) error = NULL;

    g_assert_true(store_message_insert(st, &m, NULL, &error));
    g_assert_no_error(error);
}

static void
test_roundtrip(struct fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    struct store *st = store_open(f->path, STORE_READ_WRITE, 100, &error);
    g_autoptr(GPtrArray) list = NULL, msgs = NULL, events = NULL;
    g_autofree char *digest = NULL;
    struct ticket *t;
    gint64 id, found_ticket = 0;
    bool found = false;

    g_assert_no_error(error);
    g_assert_true(store_begin(st, &error));
    id = add_ticket(st, "Printer on fire");
    g_assert_cmpint(id, ==, 1);
    add_message(st, id, "m1@acme.test");
    g_assert_true(store_event_insert(st, id, "2026-11-24T09:00:00Z", "created", "ops@acme.test",
                                     "{\"a\":1}", &error));
    g_assert_true(store_commit(st, &error));
    g_assert_no_error(error);
    st = store_close(st);

    /* A reader sees what the writer committed. */
    st = store_open(f->path, STORE_READ_ONLY, 100, &error);
    g_assert_no_error(error);
    list = store_ticket_list(st, &error);
    g_assert_cmpuint(list->len, ==, 1);
    t = g_ptr_array_index(list, 0);
    g_assert_cmpstr(t->tag, ==, "TKT-1");
    g_assert_cmpint(t->status, ==, TICKET_OPEN);
    g_assert_cmpint(t->severity, ==, 2);
    g_assert_cmpint(t->stage, ==, 1);
    g_assert_cmpstr(t->customer, ==, "acme");
    g_assert_cmpstr(t->subject, ==, "Printer on fire");

    t = store_ticket_get_by_tag(st, "tkt-1", &error);
    g_assert_nonnull(t);
    ticket_free(t);
    g_assert_null(store_ticket_get_by_tag(st, "ABC-1", &error));
    g_assert_null(store_ticket_get_by_tag(st, "TKT-2", &error));
    g_assert_null(store_ticket_get_by_tag(st, "TKT-x", &error));
    g_assert_no_error(error);

    msgs = store_ticket_messages(st, 1, &error);
    g_assert_cmpuint(msgs->len, ==, 1);
    g_assert_cmpstr(((struct ticket_message *)g_ptr_array_index(msgs, 0))->queue_id, ==, "4ABC");
    events = store_ticket_events(st, 1, &error);
    g_assert_cmpuint(events->len, ==, 1);
    g_assert_cmpstr(((struct ticket_event *)g_ptr_array_index(events, 0))->type, ==, "created");

    g_assert_true(store_message_find(st, "m1@acme.test", &found, &found_ticket, &digest, &error));
    g_assert_true(found);
    g_assert_cmpint(found_ticket, ==, 1);
    g_assert_cmpstr(digest, ==, "d1");
    g_assert_true(store_message_find(st, "other", &found, &found_ticket, &digest, &error));
    g_assert_false(found);
    store_close(st);
}

/* The subjects a ticket's mail had, newest first: under the limit a long
 * ticket still shows what its last mail asked. */
static void
test_subjects_newest_first(struct fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    struct store *st = store_open(f->path, STORE_READ_WRITE, 100, &error);
    g_auto(GStrv) subjects = NULL;
    gint64 id;

    g_assert_no_error(error);
    g_assert_true(store_begin(st, &error));
    id = add_ticket(st, "Printer");
    for (int i = 0; i < 30; i++) {
        g_autofree char *key = g_strdup_printf("m%d@acme.test", i);
        g_autofree char *subject = g_strdup_printf("Re: Printer (%d)", i);
        struct store_new_message m = {
            .ticket_id = id, .dedup_key = key, .message_id = key, .digest = key,
            .direction = "in", .kind = "customer", .from = "ops@acme.test",
            .subject = i == 29 ? "Re: Printer, please escalate" : subject, .text = "body",
            .raw = "raw", .raw_len = 3, .received_at = "2026-11-24T09:00:00Z",
        };
        g_assert_true(store_message_insert(st, &m, NULL, &error));
    }
    g_assert_true(store_commit(st, &error));
    subjects = store_ticket_subjects(st, id, 5, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(g_strv_length(subjects), ==, 5);
    g_assert_cmpstr(subjects[0], ==, "Re: Printer, please escalate");
    g_assert_cmpstr(subjects[1], ==, "Re: Printer (28)");
    store_close(st);
}

static void
test_duplicate_key_refused(struct fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    struct store *st = store_open(f->path, STORE_READ_WRITE, 100, &error);
    struct store_new_message m = {
        .ticket_id = 1, .dedup_key = "k", .digest = "d", .direction = "in", .kind = "customer",
        .received_at = "2026-11-24T09:00:00Z",
    };

    g_assert_true(store_begin(st, &error));
    add_ticket(st, "x");
    g_assert_true(store_message_insert(st, &m, NULL, &error));
    g_assert_false(store_message_insert(st, &m, NULL, &error));
    /* A taken key is a conflict (store/db.h): another host may have
     * stored the same message first. */
    g_assert_error(error, STORE_ERROR, STORE_ERROR_CONFLICT);
    store_rollback(st);
    store_close(st);
}

static void
test_missing_database_for_reader(struct fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;

    g_assert_null(store_open(f->path, STORE_READ_ONLY, 100, &error));
    g_assert_error(error, STORE_ERROR, STORE_ERROR_READONLY);
    g_assert_nonnull(strstr(error->message, "no such database"));
}

static void
test_not_a_database(struct fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;

    g_assert_true(g_file_set_contents(f->path, "this is not sqlite, but long enough to look at"
                                               " it as a header of one hundred bytes or more....",
                                      -1, NULL));
    g_assert_null(store_open(f->path, STORE_READ_WRITE, 100, &error));
    g_assert_error(error, STORE_ERROR, STORE_ERROR_CORRUPT);
}

static void
test_newer_schema_refused(struct fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    struct store *st = store_open(f->path, STORE_READ_WRITE, 100, &error);
    sqlite3 *db;

    store_close(st);
    g_assert_cmpint(sqlite3_open(f->path, &db), ==, SQLITE_OK);
    g_assert_cmpint(sqlite3_exec(db, "INSERT INTO schema_version VALUES (99, 'x')", NULL, NULL,
                                 NULL), ==, SQLITE_OK);
    sqlite3_close(db);
    g_assert_null(store_open(f->path, STORE_READ_WRITE, 100, &error));
    g_assert_error(error, STORE_ERROR, STORE_ERROR_VERSION);
}

/* ---- the writer ---- */

struct job {
    int n;
    bool fail;
    gint64 ticket;
};

static bool
job_fn(struct store *st, void *data, GError **error)
{
    struct job *j = data;
    g_autofree char *subject = g_strdup_printf("job %d", j->n);
    struct ticket t = {
        .status = TICKET_OPEN, .severity = 3, .stage = 0, .requester = "a@b",
        .subject = subject, .created_at = "2026-11-24T09:00:00Z",
    };

    if (!store_ticket_insert(st, &t, "TKT", &j->ticket, error))
        return false;
    if (j->fail) {
        g_set_error(error, STORE_ERROR, STORE_ERROR_FAILED, "job %d fails on purpose", j->n);
        return false;
    }
    return true;
}

struct worker {
    struct store_writer *w;
    int first;
    int count;
    int ok;
};

static gpointer
worker_main(gpointer data)
{
    struct worker *wk = data;

    for (int i = 0; i < wk->count; i++) {
        struct job j = { .n = wk->first + i, .fail = (wk->first + i) % 10 == 3 };
        g_autoptr(GError) error = NULL;
        if (store_writer_run(wk->w, job_fn, &j, &error)) {
            g_assert_false(j.fail);
            wk->ok++;
        } else {
            g_assert_true(j.fail);
            g_assert_error(error, STORE_ERROR, STORE_ERROR_FAILED);
        }
    }
    return NULL;
}

static int
count_tickets(const char *path)
{
    g_autoptr(GError) error = NULL;
    struct store *st = store_open(path, STORE_READ_ONLY, 100, &error);
    g_autoptr(GPtrArray) list = store_ticket_list(st, &error);

    store_close(st);
    return (int)list->len;
}

/* Eight threads at once: every job that succeeded is stored, every job that
 * failed left nothing behind, though they shared transactions. */
static void
test_writer_group_commit(struct fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    struct store *st = store_open(f->path, STORE_READ_WRITE, 1000, &error);
    struct store_writer *w = store_writer_new(st);
    struct worker workers[8];
    GThread *threads[8];
    int ok = 0;

    for (int i = 0; i < 8; i++) {
        workers[i] = (struct worker){ .w = w, .first = i * 50, .count = 50 };
        threads[i] = g_thread_new("worker", worker_main, &workers[i]);
    }
    for (int i = 0; i < 8; i++) {
        g_thread_join(threads[i]);
        ok += workers[i].ok;
    }
    store_writer_free(w);
    g_assert_cmpint(ok, ==, 400 - 40);
    g_assert_cmpint(count_tickets(f->path), ==, 360);
}

/* Another process holds the write lock: the writer reports BUSY after the
 * timeout, and works again once the lock is gone. */
static void
test_writer_busy(struct fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    struct store *st = store_open(f->path, STORE_READ_WRITE, 200, &error);
    struct store_writer *w = store_writer_new(st);
    struct job j = { .n = 1 };
    sqlite3 *other;

    g_assert_cmpint(sqlite3_open(f->path, &other), ==, SQLITE_OK);
    g_assert_cmpint(sqlite3_exec(other, "BEGIN EXCLUSIVE", NULL, NULL, NULL), ==, SQLITE_OK);
    g_assert_false(store_writer_run(w, job_fn, &j, &error));
    g_assert_error(error, STORE_ERROR, STORE_ERROR_BUSY);
    g_assert_nonnull(strstr(error->message, "locked"));
    g_clear_error(&error);
    sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(other);

    g_assert_true(store_writer_run(w, job_fn, &j, &error));
    g_assert_no_error(error);
    store_writer_free(w);
    g_assert_cmpint(count_tickets(f->path), ==, 1);
}

/* A database on a read-only file: the reason names it. */
static void
test_readonly_file(struct fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    struct store *st = store_open(f->path, STORE_READ_WRITE, 100, &error);
    struct store_writer *w;
    struct job j = { .n = 1 };

    if (getuid() == 0) {
        /* root writes through file modes; open read-only instead. */
        store_close(st);
        st = store_open(f->path, STORE_READ_ONLY, 100, &error);
    } else {
        store_close(st);
        g_chmod(f->path, 0444);
        st = store_open(f->path, STORE_READ_ONLY, 100, &error);
    }
    g_assert_no_error(error);
    w = store_writer_new(st);
    g_assert_false(store_writer_run(w, job_fn, &j, &error));
    g_assert_error(error, STORE_ERROR, STORE_ERROR_READONLY);
    store_writer_free(w);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#define ADD(name, fn) g_test_add(name, struct fixture, NULL, fixture_setup, fn, fixture_teardown)
    ADD("/store/roundtrip", test_roundtrip);
    ADD("/store/subjects-newest-first", test_subjects_newest_first);
    ADD("/store/duplicate-key-refused", test_duplicate_key_refused);
    ADD("/store/missing-database-for-reader", test_missing_database_for_reader);
    ADD("/store/not-a-database", test_not_a_database);
    ADD("/store/newer-schema-refused", test_newer_schema_refused);
    ADD("/store/writer/group-commit", test_writer_group_commit);
    ADD("/store/writer/busy", test_writer_busy);
    ADD("/store/writer/readonly", test_readonly_file);
    return g_test_run();
}
