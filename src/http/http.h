/* http: the glue over GNU libmicrohttpd: the listening socket and the two daemons behind it, the
 * request lifecycle (body with a cap, routing against a table, one log line per request),
 * response helpers, suspend/resume for replies that wait on a commit, and streaming responses.
 *
 * Two daemons: live streams (GET /api/v1/events) live in their own libmicrohttpd daemon, everything
 * else in the other. libmicrohttpd walks every suspended connection of a daemon on each resume, so
 * thousands of idle streams would tax every webhook reply that waits for its commit if they shared
 * a daemon (reference/fanout.md: -35..45 %). One acceptor thread owns the listening socket, peeks
 * at the request line of each new connection and hands it to the right daemon.
 *
 * Not for: what a route does (api/), authentication rules (api/auth.c). */
#ifndef SB_HTTP_H
#define SB_HTTP_H

#include "../base/base.h"

struct MHD_Connection;
struct http_req;

/* A route handler: answers (http_reply_*), suspends (http_suspend) or streams (http_stream), and
 * returns 0; or returns -ERR_x (with an optional message set by http_set_error_message) for the
 * HTTP layer to answer with the error body. */
typedef int http_handler(struct http_req *r);

/* Route flags */
#define HTTP_PUBLIC 0x1  /* no authentication needed */
#define HTTP_BODY 0x2    /* takes a JSON body (parsed into r->json) */
#define HTTP_STREAM 0x4  /* a live stream (served by the streams daemon) */
#define HTTP_RAW 0x8     /* takes a body the handler reads itself (r->body), any Content-Type */
#define HTTP_UPLOAD 0x10 /* its body may be as large as http_config.max_upload */
#define HTTP_HOOK 0x20   /* its body may be as large as http_config.max_hook_body */
#define HTTP_SECRET 0x40 /* the last path parameter is a secret: never logged */

/* Answers an error in the route's own conventions (a webhook speaks Teams/Slack/Discord). */
typedef void http_fail_fn(struct http_req *r, int err, const char *message);

struct http_route {
    const char *method;
    const char *pattern; /* "/api/v1/teams/{}/members/{}": each {} is one path segment */
    http_handler *handler;
    unsigned flags;
    http_fail_fn *fail; /* NULL: the JSON error body */
};

#define HTTP_MAX_PARAMS 4
#define HTTP_MAX_HEADERS 6

struct http_req {
    struct MHD_Connection *conn;
    const char *method;
    const char *url; /* path only, without the query */
    const struct http_route *route;
    const char *params[HTTP_MAX_PARAMS]; /* path parameters, owned by the request */
    size_t n_params;
    struct buf body;
    json_t *json; /* parsed body for HTTP_BODY routes */
    int64_t start_ms;
    char ip[64];
    int status;   /* what was answered, for the log */
    size_t bytes; /* body bytes answered (so far, for streams) */
    bool too_large, answered, suspended, resumed, stream;
    bool counted;     /* in the server's in-flight count (the whole request is in) */
    size_t discarded; /* body bytes dropped past the cap */
    int deferred;     /* an error (no route) to answer once the request is read */
    void (*on_resume)(struct http_req *r);
    char error_message[160];
    struct {
        char *name, *value;
    } headers[HTTP_MAX_HEADERS]; /* extra headers for the answer */
    size_t n_headers;
    struct http_server *server;
    void *ctx; /* the application's context (http_config.ctx) */
    /* the application's per-request state */
    void *app;
    void (*app_free)(void *app);
};

struct http_config {
    const char *listen; /* "ADDR:PORT" */
    unsigned threads;   /* API workers */
    unsigned max_connections, max_per_ip;
    size_t max_body;      /* API request bodies */
    size_t max_upload;    /* HTTP_UPLOAD routes (images) */
    size_t max_hook_body; /* HTTP_HOOK routes (webhooks) */
    const struct http_route *routes;
    size_t n_routes;
    /* Called once per request after authentication is needed: fills r->app; 0 or -ERR_x. */
    int (*authenticate)(struct http_req *r);
    void *ctx;                     /* the application's context, given to every request as r->ctx */
    const struct http_static *web; /* the web client, or NULL */
};

/* ---- the web client's files (static.c) ---- */
struct http_static;
/* Loads every file under dir (NULL and errmsg on failure). */
struct http_static *http_static_load(const char *dir, char *errmsg, size_t errlen);
void http_static_free(struct http_static *st);
/* Answers a GET for one of the files, or index.html for a page path; false when it is not one
 * (the request is then routed as usual). */
bool http_static_serve(const struct http_static *st, struct http_req *r);
extern const char http_csp[];

struct http_server;
/* Binds and starts serving. NULL with errmsg on failure. */
struct http_server *http_server_start(const struct http_config *cfg, char *errmsg, size_t errlen);
/* Stops accepting and answers new requests on open connections with 503, then waits up to
 * grace_ms for the requests in flight (live streams excepted) to be answered. */
void http_server_quiesce(struct http_server *s, unsigned grace_ms);
/* Waits up to grace_ms more for requests in flight. */
void http_server_drain(struct http_server *s, unsigned grace_ms);
/* Closes every connection and stops the daemons' threads. http_server_stop(NULL) does nothing. */
void http_server_stop(struct http_server *s);
/* The bound port (useful with port 0). */
unsigned http_server_port(const struct http_server *s);

/* ---- inside a handler ---- */
const char *http_param(const struct http_req *r, size_t i);
const char *http_header(const struct http_req *r, const char *name);
const char *http_query(const struct http_req *r, const char *name);
const char *http_cookie(const struct http_req *r, const char *name);

/* Adds a header to the coming answer (copied). */
void http_add_header(struct http_req *r, const char *name, const char *value);
/* Answers with JSON (body stolen), with nothing (e.g. 204), or with the error body. */
int http_reply_json(struct http_req *r, int status, json_t *body);
int http_reply_empty(struct http_req *r, int status);
/* Answers with a text or binary body (copied) of the given type. */
int http_reply_bytes(struct http_req *r, int status, const char *content_type, const void *body,
                     size_t len);
int http_reply_error(struct http_req *r, int err, const char *message);
/* Sets the message the HTTP layer puts into the error body when the handler returns -ERR_x. */
int http_fail(struct http_req *r, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Suspends the request; once http_resume() is called (from any thread), on_resume(r) runs on
 * the request's own thread and must answer. */
void http_suspend(struct http_req *r, void (*on_resume)(struct http_req *r));
void http_resume(struct http_req *r);

/* Answers 200 with a never-ending text/event-stream fed by read(arg, buf, max) (>0 bytes, 0
 * after suspending through http_conn_suspend, -1 to end). close(arg) runs when it has ended. */
typedef long http_stream_read_fn(void *arg, char *buf, size_t max);
typedef void http_stream_close_fn(void *arg);
int http_stream(struct http_req *r, http_stream_read_fn *read, http_stream_close_fn *close,
                void *arg);
/* For stream sources: suspend/resume by connection (the hub's io callbacks). */
void http_conn_suspend(void *conn);
void http_conn_resume(void *conn);
/* Whether the client closed its end of the connection (a non-blocking peek). */
bool http_conn_peer_closed(void *conn);
/* The connection's socket (for watching it), or -1. */
int http_conn_fd(void *conn);

/* ---- routing (pure; used by the server and fuzzed directly) ---- */
/* Finds the route for method+path. Returns the route, or NULL with *status = 404 or 405 (then
 * allow lists the methods of the path, comma separated). Fills params with copies (caller frees
 * them with http_params_free). */
const struct http_route *http_route_match(const struct http_route *routes, size_t n,
                                          const char *method, const char *path, const char **params,
                                          size_t *n_params, int *status, char *allow,
                                          size_t allow_len);
void http_params_free(const char **params, size_t n);

#endif
