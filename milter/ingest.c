/*
 * ingest - the writer-thread half of taking a message: look up what the
 * store knows, let the router decide, apply the decision.
 *
 * Runs inside the writer's transaction (one savepoint per job), so the
 * lookups and the writes see one consistent database: two copies of the
 * same message in one batch cannot both create a ticket, and a notice is
 * queued exactly when the ticket change that caused it is committed.
 * Nothing here decides anything: the lookups are those the router names,
 * and the decision is applied as it comes (outbound/apply.c).
 */
#include <string.h>

#include "milter/ingest.h"
#include "outbound/apply.h"
#include "router/router.h"
#include "store/messages.h"
#include "store/outbox.h"
#include "store/tickets.h"
#include "util/timefmt.h"

/* Subjects of a ticket looked at for "did it ask before": a long thread
 * keeps asking with the same few. */
#define PRIOR_SUBJECTS 20

/* Finds a stored copy of the message. A Message-ID seen before with other
 * content is a different message (a client reusing ids, or a forgery): it
 * gets a key of its own, and is looked up under that. */
static bool
find_stored(struct store *st, const struct mail *mail, struct router_view *view, char **key,
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

static void
candidate_free(gpointer p)
{
    struct router_candidate *c = p;

    ticket_free((struct ticket *)c->ticket);
    g_strfreev(c->prior_subjects);
    g_free(c);
}

static bool
has_candidate(const GPtrArray *list, gint64 id)
{
    for (guint i = 0; i < list->len; i++)
        if (((const struct router_candidate *)g_ptr_array_index(list, i))->ticket->id == id)
            return true;
    return false;
}

/* Every ticket the message names, as the store has it, in the router's order. */
static bool
find_candidates(struct store *st, const struct ingest_job *job, struct router_view *view,
                GError **error)
{
    g_autoptr(GArray) refs = router_references(&job->cfg->policy, job->mail, job->address_ticket);

    view->candidates = g_ptr_array_new_with_free_func(candidate_free);
    for (guint i = 0; i < refs->len; i++) {
        const struct router_reference *r = &g_array_index(refs, struct router_reference, i);
        gint64 id = r->ticket_id;
        struct ticket *t;

        if (r->message_id != NULL && !store_ticket_by_message_id(st, r->message_id, &id, error))
            return false;
        if (id <= 0 || has_candidate(view->candidates, id))
            continue;
        t = store_ticket_get(st, id, error);
        if (t == NULL) {
            if (error != NULL && *error != NULL)
                return false;
            continue;
        }
        struct router_candidate *c = g_new0(struct router_candidate, 1);
        c->via = r->via;
        c->ticket = t;
        g_ptr_array_add(view->candidates, c);
        c->prior_subjects = store_ticket_subjects(st, id, PRIOR_SUBJECTS, error);
        if (c->prior_subjects == NULL)
            return false;
    }
    return true;
}

/* Machine mail joins a ticket only through mail we sent: our signed return
 * path, or a Message-ID of our outbox that it reports on or answers. */
static bool
find_bounce_ticket(struct store *st, const struct ingest_job *job, struct router_view *view,
                   GError **error)
{
    const struct mail *m = job->mail;
    g_autoptr(GArray) refs = NULL;

    view->bounce_ticket = job->return_path_ticket;
    if (view->bounce_ticket > 0)
        return true;
    if (m->dsn_message_id != NULL &&
        !store_outbox_ticket_by_message_id(st, m->dsn_message_id, &view->bounce_ticket, error))
        return false;
    refs = router_references(&job->cfg->policy, m, 0);
    for (guint i = 0; view->bounce_ticket == 0 && i < refs->len; i++) {
        const struct router_reference *r = &g_array_index(refs, struct router_reference, i);
        if (r->message_id != NULL &&
            !store_outbox_ticket_by_message_id(st, r->message_id, &view->bounce_ticket, error))
            return false;
    }
    return true;
}

/* The replies of the last hour that ack_limit and not_contact_limit
 * weigh: to the requester's mailbox, and, for a sender who is no contact
 * (the only one a not-contact reply can be for), to strangers at all.
 *
 * Each count is taken under the lock of what it counts, held until the
 * commit that stores the reply it lets through: the daemons of other MX
 * hosts on one PostgreSQL count that mailbox (or the strangers) after
 * this commit and see the reply, so the limits hold for all the hosts
 * together, not for each.  A burst to every MX at once gets ack_limit
 * replies in all.  Within one daemon the writer's one transaction does
 * that already; on SQLite the lock is nothing. */
static bool
count_acks(struct store *st, const struct ingest_job *job, struct router_view *view, GError **error)
{
    const struct policy *p = &job->cfg->policy;
    g_autofree char *requester = router_requester(job->mail, job->envelope_from, NULL);
    g_autofree char *key = router_ack_key(requester, p->recipient_delimiter);
    g_autoptr(GDateTime) hour_ago = g_date_time_add_hours(job->now, -1);
    g_autofree char *since = timefmt_iso8601(hour_ago);

    if (requester == NULL)
        return true;
    /* KEY is the requester's mailbox (never NULL for a normal address;
     * the requester itself should that ever change). */
    if (!store_lock_key(st, "ack", key != NULL ? key : requester, error) ||
        !store_outbox_acks_since(st, key, since, &view->acks_last_hour, error))
        return false;
    if (router_find_customer(p, requester) != NULL || router_is_staff(p, requester))
        return true;
    /* One count for all strangers, so one key. */
    return store_lock_key(st, "not-contact", "all", error) &&
           store_outbox_not_contacts_since(st, since, &view->not_contacts_last_hour, error);
}

static bool
look_up(struct store *st, const struct ingest_job *job, struct router_view *view, char **key,
        GError **error)
{
    const struct mail *m = job->mail;
    bool is_machine = router_is_bounce(m, job->envelope_from) || m->is_auto_submitted ||
                      job->return_path_ticket > 0;

    if (!find_stored(st, m, view, key, error))
        return false;
    if (view->is_stored)
        return true;
    return find_candidates(st, job, view, error) &&
           (!is_machine || find_bounce_ticket(st, job, view, error)) &&
           (job->is_outbound || count_acks(st, job, view, error));
}

bool
ingest_job_run(struct store *st, void *data, GError **error)
{
    struct ingest_job *job = data;
    struct router_view view = { 0 };
    g_autofree char *key = NULL;
    struct apply_result result;
    bool ok;

    if (!look_up(st, job, &view, &key, error)) {
        g_clear_pointer(&view.candidates, g_ptr_array_unref);
        return false;
    }
    struct router_input in = {
        .mail = job->mail,
        .envelope_from = job->envelope_from,
        .keys = job->keys,
        .is_outbound = job->is_outbound,
        .to_return_path = job->return_path_ticket > 0,
        .auth_login = job->auth_login,
        .from_trusted_network = job->from_trusted_network,
        .auth_results = job->auth_results,
        .client_addr = job->client_addr,
        .queue_id = job->queue_id,
        .recipients = job->recipients,
        .now = job->now,
    };
    struct apply_message msg = {
        .mail = job->mail,
        .raw = job->raw,
        .raw_len = job->raw_len,
        .dedup_key = key,
        .queue_id = job->queue_id,
        .envelope_from = job->envelope_from,
        .client_addr = job->client_addr,
    };
    /* A retried job (the writer replays a batch after a failed commit)
     * decides again from what the store now says. */
    job->decision = decision_free(job->decision);
    g_clear_pointer(&job->tag, g_free);
    job->decision = router_decide(&job->cfg->policy, &in, &view);
    g_clear_pointer(&view.candidates, g_ptr_array_unref);
    ok = apply_decision(st, job->cfg, job->keys, job->decision, &msg, job->now, &result, error);
    job->ticket_id = result.ticket_id;
    job->tag = g_steal_pointer(&result.tag);
    job->queued = result.queued;
    apply_result_clear(&result);
    return ok;
}

void
ingest_job_clear(struct ingest_job *job)
{
    job->decision = decision_free(job->decision);
    g_clear_pointer(&job->tag, g_free);
}
