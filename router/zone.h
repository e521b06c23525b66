/*
 * zone - a time zone's offsets as a table, for the calendar's hot loops.
 *
 * GLib answers every conversion of an instant to wall-clock time (and
 * back) by searching its own rules; business time converts thousands of
 * times per deadline.  A zone keeps, once per name and for every thread,
 * the UTC starts and offsets of its intervals from 1970 to 2200, and
 * converts with a binary search that inlines into its callers.  Times
 * near or beyond the table's ends, and zones past CALENDAR_MAX_ZONES
 * (which get no table), ask GLib as before, with the same answers.
 *
 * Private to router/calendar*.c.
 */
#ifndef TM_ROUTER_ZONE_H
#define TM_ROUTER_ZONE_H

#include <stdbool.h>

#include <glib.h>

#define DAY_SECONDS G_GINT64_CONSTANT(86400)
/* Zones whose offset tables are kept; a config names a handful. */
#define CALENDAR_MAX_ZONES 256
/* The instants the zone tables cover: 1970-01-01 to 2200-01-01 UTC. */
#define ZONE_FROM G_GINT64_CONSTANT(0)
#define ZONE_TO G_GINT64_CONSTANT(7258118400)
/* Conversions this close to the table's ends ask GLib: the neighbouring
 * intervals may lie outside it. */
#define ZONE_MARGIN (3 * DAY_SECONDS)

struct zone {
    gatomicrefcount ref;
    GTimeZone *tz;
    guint n;        /* intervals in the table; 0: no table, GLib answers */
    gint64 *start;  /* first UTC second of each interval; start[0] is G_MININT64 */
    gint32 *offset; /* seconds east of UTC */
    guint8 *is_dst;
};

/* The zone called NAME, with a reference for the caller; NULL when GLib
 * does not know it.  Thread-safe. */
struct zone *zone_get(const char *name);
struct zone *zone_ref(struct zone *z);
/* Drops a reference (NULL is fine). */
void zone_unref(struct zone *z);

static inline bool
zone_has_table_for(const struct zone *z, gint64 t)
{
    return z->n > 0 && t >= ZONE_FROM + ZONE_MARGIN && t < ZONE_TO - ZONE_MARGIN;
}

/* The table's interval that holds the instant T. */
static inline guint
zone_interval(const struct zone *z, gint64 t)
{
    guint lo = 0, hi = z->n;

    while (hi - lo > 1) {
        guint mid = lo + (hi - lo) / 2;
        if (z->start[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

static inline gint64
zone_local_start(const struct zone *z, guint k)
{
    return k == 0 ? G_MININT64 : z->start[k] + z->offset[k];
}

static inline gint64
zone_local_end(const struct zone *z, guint k)
{
    return k + 1 >= z->n ? G_MAXINT64 : z->start[k + 1] - 1 + z->offset[k];
}

/* The wall-clock seconds of the instant T. */
static inline gint64
zone_to_wall(const struct zone *z, gint64 t)
{
    if (!zone_has_table_for(z, t))
        return t + g_time_zone_get_offset(
                       z->tz, g_time_zone_find_interval(z->tz, G_TIME_TYPE_UNIVERSAL, t));
    return t + z->offset[zone_interval(z, t)];
}

/* The instant of the wall-clock seconds W, as g_date_time_new() has it:
 * the interval is first looked for as if W were UTC, then a time in a gap
 * moves to the end of the gap and one in an overlap prefers standard time. */
static inline gint64
zone_to_instant(const struct zone *z, gint64 w)
{
    if (!zone_has_table_for(z, w)) {
        gint i = g_time_zone_adjust_time(z->tz, G_TIME_TYPE_STANDARD, &w);
        return w - g_time_zone_get_offset(z->tz, i);
    }
    guint k = zone_interval(z, w);
    if (w < zone_local_start(z, k)) {
        k--;
        if (w > zone_local_end(z, k)) {
            k++;
            w = zone_local_start(z, k);
        }
    } else if (w > zone_local_end(z, k)) {
        k++;
        if (w < zone_local_start(z, k))
            w = zone_local_start(z, k);
    } else if (z->is_dst[k]) {
        if (k > 0 && w <= zone_local_end(z, k - 1))
            k--;
        else if (k + 1 < z->n && w >= zone_local_start(z, k + 1))
            k++;
    }
    return w - z->offset[k];
}

#endif
