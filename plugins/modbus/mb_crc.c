/* CRC-16/MODBUS (polynomial 0xA001 reflected, initial 0xFFFF); see mb_crc.h. */
#include "mb_crc.h"

uint16_t mb_crc16(const uint8_t *p, size_t n)
{
    uint16_t crc = 0xFFFF;
    while (n--) {
        crc ^= *p++;
        for (int i = 0; i < 8; i++)
            crc = (crc & 1) ? (uint16_t)((crc >> 1) ^ 0xA001) : (uint16_t)(crc >> 1);
    }
    return crc;
}
