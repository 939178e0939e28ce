/* db_impl.h: what the two SQL-layer implementations (sqlite.c, postgres.c) provide to db.c, the
 * dispatcher: a table of operations per backend. A connection and a statement of either backend
 * start with a pointer to their backend's table. */
#ifndef SB_STORE_DB_IMPL_H
#define SB_STORE_DB_IMPL_H

#include "db.h"

struct db_ops {
    enum db_backend backend;
    int (*open)(struct db **out, const char *target, char *errmsg, size_t errlen);
    void (*close)(struct db *db);
    const char *(*errmsg)(struct db *db);
    bool (*alive)(struct db *db);
    struct db_stmt *(*stmt)(struct db *db, enum sql_id id);
    void (*bind_int64)(struct db_stmt *s, int param, int64_t v);
    void (*bind_text)(struct db_stmt *s, int param, const char *v);
    void (*bind_blob)(struct db_stmt *s, int param, const void *p, size_t n);
    int (*step)(struct db_stmt *s);
    void (*reset)(struct db_stmt *s);
    bool (*null)(struct db_stmt *s, int col);
    int64_t (*int64)(struct db_stmt *s, int col);
    const char *(*text_null)(struct db_stmt *s, int col);
    const void *(*blob)(struct db_stmt *s, int col, size_t *len);
    int (*columns)(struct db_stmt *s);
    const char *(*column_name)(struct db_stmt *s, int col);
    char (*column_kind)(struct db_stmt *s, int col);
    int (*exec)(struct db *db, const char *sql);
    struct db_stmt *(*adhoc)(struct db *db, const char *sql);
    void (*adhoc_free)(struct db_stmt *s);
};

/* The first member of every backend's connection and statement. */
struct db {
    const struct db_ops *ops;
};
struct db_stmt {
    const struct db_ops *ops;
};

extern const struct db_ops db_sqlite_ops, db_postgres_ops;

/* The statements' texts, in SQLite's dialect and in PostgreSQL's (still with ?N parameters). */
extern const char *const db_sql_sqlite[SQL__COUNT];
extern const char *const db_sql_postgres[SQL__COUNT];

#endif
