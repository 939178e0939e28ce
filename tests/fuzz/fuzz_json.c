/* fuzz_json.c: json_parse_object on arbitrary bytes (src/base/json.c). Checks: an accepted text
 * is an object that survives a dump and re-parse unchanged and within the depth cap; a refused
 * one says why; the field getters and the nesting scan are safe on whatever was accepted. */
#include "fuzz.h"

#include "base/base.h"

#include <string.h>

static void walk(json_t *obj)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        const char *out;
        char msg[160];
        int rc = json_get_string(obj, key, true, 1, 80, true, &out, msg);
        FUZZ_CHECK(rc == 0 || rc == -ERR_INVALID_FIELD);
        if (rc == 0) {
            FUZZ_CHECK(json_is_string(v));
            size_t n = utf8_length(out);
            FUZZ_CHECK(n >= 1 && n <= 80);
            FUZZ_CHECK(n <= strlen(out));
        } else {
            FUZZ_CHECK(out == NULL);
            FUZZ_CHECK(memchr(msg, '\0', sizeof msg) != NULL);
        }
        if (json_is_object(v))
            walk(v);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    int depth = json_nesting_depth(text, size, JSON_MAX_DEPTH);
    FUZZ_CHECK(depth >= 0 && depth <= JSON_MAX_DEPTH + 1);

    int err = 1;
    char msg[160];
    memset(msg, 'X', sizeof msg);
    json_t *j = json_parse_object(text, size, JSON_MAX_DEPTH, &err, msg);
    if (!j) {
        FUZZ_CHECK(err == -ERR_INVALID_JSON || err == -ERR_BAD_REQUEST);
        FUZZ_CHECK(memchr(msg, '\0', sizeof msg) != NULL && msg[0] != '\0');
        return 0;
    }
    FUZZ_CHECK(err == 0);
    FUZZ_CHECK(json_is_object(j));
    FUZZ_CHECK(depth <= JSON_MAX_DEPTH);
    walk(j);

    char *dump = json_dump_compact(j);
    size_t len = strlen(dump);
    FUZZ_CHECK(json_nesting_depth(dump, len, JSON_MAX_DEPTH) <= JSON_MAX_DEPTH);
    int err2 = 1;
    json_t *again = json_parse_object(dump, len, JSON_MAX_DEPTH, &err2, msg);
    FUZZ_CHECK(again != NULL && err2 == 0);
    FUZZ_CHECK(json_equal(j, again));
    json_decref(again);
    free(dump);
    json_decref(j);
    return 0;
}
