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
 *
 * Encoded words: GMime decodes each word with its declared charset and
 * turns what does not convert into '?', so "=?us-ascii?Q?Ren=E9?=" (a
 * common client bug) loses its letters for good.  parser_header_fix_words()
 * goes first: it decodes the bytes of each run of words of one charset
 * together (a character split between two words is whole again), reads
 * labels that lie the way text.c reads bodies (valid UTF-8 stays, other
 * bytes are windows-1252), and writes the run back as one UTF-8 word.
 * GMime still does all the parsing (phrases, comments, groups, folding).
 */
#include <string.h>

#include <gmime/gmime.h>

#include "parser/header.h"
#include "parser/text.h"

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

/* ---- encoded words ---- */

/* RFC 2047 allows 75 bytes a word; clients write longer ones, nobody
 * writes this long. */
#define MAX_WORD_TEXT 4096

/* Labels whose bytes are read leniently (see text.c): a word so labelled
 * is often in another of them. */
static bool
is_lenient_label(const char *charset)
{
    static const char *const labels[] = {
        "utf-8", "utf8", "us-ascii", "ascii", "iso-8859-1", "latin1", "windows-1252", "cp1252",
    };

    for (guint i = 0; i < G_N_ELEMENTS(labels); i++)
        if (g_ascii_strcasecmp(charset, labels[i]) == 0)
            return true;
    return false;
}

/* One encoded word at P ("=?charset?e?text?="): its charset (RFC 2231
 * language suffix dropped) and decoded bytes appended to BYTES; returns
 * the byte after it, or NULL when P starts no well-formed word. */
static const char *
read_word(const char *p, GString *charset, GByteArray *bytes)
{
    const char *cs = p + 2;
    const char *q1 = cs;
    const char *text;
    const char *end;
    char enc;

    /* Bounded scans: a header of "=?=?=?..." must cost linear time. */
    while (*q1 != '\0' && *q1 != '?' && q1 - cs <= 40)
        q1++;
    if (*q1 != '?' || q1 == cs || q1[1] == '\0' || q1[2] != '?')
        return NULL;
    enc = g_ascii_toupper(q1[1]);
    if (enc != 'Q' && enc != 'B')
        return NULL;
    text = q1 + 3;
    for (end = text; *end != '\0' && end - text < MAX_WORD_TEXT; end++) {
        if (end[0] == '?' && end[1] == '=')
            break;
        if (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n' ||
            (enc == 'B' && !g_ascii_isalnum(*end) && *end != '+' && *end != '/' && *end != '='))
            return NULL;
    }
    if (end[0] != '?' || end[1] != '=')
        return NULL;
    g_string_assign(charset, "");
    g_string_append_len(charset, cs, q1 - cs);
    if (strchr(charset->str, '*') != NULL)
        g_string_truncate(charset, (gsize)(strchr(charset->str, '*') - charset->str));
    if (enc == 'B') {
        gsize len = (gsize)(end - text);
        guchar *out = g_malloc(len / 4 * 3 + 3);
        gint state = 0;
        guint save = 0;
        gsize n = g_base64_decode_step(text, len, out, &state, &save);
        g_byte_array_append(bytes, out, (guint)n);
        g_free(out);
    } else {
        for (const char *c = text; c < end; c++) {
            guint8 b = (guint8)*c;
            if (*c == '_')
                b = ' ';
            else if (*c == '=' && g_ascii_isxdigit(c[1]) && g_ascii_isxdigit(c[2])) {
                b = (guint8)(g_ascii_xdigit_value(c[1]) * 16 + g_ascii_xdigit_value(c[2]));
                c += 2;
            }
            g_byte_array_append(bytes, &b, 1);
        }
    }
    return end + 2;
}

/* BYTES in CHARSET as UTF-8, never failing. */
static char *
word_text(const char *charset, GByteArray *bytes)
{
    char *text;

    if (!is_lenient_label(charset)) {
        text = g_convert((const char *)bytes->data, bytes->len, "UTF-8", charset, NULL, NULL,
                         NULL);
        if (text != NULL && g_utf8_validate(text, -1, NULL))
            return text;
        g_free(text);
        /* An unknown label, or bytes that are not in it. */
    }
    return parser_text_bytes_to_utf8((const char *)bytes->data, bytes->len);
}

static void
flush_run(GString *out, GString *charset, GByteArray *bytes)
{
    g_autofree char *text = NULL;
    g_autofree char *b64 = NULL;

    if (charset->len == 0)
        return;
    text = word_text(charset->str, bytes);
    b64 = g_base64_encode((const guchar *)text, strlen(text));
    g_string_append_printf(out, "=?UTF-8?B?%s?=", b64);
    g_string_truncate(charset, 0);
    g_byte_array_set_size(bytes, 0);
}

char *
parser_header_fix_words(const char *raw)
{
    GString *out = g_string_new(NULL);
    GString *run_charset = g_string_new(NULL); /* "" when no run is open */
    GString *charset = g_string_new(NULL);
    GByteArray *run = g_byte_array_new();
    const char *p = raw != NULL ? raw : "";
    const char *plain = p; /* start of text not yet copied */

    while (*p != '\0') {
        const char *next = NULL;
        gsize before = run->len;

        if (p[0] == '=' && p[1] == '?')
            next = read_word(p, charset, run);
        if (next == NULL) {
            p++;
            continue;
        }
        /* Only blanks between two words of one run: they vanish (RFC 2047
         * 6.2); anything else ends the run. */
        bool joins = run_charset->len > 0 &&
                     g_ascii_strcasecmp(run_charset->str, charset->str) == 0 &&
                     strspn(plain, " \t\r\n") == (gsize)(p - plain);
        if (!joins) {
            /* The word's bytes went into RUN already: keep them aside. */
            g_autoptr(GByteArray) mine = g_byte_array_new();
            /* An empty array has no data at all: no pointer arithmetic on it. */
            if (run->len > before)
                g_byte_array_append(mine, run->data + before, run->len - before);
            g_byte_array_set_size(run, (guint)before);
            flush_run(out, run_charset, run);
            g_autofree char *text = parser_text_bytes_to_utf8(plain, (gsize)(p - plain));
            g_string_append(out, text);
            g_string_assign(run_charset, charset->str);
            g_byte_array_append(run, mine->data, mine->len);
        }
        p = next;
        plain = p;
    }
    flush_run(out, run_charset, run);
    {
        g_autofree char *text = parser_text_bytes_to_utf8(plain, (gsize)(p - plain));
        g_string_append(out, text);
    }
    g_string_free(run_charset, TRUE);
    g_string_free(charset, TRUE);
    g_byte_array_unref(run);
    return g_string_free(out, FALSE);
}
