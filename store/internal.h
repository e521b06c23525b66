/*
 * store/internal.h - what the files of store/ share and nothing outside
 * store/ may use: the one mapping of SQLite results to STORE_ERROR codes
 * and the one way a tickets row becomes a struct ticket.
 */
#ifndef TM_STORE_INTERNAL_H
#define TM_STORE_INTERNAL_H

#include <sqlite3.h>

#include "store/store.h"

/* The columns store_ticket_from_row() reads, in its order. */
#define STORE_TICKET_COLUMNS                                                                       \
    "id, prefix || '-' || id, status, severity, stage, customer, requester, subject, "             \
    "created_at, updated_at, first_response_due, first_response_at, next_update_due, "             \
    "resolution_due, resolved_at, plan, timezone, language, assignee, paused_at, paused_seconds, " \
    "clock_start, update_from"

/* Maps an SQLite result to what the admin can act on; SYS_ERRNO is what
 * the operating system said to SQLite's last call, 0 when unknown. */
int store_error_code(int rc, int sys_errno);

/* Column I as a new string; NULL for SQL NULL. */
char *store_column_dup(sqlite3_stmt *s, int i);

/* The current row of a SELECT STORE_TICKET_COLUMNS. */
struct ticket *store_ticket_from_row(sqlite3_stmt *s);

#endif
