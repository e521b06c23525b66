/*
 * store/backup.h - ticketctl backup and verify: a verified copy of the
 * database in a backup directory while the daemon writes, the retention
 * rule over those copies, and the check of one copy.
 *
 * Errors are STORE_ERROR (store/store.h) with a sentence that names the
 * file.
 */
#ifndef TM_STORE_BACKUP_H
#define TM_STORE_BACKUP_H

#include <stdbool.h>

#include <glib.h>

struct admin_table_count {
    char *table;
    gint64 rows;
};

struct admin_backup {
    char *path;        /* the verified copy */
    GPtrArray *counts; /* struct admin_table_count*, by table name */
    gint64 bytes;
    gint64 copy_us; /* the online copy, read transaction included */
    gint64 verify_us;
};

/* Copies DB_PATH into DIR as tickets-YYYYMMDDTHHMMSSZ.db (UTC time NOW) with
 * SQLite's online backup while other connections write, then verifies it:
 * integrity_check, and every table's row count equal to the source's in
 * the snapshot that was copied. Nothing is left in DIR on failure. */
bool admin_backup_run(const char *db_path, const char *dir, GDateTime *now, guint busy_timeout_ms,
                      struct admin_backup *out, GError **error);
void admin_backup_clear(struct admin_backup *b);

struct admin_retention {
    guint daily;   /* the newest backup of each of the last N days with one */
    guint weekly;  /* ... of N ISO weeks */
    guint monthly; /* ... of N months */
};

#define ADMIN_RETENTION_DEFAULT                                                                    \
    {                                                                                              \
        7, 5, 13                                                                                   \
    }

/* The time a backup file name stands for; NULL when NAME is not ours.
 * Names to the minute (tickets-YYYYMMDDTHHMMZ.db, written by older
 * versions) are read too, as that minute's second 0. */
GDateTime *admin_backup_name_time(const char *name);
/* Of NAMES (backup file names), those the retention rule R does not keep,
 * newest first. The newest backup is always kept, and so is KEEP (the
 * name of the backup just made; NULL: none). */
GPtrArray *admin_retention_drop(GPtrArray *names, const struct admin_retention *r,
                                const char *keep);
/* Removes from DIR the backups R does not keep, never KEEP (a file name in
 * DIR, or NULL); returns their names. */
GPtrArray *admin_prune(const char *dir, const struct admin_retention *r, const char *keep,
                       GError **error);

struct admin_verify {
    int schema_version;
    int known_version; /* what this build writes */
    gint64 tickets;
    gint64 messages;
};

/* True when FILE is a sound ticket database this build can use:
 * integrity_check says ok and its schema is not newer than ours. */
bool admin_verify_file(const char *file, struct admin_verify *out, GError **error);

#endif
