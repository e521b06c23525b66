/*
 * header - header values made safe to keep and to write again.
 *
 * Whatever a sender encodes, nothing that leaves the parser in a
 * header-like field may start a new header line where it is written
 * later (an acknowledgement's Subject, a References we build), so control
 * characters are replaced here, once, for every such field.
 *
 * Msg-ids: GMime's g_mime_references_parse() reads RFC 5322 lists well but
 * stops at the first comma, and old clients write In-Reply-To as "Your
 * message of Tue, 4 Mar 2025 <id>" or separate References with commas.
 * A missed id is a follow-up that opens a new ticket, so the list is also
 * read the simple way (every <...@...>) and the longer answer wins.
 */
#include <string.h>

#include <gmime/gmime.h>

#include "parser/header.h"

char *
parser_header_text(const char *value)
{
    g_autofree char *valid = g_utf8_make_valid(value != NULL ? value : "", -1);
    GString *out = g_string_sized_new(strlen(valid));

    for (const char *p = valid; *p != '\0'; p = g_utf8_next_char(p)) {
        GUnicodeType type = g_unichar_type(g_utf8_get_char(p));
        if (type == G_UNICODE_CONTROL || type == G_UNICODE_LINE_SEPARATOR ||
            type == G_UNICODE_PARAGRAPH_SEPARATOR)
            g_string_append_c(out, ' ');
        else
            g_string_append_len(out, p, g_utf8_next_char(p) - p);
    }
    return g_strstrip(g_string_free(out, FALSE));
}

char *
parser_msgid_text(const char *id)
{
    char *s = parser_header_text(id);
    char *w = s;

    /* No blank or bracket belongs in a msg-id, and one we write again must
     * fit inside <...> as a single token. */
    for (const char *r = s; *r != '\0'; r++)
        if (*r != ' ' && *r != '<' && *r != '>')
            *w++ = *r;
    *w = '\0';
    if (*s == '\0')
        g_clear_pointer(&s, g_free);
    return s;
}

static void
add_msgid(GPtrArray *out, const char *id)
{
    char *clean = parser_msgid_text(id);

    if (clean != NULL)
        g_ptr_array_add(out, clean);
}

static GPtrArray *
gmime_msgids(const char *value)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    GMimeReferences *refs = g_mime_references_parse(NULL, value);

    for (int i = 0; refs != NULL && i < g_mime_references_length(refs); i++)
        add_msgid(out, g_mime_references_get_message_id(refs, i));
    if (refs != NULL)
        g_mime_references_free(refs);
    return out;
}

/* Every <...> that holds an '@' and no other bracket: linear, and blind to
 * commas, phrases and dates around the ids. */
static GPtrArray *
bracketed_msgids(const char *value)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    const char *p = value;

    while ((p = strchr(p, '<')) != NULL) {
        const char *close = p + 1 + strcspn(p + 1, "<>");
        if (*close != '>') {
            p = close; /* at the next '<', or at the end */
            continue;
        }
        if (memchr(p + 1, '@', (gsize)(close - p - 1)) != NULL) {
            g_autofree char *id = g_strndup(p + 1, (gsize)(close - p - 1));
            add_msgid(out, id);
        }
        p = close + 1;
    }
    return out;
}

GPtrArray *
parser_msgid_list(const char *value)
{
    GPtrArray *parsed;
    GPtrArray *scanned;

    if (value == NULL)
        return g_ptr_array_new_with_free_func(g_free);
    parsed = gmime_msgids(value);
    scanned = bracketed_msgids(value);
    if (scanned->len > parsed->len) {
        g_ptr_array_unref(parsed);
        return scanned;
    }
    g_ptr_array_unref(scanned);
    return parsed;
}
