/* db.h: the store's SQL layer — one small statement interface with two implementations,
 * SQLite (sqlite.c) and PostgreSQL over libpq (postgres.c). Everything above it (ops.c, reads.c,
 * rows.c, schema.c, writer.c) is written once against this interface.
 *
 * Statements are the constants of statements.def, named by enum sql_id and prepared lazily, once
 * per connection. Their text is written with SQLite's numbered parameters (?1, ?2, ...); the
 * PostgreSQL implementation turns them into $1, $2 when it prepares them. Where the dialects
 * differ (JSON functions, BEGIN IMMEDIATE) statements.def gives both texts.
 *
 * A connection is used by one thread at a time. Values bound with db_bind_text/db_bind_blob are
 * borrowed: they must stay valid until the statement is stepped for the first time. Column values
 * stay valid until the next db_step or db_reset of the same statement.
 *
 * Not for: anything outside src/store (the rest of the program sees store.h only). */
#ifndef SB_STORE_DB_H
#define SB_STORE_DB_H

#include "../base/base.h"

/* Every SQL statement the store runs. */
enum sql_id {
#define SQL(id, text) SQL_##id,
#define SQLX(id, sqlite_text, postgres_text) SQL_##id,
#include "statements.def"
#undef SQL
#undef SQLX
    SQL__COUNT
};

enum db_backend { DB_SQLITE, DB_POSTGRES };

/* db_step's results besides the errors (-ERR_CONFLICT for a constraint, -ERR_STORAGE_FULL for a
 * full or failing disk, -ERR_DB_UNAVAILABLE for a lost connection, -ERR_INTERNAL for the rest). */
enum { DB_DONE = 0, DB_ROW = 1 };

struct db;
struct db_stmt;

/* Which backend a --database target names: a postgres:// or postgresql:// URI, else a SQLite
 * file path. */
enum db_backend db_backend_of(const char *target);
/* Opens a connection to target (see db_backend_of) with the settings every connection needs.
 * 0, or -ERR_x with a message in errmsg. */
int db_open(struct db **out, const char *target, char *errmsg, size_t errlen);
void db_close(struct db *db); /* NULL: nothing */
enum db_backend db_backend(const struct db *db);
/* The last error of the connection, for logs. */
const char *db_errmsg(struct db *db);
/* Whether the connection is usable; a PostgreSQL connection that was lost is reconnected here
 * (at most once per call: the caller paces retries). */
bool db_alive(struct db *db);

/* The statement `id` of db, prepared on first use, reset and with no bindings (NULLs). */
struct db_stmt *db_stmt(struct db *db, enum sql_id id);
void db_bind_int64(struct db_stmt *s, int param, int64_t v);    /* params count from 1 */
void db_bind_text(struct db_stmt *s, int param, const char *v); /* NULL binds NULL */
void db_bind_blob(struct db_stmt *s, int param, const void *p, size_t n);
/* Runs the statement (first call) or moves to its next row: DB_ROW, DB_DONE or -ERR_x. */
int db_step(struct db_stmt *s);
/* Ends the statement's run (frees its result); bindings stay. */
void db_reset(struct db_stmt *s);
/* Steps a statement expected to finish without rows (or to be ignored): 0 or -ERR_x; resets. */
int db_run(struct db_stmt *s);
/* Runs s and reads column 0 of its first row as an integer: 0, -ERR_NOT_FOUND or -ERR_x; resets. */
int db_int64_of(struct db_stmt *s, int64_t *out);

bool db_null(struct db_stmt *s, int col); /* columns count from 0 */
int64_t db_int64(struct db_stmt *s, int col);
const char *db_text(struct db_stmt *s, int col);      /* "" when NULL */
const char *db_text_null(struct db_stmt *s, int col); /* NULL when NULL */
const void *db_blob(struct db_stmt *s, int col, size_t *len);
/* The number of columns and a column's name (for export). */
int db_columns(struct db_stmt *s);
const char *db_column_name(struct db_stmt *s, int col);
/* Whether a column holds an integer, text or bytes (for export): 'i', 't', 'b' or 'n' (NULL). */
char db_column_kind(struct db_stmt *s, int col);

/* Runs SQL text without parameters (several statements; DDL, migrations): 0 or -ERR_x. */
int db_exec(struct db *db, const char *sql);
/* A one-off statement with parameters (export and import): prepared, run, and freed with
 * db_adhoc_free. NULL on a syntax error (logged). */
struct db_stmt *db_adhoc(struct db *db, const char *sql);
void db_adhoc_free(struct db_stmt *s);

/* ---- SQLite only ---- */
/* After each commit: *frames = the WAL's size in frames. */
void db_sqlite_watch_wal(struct db *db, int *frames);
/* A passive checkpoint (copies what it can of the WAL into the database). */
void db_sqlite_checkpoint(struct db *db, bool truncate);

/* ---- PostgreSQL only: notifications between nodes ---- */
/* LISTEN on channel (a constant identifier): 0 or -ERR_x. */
int db_pg_listen(struct db *db, const char *channel);
/* NOTIFY channel with payload (outside any transaction): 0 or -ERR_x. */
int db_pg_notify(struct db *db, const char *channel, const char *payload);
/* Waits up to timeout_ms for a notification on a listening connection or for wake_fd (an
 * eventfd or pipe; -1: none) to become readable. Returns 1 when a notification arrived (all
 * pending ones are consumed; their payloads are not needed), 0 on timeout or wake_fd, or
 * -ERR_DB_UNAVAILABLE when the connection was lost. */
int db_pg_wait(struct db *db, int timeout_ms, int wake_fd);

#endif
