/* error_test.c: the one error table and its lookups (src/base/error.c, errors.def). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <setjmp.h>

#include <cmocka.h>

#include "base/base.h"

#include <string.h>

static void lookups(void **state)
{
    (void)state;
    assert_int_equal(err_status(-ERR_NOT_FOUND), 404);
    assert_int_equal(err_status(ERR_NOT_FOUND), 404); /* either sign */
    assert_string_equal(err_code(-ERR_NOT_FOUND), "not_found");
    assert_int_equal(err_status(-ERR_BAD_REQUEST), 400);
    assert_int_equal(err_status(-ERR_INVALID_JSON), 400);
    assert_string_equal(err_code(-ERR_INVALID_JSON), "invalid_json");
    assert_int_equal(err_status(-ERR_UNAUTHORIZED), 401);
    assert_int_equal(err_status(-ERR_FORBIDDEN), 403);
    assert_int_equal(err_status(-ERR_METHOD_NOT_ALLOWED), 405);
    assert_int_equal(err_status(-ERR_CONFLICT), 409);
    assert_string_equal(err_code(-ERR_LAST_OWNER), "last_owner");
    assert_int_equal(err_status(-ERR_LAST_OWNER), 409);
    assert_string_equal(err_message(-ERR_LAST_OWNER), "a team needs at least one owner");
    assert_int_equal(err_status(-ERR_PAYLOAD_TOO_LARGE), 413);
    assert_int_equal(err_status(-ERR_TOO_MANY_REQUESTS), 429);
    assert_int_equal(err_status(-ERR_INTERNAL), 500);
    assert_int_equal(err_status(-ERR_UNAVAILABLE), 503);
    assert_int_equal(err_status(0), 200);
    assert_string_equal(err_code(0), "ok");
}

static void out_of_range_is_internal(void **state)
{
    (void)state;
    assert_int_equal(err_status(ERR__COUNT), 500);
    assert_int_equal(err_status(-ERR__COUNT), 500);
    assert_string_equal(err_code(-1000), "internal");
    assert_string_equal(err_message(12345), "internal error");
}

static void table_is_complete_and_unique(void **state)
{
    (void)state;
    for (int e = 1; e < ERR__COUNT; e++) {
        int st = err_status(-e);
        assert_in_range(st, 400, 599);
        assert_non_null(err_code(-e));
        assert_true(strlen(err_code(-e)) > 0);
        assert_true(strlen(err_message(-e)) > 0);
        for (int f = 1; f < e; f++)
            assert_string_not_equal(err_code(-e), err_code(-f));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lookups),
        cmocka_unit_test(out_of_range_is_internal),
        cmocka_unit_test(table_is_complete_and_unique),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
