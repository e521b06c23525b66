/*
 * router - the decision for one message.
 *
 * In order: a copy already stored is a duplicate; our own mail (a loop
 * mark that verifies) passes; staff mail on its way out counts only when
 * trusted staff answer a ticket; certain machine mail (the null sender, a
 * delivery report, Auto-Submitted) never opens a ticket and joins one only
 * when it names mail we sent (a bounce) or answers in a ticket's thread
 * (an auto-reply); everything else is a person's mail, which becomes a
 * follow-up when it names a ticket its sender takes part in, else a new
 * ticket.  Heuristic signs of a program (list headers, "Auto:" subjects)
 * only withhold the acknowledgement: they never lose a customer's mail.
 *
 * Entitlement: only designated contacts get the service (seeds 003, 004).
 * A stranger's ticket runs no goal and its sender gets the not-contact
 * reply, until trusted staff accept it with #customer or #requester.
 */
#include <string.h>

#include "router/change.h"
#include "router/clock.h"
#include "router/commands.h"
#include "router/notices.h"
#include "router/outbound.h"
#include "router/router.h"
#include "util/timefmt.h"

/* The references looked up at most: a References header of thousands of
 * ids must not cost thousands of queries. */
#define MAX_REFERENCES 20

GArray *
router_references(const struct policy *p, const struct mail *mail, gint64 address_ticket)
{
    GArray *refs = g_array_new(FALSE, TRUE, sizeof(struct router_reference));
    struct router_reference r = { 0 };

    if (address_ticket > 0) {
        r = (struct router_reference){ .via = REF_ADDRESS, .ticket_id = address_ticket };
        g_array_append_val(refs, r);
    }
    if (mail->in_reply_to != NULL) {
        r = (struct router_reference){ .via = REF_REFERENCES, .message_id = mail->in_reply_to };
        g_array_append_val(refs, r);
    }
    /* The newest reference is the likeliest to be ours. */
    for (guint i = mail->references != NULL ? mail->references->len : 0;
         i > 0 && refs->len < MAX_REFERENCES; i--) {
        const char *id = g_ptr_array_index(mail->references, i - 1);
        if (mail->in_reply_to != NULL && strcmp(id, mail->in_reply_to) == 0)
            continue;
        r = (struct router_reference){ .via = REF_REFERENCES, .message_id = id };
        g_array_append_val(refs, r);
    }
    gint64 tagged = router_subject_ticket(p->ticket_prefix, mail->subject);
    if (tagged > 0) {
        r = (struct router_reference){ .via = REF_SUBJECT, .ticket_id = tagged };
        g_array_append_val(refs, r);
    }
    return refs;
}

/* ---- who takes part ---- */

struct sender {
    char *requester;                 /* plain address or NULL */
    const char *no_requester;        /* why there is none */
    const struct customer *customer; /* NULL too for a contact's address not verified */
    const struct customer *claimed;  /* the customer an unverified From names, or NULL */
    bool is_staff;
    const char *trust;    /* for staff: what vouches; NULL: nothing */
    const char *verified; /* for others: why the From is believed; NULL: not */
};

/* A reference is honoured only for someone who already takes part: the
 * requester, a contact of the same customer, or staff. A tag is not a key. */
static bool
is_participant(const struct sender *s, const struct ticket *t)
{
    if (s->is_staff)
        return true;
    /* Anyone can write the requester's address in From. */
    if (s->verified == NULL)
        return false;
    if (s->requester != NULL && *t->requester != '\0' &&
        router_same_address(s->requester, t->requester))
        return true;
    return s->customer != NULL && t->customer != NULL &&
           strcmp(s->customer->name, t->customer) == 0;
}

/* The strongest candidate the sender takes part in; *REFUSED is the first
 * one named that they do not. */
static const struct router_candidate *
choose(const struct router_view *v, const struct sender *s, gint64 *refused)
{
    *refused = 0;
    for (guint i = 0; v->candidates != NULL && i < v->candidates->len; i++) {
        const struct router_candidate *c = g_ptr_array_index(v->candidates, i);
        if (is_participant(s, c->ticket))
            return c;
        if (*refused == 0)
            *refused = c->ticket->id;
    }
    return NULL;
}

/* A closed ticket is done for good; a resolved one takes replies for
 * reopen_days and is reopened by them. */
static bool
is_past_reopening(const struct policy *p, const struct ticket *t, GDateTime *now)
{
    if (t->status == TICKET_CLOSED)
        return true;
    if (t->status != TICKET_RESOLVED || t->resolved_at == NULL)
        return false;
    g_autoptr(GDateTime) resolved = timefmt_parse(t->resolved_at);
    return resolved != NULL &&
           g_date_time_difference(now, resolved) > (GTimeSpan)p->reopen_days * G_TIME_SPAN_DAY;
}

static const char *
via_text(enum router_ref_via via)
{
    switch (via) {
    case REF_ADDRESS:
        return "reply to the ticket address";
    case REF_REFERENCES:
        return "reply in the ticket's thread";
    case REF_SUBJECT:
        return "ticket tag in the subject";
    case REF_NONE:
        break;
    }
    return "none";
}

/* ---- what the customer asks for ---- */

static const GRegex *
escalation_words(void)
{
    static GRegex *re;

    if (g_once_init_enter(&re)) {
        GRegex *r = g_regex_new("\\b(?:escalate|escalation|escaleren|escalatie)\\b",
                                G_REGEX_CASELESS | G_REGEX_OPTIMIZE, 0, NULL);
        g_once_init_leave(&re, r);
    }
    return re;
}

static bool
mentions_escalation(const char *subject)
{
    return subject != NULL && g_regex_match(escalation_words(), subject, 0, NULL);
}

/* Whether the customer asks for escalation in this message: an #escalate
 * line, or an escalation word in a subject that did not carry one before
 * (a thread that keeps "please escalate" in its subject asks once). */
static bool
asks_escalation(const struct mail *mail, const GPtrArray *cmds, char **prior_subjects)
{
    for (guint i = 0; cmds != NULL && i < cmds->len; i++)
        if (((const struct command *)g_ptr_array_index(cmds, i))->kind == CMD_ESCALATE)
            return true;
    if (!mentions_escalation(mail->subject))
        return false;
    for (char **s = prior_subjects; s != NULL && *s != NULL; s++)
        if (mentions_escalation(*s))
            return false;
    return true;
}

/* ---- building blocks ---- */

static void
note_automation(struct decision *d, const struct mail *mail, const char *actor)
{
    struct event *e;

    if (mail->automation_sign == NULL)
        return;
    e = decision_event(d, EVENT_AUTOMATION_SIGN, actor);
    event_set_string(e, "sign", mail->automation_sign);
    event_set_string(e, "effect", "no automatic answer; the mail is kept as any other");
}

static void
withhold_ack(struct decision *d, const struct mail *m, const char *actor, const char *reason)
{
    struct event *e = decision_event(d, EVENT_ACK_WITHHELD, actor);

    d->ack = reason;
    event_set_string(e, "reason", reason);
    if (m->automation_sign != NULL)
        event_set_string(e, "sign", m->automation_sign);
}

/* An acknowledgement (TEMPLATE) to T's requester, unless RFC 3834,
 * ack_limit or not_contact_limit says no; LIMIT G_MAXUINT for mail trusted
 * staff asked for. */
static void
acknowledge(const struct policy *p, const struct router_input *in, const struct router_view *v,
            struct decision *d, const struct ticket *t, const char *template_name, guint limit,
            bool about_message)
{
    const struct mail *m = in->mail;
    enum ack_verdict verdict;
    struct notice_order *n;

    verdict = router_ack_verdict(m, in->envelope_from, *t->requester != '\0' ? t->requester : NULL,
                                 false, v->acks_last_hour, limit);
    /* Mail staff asked for answers a customer, not the machine that wrote
     * the mail to us. */
    if (limit == G_MAXUINT && *t->requester != '\0')
        verdict = ACK_SEND;
    d->ack = router_ack_verdict_text(verdict);
    /* Replies to strangers are the backscatter a forger wants: however
     * many addresses the forged mail names, only so many an hour. */
    if (verdict == ACK_SEND && strcmp(template_name, "not-contact") == 0 &&
        v->not_contacts_last_hour >= (gint64)p->not_contact_limit)
        d->ack = "not-contact-limit";
    if (verdict != ACK_SEND || strcmp(d->ack, "send") != 0) {
        withhold_ack(d, m, t->requester, d->ack);
        return;
    }
    n = notices_to_requester(d, t, template_name, NOTICE_ACK);
    n->about_message = about_message;
    /* A customer's own name; a stranger's display name is whatever a
     * forger wrote, and stays out of our mail. */
    n->no_names = t->customer == NULL;
    if (about_message && !n->no_names && m->from != NULL && *m->from->name != '\0')
        n->to_name = g_strdup(m->from->name);
}

static void
staff_notice(const struct policy *p, struct decision *d, const struct ticket *t,
             const char *template_name, const char *untrusted)
{
    struct notice_order *n = notices_to_staff(p, d, t, 0, false, template_name);

    if (n != NULL) {
        n->about_message = true;
        n->untrusted = untrusted;
    }
}

static void
parse_limits_event(struct decision *d, const struct mail *m)
{
    struct event *e;

    if (m->limits_hit == 0)
        return;
    e = decision_event(d, EVENT_PARSE_LIMITS, NULL);
    event_set_string(e, "message_id", m->message_id);
    event_set_string(e, "depth", (m->limits_hit & MAIL_LIMIT_DEPTH) ? "max_mime_depth" : NULL);
    event_set_string(e, "parts", (m->limits_hit & MAIL_LIMIT_PARTS) ? "max_mime_parts" : NULL);
    event_set_string(e, "headers", (m->limits_hit & MAIL_LIMIT_HEADERS) ? "max_headers" : NULL);
    event_set_string(e, "header_bytes",
                     (m->limits_hit & MAIL_LIMIT_HEADER_BYTES) ? "header values cut" : NULL);
    event_set_string(e, "note", "the message is stored whole; the rest was not parsed");
}

/* A message becomes part of the ticket in D. */
static void
keep_message(struct decision *d, const struct mail *m, enum sender_kind kind)
{
    d->store_message = true;
    d->message_kind = kind;
    parse_limits_event(d, m);
}

/* Events on both tickets: a new one that names another. */
static void
link_tickets(struct decision *d, enum event_type type, gint64 other, const struct policy *p,
             const char *actor)
{
    g_autofree char *other_tag = router_ticket_tag(p->ticket_prefix, other);
    struct event *here = decision_event(d, type, actor);
    struct event *there = decision_event(d, type, actor);

    event_set_string(here, "referenced", other_tag);
    there->ticket_id = other;
    /* The new ticket's tag is known only once it is stored: the applier
     * fills "opened" in. */
    event_set_string(there, "opened", NULL);
}

/* The staff commands of a message, unless its text is a forwarded mail's.
 * In a message cut at max_mime_parts or max_mime_depth none is applied:
 * the copy that goes on could not be rewritten without losing its last
 * parts, so its command lines stay in it, and what the customer reads
 * must not have changed the ticket.  They come back as unknown, with why,
 * so that the writer hears of it. */
static GPtrArray *
commands_of(const struct mail *m)
{
    GPtrArray *cmds;

    if (m->text_is_forwarded)
        return g_ptr_array_new();
    cmds = commands_parse(m->text);
    if ((m->limits_hit & (MAIL_LIMIT_PARTS | MAIL_LIMIT_DEPTH)) == 0)
        return cmds;
    for (guint i = 0; i < cmds->len; i++) {
        struct command *c = g_ptr_array_index(cmds, i);
        char *line = g_strdup_printf("%s (not applied: the message has more MIME parts or"
                                     " nesting than max_mime_parts or max_mime_depth allow)",
                                     c->line);
        c->kind = CMD_UNKNOWN;
        g_free(c->line);
        c->line = line;
    }
    return cmds;
}

/* ---- a new ticket ---- */

static void
create(const struct policy *p, const struct router_input *in, const struct router_view *v,
       const struct sender *s, GPtrArray *cmds, struct decision *d)
{
    const struct mail *m = in->mail;
    struct ticket *t = ticket_new();
    g_autofree char *at = timefmt_iso8601(in->now);
    bool by_staff = s->is_staff && s->trust != NULL;
    const struct customer *c = by_staff ? NULL : s->customer;
    struct severity_verdict sv;
    struct event *e;

    d->action = ROUTER_CREATE;
    d->ticket = t;
    d->customer = c;
    ticket_set(&t->requester, by_staff || s->requester == NULL || s->is_staff ? "" : s->requester);
    ticket_set(&t->customer, c != NULL ? c->name : NULL);
    ticket_set(&t->plan, c != NULL ? c->plan : "standard");
    ticket_set(&t->timezone, c != NULL ? c->timezone : "UTC");
    ticket_set(&t->language, c != NULL ? c->language : p->language);
    ticket_set(&t->subject, *m->subject != '\0' ? m->subject : "(no subject)");
    ticket_set(&t->created_at, at);
    ticket_set(&t->updated_at, at);

    const struct plan *plan = policy_plan(p, t->plan);
    g_autofree char *text = commands_strip(m->text);
    severity_judge(p->severity, m->subject, text, c != NULL ? c->language : NULL,
                   plan->default_severity, &sv);
    t->severity = sv.severity;
    /* Only designated contacts get the service (seeds 003, 004): no goal
     * runs and nobody is paged for anyone else's mail until staff accept. */
    if (c != NULL) {
        t->stage = change_initial_stage(p, t->severity, sv.is_explicit);
        clock_restart(t, in->now);
    }

    e = decision_event(d, EVENT_CREATED, s->requester);
    event_set_string(e, "message_id", m->message_id);
    event_set_string(e, "queue_id", in->queue_id);
    event_set_string(e, "requester", s->requester);
    event_set_string(e, "customer", t->customer);
    event_set_string(e, "reason", d->reason);
    e = decision_event(d, EVENT_SEVERITY, NULL);
    event_set_int(e, "severity", sv.severity);
    event_set_string(e, "rule", sv.reason);
    severity_verdict_clear(&sv);
    if (t->stage > 0)
        notices_stage_entered(p, d, t, 0, "automatic", "automatic for this severity", NULL, false);
    if (s->no_requester != NULL) {
        e = decision_event(d, EVENT_NO_REQUESTER, NULL);
        event_set_string(e, "reason", s->no_requester);
        event_set_string(e, "from", m->from != NULL ? m->from->addr : NULL);
    }
    note_automation(d, m, s->requester);

    if (by_staff) {
        /* Staff open a ticket for a customer: #requester, #customer and
         * the rest of their commands; the ack goes to the customer. */
        g_autoptr(GPtrArray) unknown = g_ptr_array_new_with_free_func(g_free);
        for (guint i = 0; i < cmds->len; i++) {
            const struct command *cmd = g_ptr_array_index(cmds, i);
            if (cmd->kind == CMD_UNKNOWN || !change_command(p, t, cmd, s->requester, in->now, d))
                g_ptr_array_add(unknown, g_strdup(cmd->line));
        }
        d->commands = cmds->len;
        if (*t->requester != '\0')
            acknowledge(p, in, v, d, t, "ack-new", G_MAXUINT, false);
        else
            d->ack = "staff-ticket";
        if (unknown->len > 0) {
            struct notice_order *n = decision_notice(d, "unknown-command", NOTICE_NOTICE);
            g_ptr_array_add(n->to, g_strdup(s->requester));
            n->auto_submitted = "auto-replied";
            n->unknown_commands = g_steal_pointer(&unknown);
        }
    } else if (s->is_staff) {
        d->ack = "untrusted-staff";
    } else if (c != NULL) {
        if (asks_escalation(m, cmds, NULL))
            change_escalate(p, t, "customer", "the customer asked for escalation", s->requester,
                            true, d);
        acknowledge(p, in, v, d, t, "ack-new", p->ack_limit, true);
    } else if (s->verified == NULL && s->requester != NULL) {
        /* Nothing shows the From wrote this: an answer would go to whoever
         * the forger named. */
        withhold_ack(d, m, s->requester, "unverified-sender");
    } else {
        /* No goal is promised to a sender who is not a designated contact. */
        acknowledge(p, in, v, d, t, "not-contact", p->ack_limit, true);
    }
    staff_notice(p, d, t, "staff-new",
                 s->is_staff && s->trust == NULL
                     ? "this message claims to come from staff but was not authenticated"
                 : s->claimed != NULL
                     ? "the From names a customer's contact, but nothing shows that contact sent"
                       " it (no DKIM or DMARC pass from our verifier, and an envelope sender of"
                       " another domain): it is kept as a stranger's mail until staff accept it"
                       " with #customer"
                     : NULL);
    clock_deadlines(p, t);
    clock_timers(p, t, in->now, d);
}

/* ---- follow-ups ---- */

static void
customer_followup(const struct policy *p, const struct router_input *in,
                  const struct router_view *v, const struct sender *s,
                  const struct router_candidate *c, struct decision *d)
{
    const struct mail *m = in->mail;
    struct ticket *t = d->ticket;
    g_autoptr(GPtrArray) cmds = commands_of(m);
    struct event *e = decision_event(d, EVENT_CUSTOMER_REPLY, s->requester);

    event_set_string(e, "message_id", m->message_id);
    event_set_string(e, "via", via_text(c->via));
    note_automation(d, m, s->requester);
    if (t->status == TICKET_PENDING)
        change_resume(p, t, s->requester, in->now, d);
    /* The router sent a reply to an old ticket to a new one: this one is
     * recent enough to be the same problem. */
    if (ticket_status_is_done(t->status))
        change_reopen(p, t, s->requester, "the customer wrote again", in->now, d);
    /* Escalation is part of the service: a ticket no goal runs for (a
     * stranger's, not yet accepted by staff) pages nobody. */
    if (t->customer != NULL && t->clock_start != NULL &&
        asks_escalation(m, cmds, c->prior_subjects))
        change_escalate(p, t, "customer", "the customer asked for escalation", s->requester, true,
                        d);
    staff_notice(p, d, t, "staff-reply", NULL);
    if (p->ack_followup)
        acknowledge(p, in, v, d, t, "ack-followup", p->ack_limit, true);
}

/* Whether ADDR is someone ticket T answers to: its requester, or a
 * contact (or domain) of its customer. */
static bool
is_ticket_reader(const struct policy *p, const struct ticket *t, const char *addr)
{
    const struct customer *c;

    if (addr == NULL)
        return false;
    if (*t->requester != '\0' && router_same_address(addr, t->requester))
        return true;
    c = router_find_customer(p, addr);
    return c != NULL && t->customer != NULL && strcmp(c->name, t->customer) == 0;
}

static bool
lists_reader(const struct policy *p, const struct ticket *t, const GPtrArray *list)
{
    for (guint i = 0; list != NULL && i < list->len; i++)
        if (is_ticket_reader(p, t, ((const struct mail_address *)g_ptr_array_index(list, i))->addr))
            return true;
    return false;
}

/* Whether a staff mail reaches the customer, so that it answers them: the
 * requester or a contact of the ticket's customer is an envelope
 * recipient.  To and Cc count too for mail that came through another
 * relay (staff whose mail leaves by it copy support in a transaction of
 * its own, and DKIM or DMARC is what vouches for them): for mail sent
 * through this server the envelope is the whole truth, and a header that
 * names the customer proves nothing.  A reply sent to support alone meets
 * no goal: the customer has not heard a word.  Without the envelope (a
 * caller that does not know it) the mail counts as before. */
static bool
reaches_customer(const struct policy *p, const struct router_input *in, const struct sender *s,
                 const struct ticket *t)
{
    bool via_other_relay =
        s->trust != NULL && (strcmp(s->trust, "dkim") == 0 || strcmp(s->trust, "dmarc") == 0);

    if (in->recipients == NULL)
        return true;
    for (guint i = 0; i < in->recipients->len; i++)
        if (is_ticket_reader(p, t, g_ptr_array_index(in->recipients, i)))
            return true;
    return via_other_relay &&
           (lists_reader(p, t, in->mail->to) || lists_reader(p, t, in->mail->cc));
}

/* The envelope recipients of an #internal note who are neither support
 * nor staff; NULL when there are none. */
static GPtrArray *
outsiders(const struct policy *p, const struct router_input *in)
{
    GPtrArray *out = NULL;

    for (guint i = 0; in->recipients != NULL && i < in->recipients->len; i++) {
        const char *r = g_ptr_array_index(in->recipients, i);
        if (router_is_support_address(p, r) || router_is_staff(p, r))
            continue;
        if (out == NULL)
            out = g_ptr_array_new_with_free_func(g_free);
        g_ptr_array_add(out, g_strdup(r));
    }
    return out;
}

/* An #internal note is the ticket's and its staff's: its outsiders are
 * taken off the message (the milter removes them), recorded on note event
 * E, and the writer is told. */
static void
keep_from_outsiders(const struct policy *p, const struct router_input *in, const struct sender *s,
                    struct decision *d, struct event *e)
{
    GPtrArray *out = outsiders(p, in);

    if (out == NULL)
        return;
    g_ptr_array_add(out, NULL);
    event_set_strv(e, "removed", (const char *const *)out->pdata);
    g_ptr_array_set_size(out, out->len - 1);
    d->drop_recipients = out;
    struct notice_order *n = decision_notice(d, "note-recipients", NOTICE_NOTICE);
    g_ptr_array_add(n->to, g_strdup(s->requester));
    n->auto_submitted = "auto-replied";
    n->removed_recipients = g_ptr_array_ref(out);
}

static bool
has_command(const GPtrArray *cmds, enum command_kind kind)
{
    for (guint i = 0; i < cmds->len; i++)
        if (((const struct command *)g_ptr_array_index(cmds, i))->kind == kind)
            return true;
    return false;
}

/* A staff mail stored already, sent again (the client never heard our
 * answer, or a removal failed after the commit): what goes on now must be
 * what would have gone on the first time, command lines cut and an
 * #internal note's outsiders taken off.  Nothing is recorded twice. */
static void
retried_staff_mail(const struct policy *p, const struct router_input *in, const struct sender *s,
                   struct decision *d)
{
    g_autoptr(GPtrArray) cmds = NULL;

    if (!s->is_staff)
        return;
    cmds = commands_of(in->mail);
    d->commands = cmds->len;
    if (s->trust != NULL && has_command(cmds, CMD_INTERNAL))
        d->drop_recipients = outsiders(p, in);
}

static void
staff_followup(const struct policy *p, const struct router_input *in, const struct sender *s,
               const struct router_candidate *c, struct decision *d)
{
    const struct mail *m = in->mail;
    struct ticket *t = d->ticket;
    g_autoptr(GPtrArray) cmds = commands_of(m);
    g_autoptr(GPtrArray) unknown = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *at = timefmt_iso8601(in->now);
    bool internal = false;
    struct event *e = decision_event(d, EVENT_STAFF_REPLY, s->requester);

    event_set_string(e, "message_id", m->message_id);
    event_set_string(e, "via", via_text(c->via));
    event_set_string(e, "trust", s->trust);
    if (in->is_outbound)
        event_set_bool(e, "outbound", TRUE);
    for (guint i = 0; i < cmds->len; i++) {
        const struct command *cmd = g_ptr_array_index(cmds, i);
        internal |= cmd->kind == CMD_INTERNAL;
        if (cmd->kind == CMD_UNKNOWN || !change_command(p, t, cmd, s->requester, in->now, d))
            g_ptr_array_add(unknown, g_strdup(cmd->line));
    }
    d->commands = cmds->len;
    d->message_kind = internal ? SENDER_INTERNAL : SENDER_STAFF;
    if (unknown->len > 0) {
        struct notice_order *n = decision_notice(d, "unknown-command", NOTICE_NOTICE);
        g_ptr_array_add(n->to, g_strdup(s->requester));
        n->auto_submitted = "auto-replied";
        n->unknown_commands = g_steal_pointer(&unknown);
    }
    if (internal || !reaches_customer(p, in, s, t)) {
        e = decision_event(d, EVENT_INTERNAL_NOTE, s->requester);
        event_set_string(e, "message_id", m->message_id);
        if (!internal) {
            /* Nobody the ticket answers to reads it: no goal is met. */
            d->message_kind = SENDER_INTERNAL;
            event_set_string(e, "reason", "the customer is not among its recipients");
            return;
        }
        keep_from_outsiders(p, in, s, d, e);
        return;
    }
    /* A reply the customer reads: the response, and the next update is
     * owed from now. */
    e = decision_event(d, t->first_response_at == NULL ? EVENT_FIRST_RESPONSE : EVENT_UPDATE,
                       s->requester);
    event_set_string(e, "message_id", m->message_id);
    if (in->is_outbound)
        event_set_bool(e, "outbound", TRUE);
    if (t->first_response_at == NULL)
        ticket_set(&t->first_response_at, at);
    if (t->status == TICKET_OPEN)
        ticket_set(&t->update_from, at);
    d->ticket_changed = true;
}

static void
untrusted_staff_followup(const struct policy *p, const struct router_input *in,
                         const struct sender *s, struct decision *d)
{
    g_autoptr(GPtrArray) cmds = commands_of(in->mail);
    struct event *e = decision_event(d, EVENT_UNTRUSTED_STAFF, s->requester);

    /* Anyone can write a staff address into From: recorded, and not the
     * customer's to read either, but it changes nothing. */
    event_set_string(e, "reason",
                     in->auth_login != NULL
                         ? "staff address with an SMTP AUTH login that is not its own"
                         : "staff address without SMTP AUTH, trusted network or authentication");
    event_set_string(e, "client", in->client_addr);
    d->commands = cmds->len;
    d->is_security = true;
    staff_notice(p, d, d->ticket, "staff-reply",
                 "this message claims to come from staff but was not authenticated; it changed"
                 " nothing");
}

static void
followup(const struct policy *p, const struct router_input *in, const struct router_view *v,
         const struct sender *s, const struct router_candidate *c, struct decision *d)
{
    g_autofree char *at = timefmt_iso8601(in->now);
    int stage = c->ticket->stage;
    enum ticket_status status = c->ticket->status;

    d->action = ROUTER_FOLLOWUP;
    d->reason = via_text(c->via);
    d->ticket_id = c->ticket->id;
    d->ticket = ticket_copy(c->ticket);
    ticket_set(&d->ticket->updated_at, at);
    keep_message(d, in->mail, d->kind);
    if (s->is_staff && s->trust != NULL)
        staff_followup(p, in, s, c, d);
    else if (s->is_staff)
        untrusted_staff_followup(p, in, s, d);
    else
        customer_followup(p, in, v, s, c, d);
    /* The clocks move only with what moves them: most replies touch none. */
    if (d->ticket->status != status || d->ticket->stage != stage || d->ticket_changed) {
        clock_deadlines(p, d->ticket);
        clock_timers(p, d->ticket, in->now, d);
    }
}

/* ---- machine mail ---- */

static void
machine_mail(const struct policy *p, const struct router_input *in, const struct router_view *v,
             const struct sender *s, struct decision *d)
{
    const struct mail *m = in->mail;
    const struct router_candidate *c;
    gint64 refused;
    struct event *e;

    if (v->bounce_ticket > 0 && (router_is_bounce(m, in->envelope_from) || in->to_return_path)) {
        /* It names mail we sent: the ticket it was about records it. */
        d->action = router_is_bounce(m, in->envelope_from) ? ROUTER_BOUNCE : ROUTER_AUTO;
        d->reason = "about mail we sent for the ticket";
        d->ticket_id = v->bounce_ticket;
        d->kind = d->action == ROUTER_BOUNCE ? SENDER_BOUNCE : SENDER_AUTO;
        keep_message(d, m, d->kind);
        e = decision_event(d, d->action == ROUTER_BOUNCE ? EVENT_DELIVERY_FAILED : EVENT_AUTO_REPLY,
                           d->action == ROUTER_BOUNCE ? m->dsn_recipient : s->requester);
        if (d->action == ROUTER_BOUNCE) {
            event_set_string(e, "recipient", m->dsn_recipient);
            event_set_string(e, "status", m->dsn_status);
            event_set_string(e, "message_id", m->dsn_message_id);
        } else {
            event_set_string(e, "message_id", m->message_id);
            event_set_string(e, "subject", m->subject);
        }
        return;
    }
    if (router_is_bounce(m, in->envelope_from) || in->to_return_path) {
        /* A tag in the subject or a reference to a customer's message is
         * no proof: anyone can send a "bounce" that names TKT-7. */
        d->action = ROUTER_UNATTACHED;
        d->reason = "a bounce about no mail of ours";
        d->kind = SENDER_BOUNCE;
        d->store_message = true;
        d->message_kind = SENDER_BOUNCE;
        return;
    }
    /* Auto-Submitted: an answer by a program, in a thread of a ticket it
     * takes part in. */
    d->kind = SENDER_AUTO;
    c = choose(v, s, &refused);
    if (c == NULL || p->auto_replies == AUTO_REPLIES_IGNORE) {
        d->action = ROUTER_PASS;
        d->reason = c != NULL ? "automatic mail, ignored (auto_replies = ignore)"
                              : "automatic mail outside any ticket";
        return;
    }
    d->action = ROUTER_AUTO;
    d->reason = "automatic reply in the ticket's thread";
    d->ticket_id = c->ticket->id;
    keep_message(d, m, SENDER_AUTO);
    e = decision_event(d, EVENT_AUTO_REPLY, s->requester);
    event_set_string(e, "message_id", m->message_id);
    event_set_string(e, "subject", m->subject);
}

/* ---- staff mail on its way out ---- */

static void
outbound(const struct policy *p, const struct router_input *in, const struct router_view *v,
         const struct sender *s, struct decision *d)
{
    const struct router_candidate *c;
    gint64 refused;

    /* Only trusted staff answering a ticket: everyone else's outgoing mail
     * is none of ours. */
    if (!s->is_staff || s->trust == NULL || (c = choose(v, s, &refused)) == NULL) {
        d->action = ROUTER_PASS;
        d->reason = "outgoing mail about no ticket";
        return;
    }
    followup(p, in, v, s, c, d);
}

/* ---- the decision ---- */

/* Recorded on whatever the mail becomes: why its sender is not believed. */
static void
note_unverified(const struct router_input *in, const struct sender *s, struct decision *d)
{
    struct event *e;

    if (s->is_staff || s->verified != NULL || s->requester == NULL)
        return;
    e = decision_event(d, EVENT_UNVERIFIED_SENDER, s->requester);
    event_set_string(e, "from", s->requester);
    event_set_string(e, "envelope_from", in->envelope_from);
    event_set_string(e, "claimed_customer", s->claimed != NULL ? s->claimed->name : NULL);
    event_set_string(e, "reason",
                     "no DKIM or DMARC pass from our verifier for the From address,"
                     " and an envelope sender of another domain");
}

static void
person_mail(const struct policy *p, const struct router_input *in, const struct router_view *v,
            const struct sender *s, struct decision *d)
{
    gint64 refused = 0;
    const struct router_candidate *c = choose(v, s, &refused);

    note_unverified(in, s, d);

    if (c != NULL && !s->is_staff && is_past_reopening(p, c->ticket, in->now)) {
        /* Months later, "the same problem again" is a new problem that
         * deserves its own clock; the old ticket stays as it was closed. */
        g_autoptr(GPtrArray) cmds = commands_of(in->mail);
        d->reason = "reply to a ticket closed or resolved too long ago";
        keep_message(d, in->mail, d->kind);
        create(p, in, v, s, cmds, d);
        link_tickets(d, EVENT_LINKED, c->ticket->id, p, s->requester);
        return;
    }
    if (c != NULL) {
        followup(p, in, v, s, c, d);
        return;
    }
    if (s->customer == NULL && !s->is_staff && p->unknown_senders == UNKNOWN_SENDERS_REJECT) {
        d->action = ROUTER_REJECT;
        d->reason = "sender is not a registered support contact";
        return;
    }
    d->reason = refused > 0           ? "reference by a sender who is no participant"
                : s->is_staff         ? "new ticket opened by staff"
                : s->customer != NULL ? "new message from a customer"
                                      : "new message from a sender who is no designated contact";
    g_autoptr(GPtrArray) cmds = commands_of(in->mail);
    if (s->is_staff && s->trust == NULL) {
        /* Not applied: an untrusted staff address changes nothing. */
        d->commands = cmds->len;
        d->is_security = true;
        struct event *e = decision_event(d, EVENT_UNTRUSTED_STAFF, s->requester);
        event_set_string(e, "reason", "staff address without the trust to back it");
        event_set_string(e, "client", in->client_addr);
        g_ptr_array_set_size(cmds, 0);
    }
    keep_message(d, in->mail, d->kind);
    create(p, in, v, s, cmds, d);
    if (refused > 0)
        link_tickets(d, EVENT_REFERENCE_REFUSED, refused, p, s->requester);
}

static enum sender_kind
kind_of(const struct sender *s)
{
    if (s->is_staff)
        return s->trust != NULL ? SENDER_STAFF : SENDER_UNTRUSTED_STAFF;
    return s->customer != NULL ? SENDER_CUSTOMER : SENDER_UNKNOWN;
}

struct decision *
router_decide(const struct policy *p, const struct router_input *in, const struct router_view *v)
{
    const struct mail *m = in->mail;
    struct decision *d = decision_new(ROUTER_PASS, "");
    struct sender s = { 0 };

    s.requester = router_requester(m, in->envelope_from, &s.no_requester);
    s.customer = router_find_customer(p, s.requester);
    s.is_staff = router_is_staff(p, s.requester);
    s.trust = s.is_staff ? router_staff_trust(p, in, s.requester) : NULL;
    s.verified = s.is_staff ? s.trust : router_sender_verified(p, in, s.requester);
    if (!s.is_staff && s.verified == NULL) {
        s.claimed = s.customer;
        s.customer = NULL;
    }
    /* Mail "from" support itself that no trusted staff sent (staff may
     * answer as the shared address) answers nobody: a forged From must
     * not make us write to ourselves. */
    if (s.requester != NULL && s.trust == NULL && router_is_support_address(p, s.requester)) {
        g_clear_pointer(&s.requester, g_free);
        s.no_requester = "the sender address is a support address of ours";
        s.customer = NULL;
        s.is_staff = false;
    }
    d->requester = g_strdup(s.requester);
    d->customer = s.customer;
    d->trust = s.trust;
    d->kind = kind_of(&s);

    if (v->is_stored) {
        d->action = ROUTER_DUPLICATE;
        d->reason = "already stored";
        d->ticket_id = v->stored_ticket;
        retried_staff_mail(p, in, &s, d);
    } else if (router_is_own_mail(in->keys, m)) {
        d->reason = "our own mail";
    } else if (in->is_outbound) {
        outbound(p, in, v, &s, d);
    } else if (router_is_bounce(m, in->envelope_from) || m->is_auto_submitted ||
               in->to_return_path) {
        machine_mail(p, in, v, &s, d);
    } else {
        person_mail(p, in, v, &s, d);
    }
    g_free(s.requester);
    decision_settle(d);
    return d;
}
