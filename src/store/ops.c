/* ops.c: each write operation as it runs inside the writer's transaction. An operation checks
 * its own invariants here (membership, ownership, the last owner), so that what a reader checked
 * earlier cannot be raced. Events get their sequence numbers here, from the writer's counter,
 * so they are gapless and in commit order. Objects are read back through the row builders after
 * the insert, so an event's data is exactly what a later read returns. */
#include "store_int.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static json_t *read_back(struct store *st, enum sql_id id, int64_t a, int64_t b,
                         json_t *(*row)(struct db_stmt *))
{
    struct db_stmt *s = db_stmt(st->writer, id);
    db_bind_int64(s, 1, a);
    if (b)
        db_bind_int64(s, 2, b);
    int rc = db_step(s);
    json_t *j = rc == DB_ROW ? row(s) : NULL;
    db_reset(s);
    /* the row was written by this transaction a moment ago: only a lost connection fails here */
    if (!j)
        log_error("cannot read back a row just written (%d): %s", rc, db_errmsg(st->writer));
    return j;
}

static enum store_role role_in_tx(struct store *st, int64_t team, int64_t user)
{
    struct db_stmt *s = db_stmt(st->writer, SQL_ROLE);
    db_bind_int64(s, 1, team);
    db_bind_int64(s, 2, user);
    enum store_role role = STORE_ROLE_NONE;
    if (db_step(s) == DB_ROW)
        role = strcmp(db_text(s, 0), "owner") ? STORE_ROLE_MEMBER : STORE_ROLE_OWNER;
    db_reset(s);
    return role;
}

static int add_event_text(struct store *st, struct store_write *w, const char *kind, int64_t team,
                          int64_t user, char *text, int64_t now);

/* Records an event with the next sequence number; takes ownership of data (NULL: a read before
 * failed, and so does this). */
static int add_event(struct store *st, struct store_write *w, const char *kind, int64_t team,
                     int64_t user, json_t *data, int64_t now)
{
    if (!data)
        return -ERR_INTERNAL;
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
    struct db_stmt *s = db_stmt(st->writer, SQL_EVENT_INSERT);
    db_bind_int64(s, 1, ev->seq);
    db_bind_int64(s, 2, team);
    if (user)
        db_bind_int64(s, 3, user);
    db_bind_text(s, 4, kind);
    db_bind_text(s, 5, ev->data);
    db_bind_int64(s, 6, now);
    int rc = db_run(s);
    if (rc) {
        free(ev->data);
        ev->data = NULL;
        return rc;
    }
    w->n_events++;
    st->next_seq++;
    return 0;
}

/* Runs an INSERT ... RETURNING id. */
static int insert_id(struct db_stmt *s, int64_t *id)
{
    int rc = db_int64_of(s, id);
    return rc == -ERR_NOT_FOUND ? -ERR_INTERNAL : rc;
}

static int op_user_create(struct store *st, struct store_write *w, int64_t now)
{
    struct db_stmt *s = db_stmt(st->writer, SQL_USER_INSERT);
    db_bind_text(s, 1, w->name);
    db_bind_text(s, 2, w->secret);
    db_bind_int64(s, 3, w->flag);
    db_bind_int64(s, 4, now);
    return insert_id(s, &w->id);
}

static int op_token_create(struct store *st, struct store_write *w, int64_t now)
{
    struct db_stmt *s = db_stmt(st->writer, SQL_TOKEN_INSERT);
    db_bind_int64(s, 1, w->user_id);
    db_bind_text(s, 2, w->secret);
    db_bind_text(s, 3, w->name);
    db_bind_int64(s, 4, now);
    return insert_id(s, &w->id);
}

static int op_session_create(struct store *st, struct store_write *w, int64_t now)
{
    struct db_stmt *s = db_stmt(st->writer, SQL_SESSION_INSERT);
    db_bind_int64(s, 1, w->user_id);
    db_bind_text(s, 2, w->secret);
    db_bind_int64(s, 3, now);
    db_bind_int64(s, 4, w->expires);
    return insert_id(s, &w->id);
}

static int op_session_delete(struct store *st, struct store_write *w)
{
    struct db_stmt *s = db_stmt(st->writer, SQL_SESSION_DELETE);
    db_bind_text(s, 1, w->secret);
    return db_run(s);
}

static int channel_insert(struct store *st, struct store_write *w, int64_t team, const char *name,
                          int64_t now)
{
    int64_t id;
    struct db_stmt *s = db_stmt(st->writer, SQL_CHANNEL_INSERT);
    db_bind_int64(s, 1, team);
    db_bind_text(s, 2, name);
    db_bind_int64(s, 3, now);
    int rc = insert_id(s, &id);
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
    struct db_stmt *s = db_stmt(st->writer, SQL_TEAM_INSERT);
    db_bind_text(s, 1, w->name);
    db_bind_int64(s, 2, now);
    db_bind_int64(s, 3, w->actor);
    int rc = insert_id(s, &team);
    if (rc)
        return rc;
    s = db_stmt(st->writer, SQL_MEMBER_INSERT);
    db_bind_int64(s, 1, team);
    db_bind_int64(s, 2, w->actor);
    db_bind_text(s, 3, "owner");
    db_bind_int64(s, 4, now);
    if ((rc = db_run(s)))
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
    struct db_stmt *s = db_stmt(st->writer, SQL_MEMBER_INSERT);
    db_bind_int64(s, 1, w->team_id);
    db_bind_int64(s, 2, w->user_id);
    db_bind_text(s, 3, w->role);
    db_bind_int64(s, 4, now);
    int rc = db_run(s);
    if (rc)
        return rc; /* the primary key makes a second membership a conflict */
    w->result = read_back(st, SQL_MEMBER_GET, w->team_id, w->user_id, row_member);
    s = db_stmt(st->writer, SQL_TEAM_NAME);
    db_bind_int64(s, 1, w->team_id);
    json_t *team = NULL;
    if (db_step(s) == DB_ROW)
        team = json_pack("{s:I, s:s}", "id", (json_int_t)w->team_id, "name", db_text(s, 0));
    db_reset(s);
    if (!team) /* the team was checked in this transaction: only a lost connection gets here */
        return -ERR_INTERNAL;
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
        struct db_stmt *s = db_stmt(st->writer, SQL_OWNER_COUNT);
        db_bind_int64(s, 1, w->team_id);
        if (db_int64_of(s, &owners))
            return -ERR_INTERNAL;
        if (owners <= 1)
            return -ERR_LAST_OWNER;
    }
    json_t *member = read_back(st, SQL_MEMBER_GET, w->team_id, w->user_id, row_member);
    struct db_stmt *s = db_stmt(st->writer, SQL_MEMBER_DELETE);
    db_bind_int64(s, 1, w->team_id);
    db_bind_int64(s, 2, w->user_id);
    int rc = db_run(s);
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
    struct db_stmt *s = db_stmt(st->writer, SQL_CHANNEL_TEAM);
    db_bind_int64(s, 1, w->channel_id);
    if (db_int64_of(s, &team) || role_in_tx(st, team, w->actor) == STORE_ROLE_NONE)
        return -ERR_NOT_FOUND;
    int64_t root = 0;
    if (w->thread) { /* a reply: in the same channel, under the root (a reply's root, too) */
        s = db_stmt(st->writer, SQL_MESSAGE_THREAD_OF);
        db_bind_int64(s, 1, w->thread);
        int found = db_step(s) == DB_ROW;
        int64_t channel = found ? db_int64(s, 0) : 0;
        root = found ? db_int64(s, 1) : 0;
        db_reset(s);
        if (!found || channel != w->channel_id)
            return -ERR_INVALID_FIELD;
    }
    w->id = st->next_seq; /* a message's id is the seq of its message.created event */
    s = db_stmt(st->writer, SQL_MESSAGE_INSERT);
    db_bind_int64(s, 1, w->id);
    db_bind_int64(s, 2, w->channel_id);
    db_bind_int64(s, 3, w->actor);
    db_bind_int64(s, 4, now);
    db_bind_text(s, 5, w->text);
    if (root)
        db_bind_int64(s, 6, root);
    int rc = db_run(s);
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
    struct db_stmt *s = db_stmt(st->writer, SQL_IMAGE_INSERT);
    db_bind_text(s, 1, hash);
    db_bind_text(s, 2, w->content_type);
    db_bind_blob(s, 3, w->blob, w->blob_len);
    db_bind_int64(s, 4, now);
    int rc = db_run(s);
    if (rc)
        return rc;
    s = db_stmt(st->writer, SQL_IMAGE_ID);
    db_bind_text(s, 1, hash);
    return db_int64_of(s, id) ? -ERR_INTERNAL : 0;
}

struct connector_row {
    char state[16];
    int64_t channel_id, team_id, owner_id;
    char name[128];
    char image_hash[65];
};

static int connector_row(struct store *st, int64_t id, struct connector_row *out)
{
    struct db_stmt *s = db_stmt(st->writer, SQL_CONNECTOR_STATE);
    db_bind_int64(s, 1, id);
    int rc = db_step(s);
    if (rc == DB_ROW) {
        snprintf(out->state, sizeof out->state, "%s", db_text(s, 0));
        out->channel_id = db_int64(s, 1);
        out->team_id = db_int64(s, 2);
        out->owner_id = db_int64(s, 3);
        snprintf(out->name, sizeof out->name, "%s", db_text(s, 4));
        snprintf(out->image_hash, sizeof out->image_hash, "%s", db_text(s, 5));
    }
    db_reset(s);
    if (rc != DB_ROW)
        return rc < 0 ? rc : -ERR_NOT_FOUND;
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
    struct db_stmt *s = db_stmt(st->writer, SQL_MESSAGE_INSERT_SYSTEM);
    db_bind_int64(s, 1, id);
    db_bind_int64(s, 2, channel);
    db_bind_int64(s, 3, now);
    db_bind_text(s, 4, text);
    int rc = db_run(s);
    if (rc)
        return rc;
    return add_event(st, w, "message.created", team, 0,
                     read_back(st, SQL_MESSAGE_GET, id, 0, row_message), now);
}

static int op_connector_create(struct store *st, struct store_write *w, int64_t now)
{
    int64_t team, image;
    struct db_stmt *s = db_stmt(st->writer, SQL_CHANNEL_TEAM);
    db_bind_int64(s, 1, w->channel_id);
    if (db_int64_of(s, &team) || role_in_tx(st, team, w->actor) == STORE_ROLE_NONE)
        return -ERR_NOT_FOUND;
    int rc = image_put(st, w, now, &image);
    if (rc)
        return rc;
    s = db_stmt(st->writer, SQL_CONNECTOR_INSERT);
    db_bind_text(s, 1, w->kind);
    db_bind_int64(s, 2, w->channel_id);
    db_bind_int64(s, 3, w->actor);
    db_bind_text(s, 4, w->name);
    if (image)
        db_bind_int64(s, 5, image);
    db_bind_text(s, 6, w->text ? w->text : "{}");
    db_bind_text(s, 7, w->secret);
    db_bind_int64(s, 8, now);
    if (w->sealed)
        db_bind_text(s, 9, w->sealed);
    if ((rc = insert_id(s, &w->id)))
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
    struct db_stmt *s = db_stmt(st->writer, id);
    db_bind_int64(s, 1, connector);
    db_bind_text(s, 2, text);
    db_bind_int64(s, 3, now);
    return db_run(s);
}

static int op_connector_update(struct store *st, struct store_write *w, int64_t now)
{
    struct connector_row row;
    int rc = connector_for_change(st, w, &row);
    if (rc)
        return rc;
    if (w->name) {
        struct db_stmt *s = db_stmt(st->writer, SQL_CONNECTOR_RENAME);
        db_bind_int64(s, 1, w->connector_id);
        db_bind_text(s, 2, w->name);
        db_bind_int64(s, 3, now);
        if ((rc = db_run(s)))
            return rc;
    }
    if (w->blob) {
        int64_t image;
        if ((rc = image_put(st, w, now, &image)))
            return rc;
        struct db_stmt *s = db_stmt(st->writer, SQL_CONNECTOR_SET_IMAGE);
        db_bind_int64(s, 1, w->connector_id);
        db_bind_int64(s, 2, image);
        db_bind_int64(s, 3, now);
        if ((rc = db_run(s)))
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
    struct db_stmt *s = db_stmt(st->writer, SQL_CONNECTOR_DELETE);
    db_bind_int64(s, 1, w->connector_id);
    db_bind_text(s, 2, "deleted");
    db_bind_int64(s, 3, now);
    if ((rc = db_run(s)))
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
    struct db_stmt *s = db_stmt(st->writer, SQL_CONNECTOR_TAKEOVER);
    db_bind_int64(s, 1, w->connector_id);
    db_bind_int64(s, 2, w->actor);
    db_bind_int64(s, 3, now);
    if ((rc = db_run(s)))
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
    struct db_stmt *s = db_stmt(st->writer, SQL_CONNECTORS_OF_OWNER_IN_TEAM);
    db_bind_int64(s, 1, user);
    db_bind_int64(s, 2, team);
    while (db_step(s) == DB_ROW) {
        if (n == alloc)
            list = xrealloc(list, (alloc = alloc ? alloc * 2 : 4) * sizeof *list);
        list[n].id = db_int64(s, 0);
        list[n].channel = db_int64(s, 1);
        snprintf(list[n].name, sizeof list[n].name, "%s", db_text(s, 2));
        n++;
    }
    db_reset(s);
    char reason[256];
    snprintf(reason, sizeof reason,
             left ? "its owner %s left the team" : "its owner %s was removed from the team",
             username);
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        s = db_stmt(st->writer, SQL_CONNECTOR_SUSPEND);
        db_bind_int64(s, 1, list[i].id);
        db_bind_text(s, 2, reason);
        db_bind_int64(s, 3, now);
        if ((rc = db_run(s)) ||
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
    struct db_stmt *s = db_stmt(st->writer, SQL_DELIVERY_INSERT);
    db_bind_int64(s, 1, w->connector_id);
    db_bind_int64(s, 2, now);
    if (w->dialect)
        db_bind_text(s, 3, w->dialect);
    db_bind_int64(s, 4, w->status);
    if (w->error)
        db_bind_text(s, 5, w->error);
    db_bind_int64(s, 6, (int64_t)w->size);
    if (message)
        db_bind_int64(s, 7, message);
    if (w->body)
        db_bind_text(s, 8, w->body);
    db_bind_text(s, 9, w->outcome ? w->outcome : message ? "posted" : "refused");
    int64_t id;
    int rc = insert_id(s, &id);
    if (rc || id % 32)
        return rc; /* prune now and then: up to 31 more than kept, the list shows 200 */
    s = db_stmt(st->writer, SQL_DELIVERY_PRUNE);
    db_bind_int64(s, 1, w->connector_id);
    db_bind_int64(s, 2, DELIVERIES_KEPT);
    return db_run(s);
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
    struct db_stmt *s = db_stmt(st->writer, SQL_IDEMPOTENCY_GET);
    db_bind_int64(s, 1, w->connector_id);
    db_bind_text(s, 2, w->key);
    db_bind_int64(s, 3, now - IDEMPOTENCY_MS);
    if (db_step(s) == DB_ROW) {
        w->replayed = true;
        w->replay_status = (int)db_int64(s, 0);
        w->replay_body = xstrdup(db_text(s, 1));
        w->id = db_int64(s, 2);
    }
    db_reset(s);
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
    struct db_stmt *s = db_stmt(st->writer, SQL_THREAD_ROOT_GET);
    db_bind_int64(s, 1, w->connector_id);
    db_bind_text(s, 2, w->thread_key);
    int64_t root = 0;
    if (db_int64_of(s, &root))
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
    struct db_stmt *s = db_stmt(st->writer, root ? SQL_MESSAGE_INSERT_CONNECTOR_REPLY
                                                 : SQL_MESSAGE_INSERT_CONNECTOR);
    db_bind_int64(s, 1, w->id);
    db_bind_int64(s, 2, row->channel_id);
    db_bind_int64(s, 3, w->connector_id);
    db_bind_int64(s, 4, now);
    db_bind_text(s, 5, w->text);
    db_bind_text(s, 6, w->card);
    if (root)
        db_bind_int64(s, 7, root);
    int rc = db_run(s);
    if (rc)
        return rc;
    /* the group mailbox: one queued mail per opted-in member, durable with the card */
    s = db_stmt(st->writer, SQL_MAIL_ENQUEUE);
    db_bind_int64(s, 1, row->team_id);
    db_bind_int64(s, 2, row->channel_id);
    db_bind_int64(s, 3, w->id);
    db_bind_int64(s, 4, w->connector_id);
    db_bind_int64(s, 5, now);
    db_bind_int64(s, 6, st->digest_unit_ms);
    if ((rc = db_run(s)))
        return rc;
    /* the event's JSON is written out directly: the card is JSON text already, and parsing it
     * back to dump it again would cost the one writer thread more than the insert */
    char *data = connector_message_json(w, row, root, now);
    if (w->flag)
        w->result = json_loads(data, 0, NULL);
    if ((rc = add_event_text(st, w, "message.created", row->team_id, 0, data, now)))
        return rc;
    if (!root && w->thread_key && *w->thread_key) {
        s = db_stmt(st->writer, SQL_THREAD_ROOT_PUT);
        db_bind_int64(s, 1, w->connector_id);
        db_bind_text(s, 2, w->thread_key);
        db_bind_int64(s, 3, w->id);
        db_bind_int64(s, 4, now);
        return db_run(s);
    }
    if (root && w->update_root) {
        s = db_stmt(st->writer, SQL_MESSAGE_SET_CARD);
        db_bind_int64(s, 1, root);
        db_bind_text(s, 2, w->text);
        db_bind_text(s, 3, w->card);
        db_bind_int64(s, 4, now);
        if ((rc = db_run(s)))
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
        struct db_stmt *s = db_stmt(st->writer, SQL_IDEMPOTENCY_PUT);
        db_bind_int64(s, 1, w->connector_id);
        db_bind_text(s, 2, w->key);
        db_bind_int64(s, 3, now);
        db_bind_int64(s, 4, w->status);
        db_bind_text(s, 5, w->reply ? w->reply : "");
        db_bind_int64(s, 6, w->id);
        if ((rc = db_run(s)))
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
    struct db_stmt *s = db_stmt(st->writer, SQL_MAILBOX_PUT);
    db_bind_int64(s, 1, w->team_id);
    db_bind_int64(s, 2, w->flag);
    db_bind_text(s, 3, w->text ? w->text : "[]");
    return db_run(s);
}

static int op_mailbox_mode(struct store *st, struct store_write *w)
{
    if (role_in_tx(st, w->team_id, w->actor) == STORE_ROLE_NONE)
        return -ERR_NOT_FOUND;
    if (strcmp(w->role, "off")) {
        struct db_stmt *s = db_stmt(st->writer, SQL_USER_EMAIL_GET);
        db_bind_int64(s, 1, w->actor);
        bool has = db_step(s) == DB_ROW && !db_null(s, 0);
        db_reset(s);
        if (!has)
            return -ERR_INVALID_FIELD;
    }
    struct db_stmt *s = db_stmt(st->writer, SQL_MAILBOX_MEMBER_PUT);
    db_bind_int64(s, 1, w->team_id);
    db_bind_int64(s, 2, w->actor);
    db_bind_text(s, 3, w->role);
    return db_run(s);
}

static int op_user_email(struct store *st, struct store_write *w)
{
    struct db_stmt *s = db_stmt(st->writer, SQL_USER_EMAIL_SET);
    db_bind_int64(s, 1, w->actor);
    if (w->text)
        db_bind_text(s, 2, w->text);
    return db_run(s);
}

static int op_mail_result(struct store *st, struct store_write *w, int64_t now)
{
    struct db_stmt *s;
    if (!w->status) {
        s = db_stmt(st->writer, SQL_MAIL_DONE);
        db_bind_int64(s, 1, w->id);
        db_bind_int64(s, 2, now);
    } else if (w->expires) {
        s = db_stmt(st->writer, SQL_MAIL_FAILED);
        db_bind_int64(s, 1, w->id);
        db_bind_int64(s, 2, w->expires);
        db_bind_text(s, 3, w->error ? w->error : "");
    } else {
        s = db_stmt(st->writer, SQL_MAIL_DROP);
        db_bind_int64(s, 1, w->id);
        db_bind_text(s, 2, w->error ? w->error : "");
    }
    return db_run(s);
}

/* ---- feeds ---- */

static int op_feed_state(struct store *st, struct store_write *w, int64_t now)
{
    struct db_stmt *s = db_stmt(st->writer, SQL_FEED_PUT);
    db_bind_text(s, 1, w->name);
    if (w->etag)
        db_bind_text(s, 2, w->etag);
    if (w->last_modified)
        db_bind_text(s, 3, w->last_modified);
    db_bind_int64(s, 4, now);
    db_bind_int64(s, 5, w->expires);
    db_bind_int64(s, 6, w->status);
    if (w->error)
        db_bind_text(s, 7, w->error);
    return db_run(s);
}

/* A feed item for one connector: remembered once; posted unless it was seen before (so a
 * restart, or a feed that re-orders its items, never posts one twice). */
static int op_feed_item(struct store *st, struct store_write *w, int64_t now)
{
    struct connector_row row;
    int rc = connector_row(st, w->connector_id, &row);
    if (rc)
        return rc;
    struct db_stmt *s = db_stmt(st->writer, SQL_FEED_ITEM_SEEN);
    db_bind_int64(s, 1, w->connector_id);
    db_bind_text(s, 2, w->key);
    db_bind_int64(s, 3, now);
    if ((rc = db_step(s)) < 0)
        return rc;
    db_reset(s);
    if (rc == DB_DONE) { /* RETURNING gave nothing: seen before */
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
        struct db_stmt *s = db_stmt(st->writer, SQL_FEED_DUE_NOW);
        db_bind_text(s, 1, w->name);
        return db_run(s);
    }
    case STORE_FEED_ITEM:
        return op_feed_item(st, w, now);
    }
    return -ERR_INTERNAL;
}
