/*
 * Strict number parsing shared by the TSL model parser, the validators and
 * the converters (internal to gw_tsl). Unlike strtod/strtoll these accept
 * only the JSON number grammar: no leading spaces or '+', no hex, no
 * "inf"/"nan", nothing after the number.
 */
#ifndef GW_TSL_NUM_H
#define GW_TSL_NUM_H

#include <stdbool.h>
#include <stdint.h>

/** Parses an integer "-?[0-9]+" into @p out. False on syntax or int64 overflow. */
bool gw_tsl_num_int64(const char *s, int64_t *out);

/** Parses a JSON-grammar number into a finite double. False otherwise. */
bool gw_tsl_num_double(const char *s, double *out);

/**
 * True when @p v lies on the grid base + k * step (k integer). Decimal steps
 * such as 0.1 are not exact in binary, so a distance of 1e-6 of a step plus
 * (|v| + |base|) * @p rel_eps is tolerated; pass a few DBL_EPSILON for
 * doubles and a few FLT_EPSILON for values that went through a float.
 */
bool gw_tsl_num_on_step(double v, double base, double step, double rel_eps);

#endif
