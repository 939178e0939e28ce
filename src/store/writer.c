/* writer.c: the store's one writer thread and its group commit, and the checkpointer beside it.
 *
 * Writes queue up while the previous batch commits; the writer then applies everything queued
 * (up to BATCH_MAX) in one transaction, each operation inside its own savepoint so a failing one
 * (a conflict, a permission) leaves the others in. One COMMIT, one fsync. Only after it returns
 * are the batch's events published and each write's done() called: an acknowledgement always
 * means durable. Automatic checkpoints are off; the checkpointer thread copies the WAL back into
 * the database every CHECKPOINT_MS so the commit path never pays for it. */
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

/* After each commit on the writer's connection: the WAL's size in frames. */
static int wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
    (void)db;
    (void)name;
    struct store *st = arg;
    st->wal_frames = frames; /* read by the writer thread itself, under mu */
    return SQLITE_OK;
}

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
    sqlite3_stmt *s = conn_stmt(&st->writer, id);
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? 0 : -ERR_INTERNAL;
}

/* Applies and commits one batch; sets every write's rc. Returns the number committed. */
static size_t commit_batch(struct store *st, struct store_write *batch)
{
    int64_t first_seq = st->next_seq;
    size_t n = 0;
    if (exec_stmt(st, SQL_BEGIN)) {
        log_error("cannot begin a transaction: %s", sqlite3_errmsg(st->writer.db));
        goto fail;
    }
    for (struct store_write *w = batch; w; w = w->next) {
        int64_t seq_before = st->next_seq;
        w->events = NULL;
        w->n_events = w->alloc_events = 0;
        w->result = NULL;
        w->replay_body = NULL;
        w->replayed = false;
        if (exec_stmt(st, SQL_SAVEPOINT)) {
            w->rc = -ERR_INTERNAL;
            continue;
        }
        w->rc = store_apply(st, w);
        if (w->rc) {
            exec_stmt(st, SQL_ROLLBACK_TO);
            write_reset_results(w);
            st->next_seq = seq_before;
        }
        exec_stmt(st, SQL_RELEASE);
        n++;
    }
    if (exec_stmt(st, SQL_COMMIT) == 0)
        return n;
    log_error("cannot commit: %s", sqlite3_errmsg(st->writer.db));
fail:;
    /* a full disk is the operator's to fix and the client's to retry: 503, not a bug's 500 */
    int code = sqlite3_extended_errcode(st->writer.db) & 0xff;
    int err = code == SQLITE_FULL || code == SQLITE_IOERR ? -ERR_STORAGE_FULL : -ERR_INTERNAL;
    if (sqlite3_get_autocommit(st->writer.db) == 0)
        exec_stmt(st, SQL_ROLLBACK);
    for (struct store_write *w = batch; w; w = w->next) {
        write_reset_results(w);
        w->rc = err;
    }
    st->next_seq = first_seq;
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
    struct conn c;
    char err[256];
    if (conn_open(&c, st->path, err, sizeof err)) {
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
        sqlite3_wal_checkpoint_v2(c.db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        pthread_mutex_lock(&st->mu);
    }
    pthread_mutex_unlock(&st->mu);
    conn_close(&c);
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

struct store *store_open(const char *data_dir, char *errmsg, size_t errlen)
{
    if (make_dir(data_dir, errmsg, errlen))
        return NULL;
    struct store *st = xcalloc(1, sizeof *st);
    st->digest_unit_ms = 3600LL * 1000;
    size_t n = strlen(data_dir) + sizeof "/switchboard.db";
    st->path = xmalloc(n);
    snprintf(st->path, n, "%s/switchboard.db", data_dir);
    if (conn_open(&st->writer, st->path, errmsg, errlen))
        goto out_free;
    if (store_migrate(&st->writer, errmsg, errlen))
        goto out_close;
    sqlite3_wal_hook(st->writer.db, wal_hook, st);
    int64_t last = 0;
    if (sql_int64(conn_stmt(&st->writer, SQL_LAST_SEQ), &last)) {
        snprintf(errmsg, errlen, "cannot read '%s': %s", st->path, sqlite3_errmsg(st->writer.db));
        goto out_close;
    }
    atomic_store(&st->last_seq, last);
    st->next_seq = last + 1;
    if (store_reader_create_key(st)) {
        snprintf(errmsg, errlen, "cannot create a thread key");
        goto out_close;
    }
    pthread_mutex_init(&st->mu, NULL);
    pthread_cond_init(&st->wake, NULL);
    pthread_cond_init(&st->checkpoint_wake, NULL);
    pthread_cond_init(&st->idle, NULL);
    pthread_create(&st->writer_thread, NULL, writer_main, st);
    pthread_create(&st->checkpoint_thread, NULL, checkpoint_main, st);
    return st;
out_close:
    conn_close(&st->writer);
out_free:
    free(st->path);
    free(st);
    return NULL;
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
    pthread_join(st->checkpoint_thread, NULL);
    sqlite3_wal_checkpoint_v2(st->writer.db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    store_reader_destroy_key(st);
    conn_close(&st->writer);
    pthread_cond_destroy(&st->wake);
    pthread_cond_destroy(&st->checkpoint_wake);
    pthread_cond_destroy(&st->idle);
    pthread_mutex_destroy(&st->mu);
    free(st->path);
    free(st);
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
