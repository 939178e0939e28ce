/* hub.c: live streams, the publisher tick and heartbeats. See hub.h for the model.
 *
 * Locking: one mutex guards the ring, the index, every stream's routing state and the dirty
 * lists. io->suspend is called under it (so a publisher cannot miss a stream that is about to
 * wait); io->resume is called outside it, after a stream was taken off the waiting set. */
#include "hub_int.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define REPLAY_PAGE 64      /* events read from the store per catch-up step */
#define TICK_US_PER_WAKE 20 /* publisher pause per stream woken ... */
#define TICK_MAX_US 250000  /* ... up to this */
static const char welcome[] = ": welcome\nretry: 3000\n\n";
static const char heartbeat[] = ": hb\n\n";

struct keys {
    int64_t *v;
    size_t n, alloc;
};

struct hub {
    struct store *store;
    struct hub_io io;
    unsigned heartbeat_ms;
    pthread_mutex_t mu;
    pthread_cond_t publish_wake;
    int watch_fd;    /* epoll set of the waiting streams' sockets, for hang-ups */
    int stop_fd;     /* wakes the watcher at shutdown */
    int64_t next_id; /* stream ids, for the watcher's lookups */
    struct index by_id;
    pthread_t publisher, beater;
    bool closing;
    struct ring ring;
    struct index by_team, by_user;
    struct keys dirty_teams, dirty_users;
    uint64_t epoch;             /* publisher ticks so far */
    struct hub_stream *streams; /* every open stream */
    uint64_t n_streams, n_waiting, published, wakeups;
};

struct hub_stream {
    struct hub *hub;
    void *conn;
    int64_t user_id;
    int64_t cursor;     /* last seq delivered or passed over */
    struct idset teams; /* the teams this stream may read */
    bool waiting, replay, welcomed;
    bool idle;      /* suspended because it had read everything: nothing of its own was pending */
    bool watched;   /* its socket is in the watcher's set */
    bool peer_gone; /* its client hung up */
    bool drained;   /* its last burst read everything published then */
    int64_t id;     /* for the watcher's lookups */
    uint64_t epoch; /* hub epoch of this stream's last write */
    int64_t next_beat_ms;
    struct buf pending; /* bytes owed to the client before anything else */
    size_t pending_off;
    struct hub_stream *prev, *next;
};

static void keys_push(struct keys *k, int64_t v)
{
    if (k->n && k->v[k->n - 1] == v)
        return;
    if (k->n == k->alloc)
        k->v = xrealloc(k->v, (k->alloc = k->alloc ? k->alloc * 2 : 16) * sizeof *k->v);
    k->v[k->n++] = v;
}

/* When a stream that just wrote is next due a heartbeat: the interval, less up to a quarter at
 * random, so streams that connected together (after a restart, say) do not all beat together. */
static int64_t next_beat(const struct hub *h)
{
    uint32_t spread = h->heartbeat_ms / 4;
    return time_mono_ms() + h->heartbeat_ms - (spread ? (int64_t)(randombytes_uniform(spread)) : 0);
}

/* ---- membership of a stream (hub lock held) ---- */

static void stream_join(struct hub_stream *s, int64_t team)
{
    if (idset_add(&s->teams, team))
        index_add(&s->hub->by_team, team, s);
}

static void stream_leave(struct hub_stream *s, int64_t team)
{
    if (idset_del(&s->teams, team))
        index_remove(&s->hub->by_team, team, s);
}

static bool stream_may_read(const struct hub_stream *s, const struct frame *f)
{
    return f->user_id == s->user_id || idset_has(&s->teams, f->team_id);
}

/* After a frame was delivered (or passed over): follow membership changes of this user. */
static void stream_follow(struct hub_stream *s, const struct frame *f)
{
    if (!f->membership || f->user_id != s->user_id)
        return;
    if (f->added)
        stream_join(s, f->team_id);
    else
        stream_leave(s, f->team_id);
}

/* ---- publishing ---- */

void hub_publish(void *arg, const struct store_event *events, size_t n)
{
    struct hub *h = arg;
    pthread_mutex_lock(&h->mu);
    for (size_t i = 0; i < n; i++) {
        ring_push(&h->ring, &events[i]);
        keys_push(&h->dirty_teams, events[i].team_id);
        if (events[i].user_id)
            keys_push(&h->dirty_users, events[i].user_id);
    }
    h->published += n;
    pthread_cond_signal(&h->publish_wake);
    pthread_mutex_unlock(&h->mu);
}

/* Takes the waiting streams under `keys` off the waiting set, into wake. */
static void collect_waiting(struct hub *h, struct index *ix, struct keys *keys,
                            struct hub_stream ***wake, size_t *n_wake, size_t *alloc)
{
    for (size_t k = 0; k < keys->n; k++) {
        uint32_t n;
        struct hub_stream **v = index_get(ix, keys->v[k], &n);
        for (uint32_t i = 0; i < n; i++) {
            if (!v[i]->waiting)
                continue;
            v[i]->waiting = false;
            h->n_waiting--;
            if (*n_wake == *alloc)
                *wake = xrealloc(*wake, (*alloc = *alloc ? *alloc * 2 : 64) * sizeof **wake);
            (*wake)[(*n_wake)++] = v[i];
        }
    }
    keys->n = 0;
}

static void *publisher_main(void *arg)
{
    struct hub *h = arg;
    struct hub_stream **wake = NULL;
    size_t alloc = 0;
    pthread_mutex_lock(&h->mu);
    while (!h->closing) {
        if (!h->dirty_teams.n && !h->dirty_users.n) {
            pthread_cond_wait(&h->publish_wake, &h->mu);
            continue;
        }
        h->epoch++;
        size_t n_wake = 0;
        collect_waiting(h, &h->by_team, &h->dirty_teams, &wake, &n_wake, &alloc);
        collect_waiting(h, &h->by_user, &h->dirty_users, &wake, &n_wake, &alloc);
        h->wakeups += n_wake;
        pthread_mutex_unlock(&h->mu);
        for (size_t i = 0; i < n_wake; i++)
            h->io.resume(wake[i]->conn);
        /* coalesce: the more streams one tick woke, the longer until the next */
        size_t pause = n_wake * TICK_US_PER_WAKE;
        if (pause)
            usleep((useconds_t)(pause < TICK_MAX_US ? pause : TICK_MAX_US));
        pthread_mutex_lock(&h->mu);
    }
    pthread_mutex_unlock(&h->mu);
    free(wake);
    return NULL;
}

/* Takes s off the waiting set into the wake list (hub lock held). */
static void take_waiting(struct hub *h, struct hub_stream *s, struct hub_stream ***wake,
                         size_t *n_wake, size_t *alloc)
{
    s->waiting = false;
    h->n_waiting--;
    if (*n_wake == *alloc)
        *wake = xrealloc(*wake, (*alloc = *alloc ? *alloc * 2 : 64) * sizeof **wake);
    (*wake)[(*n_wake)++] = s;
}

/* The watcher: wakes the waiting streams whose heartbeat is due, and at once those whose client
 * hung up while they waited (a suspended connection is in nobody's poll set but this one's), so
 * a departed client's connection is closed within milliseconds, not at its next heartbeat. */
static void *beater_main(void *arg)
{
    struct hub *h = arg;
    struct hub_stream **wake = NULL;
    size_t alloc = 0;
    int step = (int)(h->heartbeat_ms / 5 ? h->heartbeat_ms / 5 : 1);
    if (step > 1000)
        step = 1000;
    struct epoll_event events[64];
    pthread_mutex_lock(&h->mu);
    while (!h->closing) {
        pthread_mutex_unlock(&h->mu);
        int n = epoll_wait(h->watch_fd, events, 64, step);
        pthread_mutex_lock(&h->mu);
        if (h->closing)
            break;
        size_t n_wake = 0;
        for (int i = 0; i < n; i++) {
            uint32_t count;
            struct hub_stream **v = index_get(&h->by_id, (int64_t)events[i].data.u64, &count);
            if (!count)
                continue; /* closed meanwhile */
            v[0]->peer_gone = true;
            if (v[0]->waiting)
                take_waiting(h, v[0], &wake, &n_wake, &alloc);
        }
        int64_t now = time_mono_ms();
        for (struct hub_stream *s = h->streams; s; s = s->next)
            if (s->waiting && now >= s->next_beat_ms)
                take_waiting(h, s, &wake, &n_wake, &alloc);
        pthread_mutex_unlock(&h->mu);
        for (size_t i = 0; i < n_wake; i++)
            h->io.resume(wake[i]->conn);
        pthread_mutex_lock(&h->mu);
    }
    pthread_mutex_unlock(&h->mu);
    free(wake);
    return NULL;
}

/* Asks the watcher to report when the client of a suspending stream hangs up (lock held). */
static void watch_hangup(struct hub *h, struct hub_stream *s)
{
    int fd = h->io.fd ? h->io.fd(s->conn) : -1;
    if (fd < 0)
        return;
    struct epoll_event ev = {.events = EPOLLRDHUP | EPOLLONESHOT, .data.u64 = (uint64_t)s->id};
    if (epoll_ctl(h->watch_fd, s->watched ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev) == 0)
        s->watched = true;
}

struct hub *hub_new(struct store *st, const struct hub_io *io, const struct hub_config *cfg)
{
    struct hub *h = xcalloc(1, sizeof *h);
    h->store = st;
    h->io = *io;
    h->heartbeat_ms = cfg->heartbeat_ms ? cfg->heartbeat_ms : 25000;
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->publish_wake, NULL);
    h->watch_fd = epoll_create1(EPOLL_CLOEXEC);
    h->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    BUG_ON(h->watch_fd < 0 || h->stop_fd < 0);
    struct epoll_event stop = {.events = EPOLLIN, .data.u64 = 0}; /* id 0: no stream */
    epoll_ctl(h->watch_fd, EPOLL_CTL_ADD, h->stop_fd, &stop);
    index_init(&h->by_id);
    ring_init(&h->ring, cfg->ring_frames ? cfg->ring_frames : 8192,
              cfg->ring_bytes ? cfg->ring_bytes : 64u << 20, store_last_seq(st));
    index_init(&h->by_team);
    index_init(&h->by_user);
    store_set_publisher(st, hub_publish, h);
    pthread_create(&h->publisher, NULL, publisher_main, h);
    pthread_create(&h->beater, NULL, beater_main, h);
    return h;
}

void hub_shutdown(struct hub *h)
{
    pthread_mutex_lock(&h->mu);
    if (h->closing) {
        pthread_mutex_unlock(&h->mu);
        return;
    }
    h->closing = true;
    pthread_cond_broadcast(&h->publish_wake);
    uint64_t one = 1;
    if (write(h->stop_fd, &one, sizeof one) < 0)
        log_error("hub: cannot wake the watcher");
    size_t n = 0;
    struct hub_stream **wake = xcalloc(h->n_waiting + 1, sizeof *wake);
    for (struct hub_stream *s = h->streams; s; s = s->next)
        if (s->waiting) {
            s->waiting = false;
            wake[n++] = s;
        }
    h->n_waiting = 0;
    pthread_mutex_unlock(&h->mu);
    pthread_join(h->publisher, NULL);
    pthread_join(h->beater, NULL);
    for (size_t i = 0; i < n; i++)
        h->io.resume(wake[i]->conn);
    free(wake);
}

void hub_free(struct hub *h)
{
    if (!h)
        return;
    hub_shutdown(h);
    BUG_ON(h->streams != NULL);
    ring_release(&h->ring);
    index_release(&h->by_team);
    index_release(&h->by_user);
    free(h->dirty_teams.v);
    free(h->dirty_users.v);
    pthread_cond_destroy(&h->publish_wake);
    close(h->watch_fd);
    close(h->stop_fd);
    index_release(&h->by_id);
    pthread_mutex_destroy(&h->mu);
    free(h);
}

/* ---- streams ---- */

struct hub_stream *hub_stream_open(struct hub *h, int64_t user_id, int64_t last_event_id,
                                   void *conn)
{
    struct hub_stream *s = xcalloc(1, sizeof *s);
    s->hub = h;
    s->conn = conn;
    s->user_id = user_id;
    s->epoch = UINT64_MAX; /* no burst yet in any tick */
    buf_init(&s->pending, 64u << 20);
    /* the position first, then the memberships: a change in between is replayed from the ring.
     * The position is the last event committed, which on PostgreSQL may be past the ring's last
     * (the follower brings it in a moment later): events up to it are passed over, and a
     * Last-Event-ID past it is not believed. */
    int64_t head = store_head_seq(h->store);
    pthread_mutex_lock(&h->mu);
    s->cursor = h->ring.hi > head ? h->ring.hi : head;
    pthread_mutex_unlock(&h->mu);
    if (last_event_id >= 0 && last_event_id < s->cursor)
        s->cursor = last_event_id;
    size_t n;
    /* resuming: the memberships it had then, so the replay matches what it would have got */
    int64_t *teams =
        store_user_team_ids(h->store, user_id, last_event_id >= 0 ? s->cursor : -1, &n);
    pthread_mutex_lock(&h->mu);
    for (size_t i = 0; i < n; i++)
        stream_join(s, teams[i]);
    index_add(&h->by_user, user_id, s);
    s->id = ++h->next_id;
    index_add(&h->by_id, s->id, s);
    s->replay = s->cursor + 1 < h->ring.lo;
    s->next_beat_ms = next_beat(h);
    s->next = h->streams;
    if (h->streams)
        h->streams->prev = s;
    h->streams = s;
    h->n_streams++;
    pthread_mutex_unlock(&h->mu);
    free(teams);
    return s;
}

void hub_stream_close(struct hub_stream *s)
{
    if (!s)
        return;
    struct hub *h = s->hub;
    pthread_mutex_lock(&h->mu);
    for (size_t i = 0; i < s->teams.n; i++)
        index_remove(&h->by_team, s->teams.v[i], s);
    index_remove(&h->by_user, s->user_id, s);
    index_remove(&h->by_id, s->id, s);
    if (s->prev)
        s->prev->next = s->next;
    else
        h->streams = s->next;
    if (s->next)
        s->next->prev = s->prev;
    if (s->waiting)
        h->n_waiting--;
    h->n_streams--;
    pthread_mutex_unlock(&h->mu);
    idset_release(&s->teams);
    buf_release(&s->pending);
    free(s);
}

static size_t take_pending(struct hub_stream *s, char *out, size_t max)
{
    size_t left = s->pending.len - s->pending_off;
    size_t n = left < max ? left : max;
    memcpy(out, s->pending.data + s->pending_off, n);
    s->pending_off += n;
    if (s->pending_off == s->pending.len) {
        s->pending.len = 0;
        s->pending_off = 0;
    }
    return n;
}

struct replay_page {
    struct hub_stream *s;
    struct frame changes[REPLAY_PAGE]; /* membership changes met, applied after relocking */
    size_t n_changes;
    int count;
};

static void replay_one(void *arg, const struct store_event *ev)
{
    struct replay_page *p = arg;
    size_t len;
    char *text = hub_frame_format(ev, &len);
    if (buf_append(&p->s->pending, text, len) == 0) {
        struct frame f;
        frame_route(&f, ev);
        if (f.membership && p->n_changes < REPLAY_PAGE)
            p->changes[p->n_changes++] = f;
    }
    free(text);
    p->count++;
}

/* One catch-up step from the store, hub lock held on entry and on return; 0 or -1. */
static int replay_step(struct hub_stream *s)
{
    struct hub *h = s->hub;
    int64_t snapshot = h->ring.hi; /* committed, so the store holds everything up to it */
    struct replay_page p = {.s = s};
    pthread_mutex_unlock(&h->mu);
    int64_t scanned;
    int rc =
        store_events_after(h->store, s->user_id, s->cursor, REPLAY_PAGE, replay_one, &p, &scanned);
    pthread_mutex_lock(&h->mu);
    for (size_t i = 0; i < p.n_changes; i++)
        stream_follow(s, &p.changes[i]);
    if (rc < 0 || (p.count && !s->pending.len))
        return -1; /* the store failed, or one frame exceeded the pending cap */
    s->cursor = scanned;
    if (rc < REPLAY_PAGE) { /* the store has nothing more this user may read */
        if (s->cursor < snapshot)
            s->cursor = snapshot;
        s->replay = false;
    }
    return 0;
}

long hub_stream_read(struct hub_stream *s, char *out, size_t max)
{
    struct hub *h = s->hub;
    size_t n = 0;
    if (!s->welcomed) {
        s->welcomed = true;
        if (max >= sizeof welcome - 1) {
            memcpy(out, welcome, sizeof welcome - 1);
            return sizeof welcome - 1;
        }
    }
    if (s->pending.len)
        return (long)take_pending(s, out, max);

    pthread_mutex_lock(&h->mu);
    if (h->closing || s->peer_gone)
        goto end;
    if (!s->replay && s->cursor + 1 < h->ring.lo && s->cursor < h->ring.hi) {
        if (!s->idle)
            goto end;     /* it was sending when the frames it needs went: too slow */
        s->replay = true; /* idle while other teams' events filled the ring: catch up */
    }
    s->idle = false;
    if (s->replay) {
        if (replay_step(s))
            goto end; /* the client resumes from its last id */
        if (s->pending.len) {
            pthread_mutex_unlock(&h->mu);
            return (long)take_pending(s, out, max);
        }
    }
    /* at most one burst per publisher tick: the next tick wakes this stream again. Only a stream
     * whose last burst had read all there was is held back; one that stopped because its block
     * was full goes on, or nothing would wake it when no more events come. */
    bool throttled = s->epoch == h->epoch && s->drained && s->cursor < h->ring.hi;
    while (!throttled && s->cursor < h->ring.hi) {
        const struct frame *f = ring_get(&h->ring, s->cursor + 1);
        BUG_ON(!f);
        if (stream_may_read(s, f)) {
            if (f->len > max - n) {
                if (n)
                    break;
                memcpy(out, f->text, max); /* a frame larger than the block: owe the rest */
                buf_append(&s->pending, f->text + max, f->len - max);
                n = max;
            } else {
                memcpy(out + n, f->text, f->len);
                n += f->len;
            }
        }
        s->cursor = f->seq;
        stream_follow(s, f);
    }
    if (n) {
        s->epoch = h->epoch;
        s->drained = s->cursor == h->ring.hi;
        s->next_beat_ms = next_beat(h);
        goto out_unlock;
    }
    if (time_mono_ms() >= s->next_beat_ms && max >= sizeof heartbeat - 1) {
        if (h->io.peer_closed && h->io.peer_closed(s->conn))
            goto end;
        memcpy(out, heartbeat, sizeof heartbeat - 1);
        n = sizeof heartbeat - 1;
        s->next_beat_ms = next_beat(h);
        goto out_unlock;
    }
    s->waiting = true;
    s->idle = s->cursor == h->ring.hi;
    h->n_waiting++;
    watch_hangup(h, s);
    h->io.suspend(s->conn);
out_unlock:
    pthread_mutex_unlock(&h->mu);
    return (long)n;
end:
    pthread_mutex_unlock(&h->mu);
    return -1;
}

void hub_get_stats(struct hub *h, struct hub_stats *out)
{
    pthread_mutex_lock(&h->mu);
    out->streams = h->n_streams;
    out->waiting = h->n_waiting;
    out->published = h->published;
    out->wakeups = h->wakeups;
    pthread_mutex_unlock(&h->mu);
}
