/*
 * checks - the value checks of the configuration keys (see checks.h).
 */
#include <string.h>

#include <gio/gio.h>
#include <glib.h>

#include "config/checks.h"
#include "router/address.h"
#include "router/plan.h"
#include "util/dbtarget.h"

const char *
config_check_path(const char *v)
{
    return *v == '\0' ? "must be a file path" : NULL;
}

/* An octal permission mode such as 0660. */
/* A SQLite file, or a PostgreSQL URI whose password is kept elsewhere. */
const char *
config_check_database(const char *v)
{
    if (*v == '\0')
        return "must be a file path or a postgresql:// URI";
    if (dbtarget_uri_has_password(v))
        return "must not carry a password: put it in ~/.pgpass of the daemon's user, or in the"
               " file PGPASSFILE names";
    return NULL;
}

const char *
config_check_mode(const char *v)
{
    char *end;
    guint64 m = g_ascii_strtoull(v, &end, 8);

    return *v == '\0' || *end != '\0' || m > 0777 ? "must be an octal mode such as 0660" : NULL;
}

/* USER or USER:GROUP, or :GROUP alone. */
const char *
config_check_owner(const char *v)
{
    const char *colon = strchr(v, ':');
    bool ok =
        *v != '\0' && strcmp(v, ":") != 0 && (colon == NULL || strchr(colon + 1, ':') == NULL);

    for (const char *p = v; ok && *p != '\0'; p++)
        ok = g_ascii_isalnum(*p) || strchr("-_.:", *p) != NULL;
    return ok ? NULL : "must be user, user:group or :group";
}

static bool
is_token_char(char c)
{
    return g_ascii_isalnum(c) || strchr("-_.+", c) != NULL;
}

const char *
config_check_goal(const char *v)
{
    struct goal g;
    g_autofree char *why = plan_parse_goal(v, &g);

    return why != NULL ? "must be none, or a duration such as 1bd, 4bh, 2h or 30m" : NULL;
}

/* LOGIN:ADDRESS, the SMTP AUTH name a staff member logs in with and the
 * From address it may send as. */
const char *
config_check_login(const char *v)
{
    const char *colon = strchr(v, ':');
    g_autofree char *login = colon != NULL ? g_strndup(v, (gsize)(colon - v)) : NULL;

    if (colon == NULL || *login == '\0' || strpbrk(login, " \t\"<>") != NULL ||
        config_check_address(colon + 1) != NULL)
        return "must be LOGIN:ADDRESS, e.g. jdoe:john.doe@example.com";
    return NULL;
}

const char *
config_check_token(const char *v)
{
    if (*v == '\0')
        return "must not be empty";
    for (const char *p = v; *p != '\0'; p++)
        if (!is_token_char(*p))
            return "may contain only letters, digits and - _ . +";
    return NULL;
}

/* Postfix's recipient_delimiter: ASCII punctuation that can start an
 * extension.  Our reply addresses need one, so it is never empty, and a
 * dot, an @ or a quote would make addresses no MTA parses the same way. */
const char *
config_check_delimiter(const char *v)
{
    if (*v == '\0')
        return "must not be empty: reply addresses such as support+tkt-42.TAG@ need a delimiter"
               " (use Postfix's recipient_delimiter, usually +)";
    if (strlen(v) > 8)
        return "may hold at most 8 characters";
    for (const char *p = v; *p != '\0'; p++)
        if (!g_ascii_ispunct(*p) || strchr("@.\"\\()<>[],;:%!", *p) != NULL)
            return "may contain only punctuation such as + - = _ (no @ . \" \\ ( ) < > [ ] , ; : % "
                   "!, which Postfix reads as routing)";
    return NULL;
}

const char *
config_check_domain(const char *v)
{
    g_autofree char *ascii = NULL;

    if (*v == '\0' || *v == '.' || strchr(v, '.') == NULL)
        return "must be a domain name such as example.com";
    /* An international domain is kept in its xn-- form: the form mail is
     * compared in, as the lists keep it. */
    if (g_hostname_is_non_ascii(v) && (ascii = router_ascii_domain(v)) == NULL)
        return "is no international domain name IDNA accepts";
    for (const char *p = ascii != NULL ? ascii : v; *p != '\0'; p++)
        if (!g_ascii_isalnum(*p) && *p != '-' && *p != '.')
            return "must be a domain name such as example.com (no @, no spaces)";
    return NULL;
}

const char *
config_check_address(const char *v)
{
    const char *at = strrchr(v, '@');

    if (at == NULL || at == v || strchr(v, '@') != at)
        return "must be one mail address such as support@example.com";
    for (const char *p = v; p < at; p++)
        if ((unsigned char)*p <= ' ' || strchr("<>(),;:\"[]\\", *p) != NULL)
            return "must be a bare mail address such as support@example.com";
    if (config_check_domain(at + 1) != NULL)
        return "must be a mail address whose domain is a domain name";
    return NULL;
}

static bool
parse_port(const char *text, const char *end)
{
    guint64 port = 0;

    if (text == end || end - text > 5)
        return false;
    for (const char *p = text; p < end; p++) {
        if (!g_ascii_isdigit(*p))
            return false;
        port = port * 10 + (guint64)(*p - '0');
    }
    return port >= 1 && port <= 65535;
}

const char *
config_check_socket(const char *v)
{
    const char *why = "must be inet:PORT@HOST, inet6:PORT@HOST or unix:/absolute/path";

    if (g_str_has_prefix(v, "unix:") || g_str_has_prefix(v, "local:")) {
        const char *path = strchr(v, ':') + 1;
        return path[0] == '/' ? NULL : why;
    }
    if (g_str_has_prefix(v, "inet:") || g_str_has_prefix(v, "inet6:")) {
        const char *port = strchr(v, ':') + 1;
        const char *at = strchr(port, '@');
        if (!parse_port(port, at != NULL ? at : port + strlen(port)))
            return "port must be a number from 1 to 65535 (inet:PORT@HOST)";
        if (at != NULL && at[1] == '\0')
            return why;
        return NULL;
    }
    return why;
}

const char *
config_check_prefix(const char *v)
{
    gsize len = strlen(v);

    if (len < 1 || len > 16 || !g_ascii_isupper(v[0]))
        return "must be 1 to 16 capital letters and digits, starting with a letter (e.g. TKT)";
    for (const char *p = v; *p != '\0'; p++)
        if (!g_ascii_isupper(*p) && !g_ascii_isdigit(*p))
            return "must be 1 to 16 capital letters and digits, starting with a letter (e.g. TKT)";
    return NULL;
}

const char *
config_check_network(const char *v)
{
    GInetAddressMask *mask = g_inet_address_mask_new_from_string(v, NULL);

    if (mask == NULL)
        return "must be an address or network such as 192.0.2.0/24 or 2001:db8::/32";
    g_object_unref(mask);
    return NULL;
}

const char *
config_check_smtp_url(const char *v)
{
    if (!g_str_has_prefix(v, "smtp://") && !g_str_has_prefix(v, "smtps://"))
        return "must be an smtp:// or smtps:// URL such as smtp://127.0.0.1:10025";
    return NULL;
}

const char *
config_check_http_url(const char *v)
{
    if (!g_str_has_prefix(v, "http://") && !g_str_has_prefix(v, "https://"))
        return "must be an http:// or https:// URL";
    return NULL;
}

const char *
config_check_from(const char *v)
{
    if (strchr(v, '@') == NULL || strpbrk(v, "\r\n") != NULL)
        return "must be an address such as Support <support@example.com>";
    return NULL;
}

const char *
config_check_timezone(const char *v)
{
    GTimeZone *tz = g_time_zone_new_identifier(v);

    if (tz == NULL)
        return "must be a time zone name such as Europe/Amsterdam or UTC";
    g_time_zone_unref(tz);
    return NULL;
}

const char *
config_check_language(const char *v)
{
    if (g_ascii_strcasecmp(v, "en") != 0 && g_ascii_strcasecmp(v, "nl") != 0)
        return "must be en or nl";
    return NULL;
}
