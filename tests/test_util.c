/* test_util.c — half floats, checked arithmetic, allocation cap, crash-safe output. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "testutil.h"

static void test_f16_known_values(void **state) {
    /* values from the IEEE 754 binary16 definition */
    assert_int_equal(qmc_f32_to_f16(1.0f), 0x3c00);
    assert_int_equal(qmc_f32_to_f16(-2.0f), 0xc000);
    assert_int_equal(qmc_f32_to_f16(65504.0f), 0x7bff);
    assert_int_equal(qmc_f32_to_f16(65520.0f), 0x7c00);          /* rounds up to inf */
    assert_int_equal(qmc_f32_to_f16(0x1p-24f), 0x0001);          /* smallest subnormal */
    assert_int_equal(qmc_f32_to_f16(0x1p-25f), 0x0000);          /* tie to even: 0 */
    assert_int_equal(qmc_f32_to_f16(3.0f * 0x1p-25f), 0x0002);   /* 1.5 ulp rounds to 2 */
    assert_int_equal(qmc_f32_to_f16(1.0f + 0x1p-11f), 0x3c00);   /* tie to even */
    assert_int_equal(qmc_f32_to_f16(1.0f + 3 * 0x1p-11f), 0x3c02);
    assert_true(qmc_f16_to_f32(0x3555) == 0.333251953125f);
    assert_true(qmc_f16_to_f32(0x0001) == 0x1p-24f);
    assert_true(isinf(qmc_f16_to_f32(0xfc00)) && qmc_f16_to_f32(0xfc00) < 0);
    assert_true(isnan(qmc_f16_to_f32(0x7e00)));
    /* every finite half survives f16 -> f32 -> f16 */
    for (uint32_t h = 0; h < 0x10000; h++) {
        if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff)) continue; /* NaN */
        assert_int_equal(qmc_f32_to_f16(qmc_f16_to_f32((uint16_t)h)), h);
    }
    /* the SIMD row converter agrees with the scalar one */
    uint16_t src[37];
    float a[37];
    for (int i = 0; i < 37; i++) src[i] = (uint16_t)(i * 1777 + 3);
    qmc_f16_to_f32_row(src, a, 37);
    for (int i = 0; i < 37; i++) {
        float b = qmc_f16_to_f32(src[i]);
        assert_memory_equal(&a[i], &b, 4);
    }
}

static void test_bf16(void **state) {
    assert_int_equal(qmc_f32_to_bf16(1.0f), 0x3f80);
    assert_int_equal(qmc_f32_to_bf16(1.00390625f), 0x3f80);  /* tie to even */
    assert_int_equal(qmc_f32_to_bf16(1.01171875f), 0x3f82);  /* tie to even, up */
    assert_true(qmc_bf16_to_f32(0xc040) == -3.0f);
}

static void test_checked_math(void **state) {
    int64_t r;
    assert_true(qmc_mul_ok(1 << 20, 1 << 20, &r) && r == (int64_t)1 << 40);
    assert_false(qmc_mul_ok(INT64_MAX / 2 + 1, 2, &r));
    assert_false(qmc_mul_ok(-1, 2, &r));
    assert_false(qmc_add_ok(INT64_MAX, 1, &r));
    uint64_t sz;
    assert_true(qmc_parse_size("4G", &sz) && sz == 4ull << 30);
    assert_true(qmc_parse_size("1.5k", &sz) && sz == 1536);
    assert_false(qmc_parse_size("12x", &sz));
    assert_false(qmc_parse_size("-1", &sz));
}

static void test_alloc_cap(void **state) {
    qmc_set_alloc_cap(1 << 20);
    void *a = qmc_alloc(512, 1024);
    assert_non_null(a);
    void *b = qmc_alloc(600, 1024);   /* would exceed 1 MiB in total */
    assert_null(b);
    assert_non_null(strstr(qmc_errmsg(), "memory cap"));
    qmc_free(a);
    b = qmc_alloc(600, 1024);
    assert_non_null(b);
    qmc_free(b);
    assert_null(qmc_alloc(SIZE_MAX / 2, 4)); /* overflow */
    qmc_set_alloc_cap(0);
}

static void test_atomic_output(void **state) {
    const char *path = tu_tmp("atomic.bin");
    assert_int_equal(qmc_write_file_atomic(path, "old", 3), 0);
    /* an aborted write leaves the old file and no temporary behind */
    qmc_out *o;
    assert_int_equal(qmc_out_open(path, &o), 0);
    assert_int_equal(qmc_out_write(o, "new contents", 12), 0);
    qmc_out_abort(o);
    char *buf;
    size_t n;
    assert_int_equal(qmc_read_file(path, 100, &buf, &n), 0);
    assert_int_equal(n, 3);
    assert_memory_equal(buf, "old", 3);
    qmc_free(buf);
    char *ls;
    tu_run(&ls, "ls -a '%s'", tu_tmpdir());
    assert_null(strstr(ls, ".tmp"));
    free(ls);
    /* a committed write replaces it */
    assert_int_equal(qmc_out_open(path, &o), 0);
    assert_int_equal(qmc_out_printf(o, "%s-%d", "new", 7), 0);
    assert_int_equal(qmc_out_commit(o), 0);
    assert_int_equal(qmc_read_file(path, 100, &buf, &n), 0);
    assert_string_equal(buf, "new-7");
    qmc_free(buf);
    /* a directory that does not exist is a clear error */
    assert_int_not_equal(qmc_out_open("/nonexistent-dir/x.bin", &o), 0);
    assert_non_null(strstr(qmc_errmsg(), "/nonexistent-dir"));
}

static void test_counter_rng(void **state) {
    /* same key and counter -> same value; mean/var of normals plausible */
    assert_true(qmc_rand_u64(7, 99) == qmc_rand_u64(7, 99));
    assert_true(qmc_rand_u64(7, 99) != qmc_rand_u64(8, 99));
    double s = 0, s2 = 0;
    const int n = 200000;
    for (int i = 0; i < n; i++) {
        double x = qmc_rand_normal(3, (uint64_t)i);
        s += x;
        s2 += x * x;
    }
    assert_true(fabs(s / n) < 0.01);
    assert_true(fabs(s2 / n - 1.0) < 0.02);
}

int main(void) {
    tu_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_f16_known_values), cmocka_unit_test(test_bf16),
        cmocka_unit_test(test_checked_math),     cmocka_unit_test(test_alloc_cap),
        cmocka_unit_test(test_atomic_output),    cmocka_unit_test(test_counter_rng),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
