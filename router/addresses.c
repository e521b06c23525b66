/*
 * addresses - the signed values on our mail: the ticket's reply address,
 * the return path of our mail, and the loop mark.
 *
 * Forms (lower case, with the first of [milter] recipient_delimiter where
 * these show '+'):
 *   support+tkt-42.TAG@example.com         reply address (KEY_REPLY_ADDRESS)
 *   support+bounce-tkt-42.TAG@example.com  return path (KEY_RETURN_PATH)
 *   X-Ticket-Loop: HOST; mac=TAG           loop mark over the Message-ID (KEY_LOOP_MARK)
 * A tag that does not verify is FORGED, whatever its length: a recipient
 * that looks like ours but is not is refused rather than guessed at.
 */
#include <string.h>

#include "router/router.h"

const char *
router_extension_start(const char *addr, const char *delimiters)
{
    const char *at = strrchr(addr, '@');
    const char *d = strpbrk(addr, delimiters);

    /* Postfix cuts at the first delimiter of the local part, as here. */
    return d != NULL && at != NULL && d < at ? d : NULL;
}

static char *
extended(const char *support_address, const char *delimiters, const char *ext)
{
    const char *at = strrchr(support_address, '@');

    if (at == NULL)
        return g_strdup(support_address);
    return g_strdup_printf("%.*s%c%s%s", (int)(at - support_address), support_address, *delimiters,
                           ext, at);
}

char *
router_ticket_address(const struct keys *k, const char *support_address, const char *delimiters,
                      const char *tag)
{
    g_autofree char *lower = g_ascii_strdown(tag, -1);
    g_autofree char *mac = keys_tag(k, KEY_REPLY_ADDRESS, lower);
    g_autofree char *ext = g_strconcat(lower, ".", mac, NULL);

    return extended(support_address, delimiters, ext);
}

char *
router_return_path(const struct keys *k, const char *support_address, const char *delimiters,
                   const char *tag)
{
    g_autofree char *lower = g_ascii_strdown(tag, -1);
    g_autofree char *mac = keys_tag(k, KEY_RETURN_PATH, lower);
    g_autofree char *ext = g_strconcat("bounce-", lower, ".", mac, NULL);

    return extended(support_address, delimiters, ext);
}

/* The extension of ADDR (after the delimiter, before '@'), lower case;
 * NULL when none. */
static char *
extension_of(const char *addr, const char *delimiters)
{
    const char *d = router_extension_start(addr, delimiters);

    if (d == NULL)
        return NULL;
    return g_ascii_strdown(d + 1, strrchr(addr, '@') - d - 1);
}

/* EXT is "PREFIX-N.MAC" (after an optional LEAD): splits it in place. */
static bool
split_tag(char *ext, const char *lead, const char *prefix, gint64 *id, char **mac)
{
    g_autofree char *lower_prefix = g_ascii_strdown(prefix, -1);
    gsize lead_len = strlen(lead), plen = strlen(lower_prefix);
    char *dot = strrchr(ext, '.');
    char *end = NULL;

    if (dot == NULL || strncmp(ext, lead, lead_len) != 0 ||
        strncmp(ext + lead_len, lower_prefix, plen) != 0 || ext[lead_len + plen] != '-')
        return false;
    *dot = '\0';
    *id = g_ascii_strtoll(ext + lead_len + plen + 1, &end, 10);
    *mac = dot + 1;
    return true;
}

enum router_address_tag
router_address_ticket(const struct keys *k, const char *prefix, const char *delimiters,
                      const char *addr, gint64 *ticket)
{
    g_autofree char *ext = extension_of(addr, delimiters);
    char *mac = NULL;
    gint64 id = 0;

    *ticket = 0;
    if (ext == NULL || !split_tag(ext, "", prefix, &id, &mac))
        return ADDRESS_UNTAGGED;
    /* EXT now holds "tkt-42", the text the tag signs. */
    if (id <= 0 ||
        (!keys_verify(k, KEY_REPLY_ADDRESS, ext, mac) && !keys_verify_legacy_reply(k, ext, mac)))
        return ADDRESS_FORGED;
    *ticket = id;
    return ADDRESS_VALID;
}

enum router_address_tag
router_return_path_ticket(const struct keys *k, const char *prefix, const char *delimiters,
                          const char *addr, gint64 *ticket)
{
    g_autofree char *ext = extension_of(addr, delimiters);
    char *mac = NULL;
    gint64 id = 0;

    *ticket = 0;
    if (ext == NULL || !split_tag(ext, "bounce-", prefix, &id, &mac))
        return ADDRESS_UNTAGGED;
    if (id <= 0 || !keys_verify(k, KEY_RETURN_PATH, ext + strlen("bounce-"), mac))
        return ADDRESS_FORGED;
    *ticket = id;
    return ADDRESS_VALID;
}

char *
router_loop_value(const struct keys *k, const char *hostname, const char *message_id)
{
    g_autofree char *mac = keys_tag(k, KEY_LOOP_MARK, message_id);

    return g_strdup_printf("%s; mac=%s", hostname, mac);
}

bool
router_is_own_mail(const struct keys *k, const struct mail *mail)
{
    const char *mac;

    if (k == NULL || mail->loop == NULL || mail->message_id == NULL)
        return false;
    mac = strstr(mail->loop, "mac=");
    if (mac == NULL || strlen(mac + 4) < KEYS_TAG_LEN || g_ascii_isalnum(mac[4 + KEYS_TAG_LEN]))
        return false;
    g_autofree char *tag = g_strndup(mac + 4, KEYS_TAG_LEN);
    return keys_verify(k, KEY_LOOP_MARK, mail->message_id, tag);
}
