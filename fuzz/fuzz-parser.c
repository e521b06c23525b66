/*
 * fuzz-parser - libFuzzer target for parser/: any bytes as a message.
 *
 * Besides crashes, leaks and slow inputs (the sanitizers and libFuzzer's
 * -timeout see those), it aborts on any broken promise of mail.h and of
 * the bounds (bound.h, header.h): a string that is not UTF-8, a
 * header-like field with a line break or a control character, a missing
 * array, a msg-id longer than PARSER_MAX_MSGID, a header value longer than
 * PARSER_MAX_HEADER_TEXT allows.
 * Each input is parsed with the default limits and with small ones, so
 * that the limit paths are fuzzed too, and fed to parser_strip_commands(),
 * which the milter runs on the same bytes; the helpers that cut header
 * values are driven with the same bytes as a header value.
 *
 *   make fuzz && build/fuzz/fuzz-parser -max_len=131072 CORPUS_DIR tests/fixtures/parser
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <gmime/gmime.h>

#include "parser/bound.h"
#include "parser/header.h"
#include "parser/mail.h"
#include "router/commands.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_utf8(const char *s, bool one_line)
{
    if (s == NULL)
        return;
    if (!g_utf8_validate(s, -1, NULL))
        abort();
    if (!one_line)
        return;
    /* What goes into a header later: one line, no control character. */
    for (const char *p = s; *p != '\0'; p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p);
        if (c < 0x20 || c == 0x7f || c == 0x2028 || c == 0x2029)
            abort();
    }
    if (strlen(s) > 3 * PARSER_MAX_HEADER_TEXT)
        abort();
}

static void
check_msgid(const char *id)
{
    check_utf8(id, true);
    if (id != NULL && (strlen(id) > PARSER_MAX_MSGID || strpbrk(id, " <>") != NULL))
        abort();
}

static void
check_address(const struct mail_address *a)
{
    if (a == NULL)
        return;
    if (a->name == NULL || a->addr == NULL)
        abort();
    check_utf8(a->name, true);
    check_utf8(a->addr, true);
}

static void
check_mail(const struct mail *m)
{
    if (m->subject == NULL || m->text == NULL || m->reply_text == NULL || m->digest == NULL ||
        m->references == NULL || m->to == NULL || m->cc == NULL || m->attachments == NULL ||
        m->auth_results == NULL)
        abort();
    check_msgid(m->message_id);
    check_msgid(m->in_reply_to);
    check_msgid(m->dsn_message_id);
    check_utf8(m->subject, true);
    check_utf8(m->date, true);
    check_utf8(m->list_id, true);
    check_utf8(m->loop, true);
    check_utf8(m->dsn_recipient, true);
    check_utf8(m->dsn_status, true);
    check_utf8(m->text, false);
    check_utf8(m->reply_text, false);
    for (guint i = 0; i < m->references->len; i++)
        check_msgid(g_ptr_array_index(m->references, i));
    check_address(m->from);
    check_address(m->reply_to);
    for (guint i = 0; i < m->to->len; i++)
        check_address(g_ptr_array_index(m->to, i));
    for (guint i = 0; i < m->cc->len; i++)
        check_address(g_ptr_array_index(m->cc, i));
    for (guint i = 0; i < m->attachments->len; i++) {
        const struct mail_attachment *a = g_ptr_array_index(m->attachments, i);
        check_utf8(a->filename, true);
        check_utf8(a->media_type, true);
        check_utf8(a->disposition, true);
        check_utf8(a->content_id, true);
        if (strlen(a->sha256) != 64)
            abort();
    }
    for (guint i = 0; i < m->auth_results->len; i++) {
        const struct mail_auth_result *r = g_ptr_array_index(m->auth_results, i);
        if (r->authserv_id == NULL || r->method == NULL || r->result == NULL)
            abort();
        check_utf8(r->authserv_id, true);
        check_utf8(r->method, true);
        check_utf8(r->result, true);
        check_utf8(r->header_d, true);
        check_utf8(r->header_from, true);
    }
}

/* The input as one header value: the cut helpers keep their promises. */
static void
check_header_helpers(const char *raw, size_t size)
{
    g_autofree char *value = g_strndup(raw, MIN(size, 65536));
    gsize len = strlen(value);
    gsize limit = len / 2;
    gsize cut = parser_header_cut_text(value, limit);
    gsize used = 0;
    g_autoptr(GPtrArray) units = parser_address_units(value, limit, &used);
    g_autofree char *fixed = parser_header_fix_words(value);

    if (cut > limit || cut > len || used > limit || !g_utf8_validate(fixed, -1, NULL))
        abort();
    /* Never inside a UTF-8 character. */
    if (cut > 0 && cut < len && ((guchar)value[cut] & 0xc0) == 0x80 &&
        g_utf8_validate(value, -1, NULL))
        abort();
    for (guint i = 0; i < units->len; i++)
        if (strlen(g_ptr_array_index(units, i)) > PARSER_MAX_ADDRESS)
            abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct parser_limits small = { 3, 16, 10 };
    const char *raw = (const char *)data;
    struct mail *m;
    GBytes *body = NULL;
    char *content_type = NULL;
    char *encoding = NULL;

    parser_init();
    m = parser_mail_parse(raw, size, NULL);
    if (m != NULL)
        check_mail(m);
    parser_mail_free(m);

    m = parser_mail_parse_limited(raw, size, &small, NULL);
    if (m != NULL)
        check_mail(m);
    parser_mail_free(m);

    check_header_helpers(raw, size);

    if (parser_strip_commands(raw, size, NULL, commands_is_command_line, &body, &content_type,
                              &encoding)) {
        g_bytes_unref(body);
        g_free(content_type);
        g_free(encoding);
    }
    return 0;
}
