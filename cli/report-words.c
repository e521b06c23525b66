/*
 * report-words - the words of the service report in English and Dutch,
 * and the formats of its times, durations and percentages.
 *
 * One row per word: adding a language is adding a column.  A key without
 * a row is a mistake of ours, shown as the key itself rather than as
 * nothing, so that a test or a reader sees it.
 */
#include <string.h>

#include "cli/report.h"

static const struct {
    const char *key, *en, *nl;
} words[] = {
    { "title", "Service report", "Servicerapportage" },
    { "period", "Period", "Periode" },
    { "zone", "days in", "dagen in" },
    { "made", "Made", "Gemaakt" },
    { "facts", "facts up to", "feiten tot" },
    { "customer", "Customer", "Klant" },
    { "plan", "Plan", "Plan" },
    { "all", "all", "alle" },
    { "tickets", "Tickets", "Tickets" },
    { "opened", "Opened", "Geopend" },
    { "resolved", "Resolved", "Opgelost" },
    { "open_at_start", "Open at the start", "Open aan het begin" },
    { "open_at_end", "Open at the end", "Open aan het eind" },
    { "goals", "Goals", "Doelen" },
    { "goal", "Goal", "Doel" },
    { "response", "Response", "Reactie" },
    { "update", "Update", "Update" },
    { "resolution", "Resolution", "Oplossing" },
    { "met", "met", "gehaald" },
    { "missed", "missed", "gemist" },
    { "running", "running", "lopend" },
    { "share_met", "met %", "gehaald %" },
    { "severity", "Severity", "Ernst" },
    { "sev", "Sev", "Ernst" },
    { "total", "Total", "Totaal" },
    { "response_time", "Time to first response", "Tijd tot eerste reactie" },
    { "resolution_time", "Time to resolution", "Tijd tot oplossing" },
    { "business", "business time", "werktijd" },
    { "real", "real time", "kalendertijd" },
    { "count", "tickets", "tickets" },
    { "median", "median", "mediaan" },
    { "p90", "p90", "p90" },
    { "max", "max", "max" },
    { "within", "Resolved within", "Opgelost binnen" },
    { "within_1", "the next business day", "de volgende werkdag" },
    { "within_2", "2 business days", "2 werkdagen" },
    { "within_5", "5 business days", "5 werkdagen" },
    { "decided", "decided", "beslist" },
    { "escalations", "Escalations", "Escalaties" },
    { "stage", "Stage", "Fase" },
    { "automatic", "automatic", "automatisch" },
    { "missed-goal", "missed goal", "doel gemist" },
    { "ladder", "not resolved in time", "niet op tijd opgelost" },
    { "by_customer", "customer", "klant" },
    { "staff", "staff", "medewerker" },
    { "breaches", "Breaches", "Overschrijdingen" },
    { "no_breaches", "No goal was breached.", "Geen doel is overschreden." },
    { "ticket", "Ticket", "Ticket" },
    { "subject", "Subject", "Onderwerp" },
    { "due", "Due", "Deadline" },
    { "recorded", "Recorded", "Vastgelegd" },
    { "per_severity", "Per severity", "Per ernst" },
    { "per_plan", "Per plan", "Per plan" },
    { "per_customer", "Per customer", "Per klant" },
    { "unknown", "(unknown sender)", "(onbekende afzender)" },
    { "backlog", "Open tickets at the end of each day", "Open tickets aan het eind van elke dag" },
    { "attainment", "Goals met per severity", "Doelen gehaald per ernst" },
    { "distribution", "Time to first response, business time",
      "Tijd tot eerste reactie, werktijd" },
    { "no_response", "no response yet", "nog geen reactie" },
    { "none", "none", "geen" },
    { "definitions", "How the figures are counted", "Hoe de cijfers geteld worden" },
    { "def_period",
      "Goals and times are those of the tickets opened in the period, judged on the facts up to "
      "its end: a report of a past period does not change.",
      "Doelen en tijden zijn die van de tickets die in de periode geopend zijn, beoordeeld op de "
      "feiten tot het eind ervan: een rapportage over een voorbije periode verandert niet." },
    { "def_met",
      "A goal is met when its fact came by the deadline, missed when it came later or the "
      "deadline passed without it, and running otherwise; the share is met of met and missed.",
      "Een doel is gehaald als het feit op tijd kwam, gemist als het later kwam of de deadline "
      "zonder verstreek, en anders lopend; het percentage is gehaald van gehaald en gemist." },
    { "def_time",
      "Business time counts the plan's working hours in the customer's zone while the ticket is "
      "open; time waiting for the customer does not count. Real time is the clock from the first "
      "contact.",
      "Werktijd telt de werkuren van het plan in de tijdzone van de klant zolang het ticket open "
      "is; wachten op de klant telt niet. Kalendertijd is de klok vanaf het eerste contact." },
    { "def_rank",
      "Median and p90 are nearest-rank: the smallest value with at least half (nine tenths) of "
      "the values at or below it.",
      "Mediaan en p90 zijn volgens de rangorde: de kleinste waarde met minstens de helft "
      "(negen tiende) van de waarden erop of eronder." },
    { "day", "Day", "Dag" },
    { "open", "open", "open" },
};

bool
report_language_known(const char *language)
{
    return language != NULL && (strcmp(language, "en") == 0 || strcmp(language, "nl") == 0);
}

const char *
report_word(const struct report_view *v, const char *key)
{
    bool is_dutch = v->language != NULL && strcmp(v->language, "nl") == 0;

    for (guint i = 0; i < G_N_ELEMENTS(words); i++)
        if (strcmp(words[i].key, key) == 0)
            return is_dutch ? words[i].nl : words[i].en;
    return key;
}

void
report_group_headings(const struct report_view *v, const char *first,
                      const char *headings[REPORT_GROUP_COLUMNS])
{
    static const char *const keys[REPORT_GROUP_COLUMNS - 1] = {
        "opened", "resolved",   "open_at_end", "response",
        "update", "resolution", "breaches",    "escalations",
    };

    headings[0] = first;
    for (guint i = 0; i < G_N_ELEMENTS(keys); i++)
        headings[i + 1] = report_word(v, keys[i]);
}

static GDateTime *
in_zone(gint64 t, const char *zone)
{
    g_autoptr(GTimeZone) tz = g_time_zone_new_identifier(zone);
    g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc(t);

    if (tz == NULL)
        tz = g_time_zone_new_utc();
    return g_date_time_to_timezone(utc, tz);
}

char *
report_local_time(gint64 t, const char *zone)
{
    g_autoptr(GDateTime) local = in_zone(t, zone);

    return g_date_time_format(local, "%Y-%m-%d %H:%M");
}

char *
report_first_day(const struct report *r)
{
    g_autoptr(GDateTime) local = in_zone(r->from, r->zone);

    return g_date_time_format(local, "%Y-%m-%d");
}

char *
report_last_day(const struct report *r)
{
    /* The period ends before TO: its last day is that of the second before. */
    g_autoptr(GDateTime) local = in_zone(r->to - 1, r->zone);

    return g_date_time_format(local, "%Y-%m-%d");
}

char *
report_duration(gint64 s)
{
    if (s < 0)
        return g_strdup("-");
    if (s < 3600)
        return g_strdup_printf("%" G_GINT64_FORMAT "m", s / 60);
    return g_strdup_printf("%" G_GINT64_FORMAT "h%02" G_GINT64_FORMAT "m", s / 3600, s / 60 % 60);
}

char *
report_percent_text(const struct report_view *v, double percent)
{
    char *text, *dot;

    if (percent < 0)
        return g_strdup("-");
    text = g_strdup_printf("%.1f%%", percent);
    /* Dutch writes a decimal comma. */
    if (v->language != NULL && strcmp(v->language, "nl") == 0 && (dot = strchr(text, '.')) != NULL)
        *dot = ',';
    return text;
}
