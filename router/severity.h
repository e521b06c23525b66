/*
 * severity - which severity (1-4) a new message asks for, why, and how
 * sure we are of it.
 *
 * The first rule that holds decides:
 *   1. a tag in the subject: [Sev1], [S1], [P1], Sev 1, Severity: 1,
 *      Priority 1, P1, or a priority word: [critical], Priority high,
 *      Prioriteit: hoog;
 *   2. a field line in the body: Severity: 2, Prioriteit: hoog;
 *   3. an impact and an urgency line (Impact: I-1, Urgentie: U-2, or the
 *      words high/hoog, medium/middel, low/laag) through the matrix; one of
 *      the two alone counts too, the other axis taken from the plan default;
 *   4. a keyword of the text's language, as whole words, that no negation
 *      cancels; a keyword is held to keyword_max at most;
 *   5. the plan's default severity.
 * Rules 1-3 are the sender's own words (is_explicit); 4 and 5 are guesses.
 *
 * Priority words name one tier in both languages, the tiers of the Dutch
 * policy (Hoog, Normaal, Laag are severities 1, 2, 3 of the plans default
 * and extended): critical, urgent, kritiek, spoed, dringend, high, hoog 1;
 * normal, medium, normaal, middel 2; low, laag 3.
 *
 * Pure and bounded: the subject is read up to SEVERITY_SUBJECT_MAX bytes,
 * the text up to SEVERITY_TEXT_MAX bytes (the language guess only its first
 * SEVERITY_GUESS_MAX). The rules are built from the config once and are
 * then read-only: one struct severity_rules serves every thread.
 */
#ifndef TM_ROUTER_SEVERITY_H
#define TM_ROUTER_SEVERITY_H

#include <stdbool.h>

#include <glib.h>

#define SEVERITY_SUBJECT_MAX 2048
#define SEVERITY_TEXT_MAX 65536
#define SEVERITY_GUESS_MAX 4096
/* Per keyword or negation list, and per phrase, so that the config bounds
 * the work done for every message. */
#define SEVERITY_PHRASES_MAX 100
#define SEVERITY_PHRASE_MAX 80

struct severity_rules;

enum severity_source {
    SEVERITY_SUBJECT, /* a tag in the subject */
    SEVERITY_FIELD,   /* a Severity: or Priority: line in the body */
    SEVERITY_MATRIX,  /* impact and/or urgency lines */
    SEVERITY_KEYWORD, /* a keyword of the text's language */
    SEVERITY_DEFAULT, /* the plan's default */
};

struct severity_verdict {
    int severity; /* 1..4 */
    enum severity_source source;
    bool is_explicit;     /* subject tag, body field, impact/urgency: the sender said so */
    char *reason;         /* owned: the words that decided, e.g. keyword "crash" (en) */
    const char *language; /* static "en" or "nl": the language the text was read as,
                                  * whose keywords and negations count */
};

/* The default rules: the priority words above, the matrix of the Dutch
 * policy 1,1,2; 1,2,3; 2,3,3, keyword_max 2, and the keyword and negation
 * lists shown in ticket-milter.conf(5). Never NULL. */
struct severity_rules *severity_rules_new(void);
/* Returns NULL. */
struct severity_rules *severity_rules_free(struct severity_rules *r);

/* Each setter replaces one list and returns NULL, or leaves the rules as
 * they were and returns a sentence about the part that is wrong (caller
 * frees). */

/* "name=N; name=N": priority words, N from 1 to 4. */
char *severity_rules_set_aliases(struct severity_rules *r, const char *spec);
/* "phrase=N; phrase=N": English keywords; each word of four letters or
 * more also matches its plain inflections (crash: crashes, crashed,
 * crashing; store: stores, stored, but not storing). */
char *severity_rules_set_keywords(struct severity_rules *r, const char *spec);
/* "phrase=N; ...": Dutch keywords, matched as written. */
char *severity_rules_set_keywords_nl(struct severity_rules *r, const char *spec);
/* "phrase; phrase=message; ...": English negations. A negation cancels a
 * keyword in its own sentence; one marked =message cancels every keyword
 * of the message. Inflected as the English keywords are. */
char *severity_rules_set_negations(struct severity_rules *r, const char *spec);
/* The same for Dutch, matched as written. */
char *severity_rules_set_negations_nl(struct severity_rules *r, const char *spec);
/* "1,1,2; 1,2,3; 2,3,3": rows urgency U-1..U-3, columns impact I-1..I-3. */
char *severity_rules_set_matrix(struct severity_rules *r, const char *spec);
/* The most severe a keyword alone may make a message. MAX is 1..4
 * (the config checks it). */
void severity_rules_set_keyword_max(struct severity_rules *r, int max);

/* Judges one message. SUBJECT and TEXT are UTF-8 (NULL counts as empty);
 * LANGUAGE_HINT is the customer's configured language ("en", "nl") or
 * NULL, used when the text does not clearly show its own; PLAN_DEFAULT is
 * 1..4. Fills every field of OUT; release it with severity_verdict_clear(). */
void severity_judge(const struct severity_rules *r, const char *subject, const char *text,
                    const char *language_hint, int plan_default, struct severity_verdict *out);
/* Frees what OUT owns and zeroes it; safe to call twice. */
void severity_verdict_clear(struct severity_verdict *v);

#endif
