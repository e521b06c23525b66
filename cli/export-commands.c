/*
 * export-commands - ticketctl export: every ticket (or one) with its
 * messages and events as JSON, or its stored messages as an mbox a mail
 * program reads back.
 *
 * One ticket at a time, from one read snapshot: the daemon may keep
 * writing, and exporting a large database takes the memory of its largest
 * ticket.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <json-glib/json-glib.h>

#include "cli/ticketctl.h"
#include "store/admin.h"
#include "store/export.h"
#include "store/messages.h"
#include "store/tickets.h"
#include "util/timefmt.h"

/* ---- export ---- */

static void
export_messages(JsonBuilder *b, GPtrArray *messages)
{
    json_builder_set_member_name(b, "messages");
    json_builder_begin_array(b);
    for (guint i = 0; i < messages->len; i++) {
        const struct admin_message *m = g_ptr_array_index(messages, i);
        json_builder_begin_object(b);
        ticket_json_string(b, "message_id", m->message_id);
        ticket_json_string(b, "direction", m->direction);
        ticket_json_string(b, "kind", m->kind);
        ticket_json_string(b, "from", m->from);
        ticket_json_string(b, "to", m->to);
        ticket_json_string(b, "cc", m->cc);
        ticket_json_string(b, "subject", m->subject);
        ticket_json_string(b, "in_reply_to", m->in_reply_to);
        ticket_json_string(b, "references", m->references);
        ticket_json_string(b, "received_at", m->received_at);
        ticket_json_string(b, "queue_id", m->queue_id);
        ticket_json_string(b, "envelope_from", m->envelope_from);
        ticket_json_string(b, "client_addr", m->client_addr);
        json_builder_set_member_name(b, "raw_size");
        if (m->raw_size >= 0)
            json_builder_add_int_value(b, m->raw_size);
        else
            json_builder_add_null_value(b); /* purged */
        ticket_json_string(b, "text", m->text);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
}

struct export_out {
    JsonGenerator *gen;
    guint written;
};

/* One ticket at a time, so that exporting a large database takes the
 * memory of its largest ticket, not of all of them. */
static bool
export_one(const struct ticket *t, GPtrArray *messages, GPtrArray *events, void *data,
           GError **error)
{
    struct export_out *out = data;
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autoptr(JsonNode) root = NULL;
    g_autofree char *text = NULL;

    json_builder_begin_object(b);
    ticket_json_members(b, t);
    export_messages(b, messages);
    ticket_json_events(b, events);
    json_builder_end_object(b);
    root = json_builder_get_root(b);
    json_generator_set_root(out->gen, root);
    text = json_generator_to_data(out->gen, NULL);
    if (printf("%s%s", out->written > 0 ? ",\n" : "", text) < 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot write the export: %s",
                    g_strerror(errno));
        return false;
    }
    out->written++;
    return true;
}

static void
ticket_free_cb(gpointer t)
{
    ticket_free(t);
}

/* The "From " line of an mbox entry: who, and when in asctime's form. */
static void
mbox_from_line(GString *out, const char *from, const char *received_at)
{
    static const char *const days[] = { "", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
    static const char *const months[] = { "",    "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
    g_autoptr(GDateTime) t = received_at != NULL ? timefmt_parse(received_at) : NULL;
    g_autoptr(GDateTime) when = t != NULL ? g_date_time_ref(t) : g_date_time_new_now_utc();
    g_autofree char *clock = g_date_time_format(when, "%H:%M:%S");

    /* An address with a blank would split the line: it is no address. */
    g_string_append_printf(
        out, "From %s %s %s %2d %s %d\n",
        from != NULL && *from != '\0' && strpbrk(from, " \t\r\n") == NULL ? from : "MAILER-DAEMON",
        days[g_date_time_get_day_of_week(when)], months[g_date_time_get_month(when)],
        g_date_time_get_day_of_month(when), clock, g_date_time_get_year(when));
}

/* RAW as an mboxrd entry: LF line ends, every line that starts with
 * ">*From " gets one more '>', a blank line after. */
static void
mbox_body(GString *out, const guint8 *raw, gsize len)
{
    const char *p = (const char *)raw, *end = p + len;

    while (p < end) {
        const char *eol = memchr(p, '\n', (gsize)(end - p));
        const char *stop = eol != NULL ? eol : end;
        const char *q = p;
        gsize n;
        while (q < stop && *q == '>')
            q++;
        if ((gsize)(stop - q) >= 5 && memcmp(q, "From ", 5) == 0)
            g_string_append_c(out, '>');
        n = (gsize)(stop - p);
        if (n > 0 && p[n - 1] == '\r')
            n--;
        g_string_append_len(out, p, (gssize)n);
        g_string_append_c(out, '\n');
        p = eol != NULL ? eol + 1 : end;
    }
    g_string_append_c(out, '\n');
}

/* export --mbox [TAG]: every stored message of the ticket (or of all), as
 * it arrived, in one mbox a mail client opens; messages whose raw bytes
 * were purged are left out (and counted on stderr). */
static int
export_mbox(const char *db_path, const char *tag)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) tickets = NULL;
    struct store *st = store_open(db_path, STORE_READ_ONLY, CLI_READ_BUSY_MS, &error);
    guint purged = 0;
    int rc = 0;

    if (st == NULL)
        return cli_fail(error, EXIT_DATABASE);
    if (tag != NULL) {
        struct ticket *t = store_ticket_get_by_tag(st, tag, &error);
        tickets = g_ptr_array_new_with_free_func(ticket_free_cb);
        if (t != NULL)
            g_ptr_array_add(tickets, t);
        else if (error == NULL) {
            store_close(st);
            fprintf(stderr, "ticketctl: no ticket %s\n", tag);
            return EXIT_NOT_FOUND;
        }
    } else {
        tickets = store_ticket_list(st, &error);
    }
    for (guint i = 0; tickets != NULL && error == NULL && i < tickets->len; i++) {
        const struct ticket *t = g_ptr_array_index(tickets, i);
        g_autoptr(GPtrArray) messages = store_ticket_messages(st, t->id, &error);
        for (guint k = 0; messages != NULL && k < messages->len; k++) {
            const struct ticket_message *m = g_ptr_array_index(messages, k);
            g_autoptr(GBytes) raw = NULL;
            g_autoptr(GString) entry = g_string_new(NULL);
            bool found = false;
            if (!store_message_raw(st, t->id, k, &found, &raw, &error))
                break;
            if (raw == NULL) {
                purged++;
                continue;
            }
            gsize len;
            const guint8 *data = g_bytes_get_data(raw, &len);
            mbox_from_line(entry, m->from, m->received_at);
            mbox_body(entry, data, len);
            if (fwrite(entry->str, 1, entry->len, stdout) != entry->len) {
                g_set_error(&error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot write the mbox: %s",
                            g_strerror(errno));
                break;
            }
        }
    }
    store_close(st);
    if (error != NULL || fflush(stdout) != 0)
        rc = cli_fail(error, EXIT_DATABASE);
    if (purged > 0)
        fprintf(stderr, "ticketctl: %u messages were purged and are not in the mbox\n", purged);
    return rc;
}

int
cmd_export(const char *db_path, const struct options *o)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonGenerator) gen = json_generator_new();
    struct export_out out = { .gen = gen };
    const char *tag = cli_arg(o, 1);
    struct admin *a;
    gint64 id = 0;
    guint count = 0;
    bool ok;

    if (o->args->len > 2) {
        fprintf(stderr, "ticketctl: export takes at most one ticket, e.g. ticketctl export "
                        "--json TKT-42\n");
        return EXIT_USAGE;
    }
    if (o->mbox && o->json) {
        fprintf(stderr, "ticketctl: export --mbox writes an mbox: no --json\n");
        return EXIT_USAGE;
    }
    if (o->mbox)
        return export_mbox(db_path, tag);
    if (tag != NULL) {
        struct store *st = store_open(db_path, STORE_READ_ONLY, CLI_READ_BUSY_MS, &error);
        struct ticket *t = st != NULL ? store_ticket_get_by_tag(st, tag, &error) : NULL;
        if (t != NULL)
            id = t->id;
        ticket_free(t);
        store_close(st);
        if (error != NULL)
            return cli_fail(error, EXIT_DATABASE);
        if (id == 0) {
            fprintf(stderr, "ticketctl: no ticket %s\n", tag);
            return EXIT_NOT_FOUND;
        }
    }
    a = cli_open_admin(db_path, false, &error);
    if (a == NULL)
        return cli_fail(error, EXIT_DATABASE);
    json_generator_set_pretty(gen, TRUE);
    printf("[\n");
    ok = admin_export(a, id, export_one, &out, &count, &error);
    admin_close(a);
    printf("%s]\n", out.written > 0 ? "\n" : "");
    if (fflush(stdout) != 0 && ok) {
        fprintf(stderr, "ticketctl: cannot write the export: %s\n", g_strerror(errno));
        return EXIT_DATABASE;
    }
    return ok ? 0 : cli_fail(error, EXIT_DATABASE);
}
