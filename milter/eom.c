/*
 * eom - the end of a support message: what becomes of it once all of it
 * has come.  Too big or over the buffer budget it is answered at once;
 * else it is parsed, the commands are cut from what support and the
 * customer get, the router decides in the writer's transaction
 * (milter/ingest.c), and the answer follows the commit: the ticket tag
 * added and outsiders removed, 550 for a refused sender, 451 whenever it
 * could not be stored.  The SMTP stages before it are in callbacks.c.
 */
#include <string.h>

#include <glib.h>

#include "milter/ingest.h"
#include "milter/io.h"
#include "milter/milter.h"
#include "milter/session.h"
#include "milter/stats.h"
#include "parser/mail.h"
#include "router/commands.h"
#include "router/router.h"
#include "util/log.h"

/* What the sending client is told when we cannot store the message; the
 * log line has the full reason, the client a sentence without our paths. */
static const char *
tempfail_text(const GError *error)
{
    if (error == NULL || error->domain != STORE_ERROR)
        return "Support system cannot take the message right now, please try again later";
    switch (error->code) {
    case STORE_ERROR_BUSY:
    case STORE_ERROR_RETRY:
        return "Support system is busy, please try again later";
    case STORE_ERROR_FULL:
        return "Support system is out of storage space, please try again later";
    case STORE_ERROR_UNAVAILABLE:
        return "Support system's database is not reachable right now, please try again later";
    default:
        return "Support system cannot store the message right now, please try again later";
    }
}

/* Deletes every X-Ticket-ID header the sender wrote: the support mailbox
 * reads the header as ours, and it is not the sender's to set.  The last
 * goes first, so that the index of each one left stays what it was. */
static void
drop_ticket_ids(SMFICTX *ctx, const struct msg_ctx *msg)
{
    for (guint i = msg->ticket_headers; i > 0; i--)
        milter_io_chgheader(ctx, "X-Ticket-ID", (int)i, NULL);
}

/* Adds the tag to the message Postfix delivers: our X-Ticket-ID (any the
 * sender supplied is removed first) and the subject prefix, unless the
 * subject carries the tag already. */
static void
apply_tag(SMFICTX *ctx, const struct msg_ctx *msg, const struct mail *mail, const char *tag)
{
    const char *sp = msg->leading_space ? " " : "";
    g_autofree char *value = g_strconcat(sp, tag, NULL);

    drop_ticket_ids(ctx, msg);
    milter_io_addheader(ctx, "X-Ticket-ID", value);

    if (router_subject_has_tag(mail->subject, tag))
        return;
    if (msg->subject_raw == NULL) {
        g_autofree char *subject = g_strdup_printf("%s[%s]", sp, tag);
        milter_io_addheader(ctx, "Subject", subject);
    } else {
        /* Prefixing the raw value keeps any encoded words intact. */
        const char *rest = msg->subject_raw;
        while (*rest == ' ' || *rest == '\t')
            rest++;
        g_autofree char *subject = g_strdup_printf("%s[%s] %s", sp, tag, rest);
        milter_io_chgheader(ctx, "Subject", 1, subject);
    }
}

static void
set_header(SMFICTX *ctx, const struct msg_ctx *msg, const char *name, bool present,
           const char *value)
{
    g_autofree char *v = NULL;

    if (value == NULL)
        return;
    v = g_strconcat(msg->leading_space ? " " : "", value, NULL);
    if (present)
        milter_io_chgheader(ctx, (char *)name, 1, v);
    else
        milter_io_addheader(ctx, (char *)name, v);
}

/* What a message is parsed within, for reading it and for cutting its
 * commands alike. */
static struct parser_limits
parse_limits(const struct config *cfg)
{
    return (struct parser_limits){
        .max_depth = cfg->max_mime_depth,
        .max_parts = cfg->max_mime_parts,
        .max_headers = cfg->max_headers,
    };
}

/* A staff reply that goes on to the customer loses its command lines: they
 * are for the ticket, not for the customer to read.  They go from every
 * part that shows the text, the plain and the HTML versions alike. */
static void
strip_commands(SMFICTX *ctx, const struct msg_ctx *msg, const struct mail *mail, const char *qid)
{
    g_autofree char *content_type = NULL;
    g_autofree char *encoding = NULL;
    g_autoptr(GBytes) body = NULL;
    struct parser_limits limits = parse_limits(msg->cfg);
    const guint8 *data;
    gsize size;

    if (!parser_strip_commands((const char *)msg->raw->data, msg->raw->len, &limits,
                               commands_is_command_line, &body, &content_type, &encoding))
        return;
    data = g_bytes_get_data(body, &size);
    /* libmilter sends a body in chunks of at most 64 KiB. */
    for (gsize off = 0; off < size || off == 0; off += 65535) {
        gsize n = MIN(65535, size - off);
        milter_io_replacebody(ctx, (unsigned char *)data + off, (int)n);
        if (size == 0)
            break;
    }
    set_header(ctx, msg, "Content-Type", msg->has_content_type, content_type);
    set_header(ctx, msg, "Content-Transfer-Encoding", msg->has_encoding, encoding);
}

static const char *
action_name(enum router_action a)
{
    switch (a) {
    case ROUTER_CREATE:
        return "create";
    case ROUTER_FOLLOWUP:
        return "followup";
    case ROUTER_DUPLICATE:
        return "duplicate";
    case ROUTER_BOUNCE:
        return "bounce";
    case ROUTER_AUTO:
        return "auto-reply";
    case ROUTER_UNATTACHED:
        return "unattached";
    case ROUTER_REJECT:
        return "reject";
    case ROUTER_PASS:
        return "pass";
    case ROUTER_CHANGE:
        break;
    }
    return "change";
}

/* The facts the writer job needs, from the session and the parsed mail. */
static void
job_fill(struct ingest_job *job, const struct conn_ctx *conn, const struct msg_ctx *msg,
         const struct mail *mail, const char *qid, GDateTime *now)
{
    const struct config *cfg = msg->cfg;

    job->cfg = cfg;
    job->keys = milter_keys;
    job->mail = mail;
    job->raw = (const char *)msg->raw->data;
    job->raw_len = msg->raw->len;
    job->queue_id = strcmp(qid, "NOQUEUE") != 0 ? qid : NULL;
    job->envelope_from = msg->envelope_from;
    job->client_addr = conn->client_addr;
    job->now = now;
    job->address_ticket = msg->address_ticket;
    job->return_path_ticket = msg->return_path_ticket;
    job->is_outbound = msg->is_outbound;
    job->auth_login = msg->auth_login;
    job->recipients = msg->recipients;
    job->from_trusted_network = config_is_trusted_client(cfg, conn->client_addr);
    /* Only the results our own verifiers added count: the top ones, and
     * only from a host that verifies for us. */
    job->auth_results = config_is_authserv_client(cfg, conn->client_addr) ? msg->top_auth : NULL;
}

/* Runs the job in the next commit; false with ERROR when it did not
 * commit, or with *STOPPING when the daemon takes no more. */
static bool
commit(struct ingest_job *job, bool *stopping, GError **error)
{
    bool ok;

    g_mutex_lock(&milter_lock);
    *stopping = milter_stopping;
    if (milter_stopping) {
        g_mutex_unlock(&milter_lock);
        return false;
    }
    g_atomic_int_inc(&milter_in_commit);
    g_mutex_unlock(&milter_lock);
    ok = store_writer_run(milter_writer, ingest_job_run, job, error);
    g_atomic_int_dec_and_test(&milter_in_commit);
    return ok;
}

/* Whether the recipient R goes: it is one of NAMES (canonical addresses,
 * as the router has them), or with NAMES NULL a support recipient. */
static bool
is_removed(const struct rcpt *r, const GPtrArray *names)
{
    if (names == NULL)
        return r->is_support;
    for (guint i = 0; i < names->len; i++)
        if (g_ascii_strcasecmp(r->addr, g_ptr_array_index(names, i)) == 0)
            return true;
    return false;
}

/* Appends the recipients that go (is_removed()) to REMOVED ("<a>,<b>", as
 * the checks read them) and returns how many are left. */
static guint
plan_removal(const struct msg_ctx *msg, const GPtrArray *names, GString *removed)
{
    guint left = 0;

    for (guint i = 0; i < msg->rcpts->len; i++) {
        const struct rcpt *r = g_ptr_array_index(msg->rcpts, i);
        if (!is_removed(r, names)) {
            left++;
            continue;
        }
        g_string_append_printf(removed, "%s<%s>", removed->len > 0 ? "," : "", r->addr);
    }
    return left;
}

/* Removes what plan_removal() named, each with the very string Postfix
 * gave us (the canonical form is ours, not a recipient it knows); false
 * when the MTA would not, which leaves that recipient in place. */
static bool
remove_recipients(SMFICTX *ctx, const struct msg_ctx *msg, const GPtrArray *names, const char *qid)
{
    for (guint i = 0; i < msg->rcpts->len; i++) {
        const struct rcpt *r = g_ptr_array_index(msg->rcpts, i);
        if (!is_removed(r, names))
            continue;
        if (milter_io_delrcpt(ctx, r->raw) != MI_SUCCESS) {
            log_error("%s: tempfail: the MTA did not remove the recipient %s from=<%s>", qid,
                      r->raw, msg->envelope_from);
            set_reply(ctx, "451", "4.3.0",
                      "Support system cannot take the message right now, please try again later");
            stats_count(STAT_TEMPFAIL, "remove-recipient");
            return false;
        }
    }
    return true;
}

/* The message was taken: remove the recipients the router names, tag the
 * copy, cut staff commands, say so.  With no recipient left the message
 * is recorded and goes to nobody. */
static sfsistat
accepted(SMFICTX *ctx, const struct msg_ctx *msg, const struct mail *mail,
         const struct ingest_job *job, const char *qid, const char *client)
{
    const struct decision *d = job->decision;
    g_autoptr(GString) removed = g_string_new(NULL);
    guint left = msg->rcpts->len;

    if (d->drop_recipients != NULL && d->drop_recipients->len > 0)
        left = plan_removal(msg, d->drop_recipients, removed);
    if (left > 0 && removed->len > 0 && !remove_recipients(ctx, msg, d->drop_recipients, qid))
        return SMFIS_TEMPFAIL;
    stats_count_job(job);
    /* The acknowledgement goes out now, not at the next timer. */
    if (job->queued > 0)
        dispatch_kick(milter_dispatcher);
    /* A new ticket's first timer is minutes away at the least; the
     * scheduler looks again within a minute anyway, so only a goal
     * shorter than that needs to wake it. */
    if (d->soon)
        scheduler_kick(milter_scheduler);
    if (left > 0 && job->tag != NULL && d->action != ROUTER_UNATTACHED)
        apply_tag(ctx, msg, mail, job->tag);
    else if (left > 0 && msg->is_support)
        drop_ticket_ids(ctx, msg);
    /* Command lines are the ticket's, not for anyone the mail goes on to. */
    if (left > 0 && d->commands > 0 && (msg->other_recipients || msg->is_outbound))
        strip_commands(ctx, msg, mail, qid);
    if (d->is_security)
        log_warning("%s: security: untrusted-staff ticket=%s from=<%s> client=%s", qid,
                    job->tag != NULL ? job->tag : "-", d->requester != NULL ? d->requester : "",
                    client);
    log_info("%s: ticket=%s action=%s customer=%s from=<%s> message-id=<%s> size=%u ack=%s%s%s%s",
             qid, job->tag != NULL ? job->tag : "-", action_name(d->action),
             d->customer != NULL ? d->customer->name : "unknown",
             d->requester != NULL ? d->requester : "",
             mail->message_id != NULL ? mail->message_id : "", msg->raw->len,
             d->ack != NULL ? d->ack : "none", msg->is_outbound ? " outbound=yes" : "",
             removed->len > 0 ? " removed=" : "", removed->str);
    if (left == 0) {
        /* Removing the last recipient is no way to stop a message (Postfix
         * would bounce it for want of one); discarding is, and the message
         * is on the ticket already. */
        log_info("%s: discard: no recipient is left once %s are removed; the message is recorded"
                 " on ticket %s and goes to nobody",
                 qid, removed->str, job->tag != NULL ? job->tag : "-");
        return SMFIS_DISCARD;
    }
    return SMFIS_CONTINUE;
}

/* A sender refused at the end of the message, with other recipients: the
 * support recipients are removed, so the others keep their copy and the
 * support mailbox gets none without a ticket. */
static sfsistat
refused_for_support(SMFICTX *ctx, const struct msg_ctx *msg, const struct mail *mail,
                    const struct decision *d, const char *qid)
{
    g_autoptr(GString) removed = g_string_new(NULL);

    plan_removal(msg, NULL, removed);
    if (!remove_recipients(ctx, msg, NULL, qid))
        return SMFIS_TEMPFAIL;
    stats_count(STAT_ACCEPT, "refused-sender");
    log_info("%s: pass: %s, no ticket; delivered to the other recipients from=<%s>"
             " message-id=<%s> removed=%s",
             qid, d->reason, msg->envelope_from, mail->message_id != NULL ? mail->message_id : "",
             removed->str);
    return SMFIS_CONTINUE;
}

/* What the client hears once the job is done (or failed). */
static sfsistat
answer(SMFICTX *ctx, const struct msg_ctx *msg, const struct mail *mail,
       const struct ingest_job *job, bool committed, bool stopping, const GError *error,
       const char *qid, const char *client, GDateTime *now)
{
    const struct decision *d = job->decision;

    if (!committed) {
        log_error("%s: tempfail: %s from=<%s> message-id=<%s>", qid,
                  stopping ? "shutting down" : error->message, msg->envelope_from,
                  mail->message_id != NULL ? mail->message_id : "");
        set_reply(ctx, "451", "4.3.0",
                  stopping ? "The support system is restarting; please try again"
                           : tempfail_text(error));
        stats_count(STAT_TEMPFAIL, stopping ? "shutdown" : stats_store_reason(error));
        return SMFIS_TEMPFAIL;
    }
    stats_commit_done(now);
    if (d->action == ROUTER_REJECT && !msg->other_recipients) {
        stats_count(STAT_REJECT, "unregistered-sender");
        log_info("%s: reject: %s from=<%s> requester=<%s>", qid, d->reason, msg->envelope_from,
                 d->requester != NULL ? d->requester : "");
        set_reply(ctx, "550", "5.7.1",
                  "This address takes mail from registered support contacts only; "
                  "please ask your administrator to register you");
        return SMFIS_REJECT;
    }
    if (d->action == ROUTER_REJECT)
        return refused_for_support(ctx, msg, mail, d, qid);
    if (d->action == ROUTER_PASS) {
        if (msg->is_support)
            drop_ticket_ids(ctx, msg);
        stats_count(STAT_ACCEPT, "no-ticket");
        log_info("%s: pass: %s from=<%s> message-id=<%s>", qid, d->reason, msg->envelope_from,
                 mail->message_id != NULL ? mail->message_id : "");
        return SMFIS_CONTINUE;
    }
    return accepted(ctx, msg, mail, job, qid, client);
}

/* A message over max_message_size at its end, or announced so (its
 * support recipients refused at RCPT).  Staff mail is refused whole:
 * unread, its command lines and internal notes would go on to the
 * customer, and nothing of it would be on the ticket.  Other mail for
 * support alone is refused; with other recipients it goes on to all of
 * them as it came, support's mailbox too (less any X-Ticket-ID the sender
 * wrote), so nothing is lost: only the ticket is. */
static sfsistat
too_big(SMFICTX *ctx, const struct msg_ctx *msg, const char *qid)
{
    g_autofree char *from = parser_first_address(msg->from_raw);

    if (from != NULL && router_is_staff(&msg->cfg->policy, from)) {
        set_reply(ctx, "552", "5.3.4",
                  "Staff mail over the support system's size limit cannot be recorded, and its"
                  " command lines would reach the customer; please send the attachment"
                  " separately");
        log_info("%s: reject: staff mail too big for a ticket size=%" G_GUINT64_FORMAT
                 " limit=%" G_GUINT64_FORMAT " from=<%s> header-from=<%s>%s",
                 qid, MAX(msg->size, msg->announced_size), msg->cfg->max_message_size,
                 msg->envelope_from, from, msg->is_support ? "" : " outbound=yes");
        stats_count(STAT_REJECT, "staff-too-big");
        return SMFIS_REJECT;
    }
    /* Outgoing mail, or mail whose support recipients were refused at
     * RCPT: nothing of it goes to support any more. */
    if (!msg->is_support)
        return SMFIS_CONTINUE;
    if (msg->other_recipients) {
        drop_ticket_ids(ctx, msg);
        log_info("%s: pass: message too big for a ticket limit=%" G_GUINT64_FORMAT
                 " size=%" G_GUINT64_FORMAT " from=<%s>, delivered untouched to every"
                 " recipient%s",
                 qid, msg->cfg->max_message_size, msg->size, msg->envelope_from,
                 msg->ticket_headers > 0 ? " but for the X-Ticket-ID the sender wrote" : "");
        stats_count(STAT_ACCEPT, "too-big");
        return SMFIS_CONTINUE;
    }
    set_reply(ctx, "552", "5.3.4", "Message too big for the support system");
    log_info("%s: reject: message too big size=%" G_GUINT64_FORMAT " limit=%" G_GUINT64_FORMAT
             " from=<%s>",
             qid, msg->size, msg->cfg->max_message_size, msg->envelope_from);
    stats_count(STAT_REJECT, "too-big");
    return SMFIS_REJECT;
}

/* Parses MSG, kept whole in msg->raw, has it recorded and says what the
 * client is told. */
static sfsistat
parse_and_record(SMFICTX *ctx, const struct conn_ctx *conn, const struct msg_ctx *msg,
                 const char *qid)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GDateTime) now = NULL;
    struct ingest_job job = { 0 };
    struct mail *mail;
    sfsistat rc;

    struct parser_limits limits = parse_limits(msg->cfg);
    mail = parser_mail_parse_limited((const char *)msg->raw->data, msg->raw->len, &limits, &error);
    if (mail == NULL) {
        if (msg->is_outbound || msg->other_recipients) {
            if (msg->is_support)
                drop_ticket_ids(ctx, msg);
            log_info("%s: pass: cannot parse message, not ticketed: %s from=<%s>", qid,
                     error->message, msg->envelope_from);
            return SMFIS_CONTINUE;
        }
        /* The same bytes will not parse next time either: a retry cannot
         * help, so the sender hears it now rather than after days. */
        log_info("%s: reject: cannot parse message: %s from=<%s>", qid, error->message,
                 msg->envelope_from);
        set_reply(ctx, "554", "5.6.0",
                  "This message has no header the support system can read; please resend it"
                  " from a mail program");
        stats_count(STAT_REJECT, "unparsable");
        return SMFIS_REJECT;
    }

    now = g_date_time_new_now_utc();
    job_fill(&job, conn, msg, mail, qid, now);
    bool stopping = false;
    bool committed = commit(&job, &stopping, &error);
    rc = answer(ctx, msg, mail, &job, committed, stopping, error, qid, conn->client_addr, now);
    ingest_job_clear(&job);
    parser_mail_free(mail);
    return rc;
}

/* The answer at the end of the message MSG. */
sfsistat
milter_end_of_message(SMFICTX *ctx, const struct conn_ctx *conn, const struct msg_ctx *msg,
                      const char *qid)
{
    /* Outgoing mail that is no staff reply goes on as it came. */
    if (msg->is_ignored)
        return SMFIS_CONTINUE;
    /* Before the budget: a retry of a message too big cannot help. */
    if (msg->too_big)
        return too_big(ctx, msg, qid);
    if (msg->over_budget)
        return budget_deferred(ctx, msg, qid);
    /* The parsed mail lives until its commit is done: that is what the
     * parse's share of the budget covers. */
    guint64 cost = parse_begin(msg);
    sfsistat rc = parse_and_record(ctx, conn, msg, qid);
    parse_end(cost);
    return rc;
}
