/*
 * test-html - HTML read by libxml2 (parser/html.c) and staff command lines
 * taken out of every part the customer can see (parser/strip.c).
 *
 * The fixtures in tests/fixtures/staff-html are staff replies as Outlook,
 * Gmail, Apple Mail and Thunderbird send them.  Each is stripped, put
 * back together the way the milter has Postfix do it (the two top-level
 * headers replaced, the body replaced) and read again with GMime: no part
 * that shows text may have a command line left, in its decoded text or in
 * its markup, and the prose and the markup around it must be there as
 * before.  Replies whose only "#status closed" is quoted or forwarded must
 * come through untouched.
 * Run from the repository root: fixture paths are relative.
 */
#include <string.h>

#include <glib.h>
#include <gmime/gmime.h>

#include "parser/html.h"
#include "parser/mail.h"
#include "parser/text.h"
#include "parser/walk.h"
#include "router/commands.h"

#define STAFF "tests/fixtures/staff-html/"
#define EN_PROSE "We found the cause"
#define NL_PROSE "We hebben de oorzaak gevonden"

/* ---- helpers ---- */

static char *
read_fixture(const char *name, gsize *len)
{
    g_autofree char *path = g_strconcat(STAFF, name, NULL);
    g_autoptr(GError) error = NULL;
    char *raw = NULL;

    if (!g_file_get_contents(path, &raw, len, &error))
        g_error("%s: %s", path, error->message);
    return raw;
}

static bool
is_field(const char *line, const char *name)
{
    gsize n = strlen(name);

    return g_ascii_strncasecmp(line, name, n) == 0 && line[n] == ':';
}

/* RAW as Postfix delivers it after the milter's edits: its header block
 * without Content-Type and Content-Transfer-Encoding, then CONTENT_TYPE and
 * ENCODING (when not NULL), then BODY. */
static char *
delivered(const char *raw, GBytes *body, const char *content_type, const char *encoding, gsize *len)
{
    GString *out = g_string_new(NULL);
    const char *p = raw;
    bool dropping = false;
    gsize size;
    const char *data = g_bytes_get_data(body, &size);

    while (*p != '\0' && *p != '\n' && !(p[0] == '\r' && p[1] == '\n')) {
        const char *eol = strchr(p, '\n');
        const char *next = eol != NULL ? eol + 1 : p + strlen(p);
        if (*p != ' ' && *p != '\t')
            dropping = is_field(p, "Content-Type") || is_field(p, "Content-Transfer-Encoding");
        if (!dropping)
            g_string_append_len(out, p, next - p);
        p = next;
    }
    if (content_type != NULL)
        g_string_append_printf(out, "Content-Type: %s\n", content_type);
    if (encoding != NULL)
        g_string_append_printf(out, "Content-Transfer-Encoding: %s\n", encoding);
    g_string_append(out, "\n");
    g_string_append_len(out, data, (gssize)size);
    *len = out->len;
    return g_string_free(out, FALSE);
}

/* The parts of MSG that show its text (what strip.c looks at), in order. */
static GPtrArray *
text_parts(GMimeMessage *msg)
{
    GPtrArray *parts = g_ptr_array_new();
    struct parser_walk w;
    GArray *leaves;

    parser_walk_init(&w, NULL);
    leaves = parser_walk_leaves(&w, g_mime_message_get_mime_part(msg), 0);
    for (guint i = 0; i < leaves->len; i++) {
        GMimeObject *obj = g_array_index(leaves, struct parser_leaf, i).obj;
        if (parser_part_shows_text(obj, NULL))
            g_ptr_array_add(parts, obj);
    }
    g_array_unref(leaves);
    return parts;
}

/* No line of TEXT is a command line. */
static void
assert_no_command_line(const char *what, const char *text)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

    for (char **l = lines; *l != NULL; l++)
        if (commands_is_command_line(*l))
            g_error("%s: command line left: \"%s\"", what, *l);
}

static void
assert_contains(const char *what, const char *text, const char *part)
{
    if (strstr(text, part) == NULL)
        g_error("%s: \"%s\" is missing in:\n%s", what, part, text);
}

static bool
strip(const char *raw, gsize len, GBytes **body, char **content_type, char **encoding)
{
    *body = NULL;
    *content_type = NULL;
    *encoding = NULL;
    return parser_strip_commands(raw, len, NULL, commands_is_command_line, body, content_type,
                                 encoding);
}

/* The customer's copy of RAW as GMime reads it, after a strip that must
 * change something; *OUT_LEN (when not NULL) gets its size. */
static GMimeMessage *
stripped_copy(const char *raw, gsize len, gsize *out_len)
{
    g_autoptr(GBytes) body = NULL;
    g_autofree char *content_type = NULL;
    g_autofree char *encoding = NULL;
    g_autofree char *out = NULL;
    gsize n;
    GMimeMessage *msg;

    g_assert_true(strip(raw, len, &body, &content_type, &encoding));
    out = delivered(raw, body, content_type, encoding, &n);
    msg = parser_message_new(out, n, NULL);
    g_assert_nonnull(msg);
    if (out_len != NULL)
        *out_len = n;
    return msg;
}

/* ---- HTML to text ---- */

static const struct {
    const char *html;
    const char *text;
} text_cases[] = {
    /* Every entity, named or numeric, decodes. */
    { "Caf&eacute; &mdash; &#x20AC;5", "Caf\xc3\xa9 \xe2\x80\x94 \xe2\x82\xac"
                                       "5" },
    { "&hellip;&rsquo;&ldquo;x&rdquo; &ndash;",
      "\xe2\x80\xa6\xe2\x80\x99\xe2\x80\x9cx\xe2\x80\x9d \xe2\x80\x93" },
    { "&Aring;ngstr&ouml;m &amp; &lt;b&gt;", "\xc3\x85ngstr\xc3\xb6m & <b>" },
    { "&copy; 2026 &trade; &theta;&Omega;", "\xc2\xa9 2026 \xe2\x84\xa2 \xce\xb8\xce\xa9" },
    { "&#233;&#xe9;&#XE9; &#x1F600;", "\xc3\xa9\xc3\xa9\xc3\xa9 \xf0\x9f\x98\x80" },
    /* A no-break space is a space, literal or not. */
    { "&euro;&nbsp;10 a&nbsp;&nbsp;&nbsp;b \xc2\xa0x", "\xe2\x82\xac 10 a b x" },
    /* Quoted blocks read as a quoted plain-text reply. */
    { "<blockquote>#status closed<br>x</blockquote>after", "> #status closed\n> x\nafter" },
    { "a<blockquote><blockquote>deep</blockquote>mid</blockquote>", "a\n> > deep\n> mid" },
    { "<pre>one\n  two\n\nthree</pre>", "one\ntwo\n\nthree" },
    /* Outlook's <o:p> is no paragraph: one line break per paragraph. */
    { "<p class=MsoNormal>one<o:p></o:p></p><p class=MsoNormal>two<o:p></o:p></p>", "one\ntwo" },
    /* Word's conditional markup is no text; an escaped one is. */
    { "<p>1.<![if !supportLists]>x<![endif]>y</p>", "1.xy" },
    { "&lt;![if x]&gt; literal", "<![if x]> literal" },
    { "a <!x> b &lt;<!y>c", "a b <c" },
    { "<![endif]>< 3", "< 3" },
    { "<title>Subject</title><p>body</p>", "body" },
    { "<head><style>p{}</style></head><body><div>x</div><noscript>y</noscript></body>", "x\ny" },
    { NULL, "" },
};

static void
test_html_to_text(void)
{
    for (guint i = 0; i < G_N_ELEMENTS(text_cases); i++) {
        g_autofree char *text = parser_html_to_text(text_cases[i].html);

        g_test_message("%u: %s", i, text_cases[i].html);
        g_assert_cmpstr(text, ==, text_cases[i].text);
    }
}

static gpointer
to_text_in_thread(gpointer data)
{
    for (int i = 0; i < 200; i++) {
        g_autofree char *text = parser_html_to_text("<p>Caf&eacute;<o:p></o:p></p><p>two</p>");
        g_assert_cmpstr(text, ==, "Caf\xc3\xa9\ntwo");
    }
    return NULL;
}

static void
test_html_threads(void)
{
    GThread *threads[4];

    for (guint i = 0; i < G_N_ELEMENTS(threads); i++)
        threads[i] = g_thread_new("html", to_text_in_thread, NULL);
    for (guint i = 0; i < G_N_ELEMENTS(threads); i++)
        g_thread_join(threads[i]);
}

/* ---- hostile HTML ---- */

static char *
repeat(const char *unit, guint n, const char *tail)
{
    GString *s = g_string_sized_new(strlen(unit) * n + 64);

    for (guint i = 0; i < n; i++)
        g_string_append(s, unit);
    g_string_append(s, tail);
    return g_string_free(s, FALSE);
}

/* One tag with many distinct attributes. */
static char *
attributes(guint n)
{
    GString *s = g_string_new("<p");

    for (guint i = 0; i < n; i++)
        g_string_append_printf(s, " a%u=1", i);
    g_string_append(s, ">after");
    return g_string_free(s, FALSE);
}

/* The bounds below catch work that grows with the square of the input
 * (a hang, in effect), not speed: a sanitizer build runs the same linear
 * work ten times slower or more, and gets ten times the bound. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#endif
#ifdef SANITIZED
#define BOUND(seconds) ((gint64)(seconds)*10 * G_USEC_PER_SEC)
#else
#define BOUND(seconds) ((gint64)(seconds)*G_USEC_PER_SEC)
#endif

static const struct {
    const char *unit;
    guint count;
    const char *tail;
    bool is_complete;
} hostile_cases[] = {
    { "<div>", 100000, "deep", false },
    { "<b><i><u>", 50000, "unclosed", false },
    { "<table><tr><td>", 30000, "cells", false },
    { "<p>", 200000, "flat", true },
    { "&", 1024 * 1024, "", true },
    { "&#x", 300000, "", true },
    { "<!", 500000, "", true },
    { "<![if x]>", 100000, "kept", true },
    { "</x>", 250000, "", true },
    { "<a href=x>", 100000, "links", true },
};

static void
test_html_hostile(void)
{
    for (guint i = 0; i < G_N_ELEMENTS(hostile_cases); i++) {
        g_autofree char *html =
            repeat(hostile_cases[i].unit, hostile_cases[i].count, hostile_cases[i].tail);
        gint64 start = g_get_monotonic_time();
        g_autofree char *text = parser_html_to_text(html);
        bool is_complete;
        htmlDocPtr doc = parser_html_read(html, strlen(html), &is_complete);
        gint64 took = g_get_monotonic_time() - start;

        g_test_message("%s x %u: %" G_GINT64_FORMAT " ms", hostile_cases[i].unit,
                       hostile_cases[i].count, took / 1000);
        g_assert_true(g_utf8_validate(text, -1, NULL));
        g_assert_cmpint(took, <, BOUND(5));
        g_assert_cmpint(is_complete, ==, hostile_cases[i].is_complete);
        if (doc != NULL)
            xmlFreeDoc(doc);
    }
}

/* 1 MB of '&' is 1 MB of text, in linear time. */
static void
test_html_ampersands(void)
{
    g_autofree char *amps = g_strnfill(1024 * 1024, '&');
    gint64 start = g_get_monotonic_time();
    g_autofree char *text = parser_html_to_text(amps);

    g_assert_cmpuint(strlen(text), ==, 1024 * 1024);
    g_assert_cmpint(g_get_monotonic_time() - start, <, BOUND(5));
}

/* libxml2 compares each attribute of a tag with those before it: 40 000
 * cost it seconds.  Past a thousand the document ends there. */
static void
test_html_many_attributes(void)
{
    g_autofree char *few = attributes(200);
    g_autofree char *many = attributes(60000);
    g_autofree char *text = NULL;
    bool is_complete;
    htmlDocPtr doc = parser_html_read(few, strlen(few), &is_complete);
    xmlNodePtr p = xmlDocGetRootElement(doc)->children->children;
    xmlChar *last = xmlGetProp(p, (const xmlChar *)"a199");
    gint64 start;

    g_assert_true(is_complete);
    g_assert_cmpstr((const char *)p->name, ==, "p");
    g_assert_cmpstr((const char *)last, ==, "1");
    xmlFree(last);
    xmlFreeDoc(doc);
    start = g_get_monotonic_time();
    doc = parser_html_read(many, strlen(many), &is_complete);
    g_assert_false(is_complete);
    xmlFreeDoc(doc);
    text = parser_html_to_text(many);
    g_assert_true(g_utf8_validate(text, -1, NULL));
    g_assert_cmpint(g_get_monotonic_time() - start, <, BOUND(2));
}

/* ---- the staff replies ---- */

static const struct {
    const char *fixture;
    const char *commands[5]; /* the command lines at its top */
    const char *prose;       /* must stay in every part */
    const char *markup[5];   /* must be in its HTML afterwards */
    guint plain_parts;
    guint html_parts;
} replies[] = {
    { "outlook-reply-en.eml",
      { "#status pending", "#severity 2" },
      EN_PROSE,
      { "<div class=\"WordSection1\">\n<p class=\"MsoNormal\">Hello Jan,<o:p></o:p></p>",
        "<p class=\"MsoNormal\"><b>From:</b> Jan Jansen &lt;jan@acme.test&gt; <br>",
        "<!--[if gte mso 9]><xml>", "charset=utf-8" },
      1,
      1 },
    { "outlook-reply-nl.eml",
      { "#severity 3", "#status open" },
      NL_PROSE,
      { "<div class=\"WordSection1\">\n<p class=\"MsoNormal\"><span lang=\"NL\">Hallo Jan,<o:p>",
        "<![if !supportLists]><span lang=\"NL\"><span style=\"mso-list:Ignore\">1.",
        "<![endif]><span lang=\"NL\">het oude certificaat ingetrokken;" },
      1,
      1 },
    { "outlook-html-only-en.eml",
      { "#status pending", "#severity 4" },
      EN_PROSE,
      { "<body dir=\"ltr\">\n<div class=\"elementToProof\"", ">\nHello Jan,</div>",
        "<div id=\"divRplyFwdMsg\" dir=\"ltr\">", "again \xe2\x80\x93 could you" },
      0,
      1 },
    { "gmail-reply-en.eml",
      { "#severity 2", "#status open", "#assign lead@example.com" },
      EN_PROSE,
      { "<div dir=\"ltr\">Hello Jan,<br><br>We found the cause",
        "<blockquote class=\"gmail_quote\"" },
      1,
      1 },
    { "gmail-reply-base64-nl.eml",
      { "#status pending", "#severity 3" },
      NL_PROSE,
      { "<div dir=\"ltr\"><div>Hallo Jan,<br><br>We hebben", "ge\xc3\xafnstalleerd",
        "<div class=\"gmail_quote\">" },
      1,
      1 },
    { "apple-mail-reply-en.eml",
      { "#severity 4", "#status open" },
      EN_PROSE,
      { "dir=\"auto\"><div>Hello Jan,</div><div><br></div><div>We found",
        "<blockquote type=\"cite\">", "<br class=\"Apple-interchange-newline\">" },
      1,
      1 },
    { "apple-mail-reply-nl.eml",
      { "#status pending", "#severity 2" },
      NL_PROSE,
      { "dir=\"auto\"><div>Hallo Jan,</div>",
        "<img apple-inline=\"yes\" id=\"D5E6F7A8-0B1C-4D2E-9F3A-4B5C6D7E8F90\" "
        "src=\"cid:9F3A1C7E-2B4D-4E6F-8A0B-1C2D3E4F5A6B\"" },
      1,
      1 },
    { "thunderbird-reply-nl.eml",
      { "#severity 3", "#status open" },
      NL_PROSE,
      { "<body>\n    <p>Hallo Jan,</p>", "<div class=\"moz-cite-prefix\">",
        "<pre class=\"moz-quote-pre\" wrap=\"\">Since 09:40", "<!DOCTYPE html>" },
      1,
      1 },
    { "thunderbird-reply-with-attachment-en.eml",
      { "#status pending", "#severity 4" },
      EN_PROSE,
      { "<body>\n    <p>Hello Jan,</p>", "<div class=\"moz-signature\">-- <br>" },
      1,
      1 },
};

/* The decoded text of every part that shows text: no command line in it
 * (for HTML neither in the markup nor in its text), the prose still there. */
static void
check_parts(guint i, GMimeMessage *msg)
{
    g_autoptr(GPtrArray) parts = text_parts(msg);
    guint plain = 0;
    guint html = 0;

    for (guint p = 0; p < parts->len; p++) {
        GMimeTextPart *part = g_ptr_array_index(parts, p);
        GMimeContentType *ct = g_mime_object_get_content_type(GMIME_OBJECT(part));
        GMimeContentEncoding enc = g_mime_part_get_content_encoding(GMIME_PART(part));
        g_autofree char *text = parser_text_of_part(part, false);
        g_autofree char *what = g_strdup_printf("%s part %u", replies[i].fixture, p);

        g_assert_cmpstr(g_mime_text_part_get_charset(part), ==, "utf-8");
        g_assert_true(enc == GMIME_CONTENT_ENCODING_DEFAULT || enc == GMIME_CONTENT_ENCODING_7BIT ||
                      enc == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE ||
                      enc == GMIME_CONTENT_ENCODING_BASE64);
        for (guint c = 0; replies[i].commands[c] != NULL; c++)
            if (strstr(text, replies[i].commands[c]) != NULL)
                g_error("%s: \"%s\" is still in it", what, replies[i].commands[c]);
        if (g_mime_content_type_is_type(ct, "text", "html")) {
            g_autofree char *shown = parser_html_to_text(text);
            bool is_complete;
            htmlDocPtr doc = parser_html_read(text, strlen(text), &is_complete);

            g_assert_nonnull(doc);
            g_assert_true(is_complete);
            xmlFreeDoc(doc);
            assert_no_command_line(what, shown);
            assert_contains(what, shown, replies[i].prose);
            for (guint m = 0; replies[i].markup[m] != NULL; m++)
                assert_contains(what, text, replies[i].markup[m]);
            html++;
        } else {
            assert_no_command_line(what, text);
            assert_contains(what, text, replies[i].prose);
            plain++;
        }
    }
    g_assert_cmpuint(plain, ==, replies[i].plain_parts);
    g_assert_cmpuint(html, ==, replies[i].html_parts);
}

/* What is not text comes through as it was. */
static void
check_attachments(const char *raw, gsize len, const char *out, gsize out_len)
{
    struct mail *before = parser_mail_parse(raw, len, NULL);
    struct mail *after = parser_mail_parse(out, out_len, NULL);
    g_autoptr(GPtrArray) cmds = commands_parse(after->text);

    g_assert_cmpuint(after->attachments->len, ==, before->attachments->len);
    for (guint i = 0; i < before->attachments->len; i++) {
        const struct mail_attachment *a = g_ptr_array_index(before->attachments, i);
        const struct mail_attachment *b = g_ptr_array_index(after->attachments, i);
        g_assert_cmpstr(a->sha256, ==, b->sha256);
        g_assert_cmpstr(a->filename, ==, b->filename);
    }
    g_assert_cmpstr(after->message_id, ==, before->message_id);
    g_assert_false(after->text_is_forwarded);
    g_assert_cmpuint(cmds->len, ==, 0);
    parser_mail_free(before);
    parser_mail_free(after);
}

static void
test_staff_replies(void)
{
    for (guint i = 0; i < G_N_ELEMENTS(replies); i++) {
        gsize len = 0;
        g_autofree char *raw = read_fixture(replies[i].fixture, &len);
        struct mail *m = parser_mail_parse(raw, len, NULL);
        g_autoptr(GPtrArray) cmds = commands_parse(m->text);
        g_autoptr(GBytes) body = NULL;
        g_autofree char *content_type = NULL;
        g_autofree char *encoding = NULL;
        g_autofree char *out = NULL;
        gsize out_len = 0;
        gsize size;
        const guchar *data;
        GMimeMessage *msg;
        guint n = 0;

        g_test_message("%s", replies[i].fixture);
        /* The fixture is what the test says: its commands are read. */
        while (replies[i].commands[n] != NULL)
            n++;
        g_assert_false(m->text_is_forwarded);
        g_assert_cmpuint(cmds->len, ==, n);
        parser_mail_free(m);

        g_assert_true(strip(raw, len, &body, &content_type, &encoding));
        g_assert_nonnull(content_type);
        data = g_bytes_get_data(body, &size);
        for (gsize b = 0; b < size; b++)
            g_assert_cmpuint(data[b], <, 0x80);
        out = delivered(raw, body, content_type, encoding, &out_len);
        msg = parser_message_new(out, out_len, NULL);
        g_assert_nonnull(msg);
        check_parts(i, msg);
        g_object_unref(msg);
        check_attachments(raw, len, out, out_len);
    }
}

/* A "#status closed" that is quoted or forwarded is no command: the
 * router reads none and the message goes out untouched. */
static const char *const untouched[] = {
    "gmail-reply-quoted-status-closed-en.eml",
    "apple-mail-reply-below-quote-nl.eml",
    "outlook-forward-status-closed-nl.eml",
    "forward-only-status-closed-en.eml",
};

static void
test_quoted_and_forwarded(void)
{
    for (guint i = 0; i < G_N_ELEMENTS(untouched); i++) {
        gsize len = 0;
        g_autofree char *raw = read_fixture(untouched[i], &len);
        struct mail *m = parser_mail_parse(raw, len, NULL);
        g_autoptr(GPtrArray) cmds = commands_parse(m->text);
        g_autoptr(GBytes) body = NULL;
        g_autofree char *content_type = NULL;
        g_autofree char *encoding = NULL;

        g_test_message("%s", untouched[i]);
        g_assert_nonnull(strstr(raw, "#status closed"));
        /* The router reads the text's commands unless it is a forward's. */
        g_assert_true(m->text_is_forwarded || cmds->len == 0);
        g_assert_false(strip(raw, len, &body, &content_type, &encoding));
        g_assert_null(body);
        parser_mail_free(m);
    }
}

/* The forward's text is the ticket's text, but not the sender's. */
static void
test_forward_only(void)
{
    gsize len = 0;
    g_autofree char *raw = read_fixture("forward-only-status-closed-en.eml", &len);
    struct mail *m = parser_mail_parse(raw, len, NULL);
    g_autoptr(GPtrArray) cmds = commands_parse(m->text);

    g_assert_true(m->text_is_forwarded);
    g_assert_cmpuint(cmds->len, ==, 1);
    parser_mail_free(m);
}

/* ---- the rule, and single parts ---- */

static char *
plain_message(const char *text)
{
    return g_strconcat("From: lead@example.com\nTo: jan@acme.test\nSubject: Re: x\n"
                       "MIME-Version: 1.0\nContent-Type: text/plain; charset=us-ascii\n\n",
                       text, NULL);
}

/* The text of the one part of a stripped single-part message. */
static char *
stripped_text(const char *raw, bool *changed)
{
    g_autoptr(GBytes) body = NULL;
    g_autofree char *content_type = NULL;
    g_autofree char *encoding = NULL;
    g_autofree char *out = NULL;
    gsize out_len;
    GMimeMessage *msg;
    GMimeObject *top;
    char *text;

    *changed = strip(raw, strlen(raw), &body, &content_type, &encoding);
    if (!*changed)
        return NULL;
    out = delivered(raw, body, content_type, encoding, &out_len);
    msg = parser_message_new(out, out_len, NULL);
    g_assert_nonnull(msg);
    top = g_mime_message_get_mime_part(msg);
    g_assert_true(GMIME_IS_TEXT_PART(top));
    text = parser_text_of_part(GMIME_TEXT_PART(top), false);
    g_object_unref(msg);
    return text;
}

/* The parser takes the same lines as the router's commands_strip(). */
static const char *const rule_cases[] = {
    "#severity 1\n#status pending\n\nHello\n",
    "\n  #assign Lead@Example.com\nHello\n",
    "#internal\nNote for us.",
    "#escalate\n",
    "#severity 7\nHi",
    "#frobnicate now\n\n\n\nHi\n\n#status closed\n",
    "Hello\n#severity 1\n",
    "# heading\n",
    "> #status closed\n\nAnswer\n",
    "\t#requester anna@klant.example\r\n#customer acme\r\n\r\nHallo\r\n",
    "\n\n\n",
    "",
};

static void
test_same_rule_as_router(void)
{
    for (guint i = 0; i < G_N_ELEMENTS(rule_cases); i++) {
        g_autofree char *raw = plain_message(rule_cases[i]);
        g_autofree char *lf = parser_text_bytes_to_utf8(rule_cases[i], strlen(rule_cases[i]));
        g_autofree char *want = commands_strip(lf);
        bool changed;
        g_autofree char *got = stripped_text(raw, &changed);

        g_test_message("%u: %s", i, rule_cases[i]);
        g_assert_cmpint(changed, ==, strcmp(want, lf) != 0);
        if (changed)
            g_assert_cmpstr(got, ==, want);
    }
}

/* A file a client marks "inline" keeps its lines; the text loses its. */
static void
test_inline_file_untouched(void)
{
    static const char raw[] =
        "From: lead@example.com\nTo: jan@acme.test\nSubject: Re: x\nMIME-Version: 1.0\n"
        "Content-Type: multipart/mixed; boundary=b\n\n--b\n"
        "Content-Type: text/plain; charset=utf-8\n\n#status pending\n\nThe log is attached.\n"
        "--b\nContent-Type: text/plain; name=u_ex261124.log\n"
        "Content-Disposition: inline; filename=u_ex261124.log\n\n"
        "#Software: Microsoft Internet Information Services 10.0\n#Fields: date time\n"
        "2026-11-24 09:40:01\n--b--\n";
    g_autoptr(GBytes) body = NULL;
    g_autofree char *content_type = NULL;
    g_autofree char *encoding = NULL;
    g_autofree char *out = NULL;
    gsize out_len;
    struct mail *m;

    g_assert_true(strip(raw, strlen(raw), &body, &content_type, &encoding));
    out = delivered(raw, body, content_type, encoding, &out_len);
    g_assert_nonnull(strstr(out, "#Software: Microsoft"));
    g_assert_nonnull(strstr(out, "#Fields: date time"));
    g_assert_null(strstr(out, "#status"));
    m = parser_mail_parse(out, out_len, NULL);
    g_assert_true(g_str_has_prefix(m->text, "The log is attached."));
    parser_mail_free(m);
}

static const struct {
    const char *html;
    const char *after; /* in the markup written back */
    const char *gone;  /* not in it */
} html_cases[] = {
    /* <pre> lines are lines. */
    { "<pre>#status pending\n#severity 2\n\nHello Jan\n</pre>", "<pre>Hello Jan\n</pre>",
      "#severity" },
    /* Lines of one element: the element stays with the rest. */
    { "<div>#status pending<br>#severity 2<br><br>Hello<br>Bye</div>", "<div>Hello<br>Bye</div>",
      "<br><br>" },
    /* Commands in table cells and styled spans. */
    { "<table><tr><td><span style=\"color:red\">#status pending</span></td></tr>"
      "<tr><td>Hello</td></tr></table>",
      "<table><tr><td>Hello</td></tr></table>", "color:red" },
    /* An image before the commands stays where it was. */
    { "<p><img src=\"cid:logo\"></p><p>#status pending</p><p>Hello</p>",
      "<p><img src=\"cid:logo\"></p><p>Hello</p>", "#status" },
    /* A <meta> that names a charset names UTF-8. */
    { "<html><head><meta charset=\"windows-1252\"></head><body><p>#status pending</p>"
      "<p>Caf&eacute;</p></body></html>",
      "<meta charset=\"utf-8\"></head><body><p>Caf\xc3\xa9</p>", "1252" },
    /* All of it commands: nothing left to say. */
    { "<div>#status closed</div>", "<body></body>", "#status" },
};

static void
test_html_parts(void)
{
    for (guint i = 0; i < G_N_ELEMENTS(html_cases); i++) {
        g_autofree char *raw = g_strconcat(
            "From: lead@example.com\nTo: jan@acme.test\nSubject: Re: x\nMIME-Version: 1.0\n"
            "Content-Type: text/html; charset=windows-1252\nContent-Transfer-Encoding: 8bit\n\n",
            html_cases[i].html, "\n", NULL);
        bool changed;
        g_autofree char *html = stripped_text(raw, &changed);

        g_test_message("%u: %s", i, html_cases[i].html);
        g_assert_true(changed);
        assert_contains(html_cases[i].html, html, html_cases[i].after);
        g_assert_null(strstr(html, html_cases[i].gone));
    }
}

/* Hostile HTML after the commands: bounded, and the commands still go.
 * (Within the size bound: what is past it is test_strip_oversized's.) */
static void
test_strip_hostile(void)
{
    g_autofree char *deep = repeat("<div>", 100000, "x");
    g_autofree char *amps = g_strnfill(PARSER_HTML_MAX_BYTES - 64, '&');
    const char *const docs[] = { deep, amps };

    for (guint i = 0; i < G_N_ELEMENTS(docs); i++) {
        g_autofree char *raw = g_strconcat(
            "From: lead@example.com\nSubject: Re: x\nMIME-Version: 1.0\n"
            "Content-Type: text/html; charset=utf-8\n\n<p>#status pending</p><p>Hello</p>",
            docs[i], NULL);
        gint64 start = g_get_monotonic_time();
        bool changed;
        g_autofree char *html = stripped_text(raw, &changed);

        g_assert_true(changed);
        g_assert_null(strstr(html, "#status"));
        g_assert_nonnull(strstr(html, "<p>Hello</p>"));
        g_assert_cmpint(g_get_monotonic_time() - start, <, 10 * G_USEC_PER_SEC);
    }
}

static void
test_nothing_to_strip(void)
{
    static const char *const raws[] = {
        "",
        "\x01\x02 not a message",
        "From: lead@example.com\nSubject: x\n\nHello, no commands here.\n#status closed\n",
        "From: lead@example.com\nSubject: x\nContent-Type: text/html\n\n<p>Hi</p><p>#status x</p>",
        "From: lead@example.com\nSubject: x\nContent-Type: image/png\n\n#status closed\n",
    };

    for (guint i = 0; i < G_N_ELEMENTS(raws); i++) {
        g_autoptr(GBytes) body = NULL;
        g_autofree char *content_type = NULL;
        g_autofree char *encoding = NULL;

        g_assert_false(strip(raws[i], strlen(raws[i]), &body, &content_type, &encoding));
        g_assert_null(body);
        g_assert_null(content_type);
    }
}

/* ---- the size bound ---- */

/* HTML past PARSER_HTML_MAX_BYTES is read as far as that, between whole
 * characters, and the text says it was cut; up to it, nothing changes. */
static void
test_html_size_bound(void)
{
    /* "é" is two bytes: the bound falls inside one when the text is
     * preceded by one byte. */
    g_autofree char *pairs = repeat("\xc3\xa9", PARSER_HTML_MAX_BYTES, "");
    g_autofree char *big = g_strconcat("x", pairs, NULL);
    g_autofree char *fits = g_strnfill(PARSER_HTML_MAX_BYTES, 'y');
    g_autofree char *text = parser_html_to_text(big);
    g_autofree char *whole = parser_html_to_text(fits);
    bool is_complete;
    htmlDocPtr doc = parser_html_read(big, strlen(big), &is_complete);

    g_assert_false(is_complete);
    xmlFreeDoc(doc);
    doc = parser_html_read(fits, strlen(fits), &is_complete);
    g_assert_true(is_complete);
    xmlFreeDoc(doc);
    g_assert_true(parser_html_is_cut(strlen(big)));
    g_assert_false(parser_html_is_cut(strlen(fits)));

    g_assert_true(g_utf8_validate(text, -1, NULL));
    g_assert_null(strstr(text, "\xef\xbf\xbd")); /* no character was cut in two */
    g_assert_true(g_str_has_prefix(text, "x\xc3\xa9\xc3\xa9"));
    assert_contains("cut", text,
                    "[Only the first 1024 KiB of this HTML part were read; it has 2049 KiB.]");
    g_assert_cmpuint(strlen(text), <, PARSER_HTML_MAX_BYTES + 100);
    g_assert_cmpstr(whole, ==, fits);
}

/* The staff copy: an HTML part past the bound is not parsed but replaced,
 * by the plain part's text without its commands when there is one, else
 * by the text of its first part without them; either way it says so. */
static void
test_strip_oversized(void)
{
    g_autofree char *tail = repeat("<div a=1 b=2 c=3><b>x</b></div>", 150000, "");
    g_autofree char *alternative = g_strconcat(
        "From: lead@example.com\nTo: jan@acme.test\nSubject: Re: x\nMIME-Version: 1.0\n"
        "Content-Type: multipart/alternative; boundary=b\n\n--b\n"
        "Content-Type: text/plain; charset=utf-8\n\n#status pending\n#severity 2\n\n"
        "Hello Jan, <we> found it & fixed it.\n--b\n"
        "Content-Type: text/html; charset=utf-8\n\n<p>#status pending<br>#severity 2</p>"
        "<p>Hello Jan,</p>",
        tail, "\n--b--\n", NULL);
    g_autofree char *html_only = g_strconcat(
        "From: lead@example.com\nTo: jan@acme.test\nSubject: Re: x\nMIME-Version: 1.0\n"
        "Content-Type: text/html; charset=utf-8\n\n<p>#status pending</p><p>Hello Jan,</p>",
        tail, "\n", NULL);
    const char *const raws[] = { alternative, html_only };

    for (guint i = 0; i < G_N_ELEMENTS(raws); i++) {
        gsize out_len;
        GMimeMessage *msg;
        g_autoptr(GPtrArray) parts = NULL;
        guint html = 0;

        g_test_message("%s", i == 0 ? "plain and HTML" : "HTML only");
        msg = stripped_copy(raws[i], strlen(raws[i]), &out_len);
        /* Nothing of the tail is written back. */
        g_assert_cmpuint(out_len, <, PARSER_HTML_MAX_BYTES + 4096);
        parts = text_parts(msg);
        for (guint p = 0; p < parts->len; p++) {
            GMimeObject *part = g_ptr_array_index(parts, p);
            g_autofree char *text = parser_text_of_part(GMIME_TEXT_PART(part), false);
            bool is_html;

            g_assert_true(parser_part_shows_text(part, &is_html));
            g_assert_null(strstr(text, "#status"));
            g_assert_null(strstr(text, "#severity"));
            if (!is_html)
                continue;
            html++;
            g_autofree char *shown = parser_html_to_text(text);
            assert_contains("note", shown,
                            "The HTML version of this message was longer than 1024 KiB");
            assert_contains("text", shown, "Hello Jan,");
            if (i == 0)
                assert_contains("escaped", text, "Hello Jan, &lt;we&gt; found it &amp; fixed it.");
            else
                assert_contains("cut", shown, "[Only the first 1024 KiB");
            assert_no_command_line("oversized", shown);
        }
        g_assert_cmpuint(html, ==, 1);
        g_object_unref(msg);
    }
}

/* ---- one rule for the text and the strip ---- */

/* Every fixture: the part the text is read from is one strip.c looks at;
 * when the router reads commands from it, the customer's copy has none
 * left in the text read from it, and what is not text is unchanged. */
static void
test_same_parts(void)
{
    const char *const dirs[] = { STAFF, "tests/fixtures/parser/" };
    guint stripped = 0;

    for (guint d = 0; d < G_N_ELEMENTS(dirs); d++) {
        g_autoptr(GDir) dir = g_dir_open(dirs[d], 0, NULL);
        const char *name;

        g_assert_nonnull(dir);
        while ((name = g_dir_read_name(dir)) != NULL) {
            g_autofree char *path = g_build_filename(dirs[d], name, NULL);
            g_autofree char *raw = NULL;
            gsize len = 0;
            g_autoptr(GBytes) body = NULL;
            g_autofree char *content_type = NULL;
            g_autofree char *encoding = NULL;
            struct mail *m;
            GMimeMessage *msg;
            GMimeTextPart *text;
            bool is_html;
            guint n;

            if (!g_str_has_suffix(name, ".eml") || !g_file_get_contents(path, &raw, &len, NULL))
                continue;
            g_test_message("%s", path);
            msg = parser_message_new(raw, len, NULL);
            text = msg != NULL ? parser_text_part(msg, &is_html) : NULL;
            if (text != NULL)
                g_assert_true(parser_part_shows_text(GMIME_OBJECT(text), NULL));
            g_clear_object(&msg);
            m = parser_mail_parse(raw, len, NULL);
            {
                g_autoptr(GPtrArray) cmds = commands_parse(m->text);
                n = m->text_is_forwarded ? 0 : cmds->len;
            }
            parser_mail_free(m);
            if (!strip(raw, len, &body, &content_type, &encoding)) {
                g_assert_cmpuint(n, ==, 0);
                continue;
            }
            gsize out_len;
            g_autofree char *out = delivered(raw, body, content_type, encoding, &out_len);
            struct mail *after = parser_mail_parse(out, out_len, NULL);
            g_autoptr(GPtrArray) left = commands_parse(after->text);
            g_assert_cmpuint(left->len, ==, 0);
            parser_mail_free(after);
            check_attachments(raw, len, out, out_len);
            stripped += n > 0;
        }
    }
    g_assert_cmpuint(stripped, >=, 9);
}

/* The part a file is in is no text: not read for commands, not changed;
 * a part marked as an attachment neither.  An empty file name is none. */
static void
test_named_text_part(void)
{
    static const struct {
        const char *headers;
        bool is_text;
    } cases[] = {
        { "Content-Type: text/plain; charset=utf-8\nContent-Disposition: inline;"
          " filename=reply.txt\n",
          false },
        { "Content-Type: text/plain; name=reply.txt\n", false },
        { "Content-Type: text/html\nContent-Disposition: attachment\n", false },
        { "Content-Type: text/plain\nContent-Disposition: inline; filename=\"\"\n", true },
        { "Content-Type: text/plain\nContent-Disposition: inline\n", true },
        { "Content-Type: text/html\n", true },
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *raw = g_strconcat(
            "From: lead@example.com\nTo: jan@acme.test\nSubject: Re: x\nMIME-Version: 1.0\n",
            cases[i].headers, "\n#status pending\n\nHello Jan,\n", NULL);
        g_autoptr(GBytes) body = NULL;
        g_autofree char *content_type = NULL;
        g_autofree char *encoding = NULL;
        struct mail *m = parser_mail_parse(raw, strlen(raw), NULL);
        g_autoptr(GPtrArray) cmds = commands_parse(m->text);
        GMimeMessage *msg = parser_message_new(raw, strlen(raw), NULL);

        g_test_message("%u: %s", i, cases[i].headers);
        g_assert_cmpint(parser_part_shows_text(g_mime_message_get_mime_part(msg), NULL), ==,
                        cases[i].is_text);
        g_assert_cmpuint(cmds->len, ==, cases[i].is_text ? 1 : 0);
        g_assert_cmpuint(m->attachments->len, ==, cases[i].is_text ? 0 : 1);
        g_assert_cmpint(strip(raw, strlen(raw), &body, &content_type, &encoding), ==,
                        cases[i].is_text);
        g_object_unref(msg);
        parser_mail_free(m);
    }
}

/* ---- echoes of the commands in the HTML ---- */

static const struct {
    const char *fixture;
    const char *commands[3];
    const char *prose;
    guint mentions;        /* the first command named in prose, left as written */
    const char *quoted;    /* a quoted command line, left as written */
    const char *markup[4]; /* still in the HTML */
} echoes[] = {
    /* A hidden preheader names the commands in a line of prose, then the
     * body has them as lines. */
    { "outlook-reply-preheader-en.eml",
      { "#status pending", "#severity 2" },
      EN_PROSE,
      0,
      NULL,
      { "display:none !important;mso-hide:all", ">Ticket update:", "Hello Jan,<o:p></o:p>" } },
    /* A hidden preheader of prose before the commands. */
    { "gmail-reply-preheader-en.eml",
      { "#severity 2", "#status open" },
      EN_PROSE,
      0,
      "> #status open",
      { "We found the cause of the checkout errors</div>", "<blockquote class=\"gmail_quote\"" } },
    /* A preheader that begins with the commands goes with them; prose that
     * names a command later stays. */
    { "thunderbird-reply-preheader-nl.eml",
      { "#severity 3", "#status open" },
      NL_PROSE,
      1,
      "> #status open",
      { "<body>", "op #status open staan",
        "<pre class=\"moz-quote-pre\" wrap=\"\">#status open" } },
};

/* How often NEEDLE is in TEXT outside quoted lines. */
static guint
unquoted_count(const char *text, const char *needle)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    guint n = 0;

    for (char **l = lines; *l != NULL; l++) {
        if (g_str_has_prefix(g_strchug(*l), ">"))
            continue;
        for (const char *p = strstr(*l, needle); p != NULL; p = strstr(p + 1, needle))
            n++;
    }
    return n;
}

static void
test_echoes(void)
{
    for (guint i = 0; i < G_N_ELEMENTS(echoes); i++) {
        gsize len = 0;
        g_autofree char *raw = read_fixture(echoes[i].fixture, &len);
        struct mail *m = parser_mail_parse(raw, len, NULL);
        g_autoptr(GPtrArray) cmds = commands_parse(m->text);
        GMimeMessage *msg;
        g_autoptr(GPtrArray) parts = NULL;
        guint html = 0;

        g_test_message("%s", echoes[i].fixture);
        g_assert_cmpuint(cmds->len, ==, 2);
        parser_mail_free(m);
        msg = stripped_copy(raw, len, NULL);
        parts = text_parts(msg);
        g_assert_cmpuint(parts->len, ==, 2);
        for (guint p = 0; p < parts->len; p++) {
            GMimeObject *part = g_ptr_array_index(parts, p);
            g_autofree char *text = parser_text_of_part(GMIME_TEXT_PART(part), false);
            g_autofree char *what = g_strdup_printf("%s part %u", echoes[i].fixture, p);
            g_autofree char *shown = NULL;
            bool is_html;

            parser_part_shows_text(part, &is_html);
            shown = is_html ? parser_html_to_text(text) : g_strdup(text);
            assert_no_command_line(what, shown);
            assert_contains(what, shown, echoes[i].prose);
            for (guint c = 0; echoes[i].commands[c] != NULL; c++)
                g_assert_cmpuint(unquoted_count(shown, echoes[i].commands[c]), ==,
                                 c == 1 ? echoes[i].mentions : 0);
            if (echoes[i].quoted != NULL)
                assert_contains(what, shown, echoes[i].quoted);
            if (!is_html)
                continue;
            html++;
            for (guint k = 0; echoes[i].markup[k] != NULL; k++)
                assert_contains(what, text, echoes[i].markup[k]);
        }
        g_assert_cmpuint(html, ==, 1);
        g_object_unref(msg);
    }
}

/* A command line of the plain part is cut out of the HTML text wherever
 * its first copy stands, across elements and blanks; a quoted one, or one
 * inside a longer word, is not its copy. */
static void
test_echo_cases(void)
{
    static const struct {
        const char *html;
        const char *after; /* in the markup written back */
        const char *kept;  /* NULL, or still in it */
    } cases[] = {
        { "<p>Preview: #status pending, read on</p><p>Hello</p>", "<p>Preview: , read on</p>",
          NULL },
        { "<p>Hi</p><p>#status <b>pending</b></p><p>Hello</p>", "<p>Hi</p><p>Hello</p>", NULL },
        { "<p>Hi</p><p>#status\n   pending</p><p>Hello</p>", "<p>Hi</p><p>Hello</p>", NULL },
        { "<p>Hi</p><p>#status&nbsp;pending</p><p>Hello</p>", "<p>Hi</p><p>Hello</p>", NULL },
        { "<p>Hi #status pendingly</p><blockquote>#status pending</blockquote>",
          "<p>Hi #status pendingly</p>", "<blockquote>#status pending</blockquote>" },
        { "<p>Hi</p><p>&gt; #status pending</p>", "&gt; #status pending", NULL },
        { "<pre>Hi\n#status pending\nHello</pre>", "<pre>Hi\nHello</pre>", NULL },
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *raw = g_strconcat(
            "From: lead@example.com\nTo: jan@acme.test\nSubject: Re: x\nMIME-Version: 1.0\n"
            "Content-Type: multipart/alternative; boundary=b\n\n--b\n"
            "Content-Type: text/plain; charset=utf-8\n\n#status pending\n\nHello\n--b\n"
            "Content-Type: text/html; charset=utf-8\n\n",
            cases[i].html, "\n--b--\n", NULL);
        GMimeMessage *msg;
        g_autoptr(GPtrArray) parts = NULL;
        g_autofree char *html = NULL;

        g_test_message("%u: %s", i, cases[i].html);
        msg = stripped_copy(raw, strlen(raw), NULL);
        parts = text_parts(msg);
        html = parser_text_of_part(g_ptr_array_index(parts, 1), false);
        assert_contains(cases[i].html, html, cases[i].after);
        if (cases[i].kept != NULL)
            assert_contains(cases[i].html, html, cases[i].kept);
        g_object_unref(msg);
    }
}

/* The parts commands are cut from are those the message was parsed with:
 * a staff reply of 1,100 parts, read under max_mime_parts = 1200, loses its
 * commands; within the defaults (500) the copy would lose its last parts,
 * so it is left as it came. */
static void
test_strip_limits(void)
{
    g_autoptr(GString) m = g_string_new("From: lead@example.com\nTo: jan@acme.test\n"
                                        "Subject: Re: [TKT-1] Logs\nMIME-Version: 1.0\n"
                                        "Content-Type: multipart/mixed; boundary=\"b\"\n\n"
                                        "--b\nContent-Type: text/plain\n\n#status pending\n\n"
                                        "Here are the logs.\n");
    struct parser_limits wide = { .max_depth = 50, .max_parts = 1200, .max_headers = 1000 };
    g_autoptr(GBytes) body = NULL;
    g_autofree char *content_type = NULL, *encoding = NULL;

    for (int i = 0; i < 1099; i++)
        g_string_append_printf(m,
                               "--b\nContent-Type: application/octet-stream\n"
                               "Content-Disposition: attachment; filename=\"log%d.bin\"\n\nx\n",
                               i);
    g_string_append(m, "--b--\n");
    g_assert_false(strip(m->str, m->len, &body, &content_type, &encoding));
    g_assert_true(parser_strip_commands(m->str, m->len, &wide, commands_is_command_line, &body,
                                        &content_type, &encoding));
    g_autofree char *text = g_strndup(g_bytes_get_data(body, NULL), g_bytes_get_size(body));
    g_assert_null(strstr(text, "#status"));
    assert_contains("the reply", text, "Here are the logs.");
    assert_contains("the last attachment", text, "log1098.bin");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    parser_init();

    g_test_add_func("/html/to-text", test_html_to_text);
    g_test_add_func("/strip/limits", test_strip_limits);
    g_test_add_func("/html/threads", test_html_threads);
    g_test_add_func("/html/hostile", test_html_hostile);
    g_test_add_func("/html/ampersands", test_html_ampersands);
    g_test_add_func("/html/many-attributes", test_html_many_attributes);
    g_test_add_func("/strip/staff-replies", test_staff_replies);
    g_test_add_func("/strip/quoted-and-forwarded", test_quoted_and_forwarded);
    g_test_add_func("/strip/forward-only", test_forward_only);
    g_test_add_func("/strip/same-rule-as-router", test_same_rule_as_router);
    g_test_add_func("/strip/inline-file-untouched", test_inline_file_untouched);
    g_test_add_func("/strip/html-parts", test_html_parts);
    g_test_add_func("/strip/hostile", test_strip_hostile);
    g_test_add_func("/strip/nothing-to-strip", test_nothing_to_strip);
    g_test_add_func("/html/size-bound", test_html_size_bound);
    g_test_add_func("/strip/oversized", test_strip_oversized);
    g_test_add_func("/strip/same-parts", test_same_parts);
    g_test_add_func("/strip/named-text-part", test_named_text_part);
    g_test_add_func("/strip/echoes", test_echoes);
    g_test_add_func("/strip/echo-cases", test_echo_cases);
    return g_test_run();
}
