/*
 * severity - the rules of severity.h, and the judging of one message.
 *
 * Owns the compiled patterns (GRegex: compiled once, then matched by every
 * thread, which is safe on a compiled pattern), the priority words, the
 * keyword and negation lists of each language, the impact x urgency matrix
 * and the function words that tell English from Dutch.
 *
 * How a message is read:
 * - Its language: the common function words of English and Dutch ("the",
 *   "and", "de", "het", ...) are counted in the subject and the first
 *   SEVERITY_GUESS_MAX bytes of the text. A language with at least
 *   LANGUAGE_MIN_HITS of them, and more than twice as many as the other,
 *   is the text's; else the customer's language; else English. Only that
 *   language's keywords and negations are used, so that the Dutch keyword
 *   "storing" (outage) never fires on the English word "storing".
 * - Keywords and negations match whole words: never inside a longer run of
 *   letters, digits or combining marks (Unicode classes, so "é" belongs to
 *   its word), case-insensitively, the words of a phrase apart by any run
 *   of blanks, line breaks included (mail is wrapped). English words of
 *   four letters or more also match their plain inflections (-s, -es, -ed,
 *   -ing; -s, -d after a final e; -ies, -ied, -ying for a final y; a
 *   doubled last consonant), which is what a writer means by "crashed";
 *   a final e is not dropped, so "store" does not match "storing".
 * - Sentences end at . ! or ? followed by a blank or the end, at ;, and at
 *   a blank line; the subject is a sentence of its own. A negation cancels
 *   the keywords of its own sentence; a negation marked =message (by
 *   default "no impact", "geen impact") cancels every keyword of the
 *   message. A keyword that occurs again in a sentence without a negation
 *   still counts. This is deliberately simple: "we can no longer log in
 *   since the crash" loses its keyword to "no longer", which leaves the
 *   plan default, the cautious side.
 * - Of the keywords that hold, the most severe decides (the first in the
 *   list on a tie), held to keyword_max.
 *
 * Edge cases: text beyond SEVERITY_TEXT_MAX is not read (a field line or a
 * keyword after it does not count); a cut never splits a character;
 * invalid UTF-8, which the parser does not pass on, is repaired rather
 * than trusted. Every scan is linear in the bounded text.
 * Failure: nothing fails while judging. A bad list from the config is
 * refused by its setter with a sentence, and the rules stay as they were.
 */
#include <string.h>

#include "router/severity.h"

enum language {
    LANG_EN,
    LANG_NL,
    LANG_COUNT
};

static const char *const language_names[LANG_COUNT] = { "en", "nl" };

/* Two function words and none of the other language is already a fair
 * sign; one ("is", "we" are in both and not counted) is not. */
#define LANGUAGE_MIN_HITS 2
/* Longer words are no function words and need not be looked up. */
#define FUNCTION_WORD_MAX 16

/* Words frequent in any English or Dutch mail and rare in the other
 * language; words both languages write ("is", "we", "in", "was", "me")
 * are left out. */
static const char *const function_words[LANG_COUNT][56] = {
    { "the",  "and",   "of",     "to",     "are",       "were",  "with",   "this",  "that",
      "have", "has",   "for",    "from",   "it",        "its",   "our",    "your",  "you",
      "they", "there", "can",    "cannot", "not",       "no",    "please", "about", "what",
      "when", "which", "would",  "could",  "should",    "been",  "since",  "after", "does",
      "did",  "will",  "an",     "at",     "on",        "be",    "but",    "my",    "how",
      "any",  "some",  "thanks", "hello",  "yesterday", "today", NULL },
    { "de",  "het",    "een",   "en",   "van",     "voor",     "met",     "niet",   "geen",
      "dit", "dat",    "deze",  "die",  "wij",     "ons",      "onze",    "jullie", "je",
      "jij", "mijn",   "ik",    "heb",  "hebben",  "heeft",    "zijn",    "wordt",  "worden",
      "kan", "kunnen", "graag", "bij",  "maar",    "ook",      "nog",     "wat",    "hoe",
      "er",  "om",     "te",    "naar", "sinds",   "uit",      "aan",     "op",     "als",
      "wel", "zou",    "moet",  "uw",   "bedankt", "gisteren", "vandaag", NULL },
};

static const char *const default_aliases =
    "critical=1; urgent=1; kritiek=1; spoed=1; dringend=1; high=1; hoog=1; normal=2; medium=2;"
    " normaal=2; middel=2; low=3; laag=3";
static const char *const default_keywords[LANG_COUNT] = {
    "production down=1; production is down=1; complete outage=1; total outage=1; outage=2;"
    " crash=2; is down=2; are down=2; data loss=2; urgent=2",
    "productie ligt plat=1; alles ligt plat=1; volledige storing=1; totale storing=1;"
    " ligt plat=2; ligt eruit=2; storing=2; storingen=2; crasht=2; gecrasht=2; dringend=2;"
    " spoed=2",
};
static const char *const default_negations[LANG_COUNT] = {
    "no impact=message; no longer; not anymore; never; not down; not urgent; no outage;"
    " not an outage; no crash; not a crash",
    "geen impact=message; niet meer; nooit; ligt niet plat; ligt er niet uit; niet dringend;"
    " geen spoed; geen storing; geen crash",
};

struct alias {
    char *name;
    int severity;
};

/* A keyword or a negation. */
struct phrase {
    char *text;           /* lower-case, blanks as one space: for the reason */
    int severity;         /* keywords: 1..4 */
    bool is_message_wide; /* negations: cancels every keyword of the message */
    GRegex *re;
};

struct severity_rules {
    GArray *aliases;                  /* struct alias */
    GPtrArray *keywords[LANG_COUNT];  /* struct phrase * */
    GPtrArray *negations[LANG_COUNT]; /* struct phrase * */
    int keyword_max;
    int matrix[3][3]; /* [urgency-1][impact-1] */
    GRegex *subject_number;
    GRegex *subject_word;
    GRegex *field;
    GRegex *impact;
    GRegex *urgency;
    GHashTable *function_words; /* word -> GINT_TO_POINTER(language + 1) */
    /* By length, a bit per first letter a..z of some function word. */
    guint32 function_word_starts[FUNCTION_WORD_MAX + 1];
};

static void
alias_clear(gpointer p)
{
    g_free(((struct alias *)p)->name);
}

static GArray *
alias_array(void)
{
    GArray *a = g_array_new(FALSE, FALSE, sizeof(struct alias));

    g_array_set_clear_func(a, alias_clear);
    return a;
}

static void
phrase_free(gpointer p)
{
    struct phrase *ph = p;

    g_free(ph->text);
    g_clear_pointer(&ph->re, g_regex_unref);
    g_free(ph);
}

static GPtrArray *
phrase_array(void)
{
    return g_ptr_array_new_with_free_func(phrase_free);
}

struct severity_rules *
severity_rules_new(void)
{
    struct severity_rules *r = g_new0(struct severity_rules, 1);
    const int matrix[3][3] = { { 1, 1, 2 }, { 1, 2, 3 }, { 2, 3, 3 } };
    const GRegexCompileFlags f = G_REGEX_CASELESS | G_REGEX_OPTIMIZE;
    g_autofree char *a = NULL;

    memcpy(r->matrix, matrix, sizeof(matrix));
    r->keyword_max = 2;
    r->aliases = alias_array();
    /* [Sev1] [S1] [P1] [Sev 1], Sev 1, Severity: 1, Priority 1, Prio 1, P1 */
    r->subject_number = g_regex_new(
        "(?:\\[\\s*(?:sev(?:erity)?|s|p|prio(?:rity)?)\\s*[-:#]?\\s*([1-4])\\s*\\]"
        "|\\b(?:prioriteit|priority|prio|severity|sev|ernst)\\b\\s*[-:#=]?\\s*([1-4])\\b"
        "|\\bP([1-4])\\b)",
        f, 0, NULL);
    /* [critical], Severity: high, Prioriteit: hoog */
    r->subject_word = g_regex_new("(?:\\[\\s*([a-z]+)\\s*\\]|\\b(?:prioriteit|priority|prio|"
                                  "severity|sev|ernst)\\b\\s*[:=]?\\s*"
                                  "([a-z]+))",
                                  f, 0, NULL);
    r->field =
        g_regex_new("^[ \\t>]*(?:prioriteit|priority|prio|severity|sev|ernst)[ \\t]*[:=][ \\t]*"
                    "([1-4]|[a-z]+)\\b",
                    f | G_REGEX_MULTILINE, 0, NULL);
    r->impact = g_regex_new("^[ \\t>]*(?:impact|impacte?)[ \\t]*[:=][ \\t]*(?:I-?([1-3])|([a-z]+))",
                            f | G_REGEX_MULTILINE, 0, NULL);
    r->urgency =
        g_regex_new("^[ \\t>]*(?:urgency|urgentie)[ \\t]*[:=][ \\t]*(?:U-?([1-3])|([a-z]+))",
                    f | G_REGEX_MULTILINE, 0, NULL);
    r->function_words = g_hash_table_new(g_str_hash, g_str_equal);
    for (int l = 0; l < LANG_COUNT; l++) {
        for (const char *const *w = function_words[l]; *w != NULL; w++) {
            /* A word in both lists would count for both and tell nothing;
             * count_function_words looks up short lower-case ASCII only. */
            g_assert(!g_hash_table_contains(r->function_words, *w));
            g_assert(strlen(*w) <= FUNCTION_WORD_MAX);
            for (const char *c = *w; *c != '\0'; c++)
                g_assert(g_ascii_islower(*c));
            r->function_word_starts[strlen(*w)] |= 1u << ((*w)[0] - 'a');
            g_hash_table_insert(r->function_words, (gpointer)*w, GINT_TO_POINTER(l + 1));
        }
        r->keywords[l] = phrase_array();
        r->negations[l] = phrase_array();
    }
    a = severity_rules_set_aliases(r, default_aliases);
    g_assert(a == NULL);
    for (int l = 0; l < LANG_COUNT; l++) {
        g_autofree char *k = l == LANG_EN ? severity_rules_set_keywords(r, default_keywords[l])
                                          : severity_rules_set_keywords_nl(r, default_keywords[l]);
        g_autofree char *n = l == LANG_EN
                                 ? severity_rules_set_negations(r, default_negations[l])
                                 : severity_rules_set_negations_nl(r, default_negations[l]);
        g_assert(k == NULL && n == NULL);
    }
    return r;
}

struct severity_rules *
severity_rules_free(struct severity_rules *r)
{
    if (r == NULL)
        return NULL;
    g_array_unref(r->aliases);
    for (int l = 0; l < LANG_COUNT; l++) {
        g_ptr_array_unref(r->keywords[l]);
        g_ptr_array_unref(r->negations[l]);
    }
    g_regex_unref(r->subject_number);
    g_regex_unref(r->subject_word);
    g_regex_unref(r->field);
    g_regex_unref(r->impact);
    g_regex_unref(r->urgency);
    g_hash_table_unref(r->function_words);
    g_free(r);
    return NULL;
}

/* ---- the lists ---- */

/* "x=N; y=N" into a new array in *OUT, which is replaced only on success;
 * an error sentence or NULL. */
static char *
parse_pairs(GArray **out, const char *spec, int max)
{
    g_auto(GStrv) parts = g_strsplit(spec, ";", -1);
    g_autoptr(GArray) pairs = alias_array();

    for (char **p = parts; *p != NULL; p++) {
        char *part = g_strstrip(*p);
        char *eq = strrchr(part, '=');
        struct alias a;
        if (*part == '\0')
            continue;
        if (eq == NULL || eq == part || eq[1] < '1' || eq[1] > '0' + max || eq[2] != '\0')
            return g_strdup_printf("\"%s\": expected NAME=N with N from 1 to %d", part, max);
        *eq = '\0';
        a.name = g_ascii_strdown(g_strstrip(part), -1);
        a.severity = eq[1] - '0';
        g_array_append_val(pairs, a);
    }
    g_array_unref(*out);
    *out = g_steal_pointer(&pairs);
    return NULL;
}

char *
severity_rules_set_aliases(struct severity_rules *r, const char *spec)
{
    return parse_pairs(&r->aliases, spec, 4);
}

static bool
is_vowel(char c)
{
    return strchr("aeiou", c) != NULL;
}

/* One English word and its plain inflections, as a pattern. W is
 * lower-case ASCII letters, four or more. */
static void
append_inflected(GString *re, const char *w)
{
    gsize n = strlen(w);
    char last = w[n - 1];

    if (last == 'e') {
        g_string_append_printf(re, "%s(?:s|d)?", w);
    } else if (last == 'y' && !is_vowel(w[n - 2])) {
        g_string_append_printf(re, "%.*s(?:y|ies|ied|ying)", (int)(n - 1), w);
    } else if (strchr("sxz", last) != NULL || g_str_has_suffix(w, "sh") ||
               g_str_has_suffix(w, "ch")) {
        g_string_append_printf(re, "%s(?:es|ed|ing)?", w);
    } else if (!is_vowel(w[n - 3]) && is_vowel(w[n - 2]) && !is_vowel(last) &&
               strchr("wxy", last) == NULL) {
        /* stop: stopped, stopping; open: opened. Both spellings are taken,
         * since which one is right depends on the stress. */
        g_string_append_printf(re, "%s(?:s|ed|ing|%ced|%cing)?", w, last, last);
    } else {
        g_string_append_printf(re, "%s(?:s|ed|ing)?", w);
    }
}

static bool
is_plain_word(const char *w)
{
    gsize n = 0;

    for (; w[n] != '\0'; n++)
        if (!g_ascii_islower(w[n]))
            return false;
    return n >= 4;
}

/* The pattern for PHRASE (lower-case, words apart by one space): whole
 * words, any run of blanks between them. */
static char *
phrase_pattern(const char *phrase, bool inflect)
{
    g_auto(GStrv) words = g_strsplit(phrase, " ", -1);
    GString *re = g_string_new("(?<![\\p{L}\\p{M}\\p{N}])");

    for (char **w = words; *w != NULL; w++) {
        if (w != words)
            g_string_append(re, "[\\s\\p{Z}]+");
        if (inflect && is_plain_word(*w)) {
            append_inflected(re, *w);
        } else {
            g_autofree char *lit = g_regex_escape_string(*w, -1);
            g_string_append(re, lit);
        }
    }
    g_string_append(re, "(?![\\p{L}\\p{M}\\p{N}])");
    return g_string_free(re, FALSE);
}

/* TEXT as a phrase: lower-case, its words apart by one space. NULL and
 * *WHY set when it is no phrase. */
static char *
normal_phrase(const char *text, const char **why)
{
    g_autofree char *lower = NULL;
    g_auto(GStrv) words = NULL;
    bool has_alnum = false;

    if (!g_utf8_validate(text, -1, NULL)) {
        *why = "a phrase must be UTF-8 text";
        return NULL;
    }
    if (strlen(text) > SEVERITY_PHRASE_MAX) {
        *why = "a phrase has at most " G_STRINGIFY(SEVERITY_PHRASE_MAX) " bytes";
        return NULL;
    }
    for (const char *p = text; *p != '\0'; p = g_utf8_next_char(p))
        has_alnum = has_alnum || g_unichar_isalnum(g_utf8_get_char(p));
    if (!has_alnum) {
        *why = "a phrase needs a word";
        return NULL;
    }
    lower = g_utf8_strdown(text, -1);
    words = g_strsplit_set(lower, " \t", -1);
    GString *out = g_string_new(NULL);
    for (char **w = words; *w != NULL; w++) {
        if (**w == '\0')
            continue;
        if (out->len > 0)
            g_string_append_c(out, ' ');
        g_string_append(out, *w);
    }
    return g_string_free(out, FALSE);
}

/* One "phrase=N" (keywords) or "phrase[=message|=sentence]" (negations)
 * into a new phrase; NULL and *WHY set when it is wrong. */
static struct phrase *
parse_phrase(char *part, bool is_negation, bool inflect, char **why)
{
    g_autofree char *written = g_strdup(part);
    char *eq = strrchr(part, '=');
    g_autofree char *text = NULL;
    const char *no_phrase = NULL;
    g_autofree char *pattern = NULL;
    g_autoptr(GError) error = NULL;
    int severity = 0;
    bool is_message_wide = false;

    if (!is_negation) {
        if (eq == NULL || eq[1] < '1' || eq[1] > '4' || eq[2] != '\0') {
            *why = g_strdup_printf("\"%s\": expected PHRASE=N with N from 1 to 4", part);
            return NULL;
        }
        severity = eq[1] - '0';
    } else if (eq != NULL) {
        const char *scope = g_strstrip(eq + 1);
        if (strcmp(scope, "message") != 0 && strcmp(scope, "sentence") != 0) {
            *why =
                g_strdup_printf("\"%s\": expected PHRASE, PHRASE=sentence or PHRASE=message", part);
            return NULL;
        }
        is_message_wide = strcmp(scope, "message") == 0;
    }
    if (eq != NULL)
        *eq = '\0';
    if ((text = normal_phrase(g_strstrip(part), &no_phrase)) == NULL) {
        *why = g_strdup_printf("\"%s\": %s", written, no_phrase);
        return NULL;
    }
    pattern = phrase_pattern(text, inflect);
    GRegex *re = g_regex_new(pattern, G_REGEX_CASELESS | G_REGEX_OPTIMIZE, 0, &error);
    if (re == NULL) {
        *why = g_strdup_printf("\"%s\": %s", text, error->message);
        return NULL;
    }
    struct phrase *ph = g_new0(struct phrase, 1);
    ph->text = g_steal_pointer(&text);
    ph->severity = severity;
    ph->is_message_wide = is_message_wide;
    ph->re = re;
    return ph;
}

/* A list of phrases into a new array in *OUT, which is replaced only on
 * success; an error sentence or NULL. */
static char *
parse_phrases(GPtrArray **out, const char *spec, bool is_negation, bool inflect)
{
    g_auto(GStrv) parts = g_strsplit(spec, ";", -1);
    g_autoptr(GPtrArray) list = phrase_array();

    for (char **p = parts; *p != NULL; p++) {
        char *part = g_strstrip(*p);
        char *why = NULL;
        struct phrase *ph;
        if (*part == '\0')
            continue;
        if (list->len == SEVERITY_PHRASES_MAX)
            return g_strdup_printf("more than %d phrases", SEVERITY_PHRASES_MAX);
        if ((ph = parse_phrase(part, is_negation, inflect, &why)) == NULL)
            return why;
        g_ptr_array_add(list, ph);
    }
    g_ptr_array_unref(*out);
    *out = g_steal_pointer(&list);
    return NULL;
}

char *
severity_rules_set_keywords(struct severity_rules *r, const char *spec)
{
    return parse_phrases(&r->keywords[LANG_EN], spec, false, true);
}

char *
severity_rules_set_keywords_nl(struct severity_rules *r, const char *spec)
{
    return parse_phrases(&r->keywords[LANG_NL], spec, false, false);
}

char *
severity_rules_set_negations(struct severity_rules *r, const char *spec)
{
    return parse_phrases(&r->negations[LANG_EN], spec, true, true);
}

char *
severity_rules_set_negations_nl(struct severity_rules *r, const char *spec)
{
    return parse_phrases(&r->negations[LANG_NL], spec, true, false);
}

char *
severity_rules_set_matrix(struct severity_rules *r, const char *spec)
{
    g_auto(GStrv) rows = g_strsplit(spec, ";", -1);
    int m[3][3];

    if (g_strv_length(rows) != 3)
        return g_strdup("expected three rows (U-1; U-2; U-3) of three numbers (I-1,I-2,I-3)");
    for (int u = 0; u < 3; u++) {
        g_auto(GStrv) cols = g_strsplit(rows[u], ",", -1);
        if (g_strv_length(cols) != 3)
            return g_strdup_printf("row %d: expected three numbers for I-1,I-2,I-3", u + 1);
        for (int i = 0; i < 3; i++) {
            char *c = g_strstrip(cols[i]);
            if (c[0] < '1' || c[0] > '4' || c[1] != '\0')
                return g_strdup_printf("row %d: \"%s\" is not a severity from 1 to 4", u + 1, c);
            m[u][i] = c[0] - '0';
        }
    }
    memcpy(r->matrix, m, sizeof(m));
    return NULL;
}

void
severity_rules_set_keyword_max(struct severity_rules *r, int max)
{
    g_assert(max >= 1 && max <= 4);
    r->keyword_max = max;
}

/* ---- explicit signs ---- */

static int
alias_severity(const GArray *aliases, const char *word)
{
    for (guint i = 0; i < aliases->len; i++) {
        const struct alias *a = &g_array_index(aliases, struct alias, i);
        if (g_ascii_strcasecmp(a->name, word) == 0)
            return a->severity;
    }
    return 0;
}

/* The first non-empty capture group of M, as a number or an alias. */
static int
match_value(const GMatchInfo *m, const GArray *aliases, char **what)
{
    int groups = g_match_info_get_match_count(m);

    for (int g = 1; g < groups; g++) {
        g_autofree char *v = g_match_info_fetch(m, g);
        if (v == NULL || *v == '\0')
            continue;
        *what = g_match_info_fetch(m, 0);
        if (g_ascii_isdigit(v[0]))
            return v[0] - '0';
        return alias_severity(aliases, v);
    }
    return 0;
}

/* The body's field lines, by which of the field expressions could match. */
enum field_kind {
    FIELD_SEVERITY = 1 << 0,
    FIELD_IMPACT = 1 << 1,
    FIELD_URGENCY = 1 << 2,
};

/* Whether P starts with WORD, ASCII case-insensitively. A byte that is not
 * ASCII may be a letter's caseless equivalent to the expression (a long s,
 * the Kelvin sign), so it is taken to match. */
static bool
may_start_with(const char *p, const char *word)
{
    for (; *word != '\0'; p++, word++) {
        if ((unsigned char)*p >= 0x80)
            return true;
        if (g_ascii_tolower(*p) != *word)
            return false;
    }
    return true;
}

/* Which of the field expressions (r->field, r->impact, r->urgency) could
 * match TEXT: each needs a line that starts, after blanks and quote marks,
 * with one of its words. One pass over the text instead of an expression's
 * try at every line, most mail having no such line. Every place where an
 * expression's ^ could match is looked at: after any line break PCRE may
 * count (\n \r \v \f, and a byte that ends NEL or a line or paragraph
 * separator). */
static unsigned
field_lines(const char *text)
{
    static const struct {
        const char *word; /* a prefix of each of the expression's words */
        unsigned kind;
    } starts[] = {
        { "prio", FIELD_SEVERITY }, { "sev", FIELD_SEVERITY },  { "ernst", FIELD_SEVERITY },
        { "impact", FIELD_IMPACT }, { "urgen", FIELD_URGENCY },
    };
    unsigned kinds = 0;

    for (const unsigned char *p = (const unsigned char *)text;; p++) {
        const char *q = (const char *)p + strspn((const char *)p, " \t>");
        for (guint i = 0; i < G_N_ELEMENTS(starts); i++)
            if (may_start_with(q, starts[i].word))
                kinds |= starts[i].kind;
        while (*p != '\0' && *p != '\n' && *p != '\r' && *p != '\v' && *p != '\f' && *p != 0x85 &&
               *p != 0xA8 && *p != 0xA9)
            p++;
        if (*p == '\0')
            return kinds;
    }
}

/* Runs RE over TEXT; the first match that names a severity. */
static int
find(const GRegex *re, const char *text, const GArray *aliases, char **what)
{
    g_autoptr(GMatchInfo) m = NULL;

    g_regex_match(re, text, 0, &m);
    while (g_match_info_matches(m)) {
        int s = match_value(m, aliases, what);
        if (s > 0)
            return s;
        g_clear_pointer(what, g_free);
        g_match_info_next(m, NULL);
    }
    return 0;
}

/* A subject tag or a body field: true and OUT filled when there is one. */
static bool
judge_tags(const struct severity_rules *r, const char *subject, const char *body, unsigned fields,
           struct severity_verdict *out)
{
    g_autofree char *what = NULL;
    int s;

    if ((s = find(r->subject_number, subject, r->aliases, &what)) > 0 ||
        (s = find(r->subject_word, subject, r->aliases, &what)) > 0) {
        out->source = SEVERITY_SUBJECT;
        out->reason = g_strdup_printf("subject tag \"%s\"", what);
    } else if ((fields & FIELD_SEVERITY) != 0 &&
               (s = find(r->field, body, r->aliases, &what)) > 0) {
        out->source = SEVERITY_FIELD;
        out->reason = g_strdup_printf("body field \"%s\"", g_strstrip(what));
    } else {
        return false;
    }
    out->severity = s;
    out->is_explicit = true;
    return true;
}

/* Impact or urgency 1..3 from "I-2" or a word (high/medium/low,
 * hoog/middel/laag); 0 when there is none. */
static int
level(const GRegex *re, const char *text)
{
    static const struct {
        const char *word;
        int level;
    } words[] = {
        { "high", 1 },   { "hoog", 1 },   { "critical", 1 }, { "kritiek", 1 }, { "medium", 2 },
        { "middel", 2 }, { "normal", 2 }, { "normaal", 2 },  { "low", 3 },     { "laag", 3 },
    };
    g_autoptr(GMatchInfo) m = NULL;
    g_autofree char *num = NULL, *word = NULL;

    if (!g_regex_match(re, text, 0, &m))
        return 0;
    num = g_match_info_fetch(m, 1);
    word = g_match_info_fetch(m, 2);
    if (num != NULL && *num != '\0')
        return num[0] - '0';
    for (guint i = 0; word != NULL && i < G_N_ELEMENTS(words); i++)
        if (g_ascii_strcasecmp(word, words[i].word) == 0)
            return words[i].level;
    return 0;
}

/* Impact and urgency through the matrix. One alone counts (the policy
 * lets the customer give urgency and either side impact): the other axis
 * is then the plan default, which has four levels to the matrix's three. */
static bool
judge_matrix(const struct severity_rules *r, const char *body, unsigned fields, int plan_default,
             struct severity_verdict *out)
{
    int impact = (fields & FIELD_IMPACT) != 0 ? level(r->impact, body) : 0;
    int urgency = (fields & FIELD_URGENCY) != 0 ? level(r->urgency, body) : 0;
    const int assumed = CLAMP(plan_default, 1, 3);
    const char *const from_default = " from the plan default";

    if (impact == 0 && urgency == 0)
        return false;
    out->reason = g_strdup_printf("impact I-%d%s, urgency U-%d%s", impact > 0 ? impact : assumed,
                                  impact > 0 ? "" : from_default, urgency > 0 ? urgency : assumed,
                                  urgency > 0 ? "" : from_default);
    impact = impact > 0 ? impact : assumed;
    urgency = urgency > 0 ? urgency : assumed;
    out->severity = r->matrix[urgency - 1][impact - 1];
    out->source = SEVERITY_MATRIX;
    out->is_explicit = true;
    return true;
}

/* ---- language and keywords ---- */

/* Adds to COUNTS the function words among the words of S, read up to
 * LIMIT bytes. S is valid UTF-8. A word is a run of letters and marks,
 * lower-cased. Every function word is short ASCII, so a word that holds a
 * letter whose lower case is not ASCII, or that is longer, is passed over
 * without a look-up; ASCII bytes, most of most mail, are read without the
 * Unicode tables (the same words, several times faster). */
static void
count_function_words(const struct severity_rules *r, const char *s, gsize limit,
                     guint counts[LANG_COUNT])
{
    char word[FUNCTION_WORD_MAX + 1];
    gsize n = 0, i = 0;
    bool can_match = true;

    for (;;) {
        unsigned char b = i < limit ? (unsigned char)s[i] : 0;
        int letter = -1; /* the lower-cased ASCII letter, else -1 */
        bool in_word;

        if (b < 0x80) {
            in_word = g_ascii_isalpha(b);
            if (in_word)
                letter = b | 0x20; /* an ASCII letter's lower case */
            i++;
        } else {
            gunichar c = g_utf8_get_char(s + i);
            in_word = g_unichar_isalpha(c) || g_unichar_ismark(c);
            gunichar lower = in_word ? g_unichar_tolower(c) : 0;
            if (lower < 0x80 && g_ascii_islower((char)lower))
                letter = (int)lower; /* the Kelvin sign is a k */
            i = (gsize)(g_utf8_next_char(s + i) - s);
        }
        if (in_word) {
            if (letter < 0 || n >= FUNCTION_WORD_MAX)
                can_match = false;
            else
                word[n] = (char)letter;
            n++;
            continue;
        }
        /* Most words need no look-up: no function word has their length
         * and first letter. */
        if (n > 0 && can_match && (r->function_word_starts[n] >> (word[0] - 'a') & 1) != 0) {
            word[n] = '\0';
            gpointer l = g_hash_table_lookup(r->function_words, word);
            if (l != NULL)
                counts[GPOINTER_TO_INT(l) - 1]++;
        }
        n = 0;
        can_match = true;
        if (b == 0)
            return;
    }
}

static enum language
judge_language(const struct severity_rules *r, const char *subject, const char *body,
               const char *hint)
{
    guint counts[LANG_COUNT] = { 0 };

    count_function_words(r, subject, SEVERITY_SUBJECT_MAX, counts);
    count_function_words(r, body, SEVERITY_GUESS_MAX, counts);
    for (int l = 0; l < LANG_COUNT; l++) {
        bool is_clear = counts[l] >= LANGUAGE_MIN_HITS;
        for (int o = 0; o < LANG_COUNT; o++)
            is_clear = is_clear && (o == l || counts[l] > 2 * counts[o]);
        if (is_clear)
            return (enum language)l;
    }
    for (int l = 0; hint != NULL && l < LANG_COUNT; l++)
        if (g_ascii_strcasecmp(hint, language_names[l]) == 0)
            return (enum language)l;
    return LANG_EN;
}

/* Where each sentence of TEXT ends (the offset of its last byte), in
 * order; the text after the last end is one more sentence. */
static GArray *
sentence_ends(const char *text)
{
    GArray *ends = g_array_new(FALSE, FALSE, sizeof(gsize));

    for (gsize i = 0; text[i] != '\0'; i++) {
        char c = text[i], next = text[i + 1];
        bool is_end = c == ';' || ((c == '.' || c == '!' || c == '?') &&
                                   (next == '\0' || g_ascii_isspace(next)));
        if (c == '\n') {
            /* Each blank run is looked at from the one line break before
             * it, so this stays linear. */
            gsize j = i + 1;
            while (text[j] == ' ' || text[j] == '\t' || text[j] == '\r')
                j++;
            is_end = text[j] == '\n';
        }
        if (is_end)
            g_array_append_val(ends, i);
    }
    return ends;
}

/* The index of the sentence that holds byte POS. */
static guint
sentence_of(const GArray *ends, gsize pos)
{
    guint lo = 0, hi = ends->len;

    while (lo < hi) {
        guint mid = lo + (hi - lo) / 2;
        if (g_array_index(ends, gsize, mid) < pos)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static gsize
match_start(const GMatchInfo *m)
{
    gint start = 0;

    g_match_info_fetch_pos(m, 0, &start, NULL);
    return (gsize)start;
}

/* The negations found in TEXT: per sentence the first one in it
 * (BY_SENTENCE has ENDS->len + 1 slots), and the first message-wide one. */
static void
find_negations(const GPtrArray *negations, const char *text, const GArray *ends,
               const struct phrase **by_sentence, const struct phrase **message_wide)
{
    for (guint i = 0; i < negations->len; i++) {
        const struct phrase *neg = g_ptr_array_index(negations, i);
        g_autoptr(GMatchInfo) m = NULL;

        g_regex_match(neg->re, text, 0, &m);
        for (; g_match_info_matches(m); g_match_info_next(m, NULL)) {
            if (neg->is_message_wide) {
                if (*message_wide == NULL)
                    *message_wide = neg;
                break;
            }
            guint s = sentence_of(ends, match_start(m));
            if (by_sentence[s] == NULL)
                by_sentence[s] = neg;
        }
    }
}

/* A keyword of language LANG, else the plan default: fills OUT. */
static void
judge_keywords(const struct severity_rules *r, enum language lang, const char *subject,
               const char *body, int plan_default, struct severity_verdict *out)
{
    const GPtrArray *keywords = r->keywords[lang];
    /* The subject is a sentence of its own. */
    g_autofree char *text = g_strconcat(subject, "\n\n", body, NULL);
    g_autoptr(GArray) ends = sentence_ends(text);
    /* Freed by hand: the analyzer does not follow g_autofree through a
     * pointer to const. */
    const struct phrase **by_sentence = g_new0(const struct phrase *, ends->len + 1);
    const struct phrase *message_wide = NULL, *hit = NULL, *cancelled = NULL, *cancelled_by = NULL;

    find_negations(r->negations[lang], text, ends, by_sentence, &message_wide);
    for (guint i = 0; i < keywords->len; i++) {
        const struct phrase *kw = g_ptr_array_index(keywords, i);
        g_autoptr(GMatchInfo) m = NULL;

        if (hit != NULL && kw->severity >= hit->severity)
            continue;
        g_regex_match(kw->re, text, 0, &m);
        for (; g_match_info_matches(m); g_match_info_next(m, NULL)) {
            guint sentence = sentence_of(ends, match_start(m));
            const struct phrase *neg = message_wide != NULL ? message_wide : by_sentence[sentence];
            if (neg == NULL) {
                hit = kw;
                break;
            }
            if (cancelled == NULL) {
                cancelled = kw;
                cancelled_by = neg;
            }
        }
    }
    g_free(by_sentence);
    out->is_explicit = false;
    if (hit != NULL) {
        out->severity = MAX(hit->severity, r->keyword_max);
        out->source = SEVERITY_KEYWORD;
        if (out->severity != hit->severity)
            out->reason = g_strdup_printf("keyword \"%s\" (%s), Severity %d held to %d by"
                                          " keyword_max",
                                          hit->text, out->language, hit->severity, out->severity);
        else
            out->reason = g_strdup_printf("keyword \"%s\" (%s)", hit->text, out->language);
        return;
    }
    out->severity = plan_default;
    out->source = SEVERITY_DEFAULT;
    if (cancelled != NULL)
        out->reason = g_strdup_printf("plan default (keyword \"%s\" cancelled by \"%s\")",
                                      cancelled->text, cancelled_by->text);
    else
        out->reason = g_strdup("plan default");
}

/* The first MAX bytes of S (NULL: empty), never half a character, as
 * valid UTF-8. */
static char *
bounded_utf8(const char *s, gsize max)
{
    gsize len;

    if (s == NULL)
        return g_strdup("");
    len = strnlen(s, max);
    /* S[len] is the first byte left out: when it continues a character,
     * that character is left out whole. */
    while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80)
        len--;
    if (g_utf8_validate_len(s, len, NULL))
        return g_strndup(s, len);
    return g_utf8_make_valid(s, (gssize)len);
}

void
severity_judge(const struct severity_rules *r, const char *subject, const char *text,
               const char *language_hint, int plan_default, struct severity_verdict *out)
{
    g_autofree char *subj = bounded_utf8(subject, SEVERITY_SUBJECT_MAX);
    g_autofree char *body = bounded_utf8(text, SEVERITY_TEXT_MAX);
    enum language lang;
    unsigned fields;

    g_assert(plan_default >= 1 && plan_default <= 4);
    lang = judge_language(r, subj, body, language_hint);
    *out = (struct severity_verdict){ .language = language_names[lang] };
    fields = field_lines(body);
    if (judge_tags(r, subj, body, fields, out) || judge_matrix(r, body, fields, plan_default, out))
        return;
    judge_keywords(r, lang, subj, body, plan_default, out);
}

void
severity_verdict_clear(struct severity_verdict *v)
{
    g_free(v->reason);
    *v = (struct severity_verdict){ 0 };
}
