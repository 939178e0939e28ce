/* throttle_test.c: failed-login counting per key in a fixed window (src/core/throttle.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <setjmp.h>

#include <cmocka.h>

#include "core/core.h"

#include <stdio.h>

#define T0 1700000000000LL

static void blocks_after_max_failures(void **state)
{
    (void)state;
    struct throttle *t = throttle_new(64, 5, 900);
    for (int i = 0; i < 4; i++) {
        throttle_fail(t, "u:alice", T0 + i);
        assert_int_equal(throttle_check(t, "u:alice", T0 + i), 0);
    }
    throttle_fail(t, "u:alice", T0 + 4);
    assert_int_equal(throttle_check(t, "u:alice", T0 + 4), 900);
    assert_int_equal(throttle_check(t, "u:alice", T0 + 100000), 800);
    assert_int_equal(throttle_check(t, "u:alice", T0 + 899001), 1);
    /* other keys are not affected */
    assert_int_equal(throttle_check(t, "u:bob", T0 + 5), 0);
    assert_int_equal(throttle_check(t, "u:alice2", T0 + 5), 0);
    assert_int_equal(throttle_check(t, "", T0 + 5), 0);
    /* the window passes: a fresh start */
    assert_int_equal(throttle_check(t, "u:alice", T0 + 900000), 0);
    throttle_fail(t, "u:alice", T0 + 900001);
    assert_int_equal(throttle_check(t, "u:alice", T0 + 900001), 0);
    throttle_free(t);
}

static void clear_resets(void **state)
{
    (void)state;
    struct throttle *t = throttle_new(64, 3, 60);
    for (int i = 0; i < 3; i++)
        throttle_fail(t, "a:10.0.0.1", T0);
    assert_true(throttle_check(t, "a:10.0.0.1", T0) > 0);
    throttle_clear(t, "a:10.0.0.1");
    assert_int_equal(throttle_check(t, "a:10.0.0.1", T0), 0);
    throttle_fail(t, "a:10.0.0.1", T0);
    assert_int_equal(throttle_check(t, "a:10.0.0.1", T0), 0); /* counting starts over */
    throttle_clear(t, "never-seen");
    throttle_free(t);
    throttle_free(NULL);
}

static void window_counts_from_first_failure(void **state)
{
    (void)state;
    struct throttle *t = throttle_new(64, 2, 10);
    throttle_fail(t, "k", T0);
    throttle_fail(t, "k", T0 + 9999); /* still inside the first window */
    assert_int_equal(throttle_check(t, "k", T0 + 9999), 1);
    assert_int_equal(throttle_check(t, "k", T0 + 10000), 0);
    throttle_free(t);
}

static void flood_of_keys_stays_bounded(void **state)
{
    (void)state;
    struct throttle *t = throttle_new(16, 2, 900);
    char key[32];
    for (int i = 0; i < 10000; i++) {
        snprintf(key, sizeof key, "a:%d", i);
        throttle_fail(t, key, T0 + i);
        throttle_fail(t, key, T0 + i);
        assert_true(throttle_check(t, key, T0 + i) > 0); /* the newest key is held */
    }
    /* a key flooded out of the table is forgotten, never confused with another */
    assert_int_equal(throttle_check(t, "a:0", T0 + 10000), 0);
    throttle_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(blocks_after_max_failures),
        cmocka_unit_test(clear_resets),
        cmocka_unit_test(window_counts_from_first_failure),
        cmocka_unit_test(flood_of_keys_stays_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
