/*
 * notice - the facts of a ticket as template variables, in the reader's
 * language and time zone.
 */
#ifndef TM_TEMPLATES_NOTICE_H
#define TM_TEMPLATES_NOTICE_H

#include <glib.h>

#include "templates/template.h"

struct notice_facts {
    const char *tag;
    const char *subject;
    int severity;
    int stage;
    const char *status;
    const char *created_at;         /* ISO 8601 UTC */
    const char *first_response_due; /* ISO 8601 UTC or NULL */
    const char *next_update_due;
    const char *resolution_due;
    const char *assignee;
    const char *customer; /* NULL for an unknown sender */
    const char *timezone; /* the reader's zone; NULL is UTC */
    const char *language; /* "en" or "nl"; NULL is "en" */
    const char *requester;
    const char *requester_name;
    const char *message_from;
    const char *message_subject;
    const char *message_text;
    char **support_addresses;
    GDateTime *now;
};

/* The most bytes of a message's text a notice shows (message.text and
 * message.quoted): 64 KiB. */
#define NOTICE_TEXT_MAX 65536

struct template_vars *notice_vars(const struct notice_facts *f);
/* TEXT (UTF-8) as a notice shows it: whole when it has at most MAX bytes,
 * else its first MAX bytes or fewer, cut between two characters, then a
 * line in LANGUAGE ("en", "nl"; NULL: "en") that says it was cut and how
 * much was left out.  Newly allocated. */
char *notice_cut_text(const char *text, gsize max, const char *language);

/* "Tue 24 Nov 2026 11:02 CET" (en) or "di 24 nov 2026 11:02 CET" (nl). */
char *notice_format_time(const char *iso, const char *zone, const char *language);
/* "1 h 30 min", "2 days 3 h", "45 min"; "overdue by ..." when negative. */
char *notice_format_duration(GTimeSpan span, const char *language);
const char *notice_severity_name(int severity, const char *language);
const char *notice_stage_role(int stage, const char *language);

#endif
