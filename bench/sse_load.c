/* sse_load.c: SSE fan-out load client for `make bench` (one thread, epoll).
 *
 * Opens N live streams (GET PATH with a bearer token) from source addresses 127.0.0.2 ..
 * 127.0.0.(1+NIPS) (IP_BIND_ADDRESS_NO_PORT, so each address has its own ~28k ephemeral ports),
 * decodes the chunked transfer encoding and the SSE lines, and waits until every stream has
 * received its `: welcome` comment. Then, optionally, it waits for GO_FILE to exist (so a script
 * can read the server's memory with all streams idle), and POSTs EVENTS webhook payloads GAP_MS
 * apart on one keep-alive connection. For each event it records, per stream, the time from just
 * before the POST's write() to the read() that carried that event's `id:` line. The event's id is
 * the first id above every id seen before the POST (nothing else writes during the measurement; the
 * script checks that every stream saw the same id). Finally it keeps the streams open (reading and
 * counting heartbeats) for HOLD_MS or until STOP_FILE exists.
 *
 * usage: sse_load -p PORT -n N -t TOKEN [-a 127.0.0.1] [-P /api/v1/events] [-i NIPS] [-e EVENTS]
 *                 [-g GAP_MS] [-u WEBHOOK_PATH -b BODY_FILE] [-G GO_FILE] [-h HOLD_MS]
 *                 [-S STOP_FILE]
 * prints: ESTABLISHED streams= welcomed= failed= ms=
 *         EVENT k= id= got= live= other_id= p50_ms= p99_ms= max_ms= ack_ms=   (one line per event)
 *         FANOUT n= events= samples= missing= p50_ms= p99_ms= max_ms=
 *         HOLD live= closed_by_server= heartbeats= ms=
 * Build: cc -O2 sse_load.c loadlib.c -o sse_load */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "loadlib.h"

enum { S_CONNECTING, S_HEADERS, S_LIVE, S_DEAD };

struct stream {
    int fd;
    uint8_t st, welcomed;
    uint16_t hlen; /* header bytes seen (only the status line is kept) */
    uint8_t hend;  /* progress through "\r\n\r\n" */
    struct lb_body body;
    char line[30];
    int status;
    uint64_t last_id; /* highest id seen */
    uint64_t ev_id;   /* first id above the event base, for the event being measured */
    float lat;        /* ms, or -1 */
};

static struct stream *ss;
static int N, ep, nlive, nwelcomed, nfailed, nclosed_live;
static uint64_t heartbeats;
static double ev_t0;     /* time of the event POST being measured, 0 if none */
static uint64_t ev_base; /* highest id seen by any stream before that POST */
static int ev_got;
static int post_fd = -1;
static double post_ack = -1;
static char post_rx[4096];
static size_t post_rxlen;

/* what sse_line needs besides the line: its stream and the time of the read that completed it */
struct line_ctx {
    struct stream *s;
    double t;
};

static void sse_line(void *ctx, const char *line, size_t len)
{
    struct stream *s = ((struct line_ctx *)ctx)->s;
    double t = ((struct line_ctx *)ctx)->t;
    if (len == 9 && !memcmp(line, ": welcome", 9)) {
        if (!s->welcomed) {
            s->welcomed = 1;
            nwelcomed++;
        }
        return;
    }
    if (len == 4 && !memcmp(line, ": hb", 4)) {
        heartbeats++;
        return;
    }
    if (len > 3 && !memcmp(line, "id:", 3)) {
        uint64_t v = 0;
        for (size_t i = 3; i < len; i++)
            if (line[i] >= '0' && line[i] <= '9')
                v = v * 10 + (uint64_t)(line[i] - '0');
        if (v > s->last_id)
            s->last_id = v;
        if (ev_t0 > 0 && v > ev_base && s->lat < 0) {
            s->lat = (float)(t - ev_t0);
            s->ev_id = v;
            ev_got++;
        }
    }
}

static void close_stream(struct stream *s)
{
    if (s->st == S_LIVE) {
        nlive--;
        nclosed_live++;
    } else if (s->st != S_DEAD) {
        nfailed++;
    }
    lb_close(ep, &s->fd);
    s->st = S_DEAD;
}

static char hdrbuf[2048]; /* scratch for the header lines of one read */

static void on_read(struct stream *s, const char *b, size_t n, double t)
{
    size_t i = 0;
    if (s->st == S_HEADERS) {
        for (; i < n && s->st == S_HEADERS; i++) {
            char c = b[i];
            if (s->hlen < sizeof hdrbuf - 1)
                hdrbuf[s->hlen] = c;
            s->hlen++;
            if (s->hlen == 13 && !s->status)
                s->status = atoi(hdrbuf + 9);
            if (c == '\n') {
                /* a complete header line ends at hdrbuf[hlen-1] */
                size_t end = s->hlen < sizeof hdrbuf - 1 ? s->hlen : sizeof hdrbuf - 1;
                size_t st = end - 1;
                while (st > 0 && hdrbuf[st - 1] != '\n')
                    st--;
                hdrbuf[end] = 0;
                if (!strncasecmp(hdrbuf + st, "transfer-encoding:", 18) &&
                    strcasestr(hdrbuf + st, "chunked"))
                    s->body.chunked = 1;
            }
            s->hend = (c == ((s->hend & 1) ? '\n' : '\r')) ? s->hend + 1 : (c == '\r');
            if (s->hend == 4) {
                if (s->status != 200) {
                    close_stream(s);
                    return;
                }
                s->st = S_LIVE;
                nlive++;
            }
        }
        /* the header scratch is shared: a stream's headers arrive in one read on loopback; if they
         * do not, the status line was still parsed from the first 13 bytes of this read */
        if (s->st == S_HEADERS)
            s->hlen = s->hlen > 13 ? 13 : s->hlen;
    }
    if (s->st == S_LIVE && i < n) {
        struct line_ctx lc = {s, t};
        if (lb_body_feed(&s->body, b + i, n - i, sse_line, &lc))
            close_stream(s); /* the last chunk: the server ended the stream */
    }
}

static void post_read(double t)
{
    for (;;) {
        ssize_t r = read(post_fd, post_rx + post_rxlen, sizeof post_rx - 1 - post_rxlen);
        if (r <= 0)
            break;
        post_rxlen += (size_t)r;
        size_t hl, need = lb_answer_len(post_rx, post_rxlen, &hl);
        if (need) {
            if (post_ack < 0)
                post_ack = t - ev_t0;
            if (strncmp(post_rx + 9, "200", 3))
                fprintf(stderr, "sse_load: webhook answered: %.60s\n", post_rx);
            memmove(post_rx, post_rx + need, post_rxlen - need);
            post_rxlen -= need;
        }
    }
}

static const char *gofile, *stopfile;
static char req[1024];
static size_t reqlen;

static void service(double until)
{
    static char buf[65536];
    struct epoll_event evs[1024];
    int to = (int)(until - lb_now_ms());
    if (to < 0)
        to = 0;
    if (to > 20)
        to = 20;
    int k = epoll_wait(ep, evs, 1024, to);
    double t = lb_now_ms();
    for (int j = 0; j < k; j++) {
        uint32_t idx = evs[j].data.u32;
        if (idx == (uint32_t)N) {
            post_read(t);
            continue;
        }
        struct stream *s = &ss[idx];
        if (s->fd < 0)
            continue;
        if (s->st == S_CONNECTING) {
            int err = 0;
            socklen_t l = sizeof err;
            getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &l);
            if (err || write(s->fd, req, reqlen) != (ssize_t)reqlen) {
                close_stream(s);
                continue;
            }
            s->st = S_HEADERS;
            lb_epoll(ep, EPOLL_CTL_MOD, s->fd, EPOLLIN, idx);
            continue;
        }
        for (;;) {
            ssize_t r = read(s->fd, buf, sizeof buf);
            if (r > 0) {
                t = lb_now_ms(); /* the time of this read, not of the epoll_wait wake-up */
                on_read(s, buf, (size_t)r, t);
                if (s->fd < 0 || r < (ssize_t)sizeof buf)
                    break;
                continue;
            }
            if (r == 0 || (errno != EAGAIN && errno != EINTR))
                close_stream(s);
            break;
        }
    }
}

int main(int argc, char **argv)
{
    const char *addr = "127.0.0.1", *path = "/api/v1/events", *token = NULL, *hook = NULL,
               *bodyf = NULL;
    int port = 0, nips = 4, events = 0, gap = 1000, hold = 0;
    int opt;
    while ((opt = getopt(argc, argv, "a:p:n:t:P:i:e:g:u:b:G:h:S:")) != -1) {
        switch (opt) {
        case 'a':
            addr = optarg;
            break;
        case 'p':
            port = atoi(optarg);
            break;
        case 'n':
            N = atoi(optarg);
            break;
        case 't':
            token = optarg;
            break;
        case 'P':
            path = optarg;
            break;
        case 'i':
            nips = atoi(optarg);
            break;
        case 'e':
            events = atoi(optarg);
            break;
        case 'g':
            gap = atoi(optarg);
            break;
        case 'u':
            hook = optarg;
            break;
        case 'b':
            bodyf = optarg;
            break;
        case 'G':
            gofile = optarg;
            break;
        case 'h':
            hold = atoi(optarg);
            break;
        case 'S':
            stopfile = optarg;
            break;
        default:
            fprintf(stderr, "see the comment at the top of sse_load.c\n");
            return 2;
        }
    }
    if (!port || N <= 0 || !token || (events && (!hook || !bodyf)) || nips < 1) {
        fprintf(stderr, "usage: sse_load -p PORT -n N -t TOKEN [...] (see sse_load.c)\n");
        return 2;
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        if (rl.rlim_cur < (rlim_t)N + 16)
            fprintf(stderr, "sse_load: RLIMIT_NOFILE %llu is below N + 16\n",
                    (unsigned long long)rl.rlim_cur);
    }
    signal(SIGPIPE, SIG_IGN);
    reqlen = (size_t)lb_sse_get(req, sizeof req, path, addr, port, token);
    ss = calloc((size_t)N, sizeof *ss);
    ep = epoll_create1(0);
    struct sockaddr_in dst;
    lb_addr(&dst, addr, port);

    /* connect, at most 512 handshakes in flight */
    double t0 = lb_now_ms();
    int opened = 0;
    while ((opened < N || nwelcomed + nfailed + nclosed_live < N) && lb_now_ms() - t0 < 120000) {
        while (opened < N && opened - (nwelcomed + nfailed + nclosed_live) < 512) {
            struct stream *s = &ss[opened];
            s->lat = -1;
            s->body.line = s->line;
            s->body.cap = sizeof s->line;
            s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
            if (s->fd < 0) {
                perror("socket");
                s->st = S_DEAD;
                nfailed++;
                opened++;
                continue;
            }
            int one = 1;
            setsockopt(s->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
            struct sockaddr_in src = {.sin_family = AF_INET};
            src.sin_addr.s_addr = htonl(0x7f000002u + (uint32_t)(opened % nips));
            if (bind(s->fd, (struct sockaddr *)&src, sizeof src) < 0 ||
                (connect(s->fd, (struct sockaddr *)&dst, sizeof dst) < 0 && errno != EINPROGRESS)) {
                close(s->fd);
                s->fd = -1;
                s->st = S_DEAD;
                nfailed++;
                opened++;
                continue;
            }
            lb_epoll(ep, EPOLL_CTL_ADD, s->fd, EPOLLOUT, (uint32_t)opened);
            opened++;
        }
        service(lb_now_ms() + 5);
    }
    printf("ESTABLISHED streams=%d welcomed=%d failed=%d ms=%.0f\n", nlive, nwelcomed,
           nfailed + nclosed_live, lb_now_ms() - t0);
    fflush(stdout);
    if (gofile)
        while (access(gofile, F_OK) != 0)
            service(lb_now_ms() + 20);

    float *lat = malloc(sizeof(float) * (size_t)N),
          *all = malloc(sizeof(float) * (size_t)N * (size_t)(events ? events : 1));
    size_t nall = 0;
    long missing = 0;
    if (events) {
        static char preq[(1 << 16) + 2048];
        size_t blen;
        char *body = lb_read_file(bodyf, 1 << 16, &blen);
        if (!body)
            return 2;
        int plen = lb_post_head(preq, 2048, hook, addr, port, blen, "");
        memcpy(preq + plen, body, blen);
        plen += (int)blen;
        post_fd = lb_connect(&dst);
        if (post_fd < 0) {
            perror("connect");
            return 1;
        }
        lb_epoll(ep, EPOLL_CTL_ADD, post_fd, EPOLLIN, (uint32_t)N);
        for (int ev = 0; ev < events; ev++) {
            uint64_t base = 0;
            for (int i = 0; i < N; i++) {
                ss[i].lat = -1;
                ss[i].ev_id = 0;
                if (ss[i].last_id > base)
                    base = ss[i].last_id;
            }
            ev_base = base;
            ev_got = 0;
            post_ack = -1;
            double t1 = lb_now_ms();
            ev_t0 = t1;
            if (write(post_fd, preq, (size_t)plen) != plen) {
                perror("write");
                return 1;
            }
            while (lb_now_ms() - t1 < 10000 && (ev_got < nlive || post_ack < 0))
                service(t1 + 10000);
            /* the event's id: the one most streams got (all of them, if nothing else was written)
             */
            uint64_t id = 0;
            int got = 0, other = 0, k = 0;
            for (int i = 0; i < N; i++)
                if (ss[i].ev_id && (!id || ss[i].ev_id < id))
                    id = ss[i].ev_id;
            for (int i = 0; i < N; i++) {
                if (ss[i].st != S_LIVE)
                    continue;
                if (ss[i].ev_id == id && id) {
                    got++;
                    lat[k++] = ss[i].lat;
                    all[nall++] = ss[i].lat;
                } else if (ss[i].ev_id)
                    other++;
            }
            lb_sortf(lat, (size_t)k);
            missing += nlive - got;
            printf("EVENT k=%d id=%llu got=%d live=%d other_id=%d p50_ms=%.1f p99_ms=%.1f "
                   "max_ms=%.1f ack_ms=%.2f\n",
                   ev + 1, (unsigned long long)id, got, nlive, other, lb_pct(lat, (size_t)k, 50),
                   lb_pct(lat, (size_t)k, 99), lb_pct(lat, (size_t)k, 100), post_ack);
            fflush(stdout);
            ev_t0 = 0;
            double until = t1 + gap;
            while (lb_now_ms() < until)
                service(until);
        }
        lb_sortf(all, nall);
        printf(
            "FANOUT n=%d events=%d samples=%zu missing=%ld p50_ms=%.1f p99_ms=%.1f max_ms=%.1f\n",
            N, events, nall, missing, lb_pct(all, nall, 50), lb_pct(all, nall, 99),
            lb_pct(all, nall, 100));
        fflush(stdout);
    }
    double th = lb_now_ms();
    int closed0 = nclosed_live;
    uint64_t hb0 = heartbeats;
    while (lb_now_ms() - th < hold && !(stopfile && access(stopfile, F_OK) == 0))
        service(lb_now_ms() + 50);
    printf("HOLD live=%d closed_by_server=%d heartbeats=%llu ms=%.0f\n", nlive,
           nclosed_live - closed0, (unsigned long long)(heartbeats - hb0), lb_now_ms() - th);
    fflush(stdout);
    return 0;
}
