/*
 * text - which MIME part is "the text" of a message, and that text as UTF-8.
 *
 * Internal to parser/: mail.c fills struct mail from it, and code that must
 * act on the same part the ticket text came from (replace.c) can ask the
 * same question through parser_text_part().
 */
#ifndef TM_PARSER_TEXT_H
#define TM_PARSER_TEXT_H

#include <stdbool.h>

#include <glib.h>
#include <gmime/gmime.h>

/* How far the MIME walk goes before it gives up: hostile nesting and part
 * counts cost bounded work. */
#define PARSER_TEXT_MAX_DEPTH 50
#define PARSER_TEXT_MAX_PARTS 1000

/* The part the message's text comes from: the first inline text/plain,
 * else the first inline text/html (*IS_HTML set), looking into an inline
 * forwarded message only when the message has no text of its own. NULL
 * when there is none. The part belongs to MSG. */
GMimeTextPart *parser_text_part(GMimeMessage *msg, bool *is_html);

/* The message's text: UTF-8, LF line ends, HTML turned into plain text;
 * "" when it has none. Free with g_free(). */
char *parser_text_of(GMimeMessage *msg);

/* LEN bytes of BYTES as UTF-8: valid UTF-8 sequences are kept, every other
 * byte is read as windows-1252, NUL bytes are dropped, CRLF and lone CR
 * become LF. */
char *parser_text_bytes_to_utf8(const char *bytes, gsize len);

#endif
