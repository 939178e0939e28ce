/* iplimit.c: connections per client address, counted across both daemons (libmicrohttpd's own
 * per-IP limit counts each daemon apart). The acceptor takes a slot before it even peeks at a
 * connection and the daemons give it back when the connection closes. */
#include "http_int.h"

#include <netinet/in.h>
#include <string.h>

#define BUCKETS 4096

struct ip_entry {
    unsigned char addr[16];
    unsigned count;
    struct ip_entry *next;
};

struct iplimit {
    pthread_mutex_t mu;
    unsigned max;
    struct ip_entry *buckets[BUCKETS];
};

struct iplimit *iplimit_new(unsigned max)
{
    struct iplimit *l = xcalloc(1, sizeof *l);
    pthread_mutex_init(&l->mu, NULL);
    l->max = max;
    return l;
}

void iplimit_free(struct iplimit *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < BUCKETS; i++)
        for (struct ip_entry *e = l->buckets[i], *next; e; e = next) {
            next = e->next;
            free(e);
        }
    pthread_mutex_destroy(&l->mu);
    free(l);
}

/* The address as 16 bytes (IPv4 mapped into IPv6); false for other families. */
static bool key_of(const struct sockaddr *sa, unsigned char key[16])
{
    memset(key, 0, 16);
    if (sa->sa_family == AF_INET) {
        key[10] = key[11] = 0xff;
        memcpy(key + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
        return true;
    }
    if (sa->sa_family == AF_INET6) {
        memcpy(key, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
        return true;
    }
    return false;
}

static size_t bucket_of(const unsigned char key[16])
{
    size_t h = 1469598103934665603ull;
    for (int i = 0; i < 16; i++)
        h = (h ^ key[i]) * 1099511628211ull;
    return h % BUCKETS;
}

bool iplimit_acquire(struct iplimit *l, const struct sockaddr *sa)
{
    unsigned char key[16];
    if (!key_of(sa, key))
        return true;
    size_t b = bucket_of(key);
    bool ok = true;
    pthread_mutex_lock(&l->mu);
    struct ip_entry *e = l->buckets[b];
    while (e && memcmp(e->addr, key, 16))
        e = e->next;
    if (!e) {
        e = xcalloc(1, sizeof *e);
        memcpy(e->addr, key, 16);
        e->next = l->buckets[b];
        l->buckets[b] = e;
    }
    if (e->count >= l->max)
        ok = false;
    else
        e->count++;
    pthread_mutex_unlock(&l->mu);
    return ok;
}

void iplimit_release(struct iplimit *l, const struct sockaddr *sa)
{
    unsigned char key[16];
    if (!key_of(sa, key))
        return;
    size_t b = bucket_of(key);
    pthread_mutex_lock(&l->mu);
    for (struct ip_entry **p = &l->buckets[b]; *p; p = &(*p)->next) {
        struct ip_entry *e = *p;
        if (memcmp(e->addr, key, 16))
            continue;
        if (e->count)
            e->count--;
        if (!e->count) {
            *p = e->next;
            free(e);
        }
        break;
    }
    pthread_mutex_unlock(&l->mu);
}
