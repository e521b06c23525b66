/*
 * store/internal.h - what the files of store/ share and nothing outside
 * store/ may use: the connection a struct store is, the few ways a
 * statement is run (no row, one value, every row), the one way a tickets
 * row becomes a struct ticket, and opening a database that must exist.
 *
 * Every file of store/ speaks store/db.h and these helpers only; errors
 * are db.c's (STORE_ERROR, naming the database and the statement).
 */
#ifndef TM_STORE_INTERNAL_H
#define TM_STORE_INTERNAL_H

#include <stdbool.h>

#include <glib.h>

#include "router/ticket.h"
#include "store/db.h"
#include "store/store.h"

/* One connection of the store, its statements cached by store/db.c. */
struct store {
    struct db *db;
    enum store_mode mode;
};

/* An admin handle (store/admin.h): a connection of ticketctl's own. */
struct admin {
    struct db *db;
};

/* The columns store_ticket_from_row() reads, in its order. */
#define STORE_TICKET_COLUMNS                                                                       \
    "id, prefix || '-' || id, status, severity, stage, customer, requester, subject, "             \
    "created_at, updated_at, first_response_due, first_response_at, next_update_due, "             \
    "resolution_due, resolved_at, plan, timezone, language, assignee, paused_at, paused_seconds, " \
    "clock_start, update_from"

/* Runs S (bound) to its end; a row it yields (RETURNING) is dropped. */
bool store_step_done(struct db_stmt *s, GError **error);
/* Runs S (bound), which yields at most one row: column 0 into *NUMBER
 * and/or *TEXT (a new string, NULL for SQL NULL or no row); either may be
 * NULL.  *NUMBER is left alone when there is no row. */
bool store_scalar(struct db_stmt *s, gint64 *number, char **text, GError **error);
/* Runs S (bound) and makes each row an element with FROM_ROW; NULL and
 * ERROR on failure. */
GPtrArray *store_collect(struct db_stmt *s, gpointer (*from_row)(struct db_stmt *),
                         GDestroyNotify free_fn, GError **error);
/* Runs SQL (no parameters), which yields one row of integers, into
 * OUT[0..N-1]; NULLs, and no row, are 0. */
bool store_query_ints(struct db *db, const char *sql, gint64 *out, int n, GError **error);
/* Binds ID, or SQL NULL when it is 0 or less (no ticket). */
void store_bind_id(struct db_stmt *s, int i, gint64 id);

/* The current row of a SELECT STORE_TICKET_COLUMNS. */
struct ticket *store_ticket_from_row(struct db_stmt *s);
gpointer store_ticket_from_row_cb(struct db_stmt *s);
void store_ticket_free_cb(gpointer p);

/* The columns store_ticket_event_from_row() reads (a struct ticket_event,
 * store/tickets.h), and its free function. */
#define STORE_EVENT_COLUMNS "id, at, type, actor, detail"
gpointer store_ticket_event_from_row(struct db_stmt *s);
void store_ticket_event_free(gpointer p);

/* Opens TARGET, which ticket-milter has created: a SQLite file that is
 * missing is STORE_ERROR_READONLY "no such database file", never created
 * empty. */
struct db *store_db_open_existing(const char *target, enum db_mode mode, guint busy_timeout_ms,
                                  GError **error);

/* A read transaction (one snapshot) and its end; the end never fails. */
bool store_read_begin(struct db *db, GError **error);
void store_read_end(struct db *db);

/* The current time as the store writes times. */
char *store_now(void);

#endif
