/*
 * keys - per-purpose keys derived from the one secret.
 *
 * Derivation: key(purpose) = HMAC-SHA256(secret, "ticket-milter " LABEL).
 * A changed label is a new key, so the labels never change.
 */
#include <string.h>

#include "router/keys.h"

static const char *const labels[KEY_PURPOSES] = {
    [KEY_REPLY_ADDRESS] = "ticket-milter reply-address v2",
    [KEY_LOOP_MARK] = "ticket-milter loop-mark v2",
    [KEY_RETURN_PATH] = "ticket-milter return-path v2",
};

struct keys {
    guint8 key[KEY_PURPOSES][32];
    char *secret; /* for the legacy reply-address check only */
};

/* HMAC-SHA256 of DATA under KEY into OUT (32 bytes). */
static void
hmac(const guint8 *key, gsize key_len, const char *data, guint8 out[32])
{
    GHmac *h = g_hmac_new(G_CHECKSUM_SHA256, key, key_len);
    gsize len = 32;

    g_hmac_update(h, (const guchar *)data, (gssize)strlen(data));
    g_hmac_get_digest(h, out, &len);
    g_hmac_unref(h);
}

struct keys *
keys_new(const char *secret)
{
    struct keys *k = g_new0(struct keys, 1);

    g_assert(secret != NULL && *secret != '\0');
    for (int p = 0; p < KEY_PURPOSES; p++)
        hmac((const guint8 *)secret, strlen(secret), labels[p], k->key[p]);
    k->secret = g_strdup(secret);
    return k;
}

struct keys *
keys_free(struct keys *k)
{
    if (k == NULL)
        return NULL;
    memset(k->key, 0, sizeof(k->key));
    if (k->secret != NULL)
        memset(k->secret, 0, strlen(k->secret));
    g_free(k->secret);
    g_free(k);
    return NULL;
}

static char *
hex(const guint8 *bytes, gsize n)
{
    static const char digits[] = "0123456789abcdef";
    char *out = g_malloc(2 * n + 1);

    for (gsize i = 0; i < n; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 0xf];
    }
    out[2 * n] = '\0';
    return out;
}

char *
keys_tag(const struct keys *k, enum key_purpose purpose, const char *text)
{
    guint8 mac[32];

    g_assert((unsigned)purpose < KEY_PURPOSES);
    hmac(k->key[purpose], sizeof(k->key[purpose]), text, mac);
    return hex(mac, KEYS_TAG_LEN / 2);
}

bool
keys_equal(const char *a, const char *b, gsize len)
{
    guint8 diff = 0;

    for (gsize i = 0; i < len; i++)
        diff |= (guint8)(a[i] ^ b[i]);
    return diff == 0;
}

bool
keys_verify(const struct keys *k, enum key_purpose purpose, const char *text, const char *tag)
{
    g_autofree char *want = NULL;

    if (tag == NULL || strlen(tag) != KEYS_TAG_LEN)
        return false;
    want = keys_tag(k, purpose, text);
    return keys_equal(want, tag, KEYS_TAG_LEN);
}

bool
keys_verify_legacy_reply(const struct keys *k, const char *text, const char *tag)
{
    guint8 mac[32];
    g_autofree char *want = NULL;

    if (tag == NULL || strlen(tag) != 16)
        return false;
    hmac((const guint8 *)k->secret, strlen(k->secret), text, mac);
    want = hex(mac, 8);
    return keys_equal(want, tag, 16);
}
