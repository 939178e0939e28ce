/* core_int.h: the core's state, shared by its files. */
#ifndef SB_CORE_INT_H
#define SB_CORE_INT_H

#include "core.h"

#include <stdlib.h>

struct core {
    struct store *store;
    struct core_config cfg;
    struct buckets *buckets; /* webhook rate limits */
    struct throttle *logins;
    char dummy_hash[128]; /* verified against for unknown users: same time as a real check */
    unsigned char seal_key[32];
    bool mail_enabled; /* a mailer runs (an SMTP relay is configured) */
};

/* The team of a channel the caller may read (-ERR_NOT_FOUND otherwise). */
int core_channel_team(struct core *c, const struct store_user *who, int64_t channel, int64_t *team);

/* Token buckets keyed by connector id (ratelimit.c). */
struct buckets;
struct buckets *buckets_new(void);
void buckets_free(struct buckets *b);
/* 0 when a token was taken, else the seconds until one is there. */
unsigned buckets_take(struct buckets *b, int64_t key, double rate, double burst, int64_t now_ms);

#endif
