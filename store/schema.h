/*
 * store/schema.h - the schema's versions and migrations (store/schema.c),
 * for store/ alone: store_open() migrates or checks, ticketctl verify
 * compares a backup's version with what this build writes.
 */
#ifndef TM_STORE_SCHEMA_H
#define TM_STORE_SCHEMA_H

#include <stdbool.h>

#include <glib.h>

#include "store/db.h"

/* The version this build writes on KIND. */
int store_schema_latest(enum db_kind kind);
/* The version DB holds (0: no schema yet); -1 and ERROR on failure. */
int store_schema_version(struct db *db, GError **error);
/* Brings DB to the latest version in one transaction of its own;
 * STORE_ERROR_VERSION when DB is newer than this build. */
bool store_schema_migrate(struct db *db, GError **error);
/* True when DB has exactly the latest version (a reader's check). */
bool store_schema_check(struct db *db, GError **error);

#endif
