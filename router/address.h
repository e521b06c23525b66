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
 * DOT LEADER, ...), no punctuation or symbol beyond ASCII (categories P
 * and S: MIDDLE DOT, HYPHEN, MINUS SIGN, IDEOGRAPHIC FULL STOP, ...), no
 * letter of no script (the modifier letters that draw as quotes or
 * colons; the Japanese sound marks are letters), no combining mark on an
 * ASCII character; the local part and each label of the domain in one
 * script, or in Latin with Han and kana, Han and Bopomofo, or Han and
 * Hangul (UTS #39's "highly restrictive" mixes), with no ideograph or
 * kana that draws as a sign or a Latin letter (CJK ONE, KATAKANA NO, ...)
 * next to a character of another script; not every Cyrillic, Greek or
 * Armenian letter of it a look-alike of a Latin one; and, when it has a
 * right-to-left letter, every piece between '.' and '@' displayed in its
 * place (RFC 5893's Bidi Rule, for the local part too).  An address of
 * ASCII alone is plain when its syntax is. */
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
/* The mailbox ADDR is as ack_limit counts it: the normal address without
 * its extension (from the first '+' or character of DELIMITERS in the
 * local part), so that jan+1@ and jan+2@ share jan@'s limit.  NULL when
 * ADDR is NULL. */
char *router_ack_key(const char *addr, const char *delimiters);
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
