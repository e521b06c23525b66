/*
 * dispatch - the outbox dispatcher thread and the libcurl transports.
 *
 * At-least-once: a row is marked sent only after the relay or webhook
 * accepted it; a crash in between sends it again, with the same
 * Message-ID, so the receiving side can tell.  Retries back off
 * exponentially from retry_base up to retry_max; after give_up seconds, or
 * at once on a permanent refusal, the row fails and the ticket gets an
 * event saying so.
 *
 * Each lane (mail, webhooks) is one thread with one libcurl multi handle:
 * a batch of due rows is sent on easy handles the lane keeps, one transfer
 * at a time for a few rows and up to DISPATCH_PARALLEL at a time for a
 * backlog (a slow relay makes one), and the multi handle's connection
 * cache keeps the connections to the relay open from one row and one
 * batch to the next: a burst of new tickets costs one SMTP transaction
 * per acknowledgement on a connection that is already there, not a thread
 * and a connection per row.  A connection the relay closed while we were
 * idle is noticed by libcurl and made again; one idle for longer than
 * CONNECTION_MAX_IDLE is not reused.
 *
 * After a batch that was not full the lane waits DISPATCH_GATHER_MS for
 * more rows to be committed, so that in a burst one read of the outbox and
 * one write of the outcomes serve many rows; an acknowledgement leaves
 * that much later, and a full batch (a backlog) goes on at once.
 *
 * Several daemons may share the database (one per MX host): a lane claims
 * its batch in a write transaction (store_outbox_claim: the rows are
 * this daemon's for [outbound] lease seconds), sends it, and records the
 * outcomes only where the claim is still its own.  The rows of a daemon
 * that died are claimed by another once their lease has run out.  The
 * lease must outlast a batch: at most DISPATCH_BATCH / DISPATCH_PARALLEL
 * transfers one after another, each cut off after 70 s.  Outcomes whose
 * commit failed are kept and recorded before the next claim, so that a
 * short database outage sends nothing twice.
 */
#include <string.h>

#include <curl/curl.h>

#include "outbound/dispatch.h"
#include "router/address.h"
#include "router/event.h"
#include "store/outbox.h"
#include "store/tickets.h"
#include "store/writer.h"
#include "util/log.h"
#include "util/timefmt.h"

/* Rows read at once, and sent at once of them: more would only queue at
 * the relay. */
#define DISPATCH_BATCH 16
#define DISPATCH_PARALLEL 4
#define DISPATCH_ROWS_PER_TRANSFER 4
#define DISPATCH_GATHER_MS 25
#define DISPATCH_IDLE_WAIT (3 * G_TIME_SPAN_SECOND)
/* Seconds a kept connection may sit idle and still be used; Postfix's
 * smtpd waits 300 s for the next command. */
#define CONNECTION_MAX_IDLE 60L

/* What one lane sends with: its multi handle (and through it the kept
 * connections) and the easy handles it reuses. Used by one thread only. */
struct sender {
    CURLM *multi;
    CURL *easy[DISPATCH_PARALLEL];
};

/* Mail and webhooks go out in lanes of their own, each a thread that sends
 * a batch and waits for all of it: a webhook endpoint that takes a minute
 * to answer must not hold the acknowledgements back. */
struct lane {
    struct dispatcher *d;
    const char *transport;
    struct store *reader;
    struct sender sender;
    struct batch *unrecorded; /* outcomes whose commit failed, to record first */
    GThread *thread;
    bool kicked; /* under d->lock */
};

static const char *const lane_transports[] = { "smtp", "webhook" };
#define LANES G_N_ELEMENTS(lane_transports)

struct dispatcher {
    GMutex lock;
    GCond wake;
    bool stopping;
    char *claimant; /* this daemon's name in the outbox's claims */
    struct config *cfg;
    struct store_writer *writer;
    struct lane lanes[LANES];
};

void
dispatch_global_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* ---- one attempt ---- */

/* One row on its way: what libcurl reads from and writes to while the
 * transfer runs, and what came of it. */
struct attempt {
    const struct config *cfg;
    struct outbox_row *row;
    enum delivery_outcome outcome;
    char *error;
    gint64 done_us;
    /* While in flight: */
    const char *data;
    gsize len;
    gsize pos;
    char *from;
    struct curl_slist *list; /* the RCPTs, or the webhook's headers */
    char errbuf[CURL_ERROR_SIZE];
};

static size_t
upload_read(char *buf, size_t size, size_t nmemb, void *user)
{
    struct attempt *a = user;
    size_t n = MIN(size * nmemb, a->len - a->pos);

    memcpy(buf, a->data + a->pos, n);
    a->pos += n;
    return n;
}

static size_t
discard(char *buf, size_t size, size_t nmemb, void *user)
{
    return size * nmemb;
}

static void
prepare_smtp(CURL *curl, struct attempt *a)
{
    const struct outbox_row *row = a->row;

    a->data = row->body;
    a->len = strlen(row->body);
    a->from = g_strdup_printf("<%s>", row->mail_from);
    /* One RCPT per stored recipient: the list is never split or joined. */
    for (char **p = row->recipients; p != NULL && *p != NULL; p++) {
        g_autofree char *addr = g_strdup_printf("<%s>", *p);
        a->list = curl_slist_append(a->list, addr);
    }
    curl_easy_setopt(curl, CURLOPT_URL, a->cfg->smtp_url);
    curl_easy_setopt(curl, CURLOPT_MAIL_FROM, a->from);
    curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, a->list);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, upload_read);
    curl_easy_setopt(curl, CURLOPT_READDATA, a);
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    /* One recipient the relay refuses (a staff address that left) must not
     * cost the others their notice; only when all are refused does the
     * row fail. libcurl before 8.2 spells the option with three Ls. */
#if LIBCURL_VERSION_NUM >= 0x080200
    curl_easy_setopt(curl, CURLOPT_MAIL_RCPT_ALLOWFAILS, 1L);
#elif LIBCURL_VERSION_NUM >= 0x074500
    curl_easy_setopt(curl, CURLOPT_MAIL_RCPT_ALLLOWFAILS, 1L);
#endif
}

static void
prepare_webhook(CURL *curl, struct attempt *a)
{
    a->list = curl_slist_append(NULL, "Content-Type: application/json");
    curl_easy_setopt(curl, CURLOPT_URL, a->row->recipients[0]);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, a->row->body);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, a->list);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
}

static bool
is_webhook(const struct outbox_row *row)
{
    return strcmp(row->transport, "webhook") == 0;
}

static bool
refuse_address(struct attempt *a, const char *what, const char *addr)
{
    g_autofree char *shown = g_strescape(addr, NULL);

    a->error = g_strdup_printf("%s \"%s\" is not a plain address; not sent", what, shown);
    a->outcome = DELIVERY_FAILED;
    return false;
}

/* Sets CURL up for A from scratch (the handle keeps nothing of the last
 * row but its connection). False when the row cannot be sent at all. */
static bool
attempt_prepare(CURL *curl, struct attempt *a)
{
    if (a->row->recipients == NULL || a->row->recipients[0] == NULL) {
        a->error = g_strdup("the outbox row has no recipient");
        a->outcome = DELIVERY_FAILED;
        return false;
    }
    /* The router writes only plain addresses; a row that holds anything
     * else (an old row, a hand-edited database) is not handed to libcurl,
     * which would put it into an SMTP command as it is. */
    if (!is_webhook(a->row)) {
        for (char **p = a->row->recipients; *p != NULL; p++)
            if (!router_is_plain_address(*p))
                return refuse_address(a, "recipient", *p);
        if (*a->row->mail_from != '\0' && !router_is_plain_address(a->row->mail_from))
            return refuse_address(a, "return path", a->row->mail_from);
    }
    curl_easy_reset(curl);
    a->errbuf[0] = '\0';
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, a->errbuf);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(curl, CURLOPT_MAXAGE_CONN, CONNECTION_MAX_IDLE);
    curl_easy_setopt(curl, CURLOPT_PRIVATE, a);
    if (is_webhook(a->row))
        prepare_webhook(curl, a);
    else
        prepare_smtp(curl, a);
    return true;
}

/* The outcome of A's transfer, from libcurl's result RC. */
static void
attempt_finish(CURL *curl, struct attempt *a, CURLcode rc)
{
    long code = 0;

    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
    if (is_webhook(a->row)) {
        if (rc == CURLE_OK && code >= 200 && code < 300)
            a->outcome = DELIVERY_SENT;
        /* A webhook that says "bad request" will say it again. */
        else if (rc == CURLE_OK && code >= 400 && code < 500 && code != 408 && code != 429)
            a->outcome = DELIVERY_FAILED;
        else
            a->outcome = DELIVERY_RETRY;
    } else if (rc == CURLE_OK) {
        a->outcome = DELIVERY_SENT;
    } else if (rc == CURLE_LOGIN_DENIED) {
        /* A relay that refuses our login is misconfigured, not the message
         * undeliverable: keep it until the admin has fixed the relay. */
        a->outcome = DELIVERY_RETRY;
    } else {
        a->outcome = code >= 500 && code < 600 ? DELIVERY_FAILED : DELIVERY_RETRY;
    }
    if (a->outcome != DELIVERY_SENT)
        a->error = g_strdup_printf("%s%s(response %ld)", a->errbuf, *a->errbuf ? " " : "", code);
    a->done_us = g_get_real_time();
    curl_slist_free_all(a->list);
    a->list = NULL;
    g_clear_pointer(&a->from, g_free);
}

static bool
sender_init(struct sender *s)
{
    s->multi = curl_multi_init();
    if (s->multi == NULL)
        return false;
    for (guint i = 0; i < DISPATCH_PARALLEL; i++)
        if ((s->easy[i] = curl_easy_init()) == NULL)
            return false;
    return true;
}

static void
sender_clear(struct sender *s)
{
    for (guint i = 0; i < DISPATCH_PARALLEL; i++)
        if (s->easy[i] != NULL)
            curl_easy_cleanup(s->easy[i]);
    /* Last: it closes the kept connections (SMTP says QUIT). */
    if (s->multi != NULL)
        curl_multi_cleanup(s->multi);
    memset(s, 0, sizeof(*s));
}

/* Starts A on EASY, a handle of S that is not in use; returns whether a
 * transfer was started (a row that cannot be sent is finished at once). */
static bool
sender_start(struct sender *s, CURL *easy, struct attempt *a)
{
    if (!attempt_prepare(easy, a)) {
        a->done_us = g_get_real_time();
        return false;
    }
    if (curl_multi_add_handle(s->multi, easy) != CURLM_OK) {
        a->error = g_strdup("cannot start libcurl");
        a->outcome = DELIVERY_RETRY;
        a->done_us = g_get_real_time();
        curl_slist_free_all(a->list);
        a->list = NULL;
        g_clear_pointer(&a->from, g_free);
        return false;
    }
    return true;
}

/* Sends every attempt of ATTEMPTS and fills in their outcomes: one
 * transfer at a time for every DISPATCH_ROWS_PER_TRANSFER rows, at most
 * DISPATCH_PARALLEL. Each transfer on a connection of its own costs more
 * than the wait for the one before it when the relay is quick. */
static void
sender_run(struct sender *s, GPtrArray *attempts)
{
    CURL *idle[DISPATCH_PARALLEL];
    guint n_idle = 0, next = 0, running = 0;
    guint parallel =
        CLAMP((attempts->len + DISPATCH_ROWS_PER_TRANSFER - 1) / DISPATCH_ROWS_PER_TRANSFER, 1,
              DISPATCH_PARALLEL);

    /* The first handles first: the same one, and its connection, again. */
    for (guint i = parallel; i > 0; i--)
        idle[n_idle++] = s->easy[i - 1];
    while (next < attempts->len || running > 0) {
        while (n_idle > 0 && next < attempts->len) {
            if (sender_start(s, idle[n_idle - 1], g_ptr_array_index(attempts, next))) {
                n_idle--;
                running++;
            }
            next++;
        }
        if (running == 0)
            break;
        int still = 0;
        curl_multi_perform(s->multi, &still);
        CURLMsg *m;
        int left;
        while ((m = curl_multi_info_read(s->multi, &left)) != NULL) {
            struct attempt *a = NULL;
            if (m->msg != CURLMSG_DONE)
                continue;
            CURL *easy = m->easy_handle;
            CURLcode rc = m->data.result;
            curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&a);
            curl_multi_remove_handle(s->multi, easy);
            attempt_finish(easy, a, rc);
            idle[n_idle++] = easy;
            running--;
        }
        if (running > 0 && still > 0)
            curl_multi_poll(s->multi, NULL, 0, 1000, NULL);
    }
}

enum delivery_outcome
dispatch_send(const struct config *cfg, const struct outbox_row *row, char **error_text)
{
    struct sender s = { 0 };
    g_autoptr(GPtrArray) attempts = g_ptr_array_new();
    struct attempt a = { .cfg = cfg, .row = (struct outbox_row *)row };

    if (!sender_init(&s)) {
        sender_clear(&s);
        *error_text = g_strdup("cannot start libcurl");
        return DELIVERY_RETRY;
    }
    g_ptr_array_add(attempts, &a);
    sender_run(&s, attempts);
    sender_clear(&s);
    *error_text = a.error;
    return a.outcome;
}

/* ---- a batch ---- */

struct batch {
    GPtrArray *attempts; /* struct attempt* */
    GDateTime *now;      /* a reference */
    struct config *cfg;  /* a reference: the attempts point into it */
    const char *claimant;
};

static void
attempt_free(gpointer p)
{
    struct attempt *a = p;

    store_outbox_row_free(a->row);
    g_free(a->error);
    g_free(a);
}

static struct batch *
batch_new(struct config *cfg, GDateTime *now, const char *claimant)
{
    struct batch *b = g_new0(struct batch, 1);

    b->attempts = g_ptr_array_new_with_free_func(attempt_free);
    b->now = g_date_time_ref(now);
    b->cfg = config_ref(cfg);
    b->claimant = claimant;
    return b;
}

static void
batch_free(struct batch *b)
{
    if (b == NULL)
        return;
    g_ptr_array_unref(b->attempts);
    g_date_time_unref(b->now);
    config_unref(b->cfg);
    g_free(b);
}

/* When to try ROW again: retry_base doubled per attempt, at most retry_max,
 * counted from the end of the attempt that failed (a slow endpoint must
 * not eat the pause) and rounded up to the outbox's whole seconds. */
static GDateTime *
next_attempt(const struct config *cfg, const struct outbox_row *row, gint64 done_us)
{
    guint64 wait = cfg->retry_base;
    g_autoptr(GDateTime) done =
        g_date_time_new_from_unix_utc((done_us + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC);

    for (int i = 0; i < row->attempts && wait < cfg->retry_max; i++)
        wait *= 2;
    return g_date_time_add_seconds(done, (gdouble)MIN(wait, (guint64)cfg->retry_max));
}

static bool
gave_up(const struct config *cfg, const struct outbox_row *row, GDateTime *now)
{
    g_autoptr(GDateTime) created = timefmt_parse(row->created_at);

    return created != NULL &&
           g_date_time_difference(now, created) > (GTimeSpan)cfg->give_up * G_TIME_SPAN_SECOND;
}

static char *
event_detail(const struct outbox_row *row, const char *error)
{
    struct event *e = event_new(EVENT_MAIL_SENT, NULL);
    char *text;

    event_set_strv(e, "to", (const char *const *)row->recipients);
    if (row->template_name != NULL)
        event_set_string(e, "template", row->template_name);
    if (row->message_id != NULL)
        event_set_string(e, "message_id", row->message_id);
    if (error != NULL)
        event_set_string(e, "error", error);
    text = event_detail_text(e);
    event_free(e);
    return text;
}

/* Writer job: records every outcome of a batch, and the events. */
static bool
record_batch(struct store *st, void *data, GError **error)
{
    struct batch *b = data;
    g_autofree char *now = timefmt_iso8601(b->now);

    for (guint i = 0; i < b->attempts->len; i++) {
        struct attempt *a = g_ptr_array_index(b->attempts, i);
        const struct outbox_row *r = a->row;
        g_autofree char *detail = event_detail(r, a->error);
        bool ok = true, mine = true;

        if (a->outcome == DELIVERY_RETRY && gave_up(b->cfg, r, b->now))
            a->outcome = DELIVERY_FAILED;
        switch (a->outcome) {
        case DELIVERY_SENT:
            ok = store_outbox_mark_sent(st, r->id, b->claimant, now, a->done_us, &mine, error) &&
                 (!mine || r->ticket_id == 0 ||
                  store_event_insert(st, r->ticket_id, now, event_type_name(EVENT_MAIL_SENT), NULL,
                                     detail, error));
            break;
        case DELIVERY_RETRY: {
            g_autoptr(GDateTime) next = next_attempt(b->cfg, r, a->done_us);
            g_autofree char *next_at = timefmt_iso8601(next);
            ok = store_outbox_mark_retry(st, r->id, b->claimant, next_at, a->error, &mine, error);
            break;
        }
        case DELIVERY_FAILED:
            ok = store_outbox_mark_failed(st, r->id, b->claimant, now, a->error, &mine, error) &&
                 (!mine || r->ticket_id == 0 ||
                  store_event_insert(st, r->ticket_id, now, event_type_name(EVENT_DELIVERY_FAILED),
                                     NULL, detail, error));
            break;
        }
        if (!ok)
            return false;
        if (!mine)
            log_warning("outbox=%" G_GINT64_FORMAT " lease ran out before the outcome was"
                        " recorded; another daemon has the row now and may send it again"
                        " (raise [outbound] lease)",
                        r->id);
    }
    return true;
}

static void
log_outcome(const struct attempt *a)
{
    const struct outbox_row *r = a->row;
    g_autofree char *to = g_strjoinv(">,<", r->recipients);

    switch (a->outcome) {
    case DELIVERY_SENT:
        log_info("outbox=%" G_GINT64_FORMAT " status=sent to=<%s> template=%s message-id=<%s>",
                 r->id, to, r->template_name != NULL ? r->template_name : "-",
                 r->message_id != NULL ? r->message_id : "");
        break;
    case DELIVERY_RETRY:
        log_warning("outbox=%" G_GINT64_FORMAT " status=deferred to=<%s> attempt=%d: %s", r->id, to,
                    r->attempts + 1, a->error);
        break;
    case DELIVERY_FAILED:
        log_error("outbox=%" G_GINT64_FORMAT " status=failed to=<%s>: %s", r->id, to, a->error);
        break;
    }
}

/* Writer job: claims a batch of due rows. */
struct claim {
    const char *now;
    const char *transport;
    const char *claimant;
    const char *until;
    GPtrArray *rows; /* struct outbox_row*, once claimed */
};

static bool
claim_job(struct store *st, void *data, GError **error)
{
    struct claim *c = data;

    /* A batch that lost a race runs its jobs again: the rows of the run
     * before were not claimed. */
    g_clear_pointer(&c->rows, g_ptr_array_unref);
    c->rows =
        store_outbox_claim(st, c->now, c->transport, DISPATCH_BATCH, c->claimant, c->until, error);
    return c->rows != NULL;
}

/* Claims due rows of TRANSPORT for CLAIMANT, sends them with S, records
 * the outcomes.  A batch whose outcomes could not be committed (the
 * database went away) is kept in *UNRECORDED and recorded first the next
 * time: the rows stay this daemon's unless another claimed them after the
 * lease, so their recipients get no second copy. */
static int
run_batch(struct config *cfg, const char *claimant, struct sender *s, const char *transport,
          struct store_writer *writer, GDateTime *now, struct batch **unrecorded, GError **error)
{
    g_autofree char *now_text = timefmt_iso8601(now);
    g_autoptr(GDateTime) until = g_date_time_add_seconds(now, cfg->lease);
    g_autofree char *until_text = timefmt_iso8601(until);
    struct claim c = {
        .now = now_text,
        .transport = transport,
        .claimant = claimant,
        .until = until_text,
    };
    g_autoptr(GPtrArray) rows = NULL;
    struct batch *b;
    int n;

    if (*unrecorded != NULL) {
        if (!store_writer_run(writer, record_batch, *unrecorded, error))
            return -1;
        g_clear_pointer(unrecorded, batch_free);
    }
    /* Not committed: not ours, not to be sent. */
    if (!store_writer_run(writer, claim_job, &c, error)) {
        g_clear_pointer(&c.rows, g_ptr_array_unref);
        return -1;
    }
    rows = g_steal_pointer(&c.rows);
    if (rows->len == 0)
        return 0;
    b = batch_new(cfg, now, claimant);
    for (guint i = 0; i < rows->len; i++) {
        struct attempt *a = g_new0(struct attempt, 1);
        a->cfg = b->cfg;
        /* The attempt owns the row from here on. */
        a->row = g_steal_pointer(&rows->pdata[i]);
        g_ptr_array_add(b->attempts, a);
    }
    sender_run(s, b->attempts);
    for (guint i = 0; i < b->attempts->len; i++)
        log_outcome(g_ptr_array_index(b->attempts, i));
    if (!store_writer_run(writer, record_batch, b, error)) {
        *unrecorded = b;
        return -1;
    }
    n = (int)b->attempts->len;
    batch_free(b);
    return n;
}

int
dispatch_run_once(struct config *cfg, struct store_writer *writer, GDateTime *now, GError **error)
{
    g_autofree char *claimant = store_outbox_claimant();
    struct sender s = { 0 };
    struct batch *unrecorded = NULL;
    int total = 0, n = 0;

    if (!sender_init(&s)) {
        sender_clear(&s);
        g_set_error(error, STORE_ERROR, STORE_ERROR_FAILED, "cannot start libcurl");
        return -1;
    }
    for (guint i = 0; i < LANES && n >= 0; i++)
        while ((n = run_batch(cfg, claimant, &s, lane_transports[i], writer, now, &unrecorded,
                              error)) > 0)
            total += n;
    batch_free(unrecorded);
    sender_clear(&s);
    return n < 0 ? -1 : total;
}

/* ---- the thread ---- */

/* Microseconds until the next pending row is due, capped at a few seconds:
 * rows queued by another process (ticketctl tick) get no kick, and one
 * indexed query every few seconds costs nothing measurable. */
static gint64
time_to_next(struct store *reader, const char *transport, GDateTime *now)
{
    g_autofree char *next = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(GDateTime) when = NULL;
    gint64 wait;

    if (!store_outbox_next_due(reader, transport, &next, &error) || next == NULL)
        return DISPATCH_IDLE_WAIT;
    when = timefmt_parse(next);
    if (when == NULL)
        return DISPATCH_IDLE_WAIT;
    wait = g_date_time_difference(when, now);
    return CLAMP(wait, 0, DISPATCH_IDLE_WAIT);
}

static gpointer
lane_main(gpointer data)
{
    struct lane *l = data;
    struct dispatcher *d = l->d;

    g_mutex_lock(&d->lock);
    while (!d->stopping) {
        struct config *cfg = config_ref(d->cfg);
        g_autoptr(GDateTime) now = g_date_time_new_now_utc();
        g_autoptr(GError) error = NULL;
        int n;

        l->kicked = false;
        g_mutex_unlock(&d->lock);
        n = run_batch(cfg, d->claimant, &l->sender, l->transport, d->writer, now, &l->unrecorded,
                      &error);
        if (n < 0)
            log_error("outbox: %s", error != NULL ? error->message : "cannot read the outbox");
        config_unref(cfg);
        g_mutex_lock(&d->lock);
        if (d->stopping)
            break;
        if (n > 0) {
            /* A full batch: more are waiting. Else let some gather. */
            if (n < DISPATCH_BATCH) {
                gint64 until = g_get_monotonic_time() + DISPATCH_GATHER_MS * 1000;
                while (!d->stopping && g_cond_wait_until(&d->wake, &d->lock, until))
                    ;
            }
            continue;
        }
        if (l->kicked)
            continue;
        gint64 wait = n < 0 ? 5 * G_TIME_SPAN_SECOND : time_to_next(l->reader, l->transport, now);
        gint64 until = g_get_monotonic_time() + wait;
        while (!l->kicked && !d->stopping)
            if (!g_cond_wait_until(&d->wake, &d->lock, until))
                break;
    }
    g_mutex_unlock(&d->lock);
    return NULL;
}

static void
lanes_close(struct dispatcher *d)
{
    for (guint i = 0; i < LANES; i++) {
        d->lanes[i].reader = store_close(d->lanes[i].reader);
        g_clear_pointer(&d->lanes[i].unrecorded, batch_free);
        sender_clear(&d->lanes[i].sender);
    }
}

struct dispatcher *
dispatch_start(struct config *cfg, struct store_writer *writer, GError **error)
{
    struct dispatcher *d = g_new0(struct dispatcher, 1);

    d->claimant = store_outbox_claimant();
    for (guint i = 0; i < LANES; i++) {
        d->lanes[i].d = d;
        d->lanes[i].transport = lane_transports[i];
        d->lanes[i].reader = store_open(cfg->database, STORE_READ_ONLY, cfg->busy_timeout, error);
        bool ok = d->lanes[i].reader != NULL;
        if (ok && !sender_init(&d->lanes[i].sender)) {
            g_set_error(error, STORE_ERROR, STORE_ERROR_FAILED, "cannot start libcurl");
            ok = false;
        }
        if (!ok) {
            lanes_close(d);
            g_free(d->claimant);
            g_free(d);
            return NULL;
        }
    }
    g_mutex_init(&d->lock);
    g_cond_init(&d->wake);
    d->cfg = config_ref(cfg);
    d->writer = writer;
    log_info("outbox: claims rows as %s for %u s", d->claimant, cfg->lease);
    for (guint i = 0; i < LANES; i++)
        d->lanes[i].thread = g_thread_new("outbox", lane_main, &d->lanes[i]);
    return d;
}

void
dispatch_kick(struct dispatcher *d)
{
    if (d == NULL)
        return;
    g_mutex_lock(&d->lock);
    /* Without a webhook_url no commit queues a webhook: that lane finds
     * rows left from an earlier config on its own, within seconds. */
    for (guint i = 0; i < LANES; i++)
        if (strcmp(d->lanes[i].transport, "webhook") != 0 || d->cfg->webhook_url != NULL)
            d->lanes[i].kicked = true;
    g_cond_broadcast(&d->wake);
    g_mutex_unlock(&d->lock);
}

void
dispatch_set_config(struct dispatcher *d, struct config *cfg)
{
    struct config *old;

    g_mutex_lock(&d->lock);
    old = d->cfg;
    d->cfg = config_ref(cfg);
    g_mutex_unlock(&d->lock);
    config_unref(old);
}

struct dispatcher *
dispatch_stop(struct dispatcher *d)
{
    if (d == NULL)
        return NULL;
    g_mutex_lock(&d->lock);
    d->stopping = true;
    g_cond_broadcast(&d->wake);
    g_mutex_unlock(&d->lock);
    for (guint i = 0; i < LANES; i++)
        g_thread_join(d->lanes[i].thread);
    lanes_close(d);
    config_unref(d->cfg);
    g_free(d->claimant);
    g_mutex_clear(&d->lock);
    g_cond_clear(&d->wake);
    g_free(d);
    return NULL;
}
