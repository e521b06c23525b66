/*
 * header - header values made safe to keep and to write again.
 *
 * Internal to parser/: what mail.c applies to every header-like field of a
 * struct mail (subject, display names, addresses, msg-ids).
 */
#ifndef TM_PARSER_HEADER_H
#define TM_PARSER_HEADER_H

#include <glib.h>

/* RFC 2047 allows 75 bytes a word; clients write longer ones, nobody
 * writes this long. */
#define PARSER_MAX_WORD_TEXT 4096

/* A msg-id must fit on one line (RFC 5322 2.1.1: 998 bytes); a longer one
 * is no id a mail system wrote, and it is not kept. */
#define PARSER_MAX_MSGID 998

/* One address as the parser reads it: display name, comments and
 * addr-spec.  An addr-spec has at most 254 bytes (RFC 5321 4.5.3.1); the
 * rest leaves room for a long encoded name.  A longer one is not read. */
#define PARSER_MAX_ADDRESS 1024

/* Commas within one address (quoted, or unquoted ones in a name): GMime
 * reads each again to the end of the address, so an address with more is
 * not read. */
#define PARSER_MAX_ADDRESS_COMMAS 32

/* Bytes of From, To, Cc and Reply-To the parser reads in all, on top of
 * PARSER_MAX_HEADER_VALUE (bound.h) for each field. */
#define PARSER_MAX_ADDRESS_BYTES (64 * 1024)

/* The longest header-like string of a struct mail: 16 KiB of raw header
 * value (PARSER_MAX_HEADER_VALUE, bound.h) decoded, where a byte read as
 * windows-1252 can become three of UTF-8.  Values GMime decodes whole (an
 * attachment's name) are cut to it as well. */
#define PARSER_MAX_HEADER_TEXT (48 * 1024)

/* VALUE (NULL is fine) as valid UTF-8 on one line: CR, LF, every other
 * control character and Unicode's line and paragraph separators become
 * spaces; leading and trailing blanks are removed; at most
 * PARSER_MAX_HEADER_TEXT bytes of VALUE are read, cut between characters.
 * Never NULL. */
char *parser_header_text(const char *value);

/* A msg-id (without brackets) as one token: parser_header_text() with
 * every blank, '<' and '>' removed. NULL when nothing is left or when it
 * is longer than PARSER_MAX_MSGID. */
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

/* How many bytes of VALUE (a raw unstructured header value) to keep so
 * that at most LIMIT remain, cut at a blank or right after a complete
 * encoded word: a word is never split, nor is a UTF-8 character.  A word
 * that straddles LIMIT is left out whole.  Linear in LIMIT. */
gsize parser_header_cut_text(const char *value, gsize limit);

/* The addresses of an address-list VALUE (raw, as it arrived), one string
 * each, for GMime to parse one at a time: split at the commas outside
 * quoted strings and comments, a name that is not an address yet
 * ("Smith, John <j@x>") joined to what follows as GMime would.  Reads at
 * most MAX_BYTES of VALUE and stops before the address that would pass
 * them; *USED (may be NULL) gets how many it read.  An address longer
 * than PARSER_MAX_ADDRESS, one with more than PARSER_MAX_ADDRESS_COMMAS
 * commas and one left open at the end (an unclosed quote or comment) are
 * left out.  Linear in MAX_BYTES.  Never NULL; the array frees its
 * strings. */
GPtrArray *parser_address_units(const char *value, gsize max_bytes, gsize *used);

#endif
