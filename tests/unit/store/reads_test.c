/* reads_test.c: the store's reads: message paging with cursors and the events a user may read
 * (src/store/reads.c), through the real store in a temporary directory. */
#include "../testutil.h"

#include <stdlib.h>
#include <string.h>

/* Asserts that page holds exactly ids[from], ids[from-1], ... ids[to] (newest first). */
static void assert_page(json_t *page, const int64_t *ids, int from, int to)
{
    assert_int_equal(json_array_size(page), (size_t)(from - to + 1));
    for (int i = from, k = 0; i >= to; i--, k++) {
        int64_t got = json_integer_value(json_object_get(json_array_get(page, (size_t)k), "id"));
        if (got != ids[i])
            fail_msg("page[%d] of %d..%d: id %lld, expected %lld", k, from, to, (long long)got,
                     (long long)ids[i]);
    }
}

static void messages_paging(void **state)
{
    struct tu_store *f = *state;
    int64_t alice = tu_user(f->st, "alice");
    int64_t general, other;
    int64_t team = tu_team(f->st, alice, "T", &general);
    struct store_write w = {
        .op = STORE_CHANNEL_CREATE, .actor = alice, .team_id = team, .name = "other"};
    other = tu_commit(f->st, &w, 0);

    int64_t ids[25];
    for (int i = 0; i < 25; i++) {
        char text[32];
        snprintf(text, sizeof text, "m%d", i);
        ids[i] = tu_message(f->st, alice, general, text);
        tu_message(f->st, alice, other, "noise"); /* interleaved, other channel */
        if (i)
            assert_true(ids[i] > ids[i - 1]);
    }
    bool more = false;

    json_t *p = store_messages(f->st, general, 0, 0, -1, 10, &more); /* the newest 10 */
    assert_page(p, ids, 24, 15);
    assert_true(more);
    assert_string_equal(json_string_value(json_object_get(json_array_get(p, 0), "text")), "m24");
    json_decref(p);

    p = store_messages(f->st, general, 0, ids[15], -1, 10, &more);
    assert_page(p, ids, 14, 5);
    assert_true(more);
    json_decref(p);

    p = store_messages(f->st, general, 0, ids[5], -1, 10, &more);
    assert_page(p, ids, 4, 0);
    assert_false(more);
    json_decref(p);

    p = store_messages(f->st, general, 0, ids[0], -1, 10, &more);
    assert_int_equal(json_array_size(p), 0);
    assert_false(more);
    json_decref(p);

    /* after: the oldest `limit` newer than the cursor, still newest first */
    p = store_messages(f->st, general, 0, 0, ids[0], 10, &more);
    assert_page(p, ids, 10, 1);
    assert_true(more);
    json_decref(p);

    p = store_messages(f->st, general, 0, 0, ids[20], 10, &more);
    assert_page(p, ids, 24, 21);
    assert_false(more);
    json_decref(p);

    p = store_messages(f->st, general, 0, 0, ids[24], 10, &more);
    assert_int_equal(json_array_size(p), 0);
    assert_false(more);
    json_decref(p);

    /* exact fits */
    p = store_messages(f->st, general, 0, 0, -1, 25, &more);
    assert_page(p, ids, 24, 0);
    assert_false(more);
    json_decref(p);
    p = store_messages(f->st, general, 0, 0, -1, 24, &more);
    assert_page(p, ids, 24, 1);
    assert_true(more);
    json_decref(p);
    p = store_messages(f->st, general, 0, 0, ids[14], 10, &more);
    assert_page(p, ids, 24, 15);
    assert_false(more);
    json_decref(p);

    /* after=0: the oldest `limit` from the first message */
    p = store_messages(f->st, general, 0, 0, 0, 10, &more);
    assert_page(p, ids, 9, 0);
    assert_true(more);
    json_decref(p);
    p = store_messages(f->st, general, 0, 0, 0, 25, &more);
    assert_page(p, ids, 24, 0);
    assert_false(more);
    json_decref(p);

    /* a channel with nothing / that does not exist */
    p = store_messages(f->st, general + 1000, 0, 0, -1, 10, &more);
    assert_int_equal(json_array_size(p), 0);
    assert_false(more);
    json_decref(p);
}

struct seen {
    int64_t seq[256];
    char kind[256][32];
    int64_t team[256];
    size_t n;
};

static void collect(void *arg, const struct store_event *ev)
{
    struct seen *s = arg;
    assert_true(s->n < 256);
    s->seq[s->n] = ev->seq;
    s->team[s->n] = ev->team_id;
    snprintf(s->kind[s->n], sizeof s->kind[0], "%s", ev->kind);
    assert_non_null(ev->data);
    json_t *j = json_loads(ev->data, 0, NULL);
    assert_non_null(j); /* the data is the JSON recorded */
    json_decref(j);
    s->n++;
}

static struct seen *events_of(struct store *st, int64_t user, int64_t after, int limit)
{
    struct seen *s = calloc(1, sizeof *s);
    int64_t scanned;
    int n = store_events_after(st, user, after, limit, collect, s, &scanned);
    assert_true(n >= (int)s->n); /* looked at, of which these concern the user */
    assert_true(scanned >= after);
    for (size_t i = 1; i < s->n; i++)
        assert_true(s->seq[i] > s->seq[i - 1]);
    return s;
}

static void events_respect_membership(void **state)
{
    struct tu_store *f = *state;
    int64_t alice = tu_user(f->st, "alice"), bob = tu_user(f->st, "bob"),
            carol = tu_user(f->st, "carol");
    int64_t ga, gb;
    int64_t ta = tu_team(f->st, alice, "A", &ga); /* seqs 1, 2 */
    int64_t tb = tu_team(f->st, bob, "B", &gb);   /* seqs 3, 4 */
    tu_message(f->st, alice, ga, "a1");           /* 5 */
    tu_message(f->st, bob, gb, "b1");             /* 6 */

    struct seen *s = events_of(f->st, alice, 0, 100);
    assert_int_equal(s->n, 3);
    for (size_t i = 0; i < s->n; i++)
        assert_int_equal(s->team[i], ta);
    assert_string_equal(s->kind[0], "team.created");
    assert_string_equal(s->kind[1], "channel.created");
    assert_string_equal(s->kind[2], "message.created");
    free(s);

    s = events_of(f->st, carol, 0, 100);
    assert_int_equal(s->n, 0);
    free(s);

    /* carol joins B: from the member.added about her on, what a live stream would have got;
     * B's earlier events were never hers */
    assert_int_equal(tu_member_add(f->st, bob, tb, carol, "member"), 0); /* 7 */
    s = events_of(f->st, carol, 0, 100);
    assert_int_equal(s->n, 1);
    assert_string_equal(s->kind[0], "member.added");
    assert_int_equal(s->seq[0], 7);
    free(s);
    tu_message(f->st, bob, gb, "b-in"); /* 8 */

    /* resuming from before she joined, and from a moment she was in */
    s = events_of(f->st, carol, 4, 100);
    assert_int_equal(s->n, 2);
    assert_int_equal(s->seq[0], 7);
    assert_int_equal(s->seq[1], 8);
    free(s);
    s = events_of(f->st, carol, 7, 100);
    assert_int_equal(s->n, 1);
    assert_int_equal(s->seq[0], 8);
    free(s);

    /* carol leaves B: her removal reaches her; B's later events do not; resuming from when she
     * was in gives what she saw then */
    struct store_write w = {
        .op = STORE_MEMBER_REMOVE, .actor = bob, .team_id = tb, .user_id = carol};
    tu_commit(f->st, &w, 0);          /* 9 */
    tu_message(f->st, bob, gb, "b2"); /* 10 */
    s = events_of(f->st, carol, 0, 100);
    assert_int_equal(s->n, 3);
    assert_string_equal(s->kind[0], "member.added");
    assert_string_equal(s->kind[1], "message.created");
    assert_string_equal(s->kind[2], "member.removed");
    assert_int_equal(s->seq[2], 9);
    free(s);
    s = events_of(f->st, carol, 7, 100);
    assert_int_equal(s->n, 2);
    assert_int_equal(s->seq[0], 8);
    assert_int_equal(s->seq[1], 9);
    free(s);
    size_t nt = 99;
    int64_t *at = store_user_team_ids(f->st, carol, 8, &nt); /* in B then */
    assert_int_equal(nt, 1);
    assert_int_equal(at[0], tb);
    free(at);

    /* alice still sees only A */
    s = events_of(f->st, alice, 0, 100);
    assert_int_equal(s->n, 3);
    free(s);
    assert_int_equal(store_last_seq(f->st), 10);

    size_t n = 99;
    int64_t *ids = store_user_team_ids(f->st, bob, -1, &n);
    assert_int_equal(n, 1);
    assert_int_equal(ids[0], tb);
    free(ids);
    ids = store_user_team_ids(f->st, carol, -1, &n);
    assert_int_equal(n, 0);
    free(ids);
}

static void team_ids_many(void **state)
{
    struct tu_store *f = *state;
    int64_t alice = tu_user(f->st, "alice");
    int64_t teams[20];
    for (int i = 0; i < 20; i++) /* more than the initial allocation */
        teams[i] = tu_team(f->st, alice, "T", NULL);
    size_t n = 0;
    int64_t *ids = store_user_team_ids(f->st, alice, -1, &n);
    assert_int_equal(n, 20);
    for (int i = 0; i < 20; i++)
        assert_int_equal(ids[i], teams[i]);
    free(ids);
    json_t *list = store_teams_of_user(f->st, alice);
    assert_int_equal(json_array_size(list), 20);
    json_decref(list);
    /* a non-member does not get the team */
    int64_t bob = tu_user(f->st, "bob");
    assert_null(store_team_get(f->st, teams[0], bob));
}

/* The first key seen is recorded; the same one passes; another is refused with advice. */
static void key_fingerprint_is_recorded_then_held(void **state)
{
    struct tu_store *f = *state;
    char err[512] = "";
    assert_int_equal(store_key_check(f->st, "aaaa0000aaaa0000aaaa0000aaaa0000", err, sizeof err),
                     0);
    assert_int_equal(store_key_check(f->st, "aaaa0000aaaa0000aaaa0000aaaa0000", err, sizeof err),
                     0);
    assert_int_equal(store_key_check(f->st, "bbbb0000bbbb0000bbbb0000bbbb0000", err, sizeof err),
                     -ERR_CONFLICT);
    assert_non_null(strstr(err, "every node needs the same secret.key"));
    assert_non_null(strstr(err, "aaaa0000aaaa0000aaaa0000aaaa0000"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(messages_paging, tu_store_setup, tu_store_teardown),
        cmocka_unit_test_setup_teardown(events_respect_membership, tu_store_setup,
                                        tu_store_teardown),
        cmocka_unit_test_setup_teardown(team_ids_many, tu_store_setup, tu_store_teardown),
        cmocka_unit_test_setup_teardown(key_fingerprint_is_recorded_then_held, tu_store_setup,
                                        tu_store_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
