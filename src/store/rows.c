/* rows.c: the API's JSON objects (docs/api.md) built from result rows. The same builders serve
 * the reads and the events the writer records, so a live event and a later read agree. */
#include "store_int.h"

#include <stdio.h>
#include <string.h>

json_t *json_time(int64_t ms)
{
    char t[32];
    time_format_rfc3339(ms, t);
    return json_string(t);
}

json_t *row_team(sqlite3_stmt *s)
{
    return json_pack("{s:I, s:s, s:s, s:o}", "id", (json_int_t)sqlite3_column_int64(s, 0), "name",
                     sql_text(s, 1), "role", sql_text(s, 2), "created",
                     json_time(sqlite3_column_int64(s, 3)));
}

json_t *row_member(sqlite3_stmt *s)
{
    return json_pack("{s:I, s:s, s:s, s:o}", "user_id", (json_int_t)sqlite3_column_int64(s, 0),
                     "username", sql_text(s, 1), "role", sql_text(s, 2), "joined",
                     json_time(sqlite3_column_int64(s, 3)));
}

json_t *row_channel(sqlite3_stmt *s)
{
    return json_pack("{s:I, s:I, s:s, s:o}", "id", (json_int_t)sqlite3_column_int64(s, 0),
                     "team_id", (json_int_t)sqlite3_column_int64(s, 1), "name", sql_text(s, 2),
                     "created", json_time(sqlite3_column_int64(s, 3)));
}

static json_t *nullable_int(sqlite3_stmt *s, int col)
{
    return sqlite3_column_type(s, col) == SQLITE_NULL ? json_null()
                                                      : json_integer(sqlite3_column_int64(s, col));
}

static json_t *nullable_time(sqlite3_stmt *s, int col)
{
    return sqlite3_column_type(s, col) == SQLITE_NULL ? json_null()
                                                      : json_time(sqlite3_column_int64(s, col));
}

static json_t *nullable_text(sqlite3_stmt *s, int col)
{
    return sqlite3_column_type(s, col) == SQLITE_NULL ? json_null() : json_string(sql_text(s, col));
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
static json_t *message_author(sqlite3_stmt *s)
{
    if (sqlite3_column_type(s, 3) != SQLITE_NULL)
        return json_pack("{s:s, s:I, s:s}", "type", "user", "id",
                         (json_int_t)sqlite3_column_int64(s, 3), "username", sql_text(s, 4));
    if (sqlite3_column_type(s, 9) != SQLITE_NULL)
        return json_pack("{s:s, s:I, s:s, s:o}", "type", "connector", "id",
                         (json_int_t)sqlite3_column_int64(s, 9), "name", sql_text(s, 10), "image",
                         image_url((const char *)sqlite3_column_text(s, 11)));
    return json_pack("{s:s}", "type", "system");
}

json_t *row_message(sqlite3_stmt *s)
{
    json_t *card = json_null();
    if (sqlite3_column_type(s, 6) != SQLITE_NULL) {
        json_t *parsed = json_loads(sql_text(s, 6), 0, NULL);
        if (parsed)
            card = parsed;
    }
    return json_pack("{s:I, s:I, s:I, s:o, s:s, s:o, s:o, s:o, s:o, s:I}", "id",
                     (json_int_t)sqlite3_column_int64(s, 0), "channel_id",
                     (json_int_t)sqlite3_column_int64(s, 1), "team_id",
                     (json_int_t)sqlite3_column_int64(s, 2), "author", message_author(s), "text",
                     sql_text(s, 5), "card", card, "thread", nullable_int(s, 7), "created",
                     json_time(sqlite3_column_int64(s, 8)), "edited", nullable_time(s, 12),
                     "replies", (json_int_t)sqlite3_column_int64(s, 13));
}

json_t *row_connector(sqlite3_stmt *s)
{
    json_t *last = json_null();
    if (sqlite3_column_type(s, 11) != SQLITE_NULL)
        last = json_pack("{s:o, s:I}", "time", json_time(sqlite3_column_int64(s, 11)), "status",
                         (json_int_t)sqlite3_column_int64(s, 12));
    const char *reason = (const char *)sqlite3_column_text(s, 9);
    json_t *settings = json_loads(sql_text(s, 14), 0, NULL);
    json_t *feed = json_null();
    if (!strcmp(sql_text(s, 1), "rss"))
        feed = json_pack("{s:o, s:o, s:o}", "last_error", nullable_text(s, 16), "last_fetch",
                         nullable_time(s, 17), "next_fetch", nullable_time(s, 18));
    json_t *c = json_pack("{s:o, s:b, s:o}", "settings", settings ? settings : json_object(),
                          "has_secret", sqlite3_column_int(s, 15), "feed", feed);
    json_t *base =
        json_pack("{s:I, s:s, s:I, s:s, s:I, s:s, s:o, s:{s:I, s:s}, s:s, s:o, s:o, s:o}", "id",
                  (json_int_t)sqlite3_column_int64(s, 0), "type", sql_text(s, 1), "channel_id",
                  (json_int_t)sqlite3_column_int64(s, 2), "channel_name", sql_text(s, 13),
                  "team_id", (json_int_t)sqlite3_column_int64(s, 3), "name", sql_text(s, 4),
                  "image", image_url((const char *)sqlite3_column_text(s, 5)), "owner", "id",
                  (json_int_t)sqlite3_column_int64(s, 6), "username", sql_text(s, 7), "state",
                  sql_text(s, 8), "state_reason", reason ? json_string(reason) : json_null(),
                  "created", json_time(sqlite3_column_int64(s, 10)), "last_delivery", last);
    json_object_update(base, c);
    json_decref(c);
    return base;
}

json_t *row_delivery(sqlite3_stmt *s)
{
    /* rows from before the outcome was recorded: posted when a message came of it */
    const char *outcome = sqlite3_column_type(s, 8) != SQLITE_NULL   ? sql_text(s, 8)
                          : sqlite3_column_type(s, 6) != SQLITE_NULL ? "posted"
                                                                     : "refused";
    return json_pack("{s:I, s:o, s:o, s:I, s:o, s:I, s:o, s:o, s:s}", "id",
                     (json_int_t)sqlite3_column_int64(s, 0), "time",
                     json_time(sqlite3_column_int64(s, 1)), "dialect", nullable_text(s, 2),
                     "status", (json_int_t)sqlite3_column_int64(s, 3), "error", nullable_text(s, 4),
                     "size", (json_int_t)sqlite3_column_int64(s, 5), "message_id",
                     nullable_int(s, 6), "body", nullable_text(s, 7), "outcome", outcome);
}
