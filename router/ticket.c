/*
 * ticket - the ticket model: status names, copy and free.
 *
 * Owns nothing but the struct's own strings.  A status name that is not
 * one of the four is refused by ticket_status_parse(), never guessed.
 */
#include <string.h>

#include "router/ticket.h"

static const char *const status_names[TICKET_STATUS_COUNT] = {
    [TICKET_OPEN] = "open",
    [TICKET_PENDING] = "pending",
    [TICKET_RESOLVED] = "resolved",
    [TICKET_CLOSED] = "closed",
};

const char *
ticket_status_name(enum ticket_status s)
{
    g_assert((unsigned)s < TICKET_STATUS_COUNT);
    return status_names[s];
}

bool
ticket_status_parse(const char *name, enum ticket_status *out)
{
    for (int i = 0; name != NULL && i < TICKET_STATUS_COUNT; i++)
        if (g_ascii_strcasecmp(name, status_names[i]) == 0) {
            *out = (enum ticket_status)i;
            return true;
        }
    return false;
}

bool
ticket_status_is_done(enum ticket_status s)
{
    return s == TICKET_RESOLVED || s == TICKET_CLOSED;
}

struct ticket *
ticket_new(void)
{
    struct ticket *t = g_new0(struct ticket, 1);

    t->status = TICKET_OPEN;
    t->severity = 3;
    t->requester = g_strdup("");
    return t;
}

void
ticket_set(char **field, const char *value)
{
    char *old = *field;

    *field = g_strdup(value);
    g_free(old);
}

/* The string members, so that copy and free cannot disagree on them. */
#define TICKET_STRINGS(X)                                                                          \
    X(tag)                                                                                         \
    X(customer) X(requester) X(subject) X(created_at) X(updated_at) X(clock_start)                 \
        X(first_response_due) X(first_response_at) X(update_from) X(next_update_due)               \
            X(resolution_due) X(resolved_at) X(plan) X(timezone) X(language) X(assignee)           \
                X(paused_at)

struct ticket *
ticket_copy(const struct ticket *t)
{
    struct ticket *c = g_new0(struct ticket, 1);

    *c = *t;
#define COPY(f) c->f = g_strdup(t->f);
    TICKET_STRINGS(COPY)
#undef COPY
    return c;
}

struct ticket *
ticket_free(struct ticket *t)
{
    if (t == NULL)
        return NULL;
#define FREE(f) g_free(t->f);
    TICKET_STRINGS(FREE)
#undef FREE
    g_free(t);
    return NULL;
}
