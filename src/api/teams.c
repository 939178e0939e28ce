/* teams.c: /api/v1/teams, its members and its channels. */
#include "api_int.h"

#include <string.h>

static int name_field(struct http_req *r, const char **name)
{
    char msg[160];
    int rc = json_get_string(r->json, "name", true, 1, CORE_NAME_MAX, true, name, msg);
    return rc ? http_fail(r, rc, "%s", msg) : 0;
}

int api_teams_list(struct http_req *r)
{
    json_t *teams = core_teams(api_of(r)->core, &api_req(r)->user);
    return http_reply_json(r, 200, json_pack("{s:o}", "teams", teams));
}

int api_teams_create(struct http_req *r)
{
    struct api_req *a = api_req(r);
    const char *name;
    int rc = name_field(r, &name);
    if (rc || (rc = core_team_create(api_of(r)->core, &a->user, name, &a->w)))
        return rc;
    return api_commit(r, api_finish_created);
}

int api_team_get(struct http_req *r)
{
    int64_t team;
    json_t *out;
    int rc = api_path_id(r, 0, &team);
    if (rc || (rc = core_team_get(api_of(r)->core, &api_req(r)->user, team, &out)))
        return rc;
    return http_reply_json(r, 200, out);
}

int api_members_list(struct http_req *r)
{
    int64_t team;
    json_t *out;
    int rc = api_path_id(r, 0, &team);
    if (rc || (rc = core_members(api_of(r)->core, &api_req(r)->user, team, &out)))
        return rc;
    return http_reply_json(r, 200, json_pack("{s:o}", "members", out));
}

int api_members_add(struct http_req *r)
{
    struct api_req *a = api_req(r);
    int64_t team;
    const char *username, *role;
    char msg[160];
    int rc = api_path_id(r, 0, &team);
    if (rc)
        return rc;
    if ((rc = json_get_string(r->json, "username", true, 1, CORE_USERNAME_MAX, true, &username,
                              msg)) ||
        (rc = json_get_string(r->json, "role", false, 1, 16, true, &role, msg)))
        return http_fail(r, rc, "%s", msg);
    if (!role)
        role = "member";
    if (strcmp(role, "member") && strcmp(role, "owner"))
        return http_fail(r, -ERR_INVALID_FIELD, "'role' must be 'member' or 'owner'");
    if ((rc = core_member_add(api_of(r)->core, &a->user, team, username, role, &a->w)))
        return rc;
    return api_commit(r, api_finish_created);
}

int api_members_remove(struct http_req *r)
{
    struct api_req *a = api_req(r);
    int64_t team;
    int rc = api_path_id(r, 0, &team);
    if (rc || (rc = core_member_remove(api_of(r)->core, &a->user, team, http_param(r, 1), &a->w)))
        return rc;
    return api_commit(r, api_finish_no_content);
}

int api_channels_list(struct http_req *r)
{
    int64_t team;
    json_t *out;
    int rc = api_path_id(r, 0, &team);
    if (rc || (rc = core_channels(api_of(r)->core, &api_req(r)->user, team, &out)))
        return rc;
    return http_reply_json(r, 200, json_pack("{s:o}", "channels", out));
}

int api_channels_create(struct http_req *r)
{
    struct api_req *a = api_req(r);
    int64_t team;
    const char *name;
    int rc = api_path_id(r, 0, &team);
    if (rc || (rc = name_field(r, &name)) ||
        (rc = core_channel_create(api_of(r)->core, &a->user, team, name, &a->w)))
        return rc;
    return api_commit(r, api_finish_created);
}

int api_channel_get(struct http_req *r)
{
    int64_t channel;
    json_t *out;
    int rc = api_path_id(r, 0, &channel);
    if (rc || (rc = core_channel_get(api_of(r)->core, &api_req(r)->user, channel, &out)))
        return rc;
    return http_reply_json(r, 200, out);
}
