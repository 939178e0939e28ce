/* core.c: the core's lifetime and the commit of prepared writes. */
#include "core_int.h"

#include <sodium.h>
#include <string.h>

struct core *core_new(struct store *st)
{
    struct core *c = xcalloc(1, sizeof *c);
    c->store = st;
    c->logins = throttle_new(4096, CORE_LOGIN_FAILURES, CORE_LOGIN_WINDOW_S);
    c->buckets = buckets_new();
    c->cfg.webhook_rate = 10;
    c->cfg.webhook_burst = 20;
    c->cfg.card_limits = &card_default_limits;
    char pw[64];
    token_generate(pw);
    randombytes_buf(c->seal_key, sizeof c->seal_key); /* until configured */
    if (password_hash(pw, c->dummy_hash)) {
        core_free(c);
        return NULL;
    }
    return c;
}

void core_free(struct core *c)
{
    if (!c)
        return;
    throttle_free(c->logins);
    buckets_free(c->buckets);
    free(c);
}

void core_configure(struct core *c, const struct core_config *cfg)
{
    if (cfg->webhook_rate > 0)
        c->cfg.webhook_rate = cfg->webhook_rate;
    if (cfg->webhook_burst >= 1)
        c->cfg.webhook_burst = cfg->webhook_burst;
    if (cfg->card_limits)
        c->cfg.card_limits = cfg->card_limits;
    if (cfg->seal_key)
        memcpy(c->seal_key, cfg->seal_key, sizeof c->seal_key);
}

struct store *core_store(struct core *c)
{
    return c->store;
}

int core_submit(struct core *c, struct store_write *w)
{
    return store_submit(c->store, w);
}
