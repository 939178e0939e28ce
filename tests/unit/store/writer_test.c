/* writer_test.c: the writer thread: group commit from many threads, a failing write inside a
 * batch, the publisher's ordered gapless events, and durability across reopening
 * (src/store/writer.c). */
#include "../testutil.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* ---- a publisher that records what it receives ---- */
struct recorder {
    pthread_mutex_t mu;
    int64_t *seqs;
    size_t n, alloc;
    size_t calls;
    bool bad_data;
};

static void record(void *arg, const struct store_event *events, size_t n)
{
    struct recorder *r = arg;
    pthread_mutex_lock(&r->mu);
    r->calls++;
    for (size_t i = 0; i < n; i++) {
        if (r->n == r->alloc)
            r->seqs = realloc(r->seqs, (r->alloc = r->alloc ? r->alloc * 2 : 64) * sizeof *r->seqs);
        r->seqs[r->n++] = events[i].seq;
        if (!events[i].data || !events[i].kind)
            r->bad_data = true;
    }
    pthread_mutex_unlock(&r->mu);
}

/* ---- completion counting for store_submit ---- */
struct counter {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t done;
};

static void count_done(struct store_write *w)
{
    struct counter *c = w->arg;
    pthread_mutex_lock(&c->mu);
    c->done++;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

static void wait_count(struct counter *c, size_t n)
{
    pthread_mutex_lock(&c->mu);
    while (c->done < n)
        pthread_cond_wait(&c->cv, &c->mu);
    pthread_mutex_unlock(&c->mu);
}

#define THREADS 4
#define PER_THREAD 500

struct submitter {
    struct store *st;
    struct store_write *w; /* PER_THREAD of them */
    struct counter *c;
    int64_t actor, channel;
    char texts[PER_THREAD][24];
    int submit_errors;
};

static void *submit_main(void *arg)
{
    struct submitter *s = arg;
    for (int i = 0; i < PER_THREAD; i++) {
        struct store_write *w = &s->w[i];
        memset(w, 0, sizeof *w);
        w->op = STORE_MESSAGE_CREATE;
        w->actor = s->actor;
        w->channel_id = s->channel;
        w->text = s->texts[i];
        w->done = count_done;
        w->arg = s->c;
        if (store_submit(s->st, w))
            s->submit_errors++;
    }
    return NULL;
}

static void group_commit_many_threads(void **state)
{
    struct tu_store *f = *state;
    int64_t alice = tu_user(f->st, "alice");
    int64_t general;
    tu_team(f->st, alice, "T", &general);
    struct recorder rec = {.mu = PTHREAD_MUTEX_INITIALIZER};
    store_set_publisher(f->st, record, &rec);
    int64_t seq0 = store_last_seq(f->st);
    struct store_stats before, after;
    store_get_stats(f->st, &before);

    struct counter c = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
    struct store_write *writes = calloc(THREADS * PER_THREAD, sizeof *writes);
    struct submitter *subs = calloc(THREADS, sizeof *subs);
    pthread_t th[THREADS];
    for (int t = 0; t < THREADS; t++) {
        subs[t] = (struct submitter){f->st, writes + t * PER_THREAD, &c, alice, general, {{0}}, 0};
        for (int i = 0; i < PER_THREAD; i++)
            snprintf(subs[t].texts[i], sizeof subs[t].texts[i], "t%d-%d", t, i);
        pthread_create(&th[t], NULL, submit_main, &subs[t]);
    }
    for (int t = 0; t < THREADS; t++)
        pthread_join(th[t], NULL);
    wait_count(&c, THREADS * PER_THREAD);

    store_get_stats(f->st, &after);
    uint64_t commits = after.commits - before.commits, nwrites = after.writes - before.writes;
    assert_int_equal(nwrites, THREADS * PER_THREAD);
    assert_true(commits >= 1);
    assert_true(commits < nwrites); /* batches formed */

    /* every write committed, with a distinct id that is its event's seq */
    char *seen = calloc(THREADS * PER_THREAD + 1, 1);
    for (int i = 0; i < THREADS * PER_THREAD; i++) {
        struct store_write *w = &writes[i];
        assert_int_equal(w->rc, 0);
        assert_int_equal(w->n_events, 1);
        assert_int_equal(w->id, w->events[0].seq);
        int64_t k = w->id - seq0;
        assert_in_range(k, 1, THREADS * PER_THREAD);
        assert_false(seen[k]);
        seen[k] = 1;
        store_write_release(w);
    }
    free(seen);
    for (int t = 0; t < THREADS; t++)
        assert_int_equal(subs[t].submit_errors, 0);
    assert_int_equal(store_last_seq(f->st), seq0 + THREADS * PER_THREAD);

    /* the publisher got every event once, in order, with no gap */
    pthread_mutex_lock(&rec.mu);
    assert_int_equal(rec.n, THREADS * PER_THREAD);
    for (size_t i = 0; i < rec.n; i++)
        assert_int_equal(rec.seqs[i], seq0 + 1 + (int64_t)i);
    assert_true(rec.calls <= commits);
    assert_false(rec.bad_data);
    pthread_mutex_unlock(&rec.mu);
    store_set_publisher(f->st, NULL, NULL);

    /* and the store holds them all */
    bool more;
    json_t *page = store_messages(f->st, general, 0, 0, -1, 200, &more);
    assert_int_equal(json_array_size(page), 200);
    assert_true(more);
    json_decref(page);
    page = store_messages(f->st, general, 0, 0, seq0 + THREADS * PER_THREAD - 150, 200, &more);
    assert_int_equal(json_array_size(page), 150);
    assert_false(more);
    json_decref(page);

    free(rec.seqs);
    free(subs);
    free(writes);
}

/* ---- a failing write in the middle of a batch ---- */
struct gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool entered, open;
};

/* done() of the first write: holds the writer thread until the test has queued the batch */
static void hold_writer(struct store_write *w)
{
    struct gate *g = w->arg;
    pthread_mutex_lock(&g->mu);
    g->entered = true;
    pthread_cond_broadcast(&g->cv);
    while (!g->open)
        pthread_cond_wait(&g->cv, &g->mu);
    pthread_mutex_unlock(&g->mu);
}

static void failing_write_spares_batch(void **state)
{
    struct tu_store *f = *state;
    int64_t alice = tu_user(f->st, "alice");
    int64_t general;
    int64_t team = tu_team(f->st, alice, "T", &general);
    int64_t seq0 = store_last_seq(f->st);
    struct recorder rec = {.mu = PTHREAD_MUTEX_INITIALIZER};
    store_set_publisher(f->st, record, &rec);

    struct gate g = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, false};
    struct store_write first = {
        .op = STORE_USER_CREATE, .name = "first", .secret = "x", .done = hold_writer, .arg = &g};
    assert_int_equal(store_submit(f->st, &first), 0);
    pthread_mutex_lock(&g.mu);
    while (!g.entered)
        pthread_cond_wait(&g.cv, &g.mu);
    pthread_mutex_unlock(&g.mu);
    struct store_stats before;
    store_get_stats(f->st, &before);

    /* the writer is held: these all queue up and form one batch */
    struct counter c = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
    struct store_write w[6] = {
        {.op = STORE_MESSAGE_CREATE, .actor = alice, .channel_id = general, .text = "one"},
        {.op = STORE_USER_CREATE, .name = "dave", .secret = "x"},
        {.op = STORE_USER_CREATE, .name = "DAVE", .secret = "x"}, /* conflict */
        {.op = STORE_MESSAGE_CREATE, .actor = 999, .channel_id = general, .text = "no"},
        {.op = STORE_CHANNEL_CREATE, .actor = alice, .team_id = team, .name = "GENERAL"},
        {.op = STORE_MESSAGE_CREATE, .actor = alice, .channel_id = general, .text = "two"},
    };
    for (int i = 0; i < 6; i++) {
        w[i].done = count_done;
        w[i].arg = &c;
        assert_int_equal(store_submit(f->st, &w[i]), 0);
    }
    pthread_mutex_lock(&g.mu);
    g.open = true;
    pthread_cond_broadcast(&g.cv);
    pthread_mutex_unlock(&g.mu);
    wait_count(&c, 6);
    assert_int_equal(first.rc, 0);

    struct store_stats after;
    store_get_stats(f->st, &after);
    assert_int_equal(after.commits - before.commits, 1); /* one batch */
    assert_int_equal(after.writes - before.writes, 6);

    assert_int_equal(w[0].rc, 0);
    assert_int_equal(w[1].rc, 0);
    assert_int_equal(w[2].rc, -ERR_CONFLICT);
    assert_int_equal(w[3].rc, -ERR_NOT_FOUND);
    assert_int_equal(w[4].rc, -ERR_CONFLICT);
    assert_int_equal(w[5].rc, 0);
    for (int i = 2; i <= 4; i++) {
        assert_int_equal(w[i].n_events, 0);
        assert_null(w[i].result);
    }
    /* failed writes take no seq: the survivors' events are consecutive */
    assert_int_equal(w[0].id, seq0 + 1);
    assert_int_equal(w[5].id, seq0 + 2);
    assert_int_equal(store_last_seq(f->st), seq0 + 2);
    struct store_user u;
    assert_int_equal(store_user_by_name(f->st, "dave", &u, NULL), 0);
    assert_int_equal(u.id, w[1].id);
    assert_int_equal(store_user_by_name(f->st, "first", &u, NULL), 0);
    bool more;
    json_t *page = store_messages(f->st, general, 0, 0, -1, 10, &more);
    assert_int_equal(json_array_size(page), 2);
    json_decref(page);
    for (int i = 0; i < 6; i++)
        store_write_release(&w[i]);
    store_write_release(&first);

    pthread_mutex_lock(&rec.mu);
    assert_int_equal(rec.n, 2);
    assert_int_equal(rec.seqs[0], seq0 + 1);
    assert_int_equal(rec.seqs[1], seq0 + 2);
    pthread_mutex_unlock(&rec.mu);
    store_set_publisher(f->st, NULL, NULL);
    free(rec.seqs);
}

static void publisher_gets_every_event_in_order(void **state)
{
    struct tu_store *f = *state;
    struct recorder rec = {.mu = PTHREAD_MUTEX_INITIALIZER};
    store_set_publisher(f->st, record, &rec);
    int64_t alice = tu_user(f->st, "alice"), bob = tu_user(f->st, "bob");
    int64_t general;
    int64_t team = tu_team(f->st, alice, "T", &general);
    assert_int_equal(tu_member_add(f->st, bob, team, alice, "member"), -ERR_FORBIDDEN);
    assert_int_equal(tu_member_add(f->st, alice, team, bob, "member"), 0);
    for (int i = 0; i < 10; i++)
        tu_message(f->st, i % 2 ? alice : bob, general, "x");
    int64_t last = store_last_seq(f->st);
    assert_int_equal(last, 2 + 1 + 10);
    pthread_mutex_lock(&rec.mu);
    assert_int_equal(rec.n, (size_t)last);
    for (size_t i = 0; i < rec.n; i++)
        assert_int_equal(rec.seqs[i], (int64_t)i + 1);
    pthread_mutex_unlock(&rec.mu);
    store_set_publisher(f->st, NULL, NULL);
    free(rec.seqs);
}

static void reopen_keeps_everything(void **state)
{
    struct tu_store *f = *state;
    int64_t alice = tu_user(f->st, "alice");
    int64_t general;
    int64_t team = tu_team(f->st, alice, "Persisted", &general);
    int64_t m1 = tu_message(f->st, alice, general, "survives");
    int64_t last = store_last_seq(f->st);
    assert_int_equal(last, m1);
    store_close(f->st);

    f->st = tu_store_open(f->dir);
    assert_int_equal(store_last_seq(f->st), last);
    struct store_user u;
    assert_int_equal(store_user_by_name(f->st, "alice", &u, NULL), 0);
    assert_int_equal(u.id, alice);
    assert_int_equal(store_member_role(f->st, team, alice), STORE_ROLE_OWNER);
    bool more;
    json_t *page = store_messages(f->st, general, 0, 0, -1, 10, &more);
    assert_int_equal(json_array_size(page), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(page, 0), "text")),
                        "survives");
    json_decref(page);
    /* the sequence continues where it was */
    int64_t m2 = tu_message(f->st, alice, general, "after");
    assert_int_equal(m2, last + 1);
    tu_user(f->st, "bob");
    struct store_write dup = {.op = STORE_USER_CREATE, .name = "Alice", .secret = "x"};
    tu_commit(f->st, &dup, -ERR_CONFLICT);
    store_close(f->st);

    f->st = tu_store_open(f->dir);
    assert_int_equal(store_last_seq(f->st), last + 1);
    assert_int_equal(store_user_by_name(f->st, "bob", &u, NULL), 0);
}

static void open_failure_and_close_null(void **state)
{
    (void)state;
    char *dir = tu_tmpdir_new();
    char err[256];
    assert_null(store_open("/proc/self/no/such/place", err, sizeof err));
    assert_true(strlen(err) > 0);
    struct store *st = tu_store_open(dir);
    store_close(st);
    store_close(NULL);
    tu_tmpdir_remove(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(group_commit_many_threads, tu_store_setup,
                                        tu_store_teardown),
        cmocka_unit_test_setup_teardown(failing_write_spares_batch, tu_store_setup,
                                        tu_store_teardown),
        cmocka_unit_test_setup_teardown(publisher_gets_every_event_in_order, tu_store_setup,
                                        tu_store_teardown),
        cmocka_unit_test_setup_teardown(reopen_keeps_everything, tu_store_setup, tu_store_teardown),
        cmocka_unit_test(open_failure_and_close_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
