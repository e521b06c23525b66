/*
 * chat - text that Slack and Microsoft Teams show as it is written.
 *
 * What owns the problem: an incoming webhook's "text" is markup in both
 * services, and they read different markup.  Slack's mrkdwn has three
 * control characters, & < >, that it wants escaped as &amp; &lt; &gt;
 * (everything that pings or links is written inside <...>: <!channel>,
 * <@U123>, <https://x|label>), emphasis with * _ ~ and code with `,
 * emoji as :name:, and it links bare URLs, domains and addresses.  Teams
 * reads the same field as Markdown with some HTML: emphasis, code, links
 * [x](url) and ![x](url), HTML tags and entities, headings, lists, quotes,
 * rules and indented code at the start of a line, and it too links bare
 * URLs.  Neither has one escape the other understands (a Markdown
 * backslash shows in Slack), so each character is made harmless in a way
 * both display the same:
 *
 *   & < >            &amp; &lt; &gt; (both show the character: Slack by its
 *                    own rule, Teams as HTML)
 *   * _ ~ `          look-alikes that are no markup: U+2217 ∗, U+02CD ˍ,
 *                    U+223C ∼, U+02CB ˋ
 *   ]                followed by U+200B ZERO WIDTH SPACE: no link, image or
 *                    reference can follow it
 *   . @ :            followed by U+200B before a letter, digit or '/', so that
 *                    no URL, domain, address, @channel or :emoji: is found
 *   \                followed by U+200B: no Markdown escape
 *   line starts      U+200B before a first character that could start a
 *                    Markdown block (# - + = | a digit, a blank)
 *
 * U+200B is invisible in both.  The result is longer than TEXT (at most
 * five times), never shorter; every other byte is copied as it is, so
 * valid UTF-8 stays valid.  Linear; never fails.
 */
#include <stdbool.h>
#include <string.h>

#include <glib.h>

#include "outbound/chat.h"

#define ZWSP "\xe2\x80\x8b"

static bool
is_word_char(char c)
{
    /* A byte of a multi-byte character counts: a domain may be IDN. */
    return g_ascii_isalnum(c) || (guchar)c >= 0x80;
}

/* A character Markdown may read as the start of a block when it is the
 * first of a line. */
static bool
starts_block(char c)
{
    return strchr("#-+=|", c) != NULL || g_ascii_isdigit(c) || c == ' ' || c == '\t';
}

/* Characters that are written as something else. */
static const struct {
    char c;
    const char *as;
} replaced[] = {
    { '&', "&amp;" },        { '<', "&lt;" },
    { '>', "&gt;" },         { '*', "\xe2\x88\x97" }, /* U+2217 ASTERISK OPERATOR */
    { '_', "\xcb\x8d" },                              /* U+02CD MODIFIER LETTER LOW MACRON */
    { '~', "\xe2\x88\xbc" },                          /* U+223C TILDE OPERATOR */
    { '`', "\xcb\x8b" },                              /* U+02CB MODIFIER LETTER GRAVE ACCENT */
};

static const char *
replacement(char c)
{
    for (guint i = 0; i < G_N_ELEMENTS(replaced); i++)
        if (replaced[i].c == c)
            return replaced[i].as;
    return NULL;
}

/* Whether a ZWSP goes after C, with NEXT after it. */
static bool
needs_break_after(char c, char next)
{
    if (c == ']' || c == '\\')
        return true;
    return (c == '.' || c == '@' || c == ':') && (is_word_char(next) || next == '/');
}

char *
chat_escape_text(const char *text)
{
    const char *p = text != NULL ? text : "";
    GString *out = g_string_sized_new(strlen(p) + 16);
    bool line_start = true;

    for (; *p != '\0'; p++) {
        const char *as = replacement(*p);

        if (line_start && starts_block(*p))
            g_string_append(out, ZWSP);
        line_start = *p == '\n' || *p == '\r';
        if (as != NULL)
            g_string_append(out, as);
        else
            g_string_append_c(out, *p);
        if (needs_break_after(*p, p[1]))
            g_string_append(out, ZWSP);
    }
    return g_string_free(out, FALSE);
}
