/*
 * secret - the signing key kept in the meta table.
 */
#include <errno.h>
#include <sys/random.h>

#include <gio/gio.h>

#include "store/store.h"

char *
store_signing_secret(struct store *st, GError **error)
{
    char *secret = NULL;
    guint8 bytes[32];

    if (!store_meta_get(st, "secret", &secret, error))
        return NULL;
    if (secret != NULL)
        return secret;
    /* GLib's generator is not meant for keys; the kernel's is. */
    if (getrandom(bytes, sizeof(bytes), 0) != (ssize_t)sizeof(bytes)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "getrandom: %s", g_strerror(errno));
        return NULL;
    }
    secret = g_compute_checksum_for_data(G_CHECKSUM_SHA256, bytes, sizeof(bytes));
    if (!store_meta_set(st, "secret", secret, error))
        g_clear_pointer(&secret, g_free);
    return secret;
}
