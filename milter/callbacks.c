/*
 * callbacks - libmilter's view of ticket-milter.
 *
 * A connection context (client address) lives from connect to close; a
 * message context from MAIL FROM to the end of the message, freed at the
 * next MAIL FROM, in abort and in close.  Mail that is not for a support
 * address is accepted at DATA, before Postfix sends us a single header, so
 * a shared MTA pays one round trip per recipient for it.
 *
 * For support mail we keep the raw bytes (headers as Postfix hands them
 * over, then the body), parse at end of message, and wait for the writer
 * thread's commit before answering: accept with the ticket tag added, 550
 * for a refused sender, 451 4.3.0 whenever we could not store it, so the
 * message stays with the sender or in Postfix's queue.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include <glib.h>

#include "milter/ingest.h"
#include "milter/milter.h"
#include "milter/stats.h"
#include "router/commands.h"
#include "parser/auth.h"
#include "parser/mail.h"
#include "router/router.h"
#include "util/log.h"

struct msg_ctx {
    struct config *cfg;     /* reference taken at MAIL FROM: a reload mid-message is harmless */
    char *envelope_from;
    bool is_support;
    GByteArray *raw;
    bool too_big;           /* over max_message_size: refused at end of message */
    guint64 announced_size; /* the client's MAIL FROM SIZE=, 0 when none */
    gint64 address_ticket;  /* from a signed support+tkt-N.MAC@ recipient */
    bool other_recipients;  /* it goes on to someone besides support (a staff reply) */
    bool has_content_type;
    bool has_encoding;
    bool authenticated;     /* the client used SMTP AUTH */
    bool leading_space;     /* header values arrive with their leading space */
    char *subject_raw;      /* the first Subject header's value as received */
    guint ticket_headers;   /* X-Ticket-ID headers that came with the message */
    bool seen_received;     /* a Received header went by: what follows came from outside */
    GPtrArray *top_auth;    /* struct mail_auth_result* of the A-R headers above it */
};

struct conn_ctx {
    char *client_addr;
    struct msg_ctx *msg;
    bool leading_space;
    unsigned long noreply; /* SMFIP_NR_* steps the MTA agreed not to wait for */
};

static GMutex milter_lock;
static struct config *milter_cfg;
static struct store_writer *milter_writer;
static char *milter_secret;
static struct dispatcher *milter_dispatcher;
static struct scheduler *milter_scheduler;
static gint milter_in_commit;
static bool milter_stopping;    /* under milter_lock: no new commit may start */

void
milter_setup(struct config *cfg, struct store_writer *writer, struct dispatcher *dispatcher,
             struct scheduler *scheduler, const char *secret)
{
    milter_scheduler = scheduler;
    milter_set_config(cfg);
    milter_writer = writer;
    milter_dispatcher = dispatcher;
    milter_secret = g_strdup(secret);
}

void
milter_set_config(struct config *cfg)
{
    struct config *old;

    g_mutex_lock(&milter_lock);
    old = milter_cfg;
    milter_cfg = config_ref(cfg);
    g_mutex_unlock(&milter_lock);
    config_unref(old);
}

static struct config *
milter_config(void)
{
    struct config *cfg;

    g_mutex_lock(&milter_lock);
    cfg = config_ref(milter_cfg);
    g_mutex_unlock(&milter_lock);
    return cfg;
}

bool
milter_drain(guint timeout_ms, bool close)
{
    /* Once closed, a message that reaches its end is refused with 451 and
     * Postfix tries again later: the writer is about to go away. */
    if (close) {
        g_mutex_lock(&milter_lock);
        milter_stopping = true;
        g_mutex_unlock(&milter_lock);
    }
    for (guint waited = 0; g_atomic_int_get(&milter_in_commit) > 0; waited += 50) {
        if (waited >= timeout_ms)
            return false;
        g_usleep(50 * 1000);
    }
    return true;
}

static struct msg_ctx *
msg_free(struct msg_ctx *msg)
{
    if (msg == NULL)
        return NULL;
    config_unref(msg->cfg);
    g_free(msg->envelope_from);
    if (msg->raw != NULL)
        g_byte_array_unref(msg->raw);
    g_free(msg->subject_raw);
    if (msg->top_auth != NULL)
        g_ptr_array_unref(msg->top_auth);
    g_free(msg);
    return NULL;
}

static struct conn_ctx *
conn_get(SMFICTX *ctx)
{
    return smfi_getpriv(ctx);
}

/* "Go on" for a step the MTA may or may not wait for. */
static sfsistat
go_on(const struct conn_ctx *conn, unsigned long step)
{
    return conn != NULL && (conn->noreply & step) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

/* The queue id for log lines; "NOQUEUE" as Postfix says before it has one. */
static const char *
queue_id(SMFICTX *ctx)
{
    const char *id = smfi_getsymval(ctx, "i");

    return id != NULL && *id != '\0' ? id : "NOQUEUE";
}

/* Strips the angle brackets of an envelope address; "<>" becomes "". */
static char *
envelope_address(const char *arg)
{
    gsize len = strlen(arg);

    if (len >= 2 && arg[0] == '<' && arg[len - 1] == '>')
        return g_strndup(arg + 1, len - 2);
    return g_strdup(arg);
}

/* libmilter passes the reply text to the MTA as is: no CR/LF, and '%' is
 * special to sendmail-style formatting, so neither may come through. */
static void
set_reply(SMFICTX *ctx, const char *code, const char *xcode, const char *text)
{
    g_autofree char *clean = g_strdup(text);

    g_strdelimit(clean, "\r\n%", ' ');
    smfi_setreply(ctx, (char *)code, (char *)xcode, clean);
}

static sfsistat
mlfi_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
               unsigned long f3, unsigned long *pf0, unsigned long *pf1, unsigned long *pf2,
               unsigned long *pf3)
{
    const unsigned long actions = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGBODY;
    /* Steps we never look at; skipping them saves a round trip each. */
    const unsigned long skip = SMFIP_NOHELO | SMFIP_NOUNKNOWN;
    /* Steps whose answer is always "go on": the MTA need not wait for it,
     * which saves a round trip per header line. */
    const unsigned long noreply = SMFIP_NR_CONN | SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY;
    struct conn_ctx *conn;

    if ((f0 & actions) != actions) {
        log_error("the MTA does not offer adding and changing headers; disabling for this connection");
        return SMFIS_REJECT;
    }
    conn = g_new0(struct conn_ctx, 1);
    smfi_setpriv(ctx, conn);
    *pf0 = actions;
    *pf1 = f1 & (skip | noreply);
    conn->noreply = f1 & noreply;
    /* With the leading space kept, headers are stored byte for byte. */
    if (f1 & SMFIP_HDR_LEADSPC) {
        *pf1 |= SMFIP_HDR_LEADSPC;
        conn->leading_space = true;
    }
    *pf2 = 0;
    *pf3 = 0;
    return SMFIS_CONTINUE;
}

static sfsistat
mlfi_connect(SMFICTX *ctx, char *hostname, struct sockaddr *addr)
{
    struct conn_ctx *conn = conn_get(ctx);
    char buf[INET6_ADDRSTRLEN] = "";

    if (conn == NULL) {
        conn = g_new0(struct conn_ctx, 1);
        smfi_setpriv(ctx, conn);
    }
    if (addr != NULL && addr->sa_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)addr)->sin_addr, buf, sizeof(buf));
    else if (addr != NULL && addr->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)addr)->sin6_addr, buf, sizeof(buf));
    g_free(conn->client_addr);
    conn->client_addr = g_strdup(*buf != '\0' ? buf : "unknown");
    return go_on(conn, SMFIP_NR_CONN);
}

static sfsistat
mlfi_envfrom(SMFICTX *ctx, char **argv)
{
    struct conn_ctx *conn = conn_get(ctx);
    struct msg_ctx *msg;

    if (conn == NULL)
        return SMFIS_TEMPFAIL;
    conn->msg = msg_free(conn->msg);
    msg = g_new0(struct msg_ctx, 1);
    msg->cfg = milter_config();
    msg->envelope_from = envelope_address(argv[0]);
    msg->leading_space = conn->leading_space;
    const char *auth = smfi_getsymval(ctx, "{auth_authen}");
    msg->authenticated = auth != NULL && *auth != '\0';
    conn->msg = msg;

    /* A client that announces the size lets us refuse before the data, at
     * the first support recipient: other mail on a shared server is none
     * of our business. */
    for (char **arg = argv + 1; *arg != NULL; arg++)
        if (g_ascii_strncasecmp(*arg, "SIZE=", 5) == 0)
            msg->announced_size = g_ascii_strtoull(*arg + 5, NULL, 10);
    return SMFIS_CONTINUE;
}

static sfsistat
mlfi_envrcpt(SMFICTX *ctx, char **argv)
{
    struct conn_ctx *conn = conn_get(ctx);
    g_autofree char *rcpt = NULL;

    if (conn == NULL || conn->msg == NULL)
        return SMFIS_TEMPFAIL;
    rcpt = envelope_address(argv[0]);
    if (!config_is_support_address(conn->msg->cfg, rcpt)) {
        conn->msg->other_recipients = true;
        return SMFIS_CONTINUE;
    }
    const struct config *cfg = conn->msg->cfg;
    if (conn->msg->announced_size > cfg->max_message_size) {
        /* RFC 1870: refused for this recipient, the others may have it. */
        log_info("%s: reject: RCPT <%s>: message too big size=%" G_GUINT64_FORMAT
                 " limit=%" G_GUINT64_FORMAT " from=<%s>",
                 queue_id(ctx), rcpt, conn->msg->announced_size, cfg->max_message_size,
                 conn->msg->envelope_from);
        set_reply(ctx, "552", "5.3.4", "Message too big for the support system");
        stats_count(STAT_REJECT, "too-big");
        return SMFIS_REJECT;
    }
    conn->msg->is_support = true;
    gint64 ticket = 0;
    /* The secret of the start: the scheduler signs with it too (a changed
     * [milter] secret takes effect at the next start). */
    switch (router_address_ticket(milter_secret,
                                  cfg->ticket_prefix, rcpt, &ticket)) {
    case ADDRESS_FORGED:
        /* Refused for this recipient only: a ticket address is not
         * something to guess at. */
        log_info("%s: reject: RCPT <%s>: forged or stale ticket address from=<%s>",
                 queue_id(ctx), rcpt, conn->msg->envelope_from);
        set_reply(ctx, "550", "5.7.1",
                  "This ticket address is not valid; please write to the support address");
        stats_count(STAT_REJECT, "forged-ticket-address");
        return SMFIS_REJECT;
    case ADDRESS_VALID:
        conn->msg->address_ticket = ticket;
        break;
    case ADDRESS_UNTAGGED:
        break;
    }
    return SMFIS_CONTINUE;
}

static sfsistat
mlfi_data(SMFICTX *ctx)
{
    struct conn_ctx *conn = conn_get(ctx);

    if (conn == NULL || conn->msg == NULL)
        return SMFIS_TEMPFAIL;
    if (!conn->msg->is_support)
        return SMFIS_ACCEPT;
    conn->msg->raw = g_byte_array_sized_new(16384);
    return SMFIS_CONTINUE;
}

/* Appends TEXT with every bare LF turned into CRLF: libmilter hands folded
 * header values over with LF alone, the body with CRLF. */
static void
append_crlf(GByteArray *raw, const char *text)
{
    for (const char *p = text; *p != '\0'; p++) {
        if (*p == '\n' && (p == text || p[-1] != '\r'))
            g_byte_array_append(raw, (const guint8 *)"\r", 1);
        g_byte_array_append(raw, (const guint8 *)p, 1);
    }
}

static sfsistat
mlfi_header(SMFICTX *ctx, char *name, char *value)
{
    struct conn_ctx *conn = conn_get(ctx);
    struct msg_ctx *msg = conn != NULL ? conn->msg : NULL;

    if (msg == NULL || msg->raw == NULL)
        return SMFIS_TEMPFAIL;
    if (msg->too_big)
        return go_on(conn, SMFIP_NR_HDR);
    g_byte_array_append(msg->raw, (const guint8 *)name, strlen(name));
    g_byte_array_append(msg->raw, (const guint8 *)(msg->leading_space ? ":" : ": "),
                        msg->leading_space ? 1 : 2);
    append_crlf(msg->raw, value);
    g_byte_array_append(msg->raw, (const guint8 *)"\r\n", 2);

    if (g_ascii_strcasecmp(name, "Subject") == 0 && msg->subject_raw == NULL)
        msg->subject_raw = g_strdup(value);
    else if (g_ascii_strcasecmp(name, "X-Ticket-ID") == 0)
        msg->ticket_headers++;
    else if (g_ascii_strcasecmp(name, "Content-Type") == 0)
        msg->has_content_type = true;
    else if (g_ascii_strcasecmp(name, "Content-Transfer-Encoding") == 0)
        msg->has_encoding = true;
    else if (g_ascii_strcasecmp(name, "Received") == 0)
        msg->seen_received = true;
    /* Only the results the last hop added count: one below a Received
     * header was in the message before, and anyone can write one. */
    else if (g_ascii_strcasecmp(name, "Authentication-Results") == 0 && !msg->seen_received) {
        if (msg->top_auth == NULL)
            msg->top_auth = g_ptr_array_new_with_free_func(parser_auth_result_free);
        parser_auth_results(value, msg->top_auth);
    }
    if (msg->raw->len > msg->cfg->max_message_size)
        msg->too_big = true;
    return go_on(conn, SMFIP_NR_HDR);
}

static sfsistat
mlfi_eoh(SMFICTX *ctx)
{
    struct conn_ctx *conn = conn_get(ctx);

    if (conn == NULL || conn->msg == NULL || conn->msg->raw == NULL)
        return SMFIS_TEMPFAIL;
    g_byte_array_append(conn->msg->raw, (const guint8 *)"\r\n", 2);
    return go_on(conn, SMFIP_NR_EOH);
}

static sfsistat
mlfi_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
    struct conn_ctx *conn = conn_get(ctx);
    struct msg_ctx *msg = conn != NULL ? conn->msg : NULL;

    if (msg == NULL || msg->raw == NULL)
        return SMFIS_TEMPFAIL;
    /* The answer to a body chunk may not be waited for, so an oversized
     * message is refused at the end; until then we just stop keeping it. */
    if (msg->too_big || msg->raw->len + len > msg->cfg->max_message_size)
        msg->too_big = true;
    else
        g_byte_array_append(msg->raw, chunk, len);
    return go_on(conn, SMFIP_NR_BODY);
}

/* What the sending client is told when we cannot store the message; the
 * log line has the full reason, the client a sentence without our paths. */
static const char *
tempfail_text(const GError *error)
{
    if (error == NULL || error->domain != STORE_ERROR)
        return "Support system cannot take the message right now, please try again later";
    switch (error->code) {
    case STORE_ERROR_BUSY:
        return "Support system is busy, please try again later";
    case STORE_ERROR_FULL:
        return "Support system is out of storage space, please try again later";
    default:
        return "Support system cannot store the message right now, please try again later";
    }
}

/* Adds the tag to the message Postfix delivers: our X-Ticket-ID (any the
 * sender supplied is removed first, it is not theirs to set) and the
 * subject prefix, unless the subject carries the tag already. */
static void
apply_tag(SMFICTX *ctx, const struct msg_ctx *msg, const struct mail *mail, const char *tag)
{
    const char *sp = msg->leading_space ? " " : "";
    g_autofree char *value = g_strconcat(sp, tag, NULL);

    for (guint i = msg->ticket_headers; i > 0; i--)
        smfi_chgheader(ctx, "X-Ticket-ID", (int)i, NULL);
    smfi_addheader(ctx, "X-Ticket-ID", value);

    if (router_subject_has_tag(mail->subject, tag))
        return;
    if (msg->subject_raw == NULL) {
        g_autofree char *subject = g_strdup_printf("%s[%s]", sp, tag);
        smfi_addheader(ctx, "Subject", subject);
    } else {
        /* Prefixing the raw value keeps any encoded words intact. */
        const char *rest = msg->subject_raw;
        while (*rest == ' ' || *rest == '\t')
            rest++;
        g_autofree char *subject = g_strdup_printf("%s[%s] %s", sp, tag, rest);
        smfi_chgheader(ctx, "Subject", 1, subject);
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
        smfi_chgheader(ctx, (char *)name, 1, v);
    else
        smfi_addheader(ctx, (char *)name, v);
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
    const guint8 *data;
    gsize size;

    if (!parser_strip_commands((const char *)msg->raw->data, msg->raw->len,
                               commands_is_command_line, &body, &content_type, &encoding))
        return;
    data = g_bytes_get_data(body, &size);
    /* libmilter sends a body in chunks of at most 64 KiB. */
    for (gsize off = 0; off < size || off == 0; off += 65535) {
        gsize n = MIN(65535, size - off);
        smfi_replacebody(ctx, (unsigned char *)data + off, (int)n);
        if (size == 0)
            break;
    }
    set_header(ctx, msg, "Content-Type", msg->has_content_type, content_type);
    set_header(ctx, msg, "Content-Transfer-Encoding", msg->has_encoding, encoding);
}

static sfsistat
mlfi_eom(SMFICTX *ctx)
{
    struct conn_ctx *conn = conn_get(ctx);
    struct msg_ctx *msg = conn != NULL ? conn->msg : NULL;
    const char *qid = queue_id(ctx);
    g_autoptr(GError) error = NULL;
    g_autoptr(GDateTime) now = NULL;
    struct ingest_job job = { 0 };
    struct mail *mail;
    sfsistat rc;

    if (msg == NULL || msg->raw == NULL)
        return SMFIS_TEMPFAIL;
    if (msg->too_big) {
        set_reply(ctx, "552", "5.3.4", "Message too big for the support system");
        log_info("%s: reject: message too big limit=%" G_GUINT64_FORMAT " from=<%s>", qid,
                 msg->cfg->max_message_size, msg->envelope_from);
        stats_count(STAT_REJECT, "too-big");
        return SMFIS_REJECT;
    }
    struct parser_limits limits = {
        .max_depth = msg->cfg->max_mime_depth,
        .max_parts = msg->cfg->max_mime_parts,
        .max_headers = msg->cfg->max_headers,
    };
    mail = parser_mail_parse_limited((const char *)msg->raw->data, msg->raw->len, &limits,
                                     &error);
    if (mail == NULL) {
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
    job.cfg = msg->cfg;
    job.mail = mail;
    job.raw = (const char *)msg->raw->data;
    job.raw_len = msg->raw->len;
    job.queue_id = strcmp(qid, "NOQUEUE") != 0 ? qid : NULL;
    job.envelope_from = msg->envelope_from;
    job.client_addr = conn->client_addr;
    job.now = now;
    job.secret = milter_secret;
    job.address_ticket = msg->address_ticket;
    job.trust = msg->authenticated ? "smtp-auth"
                : config_is_trusted_client(msg->cfg, conn->client_addr) ? "trusted-network"
                : config_is_authserv_client(msg->cfg, conn->client_addr)
                    ? router_auth_vouches(msg->cfg, msg->top_auth,
                                          mail->from != NULL ? mail->from->addr : NULL)
                    : NULL;
    job.trusted = job.trust != NULL;

    g_mutex_lock(&milter_lock);
    if (milter_stopping) {
        g_mutex_unlock(&milter_lock);
        log_info("%s: tempfail: shutting down from=<%s>", qid, msg->envelope_from);
        set_reply(ctx, "451", "4.3.0", "The support system is restarting; please try again");
        stats_count(STAT_TEMPFAIL, "shutdown");
        parser_mail_free(mail);
        return SMFIS_TEMPFAIL;
    }
    g_atomic_int_inc(&milter_in_commit);
    g_mutex_unlock(&milter_lock);
    if (!store_writer_run(milter_writer, ingest_job_run, &job, &error)) {
        log_error("%s: tempfail: %s from=<%s> message-id=<%s>", qid, error->message,
                  msg->envelope_from, mail->message_id != NULL ? mail->message_id : "");
        set_reply(ctx, "451", "4.3.0", tempfail_text(error));
        stats_count(STAT_TEMPFAIL, stats_store_reason(error));
        rc = SMFIS_TEMPFAIL;
    } else if (job.action == ROUTER_REJECT) {
        stats_commit_done(now);
        stats_count(STAT_REJECT, "unregistered-sender");
        log_info("%s: reject: %s from=<%s> requester=<%s>", qid, job.reason, msg->envelope_from,
                 job.requester != NULL ? job.requester : "");
        set_reply(ctx, "550", "5.7.1",
                  "This address takes mail from registered support contacts only; "
                  "please ask your administrator to register you");
        rc = SMFIS_REJECT;
    } else if (job.action == ROUTER_PASS) {
        stats_commit_done(now);
        stats_count(STAT_ACCEPT, "pass");
        log_info("%s: pass: %s from=<%s> message-id=<%s>", qid, job.reason, msg->envelope_from,
                 mail->message_id != NULL ? mail->message_id : "");
        rc = SMFIS_CONTINUE;
    } else {
        stats_commit_done(now);
        stats_count_job(&job);
        /* The acknowledgement goes out now, not at the next timer. */
        if (job.queued > 0)
            dispatch_kick(milter_dispatcher);
        /* A new ticket's first timer is minutes away at the least; the
         * scheduler looks again within a minute anyway, so only a goal
         * shorter than that needs to wake it. */
        if (job.action == ROUTER_CREATE && job.soon)
            scheduler_kick(milter_scheduler);
        apply_tag(ctx, msg, mail, job.tag);
        if (job.commands > 0 && msg->other_recipients)
            strip_commands(ctx, msg, mail, qid);
        if (job.security != NULL)
            log_warning("%s: security: %s ticket=%s from=<%s> client=%s", qid, job.security,
                        job.tag, job.requester != NULL ? job.requester : "", conn->client_addr);
        log_info("%s: ticket=%s action=%s customer=%s from=<%s> message-id=<%s> size=%u ack=%s",
                 qid, job.tag,
                 job.action == ROUTER_CREATE     ? "create"
                 : job.action == ROUTER_FOLLOWUP ? "followup"
                 : job.action == ROUTER_BOUNCE   ? "bounce"
                 : job.action == ROUTER_AUTO     ? "auto-reply"
                                                 : "duplicate",
                 job.customer != NULL ? job.customer : "unknown",
                 job.requester != NULL ? job.requester : "",
                 mail->message_id != NULL ? mail->message_id : "", msg->raw->len,
                 job.ack != NULL ? job.ack : "none");
        rc = SMFIS_CONTINUE;
    }
    g_atomic_int_dec_and_test(&milter_in_commit);
    ingest_job_clear(&job);
    parser_mail_free(mail);
    return rc;
}

static sfsistat
mlfi_abort(SMFICTX *ctx)
{
    struct conn_ctx *conn = conn_get(ctx);

    if (conn != NULL)
        conn->msg = msg_free(conn->msg);
    return SMFIS_CONTINUE;
}

static sfsistat
mlfi_close(SMFICTX *ctx)
{
    struct conn_ctx *conn = conn_get(ctx);

    if (conn == NULL)
        return SMFIS_CONTINUE;
    msg_free(conn->msg);
    g_free(conn->client_addr);
    g_free(conn);
    smfi_setpriv(ctx, NULL);
    return SMFIS_CONTINUE;
}

struct smfiDesc milter_desc = {
    .xxfi_name = "ticket-milter",
    .xxfi_version = SMFI_VERSION,
    .xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGBODY,
    .xxfi_connect = mlfi_connect,
    .xxfi_envfrom = mlfi_envfrom,
    .xxfi_envrcpt = mlfi_envrcpt,
    .xxfi_header = mlfi_header,
    .xxfi_eoh = mlfi_eoh,
    .xxfi_body = mlfi_body,
    .xxfi_eom = mlfi_eom,
    .xxfi_abort = mlfi_abort,
    .xxfi_close = mlfi_close,
    .xxfi_data = mlfi_data,
    .xxfi_negotiate = mlfi_negotiate,
};
