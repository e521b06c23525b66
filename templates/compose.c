/*
 * compose - GMime builds the outbound message.
 */
#include <string.h>

#include <gmime/gmime.h>

#include "parser/auto.h"
#include "templates/compose.h"

/* A header value with every control character turned into a space. */
static char *
one_line(const char *value)
{
    char *v = g_strdup(value != NULL ? value : "");

    for (char *p = v; *p != '\0'; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
    return g_strstrip(v);
}

/* A msg-id as it goes between angle brackets: no blanks, no brackets. */
static char *
msgid(const char *id)
{
    GString *s = g_string_new("<");

    for (const char *p = id; *p != '\0'; p++)
        if ((unsigned char)*p > 0x20 && *p != '<' && *p != '>' && *p != 0x7f)
            g_string_append_c(s, *p);
    g_string_append_c(s, '>');
    return g_string_free(s, FALSE);
}

static void
set_header(GMimeObject *obj, const char *name, const char *value)
{
    g_autofree char *v = one_line(value);

    g_mime_object_set_header(obj, name, v, "utf-8");
}

char *
compose_message_id(const char *hostname)
{
    g_autofree char *host = one_line(hostname);

    g_strdelimit(host, " <>@", '-');
    return g_strdup_printf("tm.%" G_GINT64_FORMAT ".%08x%08x@%s", g_get_real_time(),
                           g_random_int(), g_random_int(), host);
}

char *
compose_mail(const struct outbound_mail *m)
{
    GMimeMessage *msg = g_mime_message_new(TRUE);
    GMimeObject *obj = GMIME_OBJECT(msg);
    g_autofree char *subject = one_line(m->subject);
    g_autofree char *from = one_line(m->from);
    GMimeFormatOptions *fo;
    GMimeStream *content;
    GMimeDataWrapper *wrapper;
    GMimePart *part;
    InternetAddressList *list;
    char *text;

    list = internet_address_list_parse(NULL, from);
    if (list != NULL) {
        internet_address_list_append(g_mime_message_get_from(msg), list);
        g_object_unref(list);
    }
    /* Each recipient is one mailbox built from its address: nothing is
     * parsed, so no address can turn into two. */
    for (const char *const *p = m->to; p != NULL && *p != NULL; p++) {
        g_autofree char *addr = one_line(*p);
        g_autofree char *name = m->to_name != NULL && p[1] == NULL && p == m->to
                                    ? one_line(m->to_name)
                                    : NULL;
        InternetAddress *ia = internet_address_mailbox_new(name, addr);
        internet_address_list_add(g_mime_message_get_addresses(msg, GMIME_ADDRESS_TYPE_TO), ia);
        g_object_unref(ia);
    }
    if (m->reply_to != NULL) {
        g_autofree char *reply_to = one_line(m->reply_to);
        list = internet_address_list_parse(NULL, reply_to);
        if (list != NULL) {
            internet_address_list_append(
                g_mime_message_get_addresses(msg, GMIME_ADDRESS_TYPE_REPLY_TO), list);
            g_object_unref(list);
        }
    }
    g_mime_message_set_subject(msg, subject, "utf-8");
    g_mime_message_set_date(msg, m->date);
    {
        g_autofree char *id = one_line(m->message_id);
        g_mime_message_set_message_id(msg, id);
    }
    if (m->in_reply_to != NULL) {
        g_autofree char *v = msgid(m->in_reply_to);
        g_mime_object_set_header(obj, "In-Reply-To", v, NULL);
    }
    if (m->references != NULL && m->references->len > 0) {
        GString *refs = g_string_new(NULL);
        /* The newest ones matter most; a long thread keeps its root and tail. */
        guint start = m->references->len > 20 ? m->references->len - 19 : 0;
        for (guint i = 0; i < m->references->len; i++) {
            if (i > 0 && i < start)
                continue;
            g_autofree char *v = msgid(g_ptr_array_index(m->references, i));
            if (refs->len > 0)
                g_string_append_c(refs, ' ');
            g_string_append(refs, v);
        }
        g_mime_object_set_header(obj, "References", refs->str, NULL);
        g_string_free(refs, TRUE);
    }
    set_header(obj, "Auto-Submitted", m->auto_submitted);
    /* RFC 3834 and Outlook's way of saying "do not answer this". */
    set_header(obj, "X-Auto-Response-Suppress", "All");
    set_header(obj, "Precedence", "bulk");
    set_header(obj, PARSER_LOOP_HEADER, m->loop);
    if (m->ticket_tag != NULL)
        set_header(obj, "X-Ticket-ID", m->ticket_tag);

    content = g_mime_stream_mem_new_with_buffer(m->body, strlen(m->body));
    wrapper = g_mime_data_wrapper_new_with_stream(content, GMIME_CONTENT_ENCODING_DEFAULT);
    part = g_mime_part_new_with_type("text", "plain");
    g_mime_object_set_content_type_parameter(GMIME_OBJECT(part), "charset", "utf-8");
    g_mime_part_set_content(part, wrapper);
    g_mime_part_set_content_encoding(
        part, g_mime_part_get_best_content_encoding(part, GMIME_ENCODING_CONSTRAINT_7BIT));
    g_mime_message_set_mime_part(msg, GMIME_OBJECT(part));
    g_object_unref(part);
    g_object_unref(wrapper);
    g_object_unref(content);

    fo = g_mime_format_options_clone(NULL);
    g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_DOS);
    text = g_mime_object_to_string(obj, fo);
    g_mime_format_options_free(fo);
    g_object_unref(msg);
    return text;
}
