/*
 * test-ical - holidays from iCalendar files (tests/fixtures/ical): all-day
 * days and ranges, yearly rules (for the years asked, and for a plan's
 * whole window), timed closures in a zone, in UTC and floating,
 * exceptions; business-time deadlines that skip them; and every kind of
 * broken file refused with its path, alone and through the config.
 */
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "config/config.h"
#include "config/ical.h"
#include "router/calendar.h"
#include "router/plan.h"

#define FIXTURES "tests/fixtures/ical/"

static char *tmpdir;

static struct calendar *
office(const char *zone)
{
    struct calendar *c = calendar_new(zone);

    g_assert_true(calendar_set_hours(c, "mon-fri 08:00-17:00", NULL));
    return c;
}

static void
read_ok(struct calendar *c, const char *fixture)
{
    g_autoptr(GError) error = NULL;

    g_assert_true(ical_read_holidays(c, fixture, 2026, 2027, &error));
    g_assert_no_error(error);
}

/* Whether the local day ISO ("YYYY-MM-DD") is a holiday of C. */
static bool
has_date(const struct calendar *c, const char *iso)
{
    int y, m, d;

    g_assert_cmpint(sscanf(iso, "%d-%d-%d", &y, &m, &d), ==, 3);
    return calendar_is_holiday_date(c, y, m, d);
}

static void
assert_holidays(const struct calendar *c, const char *const *dates)
{
    guint n = 0;

    for (; dates[n] != NULL; n++) {
        g_test_message("holiday %s", dates[n]);
        g_assert_true(has_date(c, dates[n]));
    }
    g_assert_cmpuint(calendar_n_holidays(c), ==, n);
}

/* START (local wall clock) plus SECONDS of business time, as local text. */
static char *
due(const struct calendar *c, int y, int mo, int d, int h, int mi, gint64 seconds)
{
    g_autoptr(GDateTime) start = g_date_time_new(calendar_get_zone(c), y, mo, d, h, mi, 0);
    g_autoptr(GDateTime) end = calendar_add(c, start, seconds);
    g_autoptr(GDateTime) local = g_date_time_to_timezone(end, calendar_get_zone(c));

    /* add and between must agree on every calendar. */
    g_assert_cmpint(calendar_between(c, start, end), ==, seconds);
    return g_date_time_format(local, "%a %Y-%m-%d %H:%M");
}

static void
test_all_day(void)
{
    struct calendar *c = office("Europe/Amsterdam");
    static const char *const dates[] = { "2026-11-24", "2026-11-25", "2026-11-26", "2026-11-27",
                                         "2027-02-15", "2027-02-16", "2027-02-17", NULL };
    static const struct {
        const char *what;
        int y, mo, d, h, mi;
        gint64 seconds;
        const char *expect;
    } cases[] = {
        { "the single day and the range", 2026, 11, 23, 16, 30, 3600, "Mon 2026-11-30 08:30" },
        { "start on the single day", 2026, 11, 24, 10, 0, 1800, "Mon 2026-11-30 08:30" },
        { "nothing to add on a holiday", 2026, 11, 24, 10, 0, 0, "Tue 2026-11-24 10:00" },
        { "a range by DURATION", 2027, 2, 12, 16, 0, 2 * 3600, "Thu 2027-02-18 09:00" },
        { "the day after a range is open", 2027, 2, 18, 8, 0, 9 * 3600, "Thu 2027-02-18 17:00" },
    };

    read_ok(c, FIXTURES "single-day.ics");
    read_ok(c, FIXTURES "multi-day.ics");
    assert_holidays(c, dates);
    g_assert_cmpuint(calendar_n_closures(c), ==, 0);
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *got =
            due(c, cases[i].y, cases[i].mo, cases[i].d, cases[i].h, cases[i].mi, cases[i].seconds);
        g_test_message("%s", cases[i].what);
        g_assert_cmpstr(got, ==, cases[i].expect);
    }
    calendar_free(c);
}

static void
test_yearly(void)
{
    struct calendar *c = office("Europe/Amsterdam");
    /* 2001's rule reaches the years asked for, and no further. */
    static const char *const dates[] = { "2026-12-24", "2027-12-24", "2026-06-01", "2027-06-07",
                                         NULL };

    read_ok(c, FIXTURES "yearly.ics");
    assert_holidays(c, dates);
    /* With the Dutch holidays: Christmas Eve, Christmas and Boxing Day. */
    calendar_set_dutch_holidays(c, true);
    g_autofree char *christmas = due(c, 2026, 12, 23, 16, 30, 3600);
    g_assert_cmpstr(christmas, ==, "Mon 2026-12-28 08:30");
    g_autofree char *founders = due(c, 2027, 6, 4, 16, 0, 2 * 3600);
    g_assert_cmpstr(founders, ==, "Tue 2027-06-08 09:00");
    calendar_free(c);
}

static void
test_timed(void)
{
    struct calendar *c = office("Europe/Amsterdam");
    static const struct {
        const char *what;
        int y, mo, d, h, mi;
        gint64 seconds;
        const char *expect;
    } cases[] = {
        { "around a zoned meeting", 2026, 11, 24, 12, 30, 3600, "Tue 2026-11-24 15:30" },
        { "start inside it", 2026, 11, 24, 14, 0, 1800, "Tue 2026-11-24 15:30" },
        { "the morning stays open", 2026, 11, 24, 8, 0, 4 * 3600, "Tue 2026-11-24 12:00" },
        { "a UTC span, an hour later in CET", 2026, 11, 25, 10, 30, 3600, "Wed 2026-11-25 12:30" },
        { "a floating span on this calendar's clock", 2026, 11, 26, 8, 30, 3600,
          "Thu 2026-11-26 10:30" },
        { "from the afternoon over all three", 2026, 11, 23, 16, 0, 3 * 9 * 3600,
          "Fri 2026-11-27 11:00" },
    };

    read_ok(c, FIXTURES "timed.ics");
    g_assert_cmpuint(calendar_n_holidays(c), ==, 0);
    g_assert_cmpuint(calendar_n_closures(c), ==, 3);
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *got =
            due(c, cases[i].y, cases[i].mo, cases[i].d, cases[i].h, cases[i].mi, cases[i].seconds);
        g_test_message("%s", cases[i].what);
        g_assert_cmpstr(got, ==, cases[i].expect);
    }
    g_autoptr(GDateTime) meeting = g_date_time_new(calendar_get_zone(c), 2026, 11, 24, 14, 0, 0);
    g_assert_false(calendar_is_holiday(c, meeting));
    calendar_free(c);

    /* In New York the zoned spans stay at their instants (the meeting is
     * 07:00-09:00 there) and the floating one moves to 09:00 New York. */
    c = office("America/New_York");
    read_ok(c, FIXTURES "timed.ics");
    g_autofree char *ny_meeting = due(c, 2026, 11, 24, 8, 0, 3600);
    g_assert_cmpstr(ny_meeting, ==, "Tue 2026-11-24 10:00");
    g_autofree char *ny_training = due(c, 2026, 11, 26, 8, 30, 3600);
    g_assert_cmpstr(ny_training, ==, "Thu 2026-11-26 10:30");
    /* A copy (what a plan hands out per customer) keeps its closures. */
    struct calendar *copy = calendar_copy(c);
    g_autofree char *copied = due(copy, 2026, 11, 26, 8, 30, 3600);
    g_assert_cmpstr(copied, ==, "Thu 2026-11-26 10:30");
    calendar_free(copy);
    calendar_free(c);
}

static void
test_vtimezone(void)
{
    struct calendar *c = office("Europe/Amsterdam");

    read_ok(c, FIXTURES "vtimezone.ics");
    g_assert_cmpuint(calendar_n_closures(c), ==, 1);
    /* 16:00-17:00 in the file's own "Office Time" (CET in November). */
    g_autofree char *got = due(c, 2026, 11, 24, 15, 30, 3600);
    g_assert_cmpstr(got, ==, "Wed 2026-11-25 08:30");
    calendar_free(c);
}

static void
test_exceptions(void)
{
    struct calendar *c = office("UTC");
    static const char *const dates[] = { "2026-11-23", "2027-03-02", NULL };

    read_ok(c, FIXTURES "exceptions.ics");
    assert_holidays(c, dates);
    /* Three weekly lunches, the middle one cancelled. */
    g_assert_cmpuint(calendar_n_closures(c), ==, 2);
    g_autofree char *week1 = due(c, 2026, 11, 24, 11, 30, 3600);
    g_assert_cmpstr(week1, ==, "Tue 2026-11-24 12:30"); /* moved holiday: the 24th is open */
    g_autofree char *week2 = due(c, 2026, 11, 30, 11, 30, 3600);
    g_assert_cmpstr(week2, ==, "Mon 2026-11-30 12:30");
    g_autofree char *week3 = due(c, 2026, 12, 7, 11, 30, 3600);
    g_assert_cmpstr(week3, ==, "Mon 2026-12-07 13:30");
    calendar_free(c);
}

static void
test_no_events(void)
{
    struct calendar *c = office("UTC");

    read_ok(c, FIXTURES "no-events.ics");
    g_assert_cmpuint(calendar_n_holidays(c), ==, 0);
    g_assert_cmpuint(calendar_n_closures(c), ==, 0);
    calendar_free(c);
}

static void
test_errors(void)
{
    static const struct {
        const char *fixture;
        const char *why;
    } cases[] = {
        { "does-not-exist.ics", "cannot be opened: No such file or directory" },
        { "", "cannot be read: Is a directory" },
        { "broken-not-ical.ics", "not an iCalendar file" },
        { "broken-truncated.ics", "not an iCalendar file" },
        { "broken-rrule.ics", "event \"Bad rule\": not valid iCalendar: " },
        { "broken-date.ics", "event \"Thirteenth month\": DTSTART is not a valid date" },
        { "broken-tzid.ics", "event \"Meeting on Mars\": TZID=Mars/Olympus_Mons is no time zone" },
        { "broken-backwards.ics", "event \"Backwards\": ends before it starts" },
        { "broken-no-dtstart.ics", "event \"When?\": no DTSTART" },
        { "broken-dense.ics", "event \"Every hour since 1990\": repeats more than 100000 times" },
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        struct calendar *c = office("UTC");
        g_autoptr(GError) error = NULL;
        g_autofree char *path = g_strconcat(FIXTURES, cases[i].fixture, NULL);
        g_autofree char *prefix = g_strconcat(path, ": ", NULL);

        /* A good file first: a bad one must not take its holidays away,
         * nor add half of its own. */
        read_ok(c, FIXTURES "single-day.ics");
        g_assert_false(ical_read_holidays(c, path, 2026, 2027, &error));
        g_assert_nonnull(error);
        g_test_message("%s", error->message);
        g_assert_true(g_str_has_prefix(error->message, prefix));
        g_assert_nonnull(strstr(error->message, cases[i].why));
        g_assert_cmpuint(calendar_n_holidays(c), ==, 1);
        g_assert_cmpuint(calendar_n_closures(c), ==, 0);
        calendar_free(c);
    }
}

static void
test_plan_key(void)
{
    struct plan *p = plan_new("gold");
    g_autofree char *why = NULL;
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    g_autofree char *eve = g_strdup_printf("%04d-12-24", g_date_time_get_year(now));

    g_assert_true(g_strv_contains(plan_keys, "holiday_file"));
    why = ical_plan_holiday_files(p, FIXTURES "yearly.ics ; " FIXTURES "timed.ics;");
    g_assert_null(why);
    g_assert_true(has_date(p->calendar, eve));
    g_assert_cmpuint(calendar_n_closures(p->calendar), ==, 3);
    /* A plan counts the yearly events in every year of its window, not
     * only in those around the day it was loaded. */
    g_assert_true(has_date(p->calendar, "2001-12-24"));
    g_assert_false(has_date(p->calendar, "2000-12-24")); /* before DTSTART */
    g_assert_true(has_date(p->calendar, "2150-12-24"));
    g_assert_true(has_date(p->calendar, "2199-12-24"));
    g_assert_false(has_date(p->calendar, "2200-12-24")); /* past ICAL_LAST_YEAR */
    g_assert_true(has_date(p->calendar, "2100-06-07"));  /* the first Monday of June */
    g_assert_false(has_date(p->calendar, "2100-06-01"));
    g_assert_cmpuint(calendar_n_holidays(p->calendar), ==, (2199 - 2001 + 1) + (2199 - 2020 + 1));
    /* The dates key adds to the file's. */
    g_assert_null(plan_set(p, "holidays", "2030-01-02"));
    g_assert_true(has_date(p->calendar, "2030-01-02"));
    g_assert_true(has_date(p->calendar, eve));

    why = ical_plan_holiday_files(p, FIXTURES "single-day.ics;" FIXTURES "broken-date.ics");
    g_assert_nonnull(why);
    g_assert_nonnull(strstr(why, FIXTURES "broken-date.ics: "));
    plan_free(p);
}

#define MINIMAL                                                                                    \
    "[outbound]\n"                                                                                 \
    "template_dir = templates\n"                                                                   \
    "[milter]\n"                                                                                   \
    "database = /var/lib/tm/tickets.db\n"                                                          \
    "support_addresses = support@example.com\n"

static struct config *
load(const char *plan_lines, char **path, GError **error)
{
    static int n;
    g_autofree char *text = g_strconcat(MINIMAL "[plan:extended]\n", plan_lines, NULL);

    *path = g_strdup_printf("%s/conf-%d.conf", tmpdir, n++);
    g_assert_true(g_file_set_contents(*path, text, -1, NULL));
    return config_load(*path, error);
}

static void
test_config(void)
{
    g_autofree char *cwd = g_get_current_dir();
    g_autofree char *yearly = g_build_filename(cwd, FIXTURES "yearly.ics", NULL);
    g_autofree char *broken = g_build_filename(cwd, FIXTURES "broken-rrule.ics", NULL);
    g_autofree char *missing = g_build_filename(tmpdir, "holidays.ics", NULL);
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    g_autofree char *eve = g_strdup_printf("%04d-12-24", g_date_time_get_year(now));
    g_autofree char *liberation = NULL;
    const struct {
        const char *file;
        const char *why;
    } bad[] = {
        { broken, "not valid iCalendar" },
        { missing, "cannot be opened: No such file or directory" },
    };

    {
        g_autoptr(GError) error = NULL;
        g_autofree char *path = NULL;
        g_autofree char *line =
            g_strdup_printf("holidays = 2030-01-02\nholiday_file = %s\n", yearly);
        struct config *cfg = load(line, &path, &error);
        g_assert_no_error(error);
        g_assert_nonnull(cfg);
        const struct plan *p = config_plan(cfg, "extended");
        /* The file's, the dates key's and the preset's Dutch holidays. */
        g_assert_true(has_date(p->calendar, eve));
        g_assert_true(has_date(p->calendar, "2030-01-02"));
        liberation = g_strdup_printf("%04d-05-05", g_date_time_get_year(now));
        g_assert_true(has_date(p->calendar, liberation));
        config_unref(cfg);
    }
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) error = NULL;
        g_autofree char *path = NULL;
        g_autofree char *line = g_strdup_printf("hours = mon-fri 09:00-17:00\n"
                                                "holiday_file = %s\n",
                                                bad[i].file);
        struct config *cfg = load(line, &path, &error);
        g_assert_null(cfg);
        g_assert_nonnull(error);
        g_test_message("%s", error->message);
        /* The plan group opens on line 6, so the key is on line 8. */
        g_autofree char *expect =
            g_strdup_printf("%s:8: [plan:extended] holiday_file: %s: ", path, bad[i].file);
        g_assert_true(g_str_has_prefix(error->message, expect));
        g_assert_nonnull(strstr(error->message, bad[i].why));
    }
}

int
main(int argc, char **argv)
{
    int rc;

    g_test_init(&argc, &argv, NULL);
    tmpdir = g_dir_make_tmp("test-ical-XXXXXX", NULL);
    g_test_add_func("/ical/all-day", test_all_day);
    g_test_add_func("/ical/yearly", test_yearly);
    g_test_add_func("/ical/timed", test_timed);
    g_test_add_func("/ical/vtimezone", test_vtimezone);
    g_test_add_func("/ical/exceptions", test_exceptions);
    g_test_add_func("/ical/no-events", test_no_events);
    g_test_add_func("/ical/errors", test_errors);
    g_test_add_func("/ical/plan-key", test_plan_key);
    g_test_add_func("/ical/config", test_config);
    rc = g_test_run();
    GDir *dir = g_dir_open(tmpdir, 0, NULL);
    for (const char *name; dir != NULL && (name = g_dir_read_name(dir)) != NULL;) {
        g_autofree char *file = g_build_filename(tmpdir, name, NULL);
        g_remove(file);
    }
    if (dir != NULL)
        g_dir_close(dir);
    g_rmdir(tmpdir);
    g_free(tmpdir);
    return rc;
}
