/*
 * KNX addresses in text form: group addresses (3-level "main/middle/sub" and
 * 2-level "main/sub") and individual addresses ("area.line.device").
 * Pure functions, unit-tested in tests/knx/test_knx_frame.c.
 */
#ifndef KNX_ADDR_H
#define KNX_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Buffer size that holds any formatted address ("31/7/255", "15.15.255"). */
#define KNX_ADDR_STR 16

/**
 * Parses a group address: "M/I/S" (M 0..31, I 0..7, S 0..255) or "M/S"
 * (M 0..31, S 0..2047). Whitespace is not allowed; 0/0/0 (broadcast) is
 * refused. Returns true and stores the 16-bit address in @p *out on success.
 */
bool knx_ga_parse(const char *s, uint16_t *out);

/** Formats a group address in 3-level notation into @p buf. Returns @p buf. */
char *knx_ga_format(uint16_t ga, char *buf, size_t size);

/** Parses an individual address "A.L.D" (A 0..15, L 0..15, D 0..255). */
bool knx_ia_parse(const char *s, uint16_t *out);

/** Formats an individual address "A.L.D" into @p buf. Returns @p buf. */
char *knx_ia_format(uint16_t ia, char *buf, size_t size);

#endif /* KNX_ADDR_H */
