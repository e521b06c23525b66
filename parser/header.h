/*
 * header - header values made safe to keep and to write again.
 *
 * Internal to parser/: what mail.c applies to every header-like field of a
 * struct mail (subject, display names, addresses, msg-ids).
 */
#ifndef TM_PARSER_HEADER_H
#define TM_PARSER_HEADER_H

#include <glib.h>

/* VALUE (NULL is fine) as valid UTF-8 on one line: CR, LF, every other
 * control character and Unicode's line and paragraph separators become
 * spaces; leading and trailing blanks are removed. Never NULL. */
char *parser_header_text(const char *value);

/* A msg-id (without brackets) as one token: parser_header_text() with
 * every blank, '<' and '>' removed. NULL when nothing is left. */
char *parser_msgid_text(const char *id);

/* The msg-ids of an In-Reply-To or References VALUE (NULL is fine), in
 * order, without brackets, each through parser_msgid_text(). Never NULL;
 * the array frees its strings. */
GPtrArray *parser_msgid_list(const char *value);

/* RAW, a header value as it arrived (folded, encoded words, maybe raw
 * 8-bit), with every run of adjacent encoded words of one charset
 * replaced by a single UTF-8 encoded word and every other byte made
 * UTF-8 (windows-1252 for what is not): what GMime should have been
 * given.  Still to be decoded and unfolded by GMime.  Never NULL. */
char *parser_header_fix_words(const char *raw);

#endif
