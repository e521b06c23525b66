/*
 * report - the figures of a service report, from tickets and their events.
 *
 * Owns: nothing beyond the report value it returns; per ticket it builds a
 * status timeline (created: open; then every status and reopened event)
 * and measures business time over the open stretches of it on the
 * ticket's plan calendar in the ticket's zone.
 *
 * Edge cases: a ticket whose plan is gone from the config counts on the
 * standard plan (as its clocks do); an event whose detail lacks a member
 * is taken without it (an unknown escalation cause is counted in the
 * group's escalations, not in the table by cause); a history without
 * status events (rows older than the events) ends in the status the ticket
 * has, from its resolution time or last change.  A period longer than
 * REPORT_MAX_DAYS has its backlog cut there.
 *
 * Failures: none; every input is read as it is, and bad times are left out.
 */
#include <string.h>

#include "router/report.h"
#include "util/percentile.h"
#include "util/timefmt.h"

const char *const report_cause_names[CAUSE_COUNT] = {
    "automatic", "missed-goal", "ladder", "customer", "staff",
};

const int report_within_days[REPORT_WITHIN_COUNT] = { 1, 2, 5 };

const gint64 report_bucket_limits[REPORT_BUCKETS - 1] = {
    15 * 60, 30 * 60, 3600, 2 * 3600, 4 * 3600, 8 * 3600, 24 * 3600, 72 * 3600,
};

enum {
    SAMPLE_RESPONSE_BUSINESS,
    SAMPLE_RESPONSE_REAL,
    SAMPLE_RESOLUTION_BUSINESS,
    SAMPLE_RESOLUTION_REAL,
    SAMPLE_COUNT
};

enum verdict {
    VERDICT_NONE,
    VERDICT_MET,
    VERDICT_MISSED,
    VERDICT_RUNNING
};

/* ---- the input values ---- */

struct report_event *
report_event_new(void)
{
    return g_new0(struct report_event, 1);
}

void
report_event_free(gpointer p)
{
    struct report_event *e = p;

    if (e == NULL)
        return;
    g_free(e->goal);
    g_free(e->due);
    g_free(e->cause);
    g_free(e->to_status);
    g_free(e);
}

struct report_ticket *
report_ticket_new(struct ticket *t)
{
    struct report_ticket *rt = g_new0(struct report_ticket, 1);

    rt->ticket = t;
    rt->events = g_ptr_array_new_with_free_func(report_event_free);
    return rt;
}

void
report_ticket_free(gpointer p)
{
    struct report_ticket *rt = p;

    if (rt == NULL)
        return;
    ticket_free(rt->ticket);
    g_ptr_array_unref(rt->events);
    g_free(rt);
}

bool
report_event_type(const char *name, enum event_type *out)
{
    for (int i = 0; name != NULL && i < EVENT_TYPE_COUNT; i++) {
        if (strcmp(event_type_name((enum event_type)i), name) == 0) {
            *out = (enum event_type)i;
            return true;
        }
    }
    return false;
}

double
report_percent(guint part, guint whole)
{
    if (whole == 0)
        return -1;
    /* Half a tenth up, in integers. */
    return (double)((2000 * (guint64)part + whole) / (2 * (guint64)whole)) / 10.0;
}

void
report_last_month(GDateTime *now, const char *zone, gint64 *from, gint64 *to)
{
    g_autoptr(GTimeZone) tz = g_time_zone_new_identifier(zone != NULL ? zone : "UTC");
    g_autoptr(GDateTime) local = NULL;
    g_autoptr(GDateTime) first = NULL;
    g_autoptr(GDateTime) before = NULL;

    if (tz == NULL)
        tz = g_time_zone_new_utc();
    local = g_date_time_to_timezone(now, tz);
    first =
        g_date_time_new(tz, g_date_time_get_year(local), g_date_time_get_month(local), 1, 0, 0, 0);
    before = g_date_time_add_months(first, -1);
    *from = g_date_time_to_unix(before);
    *to = g_date_time_to_unix(first);
}

/* ---- one ticket's facts ---- */

struct step {
    gint64 at;
    enum ticket_status status;
};

struct facts {
    const struct report_ticket *rt;
    const struct plan *plan;
    struct calendar *cal;
    int severity;
    gint64 created;
    GArray *steps; /* struct step, the first is the creation */
    enum ticket_status status_end;
    gint64 first_response; /* -1: none before END */
    gint64 resolved;       /* the resolution in force at END; -1: none */
    bool is_cohort;
};

static gint64
unix_of(const char *iso)
{
    g_autoptr(GDateTime) t = iso != NULL ? timefmt_parse(iso) : NULL;

    return t != NULL ? g_date_time_to_unix(t) : -1;
}

/* Whether a fact at AT happened within the report: before TO, by NOW. */
static bool
counts(const struct report *r, gint64 at)
{
    return at >= 0 && at < r->to && at <= r->now;
}

/* Whether a deadline DUE had passed at the end of the report. */
static bool
has_passed(const struct report *r, gint64 due)
{
    return due >= 0 && due < r->to && due < r->now;
}

static void
build_steps(const struct report *r, struct facts *f)
{
    const struct ticket *t = f->rt->ticket;
    struct step s = { f->created, TICKET_OPEN };
    bool has_status_events = false;

    g_array_append_val(f->steps, s);
    for (guint i = 0; i < f->rt->events->len; i++) {
        const struct report_event *e = g_ptr_array_index(f->rt->events, i);
        enum ticket_status to;
        if ((e->type != EVENT_STATUS && e->type != EVENT_REOPENED) ||
            !ticket_status_parse(e->to_status != NULL ? e->to_status : "", &to))
            continue;
        has_status_events = true;
        s = (struct step){ MAX(e->at, f->created), to };
        g_array_append_val(f->steps, s);
    }
    if (!has_status_events && t->status != TICKET_OPEN) {
        gint64 at = ticket_status_is_done(t->status) ? unix_of(t->resolved_at) : -1;
        if (at < 0)
            at = unix_of(t->updated_at);
        s = (struct step){ MAX(at, f->created), t->status };
        g_array_append_val(f->steps, s);
    }
    /* The status at the end, and when the ticket last became done. */
    f->status_end = TICKET_OPEN;
    f->resolved = -1;
    for (guint i = 0; i < f->steps->len; i++) {
        const struct step *st = &g_array_index(f->steps, struct step, i);
        if (!counts(r, st->at))
            break;
        if (ticket_status_is_done(st->status) && !ticket_status_is_done(f->status_end))
            f->resolved = st->at;
        f->status_end = st->status;
    }
    if (!ticket_status_is_done(f->status_end))
        f->resolved = -1;
}

/* The status at instant X (facts before X); false when not created yet. */
static bool
status_at(const struct facts *f, gint64 x, enum ticket_status *out)
{
    if (f->created < 0 || f->created >= x)
        return false;
    *out = TICKET_OPEN;
    for (guint i = 0; i < f->steps->len; i++) {
        const struct step *st = &g_array_index(f->steps, struct step, i);
        if (st->at >= x)
            break;
        *out = st->status;
    }
    return true;
}

static gint64
business_between(const struct calendar *cal, gint64 a, gint64 b)
{
    g_autoptr(GDateTime) ta = NULL;
    g_autoptr(GDateTime) tb = NULL;

    if (b <= a)
        return 0;
    ta = g_date_time_new_from_unix_utc(a);
    tb = g_date_time_new_from_unix_utc(b);
    return calendar_between(cal, ta, tb);
}

/* Business seconds in [A, B) while the ticket was open. */
static gint64
open_business(const struct facts *f, gint64 a, gint64 b)
{
    gint64 total = 0;

    for (guint i = 0; i < f->steps->len; i++) {
        const struct step *st = &g_array_index(f->steps, struct step, i);
        gint64 end =
            i + 1 < f->steps->len ? g_array_index(f->steps, struct step, i + 1).at : G_MAXINT64;
        if (st->status != TICKET_OPEN)
            continue;
        total += business_between(f->cal, MAX(st->at, a), MIN(end, b));
    }
    return total;
}

static void
facts_init(const struct report *r, const struct policy *policy, const struct plan *fallback,
           const struct report_ticket *rt, struct facts *f)
{
    const struct ticket *t = rt->ticket;
    gint64 fr = unix_of(t->first_response_at);

    memset(f, 0, sizeof(*f));
    f->rt = rt;
    f->plan = policy != NULL ? policy_plan(policy, t->plan) : fallback;
    f->cal = plan_calendar(f->plan, t->timezone);
    /* Indexes below are by severity: the store keeps it in range. */
    f->severity = CLAMP(t->severity, 1, 4);
    f->created = unix_of(t->created_at);
    f->steps = g_array_new(FALSE, FALSE, sizeof(struct step));
    build_steps(r, f);
    f->first_response = counts(r, fr) ? fr : -1;
    f->is_cohort = f->created >= r->from && counts(r, f->created);
}

static void
facts_clear(struct facts *f)
{
    calendar_free(f->cal);
    g_array_unref(f->steps);
}

static enum verdict
judge(const struct report *r, const struct facts *f, gint64 fact, gint64 due)
{
    if (due < 0)
        return VERDICT_NONE;
    if (fact >= 0)
        return fact <= due ? VERDICT_MET : VERDICT_MISSED;
    /* Waiting for the customer: the goal's clock stands still. */
    if (f->status_end == TICKET_PENDING)
        return VERDICT_RUNNING;
    return has_passed(r, due) ? VERDICT_MISSED : VERDICT_RUNNING;
}

static bool
has_update_breach(const struct report *r, const struct facts *f)
{
    for (guint i = 0; i < f->rt->events->len; i++) {
        const struct report_event *e = g_ptr_array_index(f->rt->events, i);
        if (e->type == EVENT_SLA_BREACH && g_strcmp0(e->goal, "update") == 0 && counts(r, e->at))
            return true;
    }
    return false;
}

/* ---- accumulating groups ---- */

struct acc {
    struct report_group *g;
    GArray *samples[SAMPLE_COUNT];
};

static struct acc *
acc_new(struct report_group *g)
{
    struct acc *a = g_new0(struct acc, 1);

    a->g = g;
    for (int i = 0; i < SAMPLE_COUNT; i++)
        a->samples[i] = g_array_new(FALSE, FALSE, sizeof(gint64));
    return a;
}

static gint
compare_gint64(gconstpointer a, gconstpointer b)
{
    gint64 x = *(const gint64 *)a, y = *(const gint64 *)b;

    return x < y ? -1 : x > y;
}

static void
stat_of(GArray *values, struct report_stat *out)
{
    g_array_sort(values, compare_gint64);
    out->count = values->len;
    out->median = percentile_nearest_rank((gint64 *)values->data, values->len, 50);
    out->p90 = percentile_nearest_rank((gint64 *)values->data, values->len, 90);
    out->max = values->len > 0 ? g_array_index(values, gint64, values->len - 1) : -1;
}

static void
acc_free(gpointer p)
{
    struct acc *a = p;
    struct report_stat *stats[SAMPLE_COUNT] = {
        &a->g->response_business,
        &a->g->response_real,
        &a->g->resolution_business,
        &a->g->resolution_real,
    };

    for (int i = 0; i < SAMPLE_COUNT; i++) {
        stat_of(a->samples[i], stats[i]);
        g_array_unref(a->samples[i]);
    }
    g_free(a);
}

static void
count_verdict(struct report_goal *g, enum verdict v)
{
    if (v == VERDICT_MET)
        g->met++;
    else if (v == VERDICT_MISSED)
        g->missed++;
    else if (v == VERDICT_RUNNING)
        g->running++;
}

static bool
in_window(const struct report *r, gint64 at)
{
    return at >= r->from && counts(r, at);
}

/* What the tickets opened in the period add to a group. */
static void
add_cohort(const struct report *r, const struct facts *f, struct acc *a)
{
    const struct ticket *t = f->rt->ticket;
    struct report_group *g = a->g;
    gint64 response_fact = f->first_response >= 0 ? f->first_response : f->resolved;
    gint64 day = calendar_day_length(f->cal);

    g->opened++;
    count_verdict(&g->goals[GOAL_RESPONSE],
                  judge(r, f, response_fact, unix_of(t->first_response_due)));
    count_verdict(&g->goals[GOAL_RESOLUTION], judge(r, f, f->resolved, unix_of(t->resolution_due)));
    if (f->plan->goals[f->severity][GOAL_UPDATE].unit != UNIT_NONE && f->first_response >= 0)
        count_verdict(&g->goals[GOAL_UPDATE],
                      has_update_breach(r, f) ? VERDICT_MISSED : VERDICT_MET);
    if (f->first_response >= 0) {
        gint64 real = f->first_response - f->created;
        gint64 business = open_business(f, f->created, f->first_response);
        g_array_append_val(a->samples[SAMPLE_RESPONSE_REAL], real);
        g_array_append_val(a->samples[SAMPLE_RESPONSE_BUSINESS], business);
    }
    if (f->resolved >= 0) {
        gint64 real = f->resolved - f->created;
        gint64 business = open_business(f, f->created, f->resolved);
        g_array_append_val(a->samples[SAMPLE_RESOLUTION_REAL], real);
        g_array_append_val(a->samples[SAMPLE_RESOLUTION_BUSINESS], business);
    }
    for (int i = 0; i < REPORT_WITHIN_COUNT; i++) {
        gint64 limit = report_within_days[i] * day;
        if (f->resolved >= 0) {
            g->within[i].decided++;
            g->within[i].within += open_business(f, f->created, f->resolved) <= limit;
        } else if (open_business(f, f->created, MIN(r->to, r->now + 1)) > limit) {
            g->within[i].decided++;
        }
    }
}

static void
add_ticket(const struct report *r, const struct facts *f, struct acc *a)
{
    struct report_group *g = a->g;

    if (f->is_cohort)
        add_cohort(r, f, a);
    if (f->resolved >= 0 && f->resolved >= r->from)
        g->resolved++;
    if (!ticket_status_is_done(f->status_end) && counts(r, f->created))
        g->open_at_end++;
    for (guint i = 0; i < f->rt->events->len; i++) {
        const struct report_event *e = g_ptr_array_index(f->rt->events, i);
        if (!in_window(r, e->at))
            continue;
        if (e->type == EVENT_SLA_BREACH)
            g->breaches++;
        else if (e->type == EVENT_STAGE && e->stage > e->from_stage)
            g->escalations++;
    }
}

/* ---- what the report holds once ---- */

static void
add_events(struct report *r, const struct facts *f)
{
    const struct ticket *t = f->rt->ticket;

    for (guint i = 0; i < f->rt->events->len; i++) {
        const struct report_event *e = g_ptr_array_index(f->rt->events, i);
        if (!in_window(r, e->at))
            continue;
        if (e->type == EVENT_STAGE && e->stage > e->from_stage && e->stage >= 1 && e->stage <= 3) {
            for (int c = 0; c < CAUSE_COUNT; c++)
                if (g_strcmp0(e->cause, report_cause_names[c]) == 0)
                    r->escalations[e->stage][c]++;
        } else if (e->type == EVENT_SLA_BREACH) {
            struct report_breach *b = g_new0(struct report_breach, 1);
            b->tag = g_strdup(t->tag);
            b->subject = g_strdup(t->subject);
            b->customer = g_strdup(t->customer);
            b->severity = e->severity >= 1 && e->severity <= 4 ? e->severity : f->severity;
            b->goal = g_strdup(e->goal);
            b->due = g_strdup(e->due);
            b->at = e->at;
            g_ptr_array_add(r->breaches, b);
        }
    }
    if (!f->is_cohort)
        return;
    if (f->first_response < 0) {
        r->no_response++;
    } else {
        gint64 business = open_business(f, f->created, f->first_response);
        int k = 0;
        while (k < REPORT_BUCKETS - 1 && business > report_bucket_limits[k])
            k++;
        r->response_buckets[k]++;
    }
}

static void
breach_free(gpointer p)
{
    struct report_breach *b = p;

    g_free(b->tag);
    g_free(b->subject);
    g_free(b->customer);
    g_free(b->goal);
    g_free(b->due);
    g_free(b);
}

static gint
breach_order(gconstpointer a, gconstpointer b)
{
    const struct report_breach *x = *(struct report_breach *const *)a;
    const struct report_breach *y = *(struct report_breach *const *)b;

    return x->at != y->at ? (x->at < y->at ? -1 : 1) : g_strcmp0(x->tag, y->tag);
}

static void
group_free(gpointer p)
{
    struct report_group *g = p;

    g_free(g->name);
    g_free(g);
}

static gint
group_order(gconstpointer a, gconstpointer b)
{
    const struct report_group *x = *(struct report_group *const *)a;
    const struct report_group *y = *(struct report_group *const *)b;

    /* The unknown sender (no name) last. */
    if (x->name == NULL || y->name == NULL)
        return (x->name == NULL) - (y->name == NULL);
    return strcmp(x->name, y->name);
}

/* The accumulator of group NAME in TABLE, made and added to LIST when new. */
static struct acc *
named_acc(GHashTable *table, GPtrArray *list, const char *name)
{
    const char *key = name != NULL ? name : "";
    struct acc *a = g_hash_table_lookup(table, key);

    if (a == NULL) {
        struct report_group *g = g_new0(struct report_group, 1);
        g->name = g_strdup(name);
        g_ptr_array_add(list, g);
        a = acc_new(g);
        g_hash_table_insert(table, g_strdup(key), a);
    }
    return a;
}

static void
compute_backlog(struct report *r, struct facts *all, guint n)
{
    g_autoptr(GTimeZone) tz = g_time_zone_new_identifier(r->zone);
    g_autoptr(GDateTime) from = g_date_time_new_from_unix_utc(r->from);
    g_autoptr(GDateTime) local = NULL;
    GDateTime *day;

    if (tz == NULL)
        tz = g_time_zone_new_utc();
    local = g_date_time_to_timezone(from, tz);
    day = g_date_time_new(tz, g_date_time_get_year(local), g_date_time_get_month(local),
                          g_date_time_get_day_of_month(local), 0, 0, 0);
    for (guint d = 0; d < REPORT_MAX_DAYS; d++) {
        GDateTime *next = g_date_time_add_days(day, 1);
        gint64 start = g_date_time_to_unix(day), x = g_date_time_to_unix(next);
        struct report_day out = { .open = 0 };
        if (start >= r->to || start > r->now) {
            g_date_time_unref(next);
            break;
        }
        /* The end of the day, or now for the day that is not over. */
        x = MIN(MIN(x, r->to), r->now + 1);
        for (guint i = 0; i < n; i++) {
            enum ticket_status s;
            if (status_at(&all[i], x, &s) && !ticket_status_is_done(s))
                out.open++;
        }
        g_snprintf(out.date, sizeof(out.date), "%04d-%02d-%02d", g_date_time_get_year(day),
                   g_date_time_get_month(day), g_date_time_get_day_of_month(day));
        g_array_append_val(r->backlog, out);
        g_date_time_unref(day);
        day = next;
    }
    g_date_time_unref(day);
}

struct report *
report_compute(const struct report_params *p, const GPtrArray *tickets)
{
    struct report *r = g_new0(struct report, 1);
    g_autoptr(GHashTable) plans = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, acc_free);
    g_autoptr(GHashTable) customers =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, acc_free);
    struct plan *fallback = p->policy == NULL ? plan_preset("standard") : NULL;
    struct facts *all = g_new0(struct facts, tickets->len);
    struct acc *total, *severity[5];

    r->from = p->from;
    r->to = p->to;
    r->now = p->now;
    r->end = MIN(p->to, p->now);
    r->zone = g_strdup(p->zone != NULL ? p->zone : "UTC");
    r->plans = g_ptr_array_new_with_free_func(group_free);
    r->customers = g_ptr_array_new_with_free_func(group_free);
    r->breaches = g_ptr_array_new_with_free_func(breach_free);
    r->backlog = g_array_new(FALSE, FALSE, sizeof(struct report_day));
    total = acc_new(&r->total);
    for (int s = 1; s <= 4; s++) {
        r->severity[s].severity = s;
        severity[s] = acc_new(&r->severity[s]);
    }
    for (guint i = 0; i < tickets->len; i++) {
        struct facts *f = &all[i];
        enum ticket_status s;
        facts_init(r, p->policy, fallback, g_ptr_array_index(tickets, i), f);
        if (f->created < 0)
            continue;
        add_ticket(r, f, total);
        add_ticket(r, f, severity[f->severity]);
        add_ticket(r, f, named_acc(plans, r->plans, f->plan->name));
        add_ticket(r, f, named_acc(customers, r->customers, f->rt->ticket->customer));
        add_events(r, f);
        if (status_at(f, r->from, &s) && !ticket_status_is_done(s))
            r->open_at_start++;
    }
    compute_backlog(r, all, tickets->len);
    for (guint i = 0; i < tickets->len; i++)
        facts_clear(&all[i]);
    g_free(all);
    acc_free(total);
    for (int s = 1; s <= 4; s++)
        acc_free(severity[s]);
    g_clear_pointer(&plans, g_hash_table_unref);
    g_clear_pointer(&customers, g_hash_table_unref);
    g_ptr_array_sort(r->plans, group_order);
    g_ptr_array_sort(r->customers, group_order);
    g_ptr_array_sort(r->breaches, breach_order);
    plan_free(fallback);
    return r;
}

struct report *
report_free(struct report *r)
{
    if (r == NULL)
        return NULL;
    g_free(r->zone);
    g_ptr_array_unref(r->plans);
    g_ptr_array_unref(r->customers);
    g_ptr_array_unref(r->breaches);
    g_array_unref(r->backlog);
    g_free(r);
    return NULL;
}
