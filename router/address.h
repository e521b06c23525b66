/*
 * address - plain addr-specs, the only addresses ticket-milter writes to,
 * and envelope recipients in the one form every check compares.
 */
#ifndef TM_ROUTER_ADDRESS_H
#define TM_ROUTER_ADDRESS_H

#include <stdbool.h>

#include <glib.h>

/* Longest envelope address address_canonical() reads, in bytes: twice
 * the longest SMTP command line Postfix takes (line_length_limit). */
#define ADDRESS_MAX_ENVELOPE 4096

/* Whether ADDR is one plain addr-spec: a dot-atom local part (no quoted
 * local part, so no ',' '"' or '\\'), one '@', a domain of labels with a
 * dot, no blanks or control characters, valid UTF-8 in NFC, at most 254
 * bytes; and nothing in it that hides or imitates another address: no
 * format character (category Cf: bidi overrides and isolates, ZWSP, ZWJ,
 * ZWNJ, soft hyphen, BOM, word joiner, tags), no space or line separator,
 * no filler, variation selector or other default-ignorable code point,
 * no unassigned or private-use code point, no character that NFKC turns
 * into ASCII (fullwidth letters, KELVIN SIGN, SMALL COMMERCIAL AT, ONE
 * DOT LEADER, ...), no dot, dash, plus or slash look-alike (IDEOGRAPHIC
 * FULL STOP, HYPHEN, MINUS SIGN, ...), no combining mark on an ASCII
 * character. */
bool router_is_plain_address(const char *addr);
/* ADDR as the outbox and ack_limit count it and every comparison with the
 * policy sees it: ASCII letters in lower case, every other byte of the
 * local part as it is (Unicode case folding would merge addresses that are
 * not the same mailbox: KELVIN SIGN is no 'k'), and an international
 * domain in its ASCII form (bücher.example is xn--bcher-kva.example), as
 * the policy's domains are kept.  A domain IDNA refuses stays as written. */
char *router_normal_address(const char *addr);
/* DOMAIN in lower-case ASCII, an international one as its xn-- form; NULL
 * when DOMAIN is NULL or IDNA refuses it. */
char *router_ascii_domain(const char *domain);
/* Whether A and B are one address once both are normal (a requester
 * stored before domains were kept in ASCII still matches). */
bool router_same_address(const char *a, const char *b);
/* An envelope recipient (with or without its angle brackets) as the
 * support-address and ticket-tag checks compare it: a source route
 * ("@a,@b:") dropped, the local part's quotes removed and its backslash
 * escapes undone, a trailing dot of the domain dropped, the domain in
 * ASCII lower case.  The local part keeps its case, and is quoted again
 * (only '"' and '\\' escaped) when it is no dot-atom, so that the result
 * is one address with one '@' outside quotes: "support"@EXAMPLE.COM. is
 * support@example.com, "john doe"@x stays "john doe"@x.  NULL when RCPT
 * is no one address: no '@' outside quotes, an unclosed quote, an empty
 * local part or domain, a control character, bytes that are not UTF-8,
 * more than ADDRESS_MAX_ENVELOPE bytes.  Newly allocated. */
char *address_canonical(const char *rcpt);

#endif
