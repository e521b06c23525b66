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
 * message too big for a ticket goes on to everyone as it came.  Staff mail
 * is the exception: too big to read, its command lines and internal notes
 * would reach the customer, so it is refused whole (552 5.3.4), whoever
 * else it is for.  The router may name recipients to remove (the outsiders
 * of an internal note); when none would be left the message is discarded,
 * recorded but sent nowhere.
 *
 * For support mail we keep the raw bytes (headers as Postfix hands them
 * over, then the body), parse at end of message (eom.c), and wait for the writer
 * thread's commit before answering: accept with the ticket tag added, 550
 * for a refused sender, 451 4.3.0 whenever we could not store it, so the
 * message stays with the sender or in Postfix's queue.  What all messages
 * keep at once is bounded by [milter] max_buffered_bytes: one that would
 * pass it is answered 451 4.3.2 and comes back later.  Any X-Ticket-ID the
 * sender wrote is deleted from every copy that reaches support: the
 * header is ours.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <string.h>

#include <glib.h>

#include "milter/ingest.h"
#include "milter/io.h"
#include "milter/milter.h"
#include "milter/session.h"
#include "milter/stats.h"
#include "parser/auth.h"
#include "parser/mail.h"
#include "router/commands.h"
#include "router/router.h"
#include "util/log.h"

/* The most recipients a message keeps here: Postfix's default
 * smtpd_recipient_limit, so with that default Postfix refuses first.
 * Beyond it a recipient is refused with 452, which tells the client to
 * send the rest in another transaction (RFC 5321, 4.5.3.1.10). */
#define MILTER_MAX_RECIPIENTS 1000

GMutex milter_lock;
static struct config *milter_cfg;
struct store_writer *milter_writer;
const struct keys *milter_keys; /* of the start: a reload keeps them */
struct dispatcher *milter_dispatcher;
struct scheduler *milter_scheduler;
gint milter_in_commit;
bool milter_stopping; /* under milter_lock: no new commit may start */

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

/* ---- the budget of bytes in flight ----
 *
 * Every byte a message keeps (its raw copy, headers and body) is counted
 * here before it is kept, and given back when the message ends, aborts or
 * no longer needs it; a message that would take the total past [milter]
 * max_buffered_bytes keeps nothing more and is deferred (451 4.3.2), so
 * that a hundred big messages at once cannot take the host's memory.  The
 * limit is the one of the message's config; a reload changes it for the
 * messages that start after it. */

static atomic_uint_fast64_t milter_buffered;
/* Deferred for want of budget since the last log line about it, and when
 * that line was written (monotonic microseconds; 0: never). */
static atomic_uint milter_budget_deferred;
static atomic_int_fast64_t milter_budget_logged;

guint64
milter_buffered_bytes(void)
{
    return atomic_load_explicit(&milter_buffered, memory_order_relaxed);
}

/* Counts LEN more bytes for MSG; false, counting nothing, when they would
 * not fit the budget. */
static bool
budget_take(struct msg_ctx *msg, guint64 len)
{
    guint64 cur = atomic_load_explicit(&milter_buffered, memory_order_relaxed);

    do {
        if (len > msg->cfg->max_buffered_bytes || cur > msg->cfg->max_buffered_bytes - len)
            return false;
    } while (!atomic_compare_exchange_weak_explicit(&milter_buffered, &cur, cur + len,
                                                    memory_order_relaxed, memory_order_relaxed));
    msg->buffered += len;
    return true;
}

/* MSG keeps nothing more: its bytes go, and so does their count. */
static void
let_go(struct msg_ctx *msg)
{
    if (msg->raw != NULL && msg->raw->len > 0) {
        /* An empty array of its own: the callbacks after this one still
         * find one, and the memory is returned now. */
        g_byte_array_unref(msg->raw);
        msg->raw = g_byte_array_new();
    }
    atomic_fetch_sub_explicit(&milter_buffered, msg->buffered, memory_order_relaxed);
    msg->buffered = 0;
}

/* Keeps LEN bytes of DATA at the end of MSG's raw copy, or, when the
 * budget has no room for them, lets go of the message: it is deferred. */
static void
keep(struct msg_ctx *msg, const void *data, gsize len)
{
    if (msg->over_budget || msg->too_big)
        return;
    if (!budget_take(msg, len)) {
        msg->over_budget = true;
        let_go(msg);
        return;
    }
    g_byte_array_append(msg->raw, data, (guint)len);
}

/* ---- parses at once ----
 *
 * Reading a message costs several times its size while GMime holds it
 * (about 4.3 times for a big plain-text mail: the stream's copy, the
 * decoded part, the text in UTF-8, the text kept), and what is kept of it
 * lives until its commit is done; parses are CPU and commits are one at a
 * time in the writer, so more of them at once only add their memory up.
 * So a parse and its commit share a second budget of max_buffered_bytes,
 * each taking PARSE_COST times its message; one that does not fit waits
 * for the others to end, and one always runs, however big. */

#define PARSE_COST 4

static GMutex parse_lock;
static GCond parse_done;
static guint64 parse_bytes; /* under parse_lock */

/* Waits for room to parse MSG's bytes; returns what the parse holds, for
 * parse_end(). */
guint64
parse_begin(const struct msg_ctx *msg)
{
    guint64 cost = (guint64)msg->raw->len * PARSE_COST;

    g_mutex_lock(&parse_lock);
    while (parse_bytes > 0 && parse_bytes + cost > msg->cfg->max_buffered_bytes)
        g_cond_wait(&parse_done, &parse_lock);
    parse_bytes += cost;
    g_mutex_unlock(&parse_lock);
    return cost;
}

void
parse_end(guint64 cost)
{
    g_mutex_lock(&parse_lock);
    parse_bytes -= cost;
    g_cond_broadcast(&parse_done);
    g_mutex_unlock(&parse_lock);
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
    let_go(msg);
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
const char *
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
void
set_reply(SMFICTX *ctx, const char *code, const char *xcode, const char *text)
{
    g_autofree char *clean = g_strdup(text);

    g_strdelimit(clean, "\r\n%", ' ');
    milter_io_setreply(ctx, (char *)code, (char *)xcode, clean);
}

static sfsistat
mlfi_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2, unsigned long f3,
               unsigned long *pf0, unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
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
        log_info("%s: tempfail: RCPT %s: more than %d recipients from=<%s>", queue_id(ctx), argv[0],
                 MILTER_MAX_RECIPIENTS, msg->envelope_from);
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
        return refuse_rcpt(ctx, msg, rcpt, "553", "5.6.7", "The sender address is not valid UTF-8",
                           "bad-sender-address", "sender address is not UTF-8");
    if (msg->announced_size > cfg->max_message_size) {
        /* RFC 1870: refused for this recipient, the others may have it;
         * but staff mail meant for support is refused whole at its end
         * (too_big()), so the message is read on as far as its From. */
        msg->support_too_big = true;
        g_autofree char *why =
            g_strdup_printf("message too big size=%" G_GUINT64_FORMAT " limit=%" G_GUINT64_FORMAT,
                            msg->announced_size, cfg->max_message_size);
        return refuse_rcpt(ctx, msg, rcpt, "552", "5.3.4", "Message too big for the support system",
                           "too-big", why);
    }
    /* A ticket address is not something to guess at: a tag that does not
     * verify is refused for this recipient only. */
    enum router_address_tag reply = router_address_ticket(milter_keys, cfg->ticket_prefix,
                                                          cfg->recipient_delimiter, rcpt, &ticket);
    if (reply == ADDRESS_VALID) {
        msg->address_ticket = ticket;
    } else if (reply == ADDRESS_UNTAGGED) {
        enum router_address_tag bounce = router_return_path_ticket(
            milter_keys, cfg->ticket_prefix, cfg->recipient_delimiter, rcpt, &ticket);
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

/* Whether the budget has room, now, for a message of the size MSG
 * announced (BUDGET_START bytes, or max_message_size when that is less,
 * when it announced none): a message that cannot fit is deferred before
 * its data are sent at all. */
#define BUDGET_START 65536
static bool
budget_has_room(const struct msg_ctx *msg)
{
    guint64 want = msg->announced_size > 0 ? msg->announced_size
                                           : MIN(BUDGET_START, msg->cfg->max_message_size);
    guint64 cur = milter_buffered_bytes();

    return cur <= msg->cfg->max_buffered_bytes && want <= msg->cfg->max_buffered_bytes - cur;
}

/* The answer to a message the budget has no room for: 451 4.3.2, counted;
 * the log says so at most once a minute, with how many were deferred. */
sfsistat
budget_deferred(SMFICTX *ctx, const struct msg_ctx *msg, const char *qid)
{
    gint64 now = g_get_monotonic_time();
    gint64 last = atomic_load_explicit(&milter_budget_logged, memory_order_relaxed);

    atomic_fetch_add_explicit(&milter_budget_deferred, 1, memory_order_relaxed);
    stats_count(STAT_TEMPFAIL, "busy-buffers");
    set_reply(ctx, "451", "4.3.2",
              "Support system is busy with other large messages, please try again later");
    if ((last == 0 || now - last >= 60 * G_USEC_PER_SEC) &&
        atomic_compare_exchange_strong(&milter_budget_logged, &last, now)) {
        guint n = atomic_exchange(&milter_budget_deferred, 0);
        log_warning("%s: tempfail: messages in flight keep %" G_GUINT64_FORMAT " bytes of"
                    " max_buffered_bytes=%" G_GUINT64_FORMAT "; %u message(s) deferred with"
                    " 451 4.3.2 since the last such line (one a minute at most) from=<%s>",
                    qid, milter_buffered_bytes(), msg->cfg->max_buffered_bytes, n,
                    msg->envelope_from);
    }
    return SMFIS_TEMPFAIL;
}

static sfsistat
mlfi_data(SMFICTX *ctx)
{
    struct conn_ctx *conn = conn_get(ctx);
    struct msg_ctx *msg = conn != NULL ? conn->msg : NULL;

    if (msg == NULL)
        return SMFIS_TEMPFAIL;
    if (!msg->is_support) {
        /* A staff reply that goes straight to the customer is seen on its
         * way out; only a client staff could use is worth reading on. */
        bool is_trusted =
            msg->auth_login != NULL || config_is_trusted_client(msg->cfg, conn->client_addr);
        if (!is_trusted && !msg->support_too_big)
            return SMFIS_ACCEPT;
        msg->is_outbound = is_trusted;
    }
    if (msg->support_too_big && !msg->is_support) {
        /* Support has refused it already: only its From is of interest. */
        msg->too_big = true;
        msg->raw = g_byte_array_new();
        return SMFIS_CONTINUE;
    }
    /* The MTA waits for this answer (unlike a body chunk's): a message
     * that cannot fit now is deferred before its client sends the data. */
    if (msg->is_support && !budget_has_room(msg))
        return budget_deferred(ctx, msg, queue_id(ctx));
    msg->raw = g_byte_array_sized_new(16384);
    return SMFIS_CONTINUE;
}

/* LEN more bytes of the message went by: kept while it is under
 * max_message_size and the budget has room, else no more is kept. */
static void
grow(struct msg_ctx *msg, const void *data, gsize len)
{
    msg->size += len;
    if (!msg->too_big && msg->size > msg->cfg->max_message_size) {
        msg->too_big = true;
        let_go(msg);
    }
    keep(msg, data, len);
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
    g_autoptr(GByteArray) line = g_byte_array_sized_new(strlen(name) + strlen(value) + 8);
    g_byte_array_append(line, (const guint8 *)name, strlen(name));
    g_byte_array_append(line, (const guint8 *)(msg->leading_space ? ":" : ": "),
                        msg->leading_space ? 1 : 2);
    append_crlf(line, value);
    g_byte_array_append(line, (const guint8 *)"\r\n", 2);
    grow(msg, line->data, line->len);

    /* The fields below are noted for a message too big to keep as well:
     * its From decides its answer, and its X-Ticket-ID headers go. */
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
    else if (g_ascii_strcasecmp(name, "Authentication-Results") == 0 && !msg->seen_received &&
             !msg->too_big) {
        if (msg->top_auth == NULL)
            msg->top_auth = g_ptr_array_new_with_free_func(parser_auth_result_free);
        parser_auth_results(value, msg->top_auth);
    }
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
    if (conn->msg->is_outbound && !conn->msg->support_too_big &&
        !may_be_staff_reply(conn, conn->msg)) {
        conn->msg->is_ignored = true;
        let_go(conn->msg);
        return go_on(conn, SMFIP_NR_EOH);
    }
    grow(conn->msg, "\r\n", 2);
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
    /* The answer to a body chunk is not waited for (SMFIP_NR_BODY), so an
     * oversized message, or one the budget has no room for, is answered
     * at its end; until then we just stop keeping it.  An MTA that does
     * wait hears the deferral now and sends no more. */
    grow(msg, chunk, len);
    if (msg->over_budget && !msg->too_big && !(conn->noreply & SMFIP_NR_BODY))
        return budget_deferred(ctx, msg, queue_id(ctx));
    return go_on(conn, SMFIP_NR_BODY);
}

static sfsistat
mlfi_eom(SMFICTX *ctx)
{
    struct conn_ctx *conn = conn_get(ctx);
    struct msg_ctx *msg = conn != NULL ? conn->msg : NULL;
    sfsistat rc;

    if (msg == NULL || msg->raw == NULL)
        return SMFIS_TEMPFAIL;
    rc = milter_end_of_message(ctx, conn, msg, queue_id(ctx));
    /* The message has its answer: its bytes go back to the budget now,
     * not at the next MAIL FROM of this connection. */
    let_go(msg);
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
