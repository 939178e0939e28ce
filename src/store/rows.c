/* rows.c: the API's JSON objects (docs/api.md) built from result rows. The same builders serve
 * the reads and the events the writer records, so a live event and a later read agree. */
#include "store_int.h"

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

json_t *row_message(sqlite3_stmt *s)
{
    json_t *card = json_null();
    if (sqlite3_column_type(s, 6) != SQLITE_NULL) {
        json_t *parsed = json_loads(sql_text(s, 6), 0, NULL);
        if (parsed)
            card = parsed;
    }
    json_t *author = json_pack("{s:s, s:I, s:s}", "type", "user", "id",
                               (json_int_t)sqlite3_column_int64(s, 3), "username", sql_text(s, 4));
    return json_pack(
        "{s:I, s:I, s:I, s:o, s:s, s:o, s:o, s:o}", "id", (json_int_t)sqlite3_column_int64(s, 0),
        "channel_id", (json_int_t)sqlite3_column_int64(s, 1), "team_id",
        (json_int_t)sqlite3_column_int64(s, 2), "author", author, "text", sql_text(s, 5), "card",
        card, "thread", nullable_int(s, 7), "created", json_time(sqlite3_column_int64(s, 8)));
}
