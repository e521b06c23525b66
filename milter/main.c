/*
 * main - ticket-milter, the daemon.
 *
 *   ticket-milter [-c FILE] [-f] [-d] [-p PIDFILE]
 *   ticket-milter -t [-c FILE]
 *
 * Start-up order matters: the config is checked, the database opened and
 * migrated, and the milter socket bound before we detach, so that every
 * reason not to run is printed to the admin's terminal with a non-zero exit
 * status, and a daemon that runs is one that works.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib.h>
#include <libmilter/mfapi.h>

#include "config/config.h"
#include "milter/ingest.h"
#include "milter/milter.h"
#include "outbound/dispatch.h"
#include "outbound/scheduler.h"
#include "parser/mail.h"
#include "store/store.h"
#include "util/log.h"

#define DEFAULT_CONFIG SYSCONFDIR "/ticket-milter.conf"
#define VERSION "0.1.0"

static void
usage(void)
{
    fprintf(stderr, "usage: ticket-milter [-c FILE] [-f] [-d] [-p PIDFILE]\n"
                    "       ticket-milter -t [-c FILE]\n"
                    "  -c FILE     configuration file (default " DEFAULT_CONFIG ")\n"
                    "  -f          stay in the foreground and copy log lines to stderr\n"
                    "  -d          log debugging detail\n"
                    "  -p PIDFILE  write the daemon's process id to PIDFILE\n"
                    "  -t          check the configuration and exit\n"
                    "  -V          print the version and exit\n");
}

static bool
write_pidfile(const char *path)
{
    g_autofree char *text = g_strdup_printf("%ld\n", (long)getpid());
    g_autoptr(GError) error = NULL;

    if (!g_file_set_contents(path, text, -1, &error)) {
        log_error("cannot write pid file: %s", error->message);
        return false;
    }
    return true;
}

int
main(int argc, char **argv)
{
    const char *config_path = DEFAULT_CONFIG;
    const char *pidfile = NULL;
    bool foreground = false, check_only = false, debug = false;
    g_autoptr(GError) error = NULL;
    struct config *cfg;
    struct store *st;
    struct store_writer *writer;
    struct dispatcher *dispatcher;
    struct scheduler *scheduler;
    int opt, rc;

    while ((opt = getopt(argc, argv, "c:dfp:tVh")) != -1) {
        switch (opt) {
        case 'c':
            config_path = optarg;
            break;
        case 'd':
            debug = true;
            break;
        case 'f':
            foreground = true;
            break;
        case 'p':
            pidfile = optarg;
            break;
        case 't':
            check_only = true;
            break;
        case 'V':
            printf("ticket-milter %s\n", VERSION);
            return 0;
        default:
            usage();
            return EX_USAGE;
        }
    }
    if (optind != argc) {
        usage();
        return EX_USAGE;
    }

    cfg = config_load(config_path, &error);
    if (cfg == NULL) {
        fprintf(stderr, "ticket-milter: %s\n", error->message);
        return EX_CONFIG;
    }
    if (check_only) {
        printf("ticket-milter: %s: configuration OK\n", config_path);
        config_unref(cfg);
        return 0;
    }

    log_init("ticket-milter", foreground);
    log_set_debug(debug);
    parser_init();
    dispatch_global_init();

    /* Opening (and migrating) now means a database we cannot use stops us
     * here, with the reason on the terminal, not at the first message. */
    st = store_open(cfg->database, STORE_READ_WRITE, cfg->busy_timeout, &error);
    if (st == NULL) {
        fprintf(stderr, "ticket-milter: %s\n", error->message);
        return EX_UNAVAILABLE;
    }

    if (smfi_register(milter_desc) != MI_SUCCESS || smfi_setconn(cfg->socket) != MI_SUCCESS ||
        smfi_setbacklog(128) != MI_SUCCESS) {
        fprintf(stderr, "ticket-milter: cannot register with libmilter (socket %s)\n",
                cfg->socket);
        return EX_SOFTWARE;
    }
    if (smfi_opensocket(true) != MI_SUCCESS) {
        fprintf(stderr, "ticket-milter: cannot listen on %s: %s\n", cfg->socket,
                g_strerror(errno));
        return EX_UNAVAILABLE;
    }

    if (!foreground) {
        /* SQLite connections must not cross a fork: reopen in the child. */
        st = store_close(st);
        if (daemon(0, 0) != 0) {
            fprintf(stderr, "ticket-milter: cannot detach: %s\n", g_strerror(errno));
            return EX_OSERR;
        }
        st = store_open(cfg->database, STORE_READ_WRITE, cfg->busy_timeout, &error);
        if (st == NULL) {
            log_error("cannot open database: %s", error->message);
            return EX_UNAVAILABLE;
        }
    }
    if (pidfile != NULL && !write_pidfile(pidfile))
        return EX_CANTCREAT;

    g_autofree char *secret =
        cfg->secret != NULL ? g_strdup(cfg->secret) : store_signing_secret(st, &error);
    if (secret == NULL) {
        log_error("cannot read or keep the signing secret: %s", error->message);
        return EX_UNAVAILABLE;
    }
    writer = store_writer_new(st);
    dispatcher = dispatch_start(cfg, writer, &error);
    if (dispatcher == NULL) {
        log_error("cannot start the outbox dispatcher: %s", error->message);
        return EX_UNAVAILABLE;
    }
    /* Timers that fell due while we were stopped fire now, in order. */
    scheduler = scheduler_start(cfg, writer, dispatcher, secret, &error);
    if (scheduler == NULL) {
        log_error("cannot start the scheduler: %s", error->message);
        return EX_UNAVAILABLE;
    }
    milter_setup(cfg, writer, dispatcher, scheduler, secret);
    log_info("starting ticket-milter %s socket=%s database=%s", VERSION, cfg->socket,
             cfg->database);

    rc = smfi_main();

    /* libmilter has stopped taking connections; let the messages that are
     * in their commit finish before the writer goes. */
    if (!milter_drain(30000))
        log_warning("stopping with messages still waiting for their commit");
    scheduler = scheduler_stop(scheduler);
    dispatcher = dispatch_stop(dispatcher);
    writer = store_writer_free(writer);
    log_info("stopped");
    if (pidfile != NULL)
        unlink(pidfile);
    config_unref(cfg);
    return rc == MI_SUCCESS ? 0 : EX_SOFTWARE;
}
