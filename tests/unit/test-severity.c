/*
 * test-severity - the severity a message asks for, in English and Dutch:
 * the number, the rule that decided it and the words it names, whether the
 * sender said so, and which language's keywords were read.
 */
#include <string.h>

#include <glib.h>

#include "router/severity.h"

#define SUBJ SEVERITY_SUBJECT
#define FIELD SEVERITY_FIELD
#define MATRIX SEVERITY_MATRIX
#define KEYWORD SEVERITY_KEYWORD
#define DEFAULT SEVERITY_DEFAULT

static const struct {
    const char *subject;
    const char *text;
    const char *hint; /* the customer's language */
    int plan_default; /* 0: 3 */
    int keyword_max;  /* 0: the default, 2 */
    int severity;
    enum severity_source source;
    const char *reason;   /* exactly */
    const char *language; /* NULL: not checked */
} cases[] = {
    /* subject tags */
    { "[Sev1] checkout down", "", NULL, 0, 0, 1, SUBJ, "subject tag \"[Sev1]\"", NULL },
    { "[SEV 2] slow reports", "", NULL, 0, 0, 2, SUBJ, "subject tag \"[SEV 2]\"", NULL },
    { "[S1] everything broken", "", NULL, 0, 0, 1, SUBJ, "subject tag \"[S1]\"", NULL },
    { "[P3] question", "", NULL, 0, 0, 3, SUBJ, "subject tag \"[P3]\"", NULL },
    { "[p1] site down", "", NULL, 0, 0, 1, SUBJ, "subject tag \"[p1]\"", NULL },
    { "[P1] Re: login", "", NULL, 0, 0, 1, SUBJ, "subject tag \"[P1]\"", NULL },
    { "[P1] Checkout down", "", NULL, 0, 0, 1, SUBJ, "subject tag \"[P1]\"", NULL },
    { "Sev 2: login slow", "", NULL, 0, 0, 2, SUBJ, "subject tag \"Sev 2\"", NULL },
    { "Severity: 1 - payments failing", "", NULL, 0, 0, 1, SUBJ, "subject tag \"Severity: 1\"",
      NULL },
    { "Severity 4 documentation typo", "", NULL, 0, 0, 4, SUBJ, "subject tag \"Severity 4\"",
      NULL },
    { "Priority 2: export broken", "", NULL, 0, 0, 2, SUBJ, "subject tag \"Priority 2\"", NULL },
    { "Prio 1 alles ligt eruit", "", NULL, 0, 0, 1, SUBJ, "subject tag \"Prio 1\"", NULL },
    { "P2 export broken", "", NULL, 0, 0, 2, SUBJ, "subject tag \"P2\"", NULL },
    { "Prioriteit: 3 vraag over factuur", "", NULL, 0, 0, 3, SUBJ, "subject tag \"Prioriteit: 3\"",
      NULL },
    /* priority words: one tier each, the same in both languages */
    { "[critical] database unreachable", "", NULL, 0, 0, 1, SUBJ, "subject tag \"[critical]\"",
      NULL },
    { "[urgent] invoices", "", NULL, 0, 0, 1, SUBJ, "subject tag \"[urgent]\"", NULL },
    { "[spoed] facturen", "", NULL, 0, 0, 1, SUBJ, "subject tag \"[spoed]\"", NULL },
    { "[kritiek] database weg", "", NULL, 0, 0, 1, SUBJ, "subject tag \"[kritiek]\"", NULL },
    { "[High] sync delayed", "", NULL, 0, 0, 1, SUBJ, "subject tag \"[High]\"", NULL },
    { "[hoog] koppeling werkt niet", "", NULL, 0, 0, 1, SUBJ, "subject tag \"[hoog]\"", NULL },
    { "Priority: high - invoices", "", NULL, 0, 0, 1, SUBJ, "subject tag \"Priority: high\"",
      NULL },
    { "Priority high invoices", "", NULL, 0, 0, 1, SUBJ, "subject tag \"Priority high\"", NULL },
    { "Prioriteit: hoog - facturen", "", NULL, 0, 0, 1, SUBJ, "subject tag \"Prioriteit: hoog\"",
      NULL },
    { "[normal] how do I export?", "", NULL, 0, 0, 2, SUBJ, "subject tag \"[normal]\"", NULL },
    { "[medium] export", "", NULL, 0, 0, 2, SUBJ, "subject tag \"[medium]\"", NULL },
    { "[Normaal] vraag", "", NULL, 0, 0, 2, SUBJ, "subject tag \"[Normaal]\"", NULL },
    { "[middel] vraag", "", NULL, 0, 0, 2, SUBJ, "subject tag \"[middel]\"", NULL },
    { "[low] feature idea", "", NULL, 0, 0, 3, SUBJ, "subject tag \"[low]\"", NULL },
    { "Prioriteit: laag - wens", "", NULL, 0, 0, 3, SUBJ, "subject tag \"Prioriteit: laag\"",
      NULL },
    /* the subject wins over the body, and over any keyword */
    { "[Sev1] but body says", "Severity: 4\n", NULL, 0, 0, 1, SUBJ, "subject tag \"[Sev1]\"",
      NULL },
    { "[P3] production down", "", NULL, 0, 0, 3, SUBJ, "subject tag \"[P3]\"", NULL },
    /* body fields */
    { "Login problem", "Hello,\n\nSeverity: 2\n\nUsers cannot log in.", NULL, 0, 0, 2, FIELD,
      "body field \"Severity: 2\"", NULL },
    { "Question", "Priority: 4\n", NULL, 0, 0, 4, FIELD, "body field \"Priority: 4\"", NULL },
    { "Vraag", "Prioriteit: hoog\nDe koppeling hapert.", NULL, 0, 0, 1, FIELD,
      "body field \"Prioriteit: hoog\"", NULL },
    { "Question", "Priority: high\nThe sync is slow.", NULL, 0, 0, 1, FIELD,
      "body field \"Priority: high\"", NULL },
    { "Question", "Priority: normal\n", NULL, 0, 0, 2, FIELD, "body field \"Priority: normal\"",
      NULL },
    { "Vraag", "Prioriteit: normaal\n", NULL, 0, 0, 2, FIELD, "body field \"Prioriteit: normaal\"",
      NULL },
    { "Vraag", "Prioriteit: laag\n", NULL, 2, 0, 3, FIELD, "body field \"Prioriteit: laag\"",
      NULL },
    { "Report", "  severity = 3\n", NULL, 0, 0, 3, FIELD, "body field \"severity = 3\"", NULL },
    { "Quoted", "> Severity: 1\nthanks", NULL, 0, 0, 1, FIELD, "body field \"> Severity: 1\"",
      NULL },
    { "Crash", "Severity: 3\nThe app crashed.", NULL, 0, 0, 3, FIELD, "body field \"Severity: 3\"",
      NULL },
    /* a field line starts after any line break the expressions know, and
     * after blanks and quote marks; not in the middle of a line */
    { "Question", "Thanks.\rSeverity: 1\r", NULL, 0, 0, 1, FIELD, "body field \"Severity: 1\"",
      NULL },
    { "Question", "Intro\fPriority: 2\n", NULL, 0, 0, 2, FIELD, "body field \"Priority: 2\"",
      NULL },
    { "Question", "x\vSeverity: 2\n", NULL, 0, 0, 2, FIELD, "body field \"Severity: 2\"", NULL },
    { "Question", "x\xc2\x85Severity: 2\n", NULL, 0, 0, 2, FIELD, "body field \"Severity: 2\"",
      NULL },
    { "Question", "x\xe2\x80\xa8Severity: 2\n", NULL, 0, 0, 2, FIELD, "body field \"Severity: 2\"",
      NULL },
    { "Question", "Hi\n\tPRIO: 2\n", NULL, 0, 0, 2, FIELD, "body field \"PRIO: 2\"", NULL },
    { "Question", "caf\xc3\xa9\nSev: 2\n", NULL, 0, 0, 2, FIELD, "body field \"Sev: 2\"", NULL },
    { "Question", "Ernst: 1", NULL, 0, 0, 1, FIELD, "body field \"Ernst: 1\"", NULL },
    /* caseless in Unicode: a long s is an s */
    { "Question",
      "\xc5\xbf"
      "everity: 1\n",
      NULL, 0, 0, 1, FIELD,
      "body field \"\xc5\xbf"
      "everity: 1\"",
      NULL },
    { "Question", "see Severity: 1 below\n", NULL, 0, 0, 3, DEFAULT, "plan default", NULL },
    { "Question", "Hi\n>> \t> Urgency: U-1\n", NULL, 0, 0, 2, MATRIX,
      "impact I-3 from the plan default, urgency U-1", NULL },
    { "Question", "Text\nIMPACT: I-1", NULL, 0, 0, 2, MATRIX,
      "impact I-1, urgency U-3 from the plan default", NULL },
    /* impact x urgency, both */
    { "Impact question", "Impact: I-1\nUrgency: U-2\n", NULL, 0, 0, 1, MATRIX,
      "impact I-1, urgency U-2", NULL },
    { "Impact question", "Impact: I-3\nUrgency: U-3\n", NULL, 0, 0, 3, MATRIX,
      "impact I-3, urgency U-3", NULL },
    { "Impact question", "Urgency: U-1\nImpact: I-3\n", NULL, 0, 0, 2, MATRIX,
      "impact I-3, urgency U-1", NULL },
    { "Impact question", "Impact: I-2\nUrgency: U-2\n", NULL, 0, 0, 2, MATRIX,
      "impact I-2, urgency U-2", NULL },
    { "Melding", "Impact: hoog\nUrgentie: laag\n", NULL, 0, 0, 2, MATRIX, "impact I-1, urgency U-3",
      NULL },
    { "Report", "Impact: medium\nUrgency: high\n", NULL, 0, 0, 1, MATRIX, "impact I-2, urgency U-1",
      NULL },
    /* impact alone, urgency alone: the other axis from the plan default */
    { "Only impact", "Impact: I-1\n", NULL, 3, 0, 2, MATRIX,
      "impact I-1, urgency U-3 from the plan default", NULL },
    { "Only impact", "Impact: I-1\n", NULL, 2, 0, 1, MATRIX,
      "impact I-1, urgency U-2 from the plan default", NULL },
    { "Alleen urgentie", "Urgentie: U-1\n", NULL, 3, 0, 2, MATRIX,
      "impact I-3 from the plan default, urgency U-1", NULL },
    { "Alleen urgentie", "Urgentie: U-1\n", NULL, 2, 0, 1, MATRIX,
      "impact I-2 from the plan default, urgency U-1", NULL },
    { "Only urgency", "Urgency: U-2\n", NULL, 4, 0, 3, MATRIX,
      "impact I-3 from the plan default, urgency U-2", NULL },
    { "Only urgency", "Urgency: U-1\n", NULL, 1, 0, 1, MATRIX,
      "impact I-1 from the plan default, urgency U-1", NULL },
    /* a field line is the sender's word before impact and urgency */
    { "Both", "Severity: 4\nImpact: I-1\nUrgency: U-1\n", NULL, 0, 0, 4, FIELD,
      "body field \"Severity: 4\"", NULL },
    /* English keywords, whole words and plain inflections */
    { "Production down!", "", NULL, 0, 0, 2, KEYWORD,
      "keyword \"production down\" (en), Severity 1 held to 2 by keyword_max", "en" },
    { "Production down!", "", NULL, 0, 1, 1, KEYWORD, "keyword \"production down\" (en)", "en" },
    { "Help", "We have a complete outage since 9:00", NULL, 0, 1, 1, KEYWORD,
      "keyword \"complete outage\" (en)", "en" },
    { "App crash on start", "", NULL, 0, 0, 2, KEYWORD, "keyword \"crash\" (en)", "en" },
    { "App crashes on start", "", NULL, 0, 0, 2, KEYWORD, "keyword \"crash\" (en)", "en" },
    { "Help", "The app keeps crashing since the update.", NULL, 0, 0, 2, KEYWORD,
      "keyword \"crash\" (en)", "en" },
    { "Help", "The app crashed again this morning.", NULL, 0, 0, 2, KEYWORD,
      "keyword \"crash\" (en)", "en" },
    { "Mail", "Our mail server is down since 9:00.", NULL, 0, 0, 2, KEYWORD,
      "keyword \"is down\" (en)", "en" },
    { "Help", "Production\n   down since the deploy", NULL, 0, 1, 1, KEYWORD,
      "keyword \"production down\" (en)", "en" },
    { "Help",
      "production\xc2\xa0"
      "down",
      NULL, 0, 1, 1, KEYWORD, "keyword \"production down\" (en)", "en" },
    { "Help", "production, down the hall", NULL, 0, 0, 3, DEFAULT, "plan default", "en" },
    { "Crashplan backup question", "", NULL, 0, 0, 3, DEFAULT, "plan default", "en" },
    { "Question about storing attachments", "", "en", 0, 0, 3, DEFAULT, "plan default", "en" },
    { "Question about storing attachments", "", NULL, 0, 0, 3, DEFAULT, "plan default", "en" },
    { "Storing orders fails with timeout", "", "en", 0, 0, 3, DEFAULT, "plan default", "en" },
    /* Dutch keywords for Dutch text */
    { "De webshop is een storing", "", "nl", 2, 0, 2, KEYWORD, "keyword \"storing\" (nl)", "nl" },
    { "Storing", "", "nl", 3, 0, 2, KEYWORD, "keyword \"storing\" (nl)", "nl" },
    { "Storingen na de update", "", "nl", 3, 0, 2, KEYWORD, "keyword \"storingen\" (nl)", "nl" },
    { "Productie ligt plat", "", "nl", 3, 0, 2, KEYWORD,
      "keyword \"productie ligt plat\" (nl), Severity 1 held to 2 by keyword_max", "nl" },
    { "Productie ligt plat", "", "nl", 3, 1, 1, KEYWORD, "keyword \"productie ligt plat\" (nl)",
      "nl" },
    { "Vraag", "Sinds vanochtend is er een volledige storing.", "nl", 3, 1, 1, KEYWORD,
      "keyword \"volledige storing\" (nl)", "nl" },
    { "Melding", "De storingsmelding van gisteren is binnen.", "nl", 3, 0, 3, DEFAULT,
      "plan default", "nl" },
    { "Melding", "éstoring", "nl", 3, 0, 3, DEFAULT, "plan default", "nl" },
    /* the text's own language before the customer's */
    { "Koppeling", "De koppeling met het ERP ligt eruit. Wij kunnen geen orders verwerken.", "en",
      3, 0, 2, KEYWORD, "keyword \"ligt eruit\" (nl)", "nl" },
    { "De webshop is een storing", "", "en", 3, 0, 2, KEYWORD, "keyword \"storing\" (nl)", "nl" },
    { "Question about storing attachments",
      "Hello, how do we store the attachments of our tickets? Thanks", "nl", 2, 0, 2, DEFAULT,
      "plan default", "en" },
    { "Storing orders fails", "Since the update, storing an order takes a minute.", "nl", 3, 0, 3,
      DEFAULT, "plan default", "en" },
    { "Storing", "", NULL, 3, 0, 3, DEFAULT, "plan default", "en" },
    /* negations: in the keyword's sentence, or "no impact" anywhere */
    { "App crashed once yesterday, no impact now", "", NULL, 0, 0, 3, DEFAULT,
      "plan default (keyword \"crash\" cancelled by \"no impact\")", "en" },
    { "App crash", "It crashed once yesterday.\n\nThere is no impact on our users.", NULL, 0, 0, 3,
      DEFAULT, "plan default (keyword \"crash\" cancelled by \"no impact\")", "en" },
    { "Help", "The app crashed last week but that is no longer happening.", NULL, 0, 0, 3, DEFAULT,
      "plan default (keyword \"crash\" cancelled by \"no longer\")", "en" },
    { "Help", "It is not urgent, the export crashed once.", NULL, 0, 0, 3, DEFAULT,
      "plan default (keyword \"crash\" cancelled by \"not urgent\")", "en" },
    { "Help", "The export never finished last week. Today the app crashed again.", NULL, 0, 0, 2,
      KEYWORD, "keyword \"crash\" (en)", "en" },
    { "Help", "It crashed once, never again. And it crashed again today!", NULL, 0, 0, 2, KEYWORD,
      "keyword \"crash\" (en)", "en" },
    { "Vraag", "Het is niet dringend, maar er is een storing in de export.", "nl", 3, 0, 3, DEFAULT,
      "plan default (keyword \"storing\" cancelled by \"niet dringend\")", "nl" },
    { "Vraag", "De productie ligt niet plat, alleen de storing in de export is lastig.", "nl", 3, 0,
      3, DEFAULT, "plan default (keyword \"storing\" cancelled by \"ligt niet plat\")", "nl" },
    { "Vraag", "Er was gisteren een storing.\n\nGeen impact voor de gebruikers.", "nl", 3, 0, 3,
      DEFAULT, "plan default (keyword \"storing\" cancelled by \"geen impact\")", "nl" },
    { "Vraag", "De storing van vorige week is niet meer opgetreden.", "nl", 3, 0, 3, DEFAULT,
      "plan default (keyword \"storing\" cancelled by \"niet meer\")", "nl" },
    { "Vraag", "Het was nooit zo erg. Nu is er een storing in de export.", "nl", 3, 0, 2, KEYWORD,
      "keyword \"storing\" (nl)", "nl" },
    /* an English negation does not cancel a Dutch keyword */
    { "Vraag", "Er is een storing in de export, no impact.", "nl", 3, 0, 2, KEYWORD,
      "keyword \"storing\" (nl)", "nl" },
    /* the default, and things that must not count */
    { "How do I export to CSV?", "Thanks!", NULL, 0, 0, 3, DEFAULT, "plan default", NULL },
    { "High CPU usage question", "", NULL, 0, 0, 3, DEFAULT, "plan default", NULL },
    { "Order P12345 missing", "", NULL, 0, 0, 3, DEFAULT, "plan default", NULL },
    { "Version 1.2 severity", "", NULL, 0, 0, 3, DEFAULT, "plan default", NULL },
    { "[TKT-4] Re: question", "", NULL, 0, 0, 3, DEFAULT, "plan default", NULL },
    { "Question", "", NULL, 2, 0, 2, DEFAULT, "plan default", NULL },
    { NULL, NULL, NULL, 4, 0, 4, DEFAULT, "plan default", "en" },
};

static void
test_cases(void)
{
    struct severity_rules *rules[3] = { NULL, severity_rules_new(), severity_rules_new() };

    severity_rules_set_keyword_max(rules[1], 1);
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        const struct severity_rules *r = rules[cases[i].keyword_max == 1 ? 1 : 2];
        int plan_default = cases[i].plan_default != 0 ? cases[i].plan_default : 3;
        struct severity_verdict v;

        severity_judge(r, cases[i].subject, cases[i].text, cases[i].hint, plan_default, &v);
        g_test_message("%s | %s | %s -> %d (%s) %s", cases[i].subject, cases[i].text, cases[i].hint,
                       v.severity, v.reason, v.language);
        g_assert_cmpint(v.severity, ==, cases[i].severity);
        g_assert_cmpint(v.source, ==, cases[i].source);
        g_assert_cmpstr(v.reason, ==, cases[i].reason);
        g_assert_true(v.is_explicit == (cases[i].source < SEVERITY_KEYWORD));
        g_assert_true(g_strcmp0(v.language, "en") == 0 || g_strcmp0(v.language, "nl") == 0);
        if (cases[i].language != NULL)
            g_assert_cmpstr(v.language, ==, cases[i].language);
        severity_verdict_clear(&v);
        g_assert_null(v.reason);
        severity_verdict_clear(&v);
    }
    severity_rules_free(rules[1]);
    severity_rules_free(rules[2]);
}

/* Judges with R and checks the number and the reason. */
static void
check(const struct severity_rules *r, const char *subject, const char *text, int severity,
      const char *reason)
{
    struct severity_verdict v;

    severity_judge(r, subject, text, NULL, 3, &v);
    g_test_message("%s | %s -> %d (%s)", subject, text, v.severity, v.reason);
    g_assert_cmpint(v.severity, ==, severity);
    g_assert_cmpstr(v.reason, ==, reason);
    severity_verdict_clear(&v);
}

static void
test_config(void)
{
    struct severity_rules *r = severity_rules_new();
    g_autofree char *e1 = severity_rules_set_aliases(r, "blocker=1; minor=4");
    g_autofree char *e2 = severity_rules_set_keywords_nl(r, "datalek=1");
    g_autofree char *e3 = severity_rules_set_matrix(r, "1,1,1; 2,2,2; 3,3,3");
    g_autofree char *e4 = severity_rules_set_keywords(r, "store=3; data   LOSS=1; stop=2");
    g_autofree char *e5 = severity_rules_set_negations(r, "just kidding=message; ;not really");
    g_autofree char *e6 = severity_rules_set_negations_nl(r, "geen probleem=sentence");

    g_assert_null(e1);
    g_assert_null(e2);
    g_assert_null(e3);
    g_assert_null(e4);
    g_assert_null(e5);
    g_assert_null(e6);
    severity_rules_set_keyword_max(r, 1);
    check(r, "[blocker] x", "", 1, "subject tag \"[blocker]\"");
    check(r, "Mogelijk datalek", "bij de klant van ons", 1, "keyword \"datalek\" (nl)");
    check(r, "x", "Impact: I-3\nUrgency: U-2", 2, "impact I-3, urgency U-2");
    /* "store" takes stores and stored, not storing; "stop" doubles its p */
    check(r, "The store", "", 3, "keyword \"store\" (en)");
    check(r, "It stored twice", "", 3, "keyword \"store\" (en)");
    check(r, "Storing twice", "", 3, "plan default");
    check(r, "Sync stopped", "", 2, "keyword \"stop\" (en)");
    check(r, "Sync stopping", "", 2, "keyword \"stop\" (en)");
    check(r, "Data losses", "", 1, "keyword \"data loss\" (en)");
    check(r, "Data losses", "just kidding", 3,
          "plan default (keyword \"data loss\" cancelled by \"just kidding\")");
    check(r, "Data loss, not really", "", 3,
          "plan default (keyword \"data loss\" cancelled by \"not really\")");
    /* the keyword lists were replaced, not added to */
    check(r, "Production down", "", 3, "plan default");
    check(r, "De productie ligt plat", "", 3, "plan default");

    /* a wrong list is refused and leaves the rules as they were */
    static const struct {
        char *(*set)(struct severity_rules *, const char *);
        const char *spec;
        const char *why; /* a prefix */
    } bad[] = {
        { severity_rules_set_aliases, "blocker=9", "\"blocker=9\": expected NAME=N" },
        { severity_rules_set_matrix, "1,1; 2,2,2; 3,3,3", "row 1: expected three numbers" },
        { severity_rules_set_keywords, "crash", "\"crash\": expected PHRASE=N with N from 1 to 4" },
        { severity_rules_set_keywords, "crash=5", "\"crash=5\": expected PHRASE=N" },
        { severity_rules_set_keywords_nl, "storing=2; =2", "\"=2\": a phrase needs a word" },
        { severity_rules_set_keywords_nl, "... =2", "\"... =2\": a phrase needs a word" },
        { severity_rules_set_negations, "no impact=always",
          "\"no impact=always\": expected PHRASE, PHRASE=sentence or PHRASE=message" },
        { severity_rules_set_negations_nl,
          "geen impact die echt heel erg lang is en nog langer want niemand schrijft zo iets op",
          "\"geen impact die echt heel erg lang is en nog langer want niemand schrijft zo iets "
          "op\": a phrase has at most 80 bytes" },
    };
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autofree char *why = bad[i].set(r, bad[i].spec);
        g_test_message("%s: %s", bad[i].spec, why);
        g_assert_nonnull(why);
        g_assert_true(g_str_has_prefix(why, bad[i].why));
    }
    GString *many = g_string_new(NULL);
    for (int i = 0; i <= SEVERITY_PHRASES_MAX; i++)
        g_string_append_printf(many, "word%d=2;", i);
    g_autofree char *too_many = severity_rules_set_keywords(r, many->str);
    g_string_free(many, TRUE);
    g_assert_cmpstr(too_many, ==, "more than 100 phrases");
    check(r, "[blocker] x", "", 1, "subject tag \"[blocker]\"");
    check(r, "It stored twice", "", 3, "keyword \"store\" (en)");
    check(r, "Data loss", "just kidding", 3,
          "plan default (keyword \"data loss\" cancelled by \"just kidding\")");
    severity_rules_free(r);
}

/* Repeats UNIT until LEN bytes. */
static char *
repeat(const char *unit, gsize len)
{
    GString *s = g_string_sized_new(len + strlen(unit));

    while (s->len < len)
        g_string_append(s, unit);
    return g_string_free(s, FALSE);
}

/* Hostile text: a megabyte of it is read only up to the bounds, in little
 * time, and what lies beyond does not count. */
static void
test_bounded(void)
{
    struct severity_rules *r = severity_rules_new();
    const gsize mb = 1024 * 1024;
    g_autofree char *crashes = repeat("crash ", mb);
    g_autofree char *sentences = repeat("a crash. never. ", mb);
    g_autofree char *blanks = repeat("\n \t \r", mb);
    g_autofree char *accents = repeat("\xc3\xa9", mb); /* é: a cut may fall inside one */
    g_autofree char *words = repeat("de het een the and of ", mb);
    g_autofree char *filler = repeat("all is well here ", mb);
    g_autofree char *late_field = g_strconcat(filler, "\nSeverity: 1\nproduction down\n", NULL);
    g_autofree char *long_subject = repeat("[x] ", mb);
    const struct {
        const char *subject, *text;
        int severity;
        const char *reason;
    } hostile[] = {
        { "x", crashes, 2, "keyword \"crash\" (en)" },
        { "no impact", crashes, 3, "plan default (keyword \"crash\" cancelled by \"no impact\")" },
        { "x", sentences, 2, "keyword \"crash\" (en)" },
        { "x", blanks, 3, "plan default" },
        { "x", accents, 3, "plan default" },
        { "x", words, 3, "plan default" },
        { "x", late_field, 3, "plan default" },
        { long_subject, "Severity: 2", 2, "body field \"Severity: 2\"" },
    };

    for (guint i = 0; i < G_N_ELEMENTS(hostile); i++) {
        struct severity_verdict v;
        gint64 t0 = g_get_monotonic_time();

        severity_judge(r, hostile[i].subject, hostile[i].text, NULL, 3, &v);
        gint64 us = g_get_monotonic_time() - t0;
        g_test_message("hostile %u: %d (%s) in %" G_GINT64_FORMAT " us", i, v.severity, v.reason,
                       us);
        g_assert_cmpint(v.severity, ==, hostile[i].severity);
        g_assert_cmpstr(v.reason, ==, hostile[i].reason);
        /* Generous for sanitizer builds on a busy machine; a plain build
         * takes a few milliseconds. */
        g_assert_cmpint(us, <, 2 * G_USEC_PER_SEC);
        severity_verdict_clear(&v);
    }
    severity_rules_free(r);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/severity/cases", test_cases);
    g_test_add_func("/severity/config", test_config);
    g_test_add_func("/severity/bounded", test_bounded);
    return g_test_run();
}
