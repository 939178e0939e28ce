/* webhook.c: `switchboard webhook <action>`: a channel's Incoming Webhook connectors through
 * the connectors API (create, list, rotate, delete). create and rotate print the webhook's secret
 * URL, which the server shows only then. Actions are a table. */
#include "cli.h"
#include "client.h"

#include "../cards/cards.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define IMAGE_MAX (512 * 1024) /* read at most this; the server says when it is over its limit */
#define CMD "switchboard webhook"

/* The image file as base64 (the API takes plain base64 and checks the bytes); NULL after a
 * message. The caller frees. */
static char *image_base64(const char *file)
{
    FILE *f = fopen(file, "rb");
    if (!f) {
        fprintf(stderr, CMD ": cannot open '%s': %s\n", file, strerror(errno));
        return NULL;
    }
    unsigned char *data = xmalloc(IMAGE_MAX + 1);
    size_t n = fread(data, 1, IMAGE_MAX + 1, f);
    bool bad = ferror(f);
    fclose(f);
    char *out = NULL;
    if (bad || !n || n > IMAGE_MAX) {
        fprintf(stderr, CMD ": '%s' is %s\n", file,
                bad  ? "unreadable"
                : !n ? "empty"
                     : "larger than 512 KiB");
    } else {
        size_t len = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
        out = xmalloc(len);
        sodium_bin2base64(out, len, data, n, sodium_base64_VARIANT_ORIGINAL);
    }
    free(data);
    return out;
}

static int print_url(json_t *connector)
{
    const char *url = json_string_value(json_object_get(connector, "url"));
    if (!url) {
        fprintf(stderr, CMD ": the server answered without a URL\n");
        return 1;
    }
    char *clean = cards_term_clean(url);
    printf("%s\n", clean);
    free(clean);
    return 0;
}

static int act_create(struct client *c, int argc, char **argv)
{
    const char *target = NULL, *name = NULL, *image = NULL;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--image") && i + 1 < argc)
            image = argv[++i];
        else if (!strncmp(argv[i], "--image=", 8))
            image = argv[i] + 8;
        else if (!target && argv[i][0] != '-')
            target = argv[i];
        else if (!name && argv[i][0] != '-')
            name = argv[i];
        else
            return 2;
    }
    if (!target || !name)
        return 2;
    json_t *body =
        json_pack("{s:s, s:s, s:{}}", "type", "incoming_webhook", "name", name, "settings");
    if (!body) {
        fprintf(stderr, CMD ": the name is not UTF-8 text\n");
        return 1;
    }
    struct client_channel ch;
    json_t *created = NULL;
    int rc = 1;
    if (image) {
        char *b64 = image_base64(image);
        if (!b64)
            goto out;
        json_object_set_new(body, "image", json_string(b64));
        free(b64);
    }
    if (client_find_channel(c, target, &ch))
        goto out_channel;
    char path[96];
    snprintf(path, sizeof path, "/api/v1/channels/%lld/connectors", (long long)ch.id);
    if (!client_call(c, "POST", path, body, &created))
        rc = print_url(created);
out_channel:
    client_channel_release(&ch);
out:
    json_decref(created);
    json_decref(body);
    return rc;
}

/* Columns a cleaned string takes (one per code point). */
static int cols(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

static int act_list(struct client *c, int argc, char **argv)
{
    if (argc != 1 || argv[0][0] == '-')
        return 2;
    struct client_channel ch;
    if (client_find_channel(c, argv[0], &ch)) {
        client_channel_release(&ch);
        return 1;
    }
    char path[96];
    snprintf(path, sizeof path, "/api/v1/channels/%lld/connectors", (long long)ch.id);
    client_channel_release(&ch);
    json_t *doc;
    if (client_call(c, "GET", path, NULL, &doc))
        return 1;
    json_t *rows = json_array();
    size_t i;
    json_t *k;
    int w_name = 4, w_owner = 5;
    json_array_foreach(json_object_get(doc, "connectors"), i, k)
    {
        const char *type = json_string_value(json_object_get(k, "type"));
        if (!type || strcmp(type, "incoming_webhook"))
            continue;
        json_t *last = json_object_get(k, "last_delivery");
        char when[64] = "-";
        if (json_is_object(last))
            snprintf(when, sizeof when, "%s (%lld)",
                     json_string_value(json_object_get(last, "time"))
                         ? json_string_value(json_object_get(last, "time"))
                         : "?",
                     (long long)json_integer_value(json_object_get(last, "status")));
        const char *reason = json_string_value(json_object_get(k, "state_reason"));
        json_t *row = json_pack(
            "{s:I, s:s, s:s, s:s, s:s, s:s}", "id", json_integer_value(json_object_get(k, "id")),
            "name", json_string_value(json_object_get(k, "name")) ?: "", "state",
            json_string_value(json_object_get(k, "state")) ?: "", "owner",
            json_string_value(json_object_get(json_object_get(k, "owner"), "username")) ?: "",
            "last", when, "reason", reason ? reason : "");
        if (!row)
            continue;
        /* every string is shown cleaned: clean them once, here */
        const char *keys[] = {"name", "state", "owner", "last", "reason"};
        for (size_t j = 0; j < sizeof keys / sizeof keys[0]; j++) {
            char *clean = cards_term_clean(json_string_value(json_object_get(row, keys[j])));
            json_object_set_new(row, keys[j], json_string(clean));
            free(clean);
        }
        int wn = cols(json_string_value(json_object_get(row, "name")));
        int wo = cols(json_string_value(json_object_get(row, "owner")));
        w_name = wn > w_name ? wn : w_name;
        w_owner = wo > w_owner ? wo : w_owner;
        json_array_append_new(rows, row);
    }
    if (json_array_size(rows))
        printf("%-6s %-*s %-9s %-*s %s\n", "ID", w_name, "NAME", "STATE", w_owner, "OWNER",
               "LAST DELIVERY");
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        const char *name = json_string_value(json_object_get(row, "name"));
        const char *owner = json_string_value(json_object_get(row, "owner"));
        const char *reason = json_string_value(json_object_get(row, "reason"));
        printf("%-6lld %s%*s %-9s %s%*s %s%s%s%s\n",
               (long long)json_integer_value(json_object_get(row, "id")), name, w_name - cols(name),
               "", json_string_value(json_object_get(row, "state")), owner, w_owner - cols(owner),
               "", json_string_value(json_object_get(row, "last")), *reason ? " (" : "", reason,
               *reason ? ")" : "");
    }
    json_decref(rows);
    json_decref(doc);
    return 0;
}

/* The connector id argument, or 0 after a message. */
static int64_t id_arg(int argc, char **argv)
{
    int64_t id = 0;
    if (argc != 1 || !parse_id(argv[0], &id)) {
        fprintf(stderr, CMD ": give the webhook's id (from 'switchboard webhook list')\n");
        return 0;
    }
    return id;
}

static int act_rotate(struct client *c, int argc, char **argv)
{
    int64_t id = id_arg(argc, argv);
    if (!id)
        return 2;
    char path[96];
    snprintf(path, sizeof path, "/api/v1/connectors/%lld/rotate", (long long)id);
    json_t *doc;
    if (client_call(c, "POST", path, NULL, &doc))
        return 1;
    int rc = print_url(doc);
    json_decref(doc);
    return rc;
}

static int act_delete(struct client *c, int argc, char **argv)
{
    int64_t id = id_arg(argc, argv);
    if (!id)
        return 2;
    char path[96];
    snprintf(path, sizeof path, "/api/v1/connectors/%lld", (long long)id);
    if (client_call(c, "DELETE", path, NULL, NULL))
        return 1;
    printf("deleted webhook %lld\n", (long long)id);
    return 0;
}

static const struct {
    const char *name;
    int (*fn)(struct client *c, int argc, char **argv);
    const char *usage;
} actions[] = {
    {"create", act_create,
     "create TEAM/CHANNEL NAME [--image FILE]   (prints its URL; FILE: PNG, JPEG, GIF, WebP)"},
    {"list", act_list, "list TEAM/CHANNEL"},
    {"rotate", act_rotate, "rotate ID     (a new URL; the old one stops working; prints it)"},
    {"delete", act_delete, "delete ID     (its URL answers 410 from then on)"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: switchboard webhook <action>\n\n"
                 "Manages the Incoming Webhooks of a channel: URLs that services post cards to.\n\n"
                 "actions:\n");
    for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++)
        fprintf(out, "  %s\n", actions[i].usage);
}

int cli_webhook(int argc, char **argv)
{
    if (!argc) {
        usage(stderr);
        return 2;
    }
    if (client_is_help(argv[0])) {
        usage(stdout);
        return 0;
    }
    for (size_t a = 0; a < sizeof actions / sizeof actions[0]; a++) {
        if (strcmp(argv[0], actions[a].name))
            continue;
        for (int i = 1; i < argc; i++) {
            if (client_is_help(argv[i])) {
                printf("usage: switchboard webhook %s\n", actions[a].usage);
                return 0;
            }
        }
        struct client c;
        int rc = 1;
        if (!client_open(&c, CMD))
            rc = actions[a].fn(&c, argc - 1, argv + 1);
        if (rc == 2)
            fprintf(stderr, "usage: switchboard webhook %s\n", actions[a].usage);
        client_release(&c);
        return rc;
    }
    fprintf(stderr, CMD ": unknown action '%s'\n", argv[0]);
    usage(stderr);
    return 2;
}
