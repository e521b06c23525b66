/*
 * table - plain-text tables whose columns line up on a terminal, whatever
 * the cells hold.
 *
 * Columns are measured in display cells, not bytes: a wide character (CJK,
 * most emoji) takes two, a combining mark none.  A cell longer than its
 * column's limit is cut and ends in "…".  Control characters (a newline
 * or an escape sequence in a subject a customer wrote) are shown as "?",
 * so that no value can move the cursor or recolour the terminal; bytes
 * that are not UTF-8 are shown as U+FFFD.
 */
#ifndef TM_UTIL_TABLE_H
#define TM_UTIL_TABLE_H

#include <stdbool.h>

#include <glib.h>

/* The most columns a table has. */
#define TABLE_MAX_COLUMNS 16

struct table;

/* A table with the N column titles of HEADINGS (N <= TABLE_MAX_COLUMNS). */
struct table *table_new(const char *const *headings, guint n);
/* Frees T (NULL is fine); returns NULL. */
struct table *table_free(struct table *t);
/* Cells of COLUMN are cut to MAX_WIDTH display cells (0: no limit). */
void table_set_limit(struct table *t, guint column, guint max_width);
/* Cells of COLUMN are aligned right (numbers). */
void table_set_right(struct table *t, guint column);
/* Adds a row of as many cells as the table has columns; a NULL cell shows "-". */
void table_add(struct table *t, const char *const *cells);
/* The lines of the table, each ending in a newline; the last column is
 * not padded. */
char *table_render(const struct table *t);

/* TEXT made safe to print (see above) and cut to MAX_WIDTH cells (0: no limit). */
char *table_cell_text(const char *text, guint max_width);
/* The display cells TEXT (safe UTF-8) takes. */
guint table_text_width(const char *text);

#endif
