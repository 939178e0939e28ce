/* fuzz_router.c: http_route_match against the real routes table (src/http/router.c,
 * src/api/routes.def). Input: METHOD '\n' PATH (no newline: the whole input is a GET path).
 * Checks: a match has the route's method (or HEAD for GET) and one bounded, non-empty,
 * slash-free parameter per placeholder; a miss is 404 or 405 with a terminated Allow list. */
#include "fuzz.h"

#include "api/api.h"
#include "http/http.h"

#include <string.h>

static size_t placeholders(const char *pattern)
{
    size_t n = 0;
    for (const char *p = strstr(pattern, "{}"); p; p = strstr(p + 2, "{}"))
        n++;
    return n;
}

static void check(const char *method, const char *path, size_t allow_len)
{
    const char *params[HTTP_MAX_PARAMS] = {0};
    size_t n = 99;
    int status = 0;
    char allow[128];
    memset(allow, 'X', sizeof allow);
    const struct http_route *r = http_route_match(api_routes, api_n_routes, method, path, params,
                                                  &n, &status, allow, allow_len);
    FUZZ_CHECK(memchr(allow, '\0', allow_len) != NULL);
    if (!r) {
        FUZZ_CHECK(n == 0);
        FUZZ_CHECK(status == 404 || status == 405);
        FUZZ_CHECK(status == 404 ? allow[0] == '\0' : allow_len < 8 || allow[0] != '\0');
        return;
    }
    FUZZ_CHECK(r >= api_routes && r < api_routes + api_n_routes);
    FUZZ_CHECK(!strcmp(r->method, method) ||
               (!strcmp(method, "HEAD") && !strcmp(r->method, "GET")));
    FUZZ_CHECK(n <= HTTP_MAX_PARAMS && n == placeholders(r->pattern));
    size_t total = strlen(r->pattern) - 2 * n;
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(params[i]);
        FUZZ_CHECK(len >= 1 && len <= 256);
        FUZZ_CHECK(!strchr(params[i], '/'));
        total += len;
    }
    FUZZ_CHECK(total == strlen(path)); /* the pattern and the parameters spell the path */
    http_params_free(params, n);
    for (size_t i = 0; i < n; i++)
        FUZZ_CHECK(params[i] == NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = xstrndup((const char *)data, size); /* stops at an embedded NUL, like a C string */
    char *nl = strchr(in, '\n');
    const char *method = "GET", *path = in;
    if (nl) {
        *nl = '\0';
        method = in;
        path = nl + 1;
    }
    check(method, path, 128);
    check(method, path, 8); /* an Allow buffer too small for the list */
    free(in);
    return 0;
}
