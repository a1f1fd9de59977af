/* test_engine.c — kernels against their references, thread-count determinism,
 * and the whole forward pass against an independent naive implementation. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "engine/sample.h"
#include "testutil.h"
#include "util/cpu.h"

static float *randv(int64_t n, uint64_t key) {
    float *v = malloc(sizeof(float) * (size_t)n);
    for (int64_t i = 0; i < n; i++) v[i] = (float)qmc_rand_normal(key, (uint64_t)i);
    return v;
}

/* |simd - ref| must be within float rounding of the sum of |products|. */
static void check_close(double got, double want, double abs_sum) {
    double tol = 4e-6 * abs_sum + 1e-30;
    if (fabs(got - want) > tol) fail_msg("got %.9g want %.9g (tol %.3g)", got, want, tol);
}

static void test_dot_and_tiles(void **state) {
    static const int64_t Ks[] = {1, 7, 8, 15, 16, 17, 31, 32, 33, 64, 100, 1000};
    for (size_t ki = 0; ki < sizeof Ks / sizeof *Ks; ki++) {
        int64_t K = Ks[ki], ld = K + 3;
        float *W = randv(4 * ld, 11 + ki), *X = randv(4 * ld, 97 + ki);
        for (int nr = 1; nr <= 4; nr++)
            for (int nt = 1; nt <= 4; nt++) {
                float Y[16], R[16], A[16], one[16];
                qmc_gemm_tile(W, ld, nr, X, ld, nt, Y, 4, K);
                qmc_gemm_tile_ref(W, ld, nr, X, ld, nt, R, 4, K);
                if (qmc_cpu_has_avx2()) qmc_gemm_tile_avx2(W, ld, nr, X, ld, nt, A, 4, K);
                for (int t = 0; t < nt; t++)
                    for (int r = 0; r < nr; r++) {
                        double abs_sum = 0;
                        for (int64_t k = 0; k < K; k++) abs_sum += fabs((double)W[r * ld + k] * X[t * ld + k]);
                        check_close(Y[t * 4 + r], R[t * 4 + r], abs_sum);
                        if (qmc_cpu_has_avx2()) check_close(A[t * 4 + r], R[t * 4 + r], abs_sum);
                        /* the same (row, token) alone in a 1 x 1 tile: bit-identical */
                        qmc_gemm_tile(W + r * ld, ld, 1, X + t * ld, ld, 1, one, 4, K);
                        assert_memory_equal(&one[0], &Y[t * 4 + r], sizeof(float));
                    }
            }
        double abs_sum = 0;
        for (int64_t k = 0; k < K; k++) abs_sum += fabs((double)W[k] * X[k]);
        check_close(qmc_dot(W, X, K), qmc_dot_ref(W, X, K), abs_sum);
        if (qmc_cpu_has_avx2()) check_close(qmc_dot_avx2(W, X, K), qmc_dot_ref(W, X, K), abs_sum);
        free(W);
        free(X);
    }
}

static void test_matmul_threads_and_types(void **state) {
    const int64_t rows = 37, cols = 91;
    const int ntok = 6;
    float *w = randv(rows * cols, 5), *x = randv(ntok * cols, 6);
    qmc_tensor W;
    qmc_tensor_init(&W, "w", QMC_TYPE_F32, 2, cols, rows);
    W.data = w;
    float *y1 = calloc((size_t)(ntok * rows), sizeof(float)), *y2 = calloc((size_t)(ntok * rows), sizeof(float));
    qmc_set_threads(1);
    assert_int_equal(qmc_matmul(&W, x, ntok, y1, rows, NULL), 0);
    qmc_set_threads(2);
    assert_int_equal(qmc_matmul(&W, x, ntok, y2, rows, NULL), 0);
    assert_memory_equal(y1, y2, sizeof(float) * (size_t)(ntok * rows)); /* bit-identical across thread counts */
    /* F16 weights: same as multiplying their exact F32 values */
    uint16_t *h = malloc(sizeof(uint16_t) * (size_t)(rows * cols));
    qmc_f32_to_f16_row(w, h, rows * cols);
    float *wr = malloc(sizeof(float) * (size_t)(rows * cols));
    for (int64_t i = 0; i < rows * cols; i++) wr[i] = qmc_f16_to_f32(h[i]);
    qmc_tensor H = W, R = W;
    H.type = QMC_TYPE_F16;
    H.data = h;
    R.data = wr;
    assert_int_equal(qmc_matmul(&H, x, ntok, y1, rows, NULL), 0);
    assert_int_equal(qmc_matmul(&R, x, ntok, y2, rows, NULL), 0);
    assert_memory_equal(y1, y2, sizeof(float) * (size_t)(ntok * rows));
    /* one token (decode: the F16 rows are widened in registers), token by token: the same bits */
    for (int t = 0; t < ntok; t++) {
        float one[37];
        assert_int_equal(qmc_matmul(&H, x + t * cols, 1, one, rows, NULL), 0);
        assert_memory_equal(one, y2 + t * rows, sizeof one);
    }
    /* against a plain double-precision product */
    for (int t = 0; t < ntok; t++)
        for (int64_t r = 0; r < rows; r++) {
            double s = 0, a = 0;
            for (int64_t c = 0; c < cols; c++) {
                s += (double)wr[r * cols + c] * x[t * cols + c];
                a += fabs((double)wr[r * cols + c] * x[t * cols + c]);
            }
            check_close(y1[t * rows + r], s, a);
        }
    free(w), free(x), free(y1), free(y2), free(h), free(wr);
}

/* ---- naive reference forward: one token at a time, doubles, no batching ---- */

static void ref_row(const qmc_tensor *t, int64_t r, double *out) {
    int64_t n = t->ne[0];
    float *tmp = malloc(sizeof(float) * (size_t)n);
    qmc_tensor_get_row(t, r, tmp);
    for (int64_t i = 0; i < n; i++) out[i] = tmp[i];
    free(tmp);
}

static void ref_matvec(const qmc_tensor *w, const double *x, double *y) {
    int64_t rows = qmc_tensor_rows(w), cols = w->ne[0];
    double *row = malloc(sizeof(double) * (size_t)cols);
    for (int64_t r = 0; r < rows; r++) {
        ref_row(w, r, row);
        double s = 0;
        for (int64_t c = 0; c < cols; c++) s += row[c] * x[c];
        y[r] = s;
    }
    free(row);
}

static void ref_rmsnorm(double *o, const double *x, const float *w, int n, double eps) {
    double ss = 0;
    for (int i = 0; i < n; i++) ss += x[i] * x[i];
    ss = 1.0 / sqrt(ss / n + eps);
    for (int i = 0; i < n; i++) o[i] = w[i] * ss * x[i];
}

/* Rotate pairs of one head: (2i, 2i+1) for NORM, (i, i+hd/2) for NEOX. */
static void ref_rope(double *v, int hd, int pos, const qmc_model *m) {
    const qmc_config *c = &m->cfg;
    const float *f = m->rope_freqs.data;
    for (int i = 0; i < hd / 2; i++) {
        double freq = pow(c->rope_theta, -2.0 * i / hd) / (f ? f[i] : 1.0);
        double a = pos * freq, cs = cos(a), sn = sin(a);
        int p = c->rope_style == QMC_ROPE_NORM ? 2 * i : i, q = c->rope_style == QMC_ROPE_NORM ? 2 * i + 1 : i + hd / 2;
        double v0 = v[p], v1 = v[q];
        v[p] = v0 * cs - v1 * sn;
        v[q] = v0 * sn + v1 * cs;
    }
}

static double *ref_forward(const qmc_model *m, const int32_t *tok, int n) {
    const qmc_config *c = &m->cfg;
    const int d = c->dim, hd = c->head_dim, H = c->n_heads, KV = c->n_kv_heads, F = c->hidden_dim, V = c->vocab_size;
    double *kc = calloc((size_t)(c->n_layers * n * KV * hd), sizeof(double));
    double *vc = calloc((size_t)(c->n_layers * n * KV * hd), sizeof(double));
    double *x = malloc(sizeof(double) * d), *xb = malloc(sizeof(double) * d), *q = malloc(sizeof(double) * H * hd);
    double *k = malloc(sizeof(double) * KV * hd), *v = malloc(sizeof(double) * KV * hd), *att = malloc(sizeof(double) * n);
    double *o = malloc(sizeof(double) * H * hd), *h1 = malloc(sizeof(double) * F), *h3 = malloc(sizeof(double) * F);
    double *logits = malloc(sizeof(double) * (size_t)n * V), *tmp = malloc(sizeof(double) * (d > H * hd ? d : H * hd));
    for (int p = 0; p < n; p++) {
        ref_row(&m->token_embd, tok[p], x);
        for (int l = 0; l < c->n_layers; l++) {
            const qmc_layer *L = &m->layers[l];
            ref_rmsnorm(xb, x, L->attn_norm.data, d, c->norm_eps);
            ref_matvec(&L->wq, xb, q);
            ref_matvec(&L->wk, xb, k);
            ref_matvec(&L->wv, xb, v);
            if (c->qkv_bias) {
                for (int i = 0; i < H * hd; i++) q[i] += ((const float *)L->bq.data)[i];
                for (int i = 0; i < KV * hd; i++) k[i] += ((const float *)L->bk.data)[i], v[i] += ((const float *)L->bv.data)[i];
            }
            for (int h = 0; h < H; h++) ref_rope(q + h * hd, hd, p, m);
            for (int h = 0; h < KV; h++) ref_rope(k + h * hd, hd, p, m);
            double *kl = kc + (size_t)l * n * KV * hd, *vl = vc + (size_t)l * n * KV * hd;
            memcpy(kl + (size_t)p * KV * hd, k, sizeof(double) * KV * hd);
            memcpy(vl + (size_t)p * KV * hd, v, sizeof(double) * KV * hd);
            for (int h = 0; h < H; h++) {
                int g = h / (H / KV);
                double mx = -1e300, sum = 0;
                for (int t = 0; t <= p; t++) {
                    double s = 0;
                    for (int i = 0; i < hd; i++) s += q[h * hd + i] * kl[(size_t)t * KV * hd + g * hd + i];
                    att[t] = s / sqrt((double)hd);
                    if (att[t] > mx) mx = att[t];
                }
                for (int t = 0; t <= p; t++) sum += att[t] = exp(att[t] - mx);
                for (int i = 0; i < hd; i++) {
                    double s = 0;
                    for (int t = 0; t <= p; t++) s += att[t] / sum * vl[(size_t)t * KV * hd + g * hd + i];
                    o[h * hd + i] = s;
                }
            }
            ref_matvec(&L->wo, o, tmp);
            for (int i = 0; i < d; i++) x[i] += tmp[i];
            ref_rmsnorm(xb, x, L->ffn_norm.data, d, c->norm_eps);
            ref_matvec(&L->w_gate, xb, h1);
            ref_matvec(&L->w_up, xb, h3);
            for (int i = 0; i < F; i++) h1[i] = h1[i] / (1.0 + exp(-h1[i])) * h3[i];
            ref_matvec(&L->w_down, h1, tmp);
            for (int i = 0; i < d; i++) x[i] += tmp[i];
        }
        ref_rmsnorm(xb, x, m->output_norm.data, d, c->norm_eps);
        ref_matvec(qmc_model_head(m), xb, logits + (size_t)p * V);
    }
    free(kc), free(vc), free(x), free(xb), free(q), free(k), free(v), free(att), free(o), free(h1), free(h3), free(tmp);
    return logits;
}

static void check_against_reference(const tu_model_spec *sp, uint64_t seed) {
    qmc_model *m = tu_random_model(sp, seed);
    int32_t tok[9];
    for (int i = 0; i < 9; i++) tok[i] = (int32_t)((i * 37 + 5) % sp->vocab);
    double *want = ref_forward(m, tok, 9);
    /* all at once (one batch), and token by token through the KV cache */
    float *got = tu_logits(m, tok, 9);
    qmc_session *s;
    assert_int_equal(qmc_session_new_batch(m, 16, 4, &s), 0);
    float *step = malloc(sizeof(float) * 9 * (size_t)sp->vocab);
    for (int i = 0; i < 9; i++) assert_int_equal(qmc_forward(s, &tok[i], 1, i, step + (size_t)i * sp->vocab, false), 0);
    /* a token's logits do not depend on the batch it ran in */
    assert_memory_equal(got, step, sizeof(float) * 9 * (size_t)sp->vocab);
    for (int64_t i = 0; i < 9LL * sp->vocab; i++) {
        if (fabs(got[i] - want[i]) > 2e-4 * (1 + fabs(want[i])) || fabs(step[i] - want[i]) > 2e-4 * (1 + fabs(want[i])))
            fail_msg("logit %lld: batch %.6f step %.6f reference %.6f", (long long)i, got[i], step[i], want[i]);
    }
    free(want), free(got), free(step);
    qmc_session_free(s);
    qmc_model_free(m);
}

static void test_forward_llama_norm_gqa(void **state) {
    tu_model_spec sp = {.arch = QMC_ARCH_LLAMA, .dim = 48, .hidden = 72, .layers = 2, .heads = 6, .kv_heads = 2,
                        .vocab = 40, .seq_len = 32, .tied = true, .rope = QMC_ROPE_NORM};
    check_against_reference(&sp, 1);
}

static void test_forward_qwen2_bias_neox(void **state) {
    tu_model_spec sp = {.arch = QMC_ARCH_QWEN2, .dim = 32, .hidden = 40, .layers = 2, .heads = 4, .kv_heads = 2,
                        .vocab = 50, .seq_len = 32, .qkv_bias = true, .tied = false, .rope = QMC_ROPE_NEOX,
                        .rope_theta = 1000000.0f};
    check_against_reference(&sp, 2);
}

static void test_forward_llama3_scaling_headdim(void **state) {
    tu_model_spec sp = {.arch = QMC_ARCH_LLAMA, .dim = 32, .hidden = 64, .layers = 2, .heads = 4, .kv_heads = 1,
                        .head_dim = 16, .vocab = 30, .seq_len = 32, .tied = false, .rope = QMC_ROPE_NORM,
                        .llama3_scaling = true, .rope_theta = 500000.0f};
    check_against_reference(&sp, 3);
}

static void test_llama3_factors_by_hand(void **state) {
    /* head_dim 4, theta 10000, factor 8, low 1, high 4, original context 64:
     * freqs 1 (wavelen 2*pi < 16: kept, divisor 1) and 0.01 (wavelen 628 > 64: divisor 8) */
    qmc_config c = {.head_dim = 4, .rope_theta = 10000, .rope_scaling_factor = 8, .rope_low_freq_factor = 1,
                    .rope_high_freq_factor = 4, .rope_orig_max_pos = 64};
    float f[2];
    qmc_llama3_rope_factors(&c, f);
    assert_true(f[0] == 1.0f && f[1] == 8.0f);
    /* theta 100, head_dim 4: freq[1] = 0.1, wavelen 62.83 between 16 and 64:
     * smooth = (64/62.83 - 1)/(4 - 1), divisor = 1/((1-smooth)/8 + smooth) */
    c.rope_theta = 100;
    qmc_llama3_rope_factors(&c, f);
    double wl = 2 * M_PI / 0.1, sm = (64 / wl - 1) / 3;
    assert_true(fabs(f[1] - 1.0 / ((1 - sm) / 8 + sm)) < 1e-5);
}

static void test_sampler(void **state) {
    float logits[5] = {0.1f, 2.0f, -1.0f, 1.9f, 0.0f};
    qmc_sampler s;
    assert_int_equal(qmc_sampler_init(&s, 5, 0.0f, 0.9f, 1), 0);
    assert_int_equal(qmc_sample(&s, logits), 1);
    qmc_sampler_free(&s);
    /* temperature 1, no top-p: frequencies follow softmax */
    assert_int_equal(qmc_sampler_init(&s, 5, 1.0f, 1.0f, 7), 0);
    int count[5] = {0};
    const int N = 100000;
    for (int i = 0; i < N; i++) count[qmc_sample(&s, logits)]++;
    double z = 0;
    for (int i = 0; i < 5; i++) z += exp(logits[i]);
    for (int i = 0; i < 5; i++) {
        double p = exp(logits[i]) / z, sd = sqrt(p * (1 - p) / N);
        assert_true(fabs((double)count[i] / N - p) < 5 * sd);
    }
    qmc_sampler_free(&s);
    /* top-p 0.5 keeps only the smallest prefix above 0.5: tokens 1 and 3 */
    assert_int_equal(qmc_sampler_init(&s, 5, 1.0f, 0.5f, 9), 0);
    for (int i = 0; i < 2000; i++) {
        int t = qmc_sample(&s, logits);
        assert_true(t == 1 || t == 3);
    }
    qmc_sampler_free(&s);
    /* same seed, same sequence */
    qmc_sampler a, b;
    qmc_sampler_init(&a, 5, 0.8f, 0.9f, 42);
    qmc_sampler_init(&b, 5, 0.8f, 0.9f, 42);
    for (int i = 0; i < 100; i++) assert_int_equal(qmc_sample(&a, logits), qmc_sample(&b, logits));
    qmc_sampler_free(&a);
    qmc_sampler_free(&b);
}

static void test_context_limits(void **state) {
    tu_model_spec sp = {.arch = QMC_ARCH_LLAMA, .dim = 16, .hidden = 24, .layers = 1, .heads = 2, .kv_heads = 2,
                        .vocab = 20, .seq_len = 8, .tied = true};
    qmc_model *m = tu_random_model(&sp, 4);
    qmc_session *s;
    assert_int_equal(qmc_session_new(m, 4, &s), 0);
    int32_t tok[5] = {1, 2, 3, 4, 5};
    assert_int_equal(qmc_forward(s, tok, 5, 0, NULL, false), QMC_ERR_RANGE);
    int32_t bad = 20;
    assert_int_equal(qmc_forward(s, &bad, 1, 0, NULL, false), QMC_ERR_RANGE);
    assert_non_null(strstr(qmc_errmsg(), "vocabulary"));
    qmc_session_free(s);
    qmc_model_free(m);
}

int main(void) {
    tu_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dot_and_tiles),
        cmocka_unit_test(test_matmul_threads_and_types),
        cmocka_unit_test(test_forward_llama_norm_gqa),
        cmocka_unit_test(test_forward_qwen2_bias_neox),
        cmocka_unit_test(test_forward_llama3_scaling_headdim),
        cmocka_unit_test(test_llama3_factors_by_hand),
        cmocka_unit_test(test_sampler),
        cmocka_unit_test(test_context_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
