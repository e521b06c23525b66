/*
 * config - reads and checks ticket-milter.conf.
 *
 * The file is a GKeyFile.  GKeyFile says neither which line is wrong nor
 * that a key is unknown, and an admin needs both: so the text is first
 * scanned line by line (syntax, groups, keys, duplicates, and where each key
 * stands), then GKeyFile reads the values, and every value is checked
 * against the key table below.  Adding a key is one row in that table;
 * what each kind of value must look like is in checks.c, and what is
 * allowed but probably not meant (the -t warnings) in warnings.c.
 *
 * Edge cases: lists are separated by ';' and their items trimmed; empty
 * items are dropped; addresses and domains are kept lower-case; a contact
 * or domain claimed by two customers is refused, since mail from it could
 * not be told apart.
 */
#include <stddef.h>
#include <string.h>

#include "config/checks.h"
#include "config/config.h"
#include "config/ical.h"
#include "router/address.h"
#include "router/router.h"
#include "util/dbtarget.h"
#include "util/lines.h"

/* The quark's name is the first argument as written. */
/* clang-format off */
G_DEFINE_QUARK(config-error-quark, config_error)
/* clang-format on */

enum key_kind {
    KIND_STRING, /* char *, checked by CHECK */
    KIND_LIST,   /* char **, each item checked by CHECK */
    KIND_UINT,   /* guint64 or guint (SIZE says which), between MIN and MAX */
    KIND_ENUM,   /* int, index into CHOICES */
    KIND_BOOL,   /* bool: yes/no, true/false, on/off */
    KIND_PLAN,   /* a [plan:NAME] key, handed to plan_set() */
};

/* Returns NULL when VALUE is fine, else a sentence saying what is allowed. */
typedef const char *(*check_fn)(const char *value);

struct key_def {
    const char *group; /* "customer" stands for every [customer:NAME] */
    const char *key;
    enum key_kind kind;
    size_t offset;   /* into struct config, or struct customer for "customer" */
    size_t size;     /* KIND_UINT: sizeof the field */
    const char *def; /* default as text; NULL: none */
    guint64 min, max;
    const char *const *choices;
    check_fn check;
    bool lower; /* store lower-case */
};

static const char *const unknown_sender_choices[] = { "accept", "reject", NULL };
static const char *const auto_reply_choices[] = { "record", "ignore", NULL };
static const char *const verify_sender_choices[] = { "none", "aligned", "authenticated", NULL };

#define CFG(f) offsetof(struct config, f)
#define BUFFERED_DEFAULT_FACTOR 10
#define CUS(f) offsetof(struct customer, f)

static const struct key_def keys[] = {
    { "milter", "socket", KIND_STRING, CFG(socket), 0, "inet:8894@127.0.0.1", 0, 0, NULL,
      config_check_socket, false },
    { "milter", "database", KIND_STRING, CFG(database), 0, NULL, 0, 0, NULL, config_check_database,
      false },
    { "milter", "support_addresses", KIND_LIST, CFG(support_addresses), 0, NULL, 0, 0, NULL,
      config_check_address, true },
    { "milter", "ticket_prefix", KIND_STRING, CFG(ticket_prefix), 0, "TKT", 0, 0, NULL,
      config_check_prefix, false },
    { "milter", "recipient_delimiter", KIND_STRING, CFG(recipient_delimiter), 0, "+", 0, 0, NULL,
      config_check_delimiter, false },
    { "milter", "max_message_size", KIND_UINT, CFG(max_message_size), sizeof(guint64), "26214400",
      1024, 1073741824, NULL, NULL, false },
    { "milter", "unknown_senders", KIND_ENUM, CFG(unknown_senders), 0, "accept", 0, 0,
      unknown_sender_choices, NULL, false },
    { "milter", "busy_timeout", KIND_UINT, CFG(busy_timeout), sizeof(guint), "2000", 0, 60000, NULL,
      NULL, false },
    { "milter", "hostname", KIND_STRING, CFG(hostname), 0, NULL, 0, 0, NULL, config_check_token,
      false },
    { "milter", "secret_file", KIND_STRING, CFG(secret_file), 0, NULL, 0, 0, NULL,
      config_check_path, false },
    { "milter", "max_mime_depth", KIND_UINT, CFG(max_mime_depth), sizeof(guint), "50", 1, 1000,
      NULL, NULL, false },
    { "milter", "max_mime_parts", KIND_UINT, CFG(max_mime_parts), sizeof(guint), "500", 1, 100000,
      NULL, NULL, false },
    { "milter", "max_headers", KIND_UINT, CFG(max_headers), sizeof(guint), "1000", 10, 100000, NULL,
      NULL, false },
    { "milter", "reopen_days", KIND_UINT, CFG(reopen_days), sizeof(guint), "14", 0, 3650, NULL,
      NULL, false },
    { "milter", "auto_replies", KIND_ENUM, CFG(auto_replies), 0, "record", 0, 0, auto_reply_choices,
      NULL, false },
    { "milter", "verify_senders", KIND_ENUM, CFG(verify_senders), 0, "aligned", 0, 0,
      verify_sender_choices, NULL, false },
    { "milter", "user", KIND_STRING, CFG(user), 0, NULL, 0, 0, NULL, config_check_token, false },
    { "milter", "socket_owner", KIND_STRING, CFG(socket_owner), 0, NULL, 0, 0, NULL,
      config_check_owner, false },
    { "milter", "socket_mode", KIND_STRING, CFG(socket_mode_text), 0, "0660", 0, 0, NULL,
      config_check_mode, false },
    { "milter", "pid_file", KIND_STRING, CFG(pid_file), 0, NULL, 0, 0, NULL, config_check_path,
      false },
    { "milter", "metrics_file", KIND_STRING, CFG(metrics_file), 0, NULL, 0, 0, NULL,
      config_check_path, false },
    { "milter", "metrics_interval", KIND_UINT, CFG(metrics_interval), sizeof(guint), "15", 1, 3600,
      NULL, NULL, false },
    /* What all messages in flight may keep at once; at least max_message_size
     * (config_read() checks), so that the largest message fits an idle
     * daemon.  Unset, it is BUFFERED_DEFAULT_FACTOR times max_message_size. */
    { "milter", "max_buffered_bytes", KIND_UINT, CFG(max_buffered_bytes), sizeof(guint64), NULL,
      1024, 68719476736, NULL, NULL, false },
    { "staff", "addresses", KIND_LIST, CFG(staff_addresses), 0, NULL, 0, 0, NULL,
      config_check_address, true },
    { "staff", "domains", KIND_LIST, CFG(staff_domains), 0, NULL, 0, 0, NULL, config_check_domain,
      true },
    { "staff", "trusted_networks", KIND_LIST, CFG(trusted_networks), 0, NULL, 0, 0, NULL,
      config_check_network, false },
    { "staff", "logins", KIND_LIST, CFG(staff_logins), 0, NULL, 0, 0, NULL, config_check_login,
      true },
    { "staff", "authserv_ids", KIND_LIST, CFG(authserv_ids), 0, NULL, 0, 0, NULL,
      config_check_token, true },
    { "staff", "timezone", KIND_STRING, CFG(staff_timezone), 0, "UTC", 0, 0, NULL,
      config_check_timezone, false },
    /* Empty: no Authentication-Results header is believed until the admin
     * names the hosts of the verifiers that write them. */
    { "staff", "authserv_networks", KIND_LIST, CFG(authserv_networks), 0, NULL, 0, 0, NULL,
      config_check_network, false },
    { "outbound", "smtp_url", KIND_STRING, CFG(smtp_url), 0, "smtp://127.0.0.1:10025", 0, 0, NULL,
      config_check_smtp_url, false },
    { "outbound", "from", KIND_STRING, CFG(from), 0, NULL, 0, 0, NULL, config_check_from, false },
    { "outbound", "webhook_url", KIND_STRING, CFG(webhook_url), 0, NULL, 0, 0, NULL,
      config_check_http_url, false },
    { "outbound", "not_contact_limit", KIND_UINT, CFG(not_contact_limit), sizeof(guint), "20", 0,
      100000, NULL, NULL, false },
    { "outbound", "ack_limit", KIND_UINT, CFG(ack_limit), sizeof(guint), "5", 0, 1000, NULL, NULL,
      false },
    { "outbound", "ack_followup", KIND_BOOL, CFG(ack_followup), 0, "no", 0, 0, NULL, NULL, false },
    { "outbound", "language", KIND_STRING, CFG(language), 0, "en", 0, 0, NULL,
      config_check_language, true },
    { "outbound", "template_dir", KIND_STRING, CFG(template_dir), 0, DATADIR "/templates", 0, 0,
      NULL, config_check_path, false },
    { "outbound", "retry_base", KIND_UINT, CFG(retry_base), sizeof(guint), "5", 1, 3600, NULL, NULL,
      false },
    { "outbound", "retry_max", KIND_UINT, CFG(retry_max), sizeof(guint), "300", 1, 86400, NULL,
      NULL, false },
    { "outbound", "give_up", KIND_UINT, CFG(give_up), sizeof(guint), "172800", 60, 2592000, NULL,
      NULL, false },
    { "outbound", "lease", KIND_UINT, CFG(lease), sizeof(guint), "300", 5, 86400, NULL, NULL,
      false },
    { "customer", "domains", KIND_LIST, CUS(domains), 0, NULL, 0, 0, NULL, config_check_domain,
      true },
    { "customer", "contacts", KIND_LIST, CUS(contacts), 0, NULL, 0, 0, NULL, config_check_address,
      true },
    { "customer", "plan", KIND_STRING, CUS(plan), 0, "standard", 0, 0, NULL, config_check_token,
      false },
    { "customer", "timezone", KIND_STRING, CUS(timezone), 0, "UTC", 0, 0, NULL,
      config_check_timezone, false },
    { "customer", "language", KIND_STRING, CUS(language), 0, "en", 0, 0, NULL,
      config_check_language, true },
    { "severity", "aliases", KIND_STRING, CFG(severity_aliases), 0, NULL, 0, 0, NULL, NULL, false },
    { "severity", "keywords", KIND_STRING, CFG(severity_keywords), 0, NULL, 0, 0, NULL, NULL,
      false },
    { "severity", "matrix", KIND_STRING, CFG(severity_matrix), 0, NULL, 0, 0, NULL, NULL, false },
    { "severity", "keywords_nl", KIND_STRING, CFG(severity_keywords_nl), 0, NULL, 0, 0, NULL, NULL,
      false },
    { "severity", "negations", KIND_STRING, CFG(severity_negations), 0, NULL, 0, 0, NULL, NULL,
      false },
    { "severity", "negations_nl", KIND_STRING, CFG(severity_negations_nl), 0, NULL, 0, 0, NULL,
      NULL, false },
    { "severity", "keyword_max", KIND_UINT, CFG(severity_keyword_max), sizeof(guint), "2", 1, 4,
      NULL, NULL, false },
    { "escalation", "stage1", KIND_LIST, CFG(stage_contacts[1]), 0, NULL, 0, 0, NULL,
      config_check_address, true },
    { "escalation", "stage2", KIND_LIST, CFG(stage_contacts[2]), 0, NULL, 0, 0, NULL,
      config_check_address, true },
    { "escalation", "stage3", KIND_LIST, CFG(stage_contacts[3]), 0, NULL, 0, 0, NULL,
      config_check_address, true },
    { "escalation", "warn_at", KIND_UINT, CFG(ladder.warn_at), sizeof(guint), "75", 1, 99, NULL,
      NULL, false },
    { "escalation", "sev1_initial_stage", KIND_UINT, CFG(ladder.initial_stage[1]), sizeof(guint),
      "2", 0, 3, NULL, NULL, false },
    { "escalation", "sev2_initial_stage", KIND_UINT, CFG(ladder.initial_stage[2]), sizeof(guint),
      "1", 0, 3, NULL, NULL, false },
    { "escalation", "sev1_stage3_after", KIND_STRING, CFG(sev1_next_after), 0, "1bd", 0, 0, NULL,
      config_check_goal, false },
    { "escalation", "sev2_stage2_after", KIND_STRING, CFG(sev2_next_after), 0, "2bd", 0, 0, NULL,
      config_check_goal, false },
};

/* Every [plan:NAME] key is checked by the plan module itself. */
static const struct key_def plan_key = {
    "plan", "", KIND_PLAN, 0, 0, NULL, 0, 0, NULL, NULL, false
};

/* ---- the line scan ---- */

struct scan {
    const char *path;
    GHashTable *lines; /* "group\nkey" or "group" -> line number */
    GPtrArray *groups; /* group names in file order */
};

static void
scan_clear(struct scan *s)
{
    g_clear_pointer(&s->lines, g_hash_table_unref);
    g_clear_pointer(&s->groups, g_ptr_array_unref);
}

static guint
scan_line(const struct scan *s, const char *group, const char *key)
{
    g_autofree char *id = key != NULL ? g_strconcat(group, "\n", key, NULL) : g_strdup(group);

    return GPOINTER_TO_UINT(g_hash_table_lookup(s->lines, id));
}

#define PLAN_PREFIX "plan:"

static bool
group_is_known(const char *group)
{
    if (g_str_has_prefix(group, CONFIG_CUSTOMER_PREFIX))
        return config_check_token(group + strlen(CONFIG_CUSTOMER_PREFIX)) == NULL;
    if (g_str_has_prefix(group, PLAN_PREFIX))
        return config_check_token(group + strlen(PLAN_PREFIX)) == NULL;
    return strcmp(group, "milter") == 0 || strcmp(group, "staff") == 0 ||
           strcmp(group, "outbound") == 0 || strcmp(group, "severity") == 0 ||
           strcmp(group, "escalation") == 0;
}

static const char *
def_group(const char *group)
{
    if (g_str_has_prefix(group, CONFIG_CUSTOMER_PREFIX))
        return "customer";
    return g_str_has_prefix(group, PLAN_PREFIX) ? "plan" : group;
}

static const struct key_def *
find_key(const char *group, const char *key)
{
    const char *g = def_group(group);

    if (strcmp(g, "plan") == 0)
        return g_strv_contains(plan_keys, key) ? &plan_key : NULL;

    for (guint i = 0; i < G_N_ELEMENTS(keys); i++)
        if (strcmp(keys[i].group, g) == 0 && strcmp(keys[i].key, key) == 0)
            return &keys[i];
    return NULL;
}

static bool
scan_text(struct scan *s, const char *text, GError **error)
{
    g_auto(GStrv) lines = util_split_lines(text);
    const char *group = NULL;

    s->lines = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    s->groups = g_ptr_array_new_with_free_func(g_free);
    for (guint n = 0; lines[n] != NULL; n++) {
        g_autofree char *line = g_strstrip(g_strdup(lines[n]));
        guint lineno = n + 1;
        char *eq;

        if (*line == '\0' || *line == '#')
            continue;
        if (*line == '[') {
            gsize len = strlen(line);
            if (line[len - 1] != ']' || len < 3) {
                g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_SYNTAX,
                            "%s:%u: a group header must look like [name]", s->path, lineno);
                return false;
            }
            line[len - 1] = '\0';
            if (!group_is_known(line + 1)) {
                g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_UNKNOWN,
                            "%s:%u: [%s]: unknown group (known: [milter], [staff], [outbound],"
                            " [severity], [escalation], [plan:NAME], [customer:NAME] with NAME of"
                            " letters, digits, - _ .)",
                            s->path, lineno, line + 1);
                return false;
            }
            /* A group may be opened again further down; its keys still
             * may not repeat. */
            if (scan_line(s, line + 1, NULL) != 0) {
                for (guint i = 0; i < s->groups->len; i++)
                    if (strcmp(g_ptr_array_index(s->groups, i), line + 1) == 0)
                        group = g_ptr_array_index(s->groups, i);
                continue;
            }
            g_hash_table_insert(s->lines, g_strdup(line + 1), GUINT_TO_POINTER(lineno));
            g_ptr_array_add(s->groups, g_strdup(line + 1));
            group = g_ptr_array_index(s->groups, s->groups->len - 1);
            continue;
        }
        eq = strchr(line, '=');
        if (eq == NULL || eq == line) {
            g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_SYNTAX,
                        "%s:%u: expected \"key = value\", a [group] or a comment starting with #, "
                        "got \"%s\"",
                        s->path, lineno, line);
            return false;
        }
        *eq = '\0';
        g_strchomp(line);
        if (group == NULL) {
            g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_SYNTAX,
                        "%s:%u: %s: key outside of any group; put it under [milter] or another"
                        " group",
                        s->path, lineno, line);
            return false;
        }
        if (strcmp(group, "milter") == 0 && strcmp(line, "secret") == 0) {
            g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_UNKNOWN,
                        "%s:%u: [milter] secret: no longer read from the configuration; put the"
                        " value alone in a file readable only by the daemon and name it with"
                        " secret_file",
                        s->path, lineno);
            return false;
        }
        if (find_key(group, line) == NULL) {
            g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_UNKNOWN, "%s:%u: [%s] %s: unknown key",
                        s->path, lineno, group, line);
            return false;
        }
        g_autofree char *id = g_strconcat(group, "\n", line, NULL);
        if (g_hash_table_contains(s->lines, id)) {
            g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_SYNTAX,
                        "%s:%u: [%s] %s: key given twice (first on line %u)", s->path, lineno,
                        group, line, scan_line(s, group, line));
            return false;
        }
        g_hash_table_insert(s->lines, g_steal_pointer(&id), GUINT_TO_POINTER(lineno));
    }
    return true;
}

/* ---- reading values ---- */

/* "PATH:LINE" where the key is written, "PATH" for a default. */
static char *
where(const struct scan *s, const char *group, const char *key)
{
    guint line = scan_line(s, group, key);

    return line > 0 ? g_strdup_printf("%s:%u", s->path, line) : g_strdup(s->path);
}

static void
set_value_error(GError **error, const struct scan *s, const char *group, const char *key,
                const char *value, const char *why)
{
    g_autofree char *at = where(s, group, key);

    g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_VALUE, "%s: [%s] %s: \"%s\" %s", at, group, key,
                value, why);
}

/* Splits a list value on ';', trims the items, drops empty ones. */
static char **
split_list(const char *value, bool lower)
{
    g_auto(GStrv) items = g_strsplit(value, ";", -1);
    GPtrArray *out = g_ptr_array_new();

    for (char **p = items; *p != NULL; p++) {
        char *item = g_strstrip(*p);
        if (*item != '\0')
            g_ptr_array_add(out, lower ? g_ascii_strdown(item, -1) : g_strdup(item));
    }
    g_ptr_array_add(out, NULL);
    return (char **)g_ptr_array_free(out, FALSE);
}

static bool
read_key(GKeyFile *kf, const struct scan *s, const char *group, const struct key_def *def,
         void *base, GError **error)
{
    g_autofree char *raw = NULL;
    const char *value;
    char *field = (char *)base + def->offset;

    if (g_key_file_has_key(kf, group, def->key, NULL))
        raw = g_key_file_get_value(kf, group, def->key, NULL);
    if (raw != NULL)
        g_strstrip(raw);
    value = raw != NULL ? raw : def->def;
    if (value == NULL && def->kind != KIND_LIST)
        return true;

    switch (def->kind) {
    case KIND_STRING: {
        const char *why = def->check != NULL ? def->check(value) : NULL;
        if (why != NULL) {
            set_value_error(error, s, group, def->key, value, why);
            return false;
        }
        *(char **)field = def->lower ? g_ascii_strdown(value, -1) : g_strdup(value);
        return true;
    }
    case KIND_LIST: {
        char **items = split_list(value != NULL ? value : "", def->lower);
        for (char **p = items; def->check != NULL && *p != NULL; p++) {
            const char *why = def->check(*p);
            if (why != NULL) {
                set_value_error(error, s, group, def->key, *p, why);
                g_strfreev(items);
                return false;
            }
        }
        /* Domains and addresses are kept as mail is compared with them:
         * lower case, an international domain in its xn-- form. */
        for (char **p = items; def->check == config_check_domain && *p != NULL; p++) {
            char *ascii = router_ascii_domain(*p);
            g_free(*p);
            *p = ascii;
        }
        for (char **p = items; def->check == config_check_address && *p != NULL; p++) {
            char *normal = router_normal_address(*p);
            g_free(*p);
            *p = normal;
        }
        /* Networks are kept parsed: they are matched on every connection. */
        if (def->check == config_check_network) {
            for (char **p = items; *p != NULL; p++)
                g_ptr_array_add(*(GPtrArray **)field,
                                g_inet_address_mask_new_from_string(*p, NULL));
            g_strfreev(items);
        } else {
            *(char ***)field = items;
        }
        return true;
    }
    case KIND_UINT: {
        guint64 n = 0;
        if (!g_ascii_string_to_unsigned(value, 10, def->min, def->max, &n, NULL)) {
            g_autofree char *why = g_strdup_printf("must be a whole number from %" G_GUINT64_FORMAT
                                                   " to %" G_GUINT64_FORMAT,
                                                   def->min, def->max);
            set_value_error(error, s, group, def->key, value, why);
            return false;
        }
        if (def->size == sizeof(guint64))
            *(guint64 *)field = n;
        else
            *(guint *)field = (guint)n;
        return true;
    }
    case KIND_ENUM: {
        for (int i = 0; def->choices[i] != NULL; i++) {
            if (g_ascii_strcasecmp(value, def->choices[i]) == 0) {
                *(int *)field = i;
                return true;
            }
        }
        g_autofree char *choices = g_strjoinv(" or ", (char **)def->choices);
        g_autofree char *why = g_strconcat("must be ", choices, NULL);
        set_value_error(error, s, group, def->key, value, why);
        return false;
    }
    case KIND_PLAN:
        return true;
    case KIND_BOOL: {
        static const char *const yes[] = { "yes", "true", "on", "1", NULL };
        static const char *const no[] = { "no", "false", "off", "0", NULL };
        if (g_strv_contains(yes, value) || g_strv_contains(no, value)) {
            *(bool *)field = g_strv_contains(yes, value);
            return true;
        }
        set_value_error(error, s, group, def->key, value, "must be yes or no");
        return false;
    }
    }
    return true;
}

static bool
read_group(GKeyFile *kf, const struct scan *s, const char *group, void *base, GError **error)
{
    const char *g = def_group(group);

    for (guint i = 0; i < G_N_ELEMENTS(keys); i++)
        if (strcmp(keys[i].group, g) == 0 && !read_key(kf, s, group, &keys[i], base, error))
            return false;
    return true;
}

static void
customer_free(gpointer p)
{
    struct customer *c = p;

    g_free(c->name);
    g_strfreev(c->domains);
    g_strfreev(c->contacts);
    g_free(c->plan);
    g_free(c->timezone);
    g_free(c->language);
    g_free(c);
}

/* A contact or domain in two customers: mail from it could be either's. */
static bool
check_overlaps(const struct config *cfg, const struct scan *s, GError **error)
{
    g_autoptr(GHashTable) owner = g_hash_table_new(g_str_hash, g_str_equal);

    for (guint i = 0; i < cfg->customers->len; i++) {
        const struct customer *c = g_ptr_array_index(cfg->customers, i);
        char **lists[] = { c->contacts, c->domains };
        const char *names[] = { "contacts", "domains" };
        for (guint l = 0; l < 2; l++) {
            for (char **p = lists[l]; *p != NULL; p++) {
                const struct customer *other = g_hash_table_lookup(owner, *p);
                if (other != NULL && other != c) {
                    g_autofree char *group = g_strconcat(CONFIG_CUSTOMER_PREFIX, c->name, NULL);
                    g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_VALUE,
                                "%s:%u: [%s] %s: \"%s\" belongs to [customer:%s] already", s->path,
                                scan_line(s, group, names[l]), group, names[l], *p, other->name);
                    return false;
                }
                g_hash_table_insert(owner, *p, (gpointer)c);
            }
        }
    }
    return true;
}

static void
plan_free_cb(gpointer p)
{
    plan_free(p);
}

const struct plan *
config_plan(const struct config *cfg, const char *name)
{
    for (guint i = 0; i < cfg->plans->len; i++) {
        const struct plan *p = g_ptr_array_index(cfg->plans, i);
        if (strcmp(p->name, name) == 0)
            return p;
    }
    return NULL;
}

/* [severity] and [escalation] values that need more than a table row. */
static bool
read_rules(struct config *cfg, const struct scan *s, GError **error)
{
    const struct {
        const char *key;
        const char *value;
        char *(*set)(struct severity_rules *, const char *);
    } rules[] = {
        { "aliases", cfg->severity_aliases, severity_rules_set_aliases },
        { "keywords", cfg->severity_keywords, severity_rules_set_keywords },
        { "keywords_nl", cfg->severity_keywords_nl, severity_rules_set_keywords_nl },
        { "negations", cfg->severity_negations, severity_rules_set_negations },
        { "negations_nl", cfg->severity_negations_nl, severity_rules_set_negations_nl },
        { "matrix", cfg->severity_matrix, severity_rules_set_matrix },
    };

    cfg->severity = severity_rules_new();
    severity_rules_set_keyword_max(cfg->severity, (int)cfg->severity_keyword_max);
    for (guint i = 0; i < G_N_ELEMENTS(rules); i++) {
        g_autofree char *why = NULL;
        if (rules[i].value == NULL || (why = rules[i].set(cfg->severity, rules[i].value)) == NULL)
            continue;
        g_autofree char *at = where(s, "severity", rules[i].key);
        g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_VALUE, "%s: [severity] %s: %s", at,
                    rules[i].key, why);
        return false;
    }
    plan_parse_goal(cfg->sev1_next_after, &cfg->ladder.next_after[1]);
    plan_parse_goal(cfg->sev2_next_after, &cfg->ladder.next_after[2]);
    return true;
}

/* The presets, then every [plan:NAME]: a group named like a preset
 * changes that preset. */
static bool
read_plans(struct config *cfg, GKeyFile *kf, const struct scan *s, GError **error)
{
    const char *const presets[] = { "standard", "default", "extended" };

    for (guint i = 0; i < G_N_ELEMENTS(presets); i++)
        g_ptr_array_add(cfg->plans, plan_preset(presets[i]));
    for (guint i = 0; i < s->groups->len; i++) {
        const char *group = g_ptr_array_index(s->groups, i);
        const char *name = group + strlen(PLAN_PREFIX);
        struct plan *p;

        if (!g_str_has_prefix(group, PLAN_PREFIX))
            continue;
        p = (struct plan *)config_plan(cfg, name);
        if (p == NULL) {
            p = plan_new(name);
            g_ptr_array_add(cfg->plans, p);
        }
        for (const char *const *key = plan_keys; *key != NULL; key++) {
            g_autofree char *value = g_key_file_get_value(kf, group, *key, NULL);
            g_autofree char *why = NULL;
            if (value == NULL)
                continue;
            why = strcmp(*key, "holiday_file") == 0 ? ical_plan_holiday_files(p, g_strstrip(value))
                                                    : plan_set(p, *key, g_strstrip(value));
            if (why == NULL)
                continue;
            g_autofree char *at = where(s, group, *key);
            g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_VALUE, "%s: [%s] %s: %s", at, group, *key,
                        why);
            return false;
        }
    }
    return true;
}

/* The router's view of the config: borrowed pointers, set once. */
static void
fill_policy(struct config *cfg)
{
    struct policy *p = &cfg->policy;

    p->ticket_prefix = cfg->ticket_prefix;
    p->support_addresses = cfg->support_addresses;
    p->recipient_delimiter = cfg->recipient_delimiter;
    p->unknown_senders = cfg->unknown_senders;
    p->auto_replies = cfg->auto_replies;
    p->verify_senders = cfg->verify_senders;
    p->reopen_days = cfg->reopen_days;
    p->staff_addresses = cfg->staff_addresses;
    p->staff_domains = cfg->staff_domains;
    p->staff_logins = cfg->staff_logins;
    p->authserv_ids = cfg->authserv_ids;
    p->customers = cfg->customers;
    p->plans = cfg->plans;
    p->severity = cfg->severity;
    for (int i = 0; i < 4; i++)
        p->stage_contacts[i] = cfg->stage_contacts[i];
    p->ladder = &cfg->ladder;
    p->ack_limit = cfg->ack_limit;
    p->not_contact_limit = cfg->not_contact_limit;
    p->ack_followup = cfg->ack_followup;
    p->language = cfg->language;
}

/* The [milter] keys that depend on each other or have defaults made from
 * others, after the group is read. */
static bool
settle_milter(struct config *cfg, const struct scan *s, GError **error)
{
    /* A relative path is taken from the working directory (the daemon
     * keeps the one it was started in), and kept absolute so that log lines
     * and ticketctl name the very file. */
    char **paths[] = { &cfg->database, &cfg->pid_file, &cfg->metrics_file, &cfg->template_dir,
                       &cfg->secret_file };
    for (guint i = 0; i < G_N_ELEMENTS(paths); i++)
        if (*paths[i] != NULL && !g_path_is_absolute(*paths[i]) &&
            !(paths[i] == &cfg->database && dbtarget_is_uri(cfg->database))) {
            char *abs = g_canonicalize_filename(*paths[i], NULL);
            g_free(*paths[i]);
            *paths[i] = abs;
        }
    if (cfg->database == NULL) {
        g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_MISSING,
                    "%s: [milter] database: required key is missing (the SQLite file, e.g."
                    " /var/lib/ticket-milter/tickets.db, or a PostgreSQL URI such as"
                    " postgresql://ticket-milter@db1/tickets)",
                    s->path);
        return false;
    }
    /* Ten of the largest messages at once: a burst of big mail waits in
     * Postfix's queue beyond that, not in our memory. */
    if (cfg->max_buffered_bytes == 0)
        cfg->max_buffered_bytes = BUFFERED_DEFAULT_FACTOR * cfg->max_message_size;
    if (cfg->max_buffered_bytes < cfg->max_message_size) {
        g_autofree char *at = where(s, "milter", "max_buffered_bytes");
        g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_VALUE,
                    "%s: [milter] max_buffered_bytes: %" G_GUINT64_FORMAT " is less than"
                    " max_message_size (%" G_GUINT64_FORMAT "): a message of the largest size"
                    " would be deferred for ever; make it at least max_message_size",
                    at, cfg->max_buffered_bytes, cfg->max_message_size);
        return false;
    }
    if (cfg->support_addresses[0] == NULL) {
        g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_MISSING,
                    "%s: [milter] support_addresses: required key is missing or empty (e.g."
                    " support@example.com)",
                    s->path);
        return false;
    }
    for (char **a = cfg->support_addresses; *a != NULL; a++) {
        const char *at = strrchr(*a, '@');
        const char *d = strpbrk(*a, cfg->recipient_delimiter);

        /* Postfix would cut support+tkt-42...@ short at the first
         * delimiter, before the extension we wrote. */
        if (d != NULL && at != NULL && d < at) {
            g_autofree char *where_ = where(s, "milter", "support_addresses");
            g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_VALUE,
                        "%s: [milter] support_addresses: \"%s\" holds '%c' of"
                        " recipient_delimiter \"%s\": Postfix would take what follows it for an"
                        " extension, and replies to the ticket addresses would not reach it",
                        where_, *a, *d, cfg->recipient_delimiter);
            return false;
        }
    }
    /* Beside the database by default: the directory the daemon owns.  A
     * database on a server has no directory here, and every host must
     * sign with the same secret: it is named. */
    if (cfg->secret_file == NULL && dbtarget_is_uri(cfg->database)) {
        g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_MISSING,
                    "%s: [milter] secret_file: required when the database is a PostgreSQL URI"
                    " (the same file on every host, e.g. /etc/ticket-milter/secret)",
                    s->path);
        return false;
    }
    if (cfg->secret_file == NULL) {
        g_autofree char *dir = g_path_get_dirname(cfg->database);
        cfg->secret_file = g_build_filename(dir, "secret", NULL);
    }
    if (cfg->hostname == NULL)
        cfg->hostname = g_strdup(g_get_host_name());
    cfg->socket_mode = (guint)g_ascii_strtoull(cfg->socket_mode_text, NULL, 8);
    if (cfg->from == NULL)
        cfg->from = g_strdup_printf("Support <%s>", cfg->support_addresses[0]);
    return true;
}

/* Every [customer:NAME] group, each with a plan that exists and some
 * mail that can be its. */
static bool
read_customers(struct config *cfg, GKeyFile *kf, const struct scan *s, GError **error)
{
    for (guint i = 0; i < s->groups->len; i++) {
        const char *group = g_ptr_array_index(s->groups, i);
        struct customer *c;

        if (!g_str_has_prefix(group, CONFIG_CUSTOMER_PREFIX))
            continue;
        c = g_new0(struct customer, 1);
        c->name = g_strdup(group + strlen(CONFIG_CUSTOMER_PREFIX));
        g_ptr_array_add(cfg->customers, c);
        if (!read_group(kf, s, group, c, error))
            return false;
        if (config_plan(cfg, c->plan) == NULL) {
            g_autofree char *at = where(s, group, "plan");
            g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_VALUE,
                        "%s: [%s] plan: \"%s\" is no plan (there are standard, default, extended"
                        " and every [plan:NAME])",
                        at, group, c->plan);
            return false;
        }
        if (c->domains[0] == NULL && c->contacts[0] == NULL) {
            g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_MISSING,
                        "%s:%u: [%s]: needs domains or contacts, or no mail can be its", s->path,
                        scan_line(s, group, NULL), group);
            return false;
        }
    }
    return check_overlaps(cfg, s, error);
}

static bool
config_read(struct config *cfg, GKeyFile *kf, const struct scan *s, GError **error)
{
    g_autoptr(GError) local = NULL;

    if (!read_group(kf, s, "milter", cfg, error) || !read_group(kf, s, "staff", cfg, error) ||
        !read_group(kf, s, "outbound", cfg, error) || !settle_milter(cfg, s, error))
        return false;
    if (!read_group(kf, s, "severity", cfg, error) ||
        !read_group(kf, s, "escalation", cfg, error) || !read_rules(cfg, s, error) ||
        !read_plans(cfg, kf, s, error) || !read_customers(cfg, kf, s, error))
        return false;
    fill_policy(cfg);
    /* Templates are part of the config: a broken one must stop a start or
     * a reload, not blank out a customer's acknowledgement later. */
    cfg->templates = template_set_load(cfg->template_dir, &local);
    if (cfg->templates == NULL) {
        g_autofree char *at = where(s, "outbound", "template_dir");
        g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_TEMPLATE, "%s: [outbound] template_dir: %s",
                    at, local->message);
        return false;
    }
    return true;
}

struct config *
config_load(const char *path, GError **error)
{
    g_autofree char *text = NULL;
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autoptr(GError) local = NULL;
    struct scan s = { .path = path };
    struct config *cfg;
    gsize len = 0;

    if (!g_file_get_contents(path, &text, &len, &local)) {
        g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_IO, "%s: cannot read: %s", path,
                    local->message);
        return NULL;
    }
    if (!g_utf8_validate(text, (gssize)len, NULL)) {
        g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_SYNTAX, "%s: is not UTF-8 text", path);
        return NULL;
    }
    if (!scan_text(&s, text, error)) {
        scan_clear(&s);
        return NULL;
    }
    /* The scan accepted every line, so GKeyFile will too; a failure here
     * would be a disagreement between the two, reported as it comes. */
    g_key_file_set_list_separator(kf, ';');
    if (!g_key_file_load_from_data(kf, text, len, G_KEY_FILE_NONE, &local)) {
        g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_SYNTAX, "%s: %s", path, local->message);
        scan_clear(&s);
        return NULL;
    }

    cfg = g_new0(struct config, 1);
    cfg->refcount = 1;
    cfg->path = g_strdup(path);
    cfg->customers = g_ptr_array_new_with_free_func(customer_free);
    cfg->plans = g_ptr_array_new_with_free_func(plan_free_cb);
    ladder_init(&cfg->ladder);
    cfg->trusted_networks = g_ptr_array_new_with_free_func(g_object_unref);
    cfg->authserv_networks = g_ptr_array_new_with_free_func(g_object_unref);
    if (!config_read(cfg, kf, &s, error))
        cfg = config_unref(cfg);
    else
        cfg->lines = g_steal_pointer(&s.lines);
    scan_clear(&s);
    return cfg;
}

struct config *
config_ref(struct config *cfg)
{
    if (cfg != NULL)
        g_atomic_int_inc(&cfg->refcount);
    return cfg;
}

struct config *
config_unref(struct config *cfg)
{
    if (cfg == NULL || !g_atomic_int_dec_and_test(&cfg->refcount))
        return NULL;
    g_free(cfg->path);
    g_free(cfg->socket);
    g_free(cfg->database);
    g_strfreev(cfg->support_addresses);
    g_free(cfg->ticket_prefix);
    g_free(cfg->recipient_delimiter);
    g_free(cfg->hostname);
    g_strfreev(cfg->staff_addresses);
    g_strfreev(cfg->staff_domains);
    g_ptr_array_unref(cfg->trusted_networks);
    g_ptr_array_unref(cfg->authserv_networks);
    g_strfreev(cfg->authserv_ids);
    g_free(cfg->smtp_url);
    g_free(cfg->from);
    g_free(cfg->webhook_url);
    g_free(cfg->secret_file);
    g_strfreev(cfg->staff_logins);
    g_free(cfg->staff_timezone);
    g_free(cfg->user);
    g_free(cfg->socket_owner);
    g_free(cfg->socket_mode_text);
    g_free(cfg->pid_file);
    g_free(cfg->metrics_file);
    g_free(cfg->language);
    g_free(cfg->template_dir);
    template_set_free(cfg->templates);
    g_ptr_array_unref(cfg->customers);
    g_ptr_array_unref(cfg->plans);
    severity_rules_free(cfg->severity);
    g_free(cfg->severity_aliases);
    g_free(cfg->severity_keywords);
    g_free(cfg->severity_matrix);
    g_free(cfg->severity_keywords_nl);
    g_free(cfg->severity_negations);
    g_free(cfg->severity_negations_nl);
    g_free(cfg->sev1_next_after);
    g_free(cfg->sev2_next_after);
    for (int i = 1; i <= 3; i++)
        g_strfreev(cfg->stage_contacts[i]);
    if (cfg->lines != NULL)
        g_hash_table_unref(cfg->lines);
    g_free(cfg);
    return NULL;
}

bool
config_is_support_address(const struct config *cfg, const char *addr)
{
    return router_is_support_address(&cfg->policy, addr);
}

static bool
in_networks(GPtrArray *networks, const char *addr)
{
    g_autoptr(GInetAddress) a = addr != NULL ? g_inet_address_new_from_string(addr) : NULL;

    if (a == NULL)
        return false;
    for (guint i = 0; i < networks->len; i++)
        if (g_inet_address_mask_matches(g_ptr_array_index(networks, i), a))
            return true;
    return false;
}

bool
config_is_trusted_client(const struct config *cfg, const char *addr)
{
    return in_networks(cfg->trusted_networks, addr);
}

bool
config_is_authserv_client(const struct config *cfg, const char *addr)
{
    return in_networks(cfg->authserv_networks, addr);
}
