/* loadlib.h: what the load clients of `make bench` (post_load.c, sse_load.c, xnode_latency.c)
 * share: the clock, percentiles, TCP connections and epoll registration, HTTP request heads and
 * answer framing, and an SSE body read line by line through the chunked transfer coding.
 * Build: cc -O2 CLIENT.c loadlib.c -o CLIENT -lm */
#ifndef BENCH_LOADLIB_H
#define BENCH_LOADLIB_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

/* ---------------------------------------------------------------- time and percentiles */
double lb_now_s(void);  /* CLOCK_MONOTONIC in seconds */
double lb_now_ms(void); /* CLOCK_MONOTONIC in milliseconds */

/* sorts v[0..n) ascending */
void lb_sortf(float *v, size_t n);
/* the p-th percentile of n sorted values: v[p/100*n] (the last one for p = 100), -1 if n == 0 */
double lb_pct(const float *v, size_t n, double p);

/* ---------------------------------------------------------------- files */
/* up to max bytes of the file at path in a malloc'd buffer of max + 16 bytes, NUL-terminated after
 * *len; NULL (after perror) if it cannot be opened */
char *lb_read_file(const char *path, size_t max, size_t *len);

/* ---------------------------------------------------------------- connections */
/* *dst = addr:port (addr an IPv4 dotted quad); returns inet_pton's answer (1 when addr is one) */
int lb_addr(struct sockaddr_in *dst, const char *addr, int port);
/* a TCP connection to dst (blocking connect), with TCP_NODELAY, then made non-blocking; -1 if it
 * fails (errno says why) */
int lb_connect(const struct sockaddr_in *dst);
/* epoll_ctl(ep, op, fd) for events, with key as data.u32 */
void lb_epoll(int ep, int op, int fd, uint32_t events, uint32_t key);
/* takes *fd (if >= 0) out of ep and closes it; *fd = -1 */
void lb_close(int ep, int *fd);

/* ---------------------------------------------------------------- HTTP */
/* into out (cap bytes): the head of a POST of blen bytes of JSON to path; extra: more header lines,
 * each ending in "\r\n", or "". Returns snprintf's answer */
int lb_post_head(char *out, size_t cap, const char *path, const char *host, int port, size_t blen,
                 const char *extra);
/* into out (cap bytes): a GET of the SSE stream at path with a bearer token */
int lb_sse_get(char *out, size_t cap, const char *path, const char *host, int port,
               const char *token);
/* the length of the first complete answer (headers and its Content-Length body) in rx[0..rxlen),
 * 0 while it is incomplete; *hlen: its header bytes. Sets rx[rxlen] = 0 (rx has room for it). */
size_t lb_answer_len(char *rx, size_t rxlen, size_t *hlen);

/* An answer's body read as lines (an SSE stream), through the chunked transfer coding when
 * `chunked` is set. The caller sets line and cap (its line buffer) and chunked; zero the rest. */
struct lb_body {
    char *line;
    uint32_t cap, len; /* size of line[] and bytes in it */
    uint32_t krem;     /* bytes left in the current chunk */
    uint8_t chunked, kst, over;
};
typedef void lb_line_fn(void *ctx, const char *line, size_t len);
/* Feeds n bytes of the body: fn gets each complete line without its "\n" or "\r\n" (a line longer
 * than cap is passed over). Returns 1 when the last chunk ended the body (what follows in b is not
 * read), else 0. */
int lb_body_feed(struct lb_body *bd, const char *b, size_t n, lb_line_fn *fn, void *ctx);

#endif
