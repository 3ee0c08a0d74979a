/*
 * Result codes of the TSL library: the Alibaba Cloud IoT Platform's own
 * codes (alink-protocol.md §8), so a validation failure can be put straight
 * into a reply's `code` field. 0 means "valid".
 */
#ifndef GW_TSL_CODES_H
#define GW_TSL_CODES_H

#define GW_TSL_OK 0                /* valid (a reply would carry 200) */
#define GW_TSL_E_PARAM 460         /* request parameter error: bad shape, unknown/read-only identifier in a set */
#define GW_TSL_E_TOO_MANY 6106     /* more than 200 properties in one post */
#define GW_TSL_E_ARRAY_EXPECTED 6301 /* a list was required (property get params) */
#define GW_TSL_E_INPUT_MISSING 6302 /* a service input argument is missing */
#define GW_TSL_E_STRUCT_MEMBER 6304 /* struct member not defined in the TSL */
#define GW_TSL_E_INT 6306          /* int: wrong type, outside 32 bits, range or step */
#define GW_TSL_E_FLOAT 6307        /* float: wrong type, not finite, range or step */
#define GW_TSL_E_BOOL 6308         /* bool: not 0/1 */
#define GW_TSL_E_ENUM 6309         /* enum: not an integer key of the specs */
#define GW_TSL_E_TEXT 6310         /* text: not a string, or too long */
#define GW_TSL_E_DATE 6311         /* date: not UTC milliseconds */
#define GW_TSL_E_STRUCT 6312       /* struct: not an object, member missing, or a member invalid */
#define GW_TSL_E_TSL_INCOMPLETE 6317 /* TSL definition incomplete (type/specs) */
#define GW_TSL_E_NOT_DEFINED 6320  /* property not defined in the TSL */
#define GW_TSL_E_DOUBLE 6322       /* double: wrong type, not finite, range or step */
#define GW_TSL_E_ARRAY_ELEMENT 6324 /* array: an element is invalid or there are too many */
#define GW_TSL_E_TIME 6326         /* bad `time` field */
#define GW_TSL_E_NOT_ARRAY 6328    /* array: value is not a JSON array */
#define GW_TSL_E_EVENT_UNKNOWN 5160   /* event not defined in the TSL */
#define GW_TSL_E_SERVICE_UNKNOWN 5161 /* service not defined in the TSL */
#define GW_TSL_E_TOO_MANY_EVENTS 6356 /* more than 20 events in a pack/post */
#define GW_TSL_E_TOO_MANY_SUBDEV 6357 /* more than 20 sub-devices in a pack/post */

/* Platform limits used by the validators and the pack/post builder. */
#define GW_TSL_MAX_PROPS_PER_POST 200
#define GW_TSL_MAX_EVENTS_PER_PACK 20
#define GW_TSL_MAX_SUBDEVS_PER_PACK 20

#endif
