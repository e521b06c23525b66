/*
 * router/outbound - decisions about mail we send: may this message be
 * acknowledged, and the signed values that let us recognise replies to our
 * mail and our mail itself.
 */
#ifndef TM_ROUTER_OUTBOUND_H
#define TM_ROUTER_OUTBOUND_H

#include <stdbool.h>

#include <glib.h>

#include "parser/mail.h"

enum ack_verdict {
    ACK_SEND,
    ACK_NO_ADDRESS,   /* nobody to answer */
    ACK_BOUNCE,       /* null sender or a delivery report */
    ACK_AUTO_REPLY,   /* a program answered */
    ACK_BULK,         /* list or bulk mail */
    ACK_SUPPRESSED,   /* the sender asked for no automatic answers */
    ACK_OWN_MAIL,     /* our own mail came back */
    ACK_RATE_LIMITED, /* ack_limit reached for this address this hour */
};

/* Whether MAIL may get an acknowledgement (RFC 3834). ACKS_LAST_HOUR is how
 * many this requester got in the last hour; LIMIT is ack_limit. */
enum ack_verdict router_ack_verdict(const struct mail *mail, const char *envelope_from,
                                    const char *requester, bool is_own_mail,
                                    gint64 acks_last_hour, guint limit);
const char *router_ack_verdict_text(enum ack_verdict v);

/* A short MAC of TEXT under SECRET (hex, 16 characters). */
char *router_mac(const char *secret, const char *text);

/* support+TAG.MAC@domain: replies to it thread onto TAG, and nobody can
 * make one up for a ticket they were not told about. */
char *router_ticket_address(const char *secret, const char *support_address, const char *tag);

/* The value of our loop header on a message with MESSAGE_ID. */
char *router_loop_value(const char *secret, const char *hostname, const char *message_id);
/* Whether MAIL carries a loop header that we wrote. */
bool router_is_own_mail(const char *secret, const struct mail *mail);

#endif
