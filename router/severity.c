/*
 * severity - the rules, as a few GRegex patterns compiled once and shared
 * by all threads (GRegex matching is thread-safe on a compiled pattern).
 */
#include <string.h>

#include "router/severity.h"

struct alias {
    char *name;
    int severity;
};

struct severity_rules {
    GArray *aliases;  /* struct alias */
    GArray *keywords; /* struct alias: phrase, severity */
    int matrix[3][3]; /* [urgency-1][impact-1] */
    GRegex *subject_number;
    GRegex *subject_word;
    GRegex *field;
    GRegex *impact;
    GRegex *urgency;
};

static const char *const default_aliases =
    "critical=1; urgent=1; high=2; normal=3; medium=3; low=4; kritiek=1; hoog=1; normaal=2;"
    " laag=3";
static const char *const default_keywords =
    "production down=1; complete outage=1; crash=1; productie ligt plat=1; volledige storing=1;"
    " storing=2";

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

struct severity_rules *
severity_rules_new(void)
{
    struct severity_rules *r = g_new0(struct severity_rules, 1);
    const int matrix[3][3] = { { 1, 1, 2 }, { 1, 2, 3 }, { 2, 3, 3 } };
    const GRegexCompileFlags f = G_REGEX_CASELESS | G_REGEX_OPTIMIZE;
    g_autofree char *a = NULL, *k = NULL;

    memcpy(r->matrix, matrix, sizeof(matrix));
    r->aliases = alias_array();
    r->keywords = alias_array();
    /* [Sev1] [S1] [P1] [Sev 1], Sev 1, Severity: 1, Priority 1, Prio 1, P1 */
    r->subject_number = g_regex_new(
        "(?:\\[\\s*(?:sev(?:erity)?|s|p|prio(?:rity)?)\\s*[-:#]?\\s*([1-4])\\s*\\]"
        "|\\b(?:prioriteit|priority|prio|severity|sev|ernst)\\b\\s*[-:#=]?\\s*([1-4])\\b"
        "|\\bP([1-4])\\b)",
        f, 0, NULL);
    /* [critical], Severity: high, Prioriteit: hoog */
    r->subject_word = g_regex_new(
        "(?:\\[\\s*([a-z]+)\\s*\\]|\\b(?:prioriteit|priority|prio|severity|sev|ernst)\\b\\s*[:=]?\\s*"
        "([a-z]+))",
        f, 0, NULL);
    r->field = g_regex_new("^[ \\t>]*(?:prioriteit|priority|prio|severity|sev|ernst)[ \\t]*[:=][ \\t]*"
                           "([1-4]|[a-z]+)\\b",
                           f | G_REGEX_MULTILINE, 0, NULL);
    r->impact = g_regex_new("^[ \\t>]*(?:impact|impacte?)[ \\t]*[:=][ \\t]*(?:I-?([1-3])|([a-z]+))",
                            f | G_REGEX_MULTILINE, 0, NULL);
    r->urgency = g_regex_new("^[ \\t>]*(?:urgency|urgentie)[ \\t]*[:=][ \\t]*(?:U-?([1-3])|([a-z]+))",
                             f | G_REGEX_MULTILINE, 0, NULL);
    a = severity_rules_set_aliases(r, default_aliases);
    k = severity_rules_set_keywords(r, default_keywords);
    g_assert(a == NULL && k == NULL);
    return r;
}

struct severity_rules *
severity_rules_free(struct severity_rules *r)
{
    if (r == NULL)
        return NULL;
    g_array_unref(r->aliases);
    g_array_unref(r->keywords);
    g_regex_unref(r->subject_number);
    g_regex_unref(r->subject_word);
    g_regex_unref(r->field);
    g_regex_unref(r->impact);
    g_regex_unref(r->urgency);
    g_free(r);
    return NULL;
}

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

char *
severity_rules_set_keywords(struct severity_rules *r, const char *spec)
{
    return parse_pairs(&r->keywords, spec, 4);
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

/* Impact or urgency 1..3 from "I-2" or a word (high/medium/low, hoog/middel/laag). */
static int
level(const GRegex *re, const char *text)
{
    static const char *const words[][2] = {
        { "high", "1" }, { "hoog", "1" }, { "critical", "1" }, { "medium", "2" },
        { "middel", "2" }, { "normal", "2" }, { "normaal", "2" }, { "low", "3" }, { "laag", "3" },
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
        if (g_ascii_strcasecmp(word, words[i][0]) == 0)
            return words[i][1][0] - '0';
    return 0;
}

int
severity_of(const struct severity_rules *r, const char *subject, const char *text,
            int plan_default, char **rule)
{
    g_autofree char *what = NULL;
    int s;

    if ((s = find(r->subject_number, subject, r->aliases, &what)) > 0 ||
        (s = find(r->subject_word, subject, r->aliases, &what)) > 0) {
        *rule = g_strdup_printf("subject tag \"%s\"", what);
        return s;
    }
    if ((s = find(r->field, text, r->aliases, &what)) > 0) {
        g_strstrip(what);
        *rule = g_strdup_printf("body field \"%s\"", what);
        return s;
    }
    int impact = level(r->impact, text), urgency = level(r->urgency, text);
    if (impact > 0 && urgency > 0) {
        *rule = g_strdup_printf("impact I-%d and urgency U-%d", impact, urgency);
        return r->matrix[urgency - 1][impact - 1];
    }
    g_autofree char *haystack = g_utf8_strdown(subject, -1);
    g_autofree char *body = g_utf8_strdown(text, -1);
    for (guint i = 0; i < r->keywords->len; i++) {
        const struct alias *k = &g_array_index(r->keywords, struct alias, i);
        if (strstr(haystack, k->name) != NULL || strstr(body, k->name) != NULL) {
            *rule = g_strdup_printf("keyword \"%s\"", k->name);
            return k->severity;
        }
    }
    *rule = g_strdup("plan default");
    return plan_default;
}

void
severity_judge(const struct severity_rules *r, const char *subject, const char *text,
               const char *language_hint, int plan_default, struct severity_verdict *out)
{
    memset(out, 0, sizeof(*out));
    out->severity = severity_of(r, subject, text, plan_default, &out->reason);
    out->language = language_hint != NULL ? language_hint : "en";
    if (g_str_has_prefix(out->reason, "keyword"))
        out->source = SEVERITY_KEYWORD;
    else if (g_str_has_prefix(out->reason, "plan default"))
        out->source = SEVERITY_DEFAULT;
    else if (g_str_has_prefix(out->reason, "body field"))
        out->source = SEVERITY_FIELD;
    else if (g_str_has_prefix(out->reason, "impact"))
        out->source = SEVERITY_MATRIX;
    else
        out->source = SEVERITY_SUBJECT;
    out->is_explicit = out->source != SEVERITY_KEYWORD && out->source != SEVERITY_DEFAULT;
}

void
severity_verdict_clear(struct severity_verdict *v)
{
    g_clear_pointer(&v->reason, g_free);
}
