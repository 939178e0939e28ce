/* connectors: the catalog (one table, catalog.def) and one file per connector type: its settings
 * schema and how a request to its URL becomes a card. Pure: no I/O; the core stores and delivers.
 * Adding a connector type is adding a row and a file, not editing the core. */
#ifndef SB_CONNECTORS_H
#define SB_CONNECTORS_H

#include "../cards/cards.h"

struct connector_setting {
    const char *name;
    const char *label;
    const char *type; /* "string", "image", "secret", "url", "number", "choice" */
    bool required;
    bool secret;
};

/* One request to a connector's URL, as the translator sees it. */
struct connector_request {
    json_t *payload;          /* the parsed JSON body */
    enum card_dialect forced; /* from the URL suffix, or CARD_AUTO */
    const struct card_limits *limits;
};

struct connector_type {
    const char *id;   /* "incoming_webhook" */
    const char *name; /* "Incoming Webhook" */
    const char *description;
    const char *icon; /* an icon name the clients know */
    const struct connector_setting *settings;
    size_t n_settings;
    /* Turns a request into a card: 0, or a card_error with msg set. */
    int (*translate)(const struct connector_request *req, struct card *out, char msg[160]);
};

/* The type with this id, or NULL. */
const struct connector_type *connectors_find(const char *id);
/* The catalog as the API lists it: [{"id","name","description","icon","settings":[...]}]. */
json_t *connectors_catalog_json(void);

#endif
