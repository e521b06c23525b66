/*
 * notice - turns ticket facts into template variables.
 *
 * Times are stored in UTC; a reader sees them in their own zone, in their
 * language, and also as "how long from now", which is what a customer
 * actually wants to know about a response goal.
 *
 * A message's text is shown in a notice up to NOTICE_TEXT_MAX bytes: a
 * notice is a copy for each recipient in the outbox, and a 20 MB mail
 * quoted whole to five staff addresses would be 100 MB of rows and mail.
 * The cut falls between two characters (the text is UTF-8) and a line in
 * the reader's language says that, and how much, was left out; the whole
 * message is on the ticket.
 */
#include <string.h>

#include "templates/notice.h"
#include "util/lines.h"

static bool
is_dutch(const char *language)
{
    return language != NULL && g_ascii_strcasecmp(language, "nl") == 0;
}

const char *
notice_severity_name(int severity, const char *language)
{
    static const char *const en[] = { "", "critical", "high", "normal", "low" };
    static const char *const nl[] = { "", "kritiek", "hoog", "normaal", "laag" };

    if (severity < 1 || severity > 4)
        return "";
    return is_dutch(language) ? nl[severity] : en[severity];
}

const char *
notice_stage_role(int stage, const char *language)
{
    static const char *const en[] = { "", "support lead", "account manager and operations manager",
                                      "director of support" };
    static const char *const nl[] = { "", "teamleider support",
                                      "accountmanager en operationeel manager",
                                      "directeur support" };

    if (stage < 1 || stage > 3)
        return "";
    return is_dutch(language) ? nl[stage] : en[stage];
}

char *
notice_format_time(const char *iso, const char *zone, const char *language)
{
    static const char *const nl_days[] = { "", "ma", "di", "wo", "do", "vr", "za", "zo" };
    static const char *const nl_months[] = { "",    "jan", "feb", "mrt", "apr", "mei", "jun",
                                             "jul", "aug", "sep", "okt", "nov", "dec" };
    g_autoptr(GTimeZone) utc = g_time_zone_new_utc();
    g_autoptr(GTimeZone) tz = NULL;
    g_autoptr(GDateTime) t = NULL;
    g_autoptr(GDateTime) local = NULL;

    if (iso == NULL)
        return NULL;
    t = g_date_time_new_from_iso8601(iso, utc);
    if (t == NULL)
        return g_strdup(iso);
    tz = g_time_zone_new_identifier(zone != NULL ? zone : "UTC");
    local = g_date_time_to_timezone(t, tz != NULL ? tz : utc);
    if (is_dutch(language)) {
        g_autofree char *clock = g_date_time_format(local, "%H:%M %Z");
        return g_strdup_printf("%s %d %s %d %s", nl_days[g_date_time_get_day_of_week(local)],
                               g_date_time_get_day_of_month(local),
                               nl_months[g_date_time_get_month(local)], g_date_time_get_year(local),
                               clock);
    }
    /* Not %a/%b: those follow the process locale, the customer's language
     * is what counts. */
    static const char *const en_days[] = { "", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
    static const char *const en_months[] = { "",    "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                             "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
    g_autofree char *clock = g_date_time_format(local, "%H:%M %Z");
    return g_strdup_printf("%s %d %s %d %s", en_days[g_date_time_get_day_of_week(local)],
                           g_date_time_get_day_of_month(local),
                           en_months[g_date_time_get_month(local)], g_date_time_get_year(local),
                           clock);
}

char *
notice_format_duration(GTimeSpan span, const char *language)
{
    bool nl = is_dutch(language);
    bool late = span < 0;
    gint64 minutes = (late ? -span : span) / G_TIME_SPAN_MINUTE;
    gint64 days = minutes / (24 * 60), hours = minutes / 60 % 24, mins = minutes % 60;
    GString *s = g_string_new(NULL);

    if (late)
        g_string_append(s, nl ? "te laat met " : "overdue by ");
    if (days > 0)
        g_string_append_printf(s, "%" G_GINT64_FORMAT " %s ", days,
                               nl ? (days == 1 ? "dag" : "dagen") : (days == 1 ? "day" : "days"));
    if (hours > 0)
        g_string_append_printf(s, "%" G_GINT64_FORMAT " %s ", hours, nl ? "uur" : "h");
    if (mins > 0 || (days == 0 && hours == 0))
        g_string_append_printf(s, "%" G_GINT64_FORMAT " min ", mins);
    g_strchomp(s->str);
    return g_string_free(s, FALSE);
}

/* Sets NAME to the local time of ISO and NAME_in to the time left. */
static void
set_deadline(struct template_vars *v, const char *name, const char *iso,
             const struct notice_facts *f)
{
    g_autoptr(GTimeZone) utc = g_time_zone_new_utc();
    g_autoptr(GDateTime) t = iso != NULL ? g_date_time_new_from_iso8601(iso, utc) : NULL;
    g_autofree char *local = NULL;
    g_autofree char *left = NULL;
    g_autofree char *name_in = g_strconcat(name, "_in", NULL);

    if (t == NULL)
        return;
    local = notice_format_time(iso, f->timezone, f->language);
    left = notice_format_duration(g_date_time_difference(t, f->now), f->language);
    template_vars_set(v, name, local);
    template_vars_set(v, name_in, left);
}

char *
notice_cut_text(const char *text, gsize max, const char *language)
{
    gsize len = strlen(text);
    gsize n = max;

    if (len <= max)
        return g_strdup(text);
    /* Back to the first byte of a character: a continuation byte is
     * 10xxxxxx, and no character is longer than four bytes. */
    while (n > 0 && ((guchar)text[n] & 0xc0) == 0x80)
        n--;
    g_autofree char *left = g_format_size_full(len - n, G_FORMAT_SIZE_IEC_UNITS);
    return g_strdup_printf(is_dutch(language)
                               ? "%.*s\n[... ingekort: de rest van het bericht (%s) staat hier"
                                 " niet; het hele bericht staat bij het ticket]"
                               : "%.*s\n[... cut: the rest of the message (%s) is not shown"
                                 " here; the whole message is on the ticket]",
                           (int)n, text, left);
}

struct template_vars *
notice_vars(const struct notice_facts *f)
{
    struct template_vars *v = template_vars_new();
    g_autofree char *severity = g_strdup_printf("%d", f->severity);
    g_autofree char *stage = g_strdup_printf("%d", f->stage);
    g_autofree char *created = notice_format_time(f->created_at, f->timezone, f->language);

    template_vars_set(v, "ticket.id", f->tag);
    template_vars_set(v, "ticket.subject", f->subject);
    template_vars_set(v, "ticket.severity", severity);
    template_vars_set(v, "ticket.severity_name", notice_severity_name(f->severity, f->language));
    template_vars_set(v, "ticket.stage", stage);
    template_vars_set(v, "ticket.stage_role", notice_stage_role(f->stage, f->language));
    template_vars_set(v, "ticket.status", f->status);
    template_vars_set(v, "ticket.created", created);
    template_vars_set(v, "ticket.assignee", f->assignee);
    set_deadline(v, "ticket.first_response_due", f->first_response_due, f);
    set_deadline(v, "ticket.next_update_due", f->next_update_due, f);
    set_deadline(v, "ticket.resolution_due", f->resolution_due, f);
    template_vars_set(v, "customer.name", f->customer);
    template_vars_set(v, "customer.timezone", f->timezone);
    template_vars_set(v, "requester.address", f->requester);
    template_vars_set(v, "requester.name", f->requester_name);
    template_vars_set(v, "message.from", f->message_from);
    template_vars_set(v, "message.subject", f->message_subject);
    if (f->message_text != NULL) {
        g_autofree char *text = notice_cut_text(f->message_text, NOTICE_TEXT_MAX, f->language);
        g_auto(GStrv) lines = util_split_lines(text);
        g_autofree char *joined = g_strjoinv("\n> ", lines);
        g_autofree char *quoted = g_strconcat("> ", joined, NULL);
        template_vars_set(v, "message.text", text);
        template_vars_set(v, "message.quoted", quoted);
    }
    if (f->support_addresses != NULL) {
        template_vars_set(v, "support.address", f->support_addresses[0]);
        template_vars_set_list(v, "support.addresses", f->support_addresses);
    }
    return v;
}
