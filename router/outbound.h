/*
 * router/outbound - may this message be answered automatically (RFC 3834)?
 */
#ifndef TM_ROUTER_OUTBOUND_H
#define TM_ROUTER_OUTBOUND_H

#include <stdbool.h>

#include <glib.h>

#include "parser/mail.h"

enum ack_verdict {
    ACK_SEND,
    ACK_NO_ADDRESS,   /* nobody to answer: no plain address */
    ACK_BOUNCE,       /* null sender, a delivery report, or from a mailer daemon */
    ACK_AUTO_REPLY,   /* a program answered */
    ACK_BULK,         /* list or bulk mail */
    ACK_SUPPRESSED,   /* the sender asked for no automatic answers */
    ACK_OWN_MAIL,     /* our own mail came back */
    ACK_RATE_LIMITED, /* ack_limit reached for this address this hour */
};

/* Whether MAIL may get an acknowledgement. ACKS_LAST_HOUR is how many
 * REQUESTER got in the last hour; LIMIT is ack_limit (G_MAXUINT for mail
 * trusted staff asked for). */
enum ack_verdict router_ack_verdict(const struct mail *mail, const char *envelope_from,
                                    const char *requester, bool is_own_mail, gint64 acks_last_hour,
                                    guint limit);
const char *router_ack_verdict_text(enum ack_verdict v);

#endif
