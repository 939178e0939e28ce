/* ratelimit.c: token buckets per webhook (burst, then a sustained rate), in a fixed hash table
 * under one lock. A key that has not been seen for a while refills to full, so evicting idle keys
 * when the table is full changes nothing for them. */
#include "core_int.h"

#include <pthread.h>
#include <string.h>

#define SLOTS 8192
#define PROBE 8

struct bucket {
    int64_t key; /* 0 = empty */
    double tokens;
    int64_t last_ms;
};

struct buckets {
    pthread_mutex_t mu;
    struct bucket slots[SLOTS];
};

struct buckets *buckets_new(void)
{
    struct buckets *b = xcalloc(1, sizeof *b);
    pthread_mutex_init(&b->mu, NULL);
    return b;
}

void buckets_free(struct buckets *b)
{
    if (!b)
        return;
    pthread_mutex_destroy(&b->mu);
    free(b);
}

static struct bucket *slot_for(struct buckets *b, int64_t key, double burst, int64_t now)
{
    size_t h = (size_t)((uint64_t)key * 0x9E3779B97F4A7C15ull >> 40);
    struct bucket *empty = NULL, *oldest = NULL;
    for (size_t i = 0; i < PROBE; i++) {
        struct bucket *s = &b->slots[(h + i) % SLOTS];
        if (s->key == key)
            return s;
        if (!s->key && !empty)
            empty = s;
        if (!oldest || s->last_ms < oldest->last_ms)
            oldest = s;
    }
    struct bucket *s = empty ? empty : oldest;
    s->key = key;
    s->tokens = burst;
    s->last_ms = now;
    return s;
}

unsigned buckets_take(struct buckets *b, int64_t key, double rate, double burst, int64_t now_ms)
{
    pthread_mutex_lock(&b->mu);
    struct bucket *s = slot_for(b, key, burst, now_ms);
    if (now_ms > s->last_ms) {
        s->tokens += (double)(now_ms - s->last_ms) / 1000.0 * rate;
        if (s->tokens > burst)
            s->tokens = burst;
        s->last_ms = now_ms;
    }
    unsigned wait = 0;
    if (s->tokens >= 1.0)
        s->tokens -= 1.0;
    else
        wait = (unsigned)((1.0 - s->tokens) / rate) + 1;
    pthread_mutex_unlock(&b->mu);
    return wait;
}
