/*
 * main - ticket-milter, the daemon.
 *
 *   ticket-milter [-c FILE] [-f] [-d] [-p PIDFILE]
 *   ticket-milter -t [-c FILE]
 *
 * Start-up order matters: the config is checked, the milter socket bound
 * (as root, when started so), the privileges dropped to [milter] user, the
 * pid file taken and the database opened and migrated as that user, all
 * before we detach, so that every reason not to run is printed to the
 * admin's terminal with a non-zero exit status, and a daemon that runs is
 * one that works.  The database is opened after the drop so that a file it
 * creates belongs to the user who will write to it.
 *
 * Signals: every thread blocks them; the main thread waits for them with
 * sigwait() while libmilter's smfi_main() runs in a thread of its own.
 * Linux hands a signal sent to the process to its main thread first when
 * that thread is waiting for it, so SIGTERM and SIGINT reach us, not
 * libmilter's own signal thread (which would abort the sessions on SIGINT).
 * SIGHUP reloads, as SIGUSR1 does, for the same reason.  libmilter's
 * thread waits for SIGHUP too (to stop the milter): a second SIGHUP that
 * comes while a reload runs, when the main thread is not waiting, can
 * reach it.  A milter that stops without being asked is therefore a
 * failure (exit status 70), which systemd's Restart=on-failure undoes;
 * the unit's ExecReload sends SIGUSR1, which libmilter never takes.
 *
 * Under systemd (Type=notify) the daemon stays in the foreground and says
 * READY=1 once the socket listens and every thread runs, RELOADING=1 and
 * READY=1 around a reload and STOPPING=1 at a stop; elsewhere those calls
 * do nothing.
 *
 * Memory: a message kept for its ticket is one buffer of up to
 * max_message_size, and glibc's malloc, left to itself, raises the size
 * from which it maps such a buffer on its own after the first is freed,
 * so that the next ones come from the heap, where a freed one stays
 * resident.  The threshold is fixed at MMAP_THRESHOLD instead: a big
 * buffer is mapped, and returned to the system when freed (30 messages of
 * 5 MB at once: peak 160 MB instead of 300, 46 MB instead of 190 after).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sysexits.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib.h>
#include <libmilter/mfapi.h>
#include <systemd/sd-daemon.h>

#include "config/config.h"
#include "config/secret.h"
#include "milter/ingest.h"
#include "milter/milter.h"
#include "milter/stats.h"
#include "outbound/dispatch.h"
#include "outbound/scheduler.h"
#include "parser/mail.h"
#include "store/meta.h"
#include "store/store.h"
#include "store/writer.h"
#include "util/log.h"
#include "util/version.h"

#define DEFAULT_CONFIG SYSCONFDIR "/ticket-milter.conf"
#define VERSION TM_VERSION
/* How long a stop waits for messages in their commit. */
#define DRAIN_MS 30000
/* Sessions libmilter accepted before it stopped listening go on to their
 * end of message; Postfix sends headers, body and end of message in one
 * burst, so this is ample for them to reach the writer. */
#define SETTLE_MS 1000
/* Buffers from this size on are mapped, not taken from the heap. */
#define MMAP_THRESHOLD (256 * 1024)

static void
usage(void)
{
    fprintf(stderr, "usage: ticket-milter [-c FILE] [-f] [-d] [-p PIDFILE]\n"
                    "       ticket-milter -t [-c FILE]\n"
                    "  -c FILE     configuration file (default " DEFAULT_CONFIG ")\n"
                    "  -f          stay in the foreground and copy log lines to stderr\n"
                    "  -d          log debugging detail\n"
                    "  -p PIDFILE  write the daemon's process id to PIDFILE ([milter] pid_file)\n"
                    "  -t          check the configuration and exit\n"
                    "  -V          print the version and exit\n");
}

/* Everything main() needs to hand to the signal loop and the stop. */
struct daemon_state {
    char *config_path;
    struct config *cfg;
    struct dispatcher *dispatcher;
    struct scheduler *scheduler;
    pthread_t main_thread;
    int milter_rc;
    bool stop_requested; /* SIGTERM or SIGINT came: the end of smfi_main() was ours */
};

/* The path of a unix: (or local:) socket spec; NULL for inet sockets. */
static const char *
unix_socket_path(const char *spec)
{
    if (g_str_has_prefix(spec, "unix:"))
        return spec + 5;
    if (g_str_has_prefix(spec, "local:"))
        return spec + 6;
    return NULL;
}

/* A socket file left by a daemon that did not stop cleanly would make the
 * bind fail.  It is removed only when it is a socket nobody answers on: a
 * running daemon's socket, or a file that is not a socket, stays. */
static bool
remove_stale_socket(const char *path)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    struct stat sb;
    int fd, rc, saved;

    if (lstat(path, &sb) != 0) {
        if (errno == ENOENT)
            return true;
        fprintf(stderr, "ticket-milter: %s: %s\n", path, g_strerror(errno));
        return false;
    }
    if (!S_ISSOCK(sb.st_mode)) {
        fprintf(stderr, "ticket-milter: %s exists and is not a socket; not removing it\n", path);
        return false;
    }
    if (strlen(path) >= sizeof(sun.sun_path)) {
        fprintf(stderr, "ticket-milter: %s: socket path too long\n", path);
        return false;
    }
    g_strlcpy(sun.sun_path, path, sizeof(sun.sun_path));
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        fprintf(stderr, "ticket-milter: socket: %s\n", g_strerror(errno));
        return false;
    }
    rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
    saved = errno;
    close(fd);
    if (rc == 0) {
        fprintf(stderr,
                "ticket-milter: %s: another process is listening on it; is ticket-milter "
                "running already?\n",
                path);
        return false;
    }
    if (saved != ECONNREFUSED) {
        fprintf(stderr, "ticket-milter: %s: cannot tell whether it is in use: %s\n", path,
                g_strerror(saved));
        return false;
    }
    if (unlink(path) != 0 && errno != ENOENT) {
        fprintf(stderr, "ticket-milter: cannot remove the stale socket %s: %s\n", path,
                g_strerror(errno));
        return false;
    }
    log_info("removed a stale socket path=%s", path);
    return true;
}

/* Applies [milter] socket_owner ("user", "user:group" or ":group") and
 * socket_mode to the socket file PATH. */
static bool
set_socket_access(const struct config *cfg, const char *path)
{
    uid_t uid = (uid_t)-1;
    gid_t gid = (gid_t)-1;

    if (cfg->socket_owner != NULL) {
        g_auto(GStrv) parts = g_strsplit(cfg->socket_owner, ":", 2);
        if (parts[0] != NULL && *parts[0] != '\0') {
            struct passwd *pw = getpwnam(parts[0]);
            if (pw == NULL) {
                fprintf(stderr, "ticket-milter: socket_owner: no such user: %s\n", parts[0]);
                return false;
            }
            uid = pw->pw_uid;
        }
        if (parts[0] != NULL && parts[1] != NULL && *parts[1] != '\0') {
            struct group *gr = getgrnam(parts[1]);
            if (gr == NULL) {
                fprintf(stderr, "ticket-milter: socket_owner: no such group: %s\n", parts[1]);
                return false;
            }
            gid = gr->gr_gid;
        }
        if (chown(path, uid, gid) != 0) {
            fprintf(stderr, "ticket-milter: cannot give %s to %s: %s\n", path, cfg->socket_owner,
                    g_strerror(errno));
            return false;
        }
    }
    if (chmod(path, cfg->socket_mode) != 0) {
        fprintf(stderr, "ticket-milter: cannot set mode %s on %s: %s\n", cfg->socket_mode_text,
                path, g_strerror(errno));
        return false;
    }
    return true;
}

/* The port of an inet: or inet6: socket spec ("inet:8894@127.0.0.1");
 * 0 for other forms. */
static int
inet_socket_port(const char *spec)
{
    const char *p;

    if (g_str_has_prefix(spec, "inet:"))
        p = spec + 5;
    else if (g_str_has_prefix(spec, "inet6:"))
        p = spec + 6;
    else
        return 0;
    return (int)g_ascii_strtoll(p, NULL, 10);
}

/*
 * libmilter writes a message's header edits and its reply as separate
 * small packets and does not set TCP_NODELAY; with Nagle's algorithm the
 * reply then waits for Postfix to acknowledge the edits, and Postfix,
 * which has nothing to send, acknowledges only when its delayed-ACK timer
 * runs out: some 40 ms on every message that gets a ticket tag.  libmilter
 * does not hand us the descriptors it accepts, but Linux (like the BSDs)
 * gives an accepted connection the listening socket's TCP_NODELAY, so the
 * option goes on the listening socket libmilter has just opened: the one
 * TCP socket in this process that listens on PORT.  bench/latency.sh
 * shows the difference on the inet socket.
 */
static bool
set_listener_nodelay(int port)
{
    int found = 0;

    for (int fd = 0; fd < 1024; fd++) {
        struct sockaddr_storage ss = { 0 };
        socklen_t len = sizeof(ss);
        int listening = 0, on = 1;
        socklen_t olen = sizeof(listening);
        int sport;

        if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &olen) != 0 || !listening ||
            getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
            continue;
        if (ss.ss_family == AF_INET)
            sport = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        else if (ss.ss_family == AF_INET6)
            sport = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
        else
            continue;
        if (sport != port)
            continue;
        if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) != 0) {
            fprintf(stderr, "ticket-milter: cannot set TCP_NODELAY on the milter socket: %s\n",
                    g_strerror(errno));
            return false;
        }
        found++;
    }
    if (found == 0) {
        fprintf(stderr,
                "ticket-milter: cannot find the listening socket libmilter opened on port "
                "%d to set TCP_NODELAY\n",
                port);
        return false;
    }
    return true;
}

static bool
bind_socket(const struct config *cfg)
{
    const char *path = unix_socket_path(cfg->socket);
    mode_t old_umask;
    int rc;

    if (smfi_register(milter_desc) != MI_SUCCESS || smfi_setconn(cfg->socket) != MI_SUCCESS ||
        smfi_setbacklog(128) != MI_SUCCESS) {
        fprintf(stderr, "ticket-milter: cannot register with libmilter (socket %s)\n", cfg->socket);
        return false;
    }
    if (path != NULL && !remove_stale_socket(path))
        return false;
    /* Until the chmod below, nobody but us may connect. */
    old_umask = umask(0177);
    rc = smfi_opensocket(false);
    umask(old_umask);
    if (rc != MI_SUCCESS) {
        fprintf(stderr, "ticket-milter: cannot listen on %s: %s\n", cfg->socket, g_strerror(errno));
        return false;
    }
    if (path != NULL && !set_socket_access(cfg, path)) {
        unlink(path);
        return false;
    }
    if (inet_socket_port(cfg->socket) > 0 && !set_listener_nodelay(inet_socket_port(cfg->socket)))
        return false;
    return true;
}

/* Who we become after binding: looked up before the bind, so that a user
 * that does not exist stops us before we touch the socket.  False with the
 * reason on stderr; *PW NULL when we stay who we are. */
static bool
lookup_user(const struct config *cfg, struct passwd **pw)
{
    *pw = NULL;
    if (geteuid() != 0) {
        struct passwd *me = cfg->user != NULL ? getpwnam(cfg->user) : NULL;
        if (cfg->user != NULL && (me == NULL || me->pw_uid != geteuid()))
            log_notice("not started as root: running as uid %ld, not as user %s", (long)geteuid(),
                       cfg->user);
        return true;
    }
    if (cfg->user == NULL) {
        log_warning("running as root: set [milter] user to the account the daemon should use");
        return true;
    }
    *pw = getpwnam(cfg->user);
    if (*pw == NULL) {
        fprintf(stderr, "ticket-milter: [milter] user: no such user: %s\n", cfg->user);
        return false;
    }
    return true;
}

/* Started as root, we bind and then become [milter] user for good; a drop
 * that does not take is fatal rather than a daemon that parses mail as root. */
static bool
drop_privileges(const char *name, uid_t uid, gid_t gid)
{
    if (initgroups(name, gid) != 0 || setgid(gid) != 0 || setuid(uid) != 0) {
        fprintf(stderr, "ticket-milter: cannot become user %s: %s\n", name, g_strerror(errno));
        return false;
    }
    if (uid != 0 && (getuid() != uid || geteuid() != uid || getegid() != gid || setuid(0) == 0)) {
        fprintf(stderr, "ticket-milter: the switch to user %s did not take; not running as root\n",
                name);
        return false;
    }
    return true;
}

/* Start-up failed after the bind: the socket is ours and nobody will ever
 * answer on it. */
static void
unbind_socket(const struct config *cfg)
{
    const char *path = unix_socket_path(cfg->socket);

    if (path != NULL)
        unlink(path);
}

/* Creates and locks the pid file before we detach, so that "cannot write"
 * and "already running" reach the terminal; the pid goes in after the fork. */
static int
pidfile_open(const char *path)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);

    if (fd < 0) {
        fprintf(stderr, "ticket-milter: cannot create the pid file %s: %s\n", path,
                g_strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        char buf[32] = "";
        ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
        buf[n > 0 ? n : 0] = '\0';
        g_strchomp(buf);
        fprintf(stderr, "ticket-milter: %s is locked: ticket-milter runs already (pid %s)\n", path,
                *buf != '\0' ? buf : "unknown");
        close(fd);
        return -1;
    }
    return fd;
}

static bool
pidfile_write(int fd)
{
    g_autofree char *text = g_strdup_printf("%ld\n", (long)getpid());
    gsize len = strlen(text);

    return ftruncate(fd, 0) == 0 && pwrite(fd, text, len, 0) == (ssize_t)len;
}

/* Under systemd, standard error is the journal, which has our syslog lines
 * already: -f copying them there too would show each line twice.  systemd
 * names the journal's stream in JOURNAL_STREAM ("device:inode"). */
static bool
stderr_is_journal(void)
{
    const char *stream = g_getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    struct stat sb;

    if (stream == NULL || sscanf(stream, "%llu:%llu", &dev, &ino) != 2 ||
        fstat(STDERR_FILENO, &sb) != 0)
        return false;
    return (unsigned long long)sb.st_dev == dev && (unsigned long long)sb.st_ino == ino;
}

static gpointer
milter_thread(gpointer data)
{
    struct daemon_state *ds = data;

    ds->milter_rc = smfi_main();
    /* Whatever ended it (a stop, SIGHUP, a broken socket), the main
     * thread is in sigwait() and must hear of it. */
    pthread_kill(ds->main_thread, SIGUSR2);
    return NULL;
}

static bool
same_text(const char *a, const char *b)
{
    return g_strcmp0(a, b) == 0;
}

/* The secret file, made on first start.  An older database kept the
 * secret in its meta table: that one moves to the file, so that reply
 * addresses already sent keep working, and leaves the database. */
static char *
load_secret(const struct config *cfg, struct store *st, GError **error)
{
    g_autofree char *legacy = NULL;
    char *secret;

    if (!g_file_test(cfg->secret_file, G_FILE_TEST_EXISTS) &&
        !store_meta_get(st, "secret", &legacy, error))
        return NULL;
    secret = config_secret_load(cfg->secret_file, true, legacy, error);
    if (secret != NULL && legacy != NULL) {
        if (!store_begin(st, error) || !store_meta_delete(st, "secret", error) ||
            !store_commit(st, error)) {
            store_rollback(st);
            g_free(secret);
            return NULL;
        }
        log_info("the signing secret moved from the database to %s", cfg->secret_file);
    }
    if (legacy != NULL)
        memset(legacy, 0, strlen(legacy));
    return secret;
}

/* SIGUSR1 or SIGHUP: messages that have begun keep the config they began
 * with (they hold a reference); new ones get the new one.  A config that
 * does not check out changes nothing. */
static void
reload(struct daemon_state *ds)
{
    g_autoptr(GError) error = NULL;
    struct config *cfg = config_load(ds->config_path, &error);
    const struct config *old = ds->cfg;

    if (cfg == NULL) {
        log_error("reload refused, the running configuration stays: %s", error->message);
        sd_notifyf(0, "READY=1\nSTATUS=reload refused, the running configuration stays: %s",
                   error->message);
        return;
    }
    /* These were used once, at start-up. */
    if (!same_text(cfg->socket, old->socket) || !same_text(cfg->database, old->database) ||
        !same_text(cfg->user, old->user) || !same_text(cfg->socket_owner, old->socket_owner) ||
        cfg->socket_mode != old->socket_mode || !same_text(cfg->pid_file, old->pid_file) ||
        !same_text(cfg->secret_file, old->secret_file))
        log_warning("reload: socket, database, user, socket_owner, socket_mode, pid_file and "
                    "secret_file changes take effect at the next start");
    milter_set_config(cfg);
    scheduler_set_config(ds->scheduler, cfg);
    dispatch_set_config(ds->dispatcher, cfg);
    stats_set_config(cfg);
    config_unref(ds->cfg);
    ds->cfg = cfg;
    log_info("configuration reloaded path=%s customers=%u", ds->config_path, cfg->customers->len);
    sd_notify(0, "READY=1\nSTATUS=taking mail; configuration reloaded");
}

/* Waits for signals until the milter thread has ended. */
static void
signal_loop(struct daemon_state *ds, const sigset_t *set)
{
    for (;;) {
        int sig = 0;

        if (sigwait(set, &sig) != 0)
            continue;
        switch (sig) {
        case SIGUSR1:
        case SIGHUP:
            sd_notify(0, "RELOADING=1");
            reload(ds);
            break;
        case SIGTERM:
        case SIGINT:
            if (!ds->stop_requested) {
                log_info("stopping on %s: finishing the messages in progress",
                         sig == SIGTERM ? "SIGTERM" : "SIGINT");
                sd_notify(0, "STOPPING=1\nSTATUS=stopping: finishing the messages in progress");
            }
            ds->stop_requested = true;
            smfi_stop();
            break;
        case SIGUSR2:
            return;
        }
    }
}

struct options {
    const char *config_path;
    char *pidfile; /* -p, else the config's */
    bool foreground, check_only, debug;
};

/* Reads the command line into O: -1 to go on, else the exit status. */
static int
parse_options(int argc, char **argv, struct options *o)
{
    int opt;

    while ((opt = getopt(argc, argv, "c:dfp:tVh")) != -1) {
        switch (opt) {
        case 'c':
            o->config_path = optarg;
            break;
        case 'd':
            o->debug = true;
            break;
        case 'f':
            o->foreground = true;
            break;
        case 'p':
            g_free(o->pidfile);
            o->pidfile = g_strdup(optarg);
            break;
        case 't':
            o->check_only = true;
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
    return -1;
}

/* Blocked before any thread exists, so that every thread inherits it and
 * only sigwait() sees these. */
static void
block_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGUSR1);
    sigaddset(set, SIGUSR2);
    sigaddset(set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, set, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* What root is needed for: the socket bound, then the user taken, then
 * the pid file opened as that user.  0, or the exit status. */
static int
take_socket_and_user(const struct config *cfg, const char *pidfile, int *pid_fd)
{
    struct passwd *pw;
    g_autofree char *user_name = NULL;
    uid_t user_uid = 0;
    gid_t user_gid = 0;

    if (!lookup_user(cfg, &pw))
        return EX_NOUSER;
    /* Copied: getpwnam()'s buffer is reused by the next look-up. */
    if (pw != NULL) {
        user_name = g_strdup(pw->pw_name);
        user_uid = pw->pw_uid;
        user_gid = pw->pw_gid;
    }
    /* Not unbound on failure: the file may be another daemon's. */
    if (!bind_socket(cfg))
        return EX_UNAVAILABLE;
    if (user_name != NULL && !drop_privileges(user_name, user_uid, user_gid)) {
        unbind_socket(cfg);
        return EX_OSERR;
    }
    if (pidfile != NULL && (*pid_fd = pidfile_open(pidfile)) < 0) {
        unbind_socket(cfg);
        return EX_CANTCREAT;
    }
    return 0;
}

/* The database opened (and migrated) and the keys made from its secret,
 * before the daemon detaches: a database we cannot use stops us here,
 * with the reason on the terminal, not at the first message.  0, or the
 * exit status. */
static int
open_database(const struct config *cfg, bool foreground, struct store **st, struct keys **keys)
{
    g_autoptr(GError) error = NULL;

    *st = store_open(cfg->database, STORE_READ_WRITE, cfg->busy_timeout, &error);
    if (*st == NULL) {
        fprintf(stderr, "ticket-milter: %s\n", error->message);
        unbind_socket(cfg);
        return EX_UNAVAILABLE;
    }
    g_autofree char *secret = load_secret(cfg, *st, &error);
    if (secret == NULL) {
        fprintf(stderr, "ticket-milter: %s\n", error->message);
        unbind_socket(cfg);
        return EX_CONFIG;
    }
    *keys = keys_new(secret);
    memset(secret, 0, strlen(secret));
    if (foreground)
        return 0;
    /* SQLite connections must not cross a fork: reopen in the child. */
    *st = store_close(*st);
    /* The working directory stays: relative paths in the config (and in a
     * reloaded one) keep meaning what they meant at the start. */
    if (daemon(1, 0) != 0) {
        fprintf(stderr, "ticket-milter: cannot detach: %s\n", g_strerror(errno));
        return EX_OSERR;
    }
    *st = store_open(cfg->database, STORE_READ_WRITE, cfg->busy_timeout, &error);
    if (*st == NULL) {
        log_error("cannot open database: %s", error->message);
        return EX_UNAVAILABLE;
    }
    return 0;
}

/* The writer, the dispatcher, the scheduler and the milter's view of them.
 * 0, or the exit status. */
static int
start_services(struct daemon_state *ds, struct config *cfg, struct store *st, struct keys *keys,
               struct store_writer **writer)
{
    g_autoptr(GError) error = NULL;

    *writer = store_writer_new(st);
    ds->dispatcher = dispatch_start(cfg, *writer, &error);
    if (ds->dispatcher == NULL) {
        log_error("cannot start the outbox dispatcher: %s", error->message);
        return EX_UNAVAILABLE;
    }
    /* Timers that fell due while we were stopped fire now, in order. */
    ds->scheduler = scheduler_start(cfg, *writer, ds->dispatcher, keys, &error);
    if (ds->scheduler == NULL) {
        log_error("cannot start the scheduler: %s", error->message);
        return EX_UNAVAILABLE;
    }
    milter_setup(cfg, *writer, ds->dispatcher, ds->scheduler, keys);
    stats_start(cfg);
    ds->cfg = cfg;
    ds->main_thread = pthread_self();
    return 0;
}

/* libmilter has stopped taking connections.  Sessions it took before may
 * still reach their end of message: they get their commit.  Then the door
 * closes (a late one gets 451 and comes again) and the last commits finish
 * before the writer goes. */
static void
stop_services(struct daemon_state *ds, struct store_writer *writer)
{
    g_usleep(SETTLE_MS * 1000);
    if (!milter_drain(DRAIN_MS, false) || !milter_drain(DRAIN_MS, true)) {
        /* A session still inside its commit would use the writer, the
         * dispatcher and the scheduler after we freed them. Postfix gets no
         * answer for it and tries again; the database is consistent. */
        log_error("stopping with a message still in its commit after %d s: exiting at once",
                  2 * DRAIN_MS / 1000);
        _exit(EX_SOFTWARE);
    }
    ds->scheduler = scheduler_stop(ds->scheduler);
    ds->dispatcher = dispatch_stop(ds->dispatcher);
    store_writer_free(writer);
    /* Last, so that the final figures include everything above. */
    stats_stop();
}

int
main(int argc, char **argv)
{
    struct options o = { .config_path = DEFAULT_CONFIG };
    g_autofree char *pidfile = NULL;
    g_autoptr(GError) error = NULL;
    struct daemon_state ds = { 0 };
    struct config *cfg;
    struct store *st = NULL;
    struct store_writer *writer = NULL;
    struct keys *keys = NULL;
    GThread *milter;
    sigset_t signals;
    int rc, pid_fd = -1;

#ifdef __GLIBC__
    mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD);
#endif
    rc = parse_options(argc, argv, &o);
    pidfile = o.pidfile;
    if (rc >= 0)
        return rc;
    cfg = config_load(o.config_path, &error);
    if (cfg == NULL) {
        fprintf(stderr, "ticket-milter: %s\n", error->message);
        return EX_CONFIG;
    }
    g_autoptr(GPtrArray) warnings = config_warnings(cfg);
    if (o.check_only) {
        for (guint i = 0; i < warnings->len; i++)
            printf("ticket-milter: %s: warning: %s\n", o.config_path,
                   (const char *)g_ptr_array_index(warnings, i));
        printf("ticket-milter: %s: configuration OK\n", o.config_path);
        config_unref(cfg);
        return 0;
    }
    /* The database, its journal and the secret hold customers' mail and
     * keys: not for every local user to read. */
    umask(027);
    /* A reload after daemon() has moved us to / reads the same file. */
    ds.config_path = g_canonicalize_filename(o.config_path, NULL);
    /* A copy: a reload frees the config it came from. */
    if (pidfile == NULL)
        pidfile = g_strdup(cfg->pid_file);

    block_signals(&signals);
    log_init("ticket-milter", o.foreground && !stderr_is_journal());
    log_set_debug(o.debug);
    parser_init();
    dispatch_global_init();

    if ((rc = take_socket_and_user(cfg, pidfile, &pid_fd)) != 0)
        return rc;
    /* Reloads may name another socket; the one we bound is this. */
    g_autofree char *bound_socket = g_strdup(cfg->socket);
    if ((rc = open_database(cfg, o.foreground, &st, &keys)) != 0)
        return rc;
    if (pid_fd >= 0 && !pidfile_write(pid_fd)) {
        log_error("cannot write the pid file %s: %s", pidfile, g_strerror(errno));
        return EX_CANTCREAT;
    }
    if ((rc = start_services(&ds, cfg, st, keys, &writer)) != 0)
        return rc;
    log_info("starting ticket-milter %s socket=%s database=%s uid=%ld", VERSION, cfg->socket,
             cfg->database, (long)geteuid());
    for (guint i = 0; i < warnings->len; i++)
        log_warning("config: %s", (const char *)g_ptr_array_index(warnings, i));

    milter = g_thread_new("milter", milter_thread, &ds);
    /* The socket has listened since bind_socket(): a connection made now
     * waits in its backlog for the thread just started. */
    sd_notifyf(0, "READY=1\nSTATUS=taking mail on %s", bound_socket);
    signal_loop(&ds, &signals);
    g_thread_join(milter);
    if (!ds.stop_requested)
        log_error("the milter stopped without being asked to (libmilter took a SIGHUP, or its "
                  "socket failed): exiting with status %d so that a supervisor starts it again",
                  EX_SOFTWARE);
    stop_services(&ds, writer);
    /* libmilter removes a unix socket only when not running as root. */
    if (unix_socket_path(bound_socket) != NULL)
        unlink(unix_socket_path(bound_socket));
    log_info("stopped");
    if (pid_fd >= 0) {
        /* In a directory the user cannot write this fails; the lock, gone
         * with us, is what tells the next start that the file is stale. */
        unlink(pidfile);
        close(pid_fd);
    }
    ds.cfg = config_unref(ds.cfg);
    g_free(ds.config_path);
    keys_free(keys);
    return ds.milter_rc == MI_SUCCESS && ds.stop_requested ? 0 : EX_SOFTWARE;
}
