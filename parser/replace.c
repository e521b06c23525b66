/*
 * replace - a message with other text in its main text part.
 *
 * GMime re-writes the message; the caller (the milter) can only replace
 * the body and change headers, so the result is split into the body and
 * the two top-level headers that describe it.  The part keeps UTF-8 and
 * gets the encoding GMime finds best for 7-bit transport.
 *
 * GMime reads the same bounded copy as parser_mail_parse() (bound.c), so
 * that it costs as little and finds the same part; a forwarded message's
 * address field that bound.c cut is delivered cut too.
 */
#include <string.h>

#include <gmime/gmime.h>

#include "parser/bound.h"
#include "parser/mail.h"
#include "parser/text.h"

static char *
top_header(GMimeObject *obj, const char *name)
{
    const char *v = g_mime_object_get_header(obj, name);

    return v != NULL ? g_strdup(v) : NULL;
}

bool
parser_replace_text(const char *raw, gsize len, const char *text, GBytes **body,
                    char **content_type, char **encoding)
{
    struct parser_bound bound;
    GMimeParserOptions *options = NULL;
    GMimeMessage *msg = parser_construct_bounded(raw, len, &parser_default_limits, &bound,
                                                 &options);
    GMimeTextPart *part;
    bool is_html;
    GMimeFormatOptions *fo;
    GMimeStream *out;
    GByteArray *bytes;
    GMimeObject *top;

    if (msg == NULL) {
        parser_bound_clear(&bound);
        g_mime_parser_options_free(options);
        return false;
    }
    top = g_mime_message_get_mime_part(msg);
    /* The very part the ticket's text came from, so that what is removed
     * from the text is removed where it was read. */
    part = parser_text_part(msg, &is_html);
    if (part == NULL || is_html) {
        g_object_unref(msg);
        parser_bound_clear(&bound);
        g_mime_parser_options_free(options);
        return false;
    }
    g_mime_text_part_set_text(part, text);
    g_mime_part_set_content_encoding(
        GMIME_PART(part),
        g_mime_part_get_best_content_encoding(GMIME_PART(part), GMIME_ENCODING_CONSTRAINT_7BIT));

    fo = g_mime_format_options_clone(NULL);
    g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_DOS);
    bytes = g_byte_array_new();
    out = g_mime_stream_mem_new_with_byte_array(bytes);
    g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(out), FALSE);
    g_mime_object_write_content_to_stream(top, fo, out);
    g_object_unref(out);
    g_mime_format_options_free(fo);

    *content_type = top_header(top, "Content-Type");
    *encoding = top_header(top, "Content-Transfer-Encoding");
    *body = g_byte_array_free_to_bytes(bytes);
    g_object_unref(msg);
    parser_bound_clear(&bound);
    g_mime_parser_options_free(options);
    return true;
}
