/*
 * meta - the meta table: a handful of named values (key, value).
 *
 * A set replaces the value (an upsert, the same on every backend); a key
 * that is not set reads as NULL.  On failure: STORE_ERROR from store/db.c.
 */
#include <glib.h>

#include "store/internal.h"
#include "store/meta.h"

bool
store_meta_get(struct store *st, const char *key, char **value, GError **error)
{
    struct db_stmt *s = db_prepare(st->db, "SELECT value FROM meta WHERE key = ?1", error);

    *value = NULL;
    if (s == NULL)
        return false;
    db_bind_text(s, 1, key);
    return store_scalar(s, NULL, value, error);
}

bool
store_meta_set(struct store *st, const char *key, const char *value, GError **error)
{
    struct db_stmt *s = db_prepare(st->db,
                                   "INSERT INTO meta (key, value) VALUES (?1, ?2)"
                                   " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                                   error);

    if (s == NULL)
        return false;
    db_bind_text(s, 1, key);
    db_bind_text(s, 2, value);
    return store_step_done(s, error);
}

bool
store_meta_delete(struct store *st, const char *key, GError **error)
{
    struct db_stmt *s = db_prepare(st->db, "DELETE FROM meta WHERE key = ?1", error);

    if (s == NULL)
        return false;
    db_bind_text(s, 1, key);
    return store_step_done(s, error);
}
