/*
 * test-chat - chat_escape_text(): webhook text that Slack and Teams show
 * as written, whatever a customer put in a subject.
 */
#include <string.h>

#include <glib.h>

#include "outbound/chat.h"

#define ZWSP "\xe2\x80\x8b"

static const struct {
    const char *text;
    const char *escaped;
} cases[] = {
    { "", "" },
    { "Server down", "Server down" },
    { "caf\xc3\xa9 \xf0\x9f\x98\x80", "caf\xc3\xa9 \xf0\x9f\x98\x80" },
    /* Slack's control characters, and every mention and link with them. */
    { "a & b < c > d", "a &amp; b &lt; c &gt; d" },
    { "<!channel> pay now <https://evil.test|your bank>",
      "&lt;!channel&gt; pay now &lt;https:" ZWSP "//evil." ZWSP "test|your bank&gt;" },
    { "<@U123> <#C42> <!subteam^S1>", "&lt;@" ZWSP "U123&gt; &lt;#C42&gt; &lt;!subteam^S1&gt;" },
    { "&lt;b&gt;", "&amp;lt;b&amp;gt;" },
    /* Emphasis and code in either dialect. */
    { "*bold* _it_ ~del~ `code`", "\xe2\x88\x97"
                                  "bold\xe2\x88\x97 \xcb\x8dit\xcb\x8d \xe2\x88\xbc"
                                  "del\xe2\x88\xbc \xcb\x8b"
                                  "code\xcb\x8b" },
    { "**strong** __strong__ ~~gone~~", "\xe2\x88\x97\xe2\x88\x97strong\xe2\x88\x97\xe2\x88\x97 "
                                        "\xcb\x8d\xcb\x8dstrong\xcb\x8d\xcb\x8d "
                                        "\xe2\x88\xbc\xe2\x88\xbcgone\xe2\x88\xbc\xe2\x88\xbc" },
    /* Markdown links and images. */
    { "*bold* [link](https://evil.test)",
      "\xe2\x88\x97"
      "bold\xe2\x88\x97 [link]" ZWSP "(https:" ZWSP "//evil." ZWSP "test)" },
    { "![x](https://evil.test/a.png)",
      "![x]" ZWSP "(https:" ZWSP "//evil." ZWSP "test/a." ZWSP "png)" },
    { "[a][1]\n[1]: https://evil.test",
      "[a]" ZWSP "[1]" ZWSP "\n[1]" ZWSP ": https:" ZWSP "//evil." ZWSP "test" },
    /* Bare URLs, domains, addresses, mentions and emoji. */
    { "see www.evil.test or mail x@evil.test",
      "see www." ZWSP "evil." ZWSP "test or mail x@" ZWSP "evil." ZWSP "test" },
    { "@channel @here :joy:", "@" ZWSP "channel @" ZWSP "here :" ZWSP "joy:" },
    { "Re: meeting at 10:30.", "Re: meeting at 10:" ZWSP "30." },
    /* Line starts that Markdown reads as blocks. */
    { "# Heading", ZWSP "# Heading" },
    { "a\n- item\n+ item\n1. item\n    code\n> quote\n---",
      "a\n" ZWSP "- item\n" ZWSP "+ item\n" ZWSP "1. item\n" ZWSP "    code\n&gt; quote\n" ZWSP
      "---" },
    { "[TKT-42] Server down - again", "[TKT-42]" ZWSP " Server down - again" },
    /* A backslash escapes nothing. */
    { "\\*x\\*", "\\" ZWSP "\xe2\x88\x97x\\" ZWSP "\xe2\x88\x97" },
};

static void
test_cases(void)
{
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *got = chat_escape_text(cases[i].text);
        g_assert_cmpstr(got, ==, cases[i].escaped);
        g_assert_true(g_utf8_validate(got, -1, NULL));
    }
}

static void
test_null(void)
{
    g_autofree char *got = chat_escape_text(NULL);

    g_assert_cmpstr(got, ==, "");
}

/* Whatever the input, nothing of the markup either service reads is
 * left: no raw < > * _ ~ `, no "](" and no "://". */
static void
test_no_markup_left(void)
{
    g_autoptr(GRand) rand = g_rand_new_with_seed(42);
    static const char alphabet[] = "<>&*_~`[]()!#-+=|:/.@\\ \n\tax1\xc3\xa9";

    for (int round = 0; round < 2000; round++) {
        char text[64];
        g_autofree char *got = NULL;
        int n = g_rand_int_range(rand, 0, (int)sizeof text);

        for (int i = 0; i < n; i++)
            text[i] = alphabet[g_rand_int_range(rand, 0, (int)sizeof alphabet - 1)];
        text[n] = '\0';
        got = chat_escape_text(text);
        g_assert_null(strpbrk(got, "<>*_~`"));
        g_assert_null(strstr(got, "]("));
        g_assert_null(strstr(got, "]["));
        g_assert_null(strstr(got, "://"));
        g_assert_cmpuint(strlen(got), <=, 5 * strlen(text));
    }
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/chat/cases", test_cases);
    g_test_add_func("/chat/null", test_null);
    g_test_add_func("/chat/no-markup-left", test_no_markup_left);
    return g_test_run();
}
