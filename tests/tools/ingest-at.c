/*
 * ingest-at - takes mail into a ticket database as the daemon would, at a
 * time the caller names: the reports' tests and the sample report build
 * their history with it, and "ticketctl tick --now" fires the timers in
 * between, so that every goal is met or missed at a known second.
 *
 *   ingest-at -c CONF --now ISO8601 [--staff] FILE...
 *
 * Each FILE is one raw message, parsed and decided by the same code the
 * milter runs (milter/ingest.c) in a transaction of its own.  --staff
 * takes the mail as coming from a trusted network, so that staff commands
 * count; the envelope sender is the From address, the client 192.0.2.1
 * (127.0.0.1 with --staff).  Notices are queued in the outbox as the
 * daemon queues them; nothing is sent.  Prints the ticket each message is
 * on.  Exit status 0, or 1 with a sentence on standard error.
 */
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "config/config.h"
#include "config/secret.h"
#include "milter/ingest.h"
#include "parser/mail.h"
#include "store/store.h"
#include "util/timefmt.h"

static bool
ingest_file(struct store *st, const struct config *cfg, const struct keys *keys, const char *file,
            bool is_staff, GDateTime *now, GError **error)
{
    g_autofree char *raw = NULL;
    gsize len = 0;
    struct mail *mail;
    struct ingest_job job = { 0 };
    bool ok;

    if (!g_file_get_contents(file, &raw, &len, error))
        return false;
    mail = parser_mail_parse(raw, len, error);
    if (mail == NULL)
        return false;
    job = (struct ingest_job){
        .cfg = cfg,
        .keys = keys,
        .mail = mail,
        .raw = raw,
        .raw_len = len,
        .envelope_from = mail->from != NULL ? mail->from->addr : "",
        .client_addr = is_staff ? "127.0.0.1" : "192.0.2.1",
        .from_trusted_network = is_staff,
        .now = now,
    };
    ok = store_begin(st, error) && ingest_job_run(st, &job, error) && store_commit(st, error);
    if (!ok)
        store_rollback(st);
    else
        printf("%s %s\n", file, job.tag != NULL ? job.tag : "-");
    ingest_job_clear(&job);
    parser_mail_free(mail);
    return ok;
}

int
main(int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GDateTime) now = NULL;
    g_autofree char *secret = NULL;
    const char *conf = NULL;
    bool is_staff = false;
    struct config *cfg;
    struct keys *keys;
    struct store *st;
    int i, rc = 0;

    for (i = 1; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
            conf = argv[++i];
        else if (strcmp(argv[i], "--now") == 0 && i + 1 < argc)
            now = timefmt_parse(argv[++i]);
        else if (strcmp(argv[i], "--staff") == 0)
            is_staff = true;
        else
            break;
    }
    if (conf == NULL || now == NULL || i == argc) {
        fprintf(stderr, "usage: ingest-at -c CONF --now ISO8601 [--staff] FILE...\n");
        return 2;
    }
    parser_init();
    cfg = config_load(conf, &error);
    if (cfg == NULL) {
        fprintf(stderr, "ingest-at: %s\n", error->message);
        return 1;
    }
    secret = config_secret_load(cfg->secret_file, true, NULL, &error);
    st = secret != NULL ? store_open(cfg->database, STORE_READ_WRITE, 5000, &error) : NULL;
    if (st == NULL) {
        fprintf(stderr, "ingest-at: %s\n", error->message);
        config_unref(cfg);
        return 1;
    }
    keys = keys_new(secret);
    for (; i < argc && rc == 0; i++) {
        if (!ingest_file(st, cfg, keys, argv[i], is_staff, now, &error)) {
            fprintf(stderr, "ingest-at: %s: %s\n", argv[i], error->message);
            rc = 1;
        }
    }
    keys_free(keys);
    store_close(st);
    config_unref(cfg);
    return rc;
}
