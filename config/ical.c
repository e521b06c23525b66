/*
 * ical - reading a holiday file with libical.
 *
 * The file is parsed whole; libical keeps going past a bad line and marks
 * it with an X-LIC-ERROR property, which we turn into a refusal: a holiday
 * silently dropped would make every deadline around it wrong.  libical
 * also accepts dates such as month 13, so every date is checked again.
 *
 * Times with a TZID use the file's VTIMEZONE, else libical's copy of the
 * system's zone of that name, else GLib's; a TZID none of them knows is an
 * error.  What is found is collected first and added to the calendar only
 * when the whole file is read, so a file that fails halfway adds nothing;
 * the days are added in order, so that even a daily event over the two
 * centuries of a plan's window costs one pass.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <libical/ical.h>

#include "config/ical.h"

/* The quark's name is the first argument as written. */
/* clang-format off */
G_DEFINE_QUARK(ical-error-quark, ical_error)
/* clang-format on */

/* How the times of one property become seconds. */
struct zone {
    icaltimezone *iz; /* libical's, or */
    GTimeZone *gz;    /* GLib's, or neither: floating */
};

/* A closed span of a timed occurrence. */
struct closure {
    gint64 start, end;
    bool is_floating;
};

struct reader {
    const char *path;
    int first, last;
    icalcomponent *vcalendar;
    GArray *days;           /* guint32 Julian days of all-day occurrences */
    GArray *closures;       /* struct closure */
    GHashTable *overridden; /* "UID\n" + occurrence key, of RECURRENCE-ID events */
};

/* One event's occurrences: its length and what is taken out. */
struct event {
    const char *name;
    const char *uid;
    bool is_date;
    struct zone zone;
    int days;            /* all-day */
    gint64 seconds;      /* timed */
    GHashTable *exdates; /* occurrence keys */
    guint count;
};

static void
zone_clear(struct zone *z)
{
    g_clear_pointer(&z->gz, g_time_zone_unref);
    z->iz = NULL;
}

static bool
valid_time(struct icaltimetype t)
{
    if (icaltime_is_null_time(t) || !g_date_valid_dmy(t.day, t.month, t.year))
        return false;
    return t.is_date || (t.hour >= 0 && t.hour < 24 && t.minute >= 0 && t.minute < 60 &&
                         t.second >= 0 && t.second <= 60);
}

static bool fail(GError **error, const struct reader *r, const char *event, const char *fmt, ...)
    G_GNUC_PRINTF(4, 5);

static bool
fail(GError **error, const struct reader *r, const char *event, const char *fmt, ...)
{
    va_list ap;
    g_autofree char *why = NULL;

    va_start(ap, fmt);
    why = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    if (event != NULL)
        g_set_error(error, ICAL_ERROR, 0, "%s: event \"%s\": %s", r->path, event, why);
    else
        g_set_error(error, ICAL_ERROR, 0, "%s: %s", r->path, why);
    return false;
}

static bool
zone_of(const struct reader *r, const char *event, icalproperty *prop, struct icaltimetype t,
        struct zone *z, GError **error)
{
    icalparameter *param = icalproperty_get_first_parameter(prop, ICAL_TZID_PARAMETER);
    const char *tzid = param != NULL ? icalparameter_get_tzid(param) : NULL;

    z->iz = NULL;
    z->gz = NULL;
    if (t.is_date)
        return true;
    if (icaltime_is_utc(t)) {
        z->iz = icaltimezone_get_utc_timezone();
        return true;
    }
    if (t.zone != NULL) {
        z->iz = (icaltimezone *)t.zone;
        return true;
    }
    if (tzid == NULL)
        return true;
    z->iz = icalcomponent_get_timezone(r->vcalendar, tzid);
    if (z->iz == NULL)
        z->iz = icaltimezone_get_builtin_timezone(tzid);
    if (z->iz == NULL)
        z->gz = g_time_zone_new_identifier(tzid);
    if (z->iz == NULL && z->gz == NULL)
        return fail(error, r, event,
                    "TZID=%s is no time zone we know and the file has no VTIMEZONE for it", tzid);
    return true;
}

/* Instants for zoned times; for floating ones the wall clock read as UTC. */
static gint64
zone_seconds(const struct zone *z, struct icaltimetype t)
{
    g_autoptr(GDateTime) d = NULL;

    if (z->iz != NULL)
        return (gint64)icaltime_as_timet_with_zone(t, z->iz);
    if (z->gz != NULL)
        d = g_date_time_new(z->gz, t.year, t.month, t.day, t.hour, t.minute, t.second);
    else
        d = g_date_time_new_utc(t.year, t.month, t.day, t.hour, t.minute, t.second);
    return d != NULL ? g_date_time_to_unix(d) : 0;
}

static guint32
julian(struct icaltimetype t)
{
    GDate d;

    g_date_clear(&d, 1);
    g_date_set_dmy(&d, (GDateDay)t.day, (GDateMonth)t.month, (GDateYear)t.year);
    return g_date_get_julian(&d);
}

/* Which occurrence T is, for EXDATE and RECURRENCE-ID matching. */
static char *
occurrence_key(const struct zone *z, struct icaltimetype t)
{
    if (t.is_date)
        return g_strdup_printf("D:%04d-%02d-%02d", t.year, t.month, t.day);
    return g_strdup_printf("T:%" G_GINT64_FORMAT, zone_seconds(z, t));
}

/* A property's date or date-time, checked, with the zone it is in. */
static bool
prop_time(const struct reader *r, const char *event, icalproperty *prop, icalcomponent *ev,
          struct icaltimetype *t, struct zone *z, GError **error)
{
    *t = icalproperty_get_datetime_with_component(prop, ev);
    if (!valid_time(*t))
        return fail(error, r, event, "%s is not a valid date or date-time",
                    icalproperty_get_property_name(prop));
    return zone_of(r, event, prop, *t, z, error);
}

static bool
is_excluded(const struct reader *r, const struct event *e, const char *key, struct icaltimetype t)
{
    g_autofree char *date_key = g_strdup_printf("D:%04d-%02d-%02d", t.year, t.month, t.day);
    g_autofree char *uid_key = NULL;

    if (g_hash_table_contains(e->exdates, key) || g_hash_table_contains(e->exdates, date_key))
        return true;
    if (e->uid == NULL)
        return false;
    uid_key = g_strconcat(e->uid, "\n", key, NULL);
    return g_hash_table_contains(r->overridden, uid_key);
}

/* Closes one occurrence starting at T, of LENGTH (days or seconds). */
static void
close_occurrence(struct reader *r, const struct event *e, struct icaltimetype t, gint64 length)
{
    if (t.is_date) {
        GDate from, to;
        guint32 start = julian(t);
        g_date_clear(&from, 1);
        g_date_clear(&to, 1);
        g_date_set_dmy(&from, 1, G_DATE_JANUARY, (GDateYear)r->first);
        g_date_set_dmy(&to, 31, G_DATE_DECEMBER, (GDateYear)r->last);
        /* Only the days inside the years covered: a range over decades
         * costs no more than the years asked for. */
        guint32 lo = MAX(start, g_date_get_julian(&from));
        guint32 hi = (guint32)MIN((gint64)start + length - 1, (gint64)g_date_get_julian(&to));
        for (guint32 j = lo; j <= hi; j++)
            g_array_append_val(r->days, j);
        return;
    }
    /* A timed occurrence a day beyond the years may still reach into them
     * in another zone. */
    if (t.year < r->first - 1 || t.year > r->last + 1)
        return;
    gint64 s = zone_seconds(&e->zone, t);
    struct closure cl = { s, s + length, e->zone.iz == NULL && e->zone.gz == NULL };
    g_array_append_val(r->closures, cl);
}

static bool
add_occurrence(struct reader *r, struct event *e, struct icaltimetype t, gint64 length,
               GError **error)
{
    g_autofree char *key = occurrence_key(&e->zone, t);

    if (++e->count > ICAL_MAX_OCCURRENCES)
        return fail(error, r, e->name,
                    "repeats more than %d times up to %d; give it a later DTSTART or an UNTIL",
                    ICAL_MAX_OCCURRENCES, r->last);
    if (!is_excluded(r, e, key, t))
        close_occurrence(r, e, t, length);
    return true;
}

static bool
expand_rrule(struct reader *r, struct event *e, icalproperty *prop, struct icaltimetype start,
             GError **error)
{
    struct icalrecurrencetype rule = icalproperty_get_rrule(prop);
    icalrecur_iterator *it = icalrecur_iterator_new(rule, start);
    bool ok = true;

    if (it == NULL)
        return fail(error, r, e->name, "RRULE:%s cannot be expanded",
                    icalproperty_get_value_as_string(prop));
    for (;;) {
        struct icaltimetype t = icalrecur_iterator_next(it);
        if (icaltime_is_null_time(t) || t.year > r->last + 1)
            break;
        /* The iterator gives DTSTART first, which is added already. */
        if (icaltime_compare(t, start) == 0)
            continue;
        if (!(ok = add_occurrence(r, e, t, e->is_date ? e->days : e->seconds, error)))
            break;
    }
    icalrecur_iterator_free(it);
    return ok;
}

static bool
expand_rdate(struct reader *r, struct event *e, icalproperty *prop, GError **error)
{
    struct icaldatetimeperiodtype v = icalproperty_get_rdate(prop);
    struct icaltimetype t = icaltime_is_null_time(v.time) ? v.period.start : v.time;
    gint64 length = e->is_date ? e->days : e->seconds;

    if (!valid_time(t) || (bool)t.is_date != e->is_date)
        return fail(error, r, e->name, "RDATE must be a %s like DTSTART",
                    e->is_date ? "date" : "date-time");
    if (!icaltime_is_null_time(v.time) || e->is_date)
        return add_occurrence(r, e, t, length, error);
    if (!icaltime_is_null_time(v.period.end))
        length = zone_seconds(&e->zone, v.period.end) - zone_seconds(&e->zone, t);
    else
        length = icaldurationtype_as_int(v.period.duration);
    return add_occurrence(r, e, t, MAX(length, 0), error);
}

/* The event's length from DTEND or DURATION; RFC 5545 3.6.1 for neither. */
static bool
event_length(struct reader *r, struct event *e, icalcomponent *ev, struct icaltimetype start,
             GError **error)
{
    icalproperty *dtend = icalcomponent_get_first_property(ev, ICAL_DTEND_PROPERTY);
    icalproperty *duration = icalcomponent_get_first_property(ev, ICAL_DURATION_PROPERTY);

    e->days = 1;
    e->seconds = 0;
    if (dtend != NULL) {
        struct icaltimetype end;
        struct zone z = { 0 };
        if (!prop_time(r, e->name, dtend, ev, &end, &z, error))
            return false;
        if ((bool)end.is_date != e->is_date) {
            zone_clear(&z);
            return fail(error, r, e->name, "DTSTART and DTEND must both be dates or date-times");
        }
        if (e->is_date)
            e->days = (int)julian(end) - (int)julian(start);
        else
            e->seconds = zone_seconds(&z, end) - zone_seconds(&e->zone, start);
        zone_clear(&z);
    } else if (duration != NULL) {
        struct icaldurationtype d = icalproperty_get_duration(duration);
        if (e->is_date)
            e->days = d.is_neg ? -1 : (int)(d.weeks * 7 + d.days);
        else
            e->seconds = icaldurationtype_as_int(d);
    }
    if ((e->is_date && e->days <= 0) || (!e->is_date && e->seconds < 0))
        return fail(error, r, e->name, "ends before it starts");
    return true;
}

static void
event_clear(struct event *e)
{
    zone_clear(&e->zone);
    g_clear_pointer(&e->exdates, g_hash_table_unref);
}

static const char *
event_name(icalcomponent *ev, guint n, char *buf, gsize size)
{
    const char *summary = icalcomponent_get_summary(ev);
    const char *uid = icalcomponent_get_uid(ev);

    if (summary != NULL && *summary != '\0')
        return summary;
    if (uid != NULL && *uid != '\0')
        return uid;
    g_snprintf(buf, size, "#%u", n);
    return buf;
}

static bool
read_event(struct reader *r, icalcomponent *ev, guint n, GError **error)
{
    char buf[32];
    struct event e = { .name = event_name(ev, n, buf, sizeof(buf)),
                       .uid = icalcomponent_get_uid(ev) };
    icalproperty *dtstart = icalcomponent_get_first_property(ev, ICAL_DTSTART_PROPERTY);
    struct icaltimetype start;
    icalproperty *p;
    bool ok = false;

    if (icalcomponent_get_status(ev) == ICAL_STATUS_CANCELLED)
        return true;
    if (dtstart == NULL)
        return fail(error, r, e.name, "no DTSTART");
    e.exdates = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    if (!prop_time(r, e.name, dtstart, ev, &start, &e.zone, error))
        goto out;
    e.is_date = start.is_date;
    if (!event_length(r, &e, ev, start, error))
        goto out;
    for (p = icalcomponent_get_first_property(ev, ICAL_EXDATE_PROPERTY); p != NULL;
         p = icalcomponent_get_next_property(ev, ICAL_EXDATE_PROPERTY)) {
        struct icaltimetype t;
        struct zone z = { 0 };
        if (!prop_time(r, e.name, p, ev, &t, &z, error))
            goto out;
        g_hash_table_add(e.exdates, occurrence_key(&z, t));
        zone_clear(&z);
    }
    /* An override is an occurrence of its own; only its master's copy of
     * that occurrence goes. */
    if (icalcomponent_get_first_property(ev, ICAL_RECURRENCEID_PROPERTY) != NULL)
        e.uid = NULL;
    if (!add_occurrence(r, &e, start, e.is_date ? e.days : e.seconds, error))
        goto out;
    for (p = icalcomponent_get_first_property(ev, ICAL_RRULE_PROPERTY); p != NULL;
         p = icalcomponent_get_next_property(ev, ICAL_RRULE_PROPERTY))
        if (!expand_rrule(r, &e, p, start, error))
            goto out;
    for (p = icalcomponent_get_first_property(ev, ICAL_RDATE_PROPERTY); p != NULL;
         p = icalcomponent_get_next_property(ev, ICAL_RDATE_PROPERTY))
        if (!expand_rdate(r, &e, p, error))
            goto out;
    ok = true;
out:
    event_clear(&e);
    return ok;
}

/* Notes the occurrences that RECURRENCE-ID events replace. */
static bool
read_overrides(struct reader *r, GError **error)
{
    icalcomponent *ev;
    guint n = 0;

    for (ev = icalcomponent_get_first_component(r->vcalendar, ICAL_VEVENT_COMPONENT); ev != NULL;
         ev = icalcomponent_get_next_component(r->vcalendar, ICAL_VEVENT_COMPONENT)) {
        icalproperty *p = icalcomponent_get_first_property(ev, ICAL_RECURRENCEID_PROPERTY);
        const char *uid = icalcomponent_get_uid(ev);
        struct icaltimetype t;
        struct zone z = { 0 };
        char buf[32];
        n++;
        if (p == NULL || uid == NULL)
            continue;
        if (!prop_time(r, event_name(ev, n, buf, sizeof(buf)), p, ev, &t, &z, error))
            return false;
        g_autofree char *key = occurrence_key(&z, t);
        g_hash_table_add(r->overridden, g_strconcat(uid, "\n", key, NULL));
        zone_clear(&z);
    }
    return true;
}

/* The first X-LIC-ERROR libical left in C or below, with its event. */
static icalproperty *
first_parse_error(icalcomponent *c, icalcomponent **where)
{
    icalproperty *p = icalcomponent_get_first_property(c, ICAL_XLICERROR_PROPERTY);

    if (p != NULL) {
        *where = c;
        return p;
    }
    for (icalcomponent *k = icalcomponent_get_first_component(c, ICAL_ANY_COMPONENT); k != NULL;
         k = icalcomponent_get_next_component(c, ICAL_ANY_COMPONENT))
        if ((p = first_parse_error(k, where)) != NULL)
            return p;
    return NULL;
}

static bool
read_vcalendar(struct reader *r, icalcomponent *vcalendar, GError **error)
{
    guint n = 0;

    r->vcalendar = vcalendar;
    if (!read_overrides(r, error))
        return false;
    for (icalcomponent *ev = icalcomponent_get_first_component(vcalendar, ICAL_VEVENT_COMPONENT);
         ev != NULL; ev = icalcomponent_get_next_component(vcalendar, ICAL_VEVENT_COMPONENT))
        if (!read_event(r, ev, ++n, error))
            return false;
    return true;
}

static bool
read_root(struct reader *r, icalcomponent *root, GError **error)
{
    icalcomponent *where = NULL;
    icalproperty *bad = first_parse_error(root, &where);

    if (bad != NULL) {
        char buf[32];
        const char *event = icalcomponent_isa(where) == ICAL_VEVENT_COMPONENT
                                ? event_name(where, 0, buf, sizeof(buf))
                                : NULL;
        /* libical says it drops the property; we refuse the file instead. */
        g_autofree char *why = g_strdup(icalproperty_get_xlicerror(bad));
        char *drop = why != NULL ? strstr(why, ". Removing entire property") : NULL;
        if (drop != NULL)
            memmove(drop, drop + strlen(". Removing entire property"),
                    strlen(drop + strlen(". Removing entire property")) + 1);
        return fail(error, r, event, "not valid iCalendar: %s", why != NULL ? why : "?");
    }
    if (icalcomponent_isa(root) == ICAL_VCALENDAR_COMPONENT)
        return read_vcalendar(r, root, error);
    if (icalcomponent_isa(root) != ICAL_XROOT_COMPONENT)
        return fail(error, r, NULL, "not an iCalendar file (it must begin with BEGIN:VCALENDAR)");
    /* Several calendars concatenated in one file. */
    for (icalcomponent *c = icalcomponent_get_first_component(root, ICAL_VCALENDAR_COMPONENT);
         c != NULL; c = icalcomponent_get_next_component(root, ICAL_VCALENDAR_COMPONENT))
        if (!read_vcalendar(r, c, error))
            return false;
    return true;
}

static char *
read_file(const char *path, GError **error)
{
    FILE *f = fopen(path, "rb");
    GString *text;
    char buf[8192];
    size_t n;

    if (f == NULL) {
        int saved = errno;
        g_set_error(error, ICAL_ERROR, 0, "%s: cannot be opened: %s", path, g_strerror(saved));
        return NULL;
    }
    text = g_string_new(NULL);
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
        g_string_append_len(text, buf, (gssize)n);
        if (text->len > ICAL_MAX_BYTES) {
            g_set_error(error, ICAL_ERROR, 0, "%s: larger than %d bytes", path, ICAL_MAX_BYTES);
            break;
        }
    }
    if (ferror(f) && !(error != NULL && *error != NULL)) {
        int saved = errno;
        g_set_error(error, ICAL_ERROR, 0, "%s: cannot be read: %s", path, g_strerror(saved));
    }
    fclose(f);
    if (error != NULL && *error != NULL) {
        g_string_free(text, TRUE);
        return NULL;
    }
    return g_string_free(text, FALSE);
}

static gint
julian_compare(gconstpointer a, gconstpointer b)
{
    const guint32 *x = a, *y = b;

    return *x < *y ? -1 : *x > *y;
}

static gint
closure_compare(gconstpointer a, gconstpointer b)
{
    const struct closure *x = a, *y = b;

    return x->start < y->start ? -1 : x->start > y->start;
}

/* Adds what R found to C, in order. */
static void
add_found(struct calendar *c, struct reader *r)
{
    GDate d;

    g_array_sort(r->days, julian_compare);
    for (guint i = 0; i < r->days->len; i++) {
        g_date_clear(&d, 1);
        g_date_set_julian(&d, g_array_index(r->days, guint32, i));
        calendar_add_holiday(c, g_date_get_year(&d), g_date_get_month(&d), g_date_get_day(&d));
    }
    g_array_sort(r->closures, closure_compare);
    for (guint i = 0; i < r->closures->len; i++) {
        const struct closure *cl = &g_array_index(r->closures, struct closure, i);
        calendar_add_closure(c, cl->start, cl->end, cl->is_floating);
    }
}

bool
ical_read_holidays(struct calendar *c, const char *path, int first, int last, GError **error)
{
    GError *local = NULL;
    g_autofree char *text = read_file(path, &local);
    icalcomponent *root;
    struct reader r = { .path = path, .first = first, .last = last };
    bool ok;

    if (text == NULL) {
        g_propagate_error(error, local);
        return false;
    }
    root = icalparser_parse_string(text);
    if (root == NULL)
        return fail(error, &r, NULL,
                    "not an iCalendar file (no complete BEGIN:VCALENDAR ... END:VCALENDAR)");
    r.days = g_array_new(FALSE, FALSE, sizeof(guint32));
    r.closures = g_array_new(FALSE, FALSE, sizeof(struct closure));
    r.overridden = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    ok = read_root(&r, root, error);
    if (ok)
        add_found(c, &r);
    g_hash_table_unref(r.overridden);
    g_array_unref(r.days);
    g_array_unref(r.closures);
    icalcomponent_free(root);
    return ok;
}

char *
ical_plan_holiday_files(struct plan *p, const char *value)
{
    g_auto(GStrv) paths = g_strsplit(value, ";", -1);

    for (char **f = paths; *f != NULL; f++) {
        g_autoptr(GError) error = NULL;
        char *path = g_strstrip(*f);
        if (*path == '\0')
            continue;
        if (!ical_read_holidays(p->calendar, path, ICAL_FIRST_YEAR, ICAL_LAST_YEAR, &error))
            return g_strdup(error->message);
    }
    return NULL;
}
