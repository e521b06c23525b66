/*
 * plan - presets, goals and due times.
 */
#include <stdio.h>
#include <string.h>

#include "router/plan.h"

const char *const plan_goal_names[GOAL_COUNT] = { "response", "update", "resolution" };

const char *const plan_keys[] = {
    "hours",
    "timezone",
    "holidays",
    "holiday_file",
    "dutch_holidays",
    "default_severity",
    "sev1_response",
    "sev1_update",
    "sev1_resolution",
    "sev1_around_the_clock",
    "sev2_response",
    "sev2_update",
    "sev2_resolution",
    "sev2_around_the_clock",
    "sev3_response",
    "sev3_update",
    "sev3_resolution",
    "sev3_around_the_clock",
    "sev4_response",
    "sev4_update",
    "sev4_resolution",
    "sev4_around_the_clock",
    NULL,
};

/* Each preset as the config lines an admin would write. */
static const struct {
    const char *name;
    const char *const *lines;
} presets[] = {
    { "standard",
      (const char *const[]){ "hours=mon-fri 08:00-17:00", "sev1_response=1h", "sev1_update=4h",
                             "sev1_around_the_clock=yes", "sev2_response=2bh", "sev2_update=1bd",
                             "sev3_response=3bd", "default_severity=3", NULL } },
    { "default",
      (const char *const[]){ "hours=mon-fri 10:00-16:00", "dutch_holidays=yes", "sev1_response=8bh",
                             "sev2_response=16bh", "sev3_response=40bh", "sev4_response=40bh",
                             "default_severity=2", NULL } },
    { "extended",
      (const char *const[]){ "hours=mon-fri 08:00-17:00", "dutch_holidays=yes", "sev1_response=4bh",
                             "sev2_response=4bh", "sev3_response=8bh", "sev4_response=8bh",
                             "sev1_resolution=40bh", "sev2_resolution=60bh", "sev3_resolution=80bh",
                             "sev4_resolution=80bh", "default_severity=2", NULL } },
};

struct plan *
plan_new(const char *name)
{
    struct plan *p = g_new0(struct plan, 1);

    p->name = g_strdup(name);
    p->calendar = calendar_new("UTC");
    calendar_set_hours(p->calendar, "mon-fri 08:00-17:00", NULL);
    p->default_severity = 3;
    return p;
}

struct plan *
plan_free(struct plan *p)
{
    if (p == NULL)
        return NULL;
    g_free(p->name);
    g_free(p->timezone);
    calendar_free(p->calendar);
    g_free(p);
    return NULL;
}

struct plan *
plan_preset(const char *name)
{
    for (guint i = 0; i < G_N_ELEMENTS(presets); i++) {
        if (strcmp(presets[i].name, name) != 0)
            continue;
        struct plan *p = plan_new(name);
        for (const char *const *l = presets[i].lines; *l != NULL; l++) {
            g_auto(GStrv) kv = g_strsplit(*l, "=", 2);
            g_autofree char *err = plan_set(p, kv[0], kv[1]);
            g_assert(err == NULL);
        }
        return p;
    }
    return NULL;
}

char *
plan_parse_goal(const char *text, struct goal *out)
{
    char *end = NULL;
    gint64 n;

    if (g_ascii_strcasecmp(text, "none") == 0 || *text == '\0') {
        *out = (struct goal){ UNIT_NONE, 0 };
        return NULL;
    }
    n = g_ascii_strtoll(text, &end, 10);
    if (end == text || n <= 0 || n > 100000)
        goto bad;
    if (strcmp(end, "m") == 0)
        *out = (struct goal){ UNIT_REAL, n * 60 };
    else if (strcmp(end, "h") == 0)
        *out = (struct goal){ UNIT_REAL, n * 3600 };
    else if (strcmp(end, "d") == 0)
        *out = (struct goal){ UNIT_REAL, n * 86400 };
    else if (strcmp(end, "bh") == 0)
        *out = (struct goal){ UNIT_BUSINESS_HOURS, n * 3600 };
    else if (strcmp(end, "bm") == 0)
        *out = (struct goal){ UNIT_BUSINESS_HOURS, n * 60 };
    else if (strcmp(end, "bd") == 0)
        *out = (struct goal){ UNIT_BUSINESS_DAYS, n };
    else
        goto bad;
    return NULL;
bad:
    return g_strdup_printf("\"%s\": a goal is none, or a number with m, h or d (real time) or "
                           "bm, bh or bd (business time), e.g. 4bh",
                           text);
}

static bool
parse_bool(const char *v, bool *out)
{
    if (g_ascii_strcasecmp(v, "yes") == 0 || g_ascii_strcasecmp(v, "true") == 0 ||
        strcmp(v, "1") == 0 || g_ascii_strcasecmp(v, "on") == 0)
        *out = true;
    else if (g_ascii_strcasecmp(v, "no") == 0 || g_ascii_strcasecmp(v, "false") == 0 ||
             strcmp(v, "0") == 0 || g_ascii_strcasecmp(v, "off") == 0)
        *out = false;
    else
        return false;
    return true;
}

char *
plan_set(struct plan *p, const char *key, const char *value)
{
    g_autoptr(GError) error = NULL;

    if (strcmp(key, "hours") == 0) {
        if (!calendar_set_hours(p->calendar, value, &error))
            return g_strdup(error->message);
        return NULL;
    }
    if (strcmp(key, "timezone") == 0) {
        GTimeZone *tz = g_time_zone_new_identifier(value);
        if (tz == NULL)
            return g_strdup_printf("\"%s\" is not a time zone name such as Europe/Amsterdam",
                                   value);
        g_time_zone_unref(tz);
        g_free(p->timezone);
        p->timezone = g_strdup(value);
        return NULL;
    }
    if (strcmp(key, "holidays") == 0) {
        g_auto(GStrv) dates = g_strsplit(value, ";", -1);
        for (char **d = dates; *d != NULL; d++) {
            int y, m, day;
            char *t = g_strstrip(*d);
            if (*t == '\0')
                continue;
            if (sscanf(t, "%4d-%2d-%2d", &y, &m, &day) != 3 || !g_date_valid_dmy(day, m, y))
                return g_strdup_printf("\"%s\" is not a date such as 2026-12-24", t);
            calendar_add_holiday(p->calendar, y, m, day);
        }
        return NULL;
    }
    /* Files are read by config/ (ical.c): router/ does no I/O. */
    if (strcmp(key, "holiday_file") == 0)
        return g_strdup("is read by the config loader, not by plan_set()");
    if (strcmp(key, "dutch_holidays") == 0) {
        bool on;
        if (!parse_bool(value, &on))
            return g_strdup_printf("\"%s\" must be yes or no", value);
        calendar_set_dutch_holidays(p->calendar, on);
        return NULL;
    }
    if (strcmp(key, "default_severity") == 0) {
        if (value[0] < '1' || value[0] > '4' || value[1] != '\0')
            return g_strdup_printf("\"%s\" must be a severity from 1 to 4", value);
        p->default_severity = value[0] - '0';
        return NULL;
    }
    if (g_str_has_prefix(key, "sev") && key[3] >= '1' && key[3] <= '4' && key[4] == '_') {
        int sev = key[3] - '0';
        const char *what = key + 5;
        if (strcmp(what, "around_the_clock") == 0) {
            if (!parse_bool(value, &p->around_the_clock[sev]))
                return g_strdup_printf("\"%s\" must be yes or no", value);
            return NULL;
        }
        for (int k = 0; k < GOAL_COUNT; k++)
            if (strcmp(what, plan_goal_names[k]) == 0)
                return plan_parse_goal(value, &p->goals[sev][k]);
    }
    return g_strdup_printf("unknown plan key %s", key);
}

void
ladder_init(struct ladder *l)
{
    memset(l, 0, sizeof(*l));
    l->initial_stage[1] = 2;
    l->initial_stage[2] = 1;
    l->next_stage[1] = 3;
    l->next_after[1] = (struct goal){ UNIT_BUSINESS_DAYS, 1 };
    l->next_stage[2] = 2;
    l->next_after[2] = (struct goal){ UNIT_BUSINESS_DAYS, 2 };
    l->warn_at = 75;
}

struct calendar *
plan_calendar(const struct plan *p, const char *zone)
{
    struct calendar *c = calendar_copy(p->calendar);

    /* A zone GLib does not know leaves the plan's own. */
    calendar_set_zone(c, p->timezone != NULL ? p->timezone : zone);
    return c;
}

GDateTime *
goal_due(const struct goal *g, const struct calendar *cal, bool around_the_clock, GDateTime *start,
         guint percent)
{
    gint64 seconds;

    switch (g->unit) {
    case UNIT_NONE:
        return NULL;
    case UNIT_REAL:
        return g_date_time_add_seconds(start, (gdouble)(g->amount * percent / 100));
    case UNIT_BUSINESS_HOURS:
        seconds = g->amount;
        break;
    case UNIT_BUSINESS_DAYS:
        seconds = g->amount * calendar_day_length(cal);
        break;
    default:
        return NULL;
    }
    seconds = seconds * percent / 100;
    if (around_the_clock)
        return g_date_time_add_seconds(start, (gdouble)seconds);
    return calendar_add(cal, start, seconds);
}
