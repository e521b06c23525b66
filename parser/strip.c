/*
 * strip - the copy of a staff reply the customer gets, without the
 * command lines at its top.
 *
 * What it is for: staff write "#status pending" above their answer; the
 * ticket takes the commands, the customer must not read them.  Mail
 * clients send the answer twice (text/plain and text/html in a
 * multipart/alternative), some only as HTML, some with the HTML split
 * around inline images; the customer's client shows whichever it likes,
 * so every part that shows the message's text loses them.  Which parts
 * those are is parser_part_shows_text()'s answer (text.c), the same rule
 * that picks the part the ticket's text, and so its commands, are read
 * from: a part the commands were read from always loses them, and a part
 * that is not text (an attachment, a named file shown inline) is never
 * changed.  A forwarded message/rfc822 is not the sender's writing and is
 * left as it is.
 *
 * Which lines: the same rule as the router's (router/commands.c), on each
 * part's own lines: blank lines are skipped, command lines (as the
 * caller's test says: the parser knows no command) are taken, the first
 * other line ends them.  What goes is everything up to that first line of
 * prose: the command lines and the blank lines before, among and after
 * them.  Quoted text ("> #status closed", or a <blockquote>, which the HTML
 * text quotes the same way) is prose, so nothing quoted is ever removed.
 *
 * Echoes in HTML: an HTML version may say more than its plain twin before
 * the text the reader sees: a hidden preheader (a display:none <div> that
 * inbox lists show as a preview) or a line of prose above the body, often
 * repeating the commands.  The HTML's own leading lines then start with
 * prose and the rule above takes nothing, so in addition each command line
 * at the top of the plain part loses its first copy in the HTML text,
 * wherever it stands, and, when that copy was not a line of its own, the
 * first line that is nothing but that command too.  Quoted lines are never
 * searched.
 *
 * HTML: read with libxml2 (html.c), in the lines its text has; the text of
 * what goes is cut out of its text nodes and the <br> elements that ended
 * its lines are taken out of the tree, then every element left showing
 * nothing (Outlook's <p class=MsoNormal> with its <o:p>, Apple Mail's
 * <div><br></div>) goes too, climbing while the parent shows nothing
 * either, so the rest renders as it did.  The tree is written back by
 * libxml2, declaring UTF-8 in its <meta> tags.
 *
 * What it owns: the GMime message it builds from the raw bytes; the
 * result goes to the caller as the body and the two top-level headers the
 * milter can change (it cannot replace the whole message).
 *
 * Limits: the parts visited are those of parser_walk_leaves() within
 * parser_default_limits.  An HTML part longer than PARSER_HTML_MAX_BYTES is
 * not parsed at all (libxml2's tree of it would take gigabytes): it is
 * replaced by a short HTML document that says so and shows the plain
 * part's text without its commands, or, with no plain part, the text of
 * its first PARSER_HTML_MAX_BYTES without them.  An HTML document libxml2
 * stops reading before its end (nesting past its depth limit, a tag with a
 * thousand attributes) is written back as far as it was read, since what
 * was read is all that can be vouched to carry no command.  At most
 * MAX_ECHOED command lines are looked for as echoes, with a bounded number
 * of byte comparisons (ECHO_WORK_PER_BYTE per byte of the text).
 *
 * Failure: a message GMime cannot read, or one without command lines,
 * gives false and nothing to change.
 */
#include <string.h>

#include <gmime/gmime.h>
#include <libxml/HTMLtree.h>

#include "parser/bound.h"
#include "parser/html.h"
#include "parser/mail.h"
#include "parser/text.h"
#include "parser/walk.h"
#include "util/lines.h"

/* Elements that show something with no text in them. */
static const char *const showing_tags[] = {
    "img",    "br",    "hr",    "input", "textarea", "select", "button",  "iframe",
    "object", "embed", "video", "audio", "canvas",   "svg",    "picture", "math",
};

/* Elements never taken out, however empty. */
static const char *const kept_tags[] = { "html", "head", "body" };

/* A stretch of the text, START..END. */
struct range {
    gsize start;
    gsize end;
};

static gint
range_cmp(gconstpointer a, gconstpointer b)
{
    const struct range *x = a;
    const struct range *y = b;

    return x->start < y->start ? -1 : x->start > y->start;
}

/* RANGES sorted, and those that touch or overlap made one. */
static void
merge_ranges(GArray *ranges)
{
    guint w = 0;

    g_array_sort(ranges, range_cmp);
    for (guint r = 0; r < ranges->len; r++) {
        struct range *cur = &g_array_index(ranges, struct range, r);
        struct range *last = w > 0 ? &g_array_index(ranges, struct range, w - 1) : NULL;

        if (last != NULL && cur->start <= last->end)
            last->end = MAX(last->end, cur->end);
        else
            g_array_index(ranges, struct range, w++) = *cur;
    }
    g_array_set_size(ranges, w);
}

/* ---- which lines ---- */

/* The offset in TEXT where it goes on after its leading command lines
 * (and the blank lines before, among and after them); 0 when the first
 * line that is not blank is no command line. */
static gsize
leading_commands_end(const char *text, bool (*is_command_line)(const char *line))
{
    const char *p = text;
    gsize rest = 0;
    bool found = false;

    while (*p != '\0') {
        const char *eol = strchr(p, '\n');
        gsize n = eol != NULL ? (gsize)(eol - p) : strlen(p);
        const char *next = eol != NULL ? eol + 1 : p + n;
        g_autofree char *line = g_strstrip(g_strndup(p, n));

        if (*line != '\0') {
            if (!is_command_line(line))
                break;
            found = true;
        }
        if (found)
            rest = (gsize)(next - text);
        p = next;
    }
    return rest;
}

/* The command lines among the first REST bytes of TEXT (as
 * leading_commands_end() found them), trimmed, added to OUT. */
static void
add_command_lines(GPtrArray *out, const char *text, gsize rest,
                  bool (*is_command_line)(const char *line))
{
    g_autofree char *head = g_strndup(text, rest);
    g_auto(GStrv) lines = util_split_lines(head);

    for (char **l = lines; *l != NULL; l++) {
        g_strstrip(*l);
        if (**l != '\0' && is_command_line(*l))
            g_ptr_array_add(out, g_strdup(*l));
    }
}

/* ---- echoes of the plain part's commands in the HTML ---- */

/* The plain part's command lines looked for in the HTML, at most; a reply
 * has a handful, and each costs a pass over the text. */
#define MAX_ECHOED 32

/* Byte comparisons allowed per byte of the HTML text, for all the echoes
 * together: a text made of near copies of a command must not cost a
 * comparison per byte for every byte. */
#define ECHO_WORK_PER_BYTE 16

struct echo_search {
    const char *text;
    gsize len;
    GArray *claimed; /* struct range: copies already taken for a command */
    guint64 work;    /* comparisons left */
};

static bool
is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* A character that goes on a word: a copy must not be the start or the end
 * of a longer word ("#status pending" in "#status pendingly"). */
static bool
is_word(const char *p, const char *end)
{
    if (g_ascii_isalnum(*p) || (guchar)*p >= 0x80 || strchr("_@+-#", *p) != NULL)
        return true;
    return *p == '.' && p + 1 < end && g_ascii_isalnum(p[1]);
}

/* Where a copy of LINE (trimmed) that starts at AT in the text ends, any
 * run of blanks in either matching any run in the other; 0 when there is
 * none before END. */
static gsize
match_at(struct echo_search *e, gsize at, gsize end, const char *line)
{
    gsize i = at;

    for (const char *l = line; *l != '\0';) {
        if (e->work == 0)
            return 0;
        e->work--;
        if (is_blank(*l)) {
            if (i >= end || !is_blank(e->text[i]))
                return 0;
            while (is_blank(*l))
                l++;
            while (i < end && is_blank(e->text[i]))
                i++;
        } else {
            if (i >= end || e->text[i] != *l)
                return 0;
            i++;
            l++;
        }
    }
    return i;
}

static bool
overlaps_claimed(const struct echo_search *e, gsize start, gsize end)
{
    for (guint i = 0; i < e->claimed->len; i++) {
        const struct range *r = &g_array_index(e->claimed, struct range, i);
        if (start < r->end && r->start < end)
            return true;
    }
    return false;
}

/* The first copy of LINE, not quoted and not claimed yet: anywhere in a
 * line, or (WHOLE_LINE) as all of one. */
static bool
find_copy(struct echo_search *e, const char *line, bool whole_line, struct range *found)
{
    const char *text = e->text;

    for (gsize ls = 0; ls < e->len;) {
        const char *nl = memchr(text + ls, '\n', e->len - ls);
        gsize le = nl != NULL ? (gsize)(nl - text) : e->len;
        gsize first = ls;

        while (first < le && is_blank(text[first]))
            first++;
        /* A quoted line is prose (see the top of this file). */
        for (gsize q = first; q < le && text[first] != '>';) {
            const char *hit = memchr(text + q, line[0], le - q);
            gsize at = hit != NULL ? (gsize)(hit - text) : le;
            gsize end = at < le ? match_at(e, at, le, line) : 0;
            bool fits = end > 0 && (at == ls || !is_word(text + at - 1, text + le)) &&
                        (end == le || !is_word(text + end, text + le));

            if (fits && whole_line) {
                gsize rest = end;
                while (rest < le && is_blank(text[rest]))
                    rest++;
                fits = rest == le;
            }
            if (fits && !overlaps_claimed(e, at, end)) {
                *found = (struct range){ at, end };
                return true;
            }
            if (whole_line || at >= le || e->work == 0)
                break;
            q = at + 1;
        }
        ls = le + 1;
    }
    return false;
}

/* Whether COPY is all of its line but blanks. */
static bool
is_own_line(const char *text, gsize len, const struct range *copy)
{
    for (gsize i = copy->start; i > 0 && text[i - 1] != '\n'; i--)
        if (!is_blank(text[i - 1]))
            return false;
    for (gsize i = copy->end; i < len && text[i] != '\n'; i++)
        if (!is_blank(text[i]))
            return false;
    return true;
}

/* Adds to RANGES (the HTML text's stretches to take out, REST the end of
 * its own leading command lines) the echoes of COMMANDS, the plain part's
 * command lines: for each, its first copy in TEXT, and when that copy is
 * not a line of its own, its first copy that is.  A copy before REST goes
 * with the leading lines already, but still counts as that command's. */
static void
add_echoes(const char *text, gsize len, gsize rest, GPtrArray *commands, GArray *ranges)
{
    g_autoptr(GArray) claimed = g_array_new(FALSE, FALSE, sizeof(struct range));
    struct echo_search e = { text, len, claimed, (guint64)len * ECHO_WORK_PER_BYTE + 1024 };

    for (guint i = 0; commands != NULL && i < commands->len && i < MAX_ECHOED; i++) {
        const char *line = g_ptr_array_index(commands, i);
        struct range copy;

        for (int pass = 0; pass < 2; pass++) {
            if (!find_copy(&e, line, pass == 1, &copy))
                break;
            g_array_append_val(claimed, copy);
            bool own_line = is_own_line(text, len, &copy);
            /* A line of its own goes with its line end, as a leading one
             * does, so that no empty line is left where it was. */
            struct range cut = copy;
            while (own_line && cut.start > 0 && text[cut.start - 1] != '\n')
                cut.start--;
            while (own_line && cut.end < len && text[cut.end++] != '\n')
                ;
            if (copy.start >= rest)
                g_array_append_val(ranges, cut);
            if (own_line)
                break;
        }
    }
}

/* ---- HTML ---- */

static bool
is_blank_text(const xmlChar *s)
{
    for (const guchar *p = s; p != NULL && *p != '\0'; p++) {
        if (*p == 0xc2 && p[1] == 0xa0)
            p++; /* a no-break space */
        else if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
            return false;
    }
    return true;
}

/* The next node after NODE in document order within ROOT's subtree; NULL
 * at the end.  No recursion, whatever the depth. */
static xmlNodePtr
next_in(xmlNodePtr root, xmlNodePtr node)
{
    if (node->children != NULL)
        return node->children;
    while (node != root && node->next == NULL)
        node = node->parent;
    return node != root ? node->next : NULL;
}

/* Whether ROOT's subtree shows nothing: text only of blanks (kept
 * "<![if ...]>" markup and comments are no text), no image, no line break,
 * no other element that shows without text. */
static bool
shows_nothing(xmlNodePtr root)
{
    for (xmlNodePtr n = root; n != NULL; n = next_in(root, n)) {
        if (parser_html_is_text(n) && !is_blank_text(n->content))
            return false;
        if (parser_html_is_any(n, showing_tags, G_N_ELEMENTS(showing_tags)))
            return false;
    }
    return true;
}

/* A piece of a text node's content to take out, START..END. */
struct cut {
    xmlNodePtr node;
    gsize start;
    gsize end;
};

/* NODE's content without the CUTS (in content order), or its end when
 * nothing is left to show. */
static void
apply_cuts(xmlNodePtr node, const struct cut *cuts, guint n, GPtrArray *gone, GPtrArray *parents)
{
    const char *content = (const char *)node->content;
    g_autoptr(GString) left = g_string_new(NULL);
    gsize from = 0;

    for (guint i = 0; i < n; i++) {
        g_string_append_len(left, content + from, (gssize)(cuts[i].start - from));
        from = MAX(from, cuts[i].end);
    }
    g_string_append(left, content + from);
    if (is_blank_text((const xmlChar *)left->str)) {
        g_ptr_array_add(parents, node->parent);
        xmlUnlinkNode(node);
        g_ptr_array_add(gone, node);
    } else {
        xmlNodeSetContent(node, (const xmlChar *)left->str);
    }
}

/* Takes the stretches RANGES (sorted, not overlapping) of the text out of
 * the tree: the bytes of text nodes they cover (a text node left with
 * nothing to show goes whole) and the <br> elements whose line end is in
 * them.  Unlinked nodes go to GONE, the elements that lost a child to
 * PARENTS. */
static void
remove_ranges(GArray *spans, GArray *ranges, GPtrArray *gone, GPtrArray *parents)
{
    g_autoptr(GArray) cuts = g_array_new(FALSE, FALSE, sizeof(struct cut));
    guint r0 = 0;

    for (guint i = 0; i < spans->len; i++) {
        const struct html_span *s = &g_array_index(spans, struct html_span, i);

        /* A range that ends where this span begins is done with: AT never
         * decreases. */
        while (r0 < ranges->len && g_array_index(ranges, struct range, r0).end <= s->at)
            r0++;
        for (guint r = r0; r < ranges->len; r++) {
            const struct range *g = &g_array_index(ranges, struct range, r);
            gsize from = MAX(g->start, s->at);
            gsize to = MIN(g->end, s->at + s->len);

            if (s->len > 0 ? g->start >= s->at + s->len : g->start > s->at)
                break;
            if (s->node->type == XML_ELEMENT_NODE) {
                g_ptr_array_add(parents, s->node->parent);
                xmlUnlinkNode(s->node);
                g_ptr_array_add(gone, s->node);
                break;
            }
            /* Up to the span's end, the blanks the text dropped there and
             * the whole of a no-break space go too. */
            struct cut c = { s->node, s->start + (from - s->at),
                             to == s->at + s->len ? s->end : s->start + (to - s->at) };
            g_array_append_val(cuts, c);
        }
    }
    /* A node's spans, and so its cuts, are next to each other. */
    for (guint i = 0; i < cuts->len;) {
        const struct cut *c = &g_array_index(cuts, struct cut, i);
        guint j = i + 1;

        while (j < cuts->len && g_array_index(cuts, struct cut, j).node == c->node)
            j++;
        apply_cuts(c->node, c, j - i, gone, parents);
        i = j;
    }
}

/* Every element of PARENTS that now shows nothing goes, and then its
 * parent if that shows nothing either.  An element found showing
 * something is not looked at again, so each subtree is read about once. */
static void
prune(GPtrArray *parents, GPtrArray *gone)
{
    g_autoptr(GHashTable) showing = g_hash_table_new(NULL, NULL);

    for (guint i = 0; i < parents->len; i++) {
        xmlNodePtr el = g_ptr_array_index(parents, i);

        /* Unlinked already (its parent is gone), or one to keep. */
        if (el == NULL || el->type != XML_ELEMENT_NODE || el->parent == NULL ||
            parser_html_is_any(el, kept_tags, G_N_ELEMENTS(kept_tags)) ||
            g_hash_table_contains(showing, el))
            continue;
        if (!shows_nothing(el)) {
            g_hash_table_add(showing, el);
            continue;
        }
        g_ptr_array_add(parents, el->parent);
        xmlUnlinkNode(el);
        g_ptr_array_add(gone, el);
    }
}

/* The document says UTF-8 wherever it names a charset, as its part will. */
static void
declare_utf8(htmlDocPtr doc)
{
    xmlNodePtr root = (xmlNodePtr)doc;

    for (xmlNodePtr n = root->children; n != NULL; n = next_in(root, n)) {
        xmlChar *equiv;

        if (!parser_html_is(n, "meta"))
            continue;
        if (xmlHasProp(n, (const xmlChar *)"charset"))
            xmlSetProp(n, (const xmlChar *)"charset", (const xmlChar *)"utf-8");
        equiv = xmlGetProp(n, (const xmlChar *)"http-equiv");
        if (equiv != NULL && g_ascii_strcasecmp((const char *)equiv, "content-type") == 0)
            xmlSetProp(n, (const xmlChar *)"content", (const xmlChar *)"text/html; charset=utf-8");
        xmlFree(equiv);
    }
}

static char *
html_write(htmlDocPtr doc)
{
    xmlOutputBufferPtr buf = xmlAllocOutputBuffer(NULL);
    char *html;

    g_assert(buf != NULL);
    declare_utf8(doc);
    htmlDocContentDumpFormatOutput(buf, doc, NULL, 0);
    xmlOutputBufferFlush(buf);
    html = g_strndup((const char *)xmlOutputBufferGetContent(buf), xmlOutputBufferGetSize(buf));
    xmlOutputBufferClose(buf);
    return html;
}

static void
free_node(gpointer node)
{
    xmlFreeNode(node);
}

/* HTML without its leading command lines and the echoes of COMMANDS (the
 * plain part's command lines, NULL: none), as new markup; NULL when it has
 * neither. */
static char *
strip_html(const char *html, GPtrArray *commands, bool (*is_command_line)(const char *line))
{
    g_autoptr(GString) text = g_string_new(NULL);
    g_autoptr(GArray) spans = g_array_new(FALSE, FALSE, sizeof(struct html_span));
    g_autoptr(GArray) ranges = g_array_new(FALSE, FALSE, sizeof(struct range));
    g_autoptr(GPtrArray) gone = g_ptr_array_new_with_free_func(free_node);
    g_autoptr(GPtrArray) parents = g_ptr_array_new();
    bool is_complete;
    htmlDocPtr doc = parser_html_read(html, strlen(html), &is_complete);
    gsize rest;
    char *out;

    if (doc == NULL)
        return NULL;
    parser_html_text(doc, text, spans);
    rest = leading_commands_end(text->str, is_command_line);
    if (rest > 0) {
        struct range lead = { 0, rest };
        g_array_append_val(ranges, lead);
    }
    add_echoes(text->str, text->len, rest, commands, ranges);
    if (ranges->len == 0) {
        xmlFreeDoc(doc);
        return NULL;
    }
    merge_ranges(ranges);
    remove_ranges(spans, ranges, gone, parents);
    prune(parents, gone);
    out = html_write(doc);
    /* The nodes taken out go first: freeing one reads its document's
     * dictionary. */
    g_ptr_array_set_size(gone, 0);
    xmlFreeDoc(doc);
    return out;
}

/* An HTML document that shows NOTE, then TEXT as it is (escaped by
 * libxml2, line ends kept). */
static char *
text_as_html(const char *note, const char *text)
{
    htmlDocPtr doc = htmlNewDocNoDtD(NULL, NULL);
    xmlNodePtr root = xmlNewDocNode(doc, NULL, (const xmlChar *)"html", NULL);
    xmlNodePtr head = xmlNewChild(root, NULL, (const xmlChar *)"head", NULL);
    xmlNodePtr meta = xmlNewChild(head, NULL, (const xmlChar *)"meta", NULL);
    xmlNodePtr body = xmlNewChild(root, NULL, (const xmlChar *)"body", NULL);
    xmlNodePtr pre;
    char *out;

    xmlDocSetRootElement(doc, root);
    xmlSetProp(meta, (const xmlChar *)"charset", (const xmlChar *)"utf-8");
    xmlNewTextChild(body, NULL, (const xmlChar *)"p", (const xmlChar *)note);
    pre = xmlNewTextChild(body, NULL, (const xmlChar *)"pre", (const xmlChar *)text);
    xmlSetProp(pre, (const xmlChar *)"style", (const xmlChar *)"white-space: pre-wrap");
    out = html_write(doc);
    xmlFreeDoc(doc);
    return out;
}

/* ---- parts ---- */

/* PART's content becomes TEXT (UTF-8), labelled so, in the transfer
 * encoding GMime finds best for 7-bit transport. */
static void
set_text(GMimeTextPart *part, const char *text)
{
    GMimeStream *stream = g_mime_stream_mem_new_with_buffer(text, strlen(text));
    GMimeDataWrapper *content =
        g_mime_data_wrapper_new_with_stream(stream, GMIME_CONTENT_ENCODING_DEFAULT);

    g_mime_part_set_content(GMIME_PART(part), content);
    g_object_unref(content);
    g_object_unref(stream);
    g_mime_text_part_set_charset(part, "utf-8");
    g_mime_part_set_content_encoding(
        GMIME_PART(part),
        g_mime_part_get_best_content_encoding(GMIME_PART(part), GMIME_ENCODING_CONSTRAINT_7BIT));
}

/* What the plain parts tell the HTML parts. */
struct plain_view {
    GPtrArray *commands; /* every plain part's leading command lines, in order */
    char *text;          /* the first plain part's text without them */
};

/* Takes the leading command lines out of a text/plain PART, noting them
 * in VIEW; false when it has none. */
static bool
strip_plain(GMimeTextPart *part, struct plain_view *view, bool (*is_command_line)(const char *line))
{
    g_autofree char *text = parser_text_of_part(part, false);
    gsize rest = leading_commands_end(text, is_command_line);

    add_command_lines(view->commands, text, rest, is_command_line);
    if (view->text == NULL)
        view->text = g_strdup(text + rest);
    if (rest == 0)
        return false;
    set_text(part, text + rest);
    return true;
}

/* An HTML part too long to parse: what it becomes, so that none of its
 * commands reaches the customer.  The plain part's text without its
 * commands when there is one, else the text of the part's first
 * PARSER_HTML_MAX_BYTES (html.c says it is cut) without them. */
static char *
oversized_html(const char *html, const struct plain_view *view,
               bool (*is_command_line)(const char *line))
{
    g_autofree char *note = g_strdup_printf(
        "The HTML version of this message was longer than %u KiB; its text is shown here"
        " instead.",
        PARSER_HTML_MAX_BYTES / 1024);
    g_autofree char *read = NULL;
    const char *text = view->text;

    if (text == NULL) {
        read = parser_html_to_text(html);
        text = read + leading_commands_end(read, is_command_line);
    }
    return text_as_html(note, text);
}

/* Takes the leading command lines and the echoes of the plain part's out
 * of a text/html PART; false when it has neither. */
static bool
strip_html_part(GMimeTextPart *part, const struct plain_view *view,
                bool (*is_command_line)(const char *line))
{
    g_autofree char *text = parser_text_of_part(part, false);
    g_autofree char *html = parser_html_is_cut(strlen(text))
                                ? oversized_html(text, view, is_command_line)
                                : strip_html(text, view->commands, is_command_line);

    if (html == NULL)
        return false;
    set_text(part, html);
    return true;
}

static char *
top_header(GMimeObject *obj, const char *name)
{
    const char *v = g_mime_object_get_header(obj, name);

    return v != NULL ? g_strdup(v) : NULL;
}

/* TOP's content, what follows its header block, with CRLF line ends. */
static GBytes *
content_bytes(GMimeObject *top)
{
    GMimeFormatOptions *fo = g_mime_format_options_clone(NULL);
    GByteArray *bytes = g_byte_array_new();
    GMimeStream *out = g_mime_stream_mem_new_with_byte_array(bytes);

    g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_DOS);
    g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(out), FALSE);
    g_mime_object_write_content_to_stream(top, fo, out);
    g_object_unref(out);
    g_mime_format_options_free(fo);
    return g_byte_array_free_to_bytes(bytes);
}

bool
parser_strip_commands(const char *raw, gsize len, const struct parser_limits *limits,
                      bool (*is_command_line)(const char *line), GBytes **body, char **content_type,
                      char **encoding)
{
    struct parser_bound bound = { 0 };
    GMimeParserOptions *options = NULL;
    /* The same bounded copy the parser reads: a hostile header costs here
     * what it costs there. */
    GMimeMessage *msg = parser_construct_bounded(
        raw, len, limits != NULL ? limits : &parser_default_limits, &bound, &options);
    struct parser_walk walk;
    GArray *leaves;
    GMimeObject *top;
    struct plain_view view = { NULL, NULL };
    bool changed = false;

    /* Parts past what the walk sees were left out of the copy: writing it
     * back would lose them, so such a message is delivered as it came. */
    if (msg == NULL || bound.cut_parts) {
        if (msg != NULL)
            g_object_unref(msg);
        parser_bound_clear(&bound);
        g_mime_parser_options_free(options);
        return false;
    }
    top = g_mime_message_get_mime_part(msg);
    view.commands = g_ptr_array_new_with_free_func(g_free);
    parser_walk_init(&walk, limits);
    leaves = parser_walk_leaves(&walk, top, 0);
    /* The plain parts first: the HTML parts look for their commands. */
    for (int pass = 0; pass < 2; pass++) {
        for (guint i = 0; i < leaves->len; i++) {
            GMimeObject *obj = g_array_index(leaves, struct parser_leaf, i).obj;
            bool is_html;

            if (!parser_part_shows_text(obj, &is_html) || is_html != (pass == 1))
                continue;
            if (is_html)
                changed |= strip_html_part(GMIME_TEXT_PART(obj), &view, is_command_line);
            else
                changed |= strip_plain(GMIME_TEXT_PART(obj), &view, is_command_line);
        }
    }
    g_array_unref(leaves);
    g_ptr_array_unref(view.commands);
    g_free(view.text);
    if (changed) {
        *body = content_bytes(top);
        *content_type = top_header(top, "Content-Type");
        *encoding = top_header(top, "Content-Transfer-Encoding");
    }
    g_object_unref(msg);
    parser_bound_clear(&bound);
    g_mime_parser_options_free(options);
    return changed;
}
