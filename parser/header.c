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
    const char *v = value != NULL ? value : "";
    gsize len = strnlen(v, PARSER_MAX_HEADER_TEXT + 1);
    g_autofree char *valid = NULL;
    GString *out;

    if (len > PARSER_MAX_HEADER_TEXT) {
        len = PARSER_MAX_HEADER_TEXT;
        while (len > 0 && ((guchar)v[len] & 0xc0) == 0x80)
            len--;
    }
    valid = g_utf8_make_valid(v, (gssize)len);
    out = g_string_sized_new(strlen(valid));

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
    if (*s == '\0' || w - s > PARSER_MAX_MSGID)
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

/* What one scan of a value has learnt about Q-encoded text: from FROM to
 * UNTIL there is no "?=" and no blank, and when BLOCKED a blank or the
 * end of the value is at UNTIL.  Q text may hold '=' and '?', so every
 * "=?" inside a long run of it would scan the same bytes again; this makes
 * the scan of a whole value linear ("=?a?Q?a=?a?Q?a..." is 4096 bytes a
 * try otherwise). */
struct word_scan {
    const char *from;
    const char *until;
    bool blocked;
};

/* One encoded word at P ("=?charset?e?text?="): its charset (RFC 2231
 * language suffix dropped) and decoded bytes appended to BYTES (either may
 * be NULL); returns the byte after it, or NULL when P starts no
 * well-formed word. */
static const char *
read_word(const char *p, struct word_scan *scan, GString *charset, GByteArray *bytes)
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
    end = text;
    if (enc == 'Q' && text >= scan->from && text <= scan->until) {
        if (scan->blocked)
            return NULL;
        end = scan->until;
    }
    for (; *end != '\0' && end - text < PARSER_MAX_WORD_TEXT; end++) {
        if (end[0] == '?' && end[1] == '=')
            break;
        if (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n' ||
            (enc == 'B' && !g_ascii_isalnum(*end) && *end != '+' && *end != '/' && *end != '='))
            break;
    }
    if (end[0] != '?' || end[1] != '=') {
        if (enc == 'Q') {
            scan->from = text;
            scan->until = end;
            scan->blocked = end - text < PARSER_MAX_WORD_TEXT;
        }
        return NULL;
    }
    if (charset != NULL) {
        g_string_assign(charset, "");
        g_string_append_len(charset, cs, q1 - cs);
        if (strchr(charset->str, '*') != NULL)
            g_string_truncate(charset, (gsize)(strchr(charset->str, '*') - charset->str));
    }
    if (bytes == NULL)
        return end + 2;
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

static bool
is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

gsize
parser_header_cut_text(const char *value, gsize limit)
{
    struct word_scan scan = { NULL, NULL, false };
    gsize len = strlen(value);
    const char *lim = value + limit;
    const char *safe = NULL;
    const char *p = value;

    if (len <= limit)
        return len;
    /* A cut before the first word would keep nothing. */
    while (p < lim && is_blank(*p))
        p++;
    while (p < lim) {
        const char *word_end;

        if (is_blank(*p)) {
            safe = p++;
            continue;
        }
        word_end = p[0] == '=' && p[1] == '?' ? read_word(p, &scan, NULL, NULL) : NULL;
        if (word_end == NULL) {
            p++;
            continue;
        }
        if (word_end > lim) {
            /* The word straddles the bound: it goes whole. */
            return (gsize)(p - value);
        }
        safe = p = word_end;
    }
    if (safe != NULL)
        return (gsize)(safe - value);
    /* One token longer than the bound with no word in it: cut it, but not
     * inside a UTF-8 character. */
    while (lim > value && ((guchar)*lim & 0xc0) == 0x80)
        lim--;
    return (gsize)(lim - value);
}

/* BYTES in CHARSET as UTF-8, never failing. */
static char *
word_text(const char *charset, GByteArray *bytes)
{
    char *text;

    if (!is_lenient_label(charset)) {
        text = g_convert((const char *)bytes->data, bytes->len, "UTF-8", charset, NULL, NULL, NULL);
        if (text != NULL && g_utf8_validate(text, -1, NULL))
            return text;
        g_free(text);
        /* An unknown label, or bytes that are not in it. */
    }
    return parser_text_bytes_to_utf8((const char *)bytes->data, bytes->len);
}

/* A run of adjacent words: the UTF-8 TEXT of its words in other charsets
 * so far, and the BYTES of its last words, all in CHARSET ("" when no run
 * is open). */
struct run {
    GString *text;
    GString *charset;
    GByteArray *bytes;
};

/* The bytes of the last charset join the text. */
static void
run_convert(struct run *r)
{
    g_autofree char *text = NULL;

    if (r->charset->len == 0)
        return;
    text = word_text(r->charset->str, r->bytes);
    g_string_append(r->text, text);
    g_string_truncate(r->charset, 0);
    g_byte_array_set_size(r->bytes, 0);
}

/* The run as one word.  One, not one per charset: GMime joins adjacent
 * words of one charset before it decodes them, and base64 that was padded
 * ("w6k=" "w6k=") then ends at the first padding. */
static void
run_flush(GString *out, struct run *r)
{
    g_autofree char *b64 = NULL;

    run_convert(r);
    if (r->text->len == 0)
        return;
    b64 = g_base64_encode((const guchar *)r->text->str, r->text->len);
    g_string_append_printf(out, "=?UTF-8?B?%s?=", b64);
    g_string_truncate(r->text, 0);
}

char *
parser_header_fix_words(const char *raw)
{
    GString *out = g_string_new(NULL);
    struct run run = { g_string_new(NULL), g_string_new(NULL), g_byte_array_new() };
    GString *charset = g_string_new(NULL);
    GByteArray *word = g_byte_array_new();
    struct word_scan scan = { NULL, NULL, false };
    const char *p = raw != NULL ? raw : "";
    const char *plain = p; /* start of text not yet copied */

    while (*p != '\0') {
        const char *next = NULL;

        g_byte_array_set_size(word, 0);
        if (p[0] == '=' && p[1] == '?')
            next = read_word(p, &scan, charset, word);
        if (next == NULL) {
            p++;
            continue;
        }
        /* Only blanks between two words: they vanish (RFC 2047 6.2);
         * anything else ends the run. */
        bool open = run.charset->len > 0 || run.text->len > 0;
        if (!open || strspn(plain, " \t\r\n") != (gsize)(p - plain)) {
            run_flush(out, &run);
            g_autofree char *text = parser_text_bytes_to_utf8(plain, (gsize)(p - plain));
            g_string_append(out, text);
        }
        /* Bytes of one charset stay together: a character split between
         * two words is whole again. */
        if (g_ascii_strcasecmp(run.charset->str, charset->str) != 0) {
            run_convert(&run);
            g_string_assign(run.charset, charset->str);
        }
        /* An empty array has no data at all: no pointer arithmetic on it. */
        if (word->len > 0)
            g_byte_array_append(run.bytes, word->data, word->len);
        p = next;
        plain = p;
    }
    run_flush(out, &run);
    {
        g_autofree char *text = parser_text_bytes_to_utf8(plain, (gsize)(p - plain));
        g_string_append(out, text);
    }
    g_string_free(run.text, TRUE);
    g_string_free(run.charset, TRUE);
    g_byte_array_unref(run.bytes);
    g_string_free(charset, TRUE);
    g_byte_array_unref(word);
    return g_string_free(out, FALSE);
}

/* ---- address lists ---- */

/* One comma-separated piece of an address list. */
struct piece {
    const char *start;
    const char *end; /* at its comma, or at the end of what is read */
    guint commas;    /* inside it (quoted), plus the ones it was joined over */
    bool is_address; /* an '@' or a '<' outside quotes and comments */
    bool is_open;    /* ends inside a quoted string or a comment */
};

/* The piece at P, reading no further than END. */
static const char *
read_piece(const char *p, const char *end, struct piece *out)
{
    bool quoted = false;
    int comment = 0;

    memset(out, 0, sizeof *out);
    out->start = p;
    for (; p < end; p++) {
        if (*p == '\\' && (quoted || comment > 0) && p + 1 < end) {
            p++;
        } else if (quoted) {
            if (*p == '"')
                quoted = false;
            else if (*p == ',')
                out->commas++;
        } else if (comment > 0) {
            if (*p == '(')
                comment++;
            else if (*p == ')')
                comment--;
            else if (*p == ',')
                out->commas++;
        } else if (*p == '"') {
            quoted = true;
        } else if (*p == '(') {
            comment = 1;
        } else if (*p == ',') {
            break;
        } else if (*p == '@' || *p == '<') {
            out->is_address = true;
        }
    }
    out->end = p;
    out->is_open = quoted || comment > 0;
    return p < end ? p + 1 : p;
}

static void
add_unit(GPtrArray *out, const struct piece *first, const struct piece *last, guint commas)
{
    gsize len = (gsize)(last->end - first->start);

    if (last->is_open || len > PARSER_MAX_ADDRESS || commas > PARSER_MAX_ADDRESS_COMMAS)
        return;
    g_ptr_array_add(out, g_strndup(first->start, len));
}

GPtrArray *
parser_address_units(const char *value, gsize max_bytes, gsize *used)
{
    /* GMime joins a name to the address after it over this many commas
     * at most here ("Smith, John <j@x>" is one); more are names alone. */
    enum {
        MAX_JOINED = 3
    };
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    struct piece names[MAX_JOINED];
    guint n_names = 0;
    gsize len;
    const char *end;
    const char *p;
    const char *read_to;

    if (value == NULL)
        value = "";
    len = strlen(value);
    end = value + MIN(len, max_bytes);
    p = read_to = value;
    while (p < value + len) {
        struct piece cur;
        const char *next = read_piece(p, end, &cur);

        if (cur.end == end && end < value + len)
            break; /* the piece goes on past MAX_BYTES: not read */
        read_to = next;
        p = next;
        if (cur.is_open) {
            /* Only the last piece can be: GMime might read its quoted
             * text as addresses, and it is no address itself. */
            break;
        }
        if (!cur.is_address) {
            if (n_names == MAX_JOINED) {
                /* The oldest name waits no longer. */
                add_unit(out, &names[0], &names[0], names[0].commas);
                memmove(names, names + 1, sizeof names[0] * (MAX_JOINED - 1));
                n_names--;
            }
            names[n_names++] = cur;
            continue;
        }
        {
            guint commas = n_names + cur.commas;
            for (guint i = 0; i < n_names; i++)
                commas += names[i].commas;
            add_unit(out, n_names > 0 ? &names[0] : &cur, &cur, commas);
        }
        n_names = 0;
    }
    for (guint i = 0; i < n_names; i++)
        add_unit(out, &names[i], &names[i], names[i].commas);
    if (used != NULL)
        *used = (gsize)(read_to - value);
    return out;
}
