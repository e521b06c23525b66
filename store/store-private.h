/*
 * store-private - what store.c shares with the writer thread and nobody else.
 */
#ifndef TM_STORE_PRIVATE_H
#define TM_STORE_PRIVATE_H

#include <stdbool.h>

#include <glib.h>

#include "store/store.h"

/* One job's changes inside the writer's transaction. */
bool store_savepoint(struct store *st, GError **error);
bool store_savepoint_release(struct store *st, GError **error);
void store_savepoint_rollback(struct store *st);
/* False once SQLite has rolled the whole transaction back on its own
 * (it does so on some disk-full and I/O errors). */
bool store_in_transaction(struct store *st);

/* Fills ERROR from SQLite result RC for the step named WHAT. */
void store_set_error(struct store *st, int rc, GError **error, const char *what);

#endif
