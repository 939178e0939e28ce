/* cards_int.h: the card builder the adapters share: Adaptive Card elements, limits, and the
 * notes that carry into the fallback text whatever the card could not show. */
#ifndef SB_CARDS_INT_H
#define SB_CARDS_INT_H

#include "cards.h"

struct builder {
    const struct card_limits *lim;
    json_t *body;     /* the Adaptive Card's body */
    json_t *actions;  /* its top-level actions */
    struct buf notes; /* appended to the fallback: what the card does not show */
    size_t elements;
    int err;   /* first error (card_error), 0 while fine */
    char *msg; /* its message (the caller's buffer, 160 bytes) */
    const char *summary;
    char theme[8];                          /* "#RRGGBB" or "" */
    const char *sender_name, *sender_image; /* overrides from the payload (Slack, Discord) */
    json_t *adaptive_root; /* an Adaptive Card sent whole: its root (owned), else NULL */
};

/* Records the first error; returns it. */
int builder_fail(struct builder *b, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Adds a note for the fallback text ("image not shown: ..."). */
void builder_note(struct builder *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends an element to `to` (an array), counting it against the element limit; steals el. */
void builder_add(struct builder *b, json_t *to, json_t *el);
/* Checks a text's length; true when it may be used. */
bool builder_text_ok(struct builder *b, const char *what, const char *text);
/* Checks a collection's size against a limit; true when within. */
bool builder_count_ok(struct builder *b, const char *what, size_t n, size_t max);

/* Turns markdown links with destinations that are not allowed into plain text, in every text
 * and fact of a card (noting what went). */
void builder_safe_markdown(struct builder *b, json_t *node, int depth);

/* Adds a TextBlock of text, as a markdown link to url when url is allowed (without, and noted,
 * when it is not); nothing when text is empty or too long (the latter fails the card). */
void builder_linked_text(struct builder *b, json_t *to, const char *what, const char *text,
                         const char *url, const char *size, const char *weight, bool subtle);
/* Adds a fact after checking both texts' lengths ("<what> name/value is longer than ..."); false
 * (the card fails) when one is too long. */
bool builder_fact(struct builder *b, json_t *set, const char *what, const char *title,
                  const char *value);

/* Adaptive Card elements (new references). */
json_t *ac_text(const char *text, const char *size, const char *weight, bool subtle);
json_t *ac_fact_set(void);
void ac_fact_add(json_t *set, const char *title, const char *value);
/* An Image, or NULL (with a note) when the URL is not an allowed image. */
json_t *ac_image(struct builder *b, const char *url, const char *alt, const char *size);
json_t *ac_container(bool separator);
json_t *ac_items(json_t *container); /* its items array (borrowed) */
/* An Action.OpenUrl, or NULL (with a note) when the URL is not an allowed link. */
json_t *ac_open_url(struct builder *b, const char *title, const char *url);
/* An action kept for display but not executable here (HttpPOST, Submit...). */
json_t *ac_inert_action(const char *title, const char *kind, json_t *details);

/* String member of obj, or NULL when absent or not a string. */
const char *jstr(json_t *obj, const char *key);
/* Case-insensitive member lookup (msTeams vs msteams). */
json_t *jget_ci(json_t *obj, const char *key);

/* The adapters. */
int adapt_messagecard(struct builder *b, json_t *p);
int adapt_adaptive(struct builder *b, json_t *p);
int adapt_text(struct builder *b, json_t *p);
int adapt_slack(struct builder *b, json_t *p);
int adapt_discord(struct builder *b, json_t *p);

/* Slack mrkdwn to the card's markdown (bold, strike, links, mentions, entities). Caller frees. */
char *slack_mrkdwn_to_markdown(const char *s);
/* The same, noting links it had to drop (schemes not allowed) into notes. */
char *slack_mrkdwn_to_markdown_noting(const char *s, struct buf *notes);

#endif
