/* http_int.h: the server state shared by the http module's files. */
#ifndef SB_HTTP_INT_H
#define SB_HTTP_INT_H

#include "http.h"

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>

struct http_server {
    struct http_config cfg;
    int listen_fd;
    unsigned port;
    struct MHD_Daemon *api, *streams;
    pthread_t acceptor;
    int epoll_fd, stop_fd;
    atomic_bool stopping;
    atomic_int inflight; /* requests being answered, live streams excepted */
    struct iplimit *per_ip;
};

/* Connections per client address across both daemons (iplimit.c). */
struct iplimit;
struct iplimit *iplimit_new(unsigned max);
void iplimit_free(struct iplimit *l);
/* Takes a slot for the address: false when it has max connections already. */
bool iplimit_acquire(struct iplimit *l, const struct sockaddr *sa);
void iplimit_release(struct iplimit *l, const struct sockaddr *sa);

/* Queues a finished response for r and records the status; frees nothing of r. */
int http_queue(struct http_req *r, int status, struct MHD_Response *resp);
/* The acceptor thread: takes connections off the listening socket and hands each to a daemon. */
void *http_acceptor_main(void *arg);

#endif
