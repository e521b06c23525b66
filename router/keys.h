/*
 * keys - the signed values on our mail, each with a key of its own.
 *
 * One secret (a file of its own, see secret_file) yields one key per
 * purpose by HMAC-SHA256 with a label: the reply address of a ticket
 * (support+tkt-42.TAG@), the loop mark on every message we send, and the
 * return path of our mail (support+bounce-tkt-42.TAG@).  A tag made for one
 * purpose is therefore worthless for another: copying the tag of an ack's
 * Reply-To into a loop mark proves nothing.  Tags are 128 bits, written as
 * 32 lower-case hex digits, and compared in constant time.
 *
 * Pure: no I/O; the secret is read by the caller.
 */
#ifndef TM_ROUTER_KEYS_H
#define TM_ROUTER_KEYS_H

#include <stdbool.h>

#include <glib.h>

#define KEYS_TAG_LEN 32 /* hex digits of a tag: 128 bits */

enum key_purpose {
    KEY_REPLY_ADDRESS,
    KEY_LOOP_MARK,
    KEY_RETURN_PATH,
};
#define KEY_PURPOSES 3

struct keys;

/* The keys derived from SECRET (any non-empty text). */
struct keys *keys_new(const char *secret);
struct keys *keys_free(struct keys *k);

/* The tag of TEXT for PURPOSE (caller frees): KEYS_TAG_LEN hex digits. */
char *keys_tag(const struct keys *k, enum key_purpose purpose, const char *text);
/* Whether TAG is the tag of TEXT for PURPOSE; constant time in TAG's content. */
bool keys_verify(const struct keys *k, enum key_purpose purpose, const char *text, const char *tag);
/* The reply-address tag of versions before the keys were split: 16 hex
 * digits of HMAC-SHA256 under the bare secret.  Accepted for reply
 * addresses only, so that customers answering an old acknowledgement
 * still reach their ticket. */
bool keys_verify_legacy_reply(const struct keys *k, const char *text, const char *tag);

/* Constant-time comparison of two strings of LEN bytes each. */
bool keys_equal(const char *a, const char *b, gsize len);

#endif
