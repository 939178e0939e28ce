/* time_test.c: clocks and RFC 3339 formatting (src/base/time.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <setjmp.h>

#include <cmocka.h>

#include "base/base.h"

#include <string.h>

static void rfc3339_format(void **state)
{
    (void)state;
    char out[32];
    time_format_rfc3339(0, out);
    assert_string_equal(out, "1970-01-01T00:00:00.000Z");
    time_format_rfc3339(1700000000123, out);
    assert_string_equal(out, "2023-11-14T22:13:20.123Z");
    time_format_rfc3339(951782400999, out); /* leap day */
    assert_string_equal(out, "2000-02-29T00:00:00.999Z");
    time_format_rfc3339(253402300799000, out);
    assert_string_equal(out, "9999-12-31T23:59:59.000Z");
    assert_int_equal(strlen(out), 24);
}

static void clocks(void **state)
{
    (void)state;
    int64_t now = time_now_ms();
    assert_true(now > 1577836800000); /* after 2020-01-01 */
    int64_t a = time_mono_ms(), b = time_mono_ms();
    assert_true(b >= a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rfc3339_format),
        cmocka_unit_test(clocks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
