/*
 * html - HTML parts read with libxml2's HTML parser.
 *
 * What it is for: the text of mail that has no text/plain part (and of
 * every HTML part, for strip.c), read by a real parser so that every named
 * and numeric entity decodes and broken markup is repaired the way
 * libxml2 repairs it, not the way a hand-written pass guesses.  The text
 * keeps the line structure support staff read: a block's end and <br> end
 * a line, a block's start only makes sure one has begun, table cells are
 * separated by a space, quoted blocks get "> ", scripts, styles and the
 * head are left out.
 *
 * What it owns: the libxml2 parser context of one read (created and freed
 * here, one per call, so threads share nothing; xmlInitParser() runs once
 * in parser_init()).  The document tree goes to the caller.
 *
 * Edge cases, and where libxml2 2.9 needs help:
 *  - Size is bounded: libxml2 gets at most PARSER_HTML_MAX_BYTES of a
 *    part (html.h says why), cut after the last whole character before
 *    that; the text of a longer part ends with a paragraph that says how
 *    much of it was read, since that text is all staff will see of it.
 *  - Work is bounded: libxml2's own limits stay on (no HTML_PARSE_HUGE:
 *    nesting deeper than 256 elements, names and text nodes past its
 *    maximum stop the parse), nothing is fetched from the network, and a
 *    tag with more than about a thousand attributes ends the document,
 *    because libxml2 checks each attribute of a tag against all the ones
 *    before it, which would make one crafted tag cost quadratic time.  The
 *    input is handed over in small chunks so that libxml2 asks for more
 *    while it reads such a tag, and that is where it is stopped.
 *  - Prefixed element names ("o:p", which Outlook puts in every
 *    paragraph) lose their prefix in libxml2's HTML tree and would become
 *    paragraphs nested in paragraphs; the full name is put back.
 *  - "<![if !supportLists]>" and "<![endif]>" (Word's conditional markup,
 *    comments for every other reader) are text to libxml2 2.9; they are
 *    kept as unescaped markup, so that they vanish from the text and are
 *    written back as they were.
 *  - A document libxml2 could not read to the end says so (*is_complete),
 *    so that strip.c does not write back a shortened copy.
 *
 * Failure: there is none for the caller to handle; what libxml2 cannot
 * read is left out, and text with nothing readable is "".
 */
#include <string.h>

#include <libxml/HTMLparser.h>
#include <libxml/SAX2.h>
#include <libxml/parserInternals.h>

#include "parser/html.h"

/* Recover from any markup, say nothing, load nothing, add no DOCTYPE of
 * our own, and let no <meta> change the charset: the input is UTF-8
 * already, converted from what the MIME header says.  HTML_PARSE_NOIMPLIED
 * is left out: without <html> and <body> libxml2 2.9 builds wrong trees (a
 * paragraph inside the one before it).  HTML_PARSE_HUGE is left out too,
 * so that libxml2's limits hold. */
#define READ_OPTIONS                                                                               \
    (HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET |           \
     HTML_PARSE_NODEFDTD | HTML_PARSE_COMPACT | HTML_PARSE_IGNORE_ENC)

/* How much input libxml2 gets at a time: it asks again after at most this
 * much, also in the middle of a tag. */
#define READ_CHUNK 4096

/* libxml2 keeps a tag's attribute names and values in ctxt->atts, which it
 * doubles from 22 slots; past this many, the tag has more than a thousand
 * attributes. */
#define MAX_ATTR_SLOTS 4096

static const char *const block_tags[] = {
    "p",  "div", "tr", "li", "h1",         "h2",  "h3",    "h4",
    "h5", "h6",  "ul", "ol", "blockquote", "pre", "table",
};

/* Elements whose content is never text a reader sees. */
static const char *const skipped_tags[] = { "head", "script", "style", "title", "template" };

/* ---- reading ---- */

struct reader {
    htmlParserCtxtPtr ctxt;
    const char *src;
    gsize len;
    gsize fed;        /* bytes given to libxml2 so far */
    gsize skip_until; /* the end of the last "<!...>" kept as markup */
    gsize pending_lt; /* where a '<' that may open "<!...>" is ... */
    bool has_pending; /* ... when there is one */
    bool stopped;     /* the input was cut short */
};

static int
reader_read(void *data, char *buf, int size)
{
    struct reader *r = data;
    gsize n = MIN((gsize)size, MIN(READ_CHUNK, r->len - r->fed));

    if (r->ctxt->maxatts > MAX_ATTR_SLOTS) {
        r->stopped = true;
        return 0;
    }
    memcpy(buf, r->src + r->fed, n);
    r->fed += n;
    return (int)n;
}

/* Where libxml2 reads in R->src: the input is UTF-8 and libxml2 converts
 * from UTF-8, so its offsets are ours. */
static gsize
reader_pos(htmlParserCtxtPtr c)
{
    return c->input != NULL ? c->input->consumed + (gsize)(c->input->cur - c->input->base) : 0;
}

static struct reader *
reader_of(void *ctx)
{
    return ((htmlParserCtxtPtr)ctx)->_private;
}

/* "<!...>" from AT to the next '>' (or the end, as HTML reads it) as a
 * text node that is written back unescaped and that the text leaves out. */
static void
keep_markup(htmlParserCtxtPtr c, struct reader *r, gsize at)
{
    const char *gt = memchr(r->src + at, '>', r->len - at);
    gsize end = gt != NULL ? (gsize)(gt - r->src) + 1 : r->len;

    if (c->node != NULL) {
        xmlNodePtr raw = xmlNewDocTextLen(c->myDoc, (const xmlChar *)r->src + at, (int)(end - at));
        if (raw != NULL) {
            /* Linked by hand: xmlAddChild() would append it to a text node
             * before it, copying that again for every one of a long run. */
            raw->name = xmlStringTextNoenc;
            raw->parent = c->node;
            raw->prev = c->node->last;
            if (c->node->last != NULL)
                c->node->last->next = raw;
            else
                c->node->children = raw;
            c->node->last = raw;
        }
    }
    r->skip_until = end;
}

/* A '<' held back turned out to be plain text after all. */
static void
flush_pending(void *ctx)
{
    struct reader *r = reader_of(ctx);

    if (r->has_pending) {
        r->has_pending = false;
        xmlSAX2Characters(ctx, (const xmlChar *)"<", 1);
    }
}

/* libxml2 hands a '<' that starts no tag over as text before it reads past
 * it, and the rest ("![if ...]>") as the next text, starting one byte
 * later.  A '<' from "&lt;" comes after its entity was read: at the same
 * position the next '<' would be.  So a '<' is held back until the next
 * piece of text (or a comment, or the end) says which it was. */
static void
on_characters(void *ctx, const xmlChar *ch, int len)
{
    htmlParserCtxtPtr c = ctx;
    struct reader *r = reader_of(ctx);
    gsize end = reader_pos(c);
    /* A '<' libxml2 has not read past yet is at END, other text before it. */
    bool lone_lt = len == 1 && ch[0] == '<' && end < r->len && r->src[end] == '<';
    gsize start = lone_lt ? end : end >= (gsize)len ? end - (gsize)len : 0;

    if (r->has_pending) {
        r->has_pending = false;
        if (len > 0 && ch[0] == '!' && start == r->pending_lt + 1)
            keep_markup(c, r, r->pending_lt);
        else
            xmlSAX2Characters(ctx, (const xmlChar *)"<", 1);
    }
    if (lone_lt && start >= r->skip_until && end + 1 < r->len && r->src[end + 1] == '!') {
        r->has_pending = true;
        r->pending_lt = end;
        return;
    }
    /* What libxml2 reads as text inside a kept "<!...>" is in it already. */
    if (start < r->skip_until) {
        gsize cut = r->skip_until - start;
        if (cut >= (gsize)len)
            return;
        ch += cut;
        len -= (int)cut;
    }
    xmlSAX2Characters(ctx, ch, len);
}

/* A '<' held back stays held across elements libxml2 opens or closes on
 * its own before the text after it (an implied <p> when the document
 * starts with "<![endif]>"): the markup goes where that text goes. */
static void
on_start_element(void *ctx, const xmlChar *name, const xmlChar **atts)
{
    htmlParserCtxtPtr c = ctx;
    xmlNodePtr parent = c->node;

    xmlSAX2StartElement(ctx, name, atts);
    /* libxml2 keeps "p" of "o:p"; the name as written is what the text
     * must not take for a paragraph and what must be written back. */
    if (c->node != NULL && c->node != parent && strchr((const char *)name, ':') != NULL)
        xmlNodeSetName(c->node, name);
}

static void
on_comment(void *ctx, const xmlChar *value)
{
    flush_pending(ctx);
    xmlSAX2Comment(ctx, value);
}

static void
on_end_document(void *ctx)
{
    flush_pending(ctx);
    xmlSAX2EndDocument(ctx);
}

bool
parser_html_is_cut(gsize len)
{
    return len > PARSER_HTML_MAX_BYTES;
}

/* How much of LEN bytes of HTML (UTF-8, or bytes that are mostly UTF-8) is
 * read: all, or up to the last character that starts before the bound. */
static gsize
read_len(const char *html, gsize len)
{
    gsize n = PARSER_HTML_MAX_BYTES;

    if (!parser_html_is_cut(len))
        return len;
    while (n > 0 && ((guchar)html[n] & 0xc0) == 0x80)
        n--;
    return n;
}

htmlDocPtr
parser_html_read(const char *html, gsize len, bool *is_complete)
{
    struct reader r = { .src = html, .len = read_len(html, len) };
    htmlParserCtxtPtr ctxt = htmlNewParserCtxt();
    htmlDocPtr doc;

    *is_complete = false;
    if (ctxt == NULL)
        return NULL;
    r.ctxt = ctxt;
    ctxt->_private = &r;
    ctxt->sax->startElement = on_start_element;
    ctxt->sax->characters = on_characters;
    ctxt->sax->comment = on_comment;
    ctxt->sax->endDocument = on_end_document;
    doc = htmlCtxtReadIO(ctxt, reader_read, NULL, &r, NULL, "UTF-8", READ_OPTIONS);
    /* libxml2 halts (and disables its callbacks) at its depth limit. */
    *is_complete = r.len == len && !r.stopped && ctxt->disableSAX == 0;
    htmlFreeParserCtxt(ctxt);
    return doc;
}

/* ---- the text ---- */

bool
parser_html_is(xmlNodePtr node, const char *name)
{
    return node != NULL && node->type == XML_ELEMENT_NODE &&
           strcmp((const char *)node->name, name) == 0;
}

bool
parser_html_is_text(xmlNodePtr node)
{
    return node->type == XML_TEXT_NODE && node->name != xmlStringTextNoenc;
}

bool
parser_html_is_any(xmlNodePtr node, const char *const *names, gsize n)
{
    for (gsize i = 0; i < n; i++)
        if (parser_html_is(node, names[i]))
            return true;
    return false;
}

struct text_state {
    GString *out;
    GArray *spans;      /* NULL when not asked for */
    guint quote;        /* <blockquote> levels around */
    guint pre;          /* <pre> levels around: line ends are line ends */
    bool line_has_text; /* the current line has more than blanks */
};

/* A block's end (and <br>) ends a line; a block's start only makes sure
 * one has begun (ALWAYS false), so that "</li><li>" or Outlook's paragraph
 * per line gives one line break, not an empty line between every two. */
static void
line_break(struct text_state *t, bool always)
{
    GString *out = t->out;
    gsize was = out->len;

    while (out->len > 0 && (out->str[out->len - 1] == ' ' || out->str[out->len - 1] == '\t'))
        g_string_truncate(out, out->len - 1);
    /* The spans of the blanks dropped keep their content, not their text. */
    for (guint i = t->spans != NULL && was > out->len ? t->spans->len : 0; i > 0; i--) {
        struct html_span *s = &g_array_index(t->spans, struct html_span, i - 1);
        if (s->at + s->len <= out->len)
            break;
        s->at = MIN(s->at, out->len);
        s->len = out->len - s->at;
    }
    if (always || t->line_has_text)
        g_string_append_c(out, '\n');
    t->line_has_text = false;
}

static void
put(struct text_state *t, char c)
{
    if (c != ' ' && c != '\t' && !t->line_has_text) {
        for (guint i = 0; i < t->quote; i++)
            g_string_append(t->out, "> ");
        t->line_has_text = true;
    }
    g_string_append_c(t->out, c);
}

static void
add_span(struct text_state *t, xmlNodePtr node, gsize start, gsize end, gsize at, gsize len)
{
    struct html_span s = { node, start, end, at, len };

    if (t->spans != NULL && (end > start || node->type == XML_ELEMENT_NODE))
        g_array_append_val(t->spans, s);
}

/* A text node: line ends in the source are spaces, except inside <pre>,
 * where each ends a line.  A no-break space is a space.  The spans cut the
 * node where text and content stop matching byte for byte: at a line end
 * in <pre>, a no-break space, and the "> " before a quoted line. */
static void
add_text(struct text_state *t, xmlNodePtr node)
{
    const char *s = (const char *)node->content;
    gsize len = s != NULL ? strlen(s) : 0;
    gsize piece = 0;        /* where the current span starts in the content */
    gsize at = t->out->len; /* and in the text */

    for (gsize i = 0; i < len; i++) {
        gsize before = t->out->len;

        if (s[i] == '\n' && t->pre > 0) {
            add_span(t, node, piece, i, at, i - piece);
            line_break(t, true);
            add_span(t, node, i, i + 1, t->out->len - 1, 1);
            piece = i + 1;
            at = t->out->len;
        } else if ((guchar)s[i] == 0xc2 && (guchar)s[i + 1] == 0xa0) {
            add_span(t, node, piece, i, at, i - piece);
            put(t, ' ');
            add_span(t, node, i, i + 2, t->out->len - 1, 1);
            piece = ++i + 1;
            at = t->out->len;
        } else {
            put(t, s[i] == '\n' || s[i] == '\r' ? ' ' : s[i]);
            /* A quoted line's "> " went in before this byte. */
            if (t->out->len - before > 1) {
                add_span(t, node, piece, i, at, i - piece);
                piece = i;
                at = t->out->len - 1;
            }
        }
    }
    add_span(t, node, piece, len, at, len - piece);
}

/* What NODE adds where it starts; true when its children are to be read
 * (and leave() called after them). */
static bool
enter(struct text_state *t, xmlNodePtr node)
{
    if (node->type == XML_TEXT_NODE) {
        if (parser_html_is_text(node))
            add_text(t, node);
        return false;
    }
    if (node->type != XML_ELEMENT_NODE ||
        parser_html_is_any(node, skipped_tags, G_N_ELEMENTS(skipped_tags)))
        return false;
    if (parser_html_is(node, "br")) {
        line_break(t, true);
        add_span(t, node, 0, 0, t->out->len - 1, 1);
        return false;
    }
    if (parser_html_is(node, "hr")) {
        line_break(t, true);
        return false;
    }
    if (parser_html_is(node, "td") || parser_html_is(node, "th")) {
        put(t, ' ');
    } else if (parser_html_is_any(node, block_tags, G_N_ELEMENTS(block_tags))) {
        line_break(t, false);
        t->quote += parser_html_is(node, "blockquote");
        t->pre += parser_html_is(node, "pre");
    }
    return true;
}

static void
leave(struct text_state *t, xmlNodePtr node)
{
    if (parser_html_is(node, "td") || parser_html_is(node, "th")) {
        put(t, ' ');
    } else if (parser_html_is_any(node, block_tags, G_N_ELEMENTS(block_tags))) {
        line_break(t, true);
        t->quote -= parser_html_is(node, "blockquote");
        t->pre -= parser_html_is(node, "pre");
    }
}

void
parser_html_text(htmlDocPtr doc, GString *out, GArray *spans)
{
    struct text_state t = { .out = out, .spans = spans };
    xmlNodePtr root = (xmlNodePtr)doc;
    xmlNodePtr n = root != NULL ? root->children : NULL;

    /* In document order without recursion: down to the first child, on to
     * the next sibling, up (leaving each parent) when there is none. */
    while (n != NULL) {
        bool descend = enter(&t, n);
        if (descend && n->children != NULL) {
            n = n->children;
            continue;
        }
        if (descend)
            leave(&t, n);
        while (n->next == NULL) {
            n = n->parent;
            if (n == NULL || n == root)
                return;
            leave(&t, n);
        }
        n = n->next;
    }
}

char *
parser_html_tidy(const char *text)
{
    GString *out = g_string_new(NULL);
    int newlines = 2; /* no leading blank lines */
    bool space = false;

    for (const char *p = text; *p != '\0'; p++) {
        if (*p == '\n') {
            space = false;
            if (newlines < 2)
                g_string_append_c(out, '\n');
            newlines++;
        } else if (*p == ' ' || *p == '\t' || *p == '\r') {
            space = newlines == 0;
        } else {
            if (space)
                g_string_append_c(out, ' ');
            space = false;
            newlines = 0;
            g_string_append_c(out, *p);
        }
    }
    while (out->len > 0 && out->str[out->len - 1] == '\n')
        g_string_truncate(out, out->len - 1);
    return g_string_free(out, FALSE);
}

char *
parser_html_to_text(const char *html)
{
    g_autoptr(GString) out = g_string_new(NULL);
    gsize len = html != NULL ? strlen(html) : 0;
    /* Only what is read is made valid: a 30 MiB part is not copied whole. */
    gsize n = len > 0 ? read_len(html, len) : 0;
    g_autofree char *valid = g_utf8_make_valid(html != NULL ? html : "", (gssize)n);
    bool is_complete;
    htmlDocPtr doc = parser_html_read(valid, strlen(valid), &is_complete);
    char *text;

    /* A document read only in part still gives the text read. */
    if (doc != NULL) {
        parser_html_text(doc, out, NULL);
        xmlFreeDoc(doc);
    }
    text = parser_html_tidy(out->str);
    if (n == len)
        return text;
    /* What staff read of the customer's mail must say it is not all. */
    g_autofree char *cut = text;
    return g_strdup_printf(
        "%s%s[Only the first %u KiB of this HTML part were read; it has %" G_GSIZE_FORMAT " KiB.]",
        cut, *cut != '\0' ? "\n\n" : "", PARSER_HTML_MAX_BYTES / 1024, (len + 1023) / 1024);
}
