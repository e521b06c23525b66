/*
 * severity - which severity (1-4) a message asks for, and by which rule.
 *
 * First match wins: a tag in the subject ([Sev1], [S1], [P1], Sev 1,
 * Severity: 1, Priority 1, or a name such as critical or hoog), a field
 * line in the body (Severity: 2), an impact and urgency pair through the
 * matrix of the support policy, keyword rules, and else the plan's default.
 * Pure: the rules are built from the config once.
 */
#ifndef TM_ROUTER_SEVERITY_H
#define TM_ROUTER_SEVERITY_H

#include <stdbool.h>

#include <glib.h>

struct severity_rules;

/* The default rules: names critical/urgent 1, high 2, normal/medium 3,
 * low 4, Dutch kritiek/hoog 1, normaal 2, laag 3 (the three levels of the
 * Dutch policy); the impact x urgency matrix 1 1 2 / 1 2 3 / 2 3 3; the
 * keywords "production down", "complete outage", "crash", "productie ligt plat",
 * "volledige storing" 1 and "storing" 2. */
struct severity_rules *severity_rules_new(void);
struct severity_rules *severity_rules_free(struct severity_rules *r);

/* "name=N; name=N" replaces the names. NULL error text on success, else a
 * sentence about the part that is wrong (caller frees). */
char *severity_rules_set_aliases(struct severity_rules *r, const char *spec);
/* "phrase=N; phrase=N" replaces the keyword rules. */
char *severity_rules_set_keywords(struct severity_rules *r, const char *spec);
/* "1,1,2; 1,2,3; 2,3,3": rows urgency U-1..U-3, columns impact I-1..I-3. */
char *severity_rules_set_matrix(struct severity_rules *r, const char *spec);

enum severity_source {
    SEVERITY_SUBJECT,
    SEVERITY_FIELD,
    SEVERITY_MATRIX,
    SEVERITY_KEYWORD,
    SEVERITY_DEFAULT,
};

struct severity_verdict {
    int severity;               /* 1..4 */
    enum severity_source source;
    bool is_explicit;           /* the sender said so: subject tag, body field, impact/urgency */
    char *reason;               /* names the words that decided */
    const char *language;       /* "en" or "nl": whose keywords were used */
};

/* The severity a message asks for. LANGUAGE_HINT is the customer's
 * language (NULL when none). */
void severity_judge(const struct severity_rules *r, const char *subject, const char *text,
                    const char *language_hint, int plan_default, struct severity_verdict *out);
void severity_verdict_clear(struct severity_verdict *v);

/* The severity for a message, and RULE (caller frees): which rule decided. */
int severity_of(const struct severity_rules *r, const char *subject, const char *text,
                int plan_default, char **rule);

#endif
