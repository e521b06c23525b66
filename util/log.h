/*
 * log - one line per event to syslog (facility mail), and to stderr when
 * running in the foreground, in the shape of Postfix's own lines:
 * "QUEUEID: sentence key=value ...".  General: knows nothing of tickets.
 */
#ifndef TM_UTIL_LOG_H
#define TM_UTIL_LOG_H

#include <stdbool.h>

/* IDENT is the syslog tag ("ticket-milter"); TO_STDERR copies every line to stderr. */
void log_init(const char *ident, bool to_stderr);
void log_set_debug(bool on);

void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
