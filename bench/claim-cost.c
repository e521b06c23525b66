/*
 * claim-cost - what the dispatcher's claim of a batch of outbox rows costs
 * (store_outbox_claim in store/outbox.c, through the store as the daemon
 * calls it), against the read it replaced.
 *
 *   claim-cost TARGET [CLAIMS [BATCH]]   TARGET: a SQLite path or a PostgreSQL URI
 *
 * CLAIMS (default 200) claims of BATCH (default 16, DISPATCH_BATCH)
 * pending acknowledgement-sized outbox rows, each in a write transaction
 * of its own (BEGIN IMMEDIATE, the claim, COMMIT: on SQLite the commit is
 * a WAL fsync, synchronous=FULL), then its rows marked sent in another, as
 * the dispatcher records the outcomes.  For comparison the read the
 * dispatcher made before there were claims (store_outbox_due, gone since:
 * the same rows by the same index, no write) runs before each claim on a
 * second, read-only connection.  TARGET gets the store's schema (a new
 * file, or a database with nothing pending in its outbox); on PostgreSQL
 * the outbox is analysed after its rows are in, as autovacuum would have
 * (without statistics the planner sorts every pending row for a claim).
 *
 * Prints "CLAIM BATCH TRANSACTION_US STATEMENT_US READ_US MARK_US",
 * microseconds per batch, the averages.  Exits 1 on any database error
 * (the step and the store's sentence on stderr), or when a claim takes
 * other rows than the read before it saw.
 */
#include <stdio.h>
#include <stdlib.h>

#include <glib.h>

#include "store/db.h"
#include "store/outbox.h"
#include "store/store.h"
#include "util/timefmt.h"

/* A step that failed ends the bench: its figures would be of something else. */
static void
must(bool ok, GError *error, const char *step)
{
    if (ok)
        return;
    fprintf(stderr, "claim-cost: %s: %s\n", step, error != NULL ? error->message : "failed");
    exit(1);
}

/* The claim's rows are due at any time the bench runs; a lease that long
 * keeps a claimed row from being claimed again. */
#define CLAIM_NOW "2999-01-01T00:00:00Z"
#define CLAIM_LEASE "2999-01-01T00:05:00Z"
#define CLAIM_BODY_BYTES 1500

/* The pending rows the claims take: an acknowledgement's size, no ticket,
 * each due a second after the one before.  (Rows due in the same second
 * are the same to SQLite, whose index ends in the rowid, but not to
 * PostgreSQL: outbox_pending holds no id, and the claim's ORDER BY
 * next_attempt_at, id sorts every row of the first second.) */
static void
claim_rows(struct store *st, int rows)
{
    const char *const recipients[] = { "customer@acme.test", NULL };
    g_autofree char *body = g_strnfill(CLAIM_BODY_BYTES, 'x');
    g_autoptr(GDateTime) base = g_date_time_new_utc(2026, 1, 1, 0, 0, 0);
    GError *error = NULL;

    for (int i = 0; i < rows; i++) {
        g_autofree char *mid = g_strdup_printf("<claim.%d.%d@bench.example>", g_random_int(), i);
        g_autoptr(GDateTime) due = g_date_time_add_seconds(base, i);
        g_autofree char *due_text = timefmt_iso8601(due);
        struct store_new_outbox o = {
            .kind = "ack",
            .template_name = "ack-new",
            .transport = "smtp",
            .mail_from = "",
            .recipients = recipients,
            .message_id = mid,
            .body = body,
            .created_at = "2026-01-01T00:00:00Z",
            .send_at = due_text,
            .ack_key = "customer@acme.test",
        };

        if (i % 1000 == 0)
            must(store_begin(st, &error), error, "begin");
        must(store_outbox_insert(st, &o, NULL, &error), error, "store_outbox_insert");
        if (i % 1000 == 999 || i == rows - 1)
            must(store_commit(st, &error), error, "commit");
    }
}

/* The dispatcher's read of its due rows before claims: store_outbox_due's
 * statement; how many rows it read, and the first one's id. */
static int
claim_read(struct db *rd, int batch, gint64 *first)
{
    GError *error = NULL;
    struct db_stmt *s = db_prepare(
        rd,
        "SELECT id, ticket_id, kind, template, transport, mail_from, recipients, message_id, body,"
        " attempts, status, created_at, next_attempt_at, sent_at, last_error FROM outbox"
        " WHERE status = 'pending' AND transport = ?3 AND next_attempt_at <= ?1"
        " ORDER BY next_attempt_at, id LIMIT ?2",
        &error);
    enum db_step step;
    int n = 0;

    must(s != NULL, error, "the read");
    db_bind_text(s, 1, CLAIM_NOW);
    db_bind_int64(s, 2, batch);
    db_bind_text(s, 3, "smtp");
    while ((step = db_step(s, &error)) == DB_ROW) {
        /* Every column copied out, as the row was. */
        for (int c = 0; c < 15; c++)
            g_free(db_column_dup(s, c));
        if (n++ == 0)
            *first = db_column_int64(s, 0);
    }
    must(step == DB_DONE, error, "the read");
    return n;
}

static int
claim_cost(const char *target, int claims, int batch)
{
    g_autofree char *claimant = store_outbox_claimant();
    GError *error = NULL;
    struct store *st = store_open(target, STORE_READ_WRITE, 5000, &error);
    struct db *rd;
    gint64 t_tx = 0, t_stmt = 0, t_read = 0, t_mark = 0;

    must(st != NULL, error, "store_open");
    claim_rows(st, claims * batch);
    rd = db_open(target, DB_READ_WRITE, 5000, &error);
    must(rd != NULL, error, "db_open");
    /* PostgreSQL plans a new table's statements from no statistics: the
     * claim would sort every pending row.  Autovacuum has analysed an
     * outbox by the time it holds a backlog. */
    if (db_kind(rd) == DB_POSTGRES)
        must(db_exec(rd, "ANALYZE outbox", &error), error, "ANALYZE");
    rd = db_close(rd);
    rd = db_open(target, DB_READ_ONLY, 5000, &error);
    must(rd != NULL, error, "db_open read-only");
    for (int k = 0; k < claims; k++) {
        g_autoptr(GPtrArray) rows = NULL;
        gint64 first = 0, taken, t0, t1, t2, t3;
        int seen;

        t0 = g_get_monotonic_time();
        seen = claim_read(rd, batch, &first);
        t1 = g_get_monotonic_time();
        must(store_begin(st, &error), error, "begin");
        t2 = g_get_monotonic_time();
        rows =
            store_outbox_claim(st, CLAIM_NOW, "smtp", (guint)batch, claimant, CLAIM_LEASE, &error);
        t3 = g_get_monotonic_time();
        must(rows != NULL, error, "store_outbox_claim");
        must(store_commit(st, &error), error, "commit of the claim");
        t_read += t1 - t0;
        t_stmt += t3 - t2;
        t_tx += g_get_monotonic_time() - t1;
        taken = rows->len > 0 ? ((struct outbox_row *)g_ptr_array_index(rows, 0))->id : 0;
        if (seen != batch || (int)rows->len != batch || taken != first) {
            fprintf(stderr,
                    "claim-cost: claim %d took %u rows from %" G_GINT64_FORMAT
                    ", the read saw %d from %" G_GINT64_FORMAT "\n",
                    k, rows->len, taken, seen, first);
            return 1;
        }

        t0 = g_get_monotonic_time();
        must(store_begin(st, &error), error, "begin");
        for (guint i = 0; i < rows->len; i++) {
            const struct outbox_row *r = g_ptr_array_index(rows, i);
            bool recorded = false;

            must(store_outbox_mark_sent(st, r->id, claimant, CLAIM_NOW, g_get_real_time(),
                                        &recorded, &error),
                 error, "store_outbox_mark_sent");
            must(recorded, NULL, "store_outbox_mark_sent: the claim was not ours");
        }
        must(store_commit(st, &error), error, "commit of the outcomes");
        t_mark += g_get_monotonic_time() - t0;
    }
    printf("CLAIM %d %.1f %.1f %.1f %.1f\n", batch, (double)t_tx / claims, (double)t_stmt / claims,
           (double)t_read / claims, (double)t_mark / claims);
    db_close(rd);
    store_close(st);
    return 0;
}

int
main(int argc, char **argv)
{
    const char *target = argc > 1 ? argv[1] : NULL;
    int claims = argc > 2 ? atoi(argv[2]) : 200;
    int batch = argc > 3 ? atoi(argv[3]) : 16;

    if (target == NULL || claims <= 0 || batch <= 0) {
        fprintf(stderr, "usage: claim-cost TARGET [CLAIMS [BATCH]]\n");
        return 2;
    }
    return claim_cost(target, claims, batch);
}
