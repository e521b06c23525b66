/*
 * commands - parsing staff command lines.
 */
#include <string.h>

#include "router/address.h"
#include "router/commands.h"

static void
command_free(gpointer p)
{
    struct command *c = p;

    g_free(c->word);
    g_free(c->line);
    g_free(c);
}

bool
commands_is_command_line(const char *line)
{
    while (*line == ' ' || *line == '\t')
        line++;
    return line[0] == '#' && g_ascii_isalpha(line[1]);
}

static bool
is_status(const char *w)
{
    static const char *const statuses[] = { "open", "pending", "resolved", "closed", NULL };

    return g_strv_contains(statuses, w);
}

/* A bare address: what #assign takes, nothing that could break a header. */
static bool
is_address(const char *a)
{
    const char *at = strchr(a, '@');

    if (at == NULL || at == a || at[1] == '\0' || strchr(at + 1, '@') != NULL)
        return false;
    for (const char *p = a; *p != '\0'; p++)
        if (!g_ascii_isalnum(*p) && strchr("@._+-", *p) == NULL)
            return false;
    return true;
}

/* A [customer:NAME] name: letters, digits and - _ . + */
static bool
is_name(const char *w)
{
    for (const char *p = w; *p != '\0'; p++)
        if (!g_ascii_isalnum(*p) && strchr("-_.+", *p) == NULL)
            return false;
    return *w != '\0';
}

static struct command *
parse_line(const char *raw)
{
    struct command *c = g_new0(struct command, 1);
    g_autofree char *line = g_strstrip(g_strdup(raw));
    g_auto(GStrv) words = g_strsplit_set(line + 1, " \t", -1);
    g_autofree char *verb = g_ascii_strdown(words[0], -1);
    g_autofree char *arg = NULL;
    int n = 0;

    /* the first non-empty word after the verb */
    for (char **w = words + 1; *w != NULL; w++)
        if (**w != '\0') {
            arg = g_strdup(*w);
            if (w[1] != NULL && *w[1] != '\0')
                n = -1; /* more words than a command takes */
            break;
        }
    c->line = g_strdup(line);
    c->kind = CMD_UNKNOWN;
    if (strcmp(verb, "severity") == 0 && arg != NULL && n == 0 && arg[0] >= '1' && arg[0] <= '4' &&
        arg[1] == '\0') {
        c->kind = CMD_SEVERITY;
        c->number = arg[0] - '0';
    } else if (strcmp(verb, "stage") == 0 && arg != NULL && n == 0 && arg[0] >= '1' &&
               arg[0] <= '3' && arg[1] == '\0') {
        c->kind = CMD_STAGE;
        c->number = arg[0] - '0';
    } else if (strcmp(verb, "status") == 0 && arg != NULL && n == 0) {
        g_autofree char *w = g_ascii_strdown(arg, -1);
        if (is_status(w)) {
            c->kind = CMD_STATUS;
            c->word = g_steal_pointer(&w);
        }
    } else if (strcmp(verb, "assign") == 0 && arg != NULL && n == 0 && is_address(arg)) {
        c->kind = CMD_ASSIGN;
        c->word = g_ascii_strdown(arg, -1);
    } else if (strcmp(verb, "internal") == 0 && arg == NULL) {
        c->kind = CMD_INTERNAL;
    } else if (strcmp(verb, "escalate") == 0 && arg == NULL) {
        c->kind = CMD_ESCALATE;
    } else if (strcmp(verb, "requester") == 0 && arg != NULL && n == 0 &&
               router_is_plain_address(arg)) {
        c->kind = CMD_REQUESTER;
        c->word = router_normal_address(arg);
    } else if (strcmp(verb, "customer") == 0 && arg != NULL && n == 0 && is_name(arg)) {
        c->kind = CMD_CUSTOMER;
        c->word = g_strdup(arg);
    }
    return c;
}

/* The command lines of one message that are applied: each can queue
 * notices, so a message of thousands of "#stage 3" lines must not page
 * anyone thousands of times.  Far more than a person writes. */
#define MAX_COMMANDS 20

/* Collects the leading command lines into OUT (may be NULL), the ones
 * past MAX_COMMANDS as one line that is not applied; returns where the
 * rest of TEXT starts. */
static const char *
leading_commands(const char *text, GPtrArray *out)
{
    const char *p = text;
    const char *rest = text;
    guint over = 0;

    while (*p != '\0') {
        const char *eol = strchr(p, '\n');
        g_autofree char *line = g_strndup(p, eol != NULL ? (gsize)(eol - p) : strlen(p));
        const char *next = eol != NULL ? eol + 1 : p + strlen(p);

        g_strstrip(line);
        if (*line == '\0') {
            p = next;
            if (out == NULL || out->len > 0)
                rest = next;
            continue;
        }
        if (!commands_is_command_line(line))
            break;
        if (out != NULL && out->len < MAX_COMMANDS)
            g_ptr_array_add(out, parse_line(line));
        else
            over++;
        p = rest = next;
    }
    if (out != NULL && over > 0) {
        struct command *c = g_new0(struct command, 1);
        c->kind = CMD_UNKNOWN;
        c->line = g_strdup_printf(
            "(%u more command lines: at most %d are applied from one message)", over, MAX_COMMANDS);
        g_ptr_array_add(out, c);
    }
    return rest;
}

GPtrArray *
commands_parse(const char *text)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(command_free);

    leading_commands(text, out);
    return out;
}

char *
commands_strip(const char *text)
{
    g_autoptr(GPtrArray) found = g_ptr_array_new_with_free_func(command_free);
    const char *rest = leading_commands(text, found);

    return g_strdup(found->len > 0 ? rest : text);
}
