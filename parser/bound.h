/*
 * bound - the bytes GMime is given, cut to what a parse can afford.
 *
 * Internal to parser/: mail.c and replace.c hand GMime the copy made here
 * instead of the message itself; see bound.c for what is cut and why.
 */
#ifndef TM_PARSER_BOUND_H
#define TM_PARSER_BOUND_H

#include <stdbool.h>

#include <glib.h>
#include <gmime/gmime.h>

#include "parser/mail.h"

/* The longest header value (bytes after the colon, folding included) of
 * the top-level header block that is parsed.  No client writes a value
 * this long (Postfix's own header_size_limit is 100 KiB for a whole
 * header field); GMime's address parser costs time in proportion to the
 * square of a value's length, so the bound is what keeps one field from
 * costing more than the rest of the message. */
#define PARSER_MAX_HEADER_VALUE (16 * 1024)

/* The longest address field GMime itself is given, in any header block
 * (it parses From, To, Cc, ... of the message and of every forwarded
 * message while it builds the tree), and all of them together: GMime
 * reads a list of unquoted names in time quadratic in its length, and it
 * nests groups on the C stack, one level a colon. */
#define PARSER_MAX_GMIME_ADDRESS_FIELD 1024
#define PARSER_MAX_GMIME_ADDRESS_BYTES (16 * 1024)

/* One address field of the top-level header block, as it arrived. */
struct parser_field {
    char *name;  /* as written, e.g. "To" */
    char *value; /* raw value after the colon, folding included, whole */
};

struct parser_bound {
    /* What GMime parses: NULL when the message needed no cut (parse the
     * message itself then). */
    GByteArray *copy;
    /* From, Sender, Reply-To, To, Cc, Bcc of the top-level block, in
     * header order, each whole: the parser reads these itself (header.c
     * parser_address_units()), GMime only sees them cut. */
    GPtrArray *address_fields;
    bool cut_fields; /* a field was past max_headers */
    bool cut_values; /* a value was cut to a bound above */
    bool cut_parts;  /* parts past what max_parts lets the walk see were left out */
};

/* Fills *OUT for the LEN bytes of RAW within LIMITS (max_headers fields
 * of the top-level header block, the parts max_parts lets the walk see).
 * Never fails; clear *OUT with parser_bound_clear(). */
void parser_bound_message(const char *raw, gsize len, const struct parser_limits *limits,
                          struct parser_bound *out);
void parser_bound_clear(struct parser_bound *b);

/* Options for what GMime does while it builds the tree (STRICT: RFC 2047
 * decoding that is linear, see mail.c), or for what the parser decodes
 * itself (lenient: the words clients really write). */
GMimeParserOptions *parser_options_new(bool strict);

/* GMime's message for the LEN bytes of RAW: parser_bound_message() into
 * *BOUND, then built from the copy with parser_options_new(true) in
 * *OPTIONS.  The caller frees the message, then clears *BOUND and frees
 * *OPTIONS (header values are decoded lazily with them), even when NULL
 * is returned because GMime could read no message. */
GMimeMessage *parser_construct_bounded(const char *raw, gsize len,
                                       const struct parser_limits *limits,
                                       struct parser_bound *bound, GMimeParserOptions **options);

#endif
