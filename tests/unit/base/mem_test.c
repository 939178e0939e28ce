/* mem_test.c: the capped buffer and the allocation helpers (src/base/mem.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <setjmp.h>

#include <cmocka.h>

#include "base/base.h"

#include <stdlib.h>
#include <string.h>

static void buf_cap_enforced(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 10);
    assert_int_equal(b.len, 0);
    assert_int_equal(buf_append(&b, "abcdef", 6), 0);
    assert_int_equal(b.len, 6);
    assert_string_equal(b.data, "abcdef");
    /* past the cap: error, and nothing appended (not even a prefix) */
    assert_int_equal(buf_append(&b, "ghijk", 5), -ERR_PAYLOAD_TOO_LARGE);
    assert_int_equal(b.len, 6);
    assert_string_equal(b.data, "abcdef");
    assert_int_equal(buf_append(&b, "ghij", 4), 0);
    assert_int_equal(b.len, 10);
    assert_string_equal(b.data, "abcdefghij");
    assert_int_equal(buf_append(&b, "", 0), 0);
    assert_int_equal(buf_append(&b, "k", 1), -ERR_PAYLOAD_TOO_LARGE);
    assert_int_equal(b.len, 10);
    assert_int_equal(buf_printf(&b, "%d", 1), -ERR_PAYLOAD_TOO_LARGE);
    assert_string_equal(b.data, "abcdefghij");
    buf_release(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 10); /* reusable with the same cap */
    assert_int_equal(buf_append(&b, "0123456789x", 11), -ERR_PAYLOAD_TOO_LARGE);
    assert_null(b.data);
    buf_release(&b);
}

static void buf_zero_cap(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(buf_append(&b, "a", 1), -ERR_PAYLOAD_TOO_LARGE);
    assert_int_equal(b.len, 0);
    buf_release(&b);
}

static void buf_binary_and_growth(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 1 << 20);
    char chunk[1000];
    for (size_t i = 0; i < sizeof chunk; i++)
        chunk[i] = (char)(i % 251);
    for (int i = 0; i < 100; i++)
        assert_int_equal(buf_append(&b, chunk, sizeof chunk), 0);
    assert_int_equal(b.len, 100000);
    assert_true(b.alloc > b.len);
    assert_int_equal(b.data[b.len], '\0');
    for (int i = 0; i < 100; i++)
        assert_memory_equal(b.data + i * 1000, chunk, sizeof chunk);
    buf_release(&b);
}

static void buf_printf_small_and_large(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 100000);
    assert_int_equal(buf_printf(&b, "%s=%d;", "a", 1), 0);
    assert_string_equal(b.data, "a=1;");
    size_t big = 5000; /* larger than buf_printf's stack buffer */
    char *s = malloc(big + 1);
    memset(s, 'x', big);
    s[big] = '\0';
    assert_int_equal(buf_printf(&b, "[%s]", s), 0);
    assert_int_equal(b.len, 4 + big + 2);
    assert_int_equal(b.data[4], '[');
    assert_memory_equal(b.data + 5, s, big);
    assert_int_equal(b.data[5 + big], ']');
    assert_int_equal(b.data[b.len], '\0');
    free(s);

    /* a large format past the cap: error, nothing appended */
    size_t len_before = b.len;
    s = malloc(100001);
    memset(s, 'y', 100000);
    s[100000] = '\0';
    assert_int_equal(buf_printf(&b, "%s", s), -ERR_PAYLOAD_TOO_LARGE);
    assert_int_equal(b.len, len_before);
    free(s);
    buf_release(&b);
}

static void xstrndup_copies(void **state)
{
    (void)state;
    char *p = xstrndup("abcdef", 3);
    assert_string_equal(p, "abc");
    free(p);
    p = xstrdup("");
    assert_string_equal(p, "");
    free(p);
    p = xmalloc(0); /* never NULL */
    assert_non_null(p);
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(buf_cap_enforced),      cmocka_unit_test(buf_zero_cap),
        cmocka_unit_test(buf_binary_and_growth), cmocka_unit_test(buf_printf_small_and_large),
        cmocka_unit_test(xstrndup_copies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
