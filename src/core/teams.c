/* teams.c: teams, members, channels and messages: who may see and do what. A team or channel the
 * caller is not a member of is "not found", exactly like one that does not exist. */
#include "core_int.h"

#include <string.h>

static void write_init(struct store_write *w, enum store_op op, const struct store_user *who)
{
    memset(w, 0, sizeof *w);
    w->op = op;
    w->actor = who->id;
}

/* The caller's role in team; -ERR_NOT_FOUND for non-members. */
static int role_of(struct core *c, const struct store_user *who, int64_t team,
                   enum store_role *role)
{
    *role = store_member_role(c->store, team, who->id);
    return *role == STORE_ROLE_NONE ? -ERR_NOT_FOUND : 0;
}

static int require_owner(struct core *c, const struct store_user *who, int64_t team)
{
    enum store_role role;
    int rc = role_of(c, who, team, &role);
    if (rc)
        return rc;
    return role == STORE_ROLE_OWNER ? 0 : -ERR_FORBIDDEN;
}

int core_channel_team(struct core *c, const struct store_user *who, int64_t channel, int64_t *team)
{
    enum store_role role;
    if (store_channel_team(c->store, channel, team))
        return -ERR_NOT_FOUND;
    return role_of(c, who, *team, &role);
}

json_t *core_teams(struct core *c, const struct store_user *who)
{
    return store_teams_of_user(c->store, who->id);
}

int core_team_get(struct core *c, const struct store_user *who, int64_t team, json_t **out)
{
    *out = store_team_get(c->store, team, who->id);
    return *out ? 0 : -ERR_NOT_FOUND;
}

int core_team_create(struct core *c, const struct store_user *who, const char *name,
                     struct store_write *w)
{
    (void)c;
    write_init(w, STORE_TEAM_CREATE, who);
    w->name = name;
    return 0;
}

int core_members(struct core *c, const struct store_user *who, int64_t team, json_t **out)
{
    enum store_role role;
    int rc = role_of(c, who, team, &role);
    if (rc)
        return rc;
    *out = store_members(c->store, team);
    return 0;
}

int core_member_add(struct core *c, const struct store_user *who, int64_t team,
                    const char *username, const char *role, struct store_write *w)
{
    int rc = require_owner(c, who, team);
    if (rc)
        return rc;
    struct store_user target;
    if ((rc = store_user_by_name(c->store, username, &target, NULL)))
        return rc;
    write_init(w, STORE_MEMBER_ADD, who);
    w->team_id = team;
    w->user_id = target.id;
    w->role = strcmp(role, "owner") ? "member" : "owner";
    return 0;
}

int core_member_remove(struct core *c, const struct store_user *who, int64_t team, const char *user,
                       struct store_write *w)
{
    enum store_role my_role;
    int rc = role_of(c, who, team, &my_role);
    if (rc)
        return rc;
    struct store_user target;
    int64_t id;
    rc = parse_id(user, &id) ? store_user_by_id(c->store, id, &target)
                             : store_user_by_name(c->store, user, &target, NULL);
    if (rc || store_member_role(c->store, team, target.id) == STORE_ROLE_NONE)
        return -ERR_NOT_FOUND;
    if (target.id != who->id && my_role != STORE_ROLE_OWNER)
        return -ERR_FORBIDDEN;
    write_init(w, STORE_MEMBER_REMOVE, who);
    w->team_id = team;
    w->user_id = target.id;
    return 0;
}

int core_channels(struct core *c, const struct store_user *who, int64_t team, json_t **out)
{
    enum store_role role;
    int rc = role_of(c, who, team, &role);
    if (rc)
        return rc;
    *out = store_channels(c->store, team);
    return 0;
}

int core_channel_create(struct core *c, const struct store_user *who, int64_t team,
                        const char *name, struct store_write *w)
{
    int rc = require_owner(c, who, team);
    if (rc)
        return rc;
    write_init(w, STORE_CHANNEL_CREATE, who);
    w->team_id = team;
    w->name = name;
    return 0;
}

int core_channel_get(struct core *c, const struct store_user *who, int64_t channel, json_t **out)
{
    int64_t team;
    int rc = core_channel_team(c, who, channel, &team);
    if (rc)
        return rc;
    *out = store_channel_get(c->store, channel);
    return *out ? 0 : -ERR_NOT_FOUND;
}

int core_messages(struct core *c, const struct store_user *who, int64_t channel, int64_t thread,
                  int64_t before, int64_t after, int limit, json_t **out)
{
    int64_t team;
    int rc = core_channel_team(c, who, channel, &team);
    if (rc)
        return rc;
    bool has_more;
    json_t *list = store_messages(c->store, channel, thread, before, after, limit, &has_more);
    *out = json_pack("{s:o, s:b}", "messages", list, "has_more", has_more);
    return 0;
}

int core_message_post(struct core *c, const struct store_user *who, int64_t channel,
                      const char *text, int64_t thread, struct store_write *w)
{
    int64_t team;
    int rc = core_channel_team(c, who, channel, &team);
    if (rc)
        return rc;
    int64_t of;
    if (thread && (store_message_channel(c->store, thread, &of) || of != channel))
        return -ERR_INVALID_FIELD; /* the store checks again when it commits */
    write_init(w, STORE_MESSAGE_CREATE, who);
    w->channel_id = channel;
    w->text = text;
    w->thread = thread;
    return 0;
}
