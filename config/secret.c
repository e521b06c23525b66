/*
 * secret - reading and making the secret file.
 *
 * Made with O_CREAT|O_EXCL|O_NOFOLLOW and mode 0600, so that two daemons
 * starting at once cannot both write one, and a symlink planted at the
 * path is not followed.  Read with O_NOFOLLOW, and refused when others
 * than its owner may read or change it: a key anyone can read signs
 * anything.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gio/gio.h>

#include "config/config.h"
#include "config/secret.h"

#define SECRET_MAX 4096

static bool
make_secret(const char *path, const char *seed, GError **error)
{
    g_autofree char *text = NULL;
    guint8 bytes[32];
    int fd;

    if (seed == NULL) {
        /* GLib's generator is not meant for keys; the kernel's is. */
        if (getrandom(bytes, sizeof(bytes), 0) != (ssize_t)sizeof(bytes)) {
            g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_IO, "%s: getrandom: %s", path,
                        g_strerror(errno));
            return false;
        }
        text = g_compute_checksum_for_data(G_CHECKSUM_SHA256, bytes, sizeof(bytes));
        memset(bytes, 0, sizeof(bytes));
    } else {
        text = g_strdup(seed);
    }
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        /* Another daemon made it first: read that one. */
        if (errno == EEXIST)
            return true;
        g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_IO, "%s: cannot create the secret file: %s",
                    path, g_strerror(errno));
        return false;
    }
    gsize len = strlen(text);
    bool ok = write(fd, text, len) == (ssize_t)len && write(fd, "\n", 1) == 1 && fsync(fd) == 0;
    int saved = errno;
    close(fd);
    if (!ok) {
        unlink(path);
        g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_IO, "%s: cannot write the secret file: %s",
                    path, g_strerror(saved));
    }
    return ok;
}

char *
config_secret_load(const char *path, bool create, const char *seed, GError **error)
{
    char buf[SECRET_MAX + 1];
    struct stat sb;
    ssize_t n;
    int fd;

    fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && create) {
        if (!make_secret(path, seed, error))
            return NULL;
        fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (fd < 0) {
        g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_IO,
                    "%s: cannot read the secret file ([milter] secret_file): %s", path,
                    g_strerror(errno));
        return NULL;
    }
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || (sb.st_mode & 0077) != 0) {
        close(fd);
        g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_IO,
                    "%s: the secret file must be a regular file that only its owner can read"
                    " (chmod 600)",
                    path);
        return NULL;
    }
    n = read(fd, buf, SECRET_MAX);
    close(fd);
    if (n < 0) {
        g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_IO, "%s: %s", path, g_strerror(errno));
        return NULL;
    }
    buf[n] = '\0';
    g_strstrip(buf);
    if (strlen(buf) < 16 || !g_utf8_validate(buf, -1, NULL)) {
        memset(buf, 0, sizeof(buf));
        g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_VALUE,
                    "%s: the secret must be at least 16 characters of text (a long random"
                    " string)",
                    path);
        return NULL;
    }
    char *secret = g_strdup(buf);
    memset(buf, 0, sizeof(buf));
    return secret;
}
