/*
 * address - what a plain address is.
 *
 * Pure and on GLib alone, so that the command parser and the fuzz target
 * can use it without the rest of the router.
 */
#include <string.h>

#include "router/address.h"

/* RFC 5322 atext, plus UTF-8 (RFC 6531) above 0x7f. */
static bool
is_atext(unsigned char c)
{
    return g_ascii_isalnum(c) || strchr("!#$%&'*+/=?^_`{|}~-", c) != NULL || c >= 0x80;
}

static bool
is_dot_atom(const char *p, const char *end)
{
    bool after_dot = true; /* no leading dot */

    if (p == end)
        return false;
    for (; p < end; p++) {
        if (*p == '.') {
            if (after_dot)
                return false;
            after_dot = true;
        } else if (!is_atext((unsigned char)*p)) {
            return false;
        } else {
            after_dot = false;
        }
    }
    return !after_dot;
}

static bool
is_domain(const char *p, const char *end)
{
    const char *label = p;
    bool has_dot = false;

    if (p == end || end - p > 253)
        return false;
    for (const char *q = p; q <= end; q++) {
        if (q == end || *q == '.') {
            if (q == label || q - label > 63 || *label == '-' || q[-1] == '-')
                return false;
            has_dot |= q != end;
            label = q + 1;
        } else if (!g_ascii_isalnum(*q) && *q != '-' && (unsigned char)*q < 0x80) {
            return false;
        }
    }
    return has_dot;
}

bool
router_is_plain_address(const char *addr)
{
    const char *at;
    gsize len;

    if (addr == NULL || (len = strlen(addr)) == 0 || len > 254 ||
        !g_utf8_validate(addr, (gssize)len, NULL))
        return false;
    at = strchr(addr, '@');
    if (at == NULL || strchr(at + 1, '@') != NULL || at - addr > 64)
        return false;
    return is_dot_atom(addr, at) && is_domain(at + 1, addr + len);
}

char *
router_normal_address(const char *addr)
{
    return addr != NULL ? g_utf8_strdown(addr, -1) : NULL;
}

