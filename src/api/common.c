/* common.c: the routes table, per-request state, and committing a prepared write. */
#include "api_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const struct http_route api_routes[] = {
#define ROUTE(method, pattern, handler, flags, fail) {method, pattern, handler, flags, fail},
#include "routes.def"
#undef ROUTE
};
const size_t api_n_routes = sizeof api_routes / sizeof api_routes[0];

static void api_req_free(void *p)
{
    struct api_req *a = p;
    store_write_release(&a->w);
    free(a->image);
    card_release(&a->res.card);
    free(a->card_json);
    free(a);
}

struct api_req *api_req(struct http_req *r)
{
    if (!r->app) {
        r->app = xcalloc(1, sizeof(struct api_req));
        r->app_free = api_req_free;
    }
    return r->app;
}

int api_path_id(struct http_req *r, size_t i, int64_t *out)
{
    return parse_id(http_param(r, i), out) ? 0 : -ERR_NOT_FOUND;
}

static void commit_done(struct store_write *w)
{
    http_resume(w->arg);
}

static void commit_resumed(struct http_req *r)
{
    struct api_req *a = api_req(r);
    if (!a->w.rc)
        a->finish(r);
    else if (r->route->fail) /* in the route's own conventions (a webhook's) */
        r->route->fail(r, a->w.rc, NULL);
    else
        http_reply_error(r, a->w.rc, NULL);
}

int api_commit(struct http_req *r, void (*finish)(struct http_req *r))
{
    struct api_req *a = api_req(r);
    a->finish = finish;
    a->w.done = commit_done;
    a->w.arg = r;
    http_suspend(r, commit_resumed); /* before submitting: the commit may come at once */
    int rc = core_submit(api_of(r)->core, &a->w);
    if (rc) {
        a->w.rc = rc;
        http_resume(r);
    }
    return 0;
}

void api_finish_created(struct http_req *r)
{
    http_reply_json(r, 201, json_incref(api_req(r)->w.result));
}

void api_finish_no_content(struct http_req *r)
{
    http_reply_empty(r, 204);
}

json_t *api_user_json(const struct store_user *u)
{
    return json_pack("{s:I, s:s, s:b}", "id", (json_int_t)u->id, "username", u->username,
                     "is_admin", u->is_admin);
}

int api_health(struct http_req *r)
{
    return http_reply_json(r, 200, json_pack("{s:s}", "status", "ok"));
}

/* "http://host" the client used (or --public-url), without a trailing slash. */
void api_base_url(struct http_req *r, char *out, size_t len)
{
    const char *pub = api_of(r)->public_url;
    if (pub && *pub) {
        snprintf(out, len, "%s", pub);
    } else {
        const char *host = http_header(r, "Host");
        const char *proto = http_header(r, "X-Forwarded-Proto");
        bool https = proto && !strcasecmp(proto, "https");
        snprintf(out, len, "%s://%s", https ? "https" : "http", host ? host : "localhost");
    }
    size_t n = strlen(out);
    while (n && out[n - 1] == '/')
        out[--n] = '\0';
}
