/*
 * html - a small, forgiving HTML-to-text pass.
 *
 * Not a full HTML parser, on purpose: support mail HTML only needs its
 * words and its line structure back, and a single linear pass can neither
 * recurse nor blow up on hostile nesting.  Unclosed tags and comments run
 * to the end of the input; unknown entities stay as written.
 */
#include <stdbool.h>
#include <string.h>

#include <glib.h>

#include "parser/html.h"

static const char *const block_tags[] = {
    "br", "p", "div", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6",
    "blockquote", "pre", "table", "ul", "ol", "hr", "title",
};

static const struct {
    const char *name;
    const char *text;
} entities[] = {
    { "amp", "&" }, { "lt", "<" }, { "gt", ">" }, { "quot", "\"" }, { "apos", "'" },
    { "nbsp", " " }, { "copy", "\xc2\xa9" }, { "euro", "\xe2\x82\xac" }, { "hellip", "..." },
    { "ndash", "-" }, { "mdash", "-" }, { "rsquo", "'" }, { "lsquo", "'" },
    { "rdquo", "\"" }, { "ldquo", "\"" },
};

/* The tag name at P (after '<' and an optional '/'), lower-case, into BUF. */
static void
tag_name(const char *p, char *buf, gsize size)
{
    gsize n = 0;

    if (*p == '/')
        p++;
    while (g_ascii_isalnum(*p) && n + 1 < size)
        buf[n++] = g_ascii_tolower(*p++);
    buf[n] = '\0';
}

static bool
is_block(const char *name)
{
    for (guint i = 0; i < G_N_ELEMENTS(block_tags); i++)
        if (strcmp(name, block_tags[i]) == 0)
            return true;
    return false;
}

static bool
starts_tag(const char *p)
{
    return g_ascii_isalpha(*p) || *p == '/' || *p == '!' || *p == '?';
}

/* Decodes the entity at P ('&'); returns the bytes consumed, 0 if none. */
static gsize
decode_entity(const char *p, GString *out)
{
    const char *semi = NULL;
    gsize len;

    /* Look no further than the longest entity: a search to the end of the
     * text for every '&' made a page of ampersands cost quadratic time.
     * (A loop, not strnlen(), which C11 does not have.) */
    for (gsize i = 1; i < 12 && p[i] != '\0' && semi == NULL; i++)
        if (p[i] == ';')
            semi = p + i;
    if (semi == NULL)
        return 0;
    len = (gsize)(semi - p) + 1;
    if (p[1] == '#') {
        gunichar c;
        char *end = NULL;
        if (p[2] == 'x' || p[2] == 'X')
            c = (gunichar)g_ascii_strtoull(p + 3, &end, 16);
        else
            c = (gunichar)g_ascii_strtoull(p + 2, &end, 10);
        if (end != semi || c == 0 || !g_unichar_validate(c))
            return 0;
        g_string_append_unichar(out, c == 0xa0 ? ' ' : c);
        return len;
    }
    for (guint i = 0; i < G_N_ELEMENTS(entities); i++) {
        gsize n = strlen(entities[i].name);
        if (n == len - 2 && strncmp(p + 1, entities[i].name, n) == 0) {
            g_string_append(out, entities[i].text);
            return len;
        }
    }
    return 0;
}

/* Skips past the end of an element whose content is not text (script,
 * style): to its closing tag, or to the end. */
static const char *
skip_element(const char *p, const char *name)
{
    g_autofree char *close = g_strconcat("</", name, NULL);

    for (; *p != '\0'; p++)
        if (*p == '<' && g_ascii_strncasecmp(p, close, strlen(close)) == 0)
            break;
    return p;
}

/* A block's end (and <br>) ends a line; a block's start only makes sure
 * one has begun, so that "</li><li>" or Outlook's paragraph per line gives
 * one line break, not an empty line between every two lines. */
static void
line_break(GString *out, bool always)
{
    while (out->len > 0 && (out->str[out->len - 1] == ' ' || out->str[out->len - 1] == '\t'))
        g_string_truncate(out, out->len - 1);
    if (always || (out->len > 0 && out->str[out->len - 1] != '\n'))
        g_string_append_c(out, '\n');
}

/* Collapses blank runs inside lines and more than one empty line. */
static char *
tidy(const char *text)
{
    GString *out = g_string_new(NULL);
    int newlines = 2; /* no leading blank lines */
    bool space = false;

    for (const char *p = text; *p != '\0'; p++) {
        if (*p == '\n') {
            space = false;
            if (newlines < 2)
                g_string_append_c(out, '\n');
            newlines++;
        } else if (*p == ' ' || *p == '\t' || *p == '\r') {
            space = newlines == 0;
        } else {
            if (space)
                g_string_append_c(out, ' ');
            space = false;
            newlines = 0;
            g_string_append_c(out, *p);
        }
    }
    while (out->len > 0 && out->str[out->len - 1] == '\n')
        g_string_truncate(out, out->len - 1);
    return g_string_free(out, FALSE);
}

char *
parser_html_to_text(const char *html)
{
    g_autoptr(GString) out = g_string_new(NULL);
    const char *p = html;

    while (*p != '\0') {
        if (p[0] == '<' && p[1] == '!' && p[2] == '-' && p[3] == '-') {
            const char *end = strstr(p + 4, "-->");
            p = end != NULL ? end + 3 : p + strlen(p);
        } else if (*p == '<' && !starts_tag(p + 1)) {
            /* "1 < 2" in text: a '<' no tag can start with is the character. */
            g_string_append_c(out, *p++);
        } else if (*p == '<') {
            char name[16];
            const char *end = strchr(p, '>');
            bool closing = p[1] == '/';
            tag_name(p + 1, name, sizeof(name));
            if (end == NULL)
                break;
            p = end + 1;
            if (!closing && (strcmp(name, "script") == 0 || strcmp(name, "style") == 0 ||
                             strcmp(name, "head") == 0)) {
                p = skip_element(p, name);
                end = strchr(p, '>');
                p = end != NULL ? end + 1 : p + strlen(p);
            } else if (is_block(name)) {
                line_break(out, closing || strcmp(name, "br") == 0 || strcmp(name, "hr") == 0);
            } else if (strcmp(name, "td") == 0 || strcmp(name, "th") == 0) {
                g_string_append_c(out, ' ');
            }
        } else if (*p == '&') {
            gsize used = decode_entity(p, out);
            if (used == 0)
                g_string_append_c(out, *p++);
            else
                p += used;
        } else if (*p == '\n' || *p == '\r') {
            /* Line breaks in HTML source are just spaces. */
            g_string_append_c(out, ' ');
            p++;
        } else {
            g_string_append_c(out, *p++);
        }
    }
    g_autofree char *valid = g_utf8_make_valid(out->str, (gssize)out->len);
    return tidy(valid);
}
