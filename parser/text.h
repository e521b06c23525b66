/*
 * text - which MIME part is "the text" of a message, and that text as UTF-8.
 *
 * Internal to parser/: mail.c fills struct mail from it, and code that must
 * act on the same part the ticket text came from can ask the same question
 * through parser_text_part().
 */
#ifndef TM_PARSER_TEXT_H
#define TM_PARSER_TEXT_H

#include <stdbool.h>

#include <glib.h>
#include <gmime/gmime.h>

struct parser_walk;

/* The part the message's text comes from, among LEAVES (from
 * parser_walk_leaves() on the message's body): the first text/plain that
 * shows text (parser_part_shows_text()), else the first such text/html
 * (*IS_HTML set), looking into
 * an inline forwarded message (through W, one level deeper) only when the
 * message has no text of its own; *IS_FORWARDED (when not NULL) says the
 * part came from such a forward. NULL when there is none. The part
 * belongs to the message. */
GMimeTextPart *parser_text_pick(struct parser_walk *w, GArray *leaves, bool *is_html,
                                bool *is_forwarded);

/* parser_text_pick() over all of MSG within parser_default_limits. */
GMimeTextPart *parser_text_part(GMimeMessage *msg, bool *is_html);

/* PART's text (NULL is fine: ""): UTF-8, LF line ends, HTML turned into
 * plain text when IS_HTML. Free with g_free(). */
char *parser_text_of_part(GMimeTextPart *part, bool is_html);

/* parser_text_of_part() of parser_text_part(MSG). */
char *parser_text_of(GMimeMessage *msg);

/* Any part's content, transfer encoding undone, read as by
 * parser_text_bytes_to_utf8() whatever its label: for the machine-written
 * parts of a report, which are ASCII by their RFCs but not always in fact. */
char *parser_part_utf8(GMimePart *part);

/* A part the sender marked as an attachment (Content-Disposition). */
bool parser_part_is_attachment(GMimeObject *part);

/* Whether PART shows the message's text: text/plain or text/html that is
 * neither marked as an attachment nor a named file (a client that marks a
 * file "inline" still names it).  The one rule for which parts are text:
 * the part the text is read from (parser_text_pick()), the parts strip.c
 * takes command lines out of, and the parts attach.c does not list all
 * ask it, so that a command read from a part is always taken out of it and
 * no part that is not read is changed.  *IS_HTML (when not NULL) says
 * which of the two it is. */
bool parser_part_shows_text(GMimeObject *part, bool *is_html);

/* LEN bytes of BYTES as UTF-8: valid UTF-8 sequences are kept, every other
 * byte is read as windows-1252, NUL bytes are dropped, CRLF and lone CR
 * become LF. */
char *parser_text_bytes_to_utf8(const char *bytes, gsize len);

#endif
