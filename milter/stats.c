/*
 * stats - counters in memory, published to a Prometheus text file and to
 * the database's counters table.
 *
 * Owns: the counters (process-wide, since start), the ring of recent
 * commit latencies, and the publishing thread with its own database
 * connection (store/counters) and the SLA totals it has read from the
 * events (each event once: every interval reads the rows after the last
 * one seen, so a database of millions of events costs one full read at
 * start).
 *
 * Totals in memory only grow; what the table has been given is remembered
 * per counter ("flushed"), so a flush sends the difference and a failed one
 * loses nothing: the next sends the larger difference.  The text file shows
 * the in-memory totals, which restart at zero with the daemon, as
 * Prometheus counters do.
 *
 * Edge cases: reasons are open-ended strings from the callers, so they are
 * folded to [a-z0-9-] and capped in number; a caller before stats_start()
 * (the unit tests) counts into memory and nothing is published.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <sqlite3.h>

#include "milter/milter.h"
#include "milter/stats.h"
#include "router/router.h"
#include "store/counters.h"
#include "store/store.h"
#include "util/log.h"
#include "util/timefmt.h"
#include "util/version.h"

/* Enough for every reason the code names; more means a bug, which then
 * shows up as "other" rather than as memory growth. */
#define STATS_MAX_REASONS 32
#define STATS_REASON_LEN 40
/* Recent commits the quantiles are taken over: a few minutes of a busy
 * server, small enough to sort every interval. */
#define STATS_RING 1024

enum fixed_counter {
    FC_SEEN,
    FC_ACCEPTED,
    FC_TEMPFAILED,
    FC_REJECTED,
    FC_CREATED,
    FC_FOLLOWUPS,
    FC_STAFF,
    FC_COUNT,
};

/* The names in the counters table; NULL: not kept there (derivable). */
static const char *const fixed_db_name[FC_COUNT] = {
    [FC_SEEN] = "messages_seen",
    [FC_CREATED] = "tickets_created",
    [FC_FOLLOWUPS] = "followups",
    [FC_STAFF] = "staff_replies",
};

struct reason {
    char name[STATS_REASON_LEN];
    guint64 total;
    guint64 flushed; /* publishing thread only */
};

struct reason_set {
    const char *prefix; /* of the table's names: "tempfail" makes "tempfail_REASON" */
    struct reason reasons[STATS_MAX_REASONS];
    guint n;
};

static atomic_uint_fast64_t fixed[FC_COUNT];
static guint64 fixed_flushed[FC_COUNT]; /* publishing thread only */

static GMutex reason_lock;
static struct reason_set tempfails = { .prefix = "tempfail" };
static struct reason_set rejects = { .prefix = "reject" };
static struct reason_set passes = { .prefix = "pass" };

static GMutex latency_lock;
static gint64 latency_ring[STATS_RING];
static guint latency_next;
static guint latency_filled;
static guint64 latency_count;
static gint64 latency_sum_us;

static struct {
    GMutex lock;
    GCond cond;
    GThread *thread;
    bool stopping;
    struct config *cfg;
    gint64 started; /* real time, for ticket_milter_start_time_seconds */
    /* Publishing thread only: */
    struct store_counters *db;
    GHashTable *sla;    /* SLA events counted so far, "TYPE GOAL SEVERITY" -> gint64* */
    gint64 sla_last_id; /* the newest event in them */
    bool db_failing;    /* logged once per failure streak */
    bool file_failing;
} pub;

static void
reason_fold(const char *reason, char out[STATS_REASON_LEN])
{
    guint n = 0;

    for (const char *p = reason != NULL ? reason : ""; *p != '\0' && n < STATS_REASON_LEN - 1;
         p++) {
        char ch = g_ascii_tolower(*p);
        if (g_ascii_isalnum(ch))
            out[n++] = ch;
        else if (n > 0 && out[n - 1] != '-')
            out[n++] = '-';
    }
    while (n > 0 && out[n - 1] == '-')
        n--;
    out[n] = '\0';
    if (n == 0)
        g_strlcpy(out, "other", STATS_REASON_LEN);
}

static void
reason_add(struct reason_set *set, const char *reason)
{
    char name[STATS_REASON_LEN];
    guint i;

    reason_fold(reason, name);
    g_mutex_lock(&reason_lock);
    for (i = 0; i < set->n; i++) {
        if (strcmp(set->reasons[i].name, name) == 0)
            break;
    }
    if (i == set->n) {
        if (set->n == STATS_MAX_REASONS) {
            /* The last slot is kept for "other". */
            i = STATS_MAX_REASONS - 1;
        } else {
            g_strlcpy(set->reasons[i].name, set->n == STATS_MAX_REASONS - 1 ? "other" : name,
                      STATS_REASON_LEN);
            set->n++;
        }
    }
    set->reasons[i].total++;
    g_mutex_unlock(&reason_lock);
}

static void
bump(enum fixed_counter c)
{
    atomic_fetch_add_explicit(&fixed[c], 1, memory_order_relaxed);
}

static guint64
fixed_get(enum fixed_counter c)
{
    return atomic_load_explicit(&fixed[c], memory_order_relaxed);
}

void
stats_count(enum stat_verdict verdict, const char *reason)
{
    bump(FC_SEEN);
    switch (verdict) {
    case STAT_ACCEPT:
        bump(FC_ACCEPTED);
        if (reason != NULL)
            reason_add(&passes, reason);
        break;
    case STAT_TEMPFAIL:
        bump(FC_TEMPFAILED);
        reason_add(&tempfails, reason);
        break;
    case STAT_REJECT:
        bump(FC_REJECTED);
        reason_add(&rejects, reason);
        break;
    }
}

void
stats_count_job(const struct ingest_job *job)
{
    const struct decision *d = job->decision;

    stats_count(STAT_ACCEPT, NULL);
    if (d->action == ROUTER_CREATE)
        bump(FC_CREATED);
    /* A staff reply is one we believed; an untrusted one is a follow-up
     * (and a security event). */
    else if (d->action == ROUTER_FOLLOWUP && d->kind == SENDER_STAFF)
        bump(FC_STAFF);
    else if (d->action == ROUTER_FOLLOWUP)
        bump(FC_FOLLOWUPS);
}

void
stats_commit_done(GDateTime *started)
{
    gint64 start_us, us;

    if (started == NULL)
        return;
    start_us = g_date_time_to_unix(started) * G_USEC_PER_SEC + g_date_time_get_microsecond(started);
    /* The wall clock may step back under us; a negative latency is noise. */
    us = MAX(0, g_get_real_time() - start_us);
    g_mutex_lock(&latency_lock);
    latency_ring[latency_next] = us;
    latency_next = (latency_next + 1) % STATS_RING;
    latency_filled = MIN(latency_filled + 1, STATS_RING);
    latency_count++;
    latency_sum_us += us;
    g_mutex_unlock(&latency_lock);
}

const char *
stats_store_reason(const GError *error)
{
    if (error == NULL || error->domain != STORE_ERROR)
        return "internal";
    switch (error->code) {
    case STORE_ERROR_BUSY:
        return "database-busy";
    case STORE_ERROR_FULL:
        return "disk-full";
    case STORE_ERROR_READONLY:
        return "database-readonly";
    case STORE_ERROR_CORRUPT:
        return "database-corrupt";
    case STORE_ERROR_VERSION:
        return "database-version";
    case STORE_ERROR_UNAVAILABLE:
        return "database-unavailable";
    case STORE_ERROR_RETRY:
        return "database-retry";
    default:
        return "database-error";
    }
}

static int
compare_gint64(const void *a, const void *b)
{
    gint64 x = *(const gint64 *)a, y = *(const gint64 *)b;

    return x < y ? -1 : x > y;
}

/* Nearest-rank quantiles over the ring; false when it is empty. */
static bool
latency_quantiles(gint64 *p50, gint64 *p99, guint64 *count, gint64 *sum)
{
    gint64 sorted[STATS_RING];
    guint n;

    g_mutex_lock(&latency_lock);
    n = latency_filled;
    memcpy(sorted, latency_ring, n * sizeof(*sorted));
    *count = latency_count;
    *sum = latency_sum_us;
    g_mutex_unlock(&latency_lock);
    if (n == 0)
        return false;
    qsort(sorted, n, sizeof(*sorted), compare_gint64);
    *p50 = sorted[(n * 50 + 99) / 100 - 1];
    *p99 = sorted[(n * 99 + 99) / 100 - 1];
    return true;
}

static void
render_counter(GString *out, const char *name, const char *help, guint64 value)
{
    g_string_append_printf(out, "# HELP ticket_milter_%s %s\n# TYPE ticket_milter_%s counter\n",
                           name, help, name);
    g_string_append_printf(out, "ticket_milter_%s %" G_GUINT64_FORMAT "\n", name, value);
}

static void
render_reasons(GString *out, const char *name, const char *help, const struct reason_set *set)
{
    g_string_append_printf(out, "# HELP ticket_milter_%s %s\n# TYPE ticket_milter_%s counter\n",
                           name, help, name);
    g_mutex_lock(&reason_lock);
    for (guint i = 0; i < set->n; i++)
        g_string_append_printf(out, "ticket_milter_%s{reason=\"%s\"} %" G_GUINT64_FORMAT "\n", name,
                               set->reasons[i].name, set->reasons[i].total);
    g_mutex_unlock(&reason_lock);
}

static void
render_gauge(GString *out, const char *name, const char *help, gint64 value)
{
    if (value < 0)
        return;
    g_string_append_printf(out, "# HELP ticket_milter_%s %s\n# TYPE ticket_milter_%s gauge\n", name,
                           help, name);
    g_string_append_printf(out, "ticket_milter_%s %" G_GINT64_FORMAT "\n", name, value);
}

static void
render_seconds(GString *out, const char *label, gint64 us, bool known)
{
    char buf[G_ASCII_DTOSTR_BUF_SIZE];

    if (!known) {
        g_string_append_printf(out, "ticket_milter_commit_seconds%s NaN\n", label);
        return;
    }
    g_ascii_formatd(buf, sizeof(buf), "%.6f", (double)us / G_USEC_PER_SEC);
    g_string_append_printf(out, "ticket_milter_commit_seconds%s %s\n", label, buf);
}

/* Every goal and severity of TYPE's counter, 0 where none happened, so
 * that rate() and increase() see a series before its first event. */
static void
render_sla(GString *out, const char *type, const char *name, const char *help, GHashTable *sla)
{
    static const char *const goals[] = { "response", "update", "resolution" };

    g_string_append_printf(out, "# HELP ticket_milter_%s %s\n# TYPE ticket_milter_%s counter\n",
                           name, help, name);
    for (guint k = 0; k < G_N_ELEMENTS(goals); k++)
        for (int sev = 1; sev <= 4; sev++) {
            g_autofree char *key = g_strdup_printf("%s %s %d", type, goals[k], sev);
            const gint64 *n = g_hash_table_lookup(sla, key);
            g_string_append_printf(
                out, "ticket_milter_%s{goal=\"%s\",severity=\"%d\"} %" G_GINT64_FORMAT "\n", name,
                goals[k], sev, n != NULL ? *n : 0);
        }
}

static void
render_database(GString *out, const struct stats_gauges *g)
{
    render_gauge(out, "outbox_pending", "Mail and webhooks waiting in the outbox.", g->outbox);
    render_gauge(out, "outbox_oldest_pending_seconds",
                 "How long the oldest mail or webhook in the outbox has waited; 0 when none waits.",
                 g->oldest_pending);
    render_gauge(out, "open_tickets", "Tickets open or waiting for the customer.", g->open_tickets);
    if (g->overdue[1] >= 0) {
        g_string_append(out, "# HELP ticket_milter_overdue_tickets Open tickets with a response, "
                             "update or resolution deadline passed, by severity.\n"
                             "# TYPE ticket_milter_overdue_tickets gauge\n");
        for (int sev = 1; sev <= 4; sev++)
            g_string_append_printf(
                out, "ticket_milter_overdue_tickets{severity=\"%d\"} %" G_GINT64_FORMAT "\n", sev,
                g->overdue[sev]);
    }
    if (g->sla != NULL) {
        render_sla(out, "sla-warning", "sla_warnings_total",
                   "SLA warnings recorded in the database, by goal and severity.", g->sla);
        render_sla(out, "sla-breach", "sla_breaches_total",
                   "SLA breaches recorded in the database, by goal and severity.", g->sla);
    }
    render_gauge(out, "last_backup_timestamp_seconds",
                 "When ticketctl backup last wrote a verified copy, in Unix time; 0 when never.",
                 g->last_backup);
}

char *
stats_render(const struct stats_gauges *g)
{
    GString *out = g_string_new(NULL);
    gint64 p50 = 0, p99 = 0, sum = 0;
    guint64 count = 0;
    bool known = latency_quantiles(&p50, &p99, &count, &sum);

    g_string_append(out, "# HELP ticket_milter_messages_total Support messages that got a "
                         "verdict since the daemon started, by verdict.\n"
                         "# TYPE ticket_milter_messages_total counter\n");
    g_string_append_printf(
        out, "ticket_milter_messages_total{result=\"accepted\"} %" G_GUINT64_FORMAT "\n",
        fixed_get(FC_ACCEPTED));
    g_string_append_printf(
        out, "ticket_milter_messages_total{result=\"tempfailed\"} %" G_GUINT64_FORMAT "\n",
        fixed_get(FC_TEMPFAILED));
    g_string_append_printf(
        out, "ticket_milter_messages_total{result=\"rejected\"} %" G_GUINT64_FORMAT "\n",
        fixed_get(FC_REJECTED));
    render_reasons(out, "tempfails_total", "Messages answered 451, by reason.", &tempfails);
    render_reasons(out, "rejects_total", "Messages refused with a 5xx reply, by reason.", &rejects);
    render_reasons(out, "passes_total",
                   "Support messages accepted and passed on without a ticket, by reason.", &passes);
    render_counter(out, "tickets_created_total", "Tickets opened.", fixed_get(FC_CREATED));
    render_counter(out, "followups_total", "Customer messages added to an existing ticket.",
                   fixed_get(FC_FOLLOWUPS));
    render_counter(out, "staff_replies_total", "Staff messages added to an existing ticket.",
                   fixed_get(FC_STAFF));

    g_string_append(out, "# HELP ticket_milter_commit_seconds Time from handing a message to "
                         "the database writer to its commit, over the recent commits.\n"
                         "# TYPE ticket_milter_commit_seconds summary\n");
    render_seconds(out, "{quantile=\"0.5\"}", p50, known);
    render_seconds(out, "{quantile=\"0.99\"}", p99, known);
    render_seconds(out, "_sum", sum, true);
    g_string_append_printf(out, "ticket_milter_commit_seconds_count %" G_GUINT64_FORMAT "\n",
                           count);

    render_gauge(out, "buffered_bytes",
                 "Bytes of message kept by the messages in flight, against max_buffered_bytes.",
                 (gint64)milter_buffered_bytes());
    if (g != NULL)
        render_database(out, g);
    if (pub.started > 0)
        render_gauge(out, "start_time_seconds", "When the daemon started, in Unix time.",
                     pub.started / G_USEC_PER_SEC);
    g_string_append(out, "# HELP ticket_milter_build_info The ticket-milter release and the "
                         "libraries it runs with; always 1.\n"
                         "# TYPE ticket_milter_build_info gauge\n");
    g_string_append_printf(
        out, "ticket_milter_build_info{version=\"%s\",sqlite=\"%s\",glib=\"%u.%u.%u\"} 1\n",
        TM_VERSION, sqlite3_libversion(), glib_major_version, glib_minor_version,
        glib_micro_version);
    return g_string_free(out, false);
}

/* Writes TEXT to PATH so that a reader sees the old file or the new one,
 * never a part: PATH.tmp, fsync, rename.  The collector ignores the .tmp. */
static bool
write_atomically(const char *path, const char *text, GError **error)
{
    g_autofree char *tmp = g_strconcat(path, ".tmp", NULL);
    gsize len = strlen(text), done = 0;
    /* The collector's directory may be writable by others: a symlink
     * planted at the temporary name is not followed. */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);

    if (fd < 0)
        goto fail;
    /* Readable by the collector whatever the daemon's umask. */
    if (fchmod(fd, 0644) != 0)
        goto fail;
    while (done < len) {
        ssize_t n = write(fd, text + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            goto fail;
        done += (gsize)n;
    }
    if (fsync(fd) != 0)
        goto fail;
    if (close(fd) != 0) {
        fd = -1;
        goto fail;
    }
    fd = -1;
    if (rename(tmp, path) != 0)
        goto fail;
    return true;

fail:
    g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno), "%s: %s", tmp,
                g_strerror(errno));
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    return false;
}

static void
table_put(GHashTable *t, const char *name, gint64 value)
{
    gint64 *v = g_new(gint64, 1);

    *v = value;
    g_hash_table_replace(t, g_strdup(name), v);
}

/* Sends what the table has not been given yet; on success remembers it. */
static bool
flush_counters(struct store_counters *db, GError **error)
{
    g_autoptr(GHashTable) deltas = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g_autoptr(GHashTable) sets = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    guint64 fixed_now[FC_COUNT];
    guint64 tempfail_now[STATS_MAX_REASONS], reject_now[STATS_MAX_REASONS];
    guint64 pass_now[STATS_MAX_REASONS];
    struct reason_set *sets_of[3] = { &tempfails, &rejects, &passes };
    guint64 *now_of[3] = { tempfail_now, reject_now, pass_now };
    guint n_of[3];
    gint64 p50, p99, sum;
    guint64 count;

    for (int c = 0; c < FC_COUNT; c++) {
        fixed_now[c] = fixed_get(c);
        if (fixed_db_name[c] != NULL && fixed_now[c] > fixed_flushed[c])
            table_put(deltas, fixed_db_name[c], (gint64)(fixed_now[c] - fixed_flushed[c]));
    }
    g_mutex_lock(&reason_lock);
    for (int s = 0; s < 3; s++) {
        n_of[s] = sets_of[s]->n;
        for (guint i = 0; i < n_of[s]; i++) {
            struct reason *r = &sets_of[s]->reasons[i];
            now_of[s][i] = r->total;
            if (r->total > r->flushed) {
                g_autofree char *name = g_strdup_printf("%s_%s", sets_of[s]->prefix, r->name);
                table_put(deltas, name, (gint64)(r->total - r->flushed));
            }
        }
    }
    g_mutex_unlock(&reason_lock);
    if (latency_quantiles(&p50, &p99, &count, &sum)) {
        table_put(sets, "commit_us_p50", p50);
        table_put(sets, "commit_us_p99", p99);
    }
    if (g_hash_table_size(deltas) == 0 && g_hash_table_size(sets) == 0)
        return true;
    if (!store_counters_flush(db, deltas, sets, error))
        return false;

    memcpy(fixed_flushed, fixed_now, sizeof(fixed_flushed));
    g_mutex_lock(&reason_lock);
    for (int s = 0; s < 3; s++) {
        for (guint i = 0; i < n_of[s]; i++)
            sets_of[s]->reasons[i].flushed = now_of[s][i];
    }
    g_mutex_unlock(&reason_lock);
    return true;
}

/* One line when the database stops taking statistics, one when it takes
 * them again: not one every interval. */
static void
note_db(bool ok, const GError *error)
{
    if (!ok && !pub.db_failing)
        log_warning("statistics: cannot use the database, counting in memory until it works: %s",
                    error != NULL ? error->message : "unknown error");
    else if (ok && pub.db_failing)
        log_info("statistics: database usable again, counters saved");
    pub.db_failing = !ok;
}

/* The gauges from the database into G; false (with ERROR) when one read
 * failed, and then G says so for that one. */
static bool
read_gauges(struct stats_gauges *g, GError **error)
{
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    g_autofree char *now_text = timefmt_iso8601(now);
    gint64 oldest = 0;

    if (pub.sla == NULL)
        pub.sla = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    if (!store_counters_gauges(pub.db, &g->outbox, &g->open_tickets, error)) {
        g->outbox = g->open_tickets = -1;
        return false;
    }
    if (!store_counters_overdue(pub.db, now_text, g->overdue, error)) {
        g->overdue[1] = -1;
        return false;
    }
    if (!store_counters_oldest_pending(pub.db, &oldest, error)) {
        g->oldest_pending = -1;
        return false;
    }
    g->oldest_pending = oldest > 0 ? MAX(0, g_date_time_to_unix(now) - oldest) : 0;
    if (!store_counters_last_backup(pub.db, &g->last_backup, error)) {
        g->last_backup = -1;
        return false;
    }
    /* Only the events since the last read: the totals live here. */
    if (!store_counters_sla_events(pub.db, &pub.sla_last_id, pub.sla, error))
        return false;
    g->sla = pub.sla;
    return true;
}

static void
publish(const struct config *cfg)
{
    g_autoptr(GError) error = NULL;
    struct stats_gauges g = {
        .outbox = -1,
        .open_tickets = -1,
        .overdue = { -1, -1, -1, -1, -1 },
        .oldest_pending = -1,
        .last_backup = -1,
        .sla = NULL,
    };
    bool ok;

    if (pub.db == NULL && cfg->database != NULL)
        pub.db = store_counters_open(cfg->database, cfg->busy_timeout, &error);
    ok = pub.db != NULL;
    if (ok) {
        ok = read_gauges(&g, &error);
        /* The deltas wait for the database in memory, whatever failed. */
        ok = flush_counters(pub.db, ok ? &error : NULL) && ok;
        if (!ok)
            pub.db = store_counters_close(pub.db);
    }
    note_db(ok, error);
    g_clear_error(&error);

    if (cfg->metrics_file != NULL) {
        g_autofree char *text = stats_render(&g);
        ok = write_atomically(cfg->metrics_file, text, &error);
        if (!ok && !pub.file_failing)
            log_warning("statistics: cannot write the metrics file: %s", error->message);
        else if (ok && pub.file_failing)
            log_info("statistics: metrics file written again path=%s", cfg->metrics_file);
        pub.file_failing = !ok;
    }
}

static gpointer
stats_main(gpointer data)
{
    /* The first gauges as soon as the daemon runs: a scrape right after a
     * start has them, and the reads of a big database (every open ticket,
     * the goal events since the first) are done with the start's work,
     * not a while into the quiet after it. */
    bool is_first = true;

    g_mutex_lock(&pub.lock);
    for (;;) {
        gint64 end =
            g_get_monotonic_time() + (gint64)MAX(pub.cfg->metrics_interval, 1) * G_TIME_SPAN_SECOND;
        bool stopping;

        while (!is_first && !pub.stopping && g_get_monotonic_time() < end)
            g_cond_wait_until(&pub.cond, &pub.lock, end);
        is_first = false;
        stopping = pub.stopping;
        struct config *cfg = config_ref(pub.cfg);
        g_mutex_unlock(&pub.lock);
        publish(cfg);
        config_unref(cfg);
        g_mutex_lock(&pub.lock);
        if (stopping)
            break;
    }
    g_mutex_unlock(&pub.lock);
    pub.db = store_counters_close(pub.db);
    g_clear_pointer(&pub.sla, g_hash_table_unref);
    pub.sla_last_id = 0;
    return NULL;
}

void
stats_start(struct config *cfg)
{
    g_return_if_fail(pub.thread == NULL);
    pub.cfg = config_ref(cfg);
    pub.stopping = false;
    pub.started = g_get_real_time();
    pub.thread = g_thread_new("stats", stats_main, NULL);
}

void
stats_set_config(struct config *cfg)
{
    struct config *old;

    g_mutex_lock(&pub.lock);
    old = pub.cfg;
    pub.cfg = config_ref(cfg);
    g_mutex_unlock(&pub.lock);
    config_unref(old);
}

void
stats_stop(void)
{
    if (pub.thread == NULL)
        return;
    g_mutex_lock(&pub.lock);
    pub.stopping = true;
    g_cond_signal(&pub.cond);
    g_mutex_unlock(&pub.lock);
    g_thread_join(pub.thread);
    pub.thread = NULL;
    pub.cfg = config_unref(pub.cfg);
}
