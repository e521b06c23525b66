/*
 * compose - a rendered notice into a complete MIME message.
 *
 * GMime's encoders write the header values: non-ASCII words are RFC 2047
 * encoded and long lines folded, and every value has its CR and LF removed
 * before it gets there, so nothing taken from a customer's mail can start
 * a header of its own.  The body is UTF-8, as it is when 7-bit text,
 * quoted-printable or base64 as GMime finds best otherwise.
 */
#ifndef TM_TEMPLATES_COMPOSE_H
#define TM_TEMPLATES_COMPOSE_H

#include <glib.h>

struct outbound_mail {
    const char *from;           /* "Support <support@example.com>" */
    const char *const *to;      /* NULL-terminated plain addresses, each one mailbox */
    const char *to_name;        /* display name for a single recipient, may be NULL */
    const char *reply_to;       /* may be NULL */
    const char *subject;        /* UTF-8 */
    const char *body;           /* UTF-8 text */
    const char *in_reply_to;    /* msg-id without brackets, may be NULL */
    GPtrArray *references;      /* msg-ids without brackets, may be NULL */
    const char *message_id;     /* without brackets */
    const char *auto_submitted; /* "auto-replied" or "auto-generated" */
    const char *loop;           /* value of our loop header */
    const char *ticket_tag;     /* X-Ticket-ID, may be NULL */
    GDateTime *date;
};

/* Call parser_init() (GMime) first. Returns the message with CRLF line ends. */
char *compose_mail(const struct outbound_mail *m);

/* A new Message-ID (without brackets) for mail we send from HOSTNAME. */
char *compose_message_id(const char *hostname);

#endif
