/* db.c: the SQL layer's entry points (db.h), each handing over to the connection's backend, and
 * the statement tables of both dialects. */
#include "db_impl.h"

#include <string.h>

const char *const db_sql_sqlite[SQL__COUNT] = {
#define SQL(id, text) [SQL_##id] = text,
#define SQLX(id, sqlite_text, postgres_text) [SQL_##id] = sqlite_text,
#include "statements.def"
#undef SQL
#undef SQLX
};

const char *const db_sql_postgres[SQL__COUNT] = {
#define SQL(id, text) [SQL_##id] = text,
#define SQLX(id, sqlite_text, postgres_text) [SQL_##id] = postgres_text,
#include "statements.def"
#undef SQL
#undef SQLX
};

enum db_backend db_backend_of(const char *target)
{
    return !strncmp(target, "postgres://", 11) || !strncmp(target, "postgresql://", 13)
               ? DB_POSTGRES
               : DB_SQLITE;
}

int db_open(struct db **out, const char *target, char *errmsg, size_t errlen)
{
    const struct db_ops *ops =
        db_backend_of(target) == DB_POSTGRES ? &db_postgres_ops : &db_sqlite_ops;
    return ops->open(out, target, errmsg, errlen);
}

void db_close(struct db *db)
{
    if (db)
        db->ops->close(db);
}

enum db_backend db_backend(const struct db *db)
{
    return db->ops->backend;
}

const char *db_errmsg(struct db *db)
{
    return db->ops->errmsg(db);
}

bool db_alive(struct db *db)
{
    return db->ops->alive(db);
}

struct db_stmt *db_stmt(struct db *db, enum sql_id id)
{
    return db->ops->stmt(db, id);
}

void db_bind_int64(struct db_stmt *s, int param, int64_t v)
{
    s->ops->bind_int64(s, param, v);
}

void db_bind_text(struct db_stmt *s, int param, const char *v)
{
    s->ops->bind_text(s, param, v);
}

void db_bind_blob(struct db_stmt *s, int param, const void *p, size_t n)
{
    s->ops->bind_blob(s, param, p, n);
}

int db_step(struct db_stmt *s)
{
    return s->ops->step(s);
}

void db_reset(struct db_stmt *s)
{
    s->ops->reset(s);
}

int db_run(struct db_stmt *s)
{
    int rc = s->ops->step(s);
    s->ops->reset(s);
    return rc < 0 ? rc : 0;
}

int db_int64_of(struct db_stmt *s, int64_t *out)
{
    int rc = s->ops->step(s);
    if (rc == DB_ROW)
        *out = s->ops->int64(s, 0);
    s->ops->reset(s);
    return rc == DB_ROW ? 0 : rc == DB_DONE ? -ERR_NOT_FOUND : rc;
}

bool db_null(struct db_stmt *s, int col)
{
    return s->ops->null(s, col);
}

int64_t db_int64(struct db_stmt *s, int col)
{
    return s->ops->int64(s, col);
}

const char *db_text_null(struct db_stmt *s, int col)
{
    return s->ops->text_null(s, col);
}

const char *db_text(struct db_stmt *s, int col)
{
    const char *t = s->ops->text_null(s, col);
    return t ? t : "";
}

const void *db_blob(struct db_stmt *s, int col, size_t *len)
{
    return s->ops->blob(s, col, len);
}

int db_columns(struct db_stmt *s)
{
    return s->ops->columns(s);
}

const char *db_column_name(struct db_stmt *s, int col)
{
    return s->ops->column_name(s, col);
}

char db_column_kind(struct db_stmt *s, int col)
{
    return s->ops->column_kind(s, col);
}

int db_exec(struct db *db, const char *sql)
{
    return db->ops->exec(db, sql);
}

struct db_stmt *db_adhoc(struct db *db, const char *sql)
{
    return db->ops->adhoc(db, sql);
}

void db_adhoc_free(struct db_stmt *s)
{
    if (s)
        s->ops->adhoc_free(s);
}
