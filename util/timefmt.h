/*
 * timefmt - the one way times are written: ISO 8601 in UTC with a Z,
 * to the second ("2026-11-24T09:02:55Z"), which sorts as text.
 */
#ifndef TM_UTIL_TIMEFMT_H
#define TM_UTIL_TIMEFMT_H

#include <glib.h>

/* Returns a new string; T may be in any zone. */
char *timefmt_iso8601(GDateTime *t);
/* Parses what timefmt_iso8601 writes (and any ISO 8601 with a zone); NULL when not. */
GDateTime *timefmt_parse(const char *text);

#endif
