/*
 * policy - lookups in the policy the config built.
 */
#include <string.h>

#include "router/policy.h"

const struct plan *
policy_plan(const struct policy *p, const char *name)
{
    const struct plan *standard = NULL;

    for (guint i = 0; p->plans != NULL && i < p->plans->len; i++) {
        const struct plan *plan = g_ptr_array_index(p->plans, i);
        if (name != NULL && strcmp(plan->name, name) == 0)
            return plan;
        if (strcmp(plan->name, "standard") == 0)
            standard = plan;
    }
    /* A plan removed from the config since the ticket was made: the
     * built-in standard plan is always there. */
    return standard;
}

const struct customer *
policy_customer_named(const struct policy *p, const char *name)
{
    for (guint i = 0; name != NULL && p->customers != NULL && i < p->customers->len; i++) {
        const struct customer *c = g_ptr_array_index(p->customers, i);
        if (g_ascii_strcasecmp(c->name, name) == 0)
            return c;
    }
    return NULL;
}
