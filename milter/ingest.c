/*
 * ingest - the writer-thread half of taking a message: look up what the
 * store knows, let the router decide, write the decision and the mail it
 * causes.
 *
 * Runs inside the writer's transaction (one savepoint per job), so the
 * lookups and the writes see one consistent database: two copies of the
 * same message in one batch cannot both create a ticket, and a notice is
 * queued exactly when the ticket change that caused it is committed.
 */
#include <stdarg.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include "milter/ingest.h"
#include "outbound/notify.h"
#include "outbound/timers.h"
#include "router/change.h"
#include "router/commands.h"
#include "router/outbound.h"
#include "router/severity.h"
#include "router/sla.h"
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

/* A JSON object from NAME, VALUE pairs (NULL-terminated; NULL values
 * become null): event details are always built this way, never printf'd. */
static char *
json_object_text(const char *name, ...)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autoptr(JsonGenerator) gen = json_generator_new();
    g_autoptr(JsonNode) root = NULL;
    va_list ap;

    json_builder_begin_object(b);
    va_start(ap, name);
    for (const char *n = name; n != NULL; n = va_arg(ap, const char *)) {
        const char *v = va_arg(ap, const char *);
        json_builder_set_member_name(b, n);
        if (v != NULL)
            json_builder_add_string_value(b, v);
        else
            json_builder_add_null_value(b);
    }
    va_end(ap);
    json_builder_end_object(b);
    root = json_builder_get_root(b);
    json_generator_set_root(gen, root);
    return json_generator_to_data(gen, NULL);
}

static bool
event(struct store *st, gint64 ticket, GDateTime *now, const char *type, const char *actor,
      const char *detail, GError **error)
{
    g_autofree char *at = timefmt_iso8601(now);

    return store_event_insert(st, ticket, at, type, actor, detail, error);
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
    /* A bounce names the failed message in its report. */
    if (id == 0 && m->dsn_message_id != NULL) {
        if (!store_ticket_by_message_id(st, m->dsn_message_id, &id, error))
            return false;
        view->ref_via = REF_REFERENCES;
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
    view->ref_status = (*ref)->status;
    view->ref_resolved_at = (*ref)->resolved_at;
    return true;
}

/* {"severity": N, "rule": "..."}: the number as a number, as in every
 * severity and stage event. */
static char *
severity_detail(int severity, const char *rule)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autoptr(JsonGenerator) gen = json_generator_new();
    g_autoptr(JsonNode) root = NULL;

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "severity");
    json_builder_add_int_value(b, severity);
    json_builder_set_member_name(b, "rule");
    json_builder_add_string_value(b, rule);
    json_builder_end_object(b);
    root = json_builder_get_root(b);
    json_generator_set_root(gen, root);
    return json_generator_to_data(gen, NULL);
}

/* What each attachment was, for staff and for ticketctl export; the bytes
 * themselves stay in the raw message. NULL when there is none. */
static char *
attachments_json(const GPtrArray *list)
{
    g_autoptr(JsonBuilder) b = NULL;
    g_autoptr(JsonGenerator) gen = NULL;
    g_autoptr(JsonNode) root = NULL;

    if (list == NULL || list->len == 0)
        return NULL;
    b = json_builder_new();
    json_builder_begin_array(b);
    for (guint i = 0; i < list->len; i++) {
        const struct mail_attachment *a = g_ptr_array_index(list, i);
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "name");
        json_builder_add_string_value(b, a->filename);
        json_builder_set_member_name(b, "type");
        json_builder_add_string_value(b, a->media_type);
        json_builder_set_member_name(b, "disposition");
        json_builder_add_string_value(b, a->disposition);
        json_builder_set_member_name(b, "size");
        json_builder_add_int_value(b, (gint64)a->size);
        json_builder_set_member_name(b, "sha256");
        json_builder_add_string_value(b, a->sha256);
        json_builder_set_member_name(b, "content_id");
        if (a->content_id != NULL)
            json_builder_add_string_value(b, a->content_id);
        else
            json_builder_add_null_value(b);
        json_builder_set_member_name(b, "tnef");
        json_builder_add_boolean_value(b, a->is_tnef);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    root = json_builder_get_root(b);
    gen = json_generator_new();
    json_generator_set_root(gen, root);
    return json_generator_to_data(gen, NULL);
}

/* The parts of the message past the [milter] MIME limits were not read:
 * staff should look at the raw message. */
static bool
note_limits(struct store *st, const struct ingest_job *job, gint64 ticket, GError **error)
{
    unsigned hit = job->mail->limits_hit;
    g_autofree char *detail = NULL;

    if (hit == 0)
        return true;
    detail = json_object_text("message_id", job->mail->message_id,
                              "depth", (hit & MAIL_LIMIT_DEPTH) ? "max_mime_depth" : NULL,
                              "parts", (hit & MAIL_LIMIT_PARTS) ? "max_mime_parts" : NULL,
                              "headers", (hit & MAIL_LIMIT_HEADERS) ? "max_headers" : NULL,
                              "note", "the message is stored whole; the rest was not parsed",
                              NULL);
    return event(st, ticket, job->now, "parse-limits", NULL, detail, error);
}

static bool
store_the_message(struct store *st, const struct ingest_job *job, const struct decision *d,
                  gint64 ticket, const char *key, GError **error)
{
    g_autofree char *attachments = attachments_json(job->mail->attachments);
    const struct mail *m = job->mail;
    g_autofree char *at = timefmt_iso8601(job->now);
    g_autofree char *to = join_addresses(m->to);
    g_autofree char *cc = join_addresses(m->cc);
    g_autofree char *refs = join_references(m->references);
    struct store_new_message msg = {
        .ticket_id = ticket,
        .dedup_key = key,
        .message_id = m->message_id,
        .digest = m->digest,
        .direction = "in",
        /* A staff address without trust is what it claims, not what it is. */
        .kind = d->is_staff && !job->trusted ? "untrusted-staff" : d->kind,
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
        /* Most mail is no reply: the same text twice would only double
         * the bytes every commit writes. */
        .reply_text = m->reply_text != NULL && strcmp(m->reply_text, m->text) != 0
                          ? m->reply_text
                          : NULL,
        .attachments = attachments,
    };

    return store_message_insert(st, &msg, NULL, error) && note_limits(st, job, ticket, error);
}

/* The customer's message as the thread our notices answer. */
static void
notice_about_message(struct notice *n, const struct ingest_job *job, GPtrArray *refs)
{
    const struct mail *m = job->mail;

    for (guint i = 0; m->references != NULL && i < m->references->len; i++)
        g_ptr_array_add(refs, g_ptr_array_index(m->references, i));
    if (m->message_id != NULL)
        g_ptr_array_add(refs, m->message_id);
    n->in_reply_to = m->message_id;
    n->references = refs;
    n->message_from = job->requester;
    n->message_subject = m->subject;
    n->message_text = m->text;
    n->requester_name = m->from != NULL ? m->from->name : NULL;
}

/* An acknowledgement to the requester, unless RFC 3834 or ack_limit says no. */
static bool
queue_ack(struct store *st, struct ingest_job *job, const struct ticket *t,
          const char *template_name, GError **error)
{
    const struct config *cfg = job->cfg;
    g_autoptr(GDateTime) hour_ago = g_date_time_add_hours(job->now, -1);
    g_autofree char *since = timefmt_iso8601(hour_ago);
    g_autoptr(GPtrArray) refs = g_ptr_array_new();
    bool own = router_is_own_mail(job->secret, job->mail);
    gint64 recent = 0;
    enum ack_verdict verdict;

    if (job->requester != NULL &&
        !store_outbox_count_since(st, "ack", job->requester, since, &recent, error))
        return false;
    verdict = router_ack_verdict(job->mail, job->envelope_from, job->requester, own, recent,
                                 cfg->ack_limit);
    job->ack = router_ack_verdict_text(verdict);
    if (verdict != ACK_SEND) {
        g_autofree char *detail = json_object_text("reason", job->ack, NULL);
        return event(st, t->id, job->now, "ack-withheld", job->requester, detail, error);
    }
    struct notice n = {
        .template_name = template_name,
        .kind = "ack",
        .to = job->requester,
        .to_name = job->mail->from != NULL ? job->mail->from->name : NULL,
        .language = t->language,
        .timezone = t->timezone,
        .auto_submitted = "auto-replied",
    };
    notice_about_message(&n, job, refs);
    job->queued++;
    return notify_queue(st, job->cfg, job->secret, t, &n, job->now, error);
}

/* A notice to staff about this message (new ticket or customer reply). */
static bool
queue_staff_notice(struct store *st, struct ingest_job *job, const struct ticket *t,
                   const char *template_name, const char *untrusted, GError **error)
{
    const struct config *cfg = job->cfg;
    g_autofree char *to = notify_stage_recipients(cfg, t, 0);
    g_autoptr(GPtrArray) refs = g_ptr_array_new();

    if (to == NULL)
        return true;
    struct notice n = {
        .template_name = template_name,
        .kind = "notice",
        .to = to,
        .auto_submitted = "auto-generated",
        .untrusted = untrusted,
    };
    notice_about_message(&n, job, refs);
    job->queued++;
    return notify_queue(st, cfg, job->secret, t, &n, job->now, error);
}

/* Entering a stage: its contacts get the facts and the deadlines. */
static bool
queue_stage_notice(struct store *st, struct ingest_job *job, const struct ticket *t,
                   const char *reason, GError **error)
{
    g_autofree char *to = notify_stage_recipients(job->cfg, t, t->stage);
    g_autofree char *text = NULL;

    if (t->stage == 0)
        return true;
    /* What a chat channel shows: the ticket, where it went, and why. */
    text = g_strdup_printf("%s escalated to stage %d: %s (%s)", t->tag, t->stage, t->subject,
                           reason);
    struct notice n = {
        .template_name = "escalation-staff",
        .kind = "notice",
        .to = to,
        .auto_submitted = "auto-generated",
        .reason = reason,
    };
    if (to != NULL)
        job->queued++;
    return (to == NULL || notify_queue(st, job->cfg, job->secret, t, &n, job->now, error)) &&
           notify_webhook(st, job->cfg, t, "escalation", text, NULL, job->now, error);
}

static char *
iso_or_null(GDateTime *t)
{
    return t != NULL ? timefmt_iso8601(t) : NULL;
}

static bool
ingest_create(struct store *st, struct ingest_job *job, const struct decision *d,
              const char *key, GError **error)
{
    const struct config *cfg = job->cfg;
    const struct mail *m = job->mail;
    const char *plan_name = d->customer != NULL ? d->customer->plan : "standard";
    const struct plan *plan = config_plan(cfg, plan_name);
    const char *zone = d->customer != NULL ? d->customer->timezone : "UTC";
    const char *language = d->customer != NULL ? d->customer->language : cfg->language;
    g_autofree char *at = timefmt_iso8601(job->now);
    g_autofree char *rule = NULL;
    struct severity_verdict verdict;
    struct sla_times times;
    int severity;

    if (plan == NULL)
        plan = config_plan(cfg, "standard");
    severity_judge(cfg->severity, m->subject, m->text,
                   d->customer != NULL ? d->customer->language : NULL, plan->default_severity,
                   &verdict);
    severity = verdict.severity;
    rule = g_steal_pointer(&verdict.reason);
    severity_verdict_clear(&verdict);
    sla_compute(plan, &cfg->ladder, zone, severity, job->now, 0, &times);
    for (int k = 0; k < GOAL_COUNT; k++)
        if (times.warn[k] != NULL && g_date_time_difference(times.warn[k], job->now) < 60 * G_TIME_SPAN_SECOND)
            job->soon = true;

    g_autofree char *first_due = iso_or_null(times.due[GOAL_RESPONSE]);
    g_autofree char *update_due = iso_or_null(times.due[GOAL_UPDATE]);
    g_autofree char *resolution_due = iso_or_null(times.due[GOAL_RESOLUTION]);
    struct store_new_ticket nt = {
        .prefix = cfg->ticket_prefix,
        .status = d->status,
        .severity = severity,
        .stage = times.stage,
        .customer = d->customer != NULL ? d->customer->name : NULL,
        .requester = d->requester != NULL ? d->requester : "",
        .subject = d->subject,
        .created_at = at,
        .first_response_due = first_due,
        .next_update_due = update_due,
        .resolution_due = resolution_due,
        .plan = plan->name,
        .timezone = zone,
        .language = language,
    };
    g_autofree char *created = json_object_text(
        "message_id", m->message_id, "queue_id", job->queue_id, "requester", d->requester,
        "customer", nt.customer, "reason", d->reason, NULL);
    g_autofree char *sev_detail = severity_detail(severity, rule);
    struct ticket *t = NULL;
    bool ok;

    ok = store_ticket_insert(st, &nt, &job->ticket_id, error) &&
         store_the_message(st, job, d, job->ticket_id, key, error) &&
         event(st, job->ticket_id, job->now, "created", d->requester, created, error) &&
         event(st, job->ticket_id, job->now, "severity", NULL, sev_detail, error) &&
         timers_set(st, job->ticket_id, &times, error);
    if (ok && times.stage > 0) {
        /* The stage is a number here as in every other stage event. */
        g_autofree char *detail = g_strdup_printf(
            "{\"stage\":%d,\"reason\":\"automatic for this severity\"}", times.stage);
        ok = event(st, job->ticket_id, job->now, "stage", NULL, detail, error);
    }
    sla_times_clear(&times);
    if (!ok)
        return false;

    t = store_ticket_get(st, job->ticket_id, error);
    if (t == NULL)
        return false;
    job->tag = g_strdup(t->tag);
    job->severity = severity;
    ok = queue_ack(st, job, t, "ack-new", error) &&
         queue_staff_notice(st, job, t, "staff-new", NULL, error) &&
         queue_stage_notice(st, job, t, "automatic escalation for this severity", error);
    store_ticket_free(t);
    return ok;
}

/* A staff reply from someone we can trust stops the first-response clock
 * and starts the next update interval. */
static bool
record_staff_response(struct store *st, struct ingest_job *job, const struct ticket *t,
                      GError **error)
{
    const struct plan *plan = config_plan(job->cfg, t->plan != NULL ? t->plan : "standard");
    g_autofree char *at = timefmt_iso8601(job->now);
    g_autofree char *next_at = NULL;
    GDateTime *next = NULL;

    if (plan == NULL)
        plan = config_plan(job->cfg, "standard");
    struct calendar *cal = plan_calendar(plan, t->timezone);
    next = goal_due(&plan->goals[t->severity][GOAL_UPDATE], cal,
                    plan->around_the_clock[t->severity], job->now, 100);
    calendar_free(cal);
    next_at = iso_or_null(next);
    if (!store_ticket_set_first_response(st, t->id, at, next_at, error))
        return false;
    if (next != NULL) {
        GDateTime *warn_from = job->now;
        gint64 span = g_date_time_difference(next, warn_from) * job->cfg->ladder.warn_at / 100;
        g_autoptr(GDateTime) warn = g_date_time_add(warn_from, span);
        g_autofree char *warn_at = timefmt_iso8601(warn);
        g_date_time_unref(next);
        if (!store_timer_set(st, t->id, "update-warning", warn_at, error) ||
            !store_timer_set(st, t->id, "update-breach", next_at, error))
            return false;
    }
    if (t->first_response_at == NULL)
        return event(st, t->id, job->now, "first-response", job->requester, NULL, error);
    return event(st, t->id, job->now, "update", job->requester, NULL, error);
}

static const struct plan *
plan_of(const struct config *cfg, const struct ticket *t)
{
    const struct plan *p = t->plan != NULL ? config_plan(cfg, t->plan) : NULL;

    return p != NULL ? p : config_plan(cfg, "standard");
}

/* Writes T after CHANGES and sends what they call for. */
static bool
commit_changes(struct store *st, struct ingest_job *job, struct ticket *t, GArray *changes,
               GError **error)
{
    g_autofree char *at = timefmt_iso8601(job->now);
    bool rearm = false;

    if (changes->len == 0)
        return true;
    if (!store_ticket_update(st, t, at, error))
        return false;
    for (guint i = 0; i < changes->len; i++) {
        const struct change *c = &g_array_index(changes, struct change, i);
        rearm |= c->rearm;
        if (!event(st, t->id, job->now, c->type, job->requester, c->detail, error))
            return false;
        if (c->stage_entered > 0 &&
            !queue_stage_notice(st, job, t, c->why != NULL ? c->why : "stage changed", error))
            return false;
        if (c->old_status != NULL && *t->requester != '\0') {
            job->queued++;
            if (!notify_status_change(st, job->cfg, job->secret, t, c->old_status, job->now,
                                      error))
                return false;
        }
    }
    return !rearm || timers_arm(st, job->cfg, plan_of(job->cfg, t), t, error);
}

static void
change_array_clear(gpointer p)
{
    change_clear(p);
}

/* A trusted staff reply: its command lines change the ticket; unknown ones
 * go back to the sender; without #internal it is the response. */
static bool
staff_commands(struct store *st, struct ingest_job *job, struct ticket *t, GError **error)
{
    g_autoptr(GPtrArray) cmds = commands_parse(job->mail->text);
    g_autoptr(GArray) changes = g_array_new(FALSE, TRUE, sizeof(struct change));
    g_autoptr(GPtrArray) unknown = g_ptr_array_new();
    const struct plan *p = plan_of(job->cfg, t);
    bool internal = false;

    g_array_set_clear_func(changes, change_array_clear);
    for (guint i = 0; i < cmds->len; i++) {
        const struct command *c = g_ptr_array_index(cmds, i);
        struct change ch = { 0 };
        if (c->kind == CMD_UNKNOWN)
            g_ptr_array_add(unknown, c->line);
        internal |= c->kind == CMD_INTERNAL;
        change_apply(t, c, p, &job->cfg->ladder, job->now, &ch);
        if (ch.type != NULL)
            g_array_append_val(changes, ch);
    }
    job->commands = cmds->len;
    if (!commit_changes(st, job, t, changes, error))
        return false;
    if (unknown->len > 0) {
        g_ptr_array_add(unknown, NULL);
        struct notice n = {
            .template_name = "unknown-command",
            .kind = "notice",
            .to = job->requester,
            .auto_submitted = "auto-replied",
            .unknown_commands = (char **)unknown->pdata,
        };
        job->queued++;
        if (!notify_queue(st, job->cfg, job->secret, t, &n, job->now, error))
            return false;
    }
    if (internal)
        return event(st, t->id, job->now, "internal-note", job->requester, NULL, error);
    return record_staff_response(st, job, t, error);
}

/* A customer's reply: it ends a wait, and may ask for escalation. */
static bool
customer_reply(struct store *st, struct ingest_job *job, struct ticket *t, GError **error)
{
    g_autoptr(GArray) changes = g_array_new(FALSE, TRUE, sizeof(struct change));
    g_autoptr(GPtrArray) cmds = commands_parse(job->mail->text);
    g_autofree char *subject = g_ascii_strdown(job->mail->subject, -1);
    bool wants_escalation = strstr(subject, "escalate") != NULL;
    struct change ch = { 0 };

    g_array_set_clear_func(changes, change_array_clear);
    for (guint i = 0; i < cmds->len; i++)
        wants_escalation |= ((struct command *)g_ptr_array_index(cmds, i))->kind == CMD_ESCALATE;
    if (strcmp(t->status, "pending") == 0) {
        change_resume(t, plan_of(job->cfg, t), &job->cfg->ladder, job->now, &ch);
        g_array_append_val(changes, ch);
        memset(&ch, 0, sizeof(ch));
    }
    /* The router sent a reply to an old ticket to a new one: this one is
     * recent enough to be the same problem. */
    if (strcmp(t->status, "resolved") == 0 || strcmp(t->status, "closed") == 0) {
        change_reopen(t, plan_of(job->cfg, t), &job->cfg->ladder, job->now, &ch);
        g_array_append_val(changes, ch);
        memset(&ch, 0, sizeof(ch));
    }
    if (wants_escalation && change_escalate(t, "the customer asked", &ch))
        g_array_append_val(changes, ch);
    return commit_changes(st, job, t, changes, error);
}

/* A message on an existing ticket: stored with it; staff are told of a
 * customer's reply, and a trusted staff reply stops the clocks and runs
 * its commands. */
static bool
ingest_followup(struct store *st, struct ingest_job *job, const struct decision *d,
                const char *key, struct ticket *ref, GError **error)
{
    g_autofree char *at = timefmt_iso8601(job->now);
    /* For staff, what vouched for the sender; customers need no such word. */
    g_autofree char *detail =
        d->is_staff ? json_object_text("message_id", job->mail->message_id, "via", d->reason,
                                       "trust", job->trust, NULL)
                    : json_object_text("message_id", job->mail->message_id, "via", d->reason,
                                       NULL);
    bool untrusted_staff = d->is_staff && !job->trusted;

    job->ticket_id = ref->id;
    job->tag = g_strdup(ref->tag);
    if (!store_the_message(st, job, d, ref->id, key, error) ||
        !store_ticket_touch(st, ref->id, at, error))
        return false;
    if (untrusted_staff) {
        /* Anyone can write a staff address into From. */
        g_autofree char *why = json_object_text(
            "reason", "staff address without SMTP AUTH, trusted network or authentication",
            "client", job->client_addr, NULL);
        job->security = "untrusted-staff";
        /* Not applied, but not the customer's to read either. */
        g_autoptr(GPtrArray) cmds = commands_parse(job->mail->text);
        job->commands = cmds->len;
        return event(st, ref->id, job->now, "untrusted-staff", job->requester, why, error) &&
               queue_staff_notice(st, job, ref, "staff-reply",
                                  "this message claims to come from staff but was not "
                                  "authenticated; it changed nothing",
                                  error);
    }
    if (!event(st, ref->id, job->now, d->is_staff ? "staff-reply" : "customer-reply",
               job->requester, detail, error))
        return false;
    if (d->is_staff)
        return staff_commands(st, job, ref, error);
    if (!customer_reply(st, job, ref, error) ||
        !queue_staff_notice(st, job, ref, "staff-reply", NULL, error))
        return false;
    return !job->cfg->ack_followup || queue_ack(st, job, ref, "ack-followup", error);
}

/* A bounce or an auto-reply in a ticket's thread: kept with the ticket for
 * the record, and nothing else. Answering it could start a loop. */
static bool
ingest_machine_mail(struct store *st, struct ingest_job *job, const struct decision *d,
                    const char *key, const struct ticket *ref, GError **error)
{
    const struct mail *m = job->mail;
    g_autofree char *detail = NULL;

    job->ticket_id = ref->id;
    job->tag = g_strdup(ref->tag);
    if (!store_the_message(st, job, d, ref->id, key, error))
        return false;
    if (d->action == ROUTER_BOUNCE) {
        detail = json_object_text("recipient", m->dsn_recipient, "status", m->dsn_status,
                                  "message_id", m->dsn_message_id, NULL);
        return event(st, ref->id, job->now, "delivery-failed", m->dsn_recipient, detail, error);
    }
    detail = json_object_text("message_id", m->message_id, "subject", m->subject, NULL);
    return event(st, ref->id, job->now, "auto-reply", job->requester, detail, error);
}

/* A new ticket that names another: both say so, so staff can follow the
 * trail either way. Nothing of the message reaches the other ticket. */
static bool
record_link(struct store *st, struct ingest_job *job, const struct decision *d, gint64 other,
            const char *type, GError **error)
{
    g_autofree char *other_tag = router_ticket_tag(job->cfg->ticket_prefix, other);
    g_autofree char *on_new = json_object_text("referenced", other_tag, NULL);
    g_autofree char *on_old = json_object_text("opened", job->tag, NULL);

    return event(st, job->ticket_id, job->now, type, d->requester, on_new, error) &&
           event(st, other, job->now, type, d->requester, on_old, error);
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
    view.is_own_mail = router_is_own_mail(job->secret, job->mail);
    d = router_decide(job->mail, job->envelope_from, job->cfg, &view, job->now);
    job->action = d->action;
    job->reason = d->reason;
    job->requester = g_strdup(d->requester);
    job->customer = d->customer != NULL ? g_strdup(d->customer->name) : NULL;
    switch (d->action) {
    case ROUTER_CREATE:
        /* A sender used a reference to a ticket they take no part in, or
         * wrote again long after it was done. */
        ok = ingest_create(st, job, d, key, error) &&
             (d->refused_ticket == 0 ||
              record_link(st, job, d, d->refused_ticket, "reference-refused", error)) &&
             (d->linked_ticket == 0 ||
              record_link(st, job, d, d->linked_ticket, "linked", error));
        break;
    case ROUTER_FOLLOWUP:
        ok = ingest_followup(st, job, d, key, ref, error);
        break;
    case ROUTER_DUPLICATE:
        job->ticket_id = d->ticket_id;
        job->tag = router_ticket_tag(job->cfg->ticket_prefix, job->ticket_id);
        break;
    case ROUTER_BOUNCE:
    case ROUTER_AUTO:
        ok = ingest_machine_mail(st, job, d, key, ref, error);
        break;
    case ROUTER_REJECT:
    case ROUTER_PASS:
        break;
    }
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
