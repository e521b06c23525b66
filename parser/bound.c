/*
 * bound - the bytes GMime is given, cut to what a parse can afford.
 *
 * Mail is hostile, and GMime does part of its work while it builds the
 * tree, before any code of ours could look: it decodes the Subject and
 * parses From, To, Cc, Reply-To, Sender and Bcc of the message and of
 * every forwarded message in it.  Its address parser reads a list of
 * unquoted names ("a, a, a, ...") in time quadratic in the length of the
 * field (16 KiB of it cost 185 ms) and nests groups ("a:a:a:...") on the
 * C stack, one level a colon (100 KiB of them overflowed 8 MiB).  So the
 * message is copied, and what GMime parses is cut in the copy:
 *
 *   - every address field, in the top-level header block and in every
 *     block that may be a forwarded message's, to
 *     PARSER_MAX_GMIME_ADDRESS_FIELD bytes at a comma, and all of them
 *     together to PARSER_MAX_GMIME_ADDRESS_BYTES (past it they are left
 *     empty).  The parser does not use GMime's reading of them: it reads
 *     the top-level ones itself, whole (struct parser_bound
 *     address_fields, header.c parser_address_units());
 *   - every other field of the top-level block to PARSER_MAX_HEADER_VALUE
 *     bytes, where the kind of field allows a clean cut: a text at a blank
 *     or after a complete encoded word (never inside one, never inside a
 *     UTF-8 character), a msg-id list after a '>', References keeping its
 *     first id and as many of its last ones as fit (the thread's root and
 *     the parents, RFC 5537 3.4.4), Authentication-Results after a whole
 *     resinfo;
 *   - the top-level block to max_headers fields (the fields past it are
 *     left out);
 *   - the message to the parts the walk could look at (2 max_parts + 2
 *     delimiter lines; everything after is left out): GMime builds every
 *     part, a few microseconds each, and 60,000 empty parts fit in 420 KB.
 *     A delimiter is a line of "--" and a boundary some Content-Type
 *     declared; when a boundary is written in a way this file does not read
 *     (RFC 2231, a comment, an escape, an encoded word, more than 64 of
 *     them), every line starting with "--" counts from then on.
 *
 * GMime's RFC 2047 decoder is quadratic too in its lenient mode; the tree
 * is built in strict mode (parser_construct_bounded() below) and the
 * parser decodes leniently only what it reads itself, after these cuts.
 *
 * Which blocks may be a forwarded message's: GMime knows from the MIME
 * structure; this file only scans lines, so it takes more than GMime
 * does and never less: the block after a top-level or part header block
 * whose Content-Type says "message", the block after a part header
 * block without any Content-Type (a digest's parts are messages by
 * default), and as a part header block anything after a line starting with
 * "--".  Only address fields longer than the bounds are ever cut there, so
 * a body line taken for a header by mistake is left alone unless it is
 * such a field itself.
 *
 * The raw message is stored whole by the caller; a cut only changes what
 * the parse sees, and mail->limits_hit says so.  Linear in the length of
 * the message; never fails.
 */
#include <string.h>

#include "parser/bound.h"
#include "parser/header.h"

enum block_kind {
    BLOCK_TOP,   /* the message's own header block */
    BLOCK_PART,  /* a MIME part's header block, maybe */
    BLOCK_INNER, /* a forwarded message's header block, maybe */
    BLOCK_BODY,  /* anything else */
};

/* One logical header field: its first line and every continuation line. */
struct field {
    const char *start;     /* first byte of the field's first line */
    const char *colon;     /* the ':' after the name; NULL when there is none */
    const char *value_end; /* end of the value, before the last line ending */
    const char *end;       /* the byte after the field */
    bool crlf;             /* the field's lines end with CRLF */
};

/* Boundaries remembered; past it every "--" line counts as a delimiter. */
#define MAX_BOUNDARIES 64

struct writer {
    const char *raw;
    const char *end;
    GByteArray *out;    /* NULL until the first cut */
    const char *copied; /* everything before it is in OUT (or needs no copy) */
    gsize address_budget;
    GPtrArray *boundaries; /* char*, as declared */
    bool any_dashes;       /* a boundary could not be read: every "--" line counts */
    guint delimiters;      /* delimiter lines seen */
    guint max_delimiters;
    bool stopped; /* the rest of the message is left out */
    struct parser_bound *bound;
};

static const char *const gmime_address_fields[] = {
    "From", "Sender", "Reply-To", "To", "Cc", "Bcc",
};

static const char *
next_line(const char *p, const char *end)
{
    const char *nl = memchr(p, '\n', (gsize)(end - p));

    return nl != NULL ? nl + 1 : end;
}

static bool
is_blank_line(const char *p, const char *end)
{
    return p < end && (*p == '\n' || (*p == '\r' && p + 1 < end && p[1] == '\n'));
}

static void
read_field(const char *p, const char *end, struct field *f)
{
    const char *first_end = next_line(p, end);
    const char *q = first_end;

    while (q < end && (*q == ' ' || *q == '\t'))
        q = next_line(q, end);
    f->start = p;
    f->end = q;
    f->colon = memchr(p, ':', (gsize)(first_end - p));
    f->crlf = first_end - p >= 2 && first_end[-1] == '\n' && first_end[-2] == '\r';
    f->value_end = q;
    if (f->value_end > p && f->value_end[-1] == '\n')
        f->value_end--;
    if (f->value_end > p && f->value_end[-1] == '\r')
        f->value_end--;
    if (f->colon != NULL && f->colon > f->value_end)
        f->colon = NULL;
}

static bool
field_is(const struct field *f, const char *name)
{
    gsize n = strlen(name);
    const char *name_end = f->colon;

    if (name_end == NULL)
        return false;
    /* "Subject :" is read as Subject by GMime too. */
    while (name_end > f->start && (name_end[-1] == ' ' || name_end[-1] == '\t'))
        name_end--;
    return (gsize)(name_end - f->start) == n && g_ascii_strncasecmp(f->start, name, n) == 0;
}

static bool
is_gmime_address_field(const struct field *f)
{
    for (guint i = 0; i < G_N_ELEMENTS(gmime_address_fields); i++)
        if (field_is(f, gmime_address_fields[i]))
            return true;
    return false;
}

/* Says more than GMime would: "message" anywhere counts (GMime may read
 * "message / rfc822" with blanks or comments), which only makes the next
 * block looked at. */
static bool
names_message_type(const struct field *f)
{
    static const char needle[] = "message";
    const char *v = f->colon + 1;

    for (const char *p = v; p + sizeof needle - 1 <= f->value_end; p++)
        if (g_ascii_strncasecmp(p, needle, sizeof needle - 1) == 0)
            return true;
    return false;
}

/* Remembers the boundary parameters of the Content-Type F, every one of
 * them (GMime may take another than the first). */
static void
note_boundaries(struct writer *w, const struct field *f)
{
    static const char name[] = "boundary";
    const char *v = f->colon + 1;

    for (const char *p = v; p + sizeof name - 1 <= f->value_end; p++) {
        const char *q = p + sizeof name - 1;
        const char *start;
        const char *stop;

        if (g_ascii_strncasecmp(p, name, sizeof name - 1) != 0)
            continue;
        while (q < f->value_end && (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n'))
            q++;
        if (q < f->value_end && *q == '*') {
            w->any_dashes = true; /* RFC 2231 */
            return;
        }
        if (q >= f->value_end || *q != '=')
            continue;
        q++;
        while (q < f->value_end && (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n'))
            q++;
        if (q < f->value_end && *q == '"') {
            start = ++q;
            while (q < f->value_end && *q != '"' && *q != '\\')
                q++;
            if (q >= f->value_end || *q != '"') {
                w->any_dashes = true; /* an escape, or no closing quote */
                return;
            }
        } else {
            start = q;
            while (q < f->value_end && strchr(" \t\r\n;()\"", *q) == NULL)
                q++;
        }
        stop = q;
        if (stop == start || (q < f->value_end && *q == '(') ||
            g_strstr_len(start, stop - start, "=?") != NULL ||
            w->boundaries->len == MAX_BOUNDARIES) {
            w->any_dashes = true;
            return;
        }
        g_ptr_array_add(w->boundaries, g_strndup(start, (gsize)(stop - start)));
        p = stop - 1;
    }
}

/* Whether the line at P starts with "--" and a declared boundary. */
static bool
is_delimiter(const struct writer *w, const char *p)
{
    gsize room = (gsize)(w->end - p);

    if (room < 2 || p[0] != '-' || p[1] != '-')
        return false;
    if (w->any_dashes)
        return true;
    for (guint i = 0; i < w->boundaries->len; i++) {
        const char *b = g_ptr_array_index(w->boundaries, i);
        gsize n = strlen(b);
        if (room >= 2 + n && memcmp(p + 2, b, n) == 0)
            return true;
    }
    return false;
}

/* ---- the copy ---- */

static void
copy_to(struct writer *w, const char *p)
{
    if (w->out == NULL)
        w->out = g_byte_array_sized_new((guint)(w->end - w->raw));
    g_byte_array_append(w->out, (const guint8 *)w->copied, (guint)(p - w->copied));
    w->copied = p;
}

static void
append(struct writer *w, const char *from, const char *to)
{
    g_byte_array_append(w->out, (const guint8 *)from, (guint)(to - from));
}

static void
end_line(struct writer *w, const struct field *f)
{
    if (f->crlf)
        g_byte_array_append(w->out, (const guint8 *)"\r\n", 2);
    else
        g_byte_array_append(w->out, (const guint8 *)"\n", 1);
}

/* F with its value cut at CUT (inside the value).  Blanks and line ends
 * before the cut go too: a kept "\n " and our line end would make an
 * empty line, the end of the header block. */
static void
write_cut(struct writer *w, const struct field *f, const char *cut)
{
    const char *v = f->colon + 1;

    while (cut > v && (cut[-1] == ' ' || cut[-1] == '\t' || cut[-1] == '\r' || cut[-1] == '\n'))
        cut--;
    copy_to(w, f->start);
    append(w, f->start, cut);
    end_line(w, f);
    w->copied = f->end;
    w->bound->cut_values = true;
}

/* A delimiter line at P: counted; past the bound, P and everything after
 * it are left out.  Returns whether the scan goes on. */
static bool
count_delimiter(struct writer *w, const char *p)
{
    if (!is_delimiter(w, p) || ++w->delimiters <= w->max_delimiters)
        return true;
    copy_to(w, p);
    w->copied = w->end;
    w->stopped = true;
    w->bound->cut_parts = true;
    return false;
}

/* ---- where a value may be cut ---- */

/* The last C in [V, V + LIMIT) ; NULL when there is none. */
static const char *
last_char_before(const char *v, gsize limit, char c)
{
    for (const char *p = v + limit; p > v; p--)
        if (p[-1] == c)
            return p - 1;
    return NULL;
}

/* Text: see parser_header_cut_text(). */
static const char *
text_cut(const char *v, const char *value_end, gsize limit)
{
    /* Enough beyond the bound to tell whether a word straddles it. */
    gsize window = MIN((gsize)(value_end - v), limit + PARSER_MAX_WORD_TEXT + 64);
    g_autofree char *head = g_strndup(v, window);

    /* A NUL in the value ends the copy early: nothing after it counts. */
    return v + parser_header_cut_text(head, limit);
}

/* A msg-id list: after the last '>' that fits. */
static const char *
msgid_cut(const char *v, gsize limit)
{
    const char *gt = last_char_before(v, limit, '>');

    return gt != NULL ? gt + 1 : v;
}

/* Whole resinfos: at the last ';' that fits. */
static const char *
auth_cut(const char *v, const char *value_end, gsize limit)
{
    const char *semi = last_char_before(v, limit, ';');

    return semi != NULL ? semi : text_cut(v, value_end, limit);
}

/* The first msg-id and the longest tail of whole ones that fit after it. */
static void
write_references(struct writer *w, const struct field *f)
{
    const char *v = f->colon + 1;
    const char *first_end = memchr(v, '>', (gsize)(f->value_end - v));
    gsize room;
    const char *tail;

    if (first_end == NULL || (gsize)(first_end + 1 - v) > PARSER_MAX_HEADER_VALUE / 2) {
        write_cut(w, f, msgid_cut(v, PARSER_MAX_HEADER_VALUE));
        return;
    }
    first_end++;
    room = PARSER_MAX_HEADER_VALUE - (gsize)(first_end - v) - 1;
    tail = memchr(f->value_end - room, '<', room);
    if (tail == NULL || tail < first_end) {
        write_cut(w, f, first_end);
        return;
    }
    copy_to(w, f->start);
    append(w, f->start, first_end);
    g_byte_array_append(w->out, (const guint8 *)" ", 1);
    append(w, tail, f->value_end);
    end_line(w, f);
    w->copied = f->end;
    w->bound->cut_values = true;
}

/* What GMime may see of an address field: see the top of the file. */
static void
bound_gmime_address(struct writer *w, const struct field *f)
{
    const char *v = f->colon + 1;
    gsize len = (gsize)(f->value_end - v);
    gsize limit = MIN(PARSER_MAX_GMIME_ADDRESS_FIELD, w->address_budget);
    const char *cut;

    if (len <= limit) {
        w->address_budget -= len;
        return;
    }
    cut = last_char_before(v, limit, ',');
    if (cut == NULL) {
        /* No comma: nothing GMime could read twice.  Not inside a UTF-8
         * character, so that what is left is text. */
        cut = v + limit;
        while (cut > v && ((guchar)*cut & 0xc0) == 0x80)
            cut--;
    }
    w->address_budget -= (gsize)(cut - v);
    write_cut(w, f, cut);
}

static void
bound_top_field(struct writer *w, const struct field *f)
{
    const char *v = f->colon + 1;
    gsize len = (gsize)(f->value_end - v);

    if (is_gmime_address_field(f)) {
        struct parser_field *kept = g_new0(struct parser_field, 1);
        const char *name_end = f->colon;
        while (name_end > f->start && (name_end[-1] == ' ' || name_end[-1] == '\t'))
            name_end--;
        kept->name = g_strndup(f->start, (gsize)(name_end - f->start));
        kept->value = g_strndup(v, len);
        g_ptr_array_add(w->bound->address_fields, kept);
        bound_gmime_address(w, f);
        return;
    }
    if (len <= PARSER_MAX_HEADER_VALUE)
        return;
    if (field_is(f, "References"))
        write_references(w, f);
    else if (field_is(f, "In-Reply-To") || field_is(f, "Message-ID"))
        write_cut(w, f, msgid_cut(v, PARSER_MAX_HEADER_VALUE));
    else if (field_is(f, "Authentication-Results"))
        write_cut(w, f, auth_cut(v, f->value_end, PARSER_MAX_HEADER_VALUE));
    else
        write_cut(w, f, text_cut(v, f->value_end, PARSER_MAX_HEADER_VALUE));
}

/* The header block at P of kind KIND; returns where the block after it
 * starts and sets *NEXT to its kind. */
static const char *
bound_block(struct writer *w, const char *p, enum block_kind kind, guint max_headers,
            enum block_kind *next)
{
    bool has_type = false;
    bool is_message = false;
    guint fields = 0;

    while (p < w->end && !is_blank_line(p, w->end)) {
        struct field f;

        if (kind != BLOCK_TOP && p[0] == '-' && p + 1 < w->end && p[1] == '-') {
            /* A boundary: the lines after it are a part's header. */
            *next = BLOCK_PART;
            return count_delimiter(w, p) ? next_line(p, w->end) : w->end;
        }
        read_field(p, w->end, &f);
        if (kind == BLOCK_TOP && fields++ == max_headers) {
            /* The rest of the block is left out; the blank line stays. */
            const char *stop = f.start;
            while (p < w->end && !is_blank_line(p, w->end))
                p = next_line(p, w->end);
            copy_to(w, stop);
            w->copied = p;
            w->bound->cut_fields = true;
            break;
        }
        if (f.colon != NULL && field_is(&f, "Content-Type")) {
            has_type = true;
            is_message = is_message || names_message_type(&f);
            note_boundaries(w, &f);
        }
        if (f.colon != NULL && kind == BLOCK_TOP)
            bound_top_field(w, &f);
        else if (f.colon != NULL && kind == BLOCK_INNER && is_gmime_address_field(&f))
            bound_gmime_address(w, &f);
        p = f.end;
    }
    if (p < w->end)
        p = next_line(p, w->end);
    if (is_message || (kind == BLOCK_PART && !has_type))
        *next = BLOCK_INNER;
    else
        *next = BLOCK_BODY;
    return p;
}

void
parser_bound_message(const char *raw, gsize len, const struct parser_limits *limits,
                     struct parser_bound *out)
{
    struct writer w = {
        .raw = raw,
        .end = raw + len,
        .copied = raw,
        .address_budget = PARSER_MAX_GMIME_ADDRESS_BYTES,
        .boundaries = g_ptr_array_new_with_free_func(g_free),
        /* An open and a close delimiter for every object the walk may
         * visit, and one to spare. */
        .max_delimiters = 2 * limits->max_parts + 2,
        .bound = out,
    };
    enum block_kind kind = BLOCK_TOP;
    const char *p = raw;

    memset(out, 0, sizeof *out);
    out->address_fields = g_ptr_array_new();
    while (p < w.end && !w.stopped) {
        if (kind == BLOCK_BODY) {
            bool boundary = p[0] == '-' && p + 1 < w.end && p[1] == '-';
            if (boundary && !count_delimiter(&w, p))
                break;
            p = next_line(p, w.end);
            if (boundary)
                kind = BLOCK_PART;
            continue;
        }
        p = bound_block(&w, p, kind, limits->max_headers, &kind);
    }
    if (w.out != NULL) {
        copy_to(&w, w.end);
        out->copy = w.out;
    }
    g_ptr_array_unref(w.boundaries);
}

void
parser_bound_clear(struct parser_bound *b)
{
    if (b->copy != NULL)
        g_byte_array_unref(b->copy);
    for (guint i = 0; b->address_fields != NULL && i < b->address_fields->len; i++) {
        struct parser_field *f = g_ptr_array_index(b->address_fields, i);
        g_free(f->name);
        g_free(f->value);
        g_free(f);
    }
    if (b->address_fields != NULL)
        g_ptr_array_unref(b->address_fields);
    memset(b, 0, sizeof *b);
}

/* ---- the message ---- */

/* GMime tries these in order on header bytes that are not ASCII. */
static const char *header_fallback_charsets[] = { "UTF-8", "windows-1252", NULL };

GMimeParserOptions *
parser_options_new(bool strict)
{
    GMimeParserOptions *options = g_mime_parser_options_new();

    g_mime_parser_options_set_fallback_charsets(options, header_fallback_charsets);
    if (strict)
        g_mime_parser_options_set_rfc2047_compliance_mode(options, GMIME_RFC_COMPLIANCE_STRICT);
    return options;
}

GMimeMessage *
parser_construct_bounded(const char *raw, gsize len, const struct parser_limits *limits,
                         struct parser_bound *bound, GMimeParserOptions **options)
{
    GMimeStream *stream;
    GMimeParser *parser;
    GMimeMessage *msg;

    parser_bound_message(raw, len, limits, bound);
    *options = parser_options_new(true);
    if (bound->copy != NULL) {
        /* The copy outlives the message (the caller clears it last): no
         * second copy. */
        stream = g_mime_stream_mem_new_with_byte_array(bound->copy);
        g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(stream), FALSE);
    } else {
        /* GMime's stream copies RAW, which belongs to the caller. */
        stream = g_mime_stream_mem_new_with_buffer(raw, len);
    }
    parser = g_mime_parser_new_with_stream(stream);
    msg = g_mime_parser_construct_message(parser, *options);
    /* GMime 3.2 has no autoptr support; the message keeps what it needs. */
    g_object_unref(parser);
    g_object_unref(stream);
    return msg;
}
