/* cards.c: dialect detection and the assembly of the canonical card (envelope + content). */
#include "cards_int.h"

#include <string.h>
#include <strings.h>

const char *card_dialect_name(enum card_dialect d)
{
    static const char *const names[] = {
        [CARD_AUTO] = "auto",         [CARD_MESSAGECARD] = "messagecard",
        [CARD_ADAPTIVE] = "adaptive", [CARD_TEXT] = "text",
        [CARD_SLACK] = "slack",       [CARD_DISCORD] = "discord"};
    return d <= CARD_DISCORD ? names[d] : "unknown";
}

static bool is_adaptive_envelope(json_t *p)
{
    json_t *atts = json_object_get(p, "attachments");
    size_t i;
    json_t *a;
    json_array_foreach(atts, i, a)
    {
        const char *ct = jstr(a, "contentType");
        if (ct && !strncasecmp(ct, "application/vnd.microsoft.card.", 31))
            return true;
    }
    const char *type = jstr(p, "type");
    return type && !strcasecmp(type, "message") && json_is_array(atts);
}

/* Shapes real senders use around the two Teams dialects: a bot-style attachment wrapper
 * {"contentType":..., "content":{...}} and a bare {"type":"AdaptiveCard"} without the message
 * envelope. Returns the payload to adapt (a new reference). */
static json_t *unwrap(json_t *p)
{
    const char *ct = jstr(p, "contentType");
    json_t *content = json_object_get(p, "content");
    if (ct && json_is_object(content))
        p = content;
    const char *type = jstr(p, "type");
    if (type && !strcmp(type, "AdaptiveCard"))
        return json_pack("{s:s, s:[{s:s, s:O}]}", "type", "message", "attachments", "contentType",
                         "application/vnd.microsoft.card.adaptive", "content", p);
    return json_incref(p);
}

enum card_dialect cards_detect(json_t *p)
{
    const char *type = jstr(p, "@type");
    if (!type)
        type = jstr(p, "type");
    if (type && !strcasecmp(type, "MessageCard"))
        return CARD_MESSAGECARD;
    if (is_adaptive_envelope(p))
        return CARD_ADAPTIVE;
    static const char *const messagecard_keys[] = {"sections", "potentialAction", "themeColor",
                                                   "summary",  "title",           "@context"};
    for (size_t i = 0; i < sizeof messagecard_keys / sizeof messagecard_keys[0]; i++)
        if (json_object_get(p, messagecard_keys[i]))
            return CARD_MESSAGECARD;
    static const char *const discord_keys[] = {"content", "embeds", "avatar_url", "tts"};
    for (size_t i = 0; i < sizeof discord_keys / sizeof discord_keys[0]; i++)
        if (json_object_get(p, discord_keys[i]))
            return CARD_DISCORD;
    static const char *const slack_keys[] = {"blocks",   "attachments", "mrkdwn",    "icon_emoji",
                                             "icon_url", "username",    "thread_ts", "channel"};
    for (size_t i = 0; i < sizeof slack_keys / sizeof slack_keys[0]; i++)
        if (json_object_get(p, slack_keys[i]))
            return CARD_SLACK;
    return CARD_TEXT;
}

/* A summary from the first line of the fallback, at most 120 characters. */
static json_t *derive_summary(const char *fallback)
{
    size_t n = strcspn(fallback, "\n");
    size_t bytes = 0, chars = 0;
    while (bytes < n && chars < 120) {
        bytes++;
        while (bytes < n && ((unsigned char)fallback[bytes] & 0xC0) == 0x80)
            bytes++;
        chars++;
    }
    return n ? json_stringn(fallback, bytes) : json_null();
}

int cards_from_payload(json_t *payload, enum card_dialect forced, const struct card_limits *lim,
                       struct card *out, char msg[160])
{
    memset(out, 0, sizeof *out);
    msg[0] = '\0';
    if (!json_is_object(payload)) {
        snprintf(msg, 160, "the payload must be a JSON object");
        return CARD_ERR_INVALID;
    }
    if (forced != CARD_SLACK && forced != CARD_DISCORD)
        payload = unwrap(payload);
    else
        json_incref(payload);
    enum card_dialect d = forced ? forced : cards_detect(payload);
    struct builder b = {.lim = lim ? lim : &card_default_limits,
                        .body = json_array(),
                        .actions = json_array(),
                        .msg = msg};
    buf_init(&b.notes, 64 * 1024);
    int rc;
    switch (d) {
    case CARD_MESSAGECARD:
        rc = adapt_messagecard(&b, payload);
        break;
    case CARD_ADAPTIVE:
        rc = adapt_adaptive(&b, payload);
        break;
    case CARD_SLACK:
        rc = adapt_slack(&b, payload);
        break;
    case CARD_DISCORD:
        rc = adapt_discord(&b, payload);
        break;
    default:
        d = CARD_TEXT;
        rc = adapt_text(&b, payload);
        break;
    }
    if (!rc && b.err)
        rc = b.err;
    json_t *content = b.adaptive_root;
    if (!content)
        content = json_pack("{s:s, s:s, s:s, s:O, s:O}", "type", "AdaptiveCard", "$schema",
                            "http://adaptivecards.io/schemas/adaptive-card.json", "version", "1.5",
                            "body", b.body, "actions", b.actions);
    json_decref(b.body);
    json_decref(b.actions);
    json_decref(payload);
    if (!rc)
        builder_safe_markdown(&b, content, 0);
    if (rc) {
        json_decref(content);
        buf_release(&b.notes);
        return rc;
    }
    json_t *card = json_pack(
        "{s:{s:s, s:o, s:o, s:s, s:{s:o, s:o}}, s:o}", "envelope", "dialect", card_dialect_name(d),
        "summary", json_null(), "themeColor", b.theme[0] ? json_string(b.theme) : json_null(),
        "fallback", "", "sender", "name", json_null(), "image", json_null(), "content", content);
    char *text = cards_render_text(card);
    if (b.notes.len) {
        size_t n = strlen(text) + b.notes.len + 2;
        text = xrealloc(text, n);
        if (*text)
            strcat(text, "\n");
        strcat(text, b.notes.data);
    }
    json_t *env = json_object_get(card, "envelope");
    json_object_set_new(env, "fallback", json_string(text));
    json_object_set_new(env, "summary",
                        b.summary && *b.summary ? json_string(b.summary) : derive_summary(text));
    if (b.sender_name || b.sender_image) {
        json_t *sender = json_object_get(env, "sender");
        if (b.sender_name)
            json_object_set_new(sender, "name", json_string(b.sender_name));
        if (b.sender_image && cards_url_is_image(b.sender_image))
            json_object_set_new(sender, "image", json_string(b.sender_image));
        json_object_set_new(env, "senderOverride", json_true());
    }
    buf_release(&b.notes);
    out->dialect = d;
    out->json = card;
    out->fallback = text;
    return 0;
}

void card_set_sender(struct card *c, const char *name, const char *image)
{
    json_t *env = json_object_get(c->json, "envelope");
    json_t *sender = json_object_get(env, "sender");
    if (json_is_true(json_object_get(env, "senderOverride"))) {
        /* the payload chose who it speaks as: keep that, and say through which connector */
        json_object_set_new(env, "via", json_string(name));
        if (json_is_null(json_object_get(sender, "image")) && image)
            json_object_set_new(sender, "image", json_string(image));
        return;
    }
    json_object_set_new(sender, "name", json_string(name));
    json_object_set_new(sender, "image", image ? json_string(image) : json_null());
}

void card_release(struct card *c)
{
    json_decref(c->json);
    free(c->fallback);
    memset(c, 0, sizeof *c);
}
