/*
 * mail - GMime's message tree into a struct mail.
 *
 * GMime does the hard parts (MIME structure, RFC 2047 words, charsets);
 * this file picks what a ticket needs and makes sure all of it is UTF-8.
 * The digest is computed from the raw bytes, not from GMime's output, so
 * that it depends only on what the sender wrote: a copy relayed a second
 * time (other Received lines, other trace headers) has the same digest.
 *
 * Limits: the MIME walk stops at MAIL_MAX_DEPTH levels and MAIL_MAX_PARTS
 * parts, so a hostile message costs bounded work.
 */
#include <string.h>

#include <gmime/gmime.h>

#include "parser/auto.h"
#include "parser/html.h"
#include "parser/mail.h"

G_DEFINE_QUARK(parser-error-quark, parser_error)

#define MAIL_MAX_DEPTH 50
#define MAIL_MAX_PARTS 1000

/* Headers that say what the message is; everything else (trace, X-*)
 * may differ between two copies of the same message. */
static const char *const digest_headers[] = {
    "From", "To", "Cc", "Subject", "Date", "Message-ID", "In-Reply-To", "References",
};

void
parser_init(void)
{
    static gsize done;

    if (g_once_init_enter(&done)) {
        g_mime_init();
        g_once_init_leave(&done, 1);
    }
}

/* Valid UTF-8 with no control characters that could break a header line. */
static char *
clean_line(const char *text)
{
    char *s = g_utf8_make_valid(text != NULL ? text : "", -1);

    for (char *p = s; *p != '\0'; p++)
        if (*p == '\r' || *p == '\n' || *p == '\t')
            *p = ' ';
    return g_strstrip(s);
}

static struct mail_address *
address_new(InternetAddressMailbox *mb)
{
    struct mail_address *a = g_new0(struct mail_address, 1);
    const char *name = internet_address_get_name(INTERNET_ADDRESS(mb));
    const char *addr = internet_address_mailbox_get_addr(mb);

    a->name = clean_line(name);
    a->addr = clean_line(addr);
    return a;
}

static void
address_free(gpointer p)
{
    struct mail_address *a = p;

    g_free(a->name);
    g_free(a->addr);
    g_free(a);
}

static void
attachment_free(gpointer p)
{
    struct mail_attachment *a = p;

    g_free(a->filename);
    g_free(a->media_type);
    g_free(a->disposition);
    g_free(a->content_id);
    g_free(a);
}

static void
auth_result_free(gpointer p)
{
    struct mail_auth_result *r = p;

    g_free(r->authserv_id);
    g_free(r->method);
    g_free(r->result);
    g_free(r->header_d);
    g_free(r->header_from);
    g_free(r);
}

/* Adds every mailbox of LIST to OUT, taking groups apart. */
static void
collect_addresses(InternetAddressList *list, GPtrArray *out, int depth)
{
    int n = list != NULL ? internet_address_list_length(list) : 0;

    for (int i = 0; i < n && depth < 4; i++) {
        InternetAddress *ia = internet_address_list_get_address(list, i);
        if (INTERNET_ADDRESS_IS_MAILBOX(ia))
            g_ptr_array_add(out, address_new(INTERNET_ADDRESS_MAILBOX(ia)));
        else if (INTERNET_ADDRESS_IS_GROUP(ia))
            collect_addresses(internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia)),
                              out, depth + 1);
    }
}

static GPtrArray *
addresses_of(GMimeMessage *msg, GMimeAddressType type)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(address_free);

    collect_addresses(g_mime_message_get_addresses(msg, type), out, 0);
    return out;
}

/* Message-IDs of a References-like header, in order, without brackets. */
static GPtrArray *
msgids_of(GMimeObject *obj, const char *header)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    const char *value = g_mime_object_get_header(obj, header);
    GMimeReferences *refs;

    if (value == NULL)
        return out;
    refs = g_mime_references_parse(NULL, value);
    for (int i = 0; refs != NULL && i < g_mime_references_length(refs); i++)
        g_ptr_array_add(out, clean_line(g_mime_references_get_message_id(refs, i)));
    if (refs != NULL)
        g_mime_references_free(refs);
    return out;
}

/* ---- the text ---- */

/* Decoded content of a text part in UTF-8. GMime converts from the declared
 * charset; a missing or wrong label leaves bytes that are not UTF-8, which
 * are most often windows-1252 in practice. */
/* The part's content with the transfer encoding undone and no charset
 * conversion: the bytes as the sender wrote them. */
static char *
raw_content(GMimeTextPart *part)
{
    GMimeDataWrapper *w = g_mime_part_get_content(GMIME_PART(part));
    GByteArray *bytes = g_byte_array_new();
    GMimeStream *out = g_mime_stream_mem_new_with_byte_array(bytes);

    g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(out), FALSE);
    if (w != NULL)
        g_mime_data_wrapper_write_to_stream(w, out);
    g_object_unref(out);
    g_byte_array_append(bytes, (const guint8 *)"", 1);
    return (char *)g_byte_array_free(bytes, FALSE);
}

static char *
part_text(GMimeTextPart *part)
{
    const char *charset = g_mime_text_part_get_charset(part);
    g_autofree char *text = NULL;
    g_autoptr(GString) out = NULL;

    /* GMime's UTF-8 "conversion" drops bytes that are not UTF-8, so a body
     * labelled utf-8 (or not labelled) but written in Latin-1 would lose
     * its accented letters: read such bodies as bytes and check them here. */
    if (charset == NULL || g_ascii_strcasecmp(charset, "utf-8") == 0 ||
        g_ascii_strcasecmp(charset, "utf8") == 0 || g_ascii_strcasecmp(charset, "us-ascii") == 0)
        text = raw_content(part);
    else
        text = g_mime_text_part_get_text(part);

    if (text == NULL)
        return g_strdup("");
    if (!g_utf8_validate(text, -1, NULL)) {
        char *converted = g_convert_with_fallback(text, -1, "UTF-8", "WINDOWS-1252", "?", NULL,
                                                  NULL, NULL);
        if (converted != NULL) {
            g_free(text);
            text = converted;
        }
    }
    /* Line ends become LF; NUL bytes ended the string already. */
    out = g_string_sized_new(strlen(text));
    for (const char *p = text; *p != '\0'; p++)
        if (*p != '\r')
            g_string_append_c(out, *p);
        else if (p[1] != '\n')
            g_string_append_c(out, '\n');
    return g_utf8_make_valid(out->str, (gssize)out->len);
}

static bool
is_attachment(GMimeObject *part)
{
    GMimeContentDisposition *d = g_mime_object_get_content_disposition(part);

    return d != NULL && g_mime_content_disposition_is_attachment(d);
}

struct text_search {
    GMimeTextPart *plain; /* first inline text/plain */
    GMimeTextPart *html;  /* first inline text/html */
    guint parts;
};

/* Depth-first, bounded: the first inline text/plain wins, else the first
 * text/html. A forwarded message (message/rfc822) counts only when the
 * outer message has no text of its own. */
static void
find_text(GMimeObject *obj, struct text_search *ts, int depth)
{
    if (obj == NULL || depth > MAIL_MAX_DEPTH || ++ts->parts > MAIL_MAX_PARTS ||
        ts->plain != NULL)
        return;
    if (GMIME_IS_MULTIPART(obj)) {
        GMimeMultipart *mp = GMIME_MULTIPART(obj);
        int n = g_mime_multipart_get_count(mp);
        for (int i = 0; i < n && ts->plain == NULL; i++)
            find_text(g_mime_multipart_get_part(mp, i), ts, depth + 1);
    } else if (GMIME_IS_MESSAGE_PART(obj)) {
        if (ts->html == NULL && !is_attachment(obj)) {
            GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
            if (inner != NULL)
                find_text(g_mime_message_get_mime_part(inner), ts, depth + 1);
        }
    } else if (GMIME_IS_TEXT_PART(obj) && !is_attachment(obj)) {
        GMimeContentType *ct = g_mime_object_get_content_type(obj);
        if (g_mime_content_type_is_type(ct, "text", "plain"))
            ts->plain = GMIME_TEXT_PART(obj);
        else if (g_mime_content_type_is_type(ct, "text", "html") && ts->html == NULL)
            ts->html = GMIME_TEXT_PART(obj);
    }
}

static char *
message_text(GMimeMessage *msg)
{
    struct text_search ts = { 0 };

    find_text(g_mime_message_get_mime_part(msg), &ts, 0);
    if (ts.plain != NULL)
        return part_text(ts.plain);
    if (ts.html != NULL) {
        g_autofree char *html = part_text(ts.html);
        return parser_html_to_text(html);
    }
    return g_strdup("");
}

/* ---- the digest ---- */

/* The value of the first header NAME in the header block of RAW (which
 * ends at HEAD_END), unfolded, whitespace runs collapsed; NULL if absent. */
static char *
raw_header(const char *raw, const char *head_end, const char *name)
{
    gsize name_len = strlen(name);
    const char *line = raw;

    while (line < head_end) {
        const char *eol = memchr(line, '\n', (gsize)(head_end - line));
        const char *next = eol != NULL ? eol + 1 : head_end;
        if ((gsize)(head_end - line) > name_len && line[name_len] == ':' &&
            g_ascii_strncasecmp(line, name, name_len) == 0) {
            GString *v = g_string_new(NULL);
            const char *p = line + name_len + 1;
            bool space = true; /* drops leading blanks */
            for (;;) {
                for (; p < head_end && *p != '\n'; p++) {
                    bool blank = *p == ' ' || *p == '\t' || *p == '\r';
                    if (blank) {
                        space = true;
                        continue;
                    }
                    if (space && v->len > 0)
                        g_string_append_c(v, ' ');
                    space = false;
                    g_string_append_c(v, *p);
                }
                /* A continuation line starts with a blank. */
                if (p + 1 < head_end && (p[1] == ' ' || p[1] == '\t')) {
                    p++;
                    space = true;
                    continue;
                }
                break;
            }
            return g_string_free(v, FALSE);
        }
        line = next;
    }
    return NULL;
}

/* Where the header block of RAW ends: at the first empty line (LF or CRLF);
 * *BODY is set to the first byte after it. */
static const char *
header_end(const char *raw, gsize len, const char **body)
{
    const char *end = raw + len;

    for (const char *p = raw; p < end; p++) {
        if (*p != '\n')
            continue;
        if (p + 1 < end && p[1] == '\n') {
            *body = p + 2;
            return p + 1;
        }
        if (p + 2 < end && p[1] == '\r' && p[2] == '\n') {
            *body = p + 3;
            return p + 1;
        }
    }
    *body = end;
    return end;
}

static char *
compute_digest(const char *raw, gsize len)
{
    g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
    const char *body;
    const char *head_end = header_end(raw, len, &body);
    const char *end = raw + len;

    for (guint i = 0; i < G_N_ELEMENTS(digest_headers); i++) {
        g_autofree char *v = raw_header(raw, head_end, digest_headers[i]);
        if (v == NULL)
            continue;
        g_checksum_update(sum, (const guchar *)digest_headers[i], -1);
        g_checksum_update(sum, (const guchar *)":", 1);
        g_checksum_update(sum, (const guchar *)v, -1);
        g_checksum_update(sum, (const guchar *)"\n", 1);
    }
    g_checksum_update(sum, (const guchar *)"\n", 1);
    /* Trailing blank lines and CRs are what relays most often change. */
    while (end > body && g_ascii_isspace(end[-1]))
        end--;
    for (const char *p = body; p < end;) {
        const char *cr = memchr(p, '\r', (gsize)(end - p));
        const char *stop = cr != NULL ? cr : end;
        g_checksum_update(sum, (const guchar *)p, stop - p);
        if (cr == NULL)
            break;
        if (cr + 1 < end && cr[1] != '\n')
            g_checksum_update(sum, (const guchar *)"\r", 1);
        p = cr + 1;
    }
    return g_strdup(g_checksum_get_string(sum));
}

/* ---- the message ---- */

struct mail *
parser_mail_parse(const char *raw, gsize len, GError **error)
{
    GMimeStream *stream;
    GMimeParser *parser;
    GMimeMessage *msg;
    struct mail *mail;
    GPtrArray *from;
    GPtrArray *in_reply_to;
    GDateTime *date;

    if (raw == NULL) {
        raw = "";
        len = 0;
    }
    /* A copy: GMime's stream owns its buffer, ours belongs to the milter. */
    stream = g_mime_stream_mem_new_with_buffer(raw, len);
    parser = g_mime_parser_new_with_stream(stream);
    msg = g_mime_parser_construct_message(parser, NULL);
    /* GMime 3.2 has no autoptr support; the message keeps what it needs. */
    g_object_unref(parser);
    g_object_unref(stream);
    if (msg == NULL) {
        g_set_error(error, PARSER_ERROR, PARSER_ERROR_FAILED,
                    "not a mail message (no header block could be read)");
        return NULL;
    }

    mail = g_new0(struct mail, 1);
    mail->attachments = g_ptr_array_new_with_free_func(attachment_free);
    mail->auth_results = g_ptr_array_new_with_free_func(auth_result_free);
    if (g_mime_message_get_message_id(msg) != NULL)
        mail->message_id = clean_line(g_mime_message_get_message_id(msg));
    if (mail->message_id != NULL && *mail->message_id == '\0')
        g_clear_pointer(&mail->message_id, g_free);
    in_reply_to = msgids_of(GMIME_OBJECT(msg), "In-Reply-To");
    if (in_reply_to->len > 0)
        mail->in_reply_to = g_strdup(g_ptr_array_index(in_reply_to, 0));
    g_ptr_array_unref(in_reply_to);
    mail->references = msgids_of(GMIME_OBJECT(msg), "References");

    from = addresses_of(msg, GMIME_ADDRESS_TYPE_FROM);
    if (from->len > 0)
        mail->from = g_ptr_array_steal_index(from, 0);
    g_ptr_array_unref(from);
    mail->to = addresses_of(msg, GMIME_ADDRESS_TYPE_TO);
    mail->cc = addresses_of(msg, GMIME_ADDRESS_TYPE_CC);
    mail->subject = clean_line(g_mime_message_get_subject(msg));

    date = g_mime_message_get_date(msg);
    if (date != NULL) {
        g_autoptr(GDateTime) utc = g_date_time_to_utc(date);
        mail->date = g_date_time_format(utc, "%Y-%m-%dT%H:%M:%SZ");
    }
    mail->text = message_text(msg);
    mail->digest = compute_digest(raw, len);
    parser_auto_signs(msg, mail);
    g_object_unref(msg);
    return mail;
}

struct mail *
parser_mail_free(struct mail *mail)
{
    if (mail == NULL)
        return NULL;
    g_free(mail->message_id);
    g_free(mail->in_reply_to);
    if (mail->references != NULL)
        g_ptr_array_unref(mail->references);
    if (mail->from != NULL)
        address_free(mail->from);
    if (mail->to != NULL)
        g_ptr_array_unref(mail->to);
    if (mail->cc != NULL)
        g_ptr_array_unref(mail->cc);
    g_free(mail->subject);
    g_free(mail->date);
    g_free(mail->text);
    g_free(mail->digest);
    g_free(mail->loop);
    g_free(mail->dsn_message_id);
    g_free(mail->dsn_recipient);
    g_free(mail->dsn_status);
    if (mail->reply_to != NULL)
        address_free(mail->reply_to);
    g_free(mail->list_id);
    g_free(mail->reply_text);
    if (mail->attachments != NULL)
        g_ptr_array_unref(mail->attachments);
    if (mail->auth_results != NULL)
        g_ptr_array_unref(mail->auth_results);
    g_free(mail);
    return NULL;
}

const struct parser_limits parser_default_limits = { 50, 500, 1000 };

struct mail *
parser_mail_parse_limited(const char *raw, gsize len, const struct parser_limits *limits,
                          GError **error)
{
    (void)limits; /* enforced in a following change */
    return parser_mail_parse(raw, len, error);
}
