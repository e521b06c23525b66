/*
 * event - what happened to a ticket, named once.
 *
 * Every change and every mail about a ticket leaves an event: a type from
 * the catalogue below, an actor (an address, "ticketctl:USER", or none) and
 * a JSON object of details built with json-glib.  The names are what
 * `ticketctl show`, `export` and the webhooks print, so they never change.
 *
 *   type               detail members
 *   created            message_id, queue_id, requester, customer, reason
 *   severity           severity, from (on a change), rule
 *   stage              stage, from, reason, cause (automatic|missed-goal|ladder|customer|staff)
 *   status             from, to, [paused_seconds], [reason]
 *   reopened           from, to, paused_seconds, reason
 *   assign             assignee
 *   requester          requester, customer, from_requester, from_customer (staff named the customer)
 *   first-response     message_id, [outbound]
 *   update             message_id, [outbound]
 *   internal-note      message_id
 *   customer-reply     message_id, via
 *   staff-reply        message_id, via, trust, [outbound]
 *   untrusted-staff    reason, client
 *   auto-reply         message_id, subject
 *   delivery-failed    recipient, status, message_id (a bounce) | to, template, message_id, error
 *   ack-withheld       reason, [sign]
 *   automation-sign    sign, effect
 *   no-requester       reason, from
 *   mail-queued        template, message_id, to (array)
 *   mail-sent          to (array), template, message_id
 *   sla-warning        goal, due, severity
 *   sla-breach         goal, due, severity
 *   parse-limits       message_id, depth, parts, headers, header_bytes, note
 *   linked             referenced | opened
 *   reference-refused  referenced | opened
 */
#ifndef TM_ROUTER_EVENT_H
#define TM_ROUTER_EVENT_H

#include <glib.h>
#include <json-glib/json-glib.h>

enum event_type {
    EVENT_CREATED,
    EVENT_SEVERITY,
    EVENT_STAGE,
    EVENT_STATUS,
    EVENT_REOPENED,
    EVENT_ASSIGN,
    EVENT_REQUESTER,
    EVENT_FIRST_RESPONSE,
    EVENT_UPDATE,
    EVENT_INTERNAL_NOTE,
    EVENT_CUSTOMER_REPLY,
    EVENT_STAFF_REPLY,
    EVENT_UNTRUSTED_STAFF,
    EVENT_AUTO_REPLY,
    EVENT_DELIVERY_FAILED,
    EVENT_ACK_WITHHELD,
    EVENT_AUTOMATION_SIGN,
    EVENT_NO_REQUESTER,
    EVENT_MAIL_QUEUED,
    EVENT_MAIL_SENT,
    EVENT_SLA_WARNING,
    EVENT_SLA_BREACH,
    EVENT_PARSE_LIMITS,
    EVENT_LINKED,
    EVENT_REFERENCE_REFUSED,
};
#define EVENT_TYPE_COUNT (EVENT_REFERENCE_REFUSED + 1)

/* The catalogue name ("created", "sla-breach", ...). */
const char *event_type_name(enum event_type type);

struct event {
    enum event_type type;
    gint64 ticket_id;   /* 0: the ticket the decision is about */
    char *actor;        /* NULL when none */
    JsonObject *detail; /* NULL when none */
};

/* A new event with an empty detail object. ACTOR may be NULL. */
struct event *event_new(enum event_type type, const char *actor);
void event_free(gpointer e);

/* Detail members; a NULL string is stored as JSON null. */
void event_set_string(struct event *e, const char *name, const char *value);
void event_set_int(struct event *e, const char *name, gint64 value);
void event_set_bool(struct event *e, const char *name, gboolean value);
/* STRV (NULL-terminated) as a JSON array of strings. */
void event_set_strv(struct event *e, const char *name, const char *const *strv);

/* The detail as JSON text (caller frees); NULL when it has none. */
char *event_detail_text(const struct event *e);

/* Any JSON object as text (caller frees): the one generator for details. */
char *event_json_text(JsonObject *object);

#endif
