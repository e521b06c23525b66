/*
 * template - the mail templates and their renderer.
 *
 * A template is a file templates/LANG/NAME.txt: a header block ("Subject:
 * ..." lines), an empty line, then the plain-text body.  In both,
 *
 *   {{name}}                      the value of a variable ("" when unset)
 *   {{#if name}}...{{else}}...{{/if}}   the first part when name is set and not empty
 *   {{#each list}}...{{item}}...{{/each}}   the part once per item of a list
 *
 * A tag alone on its line takes the line with it.  Templates are compiled
 * when the config is loaded: a syntax error or a variable that does not
 * exist is a config error then, never a surprise at send time.
 *
 * Ownership: a template set is immutable once loaded and may be shared
 * between threads; rendering allocates only its result.
 */
#ifndef TM_TEMPLATE_H
#define TM_TEMPLATE_H

#include <stdbool.h>

#include <glib.h>

#define TEMPLATE_ERROR (template_error_quark())
GQuark template_error_quark(void);

enum template_error_code {
    TEMPLATE_ERROR_IO,
    TEMPLATE_ERROR_SYNTAX,
    TEMPLATE_ERROR_UNKNOWN_VARIABLE,
    TEMPLATE_ERROR_MISSING,
};

struct template;
struct template_set;

/* The values a template is rendered with: variables and lists by name. */
struct template_vars {
    GHashTable *values; /* char* -> char* */
    GHashTable *lists;  /* char* -> GPtrArray of char* */
};

struct template_vars *template_vars_new(void);
/* Copies NAME and VALUE; a NULL VALUE leaves the variable unset. */
void template_vars_set(struct template_vars *v, const char *name, const char *value);
void template_vars_set_list(struct template_vars *v, const char *name, char **items);
struct template_vars *template_vars_free(struct template_vars *v);

/* Compiles TEXT; NAME is used in errors ("en/ack-new.txt"). */
struct template *template_compile(const char *name, const char *text, GError **error);
struct template *template_free(struct template *t);

/* Renders T: *SUBJECT gets the Subject header (one line), the return value
 * the body. Variables that are unset render as "". */
char *template_render(const struct template *t, const struct template_vars *v, char **subject);

/* Loads every template every language needs from DIR (DIR/LANG/NAME.txt).
 * Fails when one is missing or does not compile. */
struct template_set *template_set_load(const char *dir, GError **error);
struct template_set *template_set_free(struct template_set *set);
/* The template NAME in LANG, else in English. */
const struct template *template_set_get(const struct template_set *set, const char *lang,
                                        const char *name);

/* The languages and template names every set must have. */
extern const char *const template_languages[];
extern const char *const template_names[];

#endif
