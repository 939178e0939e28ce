/* incoming_webhook.c: the Incoming Webhook connector: a name, an image, and a secret URL that
 * takes Teams MessageCards, Adaptive Card messages, plain text, Slack and Discord payloads. */
#include "connectors.h"

static const struct connector_setting settings[] = {
    {"name", "Name", "string", true, false},
    {"image", "Image", "image", false, false},
};

static int translate(const struct connector_request *req, struct card *out, char msg[160])
{
    return cards_from_payload(req->payload, req->forced, req->limits, out, msg);
}

const struct connector_type connector_incoming_webhook;
const struct connector_type connector_incoming_webhook = {
    .id = "incoming_webhook",
    .name = "Incoming Webhook",
    .description = "Send data from any service or script to this channel: POST JSON (Teams "
                   "MessageCard or Adaptive Card, Slack or Discord style) to a unique URL.",
    .icon = "webhook",
    .settings = settings,
    .n_settings = sizeof settings / sizeof settings[0],
    .translate = translate,
};
