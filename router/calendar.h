/*
 * calendar - business time: working hours per weekday in a time zone,
 * minus holidays.
 *
 * Pure.  Time zone rules come from GLib (the system's tzdata), so a goal
 * that crosses a DST change ends at the right wall-clock time.  A calendar
 * marked always_open counts every second (24x7).
 *
 * Holidays close whole local days.  Closures close a span of hours
 * (a timed event in a holiday file): a fixed span of instants, or a
 * floating one, written as wall-clock time and read in the calendar's
 * zone, so that it follows the customer's zone when the plan has none.
 */
#ifndef TM_ROUTER_CALENDAR_H
#define TM_ROUTER_CALENDAR_H

#include <stdbool.h>

#include <glib.h>

#define CALENDAR_ERROR (calendar_error_quark())
GQuark calendar_error_quark(void);

struct calendar_closure {
    gint64 start, end; /* [start, end): Unix seconds, or wall-clock seconds read as UTC */
    bool is_floating;
};

struct calendar {
    GTimeZone *tz;
    GArray *slots[8];     /* index 1 (Monday) .. 7 (Sunday): guint pairs, minutes from midnight */
    GHashTable *holidays; /* "YYYY-MM-DD" */
    GArray *closures;     /* struct calendar_closure */
    bool always_open;
};

struct calendar *calendar_new(const char *zone);
struct calendar *calendar_copy(const struct calendar *c);
struct calendar *calendar_free(struct calendar *c);

/* Parses "mon-fri 08:00-17:00; sat 10:00-12:00,13:00-15:00" into C.
 * Fails with a sentence about the part that is wrong. */
bool calendar_set_hours(struct calendar *c, const char *spec, GError **error);
void calendar_add_holiday(struct calendar *c, int year, int month, int day);
/* Closes [START, END) seconds; IS_FLOATING: wall-clock seconds in C's zone. */
void calendar_add_closure(struct calendar *c, gint64 start, gint64 end, bool is_floating);
/* The Dutch public holidays of YEAR (those of the Algemene termijnenwet):
 * New Year's Day, Easter Sunday and Monday, King's Day (27 April, the 26th
 * when the 27th is a Sunday), Liberation Day (5 May), Ascension Day, Whit
 * Sunday and Monday, Christmas Day and Boxing Day. Good Friday is not one;
 * add it with a date where a contract says so. */
void calendar_add_dutch_holidays(struct calendar *c, int year);
/* Easter Sunday of YEAR (Gregorian). */
void calendar_easter(int year, int *month, int *day);
/* The business seconds of an average open weekday: what "1 business day" means. */
gint64 calendar_day_length(const struct calendar *c);
/* Whether T's local day is a holiday (closures do not count). */
bool calendar_is_holiday(const struct calendar *c, GDateTime *t);

/* START plus SECONDS of business time. */
GDateTime *calendar_add(const struct calendar *c, GDateTime *start, gint64 seconds);
/* The business seconds from A to B (0 when B is before A). */
gint64 calendar_between(const struct calendar *c, GDateTime *a, GDateTime *b);

#endif
