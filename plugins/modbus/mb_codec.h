/*
 * Modbus value codecs: pure functions that turn the 16-bit registers of a
 * Modbus table into typed values and back, for every supported type and
 * byte/word order. No I/O, no state, no SDK calls: unit-tested against known
 * byte patterns in tests/modbus/test_codec.c.
 *
 * Byte orders name how the bytes of a value, most significant first "ABCD…",
 * appear on the wire (register 0 high byte first):
 *   ABCD  big-endian: registers in order, high byte first (Modbus default);
 *   BADC  registers in order, bytes swapped inside every register;
 *   CDAB  registers in reverse order ("word swap"), high byte first;
 *   DCBA  little-endian: registers reversed, bytes swapped.
 * 64-bit values extend the same rule to four registers (ABCD = A..H in
 * order, CDAB = the four words reversed, etc.). 16-bit values only see the
 * byte swap (BADC and DCBA swap, ABCD and CDAB do not). Strings only see the
 * byte swap too: their registers are always read in address order.
 */
#ifndef MB_CODEC_H
#define MB_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Value types of a register-map point. */
typedef enum mb_type {
    MB_T_BOOL = 0, /**< a coil or discrete input */
    MB_T_BIT,      /**< one bit (0..15) of a holding/input register */
    MB_T_INT16,
    MB_T_UINT16,
    MB_T_INT32,
    MB_T_UINT32,
    MB_T_INT64,
    MB_T_UINT64,
    MB_T_FLOAT32,
    MB_T_FLOAT64,
    MB_T_STRING,   /**< fixed number of registers, two characters each */
    MB_T_COUNT_
} mb_type_t;

/** Byte/word orders (see the top of this file). */
typedef enum mb_order {
    MB_ORDER_ABCD = 0,
    MB_ORDER_BADC,
    MB_ORDER_CDAB,
    MB_ORDER_DCBA,
    MB_ORDER_COUNT_
} mb_order_t;

/** Config spellings of the types, indexed by mb_type_t, NULL-terminated. */
extern const char *const mb_type_names[];
/** Config spellings of the orders, indexed by mb_order_t, NULL-terminated. */
extern const char *const mb_order_names[];

/** A decoded number, before scale/offset. */
typedef struct mb_num {
    enum { MB_NUM_INT, MB_NUM_UINT, MB_NUM_FLOAT } kind;
    int64_t i;   /**< valid for MB_NUM_INT */
    uint64_t u;  /**< valid for MB_NUM_UINT */
    double f;    /**< valid for MB_NUM_FLOAT */
} mb_num_t;

/**
 * Registers one value of @p type occupies (1 for BOOL and BIT, which read one
 * bit or one register; @p str_regs for STRING).
 */
unsigned mb_type_regs(mb_type_t type, unsigned str_regs);

/** True for types read from the bit tables (coils, discrete inputs). */
static inline bool mb_type_is_bit_table(mb_type_t type) { return type == MB_T_BOOL; }

/**
 * Converts @p n registers to the value's bytes, most significant first
 * (2n bytes into @p out), undoing @p order. n must be 1, 2 or 4.
 */
void mb_regs_to_bytes(const uint16_t *regs, unsigned n, mb_order_t order, uint8_t *out);

/** Inverse of mb_regs_to_bytes(): lays out 2n value bytes as @p n registers. */
void mb_bytes_to_regs(const uint8_t *in, unsigned n, mb_order_t order, uint16_t *regs);

/**
 * Decodes a numeric value of @p type (INT16 … FLOAT64) from @p regs (as many
 * registers as mb_type_regs() says) into @p out. Returns 0, or -1 for a
 * non-numeric type. Signed types give MB_NUM_INT, unsigned MB_NUM_UINT,
 * floats MB_NUM_FLOAT.
 */
int mb_decode_num(mb_type_t type, mb_order_t order, const uint16_t *regs, mb_num_t *out);

/**
 * Encodes the integer @p v as @p type (INT16 … UINT64) into @p regs.
 * Returns 0, -1 for a non-integer type, or -2 when @p v does not fit.
 */
int mb_encode_int(mb_type_t type, mb_order_t order, int64_t v, uint16_t *regs);

/** Like mb_encode_int() for an unsigned 64-bit value (any integer type). */
int mb_encode_uint(mb_type_t type, mb_order_t order, uint64_t v, uint16_t *regs);

/**
 * Encodes @p v as @p type: floats are stored as such (-2 if beyond the float
 * range or not finite); integer types are rounded to nearest and range-checked
 * (-2 if out of range). Returns 0 on success, -1 for BOOL/BIT/STRING.
 */
int mb_encode_double(mb_type_t type, mb_order_t order, double v, uint16_t *regs);

/** Bit @p bit (0 = least significant) of register @p reg. */
static inline bool mb_get_bit(uint16_t reg, unsigned bit) { return (reg >> bit) & 1u; }

/** @p reg with bit @p bit set to @p on. */
static inline uint16_t mb_set_bit(uint16_t reg, unsigned bit, bool on)
{
    return on ? (uint16_t)(reg | (1u << bit)) : (uint16_t)(reg & ~(1u << bit));
}

/**
 * Decodes a string of @p n registers into @p out (room for 2n+1 bytes).
 * BADC and DCBA take the low byte of each register first. The text ends at
 * the first NUL; trailing spaces are dropped; bytes outside printable ASCII
 * become '?' so device garbage can never yield invalid UTF-8.
 * Returns the length of @p out.
 */
size_t mb_decode_string(mb_order_t order, const uint16_t *regs, unsigned n, char *out);

/**
 * Encodes the NUL-terminated @p s into @p n registers, NUL-padded.
 * Returns 0, or -2 if @p s is longer than 2n bytes.
 */
int mb_encode_string(mb_order_t order, const char *s, unsigned n, uint16_t *regs);

#endif /* MB_CODEC_H */
