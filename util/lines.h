/*
 * lines - text cut into its lines.
 *
 * g_strsplit() looks for each separator with strstr(), which is linear in
 * the ordinary build but, under AddressSanitizer, measures the rest of
 * the text on every call: a 60 KB message of short lines then costs a
 * second, and the fuzzer (which runs with the sanitizers) counts it a
 * hang.  This does the same job with memchr(), linear in every build.
 */
#ifndef TM_UTIL_LINES_H
#define TM_UTIL_LINES_H

#include <glib.h>

/* TEXT (NULL: "") split at each '\n', as g_strsplit(TEXT, "\n", -1) would:
 * a NULL-terminated array, one element more than there are newlines. */
char **util_split_lines(const char *text);

#endif
