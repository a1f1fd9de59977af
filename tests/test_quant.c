/* test_quant.c — the quantizers: exact partition, scale grid search, MX
 * blocks from hand computation, quantize -> pack -> unpack round trips, the
 * packed GGUF file, parameter checks. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quant/fit.h"
#include "quant/packfile.h"
#include "quant/partition.h"
#include "quant/quantize.h"
#include "testutil.h"

/* ---- partition ---------------------------------------------------------------- */

/* Slow reference: sort indices by (|w| desc, index asc); the first k are outliers. */
static int cmp_ref(const void *a, const void *b, void *ctx) {
    const float *w = ctx;
    int64_t i = *(const int64_t *)a, j = *(const int64_t *)b;
    float x = fabsf(w[i]), y = fabsf(w[j]);
    if (x != y) return x > y ? -1 : 1;
    return i < j ? -1 : (i > j);
}

static void check_partition(const float *w, int64_t n, double rho) {
    int64_t k = qmc_outlier_count(rho, n);
    assert_int_equal(k, (int64_t)llround(rho * (double)n));
    qmc_partition p;
    assert_int_equal(qmc_partition_select(w, n, k, &p), 0);
    int64_t *idx = malloc((size_t)n * sizeof *idx);
    for (int64_t i = 0; i < n; i++) idx[i] = i;
    qsort_r(idx, (size_t)n, sizeof *idx, cmp_ref, (void *)w);
    char *is_out = calloc((size_t)n, 1);
    for (int64_t i = 0; i < k; i++) is_out[idx[i]] = 1;
    int64_t count = 0;
    float tau = 0;
    for (int64_t i = 0; i < n; i++) {
        bool o = qmc_partition_is_outlier(&p, w, i);
        assert_int_equal(o, is_out[i]);
        count += o;
        if (!o && fabsf(w[i]) > tau) tau = fabsf(w[i]);
    }
    assert_int_equal(count, k);
    assert_true(p.tau == tau);
    free(idx);
    free(is_out);
}

static void test_partition_exact(void **state) {
    const int64_t sizes[] = {1, 2, 5, 10, 63, 64, 65, 1000, 4099, 100000};
    const double rhos[] = {0.0, 0.1, 0.3, 0.5, 0.9, 0.999};
    for (size_t s = 0; s < QMC_ARRAY_LEN(sizes); s++) {
        int64_t n = sizes[s];
        float *w = malloc((size_t)n * sizeof(float));
        for (int64_t i = 0; i < n; i++) w[i] = (float)qmc_rand_normal(11, (uint64_t)(i + 1000 * s));
        for (size_t r = 0; r < QMC_ARRAY_LEN(rhos); r++) check_partition(w, n, rhos[r]);
        /* heavy ties: a few distinct magnitudes, both signs, zeros and negative zeros */
        for (int64_t i = 0; i < n; i++) {
            static const float vals[] = {0.0f, -0.0f, 0.5f, -0.5f, 1.0f, -1.0f, 0.25f};
            w[i] = vals[qmc_rand_u64(12, (uint64_t)i) % 7];
        }
        for (size_t r = 0; r < QMC_ARRAY_LEN(rhos); r++) check_partition(w, n, rhos[r]);
        free(w);
    }
}

static void test_partition_ties_by_index(void **state) {
    /* all equal magnitudes: the outliers are exactly the first k indices */
    float w[10];
    for (int i = 0; i < 10; i++) w[i] = (i % 2) ? 2.0f : -2.0f;
    qmc_partition p;
    assert_int_equal(qmc_partition_select(w, 10, 3, &p), 0);
    for (int i = 0; i < 10; i++) assert_int_equal(qmc_partition_is_outlier(&p, w, i), i < 3);
    assert_true(p.tau == 2.0f);
    /* the count rounds half away from zero: 0.25 * 10 = 2.5 -> 3 */
    assert_int_equal(qmc_outlier_count(0.25, 10), 3);
    assert_int_equal(qmc_outlier_count(0.0, 10), 0);
}

/* ---- grid search ------------------------------------------------------------ */

/* Independent slow loss: every level tried (nearest level, no clamping needed). */
static double slow_loss(const float *v, int n, int bits, bool asym, float d, float m, double noise) {
    double s = 0;
    for (int j = 0; j < n; j++) {
        double best = INFINITY;
        for (int q = 0; q < (1 << bits); q++) {
            double level = asym ? (double)d * q + m : (double)d * (q - (1 << (bits - 1)));
            double e = ((double)v[j] - level) * ((double)v[j] - level);
            best = e < best ? e : best;
        }
        s += best;
    }
    return s + n * noise * (double)d * d;
}

static void test_grid_search_hand_made(void **state) {
    /* 2-bit symmetric (levels -2d..d): one value at -1, 99 at +0.3.  Candidates f in
     * {1, .8, .6, .4, .2}: d = f/2.  f = 0.6 gives d = 0.3, hitting the 99 values and
     * clipping -1 to -0.6 (loss ~0.16); f = 1 gives d = 0.5 (loss 99*0.04 + 0). */
    float v[100];
    v[0] = -1.0f;
    for (int i = 1; i < 100; i++) v[i] = 0.3f;
    qmc_int_fit_opts o = {2, false, 5, 0.2f, 0.0};
    qmc_int_fit fit;
    qmc_int_fit_search(v, 100, &o, &fit);
    assert_true(fabsf(fit.f - 0.6f) < 1e-6f);
    assert_int_equal(fit.d, qmc_f32_to_f16(0.3f));
    double best = INFINITY;
    for (int i = 0; i < 5; i++) {
        float d, m;
        qmc_int_candidate(v, 100, &o, qmc_grid_point(&o, i), &d, &m);
        double l = slow_loss(v, 100, 2, false, qmc_f16_to_f32(qmc_f32_to_f16(d)), 0, 0);
        best = l < best ? l : best;
    }
    assert_true(fabs(fit.loss - best) <= 1e-9 + 1e-6 * best);
    /* values on a lattice of 1/8 with the largest at -4/8: f = 1 is exact (loss 0) */
    float lat[8] = {-0.5f, -0.375f, -0.25f, -0.125f, 0.0f, 0.125f, 0.25f, 0.375f};
    qmc_int_fit_opts o3 = {3, false, 100, 0.25f, 0.0};
    qmc_int_fit_search(lat, 8, &o3, &fit);
    assert_true(fit.loss == 0.0 && fit.f == 1.0f);
    /* asymmetric: values on 0.25 + k/16, k = 0..7: f = 1 spans exactly, loss 0 */
    float al[8];
    for (int k = 0; k < 8; k++) al[k] = 0.25f + (float)k / 16.0f;
    qmc_int_fit_opts oa = {3, true, 100, 0.25f, 0.0};
    qmc_int_fit_search(al, 8, &oa, &fit);
    assert_true(fit.loss == 0.0);
    assert_true(qmc_f16_to_f32(fit.d) == 1.0f / 16 && qmc_f16_to_f32(fit.m) == 0.25f);
}

static void test_grid_search_is_argmin(void **state) {
    /* random rows: the search returns the minimum of the independently computed
     * loss over its candidates, with and without the noise term */
    for (int trial = 0; trial < 40; trial++) {
        int n = 5 + trial * 7, bits = 2 + trial % 7;
        bool asym = trial % 2;
        double noise = (trial % 3) * 0.05;
        float *v = malloc((size_t)n * sizeof(float));
        for (int j = 0; j < n; j++) v[j] = (float)(qmc_rand_normal(21, (uint64_t)(trial * 1000 + j)) * 0.02);
        qmc_int_fit_opts o = {bits, asym, 37, 0.3f, noise};
        qmc_int_fit fit;
        qmc_int_fit_search(v, n, &o, &fit);
        double best = INFINITY;
        for (int i = 0; i < o.grid; i++) {
            float d, m;
            qmc_int_candidate(v, n, &o, qmc_grid_point(&o, i), &d, &m);
            double l = slow_loss(v, n, bits, asym, qmc_f16_to_f32(qmc_f32_to_f16(d)),
                                 asym ? qmc_f16_to_f32(qmc_f32_to_f16(m)) : 0.0f, noise);
            best = l < best ? l : best;
        }
        double got = slow_loss(v, n, bits, asym, qmc_f16_to_f32(fit.d), qmc_f16_to_f32(fit.m), noise);
        assert_true(got <= best * (1 + 1e-5) + 1e-12);
        free(v);
    }
}

static void test_noise_shrinks_scale(void **state) {
    /* the noise term n*(p-+p+)*d^2 favours smaller steps: with p = 0.2 the chosen
     * scale is no larger than the MSE one, and equals the brute-force argmin */
    float v[256];
    for (int j = 0; j < 256; j++) v[j] = (float)(qmc_rand_normal(5, (uint64_t)j) * 0.05);
    qmc_int_fit_opts o = {3, false, 100, 0.25f, 0.0};
    qmc_int_fit a, b;
    qmc_int_fit_search(v, 256, &o, &a);
    o.noise = 0.2;
    qmc_int_fit_search(v, 256, &o, &b);
    assert_true(fabsf(qmc_f16_to_f32(b.d)) < fabsf(qmc_f16_to_f32(a.d)));
    double best = INFINITY;
    int arg = -1;
    for (int i = 0; i < o.grid; i++) {
        float d, m;
        qmc_int_candidate(v, 256, &o, qmc_grid_point(&o, i), &d, &m);
        double l = slow_loss(v, 256, 3, false, qmc_f16_to_f32(qmc_f32_to_f16(d)), 0, 0.2);
        if (l < best - 1e-12) best = l, arg = i;
    }
    assert_true(fabsf(b.f - qmc_grid_point(&o, arg)) < 1e-6f);
}

/* ---- MX blocks by hand ----------------------------------------------------------- */

static void test_mx_hand_blocks(void **state) {
    /* MXFP4, max |v| = 5: floor(log2 5) = 2, emax(E2M1) = 2 -> X = 2^0 (E8M0 127).
     * Elements (ties away from zero, saturating at 6):
     *   5 -> 6, 0.25 -> 0.5, 0.2 -> 0, 0.3 -> 0.5, 0.75 -> 1, 1.25 -> 1.5,
     *   -2.5 -> -3, 3.5 -> 4, -0.1 -> -0 */
    float v[32] = {5.0f, 0.25f, 0.2f, 0.3f, 0.75f, 1.25f, -2.5f, 3.5f, -0.1f};
    const float want_fp4[9] = {6.0f, 0.5f, 0.0f, 0.5f, 1.0f, 1.5f, -3.0f, 4.0f, -0.0f};
    uint8_t codes[32];
    float deq[32];
    uint8_t e = qmc_mx_encode_block(v, 32, QMC_ELEM_MXFP4, 4, codes, deq);
    assert_int_equal(e, 127);
    for (int i = 0; i < 9; i++) {
        assert_true(deq[i] == want_fp4[i]);
        assert_true(qmc_fp4_e2m1_values[codes[i]] == want_fp4[i]);
    }
    assert_int_equal(codes[8], 8);   /* negative zero keeps its sign bit */
    for (int i = 9; i < 32; i++) assert_int_equal(codes[i], 0);
    /* 7 saturates to 6 once the scale is set by a larger neighbour:
     * max 7 -> floor(log2 7) = 2 -> X = 1; 7 -> 6 */
    float s[2] = {7.0f, -7.0f};
    qmc_mx_encode_block(s, 2, QMC_ELEM_MXFP4, 4, codes, deq);
    assert_true(deq[0] == 6.0f && deq[1] == -6.0f);
    /* a small block: max 0.1 -> floor(log2 0.1) = -4, X = 2^-6 (E8M0 121);
     * 0.1 / 2^-6 = 6.4 -> 6 -> 0.09375 */
    float t[1] = {0.1f};
    assert_int_equal(qmc_mx_encode_block(t, 1, QMC_ELEM_MXFP4, 4, codes, deq), 121);
    assert_true(deq[0] == 0.09375f);

    /* MXINT4 (microxcaling int4: k/4, k in -7..7, emax 0), max |v| = 5:
     * X = 2^2 (E8M0 129); v/X*4 = v: 5 -> 5, 1 -> 1, 3.4 -> 3, 0.5 -> 1 (tie away),
     * -2.5 -> -3, 7.5 (but max is 7.5 then) ... */
    float u[6] = {5.0f, 1.0f, 3.4f, 0.5f, -2.5f, -0.4f};
    const float want_int[6] = {5.0f, 1.0f, 3.0f, 1.0f, -3.0f, 0.0f};
    assert_int_equal(qmc_mx_encode_block(u, 6, QMC_ELEM_MXINT, 4, codes, deq), 129);
    for (int i = 0; i < 6; i++) {
        assert_true(deq[i] == want_int[i]);
        assert_int_equal(codes[i], (int)want_int[i] + 8);
    }
    /* max 7.5: X = 4, 7.5 -> k = round(7.5) = 8 -> saturates at 7 -> 7.0 */
    float big[2] = {7.5f, -7.5f};
    qmc_mx_encode_block(big, 2, QMC_ELEM_MXINT, 4, codes, deq);
    assert_true(deq[0] == 7.0f && deq[1] == -7.0f);
    assert_int_equal(codes[1], 1);   /* -7 + 8: the code -8 is never produced */
    /* an all-zero block: E = -127 (E8M0 0), every element zero */
    float z[4] = {0};
    assert_int_equal(qmc_mx_encode_block(z, 4, QMC_ELEM_MXINT, 4, codes, deq), 0);
    assert_true(deq[0] == 0.0f && codes[0] == 8);
}

/* ---- round trips ---------------------------------------------------------------- */

static qmc_tensor make_tensor(int64_t rows, int64_t cols, uint64_t seed, bool heavy) {
    qmc_tensor t;
    qmc_tensor_init(&t, "blk.0.test.weight", QMC_TYPE_F32, 2, cols, rows);
    float *d = qmc_alloc((size_t)(rows * cols), sizeof(float));
    for (int64_t i = 0; i < rows * cols; i++) {
        double x = qmc_rand_normal(seed, (uint64_t)i) * 0.02;
        if (heavy && qmc_rand_u64(seed + 1, (uint64_t)i) % 50 == 0) x *= 8; /* heavy tail */
        d[i] = (float)x;
    }
    t.data = d;
    t.owned = d;
    return t;
}

/* quantize -> pack -> decode (reference and dispatched) equals the quantizer's own reconstruction */
static void round_trip(const qmc_tensor *src, const qmc_quant_params *p) {
    const int64_t rows = qmc_tensor_rows(src), cols = src->ne[0];
    float *deq = qmc_alloc((size_t)(rows * cols), sizeof(float));
    float *row = qmc_alloc((size_t)cols, sizeof(float));
    qmc_tensor dst;
    qmc_quant_error err;
    assert_int_equal(qmc_quantize_tensor_ex(src, p, &dst, deq, &err), 0);
    assert_int_equal(dst.type, QMC_TYPE_PACKED);
    const qmc_qtensor *q = dst.q;
    if (p->method == QMC_METHOD_QMC) assert_int_equal(q->n_out, qmc_outlier_count(p->rho, rows * cols));
    double sse = 0;
    for (int64_t r = 0; r < rows; r++) {
        qmc_qt_decode_row_ref(q, r, row);
        assert_memory_equal(row, deq + r * cols, (size_t)cols * sizeof(float));
        qmc_tensor_get_row(&dst, r, row);
        assert_memory_equal(row, deq + r * cols, (size_t)cols * sizeof(float));
        for (int64_t c = 0; c < cols; c++) {
            double e = (double)((const float *)src->data)[r * cols + c] - row[c];
            sse += e * e;
        }
    }
    assert_true(fabs(sse - err.sse) <= 1e-9 * (1 + sse));
    /* a reconstruction no worse than 1/2 LSB everywhere for in-range values is not
     * checked here; what is: the error is far below the signal */
    assert_true(err.sse < 0.5 * err.energy);
    qmc_tensor_release(&dst);
    qmc_free(deq);
    qmc_free(row);
}

static void test_round_trips(void **state) {
    const int64_t shapes[][2] = {{1, 1}, {3, 7}, {5, 33}, {16, 64}, {9, 100}, {32, 172}};
    for (size_t s = 0; s < QMC_ARRAY_LEN(shapes); s++) {
        qmc_tensor t = make_tensor(shapes[s][0], shapes[s][1], 100 + s, true);
        qmc_quant_params p;
        for (int bi = 2; bi <= 8; bi++)
            for (int asym = 0; asym < 2; asym++) {
                qmc_quant_params_default(&p);
                p.bits_in = bi;
                p.bits_out = 10 - bi;
                p.asym = asym;
                p.rho = (float)(0.05 * bi);
                p.grid = 20;
                round_trip(&t, &p);   /* 1x1 with rho >= 0.5: every weight an outlier, no inliers */
                p.group = 8 * (bi % 3);  /* 0, 8, 16 */
                round_trip(&t, &p);
                p.method = QMC_METHOD_RTN;
                p.rho = 0;
                round_trip(&t, &p);
                p.group = 32;
                round_trip(&t, &p);
            }
        qmc_quant_params_default(&p);
        p.rho = 0;
        p.asym = false;
        p.method = QMC_METHOD_MXINT;
        for (int b = 2; b <= 8; b++) {
            p.bits_in = b;
            round_trip(&t, &p);
        }
        p.method = QMC_METHOD_MXFP4;
        p.bits_in = 4;
        round_trip(&t, &p);
        qmc_tensor_release(&t);
    }
}

static void test_packed_file_round_trip(void **state) {
    /* a quantized random model written as GGUF and read back: same planes, same rows */
    tu_model_spec sp = {.arch = QMC_ARCH_LLAMA, .dim = 48, .hidden = 100, .layers = 2, .heads = 4, .kv_heads = 2,
                        .vocab = 300, .seq_len = 32, .with_tokenizer = true};
    qmc_model *m = tu_random_model(&sp, 3);
    qmc_model_quant_opts o;
    qmc_model_quant_opts_default(&o);
    qmc_model_quant_report rep;
    assert_int_equal(qmc_quantize_model(m, &o, &rep), 0);
    assert_int_equal(rep.n_tensors, 1 + 2 * 7 + 1);   /* embedding, 7 linears per layer, untied head */
    qmc_model_quant_report_free(&rep);
    assert_int_equal(m->layers[0].wq.type, QMC_TYPE_PACKED);
    assert_int_equal(m->token_embd.q->method, QMC_METHOD_RTN);
    assert_int_equal(m->token_embd.q->in.bits, 8);
    const char *path = tu_tmp("rt.qmc.gguf");
    qmc_quant_meta meta = {.opts = o, .mlc_bits = 2, .device = "test-device", .source = "random"};
    assert_int_equal(qmc_save_quantized(m, &meta, path), 0);
    qmc_model *b = NULL;
    assert_int_equal(qmc_model_load(path, NULL, &b), 0);
    char s[64];
    assert_true(gguf_get_str(b->gguf, "qmc.method", s, sizeof s) && strcmp(s, "qmc") == 0);
    assert_true(gguf_get_str(b->gguf, "qmc.device", s, sizeof s) && strcmp(s, "test-device") == 0);
    assert_true(gguf_get_str(b->gguf, "qmc.position_encoding", s, sizeof s) && strcmp(s, "bitmap") == 0);
    int64_t v;
    assert_true(gguf_get_i64(b->gguf, "qmc.mlc_bits_per_cell", &v) && v == 2);
    const qmc_tensor *ta[] = {&m->layers[1].w_down, &m->token_embd, &m->output};
    const qmc_tensor *tb[] = {&b->layers[1].w_down, &b->token_embd, &b->output};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(tb[i]->type, QMC_TYPE_PACKED);
        const int64_t cols = ta[i]->ne[0];
        float *x = malloc((size_t)cols * 4), *y = malloc((size_t)cols * 4);
        for (int64_t r = 0; r < qmc_tensor_rows(ta[i]); r++) {
            qmc_tensor_get_row(ta[i], r, x);
            qmc_tensor_get_row(tb[i], r, y);
            assert_memory_equal(x, y, (size_t)cols * 4);
        }
        free(x);
        free(y);
    }
    /* bits per weight: the block linears' nominal count is the paper's (1-rho)*3 + rho*5 */
    qmc_model_bpw bpw;
    qmc_model_bpw_compute(b, &bpw);
    assert_true(fabs(qmc_bpw_nominal(&bpw.blocks) - 3.6) < 0.01);
    assert_true(qmc_bpw_honest(&bpw.blocks) > 4.6);
    qmc_model_free(b);
    qmc_model_free(m);
}

static void test_bad_params(void **state) {
    qmc_quant_params p;
    qmc_quant_params_default(&p);
    assert_int_equal(qmc_quant_params_check(&p), 0);
    p.rho = 1.0f;
    assert_int_equal(qmc_quant_params_check(&p), QMC_ERR_ARG);
    assert_non_null(strstr(qmc_errmsg(), "--rho"));
    p.rho = -0.1f;
    assert_int_equal(qmc_quant_params_check(&p), QMC_ERR_ARG);
    p.rho = NAN;
    assert_int_equal(qmc_quant_params_check(&p), QMC_ERR_ARG);
    qmc_quant_params_default(&p);
    p.bits_in = 9;
    assert_int_equal(qmc_quant_params_check(&p), QMC_ERR_ARG);
    assert_non_null(strstr(qmc_errmsg(), "--bits-in"));
    p.bits_in = 1;
    assert_int_equal(qmc_quant_params_check(&p), QMC_ERR_ARG);
    qmc_quant_params_default(&p);
    p.bits_out = 9;
    assert_int_equal(qmc_quant_params_check(&p), QMC_ERR_ARG);
    qmc_quant_params_default(&p);
    p.method = QMC_METHOD_MXFP4;
    p.rho = 0;
    p.asym = false;
    p.bits_in = 3;
    assert_int_equal(qmc_quant_params_check(&p), QMC_ERR_ARG);
    assert_non_null(strstr(qmc_errmsg(), "MXFP4"));
    p.bits_in = 4;
    assert_int_equal(qmc_quant_params_check(&p), 0);
    p.asym = true;
    assert_int_equal(qmc_quant_params_check(&p), QMC_ERR_ARG);
    /* unsupported sources: non-finite values, 1-D tensors, packed tensors */
    qmc_quant_params_default(&p);
    qmc_tensor t = make_tensor(4, 8, 1, false);
    ((float *)t.data)[13] = NAN;
    qmc_tensor d;
    assert_int_equal(qmc_quantize_tensor(&t, &p, &d), QMC_ERR_UNSUPPORTED);
    assert_non_null(strstr(qmc_errmsg(), "non-finite value at row 1, column 5"));
    ((float *)t.data)[13] = 1e6f;
    assert_int_equal(qmc_quantize_tensor(&t, &p, &d), QMC_ERR_UNSUPPORTED);
    ((float *)t.data)[13] = 0.0f;
    t.n_dims = 1;
    assert_int_equal(qmc_quantize_tensor(&t, &p, &d), QMC_ERR_UNSUPPORTED);
    t.n_dims = 2;
    assert_int_equal(qmc_quantize_tensor(&t, &p, &d), 0);
    assert_int_equal(qmc_quantize_tensor(&d, &p, &t), QMC_ERR_UNSUPPORTED);
    qmc_tensor_release(&d);
    qmc_tensor_release(&t);
}

static void test_deterministic_across_threads(void **state) {
    qmc_tensor t = make_tensor(64, 96, 9, true);
    qmc_quant_params p;
    qmc_quant_params_default(&p);
    qmc_tensor a, b;
    qmc_set_threads(1);
    assert_int_equal(qmc_quantize_tensor(&t, &p, &a), 0);
    qmc_set_threads(2);
    assert_int_equal(qmc_quantize_tensor(&t, &p, &b), 0);
    qmc_set_threads(0);
    qmc_plane_sizes s;
    qmc_qt_plane_sizes(a.q, &s);
    assert_memory_equal(a.q->in_codes, b.q->in_codes, a.q->in_codes_bytes);
    assert_memory_equal(a.q->mask, b.q->mask, a.q->mask_bytes);
    assert_memory_equal(a.q->out_codes, b.q->out_codes, a.q->out_codes_bytes);
    assert_memory_equal(a.q->in_scale, b.q->in_scale, (size_t)s.in_scale);
    assert_memory_equal(a.q->out_scale, b.q->out_scale, (size_t)s.out_scale);
    qmc_tensor_release(&a);
    qmc_tensor_release(&b);
    qmc_tensor_release(&t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_partition_exact),
        cmocka_unit_test(test_partition_ties_by_index),
        cmocka_unit_test(test_grid_search_hand_made),
        cmocka_unit_test(test_grid_search_is_argmin),
        cmocka_unit_test(test_noise_shrinks_scale),
        cmocka_unit_test(test_mx_hand_blocks),
        cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_packed_file_round_trip),
        cmocka_unit_test(test_bad_params),
        cmocka_unit_test(test_deterministic_across_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
