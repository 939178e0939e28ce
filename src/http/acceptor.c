/* acceptor.c: owns the listening socket. Each new connection waits (without a thread) until its
 * whole request head has arrived; a peek at the request line then decides its daemon: live streams
 * go to the streams daemon, everything else to the API daemon (http.h says why). A connection that
 * has not sent its request head within HEAD_TIMEOUT_MS is closed: libmicrohttpd only has an idle
 * timeout, which a client sending one header byte every few seconds never trips (slowloris), so the
 * deadline for the whole head is kept here, where such a client costs a descriptor and no daemon
 * slot. Heads larger than HEAD_PEEK go on at once (the daemon answers 431). Per-address limits
 * (iplimit.c) count waiting connections too; at most MAX_PENDING wait in all. */
#define _GNU_SOURCE
#include "http_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define HEAD_TIMEOUT_MS 10000
#define HEAD_PEEK 16384
#define MAX_PENDING 32768

static const char stream_prefix[] = "GET /api/v1/events";

struct pending {
    int fd;
    struct sockaddr_storage addr;
    socklen_t addrlen;
    int64_t deadline;
    struct pending *prev, *next;
};

struct acceptor {
    struct http_server *s;
    char peek[HEAD_PEEK];
    struct pending *head; /* oldest first */
    struct pending *tail;
    size_t n;
};

static void pending_unlink(struct acceptor *a, struct pending *p)
{
    if (p->prev)
        p->prev->next = p->next;
    else
        a->head = p->next;
    if (p->next)
        p->next->prev = p->prev;
    else
        a->tail = p->prev;
    a->n--;
}

static void pending_drop(struct acceptor *a, struct pending *p)
{
    pending_unlink(a, p);
    iplimit_release(a->s->per_ip, (struct sockaddr *)&p->addr);
    close(p->fd); /* closing also removes it from the epoll set */
    free(p);
}

static void hand_over(struct acceptor *a, struct pending *p, bool stream)
{
    struct http_server *s = a->s;
    epoll_ctl(s->epoll_fd, EPOLL_CTL_DEL, p->fd, NULL);
    pending_unlink(a, p);
    /* MHD owns (and on failure closes) the socket from here on; the daemon gives the address's
     * slot back when the connection closes (on_connection in server.c) */
    if (MHD_add_connection(stream ? s->streams : s->api, p->fd, (struct sockaddr *)&p->addr,
                           p->addrlen) != MHD_YES)
        iplimit_release(s->per_ip, (struct sockaddr *)&p->addr);
    free(p);
}

static void on_readable(struct acceptor *a, struct pending *p)
{
    ssize_t n = recv(p->fd, a->peek, sizeof a->peek, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (n <= 0) {
        pending_drop(a, p);
        return;
    }
    size_t got = (size_t)n;
    bool head_done = memmem(a->peek, got, "\r\n\r\n", 4) || memmem(a->peek, got, "\n\n", 2);
    if (!head_done && got < sizeof a->peek)
        return; /* wait for more bytes (edge-triggered, so the next bytes wake us) */
    bool stream = got >= sizeof stream_prefix - 1 &&
                  !memcmp(a->peek, stream_prefix, sizeof stream_prefix - 1);
    hand_over(a, p, stream);
}

static void on_accept(struct acceptor *a)
{
    struct http_server *s = a->s;
    for (;;) {
        struct pending *p = xcalloc(1, sizeof *p);
        p->addrlen = sizeof p->addr;
        p->fd = accept4(s->listen_fd, (struct sockaddr *)&p->addr, &p->addrlen,
                        SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (p->fd < 0) {
            free(p);
            if (errno == EMFILE || errno == ENFILE)
                log_error("accept: %s", strerror(errno));
            return;
        }
        if (!iplimit_acquire(s->per_ip, (struct sockaddr *)&p->addr)) {
            close(p->fd); /* this address has all the connections it may have */
            free(p);
            continue;
        }
        if (a->n >= MAX_PENDING) { /* too many waiting: refuse (events of the ones waiting may
                                      be in this batch, so none is freed here) */
            iplimit_release(s->per_ip, (struct sockaddr *)&p->addr);
            close(p->fd);
            free(p);
            continue;
        }
        p->deadline = time_mono_ms() + HEAD_TIMEOUT_MS;
        p->prev = a->tail;
        if (a->tail)
            a->tail->next = p;
        else
            a->head = p;
        a->tail = p;
        a->n++;
        struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | EPOLLET, .data.ptr = p};
        if (epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, p->fd, &ev)) {
            pending_drop(a, p);
            continue;
        }
        on_readable(a, p); /* the request may be here already */
    }
}

void *http_acceptor_main(void *arg)
{
    struct acceptor a = {.s = arg};
    struct http_server *s = a.s;
    struct epoll_event events[64];
    for (;;) {
        int n = epoll_wait(s->epoll_fd, events, 64, 1000);
        if (atomic_load(&s->stopping))
            break;
        for (int i = 0; i < n; i++) {
            if (events[i].data.ptr == &s->listen_fd)
                on_accept(&a);
            else if (events[i].data.ptr != &s->stop_fd)
                on_readable(&a, events[i].data.ptr);
        }
        int64_t now = time_mono_ms();
        while (a.head && a.head->deadline <= now)
            pending_drop(&a, a.head);
    }
    while (a.head)
        pending_drop(&a, a.head);
    return NULL;
}
