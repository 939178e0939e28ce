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
 *                 [-g GAP_MS] [-u WEBHOOK_PATH -b BODY_FILE] [-G GO_FILE] [-h HOLD_MS] [-S
 * STOP_FILE] prints: ESTABLISHED streams= welcomed= failed= ms=      (then, per event) EVENT k= id=
 * got= live= other_id= p50_ms= p99_ms= max_ms= ack_ms= FANOUT n= events= samples= missing= p50_ms=
 * p99_ms= max_ms= HOLD live= closed_by_server= heartbeats= Build: cc -O2 sse_load.c -o sse_load */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { S_CONNECTING, S_HEADERS, S_LIVE, S_DEAD };
enum { K_SIZE, K_EXT, K_DATA, K_CRLF };

struct stream {
    int fd;
    uint8_t st, chunked, kst, welcomed;
    uint16_t hlen; /* header bytes seen (only the status line is kept) */
    uint8_t hend;  /* progress through "\r\n\r\n" */
    uint8_t llen;  /* bytes in line[] */
    uint8_t lover; /* current line longer than line[] */
    char line[30];
    uint32_t krem; /* bytes left in the current chunk */
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

static double now_ms(void)
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

static void sse_line(struct stream *s, double t)
{
    if (s->lover)
        return;
    if (s->llen == 9 && !memcmp(s->line, ": welcome", 9)) {
        if (!s->welcomed) {
            s->welcomed = 1;
            nwelcomed++;
        }
        return;
    }
    if (s->llen == 4 && !memcmp(s->line, ": hb", 4)) {
        heartbeats++;
        return;
    }
    if (s->llen > 3 && !memcmp(s->line, "id:", 3)) {
        uint64_t v = 0;
        for (int i = 3; i < s->llen; i++)
            if (s->line[i] >= '0' && s->line[i] <= '9')
                v = v * 10 + (uint64_t)(s->line[i] - '0');
        if (v > s->last_id)
            s->last_id = v;
        if (ev_t0 > 0 && v > ev_base && s->lat < 0) {
            s->lat = (float)(t - ev_t0);
            s->ev_id = v;
            ev_got++;
        }
    }
}

/* SSE bytes (already de-chunked) */
static void sse_bytes(struct stream *s, const char *b, size_t n, double t)
{
    for (size_t i = 0; i < n; i++) {
        char c = b[i];
        if (c == '\n') {
            if (s->llen && s->line[s->llen - 1] == '\r')
                s->llen--;
            sse_line(s, t);
            s->llen = 0;
            s->lover = 0;
        } else if (s->llen < sizeof s->line) {
            s->line[s->llen++] = c;
        } else {
            s->lover = 1;
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
    if (s->fd >= 0) {
        epoll_ctl(ep, EPOLL_CTL_DEL, s->fd, NULL);
        close(s->fd);
    }
    s->fd = -1;
    s->st = S_DEAD;
}

static void body_bytes(struct stream *s, const char *b, size_t n, double t)
{
    if (!s->chunked) {
        sse_bytes(s, b, n, t);
        return;
    }
    size_t i = 0;
    while (i < n) {
        char c = b[i];
        switch (s->kst) {
        case K_SIZE:
            i++;
            if (c >= '0' && c <= '9')
                s->krem = s->krem * 16 + (uint32_t)(c - '0');
            else if (c >= 'a' && c <= 'f')
                s->krem = s->krem * 16 + (uint32_t)(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F')
                s->krem = s->krem * 16 + (uint32_t)(c - 'A' + 10);
            else if (c == '\n') {
                if (s->krem == 0) {
                    close_stream(s);
                    return;
                } /* last chunk: the server ended it */
                s->kst = K_DATA;
            } else if (c != '\r')
                s->kst = K_EXT;
            break;
        case K_EXT:
            i++;
            if (c == '\n') {
                if (s->krem == 0) {
                    close_stream(s);
                    return;
                }
                s->kst = K_DATA;
            }
            break;
        case K_DATA: {
            size_t take = n - i < s->krem ? n - i : s->krem;
            sse_bytes(s, b + i, take, t);
            i += take;
            s->krem -= (uint32_t)take;
            if (!s->krem)
                s->kst = K_CRLF;
            break;
        }
        case K_CRLF:
            i++;
            if (c == '\n') {
                s->kst = K_SIZE;
                s->krem = 0;
            }
            break;
        }
    }
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
                    s->chunked = 1;
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
    if (s->st == S_LIVE && i < n)
        body_bytes(s, b + i, n - i, t);
}

static void post_read(double t)
{
    for (;;) {
        ssize_t r = read(post_fd, post_rx + post_rxlen, sizeof post_rx - 1 - post_rxlen);
        if (r <= 0)
            break;
        post_rxlen += (size_t)r;
        post_rx[post_rxlen] = 0;
        char *e = strstr(post_rx, "\r\n\r\n");
        if (e) {
            char *cl = strcasestr(post_rx, "content-length:");
            size_t need = (size_t)(e - post_rx) + 4 + (cl ? (size_t)atol(cl + 15) : 0);
            if (post_rxlen >= need) {
                if (post_ack < 0)
                    post_ack = t - ev_t0;
                if (strncmp(post_rx + 9, "200", 3))
                    fprintf(stderr, "sse_load: webhook answered: %.60s\n", post_rx);
                memmove(post_rx, post_rx + need, post_rxlen - need);
                post_rxlen -= need;
            }
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
    int to = (int)(until - now_ms());
    if (to < 0)
        to = 0;
    if (to > 20)
        to = 20;
    int k = epoll_wait(ep, evs, 1024, to);
    double t = now_ms();
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
            struct epoll_event e = {.events = EPOLLIN, .data.u32 = idx};
            epoll_ctl(ep, EPOLL_CTL_MOD, s->fd, &e);
            continue;
        }
        for (;;) {
            ssize_t r = read(s->fd, buf, sizeof buf);
            if (r > 0) {
                t = now_ms(); /* the time of this read, not of the epoll_wait wake-up */
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
    reqlen = (size_t)snprintf(req, sizeof req,
                              "GET %s HTTP/1.1\r\nHost: %s:%d\r\nAccept: text/event-stream\r\n"
                              "Authorization: Bearer %s\r\nCache-Control: no-cache\r\n\r\n",
                              path, addr, port, token);
    ss = calloc((size_t)N, sizeof *ss);
    ep = epoll_create1(0);
    struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, addr, &dst.sin_addr);

    /* connect, at most 512 handshakes in flight */
    double t0 = now_ms();
    int opened = 0;
    while ((opened < N || nwelcomed + nfailed + nclosed_live < N) && now_ms() - t0 < 120000) {
        while (opened < N && opened - (nwelcomed + nfailed + nclosed_live) < 512) {
            struct stream *s = &ss[opened];
            s->lat = -1;
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
            struct epoll_event e = {.events = EPOLLOUT, .data.u32 = (uint32_t)opened};
            epoll_ctl(ep, EPOLL_CTL_ADD, s->fd, &e);
            opened++;
        }
        service(now_ms() + 5);
    }
    printf("ESTABLISHED streams=%d welcomed=%d failed=%d ms=%.0f\n", nlive, nwelcomed,
           nfailed + nclosed_live, now_ms() - t0);
    fflush(stdout);
    if (gofile)
        while (access(gofile, F_OK) != 0)
            service(now_ms() + 20);

    float *lat = malloc(sizeof(float) * (size_t)N),
          *all = malloc(sizeof(float) * (size_t)N * (size_t)(events ? events : 1));
    size_t nall = 0;
    long missing = 0;
    if (events) {
        static char body[1 << 16], preq[(1 << 16) + 2048];
        FILE *f = fopen(bodyf, "rb");
        if (!f) {
            perror(bodyf);
            return 2;
        }
        size_t blen = fread(body, 1, sizeof body, f);
        fclose(f);
        int plen = snprintf(preq, 2048,
                            "POST %s HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: "
                            "application/json\r\nContent-Length: %zu\r\n\r\n",
                            hook, addr, port, blen);
        memcpy(preq + plen, body, blen);
        plen += (int)blen;
        post_fd = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(post_fd, (struct sockaddr *)&dst, sizeof dst)) {
            perror("connect");
            return 1;
        }
        int one = 1;
        setsockopt(post_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        fcntl(post_fd, F_SETFL, O_NONBLOCK);
        struct epoll_event e = {.events = EPOLLIN, .data.u32 = (uint32_t)N};
        epoll_ctl(ep, EPOLL_CTL_ADD, post_fd, &e);
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
            double t1 = now_ms();
            ev_t0 = t1;
            if (write(post_fd, preq, (size_t)plen) != plen) {
                perror("write");
                return 1;
            }
            while (now_ms() - t1 < 10000 && (ev_got < nlive || post_ack < 0))
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
            qsort(lat, (size_t)k, sizeof *lat, cmpf);
            missing += nlive - got;
            printf("EVENT k=%d id=%llu got=%d live=%d other_id=%d p50_ms=%.1f p99_ms=%.1f "
                   "max_ms=%.1f ack_ms=%.2f\n",
                   ev + 1, (unsigned long long)id, got, nlive, other, k ? lat[k / 2] : -1.0,
                   k ? lat[(size_t)((double)k * 0.99) < (size_t)k ? (size_t)((double)k * 0.99)
                                                                  : (size_t)k - 1]
                     : -1.0,
                   k ? lat[k - 1] : -1.0, post_ack);
            fflush(stdout);
            ev_t0 = 0;
            double until = t1 + gap;
            while (now_ms() < until)
                service(until);
        }
        qsort(all, nall, sizeof *all, cmpf);
        size_t i99 = (size_t)((double)nall * 0.99);
        if (nall && i99 >= nall)
            i99 = nall - 1;
        printf(
            "FANOUT n=%d events=%d samples=%zu missing=%ld p50_ms=%.1f p99_ms=%.1f max_ms=%.1f\n",
            N, events, nall, missing, nall ? all[nall / 2] : -1.0, nall ? all[i99] : -1.0,
            nall ? all[nall - 1] : -1.0);
        fflush(stdout);
    }
    double th = now_ms();
    int closed0 = nclosed_live;
    uint64_t hb0 = heartbeats;
    while (now_ms() - th < hold && !(stopfile && access(stopfile, F_OK) == 0))
        service(now_ms() + 50);
    printf("HOLD live=%d closed_by_server=%d heartbeats=%llu ms=%.0f\n", nlive,
           nclosed_live - closed0, (unsigned long long)(heartbeats - hb0), now_ms() - th);
    fflush(stdout);
    return 0;
}
