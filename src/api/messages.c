/* messages.c: a channel's feed: cursor pages of messages, and posting one. */
#include "api_int.h"

#include <stdlib.h>
#include <string.h>

/* A query argument that must be an id (or 0 when zero_ok) when present; `absent` otherwise. */
static int query_id(struct http_req *r, const char *name, bool zero_ok, int64_t absent,
                    int64_t *out)
{
    const char *v = http_query(r, name);
    *out = absent;
    if (v && zero_ok && !strcmp(v, "0"))
        *out = 0;
    else if (v && !parse_id(v, out))
        return http_fail(r, -ERR_BAD_REQUEST, "'%s' must be a message id", name);
    return 0;
}

int api_messages_list(struct http_req *r)
{
    int64_t channel, before, after;
    int rc = api_path_id(r, 0, &channel);
    int64_t thread;
    if (rc || (rc = query_id(r, "before", false, 0, &before)) ||
        (rc = query_id(r, "after", true, -1, &after)) ||
        (rc = query_id(r, "thread", false, 0, &thread)))
        return rc;
    if (before && after >= 0)
        return http_fail(r, -ERR_BAD_REQUEST, "use either 'before' or 'after', not both");
    int limit = CORE_PAGE_DEFAULT;
    const char *l = http_query(r, "limit");
    if (l) {
        int64_t v;
        if (!parse_id(l, &v) && strcmp(l, "0"))
            return http_fail(r, -ERR_BAD_REQUEST, "'limit' must be a number");
        if (!strcmp(l, "0") || v > CORE_PAGE_MAX)
            return http_fail(r, -ERR_INVALID_FIELD, "'limit' must be 1 to %d", CORE_PAGE_MAX);
        limit = (int)v;
    }
    json_t *out;
    if ((rc = core_messages(api_of(r)->core, &api_req(r)->user, channel, thread, before, after,
                            limit, &out)))
        return rc;
    return http_reply_json(r, 200, out);
}

int api_messages_post(struct http_req *r)
{
    struct api_req *a = api_req(r);
    int64_t channel;
    const char *text;
    char msg[160];
    int rc = api_path_id(r, 0, &channel);
    if (rc)
        return rc;
    if ((rc = json_get_string(r->json, "text", true, 1, CORE_TEXT_MAX, false, &text, msg)))
        return http_fail(r, rc, "%s", msg);
    json_t *t = json_object_get(r->json, "thread");
    int64_t thread = 0;
    if (t && !json_is_null(t) && (!json_is_integer(t) || (thread = json_integer_value(t)) < 1))
        return http_fail(r, -ERR_INVALID_FIELD, "'thread' must be a message id");
    rc = core_message_post(api_of(r)->core, &a->user, channel, text, thread, &a->w);
    if (rc == -ERR_INVALID_FIELD)
        return http_fail(r, rc, "'thread' must be a message of this channel");
    if (rc)
        return rc;
    return api_commit(r, api_finish_created);
}
