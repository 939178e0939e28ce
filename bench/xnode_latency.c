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
 * Build: cc -O2 xnode_latency.c loadlib.c -o xnode_latency -lm */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "loadlib.h"

#define MAXPORTS 8
#define MAXSUB 8
#define LINE_MAX_BYTES (1 << 16)

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

static int connect_to(int port)
{
    struct sockaddr_in dst;
    lb_addr(&dst, addr, port);
    return lb_connect(&dst);
}

static void conn_open(struct conn *c, int ix)
{
    c->fd = connect_to(ports[c->port_ix]);
    c->rxlen = 0;
    if (c->fd < 0) {
        c->st = C_DEAD;
        errors++;
        return;
    }
    c->st = C_IDLE;
    lb_epoll(ep, EPOLL_CTL_ADD, c->fd, EPOLLIN, (uint32_t)ix);
}

static void conn_kill(struct conn *c, int ix)
{
    lb_close(ep, &c->fd);
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
            lb_epoll(ep, EPOLL_CTL_MOD, c->fd, EPOLLIN | EPOLLOUT, (uint32_t)ix);
            return;
        }
        errors++;
        conn_kill(c, ix);
        return;
    }
    lb_epoll(ep, EPOLL_CTL_MOD, c->fd, EPOLLIN, (uint32_t)ix);
}

static void conn_send(struct conn *c, int ix, double due)
{
    struct rec *r = rec_new();
    uint64_t id = first_id + (nrecs - 1);
    int hl = lb_post_head(c->out, 1024, path, addr, ports[c->port_ix], body_len, "");
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
    r->sent = lb_now_ms();
    sent++;
    conn_flush(c, ix);
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
        size_t hl, n;
        while ((n = lb_answer_len(c->rx, c->rxlen, &hl)) > 0) {
            if (c->st == C_BUSY) {
                struct rec *rc = &recs[c->rec];
                int status = c->rxlen > 12 ? atoi(c->rx + 9) : 0;
                const char *b = c->rx + hl;
                size_t bl = n - hl;
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
struct stream {
    int fd, port, st, welcomed, status;
    char hdr[4096];
    size_t hlen;
    struct lb_body body;
    uint64_t received, foreign;
};
static struct stream subs[MAXSUB];
static int nsubs, nwelcomed;

/* what sse_line needs besides the line: its stream (and index) and the time of the read */
struct line_ctx {
    struct stream *s;
    int si;
    double t;
};

static void sse_line(void *ctx, const char *line, size_t len)
{
    struct stream *s = ((struct line_ctx *)ctx)->s;
    int si = ((struct line_ctx *)ctx)->si;
    double t = ((struct line_ctx *)ctx)->t;
    if (len == 9 && !memcmp(line, ": welcome", 9)) {
        if (!s->welcomed++)
            nwelcomed++;
        return;
    }
    if (len < 5 || memcmp(line, "data:", 5))
        return;
    /* the first "#" followed by exactly 10 digits */
    for (size_t i = 5; i + 11 <= len; i++) {
        if (line[i] != '#')
            continue;
        size_t j = i + 1;
        uint64_t v = 0;
        while (j < len && j < i + 12 && line[j] >= '0' && line[j] <= '9')
            v = v * 10 + (uint64_t)(line[j++] - '0');
        if (j - i - 1 != 10 || (j < len && line[j] >= '0' && line[j] <= '9'))
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

static void sub_close(struct stream *s)
{
    lb_close(ep, &s->fd);
    s->st = S_DEAD;
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
        double t = lb_now_ms(); /* the time of this read */
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
                    s->body.chunked = te && strcasestr(te, "chunked") != NULL;
                    s->st = S_LIVE;
                }
            }
        }
        if (s->st == S_LIVE && i < (size_t)r) {
            struct line_ctx lc = {s, si, t};
            if (lb_body_feed(&s->body, buf + i, (size_t)r - i, sse_line, &lc))
                sub_close(s); /* the last chunk: the server ended the stream */
        }
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
            conn_read(c, (int)idx, lb_now_ms());
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
    if (!(body_tpl = lb_read_file(bodyf, (1 << 16) - 1, &body_len)))
        return 2;
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
        s->body.line = malloc(LINE_MAX_BYTES);
        s->body.cap = LINE_MAX_BYTES;
        s->fd = connect_to(s->port);
        if (s->fd < 0) {
            fprintf(stderr, "xnode_latency: cannot connect to port %d\n", s->port);
            return 1;
        }
        char req[1024];
        int n = lb_sse_get(req, sizeof req, "/api/v1/events", addr, s->port, token);
        if (write(s->fd, req, (size_t)n) != n) {
            perror("write");
            return 1;
        }
        s->st = S_HEADERS;
        lb_epoll(ep, EPOLL_CTL_ADD, s->fd, EPOLLIN, 1000000u + (uint32_t)i);
    }
    double tw = lb_now_ms();
    while (nwelcomed < nsubs && lb_now_ms() - tw < 10000)
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
    double t0 = lb_now_ms(), tend = t0 + secs * 1000;
    uint64_t due_n = 0, unsent = 0;
    int next = 0;
    for (;;) {
        double t = lb_now_ms();
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
            int to = (int)(nd - lb_now_ms());
            service(to < 0 ? 0 : (to > 20 ? 20 : to));
        } else {
            for (int i = 0; i < nconn; i++)
                if (cs[i].st == C_IDLE)
                    conn_send(&cs[i], i, lb_now_ms());
            service(20);
        }
    }
    double tstop = lb_now_ms();
    if (rate > 0) {
        uint64_t total_due = (uint64_t)(secs * rate);
        unsent = total_due > due_n ? total_due - due_n : 0;
    }
    /* the answers still on their way */
    double tw2 = lb_now_ms();
    for (;;) {
        int busy = 0;
        for (int i = 0; i < nconn; i++)
            busy += cs[i].st == C_BUSY;
        if (!busy || lb_now_ms() - tw2 > 10000)
            break;
        service(20);
    }
    uint64_t unanswered = 0;
    for (int i = 0; i < nconn; i++)
        unanswered += cs[i].st == C_BUSY;
    /* the events still on their way */
    double te = lb_now_ms();
    while (nsubs && lb_now_ms() - te < wait_ms) {
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
    lb_sortf(lat, nl);
    lb_sortf(svc, nl);
    double el = (tstop - t0) / 1000.0;
    printf("RESULT sent=%llu ok=%llu bad=%llu errors=%llu unsent=%llu unanswered=%llu secs=%.2f "
           "rps=%.0f ok_rps=%.0f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f svc_p50_ms=%.2f "
           "svc_p99_ms=%.2f",
           (unsigned long long)sent, (unsigned long long)ok, (unsigned long long)bad,
           (unsigned long long)errors, (unsigned long long)unsent, (unsigned long long)unanswered,
           el, (double)sent / el, (double)ok / el, lb_pct(lat, nl, 50), lb_pct(lat, nl, 90),
           lb_pct(lat, nl, 99), lb_pct(lat, nl, 100), lb_pct(svc, nl, 50), lb_pct(svc, nl, 99));
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
        lb_sortf(lat, ns);
        lb_sortf(fa, na);
        printf("SUB port=%d expected=%zu received=%zu missing=%zu foreign=%llu send_p50_ms=%.2f "
               "send_p99_ms=%.2f send_max_ms=%.2f ack_p50_ms=%.2f ack_p99_ms=%.2f ack_max_ms=%.2f "
               "before_ack=%zu live=%d\n",
               subs[s].port, exp, ns, exp - ns, (unsigned long long)subs[s].foreign,
               lb_pct(lat, ns, 50), lb_pct(lat, ns, 99), lb_pct(lat, ns, 100), lb_pct(fa, na, 50),
               lb_pct(fa, na, 99), lb_pct(fa, na, 100), before, subs[s].st == S_LIVE);
    }
    fflush(stdout);
    return 0;
}
