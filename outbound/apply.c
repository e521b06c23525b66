/*
 * apply - a decision into the store and the outbox.
 *
 * Order: the ticket first (a new one gets its number and tag here), then
 * the message, the events, the timers, the notices and the webhooks, all
 * naming that ticket.  Every write is a prepared statement of store/; a
 * failure returns at once and the caller rolls back, so a decision is
 * written whole or not at all.
 */
#include <string.h>

#include "outbound/apply.h"
#include "outbound/chat.h"
#include "outbound/notify.h"
#include "router/router.h"
#include "store/messages.h"
#include "store/tickets.h"
#include "store/timers.h"
#include "util/timefmt.h"

/* Joins the addresses of a GPtrArray of struct mail_address with ", ":
 * what the mail said, kept for display; nothing is sent to it. */
static char *
join_addresses(const GPtrArray *list)
{
    GString *s = g_string_new(NULL);

    for (guint i = 0; list != NULL && i < list->len; i++) {
        const struct mail_address *a = g_ptr_array_index(list, i);
        if (s->len > 0)
            g_string_append(s, ", ");
        g_string_append(s, a->addr);
    }
    return g_string_free(s, FALSE);
}

static char *
join_references(const GPtrArray *refs)
{
    GString *s = g_string_new(NULL);

    for (guint i = 0; refs != NULL && i < refs->len; i++) {
        if (s->len > 0)
            g_string_append_c(s, ' ');
        g_string_append(s, g_ptr_array_index(refs, i));
    }
    return g_string_free(s, FALSE);
}

/* What each attachment was, for staff and for ticketctl export; the bytes
 * themselves stay in the raw message. NULL when there is none. */
static char *
attachments_json(const GPtrArray *list)
{
    JsonArray *a;
    JsonObject *o;

    if (list == NULL || list->len == 0)
        return NULL;
    a = json_array_new();
    for (guint i = 0; i < list->len; i++) {
        const struct mail_attachment *m = g_ptr_array_index(list, i);
        o = json_object_new();
        json_object_set_string_member(o, "name", m->filename);
        json_object_set_string_member(o, "type", m->media_type);
        json_object_set_string_member(o, "disposition", m->disposition);
        json_object_set_int_member(o, "size", (gint64)m->size);
        json_object_set_string_member(o, "sha256", m->sha256);
        if (m->content_id != NULL)
            json_object_set_string_member(o, "content_id", m->content_id);
        else
            json_object_set_null_member(o, "content_id");
        json_object_set_boolean_member(o, "tnef", m->is_tnef);
        json_array_add_object_element(a, o);
    }
    g_autoptr(JsonGenerator) gen = json_generator_new();
    g_autoptr(JsonNode) root = json_node_new(JSON_NODE_ARRAY);
    json_node_take_array(root, a);
    json_generator_set_root(gen, root);
    return json_generator_to_data(gen, NULL);
}

static bool
store_message(struct store *st, const struct decision *d, const struct apply_message *msg,
              const char *at, GError **error)
{
    const struct mail *m = msg->mail;
    g_autofree char *attachments = attachments_json(m->attachments);
    g_autofree char *to = join_addresses(m->to);
    g_autofree char *cc = join_addresses(m->cc);
    g_autofree char *refs = join_references(m->references);
    const char *from = d->requester != NULL ? d->requester : m->from != NULL ? m->from->addr : NULL;

    if (d->action == ROUTER_UNATTACHED) {
        struct store_unattached u = {
            .dedup_key = msg->dedup_key,
            .message_id = m->message_id,
            .digest = m->digest,
            .kind = sender_kind_name(d->message_kind),
            .from = from,
            .envelope_from = msg->envelope_from,
            .subject = m->subject,
            .raw = msg->raw,
            .raw_len = msg->raw_len,
            .received_at = at,
            .queue_id = msg->queue_id,
            .client_addr = msg->client_addr,
            .reason = d->reason,
        };
        return store_unattached_insert(st, &u, error);
    }
    struct store_new_message row = {
        .ticket_id = d->ticket_id,
        .dedup_key = msg->dedup_key,
        .message_id = m->message_id,
        .digest = m->digest,
        /* Our side of the conversation is "out", wherever we saw it. */
        .direction =
            d->message_kind == SENDER_STAFF || d->message_kind == SENDER_INTERNAL ? "out" : "in",
        .kind = sender_kind_name(d->message_kind),
        .from = from,
        .to = to,
        .cc = cc,
        .subject = m->subject,
        .in_reply_to = m->in_reply_to,
        .references = refs,
        .text = m->text,
        .raw = msg->raw,
        .raw_len = msg->raw_len,
        .received_at = at,
        .queue_id = msg->queue_id,
        .envelope_from = msg->envelope_from,
        .client_addr = msg->client_addr,
        /* Most mail is no reply: the same text twice would only double
         * the bytes every commit writes. */
        .reply_text =
            m->reply_text != NULL && strcmp(m->reply_text, m->text) != 0 ? m->reply_text : NULL,
        .attachments = attachments,
    };
    return store_message_insert(st, &row, NULL, error);
}

static bool
write_ticket(struct store *st, const struct config *cfg, struct decision *d, const char *at,
             GError **error)
{
    if (d->action == ROUTER_CREATE) {
        if (!store_ticket_insert(st, d->ticket, cfg->ticket_prefix, &d->ticket_id, error))
            return false;
        d->ticket->id = d->ticket_id;
        ticket_set(&d->ticket->tag, NULL);
        d->ticket->tag = router_ticket_tag(cfg->ticket_prefix, d->ticket_id);
        return true;
    }
    if (d->ticket != NULL && d->ticket_changed)
        return store_ticket_update(st, d->ticket, at, error);
    if (d->ticket_id > 0 && d->store_message)
        return store_ticket_touch(st, d->ticket_id, at, error);
    return true;
}

static bool
write_events(struct store *st, const struct decision *d, const char *at, GError **error)
{
    for (guint i = 0; i < d->events->len; i++) {
        struct event *e = g_ptr_array_index(d->events, i);
        gint64 ticket = e->ticket_id > 0 ? e->ticket_id : d->ticket_id;
        /* The other side of a link learns the new ticket's tag now. */
        if (e->ticket_id > 0 && d->ticket != NULL && d->ticket->tag != NULL &&
            json_object_has_member(e->detail, "opened"))
            event_set_string(e, "opened", d->ticket->tag);
        g_autofree char *detail = event_detail_text(e);
        if (!store_event_insert(st, ticket, at, event_type_name(e->type), e->actor, detail, error))
            return false;
    }
    return true;
}

static bool
write_timers(struct store *st, const struct decision *d, GError **error)
{
    for (guint i = 0; i < d->timers->len; i++) {
        const struct timer_order *t = g_ptr_array_index(d->timers, i);
        /* A ticket created now has no timer yet (its number is new: the
         * store never gives one out twice), so there is none to clear. */
        if (t->due == NULL && d->action == ROUTER_CREATE)
            continue;
        bool ok = t->due != NULL ? store_timer_set(st, d->ticket_id, t->kind, t->due, error)
                                 : store_timer_clear(st, d->ticket_id, t->kind, error);
        if (!ok)
            return false;
    }
    return true;
}

/* The ticket notices are about: the one decided, else as stored. */
static struct ticket *
notice_ticket(struct store *st, const struct decision *d, GError **error)
{
    if (d->ticket != NULL && d->ticket->tag != NULL)
        return ticket_copy(d->ticket);
    return store_ticket_get(st, d->ticket_id, error);
}

bool
apply_decision(struct store *st, const struct config *cfg, const struct keys *keys,
               struct decision *d, const struct apply_message *msg, GDateTime *now,
               struct apply_result *out, GError **error)
{
    g_autofree char *at = timefmt_iso8601(now);
    struct ticket *t = NULL;
    bool ok;

    memset(out, 0, sizeof(*out));
    if (!write_ticket(st, cfg, d, at, error) ||
        (d->store_message && msg != NULL && !store_message(st, d, msg, at, error)) ||
        !write_events(st, d, at, error) || !write_timers(st, d, error))
        return false;
    out->ticket_id = d->ticket_id;
    if (d->ticket_id == 0)
        return true;
    if (d->notices->len == 0 && d->webhooks->len == 0 && d->ticket != NULL &&
        d->ticket->tag != NULL) {
        out->tag = g_strdup(d->ticket->tag);
        return true;
    }
    t = notice_ticket(st, d, error);
    if (t == NULL)
        return error == NULL || *error == NULL;
    out->tag = g_strdup(t->tag);
    ok = true;
    for (guint i = 0; ok && i < d->notices->len; i++) {
        ok = notify_queue(st, cfg, keys, t, g_ptr_array_index(d->notices, i),
                          msg != NULL ? msg->mail : NULL, now, error);
        out->queued++;
    }
    for (guint i = 0; ok && i < d->webhooks->len; i++) {
        const struct webhook_order *w = g_ptr_array_index(d->webhooks, i);
        g_autofree char *subject = w->with_subject ? chat_escape_text(t->subject) : NULL;
        g_autofree char *text =
            g_strdup_printf("%s %s%s%s", t->tag, w->text, subject != NULL ? ": " : "",
                            subject != NULL ? subject : "");
        ok = notify_webhook(st, cfg, t, w->event, text, w->detail, now, error);
        out->queued += cfg->webhook_url != NULL;
    }
    ticket_free(t);
    return ok;
}

void
apply_result_clear(struct apply_result *r)
{
    g_clear_pointer(&r->tag, g_free);
}
