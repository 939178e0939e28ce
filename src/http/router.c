/* router.c: matching a method and path against a routes table. Patterns are literal segments and
 * "{}" placeholders, each standing for exactly one non-empty segment. Pure: no I/O. */
#include "http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SEGMENT 256

/* Matches path against pattern; on success fills params (copies). */
static bool match(const char *pattern, const char *path, const char **params, size_t *n_params)
{
    size_t n = 0;
    const char *p = pattern, *u = path;
    while (*p && *u) {
        if (p[0] == '{' && p[1] == '}') {
            size_t len = strcspn(u, "/");
            if (len == 0 || len > MAX_SEGMENT || n == HTTP_MAX_PARAMS)
                goto fail;
            params[n++] = xstrndup(u, len);
            p += 2;
            u += len;
        } else if (*p == *u) {
            p++;
            u++;
        } else {
            goto fail;
        }
    }
    if (*p || *u)
        goto fail;
    *n_params = n;
    return true;
fail:
    http_params_free(params, n);
    return false;
}

void http_params_free(const char **params, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free((char *)params[i]);
        params[i] = NULL;
    }
}

const struct http_route *http_route_match(const struct http_route *routes, size_t n,
                                          const char *method, const char *path, const char **params,
                                          size_t *n_params, int *status, char *allow,
                                          size_t allow_len)
{
    bool path_known = false;
    size_t used = 0;
    if (allow_len)
        allow[0] = '\0';
    *n_params = 0;
    for (size_t i = 0; i < n; i++) {
        const char *tmp[HTTP_MAX_PARAMS];
        size_t nt;
        if (!match(routes[i].pattern, path, tmp, &nt))
            continue;
        bool same = !strcmp(routes[i].method, method) ||
                    (!strcmp(method, "HEAD") && !strcmp(routes[i].method, "GET"));
        if (same) {
            memcpy(params, tmp, nt * sizeof *tmp);
            *n_params = nt;
            return &routes[i];
        }
        http_params_free(tmp, nt);
        path_known = true;
        if (used >= allow_len)
            continue;
        int w =
            snprintf(allow + used, allow_len - used, "%s%s", used ? ", " : "", routes[i].method);
        if (w > 0 && (size_t)w < allow_len - used)
            used += (size_t)w;
        else
            allow[used] = '\0'; /* no cut-off method names */
    }
    *status = path_known ? 405 : 404;
    return NULL;
}
