/*
 * calendar - adding and measuring business time over whole open intervals.
 *
 * Days are counted as plain integers (days since 1970-01-01 on the local
 * wall clock), so finding a weekday, a year or Easter is a few integer
 * operations.  A day's open intervals are its weekday's slots minus the
 * closures, or none on a holiday; a slot's ends are local wall-clock times
 * (08:00 is 08:00 on either side of a DST change) turned into instants.
 * Runs of whole weeks without a holiday, a closure or a change of UTC
 * offset are skipped in one step: their open seconds are known.
 *
 * Time zones: each zone a calendar uses gets a table of GLib's offset
 * intervals from 1970 to 2200, built once per process (a few milliseconds)
 * and kept, with its GTimeZone, for the process's life in a table under a
 * lock; at most CALENDAR_MAX_ZONES zones are kept, a zone beyond that (or
 * a time outside those years) asks GLib at every conversion, which gives
 * the same answers more slowly.  Local times that do not exist (the hour a
 * DST start skips) move forward and ambiguous ones (the hour a DST end
 * repeats) take standard time, exactly as g_date_time_new() does.
 *
 * Holidays and closures live in a block shared by a calendar and its
 * copies, copied before one of them changes it: sorted day numbers, and
 * closures merged into disjoint spans.  The Dutch holidays are a rule,
 * computed for whichever year a computation reaches; nothing is cached in
 * a calendar, so it is safe to read from any thread.
 *
 * Failures: none at run time; the work is bounded by CALENDAR_MAX_DAYS
 * days and by the holidays and closures within them.
 */
#include <stdio.h>
#include <string.h>

#include "router/calendar.h"
#include "router/zone.h"

/* The quark's name is the first argument as written. */
/* clang-format off */
G_DEFINE_QUARK(calendar-error-quark, calendar_error)
/* clang-format on */

#define WEEK_SECONDS (7 * DAY_SECONDS)
#define USEC G_USEC_PER_SEC
/* A wall-clock time is within a day of its instant in every zone (GLib
 * refuses larger offsets), and a slot within a day of its midnight: a
 * closure this far from a day's wall clock cannot touch its slots. */
#define OFFSET_BOUND (2 * DAY_SECONDS)
#define SPECIAL_MARGIN 3
#define DUTCH_COUNT 10

static const char *const day_names[] = { NULL, "mon", "tue", "wed", "thu", "fri", "sat", "sun" };

struct span {
    gint64 start, end; /* [start, end) */
};

/* What copies share: changed only through rules_for_writing(). */
struct rules {
    gatomicrefcount ref;
    GArray *dates;    /* gint32 local day numbers, sorted, each once */
    GArray *fixed;    /* struct span of Unix seconds, disjoint, sorted */
    GArray *floating; /* struct span of wall-clock seconds, disjoint, sorted */
};

struct slot {
    guint16 open, close; /* minutes from midnight, open < close <= 1440 */
};

struct calendar {
    struct zone *zone;
    struct slot slots[8][CALENDAR_MAX_SLOTS]; /* index 1 (Monday) .. 7 (Sunday) */
    guint8 n_slots[8];
    gint64 week_seconds; /* open wall-clock seconds of a whole week */
    bool has_dutch_holidays;
    bool is_always_open;
    struct rules *rules;
};

/* ---- civil dates as day numbers ---- */

static gint64
floor_div(gint64 a, gint64 b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* Days from 1970-01-01 to Y-M-D (proleptic Gregorian), with the year
 * starting in March so that the leap day comes last. */
static gint32
civil_to_days(int y, int m, int d)
{
    int year = m <= 2 ? y - 1 : y;
    int era = (year >= 0 ? year : year - 399) / 400;
    int year_of_era = year - era * 400;
    int day_of_year = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;

    return era * 146097 + day_of_era - 719468;
}

static void
days_to_civil(gint32 days, int *y, int *m, int *d)
{
    int z = days + 719468;
    int era = (z >= 0 ? z : z - 146096) / 146097;
    int day_of_era = z - era * 146097;
    int year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
    int day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    int mp = (5 * day_of_year + 2) / 153;

    *d = day_of_year - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = year_of_era + era * 400 + (*m <= 2);
}

/* 1 (Monday) .. 7 (Sunday); day 0 was a Thursday. */
static int
weekday(gint32 days)
{
    return (int)((days % 7 + 7 + 3) % 7) + 1;
}

static bool
valid_date(int y, int m, int d)
{
    static const int lengths[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

    return y >= 1 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 &&
           d <= lengths[m - 1] + (m == 2 && leap);
}

/* ---- what copies share ---- */

static struct rules *
rules_new(void)
{
    struct rules *r = g_new0(struct rules, 1);

    g_atomic_ref_count_init(&r->ref);
    r->dates = g_array_new(FALSE, FALSE, sizeof(gint32));
    r->fixed = g_array_new(FALSE, FALSE, sizeof(struct span));
    r->floating = g_array_new(FALSE, FALSE, sizeof(struct span));
    return r;
}

static void
rules_unref(struct rules *r)
{
    if (r == NULL || !g_atomic_ref_count_dec(&r->ref))
        return;
    g_array_unref(r->dates);
    g_array_unref(r->fixed);
    g_array_unref(r->floating);
    g_free(r);
}

/* C's rules, its own: copied first when a copy of C shares them.  Only
 * the thread that owns C changes it, so a count of one cannot grow. */
static struct rules *
rules_for_writing(struct calendar *c)
{
    struct rules *r = c->rules, *n;

    if (g_atomic_ref_count_compare(&r->ref, 1))
        return r;
    n = rules_new();
    g_array_append_vals(n->dates, r->dates->data, r->dates->len);
    g_array_append_vals(n->fixed, r->fixed->data, r->fixed->len);
    g_array_append_vals(n->floating, r->floating->data, r->floating->len);
    rules_unref(r);
    c->rules = n;
    return n;
}

/* The first index of sorted DATES whose day is at least DAY. */
static guint
dates_lower_bound(const GArray *dates, gint32 day)
{
    const gint32 *v = (const gint32 *)dates->data;
    guint lo = 0, hi = dates->len;

    while (lo < hi) {
        guint mid = lo + (hi - lo) / 2;
        if (v[mid] < day)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The first span of disjoint sorted SPANS that ends after T. */
static guint
spans_ending_after(const GArray *spans, gint64 t)
{
    const struct span *v = (const struct span *)spans->data;
    guint lo = 0, hi = spans->len;

    while (lo < hi) {
        guint mid = lo + (hi - lo) / 2;
        if (v[mid].end <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Adds [START, END) to SPANS, merging what it overlaps or touches. */
static void
spans_add(GArray *spans, gint64 start, gint64 end)
{
    guint first = spans_ending_after(spans, start - 1), last = first;
    struct span *v = (struct span *)spans->data;

    while (last < spans->len && v[last].start <= end)
        last++;
    if (first == last) {
        struct span s = { start, end };
        g_array_insert_val(spans, first, s);
        return;
    }
    v[first].start = MIN(v[first].start, start);
    v[first].end = MAX(v[last - 1].end, end);
    g_array_remove_range(spans, first + 1, last - first - 1);
}

/* ---- building ---- */

static void
update_week(struct calendar *c)
{
    c->week_seconds = 0;
    for (int d = 1; d <= 7; d++)
        for (guint j = 0; j < c->n_slots[d]; j++)
            c->week_seconds += (gint64)(c->slots[d][j].close - c->slots[d][j].open) * 60;
}

struct calendar *
calendar_new(const char *zone)
{
    struct calendar *c = g_new0(struct calendar, 1);

    c->zone = zone != NULL ? zone_get(zone) : NULL;
    if (c->zone == NULL)
        c->zone = zone_get("UTC");
    c->rules = rules_new();
    return c;
}

struct calendar *
calendar_copy(const struct calendar *c)
{
    struct calendar *n = g_new(struct calendar, 1);

    *n = *c;
    zone_ref(n->zone);
    g_atomic_ref_count_inc(&n->rules->ref);
    return n;
}

struct calendar *
calendar_free(struct calendar *c)
{
    if (c == NULL)
        return NULL;
    zone_unref(c->zone);
    rules_unref(c->rules);
    g_free(c);
    return NULL;
}

bool
calendar_set_zone(struct calendar *c, const char *zone)
{
    struct zone *z = zone != NULL ? zone_get(zone) : NULL;

    if (z == NULL)
        return false;
    zone_unref(c->zone);
    c->zone = z;
    return true;
}

GTimeZone *
calendar_get_zone(const struct calendar *c)
{
    return c->zone->tz;
}

void
calendar_set_always_open(struct calendar *c, bool always_open)
{
    c->is_always_open = always_open;
}

bool
calendar_is_always_open(const struct calendar *c)
{
    return c->is_always_open;
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
            if (c->n_slots[d] == CALENDAR_MAX_SLOTS) {
                g_set_error(error, CALENDAR_ERROR, 0, "more than %d spans of hours on %s",
                            CALENDAR_MAX_SLOTS, day_names[d]);
                return false;
            }
            c->slots[d][c->n_slots[d]++] = (struct slot){ (guint16)start, (guint16)end };
        }
    }
    return true;
}

bool
calendar_set_hours(struct calendar *c, const char *spec, GError **error)
{
    g_auto(GStrv) parts = g_strsplit(spec, ";", -1);
    struct calendar scratch = { 0 };
    bool any = false;

    for (char **p = parts; *p != NULL; p++) {
        char *part = g_strstrip(*p);
        if (*part == '\0')
            continue;
        if (!parse_part(&scratch, part, error))
            return false;
        any = true;
    }
    if (!any) {
        g_set_error(error, CALENDAR_ERROR, 0, "no open hours: give e.g. mon-fri 08:00-17:00");
        return false;
    }
    /* Slots in order, overlaps refused: each second counts once. */
    for (int d = 1; d <= 7; d++) {
        struct slot *v = scratch.slots[d];
        for (guint i = 1; i < scratch.n_slots[d]; i++)
            for (guint j = i; j > 0 && v[j].open < v[j - 1].open; j--) {
                struct slot t = v[j];
                v[j] = v[j - 1];
                v[j - 1] = t;
            }
        for (guint i = 1; i < scratch.n_slots[d]; i++)
            if (v[i].open < v[i - 1].close) {
                g_set_error(error, CALENDAR_ERROR, 0, "hours on %s overlap", day_names[d]);
                return false;
            }
    }
    memcpy(c->slots, scratch.slots, sizeof(c->slots));
    memcpy(c->n_slots, scratch.n_slots, sizeof(c->n_slots));
    update_week(c);
    return true;
}

void
calendar_add_holiday(struct calendar *c, int year, int month, int day)
{
    g_return_if_fail(valid_date(year, month, day));
    gint32 n = civil_to_days(year, month, day);
    GArray *dates = rules_for_writing(c)->dates;
    guint at = dates_lower_bound(dates, n);

    if (at == dates->len || g_array_index(dates, gint32, at) != n)
        g_array_insert_val(dates, at, n);
}

void
calendar_set_dutch_holidays(struct calendar *c, bool on)
{
    c->has_dutch_holidays = on;
}

bool
calendar_has_dutch_holidays(const struct calendar *c)
{
    return c->has_dutch_holidays;
}

void
calendar_add_closure(struct calendar *c, gint64 start, gint64 end, bool is_floating)
{
    struct rules *r;

    if (end <= start)
        return;
    r = rules_for_writing(c);
    spans_add(is_floating ? r->floating : r->fixed, start, end);
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

/* The Dutch public holidays of YEAR as day numbers, in order. */
static void
dutch_days(int year, gint32 out[DUTCH_COUNT])
{
    int month, day;
    gint32 easter, kings = civil_to_days(year, 4, 27);

    calendar_easter(year, &month, &day);
    easter = civil_to_days(year, month, day);
    out[0] = civil_to_days(year, 1, 1);
    out[1] = easter;
    out[2] = easter + 1;                              /* Easter Monday */
    out[3] = weekday(kings) == 7 ? kings - 1 : kings; /* King's Day */
    out[4] = civil_to_days(year, 5, 5);               /* Liberation Day */
    out[5] = easter + 39;                             /* Ascension Day */
    out[6] = easter + 49;                             /* Whit Sunday */
    out[7] = easter + 50;                             /* Whit Monday */
    out[8] = civil_to_days(year, 12, 25);
    out[9] = civil_to_days(year, 12, 26);
    for (int i = 1; i < DUTCH_COUNT; i++)
        for (int j = i; j > 0 && out[j] < out[j - 1]; j--) {
            gint32 t = out[j];
            out[j] = out[j - 1];
            out[j - 1] = t;
        }
}

gint64
calendar_day_length(const struct calendar *c)
{
    gint64 total = 0;
    int open_days = 0;

    if (c->is_always_open)
        return DAY_SECONDS;
    for (int d = 1; d <= 7; d++) {
        gint64 day = 0;
        for (guint i = 0; i < c->n_slots[d]; i++)
            day += (gint64)(c->slots[d][i].close - c->slots[d][i].open) * 60;
        if (day > 0) {
            total += day;
            open_days++;
        }
    }
    return open_days > 0 ? total / open_days : DAY_SECONDS;
}

guint
calendar_n_holidays(const struct calendar *c)
{
    return c->rules->dates->len;
}

guint
calendar_n_closures(const struct calendar *c)
{
    return c->rules->fixed->len + c->rules->floating->len;
}

/* ---- walking the days ---- */

/* One computation's notes (on its stack: the calendar stays untouched):
 * the Dutch holidays of the last year asked about. */
struct walk {
    const struct calendar *c;
    gint32 year_first, year_last; /* the days of that year; first > last: none yet */
    gint32 dutch[DUTCH_COUNT];
};

static void
walk_init(struct walk *w, const struct calendar *c)
{
    w->c = c;
    w->year_first = 1;
    w->year_last = 0;
}

/* W's Dutch holidays of DAY's year. */
static const gint32 *
walk_dutch(struct walk *w, gint32 day)
{
    if (day < w->year_first || day > w->year_last) {
        int y, m, d;
        days_to_civil(day, &y, &m, &d);
        dutch_days(y, w->dutch);
        w->year_first = civil_to_days(y, 1, 1);
        w->year_last = civil_to_days(y, 12, 31);
    }
    return w->dutch;
}

static bool
walk_is_holiday(struct walk *w, gint32 day)
{
    const GArray *dates = w->c->rules->dates;
    guint at = dates_lower_bound(dates, day);

    if (at < dates->len && g_array_index(dates, gint32, at) == day)
        return true;
    if (w->c->has_dutch_holidays) {
        const gint32 *dutch = walk_dutch(w, day);
        for (int i = 0; i < DUTCH_COUNT; i++)
            if (dutch[i] == day)
                return true;
    }
    return false;
}

/* The first day from DAY on (LIMIT at most) that a holiday or a closure
 * may touch; a closure counts for SPECIAL_MARGIN days either side of its
 * span, which no UTC offset can move it past. */
static gint32
walk_next_special(struct walk *w, gint32 day, gint32 limit)
{
    const struct rules *r = w->c->rules;
    gint32 next = limit;
    guint at = dates_lower_bound(r->dates, day);

    if (at < r->dates->len)
        next = MIN(next, g_array_index(r->dates, gint32, at));
    if (w->c->has_dutch_holidays && next > day) {
        const gint32 *dutch = walk_dutch(w, day);
        gint32 found = w->year_last + 1; /* New Year's Day after */
        for (int i = 0; i < DUTCH_COUNT; i++)
            if (dutch[i] >= day) {
                found = dutch[i];
                break;
            }
        next = MIN(next, found);
    }
    const GArray *kinds[] = { r->fixed, r->floating };
    for (guint k = 0; k < G_N_ELEMENTS(kinds) && next > day; k++) {
        guint i = spans_ending_after(kinds[k], (day - SPECIAL_MARGIN) * DAY_SECONDS);
        if (i < kinds[k]->len) {
            gint64 first = floor_div(g_array_index(kinds[k], struct span, i).start, DAY_SECONDS);
            next = MIN(next, (gint32)MAX(first - SPECIAL_MARGIN, (gint64)day));
        }
    }
    return next;
}

/* Called with each open interval [OPEN, CLOSE) in Unix seconds, in order;
 * returns false to stop the walk. */
typedef bool (*piece_fn)(gint64 open, gint64 close, gpointer data);

/* The closures that cut into one slot, as instants in order: fixed and
 * floating spans merged as they come. */
struct cuts {
    const struct calendar *c;
    const struct span *fixed, *floating;
    guint n_fixed, n_floating, i_fixed, i_floating;
    gint64 floating_limit; /* wall-clock: later floating spans cannot reach the slot */
};

static void
cuts_init(struct cuts *k, const struct calendar *c, gint64 open, gint64 wall_open,
          gint64 wall_close)
{
    const struct rules *r = c->rules;

    k->c = c;
    k->fixed = (const struct span *)r->fixed->data;
    k->floating = (const struct span *)r->floating->data;
    k->n_fixed = r->fixed->len;
    k->n_floating = r->floating->len;
    k->i_fixed = spans_ending_after(r->fixed, open);
    k->i_floating = spans_ending_after(r->floating, wall_open - OFFSET_BOUND);
    k->floating_limit = wall_close + OFFSET_BOUND;
}

/* The next cut into [.., CLOSE) as instants; false when there is none. */
static bool
cuts_next(struct cuts *k, gint64 close, gint64 *start, gint64 *end)
{
    bool has_fixed = k->i_fixed < k->n_fixed && k->fixed[k->i_fixed].start < close;
    bool has_floating =
        k->i_floating < k->n_floating && k->floating[k->i_floating].start < k->floating_limit;
    gint64 fs = 0;

    if (has_floating)
        fs = zone_to_instant(k->c->zone, k->floating[k->i_floating].start);
    if (has_fixed && (!has_floating || k->fixed[k->i_fixed].start <= fs)) {
        *start = k->fixed[k->i_fixed].start;
        *end = k->fixed[k->i_fixed].end;
        k->i_fixed++;
        return true;
    }
    if (!has_floating || fs >= close)
        return false;
    *start = fs;
    *end = zone_to_instant(k->c->zone, k->floating[k->i_floating].end);
    k->i_floating++;
    return true;
}

/* FN for the parts of the slot [OPEN, CLOSE) that no closure covers. */
static bool
slot_pieces(const struct calendar *c, gint64 open, gint64 close, gint64 wall_open,
            gint64 wall_close, piece_fn fn, gpointer data)
{
    struct cuts k;
    gint64 cursor = open, cut_start, cut_end;

    if (calendar_n_closures(c) == 0)
        return fn(open, close, data);
    cuts_init(&k, c, open, wall_open, wall_close);
    while (cursor < close && cuts_next(&k, close, &cut_start, &cut_end)) {
        if (cut_end <= cursor)
            continue;
        if (cut_start > cursor && !fn(cursor, cut_start, data))
            return false;
        cursor = MAX(cursor, cut_end);
    }
    return cursor < close ? fn(cursor, close, data) : true;
}

/* FN for each open interval of local day DAY; false when FN stopped. */
static bool
day_pieces(struct walk *w, gint32 day, piece_fn fn, gpointer data)
{
    const struct calendar *c = w->c;
    int wd = weekday(day);
    gint64 midnight = day * DAY_SECONDS;

    if (c->n_slots[wd] == 0 || walk_is_holiday(w, day))
        return true;
    for (guint j = 0; j < c->n_slots[wd]; j++) {
        gint64 wall_open = midnight + c->slots[wd][j].open * 60;
        gint64 wall_close = midnight + c->slots[wd][j].close * 60;
        if (!slot_pieces(c, zone_to_instant(c->zone, wall_open),
                         zone_to_instant(c->zone, wall_close), wall_open, wall_close, fn, data))
            return false;
    }
    return true;
}

/* How many whole weeks from local day DAY on, at most MAX, hold no
 * holiday, no closure and no change of UTC offset: their open seconds
 * are the week's.  *MIDNIGHT is DAY's 00:00 as an instant. */
static gint64
regular_weeks(struct walk *w, gint32 day, gint64 max, gint64 *midnight)
{
    const struct zone *z = w->c->zone;
    gint64 wall = day * DAY_SECONDS, weeks;
    guint k;

    *midnight = zone_to_instant(z, wall);
    if (max <= 0 || !zone_has_table_for(z, *midnight))
        return 0;
    max = MIN(max, (ZONE_TO - ZONE_MARGIN - *midnight) / WEEK_SECONDS - 1);
    weeks = (walk_next_special(w, day, (gint32)(day + 7 * MAX(max, 0))) - day) / 7;
    k = zone_interval(z, *midnight);
    /* A day's margin from either transition: every slot edge of the weeks
     * is then in interval K, and its instant is its wall clock less K's
     * offset. */
    if (weeks <= 0 || z->start[k] > *midnight - DAY_SECONDS || *midnight != wall - z->offset[k])
        return 0;
    if (k + 1 < z->n)
        weeks = MIN(weeks, (z->start[k + 1] - DAY_SECONDS - *midnight) / WEEK_SECONDS);
    return MAX(weeks, 0);
}

/* The local day of the instant T (Unix seconds). */
static gint32
local_day(const struct calendar *c, gint64 t)
{
    return (gint32)floor_div(zone_to_wall(c->zone, t), DAY_SECONDS);
}

static gint64
unix_usec(GDateTime *t)
{
    return g_date_time_to_unix(t) * USEC + g_date_time_get_microsecond(t);
}

bool
calendar_is_holiday(const struct calendar *c, GDateTime *t)
{
    struct walk w;

    walk_init(&w, c);
    return walk_is_holiday(&w, local_day(c, g_date_time_to_unix(t)));
}

bool
calendar_is_holiday_date(const struct calendar *c, int year, int month, int day)
{
    struct walk w;

    if (!valid_date(year, month, day))
        return false;
    walk_init(&w, c);
    return walk_is_holiday(&w, civil_to_days(year, month, day));
}

struct add_state {
    gint64 start;     /* microseconds */
    gint64 remaining; /* microseconds */
    gint64 result;
    bool is_found;
};

static bool
add_piece(gint64 open, gint64 close, gpointer data)
{
    struct add_state *st = data;
    gint64 from = MAX(open * USEC, st->start), avail = close * USEC - from;

    if (avail <= 0)
        return true;
    if (st->remaining <= avail) {
        st->result = from + st->remaining;
        st->is_found = true;
        return false;
    }
    st->remaining -= avail;
    return true;
}

GDateTime *
calendar_add(const struct calendar *c, GDateTime *start, gint64 seconds)
{
    struct add_state st = { .start = unix_usec(start), .remaining = seconds * USEC };
    struct walk w;
    gint32 first, last;

    if (c->is_always_open || seconds <= 0 || c->week_seconds == 0)
        return g_date_time_add_seconds(start, (gdouble)MAX(seconds, 0));
    walk_init(&w, c);
    first = local_day(c, floor_div(st.start, USEC));
    last = first + CALENDAR_MAX_DAYS;
    for (gint32 day = first; day < last;) {
        if (day > first) {
            gint64 midnight;
            gint64 weeks = regular_weeks(
                &w, day,
                MIN((st.remaining - 1) / (c->week_seconds * USEC), (gint64)(last - day) / 7),
                &midnight);
            if (weeks > 0) {
                st.remaining -= weeks * c->week_seconds * USEC;
                day += (gint32)(7 * weeks);
                continue;
            }
        }
        if (!day_pieces(&w, day, add_piece, &st))
            break;
        day++;
    }
    /* No open hours at all within ten years: count it as real time. */
    if (!st.is_found)
        return g_date_time_add_seconds(start, (gdouble)seconds);
    return g_date_time_add(start, st.result - st.start);
}

struct between_state {
    gint64 a, b; /* microseconds */
    gint64 total;
};

static bool
between_piece(gint64 open, gint64 close, gpointer data)
{
    struct between_state *st = data;
    gint64 from = MAX(open * USEC, st->a), to = MIN(close * USEC, st->b);

    if (open * USEC >= st->b)
        return false;
    if (to > from)
        st->total += to - from;
    return true;
}

gint64
calendar_between(const struct calendar *c, GDateTime *a, GDateTime *b)
{
    struct between_state st = { .a = unix_usec(a), .b = unix_usec(b) };
    struct walk w;
    gint32 first, last;

    if (st.b <= st.a)
        return 0;
    if (c->is_always_open)
        return (st.b - st.a) / USEC;
    if (c->week_seconds == 0)
        return 0;
    walk_init(&w, c);
    first = local_day(c, floor_div(st.a, USEC));
    last = first + CALENDAR_MAX_DAYS;
    for (gint32 day = first; day < last;) {
        if (day > first) {
            gint64 midnight;
            gint64 weeks = regular_weeks(&w, day, (gint64)(last - day) / 7, &midnight);
            weeks = MIN(weeks, (st.b - midnight * USEC) / (WEEK_SECONDS * USEC));
            if (weeks > 0) {
                st.total += weeks * c->week_seconds * USEC;
                day += (gint32)(7 * weeks);
                continue;
            }
            if (midnight * USEC >= st.b)
                break;
        }
        if (!day_pieces(&w, day, between_piece, &st))
            break;
        day++;
    }
    return st.total / USEC;
}
