/*
 * secret - reading and making the secret file.
 *
 * Made with O_CREAT|O_EXCL|O_NOFOLLOW and mode 0600, so that two daemons
 * starting at once cannot both write one, and a symlink planted at the
 * path is not followed.  Read with O_NOFOLLOW, and refused when others
 * than its owner may read or change it: a key anyone can read signs
 * anything.  The file is opened relative to its directory, which is
 * checked first and once, so that what was checked is what is read.
 *
 * Whose file: it must belong to the user reading it, or to root; a file
 * another user made (in a directory that let them) holds a key that user
 * knows.  Root (ticketctl run by the admin) may also read one that belongs
 * to the owner of its directory: the daemon's user in the daemon's own
 * directory.  The directory must not be writable by every user (/tmp, a
 * world-writable share): anyone could put their own file there before the
 * daemon makes one, or swap it later.
 *
 * Failure: every refusal is an error whose sentence names the file and
 * what to change.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gio/gio.h>

#include "config/config.h"
#include "config/secret.h"

#define SECRET_MAX 4096

/* "name (uid N)", or "uid N" for a user the system does not know. */
static char *
user_text(uid_t uid)
{
    struct passwd pw;
    struct passwd *found = NULL;
    char buf[1024];

    if (getpwuid_r(uid, &pw, buf, sizeof(buf), &found) == 0 && found != NULL)
        return g_strdup_printf("%s (uid %u)", found->pw_name, (unsigned)uid);
    return g_strdup_printf("uid %u", (unsigned)uid);
}

/* Whether SB, the secret file in a directory owned by DIR_OWNER, belongs
 * to someone this process may take a key from (see the top). */
static bool
is_trusted_owner(const struct stat *sb, uid_t dir_owner)
{
    uid_t me = geteuid();

    return sb->st_uid == me || sb->st_uid == 0 || (me == 0 && sb->st_uid == dir_owner);
}

/* The directory of PATH, opened, when it is fit to hold the secret. */
static int
open_dir(const char *path, struct stat *ds, GError **error)
{
    g_autofree char *dir = g_path_get_dirname(path);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (dfd < 0 || fstat(dfd, ds) != 0) {
        int saved = errno;
        if (dfd >= 0)
            close(dfd);
        g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_IO,
                    "%s: cannot open the directory of the secret file ([milter] secret_file): %s",
                    path, g_strerror(saved));
        return -1;
    }
    if ((ds->st_mode & S_IWOTH) != 0) {
        close(dfd);
        g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_IO,
                    "%s: the secret file is in %s, which every user may write to, so anyone"
                    " could replace it; keep it in a directory only its owner can change"
                    " (chmod o-w %s, or move it with [milter] secret_file)",
                    path, dir, dir);
        return -1;
    }
    return dfd;
}

static bool
make_secret(int dfd, const char *name, const char *path, const char *seed, GError **error)
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
    fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
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
        unlinkat(dfd, name, 0);
        g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_IO, "%s: cannot write the secret file: %s",
                    path, g_strerror(saved));
    }
    return ok;
}

/* The secret file, open for reading, when it may be believed. */
static int
open_secret(const char *path, bool create, const char *seed, GError **error)
{
    g_autofree char *name = g_path_get_basename(path);
    struct stat ds;
    struct stat sb;
    int dfd = open_dir(path, &ds, error);
    int fd;

    if (dfd < 0)
        return -1;
    fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && create) {
        if (!make_secret(dfd, name, path, seed, error)) {
            close(dfd);
            return -1;
        }
        fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    }
    close(dfd);
    if (fd < 0) {
        g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_IO,
                    "%s: cannot read the secret file ([milter] secret_file): %s", path,
                    g_strerror(errno));
        return -1;
    }
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || (sb.st_mode & 0077) != 0) {
        close(fd);
        g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_IO,
                    "%s: the secret file must be a regular file that only its owner can read"
                    " (chmod 600)",
                    path);
        return -1;
    }
    if (!is_trusted_owner(&sb, ds.st_uid)) {
        g_autofree char *owner = user_text(sb.st_uid);
        g_autofree char *me = user_text(geteuid());
        close(fd);
        g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_IO,
                    "%s: the secret file belongs to %s, not to %s who reads it, nor to root;"
                    " another user may know its key: if it is the daemon's, chown it to the"
                    " daemon's user, else remove it and let the daemon make a new one",
                    path, owner, me);
        return -1;
    }
    return fd;
}

char *
config_secret_load(const char *path, bool create, const char *seed, GError **error)
{
    char buf[SECRET_MAX + 1];
    ssize_t n;
    int fd = open_secret(path, create, seed, error);

    if (fd < 0)
        return NULL;
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
