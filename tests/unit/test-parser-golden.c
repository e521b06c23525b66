/*
 * test-parser-golden - every fixture in tests/fixtures/parser, parsed and
 * printed as JSON, against its expected output in tests/golden/parser.
 *
 * Each NAME.eml has a NAME.json that shows, field by field, what the
 * parser must make of it; a change in any field shows up as a diff of
 * readable text.  The message is parsed twice, as written (LF) and with
 * CRLF line ends as Postfix hands it over; both must print the same.
 *
 *   UPDATE_GOLDEN=1 build/tests/test-parser-golden   rewrites the goldens
 *       (then read every changed one: a golden shows correct output, not
 *       whatever the code printed);
 *   build/tests/test-parser-golden --print FILE       prints one message.
 *
 * Run from the repository root: fixture paths are relative.
 */
#include <string.h>

#include <glib.h>
#include <gmime/gmime.h>
#include <json-glib/json-glib.h>

#include "parser/mail.h"

#define FIXTURES "tests/fixtures/parser/"
#define GOLDEN "tests/golden/parser/"

static void
add_string(JsonBuilder *b, const char *key, const char *value)
{
    json_builder_set_member_name(b, key);
    if (value != NULL)
        json_builder_add_string_value(b, value);
    else
        json_builder_add_null_value(b);
}

static void
add_bool(JsonBuilder *b, const char *key, bool value)
{
    json_builder_set_member_name(b, key);
    json_builder_add_boolean_value(b, value);
}

static void
add_address(JsonBuilder *b, const char *key, const struct mail_address *a)
{
    if (key != NULL)
        json_builder_set_member_name(b, key);
    if (a == NULL) {
        json_builder_add_null_value(b);
        return;
    }
    json_builder_begin_object(b);
    add_string(b, "name", a->name);
    add_string(b, "addr", a->addr);
    json_builder_end_object(b);
}

static void
add_addresses(JsonBuilder *b, const char *key, GPtrArray *list)
{
    json_builder_set_member_name(b, key);
    json_builder_begin_array(b);
    for (guint i = 0; i < list->len; i++)
        add_address(b, NULL, g_ptr_array_index(list, i));
    json_builder_end_array(b);
}

static void
add_auth_results(JsonBuilder *b, GPtrArray *list)
{
    json_builder_set_member_name(b, "auth_results");
    json_builder_begin_array(b);
    for (guint i = 0; i < list->len; i++) {
        const struct mail_auth_result *r = g_ptr_array_index(list, i);
        json_builder_begin_object(b);
        add_string(b, "authserv_id", r->authserv_id);
        add_string(b, "method", r->method);
        add_string(b, "result", r->result);
        add_string(b, "header_d", r->header_d);
        add_string(b, "header_from", r->header_from);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
}

static void
add_attachments(JsonBuilder *b, GPtrArray *list)
{
    json_builder_set_member_name(b, "attachments");
    json_builder_begin_array(b);
    for (guint i = 0; i < list->len; i++) {
        const struct mail_attachment *a = g_ptr_array_index(list, i);
        json_builder_begin_object(b);
        add_string(b, "filename", a->filename);
        add_string(b, "media_type", a->media_type);
        add_string(b, "disposition", a->disposition);
        add_string(b, "content_id", a->content_id);
        json_builder_set_member_name(b, "size");
        json_builder_add_int_value(b, (gint64)a->size);
        add_string(b, "sha256", a->sha256);
        add_bool(b, "is_tnef", a->is_tnef);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
}

static void
add_limits(JsonBuilder *b, unsigned hit)
{
    json_builder_set_member_name(b, "limits_hit");
    json_builder_begin_array(b);
    if (hit & MAIL_LIMIT_DEPTH)
        json_builder_add_string_value(b, "depth");
    if (hit & MAIL_LIMIT_PARTS)
        json_builder_add_string_value(b, "parts");
    if (hit & MAIL_LIMIT_HEADERS)
        json_builder_add_string_value(b, "headers");
    if (hit & MAIL_LIMIT_HEADER_BYTES)
        json_builder_add_string_value(b, "header_bytes");
    json_builder_end_array(b);
}

/* MAIL as pretty JSON, fields in the order of struct mail. */
static char *
mail_to_json(const struct mail *m)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autoptr(JsonGenerator) gen = json_generator_new();
    g_autoptr(JsonNode) root = NULL;
    GString *out;

    json_builder_begin_object(b);
    add_string(b, "message_id", m->message_id);
    add_string(b, "in_reply_to", m->in_reply_to);
    json_builder_set_member_name(b, "references");
    json_builder_begin_array(b);
    for (guint i = 0; i < m->references->len; i++)
        json_builder_add_string_value(b, g_ptr_array_index(m->references, i));
    json_builder_end_array(b);
    add_address(b, "from", m->from);
    add_addresses(b, "to", m->to);
    add_addresses(b, "cc", m->cc);
    add_address(b, "reply_to", m->reply_to);
    add_string(b, "subject", m->subject);
    add_string(b, "date", m->date);
    add_string(b, "list_id", m->list_id);
    add_bool(b, "is_auto_reply", m->is_auto_reply);
    add_bool(b, "is_bulk", m->is_bulk);
    add_bool(b, "is_bounce", m->is_bounce);
    add_bool(b, "suppress_autoreply", m->suppress_autoreply);
    add_string(b, "loop", m->loop);
    add_string(b, "dsn_message_id", m->dsn_message_id);
    add_string(b, "dsn_recipient", m->dsn_recipient);
    add_string(b, "dsn_status", m->dsn_status);
    add_auth_results(b, m->auth_results);
    add_attachments(b, m->attachments);
    add_limits(b, m->limits_hit);
    add_string(b, "text", m->text);
    add_string(b, "reply_text", m->reply_text);
    add_string(b, "digest", m->digest);
    json_builder_end_object(b);

    root = json_builder_get_root(b);
    json_generator_set_root(gen, root);
    json_generator_set_pretty(gen, TRUE);
    json_generator_set_indent(gen, 2);
    out = g_string_new(NULL);
    json_generator_to_gstring(gen, out);
    g_string_append_c(out, '\n');
    return g_string_free(out, FALSE);
}

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

static char *
json_of(const char *raw, gsize len)
{
    g_autoptr(GError) error = NULL;
    struct mail *m = parser_mail_parse(raw, len, &error);
    char *json;

    g_assert_no_error(error);
    g_assert_nonnull(m);
    json = mail_to_json(m);
    parser_mail_free(m);
    return json;
}

static void
test_fixture(gconstpointer data)
{
    const char *name = data;
    g_autofree char *path = g_strconcat(FIXTURES, name, NULL);
    g_autofree char *base = g_strndup(name, strlen(name) - strlen(".eml"));
    g_autofree char *golden_path = g_strconcat(GOLDEN, base, ".json", NULL);
    g_autofree char *raw = NULL;
    g_autofree char *crlf = NULL;
    g_autofree char *json = NULL;
    g_autofree char *json_crlf = NULL;
    g_autofree char *expected = NULL;
    gsize len = 0, crlf_len = 0;
    g_autoptr(GError) error = NULL;

    if (!g_file_get_contents(path, &raw, &len, &error))
        g_error("%s: %s", path, error->message);
    json = json_of(raw, len);
    g_assert_true(g_utf8_validate(json, -1, NULL));
    /* A fixture with CRs of its own is about them: doubling them proves
     * nothing. */
    if (memchr(raw, '\r', len) == NULL) {
        crlf = to_crlf(raw, len, &crlf_len);
        json_crlf = json_of(crlf, crlf_len);
        g_assert_cmpstr(json_crlf, ==, json);
    }

    if (g_getenv("UPDATE_GOLDEN") != NULL) {
        if (!g_file_set_contents(golden_path, json, -1, &error))
            g_error("%s: %s", golden_path, error->message);
        return;
    }
    if (!g_file_get_contents(golden_path, &expected, NULL, &error))
        g_error("%s: %s (UPDATE_GOLDEN=1 writes it; then check it by eye)", golden_path,
                error->message);
    g_assert_cmpstr(json, ==, expected);
}

/* A golden without its fixture is a test that no longer runs. */
static void
test_no_orphans(void)
{
    g_autoptr(GDir) dir = g_dir_open(GOLDEN, 0, NULL);
    const char *name;

    g_assert_nonnull(dir);
    while ((name = g_dir_read_name(dir)) != NULL) {
        g_autofree char *base = NULL;
        g_autofree char *fixture = NULL;

        if (!g_str_has_suffix(name, ".json"))
            continue;
        base = g_strndup(name, strlen(name) - strlen(".json"));
        fixture = g_strconcat(FIXTURES, base, ".eml", NULL);
        if (!g_file_test(fixture, G_FILE_TEST_EXISTS))
            g_error("%s%s has no fixture %s", GOLDEN, name, fixture);
    }
}

static int
print_one(const char *path)
{
    g_autofree char *raw = NULL;
    g_autofree char *json = NULL;
    gsize len = 0;
    g_autoptr(GError) error = NULL;

    if (!g_file_get_contents(path, &raw, &len, &error)) {
        g_printerr("%s\n", error->message);
        return 1;
    }
    json = json_of(raw, len);
    fputs(json, stdout);
    return 0;
}

static gint
compare_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int
main(int argc, char **argv)
{
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GDir) dir = NULL;
    const char *name;
    int rc;

    parser_init();
    if (argc == 3 && strcmp(argv[1], "--print") == 0) {
        rc = print_one(argv[2]);
        g_mime_shutdown();
        return rc;
    }
    g_test_init(&argc, &argv, NULL);
    dir = g_dir_open(FIXTURES, 0, NULL);
    g_assert_nonnull(dir);
    while ((name = g_dir_read_name(dir)) != NULL)
        if (g_str_has_suffix(name, ".eml"))
            g_ptr_array_add(names, g_strdup(name));
    g_ptr_array_sort(names, compare_names);
    for (guint i = 0; i < names->len; i++) {
        g_autofree char *test =
            g_strconcat("/parser-golden/", (char *)g_ptr_array_index(names, i), NULL);
        g_test_add_data_func(test, g_ptr_array_index(names, i), test_fixture);
    }
    g_test_add_func("/parser-golden/no-orphans", test_no_orphans);

    rc = g_test_run();
    g_mime_shutdown();
    return rc;
}
