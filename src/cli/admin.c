/* admin.c: `switchboard admin --data DIR <action>`: scripted setup straight into the data
 * directory (works while the server runs: SQLite WAL lets both write), and moving the database
 * to another backend (export, import). Actions are a table. */
#include "cli.h"

#include "../core/core.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct admin_ctx {
    struct store *store; /* NULL for the actions that open the database themselves */
    struct core *core;
    const struct store_options *options;
    const char *data;
};

static int read_password_stdin(char *out, size_t len)
{
    size_t n = fread(out, 1, len - 1, stdin);
    out[n] = '\0';
    if (!feof(stdin) && n == len - 1) {
        fprintf(stderr, "switchboard admin: password longer than %zu bytes\n", len - 2);
        return -1;
    }
    while (n && (out[n - 1] == '\n' || out[n - 1] == '\r'))
        out[--n] = '\0';
    if (!n) {
        fprintf(stderr, "switchboard admin: empty password on stdin\n");
        return -1;
    }
    return 0;
}

static int create_user(struct admin_ctx *c, const char *name, const char *password, bool admin)
{
    struct store_write w;
    int rc = core_user_create(c->core, name, password, admin, &w);
    if (rc == -ERR_INVALID_FIELD) {
        fprintf(stderr, "switchboard admin: invalid user name '%s' (1-%d of A-Z a-z 0-9 . _ -)\n",
                name, CORE_USERNAME_MAX);
        return 1;
    }
    if (!rc)
        rc = store_write_wait(c->store, &w);
    int64_t id = w.id;
    store_write_release(&w);
    if (rc == -ERR_CONFLICT) {
        fprintf(stderr, "switchboard admin: user '%s' already exists\n", name);
        return 1;
    }
    if (rc) {
        fprintf(stderr, "switchboard admin: cannot create user '%s': %s\n", name, err_message(rc));
        return 1;
    }
    printf("created user %s (id %lld%s)\n", name, (long long)id, admin ? ", admin" : "");
    return 0;
}

static int act_create_user(struct admin_ctx *c, int argc, char **argv)
{
    const char *name = NULL;
    bool admin = false, from_stdin = false;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--admin"))
            admin = true;
        else if (!strcmp(argv[i], "--password-stdin"))
            from_stdin = true;
        else if (!name && argv[i][0] != '-')
            name = argv[i];
        else {
            fprintf(stderr, "switchboard admin create-user: unexpected '%s'\n", argv[i]);
            return 2;
        }
    }
    if (!name || !from_stdin) {
        fprintf(stderr, "usage: switchboard admin --data DIR create-user NAME [--admin] "
                        "--password-stdin\n");
        return 2;
    }
    char password[CORE_PASSWORD_MAX + 2];
    if (read_password_stdin(password, sizeof password))
        return 1;
    return create_user(c, name, password, admin);
}

static int create_token(struct admin_ctx *c, const char *name, const char *label, char token[64])
{
    struct store_user u;
    if (store_user_by_name(c->store, name, &u, NULL)) {
        fprintf(stderr, "switchboard admin: no user '%s'\n", name);
        return 1;
    }
    struct store_write w;
    core_token_create(c->core, u.id, label, token, &w);
    int rc = store_write_wait(c->store, &w);
    store_write_release(&w);
    if (rc) {
        fprintf(stderr, "switchboard admin: cannot create a token: %s\n", err_message(rc));
        return 1;
    }
    return 0;
}

static int act_create_token(struct admin_ctx *c, int argc, char **argv)
{
    if (argc != 1) {
        fprintf(stderr, "usage: switchboard admin --data DIR create-token NAME\n");
        return 2;
    }
    char token[64];
    int rc = create_token(c, argv[0], "admin create-token", token);
    if (!rc)
        printf("%s\n", token);
    return rc;
}

/* The demo webhook's image: a blue dot, 16x16 PNG. */
static const unsigned char demo_png[] = {
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x10, 0x08, 0x02, 0x00, 0x00, 0x00, 0x90, 0x91, 0x68,
    0x36, 0x00, 0x00, 0x00, 0x33, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0xf8, 0x4f, 0x22, 0x60,
    0x40, 0xe1, 0x94, 0x5d, 0xc7, 0x8a, 0xb0, 0x6b, 0xc0, 0xa5, 0x1a, 0x4d, 0x0f, 0x03, 0x31, 0xaa,
    0x91, 0xf5, 0x30, 0x10, 0xa9, 0x1a, 0xae, 0x67, 0x54, 0x03, 0xcd, 0x34, 0x90, 0x1c, 0x71, 0xe4,
    0x24, 0x0d, 0x72, 0x12, 0x1f, 0x91, 0x00, 0x00, 0x93, 0x26, 0xda, 0xd0, 0x83, 0x05, 0xe2, 0x43,
    0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82};

/* The demo channel ("general" of the demo user's first team): its id, or 0. */
static int64_t demo_channel(struct admin_ctx *c, const struct store_user *u)
{
    json_t *teams = core_teams(c->core, u), *channels = NULL;
    int64_t team = json_integer_value(json_object_get(json_array_get(teams, 0), "id"));
    json_decref(teams);
    if (!team || core_channels(c->core, u, team, &channels))
        return 0;
    int64_t channel = 0;
    size_t i;
    json_t *ch;
    json_array_foreach(channels, i, ch)
    {
        if (!strcmp(json_string_value(json_object_get(ch, "name")), "general"))
            channel = json_integer_value(json_object_get(ch, "id"));
    }
    json_decref(channels);
    return channel;
}

static int demo_setup(struct admin_ctx *c, const char *user, const char *password,
                      struct store_user *u)
{
    if (create_user(c, user, password, true))
        return -1;
    store_user_by_name(c->store, user, u, NULL);
    struct store_write w;
    core_team_create(c->core, u, "Demo team", &w);
    int rc = store_write_wait(c->store, &w);
    store_write_release(&w);
    int64_t channel = rc ? 0 : demo_channel(c, u);
    if (!rc && !(rc = core_message_post(c->core, u, channel,
                                        "Welcome to **Switchboard**! Cards posted to the demo "
                                        "webhook arrive here.",
                                        0, &w))) {
        rc = store_write_wait(c->store, &w);
        store_write_release(&w);
    }
    return rc;
}

/* The demo channel's Incoming Webhook, created or (on a later run) given a new secret, since a
 * secret is only ever shown once. Prints its URL and a curl command. */
static int demo_webhook(struct admin_ctx *c, const struct store_user *u, const char *base)
{
    static const char name[] = "Demo webhook";
    int64_t channel = demo_channel(c, u), id = 0;
    json_t *list = NULL;
    if (!channel || core_connectors(c->core, u, channel, &list))
        return -ERR_NOT_FOUND;
    size_t i;
    json_t *k;
    json_array_foreach(list, i, k)
    {
        if (!strcmp(json_string_value(json_object_get(k, "name")), name) &&
            !strcmp(json_string_value(json_object_get(k, "state")), "active"))
            id = json_integer_value(json_object_get(k, "id"));
    }
    json_decref(list);
    char secret[64], signing[64], msg[160];
    struct store_write w;
    struct core_connector_fields f = {
        .name = name, .image = demo_png, .image_len = sizeof demo_png, .image_type = "image/png"};
    int rc = id ? core_connector_rotate(c->core, u, id, secret, &w)
                : core_connector_create(c->core, u, channel, "incoming_webhook", &f, secret,
                                        signing, &w, msg);
    if (!rc)
        rc = store_write_wait(c->store, &w);
    if (!id)
        id = w.id;
    store_write_release(&w);
    if (rc)
        return rc;
    printf("demo webhook: %s/webhook/%lld/%s\n"
           "post a card to it:\n"
           "  curl -H 'Content-Type: application/json' -d '{\"@type\":\"MessageCard\","
           "\"summary\":\"Deploy finished\",\"title\":\"Deploy finished\",\"themeColor\":"
           "\"2EB67D\",\"text\":\"**api** v1.4.2 is live\",\"sections\":[{\"facts\":[{\"name\":"
           "\"Environment\",\"value\":\"production\"}]}]}' %s/webhook/%lld/%s\n",
           base, (long long)id, secret, base, (long long)id, secret);
    return 0;
}

/* A demo user with a team, a channel, a first message and an Incoming Webhook, so a newcomer has
 * something to see. Idempotent: once the demo user exists it only prints how to sign in (with a
 * new API token) and a fresh webhook URL. */
static int act_demo(struct admin_ctx *c, int argc, char **argv)
{
    const char *base = "http://127.0.0.1:8080";
    if (argc == 2 && !strcmp(argv[0], "--url")) {
        base = argv[1];
    } else if (argc) {
        fprintf(stderr, "usage: switchboard admin --data DIR demo [--url BASE]\n");
        return 2;
    }
    static const char user[] = "demo", password[] = "switchboard-demo";
    struct store_user u;
    if (store_user_by_name(c->store, user, &u, NULL) && demo_setup(c, user, password, &u)) {
        fprintf(stderr, "switchboard admin: cannot set up the demo\n");
        return 1;
    }
    char token[64];
    if (create_token(c, user, "demo", token))
        return 1;
    printf("demo login: user '%s', password '%s'\ndemo API token: %s\n", user, password, token);
    if (demo_webhook(c, &u, base)) {
        fprintf(stderr, "switchboard admin: cannot set up the demo webhook\n");
        return 1;
    }
    return 0;
}

/* Opening the store applied what was missing; a newer schema was refused there. */
static int act_migrate(struct admin_ctx *c, int argc, char **argv)
{
    (void)c;
    if (argc) {
        fprintf(stderr, "usage: switchboard admin migrate\n");
        return 2;
    }
    printf("database schema at version %d\n", store_schema_version());
    return 0;
}

/* The file of the key that seals the connectors' signing secrets, as `serve` finds it. */
static void secret_key_path(const struct admin_ctx *c, char *out, size_t n)
{
    const char *key = getenv("SWITCHBOARD_SECRET_KEY");
    if (key && *key)
        snprintf(out, n, "%s", key);
    else
        snprintf(out, n, "%s/secret.key", c->data);
}

/* `export [FILE]`: the whole database as a stream of JSON lines, to stdout or FILE. FILE is
 * written beside itself and renamed when complete (mode 0600: the stream holds password and
 * token hashes), so it is never a part of a stream. */
static int act_export(struct admin_ctx *c, int argc, char **argv)
{
    if (argc > 1) {
        fprintf(stderr, "usage: switchboard admin export [FILE]\n");
        return 2;
    }
    const char *path = argc && strcmp(argv[0], "-") ? argv[0] : NULL;
    char tmp[4096], err[512];
    FILE *out = stdout;
    if (path) {
        if (snprintf(tmp, sizeof tmp, "%s.XXXXXX", path) >= (int)sizeof tmp) {
            fprintf(stderr, "switchboard admin: file name too long\n");
            return 1;
        }
        int fd = mkstemp(tmp);
        if (fd < 0 || !(out = fdopen(fd, "w"))) {
            fprintf(stderr, "switchboard admin: cannot create '%s': %s\n", tmp, strerror(errno));
            if (fd >= 0) {
                close(fd);
                unlink(tmp);
            }
            return 1;
        }
    }
    int rc = store_export(c->options, out, err, sizeof err);
    if (!rc && path && (fflush(out) || fsync(fileno(out)))) {
        snprintf(err, sizeof err, "cannot write '%s': %s", tmp, strerror(errno));
        rc = -ERR_INTERNAL;
    }
    if (path && fclose(out) && !rc) {
        snprintf(err, sizeof err, "cannot write '%s': %s", tmp, strerror(errno));
        rc = -ERR_INTERNAL;
    }
    if (!rc && path && rename(tmp, path)) {
        snprintf(err, sizeof err, "cannot rename '%s' to '%s': %s", tmp, path, strerror(errno));
        rc = -ERR_INTERNAL;
    }
    if (rc) {
        if (path)
            unlink(tmp);
        fprintf(stderr, "switchboard admin: export failed: %s\n", err);
        return 1;
    }
    if (path) {
        char key[4096];
        secret_key_path(c, key, sizeof key);
        if (access(key, F_OK))
            printf("exported the database to %s\n", path);
        else
            printf("exported the database to %s (copy %s along: it unseals the connectors' "
                   "signing secrets)\n",
                   path, key);
    }
    return 0;
}

/* `import [FILE]`: a stream of `export` (from FILE or stdin) into an empty database. */
static int act_import(struct admin_ctx *c, int argc, char **argv)
{
    if (argc > 1) {
        fprintf(stderr, "usage: switchboard admin import [FILE]\n");
        return 2;
    }
    const char *path = argc && strcmp(argv[0], "-") ? argv[0] : NULL;
    FILE *in = path ? fopen(path, "re") : stdin;
    if (!in) {
        fprintf(stderr, "switchboard admin: cannot open '%s': %s\n", path, strerror(errno));
        return 1;
    }
    char err[512];
    int rc = store_import(c->options, in, err, sizeof err);
    if (path)
        fclose(in);
    if (rc) {
        fprintf(stderr, "switchboard admin: import failed%s%s: %s\n", path ? " from " : "",
                path ? path : "", err);
        return 1;
    }
    printf("imported %s into the %s database\n", path ? path : "the stream",
           c->options->database && *c->options->database ? "PostgreSQL" : "SQLite");
    /* the connectors' signing secrets are sealed with the old deployment's key */
    char key[4096];
    secret_key_path(c, key, sizeof key);
    if (access(key, F_OK))
        fprintf(stderr,
                "switchboard admin: note: no secret key at %s: if the exported deployment had "
                "one, copy it there before starting the server (it unseals the connectors' "
                "signing secrets)\n",
                key);
    return 0;
}

static const struct {
    const char *name;
    int (*fn)(struct admin_ctx *c, int argc, char **argv);
    const char *usage;
    bool own_database; /* opens the database itself (no store, no migration first) */
} actions[] = {
    {"create-user", act_create_user, "create-user NAME [--admin] --password-stdin", false},
    {"create-token", act_create_token, "create-token NAME      (prints a new API token)", false},
    {"demo", act_demo, "demo [--url BASE]      (demo user, team, token and webhook; idempotent)",
     false},
    {"migrate", act_migrate, "migrate                (bring the database's schema up to date)",
     false},
    {"export", act_export, "export [FILE]          (the whole database as JSON lines; -: stdout)",
     true},
    {"import", act_import, "import [FILE]          (an export into an empty database; -: stdin)",
     true},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: switchboard admin [--data DIR] [--database URI] <action>\n\nactions:\n");
    for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++)
        fprintf(out, "  %s\n", actions[i].usage);
    fprintf(out, "\n--data defaults to $SWITCHBOARD_DATA or ./switchboard-data; --database to "
                 "$SWITCHBOARD_DATABASE or\nSQLite in the data directory (else a postgres:// URI, "
                 "as for 'switchboard serve')\n");
}

int cli_admin(int argc, char **argv)
{
    const char *data = getenv("SWITCHBOARD_DATA"), *database = getenv("SWITCHBOARD_DATABASE");
    if (!data || !*data)
        data = "./switchboard-data";
    int i = 0;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--data") && i + 1 < argc) {
            data = argv[++i];
        } else if (!strncmp(argv[i], "--data=", 7)) {
            data = argv[i] + 7;
        } else if (!strcmp(argv[i], "--database") && i + 1 < argc) {
            database = argv[++i];
        } else if (!strncmp(argv[i], "--database=", 11)) {
            database = argv[i] + 11;
        } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (i == argc) {
        usage(stderr);
        return 2;
    }
    for (size_t a = 0; a < sizeof actions / sizeof actions[0]; a++) {
        if (strcmp(argv[i], actions[a].name))
            continue;
        if (base_crypto_init())
            return 1;
        char err[512];
        struct store_options so = {.data_dir = data, .database = database, .migrate = true};
        struct admin_ctx c = {.options = &so, .data = data};
        if (actions[a].own_database)
            return actions[a].fn(&c, argc - i - 1, argv + i + 1);
        c.store = store_open_at(&so, err, sizeof err);
        if (!c.store) {
            fprintf(stderr, "switchboard admin: %s\n", err);
            return 1;
        }
        c.core = core_new(c.store);
        int rc = actions[a].fn(&c, argc - i - 1, argv + i + 1);
        core_free(c.core);
        store_close(c.store);
        return rc;
    }
    fprintf(stderr, "switchboard admin: unknown action '%s'\n", argv[i]);
    usage(stderr);
    return 2;
}
