/* test_calib.c — calibrated quantizers: GPTQ against a slow column-by-column
 * implementation written here (double precision, no lazy batches), output
 * errors computed directly from the activations X, AWQ folding keeps the
 * model's function, QMC+GPTQ keeps QMC's outliers, and the CLI's failure
 * paths. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quant/calib.h"
#include "quant/fit.h"
#include "quant/quantize.h"
#include "testutil.h"

/* ---- a layer with known activations -------------------------------------------- */

typedef struct {
    int64_t rows, cols, n;
    float *w;   /* [rows][cols] */
    float *x;   /* [n][cols]: correlated channels, a few salient ones */
    qmc_calib_input in;
} layer;

static void layer_make(layer *L, int64_t rows, int64_t cols, int64_t n, uint64_t seed, int salient) {
    L->rows = rows;
    L->cols = cols;
    L->n = n;
    L->w = malloc((size_t)(rows * cols) * sizeof(float));
    L->x = malloc((size_t)(n * cols) * sizeof(float));
    for (int64_t i = 0; i < rows * cols; i++) L->w[i] = (float)(0.1 * qmc_rand_normal(seed, (uint64_t)i));
    /* x = z A with A = I + 0.5 * random: correlated inputs */
    const int64_t k = 8;
    for (int64_t t = 0; t < n; t++) {
        double z[8];
        for (int j = 0; j < k; j++) z[j] = qmc_rand_normal(seed + 1, (uint64_t)(t * k + j));
        for (int64_t c = 0; c < cols; c++) {
            double v = 0.3 * qmc_rand_normal(seed + 2, (uint64_t)(t * cols + c));
            for (int j = 0; j < k; j++) v += z[j] * 0.5 * qmc_rand_normal(seed + 3, (uint64_t)(c * k + j));
            if (c < salient) v *= 12.0;
            L->x[t * cols + c] = (float)v;
        }
    }
    assert_int_equal(qmc_calib_input_init(&L->in, cols), 0);
    qmc_calib_input_add(&L->in, L->x, n / 3);          /* two calls: the sums continue */
    qmc_calib_input_add(&L->in, L->x + (n / 3) * cols, n - n / 3);
    qmc_calib_input_finish(&L->in, n);
}

static void layer_free(layer *L) {
    free(L->w);
    free(L->x);
    qmc_calib_input_free(&L->in);
}

/* ||X W^T - X Q^T||_F^2 from the activations themselves. */
static double direct_output_error(const layer *L, const float *q) {
    double s = 0;
    for (int64_t t = 0; t < L->n; t++)
        for (int64_t r = 0; r < L->rows; r++) {
            double y = 0;
            for (int64_t c = 0; c < L->cols; c++)
                y += (double)L->x[t * L->cols + c] * ((double)L->w[r * L->cols + c] - (double)q[r * L->cols + c]);
            s += y * y;
        }
    return s;
}

static qmc_quant_params params(qmc_method m, int bits, int group, bool asym) {
    qmc_quant_params p;
    qmc_quant_params_default(&p);
    p.method = m;
    p.rho = 0.0f;
    p.bits_in = bits;
    p.group = group;
    p.asym = asym;
    return p;
}

/* Data-free quantizer's reconstruction (RTN or QMC). */
static float *data_free(const float *w, int64_t rows, int64_t cols, const qmc_quant_params *p, qmc_tensor *packed) {
    qmc_tensor src;
    qmc_tensor_init(&src, "w", QMC_TYPE_F32, 2, cols, rows);
    src.data = w;
    float *deq = malloc((size_t)(rows * cols) * sizeof(float));
    assert_int_equal(qmc_quantize_tensor_ex(&src, p, packed, deq, NULL), 0);
    return deq;
}

/* The packed tensor decodes to the quantizer's reconstruction. */
static void check_decodes_to(const qmc_qtensor *q, const float *deq) {
    float *row = malloc((size_t)q->cols * sizeof(float));
    for (int64_t r = 0; r < q->rows; r++) {
        qmc_qt_decode_row_ref(q, r, row);
        for (int64_t c = 0; c < q->cols; c++) assert_true(row[c] == deq[r * q->cols + c]);
    }
    free(row);
}

/* ---- the slow reference GPTQ ------------------------------------------------------ */

/* Lower Cholesky factor of a[n][n] in place (upper part zeroed); false if not PD. */
static bool slow_cholesky(double *a, int64_t n) {
    for (int64_t j = 0; j < n; j++) {
        double d = a[j * n + j];
        for (int64_t k = 0; k < j; k++) d -= a[j * n + k] * a[j * n + k];
        if (!(d > 0)) return false;
        d = sqrt(d);
        a[j * n + j] = d;
        for (int64_t i = j + 1; i < n; i++) {
            double s = a[i * n + j];
            for (int64_t k = 0; k < j; k++) s -= a[i * n + k] * a[j * n + k];
            a[i * n + j] = s / d;
        }
        for (int64_t i = 0; i < j; i++) a[i * n + j] = 0;
    }
    return true;
}

/* Inverse by Gauss-Jordan with partial pivoting. */
static void slow_inverse(const double *a, double *inv, int64_t n) {
    double *m = malloc((size_t)(n * 2 * n) * sizeof(double));
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < 2 * n; j++) m[i * 2 * n + j] = j < n ? a[i * n + j] : (j - n == i);
    for (int64_t c = 0; c < n; c++) {
        int64_t p = c;
        for (int64_t i = c + 1; i < n; i++)
            if (fabs(m[i * 2 * n + c]) > fabs(m[p * 2 * n + c])) p = i;
        for (int64_t j = 0; j < 2 * n; j++) {
            double t = m[c * 2 * n + j];
            m[c * 2 * n + j] = m[p * 2 * n + j];
            m[p * 2 * n + j] = t;
        }
        double d = m[c * 2 * n + c];
        for (int64_t j = 0; j < 2 * n; j++) m[c * 2 * n + j] /= d;
        for (int64_t i = 0; i < n; i++)
            if (i != c) {
                double f = m[i * 2 * n + c];
                for (int64_t j = 0; j < 2 * n; j++) m[i * 2 * n + j] -= f * m[c * 2 * n + j];
            }
    }
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < n; j++) inv[i * n + j] = m[i * 2 * n + n + j];
    free(m);
}

/* The textbook algorithm: processing order, damping, U = chol(H^-1)^T, then one
 * column at a time with the full update of every later column.  outlier/outval:
 * QMC+GPTQ's fixed entries (NULL for GPTQ). */
static void slow_gptq(const float *w0, int64_t rows, int64_t cols, const double *h0, const qmc_quant_params *p, double damp,
                      bool act_order, const uint8_t *outlier, const float *outval, float *deq) {
    const int64_t gs = p->group > 0 && p->group < cols ? p->group : cols;
    int grid;
    float lo;
    qmc_quant_params_resolve(p, &grid, &lo);
    qmc_int_fit_opts fo = {p->bits_in, p->asym, grid, lo, 0.0};
    int64_t *perm = malloc((size_t)cols * sizeof(int64_t));
    for (int64_t i = 0; i < cols; i++) perm[i] = i;
    if (act_order) /* selection of the largest remaining diagonal, first index on ties */
        for (int64_t i = 0; i < cols; i++) {
            int64_t b = i;
            for (int64_t j = i + 1; j < cols; j++)
                if (h0[perm[j] * cols + perm[j]] > h0[perm[b] * cols + perm[b]] ||
                    (h0[perm[j] * cols + perm[j]] == h0[perm[b] * cols + perm[b]] && perm[j] < perm[b]))
                    b = j;
            int64_t t = perm[i];
            perm[i] = perm[b];
            perm[b] = t;
        }
    double *h = malloc((size_t)(cols * cols) * sizeof(double)), *hi = malloc((size_t)(cols * cols) * sizeof(double));
    double *W = malloc((size_t)(rows * cols) * sizeof(double)); /* original column order */
    double mean = 0;
    for (int64_t i = 0; i < cols; i++) mean += h0[i * cols + i];
    mean /= (double)cols;
    for (int64_t a = 0; a < cols; a++)
        for (int64_t b = 0; b < cols; b++) h[a * cols + b] = h0[perm[a] * cols + perm[b]];
    for (int64_t a = 0; a < cols; a++) {
        bool dead = h[a * cols + a] == 0;
        if (dead) h[a * cols + a] = 1;
        h[a * cols + a] += damp * mean;
        for (int64_t r = 0; r < rows; r++) W[r * cols + perm[a]] = dead ? 0.0 : w0[r * cols + perm[a]];
    }
    slow_inverse(h, hi, cols);
    assert_true(slow_cholesky(hi, cols)); /* hi = L, H^-1 = L L^T, U = L^T */
    float *fb = malloc((size_t)cols * sizeof(float));
    uint16_t *d = malloc((size_t)(rows * cols) * sizeof(uint16_t)), *m = malloc((size_t)(rows * cols) * sizeof(uint16_t));
    const int64_t ng = (cols + gs - 1) / gs;
    const bool lazy = gs < cols && !act_order;
    for (int64_t r = 0; r < rows; r++) {
        double *wr = W + r * cols;
        for (int64_t i = 0; i < cols; i++) {
            const int64_t c = perm[i], g = c / gs;
            if (i == 0 || (lazy && c % gs == 0)) /* fits: all up front, or at the group's first column */
                for (int64_t gg = lazy ? g : 0; gg < (lazy ? g + 1 : ng); gg++) {
                    int64_t k = 0;
                    for (int64_t cc = gg * gs; cc < QMC_MIN(cols, gg * gs + gs); cc++)
                        if (!outlier || !outlier[r * cols + cc]) fb[k++] = (float)wr[cc];
                    qmc_int_fit f;
                    qmc_int_fit_search(fb, k, &fo, &f);
                    d[r * ng + gg] = f.d;
                    m[r * ng + gg] = f.m;
                }
            float q;
            if (outlier && outlier[r * cols + c]) q = outval[r * cols + c];
            else {
                float v = (float)wr[c];
                uint8_t code;
                qmc_int_encode(&v, 1, p->bits_in, p->asym, d[r * ng + g], m[r * ng + g], &code, &q);
            }
            deq[r * cols + c] = q;
            const double e = (wr[c] - q) / hi[i * cols + i];   /* U_ii = L_ii */
            for (int64_t j = i + 1; j < cols; j++) wr[perm[j]] -= e * hi[j * cols + i]; /* U_ij = L_ji */
        }
    }
    free(perm);
    free(h);
    free(hi);
    free(W);
    free(fb);
    free(d);
    free(m);
}

static void check_gptq_vs_slow(int group, bool act_order, int block, int bits, bool asym) {
    layer L;
    layer_make(&L, 24, 48, 200, 11, 3);
    qmc_quant_params p = params(QMC_METHOD_GPTQ, bits, group, asym);
    qmc_calib_opts o;
    qmc_calib_opts_default(&o);
    o.act_order = act_order;
    o.block = block;
    float *fast = malloc((size_t)(L.rows * L.cols) * sizeof(float)), *slow = malloc((size_t)(L.rows * L.cols) * sizeof(float));
    qmc_qtensor *q;
    qmc_quant_error err;
    assert_int_equal(qmc_gptq_matrix(L.w, L.rows, L.cols, L.in.h, &p, &o, &q, fast, &err), 0);
    slow_gptq(L.w, L.rows, L.cols, L.in.h, &p, o.damp, act_order, NULL, NULL, slow);
    int64_t differ = 0;
    for (int64_t i = 0; i < L.rows * L.cols; i++) differ += fast[i] != slow[i];
    if (differ) print_message("group %d act_order %d block %d: %lld of %lld values differ (max %g)\n", group, act_order,
                              block, (long long)differ, (long long)(L.rows * L.cols), tu_max_abs_diff(fast, slow, L.rows * L.cols));
    assert_true(tu_max_abs_diff(fast, slow, L.rows * L.cols) < 1e-5);
    check_decodes_to(q, fast);
    assert_int_equal(q->method, QMC_METHOD_GPTQ);
    assert_int_equal(q->in.group, group);
    assert_int_equal(q->n_out, 0);
    qmc_qt_free(q);
    free(fast);
    free(slow);
    layer_free(&L);
}

static void test_gptq_matches_slow(void **state) {
    check_gptq_vs_slow(0, false, 128, 4, true);
    check_gptq_vs_slow(0, false, 5, 3, true);      /* several lazy blocks */
    check_gptq_vs_slow(0, false, 5, 4, false);     /* symmetric grid */
    check_gptq_vs_slow(16, false, 128, 4, true);   /* groups inside one block */
    check_gptq_vs_slow(16, false, 24, 4, true);    /* block cut to a multiple of the group */
    check_gptq_vs_slow(20, false, 8, 4, true);     /* groups wider than blocks, not aligned */
    check_gptq_vs_slow(0, true, 7, 4, true);       /* act-order */
    check_gptq_vs_slow(16, true, 7, 4, true);      /* act-order with static groups */
    check_gptq_vs_slow(16, true, 128, 3, false);
}

static void test_gptq_beats_rtn(void **state) {
    for (int bits = 3; bits <= 4; bits++)
        for (int group = 0; group <= 16; group += 16) {
            layer L;
            layer_make(&L, 32, 64, 256, 5, 0);
            qmc_quant_params pr = params(QMC_METHOD_RTN, bits, group, true), pg = params(QMC_METHOD_GPTQ, bits, group, true);
            qmc_tensor rt;
            float *rtn = data_free(L.w, L.rows, L.cols, &pr, &rt);
            qmc_tensor_release(&rt);
            qmc_calib_opts o;
            qmc_calib_opts_default(&o);
            float *g = malloc((size_t)(L.rows * L.cols) * sizeof(float));
            qmc_qtensor *q;
            assert_int_equal(qmc_gptq_matrix(L.w, L.rows, L.cols, L.in.h, &pg, &o, &q, g, NULL), 0);
            double e_rtn = direct_output_error(&L, rtn), e_g = direct_output_error(&L, g);
            print_message("bits %d group %d: output error RTN %.4g, GPTQ %.4g\n", bits, group, e_rtn, e_g);
            assert_true(e_g < 0.9 * e_rtn);
            /* H-based error agrees with the direct one: N/2 * (1/2 e^T H e) ... = ||X E^T||^2 */
            double viaH = qmc_calib_output_error(L.w, g, L.rows, L.cols, L.in.h) * (double)L.n;
            assert_true(fabs(viaH - e_g) <= 1e-6 * e_g);
            qmc_qt_free(q);
            free(rtn);
            free(g);
            layer_free(&L);
        }
}

/* ---- QMC+GPTQ ------------------------------------------------------------------------ */

static void test_qmc_gptq(void **state) {
    layer L;
    layer_make(&L, 32, 64, 256, 9, 2);
    const int64_t n = L.rows * L.cols;
    qmc_quant_params pq = params(QMC_METHOD_QMC, 3, 0, true), pg = params(QMC_METHOD_QMC_GPTQ, 3, 0, true);
    pq.rho = pg.rho = 0.2f;
    pq.bits_out = pg.bits_out = 5;
    qmc_tensor qt;
    float *qmc = data_free(L.w, L.rows, L.cols, &pq, &qt);
    qmc_calib_opts o;
    qmc_calib_opts_default(&o);
    o.block = 16;
    float *g = malloc((size_t)n * sizeof(float)), *slow = malloc((size_t)n * sizeof(float));
    qmc_qtensor *q;
    assert_int_equal(qmc_gptq_matrix(L.w, L.rows, L.cols, L.in.h, &pg, &o, &q, g, NULL), 0);
    check_decodes_to(q, g);
    /* the outlier plane is QMC's, bit for bit */
    const qmc_qtensor *a = qt.q;
    assert_int_equal(q->n_out, a->n_out);
    assert_int_equal(q->mask_bytes, a->mask_bytes);
    assert_memory_equal(q->mask, a->mask, a->mask_bytes);
    assert_memory_equal(q->out_codes, a->out_codes, a->out_codes_bytes);
    assert_memory_equal(q->out_scale, a->out_scale, (size_t)L.rows * 2);
    assert_memory_equal(q->out_min, a->out_min, (size_t)L.rows * 2);
    assert_true(q->tau == a->tau);
    uint8_t *outl = calloc((size_t)n, 1);
    for (int64_t i = 0; i < n; i++) {
        outl[i] = (a->mask[i >> 3] >> (i & 7)) & 1;
        if (outl[i]) assert_true(g[i] == qmc[i]);
    }
    /* the slow algorithm with the same fixed outliers */
    slow_gptq(L.w, L.rows, L.cols, L.in.h, &pg, o.damp, false, outl, qmc, slow);
    assert_true(tu_max_abs_diff(g, slow, n) < 1e-5);
    double e_qmc = direct_output_error(&L, qmc), e_g = direct_output_error(&L, g);
    print_message("output error QMC %.4g, QMC+GPTQ %.4g\n", e_qmc, e_g);
    assert_true(e_g <= e_qmc);
    qmc_qt_free(q);
    qmc_tensor_release(&qt);
    free(qmc);
    free(g);
    free(slow);
    free(outl);
    layer_free(&L);
}

/* ---- AWQ ------------------------------------------------------------------------------ */

static void test_awq_beats_rtn_on_salient_channels(void **state) {
    for (int group = 0; group <= 16; group += 16) {
        layer L;
        layer_make(&L, 32, 64, 256, 21, 4);
        const int64_t n = L.rows * L.cols;
        qmc_quant_params pr = params(QMC_METHOD_RTN, 4, group, true), pa = params(QMC_METHOD_AWQ, 4, group, true);
        qmc_tensor rt;
        float *rtn = data_free(L.w, L.rows, L.cols, &pr, &rt);
        qmc_tensor_release(&rt);
        qmc_calib_opts o;
        qmc_calib_opts_default(&o);
        float *s = malloc((size_t)L.cols * sizeof(float)), *ws = malloc((size_t)n * sizeof(float));
        float *deq = malloc((size_t)n * sizeof(float));
        double alpha;
        const float *wl[1] = {L.w};
        assert_int_equal(qmc_awq_search_scale(wl, &L.rows, 1, &L.in, &pa, &o, s, &alpha), 0);
        assert_true(alpha > 0);   /* salient channels: scaling pays */
        /* the scaled layer and its statistics: W diag(s), H' = S^-1 H S^-1 */
        double *h2 = malloc((size_t)(L.cols * L.cols) * sizeof(double));
        for (int64_t i = 0; i < L.cols; i++)
            for (int64_t j = 0; j < L.cols; j++) h2[i * L.cols + j] = L.in.h[i * L.cols + j] / ((double)s[i] * s[j]);
        for (int64_t i = 0; i < n; i++) ws[i] = L.w[i] * s[i % L.cols];
        qmc_qtensor *q;
        assert_int_equal(qmc_awq_clip_matrix(ws, L.rows, L.cols, h2, &pa, &o, &q, deq, NULL), 0);
        check_decodes_to(q, deq);
        for (int64_t i = 0; i < n; i++) deq[i] /= s[i % L.cols];
        double e_rtn = direct_output_error(&L, rtn), e_awq = direct_output_error(&L, deq);
        print_message("group %d: alpha %.2f, output error RTN %.4g, AWQ %.4g\n", group, alpha, e_rtn, e_awq);
        assert_true(e_awq <= e_rtn);
        /* without salient inputs nor clipping gains, alpha = 0 and no clipping is plain RTN */
        qmc_calib_opts o0 = o;
        o0.awq_grid = 1;
        o0.clip_max_shrink = 0.0;
        assert_int_equal(qmc_awq_search_scale(wl, &L.rows, 1, &L.in, &pa, &o0, s, &alpha), 0);
        assert_true(alpha == 0 && s[0] == 1.0f);
        qmc_qtensor *q0;
        assert_int_equal(qmc_awq_clip_matrix(L.w, L.rows, L.cols, L.in.h, &pa, &o0, &q0, deq, NULL), 0);
        assert_memory_equal(deq, rtn, (size_t)n * sizeof(float));
        qmc_qt_free(q0);
        qmc_qt_free(q);
        free(rtn);
        free(s);
        free(ws);
        free(deq);
        free(h2);
        layer_free(&L);
    }
}

static void check_fold(int heads, int kv_heads) {
    tu_model_spec sp = {.arch = QMC_ARCH_LLAMA, .dim = 32, .hidden = 48, .layers = 2, .heads = heads, .kv_heads = kv_heads,
                        .vocab = 64, .seq_len = 64, .tied = true, .rope = QMC_ROPE_NORM};
    qmc_model *m = tu_random_model(&sp, 3);
    /* salient channels: a few large RMSNorm gains */
    for (int l = 0; l < sp.layers; l++) {
        float *an = (float *)m->layers[l].attn_norm.data, *fn = (float *)m->layers[l].ffn_norm.data;
        an[1] *= 15.0f;
        fn[2] *= 15.0f;
    }
    int32_t tok[48];
    for (int i = 0; i < 48; i++) tok[i] = (int32_t)((i * 29 + 7) % sp.vocab);
    float *before = tu_logits(m, tok, 24);
    qmc_calib_stats *st;
    assert_int_equal(qmc_calib_collect(m, tok, 48, 16, NULL, NULL, &st), 0);
    assert_int_equal(st->n_tokens, 48 + 4);   /* 4 windows of BOS + 15, the last BOS + 3 */
    float norm0[32];
    memcpy(norm0, m->layers[0].attn_norm.data, sizeof norm0);
    float wo0 = ((const float *)m->layers[0].wo.data)[5];
    qmc_quant_params p = params(QMC_METHOD_AWQ, 4, 0, true);
    qmc_calib_opts o;
    qmc_calib_opts_default(&o);
    assert_int_equal(qmc_awq_fold_model(m, st, &p, &o), 0);
    double changed = 0;
    for (int i = 0; i < 32; i++) changed = fmax(changed, fabs(norm0[i] - ((const float *)m->layers[0].attn_norm.data)[i]));
    assert_true(changed > 1e-3);   /* scales were folded */
    if (heads != kv_heads) assert_true(((const float *)m->layers[0].wo.data)[5] == wo0);  /* GQA: wo keeps s = 1 */
    float *after = tu_logits(m, tok, 24);
    double mx = 0;
    for (int i = 0; i < 24 * sp.vocab; i++) mx = fmax(mx, fabs(before[i]));
    double diff = tu_max_abs_diff(before, after, 24 * sp.vocab);
    print_message("heads %d/%d: max |logit| %.3g, fold changed logits by %.3g\n", heads, kv_heads, mx, diff);
    assert_true(diff <= 1e-4 * fmax(1.0, mx));
    /* the statistics were transformed alike: H' of the scaled q/k/v input equals fresh statistics */
    qmc_calib_stats *st2;
    assert_int_equal(qmc_calib_collect(m, tok, 48, 16, NULL, NULL, &st2), 0);
    for (int s = 0; s < QMC_SLOT_COUNT; s++) {
        const qmc_calib_input *a = &st->in[s], *b = &st2->in[s];
        double hmax = 0;
        for (int64_t i = 0; i < a->cols * a->cols; i++) hmax = fmax(hmax, fabs(b->h[i]));
        for (int64_t i = 0; i < a->cols * a->cols; i++) assert_true(fabs(a->h[i] - b->h[i]) <= 1e-4 * hmax);
    }
    qmc_calib_stats_free(st);
    qmc_calib_stats_free(st2);
    free(before);
    free(after);
    qmc_model_free(m);
}

static void test_awq_fold_keeps_function(void **state) {
    check_fold(4, 4);   /* MHA: wo scales fold into wv rows */
    check_fold(4, 2);   /* GQA: wo unscaled */
}

/* ---- determinism, parameters -------------------------------------------------------- */

static void test_deterministic_across_threads(void **state) {
    layer L;
    layer_make(&L, 40, 64, 128, 31, 2);
    const int64_t n = L.rows * L.cols;
    qmc_calib_opts o;
    qmc_calib_opts_default(&o);
    o.block = 16;
    qmc_method ms[2] = {QMC_METHOD_GPTQ, QMC_METHOD_AWQ};
    for (int k = 0; k < 2; k++) {
        qmc_quant_params p = params(ms[k], 4, 16, true);
        float *a = malloc((size_t)n * sizeof(float)), *b = malloc((size_t)n * sizeof(float));
        qmc_qtensor *qa, *qb;
        for (int t = 0; t < 2; t++) {
            qmc_set_threads(t == 0 ? 1 : 3);
            float *d = t == 0 ? a : b;
            qmc_qtensor **q = t == 0 ? &qa : &qb;
            if (ms[k] == QMC_METHOD_GPTQ) assert_int_equal(qmc_gptq_matrix(L.w, L.rows, L.cols, L.in.h, &p, &o, q, d, NULL), 0);
            else assert_int_equal(qmc_awq_clip_matrix(L.w, L.rows, L.cols, L.in.h, &p, &o, q, d, NULL), 0);
        }
        qmc_set_threads(0);
        assert_memory_equal(a, b, (size_t)n * sizeof(float));
        assert_memory_equal(qa->in_codes, qb->in_codes, qa->in_codes_bytes);
        qmc_qt_free(qa);
        qmc_qt_free(qb);
        free(a);
        free(b);
    }
    layer_free(&L);
}

static void test_calibrated_methods_need_data(void **state) {
    float w[16] = {0};
    qmc_tensor src, dst;
    qmc_tensor_init(&src, "w", QMC_TYPE_F32, 2, 4, 4);
    src.data = w;
    qmc_quant_params p = params(QMC_METHOD_GPTQ, 4, 0, true);
    assert_int_equal(qmc_quant_params_check(&p), 0);
    assert_int_equal(qmc_quantize_tensor(&src, &p, &dst), QMC_ERR_ARG);
    assert_non_null(strstr(qmc_errmsg(), "calibration"));
    p.rho = 0.1f;   /* rho belongs to qmc / qmc-gptq */
    assert_int_equal(qmc_quant_params_check(&p), QMC_ERR_ARG);
    p = params(QMC_METHOD_QMC_GPTQ, 3, 0, true);
    p.rho = 0.1f;
    p.bits_out = 9;
    assert_int_equal(qmc_quant_params_check(&p), QMC_ERR_ARG);
    /* a model without statistics */
    tu_model_spec sp = {.arch = QMC_ARCH_LLAMA, .dim = 16, .hidden = 24, .layers = 1, .heads = 2, .kv_heads = 2,
                        .vocab = 32, .seq_len = 16, .tied = true, .rope = QMC_ROPE_NORM};
    qmc_model *m = tu_random_model(&sp, 1);
    qmc_model_quant_opts mo;
    qmc_model_quant_opts_default(&mo);
    mo.blocks = params(QMC_METHOD_AWQ, 4, 0, true);
    assert_int_equal(qmc_quantize_model(m, &mo, NULL), QMC_ERR_ARG);
    assert_non_null(strstr(qmc_errmsg(), "calibration"));
    /* and with them: every block linear packed with the method */
    int32_t tok[20];
    for (int i = 0; i < 20; i++) tok[i] = (int32_t)(i % 32);
    qmc_calib_stats *st;
    assert_int_equal(qmc_calib_collect(m, tok, 20, 8, NULL, NULL, &st), 0);
    qmc_calib_opts co;
    qmc_calib_opts_default(&co);
    mo.calib = st;
    mo.calib_opts = &co;
    assert_int_equal(qmc_quantize_model(m, &mo, NULL), 0);
    assert_int_equal(m->layers[0].w_down.type, QMC_TYPE_PACKED);
    assert_int_equal(m->layers[0].w_down.q->method, QMC_METHOD_AWQ);
    /* the quantized model cannot be calibrated again */
    qmc_calib_stats *st2 = NULL;
    assert_int_equal(qmc_calib_collect(m, tok, 20, 8, NULL, NULL, &st2), QMC_ERR_UNSUPPORTED);
    assert_null(st2);
    qmc_calib_stats_free(st);
    qmc_model_free(m);
}

/* ---- the CLI --------------------------------------------------------------------------- */

static void test_cli(void **state) {
    const char *model = tu_repo("models/stories260K/stories260K.bin");
    const char *out = tu_tmp("c.qmc.gguf"), *empty = tu_tmp("empty.txt"), *blank = tu_tmp("blank.txt");
    FILE *f = fopen(empty, "w");
    fclose(f);
    f = fopen(blank, "w");
    fputs(" \n\n\t\n", f);
    fclose(f);
    char *log = NULL;
    /* empty / blank / missing calibration text: one line naming the file */
    const char *bad[3] = {empty, blank, "/nonexistent/calib.txt"};
    for (int i = 0; i < 3; i++) {
        assert_int_not_equal(tu_run(&log, "%s quantize -q -m %s -o %s --method gptq --calib %s", tu_qmc(), model, out, bad[i]), 0);
        assert_non_null(strstr(log, bad[i]));
        assert_non_null(strstr(log, "qmc quantize: "));
        assert_true(strchr(log, '\n') == log + strlen(log) - 1);
        free(log);
    }
    assert_false(qmc_file_exists(out));
    assert_int_not_equal(tu_run(&log, "%s quantize -q -m %s -o %s --method gptqq", tu_qmc(), model, out), 0);
    assert_non_null(strstr(log, "--method"));
    free(log);
    assert_int_not_equal(tu_run(&log, "%s quantize -q -m %s -o %s --method rtn --calib %s", tu_qmc(), model, out, empty), 0);
    assert_non_null(strstr(log, "--calib"));
    free(log);
    assert_int_not_equal(tu_run(&log, "%s quantize -q -m %s -o %s --method awq --act-order", tu_qmc(), model, out), 0);
    free(log);
    assert_int_equal(tu_run(&log, "%s quantize -q -m %s -o %s --method gptq --calib-ctx 1", tu_qmc(), model, out), 2);
    free(log);
    /* a real run on the default text: JSON says what was used */
    const char *methods[3] = {"gptq --act-order --group 32", "awq", "qmc-gptq"};
    const char *names[3] = {"\"method\":\"gptq\"", "\"method\":\"awq\"", "\"method\":\"qmc-gptq\""};
    for (int i = tu_quick() ? 2 : 0; i < 3; i++) {
        assert_int_equal(
            tu_run(&log, "%s quantize -q -m %s -o %s --method %s --calib-tokens 300 --json", tu_qmc(), model, out, methods[i]), 0);
        size_t k = 0; /* without white space */
        for (size_t j = 0; log[j]; j++)
            if (log[j] != ' ' && log[j] != '\n' && log[j] != '\t') log[k++] = log[j];
        log[k] = 0;
        assert_non_null(strstr(log, names[i]));
        assert_non_null(strstr(log, "\"calib_tokens\":300"));
        assert_non_null(strstr(log, "wikitext2-valid-slice.txt"));
        free(log);
    }
    /* the last file loads and runs */
    assert_int_equal(
        tu_run(&log, "%s ppl -m %s -f %s --protocol full --chunks 1", tu_qmc(), out, tu_repo("data/text/tinystories-valid-sample.txt")),
        0);
    free(log);
}

int main(void) {
    tu_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gptq_matches_slow),
        cmocka_unit_test(test_gptq_beats_rtn),
        cmocka_unit_test(test_qmc_gptq),
        cmocka_unit_test(test_awq_beats_rtn_on_salient_channels),
        cmocka_unit_test(test_awq_fold_keeps_function),
        cmocka_unit_test(test_deterministic_across_threads),
        cmocka_unit_test(test_calibrated_methods_need_data),
        cmocka_unit_test(test_cli),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
