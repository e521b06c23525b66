/*
 * notify - rendering and queueing notices.
 *
 * Envelope: an acknowledgement goes out with the null sender (RFC 3834:
 * nothing answers an automatic answer); every other notice has the signed
 * return path of its ticket, so that a delivery failure comes back to the
 * ticket it was about, and nowhere else.
 */
#include <string.h>

#include "outbound/notify.h"
#include "outbound/ticket-json.h"
#include "router/router.h"
#include "store/outbox.h"
#include "store/tickets.h"
#include "templates/compose.h"
#include "templates/notice.h"
#include "util/timefmt.h"

/* A NULL-terminated copy of the pointers of LIST (which keeps the strings). */
static GPtrArray *
null_terminated(const GPtrArray *list)
{
    GPtrArray *out = g_ptr_array_sized_new(list->len + 1);

    for (guint i = 0; i < list->len; i++)
        g_ptr_array_add(out, g_ptr_array_index(list, i));
    g_ptr_array_add(out, NULL);
    return out;
}

static struct template_vars *
vars_for(const struct config *cfg, const struct ticket *t, const struct notice_order *n,
         const struct mail *about, const char *language, const char *zone, GDateTime *now)
{
    bool quote = n->about_message && about != NULL;
    struct notice_facts f = {
        .tag = t->tag,
        .subject = t->subject,
        .severity = t->severity,
        .stage = t->stage,
        .status = ticket_status_name(t->status),
        .created_at = t->created_at,
        .first_response_due = t->first_response_at == NULL ? t->first_response_due : NULL,
        .next_update_due = t->next_update_due,
        .resolution_due = t->resolved_at == NULL ? t->resolution_due : NULL,
        .assignee = t->assignee,
        .customer = t->customer,
        .timezone = zone,
        .language = language,
        .requester = t->requester,
        .requester_name = quote && !n->no_names && about->from != NULL ? about->from->name : NULL,
        .message_from = quote && about->from != NULL ? about->from->addr : NULL,
        .message_subject = quote ? about->subject : NULL,
        .message_text = quote ? about->text : NULL,
        .support_addresses = cfg->support_addresses,
        .now = now,
    };
    struct template_vars *v = notice_vars(&f);

    template_vars_set(v, "notice.goal", n->goal);
    if (n->due != NULL) {
        g_autofree char *due = notice_format_time(n->due, zone, language);
        template_vars_set(v, "notice.due", due);
    }
    template_vars_set(v, "notice.reason", n->reason);
    template_vars_set(v, "notice.old_status", n->old_status);
    template_vars_set(v, "notice.untrusted", n->untrusted);
    if (n->unknown_commands != NULL) {
        g_autoptr(GPtrArray) lines = null_terminated(n->unknown_commands);
        template_vars_set_list(v, "commands.unknown", (char **)lines->pdata);
    }
    if (n->removed_recipients != NULL) {
        g_autoptr(GPtrArray) list = null_terminated(n->removed_recipients);
        template_vars_set_list(v, "recipients.removed", (char **)list->pdata);
    }
    return v;
}

/* The thread a notice answers: the incoming mail's, when it is about one. */
static GPtrArray *
thread_of(const struct notice_order *n, const struct mail *about)
{
    GPtrArray *refs = g_ptr_array_new();

    if (!n->about_message || about == NULL)
        return refs;
    for (guint i = 0; about->references != NULL && i < about->references->len; i++)
        g_ptr_array_add(refs, g_ptr_array_index(about->references, i));
    if (about->message_id != NULL)
        g_ptr_array_add(refs, about->message_id);
    return refs;
}

bool
notify_queue(struct store *st, const struct config *cfg, const struct keys *keys,
             const struct ticket *t, const struct notice_order *n, const struct mail *about,
             GDateTime *now, GError **error)
{
    const char *language = n->to_customer && t->language != NULL ? t->language : cfg->language;
    const char *zone = n->to_customer ? t->timezone : NULL;
    const struct template *tmpl = template_set_get(cfg->templates, language, n->template_name);
    struct template_vars *vars = vars_for(cfg, t, n, about, language, zone, now);
    g_autofree char *subject = NULL;
    g_autofree char *body = template_render(tmpl, vars, &subject);
    g_autofree char *message_id = compose_message_id(cfg->hostname);
    g_autofree char *loop = router_loop_value(keys, cfg->hostname, message_id);
    g_autofree char *reply_to =
        router_ticket_address(keys, cfg->support_addresses[0], cfg->recipient_delimiter, t->tag);
    g_autofree char *return_path =
        n->kind == NOTICE_ACK
            ? g_strdup("")
            : router_return_path(keys, cfg->support_addresses[0], cfg->recipient_delimiter, t->tag);
    g_autofree char *at = timefmt_iso8601(now);
    g_autofree char *to = NULL;
    g_autoptr(GPtrArray) refs = thread_of(n, about);
    g_autoptr(GPtrArray) rcpts = null_terminated(n->to);
    const char *const *list = (const char *const *)rcpts->pdata;
    bool ok;

    template_vars_free(vars);
    /* A notice to a customer goes to the one requester, never a list. */
    g_assert(n->to->len >= 1 && (!n->to_customer || n->to->len == 1));
    to = g_strjoinv(", ", (char **)rcpts->pdata);
    struct outbound_mail out = {
        .from = cfg->from,
        .to = list,
        .to_name = n->to->len == 1 ? n->to_name : NULL,
        .reply_to = reply_to,
        .subject = subject,
        .body = body,
        .in_reply_to = n->about_message && about != NULL ? about->message_id : NULL,
        .references = refs,
        .message_id = message_id,
        .auto_submitted = n->auto_submitted,
        .loop = loop,
        .ticket_tag = t->tag,
        .date = now,
    };
    g_autofree char *text = compose_mail(&out);
    g_autofree char *ack_key =
        n->kind == NOTICE_ACK ? router_ack_key(list[0], cfg->recipient_delimiter) : NULL;
    struct store_new_outbox row = {
        .ticket_id = t->id,
        .kind = n->kind == NOTICE_ACK ? "ack" : "notice",
        .ack_key = ack_key,
        .template_name = n->template_name,
        .transport = "smtp",
        .mail_from = return_path,
        .recipients = list,
        .message_id = message_id,
        .body = text,
        .created_at = at,
    };
    ok = store_outbox_insert(st, &row, NULL, error);
    if (ok) {
        struct event *e = event_new(EVENT_MAIL_QUEUED, NULL);
        g_autofree char *detail = NULL;
        event_set_string(e, "template", n->template_name);
        event_set_string(e, "message_id", message_id);
        event_set_strv(e, "to", list);
        detail = event_detail_text(e);
        ok = store_event_insert(st, t->id, at, event_type_name(EVENT_MAIL_QUEUED), to, detail,
                                error);
        event_free(e);
    }
    return ok;
}

bool
notify_webhook(struct store *st, const struct config *cfg, const struct ticket *t,
               const char *event, const char *text, JsonObject *detail, GDateTime *now,
               GError **error)
{
    g_autoptr(JsonBuilder) b = NULL;
    g_autoptr(JsonGenerator) gen = NULL;
    g_autoptr(JsonNode) root = NULL;
    g_autofree char *at = timefmt_iso8601(now);
    g_autofree char *body = NULL;

    if (cfg->webhook_url == NULL)
        return true;
    b = json_builder_new();
    json_builder_begin_object(b);
    ticket_json_string(b, "event", event);
    ticket_json_string(b, "at", at);
    json_builder_set_member_name(b, "ticket");
    json_builder_begin_object(b);
    ticket_json_members(b, t);
    json_builder_end_object(b);
    json_builder_set_member_name(b, "detail");
    if (detail != NULL) {
        JsonNode *node = json_node_new(JSON_NODE_OBJECT);
        json_node_set_object(node, detail);
        json_builder_add_value(b, node);
    } else {
        json_builder_add_null_value(b);
    }
    /* Slack and Teams incoming webhooks show this field as markup: the
     * caller has made the customer's words in it literal. */
    ticket_json_string(b, "text", text);
    json_builder_end_object(b);
    gen = json_generator_new();
    root = json_builder_get_root(b);
    json_generator_set_root(gen, root);
    body = json_generator_to_data(gen, NULL);

    const char *url[] = { cfg->webhook_url, NULL };
    struct store_new_outbox row = {
        .ticket_id = t->id,
        .kind = "webhook",
        .transport = "webhook",
        .recipients = url,
        .body = body,
        .created_at = at,
    };
    return store_outbox_insert(st, &row, NULL, error);
}
