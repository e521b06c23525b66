/*
 * test-template - the template language, its errors, and every shipped
 * template rendered against a golden file (tests/golden/templates/).
 * Run with UPDATE_GOLDEN=1 to rewrite the golden files after a deliberate
 * change, then read the diff.
 */
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "templates/notice.h"
#include "templates/template.h"

static char *
render(const char *text, struct template_vars *v, char **subject)
{
    g_autoptr(GError) error = NULL;
    struct template *t = template_compile("t.txt", text, &error);
    char *out;

    g_assert_no_error(error);
    out = template_render(t, v, subject);
    template_free(t);
    return out;
}

static void
test_language(void)
{
    struct template_vars *v = template_vars_new();
    g_autofree char *subject = NULL;
    g_autofree char *body = NULL;
    char *addresses[] = { "a@x.test", "b@x.test", NULL };

    template_vars_set(v, "ticket.id", "TKT-7");
    template_vars_set(v, "requester.name", "");
    template_vars_set(v, "ticket.subject", "line\r\nBcc: victim@example.com");
    template_vars_set_list(v, "support.addresses", addresses);
    body = render("Subject: [{{ticket.id}}] {{ticket.subject}}\n"
                  "\n"
                  "Hi {{#if requester.name}}{{requester.name}}{{else}}there{{/if}},\n"
                  "  {{#if ticket.status}}\n"
                  "status {{ticket.status}}\n"
                  "  {{/if}}\n"
                  "{{#each support.addresses}}\n"
                  "- {{item}}\n"
                  "{{/each}}\n"
                  "{{#if support.addresses}}has addresses{{/if}}\n"
                  "unset: [{{ticket.stage}}]\n",
                  v, &subject);
    /* A value with a line break never makes a second header line. */
    g_assert_cmpstr(subject, ==, "[TKT-7] line  Bcc: victim@example.com");
    g_assert_cmpstr(body, ==,
                    "Hi there,\n"
                    "- a@x.test\n"
                    "- b@x.test\n"
                    "has addresses\n"
                    "unset: []\n");
    template_vars_free(v);
}

static const struct {
    const char *name;
    const char *text;
    int code;
    const char *expect;
} bad[] = {
    { "unknown-variable", "Subject: x\n\nline\n{{ticket.idd}}\n", TEMPLATE_ERROR_UNKNOWN_VARIABLE,
      "t.txt:4: unknown variable \"ticket.idd\"" },
    { "unknown-in-subject", "Subject: {{nope}}\n\nbody\n", TEMPLATE_ERROR_UNKNOWN_VARIABLE,
      "t.txt:1: unknown variable \"nope\"" },
    { "unknown-list", "Subject: x\n\n{{#each ticket.id}}{{/each}}\n",
      TEMPLATE_ERROR_UNKNOWN_VARIABLE, "t.txt:3: unknown list \"ticket.id\"" },
    { "unclosed-if", "Subject: x\n\n{{#if ticket.id}}\nno end\n", TEMPLATE_ERROR_SYNTAX,
      "t.txt:3: {{#if}} is not closed" },
    { "stray-close", "Subject: x\n\ntext{{/if}}\n", TEMPLATE_ERROR_SYNTAX,
      "{{/if}} without its opening tag" },
    { "mismatched", "Subject: x\n\n{{#if ticket.id}}{{/each}}\n", TEMPLATE_ERROR_SYNTAX,
      "is not closed" },
    { "unknown-block", "Subject: x\n\n{{#unless ticket.id}}{{/unless}}\n", TEMPLATE_ERROR_SYNTAX,
      "unknown block" },
    { "open-brace", "Subject: x\n\n{{ticket.id\n", TEMPLATE_ERROR_SYNTAX, "without \"}}\"" },
    { "no-header", "just a body\n", TEMPLATE_ERROR_SYNTAX, "needs a header block" },
    { "other-header", "Subject: x\nBcc: y@z\n\nbody\n", TEMPLATE_ERROR_SYNTAX,
      "t.txt:2: header \"Bcc: y@z\": only Subject: may be set" },
};

static void
test_bad(gconstpointer data)
{
    guint i = GPOINTER_TO_UINT(data);
    g_autoptr(GError) error = NULL;

    g_assert_null(template_compile("t.txt", bad[i].text, &error));
    g_assert_error(error, TEMPLATE_ERROR, bad[i].code);
    g_test_message("%s", error->message);
    g_assert_nonnull(strstr(error->message, bad[i].expect));
}

/* The values every golden rendering uses: a Dutch-looking customer with
 * non-ASCII text, so encodings show in the files. */
static struct template_vars *
golden_vars(void)
{
    struct template_vars *v = template_vars_new();
    char *addresses[] = { "support@example.com", "help@example.com", NULL };
    char *unknown[] = { "#sevrity 1", "#status done", NULL };
    char *removed[] = { "jan@bakker.nl", "partner@elders.example", NULL };
    static const char *const pairs[][2] = {
        { "ticket.id", "TKT-42" },
        { "ticket.subject", "Storing: kassa’s geven foutcode E42" },
        { "ticket.severity", "1" },
        { "ticket.severity_name", "critical" },
        { "ticket.stage", "2" },
        { "ticket.stage_role", "account manager and operations manager" },
        { "ticket.status", "open" },
        { "ticket.created", "Tue 24 Nov 2026 10:02 CET" },
        { "ticket.first_response_due", "Tue 24 Nov 2026 11:02 CET" },
        { "ticket.first_response_due_in", "1 h" },
        { "ticket.resolution_due", "Wed 25 Nov 2026 10:02 CET" },
        { "ticket.resolution_due_in", "1 business day" },
        { "ticket.assignee", "lead@example.com" },
        { "customer.name", "bakker" },
        { "customer.timezone", "Europe/Amsterdam" },
        { "requester.address", "jan@bakker.nl" },
        { "requester.name", "Jan de Bakker" },
        { "message.from", "Jan de Bakker <jan@bakker.nl>" },
        { "message.subject", "Storing: kassa’s geven foutcode E42" },
        { "message.text", "Alle kassa's in de winkel geven foutcode E42.\nGraag snel hulp." },
        { "support.address", "support@example.com" },
        { "notice.goal", "first response" },
        { "notice.due", "Tue 24 Nov 2026 11:02 CET" },
        { "notice.reason", "severity 1 not resolved within one business day" },
        { "notice.old_status", "open" },
        { "notice.untrusted", "this message claims to be from staff but was not authenticated" },
    };

    for (guint i = 0; i < G_N_ELEMENTS(pairs); i++)
        template_vars_set(v, pairs[i][0], pairs[i][1]);
    template_vars_set_list(v, "support.addresses", addresses);
    template_vars_set_list(v, "commands.unknown", unknown);
    template_vars_set_list(v, "recipients.removed", removed);
    return v;
}

static void
test_golden(void)
{
    g_autoptr(GError) error = NULL;
    struct template_set *set = template_set_load("templates", &error);
    struct template_vars *v = golden_vars();
    bool update = g_getenv("UPDATE_GOLDEN") != NULL;

    g_assert_no_error(error);
    for (int l = 0; template_languages[l] != NULL; l++) {
        for (int n = 0; template_names[n] != NULL; n++) {
            const struct template *t =
                template_set_get(set, template_languages[l], template_names[n]);
            g_autofree char *subject = NULL;
            g_autofree char *body = template_render(t, v, &subject);
            g_autofree char *got = g_strdup_printf("Subject: %s\n\n%s", subject, body);
            g_autofree char *path = g_strdup_printf("tests/golden/templates/%s/%s.txt",
                                                    template_languages[l], template_names[n]);
            g_autofree char *want = NULL;

            if (update) {
                g_autofree char *dir = g_path_get_dirname(path);
                g_mkdir_with_parents(dir, 0755);
                g_assert_true(g_file_set_contents(path, got, -1, NULL));
                continue;
            }
            g_assert_true(g_file_get_contents(path, &want, NULL, NULL));
            g_test_message("%s", path);
            g_assert_cmpstr(got, ==, want);
        }
    }
    template_vars_free(v);
    template_set_free(set);
}

static void
test_set_missing_dir(void)
{
    g_autoptr(GError) error = NULL;

    g_assert_null(template_set_load("/nonexistent", &error));
    g_assert_error(error, TEMPLATE_ERROR, TEMPLATE_ERROR_MISSING);
    g_assert_nonnull(strstr(error->message, "/nonexistent/en/ack-new.txt"));
}

static void
test_fallback_to_english(void)
{
    g_autoptr(GError) error = NULL;
    struct template_set *set = template_set_load("templates", &error);

    g_assert_no_error(error);
    g_assert_true(template_set_get(set, "fr", "ack-new") == template_set_get(set, "en", "ack-new"));
    g_assert_true(template_set_get(set, "nl", "ack-new") != template_set_get(set, "en", "ack-new"));
    template_set_free(set);
}

/* A message's text in a notice is cut at NOTICE_TEXT_MAX bytes, between two
 * characters, with a line that says so; a text that fits is left whole. */
static void
test_notice_cut(void)
{
    GString *big = g_string_new(NULL);
    g_autoptr(GDateTime) now = g_date_time_new_utc(2026, 11, 24, 10, 0, 0);

    /* "é" is two bytes: 'x' first puts every one of them across an odd
     * offset, so the byte at NOTICE_TEXT_MAX is the second of one. */
    g_string_append_c(big, 'x');
    while (big->len < 3 * NOTICE_TEXT_MAX)
        g_string_append(big, "\xc3\xa9");
    g_assert_cmpuint((guchar)big->str[NOTICE_TEXT_MAX], ==, 0xa9);

    g_autofree char *cut = notice_cut_text(big->str, NOTICE_TEXT_MAX, "en");
    const char *marker = strstr(cut, "\n[... cut: the rest of the message (");
    g_assert_nonnull(marker);
    g_assert_cmpuint(marker - cut, ==, NOTICE_TEXT_MAX - 1);
    g_assert_true(g_utf8_validate(cut, -1, NULL));
    g_assert_cmpmem(cut, marker - cut, big->str, marker - cut);
    g_assert_nonnull(strstr(marker, "is not shown here; the whole message is on the ticket]"));
    g_autofree char *nl = notice_cut_text(big->str, NOTICE_TEXT_MAX, "nl");
    g_assert_nonnull(strstr(nl, "\n[... ingekort: de rest van het bericht ("));

    /* At most MAX bytes the text is what it was. */
    g_autofree char *whole = notice_cut_text("Hall\xc3\xa9", 6, "en");
    g_assert_cmpstr(whole, ==, "Hall\xc3\xa9");
    g_autofree char *one = notice_cut_text("Hall\xc3\xa9", 5, "en");
    g_assert_true(g_str_has_prefix(one, "Hall\n[... cut:"));

    /* notice_vars() applies it to message.text and message.quoted. */
    struct notice_facts f = {
        .tag = "TKT-1", .message_text = big->str, .language = "en", .now = now
    };
    struct template_vars *v = notice_vars(&f);
    const char *text = g_hash_table_lookup(v->values, "message.text");
    const char *quoted = g_hash_table_lookup(v->values, "message.quoted");
    g_assert_cmpstr(text, ==, cut);
    g_assert_nonnull(strstr(quoted, "[... cut:"));
    g_assert_cmpuint(strlen(quoted), <, NOTICE_TEXT_MAX + 200);
    template_vars_free(v);
    g_string_free(big, TRUE);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/template/language", test_language);
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autofree char *name = g_strdup_printf("/template/bad/%s", bad[i].name);
        g_test_add_data_func(name, GUINT_TO_POINTER(i), test_bad);
    }
    g_test_add_func("/template/golden", test_golden);
    g_test_add_func("/template/missing-dir", test_set_missing_dir);
    g_test_add_func("/template/fallback", test_fallback_to_english);
    g_test_add_func("/template/notice-cut", test_notice_cut);
    return g_test_run();
}
