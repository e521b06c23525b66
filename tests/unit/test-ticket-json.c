/*
 * test-ticket-json - the one JSON form of a ticket: every member present
 * (null when unset), event details embedded as objects, a damaged detail
 * kept as text rather than lost.
 */
#include <string.h>

#include <glib.h>
#include <json-glib/json-glib.h>

#include "outbound/ticket-json.h"
#include "store/store.h"
#include "store/tickets.h"

static JsonObject *
build(const struct ticket *t, const GPtrArray *events)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autoptr(JsonNode) root = NULL;

    json_builder_begin_object(b);
    ticket_json_members(b, t);
    ticket_json_events(b, events);
    json_builder_end_object(b);
    root = json_builder_get_root(b);
    return json_object_ref(json_node_get_object(root));
}

static void
test_members(void)
{
    struct ticket *t = ticket_new();
    g_autoptr(GPtrArray) events = g_ptr_array_new();
    static const char *const members[] = {
        "id",
        "status",
        "severity",
        "stage",
        "customer",
        "requester",
        "subject",
        "created_at",
        "updated_at",
        "plan",
        "timezone",
        "language",
        "assignee",
        "clock_start",
        "first_response_due",
        "first_response_at",
        "next_update_due",
        "resolution_due",
        "resolved_at",
        "paused_at",
        "paused_seconds",
        "events",
    };
    JsonObject *o;

    ticket_set(&t->tag, "TKT-7");
    ticket_set(&t->requester, "jan@acme.test");
    t->severity = 2;
    o = build(t, events);
    g_assert_cmpuint(json_object_get_size(o), ==, G_N_ELEMENTS(members));
    for (guint i = 0; i < G_N_ELEMENTS(members); i++)
        g_assert_true(json_object_has_member(o, members[i]));
    g_assert_cmpstr(json_object_get_string_member(o, "id"), ==, "TKT-7");
    g_assert_cmpint(json_object_get_int_member(o, "severity"), ==, 2);
    g_assert_true(json_object_get_null_member(o, "customer"));
    g_assert_true(json_object_get_null_member(o, "assignee"));
    json_object_unref(o);
    ticket_free(t);
}

static void
test_event_details(void)
{
    struct ticket *t = ticket_new();
    struct ticket_event ok = { .at = "2026-11-24T09:00:00Z",
                               .type = "created",
                               .detail = "{\"reason\":\"new\"}" };
    struct ticket_event damaged = { .at = "2026-11-24T09:01:00Z",
                                    .type = "purged",
                                    .detail = "{not json" };
    struct ticket_event none = { .at = "2026-11-24T09:02:00Z", .type = "assign" };
    g_autoptr(GPtrArray) events = g_ptr_array_new();
    JsonObject *o;
    JsonArray *a;

    g_ptr_array_add(events, &ok);
    g_ptr_array_add(events, &damaged);
    g_ptr_array_add(events, &none);
    o = build(t, events);
    a = json_object_get_array_member(o, "events");
    g_assert_cmpuint(json_array_get_length(a), ==, 3);
    g_assert_cmpstr(
        json_object_get_string_member(
            json_object_get_object_member(json_array_get_object_element(a, 0), "detail"), "reason"),
        ==, "new");
    g_assert_cmpstr(json_object_get_string_member(json_array_get_object_element(a, 1), "detail"),
                    ==, "{not json");
    g_assert_true(json_object_get_null_member(json_array_get_object_element(a, 2), "detail"));
    g_assert_true(json_object_get_null_member(json_array_get_object_element(a, 2), "actor"));
    json_object_unref(o);
    ticket_free(t);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/ticket-json/members", test_members);
    g_test_add_func("/ticket-json/event-details", test_event_details);
    return g_test_run();
}
