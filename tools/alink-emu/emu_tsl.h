/* emu_tsl.h — minimal TSL (thing model) lookup and value validation for the Alink
 * emulator: type, range, enum, text length, date, struct members and array size (§6).
 * To be replaced by core/tsl once that library exists (see docs/alink-emu.md). */
#ifndef EMU_TSL_H
#define EMU_TSL_H

#include <jansson.h>

/* Property / event / service definition named `id` in a TSL document, or NULL. */
const json_t *emu_tsl_property(const json_t *tsl, const char *id);
const json_t *emu_tsl_event(const json_t *tsl, const char *id);
const json_t *emu_tsl_service(const json_t *tsl, const char *id);

/* Check `value` against a dataType object {"type":..,"specs":..}. Returns 0 when valid,
 * else the platform's code for the mismatch (6306 int, 6307 float, 6322 double, 6308 bool,
 * 6309 enum, 6310 text, 6311 date, 6312/6304 struct, 6324 array, 6317 bad definition). */
int emu_tsl_check(const json_t *data_type, const json_t *value);

/* Check a parameter object (event output / service input) against a list of
 * {"identifier","dataType"} definitions: unknown keys → 6304, bad values → type code. */
int emu_tsl_check_params(const json_t *defs, const json_t *params);

#endif
