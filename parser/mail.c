/*
 * mail - GMime's message tree into a struct mail.
 *
 * GMime does the hard parts (MIME structure, RFC 2047 words, charsets);
 * this file picks what a ticket needs and makes sure all of it is UTF-8.
 * The digest is computed from the raw bytes, not from GMime's output, so
 * that it depends only on what the sender wrote: a copy relayed a second
 * time (other Received lines, other trace headers) has the same digest.
 *
 * Limits: GMime builds the whole tree (it caps nesting itself, at about a
 * thousand levels); what this file then looks at is bounded by struct
 * parser_limits through walk.c.  What GMime is given is bounded first
 * (bound.c): fields past max_headers, header values past
 * PARSER_MAX_HEADER_VALUE and the address fields GMime would read in
 * quadratic time are cut in a copy, so no lookup can find them.  GMime
 * builds the tree with strict RFC 2047 decoding: its lenient decoder reads
 * to the end of the value again for every "=?" that does not close (100 KB
 * of "=?utf-8?q?a " cost 1.3 s), and it decodes every Subject, part header
 * and forwarded message while it builds.  The Subject and the addresses
 * this file reads itself are decoded leniently, within those bounds.  A
 * limit never makes the parse fail; mail->limits_hit tells the caller
 * what was left out.  The work is linear in the size of the message.
 *
 * Charsets in headers: raw 8-bit bytes (against RFC 5322, but common) are
 * read as UTF-8 when they are, else as windows-1252, the same fallback the
 * text uses (text.c); GMime also merges adjacent encoded words before
 * converting, so a character split across two words survives.
 */
#include <string.h>

#include <gmime/gmime.h>
#include <libxml/parser.h>

#include "parser/attach.h"
#include "parser/auth.h"
#include "parser/auto.h"
#include "parser/bound.h"
#include "parser/header.h"
#include "parser/mail.h"
#include "parser/reply.h"
#include "parser/text.h"
#include "parser/walk.h"

/* The quark's name is the first argument as written. */
/* clang-format off */
G_DEFINE_QUARK(parser-error-quark, parser_error)
/* clang-format on */

const struct parser_limits parser_default_limits = { 50, 500, 1000 };

/* Headers that say what the message is; everything else (trace, X-*)
 * may differ between two copies of the same message. */
static const char *const digest_headers[] = {
    "From", "To", "Cc", "Subject", "Date", "Message-ID", "In-Reply-To", "References",
};

/* libxml2 reports through its generic handler what no parser context
 * hears (the serialiser's complaints); the daemon's stderr is its log. */
static void
xml_silent(void *ctx, const char *msg, ...)
{
}

void
parser_init(void)
{
    static gsize done;

    if (g_once_init_enter(&done)) {
        g_mime_init();
        /* libxml2 sets up its globals and per-thread state here, before
         * any thread parses HTML. */
        xmlInitParser();
        xmlSetGenericErrorFunc(NULL, xml_silent);
        xmlThrDefSetGenericErrorFunc(NULL, xml_silent);
        g_once_init_leave(&done, 1);
    }
}

static struct mail_address *
address_new(InternetAddressMailbox *mb)
{
    struct mail_address *a = g_new0(struct mail_address, 1);
    const char *name = internet_address_get_name(INTERNET_ADDRESS(mb));
    const char *addr = internet_address_mailbox_get_addr(mb);

    a->name = parser_header_text(name);
    a->addr = parser_header_text(addr);
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
            collect_addresses(internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia)), out,
                              depth + 1);
    }
}

/* Mailboxes of every NAME field of the top-level block, in order, groups
 * taken apart, each address parsed alone (header.c
 * parser_address_units()); at most LIMIT of them (0: all).  Reads at most
 * PARSER_MAX_HEADER_VALUE bytes of a field and *BUDGET in all (what it
 * reads is taken off); sets MAIL_LIMIT_HEADER_BYTES in *HIT when that
 * left some out.  The raw values go through parser_header_fix_words()
 * first (see header.c). */
static GPtrArray *
addresses_of(const struct parser_bound *bound, const char *name, guint limit,
             GMimeParserOptions *options, gsize *budget, unsigned *hit)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(address_free);

    for (guint i = 0; i < bound->address_fields->len; i++) {
        const struct parser_field *f = g_ptr_array_index(bound->address_fields, i);
        g_autoptr(GPtrArray) units = NULL;
        gsize used = 0;

        if (g_ascii_strcasecmp(f->name, name) != 0)
            continue;
        units = parser_address_units(f->value, MIN(PARSER_MAX_HEADER_VALUE, *budget), &used);
        *budget -= used;
        if (f->value[used] != '\0')
            *hit |= MAIL_LIMIT_HEADER_BYTES;
        for (guint u = 0; u < units->len && (limit == 0 || out->len < limit); u++) {
            g_autofree char *fixed = parser_header_fix_words(g_ptr_array_index(units, u));
            InternetAddressList *list = internet_address_list_parse(options, fixed);
            if (list == NULL)
                continue;
            collect_addresses(list, out, 0);
            g_object_unref(list);
        }
        if (limit != 0 && out->len >= limit)
            break;
    }
    return out;
}

/* The decoded text of the first NAME field; NULL when there is none. */
static char *
decoded_header(GMimeMessage *msg, const char *name, GMimeParserOptions *options)
{
    GMimeHeaderList *headers = g_mime_object_get_header_list(GMIME_OBJECT(msg));
    GMimeHeader *h = g_mime_header_list_get_header(headers, name);
    g_autofree char *fixed = NULL;
    g_autofree char *unfolded = NULL;
    g_autofree char *decoded = NULL;

    if (h == NULL)
        return NULL;
    fixed = parser_header_fix_words(g_mime_header_get_raw_value(h));
    unfolded = g_mime_utils_header_unfold(fixed);
    decoded = g_mime_utils_header_decode_text(options, unfolded);
    return parser_header_text(decoded);
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

static struct mail_address *
first_address(const struct parser_bound *bound, const char *name, GMimeParserOptions *options,
              gsize *budget, unsigned *hit)
{
    g_autoptr(GPtrArray) list = addresses_of(bound, name, 1, options, budget, hit);

    return list->len > 0 ? g_ptr_array_steal_index(list, 0) : NULL;
}

/* "Support list <support.lists.example>" -> "support.lists.example". */
static char *
list_id_of(GMimeMessage *msg)
{
    const char *value = g_mime_object_get_header(GMIME_OBJECT(msg), "List-Id");
    g_autofree char *text = NULL;
    const char *open;
    const char *close;
    char *id;

    if (value == NULL)
        return NULL;
    text = parser_header_text(value);
    open = strrchr(text, '<');
    close = open != NULL ? strchr(open, '>') : NULL;
    if (open != NULL && close != NULL)
        id = g_strndup(open + 1, (gsize)(close - open - 1));
    else
        id = g_strdup(text);
    g_strstrip(id);
    if (*id == '\0')
        g_clear_pointer(&id, g_free);
    return id;
}

/* Every Authentication-Results field, in header order: the router needs
 * to see all of them to tell ours from ones the sender wrote. */
static void
read_auth_results(GMimeMessage *msg, GPtrArray *out)
{
    GMimeHeaderList *headers = g_mime_object_get_header_list(GMIME_OBJECT(msg));
    int n = g_mime_header_list_get_count(headers);

    for (int i = 0; i < n; i++) {
        GMimeHeader *h = g_mime_header_list_get_header_at(headers, i);
        if (g_ascii_strcasecmp(g_mime_header_get_name(h), "Authentication-Results") == 0)
            parser_auth_results(g_mime_header_get_value(h), out);
    }
}

static void
read_headers(GMimeMessage *msg, const struct parser_bound *bound, GMimeParserOptions *options,
             struct mail *mail)
{
    GMimeObject *obj = GMIME_OBJECT(msg);
    GDateTime *date;
    g_autoptr(GPtrArray) in_reply_to = NULL;
    gsize budget = PARSER_MAX_ADDRESS_BYTES;

    mail->message_id = parser_msgid_text(g_mime_message_get_message_id(msg));
    in_reply_to = parser_msgid_list(g_mime_object_get_header(obj, "In-Reply-To"));
    if (in_reply_to->len > 0)
        mail->in_reply_to = g_strdup(g_ptr_array_index(in_reply_to, 0));
    mail->references = parser_msgid_list(g_mime_object_get_header(obj, "References"));

    mail->from = first_address(bound, "From", options, &budget, &mail->limits_hit);
    mail->to = addresses_of(bound, "To", 0, options, &budget, &mail->limits_hit);
    mail->cc = addresses_of(bound, "Cc", 0, options, &budget, &mail->limits_hit);
    mail->reply_to = first_address(bound, "Reply-To", options, &budget, &mail->limits_hit);
    mail->subject = decoded_header(msg, "Subject", options);
    if (mail->subject == NULL)
        mail->subject = g_strdup("");
    mail->list_id = list_id_of(msg);

    date = g_mime_message_get_date(msg);
    if (date != NULL) {
        g_autoptr(GDateTime) utc = g_date_time_to_utc(date);
        mail->date = g_date_time_format(utc, "%Y-%m-%dT%H:%M:%SZ");
    }
    read_auth_results(msg, mail->auth_results);
}

/* A multipart whose boundary never occurs has no parts: GMime keeps all
 * of its content as the prologue, and that is all the text there is. */
static char *
prologue_text(GMimeObject *top, char *text)
{
    const char *prologue;

    if (top == NULL || !GMIME_IS_MULTIPART(top))
        return text;
    prologue = g_mime_multipart_get_prologue(GMIME_MULTIPART(top));
    if (prologue == NULL || *prologue == '\0')
        return text;
    g_free(text);
    return parser_text_bytes_to_utf8(prologue, strlen(prologue));
}

static void
read_body(GMimeMessage *msg, const struct parser_limits *limits, struct mail *mail)
{
    struct parser_walk walk;
    GArray *leaves;
    GMimeTextPart *text;
    bool is_html;

    parser_walk_init(&walk, limits);
    leaves = parser_walk_leaves(&walk, g_mime_message_get_mime_part(msg), 0);
    text = parser_text_pick(&walk, leaves, &is_html, &mail->text_is_forwarded);
    mail->text = parser_text_of_part(text, is_html);
    if (text == NULL && leaves->len == 0)
        mail->text = prologue_text(g_mime_message_get_mime_part(msg), mail->text);
    mail->reply_text = parser_reply_text(mail->text);
    parser_attachments(leaves, text != NULL ? GMIME_OBJECT(text) : NULL, mail->attachments);
    mail->limits_hit |= walk.limits_hit;
    g_array_unref(leaves);
}

struct mail *
parser_mail_parse_limited(const char *raw, gsize len, const struct parser_limits *limits,
                          GError **error)
{
    struct parser_bound bound;
    GMimeParserOptions *strict = NULL;
    GMimeParserOptions *lenient;
    GMimeMessage *msg;
    struct mail *mail;

    if (raw == NULL) {
        raw = "";
        len = 0;
    }
    if (limits == NULL)
        limits = &parser_default_limits;
    msg = parser_construct_bounded(raw, len, limits, &bound, &strict);
    if (msg == NULL) {
        parser_bound_clear(&bound);
        g_mime_parser_options_free(strict);
        g_set_error(error, PARSER_ERROR, PARSER_ERROR_FAILED,
                    "not a mail message (no header block could be read)");
        return NULL;
    }

    mail = g_new0(struct mail, 1);
    mail->attachments = g_ptr_array_new_with_free_func(parser_attachment_free);
    mail->auth_results = g_ptr_array_new_with_free_func(parser_auth_result_free);
    if (bound.cut_fields)
        mail->limits_hit |= MAIL_LIMIT_HEADERS;
    if (bound.cut_values)
        mail->limits_hit |= MAIL_LIMIT_HEADER_BYTES;
    if (bound.cut_parts)
        mail->limits_hit |= MAIL_LIMIT_PARTS;
    lenient = parser_options_new(false);
    read_headers(msg, &bound, lenient, mail);
    read_body(msg, limits, mail);
    mail->digest = compute_digest(raw, len);
    parser_auto_signs(msg, mail);
    g_object_unref(msg);
    parser_bound_clear(&bound);
    /* Header values may be decoded lazily with the options: freed last. */
    g_mime_parser_options_free(lenient);
    g_mime_parser_options_free(strict);
    return mail;
}

struct mail *
parser_mail_parse(const char *raw, gsize len, GError **error)
{
    return parser_mail_parse_limited(raw, len, NULL, error);
}

char *
parser_first_address(const char *value)
{
    g_autofree char *fixed = NULL;
    g_autoptr(GPtrArray) all = NULL;
    InternetAddressList *list;

    if (value == NULL)
        return NULL;
    fixed = parser_header_fix_words(value);
    list = internet_address_list_parse(NULL, fixed);
    if (list == NULL)
        return NULL;
    all = g_ptr_array_new_with_free_func(address_free);
    collect_addresses(list, all, 0);
    g_object_unref(list);
    if (all->len == 0)
        return NULL;
    return g_strdup(((struct mail_address *)g_ptr_array_index(all, 0))->addr);
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
    g_free(mail->automation_sign);
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
