/* loadlib.c: what the load clients of `make bench` share (see loadlib.h). */
#define _GNU_SOURCE
#include "loadlib.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

double lb_now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

double lb_now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int cmpf(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? -1 : x > y;
}

void lb_sortf(float *v, size_t n)
{
    qsort(v, n, sizeof *v, cmpf);
}

double lb_pct(const float *v, size_t n, double p)
{
    if (!n)
        return -1;
    size_t i = (size_t)(p / 100.0 * (double)n);
    if (i >= n)
        i = n - 1;
    return v[i];
}

char *lb_read_file(const char *path, size_t max, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return NULL;
    }
    char *b = malloc(max + 16);
    if (!b) {
        perror("malloc");
        exit(1);
    }
    *len = fread(b, 1, max, f);
    fclose(f);
    b[*len] = 0;
    return b;
}

int lb_addr(struct sockaddr_in *dst, const char *addr, int port)
{
    memset(dst, 0, sizeof *dst);
    dst->sin_family = AF_INET;
    dst->sin_port = htons((uint16_t)port);
    return inet_pton(AF_INET, addr, &dst->sin_addr);
}

int lb_connect(const struct sockaddr_in *dst)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (const struct sockaddr *)dst, sizeof *dst) < 0) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fd, F_SETFL, O_NONBLOCK);
    return fd;
}

void lb_epoll(int ep, int op, int fd, uint32_t events, uint32_t key)
{
    struct epoll_event e = {.events = events, .data.u32 = key};
    epoll_ctl(ep, op, fd, &e);
}

void lb_close(int ep, int *fd)
{
    if (*fd >= 0) {
        epoll_ctl(ep, EPOLL_CTL_DEL, *fd, NULL);
        close(*fd);
    }
    *fd = -1;
}

int lb_post_head(char *out, size_t cap, const char *path, const char *host, int port, size_t blen,
                 const char *extra)
{
    return snprintf(out, cap,
                    "POST %s HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: application/json\r\n"
                    "Content-Length: %zu\r\n%s\r\n",
                    path, host, port, blen, extra);
}

int lb_sse_get(char *out, size_t cap, const char *path, const char *host, int port,
               const char *token)
{
    return snprintf(out, cap,
                    "GET %s HTTP/1.1\r\nHost: %s:%d\r\nAccept: text/event-stream\r\n"
                    "Authorization: Bearer %s\r\nCache-Control: no-cache\r\n\r\n",
                    path, host, port, token);
}

size_t lb_answer_len(char *rx, size_t rxlen, size_t *hlen)
{
    rx[rxlen] = 0;
    char *e = strstr(rx, "\r\n\r\n");
    if (!e)
        return 0;
    size_t hl = (size_t)(e - rx) + 4;
    char *cl = strcasestr(rx, "content-length:");
    size_t n = (cl && cl < e) ? (size_t)atol(cl + 15) : 0;
    if (rxlen < hl + n)
        return 0;
    *hlen = hl;
    return hl + n;
}

/* the line splitter, on bytes already de-chunked */
static void lines(struct lb_body *bd, const char *b, size_t n, lb_line_fn *fn, void *ctx)
{
    for (size_t i = 0; i < n; i++) {
        char c = b[i];
        if (c == '\n') {
            if (bd->len && bd->line[bd->len - 1] == '\r')
                bd->len--;
            if (!bd->over)
                fn(ctx, bd->line, bd->len);
            bd->len = 0;
            bd->over = 0;
        } else if (bd->len < bd->cap) {
            bd->line[bd->len++] = c;
        } else {
            bd->over = 1;
        }
    }
}

enum { K_SIZE, K_EXT, K_DATA, K_CRLF };

int lb_body_feed(struct lb_body *bd, const char *b, size_t n, lb_line_fn *fn, void *ctx)
{
    if (!bd->chunked) {
        lines(bd, b, n, fn, ctx);
        return 0;
    }
    size_t i = 0;
    while (i < n) {
        char c = b[i];
        switch (bd->kst) {
        case K_SIZE:
            i++;
            if (c >= '0' && c <= '9')
                bd->krem = bd->krem * 16 + (uint32_t)(c - '0');
            else if (c >= 'a' && c <= 'f')
                bd->krem = bd->krem * 16 + (uint32_t)(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F')
                bd->krem = bd->krem * 16 + (uint32_t)(c - 'A' + 10);
            else if (c == '\n') {
                if (bd->krem == 0)
                    return 1; /* the last chunk: the server ended the body */
                bd->kst = K_DATA;
            } else if (c != '\r')
                bd->kst = K_EXT;
            break;
        case K_EXT:
            i++;
            if (c == '\n') {
                if (bd->krem == 0)
                    return 1;
                bd->kst = K_DATA;
            }
            break;
        case K_DATA: {
            size_t take = n - i < bd->krem ? n - i : bd->krem;
            lines(bd, b + i, take, fn, ctx);
            i += take;
            bd->krem -= (uint32_t)take;
            if (!bd->krem)
                bd->kst = K_CRLF;
            break;
        }
        case K_CRLF:
            i++;
            if (c == '\n') {
                bd->kst = K_SIZE;
                bd->krem = 0;
            }
            break;
        }
    }
    return 0;
}
