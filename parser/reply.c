/*
 * reply - cut what a reply repeats from what it says.
 *
 * A follow-up is stored whole (mail->text); the ticket view and the
 * command reader want only what the customer or agent wrote this time.
 * Clients mark the old text in three ways:
 *   - quoting: every old line starts with '>' (Gmail, Apple Mail,
 *     Thunderbird), usually under an attribution line naming the author;
 *     inline answers between quotes are kept;
 *   - Outlook: no quote marks, but a "-----Original Message-----" line or
 *     a "From: ... / Sent: ..." header block (often under a line of
 *     underscores), in the user's language; all below it is old;
 *   - a signature after "-- " (RFC 3676 4.3), cut with all below it.
 * The attribution is recognised by its shape in English, Dutch and German
 * (the languages of our customers), and only when a quote follows it, so a
 * sentence that happens to end in "wrote:" stays.  A long attribution is
 * wrapped by some clients; two lines are joined before the test.
 * Line-based and linear; never looks more than a few lines ahead.
 */
#include <stdbool.h>
#include <string.h>

#include <glib.h>

#include "parser/reply.h"
#include "util/lines.h"

/* How far below a "From:" line Outlook's "Sent:" line may be. */
#define OUTLOOK_HEADER_LINES 4

static const char *const original_markers[] = {
    "original message",        "oorspronkelijk bericht",  "oorspronkelijk e-mailbericht",
    "ursprüngliche nachricht", "ursprungliche nachricht", "message d'origine",
};
static const char *const from_labels[] = { "from:", "van:", "von:", "de:" };
static const char *const sent_labels[] = { "sent:",  "verzonden:", "gesendet:", "date:",
                                           "datum:", "envoyé :",   "envoyé:" };

static bool
is_blank(const char *line)
{
    for (; *line != '\0'; line++)
        if (!g_ascii_isspace(*line))
            return false;
    return true;
}

static bool
is_quoted(const char *line)
{
    while (*line == ' ')
        line++;
    return *line == '>';
}

static bool
starts_with_any(const char *lower, const char *const *words, gsize n)
{
    for (gsize i = 0; i < n; i++)
        if (g_str_has_prefix(lower, words[i]))
            return true;
    return false;
}

/* "-----Original Message-----", "----- Oorspronkelijk bericht -----". */
static bool
is_original_marker(const char *lower)
{
    const char *p = lower;
    gsize dashes = strspn(p, "-");
    gsize len = strlen(lower);

    if (dashes < 3 || len < 2 * dashes)
        return false;
    p += dashes;
    while (*p == ' ')
        p++;
    for (guint i = 0; i < G_N_ELEMENTS(original_markers); i++)
        if (g_str_has_prefix(p, original_markers[i])) {
            const char *rest = p + strlen(original_markers[i]);
            while (*rest == ' ')
                rest++;
            return strspn(rest, "-") >= 3 && rest[strspn(rest, "-")] == '\0';
        }
    return false;
}

/* A line of underscores Outlook draws above its header block. */
static bool
is_rule(const char *line)
{
    gsize n = strspn(line, "_");

    return n >= 10 && is_blank(line + n);
}

/* The attribution line's shape, on the trimmed, lower-case line. */
static bool
is_attribution(const char *lower)
{
    gsize len = strlen(lower);

    if (len < 8 || lower[len - 1] != ':')
        return false;
    if (g_str_has_prefix(lower, "on ") && g_str_has_suffix(lower, "wrote:"))
        return true;
    if (g_str_has_prefix(lower, "op ") &&
        (strstr(lower, " schreef ") != NULL || g_str_has_suffix(lower, "geschreven:")))
        return true;
    if (g_str_has_prefix(lower, "am ") && strstr(lower, " schrieb ") != NULL)
        return true;
    /* "Le ... a écrit :" costs nothing to know as well. */
    if (g_str_has_prefix(lower, "le ") && strstr(lower, "a écrit") != NULL)
        return true;
    return false;
}

/* ASCII case folding is enough: every marker's capitals are ASCII. */
static char *
lower_trimmed(const char *line)
{
    char *s = g_ascii_strdown(line, -1);

    return g_strstrip(s);
}

/* Does LINE end in ':' but for blanks?  Every attribution does; the test
 * keeps the costlier ones off nearly every line. */
static bool
ends_in_colon(const char *line)
{
    gsize n = strlen(line);

    while (n > 0 && g_ascii_isspace(line[n - 1]))
        n--;
    return n > 0 && line[n - 1] == ':';
}

/* The index of the next line at or after I that is not blank, or N. */
static guint
next_nonblank(char **lines, guint i, guint n)
{
    while (i < n && is_blank(lines[i]))
        i++;
    return i;
}

static bool
colon_within(const char *p, gsize n)
{
    for (gsize i = 0; i < n && p[i] != '\0'; i++)
        if (p[i] == ':')
            return true;
    return false;
}

/* Outlook's header block: a From-like line with a Sent-like line shortly
 * below it. */
static bool
is_outlook_header(char **lines, guint i, guint n)
{
    g_autofree char *first = NULL;
    const char *p = lines[i];

    while (*p == ' ' || *p == '\t')
        p++;
    /* From, Van, Von, De; and a label has its colon early. */
    if (*p == '\0' || strchr("fFvVdD", *p) == NULL || !colon_within(p, 12))
        return false;
    first = lower_trimmed(lines[i]);
    if (!starts_with_any(first, from_labels, G_N_ELEMENTS(from_labels)))
        return false;
    for (guint j = i + 1; j < n && j <= i + OUTLOOK_HEADER_LINES; j++) {
        g_autofree char *l = lower_trimmed(lines[j]);
        if (starts_with_any(l, sent_labels, G_N_ELEMENTS(sent_labels)))
            return true;
    }
    return false;
}

/* How many lines from I form an attribution followed by a quote: 0 when
 * none, else 1 or 2 (wrapped). */
static guint
attribution_lines(char **lines, guint i, guint n)
{
    g_autofree char *one = NULL;

    if (!ends_in_colon(lines[i]) && (i + 1 >= n || !ends_in_colon(lines[i + 1])))
        return 0;
    one = lower_trimmed(lines[i]);
    if (is_attribution(one)) {
        guint next = next_nonblank(lines, i + 1, n);
        return next < n && is_quoted(lines[next]) ? 1 : 0;
    }
    if (i + 1 < n && !is_blank(lines[i + 1]) && !is_quoted(lines[i + 1])) {
        g_autofree char *joined = g_strconcat(lines[i], " ", lines[i + 1], NULL);
        g_autofree char *two = lower_trimmed(joined);
        if (is_attribution(two)) {
            guint next = next_nonblank(lines, i + 2, n);
            return next < n && is_quoted(lines[next]) ? 2 : 0;
        }
    }
    return 0;
}

char *
parser_reply_text(const char *text)
{
    g_auto(GStrv) lines = util_split_lines(text);
    guint n = g_strv_length(lines);
    GString *out = g_string_new(NULL);
    bool after_blank = true; /* no blank lines at the top */

    for (guint i = 0; i < n; i++) {
        const char *line = lines[i];
        g_autofree char *lower = NULL;
        guint skip;

        if (strcmp(line, "-- ") == 0)
            break;
        if (is_quoted(line))
            continue;
        if (strstr(line, "---") != NULL) {
            lower = lower_trimmed(line);
            if (is_original_marker(lower))
                break;
        }
        if (is_outlook_header(lines, i, n))
            break;
        if (is_rule(line)) {
            guint next = next_nonblank(lines, i + 1, n);
            if (next < n && is_outlook_header(lines, next, n))
                break;
        }
        skip = attribution_lines(lines, i, n);
        if (skip > 0) {
            i += skip - 1;
            continue;
        }
        /* Quotes taken out of an inline answer leave their blank lines
         * behind: one is kept of each run. */
        if (is_blank(line)) {
            if (after_blank)
                continue;
            after_blank = true;
        } else {
            after_blank = false;
        }
        g_string_append(out, line);
        g_string_append_c(out, '\n');
    }
    /* What was above a cut often ends in blank lines. */
    while (out->len > 0 && g_ascii_isspace(out->str[out->len - 1]))
        g_string_truncate(out, out->len - 1);
    if (out->len > 0 && text != NULL && g_str_has_suffix(text, "\n"))
        g_string_append_c(out, '\n');
    return g_string_free(out, FALSE);
}
