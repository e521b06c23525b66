/*
 * lines - text cut into its lines.
 */
#include <string.h>

#include "util/lines.h"

char **
util_split_lines(const char *text)
{
    GPtrArray *out = g_ptr_array_new();
    const char *p = text != NULL ? text : "";
    const char *end = p + strlen(p);

    for (;;) {
        const char *nl = memchr(p, '\n', (gsize)(end - p));
        if (nl == NULL) {
            g_ptr_array_add(out, g_strndup(p, (gsize)(end - p)));
            break;
        }
        g_ptr_array_add(out, g_strndup(p, (gsize)(nl - p)));
        p = nl + 1;
    }
    g_ptr_array_add(out, NULL);
    return (char **)g_ptr_array_free(out, FALSE);
}
