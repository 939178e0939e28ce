/* store_int.h: what the store's files share and nobody else sees: the SQLite connection wrapper
 * with its statement cache, the statement table, and the row-to-JSON builders. */
#ifndef SB_STORE_INT_H
#define SB_STORE_INT_H

#include "store.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>

/* Every SQL statement the store runs, prepared once per connection on first use. */
enum sql_id {
#define SQL(id, text) SQL_##id,
#include "statements.def"
#undef SQL
    SQL__COUNT
};

struct conn {
    sqlite3 *db;
    sqlite3_stmt *stmt[SQL__COUNT];
};

struct store {
    char *path;
    struct conn writer; /* used only by the writer thread */
    pthread_t writer_thread, checkpoint_thread;
    pthread_mutex_t mu;              /* guards the queue and the flags below */
    pthread_cond_t wake;             /* the writer waits on it for work */
    pthread_cond_t checkpoint_wake;  /* the checkpointer waits on it for a tick or for closing */
    struct store_write *head, *tail; /* queued writes, oldest first */
    bool closing;
    bool busy;           /* the writer holds a batch */
    pthread_cond_t idle; /* signalled when the writer finishes a batch */
    unsigned commits_since_checkpoint;
    int wal_frames; /* frames in the WAL after the last commit (writer thread) */
    store_publish_fn *publish;
    void *publish_arg;
    int64_t next_seq;       /* writer thread only */
    int64_t digest_unit_ms; /* the "hourly" digest period (daily: 24 of them) */
    _Atomic int64_t last_seq;
    _Atomic uint64_t commits, writes;
    pthread_key_t reader_key; /* per-thread read connection */
};

/* Opens a connection with the pragmas every connection needs; 0 or -ERR_INTERNAL. */
int conn_open(struct conn *c, const char *path, char *errmsg, size_t errlen);
void conn_close(struct conn *c);
/* The statement `id` of connection c, reset and with bindings cleared. */
sqlite3_stmt *conn_stmt(struct conn *c, enum sql_id id);
/* The calling thread's read connection (opened on first use); the key that holds them. */
struct conn *store_reader(struct store *st);
int store_reader_create_key(struct store *st);
void store_reader_destroy_key(struct store *st); /* closes the caller's own connection too */

/* Small query helpers: run statement `s` (already bound) and read column 0 of its first row. */
int sql_int64(sqlite3_stmt *s, int64_t *out); /* 0, -ERR_NOT_FOUND or -ERR_INTERNAL */
const char *sql_text(sqlite3_stmt *s, int col);

/* Rows to API objects (docs/api.md). Each reads the current row of s. */
json_t *row_team(sqlite3_stmt *s);      /* id, name, role, created */
json_t *row_member(sqlite3_stmt *s);    /* user id, username, role, joined */
json_t *row_channel(sqlite3_stmt *s);   /* id, team_id, name, created */
json_t *row_message(sqlite3_stmt *s);   /* id, channel, team, author id, username, text, card,
                                           thread, created */
json_t *row_connector(sqlite3_stmt *s); /* CONNECTOR_SELECT's columns */
json_t *row_delivery(sqlite3_stmt *s);
json_t *json_time(int64_t ms);
json_t *image_url(const char *hash); /* "/api/v1/images/<hash>", or null */

/* Applies one write inside the writer's open transaction; 0 or -ERR_x. */
int store_apply(struct store *st, struct store_write *w);
/* Applies the numbered migrations; 0 or -1 with errmsg. */
int store_migrate(struct conn *c, char *errmsg, size_t errlen);

#endif
