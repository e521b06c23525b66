/*
 * search - the full-text index and ticketctl search.
 *
 * Owns: on SQLite, the FTS5 tables tickets_fts and messages_fts
 * (external content: the words live once, in tickets and messages) and
 * fts_indexed, which says how far each table is indexed (schema 10: every
 * row with an id up to last_id is in the index, none above it; the
 * triggers take a deleted or changed row out only when it was in).
 *
 * Searching: every word of what the admin typed is one quoted FTS5 term
 * (the admin's punctuation is never query syntax), matched alone, since
 * FTS5 ANDs words within one row only and a ticket has many rows; a
 * ticket is a hit when each word is somewhere in it.  Best first by the
 * sum of each word's best bm25, then by number; the snippet comes from
 * the ticket's best row for any of the words.
 *
 * On PostgreSQL the index is a tsvector column of tickets and messages
 * (English and Dutch stems, store/schema.c), each word a query of its own
 * as on SQLite (websearch_to_tsquery; a prefix through to_tsquery's
 * quoted lexeme), ts_rank for bm25 and ts_headline for the snippet.  A
 * word that is a stop word in both languages matches nothing there; the
 * accents of Latin letters are taken off words and queries alike
 * (tm_fold), so "cafe" finds "café" as on SQLite.
 *
 * Edge cases: no words is no hits, not every ticket; more than
 * ADMIN_SEARCH_MAX_WORDS words are refused (each costs a scan of the
 * index).  The hits and their snippets are read in one snapshot.  On
 * failure: STORE_ERROR from store/db.c, naming the statement.
 */
#include <string.h>

#include <glib.h>

#include "store/internal.h"
#include "store/search.h"

/* ---- the index ---- */

/* Indexes the rows of TABLE after its last_id, at most LIMIT: UPTO finds
 * the id that ends the batch, ADD copies the rows up to it. */
static bool
fts_index_table(struct store *st, const char *table, const char *upto_sql, const char *add_sql,
                guint limit, guint *added, GError **error)
{
    struct db_stmt *last_s =
        db_prepare(st->db, "SELECT last_id FROM fts_indexed WHERE name = ?1", error);
    struct db_stmt *upto, *add, *set;
    gint64 last = 0, end = 0;

    *added = 0;
    if (last_s == NULL)
        return false;
    db_bind_text(last_s, 1, table);
    if (!store_scalar(last_s, &last, NULL, error) ||
        (upto = db_prepare(st->db, upto_sql, error)) == NULL)
        return false;
    db_bind_int64(upto, 1, last);
    db_bind_int64(upto, 2, limit);
    if (!store_scalar(upto, &end, NULL, error))
        return false;
    if (end <= last)
        return true;
    if ((add = db_prepare(st->db, add_sql, error)) == NULL)
        return false;
    db_bind_int64(add, 1, last);
    db_bind_int64(add, 2, end);
    if (!store_step_done(add, error))
        return false;
    *added = (guint)db_changes(add);
    if ((set = db_prepare(st->db, "UPDATE fts_indexed SET last_id = ?2 WHERE name = ?1", error)) ==
        NULL)
        return false;
    db_bind_text(set, 1, table);
    db_bind_int64(set, 2, end);
    return store_step_done(set, error);
}

bool
store_fts_index(struct store *st, guint limit, bool *more, GError **error)
{
    guint tickets = 0, messages = 0;

    g_assert(limit > 0);
    *more = false;
    /* PostgreSQL indexes each row as it is written (store/schema.c, 7). */
    if (db_kind(st->db) == DB_POSTGRES)
        return true;
    /* The id that ends the next batch of at most ?2 rows after ?1. */
    if (!fts_index_table(
            st, "tickets",
            "SELECT max(id) FROM (SELECT id FROM tickets WHERE id > ?1 ORDER BY id LIMIT ?2) b",
            "INSERT INTO tickets_fts (rowid, subject)"
            " SELECT id, subject FROM tickets WHERE id > ?1 AND id <= ?2",
            limit, &tickets, error) ||
        !fts_index_table(
            st, "messages",
            "SELECT max(id) FROM (SELECT id FROM messages WHERE id > ?1 ORDER BY id LIMIT ?2) b",
            "INSERT INTO messages_fts (rowid, subject, text)"
            " SELECT id, subject, text FROM messages WHERE id > ?1 AND id <= ?2",
            limit, &messages, error))
        return false;
    *more = tickets == limit || messages == limit;
    return true;
}

/* ---- searching ---- */

/* A word the admin typed; PREFIX: it ended in '*'. */
struct term {
    char *word;
    bool prefix;
};

static void
term_free(gpointer p)
{
    struct term *t = p;

    g_free(t->word);
    g_free(t);
}

/* The words of TEXT (struct term*), a lone '*' left out. */
static GPtrArray *
search_words(const char *text)
{
    g_auto(GStrv) words = g_strsplit_set(text, " \t\r\n", -1);
    GPtrArray *terms = g_ptr_array_new_with_free_func(term_free);

    for (char **w = words; *w != NULL; w++) {
        gsize len = strlen(*w);
        struct term *t;

        if (len == 0 || strcmp(*w, "*") == 0)
            continue;
        t = g_new0(struct term, 1);
        t->prefix = len > 1 && (*w)[len - 1] == '*';
        t->word = g_strndup(*w, t->prefix ? len - 1 : len);
        g_ptr_array_add(terms, t);
    }
    return terms;
}

/* Each word as an FTS5 term: a quoted string (whatever it holds, the
 * admin's punctuation can never be FTS5 syntax), '*' after it for a
 * prefix. */
static GPtrArray *
search_terms(GPtrArray *words)
{
    GPtrArray *terms = g_ptr_array_new_with_free_func(g_free);

    for (guint i = 0; i < words->len; i++) {
        const struct term *t = g_ptr_array_index(words, i);
        GString *q = g_string_new("\"");

        for (const char *c = t->word; *c != '\0'; c++) {
            if (*c == '"')
                g_string_append_c(q, '"');
            g_string_append_c(q, *c);
        }
        g_string_append_c(q, '"');
        if (t->prefix)
            g_string_append_c(q, '*');
        g_ptr_array_add(terms, g_string_free(q, FALSE));
    }
    return terms;
}

/* Each word as a PostgreSQL query's text: the word itself for
 * websearch_to_tsquery() (which never fails on what it is given), or a
 * quoted lexeme with ":*" for to_tsquery() when it is a prefix. */
static GPtrArray *
search_terms_pg(GPtrArray *words)
{
    GPtrArray *terms = g_ptr_array_new_with_free_func(g_free);

    for (guint i = 0; i < words->len; i++) {
        const struct term *t = g_ptr_array_index(words, i);
        GString *q;

        if (!t->prefix) {
            g_ptr_array_add(terms, g_strdup(t->word));
            continue;
        }
        q = g_string_new("'");
        for (const char *c = t->word; *c != '\0'; c++) {
            if (*c == '\'' || *c == '\\')
                g_string_append_c(q, *c == '\'' ? '\'' : '\\');
            g_string_append_c(q, *c);
        }
        g_string_append(q, "':*");
        g_ptr_array_add(terms, g_string_free(q, FALSE));
    }
    return terms;
}

static char *
join_terms(GPtrArray *terms, const char *sep)
{
    GString *q = g_string_new(NULL);

    for (guint i = 0; i < terms->len; i++)
        g_string_append_printf(q, "%s%s", i > 0 ? sep : "", (char *)g_ptr_array_index(terms, i));
    return g_string_free(q, FALSE);
}

char *
admin_search_query(const char *text)
{
    g_autoptr(GPtrArray) words = search_words(text);
    g_autoptr(GPtrArray) terms = search_terms(words);

    return terms->len > 0 ? join_terms(terms, " ") : NULL;
}

static void
hit_free(gpointer p)
{
    struct admin_hit *h = p;

    g_free(h->tag);
    g_free(h->status);
    g_free(h->subject);
    g_free(h->snippet);
    g_free(h);
}

/* The tickets that have every one of TERMS (each bound as ?N, N from 1)
 * somewhere, in the subject or in any message: one row per ticket and
 * term with that term's best score, kept when all terms are there.
 * The score is the sum of each word's best bm25 (lower is better). */
static char *
search_sql(guint n_terms)
{
    GString *q = g_string_new("SELECT t.id, t.prefix || '-' || t.id, t.status, t.subject"
                              " FROM (SELECT ticket_id, sum(best) AS score FROM (");

    for (guint i = 1; i <= n_terms; i++)
        g_string_append_printf(
            q,
            "%sSELECT ticket_id, min(score) AS best FROM ("
            "  SELECT m.ticket_id AS ticket_id, bm25(messages_fts) AS score"
            "  FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid"
            "  WHERE messages_fts MATCH ?%u"
            "  UNION ALL"
            "  SELECT rowid, bm25(tickets_fts) FROM tickets_fts WHERE tickets_fts MATCH ?%u)"
            " GROUP BY ticket_id",
            i > 1 ? " UNION ALL " : "", i, i);
    g_string_append_printf(q,
                           ") GROUP BY ticket_id HAVING count(*) = %u) h"
                           " JOIN tickets t ON t.id = h.ticket_id"
                           " ORDER BY h.score, t.id LIMIT ?%u",
                           n_terms, n_terms + 1);
    return g_string_free(q, FALSE);
}

/* Binds the snippet statement S for ticket ID: each backend's own way. */
typedef void (*snippet_bind_fn)(struct db_stmt *s, GPtrArray *terms, const char *any, gint64 id);

/* Runs SQL (the hits: the words TERMS as ?1..?N, LIMIT as ?N+1) into HITS,
 * each with its snippet from SNIPPET_SQL, bound by BIND; inside the
 * caller's snapshot.  A PostgreSQL result is whole once its first row is
 * there, so the snippets' statement may run while the hits are read on
 * either backend. */
static bool
search_hits(struct db *db, const char *sql, const char *snippet_sql, GPtrArray *terms,
            const char *any, guint limit, snippet_bind_fn bind, GPtrArray *hits, GError **error)
{
    struct db_stmt *s = db_prepare(db, sql, error);
    struct db_stmt *snip = s != NULL ? db_prepare(db, snippet_sql, error) : NULL;
    enum db_step r;

    if (snip == NULL)
        return false;
    for (guint i = 0; i < terms->len; i++)
        db_bind_text(s, (int)i + 1, g_ptr_array_index(terms, i));
    db_bind_int64(s, (int)terms->len + 1, limit);
    while ((r = db_step(s, error)) == DB_ROW) {
        struct admin_hit *h = g_new0(struct admin_hit, 1);

        h->ticket_id = db_column_int64(s, 0);
        h->tag = db_column_dup(s, 1);
        h->status = db_column_dup(s, 2);
        h->subject = db_column_dup(s, 3);
        g_ptr_array_add(hits, h);
        bind(snip, terms, any, h->ticket_id);
        if (!store_scalar(snip, NULL, &h->snippet, error)) {
            db_reset(s);
            return false;
        }
        if (h->snippet == NULL)
            h->snippet = g_strdup("");
    }
    return r == DB_DONE;
}

/* SQLite's snippet: the FTS5 query of any word as ?1, the ticket ?2. */
static void
sqlite_snippet_bind(struct db_stmt *s, GPtrArray *terms, const char *any, gint64 id)
{
    db_bind_text(s, 1, any);
    db_bind_int64(s, 2, id);
}

/* Runs the search of TERMS into HITS, inside the caller's snapshot. */
static bool
search_run(struct db *db, GPtrArray *terms, guint limit, GPtrArray *hits, GError **error)
{
    static const char snippet_sql[] =
        "SELECT snip FROM ("
        "  SELECT bm25(messages_fts) AS score,"
        "   snippet(messages_fts, -1, '[', ']', '...', 12) AS snip"
        "  FROM messages_fts WHERE messages_fts MATCH ?1"
        "   AND rowid IN (SELECT id FROM messages WHERE ticket_id = ?2)"
        "  UNION ALL"
        "  SELECT bm25(tickets_fts), snippet(tickets_fts, 0, '[', ']', '...', 12)"
        "  FROM tickets_fts WHERE tickets_fts MATCH ?1 AND rowid = ?2)"
        " ORDER BY score LIMIT 1";
    g_autofree char *sql = search_sql(terms->len);
    g_autofree char *any = join_terms(terms, " OR ");

    return search_hits(db, sql, snippet_sql, terms, any, limit, sqlite_snippet_bind, hits, error);
}

/* ---- searching on PostgreSQL ---- */

/* The query of word ?I (from search_terms_pg): English and Dutch stems
 * alike, or a prefix of any word; accents taken off as in the index. */
static void
pg_term_query(GString *q, guint i, bool prefix)
{
    if (prefix)
        g_string_append_printf(q, "to_tsquery('simple', tm_fold(CAST(?%u AS TEXT)))", i);
    else
        g_string_append_printf(q,
                               "(websearch_to_tsquery('english', tm_fold(CAST(?%u AS TEXT)))"
                               " || websearch_to_tsquery('dutch', tm_fold(CAST(?%u AS TEXT))))",
                               i, i);
}

/* The hits, as search_sql() finds them, with ts_rank for bm25 (higher is
 * better there: the score is its negative, so that the order is the same). */
static char *
pg_search_sql(GPtrArray *words)
{
    GString *q = g_string_new("SELECT t.id, t.prefix || '-' || t.id, t.status, t.subject"
                              " FROM (SELECT ticket_id, sum(best) AS score FROM (");

    for (guint i = 1; i <= words->len; i++) {
        bool prefix = ((struct term *)g_ptr_array_index(words, i - 1))->prefix;
        GString *tq = g_string_new(NULL);

        pg_term_query(tq, i, prefix);
        g_string_append_printf(q,
                               "%sSELECT ticket_id, min(score) AS best FROM ("
                               "  SELECT m.ticket_id AS ticket_id, -ts_rank(m.search, %s) AS score"
                               "  FROM messages m WHERE m.search @@ %s"
                               "  UNION ALL"
                               "  SELECT id, -ts_rank(search, %s) FROM tickets WHERE search @@ %s)"
                               " w%u GROUP BY ticket_id",
                               i > 1 ? " UNION ALL " : "", tq->str, tq->str, tq->str, tq->str, i);
        g_string_free(tq, TRUE);
    }
    g_string_append_printf(q,
                           ") a GROUP BY ticket_id HAVING count(*) = %u) h"
                           " JOIN tickets t ON t.id = h.ticket_id"
                           " ORDER BY h.score, t.id LIMIT ?%u",
                           words->len, words->len + 1);
    return g_string_free(q, FALSE);
}

/* The snippet of ticket ?N+1 for any of the N words: its best matching
 * row, the matches in [ ]. */
static char *
pg_snippet_sql(GPtrArray *words)
{
    static const char opts[] = "'StartSel=[, StopSel=], MaxWords=12, MinWords=4, MaxFragments=1'";
    GString *any = g_string_new("(");
    char *sql;

    for (guint i = 1; i <= words->len; i++) {
        if (i > 1)
            g_string_append(any, " || ");
        pg_term_query(any, i, ((struct term *)g_ptr_array_index(words, i - 1))->prefix);
    }
    g_string_append_c(any, ')');
    sql = g_strdup_printf(
        "SELECT snip FROM ("
        "  SELECT ts_rank(m.search, %s) AS score, ts_headline('english',"
        "   left(coalesce(m.subject, '') || ' ' || coalesce(m.text, ''), 200000), %s, %s) AS snip"
        "  FROM messages m WHERE m.ticket_id = ?%u AND m.search @@ %s"
        "  UNION ALL"
        "  SELECT ts_rank(search, %s), ts_headline('english', subject, %s, %s)"
        "  FROM tickets WHERE id = ?%u AND search @@ %s) s"
        " ORDER BY score DESC LIMIT 1",
        any->str, any->str, opts, words->len + 1, any->str, any->str, any->str, opts,
        words->len + 1, any->str);
    g_string_free(any, TRUE);
    return sql;
}

/* PostgreSQL's snippet: every word again as ?1..?N, the ticket ?N+1. */
static void
pg_snippet_bind(struct db_stmt *s, GPtrArray *terms, const char *any, gint64 id)
{
    for (guint i = 0; i < terms->len; i++)
        db_bind_text(s, (int)i + 1, g_ptr_array_index(terms, i));
    db_bind_int64(s, (int)terms->len + 1, id);
}

static bool
pg_search_run(struct db *db, GPtrArray *words, guint limit, GPtrArray *hits, GError **error)
{
    g_autoptr(GPtrArray) terms = search_terms_pg(words);
    g_autofree char *sql = pg_search_sql(words);
    g_autofree char *snippet_sql = pg_snippet_sql(words);

    return search_hits(db, sql, snippet_sql, terms, NULL, limit, pg_snippet_bind, hits, error);
}

GPtrArray *
admin_search(struct admin *a, const char *text, guint limit, GError **error)
{
    g_autoptr(GPtrArray) words = search_words(text);
    GPtrArray *hits = g_ptr_array_new_with_free_func(hit_free);
    bool ok;

    if (words->len == 0)
        return hits;
    if (words->len > ADMIN_SEARCH_MAX_WORDS) {
        g_set_error(error, STORE_ERROR, STORE_ERROR_FAILED, "search takes at most %d words, not %u",
                    ADMIN_SEARCH_MAX_WORDS, words->len);
        return g_ptr_array_unref(hits), NULL;
    }
    /* One snapshot for the tickets and their snippets. */
    if (!store_read_begin(a->db, error))
        return g_ptr_array_unref(hits), NULL;
    if (db_kind(a->db) == DB_SQLITE) {
        g_autoptr(GPtrArray) terms = search_terms(words);
        ok = search_run(a->db, terms, limit, hits, error);
    } else {
        ok = pg_search_run(a->db, words, limit, hits, error);
    }
    store_read_end(a->db);
    if (!ok)
        g_clear_pointer(&hits, g_ptr_array_unref);
    return hits;
}
