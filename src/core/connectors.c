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

/* The settings text to store for type t (from f's, over old ones when updating), or NULL with
 * msg set. */
static char *settings_text(const struct connector_type *t, json_t *given, const json_t *old,
                           char msg[160])
{
    json_t *settings = connectors_settings_check(t, given, old, msg);
    if (!settings)
        return NULL;
    char *text = json_dump_compact(settings);
    json_decref(settings);
    if (strlen(text) >= sizeof(((struct store_connector_auth *)0)->settings)) {
        snprintf(msg, 160, "'settings' are too large");
        free(text);
        return NULL;
    }
    return text;
}

/* The sealed form of a signing secret: a generated one (into signing, shown once) for a type
 * with a "secret" setting, or the client's for a "password" one. NULL with *rc set when a
 * password is required and missing or too long; NULL with *rc 0 when the type has none. */
static char *sealed_secret(struct core *c, const struct connector_type *t, const char *password,
                           bool creating, char signing[64], int *rc, char msg[160])
{
    const struct connector_setting *s = connectors_secret_setting(t);
    *rc = 0;
    if (signing)
        signing[0] = '\0';
    if (!s)
        return NULL;
    if (!strcmp(s->type, "secret")) {
        if (!creating)
            return NULL; /* generated ones change only by rotation */
        token_generate(signing);
        return seal_text(c->seal_key, signing);
    }
    if (!password) {
        if (creating && s->required) {
            snprintf(msg, 160, "'secret' (%s) is required for %s", s->label, t->name);
            *rc = -ERR_INVALID_FIELD;
        }
        return NULL;
    }
    if (!*password || strlen(password) > 256) {
        snprintf(msg, 160, "'secret' must have 1 to 256 characters");
        *rc = -ERR_INVALID_FIELD;
        return NULL;
    }
    return seal_text(c->seal_key, password);
}

int core_connector_create(struct core *c, const struct store_user *who, int64_t channel,
                          const char *type, const struct core_connector_fields *f,
                          char url_secret[64], char signing[64], struct store_write *w,
                          char msg[160])
{
    int64_t team;
    int rc = core_channel_team(c, who, channel, &team);
    if (rc)
        return rc;
    const struct connector_type *t = connectors_find(type);
    if (!t) {
        snprintf(msg, 160, "unknown connector type '%.64s' (see /api/v1/connector-types)", type);
        return -ERR_INVALID_FIELD;
    }
    char *settings = settings_text(t, f->settings, NULL, msg);
    if (!settings)
        return -ERR_INVALID_FIELD;
    char *sealed = sealed_secret(c, t, f->password, true, signing, &rc, msg);
    if (rc) {
        free(settings);
        return rc;
    }
    write_init(w, STORE_CONNECTOR_CREATE, who);
    w->channel_id = channel;
    w->kind = t->id;
    w->name = f->name;
    w->blob = f->image;
    w->blob_len = f->image_len;
    w->content_type = f->image_type;
    w->text = w->owned2 = settings;
    w->sealed = w->owned3 = sealed;
    new_secret(url_secret, w);
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

/* A connector the caller may change, as JSON (*current, caller decrefs) and its type (NULL for
 * a type this build does not know). */
static int writable_with_type(struct core *c, const struct store_user *who, int64_t id,
                              json_t **current, const struct connector_type **t)
{
    int rc = connector_writable(c, who, id);
    if (rc)
        return rc;
    *current = store_connector_get(c->store, id);
    if (!*current)
        return -ERR_NOT_FOUND;
    *t = connectors_find(json_string_value(json_object_get(*current, "type")));
    return 0;
}

int core_connector_update(struct core *c, const struct store_user *who, int64_t id,
                          const struct core_connector_fields *f, struct store_write *w,
                          char msg[160])
{
    json_t *current;
    const struct connector_type *t;
    int rc = writable_with_type(c, who, id, &current, &t);
    if (rc)
        return rc;
    char *settings = NULL, *sealed = NULL;
    if (t && f->settings) {
        settings = settings_text(t, f->settings, json_object_get(current, "settings"), msg);
        if (!settings)
            rc = -ERR_INVALID_FIELD;
    }
    if (!rc && t && f->password) {
        const struct connector_setting *s = connectors_secret_setting(t);
        if (!s || strcmp(s->type, "password")) {
            snprintf(msg, 160, "%s has no secret to set (rotate a generated one)", t->name);
            rc = -ERR_INVALID_FIELD;
        } else {
            sealed = sealed_secret(c, t, f->password, false, NULL, &rc, msg);
        }
    }
    json_decref(current);
    if (rc) {
        free(settings);
        free(sealed);
        return rc;
    }
    write_init(w, STORE_CONNECTOR_UPDATE, who);
    w->connector_id = id;
    w->name = f->name;
    w->blob = f->image;
    w->blob_len = f->image_len;
    w->content_type = f->image_type;
    w->text = w->owned2 = settings;
    w->sealed = w->owned3 = sealed;
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

int core_connector_rotate_signing(struct core *c, const struct store_user *who, int64_t id,
                                  char signing[64], struct store_write *w)
{
    json_t *current;
    const struct connector_type *t;
    int rc = writable_with_type(c, who, id, &current, &t);
    if (rc)
        return rc;
    json_decref(current);
    const struct connector_setting *s = connectors_secret_setting(t);
    if (!s || strcmp(s->type, "secret"))
        return -ERR_CONFLICT;
    write_init(w, STORE_CONNECTOR_ROTATE, who);
    w->connector_id = id;
    token_generate(signing);
    w->sealed = w->owned3 = seal_text(c->seal_key, signing);
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
    if (rc && rc != -ERR_NOT_FOUND)
        return rc; /* the database is away: 503, not "no such webhook" */
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
    unsigned wait =
        buckets_take(c->buckets, id, c->cfg.webhook_rate, c->cfg.webhook_burst, time_mono_ms());
    /* several nodes: this node's bucket turns a flood away without a round trip; the shared one
     * holds the limit across the nodes */
    if (!wait && store_shared(c->store))
        wait =
            store_rate_take(c->store, id, c->cfg.webhook_rate, c->cfg.webhook_burst, time_now_ms());
    return wait;
}

int core_webhook_translate(struct core *c, const struct store_connector_auth *conn,
                           struct connector_request *req, struct connector_result *out,
                           char msg[160])
{
    memset(out, 0, sizeof *out);
    const struct connector_type *t = connectors_find(conn->type);
    if (!t || t->kind != CONNECTOR_PUSH) {
        snprintf(msg, 160, "%s connectors take no requests", t ? t->name : conn->type);
        return -ERR_BAD_REQUEST;
    }
    json_t *settings = json_loads(conn->settings, 0, NULL);
    if (!settings)
        settings = json_object();
    char *secret = conn->sealed[0] ? unseal_text(c->seal_key, conn->sealed) : NULL;
    req->limits = c->cfg.card_limits;
    req->settings = settings;
    req->secret = secret;
    int rc = 0;
    if (t->verify && (rc = t->verify(req, msg)))
        rc = -ERR_UNAUTHORIZED;
    else if (t->translate(req, out, msg))
        rc = -ERR_BAD_REQUEST;
    else if (out->outcome == CONNECTOR_POST && !connectors_wanted(t, settings, out, out->reason)) {
        card_release(&out->card);
        out->outcome = CONNECTOR_IGNORED;
    }
    if (secret) {
        sodium_memzero(secret, strlen(secret));
        free(secret);
    }
    req->secret = NULL;
    req->settings = NULL;
    json_decref(settings);
    return rc;
}

void core_webhook_post(struct core *c, int64_t connector_id, const struct connector_result *res,
                       const char *card_json, const char *dialect, size_t size, const char *body,
                       const char *key, const char *reply, struct store_write *w)
{
    (void)c;
    write_init(w, STORE_WEBHOOK_POST, NULL);
    w->connector_id = connector_id;
    w->text = res->card.fallback;
    w->card = card_json;
    w->dialect = dialect;
    w->status = 200;
    w->size = size;
    w->body = body && strlen(body) <= CORE_DELIVERY_BODY_MAX ? body : NULL;
    w->key = key;
    w->reply = reply;
    w->outcome = "posted";
    w->thread_key = res->thread_key[0] ? res->thread_key : NULL;
    w->update_root = res->update_root;
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
                       const char *outcome, const char *error, size_t size, const char *body)
{
    struct log_job *j = xcalloc(1, sizeof *j);
    write_init(&j->w, STORE_DELIVERY_LOG, NULL);
    j->dialect = dialect ? xstrdup(dialect) : NULL;
    j->error = error ? xstrdup(error) : NULL;
    j->body = body && strlen(body) <= CORE_DELIVERY_BODY_MAX ? xstrdup(body) : NULL;
    j->w.connector_id = connector_id;
    j->w.dialect = j->dialect;
    j->w.status = status;
    j->w.outcome = outcome;
    j->w.error = j->error;
    j->w.size = size;
    j->w.body = j->body;
    j->w.done = log_done;
    if (store_submit(c->store, &j->w))
        log_done(&j->w);
}
