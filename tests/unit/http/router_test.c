/* router_test.c: matching a method and path against a routes table (src/http/router.c), on a
 * small table and on the real one (src/api/routes.def). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <setjmp.h>

#include <cmocka.h>

#include "api/api.h"
#include "http/http.h"

#include <stdlib.h>
#include <string.h>

static int h_any(struct http_req *r)
{
    (void)r;
    return 0;
}

static const struct http_route table[] = {
    {"GET", "/a", h_any, 0, NULL},
    {"POST", "/a", h_any, 0, NULL},
    {"GET", "/a/{}", h_any, 0, NULL},
    {"DELETE", "/a/{}/b/{}", h_any, 0, NULL},
    {"PUT", "/a/{}/b/{}", h_any, 0, NULL},
    {"GET", "/x/{}/{}/{}/{}", h_any, 0, NULL},
    {"GET", "/x/{}/{}/{}/{}/{}", h_any, 0, NULL}, /* more than HTTP_MAX_PARAMS: never matches */
};
#define N_TABLE (sizeof table / sizeof table[0])

struct result {
    const struct http_route *route;
    const char *params[HTTP_MAX_PARAMS];
    size_t n;
    int status;
    char allow[128];
};

static struct result route(const struct http_route *routes, size_t n, const char *method,
                           const char *path)
{
    struct result r;
    memset(&r, 0, sizeof r);
    r.status = -1;
    r.route = http_route_match(routes, n, method, path, r.params, &r.n, &r.status, r.allow,
                               sizeof r.allow);
    if (r.route)
        assert_int_equal(r.status, -1); /* untouched on a match */
    else
        assert_int_equal(r.n, 0);
    return r;
}

static void exact_and_params(void **state)
{
    (void)state;
    struct result r = route(table, N_TABLE, "GET", "/a");
    assert_ptr_equal(r.route, &table[0]);
    assert_int_equal(r.n, 0);
    r = route(table, N_TABLE, "POST", "/a");
    assert_ptr_equal(r.route, &table[1]);

    r = route(table, N_TABLE, "GET", "/a/42");
    assert_ptr_equal(r.route, &table[2]);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.params[0], "42");
    http_params_free(r.params, r.n);
    assert_null(r.params[0]);

    r = route(table, N_TABLE, "DELETE", "/a/7/b/bob.smith");
    assert_ptr_equal(r.route, &table[3]);
    assert_int_equal(r.n, 2);
    assert_string_equal(r.params[0], "7");
    assert_string_equal(r.params[1], "bob.smith");
    http_params_free(r.params, r.n);

    r = route(table, N_TABLE, "GET", "/x/1/2/3/4");
    assert_ptr_equal(r.route, &table[5]);
    assert_int_equal(r.n, 4);
    assert_string_equal(r.params[3], "4");
    http_params_free(r.params, r.n);
    r = route(table, N_TABLE, "GET", "/x/1/2/3/4/5");
    assert_null(r.route);
    assert_int_equal(r.status, 404);
}

static void not_found_vs_not_allowed(void **state)
{
    (void)state;
    struct result r = route(table, N_TABLE, "GET", "/nope");
    assert_null(r.route);
    assert_int_equal(r.status, 404);
    assert_string_equal(r.allow, "");

    r = route(table, N_TABLE, "DELETE", "/a");
    assert_null(r.route);
    assert_int_equal(r.status, 405);
    assert_string_equal(r.allow, "GET, POST");

    r = route(table, N_TABLE, "GET", "/a/1/b/2");
    assert_int_equal(r.status, 405);
    assert_string_equal(r.allow, "DELETE, PUT");

    r = route(table, N_TABLE, "get", "/a"); /* methods are case-sensitive */
    assert_int_equal(r.status, 405);
}

static void head_is_get(void **state)
{
    (void)state;
    struct result r = route(table, N_TABLE, "HEAD", "/a/9");
    assert_ptr_equal(r.route, &table[2]);
    assert_string_equal(r.params[0], "9");
    http_params_free(r.params, r.n);
    r = route(table, N_TABLE, "HEAD", "/a/1/b/2"); /* no GET there */
    assert_null(r.route);
    assert_int_equal(r.status, 405);
}

static void strict_segments(void **state)
{
    (void)state;
    static const char *const paths[] = {
        "/a/",                                        /* trailing slash */
        "/a//", "/a/1/", "//a", "/a/1/b/", "/a//b/2", /* empty segments */
        "",     "/",     "a",   "/ab",     "/a/1/b/2/",
    };
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        struct result r = route(table, N_TABLE, "GET", paths[i]);
        if (r.route)
            fail_msg("'%s' matched %s", paths[i], r.route->pattern);
        assert_int_equal(r.status, 404);
    }
}

static void long_segments(void **state)
{
    (void)state;
    char path[600];
    strcpy(path, "/a/");
    memset(path + 3, 'x', 256);
    path[3 + 256] = '\0';
    struct result r = route(table, N_TABLE, "GET", path);
    assert_ptr_equal(r.route, &table[2]);
    assert_int_equal(strlen(r.params[0]), 256);
    http_params_free(r.params, r.n);

    memset(path + 3, 'x', 257);
    path[3 + 257] = '\0';
    r = route(table, N_TABLE, "GET", path);
    assert_null(r.route);
    assert_int_equal(r.status, 404);
}

static void small_allow_buffer(void **state)
{
    (void)state;
    const char *params[HTTP_MAX_PARAMS];
    size_t n;
    int status = 0;
    char allow[5];
    assert_null(
        http_route_match(table, N_TABLE, "PATCH", "/a", params, &n, &status, allow, sizeof allow));
    assert_int_equal(status, 405);
    assert_true(strlen(allow) < sizeof allow); /* truncated, still terminated */
    assert_int_equal(strncmp(allow, "GET", 3), 0);
}

static void real_routes(void **state)
{
    (void)state;
    struct result r = route(api_routes, api_n_routes, "GET", "/api/v1/health");
    assert_non_null(r.route);
    assert_true(r.route->flags & HTTP_PUBLIC);

    r = route(api_routes, api_n_routes, "DELETE", "/api/v1/teams/3/members/alice");
    assert_non_null(r.route);
    assert_int_equal(r.n, 2);
    assert_string_equal(r.params[0], "3");
    assert_string_equal(r.params[1], "alice");
    http_params_free(r.params, r.n);

    r = route(api_routes, api_n_routes, "POST", "/api/v1/channels/5/messages");
    assert_non_null(r.route);
    assert_true(r.route->flags & HTTP_BODY);
    http_params_free(r.params, r.n);

    r = route(api_routes, api_n_routes, "GET", "/api/v1/events");
    assert_non_null(r.route);
    assert_true(r.route->flags & HTTP_STREAM);

    r = route(api_routes, api_n_routes, "PUT", "/api/v1/session");
    assert_int_equal(r.status, 405);
    assert_string_equal(r.allow, "POST, GET, DELETE");

    r = route(api_routes, api_n_routes, "PATCH", "/api/v1/teams/1/members");
    assert_int_equal(r.status, 405);
    assert_string_equal(r.allow, "GET, POST");

    r = route(api_routes, api_n_routes, "GET", "/api/v1/teams/");
    assert_int_equal(r.status, 404);
    r = route(api_routes, api_n_routes, "GET", "/api/v2/teams");
    assert_int_equal(r.status, 404);
    r = route(api_routes, api_n_routes, "GET", "/api/v1/teams/1/members/");
    assert_int_equal(r.status, 404);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(exact_and_params), cmocka_unit_test(not_found_vs_not_allowed),
        cmocka_unit_test(head_is_get),      cmocka_unit_test(strict_segments),
        cmocka_unit_test(long_segments),    cmocka_unit_test(small_allow_buffer),
        cmocka_unit_test(real_routes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
