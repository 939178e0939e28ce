/* tail.c: `switchboard tail TEAM/CHANNEL [-n N]`: the channel's last N messages, oldest first
 * (each thread's replies indented under its root), then the live feed: message.created and
 * message.updated events of that channel from GET /api/v1/events.
 *
 * Nothing missed, nothing twice: the live stream is opened first and its subscription is in
 * place (the server's welcome) before the history is read, so a message committed in between
 * is in one or both; message ids are event ids, so an event for a message already shown is
 * skipped. When the stream drops it is opened again with Last-Event-ID (the last event id
 * seen, else the newest message shown), after 1, 2, 4... up to 30 s. Ctrl-C ends it with 0. */
#include "cli.h"
#include "client.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HISTORY_MAX 1000
#define PAGE_MAX 200
#define BACKOFF_MAX_S 30
#define CONNECT_WAIT_MS 10000
#define ROOT_CACHE 128
#define SUMMARY_COLS 60

struct tail {
    struct client c;
    struct client_channel ch;
    bool colour;
    int64_t max_shown;  /* the newest message id shown (created) */
    int64_t last_event; /* the newest event id seen: where to resume; -1 none */
    int64_t thread;     /* the thread (root id) of the last message shown, 0 none */
    struct {
        int64_t id;
        char *summary;
    } roots[ROOT_CACHE]; /* thread roots shown, for the context line of a later reply */
    size_t next_root;
};

static void on_signal(int sig)
{
    client_interrupted = 1;
}

static void usage(FILE *out)
{
    fprintf(
        out,
        "usage: switchboard tail TEAM/CHANNEL [-n N] [--no-follow] [--color=auto|always|never]\n"
        "\n"
        "Prints the channel's last N messages (default 20, at most %d), oldest first, then\n"
        "follows the live feed until Ctrl-C. Cards are shown as text; replies are indented\n"
        "under their thread. Colour is used when stdout is a terminal and NO_COLOR is unset\n"
        "(--color=always|never decides). Reconnects by itself after a drop, missing nothing.\n"
        "\n"
        "  -n, --lines N   how many messages of history (0: none)\n"
        "  --no-follow     print the history and exit\n"
        "  --color=WHEN    auto (default), always or never\n",
        HISTORY_MAX);
}

static void remember_root(struct tail *t, json_t *msg)
{
    size_t k = t->next_root++ % ROOT_CACHE;
    free(t->roots[k].summary);
    t->roots[k].id = json_integer_value(json_object_get(msg, "id"));
    t->roots[k].summary = term_message_summary(msg, SUMMARY_COLS);
}

/* The summary of a thread's root: remembered, else read (the root is the oldest top-level
 * message after root-1); NULL when it cannot be had. The caller frees. */
static char *root_summary(struct tail *t, int64_t root)
{
    for (size_t i = 0; i < ROOT_CACHE; i++)
        if (t->roots[i].id == root && t->roots[i].summary)
            return xstrdup(t->roots[i].summary);
    char path[128];
    snprintf(path, sizeof path, "/api/v1/channels/%lld/messages?after=%lld&limit=1",
             (long long)t->ch.id, (long long)(root - 1));
    struct client_reply r;
    char *out = NULL;
    if (!client_request(&t->c, "GET", path, NULL, &r)) {
        json_t *m = json_array_get(json_object_get(r.json, "messages"), 0);
        if (json_integer_value(json_object_get(m, "id")) == root) {
            remember_root(t, m);
            out = term_message_summary(m, SUMMARY_COLS);
        }
    }
    client_reply_release(&r);
    return out;
}

/* Prints a message; a reply under a context line when the last message shown was of another
 * thread. */
static void show(struct tail *t, json_t *msg, bool updated)
{
    int64_t id = json_integer_value(json_object_get(msg, "id"));
    int64_t root = json_integer_value(json_object_get(msg, "thread"));
    struct term_message_opts o = {.colour = t->colour, .reply = root > 0, .updated = updated};
    if (root > 0 && t->thread != root) {
        char *summary = root_summary(t, root), line[512];
        if (summary)
            snprintf(line, sizeof line, "re: %s", summary);
        else
            snprintf(line, sizeof line, "re: message %lld", (long long)root);
        term_print_note(stdout, t->colour, "  ", line);
        free(summary);
    }
    term_print_message(stdout, msg, &o);
    t->thread = root > 0 ? root : id;
    if (root <= 0)
        remember_root(t, msg);
    if (!updated && id > t->max_shown)
        t->max_shown = id;
}

/* GET a page of messages; NULL after a message on stderr. The caller decrefs. */
static json_t *page(struct tail *t, const char *query)
{
    char path[256];
    snprintf(path, sizeof path, "/api/v1/channels/%lld/messages?%s", (long long)t->ch.id, query);
    json_t *doc;
    return client_call(&t->c, "GET", path, NULL, &doc) ? NULL : doc;
}

static int replies(struct tail *t, int64_t root)
{
    char q[96];
    snprintf(q, sizeof q, "thread=%lld&limit=%d", (long long)root, PAGE_MAX);
    json_t *doc = page(t, q);
    if (!doc)
        return -1;
    json_t *list = json_object_get(doc, "messages");
    if (json_is_true(json_object_get(doc, "has_more")))
        term_print_note(stdout, t->colour, "  ", "\xe2\x80\xa6 earlier replies not shown");
    for (size_t i = json_array_size(list); i-- > 0;)
        show(t, json_array_get(list, i), false);
    json_decref(doc);
    return 0;
}

/* The last n top-level messages, oldest first, each followed by its replies. */
static int history(struct tail *t, int n)
{
    json_t *all = json_array();
    int64_t before = 0;
    int rc = 0;
    while ((int)json_array_size(all) < n) {
        char q[96];
        int want = n - (int)json_array_size(all);
        if (want > PAGE_MAX)
            want = PAGE_MAX;
        if (before)
            snprintf(q, sizeof q, "limit=%d&before=%lld", want, (long long)before);
        else
            snprintf(q, sizeof q, "limit=%d", want);
        json_t *doc = page(t, q);
        if (!doc) {
            rc = -1;
            break;
        }
        json_t *list = json_object_get(doc, "messages");
        json_array_extend(all, list);
        bool more = json_is_true(json_object_get(doc, "has_more")) && json_array_size(list);
        before = json_integer_value(
            json_object_get(json_array_get(list, json_array_size(list) - 1), "id"));
        json_decref(doc);
        if (!more)
            break;
    }
    for (size_t i = json_array_size(all); !rc && i-- > 0;) {
        json_t *m = json_array_get(all, i);
        show(t, m, false);
        if (json_integer_value(json_object_get(m, "replies")) > 0)
            rc = replies(t, json_integer_value(json_object_get(m, "id")));
    }
    json_decref(all);
    fflush(stdout);
    return rc;
}

/* After a reconnection that could not resume (no event id known, nothing shown): the channel's
 * messages that are newer than what was shown. */
static void catch_up(struct tail *t)
{
    char q[96];
    snprintf(q, sizeof q, "after=%lld&limit=%d", (long long)t->max_shown, PAGE_MAX);
    json_t *doc = page(t, q);
    json_t *list = json_object_get(doc, "messages");
    for (size_t i = json_array_size(list); i-- > 0;) {
        json_t *m = json_array_get(list, i);
        if (json_integer_value(json_object_get(m, "id")) > t->max_shown)
            show(t, m, false);
    }
    json_decref(doc);
    fflush(stdout);
}

static void handle(struct tail *t, const struct sse_event *ev)
{
    bool created = !strcmp(ev->type, "message.created");
    if (!created && strcmp(ev->type, "message.updated"))
        return;
    json_error_t je;
    json_t *msg = json_loads(ev->data, 0, &je);
    if (json_integer_value(json_object_get(msg, "channel_id")) == t->ch.id &&
        (!created || json_integer_value(json_object_get(msg, "id")) > t->max_shown))
        show(t, msg, !created);
    json_decref(msg);
}

static void drain(struct tail *t, struct sse *s)
{
    struct sse_event ev;
    bool any = false;
    while (sse_next(s, &ev)) {
        handle(t, &ev);
        sse_event_release(&ev);
        any = true;
    }
    if (sse_last_id(s) > t->last_event)
        t->last_event = sse_last_id(s);
    if (any)
        fflush(stdout);
}

static void nap(unsigned seconds)
{
    for (unsigned i = 0; i < seconds * 10 && !client_interrupted; i++) {
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

/* Follows the live feed until Ctrl-C (0) or a refusal (1). s: the stream already open. */
static int follow(struct tail *t, struct sse *s)
{
    unsigned backoff = 1;
    bool was_live = s && sse_is_live(s), lost = false, need_catch_up = false;
    int rc = 0;
    while (!client_interrupted) {
        if (!s) {
            int64_t from = t->last_event >= 0 ? t->last_event : t->max_shown ? t->max_shown : -1;
            need_catch_up = from < 0;
            s = sse_open(&t->c, from);
            was_live = false;
            if (!s) {
                fprintf(stderr, "%s: cannot open the live feed (libcurl)\n", t->c.cmd);
                return 1;
            }
        }
        bool open = sse_pump(s, 250);
        drain(t, s);
        if (!was_live && sse_is_live(s)) {
            was_live = true;
            backoff = 1;
            if (lost)
                fprintf(stderr, "%s: live feed back\n", t->c.cmd);
            lost = false;
            if (need_catch_up)
                catch_up(t);
        }
        if (open || client_interrupted)
            continue;
        bool retry;
        const char *why = sse_error(s, &retry);
        if (!retry) {
            fprintf(stderr, "%s: %s\n", t->c.cmd, why);
            rc = 1;
            break;
        }
        fprintf(stderr, "%s: live feed lost (%s); reconnecting in %u s\n", t->c.cmd, why, backoff);
        lost = true;
        sse_close(s);
        s = NULL;
        nap(backoff);
        backoff = backoff * 2 > BACKOFF_MAX_S ? BACKOFF_MAX_S : backoff * 2;
    }
    sse_close(s);
    return client_interrupted ? 0 : rc;
}

int cli_tail(int argc, char **argv)
{
    const char *target = NULL;
    int n = 20;
    bool keep_following = true;
    enum term_colour colour = TERM_COLOUR_AUTO;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        if (client_is_help(a)) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "-n") || !strcmp(a, "--lines")) {
            if (i + 1 == argc) {
                usage(stderr);
                return 2;
            }
            v = argv[++i];
        } else if (!strncmp(a, "-n", 2) && a[2]) {
            v = a + 2;
        } else if (!strncmp(a, "--lines=", 8)) {
            v = a + 8;
        } else if (!strcmp(a, "--no-follow")) {
            keep_following = false;
            continue;
        } else if (!strncmp(a, "--color=", 8) || !strncmp(a, "--colour=", 9)) {
            if (!term_colour_parse(strchr(a, '=') + 1, &colour)) {
                fprintf(stderr, "switchboard tail: --color is auto, always or never\n");
                return 2;
            }
            continue;
        } else if (a[0] != '-' && !target) {
            target = a;
            continue;
        } else {
            fprintf(stderr, "switchboard tail: unexpected '%s'\n", a);
            usage(stderr);
            return 2;
        }
        char *end;
        long k = strtol(v, &end, 10);
        if (*end || !*v || k < 0 || k > HISTORY_MAX) {
            fprintf(stderr, "switchboard tail: -n takes a number from 0 to %d\n", HISTORY_MAX);
            return 2;
        }
        n = (int)k;
    }
    if (!target) {
        usage(stderr);
        return 2;
    }
    struct tail t = {.last_event = -1};
    int rc = 1;
    if (client_open(&t.c, "switchboard tail") || client_find_channel(&t.c, target, &t.ch))
        goto out;
    t.colour = term_colour_on(colour);
    struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART: waits end at once */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    struct sse *s = NULL;
    if (keep_following) { /* subscribed before the history is read: see the top of the file */
        s = sse_open(&t.c, -1);
        int64_t deadline = time_mono_ms() + CONNECT_WAIT_MS;
        while (s && !client_interrupted && !sse_is_live(s) && time_mono_ms() < deadline)
            if (!sse_pump(s, 100))
                break;
    }
    if (n && history(&t, n)) {
        sse_close(s);
        rc = client_interrupted ? 0 : 1;
        goto out;
    }
    rc = keep_following ? follow(&t, s) : 0;
out:
    for (size_t i = 0; i < ROOT_CACHE; i++)
        free(t.roots[i].summary);
    client_channel_release(&t.ch);
    client_release(&t.c);
    return rc;
}
