/* writer.c: the store's one writer thread and its group commit, the read pool, and (SQLite) the
 * checkpointer beside it.
 *
 * Writes queue up while the previous batch commits; the writer then applies everything queued
 * (up to BATCH_MAX) in one transaction, each operation inside its own savepoint so a failing one
 * (a conflict, a permission) leaves the others in. One COMMIT, one fsync. Only after it returns
 * are the batch's events published and each write's done() called: an acknowledgement always
 * means durable. Each batch reads the last sequence number in its transaction and advances it
 * there, so on PostgreSQL the writers of several nodes take turns and the numbers stay gapless
 * and in commit order; there the follower (follower.c) publishes every node's events, in order.
 * SQLite: automatic checkpoints are off; the checkpointer thread copies the WAL back into the
 * database every CHECKPOINT_MS so the commit path never pays for it. */
#include "store_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define BATCH_MAX 256
#define CHECKPOINT_MS 1000
/* Frames in the WAL that wake the checkpointer before its second is up, so that under a
 * saturating load the copy back keeps pace instead of piling up (4 s of saturation left 220-330 MB
 * of WAL, and copying that in one go stalled the commits after it: p99 48-112 ms at 1,000/s; with
 * the early wake-ups 32-60 ms). A RESTART checkpoint would keep the WAL itself short but blocks
 * the writer while readers finish, which moved the stall elsewhere (measured; not kept). 2,048
 * frames of 4 KiB: 8 MiB. */
#define CHECKPOINT_FRAMES 2048
/* PostgreSQL: the writer's reconnection attempts back off from 100 ms to 5 s. */
#define RECONNECT_MIN_MS 100
#define RECONNECT_MAX_MS 5000
#define POOL_DEFAULT 8

static void write_reset_results(struct store_write *w)
{
    for (size_t i = 0; i < w->n_events; i++)
        free(w->events[i].data);
    free(w->events);
    w->events = NULL;
    w->n_events = w->alloc_events = 0;
    json_decref(w->result);
    w->result = NULL;
    free(w->replay_body);
    w->replay_body = NULL;
    w->replayed = false;
}

void store_write_release(struct store_write *w)
{
    write_reset_results(w);
    free(w->owned);
    free(w->owned2);
    free(w->owned3);
    w->owned = w->owned2 = w->owned3 = NULL;
}

static int exec_stmt(struct store *st, enum sql_id id)
{
    return db_run(db_stmt(st->writer, id));
}

/* PostgreSQL: whether the writer's connection is up, reconnecting with backoff when it is not. */
static bool writer_connected(struct store *st)
{
    if (st->backend != DB_POSTGRES || !st->writer_backoff_ms)
        return true;
    int64_t now = time_now_ms();
    if (now < st->writer_retry_ms)
        return false;
    if (db_alive(st->writer)) {
        log_info("database connection restored");
        st->writer_backoff_ms = 0;
        return true;
    }
    st->writer_backoff_ms =
        st->writer_backoff_ms * 2 > RECONNECT_MAX_MS ? RECONNECT_MAX_MS : st->writer_backoff_ms * 2;
    st->writer_retry_ms = now + st->writer_backoff_ms;
    return false;
}

/* Applies and commits one batch; sets every write's rc. Returns the number committed. */
static size_t commit_batch(struct store *st, struct store_write *batch)
{
    size_t n = 0;
    int err = -ERR_DB_UNAVAILABLE, rc;
    if (!writer_connected(st))
        goto fail;
    if ((rc = exec_stmt(st, SQL_BEGIN))) {
        log_error("cannot begin a transaction: %s", db_errmsg(st->writer));
        err = rc;
        goto fail;
    }
    int64_t last;
    if ((rc = db_int64_of(db_stmt(st->writer, SQL_SEQ_LOCK), &last))) {
        log_error("cannot read the sequence: %s", db_errmsg(st->writer));
        err = rc;
        goto fail;
    }
    st->next_seq = last + 1;
    /* a write alone in its batch needs no savepoint: when it fails the whole transaction goes
     * (on PostgreSQL each statement is a round trip; at low load most batches are one write) */
    bool alone = !batch->next;
    for (struct store_write *w = batch; w; w = w->next) {
        int64_t seq_before = st->next_seq;
        w->events = NULL;
        w->n_events = w->alloc_events = 0;
        w->result = NULL;
        w->replay_body = NULL;
        w->replayed = false;
        if (!alone && exec_stmt(st, SQL_SAVEPOINT)) {
            w->rc = -ERR_INTERNAL;
            continue;
        }
        w->rc = store_apply(st, w);
        if (w->rc && alone) {
            if (w->rc == -ERR_DB_UNAVAILABLE || w->rc == -ERR_STORAGE_FULL) {
                err = w->rc; /* the database's trouble, not the write's: as a failed commit */
                goto fail;
            }
            write_reset_results(w);
            exec_stmt(st, SQL_ROLLBACK);
            return 0;
        }
        if (w->rc) {
            exec_stmt(st, SQL_ROLLBACK_TO);
            write_reset_results(w);
            st->next_seq = seq_before;
        }
        if (!alone)
            exec_stmt(st, SQL_RELEASE);
        n++;
    }
    if (st->next_seq != last + 1) {
        struct db_stmt *s = db_stmt(st->writer, SQL_SEQ_SET);
        db_bind_int64(s, 1, st->next_seq - 1);
        if ((rc = db_run(s))) {
            err = rc;
            goto fail;
        }
    }
    if ((rc = exec_stmt(st, SQL_COMMIT)) == 0)
        return n;
    err = rc;
    log_error("cannot commit: %s", db_errmsg(st->writer));
fail:
    /* a full disk is the operator's to fix and the client's to retry: 503, not a bug's 500; so
     * is a lost database connection (whether a COMMIT that lost its answer landed is unknown: the
     * client's retry with its Idempotency-Key tells) */
    if (err != -ERR_STORAGE_FULL && err != -ERR_DB_UNAVAILABLE)
        err = -ERR_INTERNAL;
    if (st->backend == DB_POSTGRES && !db_alive(st->writer)) {
        err = -ERR_DB_UNAVAILABLE;
        if (!st->writer_backoff_ms) {
            log_error("database connection lost; writes answer 503 until it is back");
            st->writer_backoff_ms = RECONNECT_MIN_MS;
            st->writer_retry_ms = time_now_ms() + RECONNECT_MIN_MS;
        }
    } else {
        exec_stmt(st, SQL_ROLLBACK);
    }
    for (struct store_write *w = batch; w; w = w->next) {
        write_reset_results(w);
        w->rc = err;
    }
    return 0;
}

static void publish_batch(struct store *st, struct store_write *batch)
{
    size_t n = 0, k = 0;
    for (struct store_write *w = batch; w; w = w->next)
        n += w->n_events;
    if (!n)
        return;
    struct store_event *events = xmalloc(n * sizeof *events);
    for (struct store_write *w = batch; w; w = w->next)
        for (size_t i = 0; i < w->n_events; i++)
            events[k++] = w->events[i];
    if (st->backend == DB_POSTGRES) { /* the follower publishes, with the other nodes' events */
        free(events);
        store_follower_poke(st);
        return;
    }
    if (events[0].seq != atomic_load(&st->last_seq) + 1) {
        /* SQLite: another process (`switchboard admin` beside the server) committed events
         * before these; publish from the table, theirs and this batch's, in order */
        int64_t last = atomic_load(&st->last_seq);
        store_follow(st, st->writer, &last);
        free(events);
        return;
    }
    atomic_store(&st->last_seq, events[n - 1].seq);
    if (st->publish)
        st->publish(st->publish_arg, events, n);
    free(events);
}

static void *writer_main(void *arg)
{
    struct store *st = arg;
    for (;;) {
        pthread_mutex_lock(&st->mu);
        while (!st->head && !st->closing)
            pthread_cond_wait(&st->wake, &st->mu);
        if (!st->head) { /* closing and drained */
            pthread_mutex_unlock(&st->mu);
            break;
        }
        struct store_write *batch = st->head, *last = batch;
        size_t n = 1;
        while (last->next && n < BATCH_MAX)
            last = last->next, n++;
        st->head = last->next;
        if (!st->head)
            st->tail = NULL;
        last->next = NULL;
        st->busy = true;
        pthread_mutex_unlock(&st->mu);

        commit_batch(st, batch);
        atomic_fetch_add(&st->commits, 1);
        atomic_fetch_add(&st->writes, n);
        publish_batch(st, batch);
        for (struct store_write *w = batch, *next; w; w = next) {
            next = w->next; /* done() may free w */
            w->next = NULL;
            if (w->done)
                w->done(w);
        }
        pthread_mutex_lock(&st->mu);
        st->commits_since_checkpoint++;
        if (st->wal_frames >= CHECKPOINT_FRAMES)
            pthread_cond_signal(&st->checkpoint_wake); /* a growing WAL: copy it back now */
        st->busy = false;
        pthread_cond_broadcast(&st->idle);
        pthread_mutex_unlock(&st->mu);
    }
    return NULL;
}

static void *checkpoint_main(void *arg)
{
    struct store *st = arg;
    struct db *c;
    char err[256];
    if (db_open(&c, st->target, err, sizeof err)) {
        log_error("checkpointer: %s", err);
        return NULL;
    }
    pthread_mutex_lock(&st->mu);
    while (!st->closing) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += CHECKPOINT_MS / 1000;
        pthread_cond_timedwait(&st->checkpoint_wake, &st->mu, &until);
        if (st->closing || !st->commits_since_checkpoint)
            continue;
        st->commits_since_checkpoint = 0;
        pthread_mutex_unlock(&st->mu);
        db_sqlite_checkpoint(c, false);
        pthread_mutex_lock(&st->mu);
    }
    pthread_mutex_unlock(&st->mu);
    db_close(c);
    return NULL;
}

static int make_dir(const char *dir, char *errmsg, size_t errlen)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path) {
        snprintf(errmsg, errlen, "data directory path too long");
        return -1;
    }
    for (char *p = path + 1;; p++) { /* mkdir -p */
        bool end = *p == '\0';
        if (*p == '/' || end) {
            *p = '\0';
            if (mkdir(path, 0700) && errno != EEXIST) {
                snprintf(errmsg, errlen, "cannot create '%s': %s", path, strerror(errno));
                return -1;
            }
            if (end)
                break;
            *p = '/';
        }
    }
    return 0;
}

struct store *store_open_at(const struct store_options *o, char *errmsg, size_t errlen)
{
    if (o->data_dir && make_dir(o->data_dir, errmsg, errlen))
        return NULL;
    struct store *st = xcalloc(1, sizeof *st);
    st->digest_unit_ms = 3600LL * 1000;
    st->pool_max = o->pool ? o->pool : POOL_DEFAULT;
    if (o->database && *o->database) {
        st->target = xstrdup(o->database);
    } else {
        size_t n = strlen(o->data_dir) + sizeof "/switchboard.db";
        st->target = xmalloc(n);
        snprintf(st->target, n, "%s/switchboard.db", o->data_dir);
    }
    st->backend = db_backend_of(st->target);
    if (db_open(&st->writer, st->target, errmsg, errlen))
        goto out_free;
    if (store_migrate(st->writer, o->migrate, errmsg, errlen))
        goto out_close;
    if (st->backend == DB_SQLITE)
        db_sqlite_watch_wal(st->writer, &st->wal_frames); /* read by the writer thread itself */
    int64_t last = 0;
    if (db_int64_of(db_stmt(st->writer, SQL_LAST_SEQ), &last)) {
        snprintf(errmsg, errlen, "cannot read the database: %s", db_errmsg(st->writer));
        goto out_close;
    }
    atomic_store(&st->last_seq, last);
    st->next_seq = last + 1;
    st->pool = xcalloc(st->pool_max, sizeof *st->pool);
    pthread_mutex_init(&st->pool_mu, NULL);
    pthread_cond_init(&st->pool_free, NULL);
    pthread_mutex_init(&st->mu, NULL);
    pthread_cond_init(&st->wake, NULL);
    pthread_cond_init(&st->checkpoint_wake, NULL);
    pthread_cond_init(&st->idle, NULL);
    st->follower_wake = -1;
    if (st->backend == DB_POSTGRES && store_follower_start(st, errmsg, errlen))
        goto out_sync;
    pthread_create(&st->writer_thread, NULL, writer_main, st);
    if (st->backend == DB_SQLITE)
        pthread_create(&st->checkpoint_thread, NULL, checkpoint_main, st);
    return st;
out_sync:
    pthread_cond_destroy(&st->pool_free);
    pthread_mutex_destroy(&st->pool_mu);
    pthread_cond_destroy(&st->wake);
    pthread_cond_destroy(&st->checkpoint_wake);
    pthread_cond_destroy(&st->idle);
    pthread_mutex_destroy(&st->mu);
    free(st->pool);
out_close:
    db_close(st->writer);
out_free:
    free(st->target);
    free(st);
    return NULL;
}

struct store *store_open(const char *data_dir, char *errmsg, size_t errlen)
{
    struct store_options o = {.data_dir = data_dir, .migrate = true};
    return store_open_at(&o, errmsg, errlen);
}

void store_close(struct store *st)
{
    if (!st)
        return;
    pthread_mutex_lock(&st->mu);
    st->closing = true;
    pthread_cond_broadcast(&st->wake);
    pthread_cond_broadcast(&st->checkpoint_wake);
    pthread_mutex_unlock(&st->mu);
    pthread_join(st->writer_thread, NULL);
    if (st->backend == DB_SQLITE) {
        pthread_join(st->checkpoint_thread, NULL);
        db_sqlite_checkpoint(st->writer, true);
    } else {
        store_follower_stop(st);
    }
    for (size_t i = 0; i < st->pool_idle; i++)
        db_close(st->pool[i]);
    free(st->pool);
    db_close(st->writer);
    pthread_cond_destroy(&st->pool_free);
    pthread_mutex_destroy(&st->pool_mu);
    pthread_cond_destroy(&st->wake);
    pthread_cond_destroy(&st->checkpoint_wake);
    pthread_cond_destroy(&st->idle);
    pthread_mutex_destroy(&st->mu);
    free(st->target);
    free(st);
}

/* ---- the read pool ---- */

struct db *store_reader_get(struct store *st)
{
    pthread_mutex_lock(&st->pool_mu);
    while (!st->pool_idle && st->pool_open >= st->pool_max)
        pthread_cond_wait(&st->pool_free, &st->pool_mu);
    if (st->pool_idle) {
        struct db *db = st->pool[--st->pool_idle];
        pthread_mutex_unlock(&st->pool_mu);
        return db;
    }
    st->pool_open++;
    pthread_mutex_unlock(&st->pool_mu);
    struct db *db;
    char err[256];
    if (db_open(&db, st->target, err, sizeof err) == 0)
        return db;
    /* PostgreSQL is away: a connection that fails every statement, until it reconnects */
    log_error("read connection: %s", err);
    if (st->backend == DB_SQLITE)
        BUG_ON(1); /* the writer opened the same file moments ago */
    pthread_mutex_lock(&st->pool_mu);
    st->pool_open--;
    pthread_cond_signal(&st->pool_free);
    pthread_mutex_unlock(&st->pool_mu);
    return NULL;
}

void store_reader_put(struct store *st, struct db *db)
{
    if (db && !db_alive(db)) { /* lost: drop it; the next caller opens a new one */
        db_close(db);
        db = NULL;
    }
    pthread_mutex_lock(&st->pool_mu);
    if (db)
        st->pool[st->pool_idle++] = db;
    else
        st->pool_open--;
    pthread_cond_signal(&st->pool_free);
    pthread_mutex_unlock(&st->pool_mu);
}

int store_submit(struct store *st, struct store_write *w)
{
    w->next = NULL;
    w->rc = 0;
    pthread_mutex_lock(&st->mu);
    if (st->closing) {
        pthread_mutex_unlock(&st->mu);
        return -ERR_UNAVAILABLE;
    }
    if (st->tail)
        st->tail->next = w;
    else
        st->head = w;
    st->tail = w;
    pthread_cond_signal(&st->wake);
    pthread_mutex_unlock(&st->mu);
    return 0;
}

void store_flush(struct store *st)
{
    pthread_mutex_lock(&st->mu);
    while (st->head || st->busy)
        pthread_cond_wait(&st->idle, &st->mu);
    pthread_mutex_unlock(&st->mu);
}

struct waiter {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
};

static void wake_waiter(struct store_write *w)
{
    struct waiter *wt = w->waiter;
    pthread_mutex_lock(&wt->mu);
    wt->done = true;
    pthread_cond_signal(&wt->cv);
    pthread_mutex_unlock(&wt->mu);
}

int store_write_wait(struct store *st, struct store_write *w)
{
    struct waiter wt = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false};
    w->done = wake_waiter;
    w->waiter = &wt;
    int rc = store_submit(st, w);
    if (rc)
        return rc;
    pthread_mutex_lock(&wt.mu);
    while (!wt.done)
        pthread_cond_wait(&wt.cv, &wt.mu);
    pthread_mutex_unlock(&wt.mu);
    return w->rc;
}

void store_set_publisher(struct store *st, store_publish_fn *fn, void *arg)
{
    pthread_mutex_lock(&st->mu);
    st->publish = fn;
    st->publish_arg = arg;
    pthread_mutex_unlock(&st->mu);
}

void store_set_digest_unit(struct store *st, int64_t ms)
{
    st->digest_unit_ms = ms;
}

int64_t store_last_seq(struct store *st)
{
    return atomic_load(&st->last_seq);
}

void store_get_stats(struct store *st, struct store_stats *out)
{
    out->commits = atomic_load(&st->commits);
    out->writes = atomic_load(&st->writes);
}
