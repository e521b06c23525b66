/*
 * walk - depth-first over a MIME tree with an explicit stack.
 *
 * GMime builds trees up to about a thousand levels deep; a recursive walk
 * would spend C stack in proportion to whatever the sender chose, so the
 * pending parts sit in a heap array instead.  Every object visited (a
 * multipart included) costs one part of the budget; once the budget is
 * spent nothing more is visited, so a message of 100 000 empty parts costs
 * no more than one of max_parts.
 *
 * The tree itself comes from parser_message_new(), the one place raw bytes
 * become a GMime message (for mail.c, strip.c and the tests): NULL when
 * GMime finds no message in them; nothing else can fail.
 */
#include "parser/walk.h"

GMimeMessage *
parser_message_new(const char *raw, gsize len, GMimeParserOptions *options)
{
    /* A copy: GMime's stream owns its buffer, the caller's stays theirs. */
    GMimeStream *stream = g_mime_stream_mem_new_with_buffer(raw != NULL ? raw : "", len);
    GMimeParser *parser = g_mime_parser_new_with_stream(stream);
    GMimeMessage *msg = g_mime_parser_construct_message(parser, options);

    /* GMime 3.2 has no autoptr support; the message keeps what it needs. */
    g_object_unref(parser);
    g_object_unref(stream);
    return msg;
}

void
parser_walk_init(struct parser_walk *w, const struct parser_limits *limits)
{
    w->limits = limits != NULL ? *limits : parser_default_limits;
    w->parts = 0;
    w->limits_hit = 0;
}

GArray *
parser_walk_leaves(struct parser_walk *w, GMimeObject *obj, guint depth)
{
    GArray *leaves = g_array_new(FALSE, FALSE, sizeof(struct parser_leaf));
    GArray *stack = g_array_new(FALSE, FALSE, sizeof(struct parser_leaf));
    struct parser_leaf top = { obj, depth };

    if (obj != NULL)
        g_array_append_val(stack, top);
    while (stack->len > 0) {
        struct parser_leaf cur = g_array_index(stack, struct parser_leaf, stack->len - 1);

        g_array_set_size(stack, stack->len - 1);
        if (cur.depth > w->limits.max_depth) {
            w->limits_hit |= MAIL_LIMIT_DEPTH;
            continue;
        }
        if (w->parts >= w->limits.max_parts) {
            w->limits_hit |= MAIL_LIMIT_PARTS;
            break;
        }
        w->parts++;
        if (GMIME_IS_MULTIPART(cur.obj)) {
            GMimeMultipart *mp = GMIME_MULTIPART(cur.obj);
            int n = g_mime_multipart_get_count(mp);

            /* No more children are stacked than the budget could visit. */
            if (n > (int)w->limits.max_parts) {
                n = (int)w->limits.max_parts;
                w->limits_hit |= MAIL_LIMIT_PARTS;
            }
            /* Pushed last to first, so that they come off in order. */
            for (int i = n - 1; i >= 0; i--) {
                struct parser_leaf child = { g_mime_multipart_get_part(mp, i), cur.depth + 1 };
                if (child.obj != NULL)
                    g_array_append_val(stack, child);
            }
        } else {
            g_array_append_val(leaves, cur);
        }
    }
    g_array_unref(stack);
    return leaves;
}
