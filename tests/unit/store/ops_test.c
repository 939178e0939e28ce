/* ops_test.c: each write operation and the invariants it enforces inside the transaction
 * (src/store/ops.c), through the real store in a temporary directory. */
#include "../testutil.h"

#include <stdlib.h>
#include <string.h>

static void user_create_conflicts_case_insensitively(void **state)
{
    struct tu_store *f = *state;
    struct store_write w = {.op = STORE_USER_CREATE, .name = "Alice", .secret = "h1", .flag = true};
    int64_t id = tu_commit(f->st, &w, 0);
    assert_true(id > 0);
    struct store_write dup = {.op = STORE_USER_CREATE, .name = "alice", .secret = "h2"};
    tu_commit(f->st, &dup, -ERR_CONFLICT);
    struct store_write dup2 = {.op = STORE_USER_CREATE, .name = "ALICE", .secret = "h3"};
    tu_commit(f->st, &dup2, -ERR_CONFLICT);

    struct store_user u;
    char pw[128];
    assert_int_equal(store_user_by_name(f->st, "aLiCe", &u, pw), 0);
    assert_int_equal(u.id, id);
    assert_string_equal(u.username, "Alice");
    assert_true(u.is_admin);
    assert_string_equal(pw, "h1");
    assert_int_equal(store_user_by_name(f->st, "bob", &u, NULL), -ERR_USER_NOT_FOUND);
    assert_int_equal(store_user_by_id(f->st, id, &u), 0);
    assert_string_equal(u.username, "Alice");
    assert_int_equal(store_user_by_id(f->st, id + 100, &u), -ERR_USER_NOT_FOUND);

    int64_t bob = tu_user(f->st, "bob");
    assert_true(bob > id);
    assert_int_equal(store_user_by_name(f->st, "bob", &u, NULL), 0);
    assert_false(u.is_admin);
    /* user creation produces no events */
    assert_int_equal(store_last_seq(f->st), 0);
}

static void token_create_and_auth(void **state)
{
    struct tu_store *f = *state;
    int64_t alice = tu_user(f->st, "alice");
    struct store_write w = {
        .op = STORE_TOKEN_CREATE, .user_id = alice, .secret = "tokenhash1", .name = "ci"};
    assert_true(tu_commit(f->st, &w, 0) > 0);
    struct store_user u = {0};
    assert_int_equal(store_auth_token(f->st, "tokenhash1", &u), 0);
    assert_int_equal(u.id, alice);
    assert_string_equal(u.username, "alice");
    assert_int_equal(store_auth_token(f->st, "tokenhash2", &u), -ERR_UNAUTHORIZED);
    assert_int_equal(store_auth_token(f->st, "", &u), -ERR_UNAUTHORIZED);
    /* a session is not a token */
    assert_int_equal(store_auth_session(f->st, "tokenhash1", time_now_ms(), &u), -ERR_UNAUTHORIZED);
    struct store_write dup = {.op = STORE_TOKEN_CREATE, .user_id = alice, .secret = "tokenhash1"};
    tu_commit(f->st, &dup, -ERR_CONFLICT);
    /* a token for nobody violates the foreign key */
    struct store_write ghost = {.op = STORE_TOKEN_CREATE, .user_id = 999, .secret = "tokenhash3"};
    tu_commit(f->st, &ghost, -ERR_CONFLICT);
}

static void session_create_expire_delete(void **state)
{
    struct tu_store *f = *state;
    int64_t alice = tu_user(f->st, "alice");
    int64_t now = time_now_ms();
    struct store_write w = {
        .op = STORE_SESSION_CREATE, .user_id = alice, .secret = "s1", .expires = now + 60000};
    tu_commit(f->st, &w, 0);
    struct store_write old = {
        .op = STORE_SESSION_CREATE, .user_id = alice, .secret = "s2", .expires = now - 1};
    tu_commit(f->st, &old, 0);

    struct store_user u = {0};
    assert_int_equal(store_auth_session(f->st, "s1", now, &u), 0);
    assert_int_equal(u.id, alice);
    assert_int_equal(store_auth_session(f->st, "s1", now + 59999, &u), 0);
    assert_int_equal(store_auth_session(f->st, "s1", now + 60000, &u), -ERR_UNAUTHORIZED);
    assert_int_equal(store_auth_session(f->st, "s2", now, &u), -ERR_UNAUTHORIZED); /* expired */
    assert_int_equal(store_auth_session(f->st, "s3", now, &u), -ERR_UNAUTHORIZED);
    assert_int_equal(store_auth_token(f->st, "s1", &u), -ERR_UNAUTHORIZED);

    struct store_write del = {.op = STORE_SESSION_DELETE, .secret = "s1"};
    tu_commit(f->st, &del, 0);
    assert_int_equal(store_auth_session(f->st, "s1", now, &u), -ERR_UNAUTHORIZED);
}

static void team_create_makes_owner_and_general(void **state)
{
    struct tu_store *f = *state;
    int64_t alice = tu_user(f->st, "alice");
    int64_t before = store_last_seq(f->st);
    struct store_write w = {.op = STORE_TEAM_CREATE, .actor = alice, .name = "Core"};
    assert_int_equal(store_write_wait(f->st, &w), 0);
    int64_t team = w.id;
    assert_true(team > 0);
    assert_non_null(w.result);
    assert_int_equal(json_integer_value(json_object_get(w.result, "id")), team);
    assert_string_equal(json_string_value(json_object_get(w.result, "name")), "Core");
    assert_string_equal(json_string_value(json_object_get(w.result, "role")), "owner");

    assert_int_equal(w.n_events, 2);
    assert_string_equal(w.events[0].kind, "team.created");
    assert_string_equal(w.events[1].kind, "channel.created");
    assert_int_equal(w.events[0].seq, before + 1);
    assert_int_equal(w.events[1].seq, before + 2);
    assert_int_equal(w.events[0].team_id, team);
    assert_int_equal(w.events[1].team_id, team);
    json_t *ch = json_loads(w.events[1].data, 0, NULL);
    assert_non_null(ch);
    assert_string_equal(json_string_value(json_object_get(ch, "name")), "general");
    assert_int_equal(json_integer_value(json_object_get(ch, "team_id")), team);
    json_decref(ch);
    store_write_release(&w);
    assert_int_equal(store_last_seq(f->st), before + 2);

    assert_int_equal(store_member_role(f->st, team, alice), STORE_ROLE_OWNER);
    json_t *channels = store_channels(f->st, team);
    assert_int_equal(json_array_size(channels), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(channels, 0), "name")),
                        "general");
    json_decref(channels);
    json_t *members = store_members(f->st, team);
    assert_int_equal(json_array_size(members), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(members, 0), "role")),
                        "owner");
    json_decref(members);
    json_t *teams = store_teams_of_user(f->st, alice);
    assert_int_equal(json_array_size(teams), 1);
    json_decref(teams);
    json_t *t = store_team_get(f->st, team, alice);
    assert_non_null(t);
    json_decref(t);
}

static void member_add_rules(void **state)
{
    struct tu_store *f = *state;
    int64_t alice = tu_user(f->st, "alice"), bob = tu_user(f->st, "bob"),
            carol = tu_user(f->st, "carol"), dave = tu_user(f->st, "dave");
    int64_t team = tu_team(f->st, alice, "T", NULL);

    struct store_write w = {
        .op = STORE_MEMBER_ADD, .actor = alice, .team_id = team, .user_id = bob, .role = "member"};
    assert_int_equal(store_write_wait(f->st, &w), 0);
    assert_int_equal(w.n_events, 1);
    assert_string_equal(w.events[0].kind, "member.added");
    assert_int_equal(w.events[0].team_id, team);
    assert_int_equal(w.events[0].user_id, bob);
    json_t *data = json_loads(w.events[0].data, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(data, "username")), "bob");
    assert_string_equal(json_string_value(json_object_get(data, "role")), "member");
    assert_string_equal(json_string_value(json_object_get(json_object_get(data, "team"), "name")),
                        "T");
    json_decref(data);
    assert_string_equal(json_string_value(json_object_get(w.result, "username")), "bob");
    store_write_release(&w);
    assert_int_equal(store_member_role(f->st, team, bob), STORE_ROLE_MEMBER);

    /* a member is not an owner; a non-member even less */
    assert_int_equal(tu_member_add(f->st, bob, team, carol, "member"), -ERR_FORBIDDEN);
    assert_int_equal(tu_member_add(f->st, dave, team, carol, "member"), -ERR_FORBIDDEN);
    assert_int_equal(store_member_role(f->st, team, carol), STORE_ROLE_NONE);
    /* twice */
    assert_int_equal(tu_member_add(f->st, alice, team, bob, "member"), -ERR_CONFLICT);
    assert_int_equal(tu_member_add(f->st, alice, team, bob, "owner"), -ERR_CONFLICT);
    assert_int_equal(store_member_role(f->st, team, bob), STORE_ROLE_MEMBER);
    /* owners added by owners can add */
    assert_int_equal(tu_member_add(f->st, alice, team, carol, "owner"), 0);
    assert_int_equal(tu_member_add(f->st, carol, team, dave, "member"), 0);
    /* a team that does not exist: nobody owns it */
    assert_int_equal(tu_member_add(f->st, alice, team + 100, bob, "member"), -ERR_FORBIDDEN);
}

static int remove_member(struct store *st, int64_t actor, int64_t team, int64_t user)
{
    struct store_write w = {
        .op = STORE_MEMBER_REMOVE, .actor = actor, .team_id = team, .user_id = user};
    int rc = store_write_wait(st, &w);
    if (rc == 0) {
        assert_int_equal(w.n_events, 1);
        assert_string_equal(w.events[0].kind, "member.removed");
        assert_int_equal(w.events[0].user_id, user);
    } else {
        assert_int_equal(w.n_events, 0);
    }
    store_write_release(&w);
    return rc;
}

static void member_remove_rules(void **state)
{
    struct tu_store *f = *state;
    int64_t alice = tu_user(f->st, "alice"), bob = tu_user(f->st, "bob"),
            carol = tu_user(f->st, "carol"), dave = tu_user(f->st, "dave");
    int64_t team = tu_team(f->st, alice, "T", NULL);
    assert_int_equal(tu_member_add(f->st, alice, team, bob, "member"), 0);
    assert_int_equal(tu_member_add(f->st, alice, team, carol, "member"), 0);

    int64_t seq = store_last_seq(f->st);
    assert_int_equal(remove_member(f->st, alice, team, alice), -ERR_LAST_OWNER);
    assert_int_equal(remove_member(f->st, bob, team, carol), -ERR_FORBIDDEN);
    assert_int_equal(remove_member(f->st, bob, team, alice), -ERR_FORBIDDEN);
    assert_int_equal(remove_member(f->st, alice, team, dave), -ERR_NOT_FOUND);
    assert_int_equal(store_last_seq(f->st), seq); /* refused writes leave no events */

    assert_int_equal(remove_member(f->st, bob, team, bob), 0); /* leaving is allowed */
    assert_int_equal(store_member_role(f->st, team, bob), STORE_ROLE_NONE);
    assert_int_equal(remove_member(f->st, alice, team, carol), 0);
    assert_int_equal(store_member_role(f->st, team, carol), STORE_ROLE_NONE);

    /* with a second owner, the first may leave; then the second is the last */
    assert_int_equal(tu_member_add(f->st, alice, team, dave, "owner"), 0);
    assert_int_equal(remove_member(f->st, alice, team, alice), 0);
    assert_int_equal(remove_member(f->st, dave, team, dave), -ERR_LAST_OWNER);
    assert_int_equal(store_member_role(f->st, team, dave), STORE_ROLE_OWNER);
}

static int create_channel(struct store *st, int64_t actor, int64_t team, const char *name,
                          int64_t *id)
{
    struct store_write w = {
        .op = STORE_CHANNEL_CREATE, .actor = actor, .team_id = team, .name = name};
    int rc = store_write_wait(st, &w);
    if (rc == 0) {
        assert_int_equal(w.n_events, 1);
        assert_string_equal(w.events[0].kind, "channel.created");
        assert_string_equal(json_string_value(json_object_get(w.result, "name")), name);
        if (id)
            *id = w.id;
    }
    store_write_release(&w);
    return rc;
}

static void channel_create_rules(void **state)
{
    struct tu_store *f = *state;
    int64_t alice = tu_user(f->st, "alice"), bob = tu_user(f->st, "bob");
    int64_t t1 = tu_team(f->st, alice, "T1", NULL), t2 = tu_team(f->st, alice, "T2", NULL);
    assert_int_equal(tu_member_add(f->st, alice, t1, bob, "member"), 0);
    int64_t id = 0;
    assert_int_equal(create_channel(f->st, alice, t1, "Random", &id), 0);
    assert_true(id > 0);
    assert_int_equal(create_channel(f->st, alice, t1, "random", NULL), -ERR_CONFLICT);
    assert_int_equal(create_channel(f->st, alice, t1, "RANDOM", NULL), -ERR_CONFLICT);
    assert_int_equal(create_channel(f->st, alice, t1, "General", NULL), -ERR_CONFLICT);
    assert_int_equal(create_channel(f->st, alice, t2, "random", NULL), 0); /* other team */
    assert_int_equal(create_channel(f->st, bob, t1, "bobs", NULL), -ERR_FORBIDDEN);
    assert_int_equal(create_channel(f->st, bob, t2, "bobs", NULL), -ERR_FORBIDDEN);
    int64_t team = 0;
    assert_int_equal(store_channel_team(f->st, id, &team), 0);
    assert_int_equal(team, t1);
    assert_int_equal(store_channel_team(f->st, id + 1000, &team), -ERR_NOT_FOUND);
    json_t *chs = store_channels(f->st, t1);
    assert_int_equal(json_array_size(chs), 2);
    json_decref(chs);
}

static void message_create_rules(void **state)
{
    struct tu_store *f = *state;
    int64_t alice = tu_user(f->st, "alice"), bob = tu_user(f->st, "bob");
    int64_t general;
    int64_t team = tu_team(f->st, alice, "T", &general);

    struct store_write w = {
        .op = STORE_MESSAGE_CREATE, .actor = alice, .channel_id = general, .text = "hi **there**"};
    assert_int_equal(store_write_wait(f->st, &w), 0);
    assert_int_equal(w.n_events, 1);
    assert_string_equal(w.events[0].kind, "message.created");
    assert_int_equal(w.id, w.events[0].seq); /* a message's id is its event's seq */
    assert_int_equal(w.id, store_last_seq(f->st));
    assert_string_equal(json_string_value(json_object_get(w.result, "text")), "hi **there**");
    assert_int_equal(json_integer_value(json_object_get(w.result, "channel_id")), general);
    json_t *author = json_object_get(w.result, "author");
    assert_int_equal(json_integer_value(json_object_get(author, "id")), alice);
    assert_string_equal(json_string_value(json_object_get(author, "username")), "alice");
    assert_true(json_is_null(json_object_get(w.result, "card")));
    /* the event carries exactly the Message */
    json_t *ev = json_loads(w.events[0].data, 0, NULL);
    assert_true(json_equal(ev, w.result));
    json_decref(ev);
    store_write_release(&w);

    struct store_write nm = {
        .op = STORE_MESSAGE_CREATE, .actor = bob, .channel_id = general, .text = "x"};
    tu_commit(f->st, &nm, -ERR_NOT_FOUND);
    struct store_write nc = {
        .op = STORE_MESSAGE_CREATE, .actor = alice, .channel_id = general + 999, .text = "x"};
    tu_commit(f->st, &nc, -ERR_NOT_FOUND);
    /* after joining, bob may post; ids keep following the seqs */
    assert_int_equal(tu_member_add(f->st, alice, team, bob, "member"), 0);
    int64_t seq = store_last_seq(f->st);
    assert_int_equal(tu_message(f->st, bob, general, "hello"), seq + 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(user_create_conflicts_case_insensitively, tu_store_setup,
                                        tu_store_teardown),
        cmocka_unit_test_setup_teardown(token_create_and_auth, tu_store_setup, tu_store_teardown),
        cmocka_unit_test_setup_teardown(session_create_expire_delete, tu_store_setup,
                                        tu_store_teardown),
        cmocka_unit_test_setup_teardown(team_create_makes_owner_and_general, tu_store_setup,
                                        tu_store_teardown),
        cmocka_unit_test_setup_teardown(member_add_rules, tu_store_setup, tu_store_teardown),
        cmocka_unit_test_setup_teardown(member_remove_rules, tu_store_setup, tu_store_teardown),
        cmocka_unit_test_setup_teardown(channel_create_rules, tu_store_setup, tu_store_teardown),
        cmocka_unit_test_setup_teardown(message_create_rules, tu_store_setup, tu_store_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
