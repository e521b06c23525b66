/*
 * test-calendar - business time on the calendars of the seeds: a goal that
 * starts Friday 16:30 in Europe/Amsterdam and crosses a weekend, a DST
 * change, Easter Monday and King's Day; 24x7 against business time; slots
 * that span the DST changes of the last Sundays of March and October;
 * goals and pauses across Christmas and New Year; the Dutch holidays of
 * years far from now (Easter checked against a published table); and a
 * check of every result against a plain day-by-day walk with GLib's own
 * date arithmetic in zones with odd DST rules.
 */
#include <stdio.h>

#include <glib.h>

#include "router/calendar.h"
#include "router/plan.h"

static struct calendar *
standard(void)
{
    struct calendar *c = calendar_new("Europe/Amsterdam");

    g_assert_true(calendar_set_hours(c, "mon-fri 08:00-17:00", NULL));
    calendar_set_dutch_holidays(c, true);
    return c;
}

static GDateTime *
local(struct calendar *c, int y, int mo, int d, int h, int mi)
{
    return g_date_time_new(calendar_get_zone(c), y, mo, d, h, mi, 0);
}

/* The holidays of C in YEAR, "YYYY-MM-DD" in order. */
static GPtrArray *
holidays_of(const struct calendar *c, int year)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GDate) d = g_date_new_dmy(1, G_DATE_JANUARY, (GDateYear)year);

    for (; g_date_get_year(d) == year; g_date_add_days(d, 1))
        if (calendar_is_holiday_date(c, year, g_date_get_month(d), g_date_get_day(d)))
            g_ptr_array_add(out, g_strdup_printf("%04d-%02d-%02d", year, g_date_get_month(d),
                                                 g_date_get_day(d)));
    return out;
}

static char *
fmt(GDateTime *t)
{
    g_autoptr(GTimeZone) tz = g_time_zone_new_identifier("Europe/Amsterdam");
    g_autoptr(GDateTime) l = g_date_time_to_timezone(t, tz);

    return g_date_time_format(l, "%a %Y-%m-%d %H:%M %Z");
}

static void
test_add(void)
{
    static const struct {
        const char *what;
        int y, mo, d, h, mi; /* start, local */
        gint64 seconds;
        bool always;
        const char *expect;
    } cases[] = {
        { "within the day", 2026, 11, 24, 10, 0, 3600, false, "Tue 2026-11-24 11:00 CET" },
        { "over the weekend", 2026, 11, 20, 16, 30, 3600, false, "Mon 2026-11-23 08:30 CET" },
        { "24x7 does not stop", 2026, 11, 20, 16, 30, 3600, true, "Fri 2026-11-20 17:30 CET" },
        { "start before opening", 2026, 11, 24, 6, 0, 1800, false, "Tue 2026-11-24 08:30 CET" },
        { "start after closing", 2026, 11, 24, 19, 0, 1800, false, "Wed 2026-11-25 08:30 CET" },
        { "weekend and end of DST", 2026, 10, 23, 16, 30, 3600, false, "Mon 2026-10-26 08:30 CET" },
        { "24x7 over the end of DST", 2026, 10, 24, 16, 30, 24 * 3600, true,
          "Sun 2026-10-25 15:30 CET" },
        { "Easter Monday and start of DST", 2027, 3, 26, 16, 30, 3600, false,
          "Tue 2027-03-30 08:30 CEST" },
        { "King's Day", 2027, 4, 26, 16, 30, 3600, false, "Wed 2027-04-28 08:30 CEST" },
        { "Christmas and Boxing Day", 2026, 12, 24, 16, 0, 2 * 3600, false,
          "Mon 2026-12-28 09:00 CET" },
        { "three business days", 2026, 11, 20, 16, 30, 27 * 3600, false,
          "Wed 2026-11-25 16:30 CET" },
        { "one business day from Friday", 2026, 11, 20, 16, 30, 9 * 3600, false,
          "Mon 2026-11-23 16:30 CET" },
        { "nothing to add", 2026, 11, 22, 12, 0, 0, false, "Sun 2026-11-22 12:00 CET" },
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        struct calendar *c = standard();
        calendar_set_always_open(c, cases[i].always);
        g_autoptr(GDateTime) start =
            local(c, cases[i].y, cases[i].mo, cases[i].d, cases[i].h, cases[i].mi);
        g_autoptr(GDateTime) end = calendar_add(c, start, cases[i].seconds);
        g_autofree char *got = fmt(end);
        g_test_message("%s", cases[i].what);
        g_assert_cmpstr(got, ==, cases[i].expect);
        calendar_free(c);
    }
}

static void
test_between(void)
{
    struct calendar *c = standard();
    g_autoptr(GDateTime) fri = local(c, 2026, 11, 20, 16, 30);
    g_autoptr(GDateTime) mon = local(c, 2026, 11, 23, 8, 30);
    g_autoptr(GDateTime) wed = local(c, 2026, 11, 25, 16, 30);

    g_assert_cmpint(calendar_between(c, fri, mon), ==, 3600);
    g_assert_cmpint(calendar_between(c, fri, wed), ==, 27 * 3600);
    g_assert_cmpint(calendar_between(c, mon, fri), ==, 0);
    /* add and between agree. */
    for (gint64 s = 0; s < 40 * 3600; s += 3 * 3600 + 17 * 60) {
        g_autoptr(GDateTime) e = calendar_add(c, fri, s);
        g_assert_cmpint(calendar_between(c, fri, e), ==, s);
    }
    calendar_set_always_open(c, true);
    g_assert_cmpint(calendar_between(c, fri, mon), ==, 64 * 3600);
    calendar_free(c);
}

static void
test_easter(void)
{
    static const int cases[][3] = {
        { 2024, 3, 31 }, { 2025, 4, 20 }, { 2026, 4, 5 },  { 2027, 3, 28 }, { 2031, 4, 13 },
        { 2038, 4, 25 }, { 2045, 4, 9 },  { 2100, 3, 28 }, { 2199, 4, 14 },
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        int m, d;
        calendar_easter(cases[i][0], &m, &d);
        g_assert_cmpint(m, ==, cases[i][1]);
        g_assert_cmpint(d, ==, cases[i][2]);
    }
}

static void
test_dutch_holidays(void)
{
    struct calendar *c = calendar_new("Europe/Amsterdam");
    static const char *const y2025[] = { "2025-01-01", "2025-04-20", "2025-04-21", "2025-04-26",
                                         "2025-05-05", "2025-05-29", "2025-06-08", "2025-06-09",
                                         "2025-12-25", "2025-12-26" };

    calendar_set_dutch_holidays(c, true);
    g_autoptr(GPtrArray) got = holidays_of(c, 2025);
    g_assert_cmpuint(got->len, ==, G_N_ELEMENTS(y2025));
    for (guint i = 0; i < G_N_ELEMENTS(y2025); i++)
        g_assert_cmpstr(g_ptr_array_index(got, i), ==, y2025[i]);
    /* A rule, not dates. */
    g_assert_cmpuint(calendar_n_holidays(c), ==, 0);
    calendar_free(c);
}

static void
test_hours(void)
{
    static const struct {
        const char *spec;
        bool ok;
        gint64 day_length;
    } cases[] = {
        { "mon-fri 08:00-17:00", true, 9 * 3600 },
        { "mon-fri 10:00-16:00", true, 6 * 3600 },
        { "mon-fri 08:00-12:00,13:00-17:00; sat 10:00-12:00", true, (5 * 8 + 2) * 3600 / 6 },
        { "mon,wed 00:00-24:00", true, 24 * 3600 },
        { "mon-fri 17:00-08:00", false, 0 },
        { "mon-fri 08:00-12:00,11:00-13:00", false, 0 },
        { "funday 08:00-17:00", false, 0 },
        { "mon-fri", false, 0 },
        { "mon-fri 8-17", false, 0 },
        { "", false, 0 },
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        struct calendar *c = calendar_new("UTC");
        g_autoptr(GError) error = NULL;
        bool ok = calendar_set_hours(c, cases[i].spec, &error);
        g_test_message("%s: %s", cases[i].spec, error != NULL ? error->message : "ok");
        g_assert_cmpint(ok, ==, cases[i].ok);
        if (ok)
            g_assert_cmpint(calendar_day_length(c), ==, cases[i].day_length);
        calendar_free(c);
    }
}

/* One case of business time on a calendar of its own. */
struct dst_case {
    const char *what;
    const char *zone, *hours;
    bool dutch, always;
    const char *dates; /* extra holidays, "YYYY-MM-DD;..." */
    int y, mo, d, h, mi;
    gint64 seconds;
    const char *expect; /* local time in Europe/Amsterdam */
};

static struct calendar *
calendar_of(const struct dst_case *k)
{
    struct calendar *c = calendar_new(k->zone);
    g_auto(GStrv) dates = g_strsplit(k->dates != NULL ? k->dates : "", ";", -1);

    g_assert_true(calendar_set_hours(c, k->hours, NULL));
    calendar_set_dutch_holidays(c, k->dutch);
    calendar_set_always_open(c, k->always);
    for (char **d = dates; *d != NULL; d++) {
        int y, m, day;
        if (sscanf(*d, "%d-%d-%d", &y, &m, &day) == 3)
            calendar_add_holiday(c, y, m, day);
    }
    return c;
}

static void
test_dst_and_years(void)
{
    static const char *const ams = "Europe/Amsterdam", *const office = "mon-fri 08:00-17:00",
                             *const all_day = "mon-sun 00:00-24:00";
    static const struct dst_case cases[] = {
        { "a goal over the start of DST (last Sunday of March)", ams, office, true, false, NULL,
          2026, 3, 27, 16, 0, 2 * 3600, "Mon 2026-03-30 09:00 CEST" },
        { "3 business days over the end of DST (last Sunday of October)", ams, office, true, false,
          NULL, 2026, 10, 23, 12, 0, 27 * 3600, "Wed 2026-10-28 12:00 CET" },
        { "24 open hours on the 23-hour Sunday", ams, all_day, false, false, NULL, 2026, 3, 28, 12,
          0, 24 * 3600, "Sun 2026-03-29 13:00 CEST" },
        { "24 open hours on the 25-hour Sunday", ams, all_day, false, false, NULL, 2026, 10, 24, 12,
          0, 24 * 3600, "Sun 2026-10-25 11:00 CET" },
        { "a slot over the March change has two real hours", ams, "sun 01:00-04:00", false, false,
          NULL, 2026, 3, 28, 12, 0, 2 * 3600, "Sun 2026-03-29 04:00 CEST" },
        { "and the rest goes to the next Sunday", ams, "sun 01:00-04:00", false, false, NULL, 2026,
          3, 28, 12, 0, 2 * 3600 + 1800, "Sun 2026-04-05 01:30 CEST" },
        { "a slot over the October change has four", ams, "sun 01:00-04:00", false, false, NULL,
          2026, 10, 24, 12, 0, 4 * 3600, "Sun 2026-10-25 04:00 CET" },
        { "the first 02:30 of the October night", ams, "sun 01:00-04:00", false, false, NULL, 2026,
          10, 24, 12, 0, 5400, "Sun 2026-10-25 02:30 CEST" },
        { "the second 02:30 of the October night", ams, "sun 01:00-04:00", false, false, NULL, 2026,
          10, 24, 12, 0, 5400 + 3600, "Sun 2026-10-25 02:30 CET" },
        { "the hour March skips is not open", ams, "sun 02:00-03:00; mon 08:00-09:00", false, false,
          NULL, 2026, 3, 28, 12, 0, 1800, "Mon 2026-03-30 08:30 CEST" },
        { "24x7 over the start of DST", ams, office, true, true, NULL, 2026, 3, 28, 12, 0,
          24 * 3600, "Sun 2026-03-29 13:00 CEST" },
        { "3 business days over Christmas", ams, office, true, false, NULL, 2031, 12, 24, 12, 0,
          27 * 3600, "Wed 2031-12-31 12:00 CET" },
        { "3 business days over Christmas and New Year", ams, office, true, false, NULL, 2031, 12,
          24, 17, 0, 27 * 3600 + 60, "Fri 2032-01-02 08:01 CET" },
        { "closed between the years too", ams, office, true, false,
          "2031-12-29;2031-12-30;2031-12-31", 2031, 12, 24, 16, 0, 27 * 3600,
          "Tue 2032-01-06 16:00 CET" },
        { "a pause over a year boundary moves the start on", ams, office, true, false, NULL, 2030,
          12, 31, 15, 0, 4 * 3600, "Thu 2031-01-02 10:00 CET" },
        { "King's Day on a Saturday when the 27th is a Sunday", ams, "sat 10:00-12:00", true, false,
          NULL, 2031, 4, 25, 12, 0, 3600, "Sat 2031-05-03 11:00 CEST" },
        { "Dutch holidays of 2045", ams, office, true, false, NULL, 2045, 5, 17, 16, 0, 2 * 3600,
          "Fri 2045-05-19 09:00 CEST" },
        { "in another zone, its own wall clock and DST", "America/New_York", office, false, false,
          NULL, 2026, 3, 6, 23, 30, 3600, "Mon 2026-03-09 14:00 CET" },
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        const struct dst_case *k = &cases[i];
        struct calendar *c = calendar_of(k);
        g_autoptr(GTimeZone) ams_tz = g_time_zone_new_identifier(ams);
        g_autoptr(GDateTime) start = g_date_time_new(ams_tz, k->y, k->mo, k->d, k->h, k->mi, 0);
        g_autoptr(GDateTime) end = calendar_add(c, start, k->seconds);
        g_autofree char *got = fmt(end);
        g_test_message("%s", k->what);
        g_assert_cmpstr(got, ==, k->expect);
        g_assert_cmpint(calendar_between(c, start, end), ==, k->seconds);
        calendar_free(c);
    }
}

static void
test_pause_over_new_year(void)
{
    struct calendar *c = standard();
    g_autoptr(GDateTime) from = local(c, 2030, 12, 31, 15, 0);
    g_autoptr(GDateTime) to = local(c, 2031, 1, 2, 10, 0);
    g_autoptr(GDateTime) a = local(c, 2026, 12, 18, 12, 0);
    g_autoptr(GDateTime) b = local(c, 2027, 1, 8, 12, 0);

    /* New Year's Eve 15:00-17:00 and 2 January 08:00-10:00. */
    g_assert_cmpint(calendar_between(c, from, to), ==, 4 * 3600);
    /* Three weeks less Christmas, Boxing Day (a Saturday) and New Year. */
    g_assert_cmpint(calendar_between(c, a, b), ==, (15 - 2) * 9 * 3600);
    calendar_set_always_open(c, true);
    g_assert_true(calendar_is_always_open(c));
    g_assert_cmpint(calendar_between(c, from, to), ==, 43 * 3600);
    calendar_free(c);
}

static void
test_holidays_far_years(void)
{
    static const struct {
        int year;
        const char *dates[11];
    } years[] = {
        { 2031,
          { "2031-01-01", "2031-04-13", "2031-04-14", "2031-04-26", "2031-05-05", "2031-05-22",
            "2031-06-01", "2031-06-02", "2031-12-25", "2031-12-26" } },
        { 2045,
          { "2045-01-01", "2045-04-09", "2045-04-10", "2045-04-27", "2045-05-05", "2045-05-18",
            "2045-05-28", "2045-05-29", "2045-12-25", "2045-12-26" } },
        { 2199,
          { "2199-01-01", "2199-04-14", "2199-04-15", "2199-04-27", "2199-05-05", "2199-05-23",
            "2199-06-02", "2199-06-03", "2199-12-25", "2199-12-26" } },
    };
    struct calendar *c = standard();

    for (guint i = 0; i < G_N_ELEMENTS(years); i++) {
        g_autoptr(GPtrArray) got = holidays_of(c, years[i].year);
        g_assert_cmpuint(got->len, ==, 10);
        for (guint k = 0; k < got->len; k++)
            g_assert_cmpstr(g_ptr_array_index(got, k), ==, years[i].dates[k]);
    }
    /* King's Day moves to the 26th only when the 27th is a Sunday. */
    g_assert_false(calendar_is_holiday_date(c, 2031, 4, 27));
    g_assert_true(calendar_is_holiday_date(c, 2036, 4, 26));
    g_assert_false(calendar_is_holiday_date(c, 2030, 4, 26));
    g_assert_true(calendar_is_holiday_date(c, 2030, 4, 27));
    g_assert_false(calendar_is_holiday_date(c, 2031, 2, 29));
    calendar_set_dutch_holidays(c, false);
    g_assert_false(calendar_has_dutch_holidays(c));
    g_assert_false(calendar_is_holiday_date(c, 2031, 12, 25));
    calendar_free(c);
}

/* A plan loaded today counts the Dutch holidays of a year it never named. */
static void
test_plan_far_year(void)
{
    struct plan *p = plan_preset("default");
    struct calendar *c = plan_calendar(p, "Europe/Amsterdam");
    g_autoptr(GDateTime) start = local(c, 2030, 5, 29, 15, 0);
    /* 16 business hours of 10:00-16:00: Wednesday's last hour, Ascension
     * Day closed, Friday, Monday and three hours of Tuesday. */
    g_autoptr(GDateTime) due = goal_due(&p->goals[2][GOAL_RESPONSE], c, false, start, 100);
    g_autofree char *got = fmt(due);

    g_assert_cmpstr(got, ==, "Tue 2030-06-04 13:00 CEST");
    g_assert_true(calendar_is_holiday_date(p->calendar, 2030, 6, 10)); /* Whit Monday */
    calendar_free(c);
    plan_free(p);
}

static void
test_copy_and_zone(void)
{
    struct calendar *c = standard();
    struct calendar *copy = calendar_copy(c);

    /* A copy changed alone: the original keeps its holidays and closures. */
    calendar_add_holiday(copy, 2026, 11, 24);
    calendar_add_closure(copy, 100, 200, false);
    calendar_add_closure(copy, 150, 300, false);
    calendar_add_closure(copy, 300, 400, false);
    calendar_add_closure(copy, 500, 400, false);
    g_assert_cmpuint(calendar_n_holidays(copy), ==, 1);
    g_assert_cmpuint(calendar_n_closures(copy), ==, 1);
    g_assert_cmpuint(calendar_n_holidays(c), ==, 0);
    g_assert_cmpuint(calendar_n_closures(c), ==, 0);
    g_assert_false(calendar_is_holiday_date(c, 2026, 11, 24));
    g_assert_true(calendar_is_holiday_date(copy, 2026, 11, 24));
    /* An unknown zone leaves the calendar where it was. */
    g_assert_false(calendar_set_zone(copy, "Mars/Olympus_Mons"));
    g_assert_cmpstr(g_time_zone_get_identifier(calendar_get_zone(copy)), ==, "Europe/Amsterdam");
    g_assert_true(calendar_set_zone(copy, "Asia/Tokyo"));
    g_assert_cmpstr(g_time_zone_get_identifier(calendar_get_zone(copy)), ==, "Asia/Tokyo");
    g_assert_cmpstr(g_time_zone_get_identifier(calendar_get_zone(c)), ==, "Europe/Amsterdam");
    calendar_free(copy);
    calendar_free(c);
}

/* ---- against a plain walk ---- */

/* A calendar the reference below can read without parsing. */
struct plain {
    const char *hours;
    guint8 days;     /* bit 0 Monday .. bit 6 Sunday */
    int slots[2][2]; /* minutes; {0, 0} ends */
};

static const struct plain plains[] = {
    { "mon-fri 08:00-17:00", 0x1f, { { 480, 1020 } } },
    { "mon-fri 10:00-16:00", 0x1f, { { 600, 960 } } },
    { "mon-sun 00:00-24:00", 0x7f, { { 0, 1440 } } },
    { "mon-sun 00:00-03:00,23:00-24:00", 0x7f, { { 0, 180 }, { 1380, 1440 } } },
    { "sun 01:00-04:00", 0x40, { { 60, 240 } } },
    { "sat-sun 00:30-01:30,02:30-03:30", 0x60, { { 30, 90 }, { 150, 210 } } },
};

/* The local wall-clock MINUTES after midnight of D, as g_date_time_new()
 * has it, in microseconds. */
static gint64
plain_at(GTimeZone *tz, const GDate *d, int minutes)
{
    GDate day = *d;

    if (minutes >= 24 * 60) {
        g_date_add_days(&day, 1);
        minutes -= 24 * 60;
    }
    g_autoptr(GDateTime) t = g_date_time_new(tz, g_date_get_year(&day), g_date_get_month(&day),
                                             g_date_get_day(&day), minutes / 60, minutes % 60, 0);
    return g_date_time_to_unix(t) * G_USEC_PER_SEC;
}

/* Business time by walking every day from A's with GDate, each slot edge
 * built by GLib: with ADD, the instant ADD microseconds on (-1 when not
 * within CALENDAR_MAX_DAYS); else the microseconds from A to B. */
static gint64
plain_walk(const struct calendar *c, const struct plain *pl, gint64 a, gint64 b, gint64 add)
{
    GTimeZone *tz = calendar_get_zone(c);
    g_autoptr(GDateTime) ua = g_date_time_new_from_unix_utc(a / G_USEC_PER_SEC);
    g_autoptr(GDateTime) la = g_date_time_to_timezone(ua, tz);
    gint64 total = 0;
    GDate d;

    g_date_clear(&d, 1);
    g_date_set_dmy(&d, g_date_time_get_day_of_month(la), g_date_time_get_month(la),
                   g_date_time_get_year(la));
    for (int i = 0; i < CALENDAR_MAX_DAYS; i++, g_date_add_days(&d, 1)) {
        int wd = g_date_get_weekday(&d);
        if (!(pl->days & (1 << (wd - 1))) ||
            calendar_is_holiday_date(c, g_date_get_year(&d), g_date_get_month(&d),
                                     g_date_get_day(&d)))
            continue;
        for (int s = 0; s < 2 && pl->slots[s][1] > 0; s++) {
            gint64 open = plain_at(tz, &d, pl->slots[s][0]);
            gint64 close = plain_at(tz, &d, pl->slots[s][1]);
            gint64 from = MAX(open, a);
            if (add == 0 && open >= b)
                return total;
            gint64 to = add == 0 ? MIN(close, b) : close;
            if (to <= from)
                continue;
            if (add > 0 && add - total <= to - from)
                return from + add - total;
            total += to - from;
        }
    }
    return add > 0 ? -1 : total;
}

static void
test_against_plain_walk(void)
{
    static const char *const zones[] = {
        "Europe/Amsterdam",  "America/New_York",
        "America/Sao_Paulo", "Australia/Lord_Howe",
        "Pacific/Apia",      "America/Havana",
        "America/Santiago",  "Africa/Casablanca",
        "Asia/Kolkata",      "UTC",
    };
    g_autoptr(GRand) r = g_rand_new_with_seed(20261124);

    for (int i = 0; i < 3000; i++) {
        const struct plain *pl = &plains[g_rand_int_range(r, 0, G_N_ELEMENTS(plains))];
        struct calendar *c = calendar_new(zones[g_rand_int_range(r, 0, G_N_ELEMENTS(zones))]);
        /* 2000 to 2060: GLib's rules past the zone files' last year too. */
        gint64 a = (946684800 + (gint64)(g_rand_double(r) * 60 * 365.25 * 86400)) * G_USEC_PER_SEC +
                   g_rand_int_range(r, 0, G_USEC_PER_SEC);
        gint64 span = (gint64)g_rand_int_range(r, 0, i % 4 == 0 ? 400 * 86400 : 10 * 86400);
        gint64 seconds = (gint64)g_rand_int_range(r, 1, i % 4 == 0 ? 2000 * 3600 : 60 * 3600);

        g_assert_true(calendar_set_hours(c, pl->hours, NULL));
        calendar_set_dutch_holidays(c, g_rand_boolean(r));
        /* A few dates in the start's year. */
        for (int k = g_rand_int_range(r, 0, 4); k > 0; k--)
            calendar_add_holiday(c, (int)(1970 + a / G_USEC_PER_SEC / 31557600),
                                 g_rand_int_range(r, 1, 13), g_rand_int_range(r, 1, 29));
        g_autoptr(GDateTime) u = g_date_time_new_from_unix_utc(a / G_USEC_PER_SEC);
        g_autoptr(GDateTime) start = g_date_time_add(u, a % G_USEC_PER_SEC);
        g_autoptr(GDateTime) end = g_date_time_add_seconds(start, (gdouble)span);
        g_autoptr(GDateTime) due = calendar_add(c, start, seconds);
        gint64 expect = plain_walk(c, pl, a, 0, seconds * G_USEC_PER_SEC);
        gint64 got = g_date_time_to_unix(due) * G_USEC_PER_SEC + g_date_time_get_microsecond(due);
        gint64 between = calendar_between(c, start, end);
        gint64 plain_between = plain_walk(c, pl, a, a + span * G_USEC_PER_SEC, 0) / G_USEC_PER_SEC;
        if (expect < 0)
            expect = a + seconds * G_USEC_PER_SEC; /* no open hour within reach: real time */
        if (got != expect || between != plain_between) {
            g_autofree char *from = g_date_time_format_iso8601(start);
            g_test_message("%s in %s from %s: %" G_GINT64_FORMAT " s, %" G_GINT64_FORMAT " s span",
                           pl->hours, g_time_zone_get_identifier(calendar_get_zone(c)), from,
                           seconds, span);
        }
        g_assert_cmpint(got, ==, expect);
        g_assert_cmpint(between, ==, plain_between);
        calendar_free(c);
    }
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/calendar/add", test_add);
    g_test_add_func("/calendar/between", test_between);
    g_test_add_func("/calendar/easter", test_easter);
    g_test_add_func("/calendar/dutch-holidays", test_dutch_holidays);
    g_test_add_func("/calendar/hours", test_hours);
    g_test_add_func("/calendar/dst-and-years", test_dst_and_years);
    g_test_add_func("/calendar/pause-over-new-year", test_pause_over_new_year);
    g_test_add_func("/calendar/holidays-far-years", test_holidays_far_years);
    g_test_add_func("/calendar/plan-far-year", test_plan_far_year);
    g_test_add_func("/calendar/copy-and-zone", test_copy_and_zone);
    g_test_add_func("/calendar/against-plain-walk", test_against_plain_walk);
    return g_test_run();
}
