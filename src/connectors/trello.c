/* trello.c: the Trello connector: a webhook on a board, created through Trello's API (Trello has
 * no settings page for webhooks). Trello signs each request: X-Trello-Webhook is the base64 of
 * the HMAC-SHA1, keyed with the API key's secret, of the raw body followed by the exact callback
 * URL. Each action on the board becomes one short card ("Alice moved Fix login from Doing to
 * Done on Roadmap"); the actions on one card are a thread ("card:<card id>"), so that its
 * comments, moves and checklist items follow its creation. Not for: the HEAD request Trello
 * makes before it creates a webhook (api/webhook.c answers it), board-level settings changes
 * (ignored). */
#include "connectors.h"

#include <stdio.h>
#include <string.h>

const struct connector_type connector_trello;

#define COMMENT_CHARS 600
#define DESC_CHARS 300

static const char *const events[] = {
    "createCard",
    "copyCard",
    "updateCard",
    "commentCard",
    "addMemberToCard",
    "removeMemberFromCard",
    "addLabelToCard",
    "removeLabelFromCard",
    "addAttachmentToCard",
    "addChecklistToCard",
    "updateCheckItemStateOnCard",
    "deleteCard",
    "moveCardToBoard",
    "createList",
    "updateList",
    NULL,
};

static const struct connector_setting settings[] = {
    {"name", "Name", "string", true, false, NULL, NULL, NULL, 0, 128},
    {"image", "Image", "image", false, false, NULL, NULL, NULL, 0, 0},
    {"secret", "Trello API secret", "password", true, true,
     "The secret of the API key the webhook is created with (trello.com/power-ups/admin, your "
     "Power-Up, API key): Trello signs every event with it.",
     NULL, NULL, 0, 0},
    {"events", "Actions", "events", false, false,
     "The actions to post; none selected posts all of them.", events, "[]", 0, 0},
};

static int verify(const struct connector_request *req, char msg[160])
{
    msg[0] = '\0';
    if (!req->secret || !*req->secret) {
        snprintf(msg, 160, "this connector has no Trello API secret: enter it in its settings");
        return -ERR_UNAUTHORIZED;
    }
    const char *sig = req->header(req->header_ctx, "X-Trello-Webhook");
    if (!sig || !*sig) {
        snprintf(msg, 160, "X-Trello-Webhook is missing: Trello signs every event it sends");
        return -ERR_UNAUTHORIZED;
    }
    if (!req->callback_url) {
        snprintf(msg, 160, "the callback URL is unknown: the signature cannot be checked");
        return -ERR_UNAUTHORIZED;
    }
    char expect[32];
    hmac_sha1_base64(req->secret, req->body, req->body_len, req->callback_url,
                     strlen(req->callback_url), expect);
    if (!secret_equal(sig, expect)) {
        snprintf(msg, 160,
                 "X-Trello-Webhook does not match: check the API secret, and that the "
                 "webhook's callbackURL is exactly this connector's URL");
        return -ERR_UNAUTHORIZED;
    }
    return 0;
}

/* The action being rendered. */
struct tr {
    const json_t *action;
    const json_t *data;
    const char *who;
    struct buf head; /* the headline (markdown) */
    struct buf body; /* may stay empty */
};

/* Whether a Trello short link can go into a URL as it is. */
static bool is_short_link(const char *s)
{
    if (!s || !*s || strlen(s) > 32)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')))
            return false;
    return true;
}

/* Appends a card or board (kind "c", "b") linked to its Trello page: [name](https://trello.com/
 * c/x); without a link when kind is NULL. A card without a name is "card #12". */
static void link_object(struct buf *b, const json_t *obj, const char *kind, const char *fallback)
{
    const char *name = connector_jstr(obj, "name");
    char label[48];
    json_t *id_short = json_object_get(obj, "idShort");
    if (!name || !*name) {
        if (json_is_integer(id_short))
            snprintf(label, sizeof label, "%s #%lld", fallback,
                     (long long)json_integer_value(id_short));
        else
            snprintf(label, sizeof label, "a %s", fallback);
        name = label;
    }
    const char *short_link = connector_jstr(obj, "shortLink");
    char url[64] = "";
    if (kind && is_short_link(short_link))
        snprintf(url, sizeof url, "https://trello.com/%s/%s", kind, short_link);
    connector_md_link(b, name, *url ? url : NULL);
}

static void card(struct tr *t)
{
    link_object(&t->head, json_object_get(t->data, "card"), "c", "card");
}

static void on_board(struct tr *t)
{
    const json_t *board = json_object_get(t->data, "board");
    if (!connector_jstr(board, "name"))
        return;
    buf_printf(&t->head, " on ");
    link_object(&t->head, board, "b", "board");
}

/* **text**, escaped. */
static void bold(struct buf *b, const char *text)
{
    buf_printf(b, "**");
    connector_md_append(b, text && *text ? text : "?");
    buf_printf(b, "**");
}

static void actor(struct tr *t, const char *verb)
{
    bold(&t->head, t->who);
    buf_printf(&t->head, " %s ", verb);
}

static void excerpt(struct tr *t, const char *text, size_t chars)
{
    char *ex = connector_excerpt(text, chars);
    connector_md_append(&t->body, ex);
    free(ex);
}

/* A due date as Trello sends it ("2024-03-08T17:00:00.000Z") shown as "2024-03-08 17:00 UTC". */
static void append_date(struct buf *b, const char *iso)
{
    static const char shape[] = "0000-00-00T00:00"; /* 0: a digit */
    bool shaped = iso && strlen(iso) > 16 && iso[strlen(iso) - 1] == 'Z';
    for (size_t i = 0; shaped && i < sizeof shape - 1; i++)
        shaped = shape[i] == '0' ? iso[i] >= '0' && iso[i] <= '9' : iso[i] == shape[i];
    if (!shaped) {
        bold(b, iso);
        return;
    }
    buf_printf(b, "**%.10s %.5s UTC**", iso, iso + 11);
}

static int render_update_card(struct tr *t, struct connector_result *out)
{
    const json_t *old = json_object_get(t->data, "old");
    const json_t *c = json_object_get(t->data, "card");
    const json_t *before = json_object_get(t->data, "listBefore");
    const json_t *after = json_object_get(t->data, "listAfter");
    const char *name = connector_jstr(c, "name");
    if (before && after) {
        actor(t, "moved");
        card(t);
        buf_printf(&t->head, " from ");
        bold(&t->head, connector_jstr(before, "name"));
        buf_printf(&t->head, " to ");
        bold(&t->head, connector_jstr(after, "name"));
    } else if (json_object_get(old, "closed")) {
        actor(t, json_is_true(json_object_get(c, "closed")) ? "archived" : "restored");
        card(t);
    } else if (connector_jstr(old, "name")) {
        actor(t, "renamed");
        bold(&t->head, connector_jstr(old, "name"));
        buf_printf(&t->head, " to ");
        card(t);
    } else if (json_object_get(old, "desc")) {
        const char *desc = connector_jstr(c, "desc");
        actor(t, desc && *desc ? "changed the description of" : "removed the description of");
        card(t);
        if (desc && *desc)
            excerpt(t, desc, DESC_CHARS);
    } else if (json_object_get(old, "due")) {
        const char *due = connector_jstr(c, "due");
        actor(t, due ? "set the due date of" : "removed the due date of");
        card(t);
        if (due) {
            buf_printf(&t->head, " to ");
            append_date(&t->head, due);
        }
    } else if (json_object_get(old, "dueComplete")) {
        actor(t, "marked the due date of");
        card(t);
        buf_printf(&t->head,
                   json_is_true(json_object_get(c, "dueComplete")) ? " complete" : " incomplete");
    } else if (json_object_get(old, "idList")) {
        actor(t, "moved");
        card(t);
        buf_printf(&t->head, " to another list");
    } else {
        void *first = json_object_iter((json_t *)old);
        const char *key = first ? json_object_iter_key(first) : NULL;
        if (key && !strcmp(key, "pos"))
            return connector_ignore(out, "card '%.60s' was moved within its list",
                                    name ? name : "?");
        return connector_ignore(out, "card '%.60s': a change of '%.40s' is not shown",
                                name ? name : "?", key ? key : "nothing");
    }
    on_board(t);
    return 0;
}

/* The member an action is about: action.member, else data.member. */
static const char *member_name(const struct tr *t)
{
    const char *names[] = {connector_jpath(t->action, "member", "fullName", NULL),
                           connector_jpath(t->action, "member", "username", NULL),
                           connector_jpath(t->data, "member", "name", NULL)};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i] && *names[i])
            return names[i];
    return "someone";
}

/* Whether the member an action is about is the one who did it. */
static bool is_self(const struct tr *t)
{
    const char *id = connector_jstr(t->data, "idMember");
    const char *by = connector_jstr(t->action, "idMemberCreator");
    return id && by && !strcmp(id, by);
}

static void label_name(struct buf *b, const json_t *data)
{
    const char *name = connector_jpath(data, "label", "name", NULL);
    if (!name || !*name)
        name = connector_jstr(data, "text");
    if (!name || !*name)
        name = connector_jpath(data, "label", "color", NULL);
    bold(b, name);
}

static int render(struct tr *t, const char *type, struct connector_result *out)
{
    const json_t *d = t->data;
    if (!strcmp(type, "createCard")) {
        actor(t, "created");
        card(t);
        const char *list = connector_jpath(d, "list", "name", NULL);
        if (list) {
            buf_printf(&t->head, " in ");
            bold(&t->head, list);
        }
    } else if (!strcmp(type, "copyCard")) {
        actor(t, "copied");
        card(t);
        const char *from = connector_jpath(d, "cardSource", "name", NULL);
        if (from) {
            buf_printf(&t->head, " from ");
            bold(&t->head, from);
        }
        const char *list = connector_jpath(d, "list", "name", NULL);
        if (list) {
            buf_printf(&t->head, " into ");
            bold(&t->head, list);
        }
    } else if (!strcmp(type, "updateCard")) {
        int rc = render_update_card(t, out);
        if (rc || out->outcome == CONNECTOR_IGNORED)
            return rc;
        return 0; /* on_board done */
    } else if (!strcmp(type, "commentCard")) {
        actor(t, "commented on");
        card(t);
        excerpt(t, connector_jstr(d, "text"), COMMENT_CHARS);
    } else if (!strcmp(type, "addMemberToCard") || !strcmp(type, "removeMemberFromCard")) {
        bool add = !strcmp(type, "addMemberToCard");
        if (is_self(t)) {
            actor(t, add ? "joined" : "left");
        } else {
            actor(t, add ? "added" : "removed");
            bold(&t->head, member_name(t));
            buf_printf(&t->head, add ? " to " : " from ");
        }
        card(t);
    } else if (!strcmp(type, "addLabelToCard") || !strcmp(type, "removeLabelFromCard")) {
        bool add = !strcmp(type, "addLabelToCard");
        actor(t, add ? "added the label" : "removed the label");
        label_name(&t->head, d);
        buf_printf(&t->head, add ? " to " : " from ");
        card(t);
    } else if (!strcmp(type, "addAttachmentToCard")) {
        const json_t *a = json_object_get(d, "attachment");
        const char *name = connector_jstr(a, "name");
        actor(t, "attached");
        connector_md_link(&t->head, name && *name ? name : "a file", connector_jstr(a, "url"));
        buf_printf(&t->head, " to ");
        card(t);
    } else if (!strcmp(type, "addChecklistToCard")) {
        actor(t, "added the checklist");
        bold(&t->head, connector_jpath(d, "checklist", "name", NULL));
        buf_printf(&t->head, " to ");
        card(t);
    } else if (!strcmp(type, "updateCheckItemStateOnCard")) {
        const char *state = connector_jpath(d, "checkItem", "state", NULL);
        bool done = state && !strcmp(state, "complete");
        actor(t, done ? "completed" : "marked");
        bold(&t->head, connector_jpath(d, "checkItem", "name", NULL));
        buf_printf(&t->head, done ? " in " : " incomplete in ");
        card(t);
    } else if (!strcmp(type, "deleteCard")) {
        actor(t, "deleted"); /* no link: the card is gone */
        link_object(&t->head, json_object_get(d, "card"), NULL, "card");
        const char *list = connector_jpath(d, "list", "name", NULL);
        if (list) {
            buf_printf(&t->head, " from ");
            bold(&t->head, list);
        }
    } else if (!strcmp(type, "moveCardToBoard")) {
        actor(t, "moved");
        card(t);
        const char *from = connector_jpath(d, "boardSource", "name", NULL);
        if (from) {
            buf_printf(&t->head, " from the board ");
            bold(&t->head, from);
        }
        buf_printf(&t->head, " to ");
        link_object(&t->head, json_object_get(d, "board"), "b", "board");
        return 0;
    } else if (!strcmp(type, "createList")) {
        actor(t, "added the list");
        bold(&t->head, connector_jpath(d, "list", "name", NULL));
    } else if (!strcmp(type, "updateList")) {
        const json_t *old = json_object_get(d, "old");
        const json_t *list = json_object_get(d, "list");
        if (json_object_get(old, "closed")) {
            actor(t, json_is_true(json_object_get(list, "closed")) ? "archived the list"
                                                                   : "restored the list");
            bold(&t->head, connector_jstr(list, "name"));
        } else if (connector_jstr(old, "name")) {
            actor(t, "renamed the list");
            bold(&t->head, connector_jstr(old, "name"));
            buf_printf(&t->head, " to ");
            bold(&t->head, connector_jstr(list, "name"));
        } else {
            return connector_ignore(out, "list '%.60s': this change is not shown",
                                    connector_jstr(list, "name") ? connector_jstr(list, "name")
                                                                 : "?");
        }
    } else if (!strcmp(type, "moveCardFromBoard")) {
        return connector_ignore(out, "a card left this board (the board it went to reports "
                                     "moveCardToBoard)");
    } else {
        return connector_ignore(out, "Trello '%.60s' actions are not shown", type);
    }
    on_board(t);
    return 0;
}

static int translate(const struct connector_request *req, struct connector_result *out,
                     char msg[160])
{
    const json_t *action = json_object_get(req->payload, "action");
    const char *type = connector_jstr(action, "type");
    if (!type || !*type) {
        snprintf(msg, 160, "not a Trello webhook event: no 'action.type'");
        return CARD_ERR_INVALID;
    }
    CONNECTOR_SET(out->event, "%s", type);
    const json_t *data = json_object_get(action, "data");
    if (!json_is_object(data)) {
        snprintf(msg, 160, "a Trello action needs 'action.data'");
        return CARD_ERR_INVALID;
    }
    const char *card_id = connector_jpath(data, "card", "id", NULL);
    if (card_id && *card_id)
        CONNECTOR_SET(out->thread_key, "card:%s", card_id);
    struct tr t = {.action = action, .data = data};
    t.who = connector_jpath(action, "memberCreator", "fullName", NULL);
    if (!t.who || !*t.who)
        t.who = connector_jpath(action, "memberCreator", "username", NULL);
    if (!t.who || !*t.who)
        t.who = "Someone";
    buf_init(&t.head, SIZE_MAX / 2);
    buf_init(&t.body, SIZE_MAX / 2);
    buf_append(&t.head, "", 0);
    int rc = render(&t, type, out);
    if (!rc && out->outcome != CONNECTOR_IGNORED) {
        json_t *mc = connector_messagecard(NULL, t.head.data, t.body.data, NULL);
        rc = connector_card(&connector_trello, mc, req->limits, out, msg);
    }
    buf_release(&t.head);
    buf_release(&t.body);
    return rc;
}

const struct connector_type connector_trello = {
    .id = "trello",
    .name = "Trello",
    .description = "What happens on a Trello board: cards created, moved, commented on, "
                   "assigned and archived, one short card each; the actions on a card become "
                   "a thread.",
    .icon = "trello",
    .kind = CONNECTOR_PUSH,
    .settings = settings,
    .n_settings = sizeof settings / sizeof settings[0],
    .setup =
        "Trello has no settings page for webhooks: one is created with a request to Trello's "
        "API, with an API key and a token.\n\n"
        "1. Open https://trello.com/power-ups/admin, create a Power-Up if you have none, and open "
        "its **API key** page. The **Secret** shown there is this connector's **Trello API "
        "secret** (entered when it was added; change it with Edit settings if it differs). Note "
        "the **API key**, then follow the **Token** link beside it and allow access to get a "
        "token.\n"
        "2. Find the board's id: open the board in a browser, add `.json` to its address, and "
        "copy the first `\"id\"` value.\n"
        "3. Create the webhook (put in your key, token and board id; the callback URL must be "
        "exactly this one, as Trello signs it):\n\n"
        "```\n"
        "curl -X POST \"https://api.trello.com/1/webhooks/?key=YOUR_API_KEY&token=YOUR_TOKEN\" \\\n"
        "  -H \"Content-Type: application/json\" \\\n"
        "  -d '{\"callbackURL\": \"{url}\", \"idModel\": \"BOARD_ID\", "
        "\"description\": \"Switchboard\"}'\n"
        "```\n\n"
        "Trello first checks the URL with a HEAD request, then answers with the new webhook's "
        "`id`. From then on the board's actions appear here; to stop them, delete the webhook: "
        "`curl -X DELETE \"https://api.trello.com/1/webhooks/WEBHOOK_ID?key=YOUR_API_KEY&token="
        "YOUR_TOKEN\"`.",
    .verify = verify,
    .translate = translate,
};
