/* cards: the card model and the adapters that turn every webhook dialect into it.
 *
 * The canonical card is one JSON object:
 *   {"envelope": {"dialect", "summary", "themeColor" ("#RRGGBB" or null), "fallback",
 *                 "sender": {"name", "image"}},           (sender filled by the caller)
 *    "content":  {"type":"AdaptiveCard", "version":"1.5", "body":[...], "actions":[...]}}
 * Every dialect (Teams MessageCard, Adaptive Card message, plain text, Slack, Discord) becomes
 * that. What the Adaptive Card cannot show goes into the fallback text, never silently lost;
 * unknown fields are ignored. URLs are filtered: only http(s) and mailto links, and http(s) or
 * data:image images survive (a dropped one is named in the fallback).
 *
 * Pure: no I/O, no global state; unit-tested and fuzzed directly. Not for: HTTP replies
 * (api/webhook.c), storage. */
#ifndef SB_CARDS_H
#define SB_CARDS_H

#include "../base/base.h"

enum card_dialect {
    CARD_AUTO = 0,
    CARD_MESSAGECARD,
    CARD_ADAPTIVE,
    CARD_TEXT,
    CARD_SLACK,
    CARD_DISCORD,
};

const char *card_dialect_name(enum card_dialect d);

enum card_error {
    CARD_OK = 0,
    CARD_ERR_EMPTY,   /* nothing to show: Teams "Summary or Text is required." */
    CARD_ERR_INVALID, /* a shape the dialect does not allow (message says which) */
    CARD_ERR_LIMIT,   /* over a limit (message says which) */
};

struct card_limits {
    size_t max_sections; /* MessageCard sections, Slack attachments/blocks, Discord embeds */
    size_t max_facts;    /* per fact set */
    size_t max_images;   /* per image set */
    size_t max_actions;  /* per action list */
    size_t max_text;     /* characters in any one text */
    size_t max_elements; /* elements in the whole card */
};
/* The defaults: generous beside Teams' own (10 sections, 5 images and actions per section). */
extern const struct card_limits card_default_limits;

struct card {
    enum card_dialect dialect;
    json_t *json;   /* {"envelope":..., "content":...}; owned */
    char *fallback; /* plain text (also the message's text); owned */
};

/* Detects the dialect of a parsed payload by its shape (CARD_AUTO when forced is CARD_AUTO) and
 * builds the canonical card. 0 with *out filled (card_release it), or a card_error with msg set.
 * The payload is only read. */
int cards_from_payload(json_t *payload, enum card_dialect forced, const struct card_limits *lim,
                       struct card *out, char msg[160]);
enum card_dialect cards_detect(json_t *payload);
void card_release(struct card *c);

/* Sets the sender of a card's envelope (name and image URL, image may be NULL). */
void card_set_sender(struct card *c, const char *name, const char *image);

/* Plain-text rendering of a canonical card (terminal client, notifications, fallback). The
 * caller frees. */
char *cards_render_text(const json_t *card);
/* HTML rendering of a canonical card for e-mail (render_html.c; a group mailbox's HTML part): a
 * fragment, one <table>, that the caller puts into the mail's document. Inline styles only (fixed
 * ones, none from the card); markdown through cmark-gfm, raw HTML in it shown as text; every
 * string of the card escaped; links only http/https/mailto, images only http/https (data: images
 * become an "[image]" note); no script, form or event handler whatever the card holds, not only
 * for what cards_from_payload made. Never NULL; the caller frees. */
char *cards_render_html(const json_t *card);
/* Text for HTML (element content or a double-quoted attribute), escaped as the renderer escapes
 * card text: & < > " ' as entities, control characters but newlines dropped. The caller frees. */
char *cards_html_escape(const char *text);
/* Terminal rendering of a canonical card (the terminal client's `tail`): every line starts with
 * a bar "┃" (in the theme colour when `colour`), titles bold, sections apart, facts aligned
 * "name: value", links "text <url>", actions "[Title] <url>"; with `colour` ANSI SGR escapes
 * (bold, dim, underline, 24-bit colour), without none at all. Control characters and escape
 * sequences inside the card are made visible (caret notation), never passed through. No
 * trailing newline. The caller frees. */
char *cards_render_term(const json_t *card, bool colour);
/* One markdown text (a user's message) rendered and neutralised the same way, without a bar.
 * The caller frees. */
char *cards_render_term_text(const char *markdown, bool colour);
/* s with every control character made visible, for names and other one-line texts from a
 * server ("^[" for ESC, "^J" for a newline). The caller frees. */
char *cards_term_clean(const char *s);

/* Whether a URL may be a link (http, https, mailto) / an image (http, https, data:image/...). */
bool cards_url_is_link(const char *url);
bool cards_url_is_image(const char *url);
/* "#RRGGBB" from "0076D7", "#0076d7", "good"/"warning"/"danger", or an integer colour; false
 * when it is none of these. */
bool cards_color(json_t *v, char out[8]);

#endif
