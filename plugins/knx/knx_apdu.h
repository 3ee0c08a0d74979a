/*
 * Group-value APDUs as exchanged with knxd's group socket (EIBSendGroup /
 * EIBGetGroup_Src): byte 0 holds the TPCI and the top two APCI bits, byte 1
 * the low two APCI bits and, for "small" datapoints (1.x, 2.x, 3.x), the
 * 6-bit value; longer payloads follow from byte 2. Pure functions.
 */
#ifndef KNX_APDU_H
#define KNX_APDU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Group-value services (the APCI codes of A_GroupValue_*). */
typedef enum knx_apci {
    KNX_APCI_READ = 0,
    KNX_APCI_RESPONSE = 1,
    KNX_APCI_WRITE = 2,
    KNX_APCI_OTHER = -1 /* any other service: not group-value communication */
} knx_apci_t;

/** Largest APDU this plugin builds or accepts (2 header bytes + 14 payload). */
#define KNX_APDU_MAX 16

/**
 * Builds an APDU for @p apci into @p out (room for KNX_APDU_MAX bytes) and
 * returns its length, or 0 if @p len is too long. With @p small, @p payload is
 * one byte whose low 6 bits go into byte 1; otherwise the @p len payload bytes
 * follow the two header bytes. A read carries no payload (pass NULL, 0).
 */
size_t knx_apdu_build(knx_apci_t apci, bool small, const uint8_t *payload, size_t len, uint8_t *out);

/** A parsed group-value APDU. */
typedef struct knx_apdu {
    knx_apci_t apci;
    /** The 6-bit value of byte 1 (meaningful when the APDU is 2 bytes long). */
    uint8_t small;
    /** True when the APDU is exactly 2 bytes (a read, or a small value). */
    bool is_small;
    /** Payload after the two header bytes (points into the parsed buffer). */
    const uint8_t *data;
    size_t len;
} knx_apdu_t;

/**
 * Parses @p len bytes at @p buf. Returns false (and sets apci to
 * KNX_APCI_OTHER) for anything that is not a group-value read, response or
 * write, or is shorter than 2 bytes.
 */
bool knx_apdu_parse(const uint8_t *buf, size_t len, knx_apdu_t *out);

#endif /* KNX_APDU_H */
