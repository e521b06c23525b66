/*
 * router/outbound - RFC 3834 and the signed marks on our own mail.
 */
#include <string.h>

#include "router/outbound.h"

enum ack_verdict
router_ack_verdict(const struct mail *mail, const char *envelope_from, const char *requester,
                   bool is_own_mail, gint64 acks_last_hour, guint limit)
{
    if (is_own_mail)
        return ACK_OWN_MAIL;
    if (envelope_from == NULL || *envelope_from == '\0' || mail->is_bounce)
        return ACK_BOUNCE;
    if (requester == NULL || strchr(requester, '@') == NULL)
        return ACK_NO_ADDRESS;
    if (mail->is_auto_reply)
        return ACK_AUTO_REPLY;
    if (mail->is_bulk)
        return ACK_BULK;
    if (mail->suppress_autoreply)
        return ACK_SUPPRESSED;
    if (acks_last_hour >= limit)
        return ACK_RATE_LIMITED;
    return ACK_SEND;
}

const char *
router_ack_verdict_text(enum ack_verdict v)
{
    switch (v) {
    case ACK_SEND:
        return "send";
    case ACK_NO_ADDRESS:
        return "no-address";
    case ACK_BOUNCE:
        return "bounce";
    case ACK_AUTO_REPLY:
        return "auto-reply";
    case ACK_BULK:
        return "bulk";
    case ACK_SUPPRESSED:
        return "suppressed";
    case ACK_OWN_MAIL:
        return "own-mail";
    case ACK_RATE_LIMITED:
        return "rate-limited";
    }
    return "unknown";
}

char *
router_mac(const char *secret, const char *text)
{
    g_autofree char *full = g_compute_hmac_for_string(G_CHECKSUM_SHA256, (const guchar *)secret,
                                                      strlen(secret), text, -1);

    /* 64 bits are plenty for a tag nobody can try more than a few times. */
    return g_strndup(full, 16);
}

char *
router_ticket_address(const char *secret, const char *support_address, const char *tag)
{
    const char *at = strrchr(support_address, '@');
    g_autofree char *lower_tag = g_ascii_strdown(tag, -1);
    g_autofree char *mac = router_mac(secret, lower_tag);

    if (at == NULL)
        return g_strdup(support_address);
    return g_strdup_printf("%.*s+%s.%s%s", (int)(at - support_address), support_address,
                           lower_tag, mac, at);
}

char *
router_loop_value(const char *secret, const char *hostname, const char *message_id)
{
    g_autofree char *mac = router_mac(secret, message_id);

    return g_strdup_printf("%s; mac=%s", hostname, mac);
}

bool
router_is_own_mail(const char *secret, const struct mail *mail)
{
    const char *mac;
    g_autofree char *want = NULL;

    if (mail->loop == NULL || mail->message_id == NULL || secret == NULL)
        return false;
    mac = strstr(mail->loop, "mac=");
    if (mac == NULL)
        return false;
    want = router_mac(secret, mail->message_id);
    return strncmp(mac + 4, want, strlen(want)) == 0 && !g_ascii_isalnum(mac[4 + strlen(want)]);
}
