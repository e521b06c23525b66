#include "util/timefmt.h"

char *
timefmt_iso8601(GDateTime *t)
{
    g_autoptr(GDateTime) utc = g_date_time_to_utc(t);

    return g_date_time_format(utc, "%Y-%m-%dT%H:%M:%SZ");
}

GDateTime *
timefmt_parse(const char *text)
{
    g_autoptr(GTimeZone) utc = g_time_zone_new_utc();

    if (text == NULL)
        return NULL;
    return g_date_time_new_from_iso8601(text, utc);
}
