/*
 * test-compose - outbound mail as it leaves: encoded and folded headers,
 * nothing from a customer able to add a header, UTF-8 bodies.
 */
#include <string.h>

#include <glib.h>
#include <gmime/gmime.h>

#include "parser/mail.h"
#include "templates/compose.h"

static char *
compose_to(const char *subject, const char *to_name, const char *to, const char *body)
{
    g_autoptr(GDateTime) date = g_date_time_new_utc(2026, 11, 24, 9, 0, 0);
    g_autoptr(GPtrArray) refs = g_ptr_array_new();
    struct outbound_mail m = {
        .from = "Support <support@example.com>",
        .to = (const char *const[]){ to, NULL },
        .to_name = to_name,
        .reply_to = "support+tkt-1.0123456789abcdef@example.com",
        .subject = subject,
        .body = body,
        .in_reply_to = "orig@acme.test",
        .references = refs,
        .message_id = "tm.1.abc@tickets.example.com",
        .auto_submitted = "auto-replied",
        .loop = "tickets.example.com; mac=0123456789abcdef",
        .ticket_tag = "TKT-1",
        .date = date,
    };

    g_ptr_array_add(refs, "root@acme.test");
    g_ptr_array_add(refs, "orig@acme.test");
    return compose_mail(&m);
}

static char *
compose(const char *subject, const char *to_name, const char *body)
{
    return compose_to(subject, to_name, "jan@acme.test", body);
}

/* The header block, unfolded, one header a line. */
static char **
headers(const char *text)
{
    const char *end = strstr(text, "\r\n\r\n");
    g_autofree char *block = g_strndup(text, end - text);
    g_autoptr(GRegex) fold = g_regex_new("\r\n[ \t]+", 0, 0, NULL);
    g_autofree char *unfolded = g_regex_replace_literal(fold, block, -1, 0, " ", 0, NULL);

    return g_strsplit(unfolded, "\r\n", -1);
}

static bool
has_header(char **h, const char *prefix)
{
    for (char **p = h; *p != NULL; p++)
        if (g_ascii_strncasecmp(*p, prefix, strlen(prefix)) == 0)
            return true;
    return false;
}

/* Every display name is written as GMime's own encoder writes it, the
 * plain ones that compose writes itself as well as the rest. */
static void
test_display_names(void)
{
    const char *const names[] = {
        "Jan",
        "Jan Jansen",
        "Team 42",
        "Doe, John",
        "Jan  Jansen",
        " Jan",
        "Jan ",
        "O'Neil",
        "Jan.Jansen",
        "J\u00fcrgen M\u00fcller",
        "a\"b",
        "(Jan)",
        "Jan <x@y>",
        "",
        "A very long display name that goes on and on past the fold",
    };

    static const char *const addrs[] = {
        "jan@acme.test", "jan+1@acme.test", "o'neil@acme.test", "a..b@acme.test",
        ".a@acme.test",  "a.@acme.test",    "a@.acme.test",     "a@acme.test.",
    };

    for (gsize i = 0; i < G_N_ELEMENTS(names) + G_N_ELEMENTS(addrs); i++) {
        bool is_name = i < G_N_ELEMENTS(names);
        const char *name = is_name ? names[i] : "Jan";
        const char *addr = is_name ? "jan@acme.test" : addrs[i - G_N_ELEMENTS(names)];
        g_autofree char *text = compose_to("s", name, addr, "Hello\n");
        g_auto(GStrv) h = headers(text);
        InternetAddressList *list = internet_address_list_new();
        InternetAddress *ia = internet_address_mailbox_new(name, addr);
        g_autoptr(GString) want = g_string_new("To: ");
        g_autoptr(GRegex) fold = g_regex_new("\r?\n[ \t]+", 0, 0, NULL);
        g_autofree char *unfolded = NULL;

        internet_address_list_add(list, ia);
        internet_address_list_encode(list, g_mime_format_options_get_default(), want);
        g_object_unref(ia);
        g_object_unref(list);
        g_strchomp(want->str);
        unfolded = g_regex_replace_literal(fold, want->str, -1, 0, " ", 0, NULL);
        g_assert_true(has_header(h, unfolded));
    }
}

/* The Subject header of TEXT, continuation lines and all. */
static char *
subject_header(const char *text)
{
    const char *start = strstr(text, "\r\nSubject: ");
    const char *end;

    g_assert_nonnull(start);
    start += 2;
    for (end = start; !(end[0] == '\r' && end[1] == '\n' && end[2] != ' ' && end[2] != '\t'); end++)
        ;
    return g_strndup(start, (gsize)(end - start));
}

/* Every subject is written as GMime's own encoder and folder write it,
 * the plain ones that compose writes itself as well as the rest. */
static void
test_subjects(void)
{
    g_autofree char *long_ascii = g_strnfill(120, 'x');
    g_autofree char *edge = g_strnfill(59, 'y');
    g_autofree char *past_edge = g_strnfill(70, 'z');
    g_autofree char *words =
        g_strjoin(" ", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
                  "ten", "eleven", "twelve", "thirteen", "fourteen", NULL);
    const char *const subjects[] = {
        "Question",
        "[TKT-1] Received: printer",
        "Re: [TKT-12] Invoice (March) \"urgent\" <x@y>; a, b",
        "50% off! #1 & ~tilde~ {braces} |pipe| `tick` \\back",
        "a=?b",
        "=?utf-8?q?x?=",
        "ends with =?",
        "Hello  world",
        "caf\u00e9 is open",
        "\u00dcber alles",
        "x",
        "",
        long_ascii,
        edge,
        past_edge,
        words,
    };
    GMimeFormatOptions *fo = g_mime_format_options_clone(NULL);
    g_autoptr(GPtrArray) all = g_ptr_array_new_with_free_func(g_free);

    for (gsize i = 0; i < G_N_ELEMENTS(subjects); i++)
        g_ptr_array_add(all, g_strdup(subjects[i]));
    /* Lines of words from well short of the fold to past it. */
    for (gsize len = 60; len <= 90; len++) {
        GString *w = g_string_new(NULL);
        while (w->len + strlen("Subject: ") < len)
            g_string_append(w, w->len % 7 == 6 ? " " : "w");
        g_ptr_array_add(all, g_string_free(w, FALSE));
    }
    g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_DOS);
    for (guint i = 0; i < all->len; i++) {
        const char *subject = g_ptr_array_index(all, i);
        g_autofree char *text = compose(subject, "Jan", "Hello\n");
        g_autofree char *got = subject_header(text);
        g_autofree char *encoded = g_mime_utils_header_encode_text(fo, subject, "utf-8");
        g_autofree char *line = g_strdup_printf("Subject: %s", encoded);
        g_autofree char *want = g_mime_utils_unstructured_header_fold(NULL, fo, line);

        g_auto(GStrv) lines = NULL;
        g_autofree char *want_crlf = NULL;

        /* The folder writes bare LFs; mail goes out with CRLF. */
        while (*want != '\0' && strchr("\r\n", want[strlen(want) - 1]) != NULL)
            want[strlen(want) - 1] = '\0';
        lines = g_strsplit(want, "\n", -1);
        for (char **l = lines; *l != NULL; l++)
            if (**l != '\0' && (*l)[strlen(*l) - 1] == '\r')
                (*l)[strlen(*l) - 1] = '\0';
        want_crlf = g_strjoinv("\r\n", lines);
        g_test_message("%s -> %s", subject, got);
        g_assert_cmpstr(got, ==, want_crlf);
    }
    g_mime_format_options_free(fo);
}

static void
test_headers(void)
{
    g_autofree char *text = compose("[TKT-1] Received: printer", "Jan", "Hello\n");
    g_auto(GStrv) h = headers(text);

    g_assert_true(has_header(h, "Subject: [TKT-1] Received: printer"));
    g_assert_true(has_header(h, "To: Jan <jan@acme.test>"));
    g_assert_true(has_header(h, "In-Reply-To: <orig@acme.test>"));
    g_assert_true(has_header(h, "References: <root@acme.test> <orig@acme.test>"));
    g_assert_true(has_header(h, "Message-Id: <tm.1.abc@tickets.example.com>") ||
                  has_header(h, "Message-ID: <tm.1.abc@tickets.example.com>"));
    g_assert_true(has_header(h, "Auto-Submitted: auto-replied"));
    g_assert_true(has_header(h, "Reply-To: support+tkt-1.0123456789abcdef@example.com"));
    g_assert_true(has_header(h, "X-Ticket-Loop: tickets.example.com; mac=0123456789abcdef"));
    g_assert_true(has_header(h, "Date: Tue, 24 Nov 2026 09:00:00 +0000"));
    g_assert_true(has_header(h, "MIME-Version: 1.0"));
    g_assert_true(has_header(h, "Content-Type: text/plain; charset=utf-8"));
    /* Every line ends CRLF and no line is longer than RFC 5322 allows. */
    g_auto(GStrv) lines = g_strsplit(text, "\r\n", -1);
    for (char **l = lines; *l != NULL; l++) {
        g_assert_null(strchr(*l, '\n'));
        g_assert_cmpuint(strlen(*l), <=, 998);
    }
}

/* A subject from a customer that tries to add a Bcc: header. */
static void
test_no_injection(void)
{
    g_autofree char *text = compose("[TKT-1] Hello\r\nBcc: victim@example.net\r\n\r\nfake body",
                                    "Eve\r\nBcc: x@y", "body\n");
    g_auto(GStrv) h = headers(text);

    g_assert_false(has_header(h, "Bcc:"));
    for (char **p = h; *p != NULL; p++)
        g_assert_false(g_str_has_prefix(*p, "Bcc"));
}

/* A long subject with non-ASCII words: encoded words, folded lines, and
 * read back the same by a parser. */
static void
test_encoding(void)
{
    const char *subject = "[TKT-42] Storing: kassa’s geven foutcode E42 in alle filialen van "
                          "Bakker Bart én Albert Heijn, zie bijlage — dringend";
    const char *body = "Alle kassa’s geven foutcode E42.\nGrüße, Jürgen\n";
    g_autofree char *text = compose(subject, "Jürgen Müller", body);
    GError *error = NULL;
    struct mail *m;

    g_assert_nonnull(strcasestr(text, "=?utf-8?"));
    g_assert_null(strstr(text, "’")); /* no raw 8-bit byte in the message */
    m = parser_mail_parse(text, strlen(text), &error);
    g_assert_no_error(error);
    g_assert_cmpstr(m->subject, ==, subject);
    g_assert_cmpstr(m->to->len > 0 ? ((struct mail_address *)m->to->pdata[0])->name : NULL, ==,
                    "Jürgen Müller");
    g_assert_cmpstr(m->text, ==, body);
    parser_mail_free(m);
}

/* A long thread keeps its root and its newest ids, folded between ids;
 * an id from hostile mail loses what a msg-id may not have. */
static void
test_references(void)
{
    g_autoptr(GDateTime) date = g_date_time_new_utc(2026, 11, 24, 9, 0, 0);
    g_autoptr(GPtrArray) refs = g_ptr_array_new_with_free_func(g_free);
    struct outbound_mail m = {
        .from = "Support <support@example.com>",
        .to = (const char *const[]){ "jan@acme.test", NULL },
        .subject = "[TKT-1] Re: printer",
        .body = "Hello\n",
        .in_reply_to = "caf\xc3\xa9 <x>\r\nBcc: y@z",
        .references = refs,
        .message_id = "tm.1.abc@tickets.example.com",
        .auto_submitted = "auto-replied",
        .loop = "tickets.example.com; mac=0123456789abcdef",
        .date = date,
    };

    for (int i = 0; i < 25; i++)
        g_ptr_array_add(refs, g_strdup_printf("ref%02d.0123456789@acme.test", i));
    g_autofree char *text = compose_mail(&m);
    g_auto(GStrv) h = headers(text);

    g_assert_true(has_header(h, "In-Reply-To: <cafxBcc:y@z>"));
    for (char **p = h; *p != NULL; p++) {
        if (!g_str_has_prefix(*p, "References:"))
            continue;
        g_assert_nonnull(strstr(*p, "<ref00.0123456789@acme.test> <ref06."));
        g_assert_null(strstr(*p, "<ref05."));
        g_assert_nonnull(strstr(*p, "<ref24.0123456789@acme.test>"));
    }
    g_auto(GStrv) lines = g_strsplit(text, "\r\n", -1);
    for (char **l = lines; *l != NULL && **l != '\0'; l++)
        g_assert_cmpuint(strlen(*l), <=, 78);
    for (const char *p = text; *p != '\0'; p++)
        g_assert_cmpuint((unsigned char)*p, <, 0x80);
}

/* 128 random bits a Message-ID, and a host name that cannot break it. */
static void
test_message_id(void)
{
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

    for (int i = 0; i < 1000; i++) {
        char *id = compose_message_id("tickets.example.com");
        g_assert_true(
            g_regex_match_simple("^tm\\.[0-9]+\\.[0-9a-f]{32}@tickets\\.example\\.com$", id, 0, 0));
        g_assert_false(g_hash_table_contains(seen, id));
        g_hash_table_add(seen, id);
    }
    g_autofree char *odd = compose_message_id("a b<c>@d\r\nX-Evil: 1");
    g_assert_null(strpbrk(strchr(odd, '@') + 1, " <>@\r\n"));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    parser_init();
    g_test_add_func("/compose/headers", test_headers);
    g_test_add_func("/compose/subjects", test_subjects);
    g_test_add_func("/compose/display-names", test_display_names);
    g_test_add_func("/compose/no-injection", test_no_injection);
    g_test_add_func("/compose/encoding", test_encoding);
    g_test_add_func("/compose/references", test_references);
    g_test_add_func("/compose/message-id", test_message_id);
    return g_test_run();
}
