/*
 * The hub's last-value table (core/hub_values.h): put/get/overwrite, type
 * changes in place, many points, first-report iteration order, shared
 * interned names and freeing (leaks show under the ASan build).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "hub_values.h"

static int64_t get_int(const gw_hub_values_t *t, const char *name)
{
    int64_t i = 0;
    assert_int_equal(lgw_value_get_int(gw_hub_values_get(t, name), &i), LGW_OK);
    return i;
}

static const char *get_text(const gw_hub_values_t *t, const char *name)
{
    const char *s = NULL;
    assert_int_equal(lgw_value_get_text(gw_hub_values_get(t, name), &s, NULL), LGW_OK);
    return s;
}

/* Puts a value built by the caller and frees it (the table keeps a copy). */
static int put(gw_hub_values_t *t, const char *name, lgw_value_t *v)
{
    int rc = gw_hub_values_put(t, name, v);
    lgw_value_free(v);
    return rc;
}

static void test_put_get_overwrite(void **state)
{
    (void)state;
    gw_hub_names_t names;
    gw_hub_names_init(&names);
    gw_hub_values_t t;
    gw_hub_values_init(&t, &names);
    assert_null(gw_hub_values_get(&t, "a"));
    assert_int_equal(gw_hub_values_count(&t), 0);
    assert_null(gw_hub_values_at(&t, 0, NULL));

    assert_int_equal(put(&t, "a", lgw_value_new_int(1)), LGW_OK);
    assert_int_equal(put(&t, "b", lgw_value_new_double(2.5)), LGW_OK);
    assert_int_equal(get_int(&t, "a"), 1);
    double d = 0;
    assert_int_equal(lgw_value_get_double(gw_hub_values_get(&t, "b"), &d), LGW_OK);
    assert_true(d == 2.5);
    assert_null(gw_hub_values_get(&t, "c"));
    assert_null(gw_hub_values_get(&t, ""));

    assert_int_equal(put(&t, "a", lgw_value_new_int(-7)), LGW_OK);
    assert_int_equal(get_int(&t, "a"), -7);
    assert_int_equal(gw_hub_values_count(&t), 2);

    assert_int_equal(gw_hub_values_put(&t, NULL, NULL), LGW_EINVAL);
    assert_int_equal(put(&t, NULL, lgw_value_new_int(1)), LGW_EINVAL);
    assert_null(gw_hub_values_get(&t, NULL));

    gw_hub_values_free(&t);
    assert_int_equal(gw_hub_values_count(&t), 0);
    assert_null(gw_hub_values_get(&t, "a"));
    assert_int_equal(gw_hub_names_count(&names), 0);
    /* a freed table is empty and usable again */
    assert_int_equal(put(&t, "a", lgw_value_new_bool(true)), LGW_OK);
    gw_hub_values_free(&t);
    gw_hub_names_free(&names);
}

static void test_type_changes(void **state)
{
    (void)state;
    gw_hub_names_t names;
    gw_hub_names_init(&names);
    gw_hub_values_t t;
    gw_hub_values_init(&t, &names);

    assert_int_equal(put(&t, "p", lgw_value_new_int(5)), LGW_OK);
    assert_int_equal(put(&t, "p", lgw_value_new_text("hello world")), LGW_OK);
    assert_string_equal(get_text(&t, "p"), "hello world");
    assert_int_equal(put(&t, "p", lgw_value_new_text("hi")), LGW_OK); /* shorter: same buffer */
    size_t len = 0;
    const char *s = NULL;
    assert_int_equal(lgw_value_get_text(gw_hub_values_get(&t, "p"), &s, &len), LGW_OK);
    assert_string_equal(s, "hi");
    assert_int_equal(len, 2);
    assert_int_equal(put(&t, "p", lgw_value_new_text("a much longer text than before")), LGW_OK);
    assert_string_equal(get_text(&t, "p"), "a much longer text than before");
    assert_int_equal(put(&t, "p", lgw_value_new_enum(3)), LGW_OK);
    assert_int_equal(lgw_value_type(gw_hub_values_get(&t, "p")), LGW_TYPE_ENUM);
    assert_int_equal(get_int(&t, "p"), 3);

    lgw_value_t *st = lgw_value_new_struct();
    lgw_value_struct_set(st, "x", lgw_value_new_int(1));
    lgw_value_struct_set(st, "y", lgw_value_new_text("why"));
    assert_int_equal(gw_hub_values_put(&t, "p", st), LGW_OK);
    const lgw_value_t *got = gw_hub_values_get(&t, "p");
    assert_true(gw_value_equal(got, st));
    assert_ptr_not_equal(got, st);
    lgw_value_free(st); /* the table holds its own copy */
    char buf[64];
    lgw_value_to_string(gw_hub_values_get(&t, "p"), buf, sizeof buf);
    assert_string_equal(buf, "{\"x\":1,\"y\":\"why\"}");

    lgw_value_t *arr = lgw_value_new_array();
    lgw_value_array_append(arr, lgw_value_new_float(0.5f));
    assert_int_equal(put(&t, "p", arr), LGW_OK);
    lgw_value_to_string(gw_hub_values_get(&t, "p"), buf, sizeof buf);
    assert_string_equal(buf, "[0.5]");
    assert_int_equal(put(&t, "p", lgw_value_new_text("")), LGW_OK);
    assert_string_equal(get_text(&t, "p"), "");
    assert_int_equal(put(&t, "p", lgw_value_new_bool(false)), LGW_OK);
    bool b = true;
    assert_int_equal(lgw_value_get_bool(gw_hub_values_get(&t, "p"), &b), LGW_OK);
    assert_false(b);
    assert_int_equal(gw_hub_values_count(&t), 1);

    gw_hub_values_free(&t);
    gw_hub_names_free(&names);
}

/* Many points in two tables sharing one name pool; order is first-report order. */
static void test_many_points_order_and_sharing(void **state)
{
    (void)state;
    enum { N = 2000 };
    gw_hub_names_t names;
    gw_hub_names_init(&names);
    gw_hub_values_t a, b;
    gw_hub_values_init(&a, &names);
    gw_hub_values_init(&b, &names);
    assert_int_equal(gw_hub_values_reserve(&a, 100), LGW_OK);
    char name[32];
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof name, "hr_%04d", i);
        assert_int_equal(put(&a, name, lgw_value_new_int(i)), LGW_OK);
    }
    for (int i = N - 1; i >= 0; i--) { /* b sees the same names in the opposite order */
        snprintf(name, sizeof name, "hr_%04d", i);
        assert_int_equal(put(&b, name, i % 2 ? lgw_value_new_int(-i) : lgw_value_new_text(name)), LGW_OK);
    }
    assert_int_equal(gw_hub_names_count(&names), N);
    /* overwrite everything in a different order: the order stays first-report order */
    for (int i = 0; i < N; i++) {
        int k = (i * 7919) % N;
        snprintf(name, sizeof name, "hr_%04d", k);
        assert_int_equal(put(&a, name, lgw_value_new_int(k * 10)), LGW_OK);
    }
    assert_int_equal(gw_hub_values_count(&a), N);
    assert_int_equal(gw_hub_values_count(&b), N);
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof name, "hr_%04d", i);
        assert_int_equal(get_int(&a, name), i * 10);
        if (i % 2)
            assert_int_equal(get_int(&b, name), -i);
        else
            assert_string_equal(get_text(&b, name), name);

        const char *an = NULL, *bn = NULL;
        const lgw_value_t *v = gw_hub_values_at(&a, (size_t)i, &an);
        assert_non_null(v);
        assert_string_equal(an, name);
        assert_non_null(gw_hub_values_at(&b, (size_t)(N - 1 - i), &bn));
        assert_ptr_equal(an, bn); /* one interned copy of the name */
    }
    assert_null(gw_hub_values_at(&a, N, NULL));
    assert_null(gw_hub_values_get(&a, "hr_x"));

    /* one device gone: the names stay for the other; both gone: nothing left */
    gw_hub_values_free(&a);
    assert_int_equal(gw_hub_names_count(&names), N);
    assert_int_equal(get_int(&b, "hr_0001"), -1);
    gw_hub_values_free(&b);
    assert_int_equal(gw_hub_names_count(&names), 0);
    gw_hub_names_free(&names);
}

static void test_full_table(void **state)
{
    (void)state;
    gw_hub_names_t names;
    gw_hub_names_init(&names);
    gw_hub_values_t t;
    gw_hub_values_init(&t, &names);
    assert_int_equal(gw_hub_values_reserve(&t, GW_HUB_VALUES_MAX + 1), LGW_ERANGE);
    lgw_value_t *one = lgw_value_new_int(1);
    char name[32];
    for (unsigned i = 0; i < GW_HUB_VALUES_MAX; i++) {
        snprintf(name, sizeof name, "p%u", i);
        assert_int_equal(gw_hub_values_put(&t, name, one), LGW_OK);
    }
    assert_int_equal(gw_hub_values_put(&t, "one too many", one), LGW_ERANGE);
    assert_int_equal(gw_hub_values_put(&t, "p0", one), LGW_OK); /* existing points still update */
    snprintf(name, sizeof name, "p%u", GW_HUB_VALUES_MAX - 1);
    assert_int_equal(get_int(&t, name), 1);
    assert_null(gw_hub_values_get(&t, "one too many"));
    lgw_value_free(one);
    gw_hub_values_free(&t);
    assert_int_equal(gw_hub_names_count(&names), 0);
    gw_hub_names_free(&names);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_get_overwrite),
        cmocka_unit_test(test_type_changes),
        cmocka_unit_test(test_many_points_order_and_sharing),
        cmocka_unit_test(test_full_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
