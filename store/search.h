/*
 * store/search.h - full-text search over the tickets (ticketctl search),
 * and keeping its index up to date (the daemon's writer).
 *
 * Errors are STORE_ERROR (store/store.h).
 */
#ifndef TM_STORE_SEARCH_H
#define TM_STORE_SEARCH_H

#include <stdbool.h>

#include <glib.h>

#include "store/admin.h"
#include "store/store.h"

/* Adds the tickets and messages written since the last call to the
 * full-text index ticketctl search reads, at most LIMIT (> 0) of each, in
 * the caller's transaction.  *MORE says whether rows are left for another
 * call.  The daemon's writer calls it when it is idle (store/writer.c);
 * until then a new row is stored but not found by a search. */
bool store_fts_index(struct store *st, guint limit, bool *more, GError **error);

struct admin_hit {
    gint64 ticket_id;
    char *tag;
    char *status;
    char *subject;
    char *snippet; /* the best matching words in context, matches in [ ] */
};

/* TEXT is what the admin typed: every word must occur somewhere in the
 * ticket, in its subject or in any of its messages, not necessarily in the
 * same one (a trailing '*' makes a word a prefix); FTS5 syntax in TEXT is
 * taken literally. Best first (struct admin_hit*), at most LIMIT. At most
 * ADMIN_SEARCH_MAX_WORDS words. */
GPtrArray *admin_search(struct admin *a, const char *text, guint limit, GError **error);
#define ADMIN_SEARCH_MAX_WORDS 16
/* The FTS5 query for TEXT; NULL when TEXT has no words. */
char *admin_search_query(const char *text);

#endif
