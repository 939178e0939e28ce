/* ref_server.c: the HTTP ceiling reference for `make bench`.
 * A bare libmicrohttpd server configured like Switchboard's API daemon (epoll internal thread pool
 * with one thread per core, suspend/resume allowed) that reads any POST body and answers 200 `1`,
 * as a Teams webhook does. No parsing, no storage: whatever Switchboard does beyond this is the
 * price of durability and of the product.
 *
 * usage: ref_server PORT [THREADS]      (THREADS 0 or absent = one per online core)
 * Runs until SIGINT/SIGTERM. Build: cc -O2 ref_server.c $(pkg-config --cflags --libs libmicrohttpd)
 */
#include <microhttpd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct MHD_Response *one;
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *data,
                               size_t *size, void **state)
{
    static int marker;
    (void)cls;
    (void)url;
    (void)version;
    (void)data;
    if (*state == NULL) { /* first call: headers only */
        *state = &marker;
        return MHD_YES;
    }
    if (*size) { /* a body chunk: consume it */
        *size = 0;
        return MHD_YES;
    }
    if (strcmp(method, "POST") && strcmp(method, "GET"))
        return MHD_NO;
    return MHD_queue_response(c, MHD_HTTP_OK, one);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s PORT [THREADS]\n", argv[0]);
        return 2;
    }
    unsigned port = (unsigned)atoi(argv[1]);
    long threads = argc > 2 ? atol(argv[2]) : 0;
    if (threads <= 0)
        threads = sysconf(_SC_NPROCESSORS_ONLN);
    one = MHD_create_response_from_buffer(1, (void *)"1", MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(one, "Content-Type", "text/plain; charset=utf-8");
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG,
        (uint16_t)port, NULL, NULL, handler, NULL, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)threads,
        MHD_OPTION_CONNECTION_LIMIT, 16384u, MHD_OPTION_LISTEN_BACKLOG_SIZE, 4096u,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)65536, MHD_OPTION_CONNECTION_TIMEOUT, 30u,
        MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "ref_server: cannot start on port %u\n", port);
        return 1;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    printf("ref_server: port %u, %ld threads\n", port, threads);
    fflush(stdout);
    while (!stop)
        pause();
    MHD_stop_daemon(d);
    MHD_destroy_response(one);
    return 0;
}
