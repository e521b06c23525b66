/*
 * zone - the offset tables of time zones, built once per name.
 *
 * A table is found by halving: GLib is asked which interval holds an
 * instant, and a span whose two ends lie in different intervals is split
 * until each change is pinned to its second (some 30 questions a change).
 * The tables are kept for the life of the process, at most
 * CALENDAR_MAX_ZONES of them: a zone beyond that is built without one.
 */
#include "router/zone.h"

struct zone *
zone_ref(struct zone *z)
{
    g_atomic_ref_count_inc(&z->ref);
    return z;
}

void
zone_unref(struct zone *z)
{
    if (z == NULL || !g_atomic_ref_count_dec(&z->ref))
        return;
    g_time_zone_unref(z->tz);
    g_free(z->start);
    g_free(z->offset);
    g_free(z->is_dst);
    g_free(z);
}

/* Appends to STARTS and INDEXES every interval that begins in (LO, HI],
 * where GLib's interval at LO is ILO and at HI is IHI: halving the span
 * finds each change of interval in some 30 questions. */
static void
zone_collect(GTimeZone *tz, gint64 lo, gint ilo, gint64 hi, gint ihi, GArray *starts,
             GArray *indexes)
{
    if (ilo == ihi)
        return;
    if (hi - lo == 1) {
        g_array_append_val(starts, hi);
        g_array_append_val(indexes, ihi);
        return;
    }
    gint64 mid = lo + (hi - lo) / 2;
    gint imid = g_time_zone_find_interval(tz, G_TIME_TYPE_UNIVERSAL, mid);
    zone_collect(tz, lo, ilo, mid, imid, starts, indexes);
    zone_collect(tz, mid, imid, hi, ihi, starts, indexes);
}

static struct zone *
zone_build(GTimeZone *tz, bool with_table)
{
    struct zone *z = g_new0(struct zone, 1);

    g_atomic_ref_count_init(&z->ref);
    z->tz = tz;
    if (!with_table)
        return z;
    g_autoptr(GArray) starts = g_array_new(FALSE, FALSE, sizeof(gint64));
    g_autoptr(GArray) indexes = g_array_new(FALSE, FALSE, sizeof(gint));
    gint64 first = G_MININT64;
    gint ifrom = g_time_zone_find_interval(tz, G_TIME_TYPE_UNIVERSAL, ZONE_FROM);
    gint ito = g_time_zone_find_interval(tz, G_TIME_TYPE_UNIVERSAL, ZONE_TO);

    g_array_append_val(starts, first);
    g_array_append_val(indexes, ifrom);
    zone_collect(tz, ZONE_FROM, ifrom, ZONE_TO, ito, starts, indexes);
    z->n = starts->len;
    z->start = (gint64 *)g_array_free(g_steal_pointer(&starts), FALSE);
    z->offset = g_new(gint32, z->n);
    z->is_dst = g_new(guint8, z->n);
    for (guint k = 0; k < z->n; k++) {
        gint i = g_array_index(indexes, gint, k);
        z->offset[k] = g_time_zone_get_offset(tz, i);
        z->is_dst[k] = g_time_zone_is_dst(tz, i) ? 1 : 0;
    }
    return z;
}

static GMutex zones_lock;
static GHashTable *zones; /* name -> struct zone *, never freed */

struct zone *
zone_get(const char *name)
{
    struct zone *z, *built;
    GTimeZone *tz;
    bool keep;

    g_mutex_lock(&zones_lock);
    if (zones == NULL)
        zones = g_hash_table_new(g_str_hash, g_str_equal);
    z = g_hash_table_lookup(zones, name);
    keep = g_hash_table_size(zones) < CALENDAR_MAX_ZONES;
    if (z != NULL)
        zone_ref(z);
    g_mutex_unlock(&zones_lock);
    if (z != NULL)
        return z;
    tz = g_time_zone_new_identifier(name);
    if (tz == NULL)
        return NULL;
    /* Built outside the lock: other threads go on with their zones. */
    built = zone_build(tz, keep);
    if (!keep)
        return built;
    g_mutex_lock(&zones_lock);
    z = g_hash_table_lookup(zones, name);
    if (z == NULL) {
        z = built;
        built = NULL;
        g_hash_table_insert(zones, g_strdup(name), zone_ref(z));
    }
    zone_ref(z);
    g_mutex_unlock(&zones_lock);
    zone_unref(built);
    return z;
}
