/* github.c: the GitHub connector. (Being written: settings, signature check and translation.) */
#include "connectors.h"

static const struct connector_setting settings[] = {
    {"name", "Name", "string", true, false, NULL, NULL, NULL, 0, 128},
    {"image", "Image", "image", false, false, NULL, NULL, NULL, 0, 0},
};

static int translate(const struct connector_request *req, struct connector_result *out,
                     char msg[160])
{
    (void)req;
    (void)msg;
    return connector_ignore(out, "not rendered yet");
}

const struct connector_type connector_github;
const struct connector_type connector_github = {
    .id = "github",
    .name = "GitHub",
    .description = "GitHub events in this channel.",
    .icon = "github",
    .kind = CONNECTOR_PUSH,
    .settings = settings,
    .n_settings = sizeof settings / sizeof settings[0],
    .setup = "Paste {url} into GitHub.",
    .translate = translate,
};
