/*
 * secret - the one secret every signed value on our mail derives from.
 *
 * A file of its own, mode 0600, owned by the daemon's user: not a database
 * row, so that readers of the database and its backups do not carry it.
 * The daemon makes it on first start (32 random bytes from the kernel,
 * written as hex); ticketctl reads it to sign the notices it sends.
 */
#ifndef TM_CONFIG_SECRET_H
#define TM_CONFIG_SECRET_H

#include <stdbool.h>

#include <glib.h>

/* The secret in PATH.  When PATH does not exist and CREATE is set, it is
 * made: holding SEED when given (the secret an older version kept in the
 * database), else random.  Fails with a sentence naming the file when it
 * cannot be read, is shorter than 16 characters, can be read or written by
 * others than its owner, belongs to another user than the effective one
 * and root (root may also read a file of its directory's owner: ticketctl
 * reading the daemon's secret), or sits in a directory every user may
 * write to. */
char *config_secret_load(const char *path, bool create, const char *seed, GError **error);

#endif
