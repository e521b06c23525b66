/*
 * ingest - the writer-thread half of taking a message: look up what the
 * store knows, let the router decide, write the decision.
 *
 * Runs inside the writer's transaction (one savepoint per job), so the
 * lookups and the writes see one consistent database: two copies of the
 * same message in one batch cannot both create a ticket.
 */
#include <string.h>

#include <json-glib/json-glib.h>

#include "milter/ingest.h"
#include "util/timefmt.h"

/* Joins the addresses of a GPtrArray of struct mail_address with ", ". */
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

/* The detail of the "created" event: enough to see later why and from what
 * a ticket was opened. */
static char *
created_detail(const struct ingest_job *job, const struct decision *d)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autoptr(JsonGenerator) gen = json_generator_new();
    g_autoptr(JsonNode) root = NULL;

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "message_id");
    json_builder_add_string_value(b, job->mail->message_id);
    json_builder_set_member_name(b, "queue_id");
    json_builder_add_string_value(b, job->queue_id);
    json_builder_set_member_name(b, "requester");
    json_builder_add_string_value(b, d->requester);
    json_builder_set_member_name(b, "customer");
    json_builder_add_string_value(b, d->customer != NULL ? d->customer->name : NULL);
    json_builder_set_member_name(b, "reason");
    json_builder_add_string_value(b, d->reason);
    json_builder_end_object(b);
    root = json_builder_get_root(b);
    json_generator_set_root(gen, root);
    return json_generator_to_data(gen, NULL);
}

/* Finds a stored copy of the message. A Message-ID seen before with other
 * content is a different message (a client reusing ids, or a forgery): it
 * gets a key of its own, and is looked up under that. */
static bool
ingest_lookup(struct store *st, const struct mail *mail, struct router_view *view, char **key,
              GError **error)
{
    g_autofree char *stored_digest = NULL;
    bool found = false;

    *key = router_dedup_key(mail);
    if (!store_message_find(st, *key, &found, &view->stored_ticket, &stored_digest, error))
        return false;
    if (found && strcmp(stored_digest, mail->digest) != 0) {
        g_free(*key);
        g_clear_pointer(&stored_digest, g_free);
        *key = router_dedup_key_variant(mail);
        if (!store_message_find(st, *key, &found, &view->stored_ticket, &stored_digest, error))
            return false;
    }
    view->is_stored = found;
    return true;
}

static bool
ingest_create(struct store *st, struct ingest_job *job, const struct decision *d,
              const char *key, GError **error)
{
    const struct mail *m = job->mail;
    g_autofree char *at = timefmt_iso8601(job->now);
    g_autofree char *to = join_addresses(m->to);
    g_autofree char *cc = join_addresses(m->cc);
    g_autofree char *refs = join_references(m->references);
    g_autofree char *detail = created_detail(job, d);
    struct store_new_ticket t = {
        .prefix = job->cfg->ticket_prefix,
        .status = d->status,
        .severity = d->severity,
        .stage = d->stage,
        .customer = d->customer != NULL ? d->customer->name : NULL,
        .requester = d->requester != NULL ? d->requester : "",
        .subject = d->subject,
        .created_at = at,
    };
    struct store_new_message msg = {
        .dedup_key = key,
        .message_id = m->message_id,
        .digest = m->digest,
        .direction = "in",
        .kind = d->customer != NULL ? "customer" : "unknown",
        .from = d->requester,
        .to = to,
        .cc = cc,
        .subject = m->subject,
        .in_reply_to = m->in_reply_to,
        .references = refs,
        .text = m->text,
        .raw = job->raw,
        .raw_len = job->raw_len,
        .received_at = at,
        .queue_id = job->queue_id,
        .envelope_from = job->envelope_from,
        .client_addr = job->client_addr,
    };

    if (!store_ticket_insert(st, &t, &job->ticket_id, error))
        return false;
    msg.ticket_id = job->ticket_id;
    if (!store_message_insert(st, &msg, NULL, error))
        return false;
    return store_event_insert(st, job->ticket_id, at, "created", d->requester, detail, error);
}

bool
ingest_job_run(struct store *st, void *data, GError **error)
{
    struct ingest_job *job = data;
    struct router_view view = { 0 };
    g_autofree char *key = NULL;
    struct decision *d;
    bool ok = true;

    if (!ingest_lookup(st, job->mail, &view, &key, error))
        return false;
    d = router_decide(job->mail, job->envelope_from, job->cfg, &view, job->now);
    job->action = d->action;
    job->reason = d->reason;
    job->requester = g_strdup(d->requester);
    job->customer = d->customer != NULL ? g_strdup(d->customer->name) : NULL;
    switch (d->action) {
    case ROUTER_CREATE:
        ok = ingest_create(st, job, d, key, error);
        break;
    case ROUTER_DUPLICATE:
        job->ticket_id = d->ticket_id;
        break;
    case ROUTER_REJECT:
        break;
    }
    if (ok && job->ticket_id > 0)
        job->tag = router_ticket_tag(job->cfg->ticket_prefix, job->ticket_id);
    router_decision_free(d);
    return ok;
}

void
ingest_job_clear(struct ingest_job *job)
{
    g_clear_pointer(&job->tag, g_free);
    g_clear_pointer(&job->customer, g_free);
    g_clear_pointer(&job->requester, g_free);
}
