/* post.c: `switchboard post TEAM/CHANNEL [TEXT|-]`: posts a message (the text argument, or
 * stdin) through POST /api/v1/channels/{id}/messages and prints the new message's id. */
#include "cli.h"
#include "client.h"

#include <stdlib.h>
#include <string.h>

#define TEXT_MAX (64 * 1024) /* the API takes 16,000 characters; it says so itself */
#define CMD "switchboard post"

static void usage(FILE *out)
{
    fprintf(out, "usage: switchboard post TEAM/CHANNEL [TEXT|-] [--thread ID]\n\n"
                 "Posts TEXT (markdown) to the channel, or what stdin holds when TEXT is '-' or\n"
                 "missing, and prints the new message's id.\n\n"
                 "  --thread ID   reply in the thread of message ID\n");
}

int cli_post(int argc, char **argv)
{
    const char *target = NULL, *text = NULL;
    int64_t thread = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (client_is_help(a)) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--thread") && i + 1 < argc) {
            if (!parse_id(argv[++i], &thread)) {
                fprintf(stderr, CMD ": --thread takes a message id\n");
                return 2;
            }
        } else if (!target && (a[0] != '-' || !a[1])) {
            target = a;
        } else if (!text && (a[0] != '-' || !a[1])) {
            text = a;
        } else {
            fprintf(stderr, CMD ": unexpected '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (!target) {
        usage(stderr);
        return 2;
    }
    char *input = NULL;
    if (!text || !strcmp(text, "-")) {
        input = client_read_all(stdin, TEXT_MAX, CMD, "the message");
        if (!input)
            return 1;
        size_t n = strlen(input);
        while (n && (input[n - 1] == '\n' || input[n - 1] == '\r'))
            input[--n] = '\0';
        text = input;
    }
    if (!*text) {
        fprintf(stderr, CMD ": the message is empty\n");
        free(input);
        return 1;
    }
    struct client c;
    struct client_channel ch;
    json_t *msg = NULL;
    int rc = 1;
    memset(&ch, 0, sizeof ch);
    if (client_open(&c, CMD) || client_find_channel(&c, target, &ch))
        goto out;
    char path[96];
    snprintf(path, sizeof path, "/api/v1/channels/%lld/messages", (long long)ch.id);
    json_t *body = json_pack("{s:s}", "text", text);
    if (!body) {
        fprintf(stderr, CMD ": the message is not UTF-8 text\n");
        goto out;
    }
    if (thread)
        json_object_set_new(body, "thread", json_integer(thread));
    if (!client_call(&c, "POST", path, body, &msg)) {
        printf("%lld\n", (long long)json_integer_value(json_object_get(msg, "id")));
        rc = 0;
    }
    json_decref(body);
out:
    json_decref(msg);
    client_channel_release(&ch);
    client_release(&c);
    free(input);
    return rc;
}
