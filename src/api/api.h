/* api: the REST resources and the live feed, thin between HTTP (http/) and the domain (core/).
 * One file per resource; the routes table is routes.def. Not for: domain rules (core/). */
#ifndef SB_API_H
#define SB_API_H

#include "../core/core.h"
#include "../http/http.h"

struct hub;

struct api {
    struct core *core;
    struct hub *hub;
    struct jobs *jobs;      /* slow work (password checks) */
    const char *public_url; /* base of the URLs handed out ("" = from the request's Host) */
    size_t max_hook_body; /* the Incoming Webhook's body cap (service connectors': the HTTP one) */
};

extern const struct http_route api_routes[];
extern const size_t api_n_routes;

/* http_config.authenticate: resolves the bearer token or session cookie (and checks CSRF on
 * cookie-authenticated writes) into the request's api state. */
int api_authenticate(struct http_req *r);

#endif
