/* response.c: answering: JSON bodies, errors from the error table, empty answers, suspended
 * answers that wait for a commit, and live streams. */
#include "http_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

void http_add_header(struct http_req *r, const char *name, const char *value)
{
    BUG_ON(r->n_headers == HTTP_MAX_HEADERS);
    r->headers[r->n_headers].name = xstrdup(name);
    r->headers[r->n_headers].value = xstrdup(value);
    r->n_headers++;
}

int http_queue(struct http_req *r, int status, struct MHD_Response *resp)
{
    bool cache_set = false;
    for (size_t i = 0; i < r->n_headers; i++) {
        MHD_add_response_header(resp, r->headers[i].name, r->headers[i].value);
        cache_set |= !strcasecmp(r->headers[i].name, "Cache-Control");
    }
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    if (!cache_set)
        MHD_add_response_header(resp, "Cache-Control", "no-store");
    enum MHD_Result ok = MHD_queue_response(r->conn, (unsigned)status, resp);
    MHD_destroy_response(resp);
    if (ok == MHD_YES) {
        r->answered = true;
        r->status = status;
    }
    return 0;
}

int http_reply_json(struct http_req *r, int status, json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    BUG_ON(!text);
    size_t len = strlen(text);
    r->bytes = len;
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(resp, "Content-Type", "application/json");
    return http_queue(r, status, resp);
}

int http_reply_empty(struct http_req *r, int status)
{
    return http_queue(r, status, MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT));
}

int http_reply_bytes(struct http_req *r, int status, const char *content_type, const void *body,
                     size_t len)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(resp, "Content-Type", content_type);
    r->bytes = len;
    return http_queue(r, status, resp);
}

int http_reply_error(struct http_req *r, int err, const char *message)
{
    if (err_status(err) == 429 && !r->n_headers)
        http_add_header(r, "Retry-After", "60");
    json_t *body = json_pack("{s:{s:s, s:s}}", "error", "code", err_code(err), "message",
                             message ? message : err_message(err));
    return http_reply_json(r, err_status(err), body);
}

int http_fail(struct http_req *r, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->error_message, sizeof r->error_message, fmt, ap);
    va_end(ap);
    return err;
}

void http_suspend(struct http_req *r, void (*on_resume)(struct http_req *r))
{
    r->on_resume = on_resume;
    r->suspended = true;
    MHD_suspend_connection(r->conn);
}

void http_resume(struct http_req *r)
{
    r->resumed = true;
    MHD_resume_connection(r->conn);
}

void http_conn_suspend(void *conn)
{
    MHD_suspend_connection(conn);
}

void http_conn_resume(void *conn)
{
    MHD_resume_connection(conn);
}

bool http_conn_peer_closed(void *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (!ci)
        return true;
    char c;
    ssize_t n = recv(ci->connect_fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

int http_conn_fd(void *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    return ci ? ci->connect_fd : -1;
}

struct stream {
    size_t *bytes; /* the request's counter: reads happen only while it lives */
    http_stream_read_fn *read;
    http_stream_close_fn *close;
    void *arg;
};

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    struct stream *st = cls;
    long n = st->read(st->arg, buf, max);
    if (n > 0)
        *st->bytes += (size_t)n;
    return n < 0 ? (ssize_t)MHD_CONTENT_READER_END_OF_STREAM : (ssize_t)n;
}

static void stream_free(void *cls)
{
    struct stream *st = cls;
    st->close(st->arg);
    free(st);
}

int http_stream(struct http_req *r, http_stream_read_fn *read, http_stream_close_fn *close,
                void *arg)
{
    struct stream *st = xmalloc(sizeof *st);
    st->bytes = &r->bytes;
    st->read = read;
    st->close = close;
    st->arg = arg;
    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, stream_read, st, stream_free);
    MHD_add_response_header(resp, "Content-Type", "text/event-stream");
    MHD_add_response_header(resp, "X-Accel-Buffering", "no");
    /* live streams stay open however quiet they are; heartbeats find dead ones */
    MHD_set_connection_option(r->conn, MHD_CONNECTION_OPTION_TIMEOUT, 0u);
    r->stream = true;
    if (r->counted) { /* a stream is not waited for at shutdown */
        atomic_fetch_sub(&r->server->inflight, 1);
        r->counted = false;
    }
    return http_queue(r, 200, resp);
}
