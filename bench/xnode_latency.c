/* xnode_latency.c: webhook load spread over several nodes, and delivery latency to SSE streams
 * on any of them, for `make bench` (bench/multinode.sh). One thread, epoll.
 *
 * POSTs the body file (with "@ID@" replaced by a unique 10-digit id) to PATH on keep-alive
 * connections spread round-robin over the ports given with -P (connection i goes to port
 * i % nports), so one client can load one node or several with the same total connections and
 * report merged percentiles. With -r RATE, request i is due at t0 + i/RATE and its latency counts
 * from when it was due (open loop, as post_load.c); with -r 0 every connection sends again as soon
 * as it is answered (closed loop, latency from the write).
 *
 * With -S, it first opens one SSE stream (GET /api/v1/events, bearer TOKEN) to each port listed
 * there and waits for every `: welcome`; then for each stream and each acknowledged request it
 * records when the `data:` line carrying that request's id ("#" + the 10 digits, as in the card's
 * summary) was read. Two delays are reported per stream: from the request's write() ("send"), and
 * from the read() of its answer ("ack"; negative when the event came before the answer). After the
 * load it waits up to WAIT_MS for events still missing. Streams on the node that took the POST
 * give the same-node reference; streams on another node measure the cross-node path.
 *
 * usage: xnode_latency -P PORT[,PORT...] -u PATH -b BODYFILE [-c CONNS] [-d SECONDS] [-r RATE]
 *                      [-S PORT[,PORT...] -t TOKEN] [-W WAIT_MS] [-s FIRST_ID] [-x EXPECTED_BODY]
 *                      [-a ADDR]
 * prints: RESULT sent= ok= bad= errors= unsent= unanswered= secs= rps= ok_rps= p50_ms= p90_ms=
 *                p99_ms= max_ms= svc_p50_ms= svc_p99_ms= ok_port<P>=...
 *         SUB port= expected= received= missing= send_p50_ms= send_p99_ms= send_max_ms=
 *             ack_p50_ms= ack_p99_ms= ack_max_ms= before_ack=      (one line per stream)
 * Build: cc -O2 xnode_latency.c -o xnode_latency -lm */
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
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAXPORTS 8
#define MAXSUB 8
#define LINE_MAX_BYTES (1 << 16)

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

static double pct(float *v, size_t n, double p)
{
    if (!n)
        return -1;
    size_t i = (size_t)(p / 100.0 * (double)n);
    if (i >= n)
        i = n - 1;
    return v[i];
}

/* ---------------------------------------------------------------- requests */
struct rec {
    double due, sent, ack; /* ms; ack < 0 until answered with the expected body */
    float recv[MAXSUB];    /* ms; < 0 until the stream had it */
};
static struct rec *recs;
static size_t nrecs, caprecs;
static uint64_t first_id = 1;

static struct rec *rec_new(void)
{
    if (nrecs == caprecs) {
        caprecs = caprecs ? caprecs * 2 : 4096;
        recs = realloc(recs, caprecs * sizeof *recs);
        if (!recs) {
            perror("realloc");
            exit(1);
        }
    }
    struct rec *r = &recs[nrecs++];
    r->due = r->sent = r->ack = -1;
    for (int s = 0; s < MAXSUB; s++)
        r->recv[s] = -1;
    return r;
}

/* ---------------------------------------------------------------- POST connections */
enum { C_IDLE, C_BUSY, C_DEAD };
struct conn {
    int fd, st, port_ix;
    size_t rec; /* index into recs of the request in flight */
    char *out;
    size_t outlen, outoff;
    char rx[8192];
    size_t rxlen;
};
static struct conn *cs;
static int nconn, ep;
static int ports[MAXPORTS], nports;
static uint64_t ok_port[MAXPORTS];
static const char *addr = "127.0.0.1", *path, *expect;
static char *body_tpl;
static size_t body_len, id_off = (size_t)-1;
static uint64_t sent, ok, bad, errors;

static int connect_to(int port, int nonblock_connect)
{
    struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, addr, &dst.sin_addr);
    int fd = socket(AF_INET, SOCK_STREAM | (nonblock_connect ? SOCK_NONBLOCK : 0), 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&dst, sizeof dst) < 0 && errno != EINPROGRESS) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fd, F_SETFL, O_NONBLOCK);
    return fd;
}

static void conn_open(struct conn *c, int ix)
{
    c->fd = connect_to(ports[c->port_ix], 0);
    c->rxlen = 0;
    if (c->fd < 0) {
        c->st = C_DEAD;
        errors++;
        return;
    }
    c->st = C_IDLE;
    struct epoll_event e = {.events = EPOLLIN, .data.u32 = (uint32_t)ix};
    epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &e);
}

static void conn_kill(struct conn *c, int ix)
{
    if (c->fd >= 0) {
        epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
    }
    c->fd = -1;
    c->st = C_DEAD;
    conn_open(c, ix); /* a fresh connection; stays dead if the server is gone */
}

static void conn_flush(struct conn *c, int ix)
{
    while (c->outoff < c->outlen) {
        ssize_t w = write(c->fd, c->out + c->outoff, c->outlen - c->outoff);
        if (w > 0) {
            c->outoff += (size_t)w;
            continue;
        }
        if (w < 0 && errno == EAGAIN) {
            struct epoll_event e = {.events = EPOLLIN | EPOLLOUT, .data.u32 = (uint32_t)ix};
            epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e);
            return;
        }
        errors++;
        conn_kill(c, ix);
        return;
    }
    struct epoll_event e = {.events = EPOLLIN, .data.u32 = (uint32_t)ix};
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e);
}

static void conn_send(struct conn *c, int ix, double due)
{
    struct rec *r = rec_new();
    uint64_t id = first_id + (nrecs - 1);
    int hl = snprintf(c->out, 1024,
                      "POST %s HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: application/json\r\n"
                      "Content-Length: %zu\r\n\r\n",
                      path, addr, ports[c->port_ix], body_len);
    memcpy(c->out + hl, body_tpl, body_len);
    if (id_off != (size_t)-1) {
        char d[16];
        snprintf(d, sizeof d, "%010llu", (unsigned long long)(id % 10000000000ULL));
        memcpy(c->out + hl + id_off, d, 10);
    }
    c->outlen = (size_t)hl + body_len;
    c->outoff = 0;
    c->rec = nrecs - 1;
    c->st = C_BUSY;
    r->due = due;
    r->sent = now_ms();
    sent++;
    conn_flush(c, ix);
}

/* a complete answer in c->rx? returns its length (headers + body), 0 if not yet */
static size_t answer_len(struct conn *c, int *status, const char **body, size_t *blen)
{
    c->rx[c->rxlen] = 0;
    char *e = strstr(c->rx, "\r\n\r\n");
    if (!e)
        return 0;
    size_t hl = (size_t)(e - c->rx) + 4;
    char *cl = strcasestr(c->rx, "content-length:");
    size_t n = (cl && cl < e) ? (size_t)atol(cl + 15) : 0;
    if (c->rxlen < hl + n)
        return 0;
    *status = c->rxlen > 12 ? atoi(c->rx + 9) : 0;
    *body = c->rx + hl;
    *blen = n;
    return hl + n;
}

static void conn_read(struct conn *c, int ix, double t)
{
    for (;;) {
        ssize_t r = read(c->fd, c->rx + c->rxlen, sizeof c->rx - 1 - c->rxlen);
        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
            if (c->st == C_BUSY)
                errors++;
            conn_kill(c, ix);
            return;
        }
        if (r < 0)
            return;
        c->rxlen += (size_t)r;
        int status;
        const char *b;
        size_t bl, n;
        while ((n = answer_len(c, &status, &b, &bl)) > 0) {
            if (c->st == C_BUSY) {
                struct rec *rc = &recs[c->rec];
                if (status != 200 || (expect && (bl != strlen(expect) || memcmp(b, expect, bl))))
                    bad++;
                else {
                    rc->ack = t;
                    ok++;
                    ok_port[c->port_ix]++;
                }
                c->st = C_IDLE;
            }
            memmove(c->rx, c->rx + n, c->rxlen - n);
            c->rxlen -= n;
        }
        if (c->rxlen >= sizeof c->rx - 1) { /* an answer larger than we keep: not ours */
            errors++;
            conn_kill(c, ix);
            return;
        }
    }
}

/* ---------------------------------------------------------------- SSE streams */
enum { S_HEADERS, S_LIVE, S_DEAD };
enum { K_SIZE, K_EXT, K_DATA, K_CRLF };
struct stream {
    int fd, port, st, chunked, kst, welcomed, status;
    uint32_t krem;
    char hdr[4096];
    size_t hlen;
    char *line;
    size_t llen;
    int lover;
    uint64_t received, foreign;
};
static struct stream subs[MAXSUB];
static int nsubs, nwelcomed;

static void sse_line(struct stream *s, int si, double t)
{
    if (s->lover)
        return;
    if (s->llen == 9 && !memcmp(s->line, ": welcome", 9)) {
        if (!s->welcomed++)
            nwelcomed++;
        return;
    }
    if (s->llen < 5 || memcmp(s->line, "data:", 5))
        return;
    /* the first "#" followed by exactly 10 digits */
    for (size_t i = 5; i + 11 <= s->llen; i++) {
        if (s->line[i] != '#')
            continue;
        size_t j = i + 1;
        uint64_t v = 0;
        while (j < s->llen && j < i + 12 && s->line[j] >= '0' && s->line[j] <= '9')
            v = v * 10 + (uint64_t)(s->line[j++] - '0');
        if (j - i - 1 != 10 || (j < s->llen && s->line[j] >= '0' && s->line[j] <= '9'))
            continue;
        if (v >= first_id % 10000000000ULL && v - first_id % 10000000000ULL < nrecs) {
            struct rec *r = &recs[v - first_id % 10000000000ULL];
            if (r->recv[si] < 0) {
                r->recv[si] = (float)(t - r->sent);
                s->received++;
            }
        } else {
            s->foreign++;
        }
        return;
    }
}

static void sse_bytes(struct stream *s, int si, const char *b, size_t n, double t)
{
    for (size_t i = 0; i < n; i++) {
        char c = b[i];
        if (c == '\n') {
            if (s->llen && s->line[s->llen - 1] == '\r')
                s->llen--;
            sse_line(s, si, t);
            s->llen = 0;
            s->lover = 0;
        } else if (s->llen < LINE_MAX_BYTES) {
            s->line[s->llen++] = c;
        } else {
            s->lover = 1;
        }
    }
}

static void sub_close(struct stream *s)
{
    if (s->fd >= 0) {
        epoll_ctl(ep, EPOLL_CTL_DEL, s->fd, NULL);
        close(s->fd);
    }
    s->fd = -1;
    s->st = S_DEAD;
}

static void body_bytes(struct stream *s, int si, const char *b, size_t n, double t)
{
    if (!s->chunked) {
        sse_bytes(s, si, b, n, t);
        return;
    }
    size_t i = 0;
    while (i < n && s->st == S_LIVE) {
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
                if (s->krem == 0)
                    sub_close(s); /* the last chunk: the server ended the stream */
                else
                    s->kst = K_DATA;
            } else if (c != '\r')
                s->kst = K_EXT;
            break;
        case K_EXT:
            i++;
            if (c == '\n') {
                if (s->krem == 0)
                    sub_close(s);
                else
                    s->kst = K_DATA;
            }
            break;
        case K_DATA: {
            size_t take = n - i < s->krem ? n - i : s->krem;
            sse_bytes(s, si, b + i, take, t);
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

static void sub_read(struct stream *s, int si)
{
    static char buf[65536];
    for (;;) {
        ssize_t r = read(s->fd, buf, sizeof buf);
        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
            sub_close(s);
            return;
        }
        if (r < 0)
            return;
        double t = now_ms(); /* the time of this read */
        size_t i = 0;
        if (s->st == S_HEADERS) {
            while (i < (size_t)r && s->st == S_HEADERS) {
                if (s->hlen < sizeof s->hdr - 1)
                    s->hdr[s->hlen++] = buf[i];
                i++;
                s->hdr[s->hlen] = 0;
                if (s->hlen >= 4 && !memcmp(s->hdr + s->hlen - 4, "\r\n\r\n", 4)) {
                    s->status = s->hlen > 12 ? atoi(s->hdr + 9) : 0;
                    if (s->status != 200) {
                        fprintf(stderr, "xnode_latency: stream on port %d answered %.60s\n",
                                s->port, s->hdr);
                        sub_close(s);
                        return;
                    }
                    char *te = strcasestr(s->hdr, "transfer-encoding:");
                    s->chunked = te && strcasestr(te, "chunked") != NULL;
                    s->st = S_LIVE;
                }
            }
        }
        if (s->st == S_LIVE && i < (size_t)r)
            body_bytes(s, si, buf + i, (size_t)r - i, t);
        if (s->st == S_DEAD)
            return;
    }
}

/* ---------------------------------------------------------------- event loop */
static void service(int timeout_ms)
{
    struct epoll_event evs[256];
    int k = epoll_wait(ep, evs, 256, timeout_ms < 0 ? 0 : timeout_ms);
    for (int j = 0; j < k; j++) {
        uint32_t idx = evs[j].data.u32;
        if (idx >= 1000000u) {
            int si = (int)(idx - 1000000u);
            if (subs[si].fd >= 0)
                sub_read(&subs[si], si);
            continue;
        }
        struct conn *c = &cs[idx];
        if (c->fd < 0)
            continue;
        if ((evs[j].events & EPOLLOUT) && c->st == C_BUSY)
            conn_flush(c, (int)idx);
        if (c->fd >= 0 && (evs[j].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
            conn_read(c, (int)idx, now_ms());
    }
}

static int parse_ports(char *s, int *out)
{
    int n = 0;
    for (char *p = strtok(s, ","); p && n < MAXPORTS; p = strtok(NULL, ","))
        out[n++] = atoi(p);
    return n;
}

int main(int argc, char **argv)
{
    const char *bodyf = NULL, *token = NULL;
    int sports[MAXSUB];
    double rate = 0, secs = 10;
    int wait_ms = 3000, opt;
    nconn = 1;
    while ((opt = getopt(argc, argv, "P:u:b:c:d:r:S:t:W:s:x:a:")) != -1) {
        switch (opt) {
        case 'P':
            nports = parse_ports(optarg, ports);
            break;
        case 'u':
            path = optarg;
            break;
        case 'b':
            bodyf = optarg;
            break;
        case 'c':
            nconn = atoi(optarg);
            break;
        case 'd':
            secs = atof(optarg);
            break;
        case 'r':
            rate = atof(optarg);
            break;
        case 'S':
            nsubs = parse_ports(optarg, sports);
            break;
        case 't':
            token = optarg;
            break;
        case 'W':
            wait_ms = atoi(optarg);
            break;
        case 's':
            first_id = strtoull(optarg, NULL, 10);
            break;
        case 'x':
            expect = optarg;
            break;
        case 'a':
            addr = optarg;
            break;
        default:
            fprintf(stderr, "see the comment at the top of xnode_latency.c\n");
            return 2;
        }
    }
    if (!nports || !path || !bodyf || nconn < 1 || (nsubs && !token) || nsubs > MAXSUB) {
        fprintf(stderr, "usage: xnode_latency -P PORT[,PORT] -u PATH -b BODY [...] (see the "
                        "comment at the top of xnode_latency.c)\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    FILE *f = fopen(bodyf, "rb");
    if (!f) {
        perror(bodyf);
        return 2;
    }
    body_tpl = malloc(1 << 16);
    body_len = fread(body_tpl, 1, (1 << 16) - 1, f);
    fclose(f);
    while (body_len && (body_tpl[body_len - 1] == '\n' || body_tpl[body_len - 1] == '\r'))
        body_len--;
    body_tpl[body_len] = 0;
    char *at = strstr(body_tpl, "@ID@");
    if (at) { /* "@ID@" becomes 10 digits: the body grows by 6 */
        memmove(at + 10, at + 4, body_len - (size_t)(at - body_tpl) - 4 + 1);
        memset(at, '0', 10);
        body_len += 6;
        id_off = (size_t)(at - body_tpl);
    } else if (nsubs) {
        fprintf(stderr, "xnode_latency: -S needs @ID@ in the body\n");
        return 2;
    }
    ep = epoll_create1(0);

    /* the streams first, each waits for its welcome */
    for (int i = 0; i < nsubs; i++) {
        struct stream *s = &subs[i];
        s->port = sports[i];
        s->line = malloc(LINE_MAX_BYTES);
        s->fd = connect_to(s->port, 0);
        if (s->fd < 0) {
            fprintf(stderr, "xnode_latency: cannot connect to port %d\n", s->port);
            return 1;
        }
        char req[1024];
        int n =
            snprintf(req, sizeof req,
                     "GET /api/v1/events HTTP/1.1\r\nHost: %s:%d\r\nAccept: text/event-stream\r\n"
                     "Authorization: Bearer %s\r\nCache-Control: no-cache\r\n\r\n",
                     addr, s->port, token);
        if (write(s->fd, req, (size_t)n) != n) {
            perror("write");
            return 1;
        }
        s->st = S_HEADERS;
        struct epoll_event e = {.events = EPOLLIN, .data.u32 = 1000000u + (uint32_t)i};
        epoll_ctl(ep, EPOLL_CTL_ADD, s->fd, &e);
    }
    double tw = now_ms();
    while (nwelcomed < nsubs && now_ms() - tw < 10000)
        service(20);
    if (nwelcomed < nsubs) {
        fprintf(stderr, "xnode_latency: %d of %d streams welcomed after 10 s\n", nwelcomed, nsubs);
        return 1;
    }

    cs = calloc((size_t)nconn, sizeof *cs);
    for (int i = 0; i < nconn; i++) {
        cs[i].port_ix = i % nports;
        cs[i].out = malloc(1024 + body_len);
        conn_open(&cs[i], i);
    }
    double t0 = now_ms(), tend = t0 + secs * 1000;
    uint64_t due_n = 0, unsent = 0;
    int next = 0;
    for (;;) {
        double t = now_ms();
        if (t >= tend)
            break;
        if (rate > 0) {
            /* every request due by now goes out on an idle connection, oldest due first */
            while (t0 + (double)due_n * 1000.0 / rate <= t) {
                int found = -1;
                for (int k = 0; k < nconn; k++) {
                    int i = (next + k) % nconn;
                    if (cs[i].st == C_IDLE) {
                        found = i;
                        break;
                    }
                }
                if (found < 0)
                    break;
                next = (found + 1) % nconn;
                conn_send(&cs[found], found, t0 + (double)due_n * 1000.0 / rate);
                due_n++;
            }
            double nd = t0 + (double)due_n * 1000.0 / rate;
            int to = (int)(nd - now_ms());
            service(to < 0 ? 0 : (to > 20 ? 20 : to));
        } else {
            for (int i = 0; i < nconn; i++)
                if (cs[i].st == C_IDLE)
                    conn_send(&cs[i], i, now_ms());
            service(20);
        }
    }
    double tstop = now_ms();
    if (rate > 0) {
        uint64_t total_due = (uint64_t)(secs * rate);
        unsent = total_due > due_n ? total_due - due_n : 0;
    }
    /* the answers still on their way */
    double tw2 = now_ms();
    for (;;) {
        int busy = 0;
        for (int i = 0; i < nconn; i++)
            busy += cs[i].st == C_BUSY;
        if (!busy || now_ms() - tw2 > 10000)
            break;
        service(20);
    }
    uint64_t unanswered = 0;
    for (int i = 0; i < nconn; i++)
        unanswered += cs[i].st == C_BUSY;
    /* the events still on their way */
    double te = now_ms();
    while (nsubs && now_ms() - te < wait_ms) {
        int missing = 0;
        for (size_t i = 0; i < nrecs && !missing; i++)
            for (int s = 0; s < nsubs; s++)
                if (recs[i].ack >= 0 && recs[i].recv[s] < 0 && subs[s].st == S_LIVE)
                    missing = 1;
        if (!missing)
            break;
        service(20);
    }

    /* answers: from due (open loop) or from the write (closed loop); service time from the write */
    float *lat = malloc(sizeof(float) * (nrecs + 1)), *svc = malloc(sizeof(float) * (nrecs + 1));
    size_t nl = 0;
    for (size_t i = 0; i < nrecs; i++)
        if (recs[i].ack >= 0) {
            lat[nl] = (float)(recs[i].ack - (rate > 0 ? recs[i].due : recs[i].sent));
            svc[nl++] = (float)(recs[i].ack - recs[i].sent);
        }
    qsort(lat, nl, sizeof *lat, cmpf);
    qsort(svc, nl, sizeof *svc, cmpf);
    double el = (tstop - t0) / 1000.0;
    printf("RESULT sent=%llu ok=%llu bad=%llu errors=%llu unsent=%llu unanswered=%llu secs=%.2f "
           "rps=%.0f ok_rps=%.0f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f svc_p50_ms=%.2f "
           "svc_p99_ms=%.2f",
           (unsigned long long)sent, (unsigned long long)ok, (unsigned long long)bad,
           (unsigned long long)errors, (unsigned long long)unsent, (unsigned long long)unanswered,
           el, (double)sent / el, (double)ok / el, pct(lat, nl, 50), pct(lat, nl, 90),
           pct(lat, nl, 99), nl ? lat[nl - 1] : -1.0, pct(svc, nl, 50), pct(svc, nl, 99));
    for (int p = 0; p < nports; p++)
        printf(" ok_port%d=%llu", ports[p], (unsigned long long)ok_port[p]);
    printf("\n");
    for (int s = 0; s < nsubs; s++) {
        size_t ns = 0, na = 0, exp = 0, before = 0;
        float *fa = svc; /* reuse the buffers */
        for (size_t i = 0; i < nrecs; i++) {
            if (recs[i].ack < 0)
                continue;
            exp++;
            if (recs[i].recv[s] < 0)
                continue;
            lat[ns++] = recs[i].recv[s];
            float a = (float)((double)recs[i].recv[s] - (recs[i].ack - recs[i].sent));
            if (a < 0)
                before++;
            fa[na++] = a;
        }
        qsort(lat, ns, sizeof *lat, cmpf);
        qsort(fa, na, sizeof *fa, cmpf);
        printf("SUB port=%d expected=%zu received=%zu missing=%zu foreign=%llu send_p50_ms=%.2f "
               "send_p99_ms=%.2f send_max_ms=%.2f ack_p50_ms=%.2f ack_p99_ms=%.2f ack_max_ms=%.2f "
               "before_ack=%zu live=%d\n",
               subs[s].port, exp, ns, exp - ns, (unsigned long long)subs[s].foreign,
               pct(lat, ns, 50), pct(lat, ns, 99), ns ? lat[ns - 1] : -1.0, pct(fa, na, 50),
               pct(fa, na, 99), na ? fa[na - 1] : -1.0, before, subs[s].st == S_LIVE);
    }
    fflush(stdout);
    return 0;
}
