/*
 * KNX plugin: learn mode. Telegrams to group addresses no point claims are
 * logged once per address; while learning they are also reported as devices
 * "ga-M-I-S" of model knx_learned (see README.md, "Learn mode").
 */
#include <stdio.h>
#include <string.h>

#include "knx_addr.h"
#include "knx_plugin.h"

static bool bit_get(const uint8_t *bits, uint16_t n) { return (bits[n >> 3] >> (n & 7)) & 1; }
static void bit_set(uint8_t *bits, uint16_t n) { bits[n >> 3] |= (uint8_t)(1u << (n & 7)); }

const char *knx_apci_name(knx_apci_t apci)
{
    return apci == KNX_APCI_READ ? "read" : apci == KNX_APCI_RESPONSE ? "response" : "write";
}

/* Payload of @p a as hex ("" for reads; the 6-bit value for small telegrams). */
void knx_payload_hex(const knx_apdu_t *a, char *buf, size_t size)
{
    buf[0] = '\0';
    if (a->apci == KNX_APCI_READ)
        return;
    if (a->is_small) {
        snprintf(buf, size, "%02x", a->small);
        return;
    }
    size_t o = 0;
    for (size_t i = 0; i < a->len && o + 3 <= size; i++)
        o += (size_t)snprintf(buf + o, size - o, "%02x", a->data[i]);
}

/* A telegram to an address no point claims. */
void knx_learn(knx_t *k, uint16_t src, uint16_t dst, const knx_apdu_t *a)
{
    char ga[KNX_ADDR_STR], ia[KNX_ADDR_STR], hex[2 * 254 + 1];
    knx_ga_format(dst, ga, sizeof ga);
    knx_ia_format(src, ia, sizeof ia);
    knx_payload_hex(a, hex, sizeof hex);
    if (!bit_get(k->seen, dst)) {
        bit_set(k->seen, dst);
        lgw_log(k->inst, LGW_LOG_INFO, "unclaimed group address %s: group value %s from %s%s%s", ga,
                knx_apci_name(a->apci), ia, hex[0] ? ", data " : "", hex);
    }
    if (!k->learning)
        return;
    char id[32];
    snprintf(id, sizeof id, "ga-%u-%u-%u", (unsigned)(dst >> 11) & 0x1F, (unsigned)(dst >> 8) & 0x07,
             (unsigned)dst & 0xFF);
    if (!bit_get(k->reported, dst)) {
        if (k->n_reported >= k->cfg.learn_max) {
            if (!k->learn_full_logged)
                lgw_log(k->inst, LGW_LOG_WARN, "learn: %u addresses reported (learn_max); ignoring more",
                        (unsigned)k->n_reported);
            k->learn_full_logged = true;
            return;
        }
        bit_set(k->reported, dst);
        k->n_reported++;
        lgw_device_add(k->inst, id, KNX_LEARNED_MODEL);
        lgw_device_set_online(k->inst, id, true);
    }
    lgw_report_t *r = lgw_report_new(k->inst, id);
    if (!r)
        return;
    lgw_report_add_text(r, "service", knx_apci_name(a->apci));
    lgw_report_add_text(r, "source", ia);
    lgw_report_add_text(r, "raw", hex);
    lgw_report_commit(r);
}
