/* server.c: the daemons and the request lifecycle: create the request, route it, take its body
 * up to the cap, authenticate, parse JSON, call the handler, and log one line when it ends. */
#include "http_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#define API_MEMORY_LIMIT (64 * 1024)   /* per connection: headers up to about half of it */
#define STREAM_MEMORY_LIMIT (8 * 1024) /* live streams: small, there are thousands */
#define API_IDLE_TIMEOUT_S 30
#define DISCARD_MAX (1024 * 1024) /* of a chunked body past the cap, before closing instead */

static void req_free(struct http_req *r)
{
    http_params_free(r->params, r->n_params);
    buf_release(&r->body);
    json_decref(r->json);
    for (size_t i = 0; i < r->n_headers; i++) {
        free(r->headers[i].name);
        free(r->headers[i].value);
    }
    if (r->app_free)
        r->app_free(r->app);
    free((char *)r->url);
    free(r);
}

static struct http_req *req_new(struct http_server *s, struct MHD_Connection *conn, const char *url,
                                const char *method)
{
    struct http_req *r = xcalloc(1, sizeof *r);
    r->conn = conn;
    r->server = s;
    r->ctx = s->cfg.ctx;
    r->method = method; /* MHD keeps it for the request's lifetime */
    r->url = xstrndup(url, strcspn(url, "?"));
    r->start_ms = time_mono_ms();
    buf_init(&r->body, s->cfg.max_body);
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(r->ip, sizeof r->ip, "-");
    if (ci && ci->client_addr) {
        const struct sockaddr *sa = ci->client_addr;
        if (sa->sa_family == AF_INET)
            inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, r->ip, sizeof r->ip);
        else if (sa->sa_family == AF_INET6)
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, r->ip, sizeof r->ip);
    }
    return r;
}

static bool is_json_type(const char *ct)
{
    if (!ct)
        return true; /* no type given: judge by the body */
    size_t len = strcspn(ct, ";");
    while (len && (ct[len - 1] == ' ' || ct[len - 1] == '\t'))
        len--;
    if (len == strlen("application/json") && !strncasecmp(ct, "application/json", len))
        return true;
    return len > 5 && !strncasecmp(ct + len - 5, "+json", 5);
}

struct framing {
    unsigned content_length, transfer_encoding;
};

static enum MHD_Result count_framing(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    (void)kind;
    (void)value;
    struct framing *f = cls;
    if (!strcasecmp(key, "Content-Length"))
        f->content_length++;
    else if (!strcasecmp(key, "Transfer-Encoding"))
        f->transfer_encoding++;
    return MHD_YES;
}

static size_t body_cap(const struct http_server *s, const struct http_route *route);

/* First call for a request: route it and check what can be checked before the body. */
static int req_start(struct http_server *s, struct http_req *r)
{
    int status;
    char allow[128];
    r->route = http_route_match(s->cfg.routes, s->cfg.n_routes, r->method, r->url, r->params,
                                &r->n_params, &status, allow, sizeof allow);
    if (!r->route) {
        /* answered once the request is read, so the connection stays open for the next one */
        if (status == 405) {
            http_add_header(r, "Allow", allow);
            r->deferred = -ERR_METHOD_NOT_ALLOWED;
        } else {
            r->deferred = -ERR_NOT_FOUND;
        }
        return 0;
    }
    if (atomic_load(&s->stopping))
        return -ERR_UNAVAILABLE;
    r->body.cap = body_cap(s, r->route);
    struct framing f = {0, 0};
    MHD_get_connection_values(r->conn, MHD_HEADER_KIND, count_framing, &f);
    if (f.content_length > 1 || (f.content_length && f.transfer_encoding))
        return http_fail(r, -ERR_BAD_REQUEST, "conflicting Content-Length/Transfer-Encoding");
    const char *cl = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Content-Length");
    if (cl) {
        char *end;
        errno = 0;
        unsigned long long n = strtoull(cl, &end, 10);
        if (errno || *end || n > r->body.cap)
            return http_fail(r, -ERR_PAYLOAD_TOO_LARGE, "the body is larger than %zu bytes",
                             r->body.cap);
    }
    if ((r->route->flags & HTTP_BODY) &&
        !is_json_type(MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Content-Type")))
        return http_fail(r, -ERR_UNSUPPORTED_MEDIA_TYPE, "send the body as application/json");
    return 0;
}

/* The whole body is in: authenticate, parse, and run the handler. */
static int req_dispatch(struct http_server *s, struct http_req *r)
{
    int rc;
    if (!(r->route->flags & HTTP_PUBLIC) && (rc = s->cfg.authenticate(r)))
        return rc;
    if (r->route->flags & HTTP_BODY) {
        if (r->body.len == 0)
            return http_fail(r, -ERR_BAD_REQUEST, "a JSON object body is required");
        r->json =
            json_parse_object(r->body.data, r->body.len, JSON_MAX_DEPTH, &rc, r->error_message);
        if (!r->json)
            return rc;
    }
    return r->route->handler(r);
}

static void answer_error(struct http_req *r, int rc)
{
    const char *msg = r->error_message[0] ? r->error_message : NULL;
    if (r->route && r->route->fail)
        r->route->fail(r, rc, msg);
    else
        http_reply_error(r, rc, msg);
}

/* The body cap of a request's route. */
static size_t body_cap(const struct http_server *s, const struct http_route *route)
{
    if (route->flags & HTTP_UPLOAD)
        return s->cfg.max_upload;
    if (route->flags & HTTP_HOOK)
        return s->cfg.max_hook_body;
    return s->cfg.max_body;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **con_cls)
{
    (void)version;
    struct http_server *s = cls;
    struct http_req *r = *con_cls;
    if (!r) {
        r = req_new(s, conn, url, method);
        *con_cls = r;
        int rc = req_start(s, r);
        if (rc)
            answer_error(r, rc);
        return MHD_YES;
    }
    if (r->resumed) {
        r->resumed = false;
        r->suspended = false;
        r->on_resume(r);
        BUG_ON(!r->answered && !r->suspended);
        return MHD_YES;
    }
    if (*upload_size) {
        size_t n = *upload_size;
        *upload_size = 0;
        if (r->answered)
            return MHD_YES; /* answered before the body (413 by Content-Length ...) */
        if (r->too_large) { /* a chunked body past the cap: read on to answer 413, up to a point */
            r->discarded += n;
            return r->discarded > DISCARD_MAX ? MHD_NO : MHD_YES;
        }
        if (buf_append(&r->body, upload_data, n)) {
            r->too_large = true;
            r->discarded = n;
        }
        return MHD_YES;
    }
    if (r->answered || r->suspended)
        return MHD_YES;
    /* the whole request is in: from now on shutdown waits for its answer (a request still
     * uploading was never acknowledged, and a slow uploader must not hold up a shutdown) */
    r->counted = true;
    atomic_fetch_add(&s->inflight, 1);
    if (r->deferred) {
        if (r->deferred != -ERR_NOT_FOUND || !http_static_serve(s->cfg.web, r))
            answer_error(r, r->deferred);
        return MHD_YES;
    }
    if (r->too_large) {
        http_fail(r, -ERR_PAYLOAD_TOO_LARGE, "the body is larger than %zu bytes", r->body.cap);
        answer_error(r, -ERR_PAYLOAD_TOO_LARGE);
        return MHD_YES;
    }
    int rc = req_dispatch(s, r);
    if (rc)
        answer_error(r, rc);
    BUG_ON(!r->answered && !r->suspended);
    return MHD_YES;
}

/* The path for the log: a route's secret path parameter (its last) is written as "***". */
static void log_path(const struct http_req *r, char *out, size_t len)
{
    if (!r->route || !(r->route->flags & HTTP_SECRET) || r->n_params < 1) {
        snprintf(out, len, "%s", r->url);
        return;
    }
    size_t used = 0, param = 0;
    for (const char *p = r->route->pattern; *p && used + 1 < len; p++) {
        if (p[0] == '{' && p[1] == '}') {
            const char *v = param + 1 == r->n_params ? "***" : r->params[param];
            param++;
            used += (size_t)snprintf(out + used, len - used, "%s", v);
            if (used >= len)
                break;
            p++;
        } else {
            out[used++] = *p;
        }
    }
    out[used < len ? used : len - 1] = '\0';
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)conn;
    (void)toe;
    struct http_server *s = cls;
    struct http_req *r = *con_cls;
    if (!r)
        return;
    *con_cls = NULL;
    if (r->counted)
        atomic_fetch_sub(&s->inflight, 1);
    char path[512];
    log_path(r, path, sizeof path);
    log_info("%s \"%s %s\" %d %zu %lldms", r->ip, r->method, path, r->status, r->bytes,
             (long long)(time_mono_ms() - r->start_ms));
    req_free(r);
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decoding of paths and query arguments, in place. "%00" stays as it is: a NUL would
 * silently cut the string short ("/teams/1%00x" must not become "/teams/1"). */
static size_t unescape(void *cls, struct MHD_Connection *conn, char *s)
{
    (void)cls;
    (void)conn;
    char *out = s;
    for (const char *in = s; *in; in++) {
        int hi, lo;
        if (in[0] == '%' && (hi = hex_value(in[1])) >= 0 && (lo = hex_value(in[2])) >= 0 &&
            (hi || lo)) {
            *out++ = (char)(hi * 16 + lo);
            in += 2;
        } else {
            *out++ = *in;
        }
    }
    *out = '\0';
    return (size_t)(out - s);
}

/* A connection of either daemon closed: its address's slot is free again. */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_ctx,
                          enum MHD_ConnectionNotificationCode code)
{
    (void)socket_ctx;
    struct http_server *s = cls;
    if (code != MHD_CONNECTION_NOTIFY_CLOSED)
        return;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci && ci->client_addr)
        iplimit_release(s->per_ip, ci->client_addr);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    line[strcspn(line, "\n")] = '\0';
    log_info("libmicrohttpd: %s", line);
}

static int bind_listen(struct http_server *s, const char *listen_addr, char *errmsg, size_t errlen)
{
    char host[256];
    const char *colon = strrchr(listen_addr, ':');
    if (!colon || colon == listen_addr || (size_t)(colon - listen_addr) >= sizeof host) {
        snprintf(errmsg, errlen, "invalid --listen '%s': expected ADDRESS:PORT", listen_addr);
        return -1;
    }
    memcpy(host, listen_addr, (size_t)(colon - listen_addr));
    host[colon - listen_addr] = '\0';
    if (host[0] == '[' && host[strlen(host) - 1] == ']') { /* [::1]:8080 */
        memmove(host, host + 1, strlen(host));
        host[strlen(host) - 1] = '\0';
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV},
                    *res;
    int rc = getaddrinfo(host, colon + 1, &hints, &res);
    if (rc) {
        snprintf(errmsg, errlen, "invalid --listen '%s': %s", listen_addr, gai_strerror(rc));
        return -1;
    }
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, res->ai_addr, res->ai_addrlen) || listen(fd, 4096)) {
        snprintf(errmsg, errlen, "cannot listen on '%s': %s", listen_addr, strerror(errno));
        if (fd >= 0)
            close(fd);
        freeaddrinfo(res);
        return -1;
    }
    freeaddrinfo(res);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    s->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                             : ((struct sockaddr_in *)&ss)->sin_port);
    s->listen_fd = fd;
    return 0;
}

static struct MHD_Daemon *daemon_start(struct http_server *s, unsigned threads, unsigned limit,
                                       size_t memory, unsigned timeout_s)
{
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC |
                     MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ERROR_LOG;
    return MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
        MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL, MHD_OPTION_NOTIFY_CONNECTION, on_connection,
        s, MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_CONNECTION_LIMIT, limit,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, s->cfg.max_per_ip, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        memory, MHD_OPTION_CONNECTION_TIMEOUT, timeout_s, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
        s, MHD_OPTION_END);
}

struct http_server *http_server_start(const struct http_config *cfg, char *errmsg, size_t errlen)
{
    struct http_server *s = xcalloc(1, sizeof *s);
    s->cfg = *cfg;
    s->listen_fd = s->epoll_fd = s->stop_fd = -1;
    s->per_ip = iplimit_new(cfg->max_per_ip);
    unsigned threads = cfg->threads ? cfg->threads : (unsigned)sysconf(_SC_NPROCESSORS_ONLN);
    if (threads < 1)
        threads = 1;
    if (bind_listen(s, cfg->listen, errmsg, errlen))
        goto fail;
    s->api = daemon_start(s, threads, cfg->max_connections, API_MEMORY_LIMIT, API_IDLE_TIMEOUT_S);
    s->streams =
        daemon_start(s, threads, cfg->max_connections, STREAM_MEMORY_LIMIT, API_IDLE_TIMEOUT_S);
    if (!s->api || !s->streams) {
        snprintf(errmsg, errlen, "cannot start the HTTP daemons");
        goto fail;
    }
    s->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    s->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &s->listen_fd};
    struct epoll_event stop = {.events = EPOLLIN, .data.ptr = &s->stop_fd};
    if (s->epoll_fd < 0 || s->stop_fd < 0 ||
        epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, s->listen_fd, &ev) ||
        epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, s->stop_fd, &stop)) {
        snprintf(errmsg, errlen, "cannot set up epoll: %s", strerror(errno));
        goto fail;
    }
    pthread_create(&s->acceptor, NULL, http_acceptor_main, s);
    return s;
fail:
    if (s->api)
        MHD_stop_daemon(s->api);
    if (s->streams)
        MHD_stop_daemon(s->streams);
    if (s->listen_fd >= 0)
        close(s->listen_fd);
    if (s->epoll_fd >= 0)
        close(s->epoll_fd);
    if (s->stop_fd >= 0)
        close(s->stop_fd);
    iplimit_free(s->per_ip);
    free(s);
    return NULL;
}

unsigned http_server_port(const struct http_server *s)
{
    return s->port;
}

void http_server_quiesce(struct http_server *s, unsigned grace_ms)
{
    if (atomic_exchange(&s->stopping, true))
        return;
    uint64_t one = 1;
    if (write(s->stop_fd, &one, sizeof one) < 0)
        log_error("cannot wake the acceptor: %s", strerror(errno));
    pthread_join(s->acceptor, NULL);
    close(s->listen_fd);
    s->listen_fd = -1;
    http_server_drain(s, grace_ms);
}

void http_server_drain(struct http_server *s, unsigned grace_ms)
{
    int64_t until = time_mono_ms() + grace_ms;
    while (atomic_load(&s->inflight) > 0 && time_mono_ms() < until)
        usleep(5000);
}

void http_server_stop(struct http_server *s)
{
    if (!s)
        return;
    http_server_quiesce(s, 0);
    MHD_stop_daemon(s->streams);
    MHD_stop_daemon(s->api);
    close(s->epoll_fd);
    close(s->stop_fd);
    iplimit_free(s->per_ip);
    free(s);
}
