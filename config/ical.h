/*
 * ical - holidays from iCalendar (RFC 5545) files, for a plan's calendar
 * (the [plan:NAME] holiday_file key).
 *
 * Every VEVENT in the file closes the calendar:
 *   - an all-day event (DTSTART;VALUE=DATE) closes whole local days, from
 *     DTSTART up to DTEND (exclusive) or for its DURATION, one day when
 *     it has neither;
 *   - a timed event closes just its span: a closure at fixed instants when
 *     DTSTART is UTC or has a TZID, a floating one (the plan's or the
 *     customer's wall clock) when it has neither.
 * RRULE and RDATE repeat an event, EXDATE and a RECURRENCE-ID override
 * take occurrences out.  Occurrences are expanded for a window of years
 * when the file is read, ICAL_FIRST_YEAR..ICAL_LAST_YEAR for a plan, so
 * that a yearly event counts in every year a deadline can reach: libical's
 * recurrence iterator and zones are for one thread at a time and stay at
 * the config loader, away from the threads that compute deadlines.  A
 * cancelled event (STATUS:CANCELLED) closes nothing.
 *
 * It lives in config/ because it reads files: router/, which decides
 * mail, does no I/O and only gets the calendar this fills.
 */
#ifndef TM_CONFIG_ICAL_H
#define TM_CONFIG_ICAL_H

#include <stdbool.h>

#include <glib.h>

#include "router/calendar.h"
#include "router/plan.h"

#define ICAL_ERROR (ical_error_quark())
GQuark ical_error_quark(void);

/* Larger files are refused: a holiday file is a few kilobytes. */
#define ICAL_MAX_BYTES (8 * 1024 * 1024)
/* Occurrences one event may have up to the end of year LAST: a daily
 * event over the whole plan window fits, an hourly one does not. */
#define ICAL_MAX_OCCURRENCES 100000
/* The years a plan's holiday files count in. */
#define ICAL_FIRST_YEAR 1970
#define ICAL_LAST_YEAR 2199

/* Adds the holidays and closures of the iCalendar file PATH in the years
 * FIRST..LAST to C.  Fails, leaving C unchanged, with a sentence that
 * names PATH and what is wrong with it. */
bool ical_read_holidays(struct calendar *c, const char *path, int first, int last, GError **error);

/* The holiday_file value VALUE (files separated by ';') read into plan P
 * for the years ICAL_FIRST_YEAR..ICAL_LAST_YEAR.  Returns NULL, or what is
 * wrong (the caller frees it). */
char *ical_plan_holiday_files(struct plan *p, const char *value);

#endif
