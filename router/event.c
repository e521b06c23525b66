/*
 * event - the catalogue of event types and their JSON details.
 *
 * Details are json-glib objects from the start, so that no text from a
 * mail (a subject, an address) can break the JSON they are written as.
 */
#include "router/event.h"

static const char *const names[EVENT_TYPE_COUNT] = {
    [EVENT_CREATED] = "created",
    [EVENT_SEVERITY] = "severity",
    [EVENT_STAGE] = "stage",
    [EVENT_STATUS] = "status",
    [EVENT_REOPENED] = "reopened",
    [EVENT_ASSIGN] = "assign",
    [EVENT_REQUESTER] = "requester",
    [EVENT_FIRST_RESPONSE] = "first-response",
    [EVENT_UPDATE] = "update",
    [EVENT_INTERNAL_NOTE] = "internal-note",
    [EVENT_CUSTOMER_REPLY] = "customer-reply",
    [EVENT_STAFF_REPLY] = "staff-reply",
    [EVENT_UNTRUSTED_STAFF] = "untrusted-staff",
    [EVENT_AUTO_REPLY] = "auto-reply",
    [EVENT_DELIVERY_FAILED] = "delivery-failed",
    [EVENT_ACK_WITHHELD] = "ack-withheld",
    [EVENT_AUTOMATION_SIGN] = "automation-sign",
    [EVENT_NO_REQUESTER] = "no-requester",
    [EVENT_MAIL_QUEUED] = "mail-queued",
    [EVENT_MAIL_SENT] = "mail-sent",
    [EVENT_SLA_WARNING] = "sla-warning",
    [EVENT_SLA_BREACH] = "sla-breach",
    [EVENT_PARSE_LIMITS] = "parse-limits",
    [EVENT_LINKED] = "linked",
    [EVENT_REFERENCE_REFUSED] = "reference-refused",
    [EVENT_UNVERIFIED_SENDER] = "unverified-sender",
};

const char *
event_type_name(enum event_type type)
{
    g_assert((unsigned)type < EVENT_TYPE_COUNT);
    return names[type];
}

struct event *
event_new(enum event_type type, const char *actor)
{
    struct event *e = g_new0(struct event, 1);

    e->type = type;
    e->actor = g_strdup(actor);
    e->detail = json_object_new();
    return e;
}

void
event_free(gpointer p)
{
    struct event *e = p;

    if (e == NULL)
        return;
    g_free(e->actor);
    if (e->detail != NULL)
        json_object_unref(e->detail);
    g_free(e);
}

void
event_set_string(struct event *e, const char *name, const char *value)
{
    if (value != NULL)
        json_object_set_string_member(e->detail, name, value);
    else
        json_object_set_null_member(e->detail, name);
}

void
event_set_int(struct event *e, const char *name, gint64 value)
{
    json_object_set_int_member(e->detail, name, value);
}

void
event_set_bool(struct event *e, const char *name, gboolean value)
{
    json_object_set_boolean_member(e->detail, name, value);
}

void
event_set_strv(struct event *e, const char *name, const char *const *strv)
{
    JsonArray *a = json_array_new();

    for (const char *const *p = strv; p != NULL && *p != NULL; p++)
        json_array_add_string_element(a, *p);
    json_object_set_array_member(e->detail, name, a);
}

char *
event_json_text(JsonObject *object)
{
    g_autoptr(JsonGenerator) gen = json_generator_new();
    g_autoptr(JsonNode) root = json_node_new(JSON_NODE_OBJECT);

    json_node_set_object(root, object);
    json_generator_set_root(gen, root);
    return json_generator_to_data(gen, NULL);
}

char *
event_detail_text(const struct event *e)
{
    if (e->detail == NULL || json_object_get_size(e->detail) == 0)
        return NULL;
    return event_json_text(e->detail);
}
