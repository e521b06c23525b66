/*
 * report - what the files of ticketctl report share: the report with the
 * facts of its making, the words in each language, and the renderers.
 *
 * cli/report.c reads and computes (router/report.c) and writes text and
 * JSON, cli/report-html.c the HTML page, cli/report-words.c the words.
 * Every number a renderer prints comes from the same struct report, so
 * the text, the JSON and the page cannot disagree.
 */
#ifndef TM_CLI_REPORT_H
#define TM_CLI_REPORT_H

#include <glib.h>
#include <json-glib/json-glib.h>

#include "router/report.h"

struct report_view {
    const struct report *r;
    const char *language; /* "en" or "nl" */
    const char *customer; /* the --customer filter, or NULL */
    const char *plan;     /* the --plan filter, or NULL */
};

/* The word or phrase KEY in V's language (English when it has none). */
const char *report_word(const struct report_view *v, const char *key);

/* The columns of a table of groups (by customer, by severity): FIRST,
 * then the counts and goals, in V's language, into HEADINGS. */
#define REPORT_GROUP_COLUMNS 9
void report_group_headings(const struct report_view *v, const char *first,
                           const char *headings[REPORT_GROUP_COLUMNS]);
/* Whether LANGUAGE is one the report speaks. */
bool report_language_known(const char *language);

/* The whole report as JSON: the object ticketctl report --json prints. */
JsonNode *report_json(const struct report_view *v);
/* The text ticketctl report prints. */
char *report_text(const struct report_view *v);
/* The self-contained HTML page of --html. */
char *report_html(const struct report_view *v);

/* T (Unix seconds) in ZONE as "YYYY-MM-DD HH:MM". */
char *report_local_time(gint64 t, const char *zone);
/* The period's first and last day in ZONE, "YYYY-MM-DD". */
char *report_first_day(const struct report *r);
char *report_last_day(const struct report *r);
/* A duration for people: "45m", "3h05m"; "-" when negative. */
char *report_duration(gint64 seconds);
/* A percentage in V's language ("87.5%", "87,5%"); "-" when negative. */
char *report_percent_text(const struct report_view *v, double percent);

#endif
