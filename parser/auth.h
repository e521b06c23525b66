/*
 * auth - Authentication-Results header fields (RFC 8601).
 *
 * Internal to parser/: mail.c hands every such field here, in order.
 */
#ifndef TM_PARSER_AUTH_H
#define TM_PARSER_AUTH_H

#include <glib.h>

#include "parser/mail.h"

/* Appends to OUT (struct mail_auth_result*) one entry per method=result
 * of VALUE, one Authentication-Results field; nothing when VALUE has no
 * authserv-id or no result. */
void parser_auth_results(const char *value, GPtrArray *out);

void parser_auth_result_free(gpointer result);

#endif
