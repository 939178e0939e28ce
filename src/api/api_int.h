/* api_int.h: per-request state and helpers shared by the resource files. */
#ifndef SB_API_INT_H
#define SB_API_INT_H

#include "api.h"

#include "../cards/cards.h"

#define ROUTE(method, pattern, handler, flags, fail) int handler(struct http_req *r);
#include "routes.def"
#undef ROUTE
void api_webhook_fail_teams(struct http_req *r, int err, const char *message);
void api_webhook_fail_slack(struct http_req *r, int err, const char *message);
void api_webhook_fail_discord(struct http_req *r, int err, const char *message);
void api_mailbox_fail(struct http_req *r, int err, const char *message);

struct api_req {
    struct store_user user; /* who is calling (after authentication) */
    bool authenticated;
    bool via_cookie;
    char session[64];     /* the session cookie's value, when via_cookie */
    struct store_write w; /* the write this request waits for */
    void (*finish)(struct http_req *r);
    int rc; /* outcome of work done off the worker thread */
    unsigned retry_after;
    char token[64];   /* a new session's secret / a connector's URL secret, until answered */
    char signing[64]; /* a connector's generated signing secret, until answered */
    void *image;      /* decoded image bytes of a connector create/update */
    struct connector_result res; /* a webhook's result and card, until committed */
    char *card_json;
    int style; /* the webhook's reply conventions (webhook.c) */
    bool wait; /* Discord ?wait=true */
};

static inline struct api *api_of(struct http_req *r)
{
    return r->ctx;
}
/* The request's api state (created on first use, freed with the request). */
struct api_req *api_req(struct http_req *r);
/* Path parameter i as an id: 0, or -ERR_NOT_FOUND. */
int api_path_id(struct http_req *r, size_t i, int64_t *out);
/* Suspends r and commits a->w (prepared by core); finish(r) answers after the commit, or the
 * write's error is answered (through the route's own error replier when it has one). Returns 0. */
int api_commit(struct http_req *r, void (*finish)(struct http_req *r));
/* "http://host" the client used (or --public-url), without a trailing slash. */
void api_base_url(struct http_req *r, char *out, size_t len);
/* finish() for writes that answer 201 with the created object / 204. */
void api_finish_created(struct http_req *r);
void api_finish_no_content(struct http_req *r);
/* The User object of docs/api.md. */
json_t *api_user_json(const struct store_user *u);

#endif
