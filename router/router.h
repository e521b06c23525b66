/*
 * router - what a mail, a timer or an admin action means for the tickets.
 *
 * Pure: a decision is a function of the parsed mail, the policy, what the
 * store already knows (struct router_view, looked up by the caller with
 * the references router_references() names) and the time.  No I/O, no
 * globals, so every rule is a table-driven unit test (tests/unit/test-policy.c).
 *
 * Every policy rule lives in router/: who the sender is and whether staff
 * can be believed (identity.c), which ticket a mail belongs to and what it
 * does there (router.c), staff commands and status changes (change.c), the
 * clocks and timers (clock.c), what a timer means when it falls due
 * (timer.c), who is told (notices.c).
 *
 * Ownership: returned strings and decisions are the caller's; pointers into
 * the policy live as long as the caller's reference to the config.
 */
#ifndef TM_ROUTER_H
#define TM_ROUTER_H

#include <stdbool.h>

#include <glib.h>

#include "parser/mail.h"
#include "router/address.h"
#include "router/decision.h"
#include "router/keys.h"
#include "router/policy.h"
#include "router/ticket.h"

/* How a message names the ticket it belongs to, strongest first. */
enum router_ref_via {
    REF_NONE,
    REF_ADDRESS,    /* the signed support+tkt-N.TAG@ recipient */
    REF_REFERENCES, /* In-Reply-To/References naming a message of the ticket */
    REF_SUBJECT,    /* [TKT-N] in the subject */
};

/* One reference for the caller to look up: a ticket number, or a msg-id
 * whose ticket the store knows. */
struct router_reference {
    enum router_ref_via via;
    gint64 ticket_id;       /* REF_ADDRESS, REF_SUBJECT */
    const char *message_id; /* REF_REFERENCES: borrowed from the mail */
};

/* The references MAIL makes, strongest first (struct router_reference),
 * at most a bounded number: the signed recipient ADDRESS_TICKET (0: none),
 * In-Reply-To, References newest first, the subject tag. */
GArray *router_references(const struct policy *p, const struct mail *mail, gint64 address_ticket);

/* A ticket the message names, as the store has it. */
struct router_candidate {
    enum router_ref_via via;
    const struct ticket *ticket;
    char **prior_subjects; /* subjects of mail already on the ticket; may be NULL */
};

/* What the store knows, looked up before deciding. */
struct router_view {
    bool is_stored;                /* this very message (dedup key and digest) is stored */
    gint64 stored_ticket;          /* its ticket, when is_stored */
    GPtrArray *candidates;         /* struct router_candidate*, strongest first; may be NULL */
    gint64 bounce_ticket;          /* the ticket of our mail a delivery report names; 0: none */
    gint64 acks_last_hour;         /* acknowledgements to the requester in the last hour */
    gint64 not_contacts_last_hour; /* not-contact replies to anyone in the last hour */
};

/* The facts of the SMTP session and of the mail. */
struct router_input {
    const struct mail *mail;
    const char *envelope_from; /* "" for the null sender */
    const struct keys *keys;
    bool is_outbound;              /* for no support address: staff mail on its way out */
    bool to_return_path;           /* sent to our signed return path (a bounce of our mail) */
    const char *auth_login;        /* SMTP AUTH login name; NULL when none */
    bool from_trusted_network;     /* the client is in [staff] trusted_networks */
    const GPtrArray *auth_results; /* Authentication-Results of our own verifiers; may be NULL */
    const char *client_addr;
    const char *queue_id;
    const GPtrArray *recipients; /* char*: the accepted envelope recipients, canonical
                                    * (address_canonical()); may be NULL */
    GDateTime *now;
};

struct decision *router_decide(const struct policy *p, const struct router_input *in,
                               const struct router_view *view);

/* ---- identity (identity.c) ---- */

/* The one address a message's ticket answers to: the From mailbox when it
 * is a plain addr-spec, else the envelope sender when that is one; lower
 * case.  NULL when neither is: *WHY (may be NULL) then says why, for the
 * event.  A quoted local part, blanks, control characters, several @ or
 * invalid UTF-8 make an address that is not plain. */
char *router_requester(const struct mail *mail, const char *envelope_from, const char **why);

/* The customer whose contacts hold ADDR, else whose domains hold its
 * domain; NULL when none. Case-insensitive. */
const struct customer *router_find_customer(const struct policy *p, const char *addr);
/* Whether ADDR is one of [milter] support_addresses, with or without a
 * +extension (our signed ticket and return-path addresses among them). */
bool router_is_support_address(const struct policy *p, const char *addr);
/* Whether ADDR is staff: in [staff] addresses, or in [staff] domains
 * without being a customer's named contact. */
bool router_is_staff(const struct policy *p, const char *addr);
/* Why staff mail from FROM can be believed: "smtp-auth" (the login belongs
 * to FROM: the same address, or a [staff] logins mapping),
 * "trusted-network", "dkim" or "dmarc" (one of our verifiers vouches for
 * FROM's domain); NULL when nothing vouches. */
const char *router_staff_trust(const struct policy *p, const struct router_input *in,
                               const char *from);
/* Why FROM can be believed to have sent the mail, as [milter]
 * verify_senders asks: our verifier vouches for it ("dkim", "dmarc"), or
 * under "aligned" the envelope sender's domain is FROM's or one under or
 * above it; with "none" anything goes.  NULL when nothing does: then a
 * contact's address in From proves nothing (a forger's favourite). */
const char *router_sender_verified(const struct policy *p, const struct router_input *in,
                                   const char *from);
/* Whether RESULTS vouch for FROM: from one of [staff] authserv_ids,
 * dkim=pass with header.d aligned to FROM's domain, or dmarc=pass for it.
 * Returns "dkim" or "dmarc", else NULL. */
const char *router_auth_vouches(const struct policy *p, const GPtrArray *results, const char *from);

/* The ticket number in the first "[PREFIX-N]" of SUBJECT; 0 when none. */
gint64 router_subject_ticket(const char *prefix, const char *subject);
/* Whether SUBJECT already carries "[TAG]" (any case). */
bool router_subject_has_tag(const char *subject, const char *tag);
/* "TKT-42" */
char *router_ticket_tag(const char *prefix, gint64 id);

/* The key two copies of one message share: the Message-ID, or the digest
 * when there is none. */
char *router_dedup_key(const struct mail *mail);
/* The key for a message that reuses a stored Message-ID with other content. */
char *router_dedup_key_variant(const struct mail *mail);

/* Whether a mail is a bounce by certain signs: the null sender, or a
 * delivery report (multipart/report). */
bool router_is_bounce(const struct mail *mail, const char *envelope_from);

/* ---- signed addresses (addresses.c) ---- */

enum router_address_tag {
    ADDRESS_UNTAGGED, /* no +extension, or one that is not ours */
    ADDRESS_VALID,    /* a ticket tag with the right MAC */
    ADDRESS_FORGED,   /* a ticket tag whose MAC is wrong */
};

/* Where the extension of ADDR's local part starts: its first character
 * of DELIMITERS ([milter] recipient_delimiter) before the '@'; NULL when
 * there is none. */
const char *router_extension_start(const char *addr, const char *delimiters);
/* support+tkt-42.TAG@domain: replies to it thread onto the ticket.  The
 * address is made with the first of DELIMITERS. */
char *router_ticket_address(const struct keys *k, const char *support_address,
                            const char *delimiters, const char *tag);
/* Reads the signed ticket reference in the recipient ADDR. */
enum router_address_tag router_address_ticket(const struct keys *k, const char *prefix,
                                              const char *delimiters, const char *addr,
                                              gint64 *ticket);
/* support+bounce-tkt-42.TAG@domain: the return path of our mail about a
 * ticket, so that its bounces come back to the right ticket. */
char *router_return_path(const struct keys *k, const char *support_address, const char *delimiters,
                         const char *tag);
enum router_address_tag router_return_path_ticket(const struct keys *k, const char *prefix,
                                                  const char *delimiters, const char *addr,
                                                  gint64 *ticket);
/* The value of our loop header on a message with MESSAGE_ID. */
char *router_loop_value(const struct keys *k, const char *hostname, const char *message_id);
/* Whether MAIL carries a loop header that we wrote for its Message-ID. */
bool router_is_own_mail(const struct keys *k, const struct mail *mail);

#endif
