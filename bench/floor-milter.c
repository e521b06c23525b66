/*
 * floor-milter - the least a milter doing ticket-milter's job could cost:
 * it reads each message, stores it durably before its reply, tags it and
 * sends its acknowledgement to the relay itself, and does nothing else (no
 * parsing, no decisions, no templates, no search index, no events, no
 * timers).  bench/throughput.sh runs it (floor-SOCK) to show how much of
 * ticket-milter's CPU per new ticket the job itself takes.
 *
 *   floor-milter -d DB_PATH -r HOST:PORT SOCKET   e.g. unix:/run/floor.sock
 *
 * The milter threads negotiate as ticket-milter and noop-milter -c do
 * (bench/content-steps.h: no HELO, no unknown commands, no replies to the
 * connect, the headers and the body), and keep each message as
 * milter/callbacks.c keeps it: the envelope sender and recipients, every
 * header as "Name: value\r\n", the body, in one buffer.  At its end a
 * message goes to the one writer thread, and the milter thread waits for
 * its commit before it accepts the message with ticket-milter's edits (an
 * X-Ticket-ID header added, the Subject changed).  The writer takes every
 * job waiting, at most WRITER_MAX_BATCH, into one transaction (group
 * commit, as store/writer.c): for a message a row in messages and a row in
 * outbox holding its acknowledgement (about 1 KB, to the envelope sender,
 * In-Reply-To its Message-ID); then COMMIT, with ticket-milter's SQLite
 * settings (WAL, synchronous=FULL: on disk before the 250).  The committed
 * acknowledgements go to the one sender thread, which sends each in an
 * SMTP transaction of its own on one libcurl handle it keeps, and with it
 * the connection to the relay; then it marks the rows it sent with one
 * UPDATE, a job for the writer as the dispatcher's outcomes are in
 * ticket-milter (outbound/dispatch.c): it shares the writer's next commit
 * with the messages waiting, and is a transaction of its own only when
 * none waits.
 *
 * Owns the database at DB_PATH (its tables are made when missing) and the
 * socket: a unix one is made for the group postfix (mode 0660), as
 * ticket-milter's is in a deployment.
 *
 * Edge cases: a message with no Message-ID is acknowledged without an
 * In-Reply-To; one over MESSAGE_MAX bytes is not kept and is deferred.
 * Every message is acknowledged, a bounce too (the relay refuses the
 * null recipient, which is said on stderr): the benchmark sends none.  At
 * a stop (SIGTERM) the acknowledgements queued are sent and marked before
 * the writer ends; a message still in flight then is not waited for.
 *
 * On failure: a setup that fails (the database, libcurl, the socket) says
 * so on stderr and exits 1.  A batch that does not commit defers each of
 * its messages (SMFIS_TEMPFAIL) with a line on stderr saying "tempfail";
 * an acknowledgement the relay does not take stays pending, said on
 * stderr.  Nothing is tried again: it is a benchmark, and its checks
 * count what is missing.
 */
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <glib.h>
#include <libmilter/mfapi.h>
#include <sqlite3.h>

#include "content-steps.h"

/* Jobs in one transaction, as store/writer.c takes them. */
#define WRITER_MAX_BATCH 64
/* Acknowledgements sent before their rows are marked: the dispatcher's
 * batch (outbound/dispatch.c). */
#define SENDER_MAX_BATCH 16
/* The most a message may keep: ticket-milter's default max_message_size. */
#define MESSAGE_MAX (25 * 1024 * 1024)
/* ticket-milter's default busy_timeout; nothing else writes here. */
#define BUSY_TIMEOUT_MS 2000
/* What the acknowledgements say they are from. */
#define ACK_FROM "support@example.com"
#define ACK_HOST "tickets.test.example"
/* As long as ticket-milter's signed reply address. */
#define ACK_REPLY_TO "support+tkt-1.00000000000000000000000000000000@example.com"

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS messages (id INTEGER PRIMARY KEY, sender TEXT,"
    " recipients TEXT, raw BLOB, created_at TEXT);"
    "CREATE TABLE IF NOT EXISTS outbox (id INTEGER PRIMARY KEY, message_id INTEGER,"
    " recipient TEXT, body TEXT, status TEXT DEFAULT 'pending');";

/* A message from MAIL FROM to its end: the milter thread's. */
struct message {
    char *sender;        /* the envelope sender, without its <> */
    GString *recipients; /* the envelope recipients, ", " between them */
    GByteArray *raw;     /* the headers and the body, as they came */
    char *message_id;    /* the Message-ID header's value, or NULL */
    char *subject;       /* the Subject header's value, or NULL */
    bool is_too_big;
};

/* An acknowledgement on its way: made by the milter thread, the sender's
 * once its row is committed. */
struct ack {
    gint64 id; /* its outbox row */
    char *rcpt;
    char *body;
};

enum job_kind {
    JOB_STORE, /* a message and its acknowledgement */
    JOB_MARK,  /* acknowledgements sent */
    JOB_STOP
};

/* One thing for the writer to do; its owner waits for it to be done. */
struct job {
    enum job_kind kind;
    const struct message *msg; /* JOB_STORE */
    struct ack *ack;           /* JOB_STORE: the sender's once committed, then NULL */
    const char *sent_ids;      /* JOB_MARK: a JSON array of outbox ids */
    bool is_done;
    bool is_ok;
    char *error; /* when not ok: SQLite's words */
    GMutex lock;
    GCond cond;
};

/* The writer's connection and statements: its thread's alone once it runs. */
struct writer {
    sqlite3 *db;
    sqlite3_stmt *insert_message;
    sqlite3_stmt *insert_ack;
    sqlite3_stmt *mark_sent;
    GAsyncQueue *queue;
    GThread *thread;
};

/* The sender's handle (and through it the connection): its thread's. */
struct sender {
    CURL *curl;
    char *url;
    GAsyncQueue *queue;
    GThread *thread;
};

static struct writer writer;
static struct sender sender;
static struct job writer_stop = { .kind = JOB_STOP };
static struct ack sender_stop;
static gint acks_made;

static struct message *
message_free(struct message *msg)
{
    if (msg == NULL)
        return NULL;
    g_free(msg->sender);
    g_string_free(msg->recipients, TRUE);
    g_byte_array_unref(msg->raw);
    g_free(msg->message_id);
    g_free(msg->subject);
    g_free(msg);
    return NULL;
}

static struct ack *
ack_free(struct ack *ack)
{
    if (ack == NULL)
        return NULL;
    g_free(ack->rcpt);
    g_free(ack->body);
    g_free(ack);
    return NULL;
}

/* Takes what waits in QUEUE into BATCH: at least one item, waited for,
 * and at most MAX.  STOP, which ends the queue, is not taken: it sets
 * *IS_STOPPING.  Returns how many were taken. */
static guint
take_batch(GAsyncQueue *queue, gconstpointer stop, gpointer *batch, guint max, bool *is_stopping)
{
    gpointer item = g_async_queue_pop(queue);
    guint n = 0;

    while (item != NULL) {
        if (item == stop) {
            *is_stopping = true;
            break;
        }
        batch[n++] = item;
        item = n < max ? g_async_queue_try_pop(queue) : NULL;
    }
    return n;
}

/* ---- the writer ---- */

/* Hands JOB to the writer and waits until it is committed or failed. */
static bool
writer_run(struct job *job)
{
    g_mutex_init(&job->lock);
    g_cond_init(&job->cond);
    g_async_queue_push(writer.queue, job);
    g_mutex_lock(&job->lock);
    while (!job->is_done)
        g_cond_wait(&job->cond, &job->lock);
    g_mutex_unlock(&job->lock);
    g_mutex_clear(&job->lock);
    g_cond_clear(&job->cond);
    return job->is_ok;
}

static void
job_finish(struct job *job, const char *error)
{
    g_mutex_lock(&job->lock);
    job->is_ok = error == NULL;
    job->error = g_strdup(error);
    job->is_done = true;
    g_cond_signal(&job->cond);
    g_mutex_unlock(&job->lock);
}

/* Runs S to its end; false when it failed.  Reset either way, so that it
 * can run again with new bindings. */
static bool
step_once(sqlite3_stmt *s)
{
    int rc = sqlite3_step(s);

    sqlite3_reset(s);
    return rc == SQLITE_DONE;
}

static bool
store_message(struct job *job)
{
    const struct message *msg = job->msg;
    sqlite3_stmt *s = writer.insert_message;
    gint64 id;

    sqlite3_bind_text(s, 1, msg->sender, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, msg->recipients->str, (int)msg->recipients->len, SQLITE_STATIC);
    sqlite3_bind_blob(s, 3, msg->raw->data, (int)msg->raw->len, SQLITE_STATIC);
    if (!step_once(s))
        return false;
    id = sqlite3_last_insert_rowid(writer.db);
    s = writer.insert_ack;
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_text(s, 2, job->ack->rcpt, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, job->ack->body, -1, SQLITE_STATIC);
    if (!step_once(s))
        return false;
    job->ack->id = sqlite3_last_insert_rowid(writer.db);
    return true;
}

static bool
mark_sent(const struct job *job)
{
    sqlite3_bind_text(writer.mark_sent, 1, job->sent_ids, -1, SQLITE_STATIC);
    return step_once(writer.mark_sent);
}

/* Runs the N jobs of BATCH in one transaction and finishes every one:
 * all of them are committed or none.  The acknowledgements of the
 * messages committed go to the sender. */
static void
writer_batch(gpointer *batch, guint n)
{
    g_autofree char *error = NULL;
    bool ok = sqlite3_exec(writer.db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK;

    for (guint i = 0; ok && i < n; i++) {
        struct job *job = batch[i];
        ok = job->kind == JOB_STORE ? store_message(job) : mark_sent(job);
    }
    if (ok)
        ok = sqlite3_exec(writer.db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK;
    if (!ok) {
        error = g_strdup(sqlite3_errmsg(writer.db));
        if (!sqlite3_get_autocommit(writer.db))
            sqlite3_exec(writer.db, "ROLLBACK", NULL, NULL, NULL);
    }
    for (guint i = 0; i < n; i++) {
        struct job *job = batch[i];
        if (ok && job->kind == JOB_STORE)
            g_async_queue_push(sender.queue, g_steal_pointer(&job->ack));
        job_finish(job, error);
    }
}

static gpointer
writer_main(gpointer data)
{
    gpointer batch[WRITER_MAX_BATCH];
    bool is_stopping = false;

    (void)data;
    while (!is_stopping) {
        guint n = take_batch(writer.queue, &writer_stop, batch, WRITER_MAX_BATCH, &is_stopping);

        if (n > 0)
            writer_batch(batch, n);
    }
    return NULL;
}

static bool
prepare(sqlite3_stmt **s, const char *sql)
{
    if (sqlite3_prepare_v3(writer.db, sql, -1, SQLITE_PREPARE_PERSISTENT, s, NULL) == SQLITE_OK)
        return true;
    fprintf(stderr, "floor-milter: cannot prepare \"%s\": %s\n", sql, sqlite3_errmsg(writer.db));
    return false;
}

/* Opens PATH as ticket-milter opens its database for writing
 * (store/db-sqlite.c, store/store.c), makes the tables and prepares the
 * statements; false, said on stderr, when any of it fails. */
static bool
writer_open(const char *path)
{
    static const char *const settings[] = {
        "PRAGMA journal_mode = WAL",
        /* A commit is on disk (the WAL fsync'd) before the message's 250. */
        "PRAGMA synchronous = FULL",
        "PRAGMA foreign_keys = ON",
        "PRAGMA temp_store = MEMORY",
        schema,
    };
    char *msg = NULL;

    if (sqlite3_open_v2(path, &writer.db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        fprintf(stderr, "floor-milter: cannot open the database %s: %s\n", path,
                writer.db != NULL ? sqlite3_errmsg(writer.db) : "out of memory");
        return false;
    }
    sqlite3_extended_result_codes(writer.db, 1);
    sqlite3_busy_timeout(writer.db, BUSY_TIMEOUT_MS);
    for (gsize i = 0; i < G_N_ELEMENTS(settings); i++) {
        if (sqlite3_exec(writer.db, settings[i], NULL, NULL, &msg) != SQLITE_OK) {
            fprintf(stderr, "floor-milter: %s: cannot run \"%s\": %s\n", path, settings[i],
                    msg != NULL ? msg : sqlite3_errmsg(writer.db));
            sqlite3_free(msg);
            return false;
        }
    }
    return prepare(&writer.insert_message,
                   "INSERT INTO messages (sender, recipients, raw, created_at)"
                   " VALUES (?1, ?2, ?3, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))") &&
           prepare(&writer.insert_ack,
                   "INSERT INTO outbox (message_id, recipient, body) VALUES (?1, ?2, ?3)") &&
           prepare(&writer.mark_sent, "UPDATE outbox SET status = 'sent'"
                                      " WHERE id IN (SELECT value FROM json_each(?1))");
}

static void
writer_close(void)
{
    sqlite3_finalize(writer.insert_message);
    sqlite3_finalize(writer.insert_ack);
    sqlite3_finalize(writer.mark_sent);
    sqlite3_close(writer.db);
}

/* ---- the sender ---- */

/* Where libcurl is in the body it uploads. */
struct upload {
    const char *data;
    size_t left;
};

static size_t
upload_read(char *buf, size_t size, size_t nmemb, void *user)
{
    struct upload *up = user;
    size_t n = MIN(size * nmemb, up->left);

    memcpy(buf, up->data, n);
    up->data += n;
    up->left -= n;
    return n;
}

/* Sends ACK on the kept handle: one SMTP transaction, on the connection of
 * the one before when the relay kept it open. */
static bool
sender_send(const struct ack *ack)
{
    struct upload up = { .data = ack->body, .left = strlen(ack->body) };
    struct curl_slist *rcpt = curl_slist_append(NULL, ack->rcpt);
    char errbuf[CURL_ERROR_SIZE] = "";
    CURLcode rc;

    curl_easy_setopt(sender.curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(sender.curl, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(sender.curl, CURLOPT_READDATA, &up);
    rc = curl_easy_perform(sender.curl);
    curl_easy_setopt(sender.curl, CURLOPT_ERRORBUFFER, NULL);
    curl_slist_free_all(rcpt);
    if (rc != CURLE_OK)
        fprintf(stderr,
                "floor-milter: the relay %s did not take the acknowledgement %" G_GINT64_FORMAT
                " to %s: %s\n",
                sender.url, ack->id, ack->rcpt, *errbuf != '\0' ? errbuf : curl_easy_strerror(rc));
    return rc == CURLE_OK;
}

/* Sends the N acknowledgements of BATCH and marks those the relay took. */
static void
sender_batch(gpointer *batch, guint n)
{
    g_autoptr(GString) ids = g_string_new("[");

    for (guint i = 0; i < n; i++) {
        const struct ack *ack = batch[i];
        if (sender_send(ack))
            g_string_append_printf(ids, "%s%" G_GINT64_FORMAT, ids->len > 1 ? "," : "", ack->id);
    }
    g_string_append_c(ids, ']');
    if (ids->len > 2) {
        struct job mark = { .kind = JOB_MARK, .sent_ids = ids->str };
        if (!writer_run(&mark))
            fprintf(stderr, "floor-milter: acknowledgements %s were sent but not marked: %s\n",
                    ids->str, mark.error);
        g_free(mark.error);
    }
}

static gpointer
sender_main(gpointer data)
{
    gpointer batch[SENDER_MAX_BATCH];
    bool is_stopping = false;

    (void)data;
    while (!is_stopping) {
        guint n = take_batch(sender.queue, &sender_stop, batch, SENDER_MAX_BATCH, &is_stopping);

        if (n > 0)
            sender_batch(batch, n);
        for (guint i = 0; i < n; i++)
            ack_free(batch[i]);
    }
    return NULL;
}

/* Sets the handle up for the relay at RELAY (HOST:PORT) with what every
 * acknowledgement shares; false, said on stderr, when libcurl cannot. */
static bool
sender_open(const char *relay)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
        (sender.curl = curl_easy_init()) == NULL) {
        fprintf(stderr, "floor-milter: cannot start libcurl\n");
        return false;
    }
    sender.url = g_strdup_printf("smtp://%s", relay);
    curl_easy_setopt(sender.curl, CURLOPT_URL, sender.url);
    /* The null return path of an automatic reply (RFC 3834). */
    curl_easy_setopt(sender.curl, CURLOPT_MAIL_FROM, "<>");
    curl_easy_setopt(sender.curl, CURLOPT_READFUNCTION, upload_read);
    curl_easy_setopt(sender.curl, CURLOPT_UPLOAD, 1L);
    /* outbound/dispatch.c's limits, so that a relay that hangs costs as
     * much here as there. */
    curl_easy_setopt(sender.curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(sender.curl, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(sender.curl, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(sender.curl, CURLOPT_MAXAGE_CONN, 60L);
    return true;
}

static void
sender_close(void)
{
    /* It closes the kept connection (SMTP says QUIT). */
    curl_easy_cleanup(sender.curl);
    g_free(sender.url);
    curl_global_cleanup();
}

/* ---- the milter ---- */

/* What every acknowledgement says after its headers, around the Subject
 * of the message it answers: ticket-milter's templates/en/ack-new.txt. */
static const char ack_opening[] =
    "Dear customer,\r\n"
    "\r\n"
    "Thank you for contacting support. Your request has been registered as\r\n"
    "ticket TKT-1.\r\n"
    "\r\n"
    "  Subject:   ";
static const char ack_closing[] =
    "\r\n"
    "  Severity:  3 (normal)\r\n"
    "  Stage:     1 (first line)\r\n"
    "  Response:  by Wednesday 2 December 2026 10:00 (8 hours from now)\r\n"
    "\r\n"
    "To add information, reply to this message and keep TKT-1 in the\r\n"
    "subject.\r\n"
    "\r\n"
    "Kind regards,\r\n"
    "Support\r\n";

/* The acknowledgement of MSG, with the headers of ticket-milter's and
 * about as long (1 KB). */
static struct ack *
ack_new(const struct message *msg)
{
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    g_autofree char *date = g_date_time_format(now, "%a, %d %b %Y %H:%M:%S +0000");
    const char *subject = msg->subject != NULL ? msg->subject : "(no subject)";
    GString *body = g_string_sized_new(1024);
    struct ack *ack = g_new0(struct ack, 1);

    g_string_append_printf(body, "Date: %s\r\n", date);
    g_string_append(body, "From: Support <" ACK_FROM ">\r\n"
                          "Reply-To: " ACK_REPLY_TO "\r\n");
    g_string_append_printf(body, "Subject: [TKT-1] Received: %s\r\n", subject);
    g_string_append_printf(body, "To: <%s>\r\n", msg->sender);
    g_string_append_printf(body, "Message-ID: <floor.%d.%d@" ACK_HOST ">\r\n", (int)getpid(),
                           g_atomic_int_add(&acks_made, 1));
    if (msg->message_id != NULL)
        g_string_append_printf(body, "In-Reply-To: %s\r\nReferences: %s\r\n", msg->message_id,
                               msg->message_id);
    g_string_append(body, "Auto-Submitted: auto-replied\r\n"
                          "X-Auto-Response-Suppress: All\r\n"
                          "Precedence: bulk\r\n"
                          "X-Ticket-ID: TKT-1\r\n"
                          "MIME-Version: 1.0\r\n"
                          "Content-Type: text/plain; charset=utf-8\r\n"
                          "\r\n");
    g_string_append(body, ack_opening);
    g_string_append(body, subject);
    g_string_append(body, ack_closing);
    ack->rcpt = g_strdup_printf("<%s>", msg->sender);
    ack->body = g_string_free(body, FALSE);
    return ack;
}

/* Keeps LEN bytes of DATA at the end of MSG's copy while it is under
 * MESSAGE_MAX; past that the message keeps nothing and will be deferred. */
static void
keep(struct message *msg, const void *data, size_t len)
{
    if (msg->is_too_big)
        return;
    if (len > MESSAGE_MAX - msg->raw->len) {
        msg->is_too_big = true;
        g_byte_array_set_size(msg->raw, 0);
        return;
    }
    g_byte_array_append(msg->raw, data, (guint)len);
}

/* Keeps TEXT with every bare LF made CRLF: libmilter hands folded header
 * values over with LF alone, the body with CRLF. */
static void
keep_crlf(struct message *msg, const char *text)
{
    const char *start = text;

    for (const char *p = text; *p != '\0'; p++) {
        if (*p == '\n' && (p == text || p[-1] != '\r')) {
            keep(msg, start, (size_t)(p - start));
            keep(msg, "\r", 1);
            start = p;
        }
    }
    keep(msg, start, strlen(start));
}

/* ADDR as the envelope has it, without the angle brackets. */
static char *
envelope_address(const char *addr)
{
    size_t len = strlen(addr);

    if (len >= 2 && addr[0] == '<' && addr[len - 1] == '>')
        return g_strndup(addr + 1, len - 2);
    return g_strdup(addr);
}

static sfsistat
on_envfrom(SMFICTX *ctx, char **argv)
{
    struct message *msg = g_new0(struct message, 1);

    message_free(smfi_getpriv(ctx));
    msg->sender = envelope_address(argv[0]);
    msg->recipients = g_string_new(NULL);
    /* milter/callbacks.c's first size: most support mail fits. */
    msg->raw = g_byte_array_sized_new(16384);
    smfi_setpriv(ctx, msg);
    return SMFIS_CONTINUE;
}

static sfsistat
on_envrcpt(SMFICTX *ctx, char **argv)
{
    struct message *msg = smfi_getpriv(ctx);
    g_autofree char *rcpt = envelope_address(argv[0]);

    if (msg == NULL)
        return SMFIS_TEMPFAIL;
    if (msg->recipients->len > 0)
        g_string_append(msg->recipients, ", ");
    g_string_append(msg->recipients, rcpt);
    return SMFIS_CONTINUE;
}

static sfsistat
on_data(SMFICTX *ctx)
{
    return smfi_getpriv(ctx) != NULL ? SMFIS_CONTINUE : SMFIS_TEMPFAIL;
}

/* VALUE (a header's) unfolded and trimmed: a header of the
 * acknowledgement that repeats it stays one header. */
static char *
one_line(const char *value)
{
    return g_strstrip(g_strdelimit(g_strdup(value), "\r\n", ' '));
}

static sfsistat
on_header(SMFICTX *ctx, char *name, char *value)
{
    struct message *msg = smfi_getpriv(ctx);

    if (msg == NULL)
        return SMFIS_TEMPFAIL;
    /* With SMFIP_HDR_LEADSPC the value keeps the space after the colon:
     * the copy is byte for byte. */
    keep(msg, name, strlen(name));
    keep(msg, content_leading_space ? ":" : ": ", content_leading_space ? 1 : 2);
    keep_crlf(msg, value);
    keep(msg, "\r\n", 2);
    /* The two headers the acknowledgement repeats, on one line each. */
    if (msg->message_id == NULL && g_ascii_strcasecmp(name, "Message-ID") == 0)
        msg->message_id = one_line(value);
    else if (msg->subject == NULL && g_ascii_strcasecmp(name, "Subject") == 0)
        msg->subject = one_line(value);
    return content_go_on(SMFIP_NR_HDR);
}

static sfsistat
on_eoh(SMFICTX *ctx)
{
    struct message *msg = smfi_getpriv(ctx);

    if (msg == NULL)
        return SMFIS_TEMPFAIL;
    keep(msg, "\r\n", 2);
    return content_go_on(SMFIP_NR_EOH);
}

static sfsistat
on_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
    struct message *msg = smfi_getpriv(ctx);

    if (msg == NULL)
        return SMFIS_TEMPFAIL;
    keep(msg, chunk, len);
    return content_go_on(SMFIP_NR_BODY);
}

/* Stores the message and its acknowledgement and waits for the commit;
 * then accepts it tagged, or defers it when it is not on disk. */
static sfsistat
on_eom(SMFICTX *ctx)
{
    struct message *msg = smfi_getpriv(ctx);
    struct job job = { .kind = JOB_STORE };
    sfsistat rc = SMFIS_ACCEPT;

    if (msg == NULL)
        return SMFIS_TEMPFAIL;
    if (msg->is_too_big) {
        fprintf(stderr, "floor-milter: tempfail: the message from <%s> is over %d bytes\n",
                msg->sender, MESSAGE_MAX);
        rc = SMFIS_TEMPFAIL;
    } else {
        job.msg = msg;
        job.ack = ack_new(msg);
        if (writer_run(&job)) {
            smfi_addheader(ctx, "X-Ticket-ID", " TKT-1");
            smfi_chgheader(ctx, "Subject", 1, " [TKT-1] the subject of the message");
        } else {
            fprintf(stderr, "floor-milter: tempfail: the message from <%s> was not stored: %s\n",
                    msg->sender, job.error);
            rc = SMFIS_TEMPFAIL;
        }
        ack_free(job.ack);
        g_free(job.error);
    }
    /* The message has its answer: its bytes go now, not at the next MAIL. */
    smfi_setpriv(ctx, message_free(msg));
    return rc;
}

static sfsistat
on_end(SMFICTX *ctx)
{
    smfi_setpriv(ctx, message_free(smfi_getpriv(ctx)));
    return SMFIS_CONTINUE;
}

static struct smfiDesc desc = {
    .xxfi_name = "floor-milter",
    .xxfi_version = SMFI_VERSION,
    .xxfi_flags = CONTENT_ACTIONS,
    .xxfi_negotiate = content_negotiate,
    .xxfi_connect = content_connect,
    .xxfi_envfrom = on_envfrom,
    .xxfi_envrcpt = on_envrcpt,
    .xxfi_data = on_data,
    .xxfi_header = on_header,
    .xxfi_eoh = on_eoh,
    .xxfi_body = on_body,
    .xxfi_eom = on_eom,
    .xxfi_abort = on_end,
    .xxfi_close = on_end,
};

/* Listens on SPEC; a unix socket is the group postfix's from its first
 * moment.  False, said on stderr, when it cannot. */
static bool
listen_on(const char *spec)
{
    struct group *gr;
    mode_t old = umask(0117);
    bool ok = smfi_setconn((char *)spec) == MI_SUCCESS && smfi_register(desc) == MI_SUCCESS &&
              smfi_opensocket(1) == MI_SUCCESS;

    umask(old);
    if (!ok) {
        fprintf(stderr, "floor-milter: cannot listen on %s\n", spec);
        return false;
    }
    if (strncmp(spec, "unix:", 5) == 0 && (gr = getgrnam("postfix")) != NULL &&
        chown(spec + 5, (uid_t)-1, gr->gr_gid) != 0) {
        fprintf(stderr, "floor-milter: cannot give %s to the group postfix: %s\n", spec + 5,
                g_strerror(errno));
        return false;
    }
    return true;
}

int
main(int argc, char **argv)
{
    const char *db_path = NULL, *relay = NULL;
    int opt, rc;

    while ((opt = getopt(argc, argv, "d:r:")) != -1) {
        if (opt == 'd')
            db_path = optarg;
        else if (opt == 'r')
            relay = optarg;
        else
            break;
    }
    if (db_path == NULL || relay == NULL || optind != argc - 1) {
        fprintf(stderr, "usage: floor-milter -d DB_PATH -r HOST:PORT SOCKET\n");
        return 2;
    }
    if (!writer_open(db_path) || !sender_open(relay) || !listen_on(argv[optind]))
        return 1;
    writer.queue = g_async_queue_new();
    sender.queue = g_async_queue_new();
    writer.thread = g_thread_new("floor-writer", writer_main, NULL);
    sender.thread = g_thread_new("floor-sender", sender_main, NULL);
    rc = smfi_main() == MI_SUCCESS ? 0 : 1;
    /* The sender first: what it has queued is marked by the writer. */
    g_async_queue_push(sender.queue, &sender_stop);
    g_thread_join(sender.thread);
    g_async_queue_push(writer.queue, &writer_stop);
    g_thread_join(writer.thread);
    sender_close();
    writer_close();
    return rc;
}
