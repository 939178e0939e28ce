/* json.c: parsing untrusted JSON bodies with every cap applied, and typed field getters that
 * produce the client-facing message. Not for: card schemas (cards/ owns those). */
#include "base.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int json_nesting_depth(const char *data, size_t len, int stop)
{
    int depth = 0, deepest = 0;
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        char c = data[i];
        if (in_string) {
            if (c == '\\')
                i++; /* skip the escaped byte, whatever it is */
            else if (c == '"')
                in_string = false;
            continue;
        }
        if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > deepest) {
                deepest = depth;
                if (deepest > stop)
                    return deepest;
            }
        } else if ((c == ']' || c == '}') && depth > 0) {
            depth--;
        }
    }
    return deepest;
}

json_t *json_parse_object(const char *data, size_t len, int max_depth, int *err, char msg[160])
{
    if (json_nesting_depth(data, len, max_depth) > max_depth) {
        *err = -ERR_INVALID_JSON;
        snprintf(msg, 160, "JSON nesting deeper than %d levels", max_depth);
        return NULL;
    }
    json_error_t je;
    json_t *j = json_loadb(data, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
    if (!j) {
        *err = -ERR_INVALID_JSON;
        snprintf(msg, 160, "invalid JSON at line %d column %d: %s", je.line, je.column, je.text);
        return NULL;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        *err = -ERR_BAD_REQUEST;
        snprintf(msg, 160, "the body must be a JSON object");
        return NULL;
    }
    *err = 0;
    return j;
}

size_t utf8_length(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

/* C0 controls, DEL, C1 controls (U+0080..U+009F, UTF-8 C2 80..C2 9F) and the line and
 * paragraph separators U+2028/U+2029 (E2 80 A8/A9). */
static bool has_control_chars(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p == 0x7F)
            return true;
        if (p[0] == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F)
            return true;
        if (p[0] == 0xE2 && p[1] == 0x80 && (p[2] == 0xA8 || p[2] == 0xA9))
            return true;
    }
    return false;
}

int json_get_string(json_t *obj, const char *key, bool required, size_t min_chars, size_t max_chars,
                    bool single_line, const char **out, char msg[160])
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v || json_is_null(v)) {
        if (!required)
            return 0;
        snprintf(msg, 160, "'%s' is required", key);
        return -ERR_INVALID_FIELD;
    }
    if (!json_is_string(v)) {
        snprintf(msg, 160, "'%s' must be a string", key);
        return -ERR_INVALID_FIELD;
    }
    const char *s = json_string_value(v);
    size_t n = utf8_length(s);
    if (n < min_chars || n > max_chars) {
        snprintf(msg, 160, "'%s' must have %zu to %zu characters", key, min_chars, max_chars);
        return -ERR_INVALID_FIELD;
    }
    if (single_line && has_control_chars(s)) {
        snprintf(msg, 160, "'%s' must not contain control characters", key);
        return -ERR_INVALID_FIELD;
    }
    *out = s;
    return 0;
}

char *json_dump_compact(const json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT);
    if (!s)
        base_bug(__FILE__, __LINE__, "json_dumps failed");
    return s;
}

bool parse_id(const char *s, int64_t *out)
{
    if (!s || *s < '1' || *s > '9')
        return false;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}
