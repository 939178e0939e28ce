/* transfer.c: moving a deployment from one database to another (SQLite to PostgreSQL and back):
 * store_export writes every table as a stream of JSON lines, store_import reads such a stream
 * into an empty database. Both work on a connection of their own, below the writer, over the
 * table list below; a table that the schema has and the list lacks (nor calls transient) stops
 * an export.
 *
 * The stream, one JSON value per line (UTF-8):
 *   {"switchboard_export":1,"schema":6,"backend":"sqlite"}  format, schema version, source
 *   {"table":"users","columns":["id","username",...]}      then per table, in tables[] order:
 *   [1,"alice",...]                                         its rows, in primary-key order
 *   {"end":true,"rows":1234}                                the number of rows in all
 * A value is an integer, a string, null, or {"base64":"..."} for bytes (standard alphabet,
 * padded); each column holds the kind its declared type says (or null), which the export checks,
 * since SQLite would let a row hold anything. The order of the tables puts every row after those
 * it refers to (messages go by id: a reply's thread_root is an earlier message), so an import
 * inserts rows as they come.
 *
 * Not for: moving between schema versions (export and import with the same switchboard), the
 * secret key file (it stays in the data directory and must be copied along), or importing into a
 * database a server is using. */
#include "store_int.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define TRANSFER_FORMAT 1
#define TRANSFER_PAGE 256             /* rows read at a time on export (unless the table says) */
#define TRANSFER_LINE_MAX (64u << 20) /* bytes in one line of a stream */
#define TRANSFER_COLUMNS_MAX 16       /* columns of a table: a statement's parameters in db.h */
#define TRANSFER_KEY_MAX 2            /* columns of a primary key */

/* Every table of the schema, each after the tables it refers to. */
static const struct transfer_table {
    const char *name;
    const char *key[TRANSFER_KEY_MAX]; /* the primary key: the order of the rows */
    int page;                          /* rows read at a time on export; 0: TRANSFER_PAGE */
} tables[] = {
    {"users", {"id"}, 0},
    {"api_tokens", {"id"}, 0},
    {"sessions", {"id"}, 0},
    {"teams", {"id"}, 0},
    {"team_members", {"team_id", "user_id"}, 0},
    {"channels", {"id"}, 0},
    {"images", {"id"}, 16}, /* up to 256 KiB each */
    {"connectors", {"id"}, 0},
    {"messages", {"id"}, 0},
    {"events", {"seq"}, 0},
    {"deliveries", {"id"}, 0},
    {"idempotency", {"connector_id", "key"}, 0},
    {"connector_threads", {"connector_id", "key"}, 0},
    {"feeds", {"url"}, 0},
    {"feed_items", {"connector_id", "item_hash"}, 0},
    {"team_mailbox", {"team_id"}, 0},
    {"mailbox_members", {"team_id", "user_id"}, 0},
    {"mail_queue", {"id"}, 0},
    {"seq_counter", {"id"}, 0}, /* the last event sequence number given out */
    {"meta", {"key"}, 0},       /* the sealing key's fingerprint */
};

#define N_TABLES (sizeof tables / sizeof tables[0])

/* Tables of the schema that are not carried: state that a restart may lose anyway. */
static const char *const transient[] = {
    "rate_buckets", /* webhook rate limits: a lost bucket only refills */
};

/* A column as the database declares it. */
struct column {
    char name[64];
    char kind; /* 'i' integer, 't' text, 'b' bytes (as db_column_kind) */
};

static const char *kind_name(char kind)
{
    return kind == 'i' ? "an integer" : kind == 'b' ? "bytes" : kind == 't' ? "text" : "null";
}

/* The database o names, as store_open_at picks it. Caller frees. */
static char *transfer_target(const struct store_options *o)
{
    if (o->database && *o->database)
        return xstrdup(o->database);
    size_t n = strlen(o->data_dir) + sizeof "/switchboard.db";
    char *t = xmalloc(n);
    snprintf(t, n, "%s/switchboard.db", o->data_dir);
    return t;
}

/* ---- the catalog ---- */

/* The names of the database's tables (the schema version's own table left out): a JSON array
 * of strings (caller decrefs), or NULL with err. */
static json_t *catalog_tables(struct db *db, char *err, size_t len)
{
    const char *sql =
        db_backend(db) == DB_POSTGRES
            ? "SELECT table_name FROM information_schema.tables WHERE table_schema = "
              "current_schema() AND table_type = 'BASE TABLE' AND table_name <> "
              "'schema_version' ORDER BY 1"
            : "SELECT name FROM sqlite_master WHERE type = 'table' AND substr(name, 1, 7) <> "
              "'sqlite_' ORDER BY 1";
    struct db_stmt *s = db_adhoc(db, sql);
    if (!s) {
        snprintf(err, len, "cannot list the tables: %s", db_errmsg(db));
        return NULL;
    }
    json_t *names = json_array();
    int rc;
    while ((rc = db_step(s)) == DB_ROW)
        json_array_append_new(names, json_string(db_text(s, 0)));
    db_adhoc_free(s);
    if (rc < 0) {
        snprintf(err, len, "cannot list the tables: %s", db_errmsg(db));
        json_decref(names);
        return NULL;
    }
    return names;
}

static bool has_name(json_t *names, const char *name)
{
    size_t i;
    json_t *v;
    json_array_foreach(names, i, v)
    {
        if (!strcmp(json_string_value(v), name))
            return true;
    }
    return false;
}

/* The kind of value a declared column type holds. */
static char kind_of_type(const char *type)
{
    char low[64];
    size_t i = 0;
    for (; type[i] && i + 1 < sizeof low; i++)
        low[i] = (char)(type[i] >= 'A' && type[i] <= 'Z' ? type[i] - 'A' + 'a' : type[i]);
    low[i] = '\0';
    if (strstr(low, "int"))
        return 'i';
    if (strstr(low, "blob") || strstr(low, "bytea"))
        return 'b';
    return 't';
}

/* Whether s is a plain lower-case SQL identifier (safe to write into a statement). */
static bool is_identifier(const char *s)
{
    if (!*s || strlen(s) >= sizeof((struct column *)0)->name)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
            return false;
    return true;
}

/* The columns of table in db, in their declared order: how many, or -1 with err. */
static int catalog_columns(struct db *db, const char *table, struct column cols[], char *err,
                           size_t len)
{
    const char *sql = db_backend(db) == DB_POSTGRES
                          ? "SELECT column_name, data_type FROM information_schema.columns WHERE "
                            "table_schema = current_schema() AND table_name = ?1 ORDER BY "
                            "ordinal_position"
                          : "SELECT name, type FROM pragma_table_info(?1) ORDER BY cid";
    struct db_stmt *s = db_adhoc(db, sql);
    if (!s) {
        snprintf(err, len, "cannot read the columns of %s: %s", table, db_errmsg(db));
        return -1;
    }
    db_bind_text(s, 1, table);
    int n = 0, rc;
    while ((rc = db_step(s)) == DB_ROW) {
        const char *name = db_text(s, 0);
        if (n == TRANSFER_COLUMNS_MAX || !is_identifier(name)) {
            if (n == TRANSFER_COLUMNS_MAX)
                snprintf(err, len, "table %s has more than %d columns", table,
                         TRANSFER_COLUMNS_MAX);
            else
                snprintf(err, len, "table %s has a column named '%.64s'", table, name);
            db_adhoc_free(s);
            return -1;
        }
        snprintf(cols[n].name, sizeof cols[n].name, "%s", name);
        cols[n].kind = kind_of_type(db_text(s, 1));
        n++;
    }
    db_adhoc_free(s);
    if (rc < 0 || n == 0) {
        snprintf(err, len, "cannot read the columns of %s: %s", table,
                 rc < 0 ? db_errmsg(db) : "no such table");
        return -1;
    }
    return n;
}

static int column_index(const struct column cols[], int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(cols[i].name, name))
            return i;
    return -1;
}

/* -ERR_CONFLICT with err when table has a row, else 0 (or -ERR_x with err). */
static int check_empty(struct db *db, const char *table, char *err, size_t len)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT 1 FROM %s LIMIT 1", table);
    struct db_stmt *s = db_adhoc(db, sql);
    int rc = s ? db_step(s) : -ERR_INTERNAL;
    db_adhoc_free(s);
    if (rc == DB_ROW) {
        snprintf(err, len,
                 "the database is not empty (table %s has rows): import only into a new "
                 "database",
                 table);
        return -ERR_CONFLICT;
    }
    if (rc < 0)
        snprintf(err, len, "cannot read table %s: %s", table, db_errmsg(db));
    return rc < 0 ? rc : 0;
}

/* ---- export ---- */

static int write_line(FILE *out, json_t *v, char *err, size_t len)
{
    if (json_dumpf(v, out, JSON_COMPACT | JSON_ENCODE_ANY) || fputc('\n', out) == EOF) {
        snprintf(err, len, "cannot write the export: %s", strerror(errno));
        return -ERR_INTERNAL;
    }
    return 0;
}

/* Column c of the current row of s as JSON (a new reference), or NULL with err. */
static json_t *export_value(struct db_stmt *s, int c, const struct column *col, char *err,
                            size_t len)
{
    char kind = db_column_kind(s, c);
    if (kind == 'n')
        return json_null();
    if (kind != col->kind) {
        snprintf(err, len, "column %s holds %s where its type says %s", col->name, kind_name(kind),
                 kind_name(col->kind));
        return NULL;
    }
    if (kind == 'i')
        return json_integer(db_int64(s, c));
    if (kind == 'b') {
        size_t n;
        const void *p = db_blob(s, c, &n);
        size_t b64len = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
        char *b64 = xmalloc(b64len);
        sodium_bin2base64(b64, b64len, p ? p : "", n, sodium_base64_VARIANT_ORIGINAL);
        json_t *v = json_pack("{s:s}", "base64", b64);
        free(b64);
        return v;
    }
    json_t *v = json_string(db_text(s, c));
    if (!v)
        snprintf(err, len, "column %s holds text that is not UTF-8", col->name);
    return v;
}

/* The primary key of the last row written, where the next page starts. */
struct page_key {
    int col[TRANSFER_KEY_MAX]; /* the key's columns (indexes) */
    int n;
    int64_t num[TRANSFER_KEY_MAX];
    char *text[TRANSFER_KEY_MAX]; /* owned */
};

/* The key of the current row of s for messages: "id 12", "connector_id 3, key 'x'". */
static void describe_key(struct db_stmt *s, const struct column cols[], const struct page_key *key,
                         char *out, size_t n)
{
    size_t k = 0;
    out[0] = '\0';
    for (int i = 0; i < key->n && k < n; i++) {
        int c = key->col[i];
        int w = cols[c].kind == 'i' ? snprintf(out + k, n - k, "%s%s %lld", i ? ", " : "",
                                               cols[c].name, (long long)db_int64(s, c))
                                    : snprintf(out + k, n - k, "%s%s '%.40s'", i ? ", " : "",
                                               cols[c].name, db_text(s, c));
        k += w > 0 ? (size_t)w : 0;
    }
}

/* Writes the rows s gives, remembering the key of the last: how many, or -ERR_x with err. */
static int export_page(struct db *db, struct db_stmt *s, const struct transfer_table *t,
                       const struct column cols[], int ncols, struct page_key *key, FILE *out,
                       char *err, size_t len)
{
    int rows = 0, rc;
    while ((rc = db_step(s)) == DB_ROW) {
        json_t *row = json_array();
        char why[256];
        int bad = 0;
        for (int c = 0; c < ncols && !bad; c++) {
            json_t *v = export_value(s, c, &cols[c], why, sizeof why);
            if (!v) {
                char at[160];
                describe_key(s, cols, key, at, sizeof at);
                snprintf(err, len, "table %s, row %s: %s", t->name, at, why);
                bad = -ERR_INTERNAL;
            }
            json_array_append_new(row, v);
        }
        bad = bad ? bad : write_line(out, row, err, len);
        json_decref(row);
        if (bad) {
            db_reset(s);
            return bad;
        }
        for (int k = 0; k < key->n; k++) {
            if (cols[key->col[k]].kind == 'i') {
                key->num[k] = db_int64(s, key->col[k]);
            } else {
                free(key->text[k]);
                key->text[k] = xstrdup(db_text(s, key->col[k]));
            }
        }
        rows++;
    }
    db_reset(s);
    if (rc < 0) {
        snprintf(err, len, "cannot read table %s: %s", t->name, db_errmsg(db));
        return rc;
    }
    return rows;
}

/* Writes table t: its line, then its rows a page at a time (each page starts after the key of
 * the last row of the one before, so no read holds more than a page). Adds the rows to *total.
 * 0, or -ERR_x with err. */
static int export_table(struct db *db, const struct transfer_table *t, FILE *out, int64_t *total,
                        char *err, size_t len)
{
    struct column cols[TRANSFER_COLUMNS_MAX];
    int ncols = catalog_columns(db, t->name, cols, err, len);
    if (ncols < 0)
        return -ERR_INTERNAL;
    struct page_key key = {.n = 0};
    for (; key.n < TRANSFER_KEY_MAX && t->key[key.n]; key.n++) {
        key.col[key.n] = column_index(cols, ncols, t->key[key.n]);
        BUG_ON(key.col[key.n] < 0); /* tables[] names the schema's keys */
    }
    json_t *names = json_array();
    for (int c = 0; c < ncols; c++)
        json_array_append_new(names, json_string(cols[c].name));
    json_t *head = json_pack("{s:s, s:o}", "table", t->name, "columns", names);
    int rc = write_line(out, head, err, len);
    json_decref(head);
    if (rc)
        return rc;

    /* SELECT c1, c2 FROM t [WHERE (k1, k2) > (?1, ?2)] ORDER BY k1, k2 LIMIT page */
    int page = t->page ? t->page : TRANSFER_PAGE;
    struct buf select, order, first, next;
    buf_init(&select, 4096);
    buf_init(&order, 256);
    buf_init(&first, 4096);
    buf_init(&next, 4096);
    buf_printf(&select, "SELECT ");
    for (int c = 0; c < ncols; c++)
        buf_printf(&select, "%s%s", c ? ", " : "", cols[c].name);
    buf_printf(&select, " FROM %s", t->name);
    for (int k = 0; k < key.n; k++)
        buf_printf(&order, "%s%s", k ? ", " : "", t->key[k]);
    buf_printf(&first, "%s ORDER BY %s LIMIT %d", select.data, order.data, page);
    if (key.n == 1) {
        buf_printf(&next, "%s WHERE %s > ?1", select.data, order.data);
    } else {
        buf_printf(&next, "%s WHERE (%s) > (", select.data, order.data);
        for (int k = 0; k < key.n; k++)
            buf_printf(&next, "%s?%d", k ? ", " : "", k + 1);
        buf_printf(&next, ")");
    }
    buf_printf(&next, " ORDER BY %s LIMIT %d", order.data, page);
    struct db_stmt *s = db_adhoc(db, first.data), *more = s ? db_adhoc(db, next.data) : NULL;
    if (!more) {
        snprintf(err, len, "cannot read table %s: %s", t->name, db_errmsg(db));
        rc = -ERR_INTERNAL;
        goto out;
    }
    for (struct db_stmt *cur = s;; cur = more) {
        rc = export_page(db, cur, t, cols, ncols, &key, out, err, len);
        if (rc < 0)
            goto out;
        *total += rc;
        if (rc < page)
            break;
        for (int k = 0; k < key.n; k++) {
            if (cols[key.col[k]].kind == 'i')
                db_bind_int64(more, k + 1, key.num[k]);
            else
                db_bind_text(more, k + 1, key.text[k]);
        }
    }
    rc = 0;
out:
    db_adhoc_free(more);
    db_adhoc_free(s);
    for (int k = 0; k < key.n; k++)
        free(key.text[k]);
    buf_release(&select);
    buf_release(&order);
    buf_release(&first);
    buf_release(&next);
    return rc;
}

/* Writes the whole stream from db, inside the caller's read transaction. */
static int export_all(struct db *db, FILE *out, char *err, size_t len)
{
    json_t *names = catalog_tables(db, err, len);
    if (!names)
        return -ERR_INTERNAL;
    size_t i;
    json_t *v;
    json_array_foreach(names, i, v)
    {
        const char *name = json_string_value(v);
        size_t t = 0, k = 0;
        while (t < N_TABLES && strcmp(tables[t].name, name))
            t++;
        while (k < sizeof transient / sizeof transient[0] && strcmp(transient[k], name))
            k++;
        if (t == N_TABLES && k == sizeof transient / sizeof transient[0]) {
            snprintf(err, len,
                     "the database has a table the export does not know: %s (add it to "
                     "src/store/transfer.c)",
                     name);
            json_decref(names);
            return -ERR_INTERNAL;
        }
    }
    json_decref(names);
    json_t *head = json_object();
    json_object_set_new(head, "switchboard_export", json_integer(TRANSFER_FORMAT));
    json_object_set_new(head, "schema", json_integer(store_schema_version()));
    json_object_set_new(head, "backend",
                        json_string(db_backend(db) == DB_POSTGRES ? "postgres" : "sqlite"));
    int rc = write_line(out, head, err, len);
    json_decref(head);
    int64_t total = 0;
    for (size_t t = 0; t < N_TABLES && !rc; t++)
        rc = export_table(db, &tables[t], out, &total, err, len);
    if (rc)
        return rc;
    json_t *end = json_pack("{s:b, s:I}", "end", 1, "rows", (json_int_t)total);
    rc = write_line(out, end, err, len);
    json_decref(end);
    return rc;
}

int store_export(const struct store_options *o, FILE *out, char *err, size_t len)
{
    char *target = transfer_target(o);
    struct db *db = NULL;
    struct stat sb;
    int rc;
    if (db_backend_of(target) == DB_SQLITE && stat(target, &sb)) {
        snprintf(err, len, "cannot export '%s': %s", target, strerror(errno));
        rc = -ERR_NOT_FOUND;
        goto out_free;
    }
    if ((rc = db_open(&db, target, err, len)))
        goto out_free;
    if (store_migrate(db, false, err, len)) {
        rc = -ERR_INTERNAL;
        goto out_close;
    }
    /* one snapshot: every table as of one moment, whatever a running server commits */
    bool pg = db_backend(db) == DB_POSTGRES;
    if ((rc = db_exec(db, pg ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" : "BEGIN"))) {
        snprintf(err, len, "cannot start reading: %s", db_errmsg(db));
        goto out_close;
    }
    rc = export_all(db, out, err, len);
    db_exec(db, "ROLLBACK"); /* it only read */
    if (!rc && fflush(out)) {
        snprintf(err, len, "cannot write the export: %s", strerror(errno));
        rc = -ERR_INTERNAL;
    }
out_close:
    db_close(db);
out_free:
    free(target);
    return rc;
}

/* ---- import ---- */

struct importer {
    struct db *db;
    FILE *in;
    struct buf line;        /* the current line, without its '\n' */
    long long no;           /* its number, from 1 */
    size_t table;           /* the index in tables[] of the next table expected */
    struct db_stmt *insert; /* into the current table (tables[table - 1]), NULL before the first */
    struct column cols[TRANSFER_COLUMNS_MAX]; /* the current table's, in the stream's order */
    int ncols;
    int64_t rows; /* inserted so far */
};

/* Reads the next line as one JSON value into *out (a new reference): 1, 0 at the end of the
 * stream, or -ERR_BAD_REQUEST / -ERR_INTERNAL with err. */
static int stream_next(struct importer *im, json_t **out, char *err, size_t len)
{
    char chunk[65536];
    bool any = false;
    im->line.len = 0;
    buf_append(&im->line, "", 0);
    while (fgets(chunk, sizeof chunk, im->in)) {
        any = true;
        size_t n = strlen(chunk);
        bool eol = n && chunk[n - 1] == '\n';
        if (buf_append(&im->line, chunk, n - eol)) {
            snprintf(err, len, "line %lld: longer than %u MiB", im->no + 1,
                     TRANSFER_LINE_MAX >> 20);
            return -ERR_BAD_REQUEST;
        }
        if (eol)
            break;
    }
    if (ferror(im->in)) {
        snprintf(err, len, "cannot read the stream: %s", strerror(errno));
        return -ERR_INTERNAL;
    }
    if (!any)
        return 0;
    im->no++;
    json_error_t jerr;
    *out = json_loadb(im->line.data, im->line.len, JSON_REJECT_DUPLICATES, &jerr);
    if (!*out) {
        snprintf(err, len, "line %lld: %s", im->no,
                 im->line.len ? jerr.text : "empty (one JSON value per line expected)");
        return -ERR_BAD_REQUEST;
    }
    return 1;
}

/* Reads and checks the stream's first line. */
static int import_header(struct importer *im, char *err, size_t len)
{
    json_t *h = NULL;
    int rc = stream_next(im, &h, err, len);
    if (rc <= 0) {
        if (!rc)
            snprintf(err, len, "the stream is empty");
        return rc ? rc : -ERR_BAD_REQUEST;
    }
    json_int_t format, schema;
    const char *backend;
    rc = -ERR_BAD_REQUEST;
    if (json_unpack(h, "{s:I, s:I, s:s}", "switchboard_export", &format, "schema", &schema,
                    "backend", &backend))
        snprintf(err, len, "line 1: not the start of a switchboard export");
    else if (format != TRANSFER_FORMAT)
        snprintf(err, len, "line 1: export format %lld; this switchboard reads format %d",
                 (long long)format, TRANSFER_FORMAT);
    else if (schema != store_schema_version())
        snprintf(err, len,
                 "line 1: the export has schema version %lld and this switchboard %d: import "
                 "it with the version of switchboard that wrote it",
                 (long long)schema, store_schema_version());
    else
        rc = 0;
    json_decref(h);
    return rc;
}

/* A line {"table":..., "columns":[...]}: checks it names the next table and exactly its
 * columns, and prepares the insert of its rows. */
static int import_table(struct importer *im, json_t *v, char *err, size_t len)
{
    const char *name = json_string_value(json_object_get(v, "table"));
    json_t *names = json_object_get(v, "columns");
    if (!name || !json_is_array(names) || json_object_size(v) != 2) {
        snprintf(err, len, "line %lld: a table's line has \"table\" and \"columns\" only", im->no);
        return -ERR_BAD_REQUEST;
    }
    if (im->table == N_TABLES || strcmp(name, tables[im->table].name)) {
        if (im->table == N_TABLES)
            snprintf(err, len, "line %lld: table '%.64s' after the last table", im->no, name);
        else
            snprintf(err, len,
                     "line %lld: table '%.64s' where %s comes (tables are in a fixed order)",
                     im->no, name, tables[im->table].name);
        return -ERR_BAD_REQUEST;
    }
    db_adhoc_free(im->insert);
    im->insert = NULL;
    const char *table = tables[im->table++].name;
    struct column have[TRANSFER_COLUMNS_MAX];
    int n = catalog_columns(im->db, table, have, err, len);
    if (n < 0)
        return -ERR_INTERNAL;
    if (json_array_size(names) != (size_t)n) {
        snprintf(err, len, "line %lld: table %s has %zu columns in the stream and %d here", im->no,
                 table, json_array_size(names), n);
        return -ERR_BAD_REQUEST;
    }
    bool seen[TRANSFER_COLUMNS_MAX] = {false};
    for (int i = 0; i < n; i++) {
        const char *c = json_string_value(json_array_get(names, (size_t)i));
        int at = c ? column_index(have, n, c) : -1;
        if (at < 0 || seen[at]) {
            snprintf(err, len, "line %lld: table %s has no column '%.64s'%s", im->no, table,
                     c ? c : "(not a string)", at < 0 ? "" : " twice");
            return -ERR_BAD_REQUEST;
        }
        seen[at] = true;
        im->cols[i] = have[at];
    }
    im->ncols = n;
    struct buf sql;
    buf_init(&sql, 4096);
    buf_printf(&sql, "INSERT INTO %s(", table);
    for (int i = 0; i < n; i++)
        buf_printf(&sql, "%s%s", i ? ", " : "", im->cols[i].name);
    buf_printf(&sql, ") VALUES(");
    for (int i = 0; i < n; i++)
        buf_printf(&sql, "%s?%d", i ? ", " : "", i + 1);
    buf_printf(&sql, ")");
    im->insert = db_adhoc(im->db, sql.data);
    buf_release(&sql);
    if (!im->insert) {
        snprintf(err, len, "cannot insert into %s: %s", table, db_errmsg(im->db));
        return -ERR_INTERNAL;
    }
    return 0;
}

/* The bytes of {"base64":"..."}: a buffer the caller frees (never NULL) and *n, or NULL when v
 * is not that. */
static unsigned char *base64_value(json_t *v, size_t *n)
{
    json_t *text = json_object_get(v, "base64");
    if (!json_is_string(text) || json_object_size(v) != 1)
        return NULL;
    size_t tlen = json_string_length(text), max = tlen / 4 * 3 + 3;
    unsigned char *bin = xmalloc(max);
    const char *b64 = json_string_value(text), *end = NULL;
    if (sodium_base642bin(bin, max, b64, tlen, NULL, n, &end, sodium_base64_VARIANT_ORIGINAL) ||
        end != b64 + tlen) {
        free(bin);
        return NULL;
    }
    return bin;
}

/* A row: binds each value by its column's kind and inserts it. */
static int import_row(struct importer *im, json_t *row, char *err, size_t len)
{
    if (!im->insert) {
        snprintf(err, len, "line %lld: a row before the first table's line", im->no);
        return -ERR_BAD_REQUEST;
    }
    const char *table = tables[im->table - 1].name;
    if (json_array_size(row) != (size_t)im->ncols) {
        snprintf(err, len, "line %lld: %zu values for the %d columns of %s", im->no,
                 json_array_size(row), im->ncols, table);
        return -ERR_BAD_REQUEST;
    }
    unsigned char *bytes[TRANSFER_COLUMNS_MAX] = {NULL};
    int rc = 0;
    for (int i = 0; i < im->ncols && !rc; i++) {
        json_t *v = json_array_get(row, (size_t)i);
        const struct column *c = &im->cols[i];
        size_t n;
        if (json_is_null(v))
            db_bind_text(im->insert, i + 1, NULL);
        else if (c->kind == 'i' && json_is_integer(v))
            db_bind_int64(im->insert, i + 1, json_integer_value(v));
        else if (c->kind == 't' && json_is_string(v) &&
                 strlen(json_string_value(v)) == json_string_length(v))
            db_bind_text(im->insert, i + 1, json_string_value(v));
        else if (c->kind == 'b' && (bytes[i] = base64_value(v, &n)))
            db_bind_blob(im->insert, i + 1, bytes[i], n);
        else
            rc = -ERR_BAD_REQUEST;
        if (rc)
            snprintf(err, len, "line %lld: column %s of %s takes %s%s or null", im->no, c->name,
                     table, c->kind == 'b' ? "{\"base64\": ...} for " : "", kind_name(c->kind));
    }
    if (!rc && (rc = db_run(im->insert)))
        snprintf(err, len, "line %lld: cannot insert into %s: %s", im->no, table,
                 db_errmsg(im->db));
    for (int i = 0; i < im->ncols; i++)
        free(bytes[i]);
    if (!rc)
        im->rows++;
    return rc;
}

/* The last line {"end":true,"rows":N}: every table came, N rows, and nothing follows. */
static int import_end(struct importer *im, json_t *v, char *err, size_t len)
{
    json_t *rows = json_object_get(v, "rows");
    if (!json_is_true(json_object_get(v, "end")) || !json_is_integer(rows) ||
        json_object_size(v) != 2) {
        snprintf(err, len, "line %lld: the end line is {\"end\":true,\"rows\":N}", im->no);
        return -ERR_BAD_REQUEST;
    }
    if (im->table < N_TABLES) {
        snprintf(err, len, "line %lld: the stream ends before table %s", im->no,
                 tables[im->table].name);
        return -ERR_BAD_REQUEST;
    }
    if (json_integer_value(rows) != im->rows) {
        snprintf(err, len,
                 "line %lld: the end line counts %lld rows but the stream has %lld (was it "
                 "damaged?)",
                 im->no, (long long)json_integer_value(rows), (long long)im->rows);
        return -ERR_BAD_REQUEST;
    }
    long long end = im->no;
    json_t *more = NULL;
    int rc = stream_next(im, &more, err, len);
    json_decref(more);
    if (rc > 0 || (rc < 0 && im->no > end)) {
        snprintf(err, len, "line %lld: more after the end line (line %lld)", im->no, end);
        return -ERR_BAD_REQUEST;
    }
    return rc;
}

/* Every line after the first, inserted as it comes. */
static int import_rows(struct importer *im, char *err, size_t len)
{
    for (;;) {
        json_t *v = NULL;
        int rc = stream_next(im, &v, err, len);
        if (rc == 0)
            snprintf(err, len, "the stream stops at line %lld without its end line (cut short?)",
                     im->no);
        if (rc <= 0)
            return rc ? rc : -ERR_BAD_REQUEST;
        bool done = false;
        if (json_is_array(v)) {
            rc = import_row(im, v, err, len);
        } else if (json_is_object(v) && json_object_get(v, "table")) {
            rc = import_table(im, v, err, len);
        } else if (json_is_object(v) && json_object_get(v, "end")) {
            rc = import_end(im, v, err, len);
            done = true;
        } else {
            snprintf(err, len, "line %lld: neither a table's line, a row nor the end line", im->no);
            rc = -ERR_BAD_REQUEST;
        }
        json_decref(v);
        if (rc || done)
            return rc;
    }
}

/* PostgreSQL: moves every identity column's sequence past the ids imported (SQLite's rowids
 * follow the largest id by themselves). */
static int import_sequences(struct importer *im, char *err, size_t len)
{
    for (size_t t = 0; t < N_TABLES; t++) {
        if (strcmp(tables[t].key[0], "id") || tables[t].key[1])
            continue;
        char sql[256];
        /* NULL for an id that is no identity (messages): setval is strict and does nothing */
        snprintf(sql, sizeof sql,
                 "SELECT setval(pg_get_serial_sequence('%s', 'id'), coalesce(max(id), 0) + 1, "
                 "false) FROM %s",
                 tables[t].name, tables[t].name);
        if (db_exec(im->db, sql)) {
            snprintf(err, len, "cannot set the ids of %s: %s", tables[t].name, db_errmsg(im->db));
            return -ERR_INTERNAL;
        }
    }
    return 0;
}

/* mkdir -p dir (mode 0700, as the store makes its data directory). */
static int make_dir(const char *dir, char *err, size_t len)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path) {
        snprintf(err, len, "data directory path too long");
        return -ERR_INTERNAL;
    }
    for (char *p = path + 1;; p++) {
        bool end = *p == '\0';
        if (*p == '/' || end) {
            *p = '\0';
            if (mkdir(path, 0700) && errno != EEXIST) {
                snprintf(err, len, "cannot create '%s': %s", path, strerror(errno));
                return -ERR_INTERNAL;
            }
            if (end)
                return 0;
            *p = '/';
        }
    }
}

/* Refuses a database holding users or events before a migration writes to it. */
static int check_unused(struct db *db, char *err, size_t len)
{
    json_t *names = catalog_tables(db, err, len);
    if (!names)
        return -ERR_INTERNAL;
    int rc = 0;
    if (has_name(names, "users"))
        rc = check_empty(db, "users", err, len);
    if (!rc && has_name(names, "events"))
        rc = check_empty(db, "events", err, len);
    json_decref(names);
    return rc;
}

int store_import(const struct store_options *o, FILE *in, char *err, size_t len)
{
    struct importer im = {.in = in};
    buf_init(&im.line, TRANSFER_LINE_MAX);
    char *target = transfer_target(o);
    bool pg = db_backend_of(target) == DB_POSTGRES;
    int rc = import_header(&im, err, len);
    if (rc || (!pg && (rc = make_dir(o->data_dir, err, len))))
        goto out_free;
    if ((rc = db_open(&im.db, target, err, len)))
        goto out_free;
    if ((rc = check_unused(im.db, err, len)))
        goto out_close;
    if (store_migrate(im.db, true, err, len)) {
        rc = -ERR_INTERNAL;
        goto out_close;
    }
    if ((rc = db_exec(im.db, pg ? "BEGIN" : "BEGIN IMMEDIATE"))) {
        snprintf(err, len, "cannot start the import: %s", db_errmsg(im.db));
        goto out_close;
    }
    /* every table empty but seq_counter, whose one row the migration made (the stream has it) */
    for (size_t t = 0; t < N_TABLES && !rc; t++)
        if (strcmp(tables[t].name, "seq_counter"))
            rc = check_empty(im.db, tables[t].name, err, len);
    if (!rc && (rc = db_exec(im.db, "DELETE FROM seq_counter")))
        snprintf(err, len, "cannot clear seq_counter: %s", db_errmsg(im.db));
    if (!rc)
        rc = import_rows(&im, err, len);
    if (!rc && pg)
        rc = import_sequences(&im, err, len);
    db_adhoc_free(im.insert);
    if (rc) {
        db_exec(im.db, "ROLLBACK");
        goto out_close;
    }
    if ((rc = db_exec(im.db, "COMMIT"))) {
        snprintf(err, len, "cannot commit the import: %s", db_errmsg(im.db));
        goto out_close;
    }
    if (!pg)
        db_sqlite_checkpoint(im.db, true); /* the store runs its checkpoints, not SQLite */
out_close:
    db_close(im.db);
out_free:
    buf_release(&im.line);
    free(target);
    return rc;
}
