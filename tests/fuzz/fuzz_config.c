/* fuzz_config.c: config_parse (src/base/config.c) on an argv made of the input split at NUL
 * bytes. Checks: success leaves every value in its documented range and every string set;
 * otherwise the result is 1 (--help) or -1. config_parse prints to stdout/stderr: expected. */
#include "fuzz.h"

#include "base/base.h"

#include <string.h>

#define MAX_ARGS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = xmalloc(size + 1);
    memcpy(copy, data, size);
    copy[size] = '\0';
    char *argv[MAX_ARGS + 1];
    int argc = 0;
    for (size_t start = 0; start <= size && argc < MAX_ARGS;) {
        argv[argc++] = copy + start;
        start += strlen(copy + start) + 1;
    }
    argv[argc] = NULL;
    if (size == 0)
        argc = 0;

    struct config cfg;
    int rc = config_parse(&cfg, argc, argv, "fuzz");
    FUZZ_CHECK(rc == 0 || rc == 1 || rc == -1);
    if (rc == 0) {
        FUZZ_CHECK(cfg.data && cfg.listen);
        FUZZ_CHECK(cfg.heartbeat_s >= 1 && cfg.heartbeat_s <= 3600);
        FUZZ_CHECK(cfg.max_per_ip >= 1 && cfg.max_per_ip <= 1000000);
        FUZZ_CHECK(cfg.max_connections >= 16 && cfg.max_connections <= 1000000);
        FUZZ_CHECK(cfg.max_body >= 1024 && cfg.max_body <= (64u << 20));
        FUZZ_CHECK(cfg.threads <= 256);
        FUZZ_CHECK(cfg.event_window >= 4 && cfg.event_window <= (1u << 20));
        FUZZ_CHECK(cfg.data == cfg.raw.data && cfg.listen == cfg.raw.listen);
    }
    free(copy);
    return 0;
}
