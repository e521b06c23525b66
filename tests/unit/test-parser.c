/*
 * test-parser - parser_mail_parse() on the fixtures in tests/fixtures/parser.
 *
 * Each fixture is named for the one thing it shows.  Cases that differ only
 * in a header value (encoded words, dates) are tables of inline messages;
 * whole-message behaviour (MIME trees, charsets, the digest) uses files.
 * Run from the repository root: fixture paths are relative.
 */
#include <string.h>

#include <glib.h>
#include <gmime/gmime.h>

#include "parser/html.h"
#include "parser/mail.h"

#define FIXTURES "tests/fixtures/parser/"

static struct mail *
parse_bytes(const char *raw, gsize len)
{
    g_autoptr(GError) error = NULL;
    struct mail *mail = parser_mail_parse(raw, len, &error);

    g_assert_no_error(error);
    g_assert_nonnull(mail);
    return mail;
}

static struct mail *
parse_fixture(const char *name)
{
    g_autofree char *path = g_strconcat(FIXTURES, name, NULL);
    g_autofree char *raw = NULL;
    gsize len = 0;
    g_autoptr(GError) error = NULL;

    if (!g_file_get_contents(path, &raw, &len, &error))
        g_error("%s: %s", path, error->message);
    return parse_bytes(raw, len);
}

static struct mail *
parse_string(const char *raw)
{
    return parse_bytes(raw, strlen(raw));
}

/* Every string the parser hands out must be valid UTF-8. */
static void
assert_all_utf8(const struct mail *m)
{
    const char *strings[] = { m->message_id, m->in_reply_to, m->subject, m->date, m->text,
                              m->digest };

    for (guint i = 0; i < G_N_ELEMENTS(strings); i++)
        g_assert_true(strings[i] == NULL || g_utf8_validate(strings[i], -1, NULL));
    g_assert_nonnull(m->subject);
    g_assert_nonnull(m->text);
    g_assert_nonnull(m->references);
    g_assert_nonnull(m->to);
    g_assert_nonnull(m->cc);
    for (guint i = 0; i < m->references->len; i++)
        g_assert_true(g_utf8_validate(g_ptr_array_index(m->references, i), -1, NULL));
    if (m->from != NULL) {
        g_assert_true(g_utf8_validate(m->from->name, -1, NULL));
        g_assert_true(g_utf8_validate(m->from->addr, -1, NULL));
    }
    for (guint i = 0; i < m->to->len + m->cc->len; i++) {
        const struct mail_address *a =
            i < m->to->len ? g_ptr_array_index(m->to, i) : g_ptr_array_index(m->cc, i - m->to->len);
        g_assert_true(g_utf8_validate(a->name, -1, NULL));
        g_assert_true(g_utf8_validate(a->addr, -1, NULL));
    }
}

static void
assert_address(GPtrArray *list, guint i, const char *name, const char *addr)
{
    const struct mail_address *a;

    g_assert_cmpuint(i, <, list->len);
    a = g_ptr_array_index(list, i);
    g_assert_cmpstr(a->name, ==, name);
    g_assert_cmpstr(a->addr, ==, addr);
}

/* ---- headers ---- */

static void
test_plain_fields(void)
{
    struct mail *m = parse_fixture("plain-lf.eml");

    assert_all_utf8(m);
    g_assert_cmpstr(m->message_id, ==, "20250304.101530.abc@klant.example");
    g_assert_cmpstr(m->in_reply_to, ==, "prev-2@help.example");
    g_assert_cmpuint(m->references->len, ==, 2);
    g_assert_cmpstr(g_ptr_array_index(m->references, 0), ==, "root-1@klant.example");
    g_assert_cmpstr(g_ptr_array_index(m->references, 1), ==, "prev-2@help.example");
    g_assert_nonnull(m->from);
    g_assert_cmpstr(m->from->name, ==, "Anna de Vries");
    g_assert_cmpstr(m->from->addr, ==, "anna@klant.example");
    g_assert_cmpuint(m->to->len, ==, 2);
    assert_address(m->to, 0, "", "support@help.example");
    assert_address(m->to, 1, "Bob", "bob@help.example");
    g_assert_cmpuint(m->cc->len, ==, 1);
    assert_address(m->cc, 0, "Carol", "carol@klant.example");
    g_assert_cmpstr(m->subject, ==, "Printer on floor 3 is offline");
    g_assert_cmpstr(m->date, ==, "2025-03-04T08:15:30Z");
    g_assert_cmpstr(m->text, ==,
                    "Hello,\n\nThe printer on floor 3 has been offline since this morning.\n\n"
                    "Anna\n");
    g_assert_cmpuint(strlen(m->digest), ==, 64);
    g_assert_true(strspn(m->digest, "0123456789abcdef") == 64);
    parser_mail_free(m);
}

static void
test_no_message_id(void)
{
    struct mail *m = parse_fixture("no-message-id.eml");

    assert_all_utf8(m);
    g_assert_null(m->message_id);
    g_assert_null(m->in_reply_to);
    g_assert_cmpuint(m->references->len, ==, 0);
    g_assert_null(m->date);
    g_assert_cmpstr(m->subject, ==, "");
    g_assert_cmpstr(m->from->name, ==, "");
    g_assert_cmpstr(m->from->addr, ==, "someone@klant.example");
    g_assert_cmpuint(m->cc->len, ==, 0);
    parser_mail_free(m);
}

static void
test_groups_flattened(void)
{
    struct mail *m = parse_fixture("group-recipients.eml");

    assert_all_utf8(m);
    g_assert_cmpstr(m->from->name, ==, "J\xc3\xb6rg M\xc3\xbcller");
    g_assert_cmpstr(m->from->addr, ==, "joerg@kunde.example");
    g_assert_cmpuint(m->to->len, ==, 3);
    assert_address(m->to, 0, "Ren\xc3\xa9", "rene@help.example");
    assert_address(m->to, 1, "", "eva@help.example");
    assert_address(m->to, 2, "", "direct@help.example");
    /* The empty group adds nobody. */
    g_assert_cmpuint(m->cc->len, ==, 1);
    assert_address(m->cc, 0, "Smith, John", "john@kunde.example");
    g_assert_cmpstr(m->date, ==, "2025-03-05T13:00:00Z");
    parser_mail_free(m);
}

static const struct {
    const char *header; /* the Subject line as it arrives */
    const char *subject;
} subject_cases[] = {
    { "Subject: =?UTF-8?B?w4lsw6hwaGFudCDwn5iA?=", "\xc3\x89l\xc3\xa8phant \xf0\x9f\x98\x80" },
    { "Subject: =?utf-8?q?Caf=C3=A9_ouvert?=", "Caf\xc3\xa9 ouvert" },
    { "Subject: =?ISO-8859-1?Q?Gr=FC=DFe_aus_K=F6ln?=", "Gr\xc3\xbc\xc3\x9f" "e aus K\xc3\xb6ln" },
    { "Subject: Re: =?UTF-8?Q?na=C3=AFve?= question", "Re: na\xc3\xafve question" },
    /* Unfolding removes the line break only (RFC 5322 2.2.3). */
    { "Subject: a folded\n  subject line", "a folded  subject line" },
    { "Subject: =?UTF-8?Q?one=0Atwo=0D=0Athree=09four?=", NULL /* checked below */ },
    { "Subject:", "" },
};

static void
test_subject_decoding(void)
{
    for (guint i = 0; i < G_N_ELEMENTS(subject_cases); i++) {
        g_autofree char *raw = g_strdup_printf("From: a@b.example\n%s\n\nbody\n",
                                               subject_cases[i].header);
        struct mail *m = parse_string(raw);

        assert_all_utf8(m);
        if (subject_cases[i].subject != NULL)
            g_assert_cmpstr(m->subject, ==, subject_cases[i].subject);
        else
            g_assert_null(strpbrk(m->subject, "\r\n\t"));
        parser_mail_free(m);
    }
}

static void
test_subject_crlf_removed(void)
{
    struct mail *m = parse_fixture("subject-encoded-crlf.eml");

    assert_all_utf8(m);
    g_assert_null(strpbrk(m->subject, "\r\n\t"));
    g_assert_nonnull(strstr(m->subject, "Hello"));
    g_assert_nonnull(strstr(m->subject, "Bcc: victim@example.com"));
    parser_mail_free(m);
}

static const struct {
    const char *from;
    const char *name;
    const char *addr;
} name_cases[] = {
    { "From: =?UTF-8?Q?Ren=C3=A9e_Dupont?= <renee@x.example>", "Ren\xc3\xa9" "e Dupont",
      "renee@x.example" },
    { "From: =?iso-8859-1?q?J=F6rg?= <j@x.example>", "J\xc3\xb6rg", "j@x.example" },
    { "From: \"Doe, Jane\" <jane@x.example>", "Doe, Jane", "jane@x.example" },
    { "From: plain@x.example (Old Style)", "Old Style", "plain@x.example" },
    { "From: Team: first@x.example, second@x.example;", "", "first@x.example" },
};

static void
test_display_names(void)
{
    for (guint i = 0; i < G_N_ELEMENTS(name_cases); i++) {
        g_autofree char *raw = g_strdup_printf("%s\nSubject: x\n\nbody\n", name_cases[i].from);
        struct mail *m = parse_string(raw);

        assert_all_utf8(m);
        g_assert_nonnull(m->from);
        g_assert_cmpstr(m->from->name, ==, name_cases[i].name);
        g_assert_cmpstr(m->from->addr, ==, name_cases[i].addr);
        parser_mail_free(m);
    }
}

static void
test_raw_8bit_headers_made_valid(void)
{
    struct mail *m = parse_fixture("raw-8bit-headers.eml");

    assert_all_utf8(m);
    g_assert_nonnull(m->from);
    g_assert_cmpstr(m->from->addr, ==, "bjorn@klant.example");
    g_assert_true(g_str_has_prefix(m->subject, "Broken "));
    parser_mail_free(m);
}

static const struct {
    const char *date;
    const char *iso; /* NULL: unreadable */
} date_cases[] = {
    { "Date: Mon, 31 Dec 2029 23:59:59 -0100", "2030-01-01T00:59:59Z" },
    { "Date: 1 Jan 2025 00:00:00 +0000", "2025-01-01T00:00:00Z" },
    { "Date: Thu, 06 Mar 2025 09:00:00 GMT", "2025-03-06T09:00:00Z" },
    { "Date: next tuesday, probably", NULL },
    { "X-No-Date: here", NULL },
};

static void
test_dates(void)
{
    for (guint i = 0; i < G_N_ELEMENTS(date_cases); i++) {
        g_autofree char *raw = g_strdup_printf("From: a@b.example\n%s\n\nbody\n",
                                               date_cases[i].date);
        struct mail *m = parse_string(raw);

        g_assert_cmpstr(m->date, ==, date_cases[i].iso);
        parser_mail_free(m);
    }
}

/* ---- the text ---- */

static const struct {
    const char *fixture;
    const char *text;
} text_cases[] = {
    /* The line break before a boundary belongs to the boundary (RFC 2046). */
    { "alternative-plain-and-html.eml", "The plain version." },
    { "attachment-before-text.eml", "See the attached log." },
    { "base64-text.eml", "Hallo wereld, de koffie is op!" },
    { "latin1-declared.eml", "Caf\xc3\xa9 cr\xc3\xa8me br\xc3\xbbl\xc3\xa9" "e.\n" },
    { "unknown-charset-8bit.eml", "\xc3\x87" "a co\xc3\xbbte 5\xe2\x82\xac.\n" },
    { "windows-1252-undeclared.eml",
      "He said \xe2\x80\x9cit costs \xe2\x82\xac" "10\xe2\x80\x9d \xe2\x80\x93 fine.\n" },
};

static void
test_text_selection(void)
{
    for (guint i = 0; i < G_N_ELEMENTS(text_cases); i++) {
        struct mail *m = parse_fixture(text_cases[i].fixture);

        assert_all_utf8(m);
        g_assert_cmpstr(m->text, ==, text_cases[i].text);
        parser_mail_free(m);
    }
}

/* Declared UTF-8, written in Latin-1: the bytes must come back as the
 * letters, not vanish. */
static void
test_utf8_label_latin1_bytes(void)
{
    struct mail *m = parse_fixture("utf8-label-latin1-bytes.eml");

    assert_all_utf8(m);
    g_assert_cmpstr(m->text, ==, "Na\xc3\xafve r\xc3\xa9sum\xc3\xa9\n");
    parser_mail_free(m);
}

static const struct {
    const char *html;
    const char *text;
} html_cases[] = {
    { "a<br>b<br/>c", "a\nb\nc" },
    { "<p>one</p><p>two</p>", "one\ntwo" },
    { "text<p>para", "text\npara" },
    { "<div>x</div>\n\n\n\n<div>y</div>", "x\ny" },
    { "<div>x</div><div><br></div><div>y</div>", "x\n\ny" },
    { "a<br><br><br><br><br>b", "a\n\nb" },
    { "<ul><li>a</li><li>b</li></ul>", "a\nb" },
    { "<h1>T</h1>body", "T\nbody" },
    { "<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>", "a b\nc" },
    { "<SCRIPT>x = '<p>'</SCRIPT>shown", "shown" },
    { "<style>.a{}</style><b>bold</b>", "bold" },
    { "<!-- hidden <p> -->seen", "seen" },
    { "&amp;&lt;&gt;&quot;&#39;&apos;&nbsp;|", "&<>\"'' |" },
    { "&#65;&#x42;&#X43;", "ABC" },
    { "&unknown; &#xZZ; &#0; & alone", "&unknown; &#xZZ; &#0; & alone" },
    { "if 1 < 2 and 3 > 2", "if 1 < 2 and 3 > 2" },
    { "unclosed <b", "unclosed" },
    { "<script>never closed", "" },
    { "", "" },
};

static void
test_html_to_text(void)
{
    for (guint i = 0; i < G_N_ELEMENTS(html_cases); i++) {
        g_autofree char *text = parser_html_to_text(html_cases[i].html);

        g_assert_cmpstr(text, ==, html_cases[i].text);
    }
}

/* A run of '&' once cost a scan to the end per character. */
static void
test_html_linear(void)
{
    g_autofree char *amps = g_strnfill(2 * 1024 * 1024, '&');
    gint64 start = g_get_monotonic_time();
    g_autofree char *text = parser_html_to_text(amps);

    g_assert_cmpuint(strlen(text), ==, 2 * 1024 * 1024);
    g_assert_cmpint(g_get_monotonic_time() - start, <, 5 * G_USEC_PER_SEC);
}

static void
test_html_only(void)
{
    struct mail *m = parse_fixture("html-only.eml");

    assert_all_utf8(m);
    g_assert_null(strstr(m->text, "alert"));
    g_assert_null(strstr(m->text, "color"));
    g_assert_null(strstr(m->text, "<p"));
    g_assert_null(strstr(m->text, "<br"));
    g_assert_nonnull(strstr(m->text, "Fish & chips <today>"));
    g_assert_nonnull(strstr(m->text, "Line one\nLine two"));
    g_assert_nonnull(strstr(m->text, "Say \"hi\" 'there' 'x' caf\xc3\xa9 \xe2\x98\xba ok"));
    g_assert_null(strstr(m->text, "\n\n\n"));
    g_assert_true(g_str_has_suffix(m->text, "End"));
    parser_mail_free(m);
}

static void
test_crlf_text_normalised(void)
{
    const char *raw = "From: a@b.example\r\nSubject: crlf\r\n\r\none\r\ntwo\r\n";
    struct mail *m = parse_string(raw);

    g_assert_cmpstr(m->subject, ==, "crlf");
    g_assert_cmpstr(m->text, ==, "one\ntwo\n");
    parser_mail_free(m);
}

static void
test_no_text(void)
{
    const char *raw = "From: a@b.example\nContent-Type: image/png\n"
                      "Content-Transfer-Encoding: base64\n\niVBORw0KGgo=\n";
    struct mail *m = parse_string(raw);

    g_assert_cmpstr(m->text, ==, "");
    parser_mail_free(m);
}

/* ---- the digest ---- */

static char *
digest_of(const char *fixture, bool crlf)
{
    g_autofree char *path = g_strconcat(FIXTURES, fixture, NULL);
    g_autofree char *raw = NULL;
    gsize len = 0;
    struct mail *m;
    char *digest;

    g_assert_true(g_file_get_contents(path, &raw, &len, NULL));
    if (crlf) {
        g_auto(GStrv) lines = g_strsplit(raw, "\n", -1);
        g_free(raw);
        raw = g_strjoinv("\r\n", lines);
        len = strlen(raw);
    }
    m = parse_bytes(raw, len);
    digest = g_strdup(m->digest);
    parser_mail_free(m);
    return digest;
}

static void
test_digest_crlf_same(void)
{
    g_autofree char *lf = digest_of("plain-lf.eml", false);
    g_autofree char *crlf = digest_of("plain-lf.eml", true);

    g_assert_cmpstr(lf, ==, crlf);
}

static void
test_digest_trace_headers_ignored(void)
{
    g_autofree char *first = digest_of("plain-lf.eml", false);
    g_autofree char *again = digest_of("plain-relayed-again.eml", false);
    g_autofree char *again_crlf = digest_of("plain-relayed-again.eml", true);

    g_assert_cmpstr(first, ==, again);
    g_assert_cmpstr(first, ==, again_crlf);
}

static void
test_digest_body_matters(void)
{
    g_autofree char *first = digest_of("plain-lf.eml", false);
    g_autofree char *edited = digest_of("plain-body-edited.eml", false);

    g_assert_cmpstr(first, !=, edited);
}

static void
test_digest_headers_matter(void)
{
    const char *a = "From: a@b.example\nSubject: one\n\nbody\n";
    const char *b = "From: a@b.example\nSubject: two\n\nbody\n";
    const char *c = "From: a@b.example\nSubject:   one\nX-Trace: 1\n\nbody\n\n\n";
    struct mail *ma = parse_string(a);
    struct mail *mb = parse_string(b);
    struct mail *mc = parse_string(c);

    g_assert_cmpstr(ma->digest, !=, mb->digest);
    g_assert_cmpstr(ma->digest, ==, mc->digest);
    parser_mail_free(ma);
    parser_mail_free(mb);
    parser_mail_free(mc);
}

/* ---- hostile input ---- */

/* A literal with its length, NUL bytes included. */
#define BYTES(s) { s, sizeof(s) - 1 }

static void
test_empty_and_garbage(void)
{
    static const struct {
        const char *raw;
        gsize len;
    } cases[] = {
        BYTES(""),
        BYTES("\n"),
        BYTES("\r\n\r\n"),
        BYTES("\0\0\0\xff\xfe"),
        BYTES("not a header at all"),
        BYTES(":::\n:\n\n"),
        BYTES("Content-Type: multipart/mixed; boundary=x\n\n--x\n--x\n--x--"),
        BYTES("Content-Type: multipart/mixed\n\nno boundary"),
        BYTES("Content-Type: text/plain; charset=no-such-charset\n\n\xe9t\xe9\n"),
        BYTES("Content-Transfer-Encoding: base64\n\n!!!!===="),
        BYTES("Subject: =?UTF-8?B?!!!?= =?x?q?=ZZ?=\n\n"),
        BYTES("From: <<<@@@>>>, ;;;, \"unterminated\n\n"),
        BYTES("Content-Type: text/html\n\n<script>never closed &#xFFFFFFFF; &#0; &"),
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) error = NULL;
        struct mail *m;

        m = parser_mail_parse(cases[i].raw, cases[i].len, &error);
        if (m == NULL) {
            g_assert_error(error, PARSER_ERROR, PARSER_ERROR_FAILED);
            continue;
        }
        g_assert_no_error(error);
        assert_all_utf8(m);
        parser_mail_free(m);
    }
}

/* Nesting far past the walk's limit must neither recurse without bound
 * nor take long. */
static void
test_deep_nesting(void)
{
    g_autoptr(GString) raw = g_string_new("From: a@b.example\n");
    const int depth = 500;
    struct mail *m;

    for (int i = 0; i < depth; i++)
        g_string_append_printf(raw, "Content-Type: multipart/mixed; boundary=\"b%d\"\n\n--b%d\n",
                               i, i);
    g_string_append(raw, "Content-Type: text/plain\n\ndeep\n");
    for (int i = depth - 1; i >= 0; i--)
        g_string_append_printf(raw, "--b%d--\n", i);
    m = parse_bytes(raw->str, raw->len);
    assert_all_utf8(m);
    parser_mail_free(m);
}

static void
test_many_parts(void)
{
    g_autoptr(GString) raw =
        g_string_new("From: a@b.example\nContent-Type: multipart/mixed; boundary=\"x\"\n\n");
    struct mail *m;

    for (int i = 0; i < 3000; i++)
        g_string_append(raw, "--x\nContent-Type: image/gif\n\nGIF\n");
    g_string_append(raw, "--x\nContent-Type: text/plain\n\ntoo late\n--x--\n");
    m = parse_bytes(raw->str, raw->len);
    /* The text part lies past MAIL_MAX_PARTS: not looked at. */
    g_assert_cmpstr(m->text, ==, "");
    parser_mail_free(m);
}

static gpointer
parse_in_thread(gpointer data)
{
    for (int i = 0; i < 50; i++) {
        struct mail *m = parse_fixture(data);
        g_assert_cmpstr(m->message_id, ==, "20250304.101530.abc@klant.example");
        parser_mail_free(m);
    }
    return NULL;
}

static void
test_threads(void)
{
    GThread *threads[4];

    for (guint i = 0; i < G_N_ELEMENTS(threads); i++)
        threads[i] = g_thread_new("parse", parse_in_thread,
                                  i % 2 ? "plain-lf.eml" : "plain-relayed-again.eml");
    for (guint i = 0; i < G_N_ELEMENTS(threads); i++)
        g_thread_join(threads[i]);
}

static void
test_free_null(void)
{
    g_assert_null(parser_mail_free(NULL));
}

int
main(int argc, char **argv)
{
    int rc;

    g_test_init(&argc, &argv, NULL);
    parser_init();
    parser_init(); /* a second call is harmless */

    g_test_add_func("/parser/plain-fields", test_plain_fields);
    g_test_add_func("/parser/no-message-id", test_no_message_id);
    g_test_add_func("/parser/groups-flattened", test_groups_flattened);
    g_test_add_func("/parser/subject-decoding", test_subject_decoding);
    g_test_add_func("/parser/subject-crlf-removed", test_subject_crlf_removed);
    g_test_add_func("/parser/display-names", test_display_names);
    g_test_add_func("/parser/raw-8bit-headers", test_raw_8bit_headers_made_valid);
    g_test_add_func("/parser/dates", test_dates);
    g_test_add_func("/parser/text-selection", test_text_selection);
    g_test_add_func("/parser/utf8-label-latin1-bytes", test_utf8_label_latin1_bytes);
    g_test_add_func("/parser/html-only", test_html_only);
    g_test_add_func("/parser/html-to-text", test_html_to_text);
    g_test_add_func("/parser/html-linear", test_html_linear);
    g_test_add_func("/parser/crlf-text", test_crlf_text_normalised);
    g_test_add_func("/parser/no-text", test_no_text);
    g_test_add_func("/parser/digest-crlf-same", test_digest_crlf_same);
    g_test_add_func("/parser/digest-trace-ignored", test_digest_trace_headers_ignored);
    g_test_add_func("/parser/digest-body-matters", test_digest_body_matters);
    g_test_add_func("/parser/digest-headers-matter", test_digest_headers_matter);
    g_test_add_func("/parser/empty-and-garbage", test_empty_and_garbage);
    g_test_add_func("/parser/deep-nesting", test_deep_nesting);
    g_test_add_func("/parser/many-parts", test_many_parts);
    g_test_add_func("/parser/threads", test_threads);
    g_test_add_func("/parser/free-null", test_free_null);

    rc = g_test_run();
    g_mime_shutdown();
    return rc;
}
