/* hub_test.c: live streams over a real store with a fake connection layer (src/hub/hub.c):
 * events reach only the streams that may read them, history is replayed from the store, an idle
 * stream suspends, membership changes are followed, and shutdown ends every stream. */
#include "../testutil.h"

#include "hub/hub.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- a fake connection: counts suspend/resume (resume comes from the hub's threads) ---- */
struct conn {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int suspends, resumes;
    bool closed;
};

static void conn_init(struct conn *c)
{
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    c->suspends = c->resumes = 0;
    c->closed = false;
}

static void conn_release(struct conn *c)
{
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
}

static void fake_suspend(void *p)
{
    struct conn *c = p;
    pthread_mutex_lock(&c->mu);
    c->suspends++;
    pthread_mutex_unlock(&c->mu);
}

static void fake_resume(void *p)
{
    struct conn *c = p;
    pthread_mutex_lock(&c->mu);
    c->resumes++;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

static bool fake_peer_closed(void *p)
{
    struct conn *c = p;
    pthread_mutex_lock(&c->mu);
    bool closed = c->closed;
    pthread_mutex_unlock(&c->mu);
    return closed;
}

static int resumes_of(struct conn *c)
{
    pthread_mutex_lock(&c->mu);
    int n = c->resumes;
    pthread_mutex_unlock(&c->mu);
    return n;
}

static int suspends_of(struct conn *c)
{
    pthread_mutex_lock(&c->mu);
    int n = c->suspends;
    pthread_mutex_unlock(&c->mu);
    return n;
}

/* Waits until c was resumed more than `seen` times; false after timeout_ms. */
static bool wait_resume(struct conn *c, int seen, int timeout_ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L)
        until.tv_sec++, until.tv_nsec -= 1000000000L;
    pthread_mutex_lock(&c->mu);
    int rc = 0;
    while (c->resumes <= seen && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&c->cv, &c->mu, &until);
    bool ok = c->resumes > seen;
    pthread_mutex_unlock(&c->mu);
    return ok;
}

static const struct hub_io io = {fake_suspend, fake_resume, fake_peer_closed, NULL};

/* ---- fixture: alice owns A, bob owns B, carol is in nothing; the hub starts after that ---- */
struct fx {
    char *dir;
    struct store *st;
    struct hub *hub;
    int64_t alice, bob, carol, ta, tb, ga, gb;
};

static int fx_setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    f->dir = tu_tmpdir_new();
    f->st = tu_store_open(f->dir);
    f->alice = tu_user(f->st, "alice");
    f->bob = tu_user(f->st, "bob");
    f->carol = tu_user(f->st, "carol");
    f->ta = tu_team(f->st, f->alice, "A", &f->ga);   /* seqs 1, 2 */
    f->tb = tu_team(f->st, f->bob, "B", &f->gb);     /* seqs 3, 4 */
    tu_message(f->st, f->alice, f->ga, "history-a"); /* 5 */
    tu_message(f->st, f->bob, f->gb, "history-b");   /* 6 */
    struct hub_config cfg = {.heartbeat_ms = 60000};
    f->hub = hub_new(f->st, &io, &cfg);
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *f = *state;
    store_set_publisher(f->st, NULL, NULL);
    hub_free(f->hub);
    store_close(f->st);
    tu_tmpdir_remove(f->dir);
    free(f);
    return 0;
}

struct text {
    char *s;
    size_t len;
};

/* Reads s until `needle` is in what was read (true), the stream ends or nothing comes for 5 s. */
static bool read_until(struct hub_stream *s, struct conn *c, struct text *t, const char *needle)
{
    char chunk[4096];
    for (;;) {
        if (t->s && strstr(t->s, needle))
            return true;
        int seen = resumes_of(c);
        long n = hub_stream_read(s, chunk, sizeof chunk);
        if (n < 0)
            return false;
        if (n > 0) {
            t->s = realloc(t->s, t->len + (size_t)n + 1);
            memcpy(t->s + t->len, chunk, (size_t)n);
            t->len += (size_t)n;
            t->s[t->len] = '\0';
            continue;
        }
        if (!wait_resume(c, seen, 5000))
            return false;
    }
}

static const char welcome[] = ": welcome\nretry: 3000\n\n";

static void only_events_of_own_teams(void **state)
{
    struct fx *f = *state;
    struct conn c;
    conn_init(&c);
    struct hub_stream *s = hub_stream_open(f->hub, f->alice, -1, &c);
    char buf[256];
    long n = hub_stream_read(s, buf, sizeof buf);
    assert_int_equal(n, strlen(welcome));
    assert_memory_equal(buf, welcome, (size_t)n);

    tu_message(f->st, f->bob, f->gb, "secret-b");
    int64_t id = tu_message(f->st, f->alice, f->ga, "hello-a");
    struct text t = {0};
    assert_true(read_until(s, &c, &t, "hello-a"));
    assert_null(strstr(t.s, "secret-b"));
    assert_null(strstr(t.s, "history")); /* -1: only what comes after opening */
    char head[64];
    snprintf(head, sizeof head, "id: %lld\nevent: message.created\ndata: {", (long long)id);
    assert_int_equal(strncmp(t.s, head, strlen(head)), 0);
    assert_int_equal(strcmp(t.s + t.len - 2, "\n\n"), 0);
    free(t.s);
    hub_stream_close(s);
    conn_release(&c);
}

static void replays_history_from_store(void **state)
{
    struct fx *f = *state;
    struct conn c;
    conn_init(&c);
    struct hub_stream *s = hub_stream_open(f->hub, f->alice, 0, &c);
    struct text t = {0};
    int64_t live = tu_message(f->st, f->alice, f->ga, "live-a");
    char needle[32];
    snprintf(needle, sizeof needle, "id: %lld\n", (long long)live);
    assert_true(read_until(s, &c, &t, needle));
    assert_int_equal(strncmp(t.s, welcome, strlen(welcome)), 0);
    /* exactly alice's events, in order, once each: 1, 2, 5 then the live one */
    const char *p = t.s;
    int64_t expect[] = {1, 2, 5, live};
    for (size_t i = 0; i < 4; i++) {
        char id[32];
        snprintf(id, sizeof id, "id: %lld\n", (long long)expect[i]);
        const char *at = strstr(p, id);
        if (!at)
            fail_msg("event %lld missing or out of order in:\n%s", (long long)expect[i], t.s);
        p = at + strlen(id);
        assert_null(strstr(p, id)); /* no duplicate */
    }
    assert_non_null(strstr(t.s, "history-a"));
    assert_null(strstr(t.s, "history-b"));
    assert_null(strstr(t.s, "id: 3\n"));
    assert_null(strstr(t.s, "id: 6\n"));
    free(t.s);
    hub_stream_close(s);

    /* resuming from the middle: only what follows */
    struct conn c2;
    conn_init(&c2);
    s = hub_stream_open(f->hub, f->alice, 2, &c2);
    struct text t2 = {0};
    assert_true(read_until(s, &c2, &t2, needle));
    assert_null(strstr(t2.s, "id: 1\n"));
    assert_null(strstr(t2.s, "id: 2\n"));
    assert_non_null(strstr(t2.s, "id: 5\n"));
    free(t2.s);
    hub_stream_close(s);
    conn_release(&c);
    conn_release(&c2);
}

static void idle_stream_suspends(void **state)
{
    struct fx *f = *state;
    struct conn c;
    conn_init(&c);
    struct hub_stream *s = hub_stream_open(f->hub, f->carol, -1, &c);
    char buf[256];
    assert_int_equal(hub_stream_read(s, buf, sizeof buf), strlen(welcome));
    assert_int_equal(suspends_of(&c), 0);
    assert_int_equal(hub_stream_read(s, buf, sizeof buf), 0);
    assert_int_equal(suspends_of(&c), 1);
    struct hub_stats st;
    hub_get_stats(f->hub, &st);
    assert_int_equal(st.streams, 1);
    assert_int_equal(st.waiting, 1);
    /* an event carol may not read does not wake her */
    int seen = resumes_of(&c);
    tu_message(f->st, f->alice, f->ga, "not for carol");
    assert_false(wait_resume(&c, seen, 300));
    hub_stream_close(s);
    hub_get_stats(f->hub, &st);
    assert_int_equal(st.streams, 0);
    assert_int_equal(st.waiting, 0);
    conn_release(&c);
}

static void follows_membership(void **state)
{
    struct fx *f = *state;
    struct conn c;
    conn_init(&c);
    struct hub_stream *s = hub_stream_open(f->hub, f->carol, -1, &c);
    struct text t = {0};
    assert_true(read_until(s, &c, &t, welcome));

    assert_int_equal(tu_member_add(f->st, f->alice, f->ta, f->carol, "member"), 0);
    tu_message(f->st, f->alice, f->ga, "welcome-carol");
    assert_true(read_until(s, &c, &t, "welcome-carol"));
    assert_non_null(strstr(t.s, "event: member.added"));

    struct store_write w = {
        .op = STORE_MEMBER_REMOVE, .actor = f->alice, .team_id = f->ta, .user_id = f->carol};
    tu_commit(f->st, &w, 0);
    tu_message(f->st, f->alice, f->ga, "after-carol");
    /* carol's own new team: its creator follows it at once */
    int64_t gc;
    tu_team(f->st, f->carol, "C", &gc);
    tu_message(f->st, f->carol, gc, "in-c");
    assert_true(read_until(s, &c, &t, "in-c"));
    assert_non_null(strstr(t.s, "event: member.removed"));
    assert_non_null(strstr(t.s, "event: team.created"));
    assert_null(strstr(t.s, "after-carol"));
    free(t.s);
    hub_stream_close(s);
    conn_release(&c);
}

static void many_streams_fan_out(void **state)
{
    struct fx *f = *state;
    enum { N = 20 };
    struct conn c[N];
    struct hub_stream *s[N];
    for (int i = 0; i < N; i++) {
        conn_init(&c[i]);
        s[i] = hub_stream_open(f->hub, i % 2 ? f->alice : f->bob, -1, &c[i]);
    }
    tu_message(f->st, f->alice, f->ga, "to-a");
    tu_message(f->st, f->bob, f->gb, "to-b");
    for (int i = 0; i < N; i++) {
        struct text t = {0};
        assert_true(read_until(s[i], &c[i], &t, i % 2 ? "to-a" : "to-b"));
        assert_null(strstr(t.s, i % 2 ? "to-b" : "to-a"));
        free(t.s);
        hub_stream_close(s[i]);
        conn_release(&c[i]);
    }
}

static void shutdown_ends_streams(void **state)
{
    struct fx *f = *state;
    struct conn c1, c2;
    conn_init(&c1);
    conn_init(&c2);
    struct hub_stream *waiting = hub_stream_open(f->hub, f->alice, -1, &c1);
    struct hub_stream *other = hub_stream_open(f->hub, f->bob, -1, &c2);
    char buf[256];
    assert_true(hub_stream_read(waiting, buf, sizeof buf) > 0);
    assert_int_equal(hub_stream_read(waiting, buf, sizeof buf), 0);
    assert_true(hub_stream_read(other, buf, sizeof buf) > 0);
    int seen = resumes_of(&c1);
    hub_shutdown(f->hub);
    assert_true(resumes_of(&c1) > seen); /* the waiting stream is told to ask again */
    assert_int_equal(hub_stream_read(waiting, buf, sizeof buf), -1);
    assert_int_equal(hub_stream_read(other, buf, sizeof buf), -1);
    hub_shutdown(f->hub); /* twice is harmless */
    hub_stream_close(waiting);
    hub_stream_close(other);
    hub_stream_close(NULL);
    conn_release(&c1);
    conn_release(&c2);
}

static void heartbeat_and_dead_peer(void **state)
{
    struct fx *f = *state;
    store_set_publisher(f->st, NULL, NULL);
    hub_free(f->hub);
    struct hub_config cfg = {.heartbeat_ms = 100};
    f->hub = hub_new(f->st, &io, &cfg);
    struct conn c;
    conn_init(&c);
    struct hub_stream *s = hub_stream_open(f->hub, f->carol, -1, &c);
    struct text t = {0};
    assert_true(read_until(s, &c, &t, ": hb\n\n")); /* the beater wakes it, it beats */
    free(t.s);
    pthread_mutex_lock(&c.mu);
    c.closed = true;
    pthread_mutex_unlock(&c.mu);
    /* once the next beat is due, a closed peer ends the stream */
    char buf[256];
    long n = 0;
    for (int i = 0; i < 100 && n >= 0; i++) {
        int seen = resumes_of(&c);
        n = hub_stream_read(s, buf, sizeof buf);
        if (n == 0)
            assert_true(wait_resume(&c, seen, 5000));
    }
    assert_int_equal(n, -1);
    hub_stream_close(s);
    conn_release(&c);
}

/* Regression: an idle stream was ended (-1) when other teams' events went through the ring
 * while it waited. carol is only in C; with a ring of 8 frames, 20 events of team A pass by,
 * then one of C: her stream must deliver it. */
static void idle_stream_survives_other_teams_traffic(void **state)
{
    struct fx *f = *state;
    store_set_publisher(f->st, NULL, NULL);
    hub_free(f->hub);
    int64_t gc;
    tu_team(f->st, f->carol, "C", &gc);
    struct hub_config cfg = {.heartbeat_ms = 60000, .ring_frames = 8};
    f->hub = hub_new(f->st, &io, &cfg);
    struct conn c;
    conn_init(&c);
    struct hub_stream *s = hub_stream_open(f->hub, f->carol, -1, &c);
    char buf[4096];
    long n = hub_stream_read(s, buf, sizeof buf);
    assert_int_equal(n, strlen(welcome));
    assert_memory_equal(buf, welcome, (size_t)n);
    assert_int_equal(hub_stream_read(s, buf, sizeof buf), 0); /* suspended */
    assert_int_equal(suspends_of(&c), 1);
    int seen = resumes_of(&c);
    for (int i = 0; i < 20; i++)
        tu_message(f->st, f->alice, f->ga, "noise-a");
    int64_t id = tu_message(f->st, f->carol, gc, "for-carol");
    assert_true(wait_resume(&c, seen, 5000));
    struct text t = {0};
    assert_true(read_until(s, &c, &t, "for-carol"));
    char head[64];
    snprintf(head, sizeof head, "id: %lld\nevent: message.created\ndata: {", (long long)id);
    assert_int_equal(strncmp(t.s, head, strlen(head)), 0); /* her frame, and only hers */
    assert_null(strstr(t.s, "noise-a"));
    free(t.s);
    hub_stream_close(s);
    conn_release(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(only_events_of_own_teams, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(replays_history_from_store, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(idle_stream_suspends, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(follows_membership, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(many_streams_fan_out, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(shutdown_ends_streams, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(heartbeat_and_dead_peer, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(idle_stream_survives_other_teams_traffic, fx_setup,
                                        fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
