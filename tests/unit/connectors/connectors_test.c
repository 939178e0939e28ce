/* connectors_test.c: the catalog and the settings schema every type goes through
 * (src/connectors/catalog.c, common.c). Signature checks of each type are tested here too, once
 * written. Usage: connectors_test <fixtures dir>. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <setjmp.h>

#include <cmocka.h>

#include "connectors/connectors.h"

#include <string.h>

static void catalog_lists_every_type_with_settings(void **state)
{
    (void)state;
    json_t *cat = connectors_catalog_json();
    assert_true(json_array_size(cat) >= 8);
    size_t i;
    json_t *t;
    json_array_foreach(cat, i, t)
    {
        const char *id = json_string_value(json_object_get(t, "id"));
        assert_non_null(connectors_find(id));
        assert_true(json_is_array(json_object_get(t, "settings")));
        assert_non_null(json_string_value(json_object_get(t, "setup")));
    }
    assert_null(connectors_find("nope"));
    json_decref(cat);
}

static void settings_unknown_field_refused(void **state)
{
    (void)state;
    char msg[160];
    json_t *in = json_pack("{s:s}", "colour", "red");
    assert_null(connectors_settings_check(connectors_find("incoming_webhook"), in, NULL, msg));
    assert_non_null(strstr(msg, "colour"));
    json_decref(in);
    /* nothing given: an empty object for a type without settings of its own */
    json_t *out = connectors_settings_check(connectors_find("incoming_webhook"), NULL, NULL, msg);
    assert_non_null(out);
    assert_int_equal(json_object_size(out), 0);
    json_decref(out);
}

static void md_escape_and_first_line(void **state)
{
    (void)state;
    /* what markdown would read as emphasis, links, images, HTML, code, entities */
    char *s = connector_md_escape("a *b* [c](d) <e> `f` _g_ ![i](j) AT&amp;T ~k~ |");
    assert_string_equal(s, "a \\*b\\* \\[c\\](d) \\<e\\> \\`f\\` \\_g\\_ \\!\\[i\\](j) "
                           "AT\\&amp;T \\~k\\~ \\|");
    free(s);
    /* block syntax only where it is block syntax: at the start of a line */
    s = connector_md_escape("# h\n- item\n  + x\n12. y\n===\nv1.2-rc host-3 a+b #5 3) ok");
    assert_string_equal(s, "\\# h\n\\- item\n  \\+ x\n12\\. y\n\\===\nv1.2-rc host-3 a+b #5 3) ok");
    free(s);
    s = connector_md_escape("1) a\n7.b");
    assert_string_equal(s, "1\\) a\n7\\.b");
    free(s);
    s = connector_first_line("one\ntwo", 80);
    assert_string_equal(s, "one");
    free(s);
    s = connector_first_line("abcdef", 3);
    assert_string_equal(s, "abc\xE2\x80\xA6");
    free(s);
    s = connector_first_line("h\xC3\xA9llo", 2);
    assert_string_equal(s, "h\xC3\xA9\xE2\x80\xA6");
    free(s);
}

static void jpath_walks_members(void **state)
{
    (void)state;
    json_t *p = json_pack("{s:{s:{s:s}}}", "a", "b", "c", "x");
    assert_string_equal(connector_jpath(p, "a", "b", "c", NULL), "x");
    assert_null(connector_jpath(p, "a", "z", "c", NULL));
    assert_null(connector_jpath(p, "a", "b", NULL));
    json_decref(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(catalog_lists_every_type_with_settings),
        cmocka_unit_test(settings_unknown_field_refused),
        cmocka_unit_test(md_escape_and_first_line),
        cmocka_unit_test(jpath_walks_members),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
