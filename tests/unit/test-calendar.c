/*
 * test-calendar - business time on the calendars of the seeds: a goal that
 * starts Friday 16:30 in Europe/Amsterdam and crosses a weekend, a DST
 * change, Easter Monday and King's Day; 24x7 against business time.
 */
#include <glib.h>

#include "router/calendar.h"

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
        { "weekend and end of DST", 2026, 10, 23, 16, 30, 3600, false,
          "Mon 2026-10-26 08:30 CET" },
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
        { 2024, 3, 31 }, { 2025, 4, 20 }, { 2026, 4, 5 }, { 2027, 3, 28 }, { 2038, 4, 25 },
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

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/calendar/add", test_add);
    g_test_add_func("/calendar/between", test_between);
    g_test_add_func("/calendar/easter", test_easter);
    g_test_add_func("/calendar/dutch-holidays", test_dutch_holidays);
    g_test_add_func("/calendar/hours", test_hours);
    return g_test_run();
}
