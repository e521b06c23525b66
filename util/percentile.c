/*
 * percentile - nearest-rank percentiles.
 *
 * The rank is rounded up in integers, so no floating-point rounding ever
 * decides which value a figure shows.  Pure; nothing fails.
 */
#include "util/percentile.h"

gint64
percentile_nearest_rank(const gint64 *sorted, gsize n, guint p)
{
    gsize rank;

    g_assert(p >= 1 && p <= 100);
    if (n == 0)
        return -1;
    rank = (p * n + 99) / 100;
    return sorted[CLAMP(rank, 1, n) - 1];
}
