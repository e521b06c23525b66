/*
 * store/backup-internal.h - what store/backup.c shares with
 * store/restore.c and nobody else: the verified copy of a SQLite file and
 * the file chores around it.
 */
#ifndef TM_STORE_BACKUP_INTERNAL_H
#define TM_STORE_BACKUP_INTERNAL_H

#include <stdbool.h>

#include <glib.h>

#include "store/db.h"

/* Opens the SQLite file PATH, which must exist; one that is not a
 * database is STORE_ERROR_CORRUPT "PATH: is not an SQLite database". */
struct db *backup_open_file(const char *path, enum db_mode mode, guint busy_timeout_ms,
                            GError **error);
/* Copies DB_PATH into the new file TMP (synced), counting the rows of
 * every table (*COUNTS, struct admin_table_count*) in the snapshot that
 * was copied; refuses a file that is no ticket-milter database. */
bool backup_snapshot(const char *db_path, const char *tmp, guint busy_timeout_ms,
                     GPtrArray **counts, GError **error);
/* TMP passes integrity_check and has the rows WANT says. */
bool backup_check(const char *tmp, GPtrArray *want, GError **error);
/* fsync of a file, and of a directory (where the file system can). */
bool backup_sync_path(const char *path, GError **error);
bool backup_sync_dir(const char *dir, GError **error);
/* Removes PATH and its -wal, -shm and -journal. */
void backup_remove_files(const char *path);
/* The tables TABLES_SQL names (one per row, in its order) with their
 * rows (struct admin_table_count*), in the caller's snapshot. */
GPtrArray *backup_count_rows(struct db *db, const char *tables_sql, GError **error);
/* Whether COUNTS (struct admin_table_count*) names TABLE. */
bool backup_has_table(GPtrArray *counts, const char *table);

/* PostgreSQL (store/backup-pg.c): TARGET dumped into TMP with its rows
 * counted in the dump's snapshot; the dump's table of contents checked
 * against COUNTS; whether FILE is a pg_dump custom-format file; and
 * verify of one. */
bool backup_pg_copy(const char *target, const char *tmp, guint busy_timeout_ms, GPtrArray **counts,
                    GError **error);
bool backup_pg_check(const char *tmp, GPtrArray *counts, GError **error);
bool backup_is_pg_dump(const char *file);
struct admin_verify;
bool backup_pg_verify(const char *file, struct admin_verify *out, GError **error);

#endif
