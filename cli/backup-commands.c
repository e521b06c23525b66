/*
 * backup-commands - ticketctl backup, verify and restore.
 *
 * A backup is a consistent copy taken while the daemon runs, checked
 * before it is kept; restore insists on having the database alone (the
 * daemon stopped) and keeps the file it replaces.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <glib.h>
#include <json-glib/json-glib.h>

#include "cli/ticketctl.h"
#include "store/admin.h"
#include "store/backup.h"
#include "store/counters.h"
#include "store/meta.h"
#include "store/restore.h"
#include "util/dbtarget.h"
#include "util/timefmt.h"

/* ---- backup, verify, restore ---- */

static gint64
table_rows(GPtrArray *counts, const char *table)
{
    for (guint i = 0; i < counts->len; i++) {
        const struct admin_table_count *c = g_ptr_array_index(counts, i);
        if (strcmp(c->table, table) == 0)
            return c->rows;
    }
    return 0;
}

/* Writes the time of a verified backup where the daemon's metrics read it. */
static bool
record_backup(const char *db_path, GDateTime *now, GError **error)
{
    g_autofree char *at = timefmt_iso8601(now);
    struct store *st = store_open(db_path, STORE_READ_WRITE, CLI_WRITE_BUSY_MS, error);
    bool ok;

    if (st == NULL)
        return false;
    ok = store_begin(st, error) && store_meta_set(st, STORE_META_BACKUP_VERIFIED, at, error) &&
         store_commit(st, error);
    if (!ok)
        store_rollback(st);
    store_close(st);
    return ok;
}

int
cmd_backup(const struct config *cfg, const char *db_path, const struct options *o)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GDateTime) now = options_time(o);
    g_autoptr(GPtrArray) dropped = NULL;
    g_autofree char *size = NULL, *copy = NULL, *verify = NULL;
    struct admin_retention keep = ADMIN_RETENTION_DEFAULT;
    struct admin_backup b;
    const char *dir = cli_arg(o, 1);
    bool recorded = false;

    if (dir == NULL || o->args->len != 2) {
        fprintf(stderr, "ticketctl: backup takes the directory to write to, e.g. ticketctl "
                        "backup /var/backups/ticket-milter\n");
        return EXIT_USAGE;
    }
    if (now == NULL)
        return EXIT_USAGE;
    if (o->daily >= 0)
        keep.daily = (guint)o->daily;
    if (o->weekly >= 0)
        keep.weekly = (guint)o->weekly;
    if (o->monthly >= 0)
        keep.monthly = (guint)o->monthly;
    if (!admin_backup_run(db_path, dir, now,
                          cfg != NULL ? MAX(cfg->busy_timeout, CLI_READ_BUSY_MS) : CLI_READ_BUSY_MS,
                          &b, &error))
        return cli_fail(error, EXIT_DATABASE);
    {
        /* The copy just verified is never pruned, whatever sorts newer. */
        g_autofree char *made = g_path_get_basename(b.path);
        dropped = admin_prune(dir, &keep, made, &error);
    }
    if (dropped != NULL)
        recorded = record_backup(db_path, now, &error);
    size = cli_human_bytes(b.bytes);
    copy = cli_human_us(b.copy_us);
    verify = cli_human_us(b.verify_us);
    if (o->json) {
        g_autoptr(JsonBuilder) jb = json_builder_new();
        json_builder_begin_object(jb);
        ticket_json_string(jb, "path", b.path);
        ticket_json_int(jb, "bytes", b.bytes);
        ticket_json_int(jb, "copy_us", b.copy_us);
        ticket_json_int(jb, "verify_us", b.verify_us);
        json_builder_set_member_name(jb, "rows");
        json_builder_begin_object(jb);
        for (guint i = 0; i < b.counts->len; i++) {
            const struct admin_table_count *c = g_ptr_array_index(b.counts, i);
            ticket_json_int(jb, c->table, c->rows);
        }
        json_builder_end_object(jb);
        json_builder_set_member_name(jb, "pruned");
        json_builder_begin_array(jb);
        for (guint i = 0; dropped != NULL && i < dropped->len; i++)
            json_builder_add_string_value(jb, g_ptr_array_index(dropped, i));
        json_builder_end_array(jb);
        json_builder_end_object(jb);
        print_json(jb);
    } else {
        printf("backup %s: %" G_GINT64_FORMAT " tickets, %" G_GINT64_FORMAT
               " messages, %" G_GINT64_FORMAT " events, %s; copied in %s, verified in %s (",
               b.path, table_rows(b.counts, "tickets"), table_rows(b.counts, "messages"),
               table_rows(b.counts, "events"), size, copy, verify);
        printf(dbtarget_is_uri(db_path) ? "pg_restore --list ok, the data of %u tables)\n"
                                        : "integrity ok, row counts of %u tables equal)\n",
               b.counts->len);
        for (guint i = 0; dropped != NULL && i < dropped->len; i++)
            printf("pruned %s/%s\n", dir, (char *)g_ptr_array_index(dropped, i));
    }
    admin_backup_clear(&b);
    /* The backup itself is good; a prune that failed is still an error the
     * admin must see, or the disk fills, and so is a time not recorded: the
     * backup alert would fire. */
    return dropped != NULL && recorded ? 0 : cli_fail(error, EXIT_DATABASE);
}

int
cmd_verify(const struct options *o)
{
    g_autoptr(GError) error = NULL;
    const char *file = cli_arg(o, 1);
    struct admin_verify v;

    if (file == NULL || o->args->len != 2) {
        fprintf(stderr, "ticketctl: verify takes one backup file, e.g. ticketctl verify "
                        "tickets-20261127T1630Z.db\n");
        return EXIT_USAGE;
    }
    if (!admin_verify_file(file, &v, &error))
        return cli_fail(error, EXIT_NOT_FOUND);
    if (o->json) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        ticket_json_string(b, "file", file);
        ticket_json_string(b, "integrity", "ok");
        ticket_json_int(b, "schema_version", v.schema_version);
        ticket_json_int(b, "known_version", v.known_version);
        ticket_json_int(b, "tickets", v.tickets);
        ticket_json_int(b, "messages", v.messages);
        json_builder_end_object(b);
        print_json(b);
    } else {
        printf("%s: integrity ok, schema version %d (%s), %" G_GINT64_FORMAT
               " tickets, %" G_GINT64_FORMAT " messages\n",
               file, v.schema_version,
               v.schema_version == v.known_version ? "current"
                                                   : "older: ticket-milter migrates it on start",
               v.tickets, v.messages);
    }
    return 0;
}

/* The pid in the daemon's pid file when that process is alive; 0 else. */
static pid_t
daemon_pid(const char *pid_file)
{
    g_autofree char *text = NULL;
    gint64 pid;

    if (pid_file == NULL || !g_file_get_contents(pid_file, &text, NULL, NULL))
        return 0;
    pid = g_ascii_strtoll(g_strstrip(text), NULL, 10);
    if (pid <= 1 || pid > G_MAXINT)
        return 0;
    return kill((pid_t)pid, 0) == 0 || errno == EPERM ? (pid_t)pid : 0;
}

int
cmd_restore(const struct config *cfg, const char *db_path, const struct options *o)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    g_autofree char *saved = NULL;
    const char *file = cli_arg(o, 1);
    pid_t pid;

    if (file == NULL || o->args->len != 2) {
        fprintf(stderr, "ticketctl: restore takes one backup file, e.g. ticketctl restore "
                        "tickets-20261127T1630Z.db\n");
        return EXIT_USAGE;
    }
    pid = cfg != NULL ? daemon_pid(cfg->pid_file) : 0;
    if (pid > 0 && !o->force) {
        fprintf(stderr,
                "ticketctl: ticket-milter is running (pid %ld in %s): stop it before "
                "restoring %s, or add --force if that pid is not ticket-milter\n",
                (long)pid, cfg->pid_file, db_path);
        return EXIT_IN_USE;
    }
    /* The lock is a fact, not a guess like a pid file: no --force past it. */
    pid = admin_database_holder(db_path);
    if (pid != 0) {
        fprintf(stderr,
                "ticketctl: %s is in use by process %ld (ticket-milter or a reader): "
                "stop it before restoring\n",
                db_path, (long)pid);
        return EXIT_IN_USE;
    }
    if (!admin_restore(file, db_path, now, &saved, &error)) {
        int status = g_error_matches(error, STORE_ERROR, STORE_ERROR_CORRUPT) ||
                             g_error_matches(error, STORE_ERROR, STORE_ERROR_VERSION)
                         ? EXIT_NOT_FOUND
                         : EXIT_DATABASE;
        cli_fail(error, status);
        /* Whatever went wrong, the admin must know where the old data is. */
        if (saved != NULL)
            fprintf(stderr,
                    "ticketctl: the database as it was before this restore is saved "
                    "as %s\n",
                    saved);
        return status;
    }
    if (o->json) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        ticket_json_string(b, "database", db_path);
        ticket_json_string(b, "from", file);
        ticket_json_string(b, "replaced_kept_as", saved);
        json_builder_end_object(b);
        print_json(b);
        return 0;
    }
    printf("restored %s from %s", db_path, file);
    if (saved != NULL)
        printf("; the database it replaced is kept as %s", saved);
    printf("\n");
    return 0;
}
