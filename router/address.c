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
 * in, or nobody).  Unicode is asked through GLib (g_unichar_type,
 * g_unichar_get_script, NFKC); what no category or script gives away is
 * in the tables below.  The rules, from the code point up:
 *
 * - a code point beyond ASCII that hides (format characters, fillers,
 *   selectors), that NFKC reads as ASCII, or that is punctuation or a
 *   symbol (every dot, dash, slash and at sign of every alphabet is one)
 *   is refused wherever it stands, and so is a letter of no script;
 * - the local part and each label are in one script, or in a mix that
 *   UTS #39 allows ("highly restrictive"): "аcme" (a Cyrillic a) is
 *   no label, "jan用户" is a local part; and an ideograph or kana
 *   that draws as a sign ("一" as '-') must stand among East Asian
 *   characters, where it reads as what it is;
 * - a label made only of Cyrillic, Greek or Armenian letters that draw as
 *   Latin ones reads as Latin: when every such letter of the address is
 *   one, the address is refused (a Russian address has letters Latin has
 *   not);
 * - right-to-left letters reorder what is next to them on display; an
 *   address with one is plain when each piece between '.' and '@' keeps
 *   its place, as RFC 5893 asks of the labels of a domain.  The display
 *   is then the address read in order, each right-to-left piece drawn from
 *   right to left.
 *
 * Not found: letters of one script that draw as other letters of it ("rn"
 * as "m"), as in ASCII addresses; only a table of confusable strings could
 * tell.  An address of ASCII alone is judged by its syntax only.
 *
 * The canonical form of a recipient is syntax only: it undoes what
 * RFC 5321 lets a client write in several ways for one mailbox, and knows
 * nothing of the domains Postfix serves (the routed forms user%domain@host,
 * host!user@host and "user@domain"@host are Postfix's to resolve; the
 * milter asks for its answer, the {rcpt_addr} macro).  Any input gives an
 * answer or NULL, never a partial address: every byte is read once, up to
 * ADDRESS_MAX_ENVELOPE.
 */
#include <stdlib.h>
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

/* Code points that hide part of an address and that their category does
 * not give away: fillers and selectors that draw nothing.  (Look-alikes
 * of '.', '-', '+' or '/' are punctuation or symbols, refused as such;
 * those that NFKC maps to ASCII, such as FULLWIDTH COMMERCIAL AT, are
 * found by that too.) */
static const struct {
    gunichar first, last;
} refused_ranges[] = {
    { 0x034F, 0x034F },   /* COMBINING GRAPHEME JOINER */
    { 0x115F, 0x1160 },   /* HANGUL CHOSEONG and JUNGSEONG FILLER */
    { 0x17B4, 0x17B5 },   /* KHMER VOWEL INHERENT AQ and AA */
    { 0x180B, 0x180F },   /* MONGOLIAN FREE VARIATION SELECTORS, VOWEL SEPARATOR */
    { 0x3164, 0x3164 },   /* HANGUL FILLER */
    { 0xFE00, 0xFE0F },   /* VARIATION SELECTORS */
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

static bool
is_letter(GUnicodeType t)
{
    return t == G_UNICODE_LOWERCASE_LETTER || t == G_UNICODE_MODIFIER_LETTER ||
           t == G_UNICODE_OTHER_LETTER || t == G_UNICODE_TITLECASE_LETTER ||
           t == G_UNICODE_UPPERCASE_LETTER;
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

/* The Japanese sound marks: letters of no script of their own (Common)
 * that Japanese words are written with.  Every other code point beyond
 * ASCII that belongs to no script (the modifier letters that draw as
 * quotes, accents, a colon or an underscore, ARABIC TATWEEL, the
 * mathematical alphabets, circled numbers) is in no one's address. */
static bool
is_kana_mark(gunichar c)
{
    return c == 0x30FC || c == 0xFF70 || c == 0xFF9E || c == 0xFF9F;
}

/* Whether C, a code point beyond ASCII, is refused wherever it stands:
 * one that hides, imitates or draws as punctuation.  PREV_ASCII says the
 * code point before it is ASCII (or that it is the first). */
static bool
is_refused_char(gunichar c, bool prev_ascii)
{
    GUnicodeType t = g_unichar_type(c);

    switch (t) {
    case G_UNICODE_CONTROL:
    case G_UNICODE_FORMAT:
    case G_UNICODE_UNASSIGNED:
    case G_UNICODE_PRIVATE_USE:
    case G_UNICODE_SURROGATE:
    case G_UNICODE_SPACE_SEPARATOR:
    case G_UNICODE_LINE_SEPARATOR:
    case G_UNICODE_PARAGRAPH_SEPARATOR:
    /* Punctuation and symbols (P* and S*): an address needs none beyond
     * ASCII's, and every dot, dash, slash or at sign of another alphabet
     * is one of them (MIDDLE DOT, ARMENIAN FULL STOP, KATAKANA MIDDLE
     * DOT, MODIFIER LETTER MINUS SIGN, HYPHEN, MINUS SIGN, ...). */
    case G_UNICODE_CONNECT_PUNCTUATION:
    case G_UNICODE_DASH_PUNCTUATION:
    case G_UNICODE_CLOSE_PUNCTUATION:
    case G_UNICODE_FINAL_PUNCTUATION:
    case G_UNICODE_INITIAL_PUNCTUATION:
    case G_UNICODE_OTHER_PUNCTUATION:
    case G_UNICODE_OPEN_PUNCTUATION:
    case G_UNICODE_CURRENCY_SYMBOL:
    case G_UNICODE_MODIFIER_SYMBOL:
    case G_UNICODE_MATH_SYMBOL:
    case G_UNICODE_OTHER_SYMBOL:
        return true;
    default:
        break;
    }
    if (g_unichar_get_script(c) == G_UNICODE_SCRIPT_COMMON && !is_kana_mark(c))
        return true;
    return is_refused_range(c) || (is_mark(t) && prev_ascii) || is_ascii_lookalike(c);
}

/* ---- one script per piece ---- */

/* The scripts UTS #39 lets one identifier mix at its "highly restrictive"
 * level: Latin with the scripts of Japanese, of Chinese, or of Korean. */
enum {
    MIX_LATIN = 1 << 0,
    MIX_HAN = 1 << 1,
    MIX_HIRAGANA = 1 << 2,
    MIX_KATAKANA = 1 << 3,
    MIX_BOPOMOFO = 1 << 4,
    MIX_HANGUL = 1 << 5,
};

static const guint allowed_mixes[] = {
    MIX_LATIN | MIX_HAN | MIX_HIRAGANA | MIX_KATAKANA,
    MIX_LATIN | MIX_HAN | MIX_BOPOMOFO,
    MIX_LATIN | MIX_HAN | MIX_HANGUL,
};

static guint
mix_bit(GUnicodeScript s)
{
    switch (s) {
    case G_UNICODE_SCRIPT_LATIN:
        return MIX_LATIN;
    case G_UNICODE_SCRIPT_HAN:
        return MIX_HAN;
    case G_UNICODE_SCRIPT_HIRAGANA:
        return MIX_HIRAGANA;
    case G_UNICODE_SCRIPT_KATAKANA:
        return MIX_KATAKANA;
    case G_UNICODE_SCRIPT_BOPOMOFO:
        return MIX_BOPOMOFO;
    case G_UNICODE_SCRIPT_HANGUL:
        return MIX_HANGUL;
    default:
        return 0;
    }
}

/* Ideographs, kana and bopomofo that draw as a stroke, a dot, an ASCII
 * sign or a Latin capital: next to Latin letters or digits they pass for
 * one ("acme一test" reads as acme-test), so they must stand among
 * characters of the East Asian scripts.  Sorted. */
static const gunichar cjk_strokes[] = {
    0x3007,                 /* 〇 IDEOGRAPHIC NUMBER ZERO: O, 0 */
    0x3078,                 /* へ HIRAGANA HE: ^ */
    0x309D, 0x309E,         /* ゝゞ HIRAGANA ITERATION MARKS: \ */
    0x30A8,                 /* エ KATAKANA E: I */
    0x30AB,                 /* カ KATAKANA KA: 力, h */
    0x30BD,                 /* ソ KATAKANA SO: y, ' */
    0x30CB,                 /* ニ KATAKANA NI: = */
    0x30CE,                 /* ノ KATAKANA NO: / */
    0x30D8,                 /* ヘ KATAKANA HE: ^ */
    0x30ED,                 /* ロ KATAKANA RO: □, O */
    0x30F3,                 /* ン KATAKANA N: ' */
    0x30FC,                 /* ー PROLONGED SOUND MARK: - */
    0x30FD, 0x30FE,         /* ヽヾ KATAKANA ITERATION MARKS: \ */
    0x3108,                 /* ㄈ BOPOMOFO F: C */
    0x3112,                 /* ㄒ BOPOMOFO X: T */
    0x311A,                 /* ㄚ BOPOMOFO A: Y */
    0x311F,                 /* ㄟ BOPOMOFO EI: \ */
    0x3127,                 /* ㄧ BOPOMOFO I: - */
    0x3128,                 /* ㄨ BOPOMOFO U: X */
    0x3129,                 /* ㄩ BOPOMOFO IU: U */
    0x31B2, 0x31B3, 0x31BA, /* ㆲㆳㆺ BOPOMOFO extended */
    0x4E00,                 /* 一 ONE: - */
    0x4E01,                 /* 丁: T */
    0x4E03,                 /* 七: t */
    0x4E05,                 /* 丅: T */
    0x4E28,                 /* 丨: l, | */
    0x4E36,                 /* 丶: . */
    0x4E3F,                 /* 丿: / */
    0x4E59,                 /* 乙: Z, 2 */
    0x4E5B,                 /* 乛: 7 */
    0x4E85,                 /* 亅: J */
    0x5341,                 /* 十 TEN: + */
    0x53E3,                 /* 口 MOUTH: O, □ */
    0x5DE5,                 /* 工 WORK: I */
    0x8BA0,                 /* 讠: i */
    0xFF70,                 /* ｰ HALFWIDTH PROLONGED SOUND MARK: - */
};

static gint
unichar_cmp(gconstpointer a, gconstpointer b)
{
    gunichar x = *(const gunichar *)a;
    gunichar y = *(const gunichar *)b;

    return x < y ? -1 : x > y;
}

static bool
is_in(gunichar c, const gunichar *sorted, gsize n)
{
    return bsearch(&c, sorted, n, sizeof(gunichar), unichar_cmp) != NULL;
}

/* Whether C is written among the East Asian scripts. */
static bool
is_cjk(gunichar c)
{
    return (mix_bit(g_unichar_get_script(c)) & ~MIX_LATIN) != 0 || is_kana_mark(c);
}

/* Whether the piece P..END (a local part or one label of a domain) is
 * written in one script, or one of allowed_mixes; characters of no
 * script of their own (ASCII digits, '-', marks that take their letter's
 * script) go with any.  A stroke of cjk_strokes must have East Asian
 * characters on both sides within the piece (or its end). */
static bool
is_one_script(const char *p, const char *end)
{
    GUnicodeScript other = G_UNICODE_SCRIPT_COMMON;
    guint mix = 0;
    gunichar prev = 0;

    for (const char *q = p; q < end; q = g_utf8_next_char(q)) {
        gunichar c = g_utf8_get_char(q);
        GUnicodeScript s = g_unichar_get_script(c);

        if (is_in(c, cjk_strokes, G_N_ELEMENTS(cjk_strokes))) {
            const char *next = g_utf8_next_char(q);
            if ((prev != 0 && !is_cjk(prev)) || (next < end && !is_cjk(g_utf8_get_char(next))))
                return false;
        }
        prev = c;
        if (s == G_UNICODE_SCRIPT_COMMON || s == G_UNICODE_SCRIPT_INHERITED)
            continue;
        if (mix_bit(s) != 0)
            mix |= mix_bit(s);
        else if (other == G_UNICODE_SCRIPT_COMMON)
            other = s;
        else if (other != s)
            return false;
    }
    if (other != G_UNICODE_SCRIPT_COMMON)
        return mix == 0;
    for (gsize i = 0; i < G_N_ELEMENTS(allowed_mixes); i++)
        if ((mix & ~allowed_mixes[i]) == 0)
            return true;
    return false;
}

/* ---- letters that pass for Latin ones ---- */

/* Letters of Cyrillic, Greek and Armenian that draw as a Latin letter (or
 * one with the same diacritic).  Sorted. */
static const gunichar latin_lookalikes[] = {
    0x037F,                                                 /* Ϳ J */
    0x0391, 0x0392, 0x0395, 0x0396, 0x0397, 0x0399, 0x039A, /* Α Β Ε Ζ Η Ι Κ */
    0x039C, 0x039D, 0x039F, 0x03A1, 0x03A4, 0x03A5, 0x03A7, /* Μ Ν Ο Ρ Τ Υ Χ */
    0x03B9, 0x03BA, 0x03BD, 0x03BF, 0x03C1, 0x03C5,         /* ι κ ν ο ρ υ */
    0x03F2, 0x03F3, 0x03F9,                                 /* ϲ ϳ Ϲ */
    0x0405, 0x0406, 0x0407, 0x0408, 0x0410, 0x0412, 0x0415, /* Ѕ І Ї Ј А В Е */
    0x041A, 0x041C, 0x041D, 0x041E, 0x0420, 0x0421, 0x0422, /* К М Н О Р С Т */
    0x0423, 0x0425, 0x0430, 0x0435, 0x043E, 0x0440, 0x0441, /* У Х а е о р с */
    0x0443, 0x0445, 0x0450, 0x0451, 0x0455, 0x0456, 0x0457, /* у х ѐ ё ѕ і ї */
    0x0458, 0x04AE, 0x04AF, 0x04BB, 0x04C0, 0x04CF, 0x04E6, /* ј Ү ү һ Ӏ ӏ Ӧ */
    0x04E7, 0x0500, 0x0501, 0x051A, 0x051B, 0x051C, 0x051D, /* ӧ Ԁ ԁ Ԛ ԛ Ԝ ԝ */
    0x054D, 0x054F, 0x0555, 0x0566, 0x0570, 0x0578, 0x057D, /* Ս Տ Օ զ հ ո ս */
    0x0581, 0x0585,                                         /* ց օ */
};

static bool
has_own_lookalike_script(GUnicodeScript s)
{
    return s == G_UNICODE_SCRIPT_CYRILLIC || s == G_UNICODE_SCRIPT_GREEK ||
           s == G_UNICODE_SCRIPT_ARMENIAN;
}

/* Whether ADDR (LEN bytes) has letters of Cyrillic, Greek or Armenian and
 * every one of them passes for a Latin letter: "jan@асе.test" (Cyrillic) is
 * one script per label, and reads as jan@ace.test. */
static bool
is_latin_in_disguise(const char *addr, gsize len)
{
    bool any = false;

    for (const char *p = addr; p < addr + len; p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p);

        if (c < 0x80 || !is_letter(g_unichar_type(c)) ||
            !has_own_lookalike_script(g_unichar_get_script(c)))
            continue;
        if (!is_in(c, latin_lookalikes, G_N_ELEMENTS(latin_lookalikes)))
            return false;
        any = true;
    }
    return any;
}

/* ---- the order it displays in ---- */

/* The scripts written from right to left. */
static bool
is_rtl_script(GUnicodeScript s)
{
    switch (s) {
    case G_UNICODE_SCRIPT_ADLAM:
    case G_UNICODE_SCRIPT_ARABIC:
    case G_UNICODE_SCRIPT_AVESTAN:
    case G_UNICODE_SCRIPT_CHORASMIAN:
    case G_UNICODE_SCRIPT_CYPRIOT:
    case G_UNICODE_SCRIPT_ELYMAIC:
    case G_UNICODE_SCRIPT_HANIFI_ROHINGYA:
    case G_UNICODE_SCRIPT_HATRAN:
    case G_UNICODE_SCRIPT_HEBREW:
    case G_UNICODE_SCRIPT_IMPERIAL_ARAMAIC:
    case G_UNICODE_SCRIPT_INSCRIPTIONAL_PAHLAVI:
    case G_UNICODE_SCRIPT_INSCRIPTIONAL_PARTHIAN:
    case G_UNICODE_SCRIPT_KHAROSHTHI:
    case G_UNICODE_SCRIPT_LYDIAN:
    case G_UNICODE_SCRIPT_MANDAIC:
    case G_UNICODE_SCRIPT_MANICHAEAN:
    case G_UNICODE_SCRIPT_MENDE_KIKAKUI:
    case G_UNICODE_SCRIPT_MEROITIC_CURSIVE:
    case G_UNICODE_SCRIPT_MEROITIC_HIEROGLYPHS:
    case G_UNICODE_SCRIPT_NABATAEAN:
    case G_UNICODE_SCRIPT_NKO:
    case G_UNICODE_SCRIPT_OLD_HUNGARIAN:
    case G_UNICODE_SCRIPT_OLD_NORTH_ARABIAN:
    case G_UNICODE_SCRIPT_OLD_SOGDIAN:
    case G_UNICODE_SCRIPT_OLD_SOUTH_ARABIAN:
    case G_UNICODE_SCRIPT_OLD_TURKIC:
    case G_UNICODE_SCRIPT_OLD_UYGHUR:
    case G_UNICODE_SCRIPT_PALMYRENE:
    case G_UNICODE_SCRIPT_PHOENICIAN:
    case G_UNICODE_SCRIPT_PSALTER_PAHLAVI:
    case G_UNICODE_SCRIPT_SAMARITAN:
    case G_UNICODE_SCRIPT_SOGDIAN:
    case G_UNICODE_SCRIPT_SYRIAC:
    case G_UNICODE_SCRIPT_THAANA:
    case G_UNICODE_SCRIPT_YEZIDI:
        return true;
    default:
        return false;
    }
}

static bool
is_rtl(gunichar c)
{
    return c >= 0x80 && is_rtl_script(g_unichar_get_script(c));
}

/* The digits that the bidi algorithm places as Arabic numbers (AN), apart
 * from the European ones (EN: ASCII, EXTENDED ARABIC-INDIC). */
static bool
is_arabic_number(gunichar c)
{
    return (c >= 0x0660 && c <= 0x0669) || c == 0x066B || c == 0x066C;
}

static bool
is_digit(gunichar c)
{
    return g_unichar_type(c) == G_UNICODE_DECIMAL_NUMBER;
}

/* Whether the piece P..END ('.' or '@' on either side) keeps its place
 * among the others when a right-to-left letter is in the address (RFC
 * 5893's Bidi Rule, for the local part's atoms as for the labels): a
 * right-to-left piece begins and ends with a letter of its script (marks
 * may follow it) and mixes no Arabic with European digits; any other
 * begins with a letter and ends with a letter or a digit.  A digit or a
 * sign at the edge of a piece would join the right-to-left run next to
 * it, and so would the '.' or '@' between them: ops@ALEF BET.1.test displays
 * as ops@1.BET ALEF.test, the labels swapped. */
static bool
keeps_its_place(const char *p, const char *end)
{
    gunichar first = g_utf8_get_char(p), last = 0;
    bool rtl = false, european = false, arabic = false;

    for (const char *q = p; q < end; q = g_utf8_next_char(q)) {
        gunichar c = g_utf8_get_char(q);

        rtl |= is_rtl(c);
        european |= is_digit(c) && !is_arabic_number(c);
        arabic |= is_arabic_number(c);
        if (!is_mark(g_unichar_type(c)))
            last = c;
    }
    if (rtl)
        return is_rtl(first) && is_letter(g_unichar_type(first)) && is_rtl(last) &&
               is_letter(g_unichar_type(last)) && !(european && arabic);
    return g_unichar_isalpha(first) && (g_unichar_isalpha(last) || is_digit(last));
}

/* Whether ADDR (LEN bytes, a plain addr-spec) displays in the order it is
 * written: no right-to-left letter in it, or every piece between '.' and
 * '@' keeps its place. */
static bool
displays_in_order(const char *addr, gsize len)
{
    const char *end = addr + len;
    bool any_rtl = false;

    for (const char *p = addr; p < end && !any_rtl; p = g_utf8_next_char(p))
        any_rtl = is_rtl(g_utf8_get_char(p));
    if (!any_rtl)
        return true;
    for (const char *piece = addr; piece < end;) {
        const char *stop = piece;
        while (stop < end && *stop != '.' && *stop != '@')
            stop++;
        if (!keeps_its_place(piece, stop))
            return false;
        piece = stop + 1;
    }
    return true;
}

/* ---- all of it ---- */

/* Whether the UTF-8 text ADDR (LEN bytes; AT its '@') has a code point
 * that hides or imitates another, is not in the form (NFC) it displays
 * as, mixes scripts in a piece, passes for Latin, or displays in another
 * order than it is written.  An address of ASCII alone has none of that. */
static bool
has_hidden_or_lookalike(const char *addr, const char *at, gsize len)
{
    const char *end = addr + len;
    bool prev_ascii = true; /* a mark at the start would sit on what precedes it */
    bool any_wide = false;

    for (const char *p = addr; p < end; p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p);

        if (c < 0x80) {
            prev_ascii = true;
            continue;
        }
        any_wide = true;
        if (is_refused_char(c, prev_ascii))
            return true;
        prev_ascii = false;
    }
    if (!any_wide)
        return false;
    g_autofree char *nfc = g_utf8_normalize(addr, (gssize)len, G_NORMALIZE_NFC);
    if (nfc == NULL || strcmp(nfc, addr) != 0)
        return true;
    if (!is_one_script(addr, at))
        return true;
    for (const char *label = at + 1; label < end;) {
        const char *dot = memchr(label, '.', (gsize)(end - label));
        const char *stop = dot != NULL ? dot : end;
        if (!is_one_script(label, stop))
            return true;
        label = stop + 1;
    }
    return is_latin_in_disguise(addr, len) || !displays_in_order(addr, len);
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
           !has_hidden_or_lookalike(addr, at, len);
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

char *
router_ack_key(const char *addr, const char *delimiters)
{
    g_autofree char *normal = router_normal_address(addr);
    g_autofree char *cut = g_strconcat("+", delimiters != NULL ? delimiters : "", NULL);
    const char *at, *d;

    if (normal == NULL)
        return NULL;
    at = strrchr(normal, '@');
    d = strpbrk(normal, cut);
    if (at == NULL || d == NULL || d > at || d == normal)
        return g_steal_pointer(&normal);
    return g_strdup_printf("%.*s%s", (int)(d - normal), normal, at);
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
