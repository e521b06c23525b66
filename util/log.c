/*
 * log - syslog facility mail, optionally mirrored to stderr.
 *
 * syslog() is thread-safe in glibc; the stderr copy is one fprintf per line,
 * which stdio locks, so lines from milter threads never interleave.
 */
#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>

#include <glib.h>

#include "util/log.h"

static bool log_to_stderr;
static bool log_debug_on;
/* The stderr copy's time zone, looked up once: GLib looks the local zone
 * up on the file system each time it is asked for it. */
static GTimeZone *log_zone;

void
log_init(const char *ident, bool to_stderr)
{
    log_to_stderr = to_stderr;
    if (to_stderr && log_zone == NULL)
        log_zone = g_time_zone_new_local();
    openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

void
log_set_debug(bool on)
{
    log_debug_on = on;
}

/* The stderr copy's time stamp, to the second. Formatting it was a
 * measurable share of a busy daemon's CPU, so each thread keeps the one of
 * the current second. */
static const char *
stderr_stamp(void)
{
    static __thread gint64 second = -1;
    static __thread char stamp[32];
    gint64 now = g_get_real_time() / G_USEC_PER_SEC;

    if (now != second) {
        g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc(now);
        g_autoptr(GDateTime) local = utc != NULL ? g_date_time_to_timezone(utc, log_zone) : NULL;
        g_autofree char *text = local != NULL ? g_date_time_format(local, "%b %e %H:%M:%S") : NULL;

        g_strlcpy(stamp, text != NULL ? text : "-", sizeof stamp);
        second = now;
    }
    return stamp;
}

static void
log_vemit(int priority, const char *fmt, va_list ap)
{
    g_autofree char *line = g_strdup_vprintf(fmt, ap);

    syslog(priority, "%s", line);
    if (log_to_stderr)
        fprintf(stderr, "%s ticket-milter: %s\n", stderr_stamp(), line);
}

#define LOG_FN(fn, prio)                                                                           \
    void fn(const char *fmt, ...)                                                                  \
    {                                                                                              \
        va_list ap;                                                                                \
        va_start(ap, fmt);                                                                         \
        log_vemit(prio, fmt, ap);                                                                  \
        va_end(ap);                                                                                \
    }

LOG_FN(log_info, LOG_INFO)
LOG_FN(log_notice, LOG_NOTICE)
LOG_FN(log_warning, LOG_WARNING)
LOG_FN(log_error, LOG_ERR)

void
log_debug(const char *fmt, ...)
{
    va_list ap;

    if (!log_debug_on)
        return;
    va_start(ap, fmt);
    log_vemit(LOG_DEBUG, fmt, ap);
    va_end(ap);
}
