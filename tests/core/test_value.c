/* Typed values: construction, inspection, copy, JSON rendering. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include <linkgw/value.h>
#include "value_json.h"

static void test_scalars(void **state)
{
    (void)state;
    lgw_value_t *b = lgw_value_new_bool(true), *i = lgw_value_new_int(-42), *f = lgw_value_new_float(1.5f),
                *d = lgw_value_new_double(0.1), *e = lgw_value_new_enum(3), *t = lgw_value_new_date(1700000000123);
    bool bo;
    int64_t iv;
    double dv;
    assert_int_equal(lgw_value_get_bool(b, &bo), LGW_OK);
    assert_true(bo);
    assert_int_equal(lgw_value_get_int(b, &iv), LGW_OK);
    assert_int_equal(iv, 1);
    assert_int_equal(lgw_value_get_int(i, &iv), LGW_OK);
    assert_int_equal(iv, -42);
    assert_int_equal(lgw_value_get_int(f, &iv), LGW_ETYPE);
    assert_int_equal(lgw_value_get_double(f, &dv), LGW_OK);
    assert_true(dv == 1.5);
    assert_int_equal(lgw_value_get_bool(i, &bo), LGW_ETYPE);
    assert_int_equal(lgw_value_get_int(e, &iv), LGW_OK);
    assert_int_equal(iv, 3);
    assert_int_equal(lgw_value_get_int(t, &iv), LGW_OK);
    assert_true(iv == 1700000000123);
    assert_int_equal(lgw_value_type(d), LGW_TYPE_DOUBLE);
    assert_int_equal(lgw_value_type(NULL), 0);
    assert_string_equal(lgw_type_name(LGW_TYPE_ENUM), "enum");
    assert_string_equal(lgw_type_name((lgw_type_t)99), "?");
    char buf[64];
    lgw_value_to_string(d, buf, sizeof buf);
    assert_string_equal(buf, "0.1");
    lgw_value_to_string(f, buf, sizeof buf);
    assert_string_equal(buf, "1.5");
    lgw_value_to_string(t, buf, sizeof buf);
    assert_string_equal(buf, "1700000000123");
    lgw_value_free(b);
    lgw_value_free(i);
    lgw_value_free(f);
    lgw_value_free(d);
    lgw_value_free(e);
    lgw_value_free(t);
}

static void test_text(void **state)
{
    (void)state;
    assert_null(lgw_value_new_text(NULL));
    lgw_value_t *t = lgw_value_new_text_n("ab\"c\nxyz", 5);
    const char *s;
    size_t len;
    assert_int_equal(lgw_value_get_text(t, &s, &len), LGW_OK);
    assert_int_equal(len, 5);
    assert_string_equal(s, "ab\"c\n");
    char buf[32];
    size_t need = lgw_value_to_string(t, buf, sizeof buf);
    assert_string_equal(buf, "\"ab\\\"c\\n\"");
    assert_int_equal(need, strlen(buf));
    /* truncation behaves like snprintf */
    char small[4];
    assert_int_equal(lgw_value_to_string(t, small, sizeof small), need);
    assert_string_equal(small, "\"ab");
    assert_int_equal(lgw_value_to_string(t, NULL, 0), need);
    lgw_value_free(t);
}

static void test_struct_array(void **state)
{
    (void)state;
    lgw_value_t *s = lgw_value_new_struct();
    assert_int_equal(lgw_value_struct_set(s, "b", lgw_value_new_int(1)), LGW_OK);
    assert_int_equal(lgw_value_struct_set(s, "a", lgw_value_new_text("x")), LGW_OK);
    assert_int_equal(lgw_value_struct_set(s, "b", lgw_value_new_int(2)), LGW_OK); /* replaces */
    lgw_value_t *a = lgw_value_new_array();
    assert_int_equal(lgw_value_array_append(a, lgw_value_new_bool(false)), LGW_OK);
    assert_int_equal(lgw_value_array_append(a, lgw_value_new_double(2.25)), LGW_OK);
    assert_int_equal(lgw_value_struct_set(s, "arr", a), LGW_OK);
    assert_int_equal(lgw_value_count(s), 3);
    const char *name;
    assert_non_null(lgw_value_struct_at(s, 1, &name));
    assert_string_equal(name, "a");
    assert_null(lgw_value_struct_at(s, 3, NULL));
    int64_t iv;
    assert_int_equal(lgw_value_get_int(lgw_value_struct_get(s, "b"), &iv), LGW_OK);
    assert_int_equal(iv, 2);
    assert_null(lgw_value_struct_get(s, "zz"));
    assert_int_equal(lgw_value_count(lgw_value_struct_get(s, "arr")), 2);
    assert_non_null(lgw_value_array_at(lgw_value_struct_get(s, "arr"), 1));
    /* ownership taken on errors too (ASan checks no leak) */
    assert_int_equal(lgw_value_struct_set(a, "x", lgw_value_new_int(1)), LGW_ETYPE);
    assert_int_equal(lgw_value_array_append(s, lgw_value_new_int(1)), LGW_ETYPE);
    assert_int_equal(lgw_value_struct_set(NULL, "x", lgw_value_new_int(1)), LGW_EINVAL);

    char buf[128];
    lgw_value_to_string(s, buf, sizeof buf);
    assert_string_equal(buf, "{\"b\":2,\"a\":\"x\",\"arr\":[false,2.25]}");

    lgw_value_t *c = lgw_value_copy(s);
    char buf2[128];
    lgw_value_to_string(c, buf2, sizeof buf2);
    assert_string_equal(buf, buf2);

    json_t *j = gw_value_to_json(c);
    char *dump = json_dumps(j, JSON_COMPACT);
    assert_string_equal(dump, "{\"b\":2,\"a\":\"x\",\"arr\":[false,2.25]}");
    lgw_value_t *back = gw_value_from_json(j);
    lgw_value_to_string(back, buf2, sizeof buf2);
    assert_string_equal(buf, buf2);
    free(dump);
    json_decref(j);
    lgw_value_free(back);
    lgw_value_free(c);
    lgw_value_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scalars),
        cmocka_unit_test(test_text),
        cmocka_unit_test(test_struct_array),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
