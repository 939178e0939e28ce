/* fuzz_ids.c: parse_id (src/base/json.c) and the Last-Event-ID rules built on it
 * (src/api/events.c: absent = -1, "0" = 0, otherwise an id). Checks parse_id against an
 * independent definition: a canonical decimal (no sign, space or leading zero) in [1, INT64_MAX],
 * which round-trips through printf. */
#include "fuzz.h"

#include "base/base.h"

#include <inttypes.h>
#include <string.h>

static bool is_canonical_id(const char *s)
{
    static const char max[] = "9223372036854775807";
    size_t n = strlen(s);
    if (n == 0 || n > sizeof max - 1 || s[0] < '1' || s[0] > '9')
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return n < sizeof max - 1 || strcmp(s, max) <= 0;
}

/* The Last-Event-ID rule of api/events.c: 0 = ok with *out set, -1 = refused. */
static int last_event_id(const char *v, int64_t *out)
{
    *out = -1;
    if (!v)
        return 0;
    if (!strcmp(v, "0")) {
        *out = 0;
        return 0;
    }
    return parse_id(v, out) ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = xstrndup((const char *)data, size);
    int64_t v = -42;
    bool ok = parse_id(s, &v);
    FUZZ_CHECK(ok == is_canonical_id(s));
    if (ok) {
        FUZZ_CHECK(v >= 1);
        char back[32];
        snprintf(back, sizeof back, "%" PRId64, v);
        FUZZ_CHECK(!strcmp(back, s));
    } else {
        FUZZ_CHECK(v == -42); /* untouched */
    }

    int64_t last;
    int rc = last_event_id(s, &last);
    FUZZ_CHECK(rc == 0 ? last >= 0 : last == -1);
    FUZZ_CHECK(rc == 0 || (!ok && strcmp(s, "0")));
    FUZZ_CHECK(last_event_id(NULL, &last) == 0 && last == -1);
    free(s);
    return 0;
}
