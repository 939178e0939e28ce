/* teams_test.c: who may see and do what with teams, members, channels and messages
 * (src/core/teams.c), on a real store: non-members get "not found", members get "forbidden" for
 * owner actions. */
#include "../testutil.h"

#include "core/core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fx {
    char *dir;
    struct store *st;
    struct core *core;
    struct store_user alice, bob, carol; /* owner, member, outsider */
    int64_t team, general;
};

static struct store_user user(struct store *st, const char *name)
{
    struct store_user u = {.id = tu_user(st, name)};
    snprintf(u.username, sizeof u.username, "%s", name);
    return u;
}

static int fx_setup(void **state)
{
    assert_int_equal(base_crypto_init(), 0);
    struct fx *f = calloc(1, sizeof *f);
    f->dir = tu_tmpdir_new();
    f->st = tu_store_open(f->dir);
    f->core = core_new(f->st);
    f->alice = user(f->st, "alice");
    f->bob = user(f->st, "bob");
    f->carol = user(f->st, "carol");
    struct store_write w;
    assert_int_equal(core_team_create(f->core, &f->alice, "Team", &w), 0);
    assert_int_equal(store_write_wait(f->st, &w), 0);
    f->team = w.id;
    store_write_release(&w);
    json_t *chs;
    assert_int_equal(core_channels(f->core, &f->alice, f->team, &chs), 0);
    f->general = json_integer_value(json_object_get(json_array_get(chs, 0), "id"));
    json_decref(chs);
    assert_int_equal(core_member_add(f->core, &f->alice, f->team, "bob", "member", &w), 0);
    tu_commit(f->st, &w, 0);
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *f = *state;
    core_free(f->core);
    store_close(f->st);
    tu_tmpdir_remove(f->dir);
    free(f);
    return 0;
}

static void outsider_gets_not_found(void **state)
{
    struct fx *f = *state;
    const struct store_user *c = &f->carol;
    json_t *out = NULL;
    struct store_write w;
    assert_int_equal(core_team_get(f->core, c, f->team, &out), -ERR_NOT_FOUND);
    assert_null(out);
    assert_int_equal(core_members(f->core, c, f->team, &out), -ERR_NOT_FOUND);
    assert_int_equal(core_channels(f->core, c, f->team, &out), -ERR_NOT_FOUND);
    assert_int_equal(core_channel_get(f->core, c, f->general, &out), -ERR_NOT_FOUND);
    assert_int_equal(core_messages(f->core, c, f->general, 0, 0, -1, 10, &out), -ERR_NOT_FOUND);
    assert_int_equal(core_message_post(f->core, c, f->general, "hi", 0, &w), -ERR_NOT_FOUND);
    assert_int_equal(core_channel_create(f->core, c, f->team, "x", &w), -ERR_NOT_FOUND);
    assert_int_equal(core_member_add(f->core, c, f->team, "carol", "member", &w), -ERR_NOT_FOUND);
    assert_int_equal(core_member_remove(f->core, c, f->team, "bob", &w), -ERR_NOT_FOUND);
    assert_int_equal(core_member_remove(f->core, c, f->team, "carol", &w), -ERR_NOT_FOUND);
    json_t *teams = core_teams(f->core, c);
    assert_int_equal(json_array_size(teams), 0);
    json_decref(teams);
    /* exactly like a team or channel that does not exist */
    assert_int_equal(core_team_get(f->core, &f->alice, f->team + 100, &out), -ERR_NOT_FOUND);
    assert_int_equal(core_channel_get(f->core, &f->alice, f->general + 100, &out), -ERR_NOT_FOUND);
    assert_int_equal(core_messages(f->core, &f->alice, f->general + 100, 0, 0, -1, 10, &out),
                     -ERR_NOT_FOUND);
}

static void member_reads_but_may_not_own(void **state)
{
    struct fx *f = *state;
    const struct store_user *b = &f->bob;
    json_t *out = NULL;
    struct store_write w;
    assert_int_equal(core_team_get(f->core, b, f->team, &out), 0);
    assert_string_equal(json_string_value(json_object_get(out, "role")), "member");
    json_decref(out);
    assert_int_equal(core_members(f->core, b, f->team, &out), 0);
    assert_int_equal(json_array_size(out), 2);
    json_decref(out);
    assert_int_equal(core_channel_get(f->core, b, f->general, &out), 0);
    assert_string_equal(json_string_value(json_object_get(out, "name")), "general");
    json_decref(out);

    assert_int_equal(core_member_add(f->core, b, f->team, "carol", "member", &w), -ERR_FORBIDDEN);
    assert_int_equal(core_channel_create(f->core, b, f->team, "x", &w), -ERR_FORBIDDEN);
    assert_int_equal(core_member_remove(f->core, b, f->team, "alice", &w), -ERR_FORBIDDEN);

    /* a member may post and read */
    assert_int_equal(core_message_post(f->core, b, f->general, "hello", 0, &w), 0);
    int64_t id = tu_commit(f->st, &w, 0);
    assert_int_equal(core_messages(f->core, b, f->general, 0, 0, -1, 10, &out), 0);
    json_t *msgs = json_object_get(out, "messages");
    assert_int_equal(json_array_size(msgs), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(msgs, 0), "id")), id);
    assert_true(json_is_false(json_object_get(out, "has_more")));
    json_decref(out);
}

static void owner_actions(void **state)
{
    struct fx *f = *state;
    const struct store_user *a = &f->alice;
    struct store_write w;
    assert_int_equal(core_member_add(f->core, a, f->team, "nobody", "member", &w),
                     -ERR_USER_NOT_FOUND);
    /* anything but "owner" is a plain member */
    assert_int_equal(core_member_add(f->core, a, f->team, "CAROL", "admin", &w), 0);
    assert_int_equal(w.user_id, f->carol.id);
    assert_string_equal(w.role, "member");
    tu_commit(f->st, &w, 0);
    assert_int_equal(store_member_role(f->st, f->team, f->carol.id), STORE_ROLE_MEMBER);
    assert_int_equal(core_member_add(f->core, a, f->team, "carol", "owner", &w), 0);
    tu_commit(f->st, &w, -ERR_CONFLICT); /* already in */

    assert_int_equal(core_channel_create(f->core, a, f->team, "random", &w), 0);
    tu_commit(f->st, &w, 0);
    json_t *chs;
    assert_int_equal(core_channels(f->core, &f->carol, f->team, &chs), 0);
    assert_int_equal(json_array_size(chs), 2);
    json_decref(chs);

    /* removing by id or by name; the owner removes others */
    char id[32];
    snprintf(id, sizeof id, "%lld", (long long)f->carol.id);
    assert_int_equal(core_member_remove(f->core, a, f->team, id, &w), 0);
    assert_int_equal(w.user_id, f->carol.id);
    tu_commit(f->st, &w, 0);
    assert_int_equal(core_member_remove(f->core, a, f->team, id, &w), -ERR_NOT_FOUND);
    assert_int_equal(core_member_remove(f->core, a, f->team, "nobody", &w), -ERR_NOT_FOUND);
    assert_int_equal(core_member_remove(f->core, a, f->team, "999999", &w), -ERR_NOT_FOUND);
    /* the last owner cannot leave (the store says so inside the transaction) */
    assert_int_equal(core_member_remove(f->core, a, f->team, "alice", &w), 0);
    tu_commit(f->st, &w, -ERR_LAST_OWNER);
}

static void member_may_leave(void **state)
{
    struct fx *f = *state;
    struct store_write w;
    assert_int_equal(core_member_remove(f->core, &f->bob, f->team, "Bob", &w), 0);
    assert_int_equal(w.actor, f->bob.id);
    assert_int_equal(w.user_id, f->bob.id);
    tu_commit(f->st, &w, 0);
    json_t *out;
    assert_int_equal(core_team_get(f->core, &f->bob, f->team, &out), -ERR_NOT_FOUND);
}

static void team_create_and_list(void **state)
{
    struct fx *f = *state;
    struct store_write w;
    assert_int_equal(core_team_create(f->core, &f->carol, "Carol's", &w), 0);
    assert_int_equal(w.op, STORE_TEAM_CREATE);
    assert_int_equal(w.actor, f->carol.id);
    int64_t t = tu_commit(f->st, &w, 0);
    json_t *teams = core_teams(f->core, &f->carol);
    assert_int_equal(json_array_size(teams), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(teams, 0), "id")), t);
    assert_string_equal(json_string_value(json_object_get(json_array_get(teams, 0), "role")),
                        "owner");
    json_decref(teams);
    json_t *out;
    assert_int_equal(core_team_get(f->core, &f->alice, t, &out), -ERR_NOT_FOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(outsider_gets_not_found, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(member_reads_but_may_not_own, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(owner_actions, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(member_may_leave, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(team_create_and_list, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
