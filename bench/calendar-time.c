/*
 * calendar-time - how long business-time arithmetic takes: calendar_add()
 * for the goals of the presets and calendar_between() over a day, a month
 * and a year, on each preset plan's calendar in Europe/Amsterdam; and a
 * whole sla_compute() (what a new ticket costs in deadlines).
 *
 *   calendar-time [-n STARTS]
 *
 * Every figure is the mean over STARTS start times (default 2000) spread
 * over 2026 and 2027 at odd minutes, so that weekends, nights, holidays and
 * the DST changes are in the mix as they are in real traffic; the fastest
 * of three rounds is printed, so that a busy machine does not make a case
 * look slow.  Prints "TIME <plan> <case> <ns per call>" per case.  Used by
 * bench/calendar.sh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "router/calendar.h"
#include "router/plan.h"
#include "router/sla.h"

/* bench/calendar.sh defines it for sources whose presets still take the
 * load year. */
#ifdef PLAN_PRESET_TAKES_YEAR
#define PRESET(name) plan_preset(name, 2026)
#else
#define PRESET(name) plan_preset(name)
#endif

#define ZONE "Europe/Amsterdam"
#define ROUNDS 3

enum kind {
    ADD,
    BETWEEN,
    SLA,
    COPY
};

struct bench_case {
    const char *name;
    enum kind kind;
    gint64 amount; /* ADD: seconds (negative: business days); BETWEEN: span in seconds */
};

static const struct bench_case cases[] = {
    { "add-1h", ADD, 3600 },
    { "add-2bh", ADD, 2 * 3600 },
    { "add-3bd", ADD, -3 },
    { "add-40bh", ADD, 40 * 3600 },
    { "between-1d", BETWEEN, 24 * 3600 },
    { "between-1mo", BETWEEN, 30 * 24 * 3600 },
    { "between-1y", BETWEEN, 365 * 24 * 3600 },
    { "sla-compute", SLA, 0 },
    { "plan-calendar", COPY, 0 },
};

static volatile gint64 sink;

static double
run(const struct plan *p, const struct calendar *cal, const struct bench_case *bc,
    GDateTime **starts, guint n)
{
    struct ladder ladder;
    gint64 amount = bc->amount >= 0 ? bc->amount : -bc->amount * calendar_day_length(cal);
    GDateTime **ends = g_new0(GDateTime *, n);
    gint64 t0;

    ladder_init(&ladder);
    for (guint i = 0; bc->kind == BETWEEN && i < n; i++)
        ends[i] = g_date_time_add_seconds(starts[i], (gdouble)amount);
    t0 = g_get_monotonic_time();
    for (guint i = 0; i < n; i++) {
        switch (bc->kind) {
        case ADD: {
            GDateTime *e = calendar_add(cal, starts[i], amount);
            sink += g_date_time_to_unix(e);
            g_date_time_unref(e);
            break;
        }
        case BETWEEN:
            sink += calendar_between(cal, starts[i], ends[i]);
            break;
        case SLA: {
            struct sla_times out;
            sla_compute(p, &ladder, ZONE, 1 + (int)(i % 3), starts[i], 0, &out);
            sink += out.stage;
            sla_times_clear(&out);
            break;
        }
        case COPY: {
            struct calendar *c = plan_calendar(p, ZONE);
            sink += calendar_day_length(c);
            calendar_free(c);
            break;
        }
        }
    }
    double ns = (double)(g_get_monotonic_time() - t0) * 1000.0 / n;
    for (guint i = 0; i < n; i++)
        g_clear_pointer(&ends[i], g_date_time_unref);
    g_free(ends);
    return ns;
}

int
main(int argc, char **argv)
{
    const char *const plans[] = { "standard", "default", "extended" };
    guint n = 2000;
    GTimeZone *tz = g_time_zone_new_identifier(ZONE);

    if (argc == 3 && strcmp(argv[1], "-n") == 0)
        n = (guint)atoi(argv[2]);
    if (n == 0) {
        fprintf(stderr, "usage: calendar-time [-n STARTS]\n");
        return 2;
    }
    GDateTime **starts = g_new0(GDateTime *, n);
    GDateTime *first = g_date_time_new(tz, 2026, 1, 1, 0, 0, 0);
    /* In UTC, as the daemon's times are. */
    for (guint i = 0; i < n; i++) {
        GDateTime *t = g_date_time_add_seconds(first, (gdouble)i * (2 * 365 * 86400.0 / n) + 420);
        starts[i] = g_date_time_to_utc(t);
        g_date_time_unref(t);
    }
    g_date_time_unref(first);
    g_time_zone_unref(tz);
    for (guint k = 0; k < G_N_ELEMENTS(plans); k++) {
        struct plan *p = PRESET(plans[k]);
        struct calendar *cal = plan_calendar(p, ZONE);
        for (guint c = 0; c < G_N_ELEMENTS(cases); c++) {
            double best = 0;
            /* sla_compute() and plan_calendar() make their own calendar,
             * and nothing else holds the customer's zone, as in the daemon. */
            if (cases[c].kind == SLA && cal != NULL)
                cal = calendar_free(cal);
            for (int r = 0; r < ROUNDS; r++) {
                double ns = run(p, cal, &cases[c], starts, n);
                if (r == 0 || ns < best)
                    best = ns;
            }
            printf("TIME %s %s %.0f\n", plans[k], cases[c].name, best);
        }
        calendar_free(cal);
        plan_free(p);
    }
    for (guint i = 0; i < n; i++)
        g_date_time_unref(starts[i]);
    g_free(starts);
    return 0;
}
