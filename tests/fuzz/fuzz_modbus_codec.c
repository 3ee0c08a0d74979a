/*
 * Fuzz target: the Modbus value codecs (plugins/modbus/mb_codec.h). Input:
 * byte 0 = type, byte 1 = byte/word order, byte 2 = string register count
 * (0..255), then register data (big-endian pairs), as a device could return.
 * Invariants: a decoded integer encodes back to the same registers; a decoded
 * finite float encodes back to the same registers; a decoded string is
 * printable ASCII, fits its registers and encodes again.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "mb_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    mb_type_t type = (mb_type_t)(data[0] % MB_T_COUNT_);
    mb_order_t order = (mb_order_t)(data[1] % MB_ORDER_COUNT_);
    unsigned str_regs = data[2];
    data += 3;
    size -= 3;
    unsigned nregs = (unsigned)(size / 2);
    uint16_t *regs = calloc(nregs ? nregs : 1, sizeof *regs);
    if (!regs)
        return 0;
    for (unsigned i = 0; i < nregs; i++)
        regs[i] = (uint16_t)(data[2 * i] << 8 | data[2 * i + 1]);

    unsigned need = mb_type_regs(type, str_regs);
    if (type == MB_T_STRING && str_regs <= nregs) {
        char *text = malloc(2 * (size_t)str_regs + 1);
        uint16_t *back = calloc(str_regs ? str_regs : 1, sizeof *back);
        if (text && back) {
            size_t len = mb_decode_string(order, regs, str_regs, text);
            if (len > 2 * (size_t)str_regs || strlen(text) != len)
                abort();
            for (size_t i = 0; i < len; i++)
                if (text[i] < 0x20 || text[i] > 0x7e)
                    abort();
            if (mb_encode_string(order, text, str_regs, back) != 0)
                abort();
        }
        free(text);
        free(back);
    } else if (type >= MB_T_INT16 && type <= MB_T_FLOAT64 && need <= nregs) {
        mb_num_t num;
        uint16_t back[4] = { 0 };
        if (mb_decode_num(type, order, regs, &num) != 0)
            abort();
        int rc = 0;
        bool compare = true;
        switch (num.kind) {
        case MB_NUM_INT: rc = mb_encode_int(type, order, num.i, back); break;
        case MB_NUM_UINT: rc = mb_encode_uint(type, order, num.u, back); break;
        case MB_NUM_FLOAT:
            compare = isfinite(num.f);
            rc = compare ? mb_encode_double(type, order, num.f, back) : 0;
            break;
        }
        if (rc != 0 || (compare && memcmp(back, regs, need * sizeof *regs) != 0)) {
            fprintf(stderr, "type %d order %d: registers do not survive decode + encode (rc %d)\n", type, order,
                    rc);
            abort();
        }
        /* the value as another type: errors allowed, overruns not */
        uint16_t other[4];
        for (int t = MB_T_BOOL; t < MB_T_COUNT_; t++) {
            mb_encode_int((mb_type_t)t, order, num.i, other);
            mb_encode_uint((mb_type_t)t, order, num.u, other);
            mb_encode_double((mb_type_t)t, order, num.f, other);
        }
    }
    if (nregs >= 1) {
        unsigned bit = str_regs % 16;
        regs[0] = mb_set_bit(regs[0], bit, !mb_get_bit(regs[0], bit));
    }
    free(regs);
    return 0;
}
