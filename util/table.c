/*
 * table - text tables aligned by display width.
 *
 * Owns: copies of every cell, already made safe and cut.
 *
 * Edge cases: an empty table is its heading line; a heading wider than its
 * cells sets the width; the width of a character comes from GLib's Unicode
 * tables (g_unichar_iswide, g_unichar_iszerowidth), which is what
 * terminals follow for all but a few ambiguous characters.
 *
 * Failures: none; allocation aborts.
 */
#include <string.h>

#include "util/table.h"

struct table {
    guint n;
    guint limit[TABLE_MAX_COLUMNS];
    bool right[TABLE_MAX_COLUMNS];
    GPtrArray *rows; /* char ** of N cells each, the headings first */
};

static guint
char_width(gunichar c)
{
    if (g_unichar_iszerowidth(c))
        return 0;
    return g_unichar_iswide(c) ? 2 : 1;
}

guint
table_text_width(const char *text)
{
    guint w = 0;

    for (const char *p = text; *p != '\0'; p = g_utf8_next_char(p))
        w += char_width(g_utf8_get_char(p));
    return w;
}

char *
table_cell_text(const char *text, guint max_width)
{
    g_autofree char *valid = g_utf8_make_valid(text != NULL ? text : "-", -1);
    GString *out = g_string_new(NULL);
    guint w = 0, total;

    for (char *p = valid; *p != '\0'; p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p);
        if (g_unichar_iscntrl(c))
            *p = '?';
    }
    total = table_text_width(valid);
    for (const char *p = valid; *p != '\0'; p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p);
        guint cw = char_width(c);
        /* Room for the ellipsis when the rest does not fit. */
        if (max_width > 0 && total > max_width && w + cw > max_width - 1) {
            g_string_append(out, "…");
            break;
        }
        g_string_append_unichar(out, c);
        w += cw;
    }
    return g_string_free(out, FALSE);
}

struct table *
table_new(const char *const *headings, guint n)
{
    struct table *t = g_new0(struct table, 1);

    g_assert(n >= 1 && n <= TABLE_MAX_COLUMNS);
    t->n = n;
    t->rows = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
    table_add(t, headings);
    return t;
}

struct table *
table_free(struct table *t)
{
    if (t == NULL)
        return NULL;
    g_ptr_array_unref(t->rows);
    g_free(t);
    return NULL;
}

void
table_set_limit(struct table *t, guint column, guint max_width)
{
    g_assert(column < t->n);
    t->limit[column] = max_width;
    /* The headings were added before the limit was known. */
    for (guint i = 0; i < t->rows->len; i++) {
        char **row = g_ptr_array_index(t->rows, i);
        char *cut = table_cell_text(row[column], max_width);
        g_free(row[column]);
        row[column] = cut;
    }
}

void
table_set_right(struct table *t, guint column)
{
    g_assert(column < t->n);
    t->right[column] = true;
}

void
table_add(struct table *t, const char *const *cells)
{
    char **row = g_new0(char *, t->n + 1);

    for (guint i = 0; i < t->n; i++)
        row[i] = table_cell_text(cells[i], t->limit[i]);
    g_ptr_array_add(t->rows, row);
}

static void
pad(GString *out, guint n)
{
    for (guint i = 0; i < n; i++)
        g_string_append_c(out, ' ');
}

char *
table_render(const struct table *t)
{
    guint width[TABLE_MAX_COLUMNS] = { 0 };
    GString *out = g_string_new(NULL);

    for (guint i = 0; i < t->rows->len; i++) {
        char **row = g_ptr_array_index(t->rows, i);
        for (guint c = 0; c < t->n; c++)
            width[c] = MAX(width[c], table_text_width(row[c]));
    }
    for (guint i = 0; i < t->rows->len; i++) {
        char **row = g_ptr_array_index(t->rows, i);
        for (guint c = 0; c < t->n; c++) {
            guint w = table_text_width(row[c]);
            bool last = c + 1 == t->n;
            if (c > 0)
                g_string_append(out, "  ");
            if (t->right[c])
                pad(out, width[c] - w);
            g_string_append(out, row[c]);
            if (!t->right[c] && !last)
                pad(out, width[c] - w);
        }
        g_string_append_c(out, '\n');
    }
    return g_string_free(out, FALSE);
}
