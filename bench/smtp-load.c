/*
 * smtp-load - the benchmarks' SMTP client: many messages, each from its
 * own sender, with every transaction timed.
 *
 *   smtp-load [-s SESSIONS] [-m COUNT] [-l BYTES] [-x TAG] [-d DOMAIN]
 *             [-t RCPT] [-o OTHER -p PERCENT] [-r RATE] [-w FILE]
 *             HOST:PORT[,PORT...]
 *
 * Like Postfix's smtp-source it runs SESSIONS transactions at a time, each
 * on a connection of its own (connect, HELO, MAIL, RCPT, DATA, QUIT: what
 * one sending MTA does with one message), but message I comes from
 * TAG-I@DOMAIN and has the Message-ID <TAG.I@DOMAIN>: every message is a
 * new ticket for a requester of its own, so that no acknowledgement is
 * held back by ack_limit.  With -o, PERCENT of the messages go to OTHER
 * instead of RCPT (mail for someone else on the same server).  With -r the
 * messages start at RATE per second in all (message I not before I/RATE
 * seconds after the first), so that a latency is measured below the
 * server's saturation.  With several ports (at most PORTS_MAX), message I
 * goes to the (I mod K)th of the K: one load spread evenly over as many
 * servers at once, all of it timed by one clock.
 *
 * A transaction is timed from the connect to the 250 after the message's
 * final dot; with -w every latency goes to FILE, one "index microseconds
 * start" line each (START: microseconds after the first message started,
 * whose wall-clock time goes to stderr).  The summary on stdout is "key value" lines: sent, errors,
 * seconds (first connect to last answer), rate, p50_ms, p90_ms, p99_ms,
 * max_ms.  An answer other than the one expected counts as an error, is
 * printed to stderr (the first few) and ends that transaction.
 */
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_LEN 4096
#define ERRORS_SHOWN 5
#define PORTS_MAX 16

static const char *opt_host = "127.0.0.1";
static const char *opt_ports[PORTS_MAX];
static int opt_nports;
static int opt_sessions = 1;
static long opt_count = 1;
static long opt_size = 2048;
static const char *opt_tag = "load";
static const char *opt_domain = "acme.test";
static const char *opt_rcpt = "support@example.com";
static const char *opt_other;
static int opt_percent;
static double opt_rate;
static const char *opt_latency_file;

static atomic_long next_index;
static atomic_long errors;
static long *latency_us; /* per message; -1 when it failed */
static long *start_us;   /* per message, after the first's start */
static double start_time;
static char *body_text;
static char date_text[64];
static pthread_mutex_t print_lock = PTHREAD_MUTEX_INITIALIZER;

static double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A connection with a small read buffer: SMTP replies are lines. */
struct conn {
    int fd;
    char buf[LINE_MAX_LEN];
    size_t len;
};

static int
conn_open(struct conn *c, const char *port)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
    struct addrinfo *res = NULL;

    c->len = 0;
    c->fd = -1;
    if (getaddrinfo(opt_host, port, &hints, &res) != 0 || res == NULL)
        return -1;
    c->fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, res->ai_protocol);
    if (c->fd >= 0 && connect(c->fd, res->ai_addr, res->ai_addrlen) != 0) {
        close(c->fd);
        c->fd = -1;
    }
    freeaddrinfo(res);
    return c->fd >= 0 ? 0 : -1;
}

static int
send_all(struct conn *c, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = send(c->fd, data, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Reads one whole reply (all its lines); its code, or -1. The last line
 * goes to LAST for error messages. */
static int
read_reply(struct conn *c, char *last, size_t last_size)
{
    for (;;) {
        char *nl = memchr(c->buf, '\n', c->len);
        if (nl != NULL) {
            size_t line_len = (size_t)(nl - c->buf) + 1;
            int code = atoi(c->buf);
            int more = line_len > 4 && c->buf[3] == '-';
            size_t copy = line_len < last_size ? line_len : last_size - 1;
            memcpy(last, c->buf, copy);
            last[copy] = '\0';
            memmove(c->buf, c->buf + line_len, c->len - line_len);
            c->len -= line_len;
            if (!more)
                return code;
            continue;
        }
        if (c->len == sizeof(c->buf))
            return -1;
        ssize_t n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        c->len += (size_t)n;
    }
}

static void
report(long i, const char *step, const char *answer)
{
    long n = atomic_fetch_add(&errors, 1);

    if (n >= ERRORS_SHOWN)
        return;
    pthread_mutex_lock(&print_lock);
    fprintf(stderr, "smtp-load: message %ld: %s: %s", i, step,
            answer != NULL && *answer ? answer : "connection failed\n");
    if (answer != NULL && *answer && answer[strlen(answer) - 1] != '\n')
        fputc('\n', stderr);
    pthread_mutex_unlock(&print_lock);
}

/* One command and the reply it must get. */
static int
step(struct conn *c, long i, const char *cmd, int want, const char *what)
{
    char last[256] = "";
    int code;

    if (cmd != NULL && send_all(c, cmd, strlen(cmd)) != 0) {
        report(i, what, NULL);
        return -1;
    }
    code = read_reply(c, last, sizeof(last));
    if (code / 100 != want / 100) {
        report(i, what, last);
        return -1;
    }
    return 0;
}

static int
transaction(long i)
{
    struct conn c;
    char line[512];
    char head[1024];
    const char *rcpt = opt_rcpt;
    int rc = -1;

    if (opt_other != NULL && (i % 100) >= 100 - opt_percent)
        rcpt = opt_other;
    if (conn_open(&c, opt_ports[i % opt_nports]) != 0) {
        report(i, "connect", NULL);
        return -1;
    }
    if (step(&c, i, NULL, 220, "banner") != 0 || step(&c, i, "HELO load.test\r\n", 250, "HELO"))
        goto out;
    snprintf(line, sizeof(line), "MAIL FROM:<%s-%ld@%s>\r\n", opt_tag, i, opt_domain);
    if (step(&c, i, line, 250, "MAIL"))
        goto out;
    snprintf(line, sizeof(line), "RCPT TO:<%s>\r\n", rcpt);
    if (step(&c, i, line, 250, "RCPT") || step(&c, i, "DATA\r\n", 354, "DATA"))
        goto out;
    /* The whole message in one write, as a client with a buffered stream
     * sends it: three small writes would meet Nagle's algorithm and the
     * server's delayed ACK, 40 ms for nothing. */
    snprintf(head, sizeof(head),
             "From: Customer %ld <%s-%ld@%s>\r\nTo: <%s>\r\n"
             "Subject: Load test %s %ld: the report page is slow\r\n"
             "Message-ID: <%s.%ld@%s>\r\nDate: %s\r\n"
             "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n",
             i, opt_tag, i, opt_domain, rcpt, opt_tag, i, opt_tag, i, opt_domain, date_text);
    size_t head_len = strlen(head), body_len = strlen(body_text);
    char *data = malloc(head_len + body_len + 4);
    memcpy(data, head, head_len);
    memcpy(data + head_len, body_text, body_len);
    memcpy(data + head_len + body_len, ".\r\n", 4);
    int sent = send_all(&c, data, head_len + body_len + 3);
    free(data);
    if (sent != 0) {
        report(i, "message", NULL);
        goto out;
    }
    if (step(&c, i, NULL, 250, "end of data"))
        goto out;
    rc = 0;
    /* The QUIT is not waited for: the message is the sender's no more. */
    send_all(&c, "QUIT\r\n", 6);
out:
    close(c.fd);
    return rc;
}

static void
sleep_until(double t)
{
    double d = t - now_s();

    if (d > 0) {
        struct timespec ts = { .tv_sec = (time_t)d, .tv_nsec = (long)((d - (time_t)d) * 1e9) };
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
    }
}

static void *
session(void *arg)
{
    (void)arg;
    for (;;) {
        long i = atomic_fetch_add(&next_index, 1);
        if (i >= opt_count)
            break;
        if (opt_rate > 0)
            sleep_until(start_time + (double)i / opt_rate);
        double t0 = now_s();
        start_us[i] = (long)((t0 - start_time) * 1e6);
        int rc = transaction(i);
        latency_us[i] = rc == 0 ? (long)((now_s() - t0) * 1e6) : -1;
    }
    return NULL;
}

/* A body of about BYTES in lines of 72 characters, like real text. */
static char *
make_body(long bytes)
{
    static const char words[] = "Since this morning the report page takes a minute to load ";
    char *b = malloc((size_t)bytes + 80);
    long n = 0;

    while (n < bytes) {
        for (int k = 0; k < 70 && n < bytes; k++, n++)
            b[n] = words[n % (sizeof(words) - 1)];
        b[n++] = '\r';
        b[n++] = '\n';
    }
    b[n] = '\0';
    return b;
}

static int
cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;

    return x < y ? -1 : x > y;
}

static double
pct(const long *sorted, long n, double p)
{
    long k;

    if (n == 0)
        return 0;
    k = (long)(p / 100.0 * (double)n + 0.5) - 1;
    if (k < 0)
        k = 0;
    if (k >= n)
        k = n - 1;
    return (double)sorted[k] / 1000.0;
}

static void
usage(void)
{
    fprintf(stderr, "usage: smtp-load [-s SESSIONS] [-m COUNT] [-l BYTES] [-x TAG] [-d DOMAIN]"
                    " [-t RCPT] [-o OTHER -p PERCENT] [-r RATE] [-w FILE]"
                    " HOST:PORT[,PORT...]\n");
    exit(2);
}

int
main(int argc, char **argv)
{
    pthread_t *threads;
    long ok = 0, *sorted;
    double seconds;
    char *colon;
    int opt;

    while ((opt = getopt(argc, argv, "s:m:l:x:d:t:o:p:r:w:")) != -1) {
        switch (opt) {
        case 's':
            opt_sessions = atoi(optarg);
            break;
        case 'm':
            opt_count = atol(optarg);
            break;
        case 'l':
            opt_size = atol(optarg);
            break;
        case 'x':
            opt_tag = optarg;
            break;
        case 'd':
            opt_domain = optarg;
            break;
        case 't':
            opt_rcpt = optarg;
            break;
        case 'o':
            opt_other = optarg;
            break;
        case 'p':
            opt_percent = atoi(optarg);
            break;
        case 'r':
            opt_rate = atof(optarg);
            break;
        case 'w':
            opt_latency_file = optarg;
            break;
        default:
            usage();
        }
    }
    if (optind != argc - 1 || opt_sessions < 1 || opt_count < 1 || opt_percent < 0 ||
        opt_percent > 100 || opt_size < 0)
        usage();
    opt_host = strdup(argv[optind]);
    colon = strrchr(opt_host, ':');
    if (colon == NULL)
        usage();
    *colon = '\0';
    for (char *p = strtok(colon + 1, ","); p != NULL; p = strtok(NULL, ",")) {
        if (opt_nports == PORTS_MAX)
            usage();
        opt_ports[opt_nports++] = p;
    }
    if (opt_nports == 0)
        usage();

    body_text = make_body(opt_size);
    time_t t = time(NULL);
    strftime(date_text, sizeof(date_text), "%a, %d %b %Y %H:%M:%S +0000", gmtime(&t));
    latency_us = calloc((size_t)opt_count, sizeof(long));
    start_us = calloc((size_t)opt_count, sizeof(long));
    threads = calloc((size_t)opt_sessions, sizeof(pthread_t));
    start_time = now_s();
    if (opt_latency_file != NULL) {
        /* For lining the latencies up with a server's log. */
        struct timespec rt;
        clock_gettime(CLOCK_REALTIME, &rt);
        fprintf(stderr, "smtp-load: started at %ld.%06ld\n", (long)rt.tv_sec, rt.tv_nsec / 1000);
    }
    for (int k = 0; k < opt_sessions; k++)
        pthread_create(&threads[k], NULL, session, NULL);
    for (int k = 0; k < opt_sessions; k++)
        pthread_join(threads[k], NULL);
    seconds = now_s() - start_time;

    sorted = malloc((size_t)opt_count * sizeof(long));
    for (long i = 0; i < opt_count; i++)
        if (latency_us[i] >= 0)
            sorted[ok++] = latency_us[i];
    qsort(sorted, (size_t)ok, sizeof(long), cmp_long);
    if (opt_latency_file != NULL) {
        FILE *f = fopen(opt_latency_file, "w");
        if (f == NULL) {
            perror(opt_latency_file);
            return 1;
        }
        for (long i = 0; i < opt_count; i++)
            fprintf(f, "%ld %ld %ld\n", i, latency_us[i], start_us[i]);
        fclose(f);
    }
    printf("sent %ld\nerrors %ld\nseconds %.3f\nrate %.1f\n", ok, (long)atomic_load(&errors),
           seconds, (double)ok / seconds);
    printf("p50_ms %.2f\np90_ms %.2f\np99_ms %.2f\nmax_ms %.2f\n", pct(sorted, ok, 50),
           pct(sorted, ok, 90), pct(sorted, ok, 99), ok > 0 ? (double)sorted[ok - 1] / 1000 : 0);
    return atomic_load(&errors) == 0 ? 0 : 1;
}
