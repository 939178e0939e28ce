/* ops.c: each write operation as it runs inside the writer's transaction. An operation checks
 * its own invariants here (membership, ownership, the last owner), so that what a reader checked
 * earlier cannot be raced. Events get their sequence numbers here, from the writer's counter,
 * so they are gapless and in commit order. Objects are read back through the row builders after
 * the insert, so an event's data is exactly what a later read returns. */
#include "store_int.h"

#include <string.h>

static int step_done(sqlite3_stmt *s)
{
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc == SQLITE_DONE)
        return 0;
    if ((rc & 0xff) == SQLITE_CONSTRAINT)
        return -ERR_CONFLICT;
    return -ERR_INTERNAL;
}

static json_t *read_back(struct store *st, enum sql_id id, int64_t a, int64_t b,
                         json_t *(*row)(sqlite3_stmt *))
{
    sqlite3_stmt *s = conn_stmt(&st->writer, id);
    sqlite3_bind_int64(s, 1, a);
    if (b)
        sqlite3_bind_int64(s, 2, b);
    json_t *j = sqlite3_step(s) == SQLITE_ROW ? row(s) : NULL;
    sqlite3_reset(s);
    BUG_ON(!j); /* the row was written by this transaction a moment ago */
    return j;
}

static enum store_role role_in_tx(struct store *st, int64_t team, int64_t user)
{
    sqlite3_stmt *s = conn_stmt(&st->writer, SQL_ROLE);
    sqlite3_bind_int64(s, 1, team);
    sqlite3_bind_int64(s, 2, user);
    enum store_role role = STORE_ROLE_NONE;
    if (sqlite3_step(s) == SQLITE_ROW)
        role = strcmp(sql_text(s, 0), "owner") ? STORE_ROLE_MEMBER : STORE_ROLE_OWNER;
    sqlite3_reset(s);
    return role;
}

/* Records an event with the next sequence number; takes ownership of data. */
static int add_event(struct store *st, struct store_write *w, const char *kind, int64_t team,
                     int64_t user, json_t *data, int64_t now)
{
    BUG_ON(w->n_events >= STORE_MAX_EVENTS);
    struct store_event *ev = &w->events[w->n_events];
    ev->seq = st->next_seq;
    ev->team_id = team;
    ev->user_id = user;
    ev->kind = kind;
    ev->data = json_dump_compact(data);
    json_decref(data);
    sqlite3_stmt *s = conn_stmt(&st->writer, SQL_EVENT_INSERT);
    sqlite3_bind_int64(s, 1, ev->seq);
    sqlite3_bind_int64(s, 2, team);
    if (user)
        sqlite3_bind_int64(s, 3, user);
    sqlite3_bind_text(s, 4, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, ev->data, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 6, now);
    int rc = step_done(s);
    if (rc) {
        free(ev->data);
        ev->data = NULL;
        return rc;
    }
    w->n_events++;
    st->next_seq++;
    return 0;
}

static int insert_id(struct store *st, sqlite3_stmt *s, int64_t *id)
{
    int rc = step_done(s);
    if (!rc)
        *id = sqlite3_last_insert_rowid(st->writer.db);
    return rc;
}

static int op_user_create(struct store *st, struct store_write *w, int64_t now)
{
    sqlite3_stmt *s = conn_stmt(&st->writer, SQL_USER_INSERT);
    sqlite3_bind_text(s, 1, w->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, w->secret, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 3, w->flag);
    sqlite3_bind_int64(s, 4, now);
    return insert_id(st, s, &w->id);
}

static int op_token_create(struct store *st, struct store_write *w, int64_t now)
{
    sqlite3_stmt *s = conn_stmt(&st->writer, SQL_TOKEN_INSERT);
    sqlite3_bind_int64(s, 1, w->user_id);
    sqlite3_bind_text(s, 2, w->secret, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, w->name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, now);
    return insert_id(st, s, &w->id);
}

static int op_session_create(struct store *st, struct store_write *w, int64_t now)
{
    sqlite3_stmt *s = conn_stmt(&st->writer, SQL_SESSION_INSERT);
    sqlite3_bind_int64(s, 1, w->user_id);
    sqlite3_bind_text(s, 2, w->secret, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, now);
    sqlite3_bind_int64(s, 4, w->expires);
    return insert_id(st, s, &w->id);
}

static int op_session_delete(struct store *st, struct store_write *w)
{
    sqlite3_stmt *s = conn_stmt(&st->writer, SQL_SESSION_DELETE);
    sqlite3_bind_text(s, 1, w->secret, -1, SQLITE_STATIC);
    return step_done(s);
}

static int channel_insert(struct store *st, struct store_write *w, int64_t team, const char *name,
                          int64_t now)
{
    int64_t id;
    sqlite3_stmt *s = conn_stmt(&st->writer, SQL_CHANNEL_INSERT);
    sqlite3_bind_int64(s, 1, team);
    sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, now);
    int rc = insert_id(st, s, &id);
    if (rc)
        return rc;
    json_t *channel = read_back(st, SQL_CHANNEL_GET, id, 0, row_channel);
    if (!w->result) {
        w->id = id;
        w->result = json_incref(channel);
    }
    return add_event(st, w, "channel.created", team, 0, channel, now);
}

static int op_team_create(struct store *st, struct store_write *w, int64_t now)
{
    int64_t team;
    sqlite3_stmt *s = conn_stmt(&st->writer, SQL_TEAM_INSERT);
    sqlite3_bind_text(s, 1, w->name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, now);
    sqlite3_bind_int64(s, 3, w->actor);
    int rc = insert_id(st, s, &team);
    if (rc)
        return rc;
    s = conn_stmt(&st->writer, SQL_MEMBER_INSERT);
    sqlite3_bind_int64(s, 1, team);
    sqlite3_bind_int64(s, 2, w->actor);
    sqlite3_bind_text(s, 3, "owner", -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, now);
    if ((rc = step_done(s)))
        return rc;
    w->id = team;
    w->result = read_back(st, SQL_TEAM_OF_USER, w->actor, team, row_team);
    rc = add_event(st, w, "team.created", team, w->actor, json_incref(w->result), now);
    if (rc)
        return rc;
    return channel_insert(st, w, team, "general", now); /* w->result stays the team */
}

static int op_member_add(struct store *st, struct store_write *w, int64_t now)
{
    if (role_in_tx(st, w->team_id, w->actor) != STORE_ROLE_OWNER)
        return -ERR_FORBIDDEN;
    sqlite3_stmt *s = conn_stmt(&st->writer, SQL_MEMBER_INSERT);
    sqlite3_bind_int64(s, 1, w->team_id);
    sqlite3_bind_int64(s, 2, w->user_id);
    sqlite3_bind_text(s, 3, w->role, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, now);
    int rc = step_done(s);
    if (rc)
        return rc; /* the primary key makes a second membership a conflict */
    w->result = read_back(st, SQL_MEMBER_GET, w->team_id, w->user_id, row_member);
    s = conn_stmt(&st->writer, SQL_TEAM_NAME);
    sqlite3_bind_int64(s, 1, w->team_id);
    json_t *team = NULL;
    if (sqlite3_step(s) == SQLITE_ROW)
        team = json_pack("{s:I, s:s}", "id", (json_int_t)w->team_id, "name", sql_text(s, 0));
    sqlite3_reset(s);
    BUG_ON(!team);
    json_t *data = json_pack("{s:I, s:o, s:O, s:O, s:O}", "team_id", (json_int_t)w->team_id, "team",
                             team, "user_id", json_object_get(w->result, "user_id"), "username",
                             json_object_get(w->result, "username"), "role",
                             json_object_get(w->result, "role"));
    return add_event(st, w, "member.added", w->team_id, w->user_id, data, now);
}

static int op_member_remove(struct store *st, struct store_write *w, int64_t now)
{
    if (w->actor != w->user_id && role_in_tx(st, w->team_id, w->actor) != STORE_ROLE_OWNER)
        return -ERR_FORBIDDEN;
    enum store_role role = role_in_tx(st, w->team_id, w->user_id);
    if (role == STORE_ROLE_NONE)
        return -ERR_NOT_FOUND;
    if (role == STORE_ROLE_OWNER) {
        int64_t owners = 0;
        sqlite3_stmt *s = conn_stmt(&st->writer, SQL_OWNER_COUNT);
        sqlite3_bind_int64(s, 1, w->team_id);
        if (sql_int64(s, &owners))
            return -ERR_INTERNAL;
        if (owners <= 1)
            return -ERR_LAST_OWNER;
    }
    json_t *member = read_back(st, SQL_MEMBER_GET, w->team_id, w->user_id, row_member);
    sqlite3_stmt *s = conn_stmt(&st->writer, SQL_MEMBER_DELETE);
    sqlite3_bind_int64(s, 1, w->team_id);
    sqlite3_bind_int64(s, 2, w->user_id);
    int rc = step_done(s);
    if (rc) {
        json_decref(member);
        return rc;
    }
    json_t *data =
        json_pack("{s:I, s:I, s:O}", "team_id", (json_int_t)w->team_id, "user_id",
                  (json_int_t)w->user_id, "username", json_object_get(member, "username"));
    json_decref(member);
    return add_event(st, w, "member.removed", w->team_id, w->user_id, data, now);
}

static int op_channel_create(struct store *st, struct store_write *w, int64_t now)
{
    if (role_in_tx(st, w->team_id, w->actor) != STORE_ROLE_OWNER)
        return -ERR_FORBIDDEN;
    return channel_insert(st, w, w->team_id, w->name, now);
}

static int op_message_create(struct store *st, struct store_write *w, int64_t now)
{
    int64_t team;
    sqlite3_stmt *s = conn_stmt(&st->writer, SQL_CHANNEL_TEAM);
    sqlite3_bind_int64(s, 1, w->channel_id);
    if (sql_int64(s, &team) || role_in_tx(st, team, w->actor) == STORE_ROLE_NONE)
        return -ERR_NOT_FOUND;
    w->id = st->next_seq; /* a message's id is the seq of its message.created event */
    s = conn_stmt(&st->writer, SQL_MESSAGE_INSERT);
    sqlite3_bind_int64(s, 1, w->id);
    sqlite3_bind_int64(s, 2, w->channel_id);
    sqlite3_bind_int64(s, 3, w->actor);
    sqlite3_bind_int64(s, 4, now);
    sqlite3_bind_text(s, 5, w->text, -1, SQLITE_STATIC);
    int rc = step_done(s);
    if (rc)
        return rc;
    w->result = read_back(st, SQL_MESSAGE_GET, w->id, 0, row_message);
    return add_event(st, w, "message.created", team, 0, json_incref(w->result), now);
}

int store_apply(struct store *st, struct store_write *w)
{
    int64_t now = time_now_ms();
    switch (w->op) {
    case STORE_USER_CREATE:
        return op_user_create(st, w, now);
    case STORE_TOKEN_CREATE:
        return op_token_create(st, w, now);
    case STORE_SESSION_CREATE:
        return op_session_create(st, w, now);
    case STORE_SESSION_DELETE:
        return op_session_delete(st, w);
    case STORE_TEAM_CREATE:
        return op_team_create(st, w, now);
    case STORE_MEMBER_ADD:
        return op_member_add(st, w, now);
    case STORE_MEMBER_REMOVE:
        return op_member_remove(st, w, now);
    case STORE_CHANNEL_CREATE:
        return op_channel_create(st, w, now);
    case STORE_MESSAGE_CREATE:
        return op_message_create(st, w, now);
    }
    return -ERR_INTERNAL;
}
