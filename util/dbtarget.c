/*
 * dbtarget - telling a PostgreSQL URI from a SQLite path by its text.
 *
 * Edge cases: the scheme is matched case-sensitively, as libpq does; a
 * password is looked for in the user info (before the first '@' of the
 * authority) and in the parameters, whatever their order.
 */
#include <string.h>

#include <glib.h>

#include "util/dbtarget.h"

bool
dbtarget_is_uri(const char *target)
{
    return g_str_has_prefix(target, "postgresql://") || g_str_has_prefix(target, "postgres://");
}

bool
dbtarget_uri_has_password(const char *target)
{
    const char *auth = strstr(target, "://");
    const char *query;

    if (!dbtarget_is_uri(target) || auth == NULL)
        return false;
    auth += 3;
    gsize end = strcspn(auth, "/?");
    const char *at = memchr(auth, '@', end);

    if (at != NULL && memchr(auth, ':', (gsize)(at - auth)) != NULL)
        return true;
    query = strchr(auth, '?');
    if (query == NULL)
        return false;
    g_auto(GStrv) params = g_strsplit(query + 1, "&", -1);
    for (char **p = params; *p != NULL; p++)
        if (g_str_has_prefix(*p, "password="))
            return true;
    return false;
}
