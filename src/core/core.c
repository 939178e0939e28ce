/* core.c: the core's lifetime and the commit of prepared writes. */
#include "core_int.h"

struct core *core_new(struct store *st)
{
    struct core *c = xcalloc(1, sizeof *c);
    c->store = st;
    c->logins = throttle_new(4096, CORE_LOGIN_FAILURES, CORE_LOGIN_WINDOW_S);
    char pw[64];
    token_generate(pw);
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
    free(c);
}

struct store *core_store(struct core *c)
{
    return c->store;
}

int core_submit(struct core *c, struct store_write *w)
{
    return store_submit(c->store, w);
}
