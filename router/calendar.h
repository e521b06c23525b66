/*
 * calendar - business time: working hours per weekday in a time zone,
 * minus holidays and closures.
 *
 * Pure.  Time zone rules come from GLib (the system's tzdata), so a goal
 * that crosses a DST change ends at the right wall-clock time.  A calendar
 * that is always open counts every second (24x7).
 *
 * Holidays close whole local days: dates, and the Dutch public holidays as
 * a rule that holds for every year.  Closures close a span of hours (a
 * timed event in a holiday file): a fixed span of instants, or a floating
 * one, written as wall-clock time and read in the calendar's zone, so that
 * it follows the customer's zone when the plan has none.
 *
 * A calendar is built by one thread (the config loader) and then only
 * read: every function taking a const calendar may be called from any
 * number of threads at once.  Copies are cheap (they share the holidays
 * and closures until one of them is changed), so a per-ticket copy in the
 * customer's zone costs little.
 */
#ifndef TM_ROUTER_CALENDAR_H
#define TM_ROUTER_CALENDAR_H

#include <stdbool.h>

#include <glib.h>

#define CALENDAR_ERROR (calendar_error_quark())
GQuark calendar_error_quark(void);

/* Open spans one weekday may have ("08:00-12:00,13:00-17:00" is two). */
#define CALENDAR_MAX_SLOTS 24
/* How far calendar_add() and calendar_between() look, in days (about ten
 * years): a calendar without open hours cannot hang the daemon. */
#define CALENDAR_MAX_DAYS 3700

struct calendar;

/* A calendar in ZONE (an IANA name; UTC when NULL or unknown), closed at
 * every hour until calendar_set_hours(), no holidays, not always open.
 * Never NULL; free it with calendar_free(). */
struct calendar *calendar_new(const char *zone);
/* An independent copy of C: changing one does not change the other. */
struct calendar *calendar_copy(const struct calendar *c);
/* Frees C (NULL is fine); returns NULL. */
struct calendar *calendar_free(struct calendar *c);

/* Moves C to ZONE (an IANA name): its hours, holidays and floating
 * closures are read on that wall clock from then on.  False, leaving C as
 * it was, when ZONE is NULL or no time zone GLib knows. */
bool calendar_set_zone(struct calendar *c, const char *zone);
/* C's time zone; owned by C. */
GTimeZone *calendar_get_zone(const struct calendar *c);
/* ALWAYS_OPEN: every second counts (24x7), whatever the hours, holidays
 * and closures say; they are kept for when it is set back. */
void calendar_set_always_open(struct calendar *c, bool always_open);
bool calendar_is_always_open(const struct calendar *c);

/* Parses "mon-fri 08:00-17:00; sat 10:00-12:00,13:00-15:00" into C's open
 * hours, replacing the old ones.  Fails, leaving C as it was, with a
 * sentence about the part that is wrong. */
bool calendar_set_hours(struct calendar *c, const char *spec, GError **error);
/* Closes the local day YEAR-MONTH-DAY, which must be a valid date of the
 * years 1..9999.  Adding a day twice closes it once. */
void calendar_add_holiday(struct calendar *c, int year, int month, int day);
/* ON: the Dutch public holidays of every year (those of the Algemene
 * termijnenwet) close C: New Year's Day, Easter Sunday and Monday, King's
 * Day (27 April, the 26th when the 27th is a Sunday), Liberation Day
 * (5 May), Ascension Day, Whit Sunday and Monday, Christmas Day and Boxing
 * Day.  Good Friday is not one; add it with a date where a contract says
 * so.  They are computed for whichever year a computation reaches. */
void calendar_set_dutch_holidays(struct calendar *c, bool on);
bool calendar_has_dutch_holidays(const struct calendar *c);
/* Closes [START, END) seconds: Unix seconds, or with IS_FLOATING wall-clock
 * seconds in C's zone (the local time read as if it were UTC).  Nothing
 * when END <= START; overlapping closures count once. */
void calendar_add_closure(struct calendar *c, gint64 start, gint64 end, bool is_floating);

/* Easter Sunday of YEAR (Gregorian). */
void calendar_easter(int year, int *month, int *day);
/* The business seconds of an average open weekday: what "1 business day"
 * means; a whole day when C is always open or has no open hours. */
gint64 calendar_day_length(const struct calendar *c);
/* Whether T's local day in C's zone is a holiday (closures do not count). */
bool calendar_is_holiday(const struct calendar *c, GDateTime *t);
/* Whether the local day YEAR-MONTH-DAY is a holiday (a date or the Dutch
 * rule); false for a date that does not exist. */
bool calendar_is_holiday_date(const struct calendar *c, int year, int month, int day);
/* How many days calendar_add_holiday() closed (the Dutch rule not counted). */
guint calendar_n_holidays(const struct calendar *c);
/* How many separate closed spans C has (overlapping closures are one). */
guint calendar_n_closures(const struct calendar *c);

/* START plus SECONDS of business time, as a new GDateTime in START's zone
 * (the caller unrefs it); the same instant as START when SECONDS <= 0.
 * When C has no open hour within CALENDAR_MAX_DAYS, the SECONDS are
 * counted as real time. */
GDateTime *calendar_add(const struct calendar *c, GDateTime *start, gint64 seconds);
/* The business seconds from A to B (0 when B is not after A), counting at
 * most CALENDAR_MAX_DAYS days from A's. */
gint64 calendar_between(const struct calendar *c, GDateTime *a, GDateTime *b);

#endif
