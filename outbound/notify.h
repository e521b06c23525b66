/*
 * notify - a notice into the outbox: the template rendered in the reader's
 * language and zone, composed as MIME with our signed Reply-To, return path
 * and loop mark, and a "mail-queued" event; or a webhook.
 *
 * Runs inside the caller's transaction (the writer's, or ticketctl's), so a
 * notice exists exactly when the decision that caused it was committed.
 * What is sent and to whom is the router's decision (struct notice_order);
 * this file only renders it.
 */
#ifndef TM_OUTBOUND_NOTIFY_H
#define TM_OUTBOUND_NOTIFY_H

#include <stdbool.h>

#include <glib.h>
#include <json-glib/json-glib.h>

#include "config/config.h"
#include "parser/mail.h"
#include "router/decision.h"
#include "router/keys.h"
#include "store/store.h"

/* Renders N about T and queues it. ABOUT is the incoming mail the notice
 * answers (threading and quoting when N->about_message), or NULL. */
bool notify_queue(struct store *st, const struct config *cfg, const struct keys *keys,
                  const struct ticket *t, const struct notice_order *n, const struct mail *about,
                  GDateTime *now, GError **error);

/* POSTs EVENT about T to [outbound] webhook_url (nothing when unset):
 * {"event", "at", "ticket": {...}, "detail": {...}, "text"}. DETAIL may be
 * NULL; TEXT is shown by chat channels as markup: no customer's words may be
 * in it unescaped (outbound/chat.h). */
bool notify_webhook(struct store *st, const struct config *cfg, const struct ticket *t,
                    const char *event, const char *text, JsonObject *detail, GDateTime *now,
                    GError **error);

#endif
