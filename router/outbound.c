/*
 * router/outbound - RFC 3834: no automatic answer to a program, a list,
 * a bounce, or someone who asked for none; and no more than ack_limit an
 * hour to one address, so that two responders cannot ping-pong.
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
    if (acks_last_hour >= (gint64)limit)
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
