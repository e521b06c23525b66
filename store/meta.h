/*
 * store/meta.h - small named values kept in the database (the meta table):
 * when the last backup was verified, and what older versions kept there.
 *
 * Errors are STORE_ERROR (store/store.h).
 */
#ifndef TM_STORE_META_H
#define TM_STORE_META_H

#include <stdbool.h>

#include <glib.h>

#include "store/store.h"

/* When ticketctl backup last wrote and verified a copy (ISO 8601 UTC). */
#define STORE_META_BACKUP_VERIFIED "backup_verified_at"

/* *VALUE is NULL when KEY is not set.  (Versions before secret_file kept
 * the signing secret here, as "secret".) */
bool store_meta_get(struct store *st, const char *key, char **value, GError **error);
/* Sets KEY to VALUE, replacing what it had. */
bool store_meta_set(struct store *st, const char *key, const char *value, GError **error);
bool store_meta_delete(struct store *st, const char *key, GError **error);

#endif
