/* rows.c: the API's JSON objects (docs/api.md) built from result rows. The same builders serve
 * the reads and the events the writer records, so a live event and a later read agree. */
#include "store_int.h"

#include <stdio.h>
#include <string.h>

const char *store_event_kind(const char *text)
{
    static const char *const kinds[] = {
        "team.created",      "channel.created",   "member.added",
        "member.removed",    "message.created",   "message.updated",
        "connector.created", "connector.updated", "connector.deleted"};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (!strcmp(kinds[i], text))
            return kinds[i];
    return "unknown";
}

json_t *json_time(int64_t ms)
{
    char t[32];
    time_format_rfc3339(ms, t);
    return json_string(t);
}

json_t *row_team(struct db_stmt *s)
{
    return json_pack("{s:I, s:s, s:s, s:o}", "id", (json_int_t)db_int64(s, 0), "name",
                     db_text(s, 1), "role", db_text(s, 2), "created", json_time(db_int64(s, 3)));
}

json_t *row_member(struct db_stmt *s)
{
    return json_pack("{s:I, s:s, s:s, s:o}", "user_id", (json_int_t)db_int64(s, 0), "username",
                     db_text(s, 1), "role", db_text(s, 2), "joined", json_time(db_int64(s, 3)));
}

json_t *row_channel(struct db_stmt *s)
{
    return json_pack("{s:I, s:I, s:s, s:o}", "id", (json_int_t)db_int64(s, 0), "team_id",
                     (json_int_t)db_int64(s, 1), "name", db_text(s, 2), "created",
                     json_time(db_int64(s, 3)));
}

static json_t *nullable_int(struct db_stmt *s, int col)
{
    return db_null(s, col) ? json_null() : json_integer(db_int64(s, col));
}

static json_t *nullable_time(struct db_stmt *s, int col)
{
    return db_null(s, col) ? json_null() : json_time(db_int64(s, col));
}

static json_t *nullable_text(struct db_stmt *s, int col)
{
    return db_null(s, col) ? json_null() : json_string(db_text(s, col));
}

json_t *image_url(const char *hash)
{
    if (!hash || !*hash)
        return json_null();
    char url[128];
    snprintf(url, sizeof url, "/api/v1/images/%s", hash);
    return json_string(url);
}

/* Who wrote a message: a user, a connector (with its current name and image), or the system. */
static json_t *message_author(struct db_stmt *s)
{
    if (!db_null(s, 3))
        return json_pack("{s:s, s:I, s:s}", "type", "user", "id", (json_int_t)db_int64(s, 3),
                         "username", db_text(s, 4));
    if (!db_null(s, 9))
        return json_pack("{s:s, s:I, s:s, s:o}", "type", "connector", "id",
                         (json_int_t)db_int64(s, 9), "name", db_text(s, 10), "image",
                         image_url(db_text_null(s, 11)));
    return json_pack("{s:s}", "type", "system");
}

json_t *row_message(struct db_stmt *s)
{
    json_t *card = json_null();
    if (!db_null(s, 6)) {
        json_t *parsed = json_loads(db_text(s, 6), 0, NULL);
        if (parsed)
            card = parsed;
    }
    return json_pack("{s:I, s:I, s:I, s:o, s:s, s:o, s:o, s:o, s:o, s:I}", "id",
                     (json_int_t)db_int64(s, 0), "channel_id", (json_int_t)db_int64(s, 1),
                     "team_id", (json_int_t)db_int64(s, 2), "author", message_author(s), "text",
                     db_text(s, 5), "card", card, "thread", nullable_int(s, 7), "created",
                     json_time(db_int64(s, 8)), "edited", nullable_time(s, 12), "replies",
                     (json_int_t)db_int64(s, 13));
}

json_t *row_connector(struct db_stmt *s)
{
    json_t *last = json_null();
    if (!db_null(s, 11))
        last = json_pack("{s:o, s:I}", "time", json_time(db_int64(s, 11)), "status",
                         (json_int_t)db_int64(s, 12));
    const char *reason = db_text_null(s, 9);
    json_t *settings = json_loads(db_text(s, 14), 0, NULL);
    json_t *feed = json_null();
    if (!strcmp(db_text(s, 1), "rss"))
        feed = json_pack("{s:o, s:o, s:o}", "last_error", nullable_text(s, 16), "last_fetch",
                         nullable_time(s, 17), "next_fetch", nullable_time(s, 18));
    json_t *c = json_pack("{s:o, s:b, s:o}", "settings", settings ? settings : json_object(),
                          "has_secret", (int)db_int64(s, 15), "feed", feed);
    json_t *base = json_pack(
        "{s:I, s:s, s:I, s:s, s:I, s:s, s:o, s:{s:I, s:s}, s:s, s:o, s:o, s:o}", "id",
        (json_int_t)db_int64(s, 0), "type", db_text(s, 1), "channel_id", (json_int_t)db_int64(s, 2),
        "channel_name", db_text(s, 13), "team_id", (json_int_t)db_int64(s, 3), "name",
        db_text(s, 4), "image", image_url(db_text_null(s, 5)), "owner", "id",
        (json_int_t)db_int64(s, 6), "username", db_text(s, 7), "state", db_text(s, 8),
        "state_reason", reason ? json_string(reason) : json_null(), "created",
        json_time(db_int64(s, 10)), "last_delivery", last);
    json_object_update(base, c);
    json_decref(c);
    return base;
}

json_t *row_delivery(struct db_stmt *s)
{
    /* rows from before the outcome was recorded: posted when a message came of it */
    const char *outcome = !db_null(s, 8) ? db_text(s, 8) : !db_null(s, 6) ? "posted" : "refused";
    return json_pack("{s:I, s:o, s:o, s:I, s:o, s:I, s:o, s:o, s:s}", "id",
                     (json_int_t)db_int64(s, 0), "time", json_time(db_int64(s, 1)), "dialect",
                     nullable_text(s, 2), "status", (json_int_t)db_int64(s, 3), "error",
                     nullable_text(s, 4), "size", (json_int_t)db_int64(s, 5), "message_id",
                     nullable_int(s, 6), "body", nullable_text(s, 7), "outcome", outcome);
}
