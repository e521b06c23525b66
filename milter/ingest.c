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
#include "router/outbound.h"
#include "templates/compose.h"
#include "templates/notice.h"
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

/* One rendered template into the outbox, threaded under the customer's
 * message, with the signed reply address and our loop mark. */
struct queued_mail {
    const char *template_name;
    const char *kind;           /* "ack" or "notice" */
    const char *to;
    const char *to_name;
    const char *language;
    const char *timezone;
    const char *auto_submitted;
};

static bool
queue_mail(struct store *st, struct ingest_job *job, const struct decision *d, const char *at,
           const struct queued_mail *q, GError **error)
{
    const struct config *cfg = job->cfg;
    const struct mail *m = job->mail;
    struct notice_facts f = {
        .tag = job->tag,
        .subject = d->subject,
        .severity = d->severity,
        .stage = d->stage,
        .status = d->status,
        .created_at = at,
        .customer = d->customer != NULL ? d->customer->name : NULL,
        .timezone = q->timezone,
        .language = q->language,
        .requester = d->requester,
        .requester_name = m->from != NULL ? m->from->name : NULL,
        .message_from = d->requester,
        .message_subject = m->subject,
        .message_text = m->text,
        .support_addresses = cfg->support_addresses,
        .now = job->now,
    };
    const struct template *t = template_set_get(cfg->templates, q->language, q->template_name);
    struct template_vars *vars = notice_vars(&f);
    g_autofree char *subject = NULL;
    g_autofree char *body = template_render(t, vars, &subject);
    g_autofree char *message_id = compose_message_id(cfg->hostname);
    g_autofree char *loop = router_loop_value(job->secret, cfg->hostname, message_id);
    g_autofree char *reply_to =
        router_ticket_address(job->secret, cfg->support_addresses[0], job->tag);
    g_autoptr(GPtrArray) refs = g_ptr_array_new();
    g_autofree char *text = NULL;
    g_autofree char *detail = NULL;

    template_vars_free(vars);
    for (guint i = 0; m->references != NULL && i < m->references->len; i++)
        g_ptr_array_add(refs, g_ptr_array_index(m->references, i));
    if (m->message_id != NULL)
        g_ptr_array_add(refs, m->message_id);
    struct outbound_mail out = {
        .from = cfg->from,
        .to = q->to,
        .to_name = q->to_name,
        .reply_to = reply_to,
        .subject = subject,
        .body = body,
        .in_reply_to = m->message_id,
        .references = refs,
        .message_id = message_id,
        .auto_submitted = q->auto_submitted,
        .loop = loop,
        .ticket_tag = job->tag,
        .date = job->now,
    };
    text = compose_mail(&out);
    struct store_new_outbox row = {
        .ticket_id = job->ticket_id,
        .kind = q->kind,
        .template_name = q->template_name,
        .transport = "smtp",
        /* The null sender: a bounce of our notice must not come back as
         * new support mail (RFC 3834). */
        .mail_from = "",
        .recipients = q->to,
        .message_id = message_id,
        .body = text,
        .created_at = at,
    };
    if (!store_outbox_insert(st, &row, NULL, error))
        return false;
    detail = g_strdup_printf("{\"template\":\"%s\",\"message_id\":\"%s\"}", q->template_name,
                             message_id);
    job->queued++;
    return store_event_insert(st, job->ticket_id, at, "mail-queued", q->to, detail, error);
}

/* The acknowledgement to the requester (unless RFC 3834 or the rate limit
 * says no) and the notice to staff. */
static bool
queue_ack(struct store *st, struct ingest_job *job, const struct decision *d, const char *at,
          const char *template_name, GError **error)
{
    const struct config *cfg = job->cfg;
    const char *language = d->customer != NULL ? d->customer->language : cfg->language;
    const char *zone = d->customer != NULL ? d->customer->timezone : "UTC";
    g_autoptr(GDateTime) hour_ago = g_date_time_add_hours(job->now, -1);
    g_autofree char *since = timefmt_iso8601(hour_ago);
    bool own = router_is_own_mail(job->secret, job->mail);
    gint64 recent = 0;
    enum ack_verdict verdict;

    if (d->requester != NULL &&
        !store_outbox_count_since(st, "ack", d->requester, since, &recent, error))
        return false;
    verdict = router_ack_verdict(job->mail, job->envelope_from, d->requester, own, recent,
                                 cfg->ack_limit);
    job->ack = router_ack_verdict_text(verdict);
    if (verdict == ACK_SEND) {
        struct queued_mail ack = {
            .template_name = template_name, .kind = "ack", .to = d->requester,
            .to_name = job->mail->from != NULL ? job->mail->from->name : NULL,
            .language = language, .timezone = zone, .auto_submitted = "auto-replied",
        };
        if (!queue_mail(st, job, d, at, &ack, error))
            return false;
    } else {
        g_autofree char *detail = g_strdup_printf("{\"reason\":\"%s\"}", job->ack);
        if (!store_event_insert(st, job->ticket_id, at, "ack-withheld", d->requester, detail,
                                error))
            return false;
    }
    return true;
}

/* The acknowledgement and the notice to staff. */
static bool
queue_new_ticket_mail(struct store *st, struct ingest_job *job, const struct decision *d,
                      const char *at, GError **error)
{
    const struct config *cfg = job->cfg;

    if (!queue_ack(st, job, d, at, "ack-new", error))
        return false;
    if (cfg->staff_addresses[0] != NULL) {
        g_autofree char *staff = g_strjoinv(", ", cfg->staff_addresses);
        struct queued_mail notice = {
            .template_name = "staff-new", .kind = "notice", .to = staff,
            .language = cfg->language, .timezone = "UTC", .auto_submitted = "auto-generated",
        };
        if (!queue_mail(st, job, d, at, &notice, error))
            return false;
    }
    return true;
}

static bool queue_followup_mail(struct store *st, struct ingest_job *job,
                                const struct decision *d, const struct ticket *ref,
                                const char *at, GError **error);

/* The existing ticket the message names, strongest reference first. */
static bool
ingest_find_reference(struct store *st, const struct ingest_job *job, struct router_view *view,
                      struct ticket **ref, GError **error)
{
    const struct mail *m = job->mail;
    gint64 id = 0;

    *ref = NULL;
    if (job->address_ticket > 0) {
        id = job->address_ticket;
        view->ref_via = REF_ADDRESS;
    }
    if (id == 0 && m->in_reply_to != NULL) {
        if (!store_ticket_by_message_id(st, m->in_reply_to, &id, error))
            return false;
        view->ref_via = REF_REFERENCES;
    }
    /* The newest reference is the likeliest to be ours. */
    for (guint i = m->references != NULL ? m->references->len : 0; id == 0 && i > 0; i--) {
        if (!store_ticket_by_message_id(st, g_ptr_array_index(m->references, i - 1), &id,
                                        error))
            return false;
        view->ref_via = REF_REFERENCES;
    }
    if (id == 0) {
        id = router_subject_ticket(job->cfg->ticket_prefix, m->subject);
        view->ref_via = REF_SUBJECT;
    }
    if (id > 0) {
        *ref = store_ticket_get(st, id, error);
        if (*ref == NULL && error != NULL && *error != NULL)
            return false;
    }
    if (*ref == NULL) {
        view->ref_via = REF_NONE;
        return true;
    }
    view->ref_ticket = (*ref)->id;
    view->ref_requester = (*ref)->requester;
    view->ref_customer = (*ref)->customer;
    return true;
}

/* A message on an existing ticket: stored with it, staff are told. */
static bool
ingest_followup(struct store *st, struct ingest_job *job, const struct decision *d,
                const char *key, const struct ticket *ref, GError **error)
{
    const struct mail *m = job->mail;
    g_autofree char *at = timefmt_iso8601(job->now);
    g_autofree char *to = join_addresses(m->to);
    g_autofree char *cc = join_addresses(m->cc);
    g_autofree char *refs = join_references(m->references);
    g_autofree char *detail = g_strdup_printf("{\"message_id\":\"%s\",\"via\":\"%s\"}",
                                              m->message_id != NULL ? m->message_id : "",
                                              d->reason);
    struct store_new_message msg = {
        .ticket_id = ref->id,
        .dedup_key = key,
        .message_id = m->message_id,
        .digest = m->digest,
        .direction = "in",
        .kind = d->kind,
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

    job->ticket_id = ref->id;
    job->tag = g_strdup(ref->tag);
    if (!store_message_insert(st, &msg, NULL, error) || !store_ticket_touch(st, ref->id, at, error))
        return false;
    if (!store_event_insert(st, ref->id, at, d->is_staff ? "staff-reply" : "customer-reply",
                            d->requester, detail, error))
        return false;
    return queue_followup_mail(st, job, d, ref, at, error);
}

static bool
queue_followup_mail(struct store *st, struct ingest_job *job, const struct decision *d,
                    const struct ticket *ref, const char *at, GError **error)
{
    const struct config *cfg = job->cfg;
    /* The notice speaks of the ticket as it stands, not of this message. */
    struct decision facts = *d;

    facts.subject = ref->subject;
    facts.severity = ref->severity;
    facts.stage = ref->stage;
    facts.status = ref->status;
    if (!d->is_staff && cfg->staff_addresses[0] != NULL) {
        g_autofree char *staff = g_strjoinv(", ", cfg->staff_addresses);
        struct queued_mail notice = {
            .template_name = "staff-reply", .kind = "notice", .to = staff,
            .language = cfg->language, .timezone = "UTC", .auto_submitted = "auto-generated",
        };
        if (!queue_mail(st, job, &facts, at, &notice, error))
            return false;
    }
    if (!d->is_staff && cfg->ack_followup)
        return queue_ack(st, job, &facts, at, "ack-followup", error);
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
    if (!store_event_insert(st, job->ticket_id, at, "created", d->requester, detail, error))
        return false;
    job->tag = router_ticket_tag(job->cfg->ticket_prefix, job->ticket_id);
    return queue_new_ticket_mail(st, job, d, at, error);
}

/* A sender used a reference to a ticket they do not take part in: both
 * tickets say so, and nothing of the message reaches the other one. */
static bool
record_refused_reference(struct store *st, struct ingest_job *job, const struct decision *d,
                         GError **error)
{
    g_autofree char *at = timefmt_iso8601(job->now);
    g_autofree char *other = router_ticket_tag(job->cfg->ticket_prefix, d->refused_ticket);
    g_autofree char *on_new = g_strdup_printf("{\"referenced\":\"%s\"}", other);
    g_autofree char *on_old = g_strdup_printf("{\"opened\":\"%s\"}", job->tag);

    return store_event_insert(st, job->ticket_id, at, "reference-refused", d->requester, on_new,
                              error) &&
           store_event_insert(st, d->refused_ticket, at, "reference-refused", d->requester,
                              on_old, error);
}

bool
ingest_job_run(struct store *st, void *data, GError **error)
{
    struct ingest_job *job = data;
    struct router_view view = { 0 };
    g_autofree char *key = NULL;
    struct ticket *ref = NULL;
    struct decision *d;
    bool ok = true;

    if (!ingest_lookup(st, job->mail, &view, &key, error))
        return false;
    if (!view.is_stored && !ingest_find_reference(st, job, &view, &ref, error))
        return false;
    d = router_decide(job->mail, job->envelope_from, job->cfg, &view, job->now);
    job->action = d->action;
    job->reason = d->reason;
    job->requester = g_strdup(d->requester);
    job->customer = d->customer != NULL ? g_strdup(d->customer->name) : NULL;
    switch (d->action) {
    case ROUTER_CREATE:
        ok = ingest_create(st, job, d, key, error) &&
             (d->refused_ticket == 0 || record_refused_reference(st, job, d, error));
        break;
    case ROUTER_FOLLOWUP:
        ok = ingest_followup(st, job, d, key, ref, error);
        break;
    case ROUTER_DUPLICATE:
        job->ticket_id = d->ticket_id;
        break;
    case ROUTER_REJECT:
        break;
    }
    if (ok && job->ticket_id > 0 && job->tag == NULL)
        job->tag = router_ticket_tag(job->cfg->ticket_prefix, job->ticket_id);
    router_decision_free(d);
    store_ticket_free(ref);
    return ok;
}

void
ingest_job_clear(struct ingest_job *job)
{
    g_clear_pointer(&job->tag, g_free);
    g_clear_pointer(&job->customer, g_free);
    g_clear_pointer(&job->requester, g_free);
}
