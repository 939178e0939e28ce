/* throttle.c: counts failed logins per key (a username or an address) in a fixed window. After
 * max_failures the key is refused until its window ends. A fixed table: a flood of distinct keys
 * evicts the oldest windows, it never grows memory. */
#include "core.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define PROBE 8

struct slot {
    char key[96];
    unsigned failures;
    int64_t window_start_ms;
};

struct throttle {
    pthread_mutex_t mu;
    size_t n;
    unsigned max_failures;
    int64_t window_ms;
    struct slot slots[];
};

struct throttle *throttle_new(size_t slots, unsigned max_failures, unsigned window_s)
{
    struct throttle *t = xcalloc(1, sizeof *t + slots * sizeof(struct slot));
    pthread_mutex_init(&t->mu, NULL);
    t->n = slots;
    t->max_failures = max_failures;
    t->window_ms = (int64_t)window_s * 1000;
    return t;
}

void throttle_free(struct throttle *t)
{
    if (!t)
        return;
    pthread_mutex_destroy(&t->mu);
    free(t);
}

static size_t hash_str(const char *s)
{
    size_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* The key's slot; when create, claims an empty or expired slot, else the oldest in its probe. */
static struct slot *find(struct throttle *t, const char *key, int64_t now, bool create)
{
    size_t h = hash_str(key);
    struct slot *unused = NULL, *oldest = NULL;
    for (size_t i = 0; i < PROBE; i++) {
        struct slot *s = &t->slots[(h + i) % t->n];
        bool expired = now - s->window_start_ms >= t->window_ms;
        if (s->key[0] && !strncmp(s->key, key, sizeof s->key - 1)) {
            if (expired) { /* window over: start afresh */
                s->failures = 0;
                s->window_start_ms = now;
            }
            return s;
        }
        if (!unused && (!s->key[0] || expired))
            unused = s;
        if (!oldest || s->window_start_ms < oldest->window_start_ms)
            oldest = s;
    }
    if (!create)
        return NULL;
    struct slot *s = unused ? unused : oldest;
    memset(s, 0, sizeof *s);
    strncpy(s->key, key, sizeof s->key - 1);
    s->window_start_ms = now;
    return s;
}

unsigned throttle_check(struct throttle *t, const char *key, int64_t now_ms)
{
    pthread_mutex_lock(&t->mu);
    struct slot *s = find(t, key, now_ms, false);
    unsigned wait = 0;
    if (s && s->failures >= t->max_failures)
        wait = (unsigned)((s->window_start_ms + t->window_ms - now_ms + 999) / 1000);
    pthread_mutex_unlock(&t->mu);
    return wait;
}

void throttle_fail(struct throttle *t, const char *key, int64_t now_ms)
{
    pthread_mutex_lock(&t->mu);
    find(t, key, now_ms, true)->failures++;
    pthread_mutex_unlock(&t->mu);
}

void throttle_clear(struct throttle *t, const char *key)
{
    pthread_mutex_lock(&t->mu);
    struct slot *s = find(t, key, 0, false);
    if (s)
        memset(s, 0, sizeof *s);
    pthread_mutex_unlock(&t->mu);
}
