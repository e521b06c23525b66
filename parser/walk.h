/*
 * walk - the parts of a MIME tree, within the configured limits, and the
 * tree from raw bytes.
 *
 * Internal to parser/: the one place that decides how deep and how wide
 * the parser looks, shared by the text search, the attachment list and
 * anything else that visits parts.
 */
#ifndef TM_PARSER_WALK_H
#define TM_PARSER_WALK_H

#include <glib.h>
#include <gmime/gmime.h>

#include "parser/mail.h"

/* State of one message's walk; several walks (the message, then a
 * forwarded message inside it) share one part budget. */
struct parser_walk {
    struct parser_limits limits;
    guint parts;         /* objects visited so far */
    unsigned limits_hit; /* enum mail_limit_hit bits */
};

/* A part that holds content: anything but a multipart.  Forwarded
 * messages (GMimeMessagePart) are leaves too; the caller decides whether
 * to look inside them, one level deeper. */
struct parser_leaf {
    GMimeObject *obj; /* belongs to the message */
    guint depth;      /* 0: the message's own body */
};

/* RAW (LEN bytes, copied) as a GMime message, read with OPTIONS (NULL:
 * GMime's defaults); NULL when GMime finds no message in it.  The one
 * place bytes become the tree the walks go through. */
GMimeMessage *parser_message_new(const char *raw, gsize len, GMimeParserOptions *options);

/* W for LIMITS (NULL: parser_default_limits). */
void parser_walk_init(struct parser_walk *w, const struct parser_limits *limits);

/* The leaves under OBJ, which sits at DEPTH, in document order, as a new
 * GArray of struct parser_leaf.  Parts deeper than the depth limit or past
 * the part limit are left out and W->limits_hit says so. */
GArray *parser_walk_leaves(struct parser_walk *w, GMimeObject *obj, guint depth);

#endif
