/* time.c: wall and monotonic clocks, RFC 3339 formatting. */
#include "base.h"

#include <stdio.h>
#include <time.h>

int64_t time_now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

int64_t time_mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

void time_format_rfc3339(int64_t ms, char out[32])
{
    int64_t rem = ms % 1000;
    if (rem < 0) /* floor division: -1 ms is 23:59:59.999 of the day before */
        rem += 1000;
    time_t secs = (time_t)((ms - rem) / 1000);
    struct tm tm;
    if (!gmtime_r(&secs, &tm) || tm.tm_year > 9999 - 1900) {
        snprintf(out, 32, "invalid");
        return;
    }
    snprintf(out, 32, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)rem);
}
