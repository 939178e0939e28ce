/* sqlite.c: the SQL layer over SQLite (db.h). Every connection runs in WAL mode with
 * synchronous=FULL and foreign keys on; automatic checkpoints are off (the checkpointer in
 * writer.c runs them beside the commit path). Statements are prepared once per connection,
 * persistent, on first use. */
#include "db_impl.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sq_stmt {
    struct db_stmt base;
    struct sq_db *db;
    sqlite3_stmt *s;
};

struct sq_db {
    struct db base;
    sqlite3 *db;
    struct sq_stmt stmt[SQL__COUNT]; /* s == NULL until first use */
    int *wal_frames;                 /* db_sqlite_watch_wal */
};

/* SQLite's result codes as the store's errors. */
static int sq_error(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
        return -ERR_CONFLICT;
    case SQLITE_FULL:
    case SQLITE_IOERR: /* a full disk shows as either */
        return -ERR_STORAGE_FULL;
    default:
        return -ERR_INTERNAL;
    }
}

static int sq_open(struct db **out, const char *path, char *errmsg, size_t errlen)
{
    struct sq_db *c = xcalloc(1, sizeof *c);
    c->base.ops = &db_sqlite_ops;
    int rc = sqlite3_open_v2(
        path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        snprintf(errmsg, errlen, "cannot open '%s': %s", path,
                 c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
        goto fail;
    }
    sqlite3_busy_timeout(c->db, 10000);
    rc = sqlite3_exec(c->db,
                      "PRAGMA journal_mode = WAL;"
                      "PRAGMA synchronous = FULL;"
                      "PRAGMA foreign_keys = ON;"
                      "PRAGMA wal_autocheckpoint = 0;"
                      "PRAGMA journal_size_limit = 67108864;",
                      NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        snprintf(errmsg, errlen, "cannot set up '%s': %s", path, sqlite3_errmsg(c->db));
        goto fail;
    }
    for (int i = 0; i < SQL__COUNT; i++) {
        c->stmt[i].base.ops = &db_sqlite_ops;
        c->stmt[i].db = c;
    }
    *out = &c->base;
    return 0;
fail:
    sqlite3_close(c->db);
    free(c);
    return -ERR_INTERNAL;
}

static void sq_close(struct db *db)
{
    struct sq_db *c = (struct sq_db *)db;
    for (int i = 0; i < SQL__COUNT; i++)
        sqlite3_finalize(c->stmt[i].s);
    sqlite3_close(c->db);
    free(c);
}

static const char *sq_errmsg(struct db *db)
{
    return sqlite3_errmsg(((struct sq_db *)db)->db);
}

static bool sq_alive(struct db *db)
{
    (void)db;
    return true; /* a file does not go away */
}

static struct db_stmt *sq_stmt(struct db *db, enum sql_id id)
{
    struct sq_db *c = (struct sq_db *)db;
    struct sq_stmt *st = &c->stmt[id];
    if (!st->s) {
        if (sqlite3_prepare_v3(c->db, db_sql_sqlite[id], -1, SQLITE_PREPARE_PERSISTENT, &st->s,
                               NULL) != SQLITE_OK) {
            log_error("cannot prepare '%s': %s", db_sql_sqlite[id], sqlite3_errmsg(c->db));
            BUG_ON(1); /* statements are constants: failing to prepare one is a bug */
        }
    }
    sqlite3_reset(st->s);
    sqlite3_clear_bindings(st->s);
    return &st->base;
}

static sqlite3_stmt *native(struct db_stmt *s)
{
    return ((struct sq_stmt *)s)->s;
}

static void sq_bind_int64(struct db_stmt *s, int param, int64_t v)
{
    sqlite3_bind_int64(native(s), param, v);
}

static void sq_bind_text(struct db_stmt *s, int param, const char *v)
{
    if (v)
        sqlite3_bind_text(native(s), param, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(native(s), param);
}

static void sq_bind_blob(struct db_stmt *s, int param, const void *p, size_t n)
{
    sqlite3_bind_blob64(native(s), param, p, n, SQLITE_STATIC);
}

static int sq_step(struct db_stmt *s)
{
    int rc = sqlite3_step(native(s));
    if (rc == SQLITE_ROW)
        return DB_ROW;
    if (rc == SQLITE_DONE)
        return DB_DONE;
    if ((rc & 0xff) != SQLITE_CONSTRAINT) /* conflicts are answers, not faults */
        log_error("sqlite: %s (%s)", sqlite3_errmsg(sqlite3_db_handle(native(s))),
                  sqlite3_sql(native(s)));
    return sq_error(rc);
}

static void sq_reset(struct db_stmt *s)
{
    sqlite3_reset(native(s));
}

static bool sq_null(struct db_stmt *s, int col)
{
    return sqlite3_column_type(native(s), col) == SQLITE_NULL;
}

static int64_t sq_int64(struct db_stmt *s, int col)
{
    return sqlite3_column_int64(native(s), col);
}

static const char *sq_text_null(struct db_stmt *s, int col)
{
    return (const char *)sqlite3_column_text(native(s), col);
}

static const void *sq_blob(struct db_stmt *s, int col, size_t *len)
{
    const void *p = sqlite3_column_blob(native(s), col);
    *len = (size_t)sqlite3_column_bytes(native(s), col);
    return p;
}

static int sq_columns(struct db_stmt *s)
{
    return sqlite3_column_count(native(s));
}

static const char *sq_column_name(struct db_stmt *s, int col)
{
    return sqlite3_column_name(native(s), col);
}

static char sq_column_kind(struct db_stmt *s, int col)
{
    switch (sqlite3_column_type(native(s), col)) {
    case SQLITE_NULL:
        return 'n';
    case SQLITE_INTEGER:
        return 'i';
    case SQLITE_BLOB:
        return 'b';
    default:
        return 't';
    }
}

static int sq_exec(struct db *db, const char *sql)
{
    int rc = sqlite3_exec(((struct sq_db *)db)->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : sq_error(rc);
}

static struct db_stmt *sq_adhoc(struct db *db, const char *sql)
{
    struct sq_db *c = (struct sq_db *)db;
    struct sq_stmt *st = xcalloc(1, sizeof *st);
    st->base.ops = &db_sqlite_ops;
    st->db = c;
    if (sqlite3_prepare_v2(c->db, sql, -1, &st->s, NULL) != SQLITE_OK) {
        log_error("cannot prepare '%s': %s", sql, sqlite3_errmsg(c->db));
        free(st);
        return NULL;
    }
    return &st->base;
}

static void sq_adhoc_free(struct db_stmt *s)
{
    sqlite3_finalize(native(s));
    free(s);
}

static int wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
    (void)db;
    (void)name;
    *(int *)arg = frames;
    return SQLITE_OK;
}

void db_sqlite_watch_wal(struct db *db, int *frames)
{
    BUG_ON(db->ops != &db_sqlite_ops);
    sqlite3_wal_hook(((struct sq_db *)db)->db, wal_hook, frames);
}

void db_sqlite_checkpoint(struct db *db, bool truncate)
{
    BUG_ON(db->ops != &db_sqlite_ops);
    sqlite3_wal_checkpoint_v2(((struct sq_db *)db)->db, NULL,
                              truncate ? SQLITE_CHECKPOINT_TRUNCATE : SQLITE_CHECKPOINT_PASSIVE,
                              NULL, NULL);
}

const struct db_ops db_sqlite_ops = {
    .backend = DB_SQLITE,
    .open = sq_open,
    .close = sq_close,
    .errmsg = sq_errmsg,
    .alive = sq_alive,
    .stmt = sq_stmt,
    .bind_int64 = sq_bind_int64,
    .bind_text = sq_bind_text,
    .bind_blob = sq_bind_blob,
    .step = sq_step,
    .reset = sq_reset,
    .null = sq_null,
    .int64 = sq_int64,
    .text_null = sq_text_null,
    .blob = sq_blob,
    .columns = sq_columns,
    .column_name = sq_column_name,
    .column_kind = sq_column_kind,
    .exec = sq_exec,
    .adhoc = sq_adhoc,
    .adhoc_free = sq_adhoc_free,
};
