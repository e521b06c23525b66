/*
 * render - compiles templates into a small tree and renders it.
 *
 * The syntax is deliberately tiny (variables, if/else, each) so that an
 * admin can edit a template without learning a language, and so that the
 * whole of it can be checked at start: every variable a template names must
 * be one the program provides (template_known_vars), or loading fails with
 * the file and line.
 */
#include <string.h>

#include "templates/template.h"

/* The quark's name is the first argument as written. */
/* clang-format off */
G_DEFINE_QUARK(template-error-quark, template_error)
/* clang-format on */

/* Every variable and list the program fills in; see ticket-milter.conf(5),
 * TEMPLATES. Anything else in a template is a typo. */
static const char *const known_values[] = {
    "ticket.id",
    "ticket.subject",
    "ticket.severity",
    "ticket.severity_name",
    "ticket.stage",
    "ticket.stage_role",
    "ticket.status",
    "ticket.created",
    "ticket.first_response_due",
    "ticket.first_response_due_in",
    "ticket.next_update_due",
    "ticket.next_update_due_in",
    "ticket.resolution_due",
    "ticket.resolution_due_in",
    "ticket.assignee",
    "customer.name",
    "customer.timezone",
    "requester.address",
    "requester.name",
    "message.from",
    "message.subject",
    "message.text",
    "message.quoted",
    "support.address",
    "notice.goal",
    "notice.kind",
    "notice.due",
    "notice.reason",
    "notice.old_status",
    "notice.actor",
    "notice.untrusted",
    "item",
};
static const char *const known_lists[] = {
    "support.addresses",
    "commands.unknown",
    "recipients.removed",
};

enum node_kind {
    NODE_TEXT,
    NODE_VAR,
    NODE_IF,
    NODE_EACH
};

struct node {
    enum node_kind kind;
    char *text;           /* NODE_TEXT: the text; others: the variable or list name */
    GPtrArray *children;  /* NODE_IF (then part), NODE_EACH */
    GPtrArray *otherwise; /* NODE_IF else part, may be NULL */
};

struct template
{
    char *name;
    GPtrArray *subject; /* nodes */
    GPtrArray *body;    /* nodes */
};

static void
node_free(gpointer p)
{
    struct node *n = p;

    g_free(n->text);
    if (n->children != NULL)
        g_ptr_array_unref(n->children);
    if (n->otherwise != NULL)
        g_ptr_array_unref(n->otherwise);
    g_free(n);
}

static GPtrArray *
nodes_new(void)
{
    return g_ptr_array_new_with_free_func(node_free);
}

static bool
is_known(const char *const *list, gsize n, const char *name)
{
    for (gsize i = 0; i < n; i++)
        if (strcmp(list[i], name) == 0)
            return true;
    return false;
}

struct compiler {
    const char *name;
    const char *text; /* the whole template, for line numbers */
    GError **error;
};

static guint
line_of(const struct compiler *c, const char *at)
{
    guint line = 1;

    for (const char *p = c->text; p < at; p++)
        if (*p == '\n')
            line++;
    return line;
}

static bool
fail(const struct compiler *c, const char *at, int code, const char *fmt, const char *what)
{
    g_autofree char *msg = g_strdup_printf(fmt, what);

    g_set_error(c->error, TEMPLATE_ERROR, code, "%s:%u: %s", c->name, line_of(c, at), msg);
    return false;
}

/* Whether the tag from START to END (exclusive, "{{" .. "}}") stands alone
 * on its line; then *LINE_START and *LINE_END are widened to swallow it. */
static bool
standalone(const char *text, const char *start, const char *end, const char **line_start,
           const char **line_end)
{
    const char *a = start, *b = end;

    while (a > text && (a[-1] == ' ' || a[-1] == '\t'))
        a--;
    if (a > text && a[-1] != '\n')
        return false;
    while (*b == ' ' || *b == '\t' || *b == '\r')
        b++;
    if (*b != '\n' && *b != '\0')
        return false;
    *line_start = a;
    *line_end = *b == '\n' ? b + 1 : b;
    return true;
}

/* Parses from *P until the end or until a closing tag; STOP gets the
 * closing tag's word ("/if", "else", "/each") or NULL at the end. */
static bool
parse_nodes(struct compiler *c, const char **p, const char *end, GPtrArray *out, char **stop)
{
    *stop = NULL;
    while (*p < end) {
        const char *open = g_strstr_len(*p, end - *p, "{{");
        const char *close, *text_end, *next;
        g_autofree char *tag = NULL;

        if (open == NULL) {
            struct node *n = g_new0(struct node, 1);
            n->kind = NODE_TEXT;
            n->text = g_strndup(*p, end - *p);
            g_ptr_array_add(out, n);
            *p = end;
            return true;
        }
        close = g_strstr_len(open, end - open, "}}");
        if (close == NULL)
            return fail(c, open, TEMPLATE_ERROR_SYNTAX, "%s", "\"{{\" without \"}}\"");
        tag = g_strstrip(g_strndup(open + 2, close - open - 2));
        text_end = open;
        next = close + 2;
        if (tag[0] == '#' || tag[0] == '/' || strcmp(tag, "else") == 0)
            standalone(c->text, open, next, &text_end, &next);
        if (text_end > *p) {
            struct node *n = g_new0(struct node, 1);
            n->kind = NODE_TEXT;
            n->text = g_strndup(*p, text_end - *p);
            g_ptr_array_add(out, n);
        }
        *p = next;

        if (tag[0] == '/' || strcmp(tag, "else") == 0) {
            *stop = g_steal_pointer(&tag);
            return true;
        }
        if (g_str_has_prefix(tag, "#if ") || g_str_has_prefix(tag, "#each ")) {
            bool is_if = tag[1] == 'i';
            struct node *n = g_new0(struct node, 1);
            g_autofree char *inner_stop = NULL;
            n->kind = is_if ? NODE_IF : NODE_EACH;
            n->text = g_strstrip(g_strdup(tag + (is_if ? 4 : 6)));
            n->children = nodes_new();
            g_ptr_array_add(out, n);
            if (is_if ? !is_known(known_values, G_N_ELEMENTS(known_values), n->text) &&
                            !is_known(known_lists, G_N_ELEMENTS(known_lists), n->text)
                      : !is_known(known_lists, G_N_ELEMENTS(known_lists), n->text))
                return fail(c, open, TEMPLATE_ERROR_UNKNOWN_VARIABLE,
                            is_if ? "unknown variable \"%s\"" : "unknown list \"%s\"", n->text);
            if (!parse_nodes(c, p, end, n->children, &inner_stop))
                return false;
            if (is_if && inner_stop != NULL && strcmp(inner_stop, "else") == 0) {
                g_clear_pointer(&inner_stop, g_free);
                n->otherwise = nodes_new();
                if (!parse_nodes(c, p, end, n->otherwise, &inner_stop))
                    return false;
            }
            const char *want = is_if ? "/if" : "/each";
            if (inner_stop == NULL || strcmp(inner_stop, want) != 0)
                return fail(c, open, TEMPLATE_ERROR_SYNTAX, "{{%s}} is not closed",
                            is_if ? "#if" : "#each");
            continue;
        }
        if (tag[0] == '#')
            return fail(c, open, TEMPLATE_ERROR_SYNTAX,
                        "unknown block \"%s\" (there are #if and #each)", tag);
        if (!is_known(known_values, G_N_ELEMENTS(known_values), tag))
            return fail(c, open, TEMPLATE_ERROR_UNKNOWN_VARIABLE, "unknown variable \"%s\"", tag);
        struct node *n = g_new0(struct node, 1);
        n->kind = NODE_VAR;
        n->text = g_steal_pointer(&tag);
        g_ptr_array_add(out, n);
    }
    return true;
}

static bool
parse_all(struct compiler *c, const char *start, const char *end, GPtrArray *out)
{
    const char *p = start;
    g_autofree char *stop = NULL;

    if (!parse_nodes(c, &p, end, out, &stop))
        return false;
    if (stop != NULL)
        return fail(c, p, TEMPLATE_ERROR_SYNTAX, "{{%s}} without its opening tag", stop);
    return true;
}

struct template *
template_compile(const char *name, const char *text, GError **error)
{
    struct compiler c = { .name = name, .text = text, .error = error };
    struct template *t = g_new0(struct template, 1);
    const char *body = strstr(text, "\n\n");
    const char *line = text;

    t->name = g_strdup(name);
    t->subject = nodes_new();
    t->body = nodes_new();
    if (body == NULL) {
        fail(&c, text, TEMPLATE_ERROR_SYNTAX, "%s",
             "needs a header block (Subject: ...), an empty line, then the body");
        return template_free(t);
    }
    /* The header block: only Subject, once. */
    while (line < body + 1) {
        const char *eol = strchr(line, '\n');
        if (g_ascii_strncasecmp(line, "Subject:", 8) != 0) {
            g_autofree char *h = g_strndup(line, eol - line);
            fail(&c, line, TEMPLATE_ERROR_SYNTAX, "header \"%s\": only Subject: may be set", h);
            return template_free(t);
        }
        if (t->subject->len > 0) {
            fail(&c, line, TEMPLATE_ERROR_SYNTAX, "%s", "Subject: given twice");
            return template_free(t);
        }
        const char *v = line + 8;
        while (*v == ' ')
            v++;
        if (!parse_all(&c, v, eol, t->subject))
            return template_free(t);
        line = eol + 1;
    }
    if (t->subject->len == 0) {
        fail(&c, text, TEMPLATE_ERROR_SYNTAX, "%s", "Subject: is missing");
        return template_free(t);
    }
    if (!parse_all(&c, body + 2, text + strlen(text), t->body))
        return template_free(t);
    return t;
}

struct template *
template_free(struct template *t)
{
    if (t == NULL)
        return NULL;
    g_free(t->name);
    g_ptr_array_unref(t->subject);
    g_ptr_array_unref(t->body);
    g_free(t);
    return NULL;
}

/* ---- rendering ---- */

static void render_nodes(const GPtrArray *nodes, const struct template_vars *v, const char *item,
                         GString *out);

static bool
is_set(const struct template_vars *v, const char *name, const char *item)
{
    const char *value;
    GPtrArray *list;

    if (strcmp(name, "item") == 0)
        return item != NULL && *item != '\0';
    value = g_hash_table_lookup(v->values, name);
    if (value != NULL)
        return *value != '\0';
    list = g_hash_table_lookup(v->lists, name);
    return list != NULL && list->len > 0;
}

static void
render_nodes(const GPtrArray *nodes, const struct template_vars *v, const char *item, GString *out)
{
    for (guint i = 0; i < nodes->len; i++) {
        const struct node *n = g_ptr_array_index(nodes, i);
        switch (n->kind) {
        case NODE_TEXT:
            g_string_append(out, n->text);
            break;
        case NODE_VAR: {
            const char *value =
                strcmp(n->text, "item") == 0 ? item : g_hash_table_lookup(v->values, n->text);
            if (value != NULL)
                g_string_append(out, value);
            break;
        }
        case NODE_IF:
            if (is_set(v, n->text, item))
                render_nodes(n->children, v, item, out);
            else if (n->otherwise != NULL)
                render_nodes(n->otherwise, v, item, out);
            break;
        case NODE_EACH: {
            GPtrArray *list = g_hash_table_lookup(v->lists, n->text);
            for (guint j = 0; list != NULL && j < list->len; j++)
                render_nodes(n->children, v, g_ptr_array_index(list, j), out);
            break;
        }
        }
    }
}

char *
template_render(const struct template *t, const struct template_vars *v, char **subject)
{
    GString *out = g_string_new(NULL);

    if (subject != NULL) {
        GString *s = g_string_new(NULL);
        render_nodes(t->subject, v, NULL, s);
        /* A value may hold a line break; a subject never does. */
        g_strdelimit(s->str, "\r\n\t", ' ');
        *subject = g_strstrip(g_string_free(s, FALSE));
    }
    render_nodes(t->body, v, NULL, out);
    return g_string_free(out, FALSE);
}

/* ---- variables ---- */

struct template_vars *
template_vars_new(void)
{
    struct template_vars *v = g_new0(struct template_vars, 1);

    v->values = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    v->lists =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_ptr_array_unref);
    return v;
}

void
template_vars_set(struct template_vars *v, const char *name, const char *value)
{
    if (value == NULL)
        g_hash_table_remove(v->values, name);
    else
        g_hash_table_insert(v->values, g_strdup(name), g_strdup(value));
}

void
template_vars_set_list(struct template_vars *v, const char *name, char **items)
{
    GPtrArray *list = g_ptr_array_new_with_free_func(g_free);

    for (char **p = items; p != NULL && *p != NULL; p++)
        g_ptr_array_add(list, g_strdup(*p));
    g_hash_table_insert(v->lists, g_strdup(name), list);
}

struct template_vars *
template_vars_free(struct template_vars *v)
{
    if (v == NULL)
        return NULL;
    g_hash_table_unref(v->values);
    g_hash_table_unref(v->lists);
    g_free(v);
    return NULL;
}

/* ---- the set ---- */

const char *const template_languages[] = { "en", "nl", NULL };
const char *const template_names[] = {
    "ack-new",     "ack-followup",     "staff-new",
    "staff-reply", "escalation-staff", "escalation-customer",
    "sla-warning", "sla-breach",       "status-change",
    "not-contact", "unknown-command",  "note-recipients",
    NULL,
};

struct template_set {
    GHashTable *by_key; /* "lang/name" -> struct template* */
};

static void
template_free_cb(gpointer p)
{
    template_free(p);
}

struct template_set *
template_set_load(const char *dir, GError **error)
{
    struct template_set *set = g_new0(struct template_set, 1);

    set->by_key = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, template_free_cb);
    for (int l = 0; template_languages[l] != NULL; l++) {
        for (int n = 0; template_names[n] != NULL; n++) {
            g_autofree char *key =
                g_strdup_printf("%s/%s", template_languages[l], template_names[n]);
            g_autofree char *path = g_strdup_printf("%s/%s.txt", dir, key);
            g_autofree char *text = NULL;
            g_autoptr(GError) local = NULL;
            struct template *t;

            if (!g_file_get_contents(path, &text, NULL, &local)) {
                g_set_error(error, TEMPLATE_ERROR, TEMPLATE_ERROR_MISSING,
                            "%s: cannot read template: %s", path, local->message);
                return template_set_free(set);
            }
            if (!g_utf8_validate(text, -1, NULL)) {
                g_set_error(error, TEMPLATE_ERROR, TEMPLATE_ERROR_SYNTAX, "%s: is not UTF-8 text",
                            path);
                return template_set_free(set);
            }
            t = template_compile(path, text, error);
            if (t == NULL)
                return template_set_free(set);
            g_hash_table_insert(set->by_key, g_steal_pointer(&key), t);
        }
    }
    return set;
}

struct template_set *
template_set_free(struct template_set *set)
{
    if (set == NULL)
        return NULL;
    g_hash_table_unref(set->by_key);
    g_free(set);
    return NULL;
}

const struct template *
template_set_get(const struct template_set *set, const char *lang, const char *name)
{
    g_autofree char *key = g_strdup_printf("%s/%s", lang != NULL ? lang : "en", name);
    const struct template *t = g_hash_table_lookup(set->by_key, key);

    if (t == NULL) {
        g_free(key);
        key = g_strdup_printf("en/%s", name);
        t = g_hash_table_lookup(set->by_key, key);
    }
    return t;
}
