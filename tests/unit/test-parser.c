/*
 * test-parser - parser_mail_parse() on the fixtures in tests/fixtures/parser.
 *
 * Each fixture is named for the one thing it shows.  Cases that differ only
 * in a header value (encoded words, dates) are tables of inline messages;
 * whole-message behaviour (MIME trees, charsets, the digest) uses files.
 * header.c and text.c are also driven directly (text.c on GMime messages),
 * so that header safety, msg-id lists, which part is the text and how its
 * bytes become UTF-8 are tested apart from the rest.
 * Run from the repository root: fixture paths are relative.
 */
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <gmime/gmime.h>

#include "parser/auth.h"
#include "parser/bound.h"
#include "parser/header.h"
#include "parser/html.h"
#include "parser/mail.h"
#include "parser/reply.h"
#include "parser/text.h"
#include "parser/walk.h"

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

static char *
read_fixture(const char *name, gsize *len)
{
    g_autofree char *path = g_strconcat(FIXTURES, name, NULL);
    g_autoptr(GError) error = NULL;
    char *raw = NULL;

    if (!g_file_get_contents(path, &raw, len, &error))
        g_error("%s: %s", path, error->message);
    return raw;
}

/* The same bytes with every LF turned into CRLF, as Postfix hands them over. */
static char *
to_crlf(const char *raw, gsize len, gsize *out_len)
{
    GString *out = g_string_sized_new(len + len / 16);

    for (gsize i = 0; i < len; i++) {
        if (raw[i] == '\n')
            g_string_append_c(out, '\r');
        g_string_append_c(out, raw[i]);
    }
    *out_len = out->len;
    return g_string_free(out, FALSE);
}

/* A GMime message straight from GMime, for the tests of text.c. */
static GMimeMessage *
message_of(const char *raw, gsize len)
{
    GMimeMessage *msg = parser_message_new(raw, len, NULL);

    g_assert_nonnull(msg);
    return msg;
}

static GMimeMessage *
message_of_fixture(const char *name)
{
    gsize len = 0;
    g_autofree char *raw = read_fixture(name, &len);

    return message_of(raw, len);
}

/* What may be written into a header later must be one line. */
static void
assert_one_line(const char *s)
{
    g_assert_nonnull(s);
    g_assert_null(strpbrk(s, "\r\n"));
}

/* Every string the parser hands out must be valid UTF-8. */
static void
assert_all_utf8(const struct mail *m)
{
    const char *strings[] = {
        m->message_id, m->in_reply_to, m->subject, m->date, m->text, m->digest
    };

    for (guint i = 0; i < G_N_ELEMENTS(strings); i++)
        g_assert_true(strings[i] == NULL || g_utf8_validate(strings[i], -1, NULL));
    g_assert_nonnull(m->subject);
    g_assert_nonnull(m->text);
    g_assert_nonnull(m->references);
    g_assert_nonnull(m->to);
    g_assert_nonnull(m->cc);
    assert_one_line(m->subject);
    if (m->message_id != NULL)
        assert_one_line(m->message_id);
    if (m->in_reply_to != NULL)
        assert_one_line(m->in_reply_to);
    for (guint i = 0; i < m->references->len; i++) {
        g_assert_true(g_utf8_validate(g_ptr_array_index(m->references, i), -1, NULL));
        assert_one_line(g_ptr_array_index(m->references, i));
    }
    if (m->from != NULL) {
        g_assert_true(g_utf8_validate(m->from->name, -1, NULL));
        g_assert_true(g_utf8_validate(m->from->addr, -1, NULL));
        assert_one_line(m->from->name);
        assert_one_line(m->from->addr);
    }
    for (guint i = 0; i < m->to->len + m->cc->len; i++) {
        const struct mail_address *a =
            i < m->to->len ? g_ptr_array_index(m->to, i) : g_ptr_array_index(m->cc, i - m->to->len);
        g_assert_true(g_utf8_validate(a->name, -1, NULL));
        g_assert_true(g_utf8_validate(a->addr, -1, NULL));
        assert_one_line(a->name);
        assert_one_line(a->addr);
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

static const struct {
    const char *headers;
    const char *in_reply_to; /* NULL: none */
    const char *references;  /* space-separated, "" for none */
} threading_cases[] = {
    { "In-Reply-To: <a@x.example>\nReferences: <r@x.example> <a@x.example>", "a@x.example",
      "r@x.example a@x.example" },
    /* Old clients put words around the msg-id; only the id counts. */
    { "In-Reply-To: <a@x.example> (Anna's message)", "a@x.example", "" },
    { "In-Reply-To: <first@x.example> <second@x.example>", "first@x.example", "" },
    { "References: <1@x.example>\n\t<2@x.example>\n   <3@x.example>", NULL,
      "1@x.example 2@x.example 3@x.example" },
    /* Without angle brackets there is no msg-id to take. */
    { "In-Reply-To: not-an-id\nReferences: neither", NULL, "" },
    { "X-Nothing: here", NULL, "" },
};

static void
test_threading_headers(void)
{
    for (guint i = 0; i < G_N_ELEMENTS(threading_cases); i++) {
        g_autofree char *raw =
            g_strdup_printf("From: a@b.example\n%s\n\nbody\n", threading_cases[i].headers);
        struct mail *m = parse_string(raw);
        g_autofree char *refs = NULL;

        assert_all_utf8(m);
        g_assert_cmpstr(m->in_reply_to, ==, threading_cases[i].in_reply_to);
        g_ptr_array_add(m->references, NULL);
        refs = g_strjoinv(" ", (char **)m->references->pdata);
        g_ptr_array_remove_index(m->references, m->references->len - 1);
        g_assert_cmpstr(refs, ==, threading_cases[i].references);
        parser_mail_free(m);
    }
}

/* header.c on its own. */
static const struct {
    const char *value;
    const char *text;
} header_text_cases[] = {
    { NULL, "" },
    { "  plain  ", "plain" },
    { "a\r\nBcc: x@y.example", "a  Bcc: x@y.example" },
    { "tab\there", "tab here" },
    /* Every control character, not only CR and LF. */
    { "v\vf\fe\x1b"
      "d\x7f"
      "0",
      "v f e d 0" },
    /* C1 NEL and Unicode's line and paragraph separators end lines too. */
    { "x\xc2\x85y\xe2\x80\xa8z\xe2\x80\xa9!", "x y z !" },
    { "bad \xff byte", "bad \xef\xbf\xbd byte" },
    { "Gr\xc3\xbc\xc3\x9f"
      "e \xf0\x9f\x98\x80",
      "Gr\xc3\xbc\xc3\x9f"
      "e \xf0\x9f\x98\x80" },
};

static void
test_header_text(void)
{
    for (guint i = 0; i < G_N_ELEMENTS(header_text_cases); i++) {
        g_autofree char *text = parser_header_text(header_text_cases[i].value);

        g_assert_cmpstr(text, ==, header_text_cases[i].text);
    }
}

static const struct {
    const char *value;
    const char *ids; /* space-separated, "" for none */
} msgid_cases[] = {
    { NULL, "" },
    { "", "" },
    { "<a@x.example>", "a@x.example" },
    { "<a@x.example> <b@x.example>\n\t<c@x.example>", "a@x.example b@x.example c@x.example" },
    /* GMime stops at a comma; the ids after it must not be lost. */
    { "<1@x.example>,<2@x.example> (comment) <3@x.example>",
      "1@x.example 2@x.example 3@x.example" },
    { "Your message of Tue, 4 Mar 2025 <a@x.example>", "a@x.example" },
    /* Blanks and line breaks inside an id go; an empty id is no id. */
    { "<a b@x.example> <\r\n> <>", "ab@x.example" },
    { "no brackets@x.example", "" },
    { "<<<a@x.example>>> <unclosed@x.example", "a@x.example" },
};

static void
test_msgid_list(void)
{
    for (guint i = 0; i < G_N_ELEMENTS(msgid_cases); i++) {
        g_autoptr(GPtrArray) ids = parser_msgid_list(msgid_cases[i].value);
        g_autofree char *joined = NULL;

        g_ptr_array_add(ids, NULL);
        joined = g_strjoinv(" ", (char **)ids->pdata);
        g_assert_cmpstr(joined, ==, msgid_cases[i].ids);
    }
    g_assert_null(parser_msgid_text(" \t\r\n "));
}

/* A header of nothing but brackets must cost linear time. */
static void
test_msgid_list_linear(void)
{
    g_autofree char *brackets = g_strnfill(1024 * 1024, '<');
    gint64 start = g_get_monotonic_time();
    g_autoptr(GPtrArray) ids = parser_msgid_list(brackets);

    g_assert_cmpuint(ids->len, ==, 0);
    g_assert_cmpint(g_get_monotonic_time() - start, <, 5 * G_USEC_PER_SEC);
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
    { "Subject: =?ISO-8859-1?Q?Gr=FC=DFe_aus_K=F6ln?=", "Gr\xc3\xbc\xc3\x9f"
                                                        "e aus K\xc3\xb6ln" },
    { "Subject: Re: =?UTF-8?Q?na=C3=AFve?= question", "Re: na\xc3\xafve question" },
    /* Unfolding removes the line break only (RFC 5322 2.2.3). */
    { "Subject: a folded\n  subject line", "a folded  subject line" },
    { "Subject: =?UTF-8?Q?one=0Atwo=0D=0Athree=09four?=", NULL /* checked below */ },
    { "Subject:", "" },
};

/* Parses a message with HEADER, checks every string is UTF-8 and, unless
 * WANT is NULL, that the subject is WANT. Returns the mail for more checks. */
static struct mail *
parse_subject(const char *header, const char *want)
{
    g_autofree char *raw = g_strdup_printf("From: a@b.example\n%s\n\nbody\n", header);
    struct mail *m = parse_string(raw);

    assert_all_utf8(m);
    if (want != NULL)
        g_assert_cmpstr(m->subject, ==, want);
    return m;
}

static void
test_subject_decoding(void)
{
    for (guint i = 0; i < G_N_ELEMENTS(subject_cases); i++) {
        struct mail *m = parse_subject(subject_cases[i].header, subject_cases[i].subject);

        if (subject_cases[i].subject == NULL)
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
    { "From: =?UTF-8?Q?Ren=C3=A9e_Dupont?= <renee@x.example>",
      "Ren\xc3\xa9"
      "e Dupont",
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
    /* Two-digit years and zone names from RFC 822 are still about. */
    { "Date: Thu, 6 Mar 25 10:00:00 EST", "2025-03-06T15:00:00Z" },
    { "Date: Thu, 06 Mar 2025 10:00:00", "2025-03-06T10:00:00Z" },
    { "Date: Fri, 31 Feb 2025 10:00:00 +0000", NULL },
    { "Date: next tuesday, probably", NULL },
    { "X-No-Date: here", NULL },
};

static void
test_dates(void)
{
    for (guint i = 0; i < G_N_ELEMENTS(date_cases); i++) {
        g_autofree char *raw =
            g_strdup_printf("From: a@b.example\n%s\n\nbody\n", date_cases[i].date);
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
    { "latin1-declared.eml", "Caf\xc3\xa9 cr\xc3\xa8me br\xc3\xbbl\xc3\xa9"
                             "e.\n" },
    { "unknown-charset-8bit.eml", "\xc3\x87"
                                  "a co\xc3\xbbte 5\xe2\x82\xac.\n" },
    { "windows-1252-undeclared.eml", "He said \xe2\x80\x9cit costs \xe2\x82\xac"
                                     "10\xe2\x80\x9d \xe2\x80\x93 fine.\n" },
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

/* text.c on its own: the part it picks and the text it makes of it. */
static const struct {
    const char *fixture;
    const char *text;
} part_text_cases[] = {
    { "alternative-plain-and-html.eml", "The plain version." },
    { "attachment-before-text.eml", "See the attached log." },
    { "base64-text.eml", "Hallo wereld, de koffie is op!" },
    { "latin1-declared.eml", "Caf\xc3\xa9 cr\xc3\xa8me br\xc3\xbbl\xc3\xa9"
                             "e.\n" },
    { "unknown-charset-8bit.eml", "\xc3\x87"
                                  "a co\xc3\xbbte 5\xe2\x82\xac.\n" },
    { "utf8-label-latin1-bytes.eml", "Na\xc3\xafve r\xc3\xa9sum\xc3\xa9\n" },
    { "windows-1252-undeclared.eml", "He said \xe2\x80\x9cit costs \xe2\x82\xac"
                                     "10\xe2\x80\x9d \xe2\x80\x93 fine.\n" },
    /* A byte windows-1252 leaves unassigned costs that byte only. */
    { "windows-1252-unassigned-byte.eml",
      "Caf\xc3\xa9 \xef\xbf\xbd \xe2\x80\x9cquoted\xe2\x80\x9d and \xe2\x82\xac 5\n" },
    /* Valid UTF-8 stays, the one stray byte is read as windows-1252. */
    { "utf8-with-stray-latin1-byte.eml",
      "Caf\xc3\xa9 na\xc3\xafve, then one pasted Latin-1 byte: \xc3\xa9t\xc3\xa9\n" },
    /* Outlook labels windows-1252 as Latin-1: the quotes are quotes, not C1
     * control characters. */
    { "latin1-label-cp1252-quotes.eml", "It\xe2\x80\x99s \xe2\x80\x9c"
                                        "down\xe2\x80\x9d again \xe2\x80\x93 since 9:00 at the "
                                        "caf\xc3\xa9.\n" },
    /* A declared charset other than those goes through iconv. */
    { "koi8r-declared.eml",
      "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82, \xd0\xbc\xd0\xb8\xd1\x80!\n" },
    /* The customer's own words win over what they forward ... */
    { "forward-inline-before-text.eml", "Anna's own words come after the forward." },
    /* ... and a forward is read when there are none. */
    { "forward-only.eml", "Only the forwarded message has text." },
};

static void
test_text_of_message(void)
{
    for (guint i = 0; i < G_N_ELEMENTS(part_text_cases); i++) {
        GMimeMessage *msg = message_of_fixture(part_text_cases[i].fixture);
        g_autofree char *text = parser_text_of(msg);

        g_assert_cmpstr(text, ==, part_text_cases[i].text);
        g_object_unref(msg);
    }
}

static void
test_text_part_kind(void)
{
    GMimeMessage *html = message_of_fixture("html-only.eml");
    GMimeMessage *plain = message_of_fixture("alternative-plain-and-html.eml");
    const char *none_raw = "From: a@b.example\nContent-Type: image/png\n\nPNG\n";
    GMimeMessage *none = message_of(none_raw, strlen(none_raw));
    bool is_html = false;

    g_assert_nonnull(parser_text_part(html, &is_html));
    g_assert_true(is_html);
    g_assert_nonnull(parser_text_part(plain, &is_html));
    g_assert_false(is_html);
    g_assert_null(parser_text_part(none, &is_html));
    g_assert_false(is_html);
    g_object_unref(html);
    g_object_unref(plain);
    g_object_unref(none);
}

/* The router reads no commands from a forward's text: the parser says
 * when the text is one. */
static const struct {
    const char *fixture;
    bool is_forwarded;
} forwarded_cases[] = {
    { "forward-only.eml", true },
    { "forwarded-message-attached.eml", false },
    { "forward-inline-before-text.eml", false },
    { "forward-chain-three-levels.eml", true },
    { "html-only.eml", false },
    { "plain-lf.eml", false },
};

static void
test_text_is_forwarded(void)
{
    for (guint i = 0; i < G_N_ELEMENTS(forwarded_cases); i++) {
        struct mail *m = parse_fixture(forwarded_cases[i].fixture);

        if (m->text_is_forwarded != forwarded_cases[i].is_forwarded)
            g_error("%s: text_is_forwarded is %d", forwarded_cases[i].fixture,
                    m->text_is_forwarded);
        parser_mail_free(m);
    }
}

/* A NUL inside a body must not cut off the rest of the text. */
static void
test_text_nul_byte(void)
{
    static const char raw[] = "From: a@b.example\nContent-Type: text/plain\n\nbefore\0after\n";
    GMimeMessage *msg = message_of(raw, sizeof(raw) - 1);
    g_autofree char *text = parser_text_of(msg);

    g_assert_cmpstr(text, ==, "beforeafter\n");
    g_object_unref(msg);
}

static const struct {
    const char *bytes;
    gsize len;
    const char *text;
} utf8_cases[] = {
#define CASE(b, t)                                                                                 \
    {                                                                                              \
        b, sizeof(b) - 1, t                                                                        \
    }
    CASE("", ""),
    CASE("plain ascii", "plain ascii"),
    CASE("crlf\r\nlf\nlone cr\rend\r", "crlf\nlf\nlone cr\nend\n"),
    CASE("a\0b\0", "ab"),
    CASE("caf\xc3\xa9", "caf\xc3\xa9"),
    CASE("caf\xe9", "caf\xc3\xa9"),
    CASE("\x93q\x94 \x80 \x99", "\xe2\x80\x9cq\xe2\x80\x9d \xe2\x82\xac \xe2\x84\xa2"),
    CASE("\x81\x8d\x8f\x90\x9d", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"),
    /* Mixed: both kinds of letters survive. */
    CASE("\xc3\xa9 and \xe9", "\xc3\xa9 and \xc3\xa9"),
    /* A CR just before a byte that is not UTF-8 is still a line end. */
    CASE("a\r\xe9\r\n", "a\n\xc3\xa9\n"),
    /* Overlong, surrogate and cut-off sequences are not UTF-8. */
    CASE("\xc0\xaf", "\xc3\x80\xc2\xaf"),
    CASE("\xed\xa0\x80", "\xc3\xad\xc2\xa0\xe2\x82\xac"),
    CASE("end\xe2\x82", "end\xc3\xa2\xe2\x80\x9a"),
#undef CASE
};

static void
test_bytes_to_utf8(void)
{
    for (guint i = 0; i < G_N_ELEMENTS(utf8_cases); i++) {
        g_autofree char *text = parser_text_bytes_to_utf8(utf8_cases[i].bytes, utf8_cases[i].len);

        g_assert_true(g_utf8_validate(text, -1, NULL));
        g_assert_cmpstr(text, ==, utf8_cases[i].text);
    }
}

/* Every byte value at every position: always valid UTF-8, never longer
 * than three bytes per input byte. */
static void
test_bytes_to_utf8_all_bytes(void)
{
    char all[512];
    g_autofree char *text = NULL;

    for (guint i = 0; i < sizeof(all); i++)
        all[i] = (char)(i % 256 ^ (i / 256) * 0x5a);
    text = parser_text_bytes_to_utf8(all, sizeof(all));
    g_assert_true(g_utf8_validate(text, -1, NULL));
    g_assert_cmpuint(strlen(text), <=, 3 * sizeof(all));
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
    { "&unknown; & alone", "&unknown; & alone" },
    /* A numeric reference libxml2 cannot read is dropped as far as it read
     * it; U+0000 is no character to show. */
    { "&#xZZ; &#0;|", "ZZ; |" },
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

/* A run of '&' once cost a scan to the end per character.  As much as the
 * HTML bound lets through is read whole. */
static void
test_html_linear(void)
{
    g_autofree char *amps = g_strnfill(PARSER_HTML_MAX_BYTES, '&');
    gint64 start = g_get_monotonic_time();
    g_autofree char *text = parser_html_to_text(amps);

    g_assert_cmpuint(strlen(text), ==, PARSER_HTML_MAX_BYTES);
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

/* Postfix hands the milter CRLF line ends; the fixtures are written with
 * LF.  Either way every field must come out the same. */
static void
test_crlf_same_fields(void)
{
    g_autoptr(GDir) dir = g_dir_open(FIXTURES, 0, NULL);
    const char *name;
    guint n = 0;

    g_assert_nonnull(dir);
    while ((name = g_dir_read_name(dir)) != NULL) {
        gsize len = 0, crlf_len = 0;
        g_autofree char *raw = NULL;
        g_autofree char *crlf = NULL;
        struct mail *a, *b;

        if (!g_str_has_suffix(name, ".eml"))
            continue;
        raw = read_fixture(name, &len);
        /* A fixture with CRs of its own is about them. */
        if (memchr(raw, '\r', len) != NULL)
            continue;
        crlf = to_crlf(raw, len, &crlf_len);
        a = parse_bytes(raw, len);
        b = parse_bytes(crlf, crlf_len);
        assert_all_utf8(b);
        g_assert_cmpstr(a->message_id, ==, b->message_id);
        g_assert_cmpstr(a->in_reply_to, ==, b->in_reply_to);
        g_assert_cmpuint(a->references->len, ==, b->references->len);
        g_assert_cmpstr(a->subject, ==, b->subject);
        g_assert_cmpstr(a->date, ==, b->date);
        g_assert_cmpuint(a->to->len, ==, b->to->len);
        g_assert_cmpuint(a->cc->len, ==, b->cc->len);
        g_assert_true((a->from == NULL) == (b->from == NULL));
        if (a->from != NULL) {
            g_assert_cmpstr(a->from->name, ==, b->from->name);
            g_assert_cmpstr(a->from->addr, ==, b->from->addr);
        }
        g_assert_cmpstr(a->text, ==, b->text);
        g_assert_cmpstr(a->digest, ==, b->digest);
        parser_mail_free(a);
        parser_mail_free(b);
        n++;
    }
    g_assert_cmpuint(n, >=, 20);
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

/* Pairs of inline messages: is the second the same message as the first? */
static const struct {
    const char *a;
    const char *b;
    bool same;
} digest_cases[] = {
    { "From: a@b.example\nSubject: one\n\nbody\n", "From: a@b.example\nSubject: two\n\nbody\n",
      false },
    /* Whitespace inside a value, trace headers and trailing blank lines
     * are what relays change. */
    { "From: a@b.example\nSubject: one\n\nbody\n",
      "Received: from x by y\nFrom:  a@b.example \nSubject:   one\nX-Trace: 1\n\nbody\n\n\n",
      true },
    { "From: a@b.example\nSubject: a b c\n\nbody\n",
      "From: a@b.example\nSubject: a\n\tb\n  c\n\nbody \n", true },
    { "From: a@b.example\nSubject: one\n\nbody\n",
      "Return-Path: <a@b.example>\nAuthentication-Results: mx; spf=pass\n"
      "DKIM-Signature: v=1; b=x\nFrom: a@b.example\nSubject: one\n\nbody\n",
      true },
    /* Header names are case-insensitive, and their order does not matter. */
    { "From: a@b.example\nSubject: one\n\nbody\n", "subject: one\nFROM: a@b.example\n\nbody\n",
      true },
    /* Each of the headers that say what a message is counts. */
    { "From: a@b.example\n\nbody\n", "From: c@b.example\n\nbody\n", false },
    { "From: a@b.example\n\nbody\n", "From: a@b.example\nTo: s@h.example\n\nbody\n", false },
    { "From: a@b.example\n\nbody\n", "From: a@b.example\nCc: s@h.example\n\nbody\n", false },
    { "From: a@b.example\n\nbody\n",
      "From: a@b.example\nDate: Tue, 04 Mar 2025 10:15:30 +0200\n\nbody\n", false },
    { "From: a@b.example\n\nbody\n", "From: a@b.example\nMessage-ID: <m@b.example>\n\nbody\n",
      false },
    { "From: a@b.example\n\nbody\n", "From: a@b.example\nIn-Reply-To: <m@b.example>\n\nbody\n",
      false },
    { "From: a@b.example\n\nbody\n", "From: a@b.example\nReferences: <m@b.example>\n\nbody\n",
      false },
    /* A header value cannot pass for the next header's. */
    { "From: a@b.example\nTo: x\n\nbody\n", "From: a@b.example\nCc: x\n\nbody\n", false },
    /* The body counts, inner blank lines included. */
    { "From: a@b.example\n\nbody\n", "From: a@b.example\n\nbody2\n", false },
    { "From: a@b.example\n\na\nb\n", "From: a@b.example\n\na\n\nb\n", false },
    { "From: a@b.example\n\na\nb\n", "From: a@b.example\r\n\r\na\r\nb\r\n", true },
};

static void
test_digest_cases(void)
{
    for (guint i = 0; i < G_N_ELEMENTS(digest_cases); i++) {
        struct mail *a = parse_string(digest_cases[i].a);
        struct mail *b = parse_string(digest_cases[i].b);

        if (digest_cases[i].same)
            g_assert_cmpstr(a->digest, ==, b->digest);
        else
            g_assert_cmpstr(a->digest, !=, b->digest);
        parser_mail_free(a);
        parser_mail_free(b);
    }
}

/* The digest is a fixed value for a fixed message: a change in how it is
 * computed would make every stored message look new. */
static void
test_digest_stable(void)
{
    struct mail *m = parse_string("From: a@b.example\nSubject:  one\n\nbody\n\n");
    g_autofree char *expected = g_compute_checksum_for_string(
        G_CHECKSUM_SHA256, "From:a@b.example\nSubject:one\n\nbody", -1);

    g_assert_cmpstr(m->digest, ==, expected);
    parser_mail_free(m);
}

/* ---- hostile input ---- */

/* A literal with its length, NUL bytes included. */
#define BYTES(s)                                                                                   \
    {                                                                                              \
        s, sizeof(s) - 1                                                                           \
    }

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
        g_string_append_printf(raw, "Content-Type: multipart/mixed; boundary=\"b%d\"\n\n--b%d\n", i,
                               i);
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
    /* The text part lies past the part limit: not looked at. */
    g_assert_cmpstr(m->text, ==, "");
    parser_mail_free(m);
}

/* ---- limits ---- */

static GString *
nested(int depth)
{
    GString *raw = g_string_new("From: a@b.example\nSubject: deep\n");

    for (int i = 0; i < depth; i++)
        g_string_append_printf(raw, "Content-Type: multipart/mixed; boundary=\"b%d\"\n\n--b%d\n", i,
                               i);
    g_string_append(raw, "Content-Type: text/plain\n\ndeep\n");
    for (int i = depth - 1; i >= 0; i--)
        g_string_append_printf(raw, "--b%d--\n", i);
    return raw;
}

static void
test_limit_depth(void)
{
    const struct parser_limits limits = { 3, 500, 1000 };
    g_autoptr(GString) shallow = nested(3);
    g_autoptr(GString) deep = nested(4);
    struct mail *m;

    m = parser_mail_parse_limited(shallow->str, shallow->len, &limits, NULL);
    g_assert_cmpstr(m->text, ==, "deep");
    g_assert_cmpuint(m->limits_hit, ==, 0);
    parser_mail_free(m);
    m = parser_mail_parse_limited(deep->str, deep->len, &limits, NULL);
    g_assert_cmpstr(m->text, ==, "");
    g_assert_cmpuint(m->limits_hit, ==, MAIL_LIMIT_DEPTH);
    g_assert_cmpstr(m->subject, ==, "deep");
    parser_mail_free(m);
}

/* A thousand levels: parsed, bounded, and fast (the 100 ms). */
static void
test_limit_depth_1000_fast(void)
{
    g_autoptr(GString) raw = nested(1000);
    gint64 start = g_get_monotonic_time();
    struct mail *m = parser_mail_parse(raw->str, raw->len, NULL);
    gint64 took = g_get_monotonic_time() - start;

    g_assert_nonnull(m);
    g_assert_true(m->limits_hit & MAIL_LIMIT_DEPTH);
    parser_mail_free(m);
    g_test_message("1000 levels in %" G_GINT64_FORMAT " us", took);
    /* Sanitizer builds are several times slower. */
    g_assert_cmpint(took, <, 500 * 1000);
}

static void
test_limit_parts(void)
{
    const struct parser_limits limits = { 50, 5, 1000 };
    g_autoptr(GString) raw =
        g_string_new("From: a@b.example\nContent-Type: multipart/mixed; boundary=\"x\"\n\n"
                     "--x\nContent-Type: text/plain\n\nfirst\n");
    struct mail *m;

    for (int i = 0; i < 10; i++)
        g_string_append_printf(raw, "--x\nContent-Type: image/gif; name=\"%d.gif\"\n\nGIF\n", i);
    g_string_append(raw, "--x--\n");
    m = parser_mail_parse_limited(raw->str, raw->len, &limits, NULL);
    g_assert_cmpstr(m->text, ==, "first");
    /* The multipart, the text and three images make five. */
    g_assert_cmpuint(m->attachments->len, ==, 3);
    g_assert_cmpuint(m->limits_hit, ==, MAIL_LIMIT_PARTS);
    parser_mail_free(m);
}

static void
test_limit_headers(void)
{
    const struct parser_limits limits = { 50, 500, 10 };
    g_autoptr(GString) raw = g_string_new("From: a@b.example\nSubject: kept\n");
    struct mail *m;

    for (int i = 0; i < 8; i++)
        g_string_append_printf(raw, "X-Pad-%d: x\n folded\n", i);
    g_string_append(raw, "Reply-To: late@b.example\r\nList-Id: <late.b.example>\n\nbody\n");
    m = parser_mail_parse_limited(raw->str, raw->len, &limits, NULL);
    g_assert_cmpstr(m->subject, ==, "kept");
    g_assert_null(m->reply_to);
    g_assert_null(m->list_id);
    g_assert_cmpstr(m->text, ==, "body\n");
    g_assert_cmpuint(m->limits_hit, ==, MAIL_LIMIT_HEADERS);
    parser_mail_free(m);
    /* Exactly at the limit is within it. */
    m = parser_mail_parse_limited(raw->str, raw->len, &(struct parser_limits){ 50, 500, 11 }, NULL);
    g_assert_nonnull(m->reply_to);
    g_assert_cmpuint(m->limits_hit, ==, MAIL_LIMIT_HEADERS);
    parser_mail_free(m);
    m = parser_mail_parse_limited(raw->str, raw->len, &(struct parser_limits){ 50, 500, 12 }, NULL);
    g_assert_cmpstr(m->list_id, ==, "late.b.example");
    g_assert_cmpuint(m->limits_hit, ==, 0);
    parser_mail_free(m);
}

/* Generated here, not kept in the tree: 20 MB of base64. */
static void
test_attachment_20mb(void)
{
    const gsize size = 20 * 1024 * 1024;
    g_autofree guchar *data = g_malloc(size);
    g_autofree char *b64 = NULL;
    g_autofree char *expected = NULL;
    g_autofree char *dir = g_dir_make_tmp("tm-parser-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "big-attachment.eml", NULL);
    g_autofree char *raw = NULL;
    g_autoptr(GString) msg = g_string_new(
        "From: a@b.example\nSubject: big\nContent-Type: multipart/mixed; boundary=\"z\"\n\n"
        "--z\nContent-Type: text/plain\n\nThe dump is attached.\n--z\n"
        "Content-Type: application/octet-stream\n"
        "Content-Disposition: attachment; filename=\"core.dump\"\n"
        "Content-Transfer-Encoding: base64\n\n");
    const struct mail_attachment *a;
    gsize len = 0;
    struct mail *m;

    g_assert_nonnull(dir);
    for (gsize i = 0; i < size; i++)
        data[i] = (guchar)(i * 7 + i / 4096);
    expected = g_compute_checksum_for_data(G_CHECKSUM_SHA256, data, size);
    b64 = g_base64_encode(data, size);
    for (gsize i = 0, n = strlen(b64); i < n; i += 76) {
        g_string_append_len(msg, b64 + i, MIN(76, n - i));
        g_string_append_c(msg, '\n');
    }
    g_string_append(msg, "--z--\n");
    g_assert_true(g_file_set_contents(path, msg->str, (gssize)msg->len, NULL));
    g_assert_true(g_file_get_contents(path, &raw, &len, NULL));
    m = parse_bytes(raw, len);
    g_assert_cmpstr(m->text, ==, "The dump is attached.");
    g_assert_cmpuint(m->attachments->len, ==, 1);
    a = g_ptr_array_index(m->attachments, 0);
    g_assert_cmpstr(a->filename, ==, "core.dump");
    g_assert_cmpuint(a->size, ==, size);
    g_assert_cmpstr(a->sha256, ==, expected);
    parser_mail_free(m);
    g_remove(path);
    g_rmdir(dir);
}

/* ---- Authentication-Results ---- */

static const struct {
    const char *value;
    const char *results; /* "id method result d from; ..." with - for NULL */
} auth_cases[] = {
    { "mx.example; dkim=pass header.d=a.example", "mx.example dkim pass a.example -" },
    { "MX.Example 1; SPF=Pass smtp.mailfrom=x; DMARC=FAIL header.from=A.Example",
      "mx.example spf pass - -; mx.example dmarc fail - a.example" },
    { "mx.example (our server); dkim=pass (good) header.d=\"q.example\" header.s=s1",
      "mx.example dkim pass q.example -" },
    { "mx.example; dkim/2 = neutral header.d=b.example", "mx.example dkim neutral b.example -" },
    { "mx.example; none", "" },
    { "; dkim=pass", "" },
    { "", "" },
    { "mx.example; dkim=pass (a; b) header.d=c.example; spf=none",
      "mx.example dkim pass c.example -; mx.example spf none - -" },
    { "mx.example; (unclosed dkim=pass", "" },
};

static void
test_auth_results(void)
{
    for (guint i = 0; i < G_N_ELEMENTS(auth_cases); i++) {
        g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(parser_auth_result_free);
        g_autoptr(GString) got = g_string_new(NULL);

        parser_auth_results(auth_cases[i].value, out);
        for (guint j = 0; j < out->len; j++) {
            const struct mail_auth_result *r = g_ptr_array_index(out, j);
            g_string_append_printf(got, "%s%s %s %s %s %s", j > 0 ? "; " : "", r->authserv_id,
                                   r->method, r->result, r->header_d ? r->header_d : "-",
                                   r->header_from ? r->header_from : "-");
        }
        g_assert_cmpstr(got->str, ==, auth_cases[i].results);
    }
}

/* ---- the new part of a reply ---- */

static const struct {
    const char *text;
    const char *reply;
} reply_cases[] = {
    { "", "" },
    { "just text\n", "just text\n" },
    { "new\n\nOn Mon, 3 Mar 2025, A <a@x> wrote:\n> old\n", "new\n" },
    { "new\nOp ma 3 mrt 2025 om 10:00 schreef A <a@x>:\n\n> oud\n", "new\n" },
    { "neu\nAm Mo., 3. März 2025 um 10:00 Uhr schrieb A <a@x>:\n> alt\n", "neu\n" },
    /* Without a quote below it, the same words are the customer's. */
    { "On Monday it wrote:\nerror 5\n", "On Monday it wrote:\nerror 5\n" },
    { "answer\n> q\nmore\n", "answer\nmore\n" },
    { "text\n-- \nsig\n", "text\n" },
    /* "--" without the blank is not the separator. */
    { "a\n--\nb\n", "a\n--\nb\n" },
    { "top\n-----Original Message-----\nFrom: x\n", "top\n" },
    { "top\n----- Oorspronkelijk bericht -----\nx\n", "top\n" },
    { "top\nFrom: S <s@x>\nSent: Monday\nTo: A\n\nold\n", "top\n" },
    { "top\nVon: S <s@x>\nGesendet: Montag\n", "top\n" },
    { "top\n__________________\n\nVan: S\nVerzonden: maandag\n", "top\n" },
    /* A From: line alone is just text. */
    { "From: the logs\nwe see errors\n", "From: the logs\nwe see errors\n" },
    { "> all quoted\n", "" },
};

static void
test_reply_text(void)
{
    for (guint i = 0; i < G_N_ELEMENTS(reply_cases); i++) {
        g_autofree char *reply = parser_reply_text(reply_cases[i].text);

        g_assert_cmpstr(reply, ==, reply_cases[i].reply);
    }
}

/* ---- encoded words ---- */

static const struct {
    const char *raw;
    const char *subject;
} word_cases[] = {
    { "=?us-ascii?Q?caf=E9?=", "caf\xc3\xa9" },
    { "=?utf-8?Q?caf=E9?=", "caf\xc3\xa9" },
    { "=?utf-8?Q?caf=C3=A9?=", "caf\xc3\xa9" },
    /* A character split between two words. */
    { "=?UTF-8?B?w4?= =?UTF-8?B?k=?=", NULL },
    { "=?UTF-8?Q?=C3?=\n =?UTF-8?Q?=A9t=C3=A9?=", "\xc3\xa9t\xc3\xa9" },
    { "=?x-unknown?Q?a=E9?=", "a\xc3\xa9" },
    { "=?iso-8859-2?Q?=B1?=", "\xc4\x85" },
    { "=?utf-8*en?Q?lang?=", "lang" },
    { "plain \xe9t\xe9", "plain \xc3\xa9t\xc3\xa9" },
    { "=?utf-8?Q?unterminated", "=?utf-8?Q?unterminated" },
    { "a =?utf-8?q?b?= c", "a b c" },
    /* Adjacent words of two charsets: both stay. */
    { "=?iso-8859-1?q?=E9?= =?utf-8?q?=C3=A9?=", "\xc3\xa9\xc3\xa9" },
    { "=?utf-8?b?w6k=?= =?iso-8859-1?q?=E9?= =?utf-8?b?w6k=?=", "\xc3\xa9\xc3\xa9\xc3\xa9" },
};

static void
test_encoded_words(void)
{
    for (guint i = 0; i < G_N_ELEMENTS(word_cases); i++) {
        g_autofree char *header = g_strconcat("Subject: ", word_cases[i].raw, NULL);
        parser_mail_free(parse_subject(header, word_cases[i].subject));
    }
}

/* A header of nothing but word starts must cost linear time. */
static void
test_encoded_words_linear(void)
{
    g_autoptr(GString) raw = g_string_new("=?");
    gint64 start;
    g_autofree char *fixed = NULL;

    for (int i = 0; i < 200000; i++)
        g_string_append(raw, "=?a?Q?");
    start = g_get_monotonic_time();
    fixed = parser_header_fix_words(raw->str);
    g_assert_nonnull(fixed);
    g_assert_cmpint(g_get_monotonic_time() - start, <, 5 * G_USEC_PER_SEC);
}

/* ---- bounded work per message ---- */

/* A value of PIECE repeated to at least SIZE bytes. */
static char *
repeated(const char *piece, gsize size)
{
    GString *s = g_string_new(NULL);

    while (s->len < size)
        g_string_append(s, piece);
    return g_string_free(s, FALSE);
}

/* A message with one more header field NAME: VALUE. */
static struct mail *
parse_with_header(const char *name, const char *value)
{
    g_autofree char *raw = g_strdup_printf("From: Anna <anna@klant.example>\n"
                                           "To: support@help.example\n"
                                           "Message-ID: <bound@klant.example>\n"
                                           "%s: %s\n\nbody\n",
                                           name, value);
    struct mail *m = parse_string(raw);

    assert_all_utf8(m);
    return m;
}

/* Every byte of S is one of the bytes of ALLOWED (UTF-8 sequences too). */
static bool
made_of(const char *s, const char *allowed)
{
    g_autofree char *rest = g_strdup(s);
    gsize n = strlen(allowed);

    for (char *p = rest; *p != '\0';) {
        if (strncmp(p, allowed, n) != 0)
            return false;
        p += n;
    }
    return true;
}

static const struct {
    const char *piece;   /* repeated to 100 KB in the Subject */
    const char *decoded; /* what every piece decodes to */
} long_subject_cases[] = {
    { "=?utf-8?q?a?= ", "a" },
    { "=?utf-8?b?w6k=?= ", "\xc3\xa9" },
    { "=?UTF-8?B?w6k=?= =?utf-8?Q?=C3=A9?= ", "\xc3\xa9" },
    { "=?iso-8859-1?q?=E9?= =?utf-8?q?=C3=A9?= ", "\xc3\xa9" },
    { "=?utf-8?q?=C3=A9?==?utf-8?q?=C3=A9?=", "\xc3\xa9" },
    /* Raw UTF-8, no blank at all: cut between characters. */
    { "\xc3\xa9", "\xc3\xa9" },
};

/* A subject past the bound is a prefix of what it says, valid UTF-8, and
 * no encoded word is cut into its bytes. */
static void
test_long_subject_prefix(void)
{
    for (guint i = 0; i < G_N_ELEMENTS(long_subject_cases); i++) {
        g_autofree char *value = repeated(long_subject_cases[i].piece, 100 * 1024);
        struct mail *m = parse_with_header("Subject", value);

        g_assert_cmpuint(strlen(m->subject), >, 1000);
        g_assert_cmpuint(strlen(m->subject), <=, PARSER_MAX_HEADER_VALUE);
        g_assert_true(made_of(m->subject, long_subject_cases[i].decoded));
        g_assert_true(m->limits_hit & MAIL_LIMIT_HEADER_BYTES);
        parser_mail_free(m);
    }
}

/* A word that straddles the bound is left out whole, not cut. */
static void
test_long_subject_straddling_word(void)
{
    g_autofree char *words = repeated("x ", PARSER_MAX_HEADER_VALUE - 20);
    g_autofree char *tail = g_strnfill(200, 'b');
    g_autofree char *value = g_strconcat(words, "=?utf-8?q?", tail, "?= end", NULL);
    struct mail *m = parse_with_header("Subject", value);

    g_assert_null(strstr(m->subject, "=?"));
    g_assert_null(strchr(m->subject, 'b'));
    g_assert_cmpuint(strspn(m->subject, "x "), ==, strlen(m->subject));
    g_assert_cmpuint(strlen(m->subject), >, 1000);
    parser_mail_free(m);
}

static const struct {
    const char *value;
    gsize limit;
    gsize cut;
} cut_text_cases[] = {
    { "short", 10, 5 },
    { "aaa bbb ccc", 9, 7 },
    { "=?utf-8?q?ab?= c", 14, 14 },
    { "=?utf-8?q?ab?= c", 13, 0 },
    { "x =?utf-8?q?ab?=", 10, 2 },
    { "abcdef", 4, 4 },
    /* Not inside a UTF-8 character. */
    { "a\xc3\xa9\xc3\xa9", 4, 3 },
    { "=?utf-8?q?unterminated", 8, 8 },
};

static void
test_cut_text(void)
{
    for (guint i = 0; i < G_N_ELEMENTS(cut_text_cases); i++)
        g_assert_cmpuint(parser_header_cut_text(cut_text_cases[i].value, cut_text_cases[i].limit),
                         ==, cut_text_cases[i].cut);
}

/* References past the bound: the first id and the last ones stay, ids
 * between them are dropped, none is cut. */
static void
test_long_references(void)
{
    GString *value = g_string_new(NULL);
    struct mail *m;
    guint last = 0;

    for (guint i = 0; i < 20000; i++)
        g_string_append_printf(value, "%s<id-%u@klant.example>", i % 3 == 0 ? "\n " : " ", i);
    m = parse_with_header("References", value->str);
    g_assert_cmpuint(m->references->len, >, 100);
    g_assert_cmpuint(m->references->len, <, 20000);
    g_assert_cmpstr(g_ptr_array_index(m->references, 0), ==, "id-0@klant.example");
    g_assert_cmpstr(g_ptr_array_index(m->references, m->references->len - 1), ==,
                    "id-19999@klant.example");
    for (guint i = 1; i < m->references->len; i++) {
        guint n = 0;
        g_assert_cmpint(sscanf(g_ptr_array_index(m->references, i), "id-%u@klant.example", &n), ==,
                        1);
        g_autofree char *want = g_strdup_printf("id-%u@klant.example", n);
        g_assert_cmpstr(g_ptr_array_index(m->references, i), ==, want);
        g_assert_cmpuint(n, >, last);
        last = n;
    }
    g_assert_true(m->limits_hit & MAIL_LIMIT_HEADER_BYTES);
    parser_mail_free(m);
    g_string_free(value, TRUE);
}

/* In-Reply-To and Message-ID are cut after a whole id; an id longer than a
 * line is no id. */
static void
test_long_msgids(void)
{
    g_autofree char *ids = repeated("<x@klant.example> ", 100 * 1024);
    g_autofree char *huge = repeated("m", 2000);
    g_autofree char *huge_id = g_strconcat("<", huge, "@klant.example>", NULL);
    g_autofree char *raw = g_strconcat("From: a@klant.example\nMessage-ID: ", huge_id,
                                       "\nIn-Reply-To: ", ids, "\n\nbody\n", NULL);
    struct mail *m = parse_string(raw);

    assert_all_utf8(m);
    g_assert_null(m->message_id);
    g_assert_cmpstr(m->in_reply_to, ==, "x@klant.example");
    parser_mail_free(m);
    g_assert_null(parser_msgid_text(huge));
}

/* A From of 10,000 addresses: the first is the sender, the rest is not all
 * read; nothing of it takes long. */
static void
test_long_address_lists(void)
{
    GString *value = g_string_new("=?utf-8?q?Anna_=C3=A9?= <anna@klant.example>");
    g_autofree char *raw = NULL;
    struct mail *m;
    gint64 start;

    for (guint i = 1; i < 10000; i++)
        g_string_append_printf(value, ",\n \"Customer %u\" <c%u@klant.example>", i, i);
    raw = g_strdup_printf("From: %s\nTo: %s\nCc: %s\n\nbody\n", value->str, value->str, value->str);
    start = g_get_monotonic_time();
    m = parse_string(raw);
    g_assert_cmpint(g_get_monotonic_time() - start, <, 2 * G_USEC_PER_SEC);
    assert_all_utf8(m);
    g_assert_cmpstr(m->from->addr, ==, "anna@klant.example");
    g_assert_cmpstr(m->from->name, ==, "Anna \xc3\xa9");
    g_assert_cmpuint(m->to->len, >, 100);
    g_assert_cmpuint(m->to->len, <, 10000);
    assert_address(m->to, 1, "Customer 1", "c1@klant.example");
    g_assert_true(m->limits_hit & MAIL_LIMIT_HEADER_BYTES);
    parser_mail_free(m);
    g_string_free(value, TRUE);
}

static const struct {
    const char *value;
    const char *units; /* joined with " | " */
} unit_cases[] = {
    { "a@x, b@y", "a@x| b@y" },
    { "Smith, John <j@x>, c@y", "Smith, John <j@x>| c@y" },
    { "\"Doe, Jane\" <j@x>", "\"Doe, Jane\" <j@x>" },
    { "\"x,victim1@other.test,victim2@third.test,y\"@evil.test",
      "\"x,victim1@other.test,victim2@third.test,y\"@evil.test" },
    { "a@x (comment, with comma), b@y", "a@x (comment, with comma)| b@y" },
    { "a@x, \"open, quote@y", "a@x" },
    { "a@x, (open comment@y", "a@x" },
    { "Team: a@x, b@y;", "Team: a@x| b@y;" },
    { "\"esc\\\", aped\" <e@x>", "\"esc\\\", aped\" <e@x>" },
    /* Names joined to an address over three commas at most. */
    { "n1, n2, n3, n4, n5 <a@x>", "n1| n2, n3, n4, n5 <a@x>" },
    { "", "" },
};

static void
test_address_units(void)
{
    for (guint i = 0; i < G_N_ELEMENTS(unit_cases); i++) {
        g_autoptr(GPtrArray) units = parser_address_units(unit_cases[i].value, 1024, NULL);
        g_autofree char *joined = NULL;

        g_ptr_array_add(units, NULL);
        joined = g_strjoinv("|", (char **)units->pdata);
        g_assert_cmpstr(joined, ==, unit_cases[i].units);
    }
}

/* The read stops before the address that would pass the bound. */
static void
test_address_units_bounded(void)
{
    g_autofree char *value = repeated("someone@klant.example, ", 10000);
    gsize used = 0;
    g_autoptr(GPtrArray) units = parser_address_units(value, 1000, &used);

    g_assert_cmpuint(used, <=, 1000);
    g_assert_cmpuint(used, >, 900);
    /* Each read up to its comma: the blank after it starts the next. */
    g_assert_cmpuint(units->len, ==, (used + 1) / strlen("someone@klant.example, "));
}

/* A quoted local part with commas and '@' is one address, never the
 * addresses written inside it. */
static void
test_quoted_local_part(void)
{
    struct mail *m = parse_string(
        "From: \"x,victim1@other.test,victim2@third.test,y\"@evil.test\n"
        "To: \"x,victim1@other.test,victim2@third.test,y\"@evil.test, support@help.example\n"
        "\nbody\n");

    assert_all_utf8(m);
    g_assert_nonnull(m->from);
    g_assert_cmpstr(m->from->addr, !=, "victim1@other.test");
    g_assert_nonnull(strstr(m->from->addr, "evil.test"));
    g_assert_cmpuint(m->to->len, ==, 2);
    for (guint i = 0; i < m->to->len; i++) {
        const struct mail_address *a = g_ptr_array_index(m->to, i);
        g_assert_cmpstr(a->addr, !=, "victim1@other.test");
        g_assert_cmpstr(a->addr, !=, "victim2@third.test");
    }
    parser_mail_free(m);
}

/* Shapes that made GMime quadratic or deep, in the message and in a
 * forwarded one: each parses in far less than a second (they took 1 to
 * 20 s, or overflowed the stack). */
static void
test_hostile_shapes_fast(void)
{
    static const struct {
        const char *name;
        const char *piece;
    } shapes[] = {
        { "Subject", "=?utf-8?q?a " },
        { "Subject", "=?a?q?a" },
        { "To", "a, " },
        { "To", "a b, " },
        { "To", "\"a, " },
        { "To", "a:" },
        { "To", "@ \"a, a, a, a, a, a, a, a, a\", " },
        { "Content-Description", "=?utf-8?q?a " },
    };

    for (guint i = 0; i < G_N_ELEMENTS(shapes); i++) {
        g_autofree char *value = repeated(shapes[i].piece, 400 * 1024);
        g_autofree char *top =
            g_strdup_printf("From: a@klant.example\n%s: %s\n\nbody\n", shapes[i].name, value);
        g_autofree char *inner = g_strdup_printf(
            "From: a@klant.example\nMIME-Version: 1.0\n"
            "Content-Type: multipart/mixed; boundary=\"b\"\n\n--b\n\ntext\n"
            "--b\nContent-Type: message/rfc822\n\nFrom: x@y.example\n%s: %s\n\ninner\n--b--\n",
            shapes[i].name, value);
        const char *raws[] = { top, inner };

        for (guint r = 0; r < G_N_ELEMENTS(raws); r++) {
            gint64 start = g_get_monotonic_time();
            struct mail *m = parse_string(raws[r]);
            assert_all_utf8(m);
            g_assert_cmpint(g_get_monotonic_time() - start, <, G_USEC_PER_SEC);
            parser_mail_free(m);
        }
    }
}

/* GMime builds every part; past what the walk could look at, the parts
 * are not given to it.  The boundary is read in the plain forms and, when
 * it is written otherwise, every "--" line counts. */
static void
test_many_empty_parts_fast(void)
{
    static const char *const types[] = {
        "multipart/mixed; boundary=\"p\"",
        "multipart/mixed; boundary=p",
        "multipart/mixed; boundary*=''p",
        "multipart/mixed; boundary=(c)p",
    };

    for (guint t = 0; t < G_N_ELEMENTS(types); t++) {
        GString *raw = g_string_new(NULL);
        struct mail *m;
        gint64 start;

        g_string_append_printf(raw,
                               "From: a@klant.example\nMIME-Version: 1.0\nContent-Type: %s\n\n"
                               "--p\nContent-Type: text/plain\n\nfirst\n",
                               types[t]);
        for (guint i = 0; i < 200000; i++)
            g_string_append(raw, "--p\n\nx\n");
        g_string_append(raw, "--p--\n");
        start = g_get_monotonic_time();
        m = parse_bytes(raw->str, raw->len);
        g_assert_cmpint(g_get_monotonic_time() - start, <, G_USEC_PER_SEC);
        g_assert_true(m->limits_hit & MAIL_LIMIT_PARTS);
        g_assert_cmpstr(m->text, ==, "first");
        parser_mail_free(m);
        g_string_free(raw, TRUE);
    }
}

/* Lines starting with "--" that are no declared boundary cut nothing. */
static void
test_dash_lines_in_text_kept(void)
{
    GString *raw = g_string_new("From: a@klant.example\nSubject: SQL\n\n");
    struct mail *m;

    for (guint i = 0; i < 3000; i++)
        g_string_append_printf(raw, "-- step %u\nSELECT %u;\n", i, i);
    g_string_append(raw, "-- the end\n");
    m = parse_bytes(raw->str, raw->len);
    g_assert_true(g_str_has_suffix(m->text, "-- the end\n"));
    g_assert_cmpuint(m->limits_hit, ==, 0);
    parser_mail_free(m);
    g_string_free(raw, TRUE);
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

/* RFC 3834: only the token "no" says a person sent it; the token is the
 * value up to ';' or a blank, exactly, in any case.  The same for the
 * Precedence and X-Auto-Response-Suppress words. */
static const struct {
    const char *header;
    bool is_auto_submitted;
    bool is_bulk;
    bool suppress_autoreply;
} auto_cases[] = {
    { "Auto-Submitted: no", false, false, false },
    { "Auto-Submitted: No", false, false, false },
    { "Auto-Submitted:  no ; reason=manual", false, false, false },
    { "Auto-Submitted: no;x=1", false, false, false },
    { "Auto-Submitted: no (sent by hand)", false, false, false },
    { "Auto-Submitted: (by hand) no", false, false, false },
    { "Auto-Submitted: no-thanks", true, false, false },
    { "Auto-Submitted: nope", true, false, false },
    { "Auto-Submitted: nono", true, false, false },
    { "Auto-Submitted: auto-replied", true, false, false },
    { "Auto-Submitted: Auto-Generated; owner-email=\"x@y.example\"", true, false, false },
    { "Auto-Submitted:", true, false, false },
    { "Auto-Submitted: (no", true, false, false },
    { "Precedence: bulk", false, true, false },
    { "Precedence: BULK (newsletter)", false, true, false },
    { "Precedence: list", false, true, false },
    { "Precedence: bulky", false, false, false },
    { "Precedence: listing", false, false, false },
    { "Precedence: first-class", false, false, false },
    { "X-Auto-Response-Suppress: DR, OOF, AutoReply", false, false, true },
    { "X-Auto-Response-Suppress: All", false, false, true },
    { "X-Auto-Response-Suppress: Allow", false, false, false },
    { "X-Auto-Response-Suppress: RN, NRN", false, false, false },
};

static void
test_auto_tokens(void)
{
    for (guint i = 0; i < G_N_ELEMENTS(auto_cases); i++) {
        g_autofree char *raw = g_strdup_printf(
            "From: anna@klant.example\nTo: support@help.example\nSubject: x\n%s\n\nbody\n",
            auto_cases[i].header);
        struct mail *m = parse_string(raw);

        g_test_message("%u: %s", i, auto_cases[i].header);
        g_assert_cmpint(m->is_auto_submitted, ==, auto_cases[i].is_auto_submitted);
        g_assert_cmpint(m->is_bulk, ==, auto_cases[i].is_bulk);
        g_assert_cmpint(m->suppress_autoreply, ==, auto_cases[i].suppress_autoreply);
        parser_mail_free(m);
    }
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
    g_test_add_func("/parser/threading-headers", test_threading_headers);
    g_test_add_func("/parser/header/text", test_header_text);
    g_test_add_func("/parser/header/msgid-list", test_msgid_list);
    g_test_add_func("/parser/header/msgid-list-linear", test_msgid_list_linear);
    g_test_add_func("/parser/groups-flattened", test_groups_flattened);
    g_test_add_func("/parser/subject-decoding", test_subject_decoding);
    g_test_add_func("/parser/subject-crlf-removed", test_subject_crlf_removed);
    g_test_add_func("/parser/display-names", test_display_names);
    g_test_add_func("/parser/raw-8bit-headers", test_raw_8bit_headers_made_valid);
    g_test_add_func("/parser/dates", test_dates);
    g_test_add_func("/parser/text-selection", test_text_selection);
    g_test_add_func("/parser/utf8-label-latin1-bytes", test_utf8_label_latin1_bytes);
    g_test_add_func("/parser/text/of-message", test_text_of_message);
    g_test_add_func("/parser/text/part-kind", test_text_part_kind);
    g_test_add_func("/parser/text/nul-byte", test_text_nul_byte);
    g_test_add_func("/parser/text/is-forwarded", test_text_is_forwarded);
    g_test_add_func("/parser/text/bytes-to-utf8", test_bytes_to_utf8);
    g_test_add_func("/parser/text/bytes-to-utf8-all-bytes", test_bytes_to_utf8_all_bytes);
    g_test_add_func("/parser/html-only", test_html_only);
    g_test_add_func("/parser/html-to-text", test_html_to_text);
    g_test_add_func("/parser/html-linear", test_html_linear);
    g_test_add_func("/parser/crlf-text", test_crlf_text_normalised);
    g_test_add_func("/parser/no-text", test_no_text);
    g_test_add_func("/parser/digest-crlf-same", test_digest_crlf_same);
    g_test_add_func("/parser/digest-trace-ignored", test_digest_trace_headers_ignored);
    g_test_add_func("/parser/digest-body-matters", test_digest_body_matters);
    g_test_add_func("/parser/digest-cases", test_digest_cases);
    g_test_add_func("/parser/digest-stable", test_digest_stable);
    g_test_add_func("/parser/crlf-same-fields", test_crlf_same_fields);
    g_test_add_func("/parser/empty-and-garbage", test_empty_and_garbage);
    g_test_add_func("/parser/deep-nesting", test_deep_nesting);
    g_test_add_func("/parser/many-parts", test_many_parts);
    g_test_add_func("/parser/limit/depth", test_limit_depth);
    g_test_add_func("/parser/limit/depth-1000-fast", test_limit_depth_1000_fast);
    g_test_add_func("/parser/limit/parts", test_limit_parts);
    g_test_add_func("/parser/limit/headers", test_limit_headers);
    g_test_add_func("/parser/attachment-20mb", test_attachment_20mb);
    g_test_add_func("/parser/auth-results", test_auth_results);
    g_test_add_func("/parser/reply-text", test_reply_text);
    g_test_add_func("/parser/header/encoded-words", test_encoded_words);
    g_test_add_func("/parser/header/encoded-words-linear", test_encoded_words_linear);
    g_test_add_func("/parser/bound/long-subject-prefix", test_long_subject_prefix);
    g_test_add_func("/parser/bound/long-subject-straddling-word",
                    test_long_subject_straddling_word);
    g_test_add_func("/parser/bound/cut-text", test_cut_text);
    g_test_add_func("/parser/bound/long-references", test_long_references);
    g_test_add_func("/parser/bound/long-msgids", test_long_msgids);
    g_test_add_func("/parser/bound/long-address-lists", test_long_address_lists);
    g_test_add_func("/parser/bound/address-units", test_address_units);
    g_test_add_func("/parser/bound/address-units-bounded", test_address_units_bounded);
    g_test_add_func("/parser/bound/quoted-local-part", test_quoted_local_part);
    g_test_add_func("/parser/bound/hostile-shapes-fast", test_hostile_shapes_fast);
    g_test_add_func("/parser/bound/many-empty-parts-fast", test_many_empty_parts_fast);
    g_test_add_func("/parser/bound/dash-lines-in-text-kept", test_dash_lines_in_text_kept);
    g_test_add_func("/parser/threads", test_threads);
    g_test_add_func("/parser/free-null", test_free_null);
    g_test_add_func("/parser/auto/tokens", test_auto_tokens);

    rc = g_test_run();
    g_mime_shutdown();
    return rc;
}
