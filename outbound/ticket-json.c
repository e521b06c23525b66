/*
 * ticket-json - a ticket as JSON.
 */
#include "outbound/ticket-json.h"
#include "store/store.h"
#include "store/tickets.h"

void
ticket_json_string(JsonBuilder *b, const char *name, const char *value)
{
    json_builder_set_member_name(b, name);
    if (value != NULL)
        json_builder_add_string_value(b, value);
    else
        json_builder_add_null_value(b);
}

void
ticket_json_int(JsonBuilder *b, const char *name, gint64 value)
{
    json_builder_set_member_name(b, name);
    json_builder_add_int_value(b, value);
}

void
ticket_json_members(JsonBuilder *b, const struct ticket *t)
{
    ticket_json_string(b, "id", t->tag);
    ticket_json_string(b, "status", ticket_status_name(t->status));
    ticket_json_int(b, "severity", t->severity);
    ticket_json_int(b, "stage", t->stage);
    ticket_json_string(b, "customer", t->customer);
    ticket_json_string(b, "requester", t->requester);
    ticket_json_string(b, "subject", t->subject);
    ticket_json_string(b, "created_at", t->created_at);
    ticket_json_string(b, "updated_at", t->updated_at);
    ticket_json_string(b, "plan", t->plan);
    ticket_json_string(b, "timezone", t->timezone);
    ticket_json_string(b, "language", t->language);
    ticket_json_string(b, "assignee", t->assignee);
    ticket_json_string(b, "clock_start", t->clock_start);
    ticket_json_string(b, "first_response_due", t->first_response_due);
    ticket_json_string(b, "first_response_at", t->first_response_at);
    ticket_json_string(b, "next_update_due", t->next_update_due);
    ticket_json_string(b, "resolution_due", t->resolution_due);
    ticket_json_string(b, "resolved_at", t->resolved_at);
    ticket_json_string(b, "paused_at", t->paused_at);
    ticket_json_int(b, "paused_seconds", t->paused_seconds);
}

void
ticket_json_events(JsonBuilder *b, const GPtrArray *events)
{
    json_builder_set_member_name(b, "events");
    json_builder_begin_array(b);
    for (guint i = 0; i < events->len; i++) {
        const struct ticket_event *e = g_ptr_array_index(events, i);
        g_autoptr(JsonNode) detail = e->detail != NULL ? json_from_string(e->detail, NULL) : NULL;

        json_builder_begin_object(b);
        ticket_json_string(b, "at", e->at);
        ticket_json_string(b, "type", e->type);
        ticket_json_string(b, "actor", e->actor);
        json_builder_set_member_name(b, "detail");
        if (detail != NULL)
            json_builder_add_value(b, g_steal_pointer(&detail));
        else if (e->detail != NULL)
            json_builder_add_string_value(b, e->detail);
        else
            json_builder_add_null_value(b);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
}
