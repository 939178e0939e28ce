/* connectors.c: the connector lifecycle and the webhook path's checks. Any member of a channel's
 * team may add a connector there; its owner or a team owner may change it; once it is suspended
 * (its owner left) any member may take it over or remove it. Secrets are 256-bit random, shown
 * once, stored as hashes and compared in constant time. */
#include "core_int.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

const char *core_image_type(const void *data, size_t len)
{
    const unsigned char *p = data;
    if (len > CORE_IMAGE_MAX || len < 12)
        return NULL;
    if (!memcmp(p, "\x89PNG\r\n\x1a\n", 8))
        return "image/png";
    if (p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF)
        return "image/jpeg";
    if (!memcmp(p, "GIF87a", 6) || !memcmp(p, "GIF89a", 6))
        return "image/gif";
    if (!memcmp(p, "RIFF", 4) && !memcmp(p + 8, "WEBP", 4))
        return "image/webp";
    return NULL;
}

int core_image_decode(const char *text, void **out, size_t *len, const char **content_type,
                      char msg[160])
{
    *out = NULL;
    const char *b64 = text;
    if (!strncmp(text, "data:", 5)) {
        const char *comma = strchr(text, ',');
        if (!comma || !strstr(text, ";base64")) {
            snprintf(msg, 160, "'image' must be a base64 data URL");
            return -ERR_INVALID_FIELD;
        }
        b64 = comma + 1;
    }
    size_t b64_len = strlen(b64), max = b64_len / 4 * 3 + 3;
    if (max > CORE_IMAGE_MAX * 2)
        max = CORE_IMAGE_MAX + 4; /* enough to tell it is too large */
    unsigned char *bin = xmalloc(max);
    size_t n;
    if (sodium_base642bin(bin, max, b64, b64_len, " \r\n", &n, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0) {
        free(bin);
        snprintf(msg, 160, "'image' is not valid base64, or larger than %d KB",
                 CORE_IMAGE_MAX / 1024);
        return -ERR_INVALID_FIELD;
    }
    if (n > CORE_IMAGE_MAX) {
        free(bin);
        snprintf(msg, 160, "'image' is larger than %d KB", CORE_IMAGE_MAX / 1024);
        return -ERR_INVALID_FIELD;
    }
    *content_type = core_image_type(bin, n);
    if (!*content_type) {
        free(bin);
        snprintf(msg, 160, "'image' must be a PNG, JPEG, GIF or WebP image");
        return -ERR_INVALID_FIELD;
    }
    *out = bin;
    *len = n;
    return 0;
}

int core_image_get(struct core *c, const char *hash, void **bytes, size_t *len,
                   char content_type[32])
{
    return store_image_get(c->store, hash, bytes, len, content_type);
}

static void write_init(struct store_write *w, enum store_op op, const struct store_user *who)
{
    memset(w, 0, sizeof *w);
    w->op = op;
    w->actor = who ? who->id : 0;
}

static void new_secret(char secret[64], struct store_write *w)
{
    char *hash = xmalloc(65);
    token_generate(secret);
    secret_hash(secret, hash);
    w->secret = hash;
    w->owned = hash;
}

int core_connector_create(struct core *c, const struct store_user *who, int64_t channel,
                          const char *type, const char *name, const void *image, size_t image_len,
                          const char *image_type, char secret[64], struct store_write *w)
{
    int64_t team;
    int rc = core_channel_team(c, who, channel, &team);
    if (rc)
        return rc;
    if (!connectors_find(type))
        return -ERR_INVALID_FIELD;
    write_init(w, STORE_CONNECTOR_CREATE, who);
    w->channel_id = channel;
    w->kind = connectors_find(type)->id;
    w->name = name;
    w->blob = image;
    w->blob_len = image_len;
    w->content_type = image_type;
    new_secret(secret, w);
    return 0;
}

/* What a caller may do with a connector: read (a member of its team), change (its owner or a
 * team owner; anyone in the team once it is suspended). */
struct access {
    enum store_role role;
    int64_t owner;
    enum store_connector_state state;
};

/* The connector, checked readable by who (-ERR_NOT_FOUND otherwise). */
static int connector_access(struct core *c, const struct store_user *who, int64_t id,
                            struct access *a)
{
    int64_t team;
    if (store_connector_team(c->store, id, &team, &a->owner, &a->state))
        return -ERR_NOT_FOUND;
    a->role = store_member_role(c->store, team, who->id);
    return a->role == STORE_ROLE_NONE ? -ERR_NOT_FOUND : 0;
}

static int connector_writable(struct core *c, const struct store_user *who, int64_t id)
{
    struct access a;
    int rc = connector_access(c, who, id, &a);
    if (rc)
        return rc;
    if (a.owner == who->id || a.role == STORE_ROLE_OWNER || a.state == STORE_CONNECTOR_SUSPENDED)
        return 0;
    return -ERR_FORBIDDEN;
}

int core_connectors(struct core *c, const struct store_user *who, int64_t channel, json_t **out)
{
    int64_t team;
    int rc = core_channel_team(c, who, channel, &team);
    if (rc)
        return rc;
    *out = store_connectors(c->store, channel);
    return 0;
}

int core_connector_get(struct core *c, const struct store_user *who, int64_t id, json_t **out)
{
    struct access a;
    int rc = connector_access(c, who, id, &a);
    if (rc)
        return rc;
    *out = store_connector_get(c->store, id);
    return *out ? 0 : -ERR_NOT_FOUND;
}

int core_connector_update(struct core *c, const struct store_user *who, int64_t id,
                          const char *name, const void *image, size_t image_len,
                          const char *image_type, struct store_write *w)
{
    int rc = connector_writable(c, who, id);
    if (rc)
        return rc;
    write_init(w, STORE_CONNECTOR_UPDATE, who);
    w->connector_id = id;
    w->name = name;
    w->blob = image;
    w->blob_len = image_len;
    w->content_type = image_type;
    return 0;
}

int core_connector_rotate(struct core *c, const struct store_user *who, int64_t id, char secret[64],
                          struct store_write *w)
{
    int rc = connector_writable(c, who, id);
    if (rc)
        return rc;
    write_init(w, STORE_CONNECTOR_ROTATE, who);
    w->connector_id = id;
    new_secret(secret, w);
    return 0;
}

int core_connector_delete(struct core *c, const struct store_user *who, int64_t id,
                          struct store_write *w)
{
    int rc = connector_writable(c, who, id);
    if (rc)
        return rc;
    write_init(w, STORE_CONNECTOR_DELETE, who);
    w->connector_id = id;
    return 0;
}

int core_connector_takeover(struct core *c, const struct store_user *who, int64_t id,
                            struct store_write *w)
{
    struct access a;
    int rc = connector_access(c, who, id, &a);
    if (rc)
        return rc;
    if (a.state != STORE_CONNECTOR_SUSPENDED)
        return -ERR_CONFLICT;
    write_init(w, STORE_CONNECTOR_TAKEOVER, who);
    w->connector_id = id;
    return 0;
}

int core_deliveries(struct core *c, const struct store_user *who, int64_t id, json_t **out)
{
    struct access a;
    int rc = connector_access(c, who, id, &a);
    if (rc)
        return rc;
    *out = store_deliveries(c->store, id, 200);
    return 0;
}

int core_webhook_check(struct core *c, int64_t id, const char *secret,
                       struct store_connector_auth *out)
{
    char hash[65];
    secret_hash(strlen(secret) <= 256 ? secret : "", hash);
    int rc = store_connector_auth(c->store, id, out);
    /* unknown id and wrong secret look the same, and take the same time */
    bool match = secret_equal(
        rc ? "0000000000000000000000000000000000000000000000000000000000000000" : out->secret_hash,
        hash);
    if (rc || !match)
        return -ERR_NOT_FOUND;
    if (out->state == STORE_CONNECTOR_DELETED)
        return -ERR_GONE;
    if (out->state == STORE_CONNECTOR_SUSPENDED)
        return -ERR_FORBIDDEN;
    return 0;
}

unsigned core_webhook_admit(struct core *c, int64_t id)
{
    return buckets_take(c->buckets, id, c->cfg.webhook_rate, c->cfg.webhook_burst, time_mono_ms());
}

int core_webhook_translate(struct core *c, const struct store_connector_auth *conn, json_t *payload,
                           enum card_dialect forced, struct card *out, char msg[160])
{
    const struct connector_type *t = connectors_find(conn->type);
    if (!t) {
        snprintf(msg, 160, "unknown connector type '%s'", conn->type);
        return CARD_ERR_INVALID;
    }
    struct connector_request req = {.payload = payload, .forced = forced,
                                    .limits = c->cfg.card_limits};
    struct connector_result r;
    memset(&r, 0, sizeof r);
    int rc = t->translate(&req, &r, msg);
    *out = r.card;
    return rc;
}

void core_webhook_post(struct core *c, int64_t connector_id, const struct card *card,
                       const char *card_json, const char *dialect, size_t size, const char *body,
                       const char *key, const char *reply, struct store_write *w)
{
    (void)c;
    write_init(w, STORE_WEBHOOK_POST, NULL);
    w->connector_id = connector_id;
    w->text = card->fallback;
    w->card = card_json;
    w->dialect = dialect;
    w->status = 200;
    w->size = size;
    w->body = body && strlen(body) <= CORE_DELIVERY_BODY_MAX ? body : NULL;
    w->key = key;
    w->reply = reply;
}

struct log_job {
    struct store_write w;
    char *dialect, *error, *body;
};

static void log_done(struct store_write *w)
{
    struct log_job *j = (struct log_job *)w;
    store_write_release(&j->w);
    free(j->dialect);
    free(j->error);
    free(j->body);
    free(j);
}

void core_delivery_log(struct core *c, int64_t connector_id, const char *dialect, int status,
                       const char *error, size_t size, const char *body)
{
    struct log_job *j = xcalloc(1, sizeof *j);
    write_init(&j->w, STORE_DELIVERY_LOG, NULL);
    j->dialect = dialect ? xstrdup(dialect) : NULL;
    j->error = error ? xstrdup(error) : NULL;
    j->body = body && strlen(body) <= CORE_DELIVERY_BODY_MAX ? xstrdup(body) : NULL;
    j->w.connector_id = connector_id;
    j->w.dialect = j->dialect;
    j->w.status = status;
    j->w.error = j->error;
    j->w.size = size;
    j->w.body = j->body;
    j->w.done = log_done;
    if (store_submit(c->store, &j->w))
        log_done(&j->w);
}
