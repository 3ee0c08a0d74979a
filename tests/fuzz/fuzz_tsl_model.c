/*
 * Fuzz target: TSL thing-model JSON (core/tsl/tsl_model.h). Input: the text
 * of a model file as the console exports it. A refused model must come with a
 * message; an accepted one is queried (lookups by every identifier, a models
 * set) and then freed, so leaks and bad frees in either path show up.
 */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_util.h"
#include "tsl_model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512] = "";
    gw_tsl_model_t *m = gw_tsl_model_parse_text((const char *)data, size, "fuzz.json", err, sizeof err);
    if (!m) {
        if (!err[0])
            abort(); /* the contract: a refused model always says why */
        return 0;
    }
    for (size_t i = 0; i < m->n_properties; i++)
        if (gw_tsl_model_property(m, m->properties[i].identifier) != &m->properties[i])
            abort(); /* identifiers are unique: the index must find each one */
    for (size_t i = 0; i < m->n_events; i++)
        (void)gw_tsl_model_event(m, m->events[i].identifier);
    for (size_t i = 0; i < m->n_services; i++)
        (void)gw_tsl_model_service(m, m->services[i].identifier);
    gw_tsl_models_t *set = gw_tsl_models_new();
    if (set) {
        gw_tsl_models_add(set, m, err, sizeof err); /* takes ownership */
        (void)gw_tsl_models_find(set, "a1ThermoPK");
        gw_tsl_models_free(set);
    } else {
        gw_tsl_model_free(m);
    }
    return 0;
}
