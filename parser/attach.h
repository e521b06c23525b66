/*
 * attach - the parts of a message that are not its text.
 *
 * Internal to parser/: mail.c fills mail->attachments from the leaves of
 * its walk.
 */
#ifndef TM_PARSER_ATTACH_H
#define TM_PARSER_ATTACH_H

#include <glib.h>
#include <gmime/gmime.h>

#include "parser/mail.h"

/* Appends to OUT (struct mail_attachment*) every leaf of LEAVES (struct
 * parser_leaf) that is an attachment, leaving out TEXT (the part the
 * message's text came from; NULL is fine). */
void parser_attachments(GArray *leaves, GMimeObject *text, GPtrArray *out);

void parser_attachment_free(gpointer attachment);

#endif
