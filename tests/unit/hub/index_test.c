/* index_test.c: the id -> streams map (src/hub/index.c). Streams are opaque here: the index
 * only stores and compares their pointers. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <setjmp.h>

#include <cmocka.h>

#include "hub/hub_int.h"

static struct hub_stream *fake(uintptr_t n)
{
    return (struct hub_stream *)(n * 16);
}

static bool holds(struct index *ix, int64_t key, struct hub_stream *s)
{
    uint32_t n;
    struct hub_stream **v = index_get(ix, key, &n);
    for (uint32_t i = 0; i < n; i++)
        if (v[i] == s)
            return true;
    return false;
}

static void add_get_remove(void **state)
{
    (void)state;
    struct index ix;
    index_init(&ix);
    uint32_t n = 99;
    assert_null(index_get(&ix, 5, &n));
    assert_int_equal(n, 0);

    for (uintptr_t i = 1; i <= 10; i++) /* past the first allocation of a slot */
        index_add(&ix, 5, fake(i));
    index_add(&ix, 6, fake(1));
    assert_non_null(index_get(&ix, 5, &n));
    assert_int_equal(n, 10);
    for (uintptr_t i = 1; i <= 10; i++)
        assert_true(holds(&ix, 5, fake(i)));
    index_get(&ix, 6, &n);
    assert_int_equal(n, 1);

    index_remove(&ix, 5, fake(3));
    index_remove(&ix, 5, fake(3)); /* twice: no effect */
    index_remove(&ix, 5, fake(99));
    index_remove(&ix, 77, fake(1)); /* unknown key */
    index_get(&ix, 5, &n);
    assert_int_equal(n, 9);
    assert_false(holds(&ix, 5, fake(3)));
    assert_true(holds(&ix, 5, fake(10)));
    assert_true(holds(&ix, 6, fake(1))); /* other keys untouched */
    for (uintptr_t i = 1; i <= 10; i++)
        index_remove(&ix, 5, fake(i));
    index_get(&ix, 5, &n);
    assert_int_equal(n, 0);
    index_release(&ix);
}

static void grows_past_64_keys(void **state)
{
    (void)state;
    struct index ix;
    index_init(&ix);
    size_t cap0 = ix.cap;
    /* keys that are spread out and keys that are dense, negative ones too */
    for (int64_t k = 1; k <= 1000; k++) {
        index_add(&ix, k, fake((uintptr_t)k));
        index_add(&ix, k * 1000003, fake((uintptr_t)k + 5000));
        index_add(&ix, -k, fake((uintptr_t)k + 10000));
    }
    assert_true(ix.cap > cap0);
    assert_int_equal(ix.used, 3000);
    assert_true(ix.used * 2 <= ix.cap);
    for (int64_t k = 1; k <= 1000; k++) {
        uint32_t n;
        struct hub_stream **v = index_get(&ix, k, &n);
        assert_int_equal(n, 1);
        assert_ptr_equal(v[0], fake((uintptr_t)k));
        v = index_get(&ix, k * 1000003, &n);
        assert_int_equal(n, 1);
        assert_ptr_equal(v[0], fake((uintptr_t)k + 5000));
        v = index_get(&ix, -k, &n);
        assert_int_equal(n, 1);
        assert_ptr_equal(v[0], fake((uintptr_t)k + 10000));
    }
    uint32_t n;
    assert_null(index_get(&ix, 1001, &n));
    index_release(&ix);
}

/* Keys whose last stream went are erased (stream ids never repeat, so keeping them would grow the
 * table for ever), and erasing never hides a key that probed past the erased slot. */
static void erased_keys_free_their_slots(void **state)
{
    (void)state;
    struct index ix;
    index_init(&ix);
    for (int round = 0; round < 50; round++) { /* many short-lived keys, like stream ids */
        for (int64_t k = 1; k <= 200; k++)
            index_add(&ix, round * 1000 + k, fake((uintptr_t)k));
        for (int64_t k = 1; k <= 200; k += 2) /* half go: every other one, mid-cluster */
            index_remove(&ix, round * 1000 + k, fake((uintptr_t)k));
        for (int64_t k = 1; k <= 200; k++) {
            uint32_t n;
            struct hub_stream **v = index_get(&ix, round * 1000 + k, &n);
            if (k % 2) {
                assert_int_equal(n, 0);
            } else {
                assert_int_equal(n, 1);
                assert_ptr_equal(v[0], fake((uintptr_t)k));
            }
        }
        for (int64_t k = 2; k <= 200; k += 2)
            index_remove(&ix, round * 1000 + k, fake((uintptr_t)k));
        assert_int_equal(ix.used, 0);
    }
    assert_true(ix.cap <= 1024); /* 200 live keys at most: the table did not grow with history */
    index_release(&ix);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(add_get_remove),
        cmocka_unit_test(grows_past_64_keys),
        cmocka_unit_test(erased_keys_free_their_slots),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
