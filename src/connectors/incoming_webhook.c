/* incoming_webhook.c: the Incoming Webhook connector: a name, an image, and a secret URL that
 * takes Teams MessageCards, Adaptive Card messages, plain text, Slack and Discord payloads. */
#include "connectors.h"

static const struct connector_setting settings[] = {
    {"name", "Name", "string", true, false, NULL, NULL, NULL, 0, 128},
    {"image", "Image", "image", false, false, NULL, NULL, NULL, 0, 0},
};

static int translate(const struct connector_request *req, struct connector_result *out,
                     char msg[160])
{
    int rc = cards_from_payload(req->payload, req->forced, req->limits, &out->card, msg);
    if (!rc)
        out->outcome = CONNECTOR_POST;
    return rc;
}

const struct connector_type connector_incoming_webhook;
const struct connector_type connector_incoming_webhook = {
    .id = "incoming_webhook",
    .name = "Incoming Webhook",
    .description = "Send data from any service or script to this channel: POST JSON (Teams "
                   "MessageCard or Adaptive Card, Slack or Discord style) to a unique URL.",
    .icon = "webhook",
    .kind = CONNECTOR_PUSH,
    .settings = settings,
    .n_settings = sizeof settings / sizeof settings[0],
    .setup = "POST JSON to {url}: a Teams MessageCard or Adaptive Card message, or `{\"text\": "
             "\"...\"}`. Slack tools use {url}/slack and Discord tools {url}/discord.",
    .translate = translate,
};
