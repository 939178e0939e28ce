/* gitlab.c: the GitLab connector: a project's (or group's) webhook. GitLab sends the configured
 * secret token verbatim in X-Gitlab-Token; the event is the body's object_kind (X-Gitlab-Event
 * when there is none). Each event becomes one short card: a headline naming who did what to
 * which object of which project, a body (commits, a comment, a description) and a few facts.
 * Merge requests, issues and pipelines are threads ("mr:group/project!12", "issue:...#4",
 * "pipeline:...#31"); notes join the thread of what they comment on and failed jobs their
 * pipeline's. Not for: the API calls GitLab would need to be asked (everything comes from the
 * payload), system hooks (ignored). */
#include "connectors.h"

#include <stdio.h>
#include <string.h>

const struct connector_type connector_gitlab;

#define COMMITS_SHOWN 10
#define BODY_CHARS 400
#define NOTE_CHARS 600
#define LIST_SHOWN 10

#define COLOR_OPEN "1F78D1"
#define COLOR_GOOD "2EB67D"
#define COLOR_BAD "E01E5A"
#define COLOR_MERGED "6F42C1"
#define COLOR_GREY "808080"

static const char *const events[] = {
    "push", "tag_push",   "merge_request", "issue",     "note", "pipeline",
    "job",  "deployment", "release",       "wiki_page", NULL,
};

static const struct connector_setting settings[] = {
    {"name", "Name", "string", true, false, NULL, NULL, NULL, 0, 128},
    {"image", "Image", "image", false, false, NULL, NULL, NULL, 0, 0},
    {"secret", "Secret token", "secret", false, true,
     "Paste it into the Secret token field of GitLab's webhook: GitLab sends it with every event.",
     NULL, NULL, 0, 0},
    {"events", "Events", "events", false, false,
     "The events to post; none selected posts all of them (those ticked in GitLab).", events, "[]",
     0, 0},
    {"branches", "Branches", "pattern", false, false,
     "Only pushes, merge requests (by target branch), pipelines and jobs on branches matching "
     "this glob, e.g. main or release/*; empty: all branches.",
     NULL, "\"\"", 0, 255},
};

/* The event being rendered. */
struct gl {
    const json_t *p;
    const char *path; /* "group/project" */
    const char *web;  /* the project's page, or NULL */
    const char *user; /* who did it */
    struct buf head;  /* the headline (markdown) */
    struct buf body;  /* the body (markdown), may stay empty */
    json_t *facts;
    const char *color;
};

static int verify(const struct connector_request *req, char msg[160])
{
    msg[0] = '\0';
    const char *token = req->header(req->header_ctx, "X-Gitlab-Token");
    if (!req->secret || !*req->secret) {
        snprintf(msg, 160, "this connector has no secret token yet: rotate its secret");
        return -ERR_UNAUTHORIZED;
    }
    if (!token || !*token) {
        snprintf(msg, 160, "X-Gitlab-Token is missing: set the Secret token of GitLab's webhook");
        return -ERR_UNAUTHORIZED;
    }
    if (!secret_equal(token, req->secret)) {
        snprintf(msg, 160, "X-Gitlab-Token does not match the connector's secret token");
        return -ERR_UNAUTHORIZED;
    }
    return 0;
}

/* Whether a header's value can be quoted in a reason as it is (ASCII, no control characters). */
static bool is_printable(const char *s)
{
    for (; *s; s++)
        if (*s < 0x20 || *s > 0x7E)
            return false;
    return true;
}

/* The object_kind a X-Gitlab-Event header names, or NULL. */
static const char *kind_of_header(const char *h)
{
    static const struct {
        const char *header, *kind;
    } map[] = {
        {"Push Hook", "push"},
        {"Tag Push Hook", "tag_push"},
        {"Issue Hook", "issue"},
        {"Confidential Issue Hook", "issue"},
        {"Note Hook", "note"},
        {"Confidential Note Hook", "note"},
        {"Merge Request Hook", "merge_request"},
        {"Wiki Page Hook", "wiki_page"},
        {"Pipeline Hook", "pipeline"},
        {"Job Hook", "build"},
        {"Deployment Hook", "deployment"},
        {"Release Hook", "release"},
    };
    for (size_t i = 0; h && i < sizeof map / sizeof map[0]; i++)
        if (!strcmp(h, map[i].header))
            return map[i].kind;
    return NULL;
}

/* "group/project": project.path_with_namespace, else the path of the repository's homepage (job
 * events of older GitLab), else project_name. */
static const char *project_path(const json_t *p)
{
    const char *path = connector_jpath(p, "project", "path_with_namespace", NULL);
    if (path && *path)
        return path;
    const char *home = connector_jpath(p, "repository", "homepage", NULL);
    const char *host = home ? strstr(home, "://") : NULL;
    const char *slash = host ? strchr(host + 3, '/') : NULL;
    if (slash && slash[1])
        return slash + 1;
    path = connector_jstr(p, "project_name");
    return path && *path ? path : NULL;
}

static const char *project_web(const json_t *p)
{
    const char *web = connector_jpath(p, "project", "web_url", NULL);
    return web ? web : connector_jpath(p, "repository", "homepage", NULL);
}

static const char *user_name(const json_t *p)
{
    const char *names[] = {connector_jpath(p, "user", "name", NULL),
                           connector_jpath(p, "user", "username", NULL),
                           connector_jstr(p, "user_name"), connector_jstr(p, "user_username")};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i] && *names[i])
            return names[i];
    return "Someone";
}

static bool is_zero_sha(const char *sha)
{
    if (!sha || !*sha)
        return false;
    return strspn(sha, "0") == strlen(sha);
}

/* The first 8 hexadecimal digits of a commit id ("" when it does not start with one). */
static void short_sha(char out[9], const char *sha)
{
    size_t n = sha ? strspn(sha, "0123456789abcdefABCDEF") : 0;
    snprintf(out, 9, "%.*s", (int)(n < 8 ? n : 8), n ? sha : "");
}

/* An integer member as a number (0 when absent; GitLab ids are positive). */
static long long jint(const json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_integer(v) ? (long long)json_integer_value(v) : 0;
}

/* Appends web + suffix (suffix's `part` percent-encoded) as a link labelled `label`, or only the
 * label when the project has no web address. */
static void link_to(struct gl *g, struct buf *b, const char *label, const char *suffix,
                    const char *part)
{
    if (!g->web) {
        connector_md_append(b, label);
        return;
    }
    struct buf url;
    buf_init(&url, SIZE_MAX / 2);
    buf_printf(&url, "%s%s", g->web, suffix);
    if (part)
        connector_url_part(&url, part);
    connector_md_link(b, label, url.data);
    buf_release(&url);
}

static void in_project(struct gl *g)
{
    buf_printf(&g->head, " in ");
    link_to(g, &g->head, g->path, "", NULL);
}

static void actor(struct gl *g)
{
    buf_printf(&g->head, "**");
    connector_md_append(&g->head, g->user);
    buf_printf(&g->head, "** ");
}

static void fact(struct gl *g, const char *name, const char *value_md)
{
    json_array_append_new(g->facts, json_pack("{s:s, s:s}", "name", name, "value", value_md));
}

static void fact_text(struct gl *g, const char *name, const char *text)
{
    char *e = connector_md_escape(text);
    fact(g, name, e);
    free(e);
}

/* A fact listing the `key` member of each object of an array (labels' titles, assignees'
 * names), when there are any. */
static void fact_list(struct gl *g, const char *name, const json_t *array, const char *key)
{
    struct buf b;
    buf_init(&b, SIZE_MAX / 2);
    buf_append(&b, "", 0);
    size_t i, n = 0;
    json_t *v;
    json_array_foreach(array, i, v)
    {
        const char *s = connector_jstr(v, key);
        if (!s || !*s)
            continue;
        if (n++ == LIST_SHOWN) {
            buf_printf(&b, ", …");
            break;
        }
        if (n > 1)
            buf_printf(&b, ", ");
        connector_md_append(&b, s);
    }
    if (n)
        fact(g, name, b.data);
    buf_release(&b);
}

/* The body: an excerpt of payload text. */
static void body_excerpt(struct gl *g, const char *text, size_t chars)
{
    char *ex = connector_excerpt(text, chars);
    connector_md_append(&g->body, ex);
    free(ex);
}

/* One line of a commit list: "- [abcd1234](url) first line of the message". */
static void commit_line(struct gl *g, const json_t *c, const char *pusher)
{
    char sha[9];
    short_sha(sha, connector_jstr(c, "id"));
    char *first = connector_first_line(connector_jstr(c, "message"), 100);
    if (g->body.len)
        buf_printf(&g->body, "\n");
    buf_printf(&g->body, "- ");
    if (*sha) {
        connector_md_link(&g->body, sha, connector_jstr(c, "url"));
        buf_printf(&g->body, " ");
    }
    connector_md_append(&g->body, first);
    const char *author = connector_jpath(c, "author", "name", NULL);
    if (author && *author && strcmp(author, pusher)) {
        buf_printf(&g->body, " (");
        connector_md_append(&g->body, author);
        buf_printf(&g->body, ")");
    }
    free(first);
}

static int render_push(struct gl *g, struct connector_result *out, char msg[160])
{
    const char *ref = connector_jstr(g->p, "ref");
    if (!ref || !*ref) {
        snprintf(msg, 160, "a push event needs 'ref'");
        return CARD_ERR_INVALID;
    }
    const char *branch = !strncmp(ref, "refs/heads/", 11) ? ref + 11 : ref;
    CONNECTOR_SET(out->branch, "%s", branch);
    const char *before = connector_jstr(g->p, "before"), *after = connector_jstr(g->p, "after");
    json_t *commits = json_object_get(g->p, "commits");
    json_t *total_v = json_object_get(g->p, "total_commits_count");
    long long total = json_is_integer(total_v) ? (long long)json_integer_value(total_v)
                                               : (long long)json_array_size(commits);
    actor(g);
    if (is_zero_sha(after)) {
        buf_printf(&g->head, "deleted branch **");
        connector_md_append(&g->head, branch);
        buf_printf(&g->head, "**");
        in_project(g);
        return 0;
    }
    if (is_zero_sha(before)) {
        buf_printf(&g->head, "created branch ");
        link_to(g, &g->head, branch, "/-/tree/", branch);
    } else if (total > 0) {
        char label[64];
        snprintf(label, sizeof label, "%lld commit%s", total, total == 1 ? "" : "s");
        buf_printf(&g->head, "pushed ");
        char b[9], a[9];
        short_sha(b, before);
        short_sha(a, after);
        if (*b && *a && g->web) {
            struct buf url;
            buf_init(&url, SIZE_MAX / 2);
            buf_printf(&url, "%s/-/compare/%s...%s", g->web, before, after);
            connector_md_link(&g->head, label, url.data);
            buf_release(&url);
        } else {
            connector_md_append(&g->head, label);
        }
        buf_printf(&g->head, " to ");
        link_to(g, &g->head, branch, "/-/tree/", branch);
    } else {
        buf_printf(&g->head, "pushed to ");
        link_to(g, &g->head, branch, "/-/tree/", branch);
    }
    in_project(g);
    size_t i, shown = 0;
    json_t *c;
    json_array_foreach(commits, i, c)
    {
        if (!json_is_object(c))
            continue;
        if (shown == COMMITS_SHOWN)
            break;
        commit_line(g, c, g->user);
        shown++;
    }
    if (shown && total > (long long)shown)
        buf_printf(&g->body, "\n- … and %lld more", total - (long long)shown);
    return 0;
}

static int render_tag_push(struct gl *g, struct connector_result *out, char msg[160])
{
    (void)out;
    const char *ref = connector_jstr(g->p, "ref");
    if (!ref || !*ref) {
        snprintf(msg, 160, "a tag push event needs 'ref'");
        return CARD_ERR_INVALID;
    }
    const char *tag = !strncmp(ref, "refs/tags/", 10) ? ref + 10 : ref;
    actor(g);
    if (is_zero_sha(connector_jstr(g->p, "after"))) {
        buf_printf(&g->head, "deleted tag **");
        connector_md_append(&g->head, tag);
        buf_printf(&g->head, "**");
    } else {
        buf_printf(&g->head, "pushed tag ");
        link_to(g, &g->head, tag, "/-/tags/", tag);
        const char *message = connector_jstr(g->p, "message");
        if (message && *message)
            body_excerpt(g, message, BODY_CHARS);
    }
    in_project(g);
    return 0;
}

/* "!12: title" or "#4: title" linked to url. */
static void object_link(struct buf *b, char sigil, long long iid, const char *title,
                        const char *url)
{
    struct buf label;
    buf_init(&label, SIZE_MAX / 2);
    buf_printf(&label, "%c%lld", sigil, iid);
    if (title && *title)
        buf_printf(&label, ": %s", title);
    connector_md_link(b, label.data, url);
    buf_release(&label);
}

static int render_merge_request(struct gl *g, struct connector_result *out, char msg[160])
{
    json_t *oa = json_object_get(g->p, "object_attributes");
    long long iid = jint(oa, "iid");
    if (iid <= 0) {
        snprintf(msg, 160, "a merge request event needs 'object_attributes.iid'");
        return CARD_ERR_INVALID;
    }
    const char *action = connector_jstr(oa, "action");
    const char *title = connector_jstr(oa, "title"), *url = connector_jstr(oa, "url");
    const char *target = connector_jstr(oa, "target_branch");
    if (target)
        CONNECTOR_SET(out->branch, "%s", target);
    CONNECTOR_SET(out->thread_key, "mr:%s!%lld", g->path, iid);
    if (!action)
        action = "open";
    const char *verb = NULL, *suffix = "";
    bool details = false;
    if (!strcmp(action, "open")) {
        verb = json_is_true(json_object_get(oa, "draft")) ||
                       json_is_true(json_object_get(oa, "work_in_progress"))
                   ? "opened draft merge request"
                   : "opened merge request";
        g->color = COLOR_OPEN;
        details = true;
    } else if (!strcmp(action, "reopen")) {
        verb = "reopened merge request";
        g->color = COLOR_OPEN;
    } else if (!strcmp(action, "merge")) {
        verb = "merged merge request";
        g->color = COLOR_MERGED;
    } else if (!strcmp(action, "close")) {
        verb = "closed merge request";
        g->color = COLOR_GREY;
    } else if (!strcmp(action, "approved")) {
        verb = "approved merge request";
        g->color = COLOR_GOOD;
    } else if (!strcmp(action, "unapproved")) {
        verb = "removed their approval of merge request";
    } else if (!strcmp(action, "approval") || !strcmp(action, "unapproval")) {
        return connector_ignore(out,
                                "merge request !%lld: each approver's '%s' is not shown "
                                "(the 'approved' and 'unapproved' events are)",
                                iid, action);
    } else if (!strcmp(action, "update")) {
        json_t *draft = json_object_get(json_object_get(g->p, "changes"), "draft");
        json_t *now = json_object_get(draft, "current");
        if (connector_jstr(oa, "oldrev")) {
            verb = "pushed to merge request";
            const json_t *last = json_object_get(oa, "last_commit");
            if (json_is_object(last))
                commit_line(g, last, g->user);
        } else if (json_is_boolean(now)) {
            verb = "marked merge request";
            suffix = json_is_true(now) ? " as draft" : " as ready";
        } else {
            return connector_ignore(out, "merge request !%lld was edited (edits are not shown)",
                                    iid);
        }
    } else {
        return connector_ignore(out, "merge request !%lld: the '%.40s' action is not shown", iid,
                                action);
    }
    actor(g);
    buf_printf(&g->head, "%s ", verb);
    object_link(&g->head, '!', iid, title, url);
    buf_printf(&g->head, "%s", suffix);
    in_project(g);
    if (!details)
        return 0;
    body_excerpt(g, connector_jstr(oa, "description"), BODY_CHARS);
    const char *source = connector_jstr(oa, "source_branch");
    if (source && target) {
        struct buf b;
        buf_init(&b, SIZE_MAX / 2);
        connector_md_append(&b, source);
        buf_printf(&b, " → ");
        connector_md_append(&b, target);
        fact(g, "Branches", b.data);
        buf_release(&b);
    }
    fact_list(g, "Assignees", json_object_get(g->p, "assignees"), "name");
    fact_list(g, "Reviewers", json_object_get(g->p, "reviewers"), "name");
    fact_list(g, "Labels", json_object_get(g->p, "labels"), "title");
    return 0;
}

static int render_issue(struct gl *g, struct connector_result *out, char msg[160])
{
    json_t *oa = json_object_get(g->p, "object_attributes");
    long long iid = jint(oa, "iid");
    if (iid <= 0) {
        snprintf(msg, 160, "an issue event needs 'object_attributes.iid'");
        return CARD_ERR_INVALID;
    }
    const char *action = connector_jstr(oa, "action");
    if (!action)
        action = "open";
    const char *event_type = connector_jstr(g->p, "event_type");
    bool confidential = json_is_true(json_object_get(oa, "confidential")) ||
                        (event_type && !strcmp(event_type, "confidential_issue"));
    const char *kind = confidential ? "confidential issue" : "issue";
    CONNECTOR_SET(out->thread_key, "issue:%s#%lld", g->path, iid);
    const char *verb;
    if (!strcmp(action, "open")) {
        verb = "opened";
        g->color = COLOR_OPEN;
    } else if (!strcmp(action, "reopen")) {
        verb = "reopened";
        g->color = COLOR_OPEN;
    } else if (!strcmp(action, "close")) {
        verb = "closed";
        g->color = COLOR_GREY;
    } else if (!strcmp(action, "update")) {
        return connector_ignore(out, "issue #%lld was edited (edits are not shown)", iid);
    } else {
        return connector_ignore(out, "issue #%lld: the '%.40s' action is not shown", iid, action);
    }
    actor(g);
    buf_printf(&g->head, "%s %s ", verb, kind);
    object_link(&g->head, '#', iid, connector_jstr(oa, "title"), connector_jstr(oa, "url"));
    in_project(g);
    if (strcmp(action, "open"))
        return 0;
    body_excerpt(g, connector_jstr(oa, "description"), BODY_CHARS);
    fact_list(g, "Assignees", json_object_get(g->p, "assignees"), "name");
    fact_list(g, "Labels", json_object_get(g->p, "labels"), "title");
    return 0;
}

static int render_note(struct gl *g, struct connector_result *out, char msg[160])
{
    json_t *oa = json_object_get(g->p, "object_attributes");
    const char *note = connector_jstr(oa, "note"), *type = connector_jstr(oa, "noteable_type");
    if (!note || !type) {
        snprintf(msg, 160, "a note event needs 'object_attributes.note' and 'noteable_type'");
        return CARD_ERR_INVALID;
    }
    if (json_is_true(json_object_get(oa, "system")))
        return connector_ignore(out, "system notes are not shown");
    const char *url = connector_jstr(oa, "url");
    actor(g);
    buf_printf(&g->head, "commented on ");
    if (!strcmp(type, "MergeRequest")) {
        json_t *mr = json_object_get(g->p, "merge_request");
        long long iid = jint(mr, "iid");
        if (iid <= 0) {
            snprintf(msg, 160, "a note on a merge request needs 'merge_request.iid'");
            return CARD_ERR_INVALID;
        }
        const char *target = connector_jstr(mr, "target_branch");
        if (target)
            CONNECTOR_SET(out->branch, "%s", target);
        CONNECTOR_SET(out->thread_key, "mr:%s!%lld", g->path, iid);
        buf_printf(&g->head, "merge request ");
        object_link(&g->head, '!', iid, connector_jstr(mr, "title"), url);
    } else if (!strcmp(type, "Issue")) {
        json_t *issue = json_object_get(g->p, "issue");
        long long iid = jint(issue, "iid");
        if (iid <= 0) {
            snprintf(msg, 160, "a note on an issue needs 'issue.iid'");
            return CARD_ERR_INVALID;
        }
        CONNECTOR_SET(out->thread_key, "issue:%s#%lld", g->path, iid);
        buf_printf(&g->head, "issue ");
        object_link(&g->head, '#', iid, connector_jstr(issue, "title"), url);
    } else if (!strcmp(type, "Commit")) {
        const char *id = connector_jpath(g->p, "commit", "id", NULL);
        if (!id)
            id = connector_jstr(oa, "commit_id");
        char sha[9];
        short_sha(sha, id);
        if (!*sha) {
            snprintf(msg, 160, "a note on a commit needs 'commit.id'");
            return CARD_ERR_INVALID;
        }
        CONNECTOR_SET(out->thread_key, "commit:%s@%s", g->path, sha);
        buf_printf(&g->head, "commit ");
        connector_md_link(&g->head, sha, url);
        char *first = connector_first_line(connector_jpath(g->p, "commit", "message", NULL), 80);
        if (*first) {
            buf_printf(&g->head, ": ");
            connector_md_append(&g->head, first);
        }
        free(first);
    } else if (!strcmp(type, "Snippet")) {
        json_t *snippet = json_object_get(g->p, "snippet");
        long long id = jint(snippet, "id");
        if (id > 0)
            CONNECTOR_SET(out->thread_key, "snippet:%s$%lld", g->path, id);
        buf_printf(&g->head, "snippet ");
        object_link(&g->head, '$', id, connector_jstr(snippet, "title"), url);
    } else {
        return connector_ignore(out, "notes on a '%.40s' are not shown", type);
    }
    in_project(g);
    body_excerpt(g, note, NOTE_CHARS);
    return 0;
}

/* "1 min 3 s" from seconds. */
static void duration(char out[32], double s)
{
    long long t = (long long)s;
    if (t < 60)
        snprintf(out, 32, "%lld s", t);
    else if (t < 3600)
        snprintf(out, 32, "%lld min %lld s", t / 60, t % 60);
    else
        snprintf(out, 32, "%lld h %lld min", t / 3600, t % 3600 / 60);
}

/* " on [branch](tree)" or " for tag [v1](tags)" of a pipeline's or job's ref. */
static void on_ref(struct gl *g, const char *ref, bool tag)
{
    if (!ref || !*ref)
        return;
    buf_printf(&g->head, tag ? " for tag " : " on ");
    link_to(g, &g->head, ref, tag ? "/-/tags/" : "/-/tree/", ref);
}

static int render_pipeline(struct gl *g, struct connector_result *out, char msg[160])
{
    json_t *oa = json_object_get(g->p, "object_attributes");
    long long id = jint(oa, "id");
    const char *status = connector_jstr(oa, "status");
    if (id <= 0 || !status) {
        snprintf(msg, 160, "a pipeline event needs 'object_attributes.id' and 'status'");
        return CARD_ERR_INVALID;
    }
    const char *ref = connector_jstr(oa, "ref");
    bool tag = json_is_true(json_object_get(oa, "tag"));
    if (ref && !tag)
        CONNECTOR_SET(out->branch, "%s", ref);
    const char *verb;
    if (!strcmp(status, "success")) {
        verb = "passed";
        g->color = COLOR_GOOD;
    } else if (!strcmp(status, "failed")) {
        verb = "failed";
        g->color = COLOR_BAD;
    } else if (!strcmp(status, "canceled")) {
        verb = "was canceled";
        g->color = COLOR_GREY;
    } else {
        return connector_ignore(out, "pipeline #%lld is %.40s (only finished pipelines are shown)",
                                id, status);
    }
    /* the root shows the pipeline's latest outcome: a retried pipeline's success replaces the
     * failure (and a failed job's card that started the thread) */
    CONNECTOR_SET(out->thread_key, "pipeline:%s#%lld", g->path, id);
    out->update_root = true;
    char label[32];
    snprintf(label, sizeof label, "#%lld", id);
    buf_printf(&g->head, "Pipeline ");
    connector_md_link(&g->head, label, connector_jstr(oa, "url"));
    buf_printf(&g->head, " %s", verb);
    on_ref(g, ref, tag);
    json_t *mr = json_object_get(g->p, "merge_request");
    if (jint(mr, "iid") > 0) {
        buf_printf(&g->head, " for merge request ");
        object_link(&g->head, '!', jint(mr, "iid"), NULL, connector_jstr(mr, "url"));
    }
    in_project(g);

    json_t *commit = json_object_get(g->p, "commit");
    char sha[9];
    short_sha(sha, connector_jstr(commit, "id"));
    if (*sha) {
        struct buf b;
        buf_init(&b, SIZE_MAX / 2);
        connector_md_link(&b, sha, connector_jstr(commit, "url"));
        char *first = connector_first_line(connector_jstr(commit, "message"), 80);
        if (*first) {
            buf_printf(&b, " ");
            connector_md_append(&b, first);
        }
        free(first);
        fact(g, "Commit", b.data);
        buf_release(&b);
    }
    json_t *d = json_object_get(oa, "duration");
    if (json_is_number(d) && json_number_value(d) >= 0) {
        char text[32];
        duration(text, json_number_value(d));
        fact(g, "Duration", text);
    }
    const char *by = user_name(g->p);
    if (strcmp(by, "Someone"))
        fact_text(g, "Triggered by", by);
    /* the failed jobs, by name and stage */
    size_t i, n = 0;
    json_t *job;
    json_array_foreach(json_object_get(g->p, "builds"), i, job)
    {
        const char *st = connector_jstr(job, "status"), *name = connector_jstr(job, "name");
        if (!st || strcmp(st, "failed") || !name)
            continue;
        if (n++ == LIST_SHOWN) {
            buf_printf(&g->body, "\n- …");
            break;
        }
        buf_printf(&g->body, n == 1 ? "Failed jobs:\n- " : "\n- ");
        char suffix[48];
        snprintf(suffix, sizeof suffix, "/-/jobs/%lld", jint(job, "id"));
        if (jint(job, "id") > 0)
            link_to(g, &g->body, name, suffix, NULL);
        else
            connector_md_append(&g->body, name);
        const char *stage = connector_jstr(job, "stage");
        if (stage && *stage) {
            buf_printf(&g->body, " (");
            connector_md_append(&g->body, stage);
            buf_printf(&g->body, ")");
        }
        if (json_is_true(json_object_get(job, "allow_failure")))
            buf_printf(&g->body, ", allowed to fail");
    }
    return 0;
}

static int render_job(struct gl *g, struct connector_result *out, char msg[160])
{
    long long id = jint(g->p, "build_id");
    const char *status = connector_jstr(g->p, "build_status");
    const char *name = connector_jstr(g->p, "build_name");
    if (id <= 0 || !status) {
        snprintf(msg, 160, "a job event needs 'build_id' and 'build_status'");
        return CARD_ERR_INVALID;
    }
    if (!name || !*name)
        name = "job";
    const char *ref = connector_jstr(g->p, "ref");
    bool tag = json_is_true(json_object_get(g->p, "tag"));
    if (ref && !tag)
        CONNECTOR_SET(out->branch, "%s", ref);
    if (strcmp(status, "failed"))
        return connector_ignore(out, "job '%.60s' is %.40s (only failed jobs are shown)", name,
                                status);
    if (json_is_true(json_object_get(g->p, "build_allow_failure")))
        return connector_ignore(out, "job '%.60s' failed but is allowed to fail", name);
    long long pipeline = jint(g->p, "pipeline_id");
    if (pipeline > 0)
        CONNECTOR_SET(out->thread_key, "pipeline:%s#%lld", g->path, pipeline);
    g->color = COLOR_BAD;
    char suffix[48];
    buf_printf(&g->head, "Job ");
    snprintf(suffix, sizeof suffix, "/-/jobs/%lld", id);
    link_to(g, &g->head, name, suffix, NULL);
    buf_printf(&g->head, " failed");
    const char *stage = connector_jstr(g->p, "build_stage");
    if (stage && *stage) {
        buf_printf(&g->head, " in stage **");
        connector_md_append(&g->head, stage);
        buf_printf(&g->head, "**");
    }
    if (pipeline > 0) {
        char label[32];
        snprintf(label, sizeof label, "#%lld", pipeline);
        snprintf(suffix, sizeof suffix, "/-/pipelines/%lld", pipeline);
        buf_printf(&g->head, " of pipeline ");
        link_to(g, &g->head, label, suffix, NULL);
    }
    on_ref(g, ref, tag);
    in_project(g);
    const char *reason = connector_jstr(g->p, "build_failure_reason");
    if (reason && *reason) {
        char *text = xstrdup(reason);
        for (char *p = text; *p; p++)
            if (*p == '_')
                *p = ' ';
        fact_text(g, "Reason", text);
        free(text);
    }
    json_t *d = json_object_get(g->p, "build_duration");
    if (json_is_number(d) && json_number_value(d) >= 0) {
        char text[32];
        duration(text, json_number_value(d));
        fact(g, "Duration", text);
    }
    return 0;
}

static int render_deployment(struct gl *g, struct connector_result *out, char msg[160])
{
    const char *status = connector_jstr(g->p, "status");
    const char *env = connector_jstr(g->p, "environment");
    if (!status || !env) {
        snprintf(msg, 160, "a deployment event needs 'status' and 'environment'");
        return CARD_ERR_INVALID;
    }
    const char *sha = connector_jstr(g->p, "short_sha");
    const char *commit_url = connector_jstr(g->p, "commit_url");
    struct buf what, where;
    buf_init(&what, SIZE_MAX / 2);
    buf_init(&where, SIZE_MAX / 2);
    buf_append(&what, "", 0);
    if (sha && *sha)
        connector_md_link(&what, sha, commit_url);
    buf_printf(&where, "**");
    connector_md_link(&where, env, connector_jstr(g->p, "environment_external_url"));
    buf_printf(&where, "**");
    if (!strcmp(status, "success")) {
        g->color = COLOR_GOOD;
        actor(g);
        buf_printf(&g->head, "deployed %s%sto %s", what.data, what.len ? " " : "", where.data);
    } else if (!strcmp(status, "failed") || !strcmp(status, "canceled")) {
        g->color = strcmp(status, "failed") ? COLOR_GREY : COLOR_BAD;
        buf_printf(&g->head, "Deployment %s%sto %s %s", what.data, what.len ? " " : "", where.data,
                   strcmp(status, "failed") ? "was canceled" : "failed");
    } else {
        buf_release(&what);
        buf_release(&where);
        return connector_ignore(out,
                                "deployment to '%.60s' is %.40s (only finished deployments "
                                "are shown)",
                                env, status);
    }
    buf_release(&what);
    buf_release(&where);
    in_project(g);
    const char *title = connector_jstr(g->p, "commit_title");
    if (title && *title)
        body_excerpt(g, title, 200);
    const char *job = connector_jstr(g->p, "deployable_url");
    if (job && strcmp(status, "success")) {
        struct buf b;
        buf_init(&b, SIZE_MAX / 2);
        connector_md_link(&b, "job log", job);
        fact(g, "Job", b.data);
        buf_release(&b);
        const char *by = user_name(g->p);
        if (strcmp(by, "Someone"))
            fact_text(g, "Started by", by);
    }
    return 0;
}

static int render_release(struct gl *g, struct connector_result *out, char msg[160])
{
    const char *tag = connector_jstr(g->p, "tag");
    const char *name = connector_jstr(g->p, "name");
    if (!tag || !*tag) {
        snprintf(msg, 160, "a release event needs 'tag'");
        return CARD_ERR_INVALID;
    }
    const char *action = connector_jstr(g->p, "action");
    if (!action)
        action = "create";
    CONNECTOR_SET(out->thread_key, "release:%s@%s", g->path, tag);
    struct buf label;
    buf_init(&label, SIZE_MAX / 2);
    buf_printf(&label, "%s", tag);
    if (name && *name && strcmp(name, tag))
        buf_printf(&label, " (%s)", name);
    if (!strcmp(action, "create")) {
        g->color = COLOR_GOOD;
        buf_printf(&g->head, "Release ");
        connector_md_link(&g->head, label.data, connector_jstr(g->p, "url"));
        buf_printf(&g->head, " published");
        body_excerpt(g, connector_jstr(g->p, "description"), BODY_CHARS);
    } else if (!strcmp(action, "delete")) {
        g->color = COLOR_GREY;
        buf_printf(&g->head, "Release **");
        connector_md_append(&g->head, label.data);
        buf_printf(&g->head, "** deleted");
    } else {
        buf_release(&label);
        return connector_ignore(out, "release %.60s: the '%.40s' action is not shown", tag, action);
    }
    buf_release(&label);
    in_project(g);
    return 0;
}

static int render_wiki_page(struct gl *g, struct connector_result *out, char msg[160])
{
    json_t *oa = json_object_get(g->p, "object_attributes");
    const char *title = connector_jstr(oa, "title");
    if (!title) {
        snprintf(msg, 160, "a wiki page event needs 'object_attributes.title'");
        return CARD_ERR_INVALID;
    }
    const char *action = connector_jstr(oa, "action");
    const char *verb = !action                     ? "changed"
                       : !strcmp(action, "create") ? "created"
                       : !strcmp(action, "update") ? "updated"
                       : !strcmp(action, "delete") ? "deleted"
                                                   : NULL;
    if (!verb)
        return connector_ignore(out, "wiki page: the '%.40s' action is not shown", action);
    actor(g);
    buf_printf(&g->head, "%s wiki page ", verb);
    connector_md_link(&g->head, title, strcmp(verb, "deleted") ? connector_jstr(oa, "url") : NULL);
    in_project(g);
    const char *message = connector_jstr(oa, "message");
    if (message && *message)
        body_excerpt(g, message, 200);
    return 0;
}

static const struct {
    const char *kind;  /* object_kind */
    const char *event; /* the name in the "events" setting */
    int (*render)(struct gl *g, struct connector_result *out, char msg[160]);
} kinds[] = {
    {"push", "push", render_push},
    {"tag_push", "tag_push", render_tag_push},
    {"merge_request", "merge_request", render_merge_request},
    {"issue", "issue", render_issue},
    {"note", "note", render_note},
    {"pipeline", "pipeline", render_pipeline},
    {"build", "job", render_job},
    {"deployment", "deployment", render_deployment},
    {"release", "release", render_release},
    {"wiki_page", "wiki_page", render_wiki_page},
};

static int translate(const struct connector_request *req, struct connector_result *out,
                     char msg[160])
{
    const json_t *p = req->payload;
    const char *header = req->header(req->header_ctx, "X-Gitlab-Event");
    const char *kind = connector_jstr(p, "object_kind");
    if (!kind)
        kind = kind_of_header(header);
    if (!kind) {
        const char *name = connector_jstr(p, "event_name");
        if (name)
            return connector_ignore(out, "GitLab system events ('%.60s') are not shown", name);
        if (header && *header)
            return connector_ignore(out, "GitLab '%.60s' events are not shown",
                                    is_printable(header) ? header : "?");
        snprintf(msg, 160, "not a GitLab event: no 'object_kind' and no X-Gitlab-Event header");
        return CARD_ERR_INVALID;
    }
    size_t k = 0;
    while (k < sizeof kinds / sizeof kinds[0] && strcmp(kinds[k].kind, kind))
        k++;
    if (k == sizeof kinds / sizeof kinds[0])
        return connector_ignore(out, "GitLab '%.60s' events are not shown", kind);
    CONNECTOR_SET(out->event, "%s", kinds[k].event);
    struct gl g = {.p = p, .path = project_path(p), .web = project_web(p), .user = user_name(p)};
    if (!g.path) {
        snprintf(msg, 160, "a GitLab %s event needs 'project.path_with_namespace'", kind);
        return CARD_ERR_INVALID;
    }
    buf_init(&g.head, SIZE_MAX / 2);
    buf_init(&g.body, SIZE_MAX / 2);
    buf_append(&g.head, "", 0);
    buf_append(&g.body, "", 0);
    g.facts = json_array();
    int rc = kinds[k].render(&g, out, msg);
    if (!rc && out->outcome != CONNECTOR_IGNORED) {
        json_t *mc = connector_messagecard(g.color, g.head.data, g.body.data, g.facts);
        g.facts = NULL;
        rc = connector_card(&connector_gitlab, mc, req->limits, out, msg);
    }
    json_decref(g.facts);
    buf_release(&g.head);
    buf_release(&g.body);
    return rc;
}

const struct connector_type connector_gitlab = {
    .id = "gitlab",
    .name = "GitLab",
    .description = "Pushes, merge requests, issues, comments, pipelines, deployments and "
                   "releases of a GitLab project or group, one short card each; merge requests, "
                   "issues and pipelines become threads.",
    .icon = "gitlab",
    .kind = CONNECTOR_PUSH,
    .settings = settings,
    .n_settings = sizeof settings / sizeof settings[0],
    .setup =
        "In GitLab, open the project (or the group) and go to **Settings → Webhooks → Add new "
        "webhook**.\n\n"
        "1. **URL**: {url}\n"
        "2. **Secret token**: {secret}\n"
        "3. Under **Trigger**, tick the events to post here: push and tag push events, comments, "
        "issues (and confidential ones), merge requests, job and pipeline events, deployments, "
        "releases, wiki pages.\n"
        "4. Keep **Enable SSL verification** on and select **Add webhook**.\n"
        "5. To check it, select **Test → Push events** beside the new webhook: a card appears "
        "here.\n\n"
        "The events and branches chosen here narrow what is posted further.",
    .delivery_header = "X-Gitlab-Event-UUID",
    .verify = verify,
    .translate = translate,
};
