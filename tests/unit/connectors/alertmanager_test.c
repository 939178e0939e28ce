/* alertmanager_test.c: the alertmanager connector's signature check and what the golden fixtures do not pin
 * down (src/connectors/alertmanager.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <setjmp.h>

#include <cmocka.h>

#include "connectors/connectors.h"

static void type_is_in_the_catalog(void **state)
{
    (void)state;
    const struct connector_type *t = connectors_find("alertmanager");
    assert_non_null(t);
    assert_int_equal(t->kind, CONNECTOR_PUSH);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(type_is_in_the_catalog),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
