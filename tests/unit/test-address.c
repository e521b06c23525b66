/*
 * test-address - the addresses we write to, and envelope recipients in
 * the one form the support-address and tag checks compare.
 *
 * One row per form a client may send or a mail may carry; the attack
 * each row stands for is in its comment.  Code points are written as
 * \u escapes, or as UTF-8 bytes where C forbids the escape (below
 * U+00A0), so the table shows exactly what is tested.
 */
#include <string.h>

#include <glib.h>

#include "router/address.h"

/* ---- address_canonical ---- */

static const struct {
    const char *rcpt;
    const char *canonical; /* NULL: no one address */
} canonical_rows[] = {
    /* What Postfix delivers to support@example.com, written other ways:
     * each must be support to our checks too, or mail to support goes
     * unticketed and past unknown_senders = reject. */
    { "support@example.com", "support@example.com" },
    { "<support@example.com>", "support@example.com" },
    { "\"support\"@example.com", "support@example.com" },
    { "sup\\port@example.com", "support@example.com" },
    { "\"sup\\port\"@example.com", "support@example.com" },
    { "\"sup\"port@example.com", "support@example.com" },
    { "support@example.com.", "support@example.com" },
    { "support@EXAMPLE.COM", "support@example.com" },
    { "<\"support\"@EXAMPLE.com.>", "support@example.com" },
    { "@relay.test,@other.test:support@example.com", "support@example.com" },
    /* The local part keeps its case: the support check ignores it, the
     * tag check lower-cases the extension itself. */
    { "SUPPORT@Example.Com", "SUPPORT@example.com" },
    /* A signed tag inside quotes is a signed tag: checked, not skipped. */
    { "\"support+tkt-1.0123456789abcdef\"@example.com",
      "support+tkt-1.0123456789abcdef@example.com" },
    { "support+tkt-1.0123456789abcdef@example.com.", "support+tkt-1.0123456789abcdef@example.com" },
    /* A local part that needs its quotes keeps them (minimally), so the
     * result has one '@' outside quotes: no "support@example.com" hidden
     * in another domain's local part becomes ours. */
    { "\"john doe\"@example.com", "\"john doe\"@example.com" },
    { "\"john\\ doe\"@example.com", "\"john doe\"@example.com" },
    { "\"support@example.com\"@evil.test", "\"support@example.com\"@evil.test" },
    { "support@example.com@evil.test", "\"support@example.com\"@evil.test" },
    { "\"a\\\"b\"@x.test", "\"a\\\"b\"@x.test" },
    { "\"sup.port.\"@example.com", "\"sup.port.\"@example.com" },
    /* ASCII case folding only: the U+00DC stays as it is. */
    { "j\u00f6rg@M\u00dcLLER.Example", "j\u00f6rg@m\u00dcller.example" },
    { "support@[192.0.2.1]", "support@[192.0.2.1]" },
    /* No one address. */
    { "", NULL },
    { "<>", NULL },
    { "support", NULL },
    { "@example.com", NULL },
    { "@relay.test support@example.com", NULL },
    { "\"\"@example.com", NULL },
    { "support@", NULL },
    { "support@.", NULL },
    { "support@.example.com", NULL },
    { "support@example..com", NULL },
    { "support@example.com..", NULL },
    { "support\\@example.com", NULL },
    { "\"support@example.com", NULL },
    { "support@exa\"mple.com", NULL },
    { "support@exa mple.com", NULL },
    { "sup\x01port@example.com", NULL },
    { "\"sup\\\rport\"@example.com", NULL },
    { "support\xff@example.com", NULL },
};

static void
test_canonical(gconstpointer data)
{
    guint i = GPOINTER_TO_UINT(data);
    g_autofree char *got = address_canonical(canonical_rows[i].rcpt);

    g_test_message("%s", canonical_rows[i].rcpt);
    g_assert_cmpstr(got, ==, canonical_rows[i].canonical);
    /* The canonical form is its own canonical form. */
    if (got != NULL) {
        g_autofree char *again = address_canonical(got);
        g_assert_cmpstr(again, ==, got);
    }
}

static void
test_canonical_limits(void)
{
    g_autoptr(GString) route = g_string_new(NULL);
    g_autofree char *local = g_strnfill(ADDRESS_MAX_ENVELOPE - strlen("@example.com"), 'a');
    g_autofree char *at_limit = g_strconcat(local, "@example.com", NULL);
    g_autofree char *over = g_strconcat("a", at_limit, NULL);

    g_assert_null(address_canonical(NULL));
    g_assert_cmpuint(strlen(at_limit), ==, ADDRESS_MAX_ENVELOPE);
    g_autofree char *kept = address_canonical(at_limit);
    g_assert_cmpstr(kept, ==, at_limit);
    g_assert_null(address_canonical(over));
    /* A long source route still ends at its colon. */
    for (guint i = 0; i < 200; i++)
        g_string_append_printf(route, "%s@hop%u.test", i > 0 ? "," : "", i);
    g_string_append(route, ":support@example.com");
    g_autofree char *routed = address_canonical(route->str);
    g_assert_cmpstr(routed, ==, "support@example.com");
}

/* ---- router_is_plain_address ---- */

static const struct {
    const char *addr;
    bool plain;
    const char *what;
} plain_rows[] = {
    { "jan@acme.test", true, "ASCII" },
    { "j\u00f6rg@m\u00fcller.example", true, "Latin letters with diacritics, in NFC" },
    { "jos\u00e9@acme.test", true, "U+00E9 precomposed" },
    { "\u043f\u0440\u0438\u043c\u0435\u0440@\u043f\u0440\u0438\u043c\u0435\u0440.test", true,
      "Cyrillic" },
    { "\u65e5\u672c@\u4f8b\u3048.jp", true, "CJK and kana" },
    { "\u092e\u0947\u0930\u093e@\u0909\u0926\u093e\u0939\u0930\u0923.test", true,
      "Devanagari with its vowel signs (marks on letters of its own script)" },
    /* Category Cf: bidi controls.  "jan@acme.test" with an override
     * displays as someone else's address, or reversed. */
    { "jan\u202e@acme.test", false, "U+202E RIGHT-TO-LEFT OVERRIDE" },
    { "jan\u202d@acme.test", false, "U+202D LEFT-TO-RIGHT OVERRIDE" },
    { "jan\u202a@acme.test", false, "U+202A LEFT-TO-RIGHT EMBEDDING" },
    { "jan\u202b@acme.test", false, "U+202B RIGHT-TO-LEFT EMBEDDING" },
    { "jan\u202c@acme.test", false, "U+202C POP DIRECTIONAL FORMATTING" },
    { "jan\u2066@acme.test", false, "U+2066 LEFT-TO-RIGHT ISOLATE" },
    { "jan\u2067@acme.test", false, "U+2067 RIGHT-TO-LEFT ISOLATE" },
    { "jan\u2068@acme.test", false, "U+2068 FIRST STRONG ISOLATE" },
    { "jan\u2069@acme.test", false, "U+2069 POP DIRECTIONAL ISOLATE" },
    { "jan\u200e@acme.test", false, "U+200E LEFT-TO-RIGHT MARK" },
    { "jan\u200f@acme.test", false, "U+200F RIGHT-TO-LEFT MARK" },
    { "jan\u061c@acme.test", false, "U+061C ARABIC LETTER MARK" },
    /* Category Cf: zero-width characters.  "jan\u200b@acme.test" is not
     * jan@acme.test, and displays exactly as it. */
    { "jan\u200b@acme.test", false, "U+200B ZERO WIDTH SPACE" },
    { "jan\u200c@acme.test", false, "U+200C ZERO WIDTH NON-JOINER" },
    { "jan\u200d@acme.test", false, "U+200D ZERO WIDTH JOINER" },
    { "jan@acme\u200b.test", false, "U+200B in the domain" },
    { "jan\u00ad@acme.test", false, "U+00AD SOFT HYPHEN" },
    { "\ufeffjan@acme.test", false, "U+FEFF BYTE ORDER MARK" },
    { "jan\u2060@acme.test", false, "U+2060 WORD JOINER" },
    { "jan\u2061@acme.test", false, "U+2061 FUNCTION APPLICATION" },
    { "jan\u180e@acme.test", false, "U+180E MONGOLIAN VOWEL SEPARATOR" },
    { "jan\U000e0041@acme.test", false, "U+E0041 TAG LATIN CAPITAL LETTER A" },
    { "jan\U0001d173@acme.test", false, "U+1D173 MUSICAL SYMBOL BEGIN BEAM" },
    /* Blanks, controls and separators that are not ASCII. */
    { "jan\u00a0@acme.test", false, "U+00A0 NO-BREAK SPACE" },
    { "jan\u3000@acme.test", false, "U+3000 IDEOGRAPHIC SPACE" },
    { "jan\u2028@acme.test", false, "U+2028 LINE SEPARATOR" },
    { "jan\u2029@acme.test", false, "U+2029 PARAGRAPH SEPARATOR" },
    { "jan\xc2\x85@acme.test", false, "U+0085 NEXT LINE (C1 control)" },
    { "jan\xc2\x9b@acme.test", false, "U+009B CONTROL SEQUENCE INTRODUCER" },
    /* Invisible letters and selectors (default-ignorable, not Cf). */
    { "jan\u3164@acme.test", false, "U+3164 HANGUL FILLER" },
    { "jan\u115f@acme.test", false, "U+115F HANGUL CHOSEONG FILLER" },
    { "jan\uffa0@acme.test", false, "U+FFA0 HALFWIDTH HANGUL FILLER" },
    { "jan\u034f@acme.test", false, "U+034F COMBINING GRAPHEME JOINER" },
    { "jan\ufe0f@acme.test", false, "U+FE0F VARIATION SELECTOR-16" },
    { "jan\U000e0100@acme.test", false, "U+E0100 VARIATION SELECTOR-17" },
    { "jan\u2800@acme.test", false, "U+2800 BRAILLE PATTERN BLANK" },
    { "jan\u17b4@acme.test", false, "U+17B4 KHMER VOWEL INHERENT AQ" },
    /* Look-alike separators: the address reads as jan@acme.test. */
    { "jan@acme\u3002test", false, "U+3002 IDEOGRAPHIC FULL STOP (a dot to IDNA)" },
    { "jan@acme\uff61test", false, "U+FF61 HALFWIDTH IDEOGRAPHIC FULL STOP" },
    { "jan@acme\uff0etest", false, "U+FF0E FULLWIDTH FULL STOP" },
    { "jan@acme\u2024test", false, "U+2024 ONE DOT LEADER" },
    { "jan@acme\ufe52test", false, "U+FE52 SMALL FULL STOP" },
    { "jan@acme\u22c5test", false, "U+22C5 DOT OPERATOR" },
    { "jan\uff20acme.test@evil.test", false, "U+FF20 FULLWIDTH COMMERCIAL AT" },
    { "jan\ufe6bacme.test@evil.test", false, "U+FE6B SMALL COMMERCIAL AT" },
    { "jan\u2010de@acme.test", false, "U+2010 HYPHEN" },
    { "jan\u2011de@acme.test", false, "U+2011 NON-BREAKING HYPHEN" },
    { "jan\u2212de@acme.test", false, "U+2212 MINUS SIGN" },
    { "support\uff0btkt@acme.test", false, "U+FF0B FULLWIDTH PLUS SIGN" },
    { "jan\u2215x@acme.test", false, "U+2215 DIVISION SLASH" },
    { "jan\u2044x@acme.test", false, "U+2044 FRACTION SLASH" },
    /* Compatibility forms of ASCII letters and digits. */
    { "\u212aelvin@acme.test", false, "U+212A KELVIN SIGN (NFKC: K)" },
    { "\uff4aan@acme.test", false, "U+FF4A FULLWIDTH LATIN SMALL LETTER J" },
    { "jan@\uff41cme.test", false, "U+FF41 FULLWIDTH LATIN SMALL LETTER A in the domain" },
    { "\u2160an@acme.test", false, "U+2160 ROMAN NUMERAL ONE (NFKC: I)" },
    { "o\ufb03ce@acme.test", false, "U+FB03 LATIN SMALL LIGATURE FFI" },
    { "jan\u00b9@acme.test", false, "U+00B9 SUPERSCRIPT ONE" },
    { "\U0001d5c3an@acme.test", false, "U+1D5C3 MATHEMATICAL SANS-SERIF SMALL J" },
    /* Marks on ASCII, and text not in the form it displays as. */
    { "jose\u0301@acme.test", false, "e + U+0301: displays as jos\u00e9@acme.test" },
    { "jan@acme.\u0338test", false, "U+0338 COMBINING LONG SOLIDUS OVERLAY on a dot" },
    { "\u0301jan@acme.test", false, "a combining mark first" },
    { "\u1100\u1161@acme.test", false, "Hangul jamo that NFC composes to U+AC00" },
    /* Punctuation and symbols beyond ASCII (categories P and S): each
     * draws as a dot or a dash in "acme.test". */
    { "ops@acme\u02d7test.com", false, "U+02D7 MODIFIER LETTER MINUS SIGN (Sk)" },
    { "ops@acme\u00b7test.com", false, "U+00B7 MIDDLE DOT (Po)" },
    { "ops@acme\u30fbtest.com", false, "U+30FB KATAKANA MIDDLE DOT (Po)" },
    { "ops@acme\u0589test.com", false, "U+0589 ARMENIAN FULL STOP (Po)" },
    { "ops@acme\u2e31test.com", false, "U+2E31 WORD SEPARATOR MIDDLE DOT (Po)" },
    { "ops@acme\u2027test.com", false, "U+2027 HYPHENATION POINT (Po)" },
    { "jan\u2795x@acme.test", false, "U+2795 HEAVY PLUS SIGN (So)" },
    { "jan\u00a9@acme.test", false, "U+00A9 COPYRIGHT SIGN (So)" },
    { "jan\u20ac@acme.test", false, "U+20AC EURO SIGN (Sc)" },
    { "jan\u2019s@acme.test", false, "U+2019 RIGHT SINGLE QUOTATION MARK (Pf)" },
    { "\u00bfjan@acme.test", false, "U+00BF INVERTED QUESTION MARK (Po)" },
    /* Letters of no script (Common) that draw as signs. */
    { "jan\u02bcs@acme.test", false, "U+02BC MODIFIER LETTER APOSTROPHE" },
    { "jan\u02cddoe@acme.test", false, "U+02CD MODIFIER LETTER LOW MACRON: an underscore" },
    { "jan\u02d0x@acme.test", false, "U+02D0 MODIFIER LETTER TRIANGULAR COLON" },
    { "jan@acme\u0640test.com", false, "U+0640 ARABIC TATWEEL: a dash" },
    { "\U0001d6a8lpha@acme.test", false, "U+1D6A8 MATHEMATICAL BOLD CAPITAL ALPHA" },
    /* One script per label and for the local part. */
    { "ops@\u0430cme.test", false, "U+0430 CYRILLIC SMALL LETTER A among Latin ones" },
    { "ops@acme.te\u0455t", false, "U+0455 CYRILLIC SMALL LETTER DZE among Latin ones" },
    { "\u0440aul@acme.test", false, "U+0440 CYRILLIC SMALL LETTER ER in a Latin local part" },
    { "ops@acme\ua4f8test.com", false, "U+A4F8 LISU LETTER TONE MYA TI (a dot) among Latin" },
    { "ops@\u05d0acme.test", false, "a Hebrew letter in a Latin label" },
    { "\u03b1\u0431@x.test", false, "Greek and Cyrillic" },
    { "\u7528\u0431@x.test", false, "Han and Cyrillic" },
    { "\uc0ac\u3042@x.test", false, "Hangul and Hiragana: no language's mix" },
    { "\u3042\u3105@x.test", false, "Hiragana and Bopomofo" },
    /* Ideographs and kana that draw as a sign or a Latin letter, next to
     * one that is not East Asian. */
    { "ops@acme\u4e00test.com", false, "U+4E00 CJK ONE (a dash) between Latin letters" },
    { "\u4e00ops@acme.test", false, "U+4E00 before a Latin letter" },
    { "ops@acme\u5341test.com", false, "U+5341 CJK TEN (a plus) between Latin letters" },
    { "ops@acme\u30fctest.jp", false, "U+30FC PROLONGED SOUND MARK (a dash) between Latin" },
    { "jan\u30ceacme@x.test", false, "U+30CE KATAKANA NO (a slash) between Latin" },
    { "ops@acme\u3007.test", false, "U+3007 IDEOGRAPHIC NUMBER ZERO after a Latin letter" },
    { "ops\u3127x@acme.test", false, "U+3127 BOPOMOFO LETTER I (a dash)" },
    /* Whole labels of letters that pass for Latin ones. */
    { "jan@\u0430\u0441\u0435.test", false, "Cyrillic \u0430\u0441\u0435: ace" },
    { "\u0440\u0430\u0443\u0440\u0430\u0435@acme.test", false,
      "Cyrillic \u0440\u0430\u0443\u0440\u0430\u0435: payrae" },
    { "jan@\u03bf\u03c1\u03ba.test", false, "Greek \u03bf\u03c1\u03ba: opk" },
    { "jan@\u0570\u0585\u057d.test", false, "Armenian \u0570\u0585\u057d: hou" },
    /* Right-to-left pieces that would not display where they are: a
     * digit or a sign at their edge joins the run next to them. */
    { "ops@\u05d0\u05d1.1x.test", false, "a label starting with a digit after a Hebrew one" },
    { "\u05d0\u05d11@acme.test", false, "a Hebrew local part ending with a digit" },
    { "1\u05d0\u05d1@acme.test", false, "a Hebrew local part starting with a digit" },
    { "\u05d0\u05d1@1acme.test", false, "a domain starting with a digit after Hebrew" },
    { "\u05d0_\u05d1.x_@acme.test", false, "an atom ending with a sign in a bidi address" },
    { "\u0633\u0661"
      "2\u0635@x.test",
      false, "Arabic and European digits in one piece" },
    /* Legitimate mail in other scripts. */
    { "j\u00fcrgen@m\u00fcller.de", true, "German" },
    { "\u7528\u6237@\u4f8b\u5b50.\u5e7f\u544a", true, "Chinese" },
    { "\u043f\u0440\u0438\u043c\u0435\u0440@\u043f\u043e\u0447\u0442\u0430.\u0440\u0444", true,
      "Russian" },
    { "\u30e1\u30fc\u30eb@\u4f8b\u3048.jp", true, "Japanese, with U+30FC among katakana" },
    { "\u7b2c\u4e00@\u4f8b\u5b50.cn", true, "U+4E00 after an ideograph" },
    { "jan\u7528\u6237@acme.test", true, "Latin with Han, a mix UTS #39 allows" },
    { "\uc0ac\uc6a9\uc790@\u97d3\uad6d.kr", true, "Korean: Hangul with Han" },
    { "\u0441\u0435\u0440\u0433\u0435\u0439@acme.test", true,
      "Cyrillic with letters of its own (\u0433, \u0439)" },
    { "\u03b5\u03bb\u03bb\u03ac\u03b4\u03b1@x.gr", true, "Greek" },
    { "\u05de\u05e9\u05d4@example.co.il", true, "a Hebrew mailbox at a Latin domain" },
    { "\u0628\u0631\u064a\u062f@\u0645\u062b\u0627\u0644.\u0645\u0635\u0631", true,
      "Arabic throughout: one right-to-left run" },
    { "\u05d01\u05d1@acme.test", true, "a digit inside a Hebrew piece" },
    /* Displays as ops@ (the Hebrew label) .acme.test, every piece in its
     * place: a Hebrew label under acme.test, not acme.test itself. */
    { "ops@\u05d0\u05d1.acme.test", true, "a Hebrew label among Latin ones (RFC 5893)" },
    /* Code points that have no glyph to show. */
    { "jan\ue000@acme.test", false, "U+E000 private use" },
    { "jan\U000f0000@acme.test", false, "U+F0000 supplementary private use" },
    { "jan\ufffd@acme.test", false, "U+FFFD REPLACEMENT CHARACTER" },
    { "jan\xef\xbf\xbf@acme.test", false, "U+FFFF noncharacter" },
    { "jan\xf3\xbf\xbf\xbd@acme.test", false, "U+FFFFD private use, plane 15" },
};

static void
test_plain(gconstpointer data)
{
    guint i = GPOINTER_TO_UINT(data);

    g_test_message("%s", plain_rows[i].what);
    g_assert_cmpint(router_is_plain_address(plain_rows[i].addr), ==, plain_rows[i].plain);
}

/* ---- router_normal_address ---- */

static void
test_normal(void)
{
    static const struct {
        const char *addr;
        const char *normal;
    } rows[] = {
        { "Jan.Jansen@ACME.Test", "jan.jansen@acme.test" },
        /* No Unicode case folding: KELVIN SIGN is not 'k', and an upper
         * case letter beyond ASCII is some other mailbox's to fold. */
        { "\u212aelvin@acme.test", "\u212aelvin@acme.test" },
        /* A domain is no mailbox: IDNA folds it, and it is kept in the
         * xn-- form the policy's domains are kept in. */
        { "J\u00d6RG@M\u00dcLLER.example", "j\u00d6rg@xn--mller-kva.example" },
        { "jan@b\u00fccher.example", "jan@xn--bcher-kva.example" },
        { "Jan@XN--BCHER-KVA.example", "jan@xn--bcher-kva.example" },
        { "\u0130stanbul@acme.test", "\u0130stanbul@acme.test" },
    };

    g_assert_null(router_normal_address(NULL));
    for (guint i = 0; i < G_N_ELEMENTS(rows); i++) {
        g_autofree char *got = router_normal_address(rows[i].addr);
        g_assert_cmpstr(got, ==, rows[i].normal);
    }
    g_assert_true(router_same_address("jan@b\u00fccher.example", "JAN@xn--bcher-kva.EXAMPLE"));
    g_assert_false(router_same_address("jan@b\u00fccher.example", "jan@bucher.example"));
    g_assert_false(router_same_address(NULL, "jan@acme.test"));
    g_autofree char *domain = router_ascii_domain("B\u00dcCHER.Example");
    g_assert_cmpstr(domain, ==, "xn--bcher-kva.example");
}

/* ack_limit's mailbox: the extension goes, at '+' or a delimiter. */
static void
test_ack_key(void)
{
    static const struct {
        const char *addr, *delimiters, *key;
    } rows[] = {
        { "Victim+1@Third.test", "+", "victim@third.test" },
        { "victim+a+b@third.test", "+", "victim@third.test" },
        { "victim-1@third.test", "+", "victim-1@third.test" },
        { "victim-1@third.test", "-", "victim@third.test" },
        { "victim+1@third.test", "-", "victim@third.test" },
        { "+1@third.test", "+", "+1@third.test" },
        { "jan@b\u00fccher.example", "+", "jan@xn--bcher-kva.example" },
    };

    g_assert_null(router_ack_key(NULL, "+"));
    for (guint i = 0; i < G_N_ELEMENTS(rows); i++) {
        g_autofree char *got = router_ack_key(rows[i].addr, rows[i].delimiters);
        g_assert_cmpstr(got, ==, rows[i].key);
    }
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (guint i = 0; i < G_N_ELEMENTS(canonical_rows); i++) {
        g_autofree char *name = g_strdup_printf("/address/canonical/%02u", i + 1);
        g_test_add_data_func(name, GUINT_TO_POINTER(i), test_canonical);
    }
    g_test_add_func("/address/canonical/limits", test_canonical_limits);
    for (guint i = 0; i < G_N_ELEMENTS(plain_rows); i++) {
        g_autofree char *name = g_strdup_printf("/address/plain/%02u", i + 1);
        g_test_add_data_func(name, GUINT_TO_POINTER(i), test_plain);
    }
    g_test_add_func("/address/normal", test_normal);
    g_test_add_func("/address/ack-key", test_ack_key);
    return g_test_run();
}
