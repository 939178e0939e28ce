/* azure_devops.c: the Azure DevOps connector: a project's service hook subscriptions of the Web
 * Hooks kind. Each request carries basic authentication whose password is the connector's
 * secret (any user name). Azure DevOps writes each event's message itself (message and
 * detailedMessage, in text, HTML and markdown); the card is that markdown (the detailed one when
 * sent: its first line is the headline, the rest the body), plus what the message leaves out:
 * the pull request a pull request event is about, a build's outcome as a colour, a few facts.
 * Pull requests ("pr:<repository id>#<id>") and work items ("wi:<id>") are threads. Not for:
 * events whose subscription sends no message (ignored, with the setting to change). */
#include "connectors.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

const struct connector_type connector_azure_devops;

#define BODY_LINES 30
#define BODY_CHARS 3000
#define AUTH_MAX 1024 /* the longest Authorization header looked at */

#define COLOR_OPEN "0078D4"
#define COLOR_GOOD "2EB67D"
#define COLOR_WARN "ECB22E"
#define COLOR_BAD "E01E5A"
#define COLOR_MERGED "6F42C1"
#define COLOR_GREY "808080"

static const char *const events[] = {
    "git.push",
    "git.pullrequest.created",
    "git.pullrequest.updated",
    "git.pullrequest.merged",
    "ms.vss-code.git-pullrequest-comment-event",
    "build.complete",
    "ms.vss-pipelines.run-state-changed-event",
    "ms.vss-pipelines.stage-state-changed-event",
    "ms.vss-release.deployment-completed-event",
    "workitem.created",
    "workitem.updated",
    "workitem.commented",
    "workitem.deleted",
    "workitem.restored",
    "tfvc.checkin",
    NULL,
};

static const struct connector_setting settings[] = {
    {"name", "Name", "string", true, false, NULL, NULL, NULL, 0, 128},
    {"image", "Image", "image", false, false, NULL, NULL, NULL, 0, 0},
    {"secret", "Password", "secret", false, true,
     "The password of the service hook's basic authentication (any user name).", NULL, NULL, 0, 0},
    {"events", "Events", "events", false, false,
     "The event types to post; none selected posts all that the subscriptions send.", events, "[]",
     0, 0},
};

static int verify(const struct connector_request *req, char msg[160])
{
    msg[0] = '\0';
    if (!req->secret || !*req->secret) {
        snprintf(msg, 160, "this connector has no password yet: rotate its secret");
        return -ERR_UNAUTHORIZED;
    }
    const char *h = req->header(req->header_ctx, "Authorization");
    if (!h || !*h) {
        snprintf(msg, 160,
                 "basic authentication is missing: give the service hook the password "
                 "shown at setup");
        return -ERR_UNAUTHORIZED;
    }
    while (*h == ' ')
        h++;
    size_t len = strlen(h);
    if (len > AUTH_MAX || strncasecmp(h, "Basic ", 6)) {
        snprintf(msg, 160, "the Authorization header is not basic authentication");
        return -ERR_UNAUTHORIZED;
    }
    const char *b64 = h + 6;
    while (*b64 == ' ')
        b64++;
    size_t b64_len = strlen(b64);
    while (b64_len && b64[b64_len - 1] == ' ')
        b64_len--;
    unsigned char bin[AUTH_MAX];
    size_t bin_len = 0;
    const char *end = NULL;
    int bad = sodium_base642bin(bin, sizeof bin - 1, b64, b64_len, NULL, &bin_len, &end,
                                sodium_base64_VARIANT_ORIGINAL);
    const unsigned char *colon = bad ? NULL : memchr(bin, ':', bin_len);
    if (bad || end != b64 + b64_len || !colon || memchr(bin, '\0', bin_len)) {
        sodium_memzero(bin, sizeof bin);
        snprintf(msg, 160,
                 "the Authorization header is not valid basic authentication "
                 "(base64 of user:password)");
        return -ERR_UNAUTHORIZED;
    }
    bin[bin_len] = '\0';
    bool ok = secret_equal((const char *)colon + 1, req->secret);
    sodium_memzero(bin, sizeof bin);
    if (!ok) {
        snprintf(msg, 160, "the basic authentication password does not match the connector's");
        return -ERR_UNAUTHORIZED;
    }
    return 0;
}

/* The event's message as markdown (new string): the markdown of detailedMessage or message,
 * else their text escaped; line ends made "\n", blanks at both ends dropped. NULL when there is
 * none. */
static char *message_markdown(const json_t *p)
{
    static const char *const objects[] = {"detailedMessage", "message"};
    for (int plain = 0; plain < 2; plain++)
        for (size_t i = 0; i < 2; i++) {
            const char *s = connector_jpath(p, objects[i], plain ? "text" : "markdown", NULL);
            if (!s)
                continue;
            char *text = plain ? connector_md_escape(s) : xstrdup(s);
            char *w = text;
            for (const char *r = text; *r; r++) {
                if (*r == '\r') {
                    *w++ = '\n';
                    if (r[1] == '\n')
                        r++;
                } else {
                    *w++ = *r;
                }
            }
            *w = '\0';
            while (w > text && (w[-1] == '\n' || w[-1] == ' ' || w[-1] == '\t'))
                *--w = '\0';
            size_t lead = strspn(text, " \t\n");
            memmove(text, text + lead, strlen(text + lead) + 1);
            if (*text)
                return text;
            free(text);
        }
    return NULL;
}

/* Appends at most BODY_LINES lines and about BODY_CHARS bytes of md (whole lines, so that no link
 * is cut), and an ellipsis line when some were left out. */
static void append_lines(struct buf *b, const char *md)
{
    size_t lines = 0, start = b->len;
    for (const char *line = md; *line;) {
        const char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) : strlen(line);
        if (lines == BODY_LINES || (lines && b->len - start + n > BODY_CHARS)) {
            buf_printf(b, "%s…", b->len && b->data[b->len - 1] == '\n' ? "" : "\n");
            return;
        }
        if (n > BODY_CHARS) { /* one very long line: its first characters, as text */
            char *cut = connector_first_line(line, 500);
            connector_md_append(b, cut);
            free(cut);
        } else {
            buf_append(b, line, n);
        }
        if (nl)
            buf_append(b, "\n", 1);
        lines++;
        line = nl ? nl + 1 : line + n;
    }
}

/* refs/heads/main -> main */
static const char *branch_of(const char *ref)
{
    if (!ref)
        return NULL;
    return !strncmp(ref, "refs/heads/", 11) ? ref + 11 : ref;
}

static void fact(json_t *facts, const char *name, const char *text)
{
    if (!text || !*text)
        return;
    char *e = connector_md_escape(text);
    json_array_append_new(facts, json_pack("{s:s, s:s}", "name", name, "value", e));
    free(e);
}

/* The web page of a pull request: its _links.web, else the repository's remoteUrl +
 * "/pullrequest/<id>". */
static void pr_url(struct buf *url, const json_t *pr, long long id)
{
    const char *web = connector_jpath(pr, "_links", "web", "href", NULL);
    const char *remote = connector_jpath(pr, "repository", "remoteUrl", NULL);
    if (web)
        buf_printf(url, "%s", web);
    else if (remote)
        buf_printf(url, "%s/pullrequest/%lld", remote, id);
}

/* For a pull request event (pr: the pull request object): the thread, the branch, the pull
 * request at the end of the headline (most messages do not name it), a colour and facts. False when
 * the event is not worth a card (out is then ignored). */
static bool pull_request(const char *type, const json_t *pr, struct buf *head, json_t *facts,
                         const char **color, struct connector_result *out)
{
    json_t *idv = json_object_get(pr, "pullRequestId");
    long long id = json_is_integer(idv) ? (long long)json_integer_value(idv) : 0;
    if (id <= 0)
        return true; /* not described: the message alone */
    const char *repo = connector_jpath(pr, "repository", "id", NULL);
    const char *status = connector_jstr(pr, "status");
    if (!strcmp(type, "git.pullrequest.merged") && status && strcmp(status, "completed")) {
        connector_ignore(out,
                         "pull request %lld: a merge commit was made, but the pull request is "
                         "still %.40s",
                         id, status);
        return false;
    }
    CONNECTOR_SET(out->thread_key, "pr:%s#%lld", repo ? repo : "", id);
    const char *target = branch_of(connector_jstr(pr, "targetRefName"));
    if (target)
        CONNECTOR_SET(out->branch, "%s", target);
    struct buf label, url;
    buf_init(&label, SIZE_MAX / 2);
    buf_init(&url, SIZE_MAX / 2);
    buf_printf(&label, "!%lld", id);
    const char *title = connector_jstr(pr, "title");
    if (title && *title && !strstr(head->data, title)) /* some messages name it */
        buf_printf(&label, ": %s", title);
    pr_url(&url, pr, id);
    buf_printf(head, " — ");
    connector_md_link(head, label.data, url.data);
    buf_release(&label);
    buf_release(&url);
    if (status && !strcmp(status, "completed"))
        *color = COLOR_MERGED;
    else if (status && !strcmp(status, "abandoned"))
        *color = COLOR_GREY;
    if (!strcmp(type, "git.pullrequest.created")) {
        *color = COLOR_OPEN;
        const char *source = branch_of(connector_jstr(pr, "sourceRefName"));
        if (source && target) {
            struct buf b;
            buf_init(&b, SIZE_MAX / 2);
            buf_printf(&b, "%s → %s", source, target);
            fact(facts, "Branches", b.data);
            buf_release(&b);
        }
        fact(facts, "Repository", connector_jpath(pr, "repository", "name", NULL));
    }
    return true;
}

/* The colour of an outcome ("succeeded", "failed" ...), or NULL. */
static const char *result_color(const char *result)
{
    if (!result)
        return NULL;
    if (!strcasecmp(result, "succeeded"))
        return COLOR_GOOD;
    if (!strcasecmp(result, "partiallySucceeded"))
        return COLOR_WARN;
    if (!strcasecmp(result, "failed"))
        return COLOR_BAD;
    if (!strcasecmp(result, "canceled") || !strcasecmp(result, "stopped"))
        return COLOR_GREY;
    return NULL;
}

/* Whether a workitem.updated changes nothing but the discussion (which workitem.commented
 * shows) and bookkeeping fields. */
static bool only_history(json_t *fields)
{
    static const char *const quiet[] = {
        "System.Rev",          "System.AuthorizedDate", "System.RevisedDate",  "System.ChangedDate",
        "System.ChangedBy",    "System.Watermark",      "System.AuthorizedAs", "System.PersonId",
        "System.CommentCount", "System.History",
    };
    if (!json_object_get(fields, "System.History"))
        return false;
    const char *key;
    json_t *v;
    json_object_foreach(fields, key, v)
    {
        bool q = false;
        for (size_t i = 0; i < sizeof quiet / sizeof quiet[0]; i++)
            q |= !strcmp(key, quiet[i]);
        if (!q)
            return false;
    }
    return true;
}

static int translate(const struct connector_request *req, struct connector_result *out,
                     char msg[160])
{
    const json_t *p = req->payload;
    const char *type = connector_jstr(p, "eventType");
    if (!type || !*type) {
        snprintf(msg, 160, "not an Azure DevOps service hook event: no 'eventType'");
        return CARD_ERR_INVALID;
    }
    CONNECTOR_SET(out->event, "%s", type);
    json_t *res = json_object_get(p, "resource");
    const char *color = NULL;

    /* what is not worth a card */
    if (!strcmp(type, "workitem.updated") && only_history(json_object_get(res, "fields")))
        return connector_ignore(out, "work item %lld: a comment (workitem.commented shows it)",
                                (long long)json_integer_value(json_object_get(res, "workItemId")));
    const char *state = connector_jpath(res, "run", "state", NULL);
    if (!strcmp(type, "ms.vss-pipelines.run-state-changed-event") && state &&
        strcmp(state, "completed"))
        return connector_ignore(out, "pipeline run is %.40s (only completed runs are shown)",
                                state);
    char *md = message_markdown(p);
    if (!md)
        return connector_ignore(out,
                                "the '%.60s' event has no message: set the subscription's "
                                "Messages to send to All",
                                type);

    /* the message's first line is the headline, the others the body */
    struct buf head, body;
    buf_init(&head, SIZE_MAX / 2);
    buf_init(&body, SIZE_MAX / 2);
    json_t *facts = json_array();
    char *nl = strchr(md, '\n');
    if (nl)
        *nl = '\0';
    if (strlen(md) > BODY_CHARS) { /* one huge line: cut, as text */
        char *cut = connector_first_line(md, 500);
        connector_md_append(&head, cut);
        free(cut);
    } else {
        buf_printf(&head, "%s", md);
    }
    if (nl)
        append_lines(&body, nl + 1 + strspn(nl + 1, "\n"));
    free(md);

    bool post = true;
    if (!strncmp(type, "git.pullrequest.", 16)) {
        post = pull_request(type, res, &head, facts, &color, out);
    } else if (!strcmp(type, "ms.vss-code.git-pullrequest-comment-event")) {
        post = pull_request(type, json_object_get(res, "pullRequest"), &head, facts, &color, out);
    } else if (!strcmp(type, "git.push")) {
        json_t *update = json_array_get(json_object_get(res, "refUpdates"), 0);
        const char *ref = connector_jstr(update, "name");
        if (ref && !strncmp(ref, "refs/heads/", 11))
            CONNECTOR_SET(out->branch, "%s", ref + 11);
    } else if (!strcmp(type, "build.complete")) {
        const char *result = connector_jstr(res, "result");
        color = result_color(result ? result : connector_jstr(res, "status"));
        const char *branch = branch_of(connector_jstr(res, "sourceBranch"));
        const char *version = connector_jstr(res, "sourceGetVersion"); /* LG:refs/heads/x:sha */
        char *from_version = NULL;
        if (!branch && version && !strncmp(version, "LG:refs/heads/", 14)) {
            from_version = xstrdup(version + 14);
            char *colon = strrchr(from_version, ':');
            if (colon)
                *colon = '\0';
            branch = from_version;
        }
        if (branch && *branch)
            CONNECTOR_SET(out->branch, "%s", branch);
        fact(facts, "Pipeline", connector_jpath(res, "definition", "name", NULL));
        fact(facts, "Branch", branch);
        fact(facts, "Requested for", connector_jpath(res, "requestedFor", "displayName", NULL));
        free(from_version);
    } else if (!strcmp(type, "ms.vss-pipelines.run-state-changed-event")) {
        color = result_color(connector_jpath(res, "run", "result", NULL));
    } else if (!strncmp(type, "workitem.", 9)) {
        json_t *wid = json_object_get(res, "workItemId");
        if (!json_is_integer(wid))
            wid = json_object_get(res, "id");
        if (json_is_integer(wid) && json_integer_value(wid) > 0)
            CONNECTOR_SET(out->thread_key, "wi:%lld", (long long)json_integer_value(wid));
    }

    int rc = 0;
    if (post) {
        json_t *mc = connector_messagecard(color, head.data, body.data, facts);
        facts = NULL;
        rc = connector_card(&connector_azure_devops, mc, req->limits, out, msg);
    }
    json_decref(facts);
    buf_release(&head);
    buf_release(&body);
    return rc;
}

const struct connector_type connector_azure_devops = {
    .id = "azure_devops",
    .name = "Azure DevOps",
    .description = "Pushes, pull requests, builds and work items of an Azure DevOps project, "
                   "as Azure DevOps words them; pull requests and work items become threads.",
    .icon = "azure_devops",
    .kind = CONNECTOR_PUSH,
    .settings = settings,
    .n_settings = sizeof settings / sizeof settings[0],
    .setup =
        "In Azure DevOps, open the project and go to **Project settings → Service hooks**, then "
        "select **Create subscription** (+).\n\n"
        "1. Choose **Web Hooks** and select **Next**.\n"
        "2. Pick the trigger (for example *Code pushed*, *Pull request created*, *Build "
        "completed*, *Work item updated*), narrow it with the filters if you like, and select "
        "**Next**.\n"
        "3. **URL**: {url}\n"
        "4. **Basic authentication username**: any name, e.g. `switchboard`; **Basic "
        "authentication password**: {secret}\n"
        "5. Leave **Resource details to send**, **Messages to send** and **Detailed messages to "
        "send** on *All*.\n"
        "6. Select **Test** to send a sample event (a card appears here), then **Finish**.\n\n"
        "A subscription has one trigger: repeat these steps, with the same URL and password, for "
        "each kind of event to post here.",
    .verify = verify,
    .translate = translate,
};
