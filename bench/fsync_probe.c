/* fsync_probe.c: the storage reference for `make bench`. Appends BYTES to a file in DIR and calls
 * fdatasync(), over and over for SECONDS, and prints the latency of each append+fdatasync.
 * A group-committing server cannot acknowledge faster than one batch per fdatasync, so this is
 * the floor under its p50 and the ceiling over its commits per second on this disk, right now.
 * The default 40 KB is about one commit of ~30 webhook messages (card, event, delivery log rows).
 *
 * usage: fsync_probe DIR [SECONDS=2] [BYTES=40960]
 * prints: RESULT syncs= per_s= p50_ms= p90_ms= p99_ms= max_ms=
 * Build: cc -O2 fsync_probe.c -o fsync_probe */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int cmpd(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s DIR [SECONDS] [BYTES]\n", argv[0]);
        return 2;
    }
    double secs = argc > 2 ? atof(argv[2]) : 2;
    size_t bytes = argc > 3 ? (size_t)atol(argv[3]) : 40960;
    char path[4096];
    snprintf(path, sizeof path, "%s/fsync_probe.%d", argv[1], (int)getpid());
    int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
    if (fd < 0) {
        perror(path);
        return 1;
    }
    char *buf = malloc(bytes);
    memset(buf, 'x', bytes);
    size_t cap = 1 << 16, n = 0;
    double *lat = malloc(cap * sizeof *lat);
    double t0 = now_ms();
    off_t off = 0;
    while (now_ms() - t0 < secs * 1e3 && n < cap) {
        double a = now_ms();
        if (pwrite(fd, buf, bytes, off) != (ssize_t)bytes || fdatasync(fd) != 0) {
            perror("write/fdatasync");
            break;
        }
        off += (off_t)bytes;
        if (off > (off_t)64 << 20) /* keep the file small, as a WAL is after a checkpoint */
            off = 0;
        lat[n++] = now_ms() - a;
    }
    double el = now_ms() - t0;
    close(fd);
    unlink(path);
    qsort(lat, n, sizeof *lat, cmpd);
    printf("RESULT syncs=%zu per_s=%.0f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f\n", n,
           (double)n / (el / 1e3), n ? lat[n / 2] : -1, n ? lat[(size_t)(n * 0.9)] : -1,
           n ? lat[(size_t)(n * 0.99)] : -1, n ? lat[n - 1] : -1);
    return 0;
}
