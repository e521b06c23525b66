/*
 * address - plain addr-specs: the only addresses ticket-milter writes to.
 */
#ifndef TM_ROUTER_ADDRESS_H
#define TM_ROUTER_ADDRESS_H

#include <stdbool.h>

#include <glib.h>

/* Whether ADDR is one plain addr-spec: a dot-atom local part (no quoted
 * local part, so no ',' '"' or '\\'), one '@', a domain of labels with a
 * dot, no blanks or control characters, valid UTF-8, at most 254 bytes. */
bool router_is_plain_address(const char *addr);
/* ADDR as the outbox and ack_limit count it: lower case. */
char *router_normal_address(const char *addr);
/* An envelope recipient as the support-address and ticket-tag checks
 * compare it: the quoted local part unquoted, backslash escapes undone,
 * a trailing dot of the domain dropped, the domain in lower case.  NULL
 * when the result would not be one address (an empty part, no '@'). */
char *address_canonical(const char *rcpt);

#endif
