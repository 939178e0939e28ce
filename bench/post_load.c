/* post_load.c: paced (open-loop) HTTP POST load client for `make bench`.
 *
 * wrk measures saturation well, but Debian has no wrk2, and wrk's latency with a Lua delay() is
 * measured from the moment a request is actually written, so a server that stalls simply gets
 * fewer requests and looks fast (coordinated omission). This client keeps a schedule instead:
 * request i is due at t0 + i/RATE; it goes out on the first idle keep-alive connection, and its
 * latency is counted from when it was DUE, not from when it could be sent. So a stall shows up in
 * the percentiles of every request that should have been sent meanwhile (as wrk2 does).
 * With -r 0 it runs closed-loop (every connection sends again as soon as it is answered).
 *
 * Every request body may carry a unique id: the 4 characters "@ID@" in the body file are replaced
 * by a 10-digit number (same length every time). With -o, the ids of acknowledged requests are
 * written to a file, so a crash test can compare exactly what was acknowledged with what is stored.
 * With -k PID, PID gets SIGKILL at the end of the run while requests are still in flight, and the
 * answers already on their way are still read (they were acknowledged before the kill).
 *
 * usage: post_load -p PORT -b BODYFILE -u PATH [-u PATH ...] [-U PATHFILE] [-a ADDR] [-c CONNS]
 *                  [-d SECONDS] [-r RATE] [-H 'Name: value'] [-x EXPECTED_BODY] [-o ACKED_IDS]
 *                  [-k PID] [-s FIRST_ID]
 * prints: RESULT sent= ok= bad_status= bad_body= errors= unsent= unanswered= secs= rps= ok_rps=
 *         p50_ms= p90_ms= p99_ms= p999_ms= max_ms= svc_p50_ms= svc_p99_ms=
 * Build: cc -O2 post_load.c loadlib.c -o post_load -lm */
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
#include <time.h>
#include <unistd.h>

#include "loadlib.h"

enum { C_IDLE, C_BUSY, C_DEAD };
struct conn {
    int fd, st, close_after;
    char *out;
    size_t outlen, outoff;
    char rx[8192];
    size_t rxlen;
    uint64_t id;
    double due, sent;
};

static struct sockaddr_in dst;
static struct conn *cs;
static int nconn, ep;
static int *idle, nidle;
static char **paths;
static int npaths;
static char *headers_extra = NULL;
static char *body_tpl;
static size_t body_len, id_off = (size_t)-1;
static const char *expect;
static FILE *ackf;
static uint64_t next_id = 1, sent, ok, bad_status, bad_body, errors;
static float *lat, *svc;
static size_t nlat, caplat;

static int open_conn(struct conn *c)
{
    c->fd = lb_connect(&dst);
    if (c->fd < 0)
        return -1;
    lb_epoll(ep, EPOLL_CTL_ADD, c->fd, EPOLLIN, (uint32_t)(c - cs));
    c->rxlen = 0;
    c->close_after = 0;
    c->st = C_IDLE;
    return 0;
}

static void kill_conn(struct conn *c, int reconnect)
{
    lb_close(ep, &c->fd);
    c->st = C_DEAD;
    if (reconnect && open_conn(c) == 0)
        idle[nidle++] = (int)(c - cs);
}

static void issue(struct conn *c, double due)
{
    uint64_t id = next_id++;
    const char *path = paths[(sent) % (uint64_t)npaths];
    size_t blen = body_len + (id_off != (size_t)-1 ? 6 : 0);
    int h = lb_post_head(c->out, 2048, path, inet_ntoa(dst.sin_addr), ntohs(dst.sin_port), blen,
                         headers_extra ? headers_extra : "");
    char *p = c->out + h;
    if (id_off != (size_t)-1) {
        memcpy(p, body_tpl, id_off);
        char num[16];
        snprintf(num, sizeof num, "%010llu", (unsigned long long)id);
        memcpy(p + id_off, num, 10);
        memcpy(p + id_off + 10, body_tpl + id_off + 4, body_len - id_off - 4);
    } else {
        memcpy(p, body_tpl, body_len);
    }
    c->outlen = (size_t)h + blen;
    c->outoff = 0;
    c->id = id;
    c->due = due;
    c->sent = lb_now_s();
    c->st = C_BUSY;
    sent++;
    ssize_t w = write(c->fd, c->out, c->outlen);
    if (w < 0 && errno != EAGAIN) {
        errors++;
        kill_conn(c, 1);
        return;
    }
    if (w > 0)
        c->outoff = (size_t)w;
    if (c->outoff < c->outlen)
        lb_epoll(ep, EPOLL_CTL_MOD, c->fd, EPOLLIN | EPOLLOUT, (uint32_t)(c - cs));
}

static void record(struct conn *c, double t)
{
    if (nlat == caplat) {
        caplat = caplat ? caplat * 2 : 65536;
        lat = realloc(lat, caplat * sizeof *lat);
        svc = realloc(svc, caplat * sizeof *svc);
    }
    lat[nlat] = (float)((t - c->due) * 1e3);
    svc[nlat] = (float)((t - c->sent) * 1e3);
    nlat++;
}

/* parse complete responses in c->rx; returns -1 on a protocol error */
static int parse(struct conn *c, double t)
{
    for (;;) {
        if (c->st != C_BUSY)
            return c->rxlen ? -1 : 0;
        c->rx[c->rxlen < sizeof c->rx ? c->rxlen : sizeof c->rx - 1] = 0;
        char *end = strstr(c->rx, "\r\n\r\n");
        if (!end)
            return c->rxlen >= sizeof c->rx - 1 ? -1 : 0;
        size_t hlen = (size_t)(end - c->rx) + 4;
        int status = 0;
        if (sscanf(c->rx, "HTTP/1.%*d %d", &status) != 1)
            return -1;
        long clen = 0;
        for (char *l = strstr(c->rx, "\r\n"); l && l < end; l = strstr(l + 2, "\r\n")) {
            if (!strncasecmp(l + 2, "content-length:", 15))
                clen = atol(l + 17);
            else if (!strncasecmp(l + 2, "connection:", 11) && strcasestr(l + 13, "close") &&
                     strcasestr(l + 13, "close") < strstr(l + 2, "\r\n"))
                c->close_after = 1;
            else if (!strncasecmp(l + 2, "transfer-encoding:", 18))
                return -1; /* not used by the servers measured here */
        }
        if (c->rxlen < hlen + (size_t)clen)
            return 0;
        record(c, t);
        if (status >= 200 && status < 300) {
            if (expect &&
                ((size_t)clen != strlen(expect) || memcmp(c->rx + hlen, expect, (size_t)clen)))
                bad_body++;
            else {
                ok++;
                if (ackf)
                    fprintf(ackf, "%llu\n", (unsigned long long)c->id);
            }
        } else {
            bad_status++;
        }
        memmove(c->rx, c->rx + hlen + clen, c->rxlen - hlen - (size_t)clen);
        c->rxlen -= hlen + (size_t)clen;
        c->st = C_IDLE;
        if (c->close_after) {
            kill_conn(c, 1);
            return 0;
        }
        idle[nidle++] = (int)(c - cs);
    }
}

static void pump(double deadline_wait, int reconnect)
{
    struct epoll_event evs[256];
    double w = deadline_wait - lb_now_s();
    if (w < 0)
        w = 0;
    struct timespec ts = {.tv_sec = (time_t)w, .tv_nsec = (long)((w - (double)(time_t)w) * 1e9)};
    int k = epoll_pwait2(ep, evs, 256, &ts, NULL);
    double t = lb_now_s();
    for (int j = 0; j < k; j++) {
        struct conn *c = &cs[evs[j].data.u32];
        if (c->fd < 0)
            continue;
        if ((evs[j].events & EPOLLOUT) && c->st == C_BUSY && c->outoff < c->outlen) {
            ssize_t n = write(c->fd, c->out + c->outoff, c->outlen - c->outoff);
            if (n > 0)
                c->outoff += (size_t)n;
            if (c->outoff == c->outlen)
                lb_epoll(ep, EPOLL_CTL_MOD, c->fd, EPOLLIN, evs[j].data.u32);
        }
        if (evs[j].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
            for (;;) {
                ssize_t n = read(c->fd, c->rx + c->rxlen, sizeof c->rx - 1 - c->rxlen);
                if (n > 0) {
                    c->rxlen += (size_t)n;
                    if (parse(c, t) < 0) {
                        errors++;
                        kill_conn(c, reconnect);
                        break;
                    }
                    if (c->fd < 0)
                        break;
                    continue;
                }
                if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                    if (c->st == C_BUSY)
                        errors++;
                    else
                        /* an idle keep-alive connection closed by the server: take it off the idle
                         * list */
                        for (int i = 0; i < nidle; i++)
                            if (idle[i] == (int)(c - cs)) {
                                idle[i] = idle[--nidle];
                                break;
                            }
                    kill_conn(c, reconnect);
                }
                break;
            }
        }
    }
}

int main(int argc, char **argv)
{
    const char *addr = "127.0.0.1", *bodyf = NULL, *ackpath = NULL;
    int port = 0;
    double dur = 10, rate = 0;
    pid_t killpid = 0;
    nconn = 16;
    paths = calloc((size_t)argc + 1, sizeof *paths);
    headers_extra = calloc(1, 8192);
    int opt;
    while ((opt = getopt(argc, argv, "a:p:c:d:r:b:u:U:H:x:o:k:s:")) != -1) {
        switch (opt) {
        case 'a':
            addr = optarg;
            break;
        case 'p':
            port = atoi(optarg);
            break;
        case 'c':
            nconn = atoi(optarg);
            break;
        case 'd':
            dur = atof(optarg);
            break;
        case 'r':
            rate = atof(optarg);
            break;
        case 'b':
            bodyf = optarg;
            break;
        case 'u':
            paths[npaths++] = optarg;
            break;
        case 'U': {
            FILE *f = fopen(optarg, "r");
            char line[1024];
            if (!f) {
                perror(optarg);
                return 2;
            }
            while (fgets(line, sizeof line, f)) {
                line[strcspn(line, "\r\n")] = 0;
                if (!*line)
                    continue;
                paths = realloc(paths, (size_t)(npaths + 2) * sizeof *paths);
                paths[npaths++] = strdup(line);
            }
            fclose(f);
            break;
        }
        case 'H':
            strcat(headers_extra, optarg);
            strcat(headers_extra, "\r\n");
            break;
        case 'x':
            expect = optarg;
            break;
        case 'o':
            ackpath = optarg;
            break;
        case 'k':
            killpid = (pid_t)atol(optarg);
            break;
        case 's':
            next_id = strtoull(optarg, NULL, 10);
            break;
        default:
            fprintf(stderr, "see the comment at the top of post_load.c\n");
            return 2;
        }
    }
    if (!port || !bodyf || !npaths) {
        fprintf(stderr, "usage: post_load -p PORT -b BODYFILE -u PATH [...] (see post_load.c)\n");
        return 2;
    }
    if (!(body_tpl = lb_read_file(bodyf, 1 << 20, &body_len)))
        return 2;
    char *m = memmem(body_tpl, body_len, "@ID@", 4);
    if (m)
        id_off = (size_t)(m - body_tpl);
    if (ackpath && !(ackf = fopen(ackpath, "w"))) {
        perror(ackpath);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    lb_addr(&dst, addr, port);
    ep = epoll_create1(0);
    cs = calloc((size_t)nconn, sizeof *cs);
    idle = calloc((size_t)nconn, sizeof *idle);
    for (int i = 0; i < nconn; i++) {
        cs[i].out = malloc(2048 + body_len + 16);
        cs[i].fd = -1;
        if (open_conn(&cs[i]) < 0) {
            perror("connect");
            return 1;
        }
        idle[nidle++] = i;
    }
    double t0 = lb_now_s(), tend = t0 + dur;
    uint64_t due_n = 0; /* requests scheduled so far (rate mode) */
    for (;;) {
        double t = lb_now_s();
        if (t >= tend)
            break;
        if (rate > 0) {
            uint64_t want = (uint64_t)((t - t0) * rate) + 1;
            if (want > (uint64_t)(dur * rate))
                want = (uint64_t)(dur * rate);
            while (due_n < want && nidle > 0) {
                issue(&cs[idle[--nidle]], t0 + (double)due_n / rate);
                due_n++;
            }
            double next = due_n < want ? t + 0.005 : t0 + (double)due_n / rate;
            pump(next < tend ? next : tend, 1);
        } else {
            while (nidle > 0) {
                double tn = lb_now_s();
                issue(&cs[idle[--nidle]], tn);
            }
            pump(tend, 1);
        }
    }
    uint64_t unsent =
        rate > 0 && (uint64_t)(dur * rate) > due_n ? (uint64_t)(dur * rate) - due_n : 0;
    double tstop = lb_now_s();
    if (killpid > 0)
        kill(killpid, SIGKILL);
    /* collect the answers still on their way (after a kill: those already sent before it) */
    double drain_until = lb_now_s() + (killpid > 0 ? 2.0 : 10.0);
    for (;;) {
        int busy = 0;
        for (int i = 0; i < nconn; i++)
            busy += cs[i].st == C_BUSY;
        if (!busy || lb_now_s() >= drain_until)
            break;
        pump(lb_now_s() + 0.05, 0);
    }
    uint64_t unanswered = 0;
    for (int i = 0; i < nconn; i++)
        unanswered += cs[i].st == C_BUSY;
    if (ackf)
        fclose(ackf);
    double secs = tstop - t0;
    lb_sortf(lat, nlat);
    lb_sortf(svc, nlat);
    printf("RESULT sent=%llu ok=%llu bad_status=%llu bad_body=%llu errors=%llu unsent=%llu "
           "unanswered=%llu secs=%.2f rps=%.0f ok_rps=%.0f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f "
           "p999_ms=%.2f max_ms=%.2f svc_p50_ms=%.2f svc_p99_ms=%.2f last_id=%llu\n",
           (unsigned long long)sent, (unsigned long long)ok, (unsigned long long)bad_status,
           (unsigned long long)bad_body, (unsigned long long)errors, (unsigned long long)unsent,
           (unsigned long long)unanswered, secs, (double)nlat / secs, (double)ok / secs,
           lb_pct(lat, nlat, 50), lb_pct(lat, nlat, 90), lb_pct(lat, nlat, 99),
           lb_pct(lat, nlat, 99.9), lb_pct(lat, nlat, 100), lb_pct(svc, nlat, 50),
           lb_pct(svc, nlat, 99), (unsigned long long)(next_id - 1));
    return 0;
}
