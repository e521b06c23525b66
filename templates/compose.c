/*
 * compose - a rendered notice into the complete message the relay gets.
 *
 * The message is written as text, header by header, with GMime's encoders
 * for what needs encoding: addresses (internet_address_list_encode: quoted
 * and RFC 2047 encoded display names, folded), unstructured values
 * (RFC 2047 words, folded), the date, and the body (quoted-printable or
 * base64 when it is not 7-bit text).  No GMimeMessage is built: an object
 * tree with its header lists, signals and stream filters cost more than
 * the rest of a new ticket's commit, for a message whose shape is always
 * the same (one text/plain part).
 *
 * Every value has its control characters made spaces before it is used,
 * and a msg-id keeps only the printable ASCII a msg-id may have, so
 * nothing taken from a customer's mail can start a header of its own or
 * put a raw 8-bit byte into one.  Lines end CRLF; no header line is longer
 * than 78 characters unless one word is (a msg-id).
 */
#include <string.h>
#include <sys/random.h>

#include <gmime/gmime.h>

#include "parser/auto.h"
#include "templates/compose.h"

/* RFC 5322's recommended line length, where folding starts. */
#define FOLD_AT 78
/* RFC 5322's limit: a longer body line makes the body quoted-printable. */
#define BODY_LINE_MAX 998
/* References kept: a long thread keeps its root and its newest. */
#define REFERENCES_MAX 20

/* A header value with every control character turned into a space. */
static char *
one_line(const char *value)
{
    char *v = g_strdup(value != NULL ? value : "");

    for (char *p = v; *p != '\0'; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
    return g_strstrip(v);
}

/* A msg-id as it goes between angle brackets: printable ASCII, no blanks,
 * no brackets. */
static char *
msgid(const char *id)
{
    GString *s = g_string_new("<");

    for (const char *p = id; *p != '\0'; p++)
        if ((unsigned char)*p > 0x20 && (unsigned char)*p < 0x7f && *p != '<' && *p != '>')
            g_string_append_c(s, *p);
    g_string_append_c(s, '>');
    return g_string_free(s, FALSE);
}

/* The format the encoders fold and encode with, made once and only read. */
static GMimeFormatOptions *
format_options(void)
{
    static gsize once;
    static GMimeFormatOptions *fo;

    if (g_once_init_enter(&once)) {
        fo = g_mime_format_options_clone(NULL);
        g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_DOS);
        g_once_init_leave(&once, 1);
    }
    return fo;
}

/* Appends TEXT with every bare LF as CRLF. */
static void
append_crlf(GString *out, const char *text)
{
    for (const char *p = text; *p != '\0'; p++) {
        if (*p == '\n' && (p == text || p[-1] != '\r'))
            g_string_append_c(out, '\r');
        g_string_append_c(out, *p);
    }
}

/* Whether "NAME: TEXT" needs no encoding and no folding: TEXT is words
 * of printable ASCII one space apart, holds nothing that could be read as
 * an encoded word, and the line is no longer than the fold. */
static bool
is_plain_text(const char *name, const char *text)
{
    gsize len = 0;

    if (*text == '\0' || strstr(text, "=?") != NULL)
        return false;
    for (const char *p = text; *p != '\0'; p++, len++)
        if (!(*p > 0x20 && *p < 0x7f) && !(*p == ' ' && p[1] > 0x20 && p[1] < 0x7f))
            return false;
    return strlen(name) + 2 + len <= FOLD_AT;
}

/* "NAME: VALUE" for an unstructured VALUE (UTF-8): RFC 2047 words where it
 * is not ASCII, folded. */
static void
add_text(GString *out, const char *name, const char *value)
{
    g_autofree char *v = one_line(value);

    /* Most values are short ASCII, which GMime's encoder and folder give
     * back as they are, at a cost the rest of the headers do not come
     * near. */
    if (is_plain_text(name, v)) {
        g_string_append_printf(out, "%s: %s\r\n", name, v);
        return;
    }
    g_autofree char *encoded = g_mime_utils_header_encode_text(format_options(), v, "utf-8");
    g_autofree char *line = g_strdup_printf("%s: %s", name, encoded);
    g_autofree char *folded = g_mime_utils_unstructured_header_fold(NULL, format_options(), line);

    append_crlf(out, folded);
    if (out->len < 2 || out->str[out->len - 1] != '\n')
        g_string_append(out, "\r\n");
}

/* Whether TEXT is one or more words of ASCII letters and digits, one
 * space apart: a display name that needs no quoting or encoding. */
static bool
is_plain_name(const char *text)
{
    if (!g_ascii_isalnum(text[0]))
        return false;
    for (const char *p = text; *p != '\0'; p++)
        if (!g_ascii_isalnum(*p) && !(*p == ' ' && g_ascii_isalnum(p[1])))
            return false;
    return true;
}

/* Whether ADDR is local@domain, each a dot-atom of RFC 5322 (atext
 * with single dots between, none at an end): what needs no quoting. */
static bool
is_plain_address(const char *addr)
{
    const char *at = strchr(addr, '@');

    if (at == NULL || at == addr || at[1] == '\0' || strchr(at + 1, '@') != NULL)
        return false;
    for (const char *p = addr; *p != '\0'; p++) {
        bool edge = p == addr || p[-1] == '@' || p[1] == '\0' || p[1] == '@';
        if (*p == '.' && (edge || p[1] == '.'))
            return false;
        if (*p != '@' && *p != '.' && !g_ascii_isalnum(*p) &&
            strchr("!#$%&'*+/=?^_`{|}~-", *p) == NULL)
            return false;
    }
    return true;
}

/* LIST as GMime would write it, where it is mailboxes of plain names and
 * addresses on one line: GMime's encoder costs more than the rest of an
 * acknowledgement's headers together, and has nothing to do for them.
 * False, and H as it was, for anything else. */
static bool
add_plain_addresses(GString *h, InternetAddressList *list)
{
    gsize start = h->len;

    for (int i = 0; i < internet_address_list_length(list); i++) {
        InternetAddress *ia = internet_address_list_get_address(list, i);
        const char *name = internet_address_get_name(ia);
        const char *addr = INTERNET_ADDRESS_IS_MAILBOX(ia)
                               ? internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia))
                               : NULL;

        if (addr == NULL || !is_plain_address(addr) ||
            (name != NULL && *name != '\0' && !is_plain_name(name))) {
            g_string_truncate(h, start);
            return false;
        }
        if (i > 0)
            g_string_append(h, ", ");
        if (name != NULL && *name != '\0')
            g_string_append_printf(h, "%s <%s>", name, addr);
        else
            g_string_append(h, addr);
    }
    /* Well short of where GMime would fold, rather than at its edge. */
    if (h->len > FOLD_AT - 8) {
        g_string_truncate(h, start);
        return false;
    }
    g_string_append(h, "\n");
    return true;
}

/* "NAME: ADDRESSES", quoted, encoded and folded by GMime. Takes LIST. */
static void
add_addresses(GString *out, const char *name, InternetAddressList *list)
{
    g_autoptr(GString) h = g_string_new(name);

    g_string_append(h, ": ");
    if (!add_plain_addresses(h, list))
        internet_address_list_encode(list, format_options(), h);
    g_object_unref(list);
    append_crlf(out, h->str);
    if (out->len < 2 || out->str[out->len - 1] != '\n')
        g_string_append(out, "\r\n");
}

/* "NAME: <id> <id> ...", folded between ids. */
static void
add_msgids(GString *out, const char *name, const char *const *ids, guint n)
{
    gsize line = strlen(name) + 1;

    g_string_append_printf(out, "%s:", name);
    for (guint i = 0; i < n; i++) {
        g_autofree char *v = msgid(ids[i]);
        gsize len = strlen(v);
        if (i > 0 && line + 1 + len > FOLD_AT) {
            g_string_append(out, "\r\n\t");
            line = 1;
        } else {
            g_string_append_c(out, ' ');
            line++;
        }
        g_string_append(out, v);
        line += len;
    }
    g_string_append(out, "\r\n");
}

/* Whether TEXT can go as it is: ASCII, no NUL, no CR, no line over BODY_LINE_MAX. */
static bool
is_7bit(const char *text)
{
    gsize line = 0;

    for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++) {
        if (*p >= 0x80 || *p == '\r')
            return false;
        line = *p == '\n' ? 0 : line + 1;
        if (line > BODY_LINE_MAX)
            return false;
    }
    return true;
}

/* The Content-Transfer-Encoding header, the empty line and BODY encoded. */
static void
add_body(GString *out, const char *body)
{
    gsize len = strlen(body);
    GMimeContentEncoding enc;
    GMimeEncoding state;
    char *buf;
    gsize n;

    if (is_7bit(body)) {
        g_string_append(out, "\r\n");
        append_crlf(out, body);
        return;
    }
    enc = g_mime_utils_best_encoding((const unsigned char *)body, len);
    g_string_append_printf(out, "Content-Transfer-Encoding: %s\r\n\r\n",
                           g_mime_content_encoding_to_string(enc));
    g_mime_encoding_init_encode(&state, enc);
    buf = g_malloc(g_mime_encoding_outlen(&state, len) + 16);
    n = g_mime_encoding_flush(&state, body, len, buf);
    buf[n] = '\0';
    append_crlf(out, buf);
    g_free(buf);
}

char *
compose_message_id(const char *hostname)
{
    g_autofree char *host = one_line(hostname);

    guint8 r[16];
    char hex[2 * sizeof r + 1];

    g_strdelimit(host, " <>@", '-');
    /* 128 bits from the kernel: GLib's g_random_int() is a Mersenne
     * Twister, whose next outputs anyone can work out from the Message-IDs
     * of enough of our mail, and a Message-ID that can be guessed before it
     * is sent is a reference a forger can write in advance.  getrandom()
     * with no flags blocks only before the kernel's pool is first ready. */
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
        for (gsize i = 0; i < sizeof r; i++)
            r[i] = (guint8)g_random_int();
    for (gsize i = 0; i < sizeof r; i++)
        g_snprintf(hex + 2 * i, 3, "%02x", r[i]);
    return g_strdup_printf("tm.%" G_GINT64_FORMAT ".%s@%s", g_get_real_time(), hex, host);
}

char *
compose_mail(const struct outbound_mail *m)
{
    GString *out = g_string_sized_new(1024 + strlen(m->body));
    g_autofree char *date = g_mime_utils_header_format_date(m->date);
    g_autofree char *from = one_line(m->from);
    InternetAddressList *list;

    g_string_append_printf(out, "Date: %s\r\n", date);
    list = internet_address_list_parse(NULL, from);
    if (list != NULL)
        add_addresses(out, "From", list);
    if (m->reply_to != NULL) {
        g_autofree char *reply_to = one_line(m->reply_to);
        list = internet_address_list_parse(NULL, reply_to);
        if (list != NULL)
            add_addresses(out, "Reply-To", list);
    }
    add_text(out, "Subject", m->subject);
    /* Each recipient is one mailbox built from its address: nothing is
     * parsed, so no address can turn into two. */
    list = internet_address_list_new();
    for (const char *const *p = m->to; p != NULL && *p != NULL; p++) {
        g_autofree char *addr = one_line(*p);
        g_autofree char *name =
            m->to_name != NULL && p[1] == NULL && p == m->to ? one_line(m->to_name) : NULL;
        InternetAddress *ia = internet_address_mailbox_new(name, addr);
        internet_address_list_add(list, ia);
        g_object_unref(ia);
    }
    add_addresses(out, "To", list);
    {
        g_autofree char *id = one_line(m->message_id);
        const char *ids[] = { id };
        add_msgids(out, "Message-Id", ids, 1);
    }
    if (m->in_reply_to != NULL) {
        const char *ids[] = { m->in_reply_to };
        add_msgids(out, "In-Reply-To", ids, 1);
    }
    if (m->references != NULL && m->references->len > 0) {
        /* The newest ones matter most; a long thread keeps its root and tail. */
        guint len = m->references->len;
        g_autoptr(GPtrArray) kept = g_ptr_array_new();
        guint start = len > REFERENCES_MAX ? len - (REFERENCES_MAX - 1) : 0;
        for (guint i = 0; i < len; i++)
            if (i == 0 || i >= start)
                g_ptr_array_add(kept, g_ptr_array_index(m->references, i));
        add_msgids(out, "References", (const char *const *)kept->pdata, kept->len);
    }
    add_text(out, "Auto-Submitted", m->auto_submitted);
    /* RFC 3834 and Outlook's way of saying "do not answer this". */
    add_text(out, "X-Auto-Response-Suppress", "All");
    add_text(out, "Precedence", "bulk");
    add_text(out, PARSER_LOOP_HEADER, m->loop);
    if (m->ticket_tag != NULL)
        add_text(out, "X-Ticket-ID", m->ticket_tag);
    g_string_append(out, "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n");
    add_body(out, m->body);
    return g_string_free(out, FALSE);
}
