/* follower.c: on PostgreSQL, the thread that publishes every node's events to this node, in
 * sequence order and without gaps.
 *
 * Sequence numbers are handed out under a row lock held until each batch commits (writer.c), so
 * the committed events always form a gapless prefix. The follower reads that prefix past the last
 * event it published (EVENTS_TAIL) and hands it to the publisher. It reads when this node's
 * writer committed (an eventfd poke), when another node says it committed (LISTEN), and once a
 * second regardless, so a notification that was lost (a dropped connection, a restarted
 * database) only delays events, never loses them. After reading what its own writer committed it
 * sends one NOTIFY carrying only the sequence number — one publisher per node, outside the
 * writing transactions. */
#include "store_int.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define CHANNEL "switchboard_events"
#define TAIL_BATCH 1000
#define POLL_MS 1000
#define RECONNECT_MAX_MS 5000

int store_follow(struct store *st, struct db *db, int64_t *last)
{
    int total = 0;
    for (;;) {
        struct db_stmt *s = db_stmt(db, SQL_EVENTS_TAIL);
        db_bind_int64(s, 1, *last);
        db_bind_int64(s, 2, TAIL_BATCH);
        struct store_event *events = NULL;
        size_t n = 0, alloc = 0;
        int rc;
        while ((rc = db_step(s)) == DB_ROW) {
            int64_t seq = db_int64(s, 0);
            if (seq != *last + (int64_t)n + 1) { /* cannot happen: the prefix is gapless */
                log_error("follower: event %lld after %lld", (long long)seq,
                          (long long)(*last + (int64_t)n));
                break;
            }
            if (n == alloc)
                events = xrealloc(events, (alloc = alloc ? alloc * 2 : 64) * sizeof *events);
            events[n++] = (struct store_event){
                .seq = seq,
                .team_id = db_int64(s, 1),
                .user_id = db_int64(s, 2),
                .kind = store_event_kind(db_text(s, 3)),
                .data = xstrdup(db_text(s, 4)),
            };
        }
        db_reset(s);
        if (n) {
            *last = events[n - 1].seq;
            atomic_store(&st->last_seq, *last);
            pthread_mutex_lock(&st->mu);
            store_publish_fn *publish = st->publish;
            void *arg = st->publish_arg;
            pthread_mutex_unlock(&st->mu);
            if (publish)
                publish(arg, events, n);
        }
        for (size_t i = 0; i < n; i++)
            free(events[i].data);
        free(events);
        total += (int)n;
        if (rc < 0)
            return rc;
        if (n < TAIL_BATCH)
            return total;
    }
}

static bool closing(struct store *st)
{
    pthread_mutex_lock(&st->mu);
    bool c = st->closing;
    pthread_mutex_unlock(&st->mu);
    return c;
}

/* Listens, and takes the background jobs when no other node has them. */
static bool follower_setup(struct store *st, struct db *db)
{
    if (db_pg_listen(db, CHANNEL))
        return false;
    int64_t got = 0;
    if (!atomic_load(&st->leader) && db_int64_of(db_stmt(db, SQL_LEADER_TRY), &got) == 0 && got) {
        atomic_store(&st->leader, true); /* held until this connection ends */
        log_info("this node runs the background jobs (feeds, mail)");
    }
    return true;
}

static void *follower_main(void *arg)
{
    struct store *st = arg;
    struct db *db = st->follower_db;
    int64_t last = atomic_load(&st->last_seq);
    int backoff = 0;
    bool listening = db != NULL;
    while (!closing(st)) {
        if (!db) {
            char err[256];
            if (db_open(&db, st->target, err, sizeof err)) {
                db = NULL;
                backoff = backoff
                              ? (backoff * 2 > RECONNECT_MAX_MS ? RECONNECT_MAX_MS : backoff * 2)
                              : 100;
                log_error("follower: %s (again in %d ms)", err, backoff);
                poll(&(struct pollfd){.fd = st->follower_wake, .events = POLLIN}, 1, backoff);
                continue;
            }
            listening = false;
        }
        if (!listening && follower_setup(st, db)) {
            listening = true;
            backoff = 0;
        } else if (listening && !atomic_load(&st->leader)) {
            follower_setup(st, db); /* LISTEN again is harmless */
        }
        uint64_t pokes = 0;
        if (read(st->follower_wake, &pokes, sizeof pokes) < 0 && errno != EAGAIN)
            pokes = 0;
        int rc = store_follow(st, db, &last);
        if (rc >= 0 && pokes) { /* tell the other nodes: only the sequence number */
            char payload[24];
            snprintf(payload, sizeof payload, "%lld", (long long)last);
            rc = db_pg_notify(db, CHANNEL, payload);
        }
        if (rc >= 0 && listening)
            rc = db_pg_wait(db, POLL_MS, st->follower_wake);
        else if (rc >= 0)
            poll(&(struct pollfd){.fd = st->follower_wake, .events = POLLIN}, 1, POLL_MS);
        if (rc < 0 && !db_alive(db)) {
            log_error("follower: database connection lost; reconnecting");
            atomic_store(&st->leader, false); /* the lock went with the connection */
            db_close(db);
            db = NULL;
        }
    }
    db_close(db);
    return NULL;
}

int store_follower_start(struct store *st, char *errmsg, size_t errlen)
{
    st->follower_wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (st->follower_wake < 0) {
        snprintf(errmsg, errlen, "eventfd: %s", strerror(errno));
        return -1;
    }
    /* connected and listening before the first commit, and the jobs decided before they start */
    char err[256];
    if (db_open(&st->follower_db, st->target, err, sizeof err) == 0 &&
        !follower_setup(st, st->follower_db)) {
        db_close(st->follower_db);
        st->follower_db = NULL;
    }
    if (pthread_create(&st->follower_thread, NULL, follower_main, st)) {
        snprintf(errmsg, errlen, "cannot start the follower thread");
        db_close(st->follower_db);
        close(st->follower_wake);
        st->follower_wake = -1;
        return -1;
    }
    return 0;
}

void store_follower_poke(struct store *st)
{
    uint64_t one = 1;
    if (write(st->follower_wake, &one, sizeof one) < 0 && errno != EAGAIN)
        log_error("follower: poke: %s", strerror(errno));
}

void store_follower_stop(struct store *st)
{
    if (st->follower_wake < 0)
        return;
    store_follower_poke(st); /* st->closing is set */
    pthread_join(st->follower_thread, NULL);
    close(st->follower_wake);
    st->follower_wake = -1;
}
