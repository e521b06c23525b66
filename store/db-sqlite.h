/*
 * store/db-sqlite.h - what only a SQLite database can do, beyond
 * store/db.h: its online copy into a file (ticketctl backup and restore
 * on SQLite; store/backup.c).  Only store/ includes it.
 */
#ifndef TM_STORE_DB_SQLITE_H
#define TM_STORE_DB_SQLITE_H

#include <stdbool.h>

#include <glib.h>

#include "store/db.h"

/* Copies SRC (a SQLite connection, in whatever transaction it is in: the
 * copy is that snapshot) into a new file DEST that stands alone (rollback
 * journal, no -wal beside it).  False and ERROR, naming DEST, on failure;
 * DEST may then be left half-written for the caller to remove. */
bool db_sqlite_copy_to_file(struct db *src, const char *dest, GError **error);

#endif
