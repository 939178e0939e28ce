/* store_int.h: what the store's files share and nobody else sees: the store itself (writer queue,
 * read pool, follower), the row-to-JSON builders, migrations. The SQL layer is db.h. */
#ifndef SB_STORE_INT_H
#define SB_STORE_INT_H

#include "db.h"
#include "store.h"

#include <pthread.h>
#include <stdatomic.h>

struct store {
    char *target; /* the SQLite file's path or the PostgreSQL URI */
    enum db_backend backend;
    struct db *writer; /* used only by the writer thread */
    pthread_t writer_thread, checkpoint_thread, follower_thread;
    pthread_mutex_t mu;              /* guards the queue and the flags below */
    pthread_cond_t wake;             /* the writer waits on it for work */
    pthread_cond_t checkpoint_wake;  /* the checkpointer waits on it for a tick or for closing */
    struct store_write *head, *tail; /* queued writes, oldest first */
    bool closing;
    bool busy;           /* the writer holds a batch */
    pthread_cond_t idle; /* signalled when the writer finishes a batch */
    unsigned commits_since_checkpoint;
    int wal_frames;          /* frames in the WAL after the last commit (writer thread) */
    int64_t writer_retry_ms; /* PostgreSQL: when the writer may try to reconnect (backoff) */
    int writer_backoff_ms;
    store_publish_fn *publish;
    void *publish_arg;
    int64_t next_seq;       /* writer thread only: the next sequence number of this batch */
    int64_t digest_unit_ms; /* the "hourly" digest period (daily: 24 of them) */
    _Atomic int64_t last_seq;
    _Atomic uint64_t commits, writes;
    /* the read connections: a pool of up to pool_max, each used by one thread at a time */
    pthread_mutex_t pool_mu;
    pthread_cond_t pool_free;
    struct db **pool; /* idle connections */
    size_t pool_idle, pool_open, pool_max;
    /* PostgreSQL: the follower publishes every node's events in sequence order */
    int follower_wake;      /* an eventfd the writer pokes after each commit */
    _Atomic bool leader;    /* this node runs the background jobs */
    struct db *follower_db; /* handed from store_follower_start to the thread */
};

/* A read connection from the pool (opened on demand, waiting when pool_max are in use), and
 * back. A connection found broken is dropped on return and opened afresh later. */
struct db *store_reader_get(struct store *st);
void store_reader_put(struct store *st, struct db *db);

/* Rows to API objects (docs/api.md). Each reads the current row of s. */
json_t *row_team(struct db_stmt *s);      /* id, name, role, created */
json_t *row_member(struct db_stmt *s);    /* user id, username, role, joined */
json_t *row_channel(struct db_stmt *s);   /* id, team_id, name, created */
json_t *row_message(struct db_stmt *s);   /* id, channel, team, author id, username, text, card,
                                             thread, created */
json_t *row_connector(struct db_stmt *s); /* CONNECTOR_SELECT's columns */
json_t *row_delivery(struct db_stmt *s);
json_t *json_time(int64_t ms);
/* The static string of an event kind read back from the database ("unknown" when not one). */
const char *store_event_kind(const char *text);
json_t *image_url(const char *hash); /* "/api/v1/images/<hash>", or null */

/* The follower (PostgreSQL): started by store_open, stopped by store_close. */
int store_follower_start(struct store *st, char *errmsg, size_t errlen);
void store_follower_stop(struct store *st);
/* Publishes the committed events after *last from the events table, in order and in batches,
 * advancing *last and the store's last_seq; returns how many, or -ERR_x. */
int store_follow(struct store *st, struct db *db, int64_t *last);
/* Tells the follower that this node committed events. */
void store_follower_poke(struct store *st);

/* Applies one write inside the writer's open transaction; 0 or -ERR_x. */
int store_apply(struct store *st, struct store_write *w);
/* Checks the schema version and, when apply, applies the migrations it lacks; 0 or -1 with
 * errmsg. Refuses a schema newer than this binary knows (and, without apply, an older one). */
int store_migrate(struct db *db, bool apply, char *errmsg, size_t errlen);

#endif
