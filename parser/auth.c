/*
 * auth - what a receiving server says it verified (RFC 8601).
 *
 *   Authentication-Results: mx.example.com 1; dkim=pass (good sig)
 *       header.d=example.com header.s=s1; spf=fail smtp.mailfrom=x.example
 *
 * Every field is reported, with its authserv-id: which of them to believe
 * is policy (only our own servers' verdicts count), so it is the router's
 * call, not ours.  Values are compared case-insensitively by every reader,
 * so they are stored lower-case.  Comments (nested, with quoted pairs)
 * and quoted strings are understood; anything unreadable in one resinfo
 * costs that resinfo only.  Linear in the length of the value.
 */
#include <string.h>

#include "parser/auth.h"
#include "parser/header.h"

void
parser_auth_result_free(gpointer p)
{
    struct mail_auth_result *r = p;

    g_free(r->authserv_id);
    g_free(r->method);
    g_free(r->result);
    g_free(r->header_d);
    g_free(r->header_from);
    g_free(r);
}

/* VALUE without comments, with quoted strings unquoted; a ';' or a blank
 * inside quotes is kept as a byte that cannot occur otherwise (0x01, 0x02)
 * so that the splitting below does not see it; unquote() puts it back. */
static char *
strip_comments(const char *value)
{
    GString *out = g_string_sized_new(strlen(value));
    int comment = 0;
    bool quoted = false;

    for (const char *p = value; *p != '\0'; p++) {
        if (*p == '\\' && (quoted || comment > 0) && p[1] != '\0') {
            p++;
            if (comment == 0)
                g_string_append_c(out, *p == ';' ? '\1' : *p == ' ' ? '\2' : *p);
        } else if (quoted) {
            if (*p == '"')
                quoted = false;
            else
                g_string_append_c(out, *p == ';' ? '\1' : (*p == ' ' || *p == '\t') ? '\2' : *p);
        } else if (*p == '(') {
            comment++;
        } else if (*p == ')' && comment > 0) {
            comment--;
        } else if (comment > 0) {
            continue;
        } else if (*p == '"') {
            quoted = true;
        } else if (*p == '\1' || *p == '\2') {
            g_string_append_c(out, ' ');
        } else {
            /* A comment is a blank between tokens (RFC 5322 CFWS). */
            g_string_append_c(out, (*p == '\t' || *p == '\r' || *p == '\n') ? ' ' : *p);
        }
        if (*p == ')' && comment == 0)
            g_string_append_c(out, ' ');
    }
    return g_string_free(out, FALSE);
}

/* A token as stored: quoted bytes back, one line, lower-case; NULL for "". */
static char *
value_of(const char *token)
{
    g_autofree char *s = g_strdup(token);
    g_autofree char *clean = NULL;

    for (char *p = s; *p != '\0'; p++)
        if (*p == '\1')
            *p = ';';
        else if (*p == '\2')
            *p = ' ';
    clean = parser_header_text(s);
    if (*clean == '\0')
        return NULL;
    return g_utf8_strdown(clean, -1);
}

/* One resinfo: "method[/version]=result *(ptype.property=value)". */
static void
read_resinfo(const char *authserv_id, const char *text, GPtrArray *out)
{
    g_auto(GStrv) tokens = g_strsplit_set(text, " ", -1);
    struct mail_auth_result *r = NULL;
    char **t = tokens;

    /* "method = result" with blanks around '=' is allowed (CFWS): join. */
    GString *joined = g_string_new(NULL);
    for (; *t != NULL; t++) {
        if (**t == '\0')
            continue;
        bool glue = joined->len > 0 && (joined->str[joined->len - 1] == '=' || **t == '=');
        if (joined->len > 0 && !glue)
            g_string_append_c(joined, ' ');
        g_string_append(joined, *t);
    }
    g_strfreev(tokens);
    tokens = g_strsplit(joined->str, " ", -1);
    g_string_free(joined, TRUE);

    for (t = tokens; *t != NULL; t++) {
        char *eq = strchr(*t, '=');
        if (eq == NULL || eq == *t)
            continue;
        *eq = '\0';
        if (r == NULL) {
            char *slash = strchr(*t, '/');
            if (slash != NULL)
                *slash = '\0';
            r = g_new0(struct mail_auth_result, 1);
            r->authserv_id = g_strdup(authserv_id);
            r->method = value_of(*t);
            r->result = value_of(eq + 1);
            if (r->method == NULL || r->result == NULL) {
                parser_auth_result_free(r);
                return;
            }
            continue;
        }
        if (g_ascii_strcasecmp(*t, "header.d") == 0 && r->header_d == NULL)
            r->header_d = value_of(eq + 1);
        else if (g_ascii_strcasecmp(*t, "header.from") == 0 && r->header_from == NULL)
            r->header_from = value_of(eq + 1);
    }
    if (r != NULL)
        g_ptr_array_add(out, r);
}

void
parser_auth_results(const char *value, GPtrArray *out)
{
    g_autofree char *text = NULL;
    g_auto(GStrv) parts = NULL;
    g_autofree char *authserv_id = NULL;

    if (value == NULL)
        return;
    text = strip_comments(value);
    parts = g_strsplit(text, ";", -1);
    if (parts[0] == NULL)
        return;
    /* The authserv-id, then an optional version number. */
    {
        g_auto(GStrv) words = g_strsplit_set(g_strstrip(parts[0]), " ", 2);
        if (words[0] == NULL || words[0][0] == '\0')
            return;
        authserv_id = value_of(words[0]);
    }
    if (authserv_id == NULL)
        return;
    for (char **p = parts + 1; *p != NULL; p++)
        read_resinfo(authserv_id, g_strstrip(*p), out);
}
