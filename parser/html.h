/*
 * html - HTML parts read with libxml2's HTML parser: their text, and the
 * document tree strip.c edits.
 *
 * parser_html_to_text() is what the rest of the program uses; the types
 * and functions below it are internal to parser/.
 */
#ifndef TM_PARSER_HTML_H
#define TM_PARSER_HTML_H

#include <stdbool.h>

#include <glib.h>
#include <libxml/HTMLparser.h>

/* The most HTML handed to libxml2 for one part, in bytes.  libxml2 builds
 * a tree of about fifty times the markup (30 MiB of tags with many
 * attributes took 1.5 GB and 19 s), once per connection thread; no mail
 * client writes an HTML part anywhere near this big (Gmail clips what it
 * shows at about 100 KB), so a larger one is hostile or generated, and
 * only its first part is read. */
#define PARSER_HTML_MAX_BYTES (1024 * 1024)

/* Returns new UTF-8 text: the end of a block (and <br>) ends a line, table
 * cells are separated by a space, lines inside a <blockquote> start with
 * "> " (one per level, as a quoted plain-text reply), scripts, styles and
 * the head are dropped, every named and numeric entity is decoded, blank
 * runs inside a line become one space and runs of blank lines one blank
 * line. HTML is UTF-8 (invalid bytes are replaced); NULL reads as "".
 * HTML longer than PARSER_HTML_MAX_BYTES is read as far as that, and a
 * last paragraph says how much was left out (see parser_html_is_cut()). */
char *parser_html_to_text(const char *html);

/* ---- internal to parser/ ---- */

/* Whether LEN bytes of HTML are more than parser_html_read() reads. */
bool parser_html_is_cut(gsize len);

/* LEN bytes of valid UTF-8 HTML as a document tree (free with xmlFreeDoc;
 * NULL when there is nothing in it). Errors are recovered from and never
 * printed. At most PARSER_HTML_MAX_BYTES are read (up to the last whole
 * character before that). *IS_COMPLETE is set false when not all of it
 * was read: it was longer than that, libxml2 stopped at nesting deeper
 * than its limit, or at a tag with more attributes than any mail client
 * writes; the tree then holds what came before. */
htmlDocPtr parser_html_read(const char *html, gsize len, bool *is_complete);

/* Where a piece of the text came from: a text node (bytes START..END of
 * its content) or a <br> element (START = END = 0), the byte offset AT in
 * the text where that piece begins (for a <br>, the line end it made) and
 * its LEN bytes there.  Text and content match byte for byte (a line end
 * of the source read as a space), except where LEN is less than END -
 * START: a no-break space (two bytes, one space), or blanks at the end of
 * a line, which the text drops (LEN counts those still in it). */
struct html_span {
    xmlNodePtr node;
    gsize start;
    gsize end;
    gsize at;
    gsize len;
};

/* Appends the text of DOC to OUT as parser_html_to_text() reads it, before
 * blanks and blank lines are tidied: lines in document order, LF between
 * them. SPANS, when not NULL, gets a struct html_span for every piece of a
 * text node and every <br> that went into OUT, in document order (AT
 * never decreases); the "> " of quoted lines belongs to none. */
void parser_html_text(htmlDocPtr doc, GString *out, GArray *spans);

/* TEXT with blank runs inside lines made one space, at most one blank line
 * in a row, and no blank lines at the start or end. */
char *parser_html_tidy(const char *text);

/* The element's name is NAME (lower-case ASCII, as libxml2 stores HTML). */
bool parser_html_is(xmlNodePtr node, const char *name);

/* The element's name is one of the N NAMES. */
bool parser_html_is_any(xmlNodePtr node, const char *const *names, gsize n);

/* NODE is text a reader sees: a text node, and not "<![if ...]>" markup
 * kept as it was written. */
bool parser_html_is_text(xmlNodePtr node);

#endif
