/* emu_tsl.h — the emulator's view of product thing models: parsed once per product with
 * the project's TSL library (core/tsl, gw_tsl) and used to validate what devices post and
 * what the console sends, returning the platform's codes. A product without a TSL
 * accepts anything. */
#ifndef EMU_TSL_H
#define EMU_TSL_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

/* Parse and remember the model of product pk (tsl NULL/JSON null: forget it). On a model
 * the platform could not have exported, returns false with a message in err. */
bool emu_tsl_set(const char *pk, const json_t *tsl, char *err, size_t errsz);
bool emu_tsl_has(const char *pk);
void emu_tsl_clear(void);

/* One entry of a property post ({"value":v,"time":t} or bare v): *value (borrowed) and
 * *time (unchanged when absent) are set; returns 0 when the property is defined and the
 * value valid, else the platform code (6320 undefined, 63xx type/range, 6326 bad time). */
int emu_tsl_prop_entry(const char *pk, const char *id, const json_t *entry, const json_t **value, long long *time);
/* Output object of event id (5160 unknown event, 460 unknown parameter, 63xx values). */
int emu_tsl_event_output(const char *pk, const char *id, const json_t *value);
/* Console checks with a human message: service input (5161, 6302, …), property set. */
int emu_tsl_service_input(const char *pk, const char *id, const json_t *params, char *msg, size_t msgsz);
int emu_tsl_property_set(const char *pk, const json_t *params, char *msg, size_t msgsz);

#endif
