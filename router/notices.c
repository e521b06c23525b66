/*
 * notices - recipients and the notices every decision shares.
 */
#include <string.h>

#include "router/notices.h"

static void
add_all(GPtrArray *to, char **list)
{
    for (char **p = list; p != NULL && *p != NULL; p++)
        g_ptr_array_add(to, g_strdup(*p));
}

GPtrArray *
notices_recipients(const struct policy *p, const struct ticket *t, int stage, bool always)
{
    GPtrArray *to = g_ptr_array_new_with_free_func(g_free);

    g_assert(stage >= 0 && stage <= 3);
    if (stage >= 1)
        add_all(to, p->stage_contacts[stage]);
    if (to->len == 0 && t->assignee != NULL)
        g_ptr_array_add(to, g_strdup(t->assignee));
    if (to->len == 0)
        add_all(to, p->staff_addresses);
    if (to->len == 0 && always)
        g_ptr_array_add(to, g_strdup(p->support_addresses[0]));
    return to;
}

struct notice_order *
notices_to_requester(struct decision *d, const struct ticket *t, const char *template_name,
                     enum notice_kind kind)
{
    struct notice_order *n;

    if (t->requester == NULL || *t->requester == '\0')
        return NULL;
    n = decision_notice(d, template_name, kind);
    g_ptr_array_add(n->to, g_strdup(t->requester));
    n->to_customer = true;
    return n;
}

struct notice_order *
notices_to_staff(const struct policy *p, struct decision *d, const struct ticket *t, int stage,
                 bool always, const char *template_name)
{
    g_autoptr(GPtrArray) to = notices_recipients(p, t, stage, always);
    struct notice_order *n;

    if (to->len == 0)
        return NULL;
    n = decision_notice(d, template_name, NOTICE_NOTICE);
    g_ptr_array_extend_and_steal(n->to, g_steal_pointer(&to));
    return n;
}

void
notices_stage_entered(const struct policy *p, struct decision *d, const struct ticket *t, int from,
                      const char *cause, const char *why, const char *actor, bool tell_customer)
{
    struct event *e = decision_event(d, EVENT_STAGE, actor);
    struct notice_order *n;
    struct webhook_order *w;

    event_set_int(e, "stage", t->stage);
    event_set_int(e, "from", from);
    event_set_string(e, "reason", why);
    event_set_string(e, "cause", cause);
    if (t->stage <= from)
        return;
    n = notices_to_staff(p, d, t, t->stage, true, "escalation-staff");
    if (n != NULL)
        n->reason = g_strdup(why);
    if (tell_customer && (n = notices_to_requester(d, t, "escalation-customer", NOTICE_NOTICE)))
        n->reason = g_strdup(why);
    /* What a chat channel shows: where it went, and why. */
    w = decision_webhook(d, "escalation",
                         g_strdup_printf("escalated to stage %d (%s)", t->stage, why));
    w->with_subject = true;
    w->detail = json_object_new();
    json_object_set_int_member(w->detail, "stage", t->stage);
    json_object_set_int_member(w->detail, "from", from);
    json_object_set_string_member(w->detail, "cause", cause);
    json_object_set_string_member(w->detail, "reason", why);
}

void
notices_status_change(struct decision *d, const struct ticket *t, enum ticket_status old)
{
    struct notice_order *n = notices_to_requester(d, t, "status-change", NOTICE_NOTICE);

    if (n != NULL)
        n->old_status = g_strdup(ticket_status_name(old));
}
