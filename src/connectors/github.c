/* github.c: the GitHub connector: its settings, the X-Hub-Signature-256 check and one short card
 * per event a channel wants to see (pushes, pull requests and their reviews and comments,
 * issues, discussions, releases, Actions runs and failed jobs, deployments, branches and tags,
 * stars, forks), in the shape every service connector posts (connector_messagecard: a one-line
 * headline, a body, facts). Events about one pull request, issue, discussion or workflow run
 * share a thread key, so the later ones become replies to the first. Everything else is
 * acknowledged and ignored with a reason; a body is refused only when it lacks the object its
 * event is about. Not for: form bodies (the api decodes payload= before translate; the
 * signature covers the raw body either way). */
#include "connectors.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

const struct connector_type connector_github;

/* The event families rendered below, as the "events" setting offers them ("ping" is not one:
 * it is always shown). */
static const char *const event_names[] = {
    "push",
    "pull_request",
    "pull_request_review",
    "pull_request_review_comment",
    "issues",
    "issue_comment",
    "commit_comment",
    "discussion",
    "discussion_comment",
    "release",
    "workflow_run",
    "workflow_job",
    "deployment_status",
    "create",
    "delete",
    "fork",
    "star",
    "watch",
    "public",
    NULL,
};

static const struct connector_setting settings[] = {
    {"name", "Name", "string", true, false, NULL, NULL, NULL, 0, 128},
    {"image", "Image", "image", false, false, NULL, NULL, NULL, 0, 0},
    {"secret", "Secret", "secret", false, true,
     "GitHub signs each delivery with it (X-Hub-Signature-256)", NULL, NULL, 0, 0},
    {"events", "Events", "events", false, false,
     "the events to show (none ticked: all that GitHub sends); star and watch both report new "
     "stars, create and delete repeat what push says about new and deleted branches",
     event_names, "[]", 0, 0},
    {"branches", "Branches", "pattern", false, false,
     "only pushes/PRs/runs on branches matching this glob, e.g. main or release/*", NULL, NULL, 0,
     256},
};

#define SIGNATURE_HEADER "X-Hub-Signature-256"
#define TITLE_CHARS 120   /* a title, name or commit message line */
#define EXCERPT_CHARS 500 /* a body (description, comment, release notes) */
#define EXCERPT_LINES 8
#define COMMITS_SHOWN 10 /* a push lists at most this many commits */
#define LIST_SHOWN 10    /* labels, reviewers, assignees, failed steps */
#define URL_MAX 2048     /* longer addresses are not linked */

/* GitHub's own colours (Primer): open and success, merged and done, closed and failed,
 * attention, neutral, stars, and the blue of everything else. */
#define COLOR_GREEN "1F883D"
#define COLOR_PURPLE "8250DF"
#define COLOR_RED "CF222E"
#define COLOR_ORANGE "BF8700"
#define COLOR_GREY "6E7781"
#define COLOR_YELLOW "E3B341"
#define COLOR_BLUE "0969DA"

/* X-Hub-Signature-256 is "sha256=" and the hex HMAC-SHA256 of the raw body keyed by the secret
 * (GitHub writes it in lower case; any case is taken). */
static int verify(const struct connector_request *req, char msg[160])
{
    msg[0] = '\0';
    if (!req->secret || !*req->secret) {
        snprintf(msg, 160, "the connector has no secret to check " SIGNATURE_HEADER " with");
        return -ERR_UNAUTHORIZED;
    }
    const char *sig = req->header ? req->header(req->header_ctx, SIGNATURE_HEADER) : NULL;
    if (!sig || !*sig) {
        snprintf(msg, 160, SIGNATURE_HEADER " is missing");
        return -ERR_UNAUTHORIZED;
    }
    if (strlen(sig) != 7 + 64 || strncasecmp(sig, "sha256=", 7)) {
        snprintf(msg, 160, SIGNATURE_HEADER " is not 'sha256=' and 64 hex digits");
        return -ERR_UNAUTHORIZED;
    }
    char given[65], want[65];
    for (size_t i = 0; i < 64; i++) {
        char c = sig[7 + i];
        given[i] = c >= 'A' && c <= 'Z' ? (char)(c | 0x20) : c;
    }
    given[64] = '\0';
    hmac_sha256_hex(req->secret, req->body ? req->body : "", req->body ? req->body_len : 0, want);
    if (!secret_equal(given, want)) {
        snprintf(msg, 160, SIGNATURE_HEADER " does not match the secret");
        return -ERR_UNAUTHORIZED;
    }
    return 0;
}

/* ---- small helpers ---- */

/* Whether a and b are the same string (never when either is missing). */
static bool is(const char *a, const char *b)
{
    return a && b && !strcmp(a, b);
}

/* Whether s is a name as GitHub writes events, actions and states (safe to quote in a reason). */
static bool is_name(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    return n && n <= 40 && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

static const char *name_or(const char *s, const char *other)
{
    return is_name(s) ? s : other;
}

/* url when it is an http(s) address a card may link (else NULL: the label shows alone). */
static const char *link_url(const char *url)
{
    return url && (!strncmp(url, "https://", 8) || !strncmp(url, "http://", 7)) &&
                   strlen(url) <= URL_MAX
               ? url
               : NULL;
}

static bool jint(const json_t *o, const char *key, json_int_t *v)
{
    json_t *j = json_object_get(o, key);
    if (json_is_integer(j))
        *v = json_integer_value(j);
    return json_is_integer(j);
}

static bool is_hex_sha(const char *s)
{
    return s && strlen(s) == 40 && strspn(s, "0123456789abcdef") == 40;
}

/* The first 7 characters of a commit id when it is hex, else "". */
static void short_sha(const char *id, char out[8])
{
    out[0] = '\0';
    if (id && strspn(id, "0123456789abcdefABCDEF") >= 7)
        snprintf(out, 8, "%.7s", id);
}

/* A body cut down for a card: HTML comments (the hints of issue and PR templates) dropped, then
 * connector_excerpt, then at most EXCERPT_LINES lines (an ellipsis when cut). Caller frees. */
static char *body_excerpt(const char *text)
{
    struct buf b;
    buf_init(&b, SIZE_MAX / 2);
    buf_append(&b, "", 0);
    for (const char *p = text ? text : ""; *p;) {
        const char *open = strstr(p, "<!--");
        if (!open) {
            buf_append(&b, p, strlen(p));
            break;
        }
        buf_append(&b, p, (size_t)(open - p));
        const char *close = strstr(open + 4, "-->");
        p = close ? close + 3 : open + strlen(open);
    }
    char *ex = connector_excerpt(b.data, EXCERPT_CHARS);
    buf_release(&b);
    size_t lines = 1;
    for (char *q = ex; *q; q++) {
        if (*q != '\n' || ++lines <= EXCERPT_LINES)
            continue;
        while (q > ex && q[-1] == '\n')
            q--;
        size_t n = (size_t)(q - ex);
        char *cut = xmalloc(n + 4);
        memcpy(cut, ex, n);
        memcpy(cut + n, "\xE2\x80\xA6", 4); /* "…" and the NUL */
        free(ex);
        return cut;
    }
    return ex;
}

/* ---- the card being assembled ---- */

struct gh {
    struct connector_result *out;
    json_t *p;                   /* the payload (read only) */
    const char *event;           /* X-GitHub-Event, one of handlers[] */
    const char *action;          /* the payload's "action", or NULL */
    const char *repo, *repo_url; /* the repository's full name ("" when none) and address */
    const char *actor;           /* the sender's login */
    struct buf head, body;       /* markdown: the headline, the body */
    const char *color;
    json_t *facts; /* [{"name","value"}], the values markdown */
};

/* Appends fmt to b. Conversions, each taking payload text, escaped on the way:
 *   %s  a string: its first line, at most TITLE_CHARS characters (NULL: nothing);
 *   %l  a string and a URL: a link when the URL is http(s), else the string alone;
 *   %o  a label ("PR"), an issue, PR or discussion object and a URL: the link
 *       "[PR #12: title](url)" (to the object's html_url when the URL is NULL);
 *   %x  a body: body_excerpt() of it;
 *   %r  markdown this file wrote, as is.
 * Everything else in fmt is written as is. */
static void vformat(struct buf *b, const char *fmt, va_list ap)
{
    for (const char *f = fmt; *f; f++) {
        if (*f != '%') {
            buf_append(b, f, 1);
            continue;
        }
        char conv = *++f;
        BUG_ON(conv != 's' && conv != 'l' && conv != 'o' && conv != 'x' && conv != 'r');
        if (conv == 'r') {
            const char *md = va_arg(ap, const char *);
            buf_printf(b, "%s", md ? md : "");
        } else if (conv == 'o') {
            const char *kind = va_arg(ap, const char *);
            const json_t *o = va_arg(ap, const json_t *);
            const char *url = va_arg(ap, const char *);
            struct buf label;
            buf_init(&label, SIZE_MAX / 2);
            buf_printf(&label, "%s", kind);
            json_int_t n;
            if (jint(o, "number", &n))
                buf_printf(&label, " #%" JSON_INTEGER_FORMAT, n);
            const char *t = connector_jstr(o, "title");
            if (t && *t) {
                char *first = connector_first_line(t, TITLE_CHARS);
                buf_printf(&label, ": %s", first);
                free(first);
            }
            connector_md_link(b, label.data, link_url(url ? url : connector_jstr(o, "html_url")));
            buf_release(&label);
        } else if (conv == 'x') {
            char *ex = body_excerpt(va_arg(ap, const char *));
            connector_md_append(b, ex);
            free(ex);
        } else {
            const char *s = va_arg(ap, const char *);
            const char *url = conv == 'l' ? va_arg(ap, const char *) : NULL;
            char *first = connector_first_line(s, TITLE_CHARS);
            connector_md_link(b, first, link_url(url));
            free(first);
        }
    }
}

/* vformat with its arguments. */
static void append(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vformat(b, fmt, ap);
    va_end(ap);
}

/* Appends to the headline. */
static void head(struct gh *g, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vformat(&g->head, fmt, ap);
    va_end(ap);
}

/* "**login** " to start a headline. */
static void who(struct gh *g)
{
    head(g, "**%s** ", g->actor);
}

/* " in [owner/repo](url)" to end a headline. */
static void in_repo(struct gh *g)
{
    if (*g->repo)
        head(g, " in %l", g->repo, g->repo_url);
}

/* One more line of the body (none when it comes out empty). */
static void line(struct gh *g, const char *fmt, ...)
{
    size_t mark = g->body.len;
    if (mark)
        buf_append(&g->body, "\n", 1);
    size_t start = g->body.len;
    va_list ap;
    va_start(ap, fmt);
    vformat(&g->body, fmt, ap);
    va_end(ap);
    if (g->body.len == start) {
        g->body.len = mark;
        g->body.data[mark] = '\0';
    }
}

static void fact(struct gh *g, const char *name, const char *fmt, ...)
{
    struct buf v;
    buf_init(&v, SIZE_MAX / 2);
    buf_append(&v, "", 0);
    va_list ap;
    va_start(ap, fmt);
    vformat(&v, fmt, ap);
    va_end(ap);
    if (v.len)
        json_array_append_new(g->facts, json_pack("{s:s, s:s}", "name", name, "value", v.data));
    buf_release(&v);
}

/* A fact listing member `key` of each object of an array (labels' names, users' logins). */
static void fact_list(struct gh *g, const char *name, const json_t *array, const char *key)
{
    struct buf v;
    buf_init(&v, SIZE_MAX / 2);
    buf_append(&v, "", 0);
    size_t i, n = 0;
    json_t *o;
    json_array_foreach(array, i, o)
    {
        const char *s = connector_jstr(o, key);
        if (!s || !*s)
            continue;
        if (n++ == LIST_SHOWN) {
            buf_printf(&v, ", …");
            break;
        }
        if (n > 1)
            buf_printf(&v, ", ");
        char *first = connector_first_line(s, 60);
        connector_md_append(&v, first);
        free(first);
    }
    if (n)
        fact(g, name, "%r", v.data);
    buf_release(&v);
}

/* The address of a branch or tag: <repo>/tree/<name>, or "" when the repository has none. */
static void tree_url(struct gh *g, struct buf *url, const char *ref)
{
    buf_init(url, SIZE_MAX / 2);
    buf_append(url, "", 0);
    if (link_url(g->repo_url)) {
        buf_printf(url, "%s/tree/", g->repo_url);
        connector_url_part(url, ref);
    }
}

/* A thread key "<kind>:<owner/repo>#<number>" (none when the object has no number). */
static void thread(struct gh *g, const char *kind, const json_t *o)
{
    json_int_t n;
    if (jint(o, "number", &n))
        CONNECTOR_SET(g->out->thread_key, "%s:%s#%" JSON_INTEGER_FORMAT, kind, g->repo, n);
}

/* The base branch of a pull request is the branch its events are about. */
static void pr_branch(struct gh *g, const json_t *pr)
{
    const char *base = connector_jpath(pr, "base", "ref", NULL);
    if (base)
        CONNECTOR_SET(g->out->branch, "%s", base);
}

static int ignore_action(struct gh *g)
{
    if (!g->action)
        return connector_ignore(g->out, "GitHub '%s' events without an action are not shown",
                                g->event);
    return connector_ignore(g->out, "GitHub '%s' events with action '%s' are not shown", g->event,
                            name_or(g->action, "(unknown)"));
}

/* The object `key` of the payload; NULL with msg set when it is not there. */
static json_t *need(struct gh *g, const char *key, char msg[160])
{
    json_t *o = json_object_get(g->p, key);
    if (json_is_object(o))
        return o;
    snprintf(msg, 160, "a GitHub '%s' event needs '%s'", g->event, key);
    return NULL;
}

/* ---- pushes, branches and tags ---- */

static void commit_line(struct gh *g, const json_t *c)
{
    char sha[8];
    short_sha(connector_jstr(c, "id"), sha);
    const char *login = connector_jpath(c, "author", "username", NULL);
    const char *name = connector_jpath(c, "author", "name", NULL);
    const char *pusher = connector_jpath(g->p, "pusher", "name", NULL);
    const char *author = login ? login : name;
    bool other = author && *author && !is(login, g->actor) && !is(name, g->actor) &&
                 !is(name, pusher) && !is(login, pusher);
    if (*sha)
        line(g, "- %l %s", sha, connector_jstr(c, "url"), connector_jstr(c, "message"));
    else
        line(g, "- %s", connector_jstr(c, "message"));
    if (other)
        append(&g->body, " (%s)", author);
}

static int on_push(struct gh *g, char msg[160])
{
    const char *ref = connector_jstr(g->p, "ref");
    if (!ref || !*ref) {
        snprintf(msg, 160, "a GitHub 'push' event needs 'ref'");
        return CARD_ERR_INVALID;
    }
    bool is_tag = !strncmp(ref, "refs/tags/", 10), is_branch = !strncmp(ref, "refs/heads/", 11);
    const char *name = is_tag ? ref + 10 : is_branch ? ref + 11 : ref;
    if (is_branch)
        CONNECTOR_SET(g->out->branch, "%s", name);
    bool created = json_is_true(json_object_get(g->p, "created"));
    bool deleted = json_is_true(json_object_get(g->p, "deleted"));
    bool forced = json_is_true(json_object_get(g->p, "forced"));
    json_t *commits = json_object_get(g->p, "commits");
    size_t n = json_is_array(commits) ? json_array_size(commits) : 0;
    const char *compare = connector_jstr(g->p, "compare");
    char count[48];
    snprintf(count, sizeof count, "%zu commit%s", n, n == 1 ? "" : "s");
    struct buf tree;
    tree_url(g, &tree, name);
    const char *kind = is_tag ? "tag" : "branch";
    who(g);
    if (deleted) {
        head(g, "deleted %r **%s**", kind, name);
        g->color = COLOR_GREY;
    } else if (is_tag) {
        head(g, "pushed tag %l", name, tree.data);
    } else if (created) {
        head(g, "created branch %l", name, tree.data);
        if (n)
            head(g, " and pushed %l", count, compare);
    } else if (n) {
        head(g, "%r %l to %l", forced ? "force-pushed" : "pushed", count, compare, name, tree.data);
    } else {
        head(g, "%l to %l", forced ? "force-pushed" : "pushed", compare, name, tree.data);
    }
    if (forced && !deleted)
        g->color = COLOR_ORANGE;
    in_repo(g);
    buf_release(&tree);
    if (deleted || is_tag)
        return 0;
    size_t i;
    json_t *c;
    json_array_foreach(commits, i, c)
    {
        if (i == COMMITS_SHOWN)
            break;
        if (json_is_object(c))
            commit_line(g, c);
    }
    if (n > COMMITS_SHOWN) {
        char more[48];
        snprintf(more, sizeof more, "… and %zu more", n - COMMITS_SHOWN);
        line(g, "- %l", more, compare);
    }
    return 0;
}

/* create and delete: a branch or a tag. */
static int on_ref(struct gh *g, bool created)
{
    const char *ref = connector_jstr(g->p, "ref");
    const char *type = connector_jstr(g->p, "ref_type");
    if (!ref || !*ref || !(is(type, "branch") || is(type, "tag")))
        return connector_ignore(g->out, "GitHub '%s' events are shown for branches and tags",
                                g->event);
    if (is(type, "branch"))
        CONNECTOR_SET(g->out->branch, "%s", ref);
    who(g);
    if (created) {
        struct buf tree;
        tree_url(g, &tree, ref);
        head(g, "created %r %l", type, ref, tree.data);
        buf_release(&tree);
    } else {
        head(g, "deleted %r **%s**", type, ref);
        g->color = COLOR_GREY;
    }
    in_repo(g);
    return 0;
}

static int on_create(struct gh *g, char msg[160])
{
    return on_ref(g, true);
}

static int on_delete(struct gh *g, char msg[160])
{
    return on_ref(g, false);
}

/* ---- pull requests ---- */

/* "feature → main" (owner:feature for a fork's branch) as a fact. */
static void branches_fact(struct gh *g, const json_t *pr)
{
    const char *base = connector_jpath(pr, "base", "ref", NULL);
    const char *head_ref = connector_jpath(pr, "head", "ref", NULL);
    const char *head_repo = connector_jpath(pr, "head", "repo", "full_name", NULL);
    const char *label = connector_jpath(pr, "head", "label", NULL);
    if (head_repo && !is(head_repo, g->repo) && label)
        head_ref = label;
    if (base && head_ref)
        fact(g, "Branches", "%s → %s", head_ref, base);
}

static int on_pull_request(struct gh *g, char msg[160])
{
    json_t *pr = need(g, "pull_request", msg);
    if (!pr)
        return CARD_ERR_INVALID;
    pr_branch(g, pr);
    thread(g, "pr", pr);
    const char *a = g->action;
    bool draft = json_is_true(json_object_get(pr, "draft"));
    bool merged = json_is_true(json_object_get(pr, "merged"));
    who(g);
    if (is(a, "opened")) {
        head(g, "opened %o", draft ? "draft PR" : "PR", pr, NULL);
        g->color = draft ? COLOR_GREY : COLOR_GREEN;
    } else if (is(a, "closed")) {
        head(g, "%r %o", merged ? "merged" : "closed", "PR", pr, NULL);
        g->color = merged ? COLOR_PURPLE : COLOR_RED;
        g->out->update_root = true;
    } else if (is(a, "reopened")) {
        head(g, "reopened %o", "PR", pr, NULL);
        g->color = COLOR_GREEN;
        g->out->update_root = true;
    } else if (is(a, "ready_for_review")) {
        head(g, "marked %o as ready for review", "PR", pr, NULL);
        g->color = COLOR_GREEN;
    } else if (is(a, "synchronize")) {
        const char *before = connector_jstr(g->p, "before"), *after = connector_jstr(g->p, "after");
        struct buf url;
        buf_init(&url, SIZE_MAX / 2);
        buf_append(&url, "", 0);
        if (is_hex_sha(before) && is_hex_sha(after) && link_url(g->repo_url))
            buf_printf(&url, "%s/compare/%s..%s", g->repo_url, before, after);
        head(g, "pushed %l to %o", "new commits", url.data, "PR", pr, NULL);
        buf_release(&url);
    } else if (is(a, "review_requested")) {
        const char *reviewer = connector_jpath(g->p, "requested_reviewer", "login", NULL);
        if (!reviewer)
            reviewer = connector_jpath(g->p, "requested_team", "name", NULL);
        head(g, "requested a review from **%s** on %o", reviewer ? reviewer : "someone", "PR", pr,
             NULL);
    } else if (is(a, "assigned")) {
        const char *assignee = connector_jpath(g->p, "assignee", "login", NULL);
        if (is(assignee, g->actor))
            head(g, "assigned themselves to %o", "PR", pr, NULL);
        else
            head(g, "assigned **%s** to %o", assignee ? assignee : "someone", "PR", pr, NULL);
    } else {
        return ignore_action(g);
    }
    in_repo(g);
    if (is(a, "opened"))
        line(g, "%x", connector_jstr(pr, "body"));
    if (is(a, "opened") || is(a, "closed") || is(a, "reopened") || is(a, "ready_for_review"))
        branches_fact(g, pr);
    if (is(a, "opened")) {
        fact_list(g, "Reviewers", json_object_get(pr, "requested_reviewers"), "login");
        fact_list(g, "Assignees", json_object_get(pr, "assignees"), "login");
        fact_list(g, "Labels", json_object_get(pr, "labels"), "name");
    }
    return 0;
}

static int on_pull_request_review(struct gh *g, char msg[160])
{
    json_t *review = need(g, "review", msg), *pr = review ? need(g, "pull_request", msg) : NULL;
    if (!pr)
        return CARD_ERR_INVALID;
    pr_branch(g, pr);
    thread(g, "pr", pr);
    if (!is(g->action, "submitted"))
        return ignore_action(g);
    const char *state = connector_jstr(review, "state");
    const char *url = connector_jstr(review, "html_url");
    who(g);
    if (state && !strcasecmp(state, "approved")) {
        head(g, "%l %o", "approved", url, "PR", pr, NULL);
        g->color = COLOR_GREEN;
    } else if (state && !strcasecmp(state, "changes_requested")) {
        head(g, "%l on %o", "requested changes", url, "PR", pr, NULL);
        g->color = COLOR_ORANGE;
    } else {
        head(g, "%l %o", "reviewed", url, "PR", pr, NULL);
    }
    in_repo(g);
    line(g, "%x", connector_jstr(review, "body"));
    return 0;
}

static int on_pull_request_review_comment(struct gh *g, char msg[160])
{
    json_t *comment = need(g, "comment", msg), *pr = comment ? need(g, "pull_request", msg) : NULL;
    if (!pr)
        return CARD_ERR_INVALID;
    pr_branch(g, pr);
    thread(g, "pr", pr);
    if (!is(g->action, "created"))
        return ignore_action(g);
    who(g);
    head(g, "%l on %o", "commented", connector_jstr(comment, "html_url"), "PR", pr, NULL);
    in_repo(g);
    line(g, "%x", connector_jstr(comment, "body"));
    const char *path = connector_jstr(comment, "path");
    json_int_t at;
    char where[40] = "";
    if (jint(comment, "line", &at) || jint(comment, "original_line", &at))
        snprintf(where, sizeof where, ", line %" JSON_INTEGER_FORMAT, at);
    if (path && *path)
        fact(g, "File", "%s%r", path, where);
    return 0;
}

/* ---- issues, comments, discussions ---- */

static int on_issues(struct gh *g, char msg[160])
{
    json_t *issue = need(g, "issue", msg);
    if (!issue)
        return CARD_ERR_INVALID;
    thread(g, "issue", issue);
    const char *a = g->action;
    who(g);
    if (is(a, "opened")) {
        head(g, "opened %o", "issue", issue, NULL);
        g->color = COLOR_GREEN;
    } else if (is(a, "closed")) {
        bool not_planned = is(connector_jstr(issue, "state_reason"), "not_planned");
        head(g, "closed %o%r", "issue", issue, NULL, not_planned ? " as not planned" : "");
        g->color = not_planned ? COLOR_GREY : COLOR_PURPLE;
        g->out->update_root = true;
    } else if (is(a, "reopened")) {
        head(g, "reopened %o", "issue", issue, NULL);
        g->color = COLOR_GREEN;
        g->out->update_root = true;
    } else if (is(a, "assigned")) {
        const char *assignee = connector_jpath(g->p, "assignee", "login", NULL);
        if (is(assignee, g->actor))
            head(g, "assigned themselves to %o", "issue", issue, NULL);
        else
            head(g, "assigned **%s** to %o", assignee ? assignee : "someone", "issue", issue, NULL);
    } else {
        return ignore_action(g);
    }
    in_repo(g);
    if (is(a, "opened")) {
        line(g, "%x", connector_jstr(issue, "body"));
        fact_list(g, "Assignees", json_object_get(issue, "assignees"), "login");
        fact_list(g, "Labels", json_object_get(issue, "labels"), "name");
    }
    return 0;
}

static int on_issue_comment(struct gh *g, char msg[160])
{
    json_t *comment = need(g, "comment", msg), *issue = comment ? need(g, "issue", msg) : NULL;
    if (!issue)
        return CARD_ERR_INVALID;
    /* a pull request is an issue too: its comments come here, marked by issue.pull_request */
    bool on_pr = json_is_object(json_object_get(issue, "pull_request"));
    thread(g, on_pr ? "pr" : "issue", issue);
    if (!is(g->action, "created"))
        return ignore_action(g);
    who(g);
    head(g, "%l on %o", "commented", connector_jstr(comment, "html_url"), on_pr ? "PR" : "issue",
         issue, NULL);
    in_repo(g);
    line(g, "%x", connector_jstr(comment, "body"));
    return 0;
}

static int on_commit_comment(struct gh *g, char msg[160])
{
    json_t *comment = need(g, "comment", msg);
    if (!comment)
        return CARD_ERR_INVALID;
    if (!is(g->action, "created"))
        return ignore_action(g);
    const char *id = connector_jstr(comment, "commit_id");
    char sha[8];
    short_sha(id, sha);
    struct buf url;
    buf_init(&url, SIZE_MAX / 2);
    buf_append(&url, "", 0);
    if (is_hex_sha(id) && link_url(g->repo_url))
        buf_printf(&url, "%s/commit/%s", g->repo_url, id);
    who(g);
    head(g, "%l on commit %l", "commented", connector_jstr(comment, "html_url"), *sha ? sha : "?",
         url.data);
    buf_release(&url);
    in_repo(g);
    line(g, "%x", connector_jstr(comment, "body"));
    const char *path = connector_jstr(comment, "path");
    if (path && *path)
        fact(g, "File", "%s", path);
    return 0;
}

static int on_discussion(struct gh *g, char msg[160])
{
    json_t *d = need(g, "discussion", msg);
    if (!d)
        return CARD_ERR_INVALID;
    thread(g, "discussion", d);
    who(g);
    if (is(g->action, "created")) {
        head(g, "started %o", "discussion", d, NULL);
        g->color = COLOR_GREEN;
        in_repo(g);
        line(g, "%x", connector_jstr(d, "body"));
        const char *category = connector_jpath(d, "category", "name", NULL);
        if (category && *category)
            fact(g, "Category", "%s", category);
    } else if (is(g->action, "answered")) {
        head(g, "marked an %l to %o", "answer", connector_jpath(g->p, "answer", "html_url", NULL),
             "discussion", d, NULL);
        g->color = COLOR_PURPLE;
        in_repo(g);
        line(g, "%x", connector_jpath(g->p, "answer", "body", NULL));
    } else {
        return ignore_action(g);
    }
    return 0;
}

static int on_discussion_comment(struct gh *g, char msg[160])
{
    json_t *comment = need(g, "comment", msg), *d = comment ? need(g, "discussion", msg) : NULL;
    if (!d)
        return CARD_ERR_INVALID;
    thread(g, "discussion", d);
    if (!is(g->action, "created"))
        return ignore_action(g);
    who(g);
    head(g, "%l on %o", "commented", connector_jstr(comment, "html_url"), "discussion", d, NULL);
    in_repo(g);
    line(g, "%x", connector_jstr(comment, "body"));
    return 0;
}

/* ---- releases, Actions, deployments ---- */

static int on_release(struct gh *g, char msg[160])
{
    json_t *r = need(g, "release", msg);
    if (!r)
        return CARD_ERR_INVALID;
    if (!is(g->action, "published"))
        return connector_ignore(g->out,
                                "GitHub 'release' events with action '%s' are not shown (a "
                                "release is shown once, when published)",
                                name_or(g->action, "(unknown)"));
    const char *tag = connector_jstr(r, "tag_name"), *name = connector_jstr(r, "name");
    if (!name || !*name)
        name = tag;
    bool pre = json_is_true(json_object_get(r, "prerelease"));
    who(g);
    head(g, "published %r %l", pre ? "pre-release" : "release", name && *name ? name : "?",
         connector_jstr(r, "html_url"));
    g->color = pre ? COLOR_ORANGE : COLOR_GREEN;
    in_repo(g);
    line(g, "%x", connector_jstr(r, "body"));
    if (tag && *tag && !is(tag, name))
        fact(g, "Tag", "%s", tag);
    return 0;
}

/* How a run or job ended, in words, and its colour; NULL for the ends not shown. */
static const char *conclusion_words(const char *c, const char **color)
{
    static const struct {
        const char *conclusion, *words, *color;
    } ends[] = {
        {"success", "succeeded", COLOR_GREEN},
        {"failure", "failed", COLOR_RED},
        {"timed_out", "timed out", COLOR_RED},
        {"startup_failure", "failed to start", COLOR_RED},
        {"cancelled", "was cancelled", COLOR_GREY},
        {"action_required", "needs approval", COLOR_ORANGE},
    };
    for (size_t i = 0; c && i < sizeof ends / sizeof ends[0]; i++)
        if (!strcmp(c, ends[i].conclusion)) {
            *color = ends[i].color;
            return ends[i].words;
        }
    return NULL;
}

static int on_workflow_run(struct gh *g, char msg[160])
{
    json_t *run = need(g, "workflow_run", msg);
    if (!run)
        return CARD_ERR_INVALID;
    const char *branch = connector_jstr(run, "head_branch");
    if (branch)
        CONNECTOR_SET(g->out->branch, "%s", branch);
    json_int_t id, attempt = 1, number;
    if (jint(run, "id", &id))
        CONNECTOR_SET(g->out->thread_key, "run:%s#%" JSON_INTEGER_FORMAT, g->repo, id);
    if (!is(g->action, "completed"))
        return connector_ignore(g->out, "workflow runs are shown when completed (this one is '%s')",
                                name_or(g->action, "(unknown)"));
    const char *conclusion = connector_jstr(run, "conclusion");
    const char *words = conclusion_words(conclusion, &g->color);
    if (!conclusion)
        return connector_ignore(g->out, "workflow runs are shown when completed (this one has no "
                                        "conclusion)");
    if (!words)
        return connector_ignore(g->out, "workflow runs that end '%s' are not shown",
                                name_or(conclusion, "(unknown)"));
    jint(run, "run_attempt", &attempt);
    g->out->update_root = attempt > 1; /* a re-run: the thread's first card shows the outcome */
    const char *name = connector_jstr(run, "name");
    if (!name || !*name)
        name = connector_jpath(g->p, "workflow", "name", NULL);
    char *first = connector_first_line(name && *name ? name : "workflow", TITLE_CHARS);
    struct buf label;
    buf_init(&label, SIZE_MAX / 2);
    buf_printf(&label, "%s", first);
    free(first);
    if (jint(run, "run_number", &number))
        buf_printf(&label, " #%" JSON_INTEGER_FORMAT, number);
    head(g, "%l %r", label.data, connector_jstr(run, "html_url"), words);
    buf_release(&label);
    if (branch && *branch) {
        struct buf tree;
        tree_url(g, &tree, branch);
        head(g, " on %l", branch, tree.data);
        buf_release(&tree);
    }
    in_repo(g);
    const char *sha = connector_jstr(run, "head_sha");
    char short_id[8];
    short_sha(sha, short_id);
    if (*short_id) {
        struct buf url;
        buf_init(&url, SIZE_MAX / 2);
        buf_append(&url, "", 0);
        if (is_hex_sha(sha) && link_url(g->repo_url))
            buf_printf(&url, "%s/commit/%s", g->repo_url, sha);
        const char *message = connector_jpath(run, "head_commit", "message", NULL);
        if (!message)
            message = connector_jstr(run, "display_title");
        fact(g, "Commit", "%l %s", short_id, url.data, message);
        buf_release(&url);
    }
    const char *trigger = connector_jstr(run, "event");
    const char *by = connector_jpath(run, "triggering_actor", "login", NULL);
    if (!by)
        by = connector_jpath(run, "actor", "login", NULL);
    if (trigger && by)
        fact(g, "Triggered by", "%s (%s)", by, trigger);
    else if (trigger || by)
        fact(g, "Triggered by", "%s", trigger ? trigger : by);
    json_t *pr = json_array_get(json_object_get(run, "pull_requests"), 0);
    json_int_t pr_number;
    if (jint(pr, "number", &pr_number)) {
        char n[32];
        snprintf(n, sizeof n, "#%" JSON_INTEGER_FORMAT, pr_number);
        struct buf url;
        buf_init(&url, SIZE_MAX / 2);
        buf_append(&url, "", 0);
        if (link_url(g->repo_url))
            buf_printf(&url, "%s/pull/%" JSON_INTEGER_FORMAT, g->repo_url, pr_number);
        fact(g, "Pull request", "%l", n, url.data);
        buf_release(&url);
    }
    if (attempt > 1) {
        char n[32];
        snprintf(n, sizeof n, "%" JSON_INTEGER_FORMAT, attempt);
        fact(g, "Attempt", "%s", n);
    }
    return 0;
}

static int on_workflow_job(struct gh *g, char msg[160])
{
    json_t *job = need(g, "workflow_job", msg);
    if (!job)
        return CARD_ERR_INVALID;
    const char *branch = connector_jstr(job, "head_branch");
    if (branch)
        CONNECTOR_SET(g->out->branch, "%s", branch);
    json_int_t run_id;
    if (jint(job, "run_id", &run_id))
        CONNECTOR_SET(g->out->thread_key, "run:%s#%" JSON_INTEGER_FORMAT, g->repo, run_id);
    const char *conclusion = connector_jstr(job, "conclusion");
    if (!is(g->action, "completed") || !(is(conclusion, "failure") || is(conclusion, "timed_out")))
        return connector_ignore(g->out, "workflow jobs are shown when they fail (the "
                                        "workflow_run event reports the whole run)");
    const char *words = conclusion_words(conclusion, &g->color);
    const char *name = connector_jstr(job, "name");
    head(g, "Job %l %r", name && *name ? name : "?", connector_jstr(job, "html_url"), words);
    const char *workflow = connector_jstr(job, "workflow_name");
    if (workflow && *workflow)
        head(g, " in **%s**", workflow);
    if (branch && *branch)
        head(g, " on %s", branch);
    in_repo(g);
    size_t i, shown = 0;
    json_t *step;
    json_array_foreach(json_object_get(job, "steps"), i, step)
    {
        const char *c = connector_jstr(step, "conclusion");
        if (!(is(c, "failure") || is(c, "timed_out")) || shown++ == LIST_SHOWN)
            continue;
        line(g, "- %s %r", connector_jstr(step, "name"), is(c, "failure") ? "failed" : "timed out");
    }
    return 0;
}

static int on_deployment_status(struct gh *g, char msg[160])
{
    json_t *st = need(g, "deployment_status", msg);
    if (!st)
        return CARD_ERR_INVALID;
    const char *state = connector_jstr(st, "state");
    const char *words = is(state, "success")   ? "succeeded"
                        : is(state, "failure") ? "failed"
                        : is(state, "error")   ? "failed with an error"
                                               : NULL;
    if (!words)
        return connector_ignore(g->out,
                                "deployments are shown when they succeed or fail (this one is "
                                "'%s')",
                                name_or(state, "(unknown)"));
    g->color = is(state, "success") ? COLOR_GREEN : COLOR_RED;
    const char *env = connector_jstr(st, "environment");
    if (!env)
        env = connector_jpath(g->p, "deployment", "environment", NULL);
    const char *ref = connector_jpath(g->p, "deployment", "ref", NULL);
    const char *log = connector_jstr(st, "log_url");
    if (!link_url(log))
        log = connector_jstr(st, "target_url");
    head(g, "%l", "Deployment", log);
    if (ref && *ref)
        head(g, " of **%s**", ref);
    head(g, " to **%s** %r", env && *env ? env : "?", words);
    in_repo(g);
    line(g, "%s", connector_jstr(st, "description"));
    const char *env_url = connector_jstr(st, "environment_url");
    if (link_url(env_url))
        fact(g, "Environment", "%l", env_url, env_url);
    return 0;
}

/* ---- the repository ---- */

static int on_fork(struct gh *g, char msg[160])
{
    json_t *forkee = need(g, "forkee", msg);
    if (!forkee)
        return CARD_ERR_INVALID;
    who(g);
    head(g, "forked %l to %l", g->repo, g->repo_url, connector_jstr(forkee, "full_name"),
         connector_jstr(forkee, "html_url"));
    return 0;
}

static int starred(struct gh *g)
{
    who(g);
    head(g, "starred %l", g->repo, g->repo_url);
    g->color = COLOR_YELLOW;
    json_int_t stars;
    if (jint(json_object_get(g->p, "repository"), "stargazers_count", &stars)) {
        char n[32];
        snprintf(n, sizeof n, "%" JSON_INTEGER_FORMAT, stars);
        fact(g, "Stars", "%s", n);
    }
    return 0;
}

static int on_star(struct gh *g, char msg[160])
{
    if (!is(g->action, "created"))
        return ignore_action(g);
    return starred(g);
}

/* "watch" is GitHub's older name for starring: its one action, "started", is a new star. */
static int on_watch(struct gh *g, char msg[160])
{
    if (!is(g->action, "started"))
        return ignore_action(g);
    return starred(g);
}

static int on_public(struct gh *g, char msg[160])
{
    who(g);
    head(g, "made %l public", g->repo, g->repo_url);
    g->color = COLOR_GREEN;
    return 0;
}

/* GitHub's first delivery to a new webhook (and "Redeliver"): shown whatever the events setting
 * says (no event), so that setting up is confirmed in the channel. */
static int on_ping(struct gh *g, char msg[160])
{
    g->out->event[0] = '\0';
    const char *org = connector_jpath(g->p, "organization", "login", NULL);
    json_t *hook = json_object_get(g->p, "hook");
    if (*g->repo)
        head(g, "Webhook set up for %l", g->repo, g->repo_url);
    else if (org)
        head(g, "Webhook set up for the **%s** organization", org);
    else if (json_object_get(hook, "app_id"))
        head(g, "Webhook set up for a GitHub App");
    else
        head(g, "Webhook set up");
    g->color = COLOR_GREEN;
    const char *zen = connector_jstr(g->p, "zen");
    if (zen && *zen)
        line(g, "*%s*", zen);
    struct buf v;
    buf_init(&v, SIZE_MAX / 2);
    buf_append(&v, "", 0);
    size_t i, n = 0;
    json_t *e;
    json_array_foreach(json_object_get(hook, "events"), i, e)
    {
        const char *name = json_string_value(e);
        if (!name || !*name)
            continue;
        if (n++ == 3 * LIST_SHOWN) {
            buf_printf(&v, ", …");
            break;
        }
        if (n > 1)
            buf_printf(&v, ", ");
        if (is(name, "*"))
            buf_printf(&v, "all events");
        else
            connector_md_append(&v, name);
    }
    if (n)
        fact(g, "Events", "%r", v.data);
    buf_release(&v);
    return 0;
}

static const struct {
    const char *event;
    /* 0 with the card's parts assembled (or the result ignored), or a card_error with msg */
    int (*render)(struct gh *g, char msg[160]);
} handlers[] = {
    {"push", on_push},
    {"pull_request", on_pull_request},
    {"pull_request_review", on_pull_request_review},
    {"pull_request_review_comment", on_pull_request_review_comment},
    {"issues", on_issues},
    {"issue_comment", on_issue_comment},
    {"commit_comment", on_commit_comment},
    {"discussion", on_discussion},
    {"discussion_comment", on_discussion_comment},
    {"release", on_release},
    {"workflow_run", on_workflow_run},
    {"workflow_job", on_workflow_job},
    {"deployment_status", on_deployment_status},
    {"create", on_create},
    {"delete", on_delete},
    {"fork", on_fork},
    {"star", on_star},
    {"watch", on_watch},
    {"public", on_public},
    {"ping", on_ping},
};

static int translate(const struct connector_request *req, struct connector_result *out,
                     char msg[160])
{
    const char *event = req->header ? req->header(req->header_ctx, "X-GitHub-Event") : NULL;
    if (!event || !*event) {
        snprintf(msg, 160, "X-GitHub-Event is missing");
        return CARD_ERR_INVALID;
    }
    json_t *p = req->payload;
    if (!json_is_object(p)) {
        snprintf(msg, 160, "the body is not a JSON object");
        return CARD_ERR_INVALID;
    }
    size_t k = 0;
    while (k < sizeof handlers / sizeof handlers[0] && strcmp(handlers[k].event, event))
        k++;
    if (k == sizeof handlers / sizeof handlers[0])
        return connector_ignore(out, "GitHub '%s' events are not shown",
                                name_or(event, "(unknown)"));
    json_t *repo = json_object_get(p, "repository");
    const char *repo_name = connector_jstr(repo, "full_name");
    struct gh g = {
        .out = out,
        .p = p,
        .event = handlers[k].event,
        .action = connector_jstr(p, "action"),
        .repo = repo_name ? repo_name : "",
        .repo_url = connector_jstr(repo, "html_url"),
        .actor = connector_jpath(p, "sender", "login", NULL),
        .color = COLOR_BLUE,
        .facts = json_array(),
    };
    if (!g.actor)
        g.actor = connector_jpath(p, "pusher", "name", NULL);
    if (!g.actor || !*g.actor)
        g.actor = "someone";
    buf_init(&g.head, SIZE_MAX / 2);
    buf_init(&g.body, SIZE_MAX / 2);
    buf_append(&g.head, "", 0);
    buf_append(&g.body, "", 0);
    CONNECTOR_SET(out->event, "%s", g.event);
    int rc = handlers[k].render(&g, msg);
    if (!rc && out->outcome != CONNECTOR_IGNORED) {
        json_t *mc = connector_messagecard(g.color, g.head.data, g.body.data, g.facts);
        g.facts = NULL;
        rc = connector_card(&connector_github, mc, req->limits, out, msg);
    }
    json_decref(g.facts);
    buf_release(&g.head);
    buf_release(&g.body);
    return rc;
}

const struct connector_type connector_github = {
    .id = "github",
    .name = "GitHub",
    .description = "Pushes, pull requests, reviews, issues, comments, releases and Actions runs "
                   "of a GitHub repository or organization, one short card each; pull "
                   "requests, issues, discussions and workflow runs become threads.",
    .icon = "github",
    .kind = CONNECTOR_PUSH,
    .settings = settings,
    .n_settings = sizeof settings / sizeof settings[0],
    .setup =
        "In GitHub, open the repository (or the organization) and go to **Settings** → "
        "**Webhooks** → **Add webhook**:\n\n"
        "1. **Payload URL**: `{url}`\n"
        "2. **Content type**: `application/json` (`application/x-www-form-urlencoded` works "
        "too)\n"
        "3. **Secret**: `{secret}`\n"
        "4. **Which events would you like to trigger this webhook?** Choose **Let me select "
        "individual events** and tick what this channel should see, e.g. *Pushes*, *Pull "
        "requests*, *Pull request reviews*, *Pull request review comments*, *Issues*, *Issue "
        "comments*, *Releases* and *Workflow runs* (or choose **Send me everything** and narrow "
        "it down with **Events** here).\n"
        "5. Keep **Active** ticked and click **Add webhook**.\n\n"
        "GitHub then sends a ping, and a card \"Webhook set up for …\" appears in this "
        "channel. Each delivery and the answer it got are listed under **Recent Deliveries** "
        "on the webhook's page in GitHub, and in this connector's delivery log here.",
    .delivery_header = "X-GitHub-Delivery",
    .verify = verify,
    .translate = translate,
};
