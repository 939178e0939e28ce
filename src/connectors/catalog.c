/* catalog.c: the table of connector types and its JSON for GET /api/v1/connector-types. */
#include "connectors.h"

#include <string.h>

#define CONNECTOR(var) extern const struct connector_type var;
#include "catalog.def"
#undef CONNECTOR

static const struct connector_type *const catalog[] = {
#define CONNECTOR(var) &var,
#include "catalog.def"
#undef CONNECTOR
};

#define N_TYPES (sizeof catalog / sizeof catalog[0])

const struct connector_type *connectors_find(const char *id)
{
    for (size_t i = 0; id && i < N_TYPES; i++)
        if (!strcmp(catalog[i]->id, id))
            return catalog[i];
    return NULL;
}

json_t *connectors_catalog_json(void)
{
    json_t *types = json_array();
    for (size_t i = 0; i < N_TYPES; i++) {
        const struct connector_type *t = catalog[i];
        json_t *settings = json_array();
        for (size_t k = 0; k < t->n_settings; k++) {
            const struct connector_setting *s = &t->settings[k];
            json_array_append_new(
                settings, json_pack("{s:s, s:s, s:s, s:b, s:b}", "name", s->name, "label", s->label,
                                    "type", s->type, "required", s->required, "secret", s->secret));
        }
        json_array_append_new(types, json_pack("{s:s, s:s, s:s, s:s, s:o}", "id", t->id, "name",
                                               t->name, "description", t->description, "icon",
                                               t->icon, "settings", settings));
    }
    return types;
}
