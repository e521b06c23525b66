/*
 * attach - name, type, size and SHA-256 of every attachment.
 *
 * What counts: a part marked as an attachment, a part with a file name,
 * and any part that is neither text/plain nor text/html (an inline image
 * of a multipart/related, a report's machine-readable part, a forwarded
 * message).  Inline text/plain and text/html without a name are the
 * message's text or its alternatives, not attachments: the rule is
 * parser_part_shows_text()'s, the one the text and strip.c go by.  A forwarded
 * message is listed as one attachment (its bytes as they came); what it
 * carries is part of it, not of this message.
 *
 * Size and digest are taken over the decoded content, streamed through
 * GMime's checksum filter into a counting null stream: a 20 MB attachment
 * is never copied.
 *
 * TNEF: Outlook's winmail.dat (application/ms-tnef) hides the real files
 * inside a format only Outlook reads; it is flagged so that the ticket can
 * say so, and named winmail.dat when the sender gave no name.
 */
#include <string.h>

#include "parser/attach.h"
#include "parser/header.h"
#include "parser/text.h"
#include "parser/walk.h"

void
parser_attachment_free(gpointer p)
{
    struct mail_attachment *a = p;

    g_free(a->filename);
    g_free(a->media_type);
    g_free(a->disposition);
    g_free(a->content_id);
    g_free(a);
}

/* Content sent as lines (7bit, 8bit, quoted-printable, a forwarded
 * message) has the line ends of the transport, CRLF from Postfix and LF
 * from a file; base64 and uuencode carry the bytes themselves. */
static bool
has_transport_line_ends(GMimeObject *obj)
{
    GMimeContentEncoding enc;

    if (!GMIME_IS_PART(obj))
        return true;
    enc = g_mime_part_get_content_encoding(GMIME_PART(obj));
    return enc != GMIME_CONTENT_ENCODING_BASE64 && enc != GMIME_CONTENT_ENCODING_UUENCODE;
}

/* Size and SHA-256 of what OBJ holds, decoded; line ends that only the
 * transport chose count as LF, so that the same attachment has the same
 * digest however it was carried. */
static void
measure(GMimeObject *obj, struct mail_attachment *a)
{
    GMimeStream *null = g_mime_stream_null_new();
    GMimeStream *filtered = g_mime_stream_filter_new(null);
    GMimeFilter *sum = g_mime_filter_checksum_new(G_CHECKSUM_SHA256);
    GMimeFilter *lf = NULL;
    g_autofree char *hex = NULL;

    if (has_transport_line_ends(obj)) {
        lf = g_mime_filter_dos2unix_new(FALSE);
        g_mime_stream_filter_add(GMIME_STREAM_FILTER(filtered), lf);
    }
    g_mime_stream_filter_add(GMIME_STREAM_FILTER(filtered), sum);
    if (GMIME_IS_PART(obj)) {
        GMimeDataWrapper *content = g_mime_part_get_content(GMIME_PART(obj));
        if (content != NULL)
            g_mime_data_wrapper_write_to_stream(content, filtered);
    } else if (GMIME_IS_MESSAGE_PART(obj)) {
        GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
        if (inner != NULL)
            g_mime_object_write_to_stream(GMIME_OBJECT(inner), NULL, filtered);
    }
    g_mime_stream_flush(filtered);
    a->size = GMIME_STREAM_NULL(null)->written;
    hex = g_mime_filter_checksum_get_string(GMIME_FILTER_CHECKSUM(sum));
    g_strlcpy(a->sha256, hex != NULL ? hex : "", sizeof(a->sha256));
    g_object_unref(sum);
    if (lf != NULL)
        g_object_unref(lf);
    g_object_unref(filtered);
    g_object_unref(null);
}

static char *
lower_header_text(const char *value)
{
    g_autofree char *clean = parser_header_text(value);

    return g_ascii_strdown(clean, -1);
}

static struct mail_attachment *
attachment_new(GMimeObject *obj, const char *filename)
{
    struct mail_attachment *a = g_new0(struct mail_attachment, 1);
    GMimeContentType *ct = g_mime_object_get_content_type(obj);
    g_autofree char *media_type = g_mime_content_type_get_mime_type(ct);
    const char *disposition = g_mime_object_get_disposition(obj);

    a->filename = parser_header_text(filename);
    a->media_type = lower_header_text(media_type);
    a->disposition = lower_header_text(disposition);
    a->content_id = parser_msgid_text(g_mime_object_get_content_id(obj));
    a->is_tnef = g_ascii_strcasecmp(a->filename, "winmail.dat") == 0 ||
                 strcmp(a->media_type, "application/ms-tnef") == 0 ||
                 strcmp(a->media_type, "application/vnd.ms-tnef") == 0;
    if (a->is_tnef && *a->filename == '\0') {
        g_free(a->filename);
        a->filename = g_strdup("winmail.dat");
    }
    measure(obj, a);
    return a;
}

void
parser_attachments(GArray *leaves, GMimeObject *text, GPtrArray *out)
{
    for (guint i = 0; i < leaves->len; i++) {
        GMimeObject *obj = g_array_index(leaves, struct parser_leaf, i).obj;
        const char *filename = NULL;

        if (obj == text)
            continue;
        if (GMIME_IS_PART(obj)) {
            filename = g_mime_part_get_filename(GMIME_PART(obj));
        } else if (GMIME_IS_MESSAGE_PART(obj)) {
            GMimeContentDisposition *d = g_mime_object_get_content_disposition(obj);
            filename = d != NULL ? g_mime_content_disposition_get_parameter(d, "filename") : NULL;
        } else {
            continue;
        }
        /* What shows the text is the text's, or one of its alternatives. */
        if (!parser_part_shows_text(obj, NULL))
            g_ptr_array_add(out, attachment_new(obj, filename));
    }
}
