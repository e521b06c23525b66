/*
 * test-severity - the severity a message asks for, in English and Dutch,
 * and the rule that decided it.
 */
#include <string.h>

#include <glib.h>

#include "router/severity.h"

static const struct {
    const char *subject;
    const char *text;
    int severity;
    const char *rule; /* a prefix of the rule text */
} cases[] = {
    /* subject tags */
    { "[Sev1] checkout down", "", 1, "subject tag" },
    { "[SEV 2] slow reports", "", 2, "subject tag" },
    { "[S1] everything broken", "", 1, "subject tag" },
    { "[P3] question", "", 3, "subject tag" },
    { "[p1] site down", "", 1, "subject tag" },
    { "Sev 2: login slow", "", 2, "subject tag" },
    { "Severity: 1 - payments failing", "", 1, "subject tag" },
    { "Severity 4 documentation typo", "", 4, "subject tag" },
    { "Priority 2: export broken", "", 2, "subject tag" },
    { "Prio 1 alles ligt eruit", "", 1, "subject tag" },
    { "P2 export broken", "", 2, "subject tag" },
    { "Prioriteit: 3 vraag over factuur", "", 3, "subject tag" },
    { "[critical] database unreachable", "", 1, "subject tag" },
    { "[High] sync delayed", "", 2, "subject tag" },
    { "[normal] how do I export?", "", 3, "subject tag" },
    { "[low] feature idea", "", 4, "subject tag" },
    { "Priority: high - invoices", "", 2, "subject tag" },
    { "[hoog] koppeling werkt niet", "", 1, "subject tag" },
    { "[Normaal] vraag", "", 2, "subject tag" },
    { "Prioriteit: laag - wens", "", 3, "subject tag" },
    { "[Sev1] but body says", "Severity: 4\n", 1, "subject tag" },
    /* body fields */
    { "Login problem", "Hello,\n\nSeverity: 2\n\nUsers cannot log in.", 2, "body field" },
    { "Question", "Priority: 4\n", 4, "body field" },
    { "Vraag", "Prioriteit: hoog\nDe koppeling hapert.", 1, "body field" },
    { "Report", "  severity = 3\n", 3, "body field" },
    { "Quoted", "> Severity: 1\nthanks", 1, "body field" },
    /* impact x urgency */
    { "Impact question", "Impact: I-1\nUrgency: U-2\n", 1, "impact I-1 and urgency U-2" },
    { "Impact question", "Impact: I-3\nUrgency: U-3\n", 3, "impact I-3 and urgency U-3" },
    { "Impact question", "Urgency: U-1\nImpact: I-3\n", 2, "impact I-3 and urgency U-1" },
    { "Impact question", "Impact: I-2\nUrgency: U-2\n", 2, "impact I-2 and urgency U-2" },
    { "Melding", "Impact: hoog\nUrgentie: laag\n", 2, "impact I-1 and urgency U-3" },
    { "Report", "Impact: medium\nUrgency: high\n", 1, "impact I-2 and urgency U-1" },
    { "Only impact", "Impact: I-1\n", 3, "plan default" },
    /* keywords */
    { "Production down!", "", 1, "keyword \"production down\"" },
    { "Help", "We have a complete outage since 9:00", 1, "keyword \"complete outage\"" },
    { "App crash on start", "", 1, "keyword \"crash\"" },
    { "Productie ligt plat", "", 1, "keyword \"productie ligt plat\"" },
    { "Storing in de koppeling", "", 2, "keyword \"storing\"" },
    /* the default, and things that must not count */
    { "How do I export to CSV?", "Thanks!", 3, "plan default" },
    { "High CPU usage question", "", 3, "plan default" },
    { "Order P12345 missing", "", 3, "plan default" },
    { "Version 1.2 severity", "", 3, "plan default" },
    { "[TKT-4] Re: question", "", 3, "plan default" },
};

static void
test_cases(void)
{
    struct severity_rules *r = severity_rules_new();

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *rule = NULL;
        int s = severity_of(r, cases[i].subject, cases[i].text, 3, &rule);
        g_test_message("%s | %s -> %d (%s)", cases[i].subject, cases[i].text, s, rule);
        g_assert_cmpint(s, ==, cases[i].severity);
        g_assert_true(g_str_has_prefix(rule, cases[i].rule));
    }
    severity_rules_free(r);
}

static void
test_config(void)
{
    struct severity_rules *r = severity_rules_new();
    g_autofree char *rule = NULL;
    g_autofree char *e1 = severity_rules_set_aliases(r, "blocker=1; minor=4");
    g_autofree char *e2 = severity_rules_set_keywords(r, "datalek=1");
    g_autofree char *e3 = severity_rules_set_matrix(r, "1,1,1; 2,2,2; 3,3,3");
    g_autofree char *bad1 = severity_rules_set_aliases(r, "blocker=9");
    g_autofree char *bad2 = severity_rules_set_matrix(r, "1,1; 2,2,2; 3,3,3");
    g_autofree char *r1 = NULL, *r2 = NULL;

    g_assert_null(e1);
    g_assert_null(e2);
    g_assert_null(e3);
    g_assert_nonnull(bad1);
    g_assert_nonnull(bad2);
    g_assert_cmpint(severity_of(r, "[blocker] x", "", 3, &rule), ==, 1);
    g_assert_cmpint(severity_of(r, "Mogelijk datalek", "", 3, &r1), ==, 1);
    g_assert_cmpint(severity_of(r, "x", "Impact: I-3\nUrgency: U-2", 4, &r2), ==, 2);
    severity_rules_free(r);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/severity/cases", test_cases);
    g_test_add_func("/severity/config", test_config);
    return g_test_run();
}
