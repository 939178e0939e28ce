/* feeds.c: the feed poller. One thread looks, every tick, for feed connectors due to be fetched;
 * connectors that follow the same URL share one fetch (conditional: ETag, Last-Modified) through
 * the egress guard; every item a connector has not seen is posted to its channel once, in the
 * order published, and remembered in the same transaction (so a restart or a feed that
 * reorders its items never posts one twice). A connector's first fetch remembers what the feed
 * holds and posts only the newest item, to show the feed works. A failing feed records its
 * error (shown in the connector list) and backs off, doubling its interval up to a day. */
#include "core_int.h"

#include "../egress/egress.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define FEED_MAX_BYTES (4u * 1024 * 1024)
#define FEED_TIMEOUT_MS 30000
#define FEED_POST_MAX 10 /* new items posted per fetch and connector */
#define FEED_BACKOFF_MAX_MS (24LL * 3600 * 1000)
#define FEED_ACCEPT                                                                                \
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "                       \
    "application/xml;q=0.8, text/xml;q=0.8, */*;q=0.5"

struct feeds {
    struct core *core;
    struct egress_policy policy;
    unsigned tick_ms;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stop, started;
    struct idset tried; /* connectors fetched for since start (poller thread only) */
};

/* The connectors of one URL, as store_feeds lists them (consecutive rows). */
struct member {
    int64_t id;
    int interval_min;
    bool primed; /* has seen items before */
};
struct group {
    char *url;
    char *etag, *last_modified;
    int64_t next_fetch;
    int failures;
    struct member *m;
    size_t n, alloc;
};
struct groups {
    struct group *g;
    size_t n, alloc;
};

static void collect(void *arg, const struct store_feed_row *row)
{
    struct groups *gs = arg;
    struct group *g = gs->n ? &gs->g[gs->n - 1] : NULL;
    if (!g || strcmp(g->url, row->url)) {
        if (gs->n == gs->alloc)
            gs->g = xrealloc(gs->g, (gs->alloc = gs->alloc ? gs->alloc * 2 : 8) * sizeof *gs->g);
        g = &gs->g[gs->n++];
        memset(g, 0, sizeof *g);
        g->url = xstrdup(row->url);
        g->etag = row->etag ? xstrdup(row->etag) : NULL;
        g->last_modified = row->last_modified ? xstrdup(row->last_modified) : NULL;
        g->next_fetch = row->next_fetch;
        g->failures = row->failures;
    }
    if (g->n == g->alloc)
        g->m = xrealloc(g->m, (g->alloc = g->alloc ? g->alloc * 2 : 4) * sizeof *g->m);
    g->m[g->n++] = (struct member){row->connector_id, row->interval_min, row->seen > 0};
}

static void groups_release(struct groups *gs)
{
    for (size_t i = 0; i < gs->n; i++) {
        free(gs->g[i].url);
        free(gs->g[i].etag);
        free(gs->g[i].last_modified);
        free(gs->g[i].m);
    }
    free(gs->g);
}

static void save_state(struct core *c, const struct group *g, const struct egress_response *res,
                       int64_t next, int failures, const char *error)
{
    struct store_write w;
    memset(&w, 0, sizeof w);
    w.op = STORE_FEED_STATE;
    w.name = g->url;
    w.etag = res ? res->etag : NULL;
    w.last_modified = res ? res->last_modified : NULL;
    w.expires = next;
    w.status = failures;
    w.error = error;
    store_write_wait(c->store, &w);
    store_write_release(&w);
}

/* Offers one item to one connector: posted when new (unless `quiet`: only remembered). */
static void offer(struct core *c, const struct store_connector_auth *conn, int64_t connector,
                  const struct feed *f, const struct feed_item *it, bool quiet, size_t size)
{
    char hash[65];
    bytes_hash(it->id, strlen(it->id), hash);
    struct connector_result r;
    memset(&r, 0, sizeof r);
    char msg[160], *card_json = NULL;
    struct store_write w;
    memset(&w, 0, sizeof w);
    w.op = STORE_FEED_ITEM;
    w.connector_id = connector;
    w.key = hash;
    w.flag = quiet;
    if (!quiet) {
        if (feed_item_card(f, it, c->cfg.card_limits, &r, msg)) {
            log_error("feed item '%.80s' of connector %lld gives no card: %s", it->id,
                      (long long)connector, msg);
            w.flag = true; /* remembered, so it is not tried again */
        } else {
            char image[128];
            snprintf(image, sizeof image, "/api/v1/images/%s", conn->image_hash);
            card_set_sender(&r.card, conn->name, conn->image_hash[0] ? image : NULL);
            card_json = json_dump_compact(r.card.json);
            w.text = r.card.fallback;
            w.card = card_json;
            w.dialect = "rss";
            w.status = 200;
            w.size = size;
        }
    }
    store_write_wait(c->store, &w);
    store_write_release(&w);
    free(card_json);
    card_release(&r.card);
}

/* Posts what each connector of the group has not seen, oldest first. */
static void deliver(struct core *c, const struct group *g, const struct feed *f, size_t size)
{
    for (size_t k = 0; k < g->n; k++) {
        struct store_connector_auth conn;
        if (store_connector_auth(c->store, g->m[k].id, &conn) ||
            conn.state != STORE_CONNECTOR_ACTIVE)
            continue;
        /* items come newest first in nearly every feed: post the newest FEED_POST_MAX, oldest
         * of them first, and only remember the rest (a first fetch posts just the newest) */
        size_t post = g->m[k].primed ? FEED_POST_MAX : 1;
        for (size_t i = f->n_items; i-- > 0;)
            offer(c, &conn, g->m[k].id, f, &f->items[i], i >= post, size);
    }
}

static void fetch_group(struct feeds *fs, const struct group *g)
{
    struct core *c = fs->core;
    int interval = g->m[0].interval_min;
    bool fresh = false; /* a connector that never fetched needs the whole feed, not a 304 */
    for (size_t k = 0; k < g->n; k++) {
        if (g->m[k].interval_min < interval)
            interval = g->m[k].interval_min;
        fresh |= !g->m[k].primed;
    }
    struct egress_request req = {
        .etag = fresh ? NULL : g->etag,
        .last_modified = fresh ? NULL : g->last_modified,
        .accept = FEED_ACCEPT,
        .what = "feed",
        .max_bytes = FEED_MAX_BYTES,
        .timeout_ms = FEED_TIMEOUT_MS,
    };
    struct egress_response res;
    int rc = egress_fetch(g->url, &fs->policy, &req, &res);
    for (size_t k = 0; k < g->n; k++)
        idset_add(&fs->tried, g->m[k].id);
    int64_t now = time_now_ms(), interval_ms = (int64_t)interval * 60 * 1000;
    char msg[160] = "";
    if (!rc && res.status != 304) {
        struct feed f;
        if (feed_parse(res.body, res.body_len, &f, msg)) {
            rc = -ERR_BAD_REQUEST;
        } else {
            deliver(c, g, &f, res.body_len);
            feed_release(&f);
        }
    } else if (rc) {
        snprintf(msg, sizeof msg, "%s", res.error);
    }
    if (rc) {
        int failures = g->failures + 1;
        int64_t wait = interval_ms << (failures < 7 ? failures - 1 : 6);
        if (wait > FEED_BACKOFF_MAX_MS)
            wait = FEED_BACKOFF_MAX_MS;
        log_info("feed %s: %s (failure %d, next try in %lld s)", g->url, msg, failures,
                 (long long)(wait / 1000));
        save_state(c, g, NULL, now + wait, failures, msg);
    } else {
        save_state(c, g, &res, now + interval_ms, 0, NULL);
    }
    egress_response_release(&res);
}

static void poll_once(struct feeds *fs)
{
    if (!store_leader(fs->core->store))
        return; /* another node polls the feeds */
    struct groups gs = {0};
    if (store_feeds(fs->core->store, collect, &gs))
        log_error("feeds: cannot list the feed connectors");
    int64_t now = time_now_ms();
    for (size_t i = 0; i < gs.n; i++) {
        /* due, or followed by a connector that has not had its first fetch (a new one) */
        bool due = gs.g[i].next_fetch <= now;
        for (size_t k = 0; k < gs.g[i].n; k++)
            due |= !gs.g[i].m[k].primed && !idset_has(&fs->tried, gs.g[i].m[k].id);
        pthread_mutex_lock(&fs->lock);
        bool stop = fs->stop;
        pthread_mutex_unlock(&fs->lock);
        if (stop)
            break;
        if (due)
            fetch_group(fs, &gs.g[i]);
    }
    groups_release(&gs);
}

static void *run(void *arg)
{
    struct feeds *fs = arg;
    pthread_mutex_lock(&fs->lock);
    while (!fs->stop) {
        pthread_mutex_unlock(&fs->lock);
        poll_once(fs);
        pthread_mutex_lock(&fs->lock);
        if (fs->stop)
            break;
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += fs->tick_ms / 1000;
        until.tv_nsec += (long)(fs->tick_ms % 1000) * 1000000;
        if (until.tv_nsec >= 1000000000) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&fs->wake, &fs->lock, &until);
    }
    pthread_mutex_unlock(&fs->lock);
    return NULL;
}

struct feeds *core_feeds_start(struct core *c, const char *allow, unsigned tick_s, char msg[160])
{
    struct feeds *fs = xcalloc(1, sizeof *fs);
    fs->core = c;
    fs->tick_ms = (tick_s ? tick_s : 5) * 1000u;
    if (egress_init() || egress_policy_allow_list(&fs->policy, allow, msg)) {
        if (!msg[0])
            snprintf(msg, 160, "cannot initialise libcurl");
        egress_policy_release(&fs->policy);
        free(fs);
        return NULL;
    }
    pthread_mutex_init(&fs->lock, NULL);
    pthread_cond_init(&fs->wake, NULL);
    if (pthread_create(&fs->thread, NULL, run, fs)) {
        snprintf(msg, 160, "cannot start the feed poller");
        core_feeds_stop(fs);
        return NULL;
    }
    fs->started = true;
    return fs;
}

void core_feeds_stop(struct feeds *fs)
{
    if (!fs)
        return;
    if (fs->started) {
        pthread_mutex_lock(&fs->lock);
        fs->stop = true;
        pthread_cond_signal(&fs->wake);
        pthread_mutex_unlock(&fs->lock);
        pthread_join(fs->thread, NULL);
    }
    pthread_mutex_destroy(&fs->lock);
    pthread_cond_destroy(&fs->wake);
    egress_policy_release(&fs->policy);
    idset_release(&fs->tried);
    free(fs);
}

int core_feed_check_now(struct core *c, const struct store_user *who, int64_t id,
                        struct store_write *w)
{
    json_t *conn;
    int rc = core_connector_get(c, who, id, &conn);
    if (rc)
        return rc;
    const char *url = json_string_value(json_object_get(json_object_get(conn, "settings"), "url"));
    bool feed = !strcmp(json_string_value(json_object_get(conn, "type")), "rss") && url;
    memset(w, 0, sizeof *w);
    if (feed) {
        w->op = STORE_FEED_CHECK;
        w->name = w->owned = xstrdup(url);
        w->connector_id = id;
    }
    json_decref(conn);
    return feed ? 0 : -ERR_CONFLICT;
}
