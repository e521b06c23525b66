/*
 * percentile - the one rule by which every figure we print takes a
 * percentile: nearest rank, in integers.
 */
#ifndef TM_UTIL_PERCENTILE_H
#define TM_UTIL_PERCENTILE_H

#include <glib.h>

/* The smallest of the sorted VALUES with at least P percent (1..100) of
 * them at or below it (so the median of an even count is the lower middle
 * value); -1 when N is 0. */
gint64 percentile_nearest_rank(const gint64 *sorted, gsize n, guint p);

#endif
