/*
 * Test helper shared by the pack builder's tests (test_tsl_uplink.c,
 * test_tsl_pack_bytes.c): the order and uniqueness check over the messages it
 * produced. Include after <cmocka.h> and <jansson.h>.
 */
#ifndef LINKGW_TESTS_TSL_PACK_WALK_H
#define LINKGW_TESTS_TSL_PACK_WALK_H

#include <stdio.h>

/*
 * Walks the messages @p msgs of a pack builder (take or flush output): every
 * entry of the gateway's and each sub-device's properties and events, keyed
 * "dn/kind/id" in @p seen, must have a time above the previous one of the same
 * key (order kept across messages). With @p times (not NULL), each time must
 * also be unique over everything walked (tests that give every value its own
 * sequence number as its time: each value at most once).
 */
static void pack_walk(const json_t *msgs, json_t *seen, json_t *times)
{
    size_t i;
    const json_t *m;
    json_array_foreach(msgs, i, m) {
        json_t *blocks = json_array();
        json_array_append(blocks, (json_t *)m);
        json_array_extend(blocks, json_object_get(m, "subDevices"));
        size_t k;
        const json_t *blk;
        json_array_foreach(blocks, k, blk) {
            const char *dn =
                k == 0 ? "gw" : json_string_value(json_object_get(json_object_get(blk, "identity"), "deviceName"));
            for (int kind = 0; kind < 2; kind++) {
                const char *key;
                const json_t *e;
                json_object_foreach(json_object_get(blk, kind ? "events" : "properties"), key, e) {
                    char full[64];
                    snprintf(full, sizeof full, "%s/%d/%s", dn, kind, key);
                    json_int_t t = json_integer_value(json_object_get(e, "time"));
                    json_t *prev = json_object_get(seen, full);
                    if (prev)
                        assert_true(json_integer_value(prev) < t); /* order kept */
                    json_object_set_new(seen, full, json_integer(t));
                    if (!times)
                        continue;
                    char tk[24];
                    snprintf(tk, sizeof tk, "%lld", (long long)t);
                    assert_null(json_object_get(times, tk)); /* at most once */
                    json_object_set_new(times, tk, json_true());
                }
            }
        }
        json_decref(blocks);
    }
}

#endif
