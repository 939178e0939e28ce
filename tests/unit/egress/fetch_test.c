/* fetch_test.c: egress_fetch (src/egress/fetch.c) against a small HTTP server on 127.0.0.1 in
 * a thread of the test (allow-listed): a 200 with ETag and Last-Modified, a 304 on a
 * conditional request, redirects (up to 3 followed, the 4th refused, one to a private or
 * metadata address or to file: refused), oversized bodies (with and without Content-Length,
 * and gzip that inflates past the cap), a header flood, a server too slow for the time cap,
 * and the pin: a name the system cannot resolve is reached at the checked address. Without the
 * allow-list the fetch is refused before any connection. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <setjmp.h>

#include <cmocka.h>

#include "egress/egress.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* gzip of "<rss>gzip body</rss>" */
static const unsigned char gzip_small[] = {
    0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0xb3, 0x29, 0x2a,
    0x2e, 0xb6, 0x4b, 0xaf, 0xca, 0x2c, 0x50, 0x48, 0xca, 0x4f, 0xa9, 0xb4, 0xd1,
    0x07, 0x71, 0x01, 0xaa, 0x3f, 0x6c, 0x3c, 0x14, 0x00, 0x00, 0x00,
};
/* gzip of 1 MiB of zero bytes (a decompression bomb, in miniature) */
static const unsigned char gzip_zeros[] = {
    0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0xed, 0xc1, 0x31, 0x01, 0x00, 0x00,
    0x00, 0xc2, 0xa0, 0xf5, 0x4f, 0x6d, 0x08, 0x5f, 0xa0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x3e, 0x03, 0x1c, 0xea, 0x38, 0xa7, 0x00, 0x00, 0x10, 0x00,
};

#define FEED_BODY "<rss version=\"2.0\"><channel><title>t</title></channel></rss>"
#define ETAG "\"v1\""
#define LAST_MODIFIED "Wed, 01 May 2024 12:00:00 GMT"

static struct {
    int fd;
    unsigned port;
    pthread_t thread;
    pthread_mutex_t lock;
    int connections;    /* accepted so far */
    char request[8192]; /* the last request's head */
    bool stop;
} server;

static void send_all(int fd, const void *data, size_t n)
{
    const char *p = data;
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

static void sendf(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sendf(int fd, const char *fmt, ...)
{
    char text[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    send_all(fd, text, (size_t)n);
}

/* Waits (at most ms) for the client to close the connection. */
static void wait_close(int fd, int ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    char b[256];
    while (poll(&p, 1, ms) > 0 && recv(fd, b, sizeof b, 0) > 0)
        ;
}

static void respond(int fd, const char *req)
{
    char path[256] = "";
    sscanf(req, "GET %255s", path);
    int n;
    if (!strcmp(path, "/feed")) {
        if (strstr(req, "\r\nIf-None-Match: " ETAG "\r\n"))
            sendf(fd, "HTTP/1.1 304 Not Modified\r\nETag: " ETAG "\r\nConnection: close\r\n\r\n");
        else
            sendf(fd,
                  "HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nETag: " ETAG
                  "\r\nLast-Modified: " LAST_MODIFIED "\r\nContent-Length: %zu\r\n"
                  "Connection: close\r\n\r\n%s",
                  strlen(FEED_BODY), FEED_BODY);
    } else if (sscanf(path, "/redirect/%d", &n) == 1) {
        char next[64];
        snprintf(next, sizeof next, n > 1 ? "/redirect/%d" : "/feed", n - 1);
        sendf(fd, "HTTP/1.1 302 Found\r\nLocation: %s\r\nContent-Length: 0\r\n\r\n", next);
    } else if (!strcmp(path, "/absolute")) {
        sendf(fd, "HTTP/1.1 301 Moved\r\nLocation: http://127.0.0.1:%u/feed\r\n\r\n", server.port);
    } else if (!strcmp(path, "/to-private")) {
        sendf(fd, "HTTP/1.1 302 Found\r\nLocation: http://10.0.0.1/feed\r\n\r\n");
    } else if (!strcmp(path, "/to-metadata")) {
        sendf(fd, "HTTP/1.1 307 Temporary\r\nLocation: "
                  "http://169.254.169.254/latest/meta-data/\r\n\r\n");
    } else if (!strcmp(path, "/to-loopback-decimal")) {
        sendf(fd, "HTTP/1.1 308 Permanent\r\nLocation: http://2130706433:%u/feed\r\n\r\n",
              server.port);
    } else if (!strcmp(path, "/to-file")) {
        sendf(fd, "HTTP/1.1 302 Found\r\nLocation: file:///etc/passwd\r\n\r\n");
    } else if (!strcmp(path, "/no-location")) {
        sendf(fd, "HTTP/1.1 302 Found\r\nContent-Length: 0\r\n\r\n");
    } else if (!strcmp(path, "/big") || !strcmp(path, "/big-unsized")) {
        size_t size = 3 * 1024 * 1024;
        if (!strcmp(path, "/big"))
            sendf(fd, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", size);
        else
            sendf(fd, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
        static char chunk[64 * 1024];
        memset(chunk, 'x', sizeof chunk);
        for (size_t sent = 0; sent < size; sent += sizeof chunk)
            send_all(fd, chunk, sizeof chunk);
    } else if (!strcmp(path, "/gzip") || !strcmp(path, "/gzip-bomb")) {
        bool bomb = !strcmp(path, "/gzip-bomb");
        size_t len = bomb ? sizeof gzip_zeros : sizeof gzip_small;
        sendf(fd,
              "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %zu\r\n"
              "Connection: close\r\n\r\n",
              len);
        send_all(fd, bomb ? gzip_zeros : gzip_small, len);
    } else if (!strcmp(path, "/headers")) {
        sendf(fd, "HTTP/1.1 200 OK\r\n");
        for (int i = 0; i < 2000; i++)
            sendf(fd, "X-Filler-%d: %0100d\r\n", i, i);
        sendf(fd, "Content-Length: 0\r\n\r\n");
    } else if (!strcmp(path, "/slow")) {
        sendf(fd, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n<rss>");
        wait_close(fd, 5000);
    } else if (!strcmp(path, "/error")) {
        const char *body = "internal detail: db password hunter2";
        sendf(fd, "HTTP/1.1 500 Oops\r\nContent-Length: %zu\r\n\r\n%s", strlen(body), body);
    } else {
        sendf(fd, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
    }
}

static void *serve(void *arg)
{
    (void)arg;
    for (;;) {
        int fd = accept(server.fd, NULL, NULL);
        if (fd < 0)
            continue;
        pthread_mutex_lock(&server.lock);
        bool stop = server.stop;
        if (!stop)
            server.connections++;
        pthread_mutex_unlock(&server.lock);
        if (stop) {
            close(fd);
            return NULL;
        }
        char req[8192];
        size_t len = 0;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        while (len < sizeof req - 1 && poll(&p, 1, 5000) > 0) {
            ssize_t r = recv(fd, req + len, sizeof req - 1 - len, 0);
            if (r <= 0)
                break;
            len += (size_t)r;
            req[len] = '\0';
            if (strstr(req, "\r\n\r\n"))
                break;
        }
        req[len] = '\0';
        pthread_mutex_lock(&server.lock);
        memcpy(server.request, req, len + 1);
        pthread_mutex_unlock(&server.lock);
        respond(fd, req);
        shutdown(fd, SHUT_WR);
        wait_close(fd, 1000);
        close(fd);
    }
}

static int start_server(void **state)
{
    (void)state;
    server.fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(server.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    if (bind(server.fd, (struct sockaddr *)&a, sizeof a) || listen(server.fd, 16) ||
        getsockname(server.fd, (struct sockaddr *)&a, &alen))
        return -1;
    server.port = ntohs(a.sin_port);
    pthread_mutex_init(&server.lock, NULL);
    return pthread_create(&server.thread, NULL, serve, NULL) ? -1 : egress_init();
}

static int stop_server(void **state)
{
    (void)state;
    pthread_mutex_lock(&server.lock);
    server.stop = true;
    pthread_mutex_unlock(&server.lock);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                            .sin_port = htons((uint16_t)server.port)};
    connect(fd, (struct sockaddr *)&a, sizeof a);
    pthread_join(server.thread, NULL);
    close(fd);
    close(server.fd);
    return 0;
}

static int connections(void)
{
    pthread_mutex_lock(&server.lock);
    int n = server.connections;
    pthread_mutex_unlock(&server.lock);
    return n;
}

static bool request_has(const char *text)
{
    pthread_mutex_lock(&server.lock);
    bool has = strstr(server.request, text) != NULL;
    pthread_mutex_unlock(&server.lock);
    return has;
}

static char *url(const char *path)
{
    static char u[128];
    snprintf(u, sizeof u, "http://127.0.0.1:%u%s", server.port, path);
    return u;
}

/* cmocka setup: *state is a policy that allows the test server (127.0.0.1/32). */
static int allow_loopback(void **state)
{
    struct egress_policy *p = xcalloc(1, sizeof *p);
    char msg[160];
    *state = p;
    return egress_policy_allow(p, "127.0.0.1/32", msg);
}

/* cmocka teardown of allow_loopback. */
static int release_policy(void **state)
{
    egress_policy_release(*state);
    free(*state);
    return 0;
}

/* Fetches path from the test server with policy p and no request options; asserts what
 * egress_fetch returns and the status. */
static void expect_status(const struct egress_policy *p, const char *path, int rc, int status)
{
    struct egress_response res;
    assert_int_equal(egress_fetch(url(path), p, NULL, &res), rc);
    assert_int_equal(res.status, status);
    egress_response_release(&res);
}

static void ok_with_validators(void **state)
{
    struct egress_policy *p = *state;
    struct egress_response res;
    struct egress_request req = {.what = "feed", .accept = "application/rss+xml"};
    assert_int_equal(egress_fetch(url("/feed"), p, &req, &res), 0);
    assert_int_equal(res.status, 200);
    assert_string_equal(res.error, "");
    assert_int_equal(res.body_len, strlen(FEED_BODY));
    assert_string_equal(res.body, FEED_BODY);
    assert_string_equal(res.etag, ETAG);
    assert_string_equal(res.last_modified, LAST_MODIFIED);
    assert_string_equal(res.content_type, "application/rss+xml");
    assert_string_equal(res.url, url("/feed"));
    assert_int_equal(res.redirects, 0);
    assert_true(request_has("\r\nUser-Agent: Switchboard/0.1 (+feed fetcher)\r\n"));
    assert_true(request_has("\r\nAccept-Encoding: "));
    assert_true(request_has("\r\nAccept: application/rss+xml\r\n"));
    assert_false(request_has("If-None-Match"));
    egress_response_release(&res);
    assert_null(res.body);

    /* conditional: a 304 is a success without a body */
    req.etag = ETAG;
    req.last_modified = LAST_MODIFIED;
    assert_int_equal(egress_fetch(url("/feed"), p, &req, &res), 0);
    assert_int_equal(res.status, 304);
    assert_null(res.body);
    assert_string_equal(res.etag, ETAG);
    assert_true(request_has("\r\nIf-None-Match: " ETAG "\r\n"));
    assert_true(request_has("\r\nIf-Modified-Since: " LAST_MODIFIED "\r\n"));
    egress_response_release(&res);

    /* header values that are not one printable line are not sent */
    req.etag = "\"v2\"\r\nX-Injected: 1";
    req.last_modified = NULL;
    assert_int_equal(egress_fetch(url("/feed"), p, &req, &res), 0);
    assert_int_equal(res.status, 200);
    assert_false(request_has("X-Injected"));
    egress_response_release(&res);

    /* gzip is asked for and decoded */
    assert_int_equal(egress_fetch(url("/gzip"), p, NULL, &res), 0);
    assert_string_equal(res.body, "<rss>gzip body</rss>");
    egress_response_release(&res);
}

static void redirects(void **state)
{
    struct egress_policy *p = *state;
    struct egress_response res;
    for (int n = 1; n <= 3; n++) {
        char path[32];
        snprintf(path, sizeof path, "/redirect/%d", n);
        assert_int_equal(egress_fetch(url(path), p, NULL, &res), 0);
        assert_int_equal(res.status, 200);
        assert_int_equal(res.redirects, n);
        assert_string_equal(res.url, url("/feed"));
        assert_string_equal(res.body, FEED_BODY);
        egress_response_release(&res);
    }
    int before = connections();
    assert_int_equal(egress_fetch(url("/redirect/4"), p, NULL, &res), -ERR_FORBIDDEN);
    assert_non_null(strstr(res.error, "more than 3 redirects"));
    assert_null(res.body);
    assert_int_equal(connections() - before, 4); /* the 4th Location is not requested */
    egress_response_release(&res);

    assert_int_equal(egress_fetch(url("/absolute"), p, NULL, &res), 0);
    assert_int_equal(res.redirects, 1);
    egress_response_release(&res);

    expect_status(p, "/no-location", -ERR_UNAVAILABLE, 302);
}

static void redirects_refused(void **state)
{
    struct egress_policy *p = *state;
    struct egress_response res;
    static const struct {
        const char *path;
        int rc;
        const char *says;
    } cases[] = {
        {"/to-private", -ERR_FORBIDDEN, "private network"},
        {"/to-metadata", -ERR_FORBIDDEN, "metadata"},
        {"/to-file", -ERR_INVALID_FIELD, "only http and https"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int before = connections();
        int rc = egress_fetch(url(cases[i].path), p, NULL, &res);
        assert_int_equal(rc, cases[i].rc);
        assert_non_null(strstr(res.error, "a redirect was refused"));
        assert_non_null(strstr(res.error, cases[i].says));
        assert_int_equal(res.redirects, 0);
        assert_null(res.body);
        assert_int_equal(connections() - before, 1);
        egress_response_release(&res);
    }
}

static void caps(void **state)
{
    struct egress_policy *p = *state;
    struct egress_response res;
    struct egress_request req = {.what = "feed", .max_bytes = 64 * 1024};
    assert_int_equal(egress_fetch(url("/big"), p, &req, &res), -ERR_PAYLOAD_TOO_LARGE);
    assert_string_equal(res.error, "the feed is larger than 64 KiB");
    assert_null(res.body);
    egress_response_release(&res);
    assert_int_equal(egress_fetch(url("/big-unsized"), p, &req, &res), -ERR_PAYLOAD_TOO_LARGE);
    assert_string_equal(res.error, "the feed is larger than 64 KiB");
    egress_response_release(&res);
    /* the cap is on the decoded bytes: 1 KiB of gzip that inflates to 1 MiB is refused */
    assert_int_equal(egress_fetch(url("/gzip-bomb"), p, &req, &res), -ERR_PAYLOAD_TOO_LARGE);
    egress_response_release(&res);
    req.max_bytes = 2 * 1024 * 1024;
    assert_int_equal(egress_fetch(url("/gzip-bomb"), p, &req, &res), 0);
    assert_int_equal(res.body_len, 1024 * 1024);
    egress_response_release(&res);

    assert_int_equal(egress_fetch(url("/headers"), p, NULL, &res), -ERR_PAYLOAD_TOO_LARGE);
    assert_non_null(strstr(res.error, "headers"));
    egress_response_release(&res);

    /* other statuses: the status only, never the body */
    assert_int_equal(egress_fetch(url("/error"), p, NULL, &res), -ERR_UNAVAILABLE);
    assert_int_equal(res.status, 500);
    assert_string_equal(res.error, "the server answered HTTP 500");
    assert_null(res.body);
    egress_response_release(&res);
    expect_status(p, "/nothing-here", -ERR_UNAVAILABLE, 404);
}

static void time_cap(void **state)
{
    struct egress_policy *p = *state;
    struct egress_response res;
    struct egress_request req = {.what = "feed", .timeout_ms = 500};
    int64_t start = time_mono_ms();
    assert_int_equal(egress_fetch(url("/slow"), p, &req, &res), -ERR_UNAVAILABLE);
    int64_t took = time_mono_ms() - start;
    assert_true(took >= 450 && took < 3000);
    assert_string_equal(res.error, "the feed did not arrive within 500 ms");
    assert_null(res.body);
    egress_response_release(&res);
}

/* Without the allow-list, the local server is refused before anything connects to it. */
static void refused_before_connecting(void **state)
{
    (void)state;
    struct egress_response res;
    int before = connections();
    assert_int_equal(egress_fetch(url("/feed"), NULL, NULL, &res), -ERR_FORBIDDEN);
    assert_non_null(strstr(res.error, "loopback"));
    assert_int_equal(res.status, 0);
    assert_null(res.body);
    egress_response_release(&res);
    struct egress_policy other = {0};
    char msg[160];
    assert_int_equal(egress_policy_allow(&other, "10.0.0.0/8", msg), 0);
    assert_int_equal(egress_fetch(url("/feed"), &other, NULL, &res), -ERR_FORBIDDEN);
    egress_response_release(&res);
    egress_policy_release(&other);
    assert_int_equal(egress_fetch("ftp://127.0.0.1/", NULL, NULL, &res), -ERR_INVALID_FIELD);
    egress_response_release(&res);
    assert_int_equal(connections(), before);
}

/* A proxy named by the environment is not used: the fetch goes straight to the checked
 * address (a proxy would be a way around the pin). */
static void environment_proxy_ignored(void **state)
{
    struct egress_policy *p = *state;
    static const char *const vars[] = {"http_proxy", "HTTP_PROXY", "https_proxy", "ALL_PROXY",
                                       "all_proxy"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        setenv(vars[i], "http://127.0.0.1:9/", 1);
    expect_status(p, "/feed", 0, 200);
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        unsetenv(vars[i]);
}

/* ---- the pin ---- */

static int resolve_to_loopback(void *ctx, const char *host, struct egress_addr *out, size_t max)
{
    (void)ctx;
    (void)max;
    if (strcmp(host, "feed.invalid"))
        return 0;
    memset(out, 0, sizeof *out);
    out->family = AF_INET;
    inet_pton(AF_INET, "127.0.0.1", out->bytes);
    return 1;
}

/* feed.invalid has no address in any DNS (RFC 6761): the fetch reaches the server only because
 * curl connects to the address the guard checked, not to one it looks up itself. */
static void pinned_address(void **state)
{
    struct egress_policy *p = *state;
    p->resolve = resolve_to_loopback;
    struct egress_response res;
    char u[128];
    snprintf(u, sizeof u, "http://feed.invalid:%u/feed", server.port);
    assert_int_equal(egress_fetch(u, p, NULL, &res), 0);
    assert_int_equal(res.status, 200);
    assert_string_equal(res.url, u);
    char host[64];
    snprintf(host, sizeof host, "\r\nHost: feed.invalid:%u\r\n", server.port);
    assert_true(request_has(host));
    egress_response_release(&res);
}

/* A Location of http://2130706433:PORT/ is 127.0.0.1: followed where that address is allowed,
 * refused where only the feed's own name is. */
static void redirect_to_numeric_loopback(void **state)
{
    struct egress_policy *p = *state;
    struct egress_response res;
    assert_int_equal(egress_fetch(url("/to-loopback-decimal"), p, NULL, &res), 0);
    assert_int_equal(res.redirects, 1);
    assert_string_equal(res.url, url("/feed"));
    egress_response_release(&res);

    struct egress_policy named = {.resolve = resolve_to_loopback};
    char entry[64], u[128], msg[160];
    snprintf(entry, sizeof entry, "feed.invalid:%u", server.port);
    assert_int_equal(egress_policy_allow(&named, entry, msg), 0);
    snprintf(u, sizeof u, "http://feed.invalid:%u/feed", server.port);
    assert_int_equal(egress_fetch(u, &named, NULL, &res), 0);
    egress_response_release(&res);
    int before = connections();
    snprintf(u, sizeof u, "http://feed.invalid:%u/to-loopback-decimal", server.port);
    assert_int_equal(egress_fetch(u, &named, NULL, &res), -ERR_FORBIDDEN);
    assert_non_null(strstr(res.error, "a redirect was refused"));
    assert_non_null(strstr(res.error, "loopback"));
    assert_int_equal(connections() - before, 1);
    egress_response_release(&res);
    egress_policy_release(&named);
}

/* A test whose state is the policy that allows the test server. */
#define ALLOWED_TEST(f) cmocka_unit_test_setup_teardown(f, allow_loopback, release_policy)

int main(void)
{
    const struct CMUnitTest tests[] = {
        ALLOWED_TEST(ok_with_validators),
        ALLOWED_TEST(redirects),
        ALLOWED_TEST(redirects_refused),
        ALLOWED_TEST(caps),
        ALLOWED_TEST(time_cap),
        cmocka_unit_test(refused_before_connecting),
        ALLOWED_TEST(environment_proxy_ignored),
        ALLOWED_TEST(pinned_address),
        ALLOWED_TEST(redirect_to_numeric_loopback),
    };
    return cmocka_run_group_tests(tests, start_server, stop_server);
}
