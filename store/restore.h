/*
 * store/restore.h - ticketctl restore: a verified backup put in the place
 * of the live database, the database it replaces saved beside it.
 *
 * Errors are STORE_ERROR (store/store.h) with a sentence that names the
 * file.
 */
#ifndef TM_STORE_RESTORE_H
#define TM_STORE_RESTORE_H

#include <stdbool.h>
#include <sys/types.h>

#include <glib.h>

/* The pid of a process that has DB_PATH open (SQLite's WAL lock), 0 when
 * none. It sees other processes only, which is what restore needs. */
pid_t admin_database_holder(const char *db_path);

/* Replaces DB_PATH by FILE (verified first), after saving the current
 * database next to it as DB_PATH.before-restore-STAMP (a name no earlier
 * restore used); *SAVED names that copy (NULL when there was no database),
 * also when the restore fails after saving it. FILE is copied into a new
 * file in DB_PATH's directory, checked, and renamed over DB_PATH, so page
 * size and journal mode of the two never meet. The caller has made sure
 * nobody uses DB_PATH. */
bool admin_restore(const char *file, const char *db_path, GDateTime *now, char **saved,
                   GError **error);

#endif
