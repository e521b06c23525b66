/*
 * notify - rendering and queueing notices.
 */
#include <string.h>

#include "outbound/chat.h"
#include "outbound/notify.h"
#include "router/outbound.h"
#include "templates/compose.h"
#include "templates/notice.h"
#include "util/timefmt.h"

static struct template_vars *
vars_for(const struct config *cfg, const struct ticket *t, const struct notice *n, GDateTime *now)
{
    const char *language = n->language != NULL ? n->language : cfg->language;
    struct notice_facts f = {
        .tag = t->tag,
        .subject = t->subject,
        .severity = t->severity,
        .stage = t->stage,
        .status = t->status,
        .created_at = t->created_at,
        .first_response_due = t->first_response_at == NULL ? t->first_response_due : NULL,
        .next_update_due = t->next_update_due,
        .resolution_due = t->resolved_at == NULL ? t->resolution_due : NULL,
        .assignee = t->assignee,
        .customer = t->customer,
        .timezone = n->timezone,
        .language = language,
        .requester = t->requester,
        .requester_name = n->requester_name,
        .message_from = n->message_from,
        .message_subject = n->message_subject,
        .message_text = n->message_text,
        .support_addresses = cfg->support_addresses,
        .now = now,
    };
    struct template_vars *v = notice_vars(&f);

    template_vars_set(v, "notice.goal", n->goal);
    if (n->due != NULL) {
        g_autofree char *due = notice_format_time(n->due, n->timezone, language);
        template_vars_set(v, "notice.due", due);
    }
    template_vars_set(v, "notice.reason", n->reason);
    template_vars_set(v, "notice.old_status", n->old_status);
    template_vars_set(v, "notice.untrusted", n->untrusted);
    if (n->unknown_commands != NULL)
        template_vars_set_list(v, "commands.unknown", n->unknown_commands);
    return v;
}

bool
notify_queue(struct store *st, const struct config *cfg, const char *secret,
             const struct ticket *t, const struct notice *n, GDateTime *now, GError **error)
{
    const char *language = n->language != NULL ? n->language : cfg->language;
    const struct template *tmpl = template_set_get(cfg->templates, language, n->template_name);
    struct template_vars *vars = vars_for(cfg, t, n, now);
    g_autofree char *subject = NULL;
    g_autofree char *body = template_render(tmpl, vars, &subject);
    g_autofree char *message_id = compose_message_id(cfg->hostname);
    g_autofree char *loop = router_loop_value(secret, cfg->hostname, message_id);
    g_autofree char *reply_to = router_ticket_address(secret, cfg->support_addresses[0], t->tag);
    g_autofree char *at = timefmt_iso8601(now);
    g_autofree char *detail = NULL;
    g_autofree char *text = NULL;

    template_vars_free(vars);
    struct outbound_mail out = {
        .from = cfg->from,
        .to = n->to,
        .to_name = n->to_name,
        .reply_to = reply_to,
        .subject = subject,
        .body = body,
        .in_reply_to = n->in_reply_to,
        .references = n->references,
        .message_id = message_id,
        .auto_submitted = n->auto_submitted,
        .loop = loop,
        .ticket_tag = t->tag,
        .date = now,
    };
    text = compose_mail(&out);
    struct store_new_outbox row = {
        .ticket_id = t->id,
        .kind = n->kind,
        .template_name = n->template_name,
        .transport = "smtp",
        /* The null sender: a bounce of a notice must not come back as new
         * support mail (RFC 3834). */
        .mail_from = "",
        .recipients = n->to,
        .message_id = message_id,
        .body = text,
        .created_at = at,
    };
    if (!store_outbox_insert(st, &row, NULL, error))
        return false;
    detail = g_strdup_printf("{\"template\":\"%s\",\"message_id\":\"%s\"}", n->template_name,
                             message_id);
    return store_event_insert(st, t->id, at, "mail-queued", n->to, detail, error);
}

static void
member(JsonBuilder *b, const char *name, const char *value)
{
    json_builder_set_member_name(b, name);
    if (value != NULL)
        json_builder_add_string_value(b, value);
    else
        json_builder_add_null_value(b);
}

bool
notify_webhook(struct store *st, const struct config *cfg, const struct ticket *t,
               const char *event, const char *text, JsonNode *detail, GDateTime *now,
               GError **error)
{
    g_autoptr(JsonBuilder) b = NULL;
    g_autoptr(JsonGenerator) gen = NULL;
    g_autoptr(JsonNode) root = NULL;
    g_autofree char *at = timefmt_iso8601(now);
    g_autofree char *body = NULL;
    g_autofree char *chat_text = NULL;

    if (cfg->webhook_url == NULL) {
        if (detail != NULL)
            json_node_unref(detail);
        return true;
    }
    b = json_builder_new();
    json_builder_begin_object(b);
    member(b, "event", event);
    member(b, "at", at);
    json_builder_set_member_name(b, "ticket");
    json_builder_begin_object(b);
    member(b, "id", t->tag);
    member(b, "subject", t->subject);
    member(b, "status", t->status);
    json_builder_set_member_name(b, "severity");
    json_builder_add_int_value(b, t->severity);
    json_builder_set_member_name(b, "stage");
    json_builder_add_int_value(b, t->stage);
    member(b, "customer", t->customer);
    member(b, "requester", t->requester);
    member(b, "created_at", t->created_at);
    member(b, "first_response_due", t->first_response_due);
    member(b, "resolution_due", t->resolution_due);
    json_builder_end_object(b);
    json_builder_set_member_name(b, "detail");
    if (detail != NULL)
        json_builder_add_value(b, detail);
    else
        json_builder_add_null_value(b);
    /* Slack and Teams incoming webhooks show this field, as markup: it
     * holds the customer's subject, so all of it is made literal. */
    chat_text = chat_escape_text(text);
    member(b, "text", chat_text);
    json_builder_end_object(b);
    gen = json_generator_new();
    root = json_builder_get_root(b);
    json_generator_set_root(gen, root);
    body = json_generator_to_data(gen, NULL);

    struct store_new_outbox row = {
        .ticket_id = t->id,
        .kind = "webhook",
        .transport = "webhook",
        .recipients = cfg->webhook_url,
        .body = body,
        .created_at = at,
    };
    return store_outbox_insert(st, &row, NULL, error);
}

char *
notify_stage_recipients(const struct config *cfg, const struct ticket *t, int stage)
{
    if (stage >= 1 && stage <= 3 && cfg->stage_contacts[stage] != NULL &&
        cfg->stage_contacts[stage][0] != NULL)
        return g_strjoinv(", ", cfg->stage_contacts[stage]);
    if (t->assignee != NULL)
        return g_strdup(t->assignee);
    if (cfg->staff_addresses[0] != NULL)
        return g_strjoinv(", ", cfg->staff_addresses);
    return NULL;
}

bool
notify_status_change(struct store *st, const struct config *cfg, const char *secret,
                     const struct ticket *t, const char *old_status, GDateTime *now,
                     GError **error)
{
    struct notice n = {
        .template_name = "status-change",
        .kind = "notice",
        .to = t->requester,
        .language = t->language,
        .timezone = t->timezone,
        .auto_submitted = "auto-generated",
        .old_status = old_status,
    };

    return notify_queue(st, cfg, secret, t, &n, now, error);
}
