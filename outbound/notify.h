/*
 * notify - a notice about a ticket into the outbox: the template rendered
 * in the reader's language and zone, composed as MIME with our signed
 * Reply-To and loop mark, and a "mail-queued" event; or a webhook.
 *
 * Runs inside the caller's transaction (the writer's, or ticketctl's), so a
 * notice exists exactly when the decision that caused it was committed.
 */
#ifndef TM_OUTBOUND_NOTIFY_H
#define TM_OUTBOUND_NOTIFY_H

#include <stdbool.h>

#include <glib.h>
#include <json-glib/json-glib.h>

#include "config/config.h"
#include "store/store.h"

struct notice {
    const char *template_name;
    const char *kind;           /* "ack" (counts for ack_limit) or "notice" */
    const char *to;             /* comma-separated addresses */
    const char *to_name;        /* for a single recipient, may be NULL */
    const char *language;       /* NULL: the config's */
    const char *timezone;       /* NULL: UTC */
    const char *auto_submitted; /* "auto-replied" for answers, "auto-generated" else */
    /* The message this answers, or NULL. */
    const char *in_reply_to;
    GPtrArray *references;
    const char *message_from;
    const char *message_subject;
    const char *message_text;
    const char *requester_name;
    /* What the notice is about, for its template. */
    const char *goal;
    const char *due;            /* ISO 8601 UTC */
    const char *reason;
    const char *old_status;
    const char *untrusted;
    char **unknown_commands;
};

bool notify_queue(struct store *st, const struct config *cfg, const char *secret,
                  const struct ticket *t, const struct notice *n, GDateTime *now, GError **error);

/* Tells T's requester that its status went from OLD_STATUS to what it is
 * now: the same notice whether staff changed it by mail or by ticketctl. */
bool notify_status_change(struct store *st, const struct config *cfg, const char *secret,
                          const struct ticket *t, const char *old_status, GDateTime *now,
                          GError **error);

/* POSTs EVENT about T to [outbound] webhook_url (nothing when unset):
 * {"event", "ticket": {...}, "detail": {...}, "text"}. DETAIL may be NULL. */
bool notify_webhook(struct store *st, const struct config *cfg, const struct ticket *t,
                    const char *event, const char *text, JsonNode *detail, GDateTime *now,
                    GError **error);

/* The addresses told about a ticket at STAGE: the stage's contacts, else
 * the assignee, else the staff addresses. NULL when there is nobody. */
char *notify_stage_recipients(const struct config *cfg, const struct ticket *t, int stage);

#endif
