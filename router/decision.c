/*
 * decision - building and freeing decision values.
 */
#include <string.h>

#include "router/decision.h"
#include "util/timefmt.h"

static const char *const kind_names[] = {
    [SENDER_CUSTOMER] = "customer", [SENDER_UNKNOWN] = "unknown",
    [SENDER_STAFF] = "staff",       [SENDER_UNTRUSTED_STAFF] = "untrusted-staff",
    [SENDER_INTERNAL] = "internal", [SENDER_AUTO] = "auto",
    [SENDER_BOUNCE] = "bounce",
};

const char *
sender_kind_name(enum sender_kind k)
{
    g_assert((unsigned)k < G_N_ELEMENTS(kind_names));
    return kind_names[k];
}

static void
notice_order_free(gpointer p)
{
    struct notice_order *n = p;

    g_ptr_array_unref(n->to);
    g_free(n->to_name);
    g_free(n->reason);
    g_free(n->due);
    g_free(n->old_status);
    if (n->unknown_commands != NULL)
        g_ptr_array_unref(n->unknown_commands);
    if (n->removed_recipients != NULL)
        g_ptr_array_unref(n->removed_recipients);
    g_free(n);
}

static void
webhook_order_free(gpointer p)
{
    struct webhook_order *w = p;

    g_free(w->text);
    if (w->detail != NULL)
        json_object_unref(w->detail);
    g_free(w);
}

static void
timer_order_free(gpointer p)
{
    struct timer_order *t = p;

    g_free(t->kind);
    g_free(t->due);
    g_free(t);
}

struct decision *
decision_new(enum router_action action, const char *reason)
{
    struct decision *d = g_new0(struct decision, 1);

    d->action = action;
    d->reason = reason;
    d->events = g_ptr_array_new_with_free_func(event_free);
    d->timers = g_ptr_array_new_with_free_func(timer_order_free);
    d->notices = g_ptr_array_new_with_free_func(notice_order_free);
    d->webhooks = g_ptr_array_new_with_free_func(webhook_order_free);
    return d;
}

struct decision *
decision_free(struct decision *d)
{
    if (d == NULL)
        return NULL;
    g_free(d->requester);
    ticket_free(d->ticket);
    g_ptr_array_unref(d->events);
    g_ptr_array_unref(d->timers);
    g_ptr_array_unref(d->notices);
    g_ptr_array_unref(d->webhooks);
    g_clear_pointer(&d->drop_recipients, g_ptr_array_unref);
    g_free(d);
    return NULL;
}

struct event *
decision_event(struct decision *d, enum event_type type, const char *actor)
{
    struct event *e = event_new(type, actor);

    g_ptr_array_add(d->events, e);
    return e;
}

struct notice_order *
decision_notice(struct decision *d, const char *template_name, enum notice_kind kind)
{
    struct notice_order *n = g_new0(struct notice_order, 1);

    n->template_name = template_name;
    n->kind = kind;
    n->to = g_ptr_array_new_with_free_func(g_free);
    n->auto_submitted = kind == NOTICE_ACK ? "auto-replied" : "auto-generated";
    g_ptr_array_add(d->notices, n);
    return n;
}

void
decision_timer(struct decision *d, const char *kind, GDateTime *due)
{
    struct timer_order *t = g_new0(struct timer_order, 1);

    t->kind = g_strdup(kind);
    t->due = due != NULL ? timefmt_iso8601(due) : NULL;
    g_ptr_array_add(d->timers, t);
}

struct webhook_order *
decision_webhook(struct decision *d, const char *event, char *text)
{
    struct webhook_order *w = g_new0(struct webhook_order, 1);

    w->event = event;
    w->text = text;
    g_ptr_array_add(d->webhooks, w);
    return w;
}

guint
decision_count_notices(const struct decision *d, const char *template_name)
{
    guint n = 0;

    for (guint i = 0; i < d->notices->len; i++) {
        const struct notice_order *o = g_ptr_array_index(d->notices, i);
        if (template_name == NULL || strcmp(o->template_name, template_name) == 0)
            n++;
    }
    return n;
}

/* Whether TO holds ADDR (case-insensitive). */
static bool
has_address(const GPtrArray *to, guint before, const char *addr)
{
    for (guint i = 0; i < before; i++)
        if (g_ascii_strcasecmp(g_ptr_array_index(to, i), addr) == 0)
            return true;
    return false;
}

static bool
same_notice(const struct notice_order *a, const struct notice_order *b)
{
    if (strcmp(a->template_name, b->template_name) != 0 || a->kind != b->kind ||
        a->to->len != b->to->len)
        return false;
    for (guint i = 0; i < a->to->len; i++)
        if (!has_address(b->to, b->to->len, g_ptr_array_index(a->to, i)))
            return false;
    return true;
}

void
decision_settle(struct decision *d)
{
    for (guint i = 0; i < d->notices->len; i++) {
        struct notice_order *n = g_ptr_array_index(d->notices, i);
        for (guint j = n->to->len; j > 1; j--)
            if (has_address(n->to, j - 1, g_ptr_array_index(n->to, j - 1)))
                g_ptr_array_remove_index(n->to, j - 1);
    }
    /* The later of two equal notices is rendered from the same ticket and
     * says the latest reason: the earlier one goes. */
    for (guint i = 0; i < d->notices->len;) {
        bool repeated = false;
        for (guint j = i + 1; j < d->notices->len && !repeated; j++)
            repeated =
                same_notice(g_ptr_array_index(d->notices, i), g_ptr_array_index(d->notices, j));
        if (repeated)
            g_ptr_array_remove_index(d->notices, i);
        else
            i++;
    }
    for (guint i = 0; i < d->webhooks->len;) {
        const struct webhook_order *w = g_ptr_array_index(d->webhooks, i);
        bool repeated = false;
        for (guint j = i + 1; j < d->webhooks->len && !repeated; j++)
            repeated =
                strcmp(w->event,
                       ((const struct webhook_order *)g_ptr_array_index(d->webhooks, j))->event) ==
                0;
        if (repeated)
            g_ptr_array_remove_index(d->webhooks, i);
        else
            i++;
    }
}
