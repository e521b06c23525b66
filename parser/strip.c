/*
 * strip - the copy of a staff reply the customer gets, without the
 * command lines at its top.
 *
 * What it is for: staff write "#status pending" above their answer; the
 * ticket takes the commands, the customer must not read them.  Mail
 * clients send the answer twice (text/plain and text/html in a
 * multipart/alternative), some only as HTML, some with the HTML split
 * around inline images; the customer's client shows whichever it likes,
 * so every part that shows the message's text loses them: each text/plain
 * and text/html part that is not an attachment or a named file.  A
 * forwarded message/rfc822 is not the sender's writing and is left as it
 * is.
 *
 * Which lines: the same rule as the router's (router/commands.c), on each
 * part's own lines: blank lines are skipped, command lines (as the
 * caller's test says: the parser knows no command) are taken, the first
 * other line ends them.  What goes is everything up to that first line of
 * prose: the command lines and the blank lines before, among and after
 * them.  Quoted text ("> #status closed", or a <blockquote>, which the HTML
 * text quotes the same way) is prose, so nothing quoted is ever removed.
 *
 * HTML: read with libxml2 (html.c), in the lines its text has; the text
 * nodes and <br> elements of the lines that go are taken out of the tree,
 * then every element left showing nothing (Outlook's <p class=MsoNormal>
 * with its <o:p>, Apple Mail's <div><br></div>) goes too, climbing while
 * the parent shows nothing either, so the rest renders as it did.  The
 * tree is written back by libxml2, declaring UTF-8 in its <meta> tags.
 *
 * What it owns: the GMime message it builds from the raw bytes; the
 * result goes to the caller as the body and the two top-level headers the
 * milter can change (it cannot replace the whole message).
 *
 * Limits: the parts visited are those of parser_walk_leaves() within
 * parser_default_limits; an HTML document libxml2 stops reading before
 * its end (nesting past its depth limit, a tag with a thousand attributes)
 * is written back as far as it was read, since what was read is all that
 * can be vouched to carry no command.
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

/* Elements that show something with no text in them. */
static const char *const showing_tags[] = {
    "img",  "br",     "hr",     "input", "textarea", "select", "button", "iframe",
    "object", "embed", "video", "audio", "canvas",   "svg",    "picture", "math",
};

/* Elements never taken out, however empty. */
static const char *const kept_tags[] = { "html", "head", "body" };

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

/* Takes the pieces of SPANS that begin before REST out of the tree: text
 * nodes whole (or their first bytes, when a <pre> line after REST is in the
 * same node) and <br> elements.  Unlinked nodes go to GONE, the elements
 * that lost a child to PARENTS. */
static void
remove_spans(GArray *spans, gsize rest, GPtrArray *gone, GPtrArray *parents)
{
    for (guint i = 0; i < spans->len;) {
        const struct html_span *s = &g_array_index(spans, struct html_span, i);
        xmlNodePtr node = s->node;
        gsize cut = 0;
        guint j = i;

        if (s->at >= rest)
            break;
        /* A node's spans are next to each other: take those before REST. */
        for (; j < spans->len; j++) {
            const struct html_span *t = &g_array_index(spans, struct html_span, j);
            if (t->node != node || t->at >= rest)
                break;
            cut = t->end;
        }
        if (j < spans->len && g_array_index(spans, struct html_span, j).node == node) {
            g_autofree char *left = g_strdup((const char *)node->content + cut);
            xmlNodeSetContent(node, (const xmlChar *)left);
        } else {
            g_ptr_array_add(parents, node->parent);
            xmlUnlinkNode(node);
            g_ptr_array_add(gone, node);
        }
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

/* HTML without its leading command lines, as new markup; NULL when it has
 * none. */
static char *
strip_html(const char *html, bool (*is_command_line)(const char *line))
{
    g_autoptr(GString) text = g_string_new(NULL);
    g_autoptr(GArray) spans = g_array_new(FALSE, FALSE, sizeof(struct html_span));
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
    if (rest == 0) {
        xmlFreeDoc(doc);
        return NULL;
    }
    remove_spans(spans, rest, gone, parents);
    prune(parents, gone);
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

/* A part that shows the message's text: inline text/plain or text/html
 * that is no file (a client that marks files "inline" still names them). */
static bool
shows_text(GMimeObject *obj, bool *is_html)
{
    GMimeContentType *ct = g_mime_object_get_content_type(obj);

    if (!GMIME_IS_TEXT_PART(obj) || parser_part_is_attachment(obj) ||
        g_mime_part_get_filename(GMIME_PART(obj)) != NULL)
        return false;
    *is_html = g_mime_content_type_is_type(ct, "text", "html");
    return *is_html || g_mime_content_type_is_type(ct, "text", "plain");
}

/* Takes the leading command lines out of PART; false when it has none. */
static bool
strip_part(GMimeTextPart *part, bool is_html, bool (*is_command_line)(const char *line))
{
    g_autofree char *text = parser_text_of_part(part, false);
    g_autofree char *html = NULL;
    gsize rest;

    if (is_html) {
        html = strip_html(text, is_command_line);
        if (html == NULL)
            return false;
        set_text(part, html);
        return true;
    }
    rest = leading_commands_end(text, is_command_line);
    if (rest == 0)
        return false;
    set_text(part, text + rest);
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
parser_strip_commands(const char *raw, gsize len, bool (*is_command_line)(const char *line),
                      GBytes **body, char **content_type, char **encoding)
{
    struct parser_bound bound = { 0 };
    GMimeParserOptions *options = NULL;
    /* The same bounded copy the parser reads: a hostile header costs here
     * what it costs there. */
    GMimeMessage *msg = parser_construct_bounded(raw, len, &parser_default_limits, &bound, &options);
    struct parser_walk walk;
    GArray *leaves;
    GMimeObject *top;
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
    parser_walk_init(&walk, NULL);
    leaves = parser_walk_leaves(&walk, top, 0);
    for (guint i = 0; i < leaves->len; i++) {
        GMimeObject *obj = g_array_index(leaves, struct parser_leaf, i).obj;
        bool is_html;
        if (shows_text(obj, &is_html))
            changed |= strip_part(GMIME_TEXT_PART(obj), is_html, is_command_line);
    }
    g_array_unref(leaves);
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
