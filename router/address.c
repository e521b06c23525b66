/*
 * address - what a plain address is, and the one form of an envelope
 * recipient.
 *
 * Owns nothing; pure and on GLib alone, so that the command parser and
 * the fuzz target can use it without the rest of the router.
 *
 * A plain address is one we write to: an acknowledgement or a ticket's
 * requester goes to it, and staff read it as the customer's.  So beyond
 * the syntax it must show what it is: an address with a bidi override, a
 * zero-width character or a fullwidth letter in it displays as someone
 * else's, and is no address of ours to answer (the envelope sender stands
 * in, or nobody).  Unicode is asked through GLib (g_unichar_type, NFKC);
 * what no category gives away is in refused_ranges below.
 *
 * The canonical form of a recipient is syntax only: it undoes what
 * RFC 5321 lets a client write in several ways for one mailbox, and knows
 * nothing of the domains Postfix serves (the routed forms user%domain@host,
 * host!user@host and "user@domain"@host are Postfix's to resolve; the
 * milter asks for its answer, the {rcpt_addr} macro).  Any input gives an
 * answer or NULL, never a partial address: every byte is read once, up to
 * ADDRESS_MAX_ENVELOPE.
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

/* Code points that hide or imitate part of an address and that their
 * category does not give away: fillers and selectors that draw nothing,
 * and separators that draw like '.', '-', '+' or '/' without being one.
 * (Look-alikes that NFKC maps to ASCII, such as FULLWIDTH COMMERCIAL AT or
 * ONE DOT LEADER, are found by that instead.) */
static const struct {
    gunichar first, last;
} refused_ranges[] = {
    { 0x034F, 0x034F },   /* COMBINING GRAPHEME JOINER */
    { 0x115F, 0x1160 },   /* HANGUL CHOSEONG and JUNGSEONG FILLER */
    { 0x17B4, 0x17B5 },   /* KHMER VOWEL INHERENT AQ and AA */
    { 0x180B, 0x180F },   /* MONGOLIAN FREE VARIATION SELECTORS, VOWEL SEPARATOR */
    { 0x2010, 0x2015 },   /* HYPHEN .. HORIZONTAL BAR */
    { 0x2027, 0x2027 },   /* HYPHENATION POINT */
    { 0x2043, 0x2044 },   /* HYPHEN BULLET, FRACTION SLASH */
    { 0x2212, 0x2212 },   /* MINUS SIGN */
    { 0x2215, 0x2215 },   /* DIVISION SLASH */
    { 0x2219, 0x2219 },   /* BULLET OPERATOR */
    { 0x22C5, 0x22C5 },   /* DOT OPERATOR */
    { 0x2795, 0x2796 },   /* HEAVY PLUS SIGN, HEAVY MINUS SIGN */
    { 0x2800, 0x2800 },   /* BRAILLE PATTERN BLANK */
    { 0x2E31, 0x2E31 },   /* WORD SEPARATOR MIDDLE DOT */
    { 0x2E33, 0x2E33 },   /* RAISED DOT */
    { 0x3002, 0x3002 },   /* IDEOGRAPHIC FULL STOP: a label separator to IDNA */
    { 0x3164, 0x3164 },   /* HANGUL FILLER */
    { 0xFE00, 0xFE0F },   /* VARIATION SELECTORS */
    { 0xFF61, 0xFF61 },   /* HALFWIDTH IDEOGRAPHIC FULL STOP: a label separator too */
    { 0xFFA0, 0xFFA0 },   /* HALFWIDTH HANGUL FILLER */
    { 0xFFF0, 0xFFFF },   /* specials: annotation marks, OBJECT REPLACEMENT, REPLACEMENT */
    { 0xE0100, 0xE01EF }, /* VARIATION SELECTORS SUPPLEMENT */
};

static bool
is_refused_range(gunichar c)
{
    for (gsize i = 0; i < G_N_ELEMENTS(refused_ranges); i++)
        if (c >= refused_ranges[i].first && c <= refused_ranges[i].last)
            return true;
    return false;
}

static bool
is_mark(GUnicodeType t)
{
    return t == G_UNICODE_NON_SPACING_MARK || t == G_UNICODE_SPACING_MARK ||
           t == G_UNICODE_ENCLOSING_MARK;
}

/* Whether C (not ASCII) reads as ASCII once compatibility forms are
 * undone: FULLWIDTH LATIN SMALL LETTER A, KELVIN SIGN, SMALL FULL STOP. */
static bool
is_ascii_lookalike(gunichar c)
{
    char buf[6];
    gint n = g_unichar_to_utf8(c, buf);
    g_autofree char *folded = g_utf8_normalize(buf, n, G_NORMALIZE_NFKC);

    for (const char *p = folded != NULL ? folded : ""; *p != '\0'; p++)
        if ((unsigned char)*p < 0x80)
            return true;
    return false;
}

/* Whether the UTF-8 text ADDR (LEN bytes) has a code point that hides or
 * imitates another, or is not in the form (NFC) it displays as. */
static bool
has_hidden_or_lookalike(const char *addr, gsize len)
{
    bool prev_ascii = true; /* a mark at the start would sit on what precedes it */
    bool any_wide = false;

    for (const char *p = addr; p < addr + len; p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p);
        GUnicodeType t;

        if (c < 0x80) {
            prev_ascii = true;
            continue;
        }
        any_wide = true;
        t = g_unichar_type(c);
        switch (t) {
        case G_UNICODE_CONTROL:
        case G_UNICODE_FORMAT:
        case G_UNICODE_UNASSIGNED:
        case G_UNICODE_PRIVATE_USE:
        case G_UNICODE_SURROGATE:
        case G_UNICODE_SPACE_SEPARATOR:
        case G_UNICODE_LINE_SEPARATOR:
        case G_UNICODE_PARAGRAPH_SEPARATOR:
            return true;
        default:
            break;
        }
        if (is_refused_range(c) || (is_mark(t) && prev_ascii) || is_ascii_lookalike(c))
            return true;
        prev_ascii = false;
    }
    if (any_wide) {
        g_autofree char *nfc = g_utf8_normalize(addr, (gssize)len, G_NORMALIZE_NFC);
        if (nfc == NULL || strcmp(nfc, addr) != 0)
            return true;
    }
    return false;
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
    return is_dot_atom(addr, at) && is_domain(at + 1, addr + len) &&
           !has_hidden_or_lookalike(addr, len);
}

char *
router_ascii_domain(const char *domain)
{
    g_autofree char *ascii = NULL;

    if (domain == NULL)
        return NULL;
    /* g_hostname_to_ascii() is IDNA: it refuses what no registry could
     * have given out, and maps the U-label to the xn-- form DKIM, DNS and
     * SMTP without SMTPUTF8 use. */
    if (!g_hostname_is_non_ascii(domain))
        return g_ascii_strdown(domain, -1);
    ascii = g_hostname_to_ascii(domain);
    return ascii != NULL ? g_ascii_strdown(ascii, -1) : NULL;
}

char *
router_normal_address(const char *addr)
{
    const char *at;
    g_autofree char *domain = NULL;

    if (addr == NULL)
        return NULL;
    at = strrchr(addr, '@');
    if (at == NULL || (domain = router_ascii_domain(at + 1)) == NULL)
        return g_ascii_strdown(addr, -1);
    g_autofree char *local = g_ascii_strdown(addr, at - addr);
    return g_strconcat(local, "@", domain, NULL);
}

bool
router_same_address(const char *a, const char *b)
{
    g_autofree char *na = router_normal_address(a);
    g_autofree char *nb = router_normal_address(b);

    return na != NULL && nb != NULL && strcmp(na, nb) == 0;
}

/* The local part P..END with its quotes removed and its escapes undone;
 * NULL when that leaves nothing or a control character. */
static GString *
unquoted_local(const char *p, const char *end)
{
    GString *local = g_string_sized_new((gsize)(end - p));

    for (const char *q = p; q < end; q++) {
        if (*q == '"')
            continue;
        if (*q == '\\' && q + 1 < end)
            q++;
        if ((unsigned char)*q < 0x20 || *q == 0x7f) {
            g_string_free(local, TRUE);
            return NULL;
        }
        g_string_append_c(local, *q);
    }
    if (local->len == 0) {
        g_string_free(local, TRUE);
        return NULL;
    }
    return local;
}

/* The domain P..END without one trailing dot, in ASCII lower case, onto
 * OUT; false when it is empty or no single name (a blank, a quote, an
 * empty label). */
static bool
append_domain(GString *out, const char *p, const char *end)
{
    if (end > p && end[-1] == '.')
        end--;
    if (p == end || *p == '.' || end[-1] == '.')
        return false;
    for (const char *q = p; q < end; q++) {
        unsigned char c = (unsigned char)*q;
        if (c <= 0x20 || c == 0x7f || c == '@' || c == '"' || c == '\\' ||
            (c == '.' && q + 1 < end && q[1] == '.'))
            return false;
        g_string_append_c(out, g_ascii_tolower(*q));
    }
    return true;
}

char *
address_canonical(const char *rcpt)
{
    const char *p, *end, *at = NULL;
    g_autoptr(GString) out = NULL;
    GString *local;
    bool quoted = false;
    gsize len;

    if (rcpt == NULL || (len = strlen(rcpt)) > ADDRESS_MAX_ENVELOPE)
        return NULL;
    p = rcpt;
    end = rcpt + len;
    if (len >= 2 && p[0] == '<' && end[-1] == '>') {
        p++;
        end--;
    }
    /* RFC 5321 lets a client name the hosts on the way (@a,@b:user@d);
     * they are to be ignored, and Postfix drops them. */
    if (p < end && *p == '@') {
        const char *colon = memchr(p, ':', (gsize)(end - p));
        if (colon == NULL)
            return NULL;
        p = colon + 1;
    }
    /* The last '@' outside quotes ends the local part, as it does for
     * Postfix: "a@b"@c is a local part with an '@' in it. */
    for (const char *q = p; q < end; q++) {
        if (*q == '\\' && q + 1 < end)
            q++;
        else if (*q == '"')
            quoted = !quoted;
        else if (*q == '@' && !quoted)
            at = q;
    }
    if (quoted || at == NULL || (local = unquoted_local(p, at)) == NULL)
        return NULL;
    out = g_string_sized_new(len + 2);
    if (is_dot_atom(local->str, local->str + local->len)) {
        g_string_append_len(out, local->str, (gssize)local->len);
    } else {
        /* Quoted again, minimally, so that the '@' that ends it stays the
         * only one outside quotes. */
        g_string_append_c(out, '"');
        for (gsize i = 0; i < local->len; i++) {
            if (local->str[i] == '"' || local->str[i] == '\\')
                g_string_append_c(out, '\\');
            g_string_append_c(out, local->str[i]);
        }
        g_string_append_c(out, '"');
    }
    g_string_free(local, TRUE);
    g_string_append_c(out, '@');
    if (!append_domain(out, at + 1, end) || !g_utf8_validate(out->str, (gssize)out->len, NULL))
        return NULL;
    return g_string_free(g_steal_pointer(&out), FALSE);
}
