/*
 * callbacks - libmilter's view of ticket-milter.
 *
 * A connection context (client address) lives from connect to close; a
 * message context from MAIL FROM to the end of the message, freed at the
 * next MAIL FROM, in abort and in close.  Mail that is not for a support
 * address is accepted at DATA, before Postfix sends us a single header, so
 * a shared MTA pays one round trip per recipient for it; only mail from a
 * trusted staff client is read on (a staff reply on its way out), and that
 * too is let go at the end of its header unless it is staff mail about a
 * ticket.
 *
 * A recipient is compared in one form (address_canonical()) of what
 * Postfix resolves it to, the {rcpt_addr} macro, so that "support"@...,
 * sup\port@..., support@example.com. or support%example.com@our-host are
 * support to us as they are to Postfix.  Each recipient let through is kept
 * twice: that form, for the checks and the router, and the string Postfix
 * gave us, the one smfi_delrcpt() matches.
 *
 * A refusal is per recipient where the answer is known at RCPT (a forged
 * ticket address, a sender no customer's, a message announced too big);
 * at end of message a 5xx is given only when every recipient is a support
 * address, so that other mail in the same transaction is never lost: a
 * sender refused only then loses the support recipients (smfi_delrcpt), a
 * message too big for a ticket goes on to everyone as it came.  The router
 * may name recipients to remove (the outsiders of an internal note); when
 * none would be left the message is discarded, recorded but sent nowhere.
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
#include "milter/io.h"
#include "milter/milter.h"
#include "milter/stats.h"
#include "parser/auth.h"
#include "parser/mail.h"
#include "router/commands.h"
#include "router/router.h"
#include "store/writer.h"
#include "util/log.h"

/* The most recipients a message keeps here: Postfix's default
 * smtpd_recipient_limit, so with that default Postfix refuses first.
 * Beyond it a recipient is refused with 452, which tells the client to
 * send the rest in another transaction (RFC 5321, 4.5.3.1.10). */
#define MILTER_MAX_RECIPIENTS 1000

/* A recipient that was let through at RCPT. */
struct rcpt {
    char *raw;       /* exactly as xxfi_envrcpt got it: what smfi_delrcpt matches */
    char *addr;      /* as the checks compare it (recipient_address()) */
    bool is_support; /* a support address (its checks passed) */
};

struct msg_ctx {
    struct config *cfg;     /* reference taken at MAIL FROM: a reload mid-message is harmless */
    char *envelope_from;
    GPtrArray *rcpts;       /* struct rcpt*, in RCPT order */
    GPtrArray *recipients;  /* char*: each rcpt's addr (borrowed), for the router */
    bool is_support;        /* a support address is a recipient (after its checks) */
    bool is_outbound;       /* no support recipient, but a trusted staff client: read on */
    bool is_ignored;        /* outgoing mail that is no staff reply: passes untouched */
    GByteArray *raw;
    bool too_big;           /* over max_message_size: refused at end of message */
    guint64 announced_size; /* the client's MAIL FROM SIZE=, 0 when none */
    gint64 address_ticket;  /* from a signed support+tkt-N.TAG@ recipient */
    gint64 return_path_ticket; /* from our signed return path as recipient (a bounce) */
    bool other_recipients;  /* it goes on to someone besides support (a staff reply) */
    bool has_content_type;
    bool has_encoding;
    char *auth_login;       /* the client's SMTP AUTH login; NULL when none */
    bool leading_space;     /* header values arrive with their leading space */
    char *subject_raw;      /* the first Subject header's value as received */
    char *from_raw;         /* the first From header's value as received */
    bool has_references;    /* In-Reply-To or References came with it */
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
static const struct keys *milter_keys; /* of the start: a reload keeps them */
static struct dispatcher *milter_dispatcher;
static struct scheduler *milter_scheduler;
static gint milter_in_commit;
static bool milter_stopping;    /* under milter_lock: no new commit may start */

void
milter_setup(struct config *cfg, struct store_writer *writer, struct dispatcher *dispatcher,
             struct scheduler *scheduler, const struct keys *keys)
{
    milter_scheduler = scheduler;
    milter_set_config(cfg);
    milter_writer = writer;
    milter_dispatcher = dispatcher;
    milter_keys = keys;
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

static void
rcpt_free(gpointer p)
{
    struct rcpt *r = p;

    g_free(r->raw);
    g_free(r->addr);
    g_free(r);
}

static struct msg_ctx *
msg_free(struct msg_ctx *msg)
{
    if (msg == NULL)
        return NULL;
    config_unref(msg->cfg);
    g_free(msg->envelope_from);
    g_ptr_array_unref(msg->recipients);
    g_ptr_array_unref(msg->rcpts);
    if (msg->raw != NULL)
        g_byte_array_unref(msg->raw);
    g_free(msg->subject_raw);
    g_free(msg->from_raw);
    g_free(msg->auth_login);
    if (msg->top_auth != NULL)
        g_ptr_array_unref(msg->top_auth);
    g_free(msg);
    return NULL;
}

static struct conn_ctx *
conn_get(SMFICTX *ctx)
{
    return milter_io_getpriv(ctx);
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
    const char *id = milter_io_getsymval(ctx, "i");

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
    milter_io_setreply(ctx, (char *)code, (char *)xcode, clean);
}

static sfsistat
mlfi_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
               unsigned long f3, unsigned long *pf0, unsigned long *pf1, unsigned long *pf2,
               unsigned long *pf3)
{
    const unsigned long actions = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGBODY | SMFIF_DELRCPT;
    /* Steps we never look at; skipping them saves a round trip each. */
    const unsigned long skip = SMFIP_NOHELO | SMFIP_NOUNKNOWN;
    /* Steps whose answer is always "go on": the MTA need not wait for it,
     * which saves a round trip per header line. */
    const unsigned long noreply = SMFIP_NR_CONN | SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY;
    struct conn_ctx *conn;

    if ((f0 & actions) != actions) {
        log_error("the MTA does not offer adding and changing headers and removing recipients;"
                  " disabling for this connection");
        return SMFIS_REJECT;
    }
    conn = g_new0(struct conn_ctx, 1);
    milter_io_setpriv(ctx, conn);
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
        milter_io_setpriv(ctx, conn);
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
    msg->rcpts = g_ptr_array_new_with_free_func(rcpt_free);
    msg->recipients = g_ptr_array_new();
    msg->leading_space = conn->leading_space;
    const char *auth = milter_io_getsymval(ctx, "{auth_authen}");
    msg->auth_login = auth != NULL && *auth != '\0' ? g_strdup(auth) : NULL;
    conn->msg = msg;

    /* A client that announces the size lets us refuse before the data, at
     * the first support recipient: other mail on a shared server is none
     * of our business. */
    for (char **arg = argv + 1; *arg != NULL; arg++)
        if (g_ascii_strncasecmp(*arg, "SIZE=", 5) == 0)
            msg->announced_size = g_ascii_strtoull(*arg + 5, NULL, 10);
    return SMFIS_CONTINUE;
}

/* Refuses RCPT (as the checks read it) with CODE XCODE TEXT, counted
 * under REASON and logged with WHY. */
static sfsistat
refuse_rcpt(SMFICTX *ctx, const struct msg_ctx *msg, const char *rcpt, const char *code,
            const char *xcode, const char *text, const char *reason, const char *why)
{
    log_info("%s: reject: RCPT <%s>: %s from=<%s>", queue_id(ctx), rcpt, why, msg->envelope_from);
    set_reply(ctx, code, xcode, text);
    stats_count(STAT_REJECT, reason);
    return SMFIS_REJECT;
}

/* Whether the envelope sender alone shows, at RCPT, that the mail is no
 * designated contact's under unknown_senders = reject: a sender that is no
 * customer's contact or domain and no staff's.  The null sender (a bounce)
 * and replies to a signed ticket address are decided later. */
static bool
is_unregistered_sender(const struct config *cfg, const char *envelope_from)
{
    if (cfg->unknown_senders != UNKNOWN_SENDERS_REJECT || *envelope_from == '\0')
        return false;
    return router_find_customer(&cfg->policy, envelope_from) == NULL &&
           !router_is_staff(&cfg->policy, envelope_from);
}

/* TEXT as valid UTF-8 (bytes that are not become U+FFFD) with every
 * control character made a '?': for an address that is no address, in a
 * log line and in the router's list of recipients. */
static char *
printable(const char *text)
{
    char *out = g_utf8_make_valid(text, -1);

    for (char *p = out; *p != '\0'; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    return out;
}

/* The recipient RAW (as xxfi_envrcpt got it) as every check compares it:
 * the canonical form of Postfix's own reading of it, {rcpt_addr}, which is
 * what its resolver routes the mail to (user%domain@our-host, a quoted '@'
 * or a bang path on one of our domains become the address they lead to);
 * without that macro the canonical form of RAW itself.  An address with no
 * canonical form stands for itself, printable: it is no support address,
 * and the router sees it as nobody's. */
static char *
recipient_address(SMFICTX *ctx, const char *raw)
{
    static gint warned; /* once per process: it is the MTA's configuration */
    const char *resolved = milter_io_getsymval(ctx, "{rcpt_addr}");
    g_autofree char *sent = envelope_address(raw);
    char *addr;

    if (resolved != NULL && *resolved != '\0' && (addr = address_canonical(resolved)) != NULL)
        return addr;
    if (resolved == NULL && g_atomic_int_compare_and_exchange(&warned, 0, 1))
        log_warning("the MTA does not send the {rcpt_addr} macro: recipients are compared as"
                    " the client wrote them, and a routed form (user%%domain@host) of a support"
                    " address is not recognised; keep {rcpt_addr} in Postfix's"
                    " milter_rcpt_macros");
    if ((addr = address_canonical(sent)) != NULL)
        return addr;
    return printable(sent);
}

/* Keeps the recipient RAW, read as ADDR (taken), as let through. */
static void
rcpt_add(struct msg_ctx *msg, const char *raw, char *addr, bool is_support)
{
    struct rcpt *r = g_new0(struct rcpt, 1);

    r->raw = g_strdup(raw);
    r->addr = addr;
    r->is_support = is_support;
    g_ptr_array_add(msg->rcpts, r);
    g_ptr_array_add(msg->recipients, r->addr);
}

static sfsistat
mlfi_envrcpt(SMFICTX *ctx, char **argv)
{
    struct conn_ctx *conn = conn_get(ctx);
    g_autofree char *rcpt = NULL;
    struct msg_ctx *msg;
    gint64 ticket = 0;

    if (conn == NULL || conn->msg == NULL)
        return SMFIS_TEMPFAIL;
    msg = conn->msg;
    if (msg->rcpts->len >= MILTER_MAX_RECIPIENTS) {
        log_info("%s: tempfail: RCPT %s: more than %d recipients from=<%s>", queue_id(ctx),
                 argv[0], MILTER_MAX_RECIPIENTS, msg->envelope_from);
        set_reply(ctx, "452", "4.5.3", "Too many recipients");
        return SMFIS_TEMPFAIL;
    }
    rcpt = recipient_address(ctx, argv[0]);
    if (!config_is_support_address(msg->cfg, rcpt)) {
        msg->other_recipients = true;
        rcpt_add(msg, argv[0], g_steal_pointer(&rcpt), false);
        return SMFIS_CONTINUE;
    }
    const struct config *cfg = msg->cfg;
    /* Addresses are UTF-8 from here on (RFC 6531); anything else is
     * no address we can answer or store. */
    if (!g_utf8_validate(msg->envelope_from, -1, NULL))
        return refuse_rcpt(ctx, msg, rcpt, "553", "5.6.7",
                           "The sender address is not valid UTF-8", "bad-sender-address",
                           "sender address is not UTF-8");
    if (msg->announced_size > cfg->max_message_size) {
        /* RFC 1870: refused for this recipient, the others may have it. */
        g_autofree char *why = g_strdup_printf("message too big size=%" G_GUINT64_FORMAT
                                               " limit=%" G_GUINT64_FORMAT,
                                               msg->announced_size, cfg->max_message_size);
        return refuse_rcpt(ctx, msg, rcpt, "552", "5.3.4", "Message too big for the support system",
                           "too-big", why);
    }
    /* A ticket address is not something to guess at: a tag that does not
     * verify is refused for this recipient only. */
    enum router_address_tag reply = router_address_ticket(milter_keys, cfg->ticket_prefix, rcpt,
                                                          &ticket);
    if (reply == ADDRESS_VALID) {
        msg->address_ticket = ticket;
    } else if (reply == ADDRESS_UNTAGGED) {
        enum router_address_tag bounce =
            router_return_path_ticket(milter_keys, cfg->ticket_prefix, rcpt, &ticket);
        if (bounce == ADDRESS_VALID)
            msg->return_path_ticket = ticket;
        reply = bounce;
    }
    if (reply == ADDRESS_FORGED)
        return refuse_rcpt(ctx, msg, rcpt, "550", "5.7.1",
                           "This ticket address is not valid; please write to the support address",
                           "forged-ticket-address", "forged or stale ticket address");
    if (ticket == 0 && is_unregistered_sender(cfg, msg->envelope_from))
        return refuse_rcpt(ctx, msg, rcpt, "550", "5.7.1",
                           "This address takes mail from registered support contacts only; "
                           "please ask your administrator to register you",
                           "unregistered-sender", "sender is not a registered support contact");
    /* Support mail only once its checks passed: a refused recipient
     * leaves the rest of the transaction as it was. */
    msg->is_support = true;
    rcpt_add(msg, argv[0], g_steal_pointer(&rcpt), true);
    return SMFIS_CONTINUE;
}

static sfsistat
mlfi_data(SMFICTX *ctx)
{
    struct conn_ctx *conn = conn_get(ctx);

    if (conn == NULL || conn->msg == NULL)
        return SMFIS_TEMPFAIL;
    if (!conn->msg->is_support) {
        /* A staff reply that goes straight to the customer is seen on its
         * way out; only a client staff could use is worth reading on. */
        if (conn->msg->auth_login == NULL &&
            !config_is_trusted_client(conn->msg->cfg, conn->client_addr))
            return SMFIS_ACCEPT;
        conn->msg->is_outbound = true;
    }
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
    else if (g_ascii_strcasecmp(name, "From") == 0 && msg->from_raw == NULL)
        msg->from_raw = g_strdup(value);
    else if (g_ascii_strcasecmp(name, "In-Reply-To") == 0 ||
             g_ascii_strcasecmp(name, "References") == 0)
        msg->has_references = true;
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

/* Whether outgoing mail may be a trusted staff reply about a ticket: a
 * staff From that the client can vouch for, and a ticket tag or a thread
 * to look up.  Everything else goes on untouched, now. */
static bool
may_be_staff_reply(const struct conn_ctx *conn, const struct msg_ctx *msg)
{
    g_autofree char *from = parser_first_address(msg->from_raw);
    struct router_input in = {
        .auth_login = msg->auth_login,
        .from_trusted_network = config_is_trusted_client(msg->cfg, conn->client_addr),
    };

    if (from == NULL || !router_is_staff(&msg->cfg->policy, from) ||
        router_staff_trust(&msg->cfg->policy, &in, from) == NULL)
        return false;
    return msg->has_references ||
           (msg->subject_raw != NULL && strchr(msg->subject_raw, '[') != NULL);
}

static sfsistat
mlfi_eoh(SMFICTX *ctx)
{
    struct conn_ctx *conn = conn_get(ctx);

    if (conn == NULL || conn->msg == NULL || conn->msg->raw == NULL)
        return SMFIS_TEMPFAIL;
    /* The MTA does not wait for this step's answer (SMFIP_NR_EOH), so
     * mail that is none of ours is let go by keeping nothing more of it. */
    if (conn->msg->is_outbound && !may_be_staff_reply(conn, conn->msg))
        conn->msg->is_ignored = true;
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
    if (msg->is_ignored)
        return go_on(conn, SMFIP_NR_BODY);
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

/* Adds the tag to the message Postfix delivers: our X-Ticket-ID (any the
 * sender supplied is removed first, it is not theirs to set) and the
 * subject prefix, unless the subject carries the tag already. */
static void
apply_tag(SMFICTX *ctx, const struct msg_ctx *msg, const struct mail *mail, const char *tag)
{
    const char *sp = msg->leading_space ? " " : "";
    g_autofree char *value = g_strconcat(sp, tag, NULL);

    for (guint i = msg->ticket_headers; i > 0; i--)
        milter_io_chgheader(ctx, "X-Ticket-ID", (int)i, NULL);
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
remove_recipients(SMFICTX *ctx, const struct msg_ctx *msg, const GPtrArray *names,
                  const char *qid)
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
    /* Command lines are the ticket's, not for anyone the mail goes on to. */
    if (left > 0 && d->commands > 0 && (msg->other_recipients || msg->is_outbound))
        strip_commands(ctx, msg, mail, qid);
    if (d->is_security)
        log_warning("%s: security: untrusted-staff ticket=%s from=<%s> client=%s", qid,
                    job->tag != NULL ? job->tag : "-",
                    d->requester != NULL ? d->requester : "", client);
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
                 " on ticket %s and goes to nobody", qid, removed->str,
                 job->tag != NULL ? job->tag : "-");
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
             " message-id=<%s> removed=%s", qid, d->reason, msg->envelope_from,
             mail->message_id != NULL ? mail->message_id : "", removed->str);
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
        stats_count(STAT_ACCEPT, "no-ticket");
        log_info("%s: pass: %s from=<%s> message-id=<%s>", qid, d->reason, msg->envelope_from,
                 mail->message_id != NULL ? mail->message_id : "");
        return SMFIS_CONTINUE;
    }
    return accepted(ctx, msg, mail, job, qid, client);
}

/* A message over max_message_size at its end (no SIZE announced it).  For
 * support alone it is refused; with other recipients it goes on to all of
 * them as it came, support's mailbox too, so nothing is lost: only the
 * ticket is. */
static sfsistat
too_big(SMFICTX *ctx, const struct msg_ctx *msg, const char *qid)
{
    if (msg->other_recipients) {
        log_info("%s: pass: message too big for a ticket limit=%" G_GUINT64_FORMAT
                 " from=<%s>, delivered untouched to every recipient", qid,
                 msg->cfg->max_message_size, msg->envelope_from);
        stats_count(STAT_ACCEPT, "too-big");
        return SMFIS_CONTINUE;
    }
    set_reply(ctx, "552", "5.3.4", "Message too big for the support system");
    log_info("%s: reject: message too big limit=%" G_GUINT64_FORMAT " from=<%s>", qid,
             msg->cfg->max_message_size, msg->envelope_from);
    stats_count(STAT_REJECT, "too-big");
    return SMFIS_REJECT;
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
    /* Outgoing mail that is no staff reply, or too big to be one we keep,
     * goes on as it came. */
    if (msg->is_ignored || (msg->is_outbound && msg->too_big))
        return SMFIS_CONTINUE;
    if (msg->too_big)
        return too_big(ctx, msg, qid);
    struct parser_limits limits = parse_limits(msg->cfg);
    mail = parser_mail_parse_limited((const char *)msg->raw->data, msg->raw->len, &limits,
                                     &error);
    if (mail == NULL) {
        if (msg->is_outbound || msg->other_recipients) {
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
    milter_io_setpriv(ctx, NULL);
    return SMFIS_CONTINUE;
}

struct smfiDesc milter_desc = {
    .xxfi_name = "ticket-milter",
    .xxfi_version = SMFI_VERSION,
    .xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGBODY | SMFIF_DELRCPT,
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
