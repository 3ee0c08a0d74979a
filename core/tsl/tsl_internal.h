/*
 * Internals shared by the files of gw_tsl (not part of its API): strict
 * number parsing and error filling. Unlike strtod/strtoll the number parsers
 * accept only the JSON number grammar: no leading spaces or '+', no hex, no
 * "inf"/"nan", nothing after the number.
 */
#ifndef GW_TSL_INTERNAL_H
#define GW_TSL_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <jansson.h>
#include <linkgw/common.h>
#include <linkgw/value.h>

struct gw_tsl_err;

/** Fills @p err (may be NULL) with @p code, @p path and "path: message"; returns @p code. */
int gw_tsl_err_set(struct gw_tsl_err *err, int code, const char *path, const char *fmt, ...) LGW_PRINTF(4, 5);

/**
 * Replaces, in place, every byte of @p s that is not part of a complete
 * UTF-8 sequence with '?' (messages are cut with %.Ns and may end up inside
 * a character; they must stay valid for a JSON reply's "message").
 */
void gw_tsl_utf8_fix(char *s);

struct gw_tsl_param;

/**
 * Checks a JSON object of named arguments against @p defs (event output,
 * service input/output): unknown names 460, a missing one @p missing_code
 * (0 = allowed), each value by its type. @p what names the list in messages.
 */
int gw_tsl_check_params(const struct gw_tsl_param *defs, size_t n, const json_t *obj, int missing_code,
                        const char *what, unsigned flags, struct gw_tsl_err *err);

/** Writes @p v into @p buf (>= 32 bytes) with the fewest digits that read back exactly, as %g would (no ".0"); returns buf. */
const char *gw_tsl_num_str(double v, char *buf);

/**
 * The JSON text of a finite double @p v into @p buf (>= 32 bytes, NUL-terminated);
 * returns its length. The shortest text that reads back (strtod) as exactly @p v,
 * in %g's form (fixed notation for 1e-4 <= |v| < 1e15, else an exponent), and
 * always with a '.' or an exponent so it stays a real: 20.0, 0.1, -0.0, 1e+300.
 * Values on a decimal grid (the TSL steps: 20.86, 0.5, 1234) take a fast path
 * without printf or strtod. NaN and infinities are not JSON: never pass them.
 */
size_t gw_tsl_num_fmt_real(double v, char *buf);

/** Decimal text of @p v into @p buf (>= 21 bytes, NUL-terminated); returns its length. */
size_t gw_tsl_num_fmt_int(int64_t v, char *buf);

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

/**
 * @p v moved to the nearest point of the grid base + k * step and written
 * with the decimals of step and base (so 114 * 0.01 is 1.14, not
 * 1.1400000000000001). Device → cloud values go through it: the step is the
 * resolution the product's TSL states, so a sensor's 20.86256 is reported as
 * 20.86 for a step of 0.01 instead of being refused. Range and type checks
 * still apply afterwards. Returns @p v when there is no step.
 */
double gw_tsl_num_snap(double v, double base, double step);

/** The platform's error code for a value that does not fit TSL type @p t (6306 int, 6307 float …). */
int gw_tsl_type_code(lgw_type_t t);

#endif
