/* ring_test.c: the ring of recent SSE frames, frame formatting and routing (src/hub/ring.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <setjmp.h>

#include <cmocka.h>

#include "hub/hub_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct store_event ev(int64_t seq, const char *kind, const char *data)
{
    return (struct store_event){
        .seq = seq, .team_id = 7, .user_id = 3, .kind = kind, .data = (char *)data};
}

static void frame_format(void **state)
{
    (void)state;
    struct store_event e = ev(42, "message.created", "{\"id\":42}");
    size_t len = 0;
    char *text = hub_frame_format(&e, &len);
    assert_string_equal(text, "id: 42\nevent: message.created\ndata: {\"id\":42}\n\n");
    assert_int_equal(len, strlen(text));
    free(text);
}

static void frame_routing(void **state)
{
    (void)state;
    struct frame f;
    struct store_event e = ev(1, "member.added", "{}");
    frame_route(&f, &e);
    assert_int_equal(f.seq, 1);
    assert_int_equal(f.team_id, 7);
    assert_int_equal(f.user_id, 3);
    assert_true(f.membership);
    assert_true(f.added);
    e.kind = "member.removed";
    frame_route(&f, &e);
    assert_true(f.membership);
    assert_false(f.added);
    e.kind = "team.created"; /* its creator joins the team */
    frame_route(&f, &e);
    assert_true(f.membership);
    assert_true(f.added);
    e.kind = "message.created";
    frame_route(&f, &e);
    assert_false(f.membership);
    assert_false(f.added);
    e.kind = "channel.created";
    frame_route(&f, &e);
    assert_false(f.membership);
}

static void push_get_evict_by_count(void **state)
{
    (void)state;
    struct ring r;
    ring_init(&r, 4, 1 << 20, 10);
    assert_int_equal(r.lo, 11);
    assert_int_equal(r.hi, 10);
    assert_int_equal(r.count, 0);
    assert_null(ring_get(&r, 10));
    assert_null(ring_get(&r, 11));
    char data[32];
    for (int64_t s = 11; s <= 14; s++) {
        snprintf(data, sizeof data, "{\"n\":%lld}", (long long)s);
        struct store_event e = ev(s, "message.created", data);
        ring_push(&r, &e);
        assert_int_equal(r.hi, s);
    }
    assert_int_equal(r.count, 4);
    assert_int_equal(r.lo, 11);
    const struct frame *f = ring_get(&r, 12);
    assert_non_null(f);
    assert_int_equal(f->seq, 12);
    assert_string_equal(f->text, "id: 12\nevent: message.created\ndata: {\"n\":12}\n\n");
    assert_int_equal(f->len, strlen(f->text));
    size_t bytes = r.bytes;

    struct store_event e = ev(15, "message.created", "{\"n\":15}");
    ring_push(&r, &e); /* full: the oldest goes */
    assert_int_equal(r.count, 4);
    assert_int_equal(r.lo, 12);
    assert_int_equal(r.hi, 15);
    assert_int_equal(r.bytes, bytes); /* same-sized frames */
    assert_null(ring_get(&r, 11));
    assert_null(ring_get(&r, 16));
    for (int64_t s = 12; s <= 15; s++)
        assert_int_equal(ring_get(&r, s)->seq, s);
    ring_release(&r);
}

static void evict_by_bytes(void **state)
{
    (void)state;
    struct store_event e = ev(1, "k", "{}");
    size_t len;
    free(hub_frame_format(&e, &len)); /* "id: N\nevent: k\ndata: {}\n\n" for one-digit N */
    struct ring r;
    ring_init(&r, 100, 3 * len, 0);
    for (int64_t s = 1; s <= 9; s++) {
        e.seq = s;
        ring_push(&r, &e);
        assert_true(r.bytes <= 3 * len);
    }
    assert_int_equal(r.count, 3);
    assert_int_equal(r.lo, 7);
    assert_int_equal(r.hi, 9);
    assert_null(ring_get(&r, 6));
    assert_non_null(ring_get(&r, 7));

    /* a frame larger than the whole budget replaces everything, and is still held */
    char big[400];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    struct store_event b = ev(10, "k", big);
    ring_push(&r, &b);
    assert_int_equal(r.count, 1);
    assert_int_equal(r.lo, 10);
    assert_int_equal(r.hi, 10);
    assert_non_null(ring_get(&r, 10));
    e.seq = 11;
    ring_push(&r, &e);
    assert_int_equal(r.count, 1);
    assert_int_equal(r.lo, 11);
    ring_release(&r);
}

static void wraps_many_times(void **state)
{
    (void)state;
    struct ring r;
    ring_init(&r, 8, 1 << 20, 0);
    struct store_event e = ev(0, "k", "{}");
    for (int64_t s = 1; s <= 1000; s++) {
        e.seq = s;
        ring_push(&r, &e);
        int64_t lo = s > 8 ? s - 7 : 1;
        assert_int_equal(r.lo, lo);
        assert_int_equal(ring_get(&r, lo)->seq, lo);
        assert_int_equal(ring_get(&r, s)->seq, s);
    }
    ring_release(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(frame_format),
        cmocka_unit_test(frame_routing),
        cmocka_unit_test(push_get_evict_by_count),
        cmocka_unit_test(evict_by_bytes),
        cmocka_unit_test(wraps_many_times),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
