/* fetch.c: one GET through the guard with libcurl. Every hop (the URL, then each redirect's
 * Location) is checked by egress_check_url and connected to the address it checked, and only
 * that one: curl gets it as its DNS answer (CURLOPT_RESOLVE) and the socket callback refuses any
 * other. Bytes, headers and time are capped. Not for: deciding what to fetch or when, nor what
 * the body means. */
#define _GNU_SOURCE /* SOCK_CLOEXEC */
#include "egress.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define MAX_HEADER_BYTES (64 * 1024) /* all response headers of one hop */
#define MAX_KEPT_HEADER 1024         /* longest ETag/Last-Modified/Content-Type kept */

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static CURLcode init_rc;

static void init_curl(void)
{
    init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int egress_init(void)
{
    pthread_once(&init_once, init_curl);
    return init_rc == CURLE_OK ? 0 : -ERR_INTERNAL;
}

/* One request/response exchange. */
struct hop {
    CURL *curl;
    const struct egress_target *target;
    struct buf body;
    bool body_checked; /* whether the status was looked at to decide `keep` */
    bool keep;         /* a 2xx: the body is kept */
    bool too_large;
    size_t header_bytes;
    bool headers_too_large;
    bool wrong_address; /* curl tried to connect elsewhere than the pin (never expected) */
};

static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
    struct hop *h = ctx;
    size_t len = size * n;
    if (!h->body_checked) {
        long status = 0;
        curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status);
        h->keep = status >= 200 && status < 300;
        h->body_checked = true;
    }
    if (!h->keep)
        return len;
    if (buf_append(&h->body, data, len)) {
        h->too_large = true;
        return 0; /* stops the transfer: CURLE_WRITE_ERROR */
    }
    return len;
}

static size_t on_header(char *data, size_t size, size_t n, void *ctx)
{
    (void)data;
    struct hop *h = ctx;
    size_t len = size * n;
    h->header_bytes += len;
    if (h->header_bytes > MAX_HEADER_BYTES) {
        h->headers_too_large = true;
        return 0;
    }
    return len;
}

/* Whether the socket curl is about to open goes to the pinned address and port. */
static bool is_pinned(const struct curl_sockaddr *a, const struct egress_target *t)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    memcpy(&ss, &a->addr, a->addrlen < sizeof ss ? a->addrlen : sizeof ss);
    if (a->family != t->addr.family)
        return false;
    if (a->family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)&ss;
        return a->addrlen >= sizeof *in && !memcmp(&in->sin_addr, t->addr.bytes, 4) &&
               ntohs(in->sin_port) == t->port;
    }
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)&ss;
    return a->family == AF_INET6 && a->addrlen >= sizeof *in6 &&
           !memcmp(&in6->sin6_addr, t->addr.bytes, 16) && ntohs(in6->sin6_port) == t->port;
}

static curl_socket_t open_socket(void *ctx, curlsocktype purpose, struct curl_sockaddr *a)
{
    struct hop *h = ctx;
    if (purpose != CURLSOCKTYPE_IPCXN || !is_pinned(a, h->target)) {
        h->wrong_address = true;
        return CURL_SOCKET_BAD;
    }
    return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

/* A header value we may send or keep: one line of printable ASCII, not too long. */
static bool is_header_value(const char *v)
{
    if (!v || !*v || strlen(v) > MAX_KEPT_HEADER)
        return false;
    for (const unsigned char *c = (const unsigned char *)v; *c; c++)
        if ((*c < 0x20 && *c != '\t') || *c >= 0x7F)
            return false;
    return true;
}

static char *kept_header(CURL *curl, const char *name)
{
    struct curl_header *hdr;
    if (curl_easy_header(curl, name, 0, CURLH_HEADER, -1, &hdr) != CURLHE_OK ||
        !is_header_value(hdr->value))
        return NULL;
    return xstrdup(hdr->value);
}

static struct curl_slist *request_headers(const struct egress_request *req)
{
    struct curl_slist *list = NULL;
    struct {
        const char *name, *value;
    } h[] = {
        {"If-None-Match", req->etag},
        {"If-Modified-Since", req->last_modified},
        {"Accept", req->accept ? req->accept : "*/*"},
    };
    for (size_t i = 0; i < sizeof h / sizeof h[0]; i++) {
        if (!is_header_value(h[i].value))
            continue;
        char line[MAX_KEPT_HEADER + 64];
        snprintf(line, sizeof line, "%s: %s", h[i].name, h[i].value);
        list = curl_slist_append(list, line);
    }
    return list;
}

static void set_options(struct hop *h, struct curl_slist *headers, struct curl_slist *pin,
                        long timeout_ms, long connect_ms, size_t max_bytes)
{
    CURL *c = h->curl;
    curl_easy_setopt(c, CURLOPT_URL, h->target->url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_PROXY, "");
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_NETRC, (long)CURL_NETRC_IGNORED);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    if (pin)
        curl_easy_setopt(c, CURLOPT_RESOLVE, pin);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_socket);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, h);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
    curl_easy_setopt(c, CURLOPT_USERAGENT, EGRESS_USER_AGENT);
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max_bytes);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, h);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, h);
}

static const char *size_text(size_t bytes, char out[32])
{
    if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) == 0)
        snprintf(out, 32, "%zu MiB", bytes / (1024 * 1024));
    else if (bytes >= 1024 && bytes % 1024 == 0)
        snprintf(out, 32, "%zu KiB", bytes / 1024);
    else
        snprintf(out, 32, "%zu bytes", bytes);
    return out;
}

/* The owner-facing message for a failed transfer, and its error code. Connection errors are
 * named by kind only (GitLab CVE-2018-8801: a fetcher that echoes them is a port scanner). */
static int transfer_error(const struct hop *h, CURLcode cc, const char *what, size_t max_bytes,
                          long timeout_ms, char msg[160])
{
    const char *host = h->target->host;
    char size[32];
    if (h->too_large || cc == CURLE_FILESIZE_EXCEEDED) {
        snprintf(msg, 160, "the %s is larger than %s", what, size_text(max_bytes, size));
        return -ERR_PAYLOAD_TOO_LARGE;
    }
    if (h->headers_too_large) {
        snprintf(msg, 160, "the %s's headers are larger than %d KiB", what,
                 MAX_HEADER_BYTES / 1024);
        return -ERR_PAYLOAD_TOO_LARGE;
    }
    if (h->wrong_address) {
        snprintf(msg, 160, "the connection to '%.64s' was not to the checked address; refused",
                 host);
        return -ERR_FORBIDDEN;
    }
    switch (cc) {
    case CURLE_OPERATION_TIMEDOUT:
        snprintf(msg, 160, "the %s did not arrive within %ld ms", what, timeout_ms);
        break;
    case CURLE_COULDNT_CONNECT:
        snprintf(msg, 160, "cannot connect to '%.64s' port %u", host, h->target->port);
        break;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
        snprintf(msg, 160, "the TLS connection to '%.64s' failed (handshake or certificate)", host);
        break;
    case CURLE_BAD_CONTENT_ENCODING:
        snprintf(msg, 160, "the %s's compression is invalid", what);
        break;
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
        snprintf(msg, 160, "the connection to '%.64s' broke off", host);
        break;
    default:
        snprintf(msg, 160, "fetching from '%.64s' failed (%s)", host, curl_easy_strerror(cc));
        break;
    }
    return -ERR_UNAVAILABLE;
}

static bool is_redirect(long status)
{
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

int egress_fetch(const char *url, const struct egress_policy *p, const struct egress_request *req,
                 struct egress_response *res)
{
    static const struct egress_request defaults;
    if (!req)
        req = &defaults;
    memset(res, 0, sizeof *res);
    if (egress_init()) {
        snprintf(res->error, sizeof res->error, "the HTTP client could not start");
        return -ERR_INTERNAL;
    }
    const char *what = req->what ? req->what : "response";
    size_t max_bytes = req->max_bytes ? req->max_bytes : EGRESS_DEFAULT_MAX_BYTES;
    long timeout_ms = req->timeout_ms > 0 ? req->timeout_ms : EGRESS_DEFAULT_TIMEOUT_MS;
    long connect_ms =
        req->connect_timeout_ms > 0 ? req->connect_timeout_ms : EGRESS_DEFAULT_CONNECT_TIMEOUT_MS;
    int64_t deadline = time_mono_ms() + timeout_ms;
    struct curl_slist *headers = request_headers(req);
    struct egress_target *target = xmalloc(sizeof *target);
    char *next = xstrdup(url ? url : "");
    unsigned hops = 0; /* Locations received */
    int rc;
    for (;;) {
        rc = egress_check_url(next, p, target, res->error);
        if (rc && hops) {
            char why[160];
            memcpy(why, res->error, sizeof why);
            snprintf(res->error, sizeof res->error, "a redirect was refused: %s", why);
        }
        if (rc)
            break;
        res->redirects = hops;
        free(res->url);
        res->url = xstrdup(target->url);
        int64_t left = deadline - time_mono_ms();
        if (left <= 0) {
            snprintf(res->error, sizeof res->error, "the %s did not arrive within %ld ms", what,
                     timeout_ms);
            rc = -ERR_UNAVAILABLE;
            break;
        }
        struct hop h = {.curl = curl_easy_init(), .target = target};
        if (!h.curl)
            base_bug(__FILE__, __LINE__, "out of memory");
        buf_init(&h.body, max_bytes);
        struct curl_slist *pin = NULL;
        if (!target->host_is_literal) {
            char entry[EGRESS_MAX_HOST + 96];
            snprintf(entry, sizeof entry,
                     target->addr.family == AF_INET6 ? "%s:%u:[%s]" : "%s:%u:%s", target->host,
                     target->port, target->addr_text);
            pin = curl_slist_append(NULL, entry);
        }
        set_options(&h, headers, pin, (long)left, connect_ms < left ? connect_ms : left, max_bytes);
        CURLcode cc = curl_easy_perform(h.curl);
        curl_easy_getinfo(h.curl, CURLINFO_RESPONSE_CODE, &res->status);
        char *location = NULL;
        if (cc != CURLE_OK) {
            rc = transfer_error(&h, cc, what, max_bytes, timeout_ms, res->error);
        } else if (res->status >= 200 && res->status < 300) {
            res->body_len = h.body.len;
            res->body = h.body.data ? h.body.data : xstrdup("");
            h.body.data = NULL;
            rc = 0;
        } else if (res->status == 304) {
            rc = 0;
        } else if (is_redirect(res->status)) {
            char *loc = NULL;
            curl_easy_getinfo(h.curl, CURLINFO_REDIRECT_URL, &loc);
            if (!loc) {
                snprintf(res->error, sizeof res->error,
                         "the server answered HTTP %ld without a Location", res->status);
                rc = -ERR_UNAVAILABLE;
            } else if (hops >= EGRESS_MAX_REDIRECTS) {
                snprintf(res->error, sizeof res->error, "more than %d redirects; not followed",
                         EGRESS_MAX_REDIRECTS);
                rc = -ERR_FORBIDDEN;
            } else {
                location = xstrdup(loc);
            }
        } else {
            snprintf(res->error, sizeof res->error, "the server answered HTTP %ld", res->status);
            rc = -ERR_UNAVAILABLE;
        }
        if (!rc && !location) {
            res->etag = kept_header(h.curl, "ETag");
            res->last_modified = kept_header(h.curl, "Last-Modified");
            res->content_type = kept_header(h.curl, "Content-Type");
        }
        buf_release(&h.body);
        curl_easy_cleanup(h.curl);
        curl_slist_free_all(pin);
        if (!location)
            break;
        free(next);
        next = location;
        hops++;
    }
    free(next);
    free(target);
    curl_slist_free_all(headers);
    if (rc) {
        free(res->body);
        res->body = NULL;
        res->body_len = 0;
    }
    return rc;
}

void egress_response_release(struct egress_response *res)
{
    free(res->body);
    free(res->etag);
    free(res->last_modified);
    free(res->content_type);
    free(res->url);
    memset(res, 0, sizeof *res);
}
