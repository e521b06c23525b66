/*
 * util/dbtarget.h - what a database setting names: a SQLite file path, or
 * a PostgreSQL connection URI.  Pure text, no I/O: the configuration
 * checks it (config/), and the store opens it (store/db.c).
 */
#ifndef TM_UTIL_DBTARGET_H
#define TM_UTIL_DBTARGET_H

#include <stdbool.h>

/* True when TARGET is a "postgresql://" or "postgres://" URI. */
bool dbtarget_is_uri(const char *target);
/* True when the URI TARGET carries a password (user:password@, or a
 * password= parameter): it belongs in ~/.pgpass or PGPASSFILE, not in a
 * configuration every admin reads and not in the process list. */
bool dbtarget_uri_has_password(const char *target);

#endif
