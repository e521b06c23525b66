/*
 * text - the readable text of a message, in UTF-8.
 *
 * Which part: the first text/plain anywhere in the tree that is neither
 * an attachment nor a named file (so a multipart/alternative gives its
 * plain version), else the first such text/html, converted by html.c.
 * parser_part_shows_text() is that rule, for strip.c and attach.c too.  A
 * forwarded message (message/rfc822) is looked into only when the message
 * has no text of its own, so the customer's words win over what they
 * forward.
 *
 * Which charset: mail in the wild is often labelled wrong or not at all,
 * and is then nearly always windows-1252 written by an old client.  Parts
 * labelled UTF-8, ASCII or Latin-1 (or not labelled, or labelled with a
 * name iconv does not know) are therefore read byte by byte: what is valid
 * UTF-8 stays, every other byte is read as windows-1252.  That keeps both
 * kinds of letters of a message that mixes them, and does not lose the
 * whole text over one byte, as a single iconv call would.  Any other
 * declared charset (ISO-2022-JP, KOI8-R, ...) goes through GMime's iconv
 * filter.
 *
 * Limits: those of the walk (walk.c); a text part beyond them is not seen.
 */
#include <string.h>

#include "parser/html.h"
#include "parser/text.h"
#include "parser/walk.h"

/* Labels read by the lenient byte-wise decoder rather than iconv (see above).
 * windows-cp1252 is GMime's canonical name for windows-1252. */
static const char *const lenient_charsets[] = {
    "utf-8",     "utf8",   "us-ascii", "ascii",        "ansi_x3.4-1968", "iso-8859-1",
    "iso8859-1", "latin1", "l1",       "windows-1252", "cp1252",         "windows-cp1252",
};

/* windows-1252 at 0x80..0x9f; 0 marks the five bytes it leaves unassigned.
 * 0xa0..0xff are the same code points as Latin-1. */
static const gunichar cp1252_high[32] = {
    0x20ac, 0,      0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160,
    0x2039, 0x0152, 0,      0x017d, 0,      0,      0x2018, 0x2019, 0x201c, 0x201d, 0x2022,
    0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0,      0x017e, 0x0178,
};

/* ---- bytes to UTF-8 ---- */

static gunichar
cp1252_char(guchar byte)
{
    if (byte >= 0x80 && byte < 0xa0)
        return cp1252_high[byte - 0x80] != 0 ? cp1252_high[byte - 0x80] : 0xfffd;
    return byte;
}

/* CRLF and lone CR become LF, in place. */
static void
normalise_line_ends(GString *s)
{
    gsize w = 0;

    for (gsize r = 0; r < s->len; r++) {
        if (s->str[r] != '\r') {
            s->str[w++] = s->str[r];
            continue;
        }
        s->str[w++] = '\n';
        if (r + 1 < s->len && s->str[r + 1] == '\n')
            r++;
    }
    g_string_truncate(s, w);
}

char *
parser_text_bytes_to_utf8(const char *bytes, gsize len)
{
    GString *out = g_string_sized_new(len + 1);
    const char *p = bytes;
    const char *end = p != NULL ? p + len : p;

    while (p < end) {
        const char *stop;
        /* The longest valid run; it ends at a NUL or a byte that is not
         * UTF-8, which is then read as windows-1252. */
        g_utf8_validate_len(p, (gsize)(end - p), &stop);
        g_string_append_len(out, p, stop - p);
        if (stop >= end)
            break;
        if (*stop != '\0')
            g_string_append_unichar(out, cp1252_char((guchar)*stop));
        p = stop + 1;
    }
    normalise_line_ends(out);
    return g_string_free(out, FALSE);
}

/* ---- which part ---- */

bool
parser_part_is_attachment(GMimeObject *part)
{
    GMimeContentDisposition *d = g_mime_object_get_content_disposition(part);

    return d != NULL && g_mime_content_disposition_is_attachment(d);
}

bool
parser_part_shows_text(GMimeObject *part, bool *is_html)
{
    GMimeContentType *ct = g_mime_object_get_content_type(part);
    const char *filename;
    bool html;

    if (!GMIME_IS_TEXT_PART(part) || parser_part_is_attachment(part))
        return false;
    filename = g_mime_part_get_filename(GMIME_PART(part));
    if (filename != NULL && *filename != '\0')
        return false;
    html = g_mime_content_type_is_type(ct, "text", "html");
    if (is_html != NULL)
        *is_html = html;
    return html || g_mime_content_type_is_type(ct, "text", "plain");
}

GMimeTextPart *
parser_text_pick(struct parser_walk *w, GArray *leaves, bool *is_html, bool *is_forwarded)
{
    GMimeTextPart *html = NULL;
    GMimeMessagePart *forward = NULL;
    guint forward_depth = 0;
    GArray *inner_leaves = NULL;
    bool forwarded = false;

    *is_html = false;
    if (is_forwarded != NULL)
        *is_forwarded = false;
    /* A loop, not recursion: each forwarded message may forward another,
     * and the walk's limits bound them all together. */
    for (;;) {
        for (guint i = 0; i < leaves->len; i++) {
            const struct parser_leaf *leaf = &g_array_index(leaves, struct parser_leaf, i);
            bool leaf_is_html;

            if (GMIME_IS_MESSAGE_PART(leaf->obj)) {
                if (forward == NULL && !parser_part_is_attachment(leaf->obj)) {
                    forward = GMIME_MESSAGE_PART(leaf->obj);
                    forward_depth = leaf->depth;
                }
            } else if (parser_part_shows_text(leaf->obj, &leaf_is_html)) {
                if (!leaf_is_html) {
                    GMimeTextPart *plain = GMIME_TEXT_PART(leaf->obj);
                    g_clear_pointer(&inner_leaves, g_array_unref);
                    if (is_forwarded != NULL)
                        *is_forwarded = forwarded;
                    return plain;
                }
                if (html == NULL)
                    html = GMIME_TEXT_PART(leaf->obj);
            }
        }
        if (html != NULL || forward == NULL)
            break;
        GMimeMessage *inner = g_mime_message_part_get_message(forward);
        g_clear_pointer(&inner_leaves, g_array_unref);
        if (inner == NULL)
            break;
        inner_leaves =
            parser_walk_leaves(w, g_mime_message_get_mime_part(inner), forward_depth + 1);
        leaves = inner_leaves;
        forward = NULL;
        forwarded = true;
    }
    g_clear_pointer(&inner_leaves, g_array_unref);
    *is_html = html != NULL;
    if (is_forwarded != NULL)
        *is_forwarded = html != NULL && forwarded;
    return html;
}

GMimeTextPart *
parser_text_part(GMimeMessage *msg, bool *is_html)
{
    struct parser_walk w;
    GArray *leaves;
    GMimeTextPart *part;

    parser_walk_init(&w, NULL);
    leaves = parser_walk_leaves(&w, g_mime_message_get_mime_part(msg), 0);
    part = parser_text_pick(&w, leaves, is_html, NULL);
    g_array_unref(leaves);
    return part;
}

/* ---- the part's text ---- */

static bool
is_lenient_charset(const char *charset)
{
    const char *canon = g_mime_charset_canon_name(charset);

    for (guint i = 0; i < G_N_ELEMENTS(lenient_charsets); i++)
        if (g_ascii_strcasecmp(charset, lenient_charsets[i]) == 0 ||
            (canon != NULL && g_ascii_strcasecmp(canon, lenient_charsets[i]) == 0))
            return true;
    return false;
}

/* The part's content with the transfer encoding undone, and converted to
 * UTF-8 when FILTER is given; bytes as the sender wrote them otherwise.
 * The length is kept: a NUL in the content must not end the text. */
static GByteArray *
part_bytes(GMimePart *part, GMimeFilter *filter)
{
    GMimeDataWrapper *content = g_mime_part_get_content(part);
    GByteArray *bytes = g_byte_array_new();
    GMimeStream *mem;

    if (content == NULL)
        return bytes;
    mem = g_mime_stream_mem_new_with_byte_array(bytes);
    g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(mem), FALSE);
    if (filter != NULL) {
        GMimeStream *filtered = g_mime_stream_filter_new(mem);
        g_mime_stream_filter_add(GMIME_STREAM_FILTER(filtered), filter);
        g_mime_data_wrapper_write_to_stream(content, filtered);
        g_mime_stream_flush(filtered);
        g_object_unref(filtered);
    } else {
        g_mime_data_wrapper_write_to_stream(content, mem);
    }
    g_object_unref(mem);
    return bytes;
}

/* The decoded text of PART in UTF-8 with LF line ends. */
static char *
part_text(GMimeTextPart *part)
{
    const char *charset = g_mime_text_part_get_charset(part);
    GMimeFilter *filter = NULL;
    GByteArray *bytes;
    char *text;

    /* An empty label would make iconv use the locale's charset. */
    if (charset != NULL && *charset != '\0' && !is_lenient_charset(charset))
        filter = g_mime_filter_charset_new(charset, "UTF-8"); /* NULL: iconv does not know it */
    bytes = part_bytes(GMIME_PART(part), filter);
    /* iconv's output is UTF-8 already; the lenient pass still drops NULs
     * and normalises line ends, and costs one linear scan. */
    text = parser_text_bytes_to_utf8((const char *)bytes->data, bytes->len);
    g_byte_array_unref(bytes);
    if (filter != NULL)
        g_object_unref(filter);
    return text;
}

char *
parser_part_utf8(GMimePart *part)
{
    GByteArray *bytes = part_bytes(part, NULL);
    char *text = parser_text_bytes_to_utf8((const char *)bytes->data, bytes->len);

    g_byte_array_unref(bytes);
    return text;
}

char *
parser_text_of_part(GMimeTextPart *part, bool is_html)
{
    g_autofree char *text = NULL;

    if (part == NULL)
        return g_strdup("");
    text = part_text(part);
    if (is_html)
        return parser_html_to_text(text);
    return g_steal_pointer(&text);
}

char *
parser_text_of(GMimeMessage *msg)
{
    bool is_html;
    GMimeTextPart *part = parser_text_part(msg, &is_html);

    return parser_text_of_part(part, is_html);
}
