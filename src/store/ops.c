/* ops.c: each write operation as it runs inside the writer's transaction. An operation checks
 * its own invariants here (membership, ownership, the last owner), so that what a reader checked
 * earlier cannot be raced. Events get their sequence numbers here, from the writer's counter,
 * so they are gapless and in commit order. Objects are read back through the row builders after
 * the insert, so an event's data is exactly what a later read returns. */
#include "store_int.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int step_done(sqlite3_stmt *s)
{
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc == SQLITE_DONE)
        return 0;
    if ((rc & 0xff) == SQLITE_CONSTRAINT)
        return -ERR_CONFLICT;
    if ((rc & 0xff) == SQLITE_FULL || (rc & 0xff) == SQLITE_IOERR)
        return -ERR_STORAGE_FULL;
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

static int add_event_text(struct store *st, struct store_write *w, const char *kind, int64_t team,
                          int64_t user, char *text, int64_t now);

/* Records an event with the next sequence number; takes ownership of data. */
static int add_event(struct store *st, struct store_write *w, const char *kind, int64_t team,
                     int64_t user, json_t *data, int64_t now)
{
    char *text = json_dump_compact(data);
    json_decref(data);
    return add_event_text(st, w, kind, team, user, text, now);
}

/* The same with the data as JSON text (owned). */
static int add_event_text(struct store *st, struct store_write *w, const char *kind, int64_t team,
                          int64_t user, char *text, int64_t now)
{
    if (w->n_events == w->alloc_events) {
        w->alloc_events = w->alloc_events ? w->alloc_events * 2 : 2;
        w->events = xrealloc(w->events, w->alloc_events * sizeof *w->events);
    }
    struct store_event *ev = &w->events[w->n_events];
    ev->seq = st->next_seq;
    ev->team_id = team;
    ev->user_id = user;
    ev->kind = kind;
    ev->data = text;
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

static int suspend_connectors_of(struct store *st, struct store_write *w, int64_t team,
                                 int64_t user, const char *username, bool left, int64_t now);

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
    rc = add_event(st, w, "member.removed", w->team_id, w->user_id, data, now);
    if (!rc) /* its connectors stop with it, in the same transaction */
        rc = suspend_connectors_of(st, w, w->team_id, w->user_id,
                                   json_string_value(json_object_get(member, "username")),
                                   w->actor == w->user_id, now);
    json_decref(member);
    return rc;
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
    int64_t root = 0;
    if (w->thread) { /* a reply: in the same channel, under the root (a reply's root, too) */
        s = conn_stmt(&st->writer, SQL_MESSAGE_THREAD_OF);
        sqlite3_bind_int64(s, 1, w->thread);
        int found = sqlite3_step(s) == SQLITE_ROW;
        int64_t channel = found ? sqlite3_column_int64(s, 0) : 0;
        root = found ? sqlite3_column_int64(s, 1) : 0;
        sqlite3_reset(s);
        if (!found || channel != w->channel_id)
            return -ERR_INVALID_FIELD;
    }
    w->id = st->next_seq; /* a message's id is the seq of its message.created event */
    s = conn_stmt(&st->writer, SQL_MESSAGE_INSERT);
    sqlite3_bind_int64(s, 1, w->id);
    sqlite3_bind_int64(s, 2, w->channel_id);
    sqlite3_bind_int64(s, 3, w->actor);
    sqlite3_bind_int64(s, 4, now);
    sqlite3_bind_text(s, 5, w->text, -1, SQLITE_STATIC);
    if (root)
        sqlite3_bind_int64(s, 6, root);
    int rc = step_done(s);
    if (rc)
        return rc;
    w->result = read_back(st, SQL_MESSAGE_GET, w->id, 0, row_message);
    return add_event(st, w, "message.created", team, 0, json_incref(w->result), now);
}

/* ---- connectors ---- */

#define DELIVERIES_KEPT 200
#define IDEMPOTENCY_MS (24LL * 3600 * 1000)

/* The image's row id (stored once per content), or 0 when w has none. */
static int image_put(struct store *st, struct store_write *w, int64_t now, int64_t *id)
{
    *id = 0;
    if (!w->blob)
        return 0;
    char hash[65];
    bytes_hash(w->blob, w->blob_len, hash);
    sqlite3_stmt *s = conn_stmt(&st->writer, SQL_IMAGE_INSERT);
    sqlite3_bind_text(s, 1, hash, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 2, w->content_type, -1, SQLITE_STATIC);
    sqlite3_bind_blob(s, 3, w->blob, (int)w->blob_len, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, now);
    int rc = step_done(s);
    if (rc)
        return rc;
    s = conn_stmt(&st->writer, SQL_IMAGE_ID);
    sqlite3_bind_text(s, 1, hash, -1, SQLITE_TRANSIENT);
    return sql_int64(s, id) ? -ERR_INTERNAL : 0;
}

struct connector_row {
    char state[16];
    int64_t channel_id, team_id, owner_id;
    char name[128];
    char image_hash[65];
};

static int connector_row(struct store *st, int64_t id, struct connector_row *out)
{
    sqlite3_stmt *s = conn_stmt(&st->writer, SQL_CONNECTOR_STATE);
    sqlite3_bind_int64(s, 1, id);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        snprintf(out->state, sizeof out->state, "%s", sql_text(s, 0));
        out->channel_id = sqlite3_column_int64(s, 1);
        out->team_id = sqlite3_column_int64(s, 2);
        out->owner_id = sqlite3_column_int64(s, 3);
        snprintf(out->name, sizeof out->name, "%s", sql_text(s, 4));
        snprintf(out->image_hash, sizeof out->image_hash, "%s", sql_text(s, 5));
    }
    sqlite3_reset(s);
    if (rc != SQLITE_ROW)
        return -ERR_NOT_FOUND;
    return strcmp(out->state, "deleted") ? 0 : -ERR_GONE;
}

/* Records the connector's current JSON as the write's result and a connector.<what> event. */
static int connector_changed(struct store *st, struct store_write *w, int64_t id, int64_t team,
                             const char *kind, int64_t now)
{
    json_t *c = read_back(st, SQL_CONNECTOR_GET, id, 0, row_connector);
    json_decref(w->result);
    w->result = json_incref(c);
    return add_event(st, w, kind, team, 0, c, now);
}

/* A message from the system into a channel (notices about connectors). */
static int system_notice(struct store *st, struct store_write *w, int64_t channel, int64_t team,
                         const char *text, int64_t now)
{
    int64_t id = st->next_seq;
    sqlite3_stmt *s = conn_stmt(&st->writer, SQL_MESSAGE_INSERT_SYSTEM);
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, channel);
    sqlite3_bind_int64(s, 3, now);
    sqlite3_bind_text(s, 4, text, -1, SQLITE_TRANSIENT);
    int rc = step_done(s);
    if (rc)
        return rc;
    return add_event(st, w, "message.created", team, 0,
                     read_back(st, SQL_MESSAGE_GET, id, 0, row_message), now);
}

static int op_connector_create(struct store *st, struct store_write *w, int64_t now)
{
    int64_t team, image;
    sqlite3_stmt *s = conn_stmt(&st->writer, SQL_CHANNEL_TEAM);
    sqlite3_bind_int64(s, 1, w->channel_id);
    if (sql_int64(s, &team) || role_in_tx(st, team, w->actor) == STORE_ROLE_NONE)
        return -ERR_NOT_FOUND;
    int rc = image_put(st, w, now, &image);
    if (rc)
        return rc;
    s = conn_stmt(&st->writer, SQL_CONNECTOR_INSERT);
    sqlite3_bind_text(s, 1, w->kind, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, w->channel_id);
    sqlite3_bind_int64(s, 3, w->actor);
    sqlite3_bind_text(s, 4, w->name, -1, SQLITE_STATIC);
    if (image)
        sqlite3_bind_int64(s, 5, image);
    sqlite3_bind_text(s, 6, w->text ? w->text : "{}", -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 7, w->secret, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 8, now);
    if (w->sealed)
        sqlite3_bind_text(s, 9, w->sealed, -1, SQLITE_STATIC);
    if ((rc = insert_id(st, s, &w->id)))
        return rc;
    w->connector_id = w->id;
    return connector_changed(st, w, w->id, team, "connector.created", now);
}

/* The connector, checked writable by the actor: a member of its team. */
static int connector_for_change(struct store *st, struct store_write *w, struct connector_row *row)
{
    int rc = connector_row(st, w->connector_id, row);
    if (rc)
        return rc;
    if (role_in_tx(st, row->team_id, w->actor) == STORE_ROLE_NONE)
        return -ERR_NOT_FOUND;
    return 0;
}

/* Sets one text column of a connector (settings, sealed secret, URL secret hash). */
static int connector_set_text(struct store *st, enum sql_id id, int64_t connector, const char *text,
                              int64_t now)
{
    sqlite3_stmt *s = conn_stmt(&st->writer, id);
    sqlite3_bind_int64(s, 1, connector);
    sqlite3_bind_text(s, 2, text, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, now);
    return step_done(s);
}

static int op_connector_update(struct store *st, struct store_write *w, int64_t now)
{
    struct connector_row row;
    int rc = connector_for_change(st, w, &row);
    if (rc)
        return rc;
    if (w->name) {
        sqlite3_stmt *s = conn_stmt(&st->writer, SQL_CONNECTOR_RENAME);
        sqlite3_bind_int64(s, 1, w->connector_id);
        sqlite3_bind_text(s, 2, w->name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 3, now);
        if ((rc = step_done(s)))
            return rc;
    }
    if (w->blob) {
        int64_t image;
        if ((rc = image_put(st, w, now, &image)))
            return rc;
        sqlite3_stmt *s = conn_stmt(&st->writer, SQL_CONNECTOR_SET_IMAGE);
        sqlite3_bind_int64(s, 1, w->connector_id);
        sqlite3_bind_int64(s, 2, image);
        sqlite3_bind_int64(s, 3, now);
        if ((rc = step_done(s)))
            return rc;
    }
    if (w->text &&
        (rc = connector_set_text(st, SQL_CONNECTOR_SET_SETTINGS, w->connector_id, w->text, now)))
        return rc;
    if (w->sealed &&
        (rc = connector_set_text(st, SQL_CONNECTOR_SET_SEALED, w->connector_id, w->sealed, now)))
        return rc;
    return connector_changed(st, w, w->connector_id, row.team_id, "connector.updated", now);
}

static int op_connector_rotate(struct store *st, struct store_write *w, int64_t now)
{
    struct connector_row row;
    int rc = connector_for_change(st, w, &row);
    if (rc)
        return rc;
    if (w->secret)
        rc = connector_set_text(st, SQL_CONNECTOR_ROTATE, w->connector_id, w->secret, now);
    else
        rc = connector_set_text(st, SQL_CONNECTOR_SET_SEALED, w->connector_id, w->sealed, now);
    if (rc)
        return rc;
    return connector_changed(st, w, w->connector_id, row.team_id, "connector.updated", now);
}

static int op_connector_delete(struct store *st, struct store_write *w, int64_t now)
{
    struct connector_row row;
    int rc = connector_for_change(st, w, &row);
    if (rc)
        return rc;
    sqlite3_stmt *s = conn_stmt(&st->writer, SQL_CONNECTOR_DELETE);
    sqlite3_bind_int64(s, 1, w->connector_id);
    sqlite3_bind_text(s, 2, "deleted", -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, now);
    if ((rc = step_done(s)))
        return rc;
    json_t *data = json_pack("{s:I, s:I, s:I}", "id", (json_int_t)w->connector_id, "channel_id",
                             (json_int_t)row.channel_id, "team_id", (json_int_t)row.team_id);
    return add_event(st, w, "connector.deleted", row.team_id, 0, data, now);
}

static int op_connector_takeover(struct store *st, struct store_write *w, int64_t now)
{
    struct connector_row row;
    int rc = connector_for_change(st, w, &row);
    if (rc)
        return rc;
    if (strcmp(row.state, "suspended"))
        return -ERR_CONFLICT;
    sqlite3_stmt *s = conn_stmt(&st->writer, SQL_CONNECTOR_TAKEOVER);
    sqlite3_bind_int64(s, 1, w->connector_id);
    sqlite3_bind_int64(s, 2, w->actor);
    sqlite3_bind_int64(s, 3, now);
    if ((rc = step_done(s)))
        return rc;
    if ((rc = connector_changed(st, w, w->connector_id, row.team_id, "connector.updated", now)))
        return rc;
    char text[512];
    snprintf(text, sizeof text, "%s took over the connector **%s**; it is active again.",
             json_string_value(json_object_get(json_object_get(w->result, "owner"), "username")),
             json_string_value(json_object_get(w->result, "name")));
    return system_notice(st, w, row.channel_id, row.team_id, text, now);
}

/* Suspends every active connector `user` owns in `team` (the user is leaving it). */
static int suspend_connectors_of(struct store *st, struct store_write *w, int64_t team,
                                 int64_t user, const char *username, bool left, int64_t now)
{
    struct pending {
        int64_t id, channel;
        char name[128];
    } *list = NULL;
    size_t n = 0, alloc = 0;
    sqlite3_stmt *s = conn_stmt(&st->writer, SQL_CONNECTORS_OF_OWNER_IN_TEAM);
    sqlite3_bind_int64(s, 1, user);
    sqlite3_bind_int64(s, 2, team);
    while (sqlite3_step(s) == SQLITE_ROW) {
        if (n == alloc)
            list = xrealloc(list, (alloc = alloc ? alloc * 2 : 4) * sizeof *list);
        list[n].id = sqlite3_column_int64(s, 0);
        list[n].channel = sqlite3_column_int64(s, 1);
        snprintf(list[n].name, sizeof list[n].name, "%s", sql_text(s, 2));
        n++;
    }
    sqlite3_reset(s);
    char reason[256];
    snprintf(reason, sizeof reason,
             left ? "its owner %s left the team" : "its owner %s was removed from the team",
             username);
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        s = conn_stmt(&st->writer, SQL_CONNECTOR_SUSPEND);
        sqlite3_bind_int64(s, 1, list[i].id);
        sqlite3_bind_text(s, 2, reason, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 3, now);
        if ((rc = step_done(s)) ||
            (rc = connector_changed(st, w, list[i].id, team, "connector.updated", now)))
            break;
        char text[512];
        snprintf(text, sizeof text,
                 "The connector **%s** is suspended: %s. Another member can take it over or "
                 "remove it.",
                 list[i].name, reason);
        rc = system_notice(st, w, list[i].channel, team, text, now);
    }
    free(list);
    return rc;
}

static int delivery_insert(struct store *st, struct store_write *w, int64_t message, int64_t now)
{
    sqlite3_stmt *s = conn_stmt(&st->writer, SQL_DELIVERY_INSERT);
    sqlite3_bind_int64(s, 1, w->connector_id);
    sqlite3_bind_int64(s, 2, now);
    if (w->dialect)
        sqlite3_bind_text(s, 3, w->dialect, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 4, w->status);
    if (w->error)
        sqlite3_bind_text(s, 5, w->error, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 6, (sqlite3_int64)w->size);
    if (message)
        sqlite3_bind_int64(s, 7, message);
    if (w->body)
        sqlite3_bind_text(s, 8, w->body, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 9,
                      w->outcome ? w->outcome
                      : message  ? "posted"
                                 : "refused",
                      -1, SQLITE_STATIC);
    int rc = step_done(s);
    if (rc || sqlite3_last_insert_rowid(st->writer.db) % 32)
        return rc; /* prune now and then: up to 31 more than kept, the list shows 200 */
    s = conn_stmt(&st->writer, SQL_DELIVERY_PRUNE);
    sqlite3_bind_int64(s, 1, w->connector_id);
    sqlite3_bind_int(s, 2, DELIVERIES_KEPT);
    return step_done(s);
}

static int op_delivery_log(struct store *st, struct store_write *w, int64_t now)
{
    struct connector_row row;
    int rc = connector_row(st, w->connector_id, &row);
    if (rc == -ERR_NOT_FOUND)
        return rc;
    return delivery_insert(st, w, 0, now);
}

/* A replay of an earlier answer for the same Idempotency-Key, if there is one. */
static bool idempotent_replay(struct store *st, struct store_write *w, int64_t now)
{
    if (!w->key)
        return false;
    sqlite3_stmt *s = conn_stmt(&st->writer, SQL_IDEMPOTENCY_GET);
    sqlite3_bind_int64(s, 1, w->connector_id);
    sqlite3_bind_text(s, 2, w->key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, now - IDEMPOTENCY_MS);
    if (sqlite3_step(s) == SQLITE_ROW) {
        w->replayed = true;
        w->replay_status = sqlite3_column_int(s, 0);
        w->replay_body = xstrdup(sql_text(s, 1));
        w->id = sqlite3_column_int64(s, 2);
    }
    sqlite3_reset(s);
    return w->replayed;
}

/* A JSON string literal for s (s is valid UTF-8). Caller frees. */
static char *json_quote(const char *s)
{
    json_t *j = json_string(s);
    BUG_ON(!j);
    char *t = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);
    json_decref(j);
    return t;
}

/* The Message JSON (as row_message builds it) of a connector's new message, without a round
 * trip. */
static char *connector_message_json(struct store_write *w, const struct connector_row *row,
                                    int64_t root, int64_t now)
{
    char when[32], image[128] = "null", thread[24] = "null";
    time_format_rfc3339(now, when);
    if (row->image_hash[0])
        snprintf(image, sizeof image, "\"/api/v1/images/%s\"", row->image_hash);
    if (root)
        snprintf(thread, sizeof thread, "%lld", (long long)root);
    char *name = json_quote(row->name), *text = json_quote(w->text);
    struct buf b;
    buf_init(&b, SIZE_MAX / 2);
    buf_printf(&b,
               "{\"id\":%lld,\"channel_id\":%lld,\"team_id\":%lld,\"author\":{\"type\":"
               "\"connector\",\"id\":%lld,\"name\":%s,\"image\":%s},\"text\":",
               (long long)w->id, (long long)row->channel_id, (long long)row->team_id,
               (long long)w->connector_id, name, image);
    buf_append(&b, text, strlen(text)); /* the large parts are copied, not formatted */
    buf_append(&b, ",\"card\":", 8);
    buf_append(&b, w->card, strlen(w->card));
    buf_printf(&b, ",\"thread\":%s,\"created\":\"%s\",\"edited\":null,\"replies\":0}", thread,
               when);
    free(name);
    free(text);
    return b.data;
}

/* The root of the connector's thread for w->thread_key (0 when none yet or it was deleted). */
static int64_t thread_root(struct store *st, struct store_write *w)
{
    if (!w->thread_key || !*w->thread_key)
        return 0;
    sqlite3_stmt *s = conn_stmt(&st->writer, SQL_THREAD_ROOT_GET);
    sqlite3_bind_int64(s, 1, w->connector_id);
    sqlite3_bind_text(s, 2, w->thread_key, -1, SQLITE_STATIC);
    int64_t root = 0;
    if (sql_int64(s, &root))
        root = 0;
    return root;
}

/* Inserts a connector's message (w->text, w->card) as w->id: top-level, or a reply in the
 * thread of w->thread_key, replacing the root's card when w->update_root; records the events. */
static int connector_message(struct store *st, struct store_write *w,
                             const struct connector_row *row, int64_t now)
{
    int64_t root = thread_root(st, w);
    w->root_id = root;
    w->id = st->next_seq;
    sqlite3_stmt *s = conn_stmt(&st->writer, root ? SQL_MESSAGE_INSERT_CONNECTOR_REPLY
                                                  : SQL_MESSAGE_INSERT_CONNECTOR);
    sqlite3_bind_int64(s, 1, w->id);
    sqlite3_bind_int64(s, 2, row->channel_id);
    sqlite3_bind_int64(s, 3, w->connector_id);
    sqlite3_bind_int64(s, 4, now);
    sqlite3_bind_text(s, 5, w->text, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 6, w->card, -1, SQLITE_STATIC);
    if (root)
        sqlite3_bind_int64(s, 7, root);
    int rc = step_done(s);
    if (rc)
        return rc;
    /* the group mailbox: one queued mail per opted-in member, durable with the card */
    s = conn_stmt(&st->writer, SQL_MAIL_ENQUEUE);
    sqlite3_bind_int64(s, 1, row->team_id);
    sqlite3_bind_int64(s, 2, row->channel_id);
    sqlite3_bind_int64(s, 3, w->id);
    sqlite3_bind_int64(s, 4, w->connector_id);
    sqlite3_bind_int64(s, 5, now);
    sqlite3_bind_int64(s, 6, st->digest_unit_ms);
    if ((rc = step_done(s)))
        return rc;
    /* the event's JSON is written out directly: the card is JSON text already, and parsing it
     * back to dump it again would cost the one writer thread more than the insert */
    char *data = connector_message_json(w, row, root, now);
    if (w->flag)
        w->result = json_loads(data, 0, NULL);
    if ((rc = add_event_text(st, w, "message.created", row->team_id, 0, data, now)))
        return rc;
    if (!root && w->thread_key && *w->thread_key) {
        s = conn_stmt(&st->writer, SQL_THREAD_ROOT_PUT);
        sqlite3_bind_int64(s, 1, w->connector_id);
        sqlite3_bind_text(s, 2, w->thread_key, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 3, w->id);
        sqlite3_bind_int64(s, 4, now);
        return step_done(s);
    }
    if (root && w->update_root) {
        s = conn_stmt(&st->writer, SQL_MESSAGE_SET_CARD);
        sqlite3_bind_int64(s, 1, root);
        sqlite3_bind_text(s, 2, w->text, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, w->card, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 4, now);
        if ((rc = step_done(s)))
            return rc;
        return add_event(st, w, "message.updated", row->team_id, 0,
                         read_back(st, SQL_MESSAGE_GET, root, 0, row_message), now);
    }
    return 0;
}

static int op_webhook_post(struct store *st, struct store_write *w, int64_t now)
{
    if (idempotent_replay(st, w, now))
        return 0;
    struct connector_row row;
    int rc = connector_row(st, w->connector_id, &row);
    if (rc)
        return rc;
    if (strcmp(row.state, "active"))
        return -ERR_FORBIDDEN; /* suspended between the check and the commit */
    if ((rc = connector_message(st, w, &row, now)))
        return rc;
    if ((rc = delivery_insert(st, w, w->id, now)))
        return rc;
    if (w->key) {
        sqlite3_stmt *s = conn_stmt(&st->writer, SQL_IDEMPOTENCY_PUT);
        sqlite3_bind_int64(s, 1, w->connector_id);
        sqlite3_bind_text(s, 2, w->key, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 3, now);
        sqlite3_bind_int(s, 4, w->status);
        sqlite3_bind_text(s, 5, w->reply ? w->reply : "", -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 6, w->id);
        if ((rc = step_done(s)))
            return rc;
    }
    return 0;
}

/* ---- the group mailbox ---- */

static int op_mailbox_set(struct store *st, struct store_write *w)
{
    if (role_in_tx(st, w->team_id, w->actor) != STORE_ROLE_OWNER)
        return role_in_tx(st, w->team_id, w->actor) == STORE_ROLE_NONE ? -ERR_NOT_FOUND
                                                                       : -ERR_FORBIDDEN;
    sqlite3_stmt *s = conn_stmt(&st->writer, SQL_MAILBOX_PUT);
    sqlite3_bind_int64(s, 1, w->team_id);
    sqlite3_bind_int(s, 2, w->flag);
    sqlite3_bind_text(s, 3, w->text ? w->text : "[]", -1, SQLITE_STATIC);
    return step_done(s);
}

static int op_mailbox_mode(struct store *st, struct store_write *w)
{
    if (role_in_tx(st, w->team_id, w->actor) == STORE_ROLE_NONE)
        return -ERR_NOT_FOUND;
    if (strcmp(w->role, "off")) {
        sqlite3_stmt *s = conn_stmt(&st->writer, SQL_USER_EMAIL_GET);
        sqlite3_bind_int64(s, 1, w->actor);
        bool has = sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL;
        sqlite3_reset(s);
        if (!has)
            return -ERR_INVALID_FIELD;
    }
    sqlite3_stmt *s = conn_stmt(&st->writer, SQL_MAILBOX_MEMBER_PUT);
    sqlite3_bind_int64(s, 1, w->team_id);
    sqlite3_bind_int64(s, 2, w->actor);
    sqlite3_bind_text(s, 3, w->role, -1, SQLITE_STATIC);
    return step_done(s);
}

static int op_user_email(struct store *st, struct store_write *w)
{
    sqlite3_stmt *s = conn_stmt(&st->writer, SQL_USER_EMAIL_SET);
    sqlite3_bind_int64(s, 1, w->actor);
    if (w->text)
        sqlite3_bind_text(s, 2, w->text, -1, SQLITE_STATIC);
    return step_done(s);
}

static int op_mail_result(struct store *st, struct store_write *w, int64_t now)
{
    sqlite3_stmt *s;
    if (!w->status) {
        s = conn_stmt(&st->writer, SQL_MAIL_DONE);
        sqlite3_bind_int64(s, 1, w->id);
        sqlite3_bind_int64(s, 2, now);
    } else if (w->expires) {
        s = conn_stmt(&st->writer, SQL_MAIL_FAILED);
        sqlite3_bind_int64(s, 1, w->id);
        sqlite3_bind_int64(s, 2, w->expires);
        sqlite3_bind_text(s, 3, w->error ? w->error : "", -1, SQLITE_STATIC);
    } else {
        s = conn_stmt(&st->writer, SQL_MAIL_DROP);
        sqlite3_bind_int64(s, 1, w->id);
        sqlite3_bind_text(s, 2, w->error ? w->error : "", -1, SQLITE_STATIC);
    }
    return step_done(s);
}

/* ---- feeds ---- */

static int op_feed_state(struct store *st, struct store_write *w, int64_t now)
{
    sqlite3_stmt *s = conn_stmt(&st->writer, SQL_FEED_PUT);
    sqlite3_bind_text(s, 1, w->name, -1, SQLITE_STATIC);
    if (w->etag)
        sqlite3_bind_text(s, 2, w->etag, -1, SQLITE_STATIC);
    if (w->last_modified)
        sqlite3_bind_text(s, 3, w->last_modified, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, now);
    sqlite3_bind_int64(s, 5, w->expires);
    sqlite3_bind_int(s, 6, w->status);
    if (w->error)
        sqlite3_bind_text(s, 7, w->error, -1, SQLITE_STATIC);
    return step_done(s);
}

/* A feed item for one connector: remembered once; posted unless it was seen before (so a
 * restart, or a feed that re-orders its items, never posts one twice). */
static int op_feed_item(struct store *st, struct store_write *w, int64_t now)
{
    struct connector_row row;
    int rc = connector_row(st, w->connector_id, &row);
    if (rc)
        return rc;
    sqlite3_stmt *s = conn_stmt(&st->writer, SQL_FEED_ITEM_SEEN);
    sqlite3_bind_int64(s, 1, w->connector_id);
    sqlite3_bind_text(s, 2, w->key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, now);
    if ((rc = step_done(s)))
        return rc;
    if (!sqlite3_changes(st->writer.db)) {
        w->replayed = true;
        return 0;
    }
    if (w->flag || strcmp(row.state, "active"))
        return 0;
    if ((rc = connector_message(st, w, &row, now)))
        return rc;
    w->outcome = "posted";
    return delivery_insert(st, w, w->id, now);
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
    case STORE_CONNECTOR_CREATE:
        return op_connector_create(st, w, now);
    case STORE_CONNECTOR_UPDATE:
        return op_connector_update(st, w, now);
    case STORE_CONNECTOR_ROTATE:
        return op_connector_rotate(st, w, now);
    case STORE_CONNECTOR_DELETE:
        return op_connector_delete(st, w, now);
    case STORE_CONNECTOR_TAKEOVER:
        return op_connector_takeover(st, w, now);
    case STORE_WEBHOOK_POST:
        return op_webhook_post(st, w, now);
    case STORE_DELIVERY_LOG:
        return op_delivery_log(st, w, now);
    case STORE_MAILBOX_SET:
        return op_mailbox_set(st, w);
    case STORE_MAILBOX_MODE:
        return op_mailbox_mode(st, w);
    case STORE_USER_EMAIL:
        return op_user_email(st, w);
    case STORE_MAIL_RESULT:
        return op_mail_result(st, w, now);
    case STORE_FEED_STATE:
        return op_feed_state(st, w, now);
    case STORE_FEED_CHECK: {
        sqlite3_stmt *s = conn_stmt(&st->writer, SQL_FEED_DUE_NOW);
        sqlite3_bind_text(s, 1, w->name, -1, SQLITE_STATIC);
        return step_done(s);
    }
    case STORE_FEED_ITEM:
        return op_feed_item(st, w, now);
    }
    return -ERR_INTERNAL;
}
