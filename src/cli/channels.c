/* channels.c: `switchboard channels`: every channel the caller can read, one "Team/channel" a
 * line (teams in the API's order, channels by name), for `tail` and `post`. */
#include "cli.h"
#include "client.h"

#include "../cards/cards.h"

#include <stdlib.h>
#include <string.h>

static void usage(FILE *out)
{
    fprintf(out, "usage: switchboard channels\n\n"
                 "Lists the channels of your teams, one TEAM/CHANNEL a line (the names 'tail',\n"
                 "'post' and 'webhook' take).\n");
}

int cli_channels(int argc, char **argv)
{
    if (argc == 1 && client_is_help(argv[0])) {
        usage(stdout);
        return 0;
    }
    if (argc) {
        usage(stderr);
        return 2;
    }
    struct client c;
    json_t *teams = NULL;
    int rc = 1;
    if (client_open(&c, "switchboard channels") ||
        client_call(&c, "GET", "/api/v1/teams", NULL, &teams))
        goto out;
    size_t i;
    json_t *t;
    rc = 0;
    json_array_foreach(json_object_get(teams, "teams"), i, t)
    {
        char path[96];
        snprintf(path, sizeof path, "/api/v1/teams/%lld/channels",
                 (long long)json_integer_value(json_object_get(t, "id")));
        json_t *list;
        if (client_call(&c, "GET", path, NULL, &list)) {
            rc = 1;
            break;
        }
        char *team = cards_term_clean(json_string_value(json_object_get(t, "name")));
        size_t k;
        json_t *ch;
        json_array_foreach(json_object_get(list, "channels"), k, ch)
        {
            char *name = cards_term_clean(json_string_value(json_object_get(ch, "name")));
            printf("%s/%s\n", team, name);
            free(name);
        }
        free(team);
        json_decref(list);
    }
out:
    json_decref(teams);
    client_release(&c);
    return rc;
}
