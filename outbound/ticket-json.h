/*
 * ticket-json - a ticket as JSON, written once for every reader of it:
 * ticketctl list, show and export, and the webhook body.
 *
 * The member names are an interface (scripts read them): a member is
 * never renamed, and one that has no value is null rather than missing.
 */
#ifndef TM_OUTBOUND_TICKET_JSON_H
#define TM_OUTBOUND_TICKET_JSON_H

#include <glib.h>
#include <json-glib/json-glib.h>

#include "router/ticket.h"

/* A member NAME: VALUE, null for a NULL VALUE. */
void ticket_json_string(JsonBuilder *b, const char *name, const char *value);
void ticket_json_int(JsonBuilder *b, const char *name, gint64 value);

/* The members of ticket T, into the object B is building: id, status,
 * severity, stage, customer, requester, subject, created_at, updated_at,
 * plan, timezone, language, assignee, clock_start, first_response_due,
 * first_response_at, next_update_due, resolution_due, resolved_at,
 * paused_at, paused_seconds. */
void ticket_json_members(JsonBuilder *b, const struct ticket *t);

/* Member "events": the array of EVENTS (struct ticket_event*), each with
 * at, type, actor and detail, the detail as the object it was stored as
 * (a detail that is not JSON, from a damaged or foreign row, as a
 * string; none as null). */
void ticket_json_events(JsonBuilder *b, const GPtrArray *events);

#endif
