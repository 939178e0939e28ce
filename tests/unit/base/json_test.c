/* json_test.c: parsing untrusted JSON (caps, strictness, messages), the nesting scan, the field
 * getters, utf8_length and parse_id (src/base/json.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <setjmp.h>

#include <cmocka.h>

#include "base/base.h"

#include <stdlib.h>
#include <string.h>

static json_t *parse(const char *text, int *err, char msg[160])
{
    return json_parse_object(text, strlen(text), JSON_MAX_DEPTH, err, msg);
}

static void parse_valid_object(void **state)
{
    (void)state;
    int err = 1;
    char msg[160] = "";
    json_t *j = parse("{\"name\":\"x\",\"n\":[1,2,{\"k\":null}]}", &err, msg);
    assert_non_null(j);
    assert_int_equal(err, 0);
    assert_string_equal(json_string_value(json_object_get(j, "name")), "x");
    assert_int_equal(json_array_size(json_object_get(j, "n")), 3);
    json_decref(j);
}

static void parse_invalid_reports_position(void **state)
{
    (void)state;
    int err = 0;
    char msg[160] = "";
    assert_null(parse("{\n  \"a\": 1,\n  \"b\": }", &err, msg));
    assert_int_equal(err, -ERR_INVALID_JSON);
    assert_non_null(strstr(msg, "line 3 column"));
    assert_non_null(strstr(msg, "invalid JSON"));
}

static void parse_rejects_non_objects(void **state)
{
    (void)state;
    int err = 0;
    char msg[160] = "";
    assert_null(parse("[1, 2]", &err, msg));
    assert_int_equal(err, -ERR_BAD_REQUEST);
    assert_string_equal(msg, "the body must be a JSON object");
    err = 0;
    assert_null(parse("[]", &err, msg));
    assert_int_equal(err, -ERR_BAD_REQUEST);
    static const char *const scalars[] = {"42", "\"s\"", "null", "true", " 1.5 "};
    for (size_t i = 0; i < sizeof scalars / sizeof scalars[0]; i++) {
        err = 0;
        assert_null(parse(scalars[i], &err, msg));
        assert_int_equal(err, -ERR_BAD_REQUEST);
    }
}

static void parse_rejects_bad_texts(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "{",
        "{\"a\":1,\"a\":2}",         /* duplicate key */
        "{\"a\":{\"b\":1,\"b\":1}}", /* duplicate key, nested */
        "{\"a\":\"\xff\"}",          /* invalid UTF-8 */
        "{\"a\":\"\xc3\"}",          /* truncated sequence */
        "{\"a\":\"\xed\xa0\x80\"}",  /* UTF-16 surrogate encoded in UTF-8 */
        "{\"a\":\"\\u0000\"}",       /* NUL escape */
        "{\"a\\u0000\":1}",          /* NUL in a key */
        "{} x",                      /* trailing garbage */
        "{}{}",
        "{'a':1}",
        "{\"a\":01}",
        "{\"a\":NaN}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int err = 0;
        char msg[160] = "";
        json_t *j = parse(bad[i], &err, msg);
        if (j) {
            json_decref(j);
            fail_msg("accepted bad JSON #%zu: %s", i, bad[i]);
        }
        assert_int_equal(err, -ERR_INVALID_JSON);
        assert_true(msg[0] != '\0');
    }
}

static void parse_rejects_raw_nul_byte(void **state)
{
    (void)state;
    static const char with_nul[] = "{\"a\":\"x\0y\"}";
    int err = 0;
    char msg[160] = "";
    assert_null(json_parse_object(with_nul, sizeof with_nul - 1, JSON_MAX_DEPTH, &err, msg));
    assert_int_equal(err, -ERR_INVALID_JSON);
    static const char trailing_nul[] = "{\"a\":1}\0";
    err = 0;
    assert_null(
        json_parse_object(trailing_nul, sizeof trailing_nul - 1, JSON_MAX_DEPTH, &err, msg));
    assert_int_equal(err, -ERR_INVALID_JSON);
}

/* {"a": + (depth-1) arrays + } : an object at the top and depth levels in all */
static char *nested(int depth)
{
    size_t len = 6 + 2 * (size_t)depth;
    char *s = malloc(len + 1);
    size_t n = 0;
    n += (size_t)sprintf(s, "{\"a\":");
    for (int i = 1; i < depth; i++)
        s[n++] = '[';
    for (int i = 1; i < depth; i++)
        s[n++] = ']';
    s[n++] = '}';
    s[n] = '\0';
    return s;
}

static void parse_depth_cap(void **state)
{
    (void)state;
    int err = 1;
    char msg[160] = "";
    char *ok = nested(32);
    assert_int_equal(json_nesting_depth(ok, strlen(ok), 100), 32);
    json_t *j = parse(ok, &err, msg);
    assert_non_null(j);
    assert_int_equal(err, 0);
    json_decref(j);
    free(ok);

    char *deep = nested(33);
    assert_int_equal(json_nesting_depth(deep, strlen(deep), 100), 33);
    err = 0;
    assert_null(parse(deep, &err, msg));
    assert_int_equal(err, -ERR_INVALID_JSON);
    assert_non_null(strstr(msg, "deeper than 32"));
    free(deep);
}

static void parse_many_brackets_fast(void **state)
{
    (void)state;
    size_t n = 100000;
    char *s = malloc(n);
    memset(s, '[', n);
    int64_t t0 = time_mono_ms();
    int err = 0;
    char msg[160] = "";
    assert_null(json_parse_object(s, n, JSON_MAX_DEPTH, &err, msg));
    int64_t took = time_mono_ms() - t0;
    assert_int_equal(err, -ERR_INVALID_JSON);
    assert_non_null(strstr(msg, "nesting"));
    /* the scan stops at depth 33: no recursion into jansson, well under a second even with ASan */
    assert_true(took < 500);
    assert_int_equal(json_nesting_depth(s, n, 32), 33);
    free(s);
}

static void nesting_ignores_strings(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int depth;
    } cases[] = {
        {"", 0},
        {"{}", 1},
        {"[[]]", 2},
        {"[[],[[]]]", 3},
        {"{\"a\":\"[[[[{{{{\"}", 1},
        {"{\"a\":\"\\\"[[[\"}", 1},         /* an escaped quote does not end the string */
        {"{\"a\":\"\\\\\",\"b\":[[]]}", 3}, /* an escaped backslash does not escape the quote */
        {"]]]]{", 1},                       /* closing below zero is ignored */
        {"\"[[[", 0},                       /* an unterminated string hides the rest */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int d = json_nesting_depth(cases[i].text, strlen(cases[i].text), 100);
        if (d != cases[i].depth)
            fail_msg("depth of %s: %d, expected %d", cases[i].text, d, cases[i].depth);
    }
    /* stops early: returns the first depth past stop */
    assert_int_equal(json_nesting_depth("[[[[[[[[[[", 10, 3), 4);
}

static void get_string_rules(void **state)
{
    (void)state;
    char e80[161] = "", e81[163] = "";
    for (int i = 0; i < 80; i++)
        strcat(e80, "\xc3\xa9"); /* é: 2 bytes, 1 character */
    snprintf(e81, sizeof e81, "%s\xc3\xa9", e80);
    json_t *o =
        json_pack("{s:s, s:i, s:n, s:s, s:s, s:s, s:s, s:s}", "name", "bob", "num", 5, "nothing",
                  "e80", e80, "e81", e81, "nl", "a\nb", "del", "a\x7f", "empty", "");
    assert_non_null(o);
    const char *out = "unset";
    char msg[160] = "";

    assert_int_equal(json_get_string(o, "name", true, 1, 80, true, &out, msg), 0);
    assert_string_equal(out, "bob");

    assert_int_equal(json_get_string(o, "missing", true, 1, 80, true, &out, msg),
                     -ERR_INVALID_FIELD);
    assert_null(out);
    assert_string_equal(msg, "'missing' is required");
    out = "unset";
    assert_int_equal(json_get_string(o, "missing", false, 1, 80, true, &out, msg), 0);
    assert_null(out);
    assert_int_equal(json_get_string(o, "nothing", false, 1, 80, true, &out, msg), 0);
    assert_null(out);
    assert_int_equal(json_get_string(o, "nothing", true, 1, 80, true, &out, msg),
                     -ERR_INVALID_FIELD);

    assert_int_equal(json_get_string(o, "num", true, 1, 80, true, &out, msg), -ERR_INVALID_FIELD);
    assert_string_equal(msg, "'num' must be a string");
    assert_null(out);

    assert_int_equal(strlen(e80), 160);
    assert_int_equal(json_get_string(o, "e80", true, 1, 80, true, &out, msg), 0);
    assert_string_equal(out, e80);
    assert_int_equal(json_get_string(o, "e81", true, 1, 80, true, &out, msg), -ERR_INVALID_FIELD);
    assert_string_equal(msg, "'e81' must have 1 to 80 characters");
    assert_int_equal(json_get_string(o, "empty", true, 1, 80, true, &out, msg), -ERR_INVALID_FIELD);
    assert_int_equal(json_get_string(o, "empty", true, 0, 80, true, &out, msg), 0);

    assert_int_equal(json_get_string(o, "nl", true, 1, 80, true, &out, msg), -ERR_INVALID_FIELD);
    assert_string_equal(msg, "'nl' must not contain control characters");
    assert_int_equal(json_get_string(o, "del", true, 1, 80, true, &out, msg), -ERR_INVALID_FIELD);
    assert_int_equal(json_get_string(o, "nl", true, 1, 80, false, &out, msg), 0);
    assert_string_equal(out, "a\nb");
    json_decref(o);

    /* C1 controls and the Unicode line/paragraph separators are line breaks too; neighbours of
     * theirs in UTF-8 are ordinary characters */
    static const struct {
        const char *s;
        bool control;
    } cases[] = {
        {"a\xc2\x80", true}, /* U+0080 */
        {"a\xc2\x85"
         "b",
         true},                  /* NEL */
        {"\xc2\x9f", true},      /* U+009F */
        {"\xc2\xa0", false},     /* no-break space */
        {"\xc2\xa9", false},     /* copyright sign */
        {"x\xe2\x80\xa8", true}, /* U+2028 */
        {"\xe2\x80\xa9y", true}, /* U+2029 */
        {"\xe2\x80\xa6", false}, /* ellipsis */
        {"\xe2\x82\xac", false}, /* euro sign */
        {"tab\there", true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        o = json_pack("{s:s}", "k", cases[i].s);
        assert_non_null(o);
        int rc = json_get_string(o, "k", true, 1, 80, true, &out, msg);
        if (rc != (cases[i].control ? -ERR_INVALID_FIELD : 0))
            fail_msg("case %zu: rc %d", i, rc);
        assert_int_equal(json_get_string(o, "k", true, 1, 80, false, &out, msg), 0);
        json_decref(o);
    }
}

static void utf8_length_counts_code_points(void **state)
{
    (void)state;
    assert_int_equal(utf8_length(""), 0);
    assert_int_equal(utf8_length("abc"), 3);
    assert_int_equal(utf8_length("\xc3\xa9"), 1);                 /* é */
    assert_int_equal(utf8_length("\xe6\x97\xa5\xe6\x9c\xac"), 2); /* 日本 */
    assert_int_equal(utf8_length("\xf0\x9f\x98\x80!"), 2);        /* emoji + ! */
}

static void parse_id_rules(void **state)
{
    (void)state;
    int64_t v = 0;
    assert_true(parse_id("1", &v));
    assert_int_equal(v, 1);
    assert_true(parse_id("42", &v));
    assert_int_equal(v, 42);
    assert_true(parse_id("9223372036854775807", &v));
    assert_true(v == INT64_MAX);

    static const char *const bad[] = {
        "0",
        "-1",
        "01",
        "+1",
        " 1",
        "1 ",
        "1a",
        "",
        "a",
        "99999999999999999999",
        "9223372036854775808",
        "1.0",
        "0x10",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        v = 12345;
        if (parse_id(bad[i], &v))
            fail_msg("parse_id accepted '%s'", bad[i]);
        assert_int_equal(v, 12345); /* untouched on failure */
    }
    assert_false(parse_id(NULL, &v));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_valid_object),
        cmocka_unit_test(parse_invalid_reports_position),
        cmocka_unit_test(parse_rejects_non_objects),
        cmocka_unit_test(parse_rejects_bad_texts),
        cmocka_unit_test(parse_rejects_raw_nul_byte),
        cmocka_unit_test(parse_depth_cap),
        cmocka_unit_test(parse_many_brackets_fast),
        cmocka_unit_test(nesting_ignores_strings),
        cmocka_unit_test(get_string_rules),
        cmocka_unit_test(utf8_length_counts_code_points),
        cmocka_unit_test(parse_id_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
