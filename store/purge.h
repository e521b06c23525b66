/*
 * store/purge.h - retention: the raw messages of closed tickets removed
 * after a while, everything else kept (ticketctl purge).
 *
 * Errors are STORE_ERROR (store/store.h).
 */
#ifndef TM_STORE_PURGE_H
#define TM_STORE_PURGE_H

#include <stdbool.h>

#include <glib.h>

#include "store/admin.h"

struct admin_purge_result {
    guint tickets;
    guint messages;
    guint attachments;
    gint64 bytes;
};

/* Removes the raw messages of closed tickets last updated before BEFORE
 * (ISO 8601 UTC), keeps everything else, and records a "purged" event by
 * ACTOR at AT on each ticket it changed. The attachments' bytes are in the
 * raw message and go with it; ATTACHMENTS counts them, from the JSON list
 * of each purged message (messages.attachments), which is kept as the
 * record of what was attached (name, type, size, hash). */
bool admin_purge(struct admin *a, const char *before, const char *at, const char *actor,
                 struct admin_purge_result *out, GError **error);

#endif
