/*
 * ical - holidays from iCalendar (RFC 5545) files, for a plan's calendar.
 *
 * Every VEVENT in the file closes the calendar:
 *   - an all-day event (DTSTART;VALUE=DATE) closes whole local days, from
 *     DTSTART up to DTEND (exclusive) or for its DURATION, one day when
 *     it has neither;
 *   - a timed event closes just its span: a closure at fixed instants when
 *     DTSTART is UTC or has a TZID, a floating one (the plan's or the
 *     customer's wall clock) when it has neither.
 * RRULE and RDATE repeat an event, EXDATE and a RECURRENCE-ID override
 * take occurrences out; occurrences are expanded for the years FIRST..LAST
 * only.  A cancelled event (STATUS:CANCELLED) closes nothing.
 *
 * This is the one part of router/ that reads a file: it runs while the
 * config is loaded, never while mail is decided.
 */
#ifndef TM_ROUTER_ICAL_H
#define TM_ROUTER_ICAL_H

#include <stdbool.h>

#include <glib.h>

#include "router/calendar.h"

#define ICAL_ERROR (ical_error_quark())
GQuark ical_error_quark(void);

/* Larger files are refused: a holiday file is a few kilobytes. */
#define ICAL_MAX_BYTES (8 * 1024 * 1024)
/* Occurrences one event may have up to the end of year LAST. */
#define ICAL_MAX_OCCURRENCES 100000

/* Adds the holidays of the iCalendar file PATH in the years FIRST..LAST to
 * C.  Fails, leaving C unchanged, with a sentence that names PATH and what
 * is wrong with it. */
bool ical_read_holidays(struct calendar *c, const char *path, int first, int last,
                        GError **error);

#endif
