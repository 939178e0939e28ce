/* log.c: one line per call on stderr, prefixed with the UTC time. Callers never pass secrets. */
#include "base.h"

#include <stdio.h>
#include <stdlib.h>

static void log_line(const char *level, const char *fmt, va_list ap)
{
    char when[32], line[2048];
    time_format_rfc3339(time_now_ms(), when);
    int n = snprintf(line, sizeof line, "%s %s", when, level);
    if (n < 0 || (size_t)n >= sizeof line)
        return;
    vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    fprintf(stderr, "%s\n", line); /* one fprintf: lines from threads do not interleave */
}

void log_info(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_line("", fmt, ap);
    va_end(ap);
}

void log_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_line("error: ", fmt, ap);
    va_end(ap);
}

void base_bug(const char *file, int line, const char *what)
{
    fprintf(stderr, "BUG at %s:%d: %s\n", file, line, what);
    abort();
}
