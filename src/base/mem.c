/* mem.c: allocation that aborts on exhaustion, and the capped buffer. */
#include "base.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        base_bug(__FILE__, __LINE__, "out of memory");
    return p;
}

void *xcalloc(size_t count, size_t n)
{
    void *p = calloc(count ? count : 1, n ? n : 1);
    if (!p)
        base_bug(__FILE__, __LINE__, "out of memory");
    return p;
}

void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p)
        base_bug(__FILE__, __LINE__, "out of memory");
    return p;
}

char *xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
    char *p = xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void buf_init(struct buf *b, size_t cap)
{
    b->data = NULL;
    b->len = 0;
    b->alloc = 0;
    b->cap = cap;
}

void buf_release(struct buf *b)
{
    free(b->data);
    buf_init(b, b->cap);
}

static void buf_reserve(struct buf *b, size_t need)
{
    if (need + 1 <= b->alloc)
        return;
    size_t alloc = b->alloc ? b->alloc : 256;
    while (alloc < need + 1)
        alloc *= 2;
    b->data = xrealloc(b->data, alloc);
    b->alloc = alloc;
}

int buf_append(struct buf *b, const void *p, size_t n)
{
    if (n > b->cap - b->len)
        return -ERR_PAYLOAD_TOO_LARGE;
    buf_reserve(b, b->len + n);
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
    /* format straight into the buffer; only when it does not fit, grow and format once more */
    buf_reserve(b, b->len + 256 < b->cap ? b->len + 256 : b->cap);
    size_t room = b->alloc - b->len;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->data + b->len, room, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->data[b->len] = '\0';
        return -ERR_INTERNAL;
    }
    if ((size_t)n > b->cap - b->len) {
        b->data[b->len] = '\0';
        return -ERR_PAYLOAD_TOO_LARGE;
    }
    if ((size_t)n >= room) {
        buf_reserve(b, b->len + (size_t)n);
        va_start(ap, fmt);
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    b->len += (size_t)n;
    return 0;
}
