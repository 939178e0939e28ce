/* connectors.c: /api/v1/connector-types, a channel's connectors, one connector (rename, image,
 * settings, rotate, take over, delete, delivery log) and the images they show. A secret URL is
 * answered once, on creation and on rotation; only its hash is stored. A generated signing
 * secret is answered once too, and kept sealed. */
#include "api_int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

int api_connector_types(struct http_req *r)
{
    return http_reply_json(r, 200, json_pack("{s:o}", "types", connectors_catalog_json()));
}

/* The connector's JSON with its secret URL (answered only now). */
static json_t *with_url(struct http_req *r, json_t *connector, const char *secret)
{
    char base[256], url[512];
    api_base_url(r, base, sizeof base);
    json_int_t id = json_integer_value(json_object_get(connector, "id"));
    snprintf(url, sizeof url, "%s/webhook/%lld/%s", base, (long long)id, secret);
    json_object_set_new(connector, "url", json_string(url));
    return connector;
}

static void finish_with_url(struct http_req *r, int status)
{
    struct api_req *a = api_req(r);
    json_t *c = json_deep_copy(a->w.result);
    if (strcmp(json_string_value(json_object_get(c, "type")), "rss"))
        with_url(r, c, a->token); /* a pulled connector has no URL */
    if (a->signing[0])
        json_object_set_new(c, "secret", json_string(a->signing));
    http_reply_json(r, status, c);
}

static void finish_signing_rotated(struct http_req *r)
{
    struct api_req *a = api_req(r);
    json_t *c = json_deep_copy(a->w.result);
    json_object_set_new(c, "secret", json_string(a->signing));
    http_reply_json(r, 200, c);
}

static void finish_created_with_url(struct http_req *r)
{
    finish_with_url(r, 201);
}

static void finish_rotated(struct http_req *r)
{
    finish_with_url(r, 200);
}

static void finish_ok(struct http_req *r)
{
    http_reply_json(r, 200, json_incref(api_req(r)->w.result));
}

/* The fields of a create or update: name, image, settings and secret (a "password" setting). */
static int read_fields(struct http_req *r, bool name_required, struct core_connector_fields *f)
{
    struct api_req *a = api_req(r);
    char msg[160];
    memset(f, 0, sizeof *f);
    int rc = json_get_string(r->json, "name", name_required, 1, CORE_NAME_MAX, true, &f->name, msg);
    if (rc)
        return http_fail(r, rc, "%s", msg);
    const char *image;
    rc = json_get_string(r->json, "image", false, 1, CORE_IMAGE_MAX * 2, true, &image, msg);
    if (rc)
        return http_fail(r, rc, "%s", msg);
    if (image && (rc = core_image_decode(image, &a->image, &f->image_len, &f->image_type, msg)))
        return http_fail(r, rc, "%s", msg);
    f->image = a->image;
    rc = json_get_string(r->json, "secret", false, 1, 256, true, &f->password, msg);
    if (rc)
        return http_fail(r, rc, "%s", msg);
    f->settings = json_object_get(r->json, "settings");
    if (f->settings && !json_is_object(f->settings))
        return http_fail(r, -ERR_INVALID_FIELD, "'settings' must be an object");
    return 0;
}

int api_connectors_list(struct http_req *r)
{
    int64_t channel;
    json_t *out;
    int rc = api_path_id(r, 0, &channel);
    if (rc || (rc = core_connectors(api_of(r)->core, &api_req(r)->user, channel, &out)))
        return rc;
    return http_reply_json(r, 200, json_pack("{s:o}", "connectors", out));
}

int api_connectors_create(struct http_req *r)
{
    struct api_req *a = api_req(r);
    int64_t channel;
    const char *type;
    char msg[160];
    struct core_connector_fields f;
    int rc = api_path_id(r, 0, &channel);
    if (rc)
        return rc;
    if ((rc = json_get_string(r->json, "type", false, 1, 64, true, &type, msg)))
        return http_fail(r, rc, "%s", msg);
    if ((rc = read_fields(r, true, &f)))
        return rc;
    rc = core_connector_create(api_of(r)->core, &a->user, channel, type ? type : "incoming_webhook",
                               &f, a->token, a->signing, &a->w, msg);
    if (rc == -ERR_INVALID_FIELD)
        return http_fail(r, rc, "%s", msg);
    if (rc)
        return rc;
    return api_commit(r, finish_created_with_url);
}

int api_connector_get(struct http_req *r)
{
    int64_t id;
    json_t *out;
    int rc = api_path_id(r, 0, &id);
    if (rc || (rc = core_connector_get(api_of(r)->core, &api_req(r)->user, id, &out)))
        return rc;
    return http_reply_json(r, 200, out);
}

int api_connector_update(struct http_req *r)
{
    struct api_req *a = api_req(r);
    int64_t id;
    char msg[160];
    struct core_connector_fields f;
    int rc = api_path_id(r, 0, &id);
    if (rc || (rc = read_fields(r, false, &f)))
        return rc;
    if (!f.name && !f.image && !f.settings && !f.password)
        return http_fail(r, -ERR_INVALID_FIELD, "give 'name', 'image', 'settings' or 'secret'");
    rc = core_connector_update(api_of(r)->core, &a->user, id, &f, &a->w, msg);
    if (rc == -ERR_INVALID_FIELD)
        return http_fail(r, rc, "%s", msg);
    if (rc)
        return rc;
    return api_commit(r, finish_ok);
}

int api_connector_delete(struct http_req *r)
{
    struct api_req *a = api_req(r);
    int64_t id;
    int rc = api_path_id(r, 0, &id);
    if (rc || (rc = core_connector_delete(api_of(r)->core, &a->user, id, &a->w)))
        return rc;
    return api_commit(r, api_finish_no_content);
}

int api_connector_rotate(struct http_req *r)
{
    struct api_req *a = api_req(r);
    int64_t id;
    int rc = api_path_id(r, 0, &id);
    if (rc || (rc = core_connector_rotate(api_of(r)->core, &a->user, id, a->token, &a->w)))
        return rc;
    return api_commit(r, finish_rotated);
}

int api_connector_rotate_secret(struct http_req *r)
{
    struct api_req *a = api_req(r);
    int64_t id;
    int rc = api_path_id(r, 0, &id);
    if (rc)
        return rc;
    rc = core_connector_rotate_signing(api_of(r)->core, &a->user, id, a->signing, &a->w);
    if (rc == -ERR_CONFLICT)
        return http_fail(r, rc, "this connector has no generated secret to rotate");
    if (rc)
        return rc;
    return api_commit(r, finish_signing_rotated);
}

static void finish_accepted(struct http_req *r)
{
    http_reply_json(r, 202, json_pack("{s:b}", "ok", 1));
}

int api_connector_check(struct http_req *r)
{
    struct api_req *a = api_req(r);
    int64_t id;
    int rc = api_path_id(r, 0, &id);
    if (rc)
        return rc;
    rc = core_feed_check_now(api_of(r)->core, &a->user, id, &a->w);
    if (rc == -ERR_CONFLICT)
        return http_fail(r, rc, "only a feed connector can be checked");
    if (rc)
        return rc;
    return api_commit(r, finish_accepted);
}

int api_connector_takeover(struct http_req *r)
{
    struct api_req *a = api_req(r);
    int64_t id;
    int rc = api_path_id(r, 0, &id);
    if (rc)
        return rc;
    rc = core_connector_takeover(api_of(r)->core, &a->user, id, &a->w);
    if (rc == -ERR_CONFLICT)
        return http_fail(r, rc, "only a suspended connector can be taken over");
    if (rc)
        return rc;
    return api_commit(r, finish_ok);
}

int api_connector_deliveries(struct http_req *r)
{
    int64_t id;
    json_t *out;
    int rc = api_path_id(r, 0, &id);
    if (rc || (rc = core_deliveries(api_of(r)->core, &api_req(r)->user, id, &out)))
        return rc;
    return http_reply_json(r, 200, json_pack("{s:o}", "deliveries", out));
}

int api_image_get(struct http_req *r)
{
    const char *hash = http_param(r, 0);
    if (strlen(hash) != 64 || strspn(hash, "0123456789abcdef") != 64)
        return -ERR_NOT_FOUND;
    void *bytes;
    size_t len;
    char type[32];
    if (core_image_get(api_of(r)->core, hash, &bytes, &len, type))
        return -ERR_NOT_FOUND;
    /* named by content: it never changes */
    http_add_header(r, "Cache-Control", "public, max-age=31536000, immutable");
    http_add_header(r, "Content-Security-Policy", "default-src 'none'; sandbox");
    http_reply_bytes(r, 200, type, bytes, len);
    free(bytes);
    return 0;
}
