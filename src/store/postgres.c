/* postgres.c: the SQL layer (db.h) over PostgreSQL with libpq: connections, the statements of
 * statements.def prepared lazily per connection under the names "s<id>", one-off statements for
 * export and import, and LISTEN/NOTIFY between the nodes that share a database.
 *
 * A statement runs with the extended protocol: integers go as decimal text, text as is, bytes in
 * binary format; the whole result comes back in text format (PQexecPrepared) and db_step walks
 * its rows. Integers are parsed from their decimal text, booleans read as 1/0 and bytea is
 * decoded from its hex form. Failures are mapped to the store's codes by SQLSTATE.
 *
 * Not for: SQLite (sqlite.c), statement texts (statements.def), or deciding when to reconnect
 * (the caller paces db_alive). */
#include "db_impl.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#define PG_MAX_PARAMS 16
#define PG_CONNECT_TIMEOUT "10" /* seconds; the URI's connect_timeout wins */

/* Type oids of the built-in types the column readers care about (pg_type.dat). */
enum {
    PG_OID_BOOL = 16,
    PG_OID_BYTEA = 17,
    PG_OID_INT8 = 20,
    PG_OID_INT2 = 21,
    PG_OID_INT4 = 23,
    PG_OID_TEXT = 25,
};

/* The statements' names, for logs. */
static const char *const pg_sql_name[SQL__COUNT] = {
#define SQL(id, text) [SQL_##id] = #id,
#define SQLX(id, sqlite_text, postgres_text) [SQL_##id] = #id,
#include "statements.def"
#undef SQL
#undef SQLX
};

struct pg_db;

struct pg_stmt {
    struct db_stmt base;
    struct pg_db *db;     /* NULL once the connection was closed under a one-off statement */
    int id;               /* enum sql_id, or -1 for a one-off statement */
    char name[24];        /* the prepared statement's name: "s<id>" or "a<n>" */
    char *sql;            /* the text with $N parameters (owned) */
    int nparams;          /* the highest parameter number in sql */
    uint32_t used;        /* bit n-1: $n appears in sql */
    bool prepared;        /* in the connection's current server session */
    PGresult *desc;       /* the statement's description (columns asked before a run) */
    struct pg_stmt *prev; /* the connection's list of one-off statements */
    struct pg_stmt *next;
    /* bindings (values[i] NULL: SQL NULL) */
    const char *values[PG_MAX_PARAMS];
    int lengths[PG_MAX_PARAMS];
    int formats[PG_MAX_PARAMS]; /* 0 text, 1 binary */
    char ints[PG_MAX_PARAMS][24];
    /* the run */
    bool ran;             /* executed since the last reset */
    int rc;               /* the run's error, returned again by later steps */
    PGresult *res;        /* the run's result */
    int row, rows;        /* current row, number of rows */
    unsigned char **blob; /* per column: decoded bytea of the current row (PQfreemem) */
    size_t *blob_len;
    int blob_cols;
};

struct pg_db {
    struct db base;
    PGconn *conn;
    struct pg_stmt *stmt[SQL__COUNT]; /* prepared on first use */
    struct pg_stmt *adhoc;            /* one-off statements not yet freed */
    unsigned adhoc_seq;               /* names them */
    unsigned *stale;                  /* one-off statements freed but not deallocated yet */
    size_t nstale, stale_alloc;
    char **channels; /* LISTENed to; listened to again after a reconnect */
    size_t nchannels;
    bool relisten; /* reconnected: the channels are to be listened to again */
    char err[512]; /* the last error, on one line */
};

/* ---- messages ---- */

/* Copies a libpq message into out on one line: each run of white space becomes one space, and
 * trailing white space goes. */
static void pg_one_line(char *out, size_t n, const char *msg)
{
    size_t k = 0;
    for (const char *p = msg ? msg : ""; *p && k + 1 < n; p++) {
        bool space = *p == ' ' || *p == '\n' || *p == '\r' || *p == '\t';
        if (!space)
            out[k++] = *p;
        else if (k > 0 && out[k - 1] != ' ')
            out[k++] = ' ';
    }
    while (k > 0 && out[k - 1] == ' ')
        k--;
    out[k] = '\0';
}

/* Writes uri into out without its user name and password (postgres://u:pw@host/db becomes
 * postgres://host/db) and with the value of a password= query parameter hidden: for messages. */
static void pg_uri_redact(const char *uri, char *out, size_t n)
{
    const char *scheme_end = strstr(uri, "://");
    if (!scheme_end) {
        snprintf(out, n, "(not a URI)");
        return;
    }
    const char *auth = scheme_end + 3;
    size_t query_at = strcspn(auth, "?");
    const char *host = auth;
    for (size_t i = 0; i < query_at; i++)
        if (auth[i] == '@')
            host = auth + i + 1;
    int w0 = snprintf(out, n, "%.*s", (int)(auth - uri), uri);
    size_t k = w0 < 0 ? 0 : (size_t)w0 < n ? (size_t)w0 : n - 1;
    bool param_start = false;
    for (const char *p = host; *p && k + 1 < n; p++) {
        if (param_start && !strncmp(p, "password=", 9)) {
            int w = snprintf(out + k, n - k, "password=***");
            k = w < 0 || (size_t)w >= n - k ? n - 1 : k + (size_t)w;
            p += 9 + strcspn(p + 9, "&");
            if (!*p)
                break;
        }
        out[k++] = *p;
        param_start = *p == '?' || *p == '&';
    }
    out[k < n ? k : n - 1] = '\0';
}

/* libpq's notices (warnings from the server, given client_min_messages) go to the log. */
static void pg_notice(void *arg, const char *message)
{
    (void)arg;
    char line[512];
    pg_one_line(line, sizeof line, message);
    log_info("postgres: %s", line);
}

/* A statement's name for logs: its id in statements.def, or the start of a one-off's text. */
static void pg_label(const struct pg_stmt *s, char *out, size_t n)
{
    if (s->id >= 0)
        snprintf(out, n, "statement %s", pg_sql_name[s->id]);
    else
        snprintf(out, n, "one-off statement '%.60s%s'", s->sql, strlen(s->sql) > 60 ? "..." : "");
}

/* ---- errors ---- */

/* The store's code for a failure with SQLSTATE sqlstate (NULL: none, the client failed) on a
 * connection whose state is now bad or not. */
static int pg_code_of(const char *sqlstate, bool connection_bad)
{
    if (connection_bad)
        return -ERR_DB_UNAVAILABLE;
    if (!sqlstate || strlen(sqlstate) != 5)
        return -ERR_INTERNAL;
    if (!strncmp(sqlstate, "23", 2)) /* integrity constraint violation */
        return -ERR_CONFLICT;
    if (!strcmp(sqlstate, "53100") || !strncmp(sqlstate, "58", 2)) /* disk full, system error */
        return -ERR_STORAGE_FULL;
    if (!strncmp(sqlstate, "08", 2) || !strcmp(sqlstate, "57P01") || !strcmp(sqlstate, "57P02") ||
        !strcmp(sqlstate, "57P03")) /* connection exception, admin/crash shutdown, cannot connect */
        return -ERR_DB_UNAVAILABLE;
    return -ERR_INTERNAL;
}

/* Records the failure of what (r: its result, NULL when none came back) as the connection's
 * last error, logs it unless it is an expected constraint conflict, and returns its code. */
static int pg_fail(struct pg_db *db, const PGresult *r, const char *what)
{
    const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (!msg || !*msg)
        msg = PQerrorMessage(db->conn);
    if (!*msg)
        msg = "no result from the server";
    pg_one_line(db->err, sizeof db->err, msg);
    const char *sqlstate = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    int rc = pg_code_of(sqlstate, PQstatus(db->conn) == CONNECTION_BAD);
    if (rc != -ERR_CONFLICT)
        log_error("postgres: %s failed (%s): %s", what, sqlstate ? sqlstate : "no sqlstate",
                  db->err);
    return rc;
}

static bool pg_result_ok(const PGresult *r)
{
    ExecStatusType st = PQresultStatus(r); /* NULL: PGRES_FATAL_ERROR */
    return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY;
}

/* Runs a command without parameters for its effect: 0 or the mapped error. */
static int pg_command(struct pg_db *db, const char *sql, const char *what)
{
    PGresult *r = PQexec(db->conn, sql);
    int rc = pg_result_ok(r) ? 0 : pg_fail(db, r, what);
    PQclear(r);
    return rc;
}

/* ---- statement texts ---- */

static bool pg_is_ident_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '$' || (unsigned char)c >= 0x80;
}

/* The index just past the quoted text that starts at sql[i] (a ' or "), where a doubled quote
 * stands for itself and, with backslash_escapes (E'...'), a backslash escapes the next byte. */
static size_t pg_skip_quoted(const char *sql, size_t n, size_t i, bool backslash_escapes)
{
    char q = sql[i];
    for (size_t j = i + 1; j < n; j++) {
        if (backslash_escapes && sql[j] == '\\' && j + 1 < n)
            j++;
        else if (sql[j] == q && sql[j + 1] == q)
            j++;
        else if (sql[j] == q)
            return j + 1;
    }
    return n;
}

/* The index just past the comment that starts at sql[i] ("--" to the end of the line, or a
 * block comment, which nests in PostgreSQL). */
static size_t pg_skip_comment(const char *sql, size_t n, size_t i)
{
    if (sql[i] == '-') {
        const char *nl = memchr(sql + i, '\n', n - i);
        return nl ? (size_t)(nl - sql) + 1 : n;
    }
    int depth = 0;
    for (size_t j = i; j + 1 < n; j++) {
        if (sql[j] == '/' && sql[j + 1] == '*') {
            depth++;
            j++;
        } else if (sql[j] == '*' && sql[j + 1] == '/') {
            j++;
            if (--depth == 0)
                return j + 1;
        }
    }
    return n;
}

/* The index just past the dollar-quoted string ($$...$$ or $tag$...$tag$) that starts at sql[i],
 * or i when sql[i] does not start one. */
static size_t pg_skip_dollar_quoted(const char *sql, size_t n, size_t i)
{
    size_t j = i + 1;
    if (j < n && (isdigit((unsigned char)sql[j])))
        return i;
    while (j < n && sql[j] != '$' &&
           (isalnum((unsigned char)sql[j]) || sql[j] == '_' || (unsigned char)sql[j] >= 0x80))
        j++;
    if (j >= n || sql[j] != '$')
        return i;
    size_t taglen = j - i + 1;
    for (size_t k = j + 1; k + taglen <= n; k++)
        if (sql[k] == '$' && !memcmp(sql + k, sql + i, taglen))
            return k + taglen;
    return n;
}

/* A copy of sql with every ?N parameter written $N, outside string literals, quoted identifiers,
 * dollar-quoted strings and comments. $N parameters already there count too. Sets *nparams to
 * the highest N and *used to the set of the numbers that appear. NULL when a number is outside
 * 1..PG_MAX_PARAMS. The caller frees the copy. */
static char *pg_convert_params(const char *sql, int *nparams, uint32_t *used)
{
    char *out = xstrdup(sql);
    size_t n = strlen(out);
    int max = 0;
    uint32_t mask = 0;
    for (size_t i = 0; i < n;) {
        char c = out[i];
        bool after_ident = i > 0 && pg_is_ident_char(out[i - 1]);
        if (c == '\'') {
            bool e = i > 0 && (out[i - 1] == 'E' || out[i - 1] == 'e') &&
                     (i < 2 || !pg_is_ident_char(out[i - 2]));
            i = pg_skip_quoted(out, n, i, e);
        } else if (c == '"') {
            i = pg_skip_quoted(out, n, i, false);
        } else if ((c == '-' && out[i + 1] == '-') || (c == '/' && out[i + 1] == '*')) {
            i = pg_skip_comment(out, n, i);
        } else if ((c == '?' || (c == '$' && !after_ident)) && isdigit((unsigned char)out[i + 1])) {
            int num = 0;
            size_t j = i + 1;
            for (; isdigit((unsigned char)out[j]); j++)
                if (num <= PG_MAX_PARAMS)
                    num = num * 10 + (out[j] - '0');
            if (num < 1 || num > PG_MAX_PARAMS) {
                free(out);
                return NULL;
            }
            out[i] = '$';
            mask |= 1u << (num - 1);
            if (num > max)
                max = num;
            i = j;
        } else if (c == '$' && !after_ident) {
            size_t end = pg_skip_dollar_quoted(out, n, i);
            i = end > i ? end : i + 1;
        } else {
            i++;
        }
    }
    *nparams = max;
    *used = mask;
    return out;
}

/* ---- statements ---- */

static struct pg_stmt *pg_stmt_new(struct pg_db *db, int id, const char *sql)
{
    int nparams;
    uint32_t used;
    char *text = pg_convert_params(sql, &nparams, &used);
    if (!text)
        return NULL;
    struct pg_stmt *s = xcalloc(1, sizeof *s);
    s->base.ops = &db_postgres_ops;
    s->db = db;
    s->id = id;
    s->sql = text;
    s->nparams = nparams;
    s->used = used;
    return s;
}

static void pg_blobs_clear(struct pg_stmt *s)
{
    for (int i = 0; i < s->blob_cols; i++) {
        PQfreemem(s->blob[i]);
        s->blob[i] = NULL;
    }
}

static void pg_stmt_reset(struct pg_stmt *s)
{
    pg_blobs_clear(s);
    free(s->blob);
    free(s->blob_len);
    s->blob = NULL;
    s->blob_len = NULL;
    s->blob_cols = 0;
    PQclear(s->res);
    s->res = NULL;
    s->ran = false;
    s->rc = 0;
    s->row = s->rows = 0;
}

static void pg_stmt_unbind(struct pg_stmt *s)
{
    memset(s->values, 0, sizeof s->values);
    memset(s->lengths, 0, sizeof s->lengths);
    memset(s->formats, 0, sizeof s->formats);
}

static void pg_stmt_free(struct pg_stmt *s)
{
    if (!s)
        return;
    pg_stmt_reset(s);
    PQclear(s->desc);
    free(s->sql);
    free(s);
}

/* Prepares s in the connection's session: 0 or the mapped error. Parameters that the text skips
 * are declared text (PostgreSQL could not infer a type for them); the others are inferred. */
static int pg_prepare(struct pg_stmt *s)
{
    Oid types[PG_MAX_PARAMS];
    for (int i = 0; i < s->nparams; i++)
        types[i] = (s->used & (1u << i)) ? 0 : PG_OID_TEXT;
    PGresult *r = PQprepare(s->db->conn, s->name, s->sql, s->nparams, types);
    int rc = 0;
    if (PQresultStatus(r) == PGRES_COMMAND_OK) {
        s->prepared = true;
        PQclear(s->desc);
        s->desc = NULL;
    } else {
        char what[160];
        pg_label(s, what, sizeof what);
        rc = pg_fail(s->db, r, what);
    }
    PQclear(r);
    return rc;
}

/* Marks every statement of db as not prepared: its server session is a new one. */
static void pg_forget_prepared(struct pg_db *db)
{
    for (int i = 0; i < SQL__COUNT; i++)
        if (db->stmt[i])
            db->stmt[i]->prepared = false;
    for (struct pg_stmt *s = db->adhoc; s; s = s->next)
        s->prepared = false;
    db->nstale = 0;
}

/* Executes s (preparing it first when needed) and keeps its result: DB_ROW, DB_DONE or -ERR_x. */
static int pg_run(struct pg_stmt *s)
{
    struct pg_db *db = s->db;
    for (int attempt = 0;; attempt++) {
        if (!s->prepared) {
            int rc = pg_prepare(s);
            if (rc)
                return rc;
        }
        PGresult *r =
            PQexecPrepared(db->conn, s->name, s->nparams, s->values, s->lengths, s->formats, 0);
        if (pg_result_ok(r)) {
            s->res = r;
            s->rows = PQntuples(r);
            s->row = 0;
            return s->rows > 0 ? DB_ROW : DB_DONE;
        }
        /* The statement is gone from the session (DEALLOCATE ALL, DISCARD ALL by someone else):
         * prepare it again, when no transaction was aborted by the failure. */
        const char *sqlstate = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        if (attempt == 0 && sqlstate && !strcmp(sqlstate, "26000") &&
            PQtransactionStatus(db->conn) == PQTRANS_IDLE) {
            PQclear(r);
            s->prepared = false;
            continue;
        }
        char what[160];
        pg_label(s, what, sizeof what);
        int rc = pg_fail(db, r, what);
        PQclear(r);
        return rc;
    }
}

static struct pg_db *pg_db_of(struct db *base)
{
    BUG_ON(base->ops != &db_postgres_ops);
    return (struct pg_db *)base;
}

static struct pg_stmt *pg_stmt_of(struct db_stmt *base)
{
    BUG_ON(base->ops != &db_postgres_ops);
    return (struct pg_stmt *)base;
}

/* ---- one-off statements that were freed inside an aborted transaction ---- */

static void pg_deallocate(struct pg_db *db, unsigned n)
{
    char sql[48], what[48];
    snprintf(sql, sizeof sql, "DEALLOCATE a%u", n);
    snprintf(what, sizeof what, "deallocating a%u", n);
    pg_command(db, sql, what);
}

/* Deallocates the one-off statements left over, when no transaction is open (a failure then
 * cannot abort the caller's work). */
static void pg_deallocate_stale(struct pg_db *db)
{
    if (!db->nstale || PQtransactionStatus(db->conn) != PQTRANS_IDLE)
        return;
    for (size_t i = 0; i < db->nstale; i++)
        pg_deallocate(db, db->stale[i]);
    db->nstale = 0;
}

/* ---- the operations ---- */

static int pg_open(struct db **out, const char *target, char *errmsg, size_t errlen)
{
    *out = NULL;
    char shown[256];
    pg_uri_redact(target, shown, sizeof shown);

    /* Parse first: a bad URI is reported as such, and the URI's own options are kept. */
    char *perr = NULL;
    PQconninfoOption *parsed = PQconninfoParse(target, &perr);
    if (!parsed) {
        char line[256];
        pg_one_line(line, sizeof line, perr ? perr : "out of memory");
        snprintf(errmsg, errlen, "cannot use database '%s': %s", shown, line);
        PQfreemem(perr);
        return -ERR_INTERNAL;
    }
    const char *uri_options = NULL;
    for (PQconninfoOption *o = parsed; o->keyword; o++)
        if (!strcmp(o->keyword, "options") && o->val && *o->val)
            uri_options = o->val;
    /* Session settings every connection needs; they come back with PQreset. */
    const char *ours = "-c client_min_messages=warning -c standard_conforming_strings=on";
    size_t olen = (uri_options ? strlen(uri_options) + 1 : 0) + strlen(ours) + 1;
    char *options = xmalloc(olen);
    snprintf(options, olen, "%s%s%s", uri_options ? uri_options : "", uri_options ? " " : "", ours);
    PQconninfoFree(parsed);

    /* Keywords before dbname are defaults the URI may override; those after it are ours. The
     * keepalives and the TCP user timeout notice a server that vanished without closing the
     * connection (a failed-over host) in about a minute instead of the kernel's hours. */
    const char *const keywords[] = {"fallback_application_name",
                                    "connect_timeout",
                                    "keepalives_idle",
                                    "keepalives_interval",
                                    "keepalives_count",
                                    "tcp_user_timeout",
                                    "dbname",
                                    "options",
                                    NULL};
    const char *const values[] = {
        "switchboard", PG_CONNECT_TIMEOUT, "30", "10", "3", "60000", target, options, NULL};
    PGconn *conn = PQconnectdbParams(keywords, values, 1);
    free(options);
    if (!conn) {
        snprintf(errmsg, errlen, "cannot connect to '%s': out of memory", shown);
        return -ERR_INTERNAL;
    }
    if (PQstatus(conn) != CONNECTION_OK) {
        char line[384];
        pg_one_line(line, sizeof line, PQerrorMessage(conn));
        snprintf(errmsg, errlen, "cannot connect to '%s': %s", shown, line);
        PQfinish(conn);
        return -ERR_DB_UNAVAILABLE;
    }
    PQsetNoticeProcessor(conn, pg_notice, NULL);
    /* Primary messages only: details can quote the values of a row. */
    PQsetErrorVerbosity(conn, PQERRORS_TERSE);

    struct pg_db *db = xcalloc(1, sizeof *db);
    db->base.ops = &db_postgres_ops;
    db->conn = conn;
    *out = &db->base;
    return 0;
}

static void pg_close(struct db *base)
{
    struct pg_db *db = pg_db_of(base);
    for (int i = 0; i < SQL__COUNT; i++)
        pg_stmt_free(db->stmt[i]);
    for (struct pg_stmt *s = db->adhoc; s; s = s->next)
        s->db = NULL; /* db_adhoc_free will only free it */
    for (size_t i = 0; i < db->nchannels; i++)
        free(db->channels[i]);
    free(db->channels);
    free(db->stale);
    PQfinish(db->conn);
    free(db);
}

static const char *pg_errmsg(struct db *base)
{
    struct pg_db *db = pg_db_of(base);
    return db->err[0] ? db->err : "no error";
}

static int pg_listen(struct pg_db *db, const char *channel)
{
    char *ident = PQescapeIdentifier(db->conn, channel, strlen(channel));
    if (!ident)
        return pg_fail(db, NULL, "quoting a channel name");
    size_t n = strlen(ident) + 8;
    char *sql = xmalloc(n);
    snprintf(sql, n, "LISTEN %s", ident);
    PQfreemem(ident);
    int rc = pg_command(db, sql, "LISTEN");
    free(sql);
    return rc;
}

static bool pg_alive(struct db *base)
{
    struct pg_db *db = pg_db_of(base);
    if (PQstatus(db->conn) != CONNECTION_OK) {
        PQreset(db->conn);
        if (PQstatus(db->conn) != CONNECTION_OK) {
            pg_one_line(db->err, sizeof db->err, PQerrorMessage(db->conn));
            return false;
        }
        pg_forget_prepared(db);
        db->relisten = db->nchannels > 0;
        log_info("postgres: reconnected to %s port %s, database %s", PQhost(db->conn),
                 PQport(db->conn), PQdb(db->conn));
    }
    for (size_t i = 0; db->relisten && i < db->nchannels; i++)
        if (pg_listen(db, db->channels[i]))
            return false; /* the next call tries again */
    db->relisten = false;
    return true;
}

static struct db_stmt *pg_stmt(struct db *base, enum sql_id id)
{
    struct pg_db *db = pg_db_of(base);
    BUG_ON((int)id < 0 || id >= SQL__COUNT || !db_sql_postgres[id]);
    struct pg_stmt *s = db->stmt[id];
    if (!s) {
        s = pg_stmt_new(db, (int)id, db_sql_postgres[id]);
        if (!s) {
            log_error("postgres: statement %s has a parameter outside ?1..?%d", pg_sql_name[id],
                      PG_MAX_PARAMS);
            BUG_ON(1); /* statements are constants */
        }
        snprintf(s->name, sizeof s->name, "s%d", (int)id);
        db->stmt[id] = s;
    }
    pg_stmt_reset(s);
    pg_stmt_unbind(s);
    return &s->base;
}

/* The binding slot of parameter param (from 1). */
static int pg_param(int param)
{
    BUG_ON(param < 1 || param > PG_MAX_PARAMS);
    return param - 1;
}

static void pg_bind_int64(struct db_stmt *base, int param, int64_t v)
{
    struct pg_stmt *s = pg_stmt_of(base);
    int i = pg_param(param);
    snprintf(s->ints[i], sizeof s->ints[i], "%" PRId64, v);
    s->values[i] = s->ints[i];
    s->lengths[i] = 0;
    s->formats[i] = 0;
}

static void pg_bind_text(struct db_stmt *base, int param, const char *v)
{
    struct pg_stmt *s = pg_stmt_of(base);
    int i = pg_param(param);
    s->values[i] = v;
    s->lengths[i] = 0;
    s->formats[i] = 0;
}

static void pg_bind_blob(struct db_stmt *base, int param, const void *p, size_t n)
{
    struct pg_stmt *s = pg_stmt_of(base);
    int i = pg_param(param);
    BUG_ON(n > INT_MAX);
    s->values[i] = p; /* NULL binds NULL, as in SQLite */
    s->lengths[i] = (int)n;
    s->formats[i] = 1;
}

static int pg_step(struct db_stmt *base)
{
    struct pg_stmt *s = pg_stmt_of(base);
    BUG_ON(!s->db); /* a one-off statement of a closed connection */
    pg_blobs_clear(s);
    if (s->ran) {
        if (s->rc < 0)
            return s->rc;
        if (s->row < s->rows)
            s->row++;
        return s->row < s->rows ? DB_ROW : DB_DONE;
    }
    s->ran = true;
    s->rc = pg_run(s);
    return s->rc;
}

static void pg_reset(struct db_stmt *base)
{
    pg_stmt_reset(pg_stmt_of(base));
}

/* The result that describes s's columns: its run's, or else its description (asked once). */
static const PGresult *pg_columns_of(struct pg_stmt *s)
{
    if (s->res)
        return s->res;
    if (s->desc || !s->db)
        return s->desc;
    if (!s->prepared && pg_prepare(s))
        return NULL;
    PGresult *r = PQdescribePrepared(s->db->conn, s->name);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        char what[160];
        pg_label(s, what, sizeof what);
        pg_fail(s->db, r, what);
        PQclear(r);
        return NULL;
    }
    s->desc = r;
    return r;
}

/* Whether s is on a row that has column col. */
static bool pg_has_value(const struct pg_stmt *s, int col)
{
    return s->res && s->row < s->rows && col >= 0 && col < PQnfields(s->res);
}

static bool pg_null(struct db_stmt *base, int col)
{
    struct pg_stmt *s = pg_stmt_of(base);
    return !pg_has_value(s, col) || PQgetisnull(s->res, s->row, col);
}

static int64_t pg_column_int64(struct db_stmt *base, int col)
{
    struct pg_stmt *s = pg_stmt_of(base);
    if (pg_null(base, col))
        return 0;
    const char *v = PQgetvalue(s->res, s->row, col);
    if (PQftype(s->res, col) == PG_OID_BOOL)
        return v[0] == 't';
    return strtoll(v, NULL, 10);
}

static const char *pg_text_null(struct db_stmt *base, int col)
{
    struct pg_stmt *s = pg_stmt_of(base);
    return pg_null(base, col) ? NULL : PQgetvalue(s->res, s->row, col);
}

static const void *pg_blob(struct db_stmt *base, int col, size_t *len)
{
    struct pg_stmt *s = pg_stmt_of(base);
    size_t ignored;
    if (!len)
        len = &ignored;
    *len = 0;
    if (pg_null(base, col))
        return NULL;
    const char *v = PQgetvalue(s->res, s->row, col);
    if (PQftype(s->res, col) != PG_OID_BYTEA) { /* the bytes of the text form */
        *len = (size_t)PQgetlength(s->res, s->row, col);
        return v;
    }
    if (!s->blob) {
        s->blob_cols = PQnfields(s->res);
        s->blob = xcalloc((size_t)s->blob_cols, sizeof *s->blob);
        s->blob_len = xcalloc((size_t)s->blob_cols, sizeof *s->blob_len);
    }
    if (!s->blob[col]) {
        s->blob[col] = PQunescapeBytea((const unsigned char *)v, &s->blob_len[col]);
        BUG_ON(!s->blob[col]); /* out of memory */
    }
    *len = s->blob_len[col];
    return s->blob[col];
}

static int pg_columns(struct db_stmt *base)
{
    const PGresult *r = pg_columns_of(pg_stmt_of(base));
    return r ? PQnfields(r) : 0;
}

static const char *pg_column_name(struct db_stmt *base, int col)
{
    const PGresult *r = pg_columns_of(pg_stmt_of(base));
    return r ? PQfname(r, col) : NULL;
}

static char pg_column_kind(struct db_stmt *base, int col)
{
    struct pg_stmt *s = pg_stmt_of(base);
    if (pg_has_value(s, col) && PQgetisnull(s->res, s->row, col))
        return 'n';
    const PGresult *r = pg_columns_of(s);
    if (!r || col < 0 || col >= PQnfields(r))
        return 'n';
    switch (PQftype(r, col)) {
    case PG_OID_INT2:
    case PG_OID_INT4:
    case PG_OID_INT8:
    case PG_OID_BOOL: /* read as 1/0 */
        return 'i';
    case PG_OID_BYTEA:
        return 'b';
    default:
        return 't';
    }
}

static int pg_exec(struct db *base, const char *sql)
{
    return pg_command(pg_db_of(base), sql, "script");
}

static struct db_stmt *pg_adhoc(struct db *base, const char *sql)
{
    struct pg_db *db = pg_db_of(base);
    struct pg_stmt *s = pg_stmt_new(db, -1, sql);
    if (!s) {
        log_error("postgres: one-off statement '%.60s' has a parameter outside ?1..?%d", sql,
                  PG_MAX_PARAMS);
        return NULL;
    }
    pg_deallocate_stale(db);
    snprintf(s->name, sizeof s->name, "a%u", ++db->adhoc_seq);
    if (pg_prepare(s)) {
        pg_stmt_free(s);
        return NULL;
    }
    s->next = db->adhoc;
    if (db->adhoc)
        db->adhoc->prev = s;
    db->adhoc = s;
    return &s->base;
}

static void pg_adhoc_free(struct db_stmt *base)
{
    struct pg_stmt *s = pg_stmt_of(base);
    BUG_ON(s->id >= 0); /* statements of statements.def live as long as their connection */
    struct pg_db *db = s->db;
    if (db) {
        if (s->prev)
            s->prev->next = s->next;
        else
            db->adhoc = s->next;
        if (s->next)
            s->next->prev = s->prev;
        unsigned n = (unsigned)strtoul(s->name + 1, NULL, 10);
        PGTransactionStatusType ts = PQtransactionStatus(db->conn);
        if (s->prepared && (ts == PQTRANS_IDLE || ts == PQTRANS_INTRANS)) {
            pg_deallocate(db, n);
        } else if (s->prepared && ts == PQTRANS_INERROR) {
            if (db->nstale == db->stale_alloc) {
                db->stale_alloc = db->stale_alloc ? 2 * db->stale_alloc : 8;
                db->stale = xrealloc(db->stale, db->stale_alloc * sizeof *db->stale);
            }
            db->stale[db->nstale++] = n;
        }
    }
    pg_stmt_free(s);
}

const struct db_ops db_postgres_ops = {
    .backend = DB_POSTGRES,
    .open = pg_open,
    .close = pg_close,
    .errmsg = pg_errmsg,
    .alive = pg_alive,
    .stmt = pg_stmt,
    .bind_int64 = pg_bind_int64,
    .bind_text = pg_bind_text,
    .bind_blob = pg_bind_blob,
    .step = pg_step,
    .reset = pg_reset,
    .null = pg_null,
    .int64 = pg_column_int64,
    .text_null = pg_text_null,
    .blob = pg_blob,
    .columns = pg_columns,
    .column_name = pg_column_name,
    .column_kind = pg_column_kind,
    .exec = pg_exec,
    .adhoc = pg_adhoc,
    .adhoc_free = pg_adhoc_free,
};

/* ---- notifications between nodes ---- */

int db_pg_listen(struct db *base, const char *channel)
{
    struct pg_db *db = pg_db_of(base);
    int rc = pg_listen(db, channel);
    if (rc)
        return rc;
    for (size_t i = 0; i < db->nchannels; i++)
        if (!strcmp(db->channels[i], channel))
            return 0;
    db->channels = xrealloc(db->channels, (db->nchannels + 1) * sizeof *db->channels);
    db->channels[db->nchannels++] = xstrdup(channel);
    return 0;
}

int db_pg_notify(struct db *base, const char *channel, const char *payload)
{
    struct pg_db *db = pg_db_of(base);
    const char *values[2] = {channel, payload};
    PGresult *r =
        PQexecParams(db->conn, "SELECT pg_notify($1, $2)", 2, NULL, values, NULL, NULL, 0);
    int rc = pg_result_ok(r) ? 0 : pg_fail(db, r, "NOTIFY");
    PQclear(r);
    return rc;
}

/* Reads what the server sent and drops the notifications received: 1 when there were any, 0
 * when none, -ERR_DB_UNAVAILABLE when the connection is lost. */
static int pg_take_notifies(struct pg_db *db)
{
    if (PQstatus(db->conn) != CONNECTION_OK || !PQconsumeInput(db->conn)) {
        pg_one_line(db->err, sizeof db->err, PQerrorMessage(db->conn));
        return -ERR_DB_UNAVAILABLE;
    }
    int got = 0;
    for (PGnotify *n; (n = PQnotifies(db->conn)); got = 1)
        PQfreemem(n);
    return got;
}

int db_pg_wait(struct db *base, int timeout_ms, int wake_fd)
{
    struct pg_db *db = pg_db_of(base);
    int64_t deadline = timeout_ms < 0 ? -1 : time_mono_ms() + timeout_ms;
    for (;;) {
        int rc = pg_take_notifies(db); /* some may have come in with earlier results */
        if (rc)
            return rc;
        int sock = PQsocket(db->conn);
        if (sock < 0)
            return -ERR_DB_UNAVAILABLE;
        int wait_ms = -1;
        if (deadline >= 0) {
            int64_t left = deadline - time_mono_ms();
            wait_ms = left > 0 ? (int)(left < INT_MAX ? left : INT_MAX) : 0;
        }
        struct pollfd pfd[2] = {{.fd = sock, .events = POLLIN}, {.fd = wake_fd, .events = POLLIN}};
        int n = poll(pfd, wake_fd >= 0 ? 2 : 1, wait_ms);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            log_error("postgres: cannot wait for notifications: %s", strerror(errno));
            return -ERR_INTERNAL;
        }
        if (n == 0)
            return 0;
        if (wake_fd >= 0 && pfd[1].revents) {
            rc = pfd[0].revents ? pg_take_notifies(db) : 0;
            return rc;
        }
        /* the socket had something: loop to read it (it may not be a notification) */
    }
}
