/*
 * db-pg - the SQL layer's driver over PostgreSQL (libpq): one connection,
 * used by one thread at a time (see store/db.h).
 *
 * Owns the connection and what the store relies on of it: UTF-8 on the
 * wire, lock_timeout (and statement_timeout, twice that) from the busy
 * timeout, a read-only session for DB_READ_ONLY
 * (default_transaction_read_only), READ COMMITTED for writers,
 * application_name "ticket-milter" unless the URI names one, a connect
 * timeout; every statement prepared once on the
 * server (PQprepare), run with PQexecPrepared, blobs sent and, where the
 * columns allow it, read in binary; the key locks of db_lock_key()
 * (transaction-level advisory locks); and the mapping of SQLSTATEs to
 * STORE_ERROR codes (the list in store/db.h, exactly).
 *
 * Reconnecting: a connection that broke (a server restart, a failover,
 * pg_terminate_backend) is made again once, with PQreset, at the next
 * db_begin() -- also when the break is only found by that BEGIN, since
 * nothing of a transaction has happened yet -- and before a statement run
 * outside a transaction when the break is known already; every statement
 * is then prepared again.  A statement that was sent is never sent again:
 * whether it ran is unknown, and the caller's retry from the start (a 451,
 * the Message-ID key) is what makes that safe.
 *
 * Edge cases: a URI that carries a password is refused (it would be in
 * the config file and wherever that is copied; ~/.pgpass or PGPASSFILE
 * keep it apart), and no password ever appears in db_name() or a message.
 * ?N is rewritten to $N outside quoted literals, quoted identifiers,
 * dollar quotes and comments.  A SELECT's rows arrive all at once (libpq
 * cannot run a second statement on the connection while a first is still
 * streaming, and SQLite callers interleave statements freely): page big
 * reads.  A COMMIT the server answered with ROLLBACK is a failure.
 *
 * On failure: every error names the database (without password), the
 * step (the SQL as the store wrote it, or what was being done), and keeps
 * the server's message and SQLSTATE.
 */
#include <string.h>

#include <glib.h>
#include <libpq-fe.h>

#include "store/db-driver.h"
#include "store/db.h"

/* Type OIDs, fixed in every PostgreSQL release (catalog/pg_type_d.h is in
 * the server's headers, not libpq's). */
enum {
    OID_BOOL = 16,
    OID_BYTEA = 17,
    OID_CHAR = 18,
    OID_NAME = 19,
    OID_INT8 = 20,
    OID_INT2 = 21,
    OID_INT4 = 23,
    OID_TEXT = 25,
    OID_OID = 26,
    OID_UNKNOWN = 705,
    OID_BPCHAR = 1042,
    OID_VARCHAR = 1043,
};

/* Identity columns, ON CONFLICT, SKIP LOCKED: 10 has what the store uses. */
#define PG_MIN_SERVER_VERSION 100000
/* Seconds to wait for a connection when the URI does not say. */
#define PG_CONNECT_TIMEOUT "10"

struct pg_db {
    struct db base;
    PGconn *conn;
    GPtrArray *prepared; /* struct pg_stmt *: prepared again after a reconnect */
    guint next_id;
    struct db_stmt *lock; /* db_lock_key()'s, prepared at its first use */
};

struct pg_stmt {
    struct db_stmt base;
    char name[24]; /* the server's name for it */
    char *text;    /* with $N */
    int nparams;
    char **values; /* NULL: SQL NULL */
    int *lengths;
    int *formats;  /* 1 for blobs (binary), 0 for the rest (text) */
    int bad_param; /* a bind to no such parameter: fails the next run */
    int nfields;
    int result_format;
    PGresult *res; /* of the run in progress */
    int row;
    int nrows;
    gint64 changes;
    char **conv; /* the current row's values as converted for the caller */
    gsize *conv_len;
};

static const struct db_ops pg_ops;
static void pg_finalize(struct db_stmt *base);

static struct pg_db *
pg_of(struct db *db)
{
    return (struct pg_db *)db;
}

static struct pg_stmt *
stmt_of(struct db_stmt *s)
{
    return (struct pg_stmt *)s;
}

/* ---- errors ---- */

/* SQLSTATE as store/db.h lists it; BROKEN: the connection is gone. */
static int
pg_error_code(const char *sqlstate, bool broken)
{
    static const struct {
        const char *state;
        int code;
    } map[] = {
        { "55P03", STORE_ERROR_BUSY },        /* lock_not_available: lock_timeout */
        { "57014", STORE_ERROR_BUSY },        /* query_canceled: statement_timeout */
        { "53100", STORE_ERROR_FULL },        /* disk_full */
        { "25006", STORE_ERROR_READONLY },    /* read_only_sql_transaction, a standby */
        { "42501", STORE_ERROR_READONLY },    /* insufficient_privilege: a grant taken back */
        { "XX001", STORE_ERROR_CORRUPT },     /* data_corrupted */
        { "XX002", STORE_ERROR_CORRUPT },     /* index_corrupted */
        { "57P01", STORE_ERROR_UNAVAILABLE }, /* admin_shutdown, pg_terminate_backend */
        { "57P02", STORE_ERROR_UNAVAILABLE }, /* crash_shutdown */
        { "57P03", STORE_ERROR_UNAVAILABLE }, /* cannot_connect_now */
        { "40001", STORE_ERROR_RETRY },       /* serialization_failure */
        { "40P01", STORE_ERROR_RETRY },       /* deadlock_detected */
        { "23505", STORE_ERROR_CONFLICT },    /* unique_violation */
    };

    if (sqlstate != NULL) {
        for (guint i = 0; i < G_N_ELEMENTS(map); i++)
            if (strcmp(sqlstate, map[i].state) == 0)
                return map[i].code;
        if (g_str_has_prefix(sqlstate, "08")) /* connection_exception */
            return STORE_ERROR_UNAVAILABLE;
    }
    /* Whatever the last word was, the next db_begin() must reconnect. */
    return broken ? STORE_ERROR_UNAVAILABLE : STORE_ERROR_FAILED;
}

/* libpq's messages end in a newline and may run on over lines; a log line
 * is one line. */
static char *
one_line(const char *msg)
{
    char *s = g_strdup(msg != NULL ? msg : "");

    for (char *p = s; *p != '\0'; p++)
        if (*p == '\n' || *p == '\r' || *p == '\t')
            *p = ' ';
    return g_strstrip(s);
}

/* ERROR from RES (may be NULL) or the connection, while doing WHAT. */
static void
pg_set_error(struct pg_db *pd, const PGresult *res, const char *what, GError **error)
{
    const char *state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *primary = res != NULL ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    bool broken = PQstatus(pd->conn) != CONNECTION_OK;
    g_autofree char *msg = one_line(primary != NULL ? primary : PQerrorMessage(pd->conn));
    g_autofree char *detail = NULL;

    const char *text = msg[0] != '\0' ? msg : broken ? "the connection broke" : "unknown error";

    detail = state != NULL ? g_strdup_printf("%s [%s]", text, state) : g_strdup(text);
    db_set_error(error, &pd->base, pg_error_code(state, broken), what, detail);
}

/* ---- the connection ---- */

static void
pg_notice(void *arg, const PGresult *res)
{
    struct pg_db *pd = arg;
    g_autofree char *msg = one_line(PQresultErrorMessage(res));

    /* Notices are for people at a psql prompt; the store acts on errors. */
    g_debug("%s: %s", pd->base.name, msg);
}

/* Is TARGET a URI (not libpq's key=value form)? */
static bool
is_uri(const char *target)
{
    return g_str_has_prefix(target, "postgresql://") || g_str_has_prefix(target, "postgres://");
}

/* A URI's query without its password= parameters, appended to OUT. */
static void
append_query_without_password(GString *out, const char *query)
{
    g_auto(GStrv) items = g_strsplit(query, "&", -1);
    bool first = true;

    for (char **it = items; *it != NULL; it++) {
        if (g_str_has_prefix(*it, "password=") || (*it)[0] == '\0')
            continue;
        g_string_append(out, first ? "?" : "&");
        g_string_append(out, *it);
        first = false;
    }
}

char *
db_pg_safe_name(const char *target)
{
    if (!is_uri(target)) {
        /* key=value: a value is a word or '...' with \' and \\ inside. */
        g_autoptr(GRegex) re =
            g_regex_new("(^|\\s)password\\s*=\\s*('(\\\\.|[^'\\\\])*'?|\\S*)", 0, 0, NULL);
        g_autofree char *out = g_regex_replace_literal(re, target, -1, 0, "", 0, NULL);

        return g_strdup(g_strstrip(out));
    }
    GString *out = g_string_new(NULL);
    const char *rest = strstr(target, "://") + 3;
    size_t auth_len = strcspn(rest, "/?");
    const char *at = g_strrstr_len(rest, (gssize)auth_len, "@");
    const char *query;

    g_string_append_len(out, target, rest - target);
    if (at != NULL) {
        const char *colon = memchr(rest, ':', at - rest);
        /* user:password@host: the user stays, the password goes. */
        g_string_append_len(out, rest, (colon != NULL ? colon : at) - rest);
        rest = at;
    }
    query = strchr(rest, '?');
    if (query == NULL) {
        g_string_append(out, rest);
    } else {
        g_string_append_len(out, rest, query - rest);
        append_query_without_password(out, query + 1);
    }
    return g_string_free(out, FALSE);
}

static bool
pg_prepare_on_server(struct pg_db *pd, struct pg_stmt *s, bool describe, GError **error)
{
    PGresult *res = PQprepare(pd->conn, s->name, s->text, s->nparams, NULL);

    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        pg_set_error(pd, res, s->base.sql, error);
        PQclear(res);
        return false;
    }
    PQclear(res);
    if (!describe)
        return true;
    res = PQdescribePrepared(pd->conn, s->name);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        pg_set_error(pd, res, s->base.sql, error);
        PQclear(res);
        return false;
    }
    /* Binary results are worth it for raw messages (bytea as it is, not
     * as hex text twice its size), and safe only where every column is of
     * a type decoded here; anything else (numeric, timestamps) comes as
     * text, and bytea in text is unescaped. */
    bool has_bytea = false, all_known = true;

    s->nfields = PQnfields(res);
    for (int i = 0; i < s->nfields; i++) {
        switch (PQftype(res, i)) {
        case OID_BYTEA:
            has_bytea = true;
            break;
        case OID_BOOL:
        case OID_CHAR:
        case OID_NAME:
        case OID_INT8:
        case OID_INT2:
        case OID_INT4:
        case OID_TEXT:
        case OID_OID:
        case OID_UNKNOWN:
        case OID_BPCHAR:
        case OID_VARCHAR:
            break;
        default:
            all_known = false;
        }
    }
    PQclear(res);
    s->result_format = has_bytea && all_known ? 1 : 0;
    s->conv = g_new0(char *, MAX(s->nfields, 1));
    s->conv_len = g_new0(gsize, MAX(s->nfields, 1));
    return true;
}

/* PQreset, and every statement prepared again on the new session. */
static bool
pg_reconnect(struct pg_db *pd, GError **error)
{
    PQreset(pd->conn);
    if (PQstatus(pd->conn) != CONNECTION_OK) {
        pg_set_error(pd, NULL, "reconnecting", error);
        return false;
    }
    for (guint i = 0; i < pd->prepared->len; i++)
        if (!pg_prepare_on_server(pd, g_ptr_array_index(pd->prepared, i), false, error))
            return false;
    return true;
}

/* Before sending anything outside a transaction: a connection known to be
 * broken is made again, since no transaction is lost with it. */
static bool
pg_ready(struct pg_db *pd, GError **error)
{
    if (PQstatus(pd->conn) == CONNECTION_OK)
        return true;
    if (pd->base.in_tx) {
        pg_set_error(pd, NULL, "running a statement", error);
        return false;
    }
    return pg_reconnect(pd, error);
}

/* Runs SQL without parameters (one statement or several). */
static bool
pg_command(struct pg_db *pd, const char *sql, GError **error)
{
    PGresult *res = PQexec(pd->conn, sql);
    ExecStatusType st = PQresultStatus(res);
    bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY;

    if (!ok)
        pg_set_error(pd, res, sql, error);
    PQclear(res);
    return ok;
}

/* OPTS (from PQconninfoParse) as PQconnectdbParams() arrays, with what we
 * need of every session added. */
static void
pg_connect_params(PQconninfoOption *opts, enum db_mode mode, guint busy_timeout_ms, GPtrArray *keys,
                  GPtrArray *vals)
{
    GString *options = g_string_new(NULL);
    bool has_timeout = false;

    for (PQconninfoOption *o = opts; o->keyword != NULL; o++) {
        if (o->val == NULL || strcmp(o->keyword, "client_encoding") == 0)
            continue;
        if (strcmp(o->keyword, "options") == 0) {
            g_string_append(options, o->val);
            continue;
        }
        has_timeout = has_timeout || strcmp(o->keyword, "connect_timeout") == 0;
        g_ptr_array_add(keys, g_strdup(o->keyword));
        g_ptr_array_add(vals, g_strdup(o->val));
    }
    /* Session settings as connection options: PQreset keeps them.  The
     * statement timeout is twice the lock timeout, so that a wait for a
     * lock says so (55P03), and a statement that waited for one still has
     * the time to run. */
    if (busy_timeout_ms > 0) {
        guint64 statement_ms = MIN(2 * (guint64)busy_timeout_ms, (guint64)G_MAXINT);

        g_string_append_printf(options,
                               " -c lock_timeout=%u -c statement_timeout=%" G_GUINT64_FORMAT,
                               busy_timeout_ms, statement_ms);
    }
    if (mode == DB_READ_ONLY)
        g_string_append(options, " -c default_transaction_read_only=on");
    g_ptr_array_add(keys, g_strdup("options"));
    g_ptr_array_add(vals, g_strdup(g_strstrip(options->str)));
    g_string_free(options, TRUE);
    if (!has_timeout) {
        g_ptr_array_add(keys, g_strdup("connect_timeout"));
        g_ptr_array_add(vals, g_strdup(PG_CONNECT_TIMEOUT));
    }
    g_ptr_array_add(keys, g_strdup("fallback_application_name"));
    g_ptr_array_add(vals, g_strdup("ticket-milter"));
    /* Every string the store has is UTF-8 (the parser sees to that). */
    g_ptr_array_add(keys, g_strdup("client_encoding"));
    g_ptr_array_add(vals, g_strdup("UTF8"));
    g_ptr_array_add(keys, NULL);
    g_ptr_array_add(vals, NULL);
}

struct db *
db_pg_open(const char *target, enum db_mode mode, guint busy_timeout_ms, GError **error)
{
    g_autofree char *name = db_pg_safe_name(target);
    g_autoptr(GPtrArray) keys = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) vals = g_ptr_array_new_with_free_func(g_free);
    char *parse_error = NULL;
    PQconninfoOption *opts = PQconninfoParse(target, &parse_error);

    if (opts == NULL) {
        g_autofree char *msg = one_line(parse_error);
        g_set_error(error, STORE_ERROR, STORE_ERROR_FAILED,
                    "%s: not a PostgreSQL connection URI (%s)", name, msg);
        PQfreemem(parse_error);
        return NULL;
    }
    for (PQconninfoOption *o = opts; o->keyword != NULL; o++) {
        if (strcmp(o->keyword, "password") == 0 && o->val != NULL && o->val[0] != '\0') {
            g_set_error(error, STORE_ERROR, STORE_ERROR_FAILED,
                        "%s: the connection URI carries a password, which would then be in the"
                        " config file and wherever it is copied; remove it and put it in"
                        " ~/.pgpass of the user ticket-milter runs as, or in the file"
                        " PGPASSFILE names",
                        name);
            PQconninfoFree(opts);
            return NULL;
        }
    }
    pg_connect_params(opts, mode, busy_timeout_ms, keys, vals);
    PQconninfoFree(opts);

    struct pg_db *pd = g_new0(struct pg_db, 1);
    struct db *db = &pd->base;

    db_init(db, &pg_ops, DB_POSTGRES, mode, name);
    pd->prepared = g_ptr_array_new();
    pd->conn =
        PQconnectdbParams((const char *const *)keys->pdata, (const char *const *)vals->pdata, 0);
    if (PQstatus(pd->conn) != CONNECTION_OK) {
        pg_set_error(pd, NULL, "connecting", error);
        return db_close(db);
    }
    PQsetNoticeReceiver(pd->conn, pg_notice, pd);
    if (PQserverVersion(pd->conn) < PG_MIN_SERVER_VERSION) {
        g_autofree char *detail =
            g_strdup_printf("server version %d; ticket-milter needs PostgreSQL 10 or later",
                            PQserverVersion(pd->conn));
        db_set_error(error, db, STORE_ERROR_FAILED, "connecting", detail);
        return db_close(db);
    }
    return db;
}

static void
pg_close(struct db *db)
{
    struct pg_db *pd = pg_of(db);

    if (pd->lock != NULL) {
        char *sql = pd->lock->sql;

        pg_finalize(pd->lock);
        g_free(sql);
    }
    PQfinish(pd->conn);
    g_ptr_array_free(pd->prepared, TRUE);
    g_free(pd);
}

static bool
pg_exec(struct db *db, const char *sql, GError **error)
{
    return pg_ready(pg_of(db), error) && pg_command(pg_of(db), sql, error);
}

/* ---- ?N to $N ---- */

static bool
is_ident_char(char c)
{
    return g_ascii_isalnum(c) || c == '_' || (unsigned char)c >= 0x80;
}

/* The end of the dollar quote that opens at P ("$$" or "$tag$"), or NULL
 * when P opens none. */
static const char *
dollar_quote_end(const char *p)
{
    const char *q = p + 1;

    if (g_ascii_isdigit(*q))
        return NULL; /* $1: a parameter */
    while (is_ident_char(*q))
        q++;
    if (*q != '$')
        return NULL;
    size_t tag_len = (size_t)(q - p) + 1;
    const char *end = q + 1;

    while ((end = strchr(end, '$')) != NULL) {
        if (strncmp(end, p, tag_len) == 0)
            return end + tag_len;
        end++;
    }
    return p + strlen(p); /* unterminated: the rest is the literal */
}

/* The end of the quoted run that opens at P with QUOTE; BACKSLASH: an
 * E'...' string, where \ escapes the next character. */
static const char *
quote_end(const char *p, char quote, bool backslash)
{
    for (p++; *p != '\0'; p++) {
        if (backslash && *p == '\\' && p[1] != '\0')
            p++;
        else if (*p == quote && p[1] == quote)
            p++;
        else if (*p == quote)
            return p + 1;
    }
    return p;
}

/* The end of the comment that opens at P ("--" or C-style, which nest in
 * PostgreSQL), or NULL when P opens none. */
static const char *
comment_end(const char *p)
{
    if (p[0] == '-' && p[1] == '-')
        return p + strcspn(p, "\n");
    if (p[0] != '/' || p[1] != '*')
        return NULL;
    int depth = 0;

    while (*p != '\0') {
        if (p[0] == '/' && p[1] == '*') {
            depth++;
            p += 2;
        } else if (p[0] == '*' && p[1] == '/') {
            p += 2;
            if (--depth == 0)
                return p;
        } else {
            p++;
        }
    }
    return p;
}

char *
db_pg_rewrite(const char *sql, int *nparams)
{
    GString *out = g_string_sized_new(strlen(sql) + 8);
    const char *p = sql;

    *nparams = 0;
    while (*p != '\0') {
        const char *end = NULL;
        bool after_ident = p > sql && is_ident_char(p[-1]);

        if (*p == '\'') {
            /* E'..' takes backslash escapes; 'e' must start a word. */
            bool e = p > sql && (p[-1] == 'E' || p[-1] == 'e') &&
                     (p - 1 == sql || !is_ident_char(p[-2]));
            end = quote_end(p, '\'', e);
        } else if (*p == '"') {
            end = quote_end(p, '"', false);
        } else if (*p == '$' && !after_ident) {
            end = dollar_quote_end(p);
        } else {
            end = comment_end(p);
        }
        if (end != NULL) {
            g_string_append_len(out, p, end - p);
            p = end;
            continue;
        }
        if (*p == '?' && g_ascii_isdigit(p[1])) {
            char *stop = NULL;
            guint64 n = g_ascii_strtoull(p + 1, &stop, 10);

            if (n >= 1 && n <= 65535) {
                g_string_append_printf(out, "$%u", (unsigned)n);
                *nparams = MAX(*nparams, (int)n);
                p = stop;
                continue;
            }
        }
        g_string_append_c(out, *p++);
    }
    return g_string_free(out, FALSE);
}

/* ---- statements ---- */

static struct db_stmt *
pg_prepare(struct db *db, const char *sql, GError **error)
{
    struct pg_db *pd = pg_of(db);
    struct pg_stmt *s;

    if (!pg_ready(pd, error))
        return NULL;
    s = g_new0(struct pg_stmt, 1);
    db_stmt_init(&s->base, db, sql);
    g_snprintf(s->name, sizeof s->name, "tm%u", ++pd->next_id);
    s->text = db_pg_rewrite(sql, &s->nparams);
    s->values = g_new0(char *, MAX(s->nparams, 1));
    s->lengths = g_new0(int, MAX(s->nparams, 1));
    s->formats = g_new0(int, MAX(s->nparams, 1));
    if (!pg_prepare_on_server(pd, s, true, error)) {
        g_free(s->base.sql);
        pg_finalize(&s->base);
        return NULL;
    }
    g_ptr_array_add(pd->prepared, s);
    return &s->base;
}

static void
pg_clear_row(struct pg_stmt *s)
{
    for (int i = 0; i < s->nfields; i++)
        g_clear_pointer(&s->conv[i], g_free);
}

/* Ends a run: the result freed, the parameters cleared. */
static void
pg_end_run(struct pg_stmt *s)
{
    if (s->conv != NULL)
        pg_clear_row(s);
    g_clear_pointer(&s->res, PQclear);
    for (int i = 0; i < s->nparams; i++)
        g_clear_pointer(&s->values[i], g_free);
    s->bad_param = 0;
}

static void
pg_finalize(struct db_stmt *base)
{
    struct pg_stmt *s = stmt_of(base);

    pg_end_run(s);
    g_ptr_array_remove_fast(pg_of(base->db)->prepared, s);
    g_free(s->text);
    g_free(s->values);
    g_free(s->lengths);
    g_free(s->formats);
    g_free(s->conv);
    g_free(s->conv_len);
    g_free(s);
}

/* Parameter I takes VALUE (owned) in FORMAT; an index out of range is
 * remembered for the next run to fail with. */
static void
pg_set_param(struct db_stmt *base, int i, char *value, int len, int format)
{
    struct pg_stmt *s = stmt_of(base);

    if (i < 1 || i > s->nparams) {
        if (s->bad_param == 0)
            s->bad_param = i != 0 ? i : -1;
        g_free(value);
        return;
    }
    g_free(s->values[i - 1]);
    s->values[i - 1] = value;
    s->lengths[i - 1] = len;
    s->formats[i - 1] = format;
}

static void
pg_bind_text(struct db_stmt *s, int i, const char *text)
{
    pg_set_param(s, i, g_strdup(text), 0, 0);
}

static void
pg_bind_int64(struct db_stmt *s, int i, gint64 value)
{
    pg_set_param(s, i, g_strdup_printf("%" G_GINT64_FORMAT, value), 0, 0);
}

static void
pg_bind_blob(struct db_stmt *s, int i, const void *data, gsize len)
{
    if (len > G_MAXINT) {
        pg_set_param(s, -1, NULL, 0, 0);
        return;
    }
    /* Binary: the bytes as they are, NULs included; never NULL (SQL NULL). */
    pg_set_param(s, i, len > 0 ? g_memdup2(data, len) : g_strdup(""), (int)len, 1);
}

static void
pg_bind_null(struct db_stmt *s, int i)
{
    pg_set_param(s, i, NULL, 0, 0);
}

/* The rows an INSERT, UPDATE or DELETE touched; 0 for anything else, as
 * on SQLite (PostgreSQL counts a SELECT's rows too). */
static gint64
pg_result_changes(PGresult *res)
{
    const char *status = PQcmdStatus(res);

    if (g_str_has_prefix(status, "INSERT") || g_str_has_prefix(status, "UPDATE") ||
        g_str_has_prefix(status, "DELETE") || g_str_has_prefix(status, "MERGE"))
        return g_ascii_strtoll(PQcmdTuples(res), NULL, 10);
    return 0;
}

static enum db_step
pg_step(struct db_stmt *base, GError **error)
{
    struct pg_stmt *s = stmt_of(base);
    struct pg_db *pd = pg_of(base->db);

    if (s->res == NULL) {
        if (s->bad_param != 0) {
            g_autofree char *detail = g_strdup_printf(
                "parameter %d was bound, the statement has %d", s->bad_param, s->nparams);
            db_set_error(error, base->db, STORE_ERROR_FAILED, base->sql, detail);
            pg_end_run(s);
            return DB_ERROR;
        }
        if (!pg_ready(pd, error)) {
            pg_end_run(s);
            return DB_ERROR;
        }
        PGresult *res =
            PQexecPrepared(pd->conn, s->name, s->nparams, (const char *const *)s->values,
                           s->lengths, s->formats, s->result_format);

        switch (PQresultStatus(res)) {
        case PGRES_TUPLES_OK:
            s->res = res;
            s->nrows = PQntuples(res);
            s->row = -1;
            s->changes = pg_result_changes(res);
            break;
        case PGRES_COMMAND_OK:
            s->changes = pg_result_changes(res);
            PQclear(res);
            pg_end_run(s);
            return DB_DONE;
        default:
            pg_set_error(pd, res, base->sql, error);
            PQclear(res);
            pg_end_run(s);
            return DB_ERROR;
        }
    }
    pg_clear_row(s);
    if (++s->row < s->nrows)
        return DB_ROW;
    pg_end_run(s);
    return DB_DONE;
}

static void
pg_reset(struct db_stmt *s)
{
    pg_end_run(stmt_of(s));
}

/* ---- columns ---- */

/* The current row's value of COL, or NULL for SQL NULL (and no row). */
static const char *
pg_cell(struct pg_stmt *s, int col, Oid *type, int *len)
{
    if (s->res == NULL || s->row < 0 || s->row >= s->nrows || col < 0 || col >= PQnfields(s->res) ||
        PQgetisnull(s->res, s->row, col))
        return NULL;
    *type = PQftype(s->res, col);
    *len = PQgetlength(s->res, s->row, col);
    return PQgetvalue(s->res, s->row, col);
}

static bool
is_integer(Oid type)
{
    return type == OID_INT2 || type == OID_INT4 || type == OID_INT8 || type == OID_OID;
}

/* An integer or boolean value in binary (network order). */
static gint64
binary_int(const char *v, Oid type)
{
    guint16 u16;
    guint32 u32;
    guint64 u64;

    switch (type) {
    case OID_INT2:
        memcpy(&u16, v, 2);
        return (gint16)GUINT16_FROM_BE(u16);
    case OID_INT4:
        memcpy(&u32, v, 4);
        return (gint32)GUINT32_FROM_BE(u32);
    case OID_OID:
        memcpy(&u32, v, 4);
        return GUINT32_FROM_BE(u32);
    case OID_INT8:
        memcpy(&u64, v, 8);
        return (gint64)GUINT64_FROM_BE(u64);
    case OID_BOOL:
        return v[0] != 0;
    default:
        return g_ascii_strtoll(v, NULL, 10);
    }
}

static bool
pg_column_is_null(struct db_stmt *base, int col)
{
    Oid type;
    int len;

    return pg_cell(stmt_of(base), col, &type, &len) == NULL;
}

/* A bytea sent as text (\x...) as its bytes, kept for this row. */
static const char *
pg_unescaped(struct pg_stmt *s, int col, const char *v)
{
    if (s->conv[col] == NULL) {
        size_t n = 0;
        unsigned char *bytes = PQunescapeBytea((const unsigned char *)v, &n);

        if (bytes == NULL)
            return NULL;
        s->conv[col] = g_malloc(n + 1);
        memcpy(s->conv[col], bytes, n);
        s->conv[col][n] = '\0';
        s->conv_len[col] = n;
        PQfreemem(bytes);
    }
    return s->conv[col];
}

static const char *
pg_column_text(struct db_stmt *base, int col)
{
    struct pg_stmt *s = stmt_of(base);
    Oid type = 0;
    int len = 0;
    const char *v = pg_cell(s, col, &type, &len);
    bool binary = s->result_format == 1;

    if (v == NULL)
        return NULL;
    /* Booleans read as SQLite's would: 1 and 0. */
    if (type == OID_BOOL)
        return (binary ? v[0] != 0 : v[0] == 't') ? "1" : "0";
    if (binary && is_integer(type)) {
        if (s->conv[col] == NULL) {
            s->conv[col] = g_strdup_printf("%" G_GINT64_FORMAT, binary_int(v, type));
            s->conv_len[col] = strlen(s->conv[col]);
        }
        return s->conv[col];
    }
    if (!binary && type == OID_BYTEA)
        return pg_unescaped(s, col, v);
    /* Text, and binary bytea: libpq ends every value with a NUL. */
    return v;
}

static gint64
pg_column_int64(struct db_stmt *base, int col)
{
    struct pg_stmt *s = stmt_of(base);
    Oid type = 0;
    int len = 0;
    const char *v = pg_cell(s, col, &type, &len);

    if (v == NULL)
        return 0;
    if (s->result_format == 1 && (is_integer(type) || type == OID_BOOL))
        return binary_int(v, type);
    if (type == OID_BOOL)
        return v[0] == 't';
    return g_ascii_strtoll(v, NULL, 10);
}

static const void *
pg_column_blob(struct db_stmt *base, int col, gsize *len)
{
    struct pg_stmt *s = stmt_of(base);
    Oid type = 0;
    int n = 0;
    const char *v = pg_cell(s, col, &type, &n);
    const char *text;

    *len = 0;
    if (v == NULL)
        return NULL;
    if (type == OID_BYTEA && s->result_format == 1) {
        *len = (gsize)n;
        return v;
    }
    text = pg_column_text(base, col);
    if (text == NULL)
        return NULL;
    *len = s->conv[col] == text ? s->conv_len[col] : strlen(text);
    return text;
}

static gint64
pg_changes(struct db_stmt *s)
{
    return stmt_of(s)->changes;
}

/* ---- transactions ---- */

static bool
pg_begin(struct db *db, GError **error)
{
    struct pg_db *pd = pg_of(db);
    /* Writers: READ COMMITTED, whatever the server's default, so that a
     * race for one key is a CONFLICT and not a serialization failure.
     * Readers: one snapshot for all they read, as in SQLite; a read-only
     * REPEATABLE READ transaction never fails for a race. */
    const char *sql = db->mode == DB_READ_WRITE ? "BEGIN ISOLATION LEVEL READ COMMITTED"
                                                : "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
    bool reconnected = false;
    GError *err = NULL;

    if (PQstatus(pd->conn) != CONNECTION_OK) {
        if (!pg_reconnect(pd, error))
            return false;
        reconnected = true;
    }
    if (pg_command(pd, sql, &err))
        return true;
    if (reconnected || PQstatus(pd->conn) == CONNECTION_OK) {
        g_propagate_error(error, err);
        return false;
    }
    /* It broke while idle and this BEGIN is how we learnt it: nothing was
     * done yet, so reconnecting loses nothing. */
    g_clear_error(&err);
    return pg_reconnect(pd, error) && pg_command(pd, sql, error);
}

static bool
pg_commit(struct db *db, GError **error)
{
    struct pg_db *pd = pg_of(db);
    PGresult *res = PQexec(pd->conn, "COMMIT");
    bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;

    if (!ok)
        pg_set_error(pd, res, "COMMIT", error);
    else if (strcmp(PQcmdStatus(res), "ROLLBACK") == 0) {
        /* The server's answer to COMMIT in a failed transaction. */
        db_set_error(error, db, STORE_ERROR_FAILED, "COMMIT",
                     "the server rolled the transaction back");
        ok = false;
    }
    PQclear(res);
    return ok;
}

static bool
pg_in_transaction(struct db *db)
{
    switch (PQtransactionStatus(pg_of(db)->conn)) {
    case PQTRANS_ACTIVE:
    case PQTRANS_INTRANS:
    case PQTRANS_INERROR:
        return true;
    default:
        return false; /* idle, or the connection is gone */
    }
}

static void
pg_rollback(struct db *db)
{
    if (pg_in_transaction(db))
        pg_command(pg_of(db), "ROLLBACK", NULL);
}

static bool
pg_control(struct db *db, const char *sql, GError **error)
{
    return pg_command(pg_of(db), sql, error);
}

/* ---- key locks ---- */

/* The lock of PURPOSE and KEY: the first 64 bits of SHA-256 over PURPOSE,
 * a NUL and KEY ("a" "bc" is not "ab" "c"), read big-endian as two 32-bit
 * halves, so every host names one key alike whatever its byte order.  The
 * two-int form of the advisory locks is a space apart from the one-bigint
 * form the schema migration takes (store/schema.c). */
static void
pg_lock_ids(const char *purpose, const char *key, gint32 ids[2])
{
    g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
    guint8 digest[32];
    gsize len = sizeof digest;

    g_checksum_update(sum, (const guchar *)purpose, (gssize)strlen(purpose) + 1);
    g_checksum_update(sum, (const guchar *)key, (gssize)strlen(key));
    g_checksum_get_digest(sum, digest, &len);
    for (int i = 0; i < 2; i++) {
        const guint8 *d = digest + 4 * i;

        ids[i] = (gint32)((guint32)d[0] << 24 | (guint32)d[1] << 16 | (guint32)d[2] << 8 | d[3]);
    }
}

/* A transaction-level advisory lock: the server gives it up at COMMIT or
 * ROLLBACK (and at ROLLBACK TO a savepoint taken before it), so no path
 * of ours can leave it held.  Its wait counts against lock_timeout. */
static bool
pg_lock_key(struct db *db, const char *purpose, const char *key, GError **error)
{
    struct pg_db *pd = pg_of(db);
    gint32 ids[2];

    if (pd->lock == NULL) {
        pd->lock = pg_prepare(db, "SELECT pg_advisory_xact_lock(?1::integer, ?2::integer)", error);
        if (pd->lock == NULL)
            return false;
    }
    pg_lock_ids(purpose, key, ids);
    pg_bind_int64(pd->lock, 1, ids[0]);
    pg_bind_int64(pd->lock, 2, ids[1]);
    if (pg_step(pd->lock, error) == DB_ERROR)
        return false;
    pg_reset(pd->lock);
    return true;
}

static const struct db_ops pg_ops = {
    .close = pg_close,
    .exec = pg_exec,
    .prepare = pg_prepare,
    .finalize = pg_finalize,
    .bind_text = pg_bind_text,
    .bind_int64 = pg_bind_int64,
    .bind_blob = pg_bind_blob,
    .bind_null = pg_bind_null,
    .step = pg_step,
    .reset = pg_reset,
    .column_is_null = pg_column_is_null,
    .column_text = pg_column_text,
    .column_int64 = pg_column_int64,
    .column_blob = pg_column_blob,
    .changes = pg_changes,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .control = pg_control,
    .in_transaction = pg_in_transaction,
    .lock_key = pg_lock_key,
};
