/*
 * calendar - adding and measuring business time.
 *
 * Both walk the calendar day by day from the start, intersecting each
 * open slot with the interval of interest; a slot's ends are built as
 * local wall-clock times (so 08:00 is 08:00 on either side of a DST change)
 * and compared as instants.  The walk is bounded (CALENDAR_MAX_DAYS), so a
 * calendar without open hours cannot hang the daemon.  Closures cut pieces
 * out of a slot; a calendar has few of them, so each slot looks at all.
 */
#include <stdio.h>
#include <string.h>

#include "router/calendar.h"

G_DEFINE_QUARK(calendar-error-quark, calendar_error)

#define CALENDAR_MAX_DAYS 3700
#define DAY_SECONDS (24 * 3600)

static const char *const day_names[] = { NULL, "mon", "tue", "wed", "thu", "fri", "sat", "sun" };

struct calendar *
calendar_new(const char *zone)
{
    struct calendar *c = g_new0(struct calendar, 1);

    c->tz = zone != NULL ? g_time_zone_new_identifier(zone) : NULL;
    if (c->tz == NULL)
        c->tz = g_time_zone_new_utc();
    for (int d = 1; d <= 7; d++)
        c->slots[d] = g_array_new(FALSE, FALSE, sizeof(guint));
    c->holidays = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    c->closures = g_array_new(FALSE, FALSE, sizeof(struct calendar_closure));
    return c;
}

struct calendar *
calendar_copy(const struct calendar *c)
{
    struct calendar *n = g_new0(struct calendar, 1);
    GHashTableIter it;
    gpointer key;

    n->tz = g_time_zone_ref(c->tz);
    n->always_open = c->always_open;
    for (int d = 1; d <= 7; d++) {
        n->slots[d] = g_array_new(FALSE, FALSE, sizeof(guint));
        g_array_append_vals(n->slots[d], c->slots[d]->data, c->slots[d]->len);
    }
    n->holidays = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_hash_table_iter_init(&it, c->holidays);
    while (g_hash_table_iter_next(&it, &key, NULL))
        g_hash_table_add(n->holidays, g_strdup(key));
    n->closures = g_array_new(FALSE, FALSE, sizeof(struct calendar_closure));
    g_array_append_vals(n->closures, c->closures->data, c->closures->len);
    return n;
}

struct calendar *
calendar_free(struct calendar *c)
{
    if (c == NULL)
        return NULL;
    g_time_zone_unref(c->tz);
    for (int d = 1; d <= 7; d++)
        g_array_unref(c->slots[d]);
    g_hash_table_unref(c->holidays);
    g_array_unref(c->closures);
    g_free(c);
    return NULL;
}

static int
day_index(const char *name)
{
    for (int d = 1; d <= 7; d++)
        if (g_ascii_strncasecmp(name, day_names[d], 3) == 0 && strlen(name) == 3)
            return d;
    return 0;
}

/* "08:00" or "24:00" into minutes; -1 when not a time. */
static int
parse_clock(const char *text)
{
    int h, m;
    char extra;

    if (sscanf(text, "%d:%d%c", &h, &m, &extra) != 2 || h < 0 || m < 0 || m > 59 || h > 24 ||
        (h == 24 && m != 0))
        return -1;
    return h * 60 + m;
}

static bool
parse_part(struct calendar *c, const char *part, GError **error)
{
    g_auto(GStrv) words = g_strsplit_set(part, " \t", 2);
    g_auto(GStrv) days = NULL;
    g_auto(GStrv) ranges = NULL;
    bool on[8] = { false };

    if (words[0] == NULL || words[1] == NULL) {
        g_set_error(error, CALENDAR_ERROR, 0,
                    "\"%s\": expected DAYS HH:MM-HH:MM, e.g. mon-fri 08:00-17:00", part);
        return false;
    }
    days = g_strsplit(words[0], ",", -1);
    for (char **d = days; *d != NULL; d++) {
        g_auto(GStrv) span = g_strsplit(*d, "-", 2);
        int from = day_index(span[0]), to = span[1] != NULL ? day_index(span[1]) : from;
        if (from == 0 || to == 0 || to < from) {
            g_set_error(error, CALENDAR_ERROR, 0,
                        "\"%s\": days are mon, tue, wed, thu, fri, sat, sun or a range mon-fri",
                        *d);
            return false;
        }
        for (int i = from; i <= to; i++)
            on[i] = true;
    }
    ranges = g_strsplit(g_strstrip(words[1]), ",", -1);
    for (char **r = ranges; *r != NULL; r++) {
        g_auto(GStrv) ends = g_strsplit(g_strstrip(*r), "-", 2);
        int start = parse_clock(ends[0]), end = ends[1] != NULL ? parse_clock(ends[1]) : -1;
        if (start < 0 || end <= start) {
            g_set_error(error, CALENDAR_ERROR, 0,
                        "\"%s\": hours are HH:MM-HH:MM with the end after the start", *r);
            return false;
        }
        for (int d = 1; d <= 7; d++) {
            if (!on[d])
                continue;
            guint pair[2] = { (guint)start, (guint)end };
            g_array_append_vals(c->slots[d], pair, 2);
        }
    }
    return true;
}

bool
calendar_set_hours(struct calendar *c, const char *spec, GError **error)
{
    g_auto(GStrv) parts = g_strsplit(spec, ";", -1);
    bool any = false;

    for (int d = 1; d <= 7; d++)
        g_array_set_size(c->slots[d], 0);
    for (char **p = parts; *p != NULL; p++) {
        char *part = g_strstrip(*p);
        if (*part == '\0')
            continue;
        if (!parse_part(c, part, error))
            return false;
        any = true;
    }
    if (!any) {
        g_set_error(error, CALENDAR_ERROR, 0, "no open hours: give e.g. mon-fri 08:00-17:00");
        return false;
    }
    /* Slots in order, overlaps refused: each second counts once. */
    for (int d = 1; d <= 7; d++) {
        GArray *s = c->slots[d];
        guint n = s->len / 2;
        guint *v = (guint *)s->data;
        /* Sorting pairs by their start: a tiny insertion sort on pairs. */
        for (guint i = 1; i < n; i++)
            for (guint j = i; j > 0 && v[2 * j] < v[2 * (j - 1)]; j--) {
                guint a = v[2 * j], b = v[2 * j + 1];
                v[2 * j] = v[2 * (j - 1)];
                v[2 * j + 1] = v[2 * (j - 1) + 1];
                v[2 * (j - 1)] = a;
                v[2 * (j - 1) + 1] = b;
            }
        for (guint i = 1; i < n; i++)
            if (v[2 * i] < v[2 * i - 1]) {
                g_set_error(error, CALENDAR_ERROR, 0, "hours on %s overlap", day_names[d]);
                return false;
            }
    }
    return true;
}

void
calendar_add_holiday(struct calendar *c, int year, int month, int day)
{
    g_hash_table_add(c->holidays, g_strdup_printf("%04d-%02d-%02d", year, month, day));
}

void
calendar_add_closure(struct calendar *c, gint64 start, gint64 end, bool is_floating)
{
    struct calendar_closure cl = { start, end, is_floating };

    if (end > start)
        g_array_append_val(c->closures, cl);
}

void
calendar_easter(int year, int *month, int *day)
{
    /* The anonymous Gregorian algorithm (Meeus/Jones/Butcher). */
    int a = year % 19, b = year / 100, c = year % 100, d = b / 4, e = b % 4;
    int f = (b + 8) / 25, g = (b - f + 1) / 3, h = (19 * a + b - d - g + 15) % 30;
    int i = c / 4, k = c % 4, l = (32 + 2 * e + 2 * i - h - k) % 7;
    int m = (a + 11 * h + 22 * l) / 451;

    *month = (h + l - 7 * m + 114) / 31;
    *day = (h + l - 7 * m + 114) % 31 + 1;
}

static void
add_offset(struct calendar *c, GDate *base, int days)
{
    GDate d = *base;

    g_date_add_days(&d, days);
    calendar_add_holiday(c, g_date_get_year(&d), g_date_get_month(&d), g_date_get_day(&d));
}

void
calendar_add_dutch_holidays(struct calendar *c, int year)
{
    GDate easter, kings;
    int month, day;

    calendar_easter(year, &month, &day);
    g_date_clear(&easter, 1);
    g_date_set_dmy(&easter, day, month, year);
    calendar_add_holiday(c, year, 1, 1);
    add_offset(c, &easter, 0);  /* Easter Sunday */
    add_offset(c, &easter, 1);  /* Easter Monday */
    add_offset(c, &easter, 39); /* Ascension Day */
    add_offset(c, &easter, 49); /* Whit Sunday */
    add_offset(c, &easter, 50); /* Whit Monday */
    g_date_clear(&kings, 1);
    g_date_set_dmy(&kings, 27, 4, year);
    calendar_add_holiday(c, year, 4, g_date_get_weekday(&kings) == G_DATE_SUNDAY ? 26 : 27);
    calendar_add_holiday(c, year, 5, 5);
    calendar_add_holiday(c, year, 12, 25);
    calendar_add_holiday(c, year, 12, 26);
}

gint64
calendar_day_length(const struct calendar *c)
{
    gint64 total = 0;
    int open_days = 0;

    if (c->always_open)
        return 24 * 3600;
    for (int d = 1; d <= 7; d++) {
        const guint *v = (const guint *)c->slots[d]->data;
        gint64 day = 0;
        for (guint i = 0; i + 1 < c->slots[d]->len; i += 2)
            day += (gint64)(v[i + 1] - v[i]) * 60;
        if (day > 0) {
            total += day;
            open_days++;
        }
    }
    return open_days > 0 ? total / open_days : 24 * 3600;
}

static bool
date_is_holiday(const struct calendar *c, const GDate *d)
{
    char key[16];

    g_snprintf(key, sizeof(key), "%04d-%02d-%02d", g_date_get_year(d), g_date_get_month(d),
               g_date_get_day(d));
    return g_hash_table_contains(c->holidays, key);
}

bool
calendar_is_holiday(const struct calendar *c, GDateTime *t)
{
    g_autoptr(GDateTime) local = g_date_time_to_timezone(t, c->tz);
    GDate d;

    g_date_clear(&d, 1);
    g_date_set_dmy(&d, g_date_time_get_day_of_month(local), g_date_time_get_month(local),
                   g_date_time_get_year(local));
    return date_is_holiday(c, &d);
}

/* The local wall-clock MINUTES after midnight of day D, as an instant. */
static GDateTime *
at_minutes(const struct calendar *c, const GDate *d, guint minutes)
{
    GDate day = *d;

    if (minutes >= 24 * 60) {
        g_date_add_days(&day, 1);
        minutes -= 24 * 60;
    }
    return g_date_time_new(c->tz, g_date_get_year(&day), g_date_get_month(&day),
                           g_date_get_day(&day), (gint)(minutes / 60), (gint)(minutes % 60), 0);
}

/* Calls FN for each open interval of C from START's local day on, until FN
 * returns false or the walk ends. */
typedef bool (*slot_fn)(GDateTime *open, GDateTime *close, gpointer data);

/* Wall-clock seconds (read as UTC) as an instant in C's zone. */
static gint64
wall_to_unix(const struct calendar *c, gint64 wall)
{
    g_autoptr(GDateTime) w = g_date_time_new_from_unix_utc(wall);
    g_autoptr(GDateTime) t = NULL;

    if (w == NULL)
        return wall;
    t = g_date_time_new(c->tz, g_date_time_get_year(w), g_date_time_get_month(w),
                        g_date_time_get_day_of_month(w), g_date_time_get_hour(w),
                        g_date_time_get_minute(w), g_date_time_get_second(w));
    return t != NULL ? g_date_time_to_unix(t) : wall;
}

static gint
cut_compare(gconstpointer a, gconstpointer b)
{
    const gint64 *x = a, *y = b;

    return x[0] < y[0] ? -1 : x[0] > y[0];
}

static bool
piece(const struct calendar *c, gint64 from, gint64 to, slot_fn fn, gpointer data)
{
    g_autoptr(GDateTime) u_open = g_date_time_new_from_unix_utc(from);
    g_autoptr(GDateTime) u_close = g_date_time_new_from_unix_utc(to);
    g_autoptr(GDateTime) open = g_date_time_to_timezone(u_open, c->tz);
    g_autoptr(GDateTime) close = g_date_time_to_timezone(u_close, c->tz);

    return fn(open, close, data);
}

/* FN for the parts of the slot [OPEN, CLOSE) that no closure covers. */
static bool
slot_pieces(const struct calendar *c, GDateTime *open, GDateTime *close, slot_fn fn,
            gpointer data)
{
    gint64 from = g_date_time_to_unix(open), to = g_date_time_to_unix(close);
    g_autoptr(GArray) cuts = NULL;
    gint64 cursor = from;

    /* Most calendars have no closures: no allocation per slot for them. */
    if (c->closures->len == 0)
        return fn(open, close, data);
    cuts = g_array_new(FALSE, FALSE, 2 * sizeof(gint64));
    for (guint i = 0; i < c->closures->len; i++) {
        const struct calendar_closure *cl =
            &g_array_index(c->closures, struct calendar_closure, i);
        gint64 cut[2] = { cl->start, cl->end };
        /* A floating span is at most a day away from its instants. */
        if (cl->end + DAY_SECONDS <= from || cl->start - DAY_SECONDS >= to)
            continue;
        if (cl->is_floating) {
            cut[0] = wall_to_unix(c, cl->start);
            cut[1] = wall_to_unix(c, cl->end);
        }
        if (cut[1] > from && cut[0] < to)
            g_array_append_val(cuts, cut);
    }
    if (cuts->len == 0)
        return fn(open, close, data);
    g_array_sort(cuts, cut_compare);
    for (guint i = 0; i < cuts->len && cursor < to; i++) {
        const gint64 *cut = &g_array_index(cuts, gint64, 2 * i);
        if (cut[0] > cursor && !piece(c, cursor, MIN(cut[0], to), fn, data))
            return false;
        cursor = MAX(cursor, cut[1]);
    }
    return cursor < to ? piece(c, cursor, to, fn, data) : true;
}

static void
walk_slots(const struct calendar *c, GDateTime *start, guint max_days, slot_fn fn, gpointer data)
{
    g_autoptr(GDateTime) local = g_date_time_to_timezone(start, c->tz);
    GDate d;

    g_date_clear(&d, 1);
    g_date_set_dmy(&d, g_date_time_get_day_of_month(local), g_date_time_get_month(local),
                   g_date_time_get_year(local));
    for (guint i = 0; i < max_days; i++, g_date_add_days(&d, 1)) {
        const GArray *s = c->slots[g_date_get_weekday(&d)];
        const guint *v = (const guint *)s->data;
        if (s->len == 0 || date_is_holiday(c, &d))
            continue;
        for (guint j = 0; j + 1 < s->len; j += 2) {
            g_autoptr(GDateTime) open = at_minutes(c, &d, v[j]);
            g_autoptr(GDateTime) close = at_minutes(c, &d, v[j + 1]);
            if (open == NULL || close == NULL)
                continue;
            if (!slot_pieces(c, open, close, fn, data))
                return;
        }
    }
}

struct add_state {
    GDateTime *cursor;
    gint64 remaining; /* microseconds */
    GDateTime *result;
};

static bool
add_step(GDateTime *open, GDateTime *close, gpointer data)
{
    struct add_state *st = data;
    GDateTime *from = g_date_time_compare(open, st->cursor) > 0 ? open : st->cursor;
    GTimeSpan avail = g_date_time_difference(close, from);

    if (avail <= 0)
        return true;
    if (st->remaining <= avail) {
        st->result = g_date_time_add(from, st->remaining);
        return false;
    }
    st->remaining -= avail;
    return true;
}

GDateTime *
calendar_add(const struct calendar *c, GDateTime *start, gint64 seconds)
{
    struct add_state st = { .cursor = start, .remaining = seconds * G_TIME_SPAN_SECOND };

    if (c->always_open || seconds <= 0)
        return g_date_time_add_seconds(start, (gdouble)MAX(seconds, 0));
    walk_slots(c, start, CALENDAR_MAX_DAYS, add_step, &st);
    /* No open hours at all within ten years: count it as real time. */
    return st.result != NULL ? st.result : g_date_time_add_seconds(start, (gdouble)seconds);
}

struct between_state {
    GDateTime *a, *b;
    GTimeSpan total;
};

static bool
between_step(GDateTime *open, GDateTime *close, gpointer data)
{
    struct between_state *st = data;
    GDateTime *from = g_date_time_compare(open, st->a) > 0 ? open : st->a;
    GDateTime *to = g_date_time_compare(close, st->b) < 0 ? close : st->b;

    if (g_date_time_compare(open, st->b) >= 0)
        return false;
    if (g_date_time_compare(to, from) > 0)
        st->total += g_date_time_difference(to, from);
    return true;
}

gint64
calendar_between(const struct calendar *c, GDateTime *a, GDateTime *b)
{
    struct between_state st = { .a = a, .b = b };
    GTimeSpan span = g_date_time_difference(b, a);

    if (span <= 0)
        return 0;
    if (c->always_open)
        return span / G_TIME_SPAN_SECOND;
    walk_slots(c, a, (guint)MIN(span / G_TIME_SPAN_DAY + 2, CALENDAR_MAX_DAYS), between_step, &st);
    return st.total / G_TIME_SPAN_SECOND;
}
