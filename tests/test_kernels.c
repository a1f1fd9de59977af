/* test_kernels.c — SIMD kernels against their scalar references: packed-row
 * decoding (bit for bit, on random planes of awkward shapes and on quantizer
 * output of every format), the quantizer's error sums (bit for bit), and the
 * engine on a packed model against the same model dequantized to F32. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/kernels.h"
#include "engine/qdecode.h"
#include "quant/fit.h"
#include "quant/quantize.h"
#include "testutil.h"
#include "util/cpu.h"

typedef void (*decode_fn)(const qmc_qtensor *, int64_t, float *);

/* Every available decoder agrees with the reference on every row, bit for bit. */
static void check_decoders(const qmc_qtensor *q) {
    decode_fn fns[3];
    const char *names[3];
    int nf = 0;
    if (qmc_cpu_has_avx2()) fns[nf] = qmc_qt_decode_row_avx2, names[nf++] = "avx2";
    if (qmc_cpu_has_avx512()) fns[nf] = qmc_qt_decode_row_avx512, names[nf++] = "avx512";
    fns[nf] = qmc_qt_decode_row, names[nf++] = "dispatch";
    float *a = malloc((size_t)q->cols * 4 + 64), *b = malloc((size_t)q->cols * 4 + 64);
    for (int64_t r = 0; r < q->rows; r++) {
        qmc_qt_decode_row_ref(q, r, a);
        for (int f = 0; f < nf; f++) {
            memset(b, 0xff, (size_t)q->cols * 4);
            fns[f](q, r, b);
            if (memcmp(a, b, (size_t)q->cols * 4) != 0) {
                for (int64_t c = 0; c < q->cols; c++)
                    if (memcmp(&a[c], &b[c], 4))
                        fail_msg("%s decoder differs at row %lld col %lld of %lldx%lld (bits %d/%d elem %d asym %d group %d nout %lld): %a vs %a",
                                 names[f], (long long)r, (long long)c, (long long)q->rows, (long long)q->cols,
                                 q->in.bits, q->out.bits, q->in.elem, q->in.asym, q->in.group, (long long)q->n_out,
                                 (double)a[c], (double)b[c]);
            }
        }
    }
    free(a);
    free(b);
}

/* Random planes: every code value, random mask density, random F16 scales
 * (negative ones too), random E8M0 bytes (zero included). */
static qmc_qtensor *random_planes(int64_t rows, int64_t cols, qmc_plane_fmt in, qmc_plane_fmt out, double density,
                                  uint64_t seed) {
    int64_t n = rows * cols, k = 0;
    uint8_t *mask = calloc((size_t)(n + 64) / 8 + 1, 1);
    if (out.bits)
        for (int64_t i = 0; i < n; i++)
            if (qmc_rand_unit(seed, (uint64_t)i) < density) mask[i >> 3] |= (uint8_t)(1u << (i & 7)), k++;
    qmc_qtensor *q;
    assert_int_equal(qmc_qt_alloc(rows, cols, in, out, k, &q), 0);
    if (k) memcpy(qmc_qt_mut(q->mask), mask, (size_t)(n + 7) / 8);
    free(mask);
    uint64_t c = 0;
    for (size_t i = 0; i < (size_t)((n - k) * in.bits + 7) / 8; i++) qmc_qt_mut(q->in_codes)[i] = (uint8_t)qmc_rand_u64(seed + 1, c++);
    for (size_t i = 0; i < (size_t)(k * out.bits + 7) / 8; i++) qmc_qt_mut(q->out_codes)[i] = (uint8_t)qmc_rand_u64(seed + 2, c++);
    int64_t ng = rows * qmc_qt_groups(q);
    for (int64_t g = 0; g < ng; g++) {
        if (in.elem == QMC_ELEM_INT) {
            uint16_t h = qmc_f32_to_f16((float)(qmc_rand_normal(seed + 3, (uint64_t)g) * 0.01));
            memcpy(qmc_qt_mut(q->in_scale) + 2 * g, &h, 2);
            if (in.asym) {
                h = qmc_f32_to_f16((float)(qmc_rand_normal(seed + 4, (uint64_t)g) * 0.05));
                memcpy(qmc_qt_mut(q->in_min) + 2 * g, &h, 2);
            }
        } else qmc_qt_mut(q->in_scale)[g] = (uint8_t)(g % 7 == 0 ? 0 : 100 + qmc_rand_u64(seed + 5, (uint64_t)g) % 40);
    }
    if (k)
        for (int64_t r = 0; r < rows; r++) {
            uint16_t h = qmc_f32_to_f16((float)(qmc_rand_normal(seed + 6, (uint64_t)r) * 0.1));
            memcpy(qmc_qt_mut(q->out_scale) + 2 * r, &h, 2);
            if (out.asym) {
                h = qmc_f32_to_f16((float)qmc_rand_normal(seed + 7, (uint64_t)r) * 0.1f);
                memcpy(qmc_qt_mut(q->out_min) + 2 * r, &h, 2);
            }
        }
    assert_int_equal(qmc_qt_finish(q), 0);
    return q;
}

static void test_decode_random_planes(void **state) {
    const int64_t colss[] = {1, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 172, 257};
    const int groups[] = {0, 8, 12, 16, 24, 32, 64};
    const double dens[] = {0.0, 0.02, 0.3, 0.7, 1.0};
    uint64_t seed = 1;
    for (size_t ci = 0; ci < QMC_ARRAY_LEN(colss); ci++) {
        int64_t cols = colss[ci], rows = 3 + (int64_t)(ci % 4);
        for (int bi = 2; bi <= 8; bi++)
            for (int asym = 0; asym < 2; asym++) {
                size_t gi = (ci + (size_t)bi) % QMC_ARRAY_LEN(groups);
                qmc_plane_fmt in = {(uint8_t)bi, QMC_ELEM_INT, (uint8_t)asym, groups[gi]};
                for (int bo = 2; bo <= 8; bo += tu_quick() ? 3 : 1) {
                    qmc_plane_fmt out = {(uint8_t)bo, QMC_ELEM_INT, (uint8_t)asym, 0};
                    qmc_qtensor *q = random_planes(rows, cols, in, out, dens[(size_t)(bo + bi) % 5], seed++);
                    check_decoders(q);
                    qmc_qt_free(q);
                }
                /* no outlier plane at all */
                qmc_qtensor *q = random_planes(rows, cols, in, (qmc_plane_fmt){0}, 0, seed++);
                check_decoders(q);
                qmc_qt_free(q);
                /* MX integers of this width, and mixed sym/asym planes (the reference path) */
                if (!asym) {
                    qmc_plane_fmt mx = {(uint8_t)bi, QMC_ELEM_MXINT, 0, groups[gi] ? 32 : 0};
                    q = random_planes(rows, cols, mx, (qmc_plane_fmt){0}, 0, seed++);
                    check_decoders(q);
                    qmc_qt_free(q);
                    q = random_planes(rows, cols, mx, (qmc_plane_fmt){5, QMC_ELEM_INT, 0, 0}, 0.3, seed++);
                    check_decoders(q);
                    qmc_qt_free(q);
                }
                q = random_planes(rows, cols, in, (qmc_plane_fmt){5, QMC_ELEM_INT, (uint8_t)!asym, 0}, 0.3, seed++);
                check_decoders(q);
                qmc_qt_free(q);
            }
        qmc_plane_fmt fp4 = {4, QMC_ELEM_MXFP4, 0, 32};
        qmc_qtensor *q = random_planes(rows, cols, fp4, (qmc_plane_fmt){0}, 0, seed++);
        check_decoders(q);
        qmc_qt_free(q);
        fp4.group = 16;
        q = random_planes(rows, cols, fp4, (qmc_plane_fmt){0}, 0, seed++);
        check_decoders(q);
        qmc_qt_free(q);
    }
}

static void test_decode_quantizer_output(void **state) {
    /* the formats the quantizer actually writes, on a heavy-tailed matrix */
    const int64_t rows = 12, cols = 200;
    qmc_tensor t;
    qmc_tensor_init(&t, "w", QMC_TYPE_F32, 2, cols, rows);
    float *w = qmc_alloc((size_t)(rows * cols), sizeof(float));
    for (int64_t i = 0; i < rows * cols; i++) w[i] = (float)(qmc_rand_normal(3, (uint64_t)i) * (i % 37 ? 0.02 : 0.3));
    t.data = w;
    qmc_quant_params p;
    const float rhos[] = {0.0f, 0.01f, 0.3f, 0.5f};
    for (int bi = 2; bi <= 8; bi++)
        for (int asym = 0; asym < 2; asym++)
            for (size_t ri = 0; ri < QMC_ARRAY_LEN(rhos); ri++)
                for (int group = 0; group <= 32; group += 16) {
                    qmc_quant_params_default(&p);
                    p.bits_in = bi;
                    p.bits_out = 10 - bi;
                    p.asym = asym;
                    p.rho = rhos[ri];
                    p.group = group;
                    p.grid = 10;
                    qmc_tensor d;
                    assert_int_equal(qmc_quantize_tensor(&t, &p, &d), 0);
                    check_decoders(d.q);
                    qmc_tensor_release(&d);
                }
    qmc_quant_params_default(&p);
    p.asym = false;
    p.rho = 0;
    for (int m = 0; m < 2; m++) {
        p.method = m ? QMC_METHOD_MXFP4 : QMC_METHOD_MXINT;
        p.bits_in = 4;
        qmc_tensor d;
        assert_int_equal(qmc_quantize_tensor(&t, &p, &d), 0);
        check_decoders(d.q);
        qmc_tensor_release(&d);
    }
    qmc_free(w);
}

/* The x the fused kernel multiplied: x itself, or for the integer kernels x^
 * (qmc_qt_dot_xq), checked here against its definition: with the float step
 * s_b = max |x| over the block of 256 columns / 32767, x^_c / s_b is an
 * integer (to the float rounding of x^) of at most 32767 in magnitude, and
 * |x^_c - x_c| <= s_b / 2. */
static void x_used(const qmc_qtensor *q, const qmc_qt_dot_in *in, float *xu) {
    const int64_t cols = q->cols;
    if (!qmc_qt_dot_fused(q) || qmc_qt_dot_kind(q) == QMC_DOT_FLOAT) {
        memcpy(xu, in->x, (size_t)cols * 4);
        return;
    }
    for (int64_t c0 = 0; c0 < cols; c0 += 256) {
        double mx = 0;
        for (int64_t c = c0; c < c0 + 256 && c < cols; c++) mx = fmax(mx, fabs((double)in->x[c]));
        const double s = (float)mx / 32767.0f;   /* the step as a float */
        for (int64_t c = c0; c < c0 + 256 && c < cols; c++) {
            xu[c] = qmc_qt_dot_xq(in, cols, c);
            const double X = xu[c] / s;
            if (!(fabs(X - nearbyint(X)) <= 2.4e-7 * fabs(X) + 1e-6 && fabs(X) <= 32767.01 && fabs(xu[c] - in->x[c]) <= s / 2 * (1 + 1e-6)))
                fail_msg("x^ at column %lld of %lld: %.9g for x = %.9g (block max %.9g, X %.6f)", (long long)c,
                         (long long)cols, (double)xu[c], (double)in->x[c], mx, X);
        }
    }
}

/* The fused decode + dot of single-token decoding against the reference
 * (decode, then a double-precision sum) of the x it multiplied: within
 * 1e-5 of sum |w x|. */
static void check_dot(const qmc_qtensor *q) {
    float *x = malloc((size_t)q->cols * 4), *xu = malloc((size_t)q->cols * 4), *a = malloc((size_t)q->rows * 4);
    float *b = malloc((size_t)q->rows * 4), *row = malloc((size_t)q->cols * 4);
    for (int64_t c = 0; c < q->cols; c++) x[c] = (float)qmc_rand_normal(77, (uint64_t)c) * (c % 300 < 150 ? 1.0f : 1e-3f);
    /* any sub-range of rows gives the same values */
    int64_t mid = q->rows / 2;
    float *xi = malloc((size_t)qmc_qt_dot_xi_len(q->cols) * 4);
    qmc_qt_dot_in in = {x, xi, 0.0f};
    qmc_qt_dot_prepare(q, &in);
    qmc_qt_dot_rows(q, 0, mid, &in, b);
    qmc_qt_dot_rows(q, mid, q->rows, &in, b + mid);
    x_used(q, &in, xu);
    qmc_qt_dot_rows_ref(q, 0, q->rows, xu, a);
    free(xi);
    for (int64_t r = 0; r < q->rows; r++) {
        qmc_qt_decode_row_ref(q, r, row);
        double mag = 0;
        for (int64_t c = 0; c < q->cols; c++) mag += fabs((double)row[c] * xu[c]);
        if (!(fabs((double)a[r] - b[r]) <= 1e-5 * mag + 1e-30))
            fail_msg("fused dot differs at row %lld of %lldx%lld (bits %d/%d elem %d asym %d group %d nout %lld): %g vs %g (sum|wx| %g)",
                     (long long)r, (long long)q->rows, (long long)q->cols, q->in.bits, q->out.bits, q->in.elem,
                     q->in.asym, q->in.group, (long long)q->n_out, (double)a[r], (double)b[r], mag);
    }
    free(x);
    free(xu);
    free(a);
    free(b);
    free(row);
}

/* x the integer kernels cannot round: a zero block and one below 1e-30 read
 * as zeros (product exactly 0), inf or NaN anywhere gives a non-finite product. */
static void test_fused_dot_special_x(void **state) {
    qmc_qtensor *q = random_planes(3, 300, (qmc_plane_fmt){3, QMC_ELEM_INT, 1, 0}, (qmc_plane_fmt){5, QMC_ELEM_INT, 1, 0},
                                   0.3, 901);
    if (!qmc_qt_dot_fused(q)) {
        qmc_qt_free(q);
        skip();
    }
    assert_int_equal(qmc_qt_dot_kind(q), QMC_DOT_INT);
    float x[300], y[3], xi[1024];
    assert_true(qmc_qt_dot_xi_len(300) <= 1024);
    qmc_qt_dot_in in = {x, xi, 0.0f};
    const float fill[4] = {0.0f, 1e-31f, INFINITY, NAN};
    for (int k = 0; k < 4; k++) {
        for (int c = 0; c < 300; c++) x[c] = fill[k];
        qmc_qt_dot_prepare(q, &in);
        qmc_qt_dot_rows(q, 0, 3, &in, y);
        for (int r = 0; r < 3; r++) {
            if (k < 2) assert_true(y[r] == 0.0f);
            else assert_false(isfinite(y[r]));
        }
        if (k < 2) assert_true(qmc_qt_dot_xq(&in, 300, 7) == 0.0f);
    }
    /* one NaN in the second block only: the first block's x still reads normally */
    for (int c = 0; c < 300; c++) x[c] = 1.0f;
    x[280] = NAN;
    qmc_qt_dot_prepare(q, &in);
    qmc_qt_dot_rows(q, 0, 3, &in, y);
    assert_true(qmc_qt_dot_xq(&in, 300, 3) == 1.0f);
    assert_false(isfinite(y[0]));
    qmc_qt_free(q);
}

static void test_fused_dot(void **state) {
    const int64_t colss[] = {1, 7, 16, 63, 64, 65, 100, 128, 130, 172, 257, 512, 520, 1000};
    uint64_t seed = 500;
    for (size_t ci = 0; ci < QMC_ARRAY_LEN(colss); ci++) {
        const int64_t cols = colss[ci], rows = 5;
        for (int bi = 2; bi <= 8; bi++)
            for (int asym = 0; asym < 2; asym++) {
                qmc_plane_fmt in = {(uint8_t)bi, QMC_ELEM_INT, (uint8_t)asym, 0};
                for (int bo = 2; bo <= 8; bo += 3) {
                    qmc_plane_fmt out = {(uint8_t)bo, QMC_ELEM_INT, (uint8_t)asym, 0};
                    qmc_qtensor *q = random_planes(rows, cols, in, out, 0.05 + 0.1 * bo, seed++);
                    check_dot(q);
                    qmc_qt_free(q);
                }
                qmc_qtensor *q = random_planes(rows, cols, in, (qmc_plane_fmt){0}, 0, seed++);
                check_dot(q);
                qmc_qt_free(q);
            }
        /* layouts the fused kernel does not take fall back to the reference */
        qmc_qtensor *q = random_planes(rows, cols, (qmc_plane_fmt){4, QMC_ELEM_MXFP4, 0, 32}, (qmc_plane_fmt){0}, 0, seed++);
        check_dot(q);
        qmc_qt_free(q);
    }
}

static void test_fit_sums_simd_equal_scalar(void **state) {
    if (!qmc_cpu_has_avx2()) skip();
    float v[300];
    for (int i = 0; i < 300; i++) v[i] = (float)(qmc_rand_normal(8, (uint64_t)i) * 0.03);
    for (int n = 0; n <= 300; n += (n < 20 ? 1 : 37))
        for (int bits = 2; bits <= 8; bits++) {
            float d = 0.011f * (float)bits * (n % 2 ? -1.0f : 1.0f), m = -0.05f;
            double a = qmc_sse_sym_ref(v, n, bits, d), b = qmc_sse_sym_avx2(v, n, bits, d);
            assert_memory_equal(&a, &b, sizeof a);
            a = qmc_sse_asym_ref(v, n, bits, fabsf(d), m);
            b = qmc_sse_asym_avx2(v, n, bits, fabsf(d), m);
            assert_memory_equal(&a, &b, sizeof a);
        }
}

static void test_scalar_forced_quantizer_identical(void **state) {
    /* QMC_NO_SIMD-style scalar quantization writes the same planes */
    tu_model_spec sp = {.arch = QMC_ARCH_LLAMA, .dim = 40, .hidden = 72, .layers = 1, .heads = 4, .kv_heads = 2,
                        .vocab = 50, .seq_len = 16};
    qmc_model *a = tu_random_model(&sp, 5), *b = tu_random_model(&sp, 5);
    qmc_model_quant_opts o;
    qmc_model_quant_opts_default(&o);
    assert_int_equal(qmc_quantize_model(a, &o, NULL), 0);
    qmc_cpu_force_scalar(true);
    assert_int_equal(qmc_quantize_model(b, &o, NULL), 0);
    qmc_cpu_force_scalar(false);
    const qmc_qtensor *x = a->layers[0].w_down.q, *y = b->layers[0].w_down.q;
    assert_memory_equal(x->in_codes, y->in_codes, x->in_codes_bytes);
    assert_memory_equal(x->out_codes, y->out_codes, x->out_codes_bytes);
    assert_memory_equal(x->in_scale, y->in_scale, (size_t)x->rows * 2);
    assert_memory_equal(x->in_min, y->in_min, (size_t)x->rows * 2);
    qmc_model_free(a);
    qmc_model_free(b);
}

/* Engine logits of a packed model against the same weights dequantized to F32.
 * Both run the same matmul on identical weight values, so they differ at most
 * by summation order; the stated tolerance is 1e-4 * (1 + max |logit|). */
static void engine_packed_vs_dequantized(bool quantize_embeddings, bool asym) {
    tu_model_spec sp = {.arch = QMC_ARCH_LLAMA, .dim = 64, .hidden = 136, .layers = 2, .heads = 4, .kv_heads = 2,
                        .vocab = 97, .seq_len = 32};
    qmc_model *m = tu_random_model(&sp, 7);
    qmc_model_quant_opts o;
    qmc_model_quant_opts_default(&o);
    o.quantize_embeddings = quantize_embeddings;
    o.blocks.asym = asym;
    assert_int_equal(qmc_quantize_model(m, &o, NULL), 0);
    qmc_model *f = tu_random_model(&sp, 7);
    /* f's weights := dequantized planes of m */
    qmc_tensor *pm[] = {&m->token_embd, &m->output, &m->layers[0].wq, &m->layers[0].wk, &m->layers[0].wv,
                        &m->layers[0].wo, &m->layers[0].w_gate, &m->layers[0].w_up, &m->layers[0].w_down,
                        &m->layers[1].wq, &m->layers[1].wk, &m->layers[1].wv, &m->layers[1].wo,
                        &m->layers[1].w_gate, &m->layers[1].w_up, &m->layers[1].w_down};
    qmc_tensor *pf[] = {&f->token_embd, &f->output, &f->layers[0].wq, &f->layers[0].wk, &f->layers[0].wv,
                        &f->layers[0].wo, &f->layers[0].w_gate, &f->layers[0].w_up, &f->layers[0].w_down,
                        &f->layers[1].wq, &f->layers[1].wk, &f->layers[1].wv, &f->layers[1].wo,
                        &f->layers[1].w_gate, &f->layers[1].w_up, &f->layers[1].w_down};
    for (size_t i = 0; i < QMC_ARRAY_LEN(pm); i++) {
        assert_int_equal(pm[i]->type, QMC_TYPE_PACKED);   /* the 8-bit embedding/head when not quantize_embeddings */
        qmc_tensor_release(pf[i]);
        assert_int_equal(qmc_tensor_to_f32(pm[i], pf[i]), 0);
    }
    int32_t toks[20];
    for (int i = 0; i < 20; i++) toks[i] = (int32_t)(qmc_rand_u64(9, (uint64_t)i) % 97);
    for (int simd = 1; simd >= 0; simd--) {
        qmc_cpu_force_scalar(!simd);
        float *a = tu_logits(m, toks, 20), *b = tu_logits(f, toks, 20);
        double mx = 0;
        for (int i = 0; i < 20 * 97; i++) mx = fmax(mx, fabs((double)b[i]));
        double diff = tu_max_abs_diff(a, b, 20 * 97);
        assert_true(diff <= 1e-4 * (1 + mx));
        /* single-token decode steps too (the matmul's one-token path) */
        qmc_session *s1, *s2;
        assert_int_equal(qmc_session_new(m, 20, &s1), 0);
        assert_int_equal(qmc_session_new(f, 20, &s2), 0);
        float la[97], lb[97];
        for (int t = 0; t < 20; t++) {
            assert_int_equal(qmc_forward(s1, &toks[t], 1, t, la, false), 0);
            assert_int_equal(qmc_forward(s2, &toks[t], 1, t, lb, false), 0);
            assert_true(tu_max_abs_diff(la, lb, 97) <= 1e-4 * (1 + mx));
        }
        qmc_session_free(s1);
        qmc_session_free(s2);
        free(a);
        free(b);
    }
    qmc_cpu_force_scalar(false);
    qmc_model_free(m);
    qmc_model_free(f);
}

static void test_engine_packed_vs_dequantized(void **state) {
    engine_packed_vs_dequantized(true, true);    /* QMC everywhere, asymmetric */
    engine_packed_vs_dequantized(false, true);   /* the defaults: 8-bit embedding and head */
    engine_packed_vs_dequantized(false, false);  /* symmetric planes */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_random_planes),
        cmocka_unit_test(test_decode_quantizer_output),
        cmocka_unit_test(test_fused_dot),
        cmocka_unit_test(test_fused_dot_special_x),
        cmocka_unit_test(test_fit_sums_simd_equal_scalar),
        cmocka_unit_test(test_scalar_forced_quantizer_identical),
        cmocka_unit_test(test_engine_packed_vs_dequantized),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
