/* CRC-16/MODBUS of RTU frames (used for raw FC 43 frames; shared with tools/modbus-sim). */
#ifndef MB_CRC_H
#define MB_CRC_H
#include <stddef.h>
#include <stdint.h>
/** CRC of @p n bytes at @p p; sent low byte first after the frame. */
uint16_t mb_crc16(const uint8_t *p, size_t n);
#endif
