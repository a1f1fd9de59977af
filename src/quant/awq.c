/* awq.c — AWQ (Lin et al., 2023): activation-aware per-input-channel scales,
 * folded into the model, then a clipping search and RTN.
 *
 * Scale search (llm-awq auto_scale): for linears sharing one input x, with
 * a = mean|x| per channel, candidates s = max(a^alpha, 1e-4) / sqrt(max s * min s)
 * for alpha = i / G (i = 0..G-1, G = awq_grid); each is scored by the summed
 * output error of RTN(W diag(s)) diag(s)^-1 (calib.h: from H), and the first
 * smallest wins (alpha = 0 is plain RTN).
 * Folding: x' = x / s is produced by the op before the linears
 *   q/k/v      <- attn_norm weight / s
 *   gate/up    <- ffn_norm weight / s
 *   down       <- rows of w_up / s (the SwiGLU product is linear in up)
 *   o          <- rows of w_v / s, only when every attention head has its own
 *                 value head (n_heads == n_kv_heads); with grouped-query
 *                 attention one value row feeds several heads, so wo keeps
 *                 s = 1 (llm-awq does the same) and gets the clipping only.
 * and W' = W diag(s), H' = S^-1 H S^-1.
 * Clipping (llm-awq auto_clip): per (row, group), the max range shrunk to
 * max|w| * (1 - i/C) for i = 0..max_shrink*C-1 (C = clip_grid), weights clamped
 * to +-that before the RTN fit; the candidate with the smallest group output
 * error e_g^T H_gg e_g wins (first on ties: i = 0 is plain RTN). */
#include <cblas.h>
#include <math.h>
#include <string.h>

#include "quant/calib.h"
#include "quant/fit.h"
#include "util/util.h"

/* The RTN grid of a method (fit.h). */
static qmc_int_fit_opts rtn_opts(const qmc_quant_params *p) {
    int grid;
    float lo;
    qmc_quant_params_resolve(p, &grid, &lo);
    return (qmc_int_fit_opts){p->bits_in, p->asym, grid, lo, p->p_minus + p->p_plus};
}

static int64_t group_size(const qmc_quant_params *p, int64_t cols) { return p->group > 0 && p->group < cols ? p->group : cols; }

/* RTN of w[rows][cols] (per row or (row, group)) into deq. */
static void rtn_matrix(const float *w, int64_t rows, int64_t cols, const qmc_quant_params *p, float *deq, uint8_t *codes) {
    const qmc_int_fit_opts fo = rtn_opts(p);
    const int64_t gs = group_size(p, cols);
#pragma omp parallel for schedule(static) num_threads(qmc_threads())
    for (int64_t r = 0; r < rows; r++)
        for (int64_t c0 = 0; c0 < cols; c0 += gs) {
            const int64_t len = QMC_MIN(gs, cols - c0);
            qmc_int_fit fit;
            qmc_int_fit_search(w + r * cols + c0, len, &fo, &fit);
            qmc_int_encode(w + r * cols + c0, len, p->bits_in, p->asym, fit.d, fit.m, codes + r * cols + c0,
                           deq + r * cols + c0);
        }
}

int qmc_awq_search_scale(const float *const *ws, const int64_t *rows, int n_w, const qmc_calib_input *in,
                         const qmc_quant_params *p, const qmc_calib_opts *o, float *s, double *alpha) {
    const int64_t cols = in->cols;
    int64_t max_rows = 0;
    for (int k = 0; k < n_w; k++) max_rows = QMC_MAX(max_rows, rows[k]);
    float *sc = qmc_alloc((size_t)cols, sizeof(float));
    float *ws_buf = qmc_alloc((size_t)(max_rows * cols) * 2, sizeof(float));
    uint8_t *codes = qmc_alloc((size_t)(max_rows * cols), 1);
    if (!sc || !ws_buf || !codes) {
        qmc_free(sc);
        qmc_free(ws_buf);
        qmc_free(codes);
        return qmc_error_prefix(QMC_ERR_NOMEM, "AWQ scale search over %lld columns", (long long)cols);
    }
    float *deq = ws_buf + max_rows * cols;
    double best = INFINITY;
    int rc = QMC_OK;
    *alpha = 0;
    for (int64_t c = 0; c < cols; c++) s[c] = 1.0f;
    const int G = o->awq_grid > 0 ? o->awq_grid : 20;
    for (int i = 0; i < G && !rc; i++) {
        const double a = (double)i / G;
        float mx = 0, mn = INFINITY;
        for (int64_t c = 0; c < cols; c++) {
            sc[c] = fmaxf((float)pow(in->absmean[c], a), 1e-4f);
            mx = fmaxf(mx, sc[c]);
            mn = fminf(mn, sc[c]);
        }
        const float norm = sqrtf(mx * mn);
        for (int64_t c = 0; c < cols; c++) sc[c] /= norm;
        double loss = 0;
        for (int k = 0; k < n_w && !rc; k++) {
            const int64_t nr = rows[k];
            for (int64_t r = 0; r < nr; r++)
                for (int64_t c = 0; c < cols; c++) ws_buf[r * cols + c] = ws[k][r * cols + c] * sc[c];
            rtn_matrix(ws_buf, nr, cols, p, deq, codes);
            for (int64_t r = 0; r < nr; r++)
                for (int64_t c = 0; c < cols; c++) deq[r * cols + c] /= sc[c];
            double e = qmc_calib_output_error(ws[k], deq, nr, cols, in->h);
            if (e < 0) rc = qmc_error_prefix(QMC_ERR_NOMEM, "AWQ output error");
            loss += e;
        }
        if (!rc && loss < best) {
            best = loss;
            *alpha = a;
            memcpy(s, sc, (size_t)cols * sizeof(float));
        }
    }
    qmc_free(sc);
    qmc_free(ws_buf);
    qmc_free(codes);
    return rc;
}

int qmc_awq_clip_matrix(const float *w, int64_t rows, int64_t cols, const double *h, const qmc_quant_params *p,
                        const qmc_calib_opts *o, qmc_qtensor **out, float *deq_out, qmc_quant_error *err) {
    *out = NULL;
    qmc_calib_blas_serial();
    const int64_t n = rows * cols, gs = group_size(p, cols), ng = (cols + gs - 1) / gs;
    const qmc_int_fit_opts fo = rtn_opts(p);
    const int C = o->clip_grid > 0 ? o->clip_grid : 20;
    const int n_shrink = QMC_MAX(1, (int)(o->clip_max_shrink * C));
    uint8_t *codes = qmc_alloc((size_t)n, 1);
    uint16_t *dm = qmc_alloc((size_t)(rows * ng) * 2, sizeof(uint16_t));
    float *deq = deq_out ? deq_out : qmc_alloc((size_t)n, sizeof(float));
    int rc = QMC_OK;
    bool nomem = false;
    if (!codes || !dm || !deq) rc = qmc_error_prefix(QMC_ERR_NOMEM, "AWQ on a %lld x %lld matrix", (long long)rows, (long long)cols);
    if (!rc) {
#pragma omp parallel num_threads(qmc_threads())
        {
            float *buf = qmc_alloc((size_t)gs * 2, sizeof(float));
            uint8_t *cb = qmc_alloc((size_t)gs, 1);
            double *e = qmc_alloc((size_t)gs * 2, sizeof(double));
            if (!buf || !cb || !e) {
#pragma omp atomic write
                nomem = true;
            }
#pragma omp for schedule(dynamic, 4)
            for (int64_t r = 0; r < rows; r++) {
                if (!buf || !cb || !e) continue;
                for (int64_t g = 0; g < ng; g++) {
                    const int64_t c0 = g * gs, len = QMC_MIN(gs, cols - c0);
                    const float *wg = w + r * cols + c0;
                    float big = 0;
                    for (int64_t j = 0; j < len; j++) big = fmaxf(big, fabsf(wg[j]));
                    double best = INFINITY;
                    for (int i = 0; i < n_shrink; i++) {
                        const float mv = big * (1.0f - (float)i / (float)C);
                        for (int64_t j = 0; j < len; j++) buf[j] = fminf(fmaxf(wg[j], -mv), mv);
                        qmc_int_fit fit;
                        qmc_int_fit_search(buf, len, &fo, &fit);
                        qmc_int_encode(wg, len, p->bits_in, p->asym, fit.d, fit.m, cb, buf + gs);
                        for (int64_t j = 0; j < len; j++) e[j] = (double)wg[j] - (double)buf[gs + j];
                        const double *hg = h + c0 * cols + c0;
                        cblas_dsymv(CblasRowMajor, CblasUpper, (int)len, 1.0, hg, (int)cols, e, 1, 0.0, e + gs, 1);
                        const double loss = cblas_ddot((int)len, e, 1, e + gs, 1);
                        if (loss < best) {
                            best = loss;
                            dm[r * ng + g] = fit.d;
                            dm[rows * ng + r * ng + g] = fit.m;
                            memcpy(codes + r * cols + c0, cb, (size_t)len);
                            memcpy(deq + r * cols + c0, buf + gs, (size_t)len * sizeof(float));
                        }
                    }
                }
            }
            qmc_free(buf);
            qmc_free(cb);
            qmc_free(e);
        }
        if (nomem) rc = qmc_error_prefix(QMC_ERR_NOMEM, "AWQ on a %lld x %lld matrix", (long long)rows, (long long)cols);
    }
    if (!rc) {
        qmc_plane_fmt fin = {(uint8_t)p->bits_in, QMC_ELEM_INT, p->asym, gs >= cols ? 0 : (int32_t)gs};
        rc = qmc_pack_int_tensor(rows, cols, fin, (qmc_plane_fmt){0}, codes, NULL, dm, dm + rows * ng, NULL, NULL, out);
    }
    if (!rc) {
        (*out)->method = QMC_METHOD_AWQ;
        if (err) {
            memset(err, 0, sizeof *err);
            for (int64_t i = 0; i < n; i++) {
                double d = (double)w[i] - (double)deq[i];
                err->sse += d * d;
                err->energy += (double)w[i] * (double)w[i];
            }
            err->n = n;
        }
    }
    qmc_free(codes);
    qmc_free(dm);
    if (deq != deq_out) qmc_free(deq);
    return rc;
}

/* ---- folding into the model ------------------------------------------------------ */

/* t as an owned, writable F32 tensor. */
static float *own_f32(qmc_tensor *t) {
    if (t->type == QMC_TYPE_F32 && t->owned == t->data && t->owned) return t->owned;
    qmc_tensor c;
    if (qmc_tensor_to_f32(t, &c)) return NULL;
    qmc_tensor_release(t);
    *t = c;
    return t->owned;
}

static void scale_cols(float *w, int64_t rows, int64_t cols, const float *s) {
    for (int64_t r = 0; r < rows; r++)
        for (int64_t c = 0; c < cols; c++) w[r * cols + c] *= s[c];
}

static void scale_h(qmc_calib_input *in, const float *s) {
    const int64_t n = in->cols;
    for (int64_t i = 0; i < n; i++) {
        in->absmean[i] /= s[i];
        for (int64_t j = 0; j < n; j++) in->h[i * n + j] /= (double)s[i] * (double)s[j];
    }
}

/* Search the scale of the linears ts[n] reading `in`, and fold it: the
 * producer's vector (norm weight) or rows (previous linear) divided by s. */
static int fold_group(qmc_tensor *const *ts, int n, qmc_calib_input *in, qmc_tensor *norm, qmc_tensor *prev_rows,
                      const qmc_quant_params *p, const qmc_calib_opts *o) {
    const int64_t cols = in->cols;
    const float *ws[4];
    int64_t rows[4];
    float *wm[4];
    for (int k = 0; k < n; k++) {
        if (!(wm[k] = own_f32(ts[k]))) return QMC_ERR_NOMEM;
        ws[k] = wm[k];
        rows[k] = qmc_tensor_rows(ts[k]);
    }
    float *s = qmc_alloc((size_t)cols, sizeof(float));
    if (!s) return QMC_ERR_NOMEM;
    double alpha;
    int rc = qmc_awq_search_scale(ws, rows, n, in, p, o, s, &alpha);
    float *pv = NULL;
    if (!rc && !(pv = own_f32(norm ? norm : prev_rows))) rc = QMC_ERR_NOMEM;
    if (!rc) {
        if (norm)
            for (int64_t c = 0; c < cols; c++) pv[c] /= s[c];
        else
            for (int64_t r = 0; r < cols; r++)
                for (int64_t c = 0; c < prev_rows->ne[0]; c++) pv[r * prev_rows->ne[0] + c] /= s[r];
        for (int k = 0; k < n; k++) scale_cols(wm[k], rows[k], cols, s);
        scale_h(in, s);
    }
    qmc_free(s);
    return rc;
}

int qmc_awq_fold_model(qmc_model *m, qmc_calib_stats *st, const qmc_quant_params *p, const qmc_calib_opts *o) {
    if (st->n_layers != m->cfg.n_layers)
        return qmc_fail(QMC_ERR_ARG, "calibration statistics have %d layers, the model %d", st->n_layers, m->cfg.n_layers);
    const bool mha = m->cfg.n_heads == m->cfg.n_kv_heads;
    for (int l = 0; l < m->cfg.n_layers; l++) {
        qmc_layer *L = &m->layers[l];
        qmc_calib_input *in = st->in + (int64_t)l * QMC_SLOT_COUNT;
        int rc;
        /* the o / down scales are searched and folded first, so the q/k/v and
         * gate/up searches see w_v / w_up with those rows divided (llm-awq
         * searches every scale on the original weights; a row scaling only
         * reweighs rows of the per-row RTN error, docs/calibration.md) */
        qmc_tensor *o_ts[1] = {&L->wo}, *down_ts[1] = {&L->w_down};
        qmc_tensor *qkv[3] = {&L->wq, &L->wk, &L->wv}, *gu[2] = {&L->w_gate, &L->w_up};
        if (mha && !L->bv.data && (rc = fold_group(o_ts, 1, &in[QMC_SLOT_ATTN_OUT], NULL, &L->wv, p, o))) return rc;
        if ((rc = fold_group(down_ts, 1, &in[QMC_SLOT_FFN_MID], NULL, &L->w_up, p, o))) return rc;
        if ((rc = fold_group(qkv, 3, &in[QMC_SLOT_ATTN_IN], &L->attn_norm, NULL, p, o))) return rc;
        if ((rc = fold_group(gu, 2, &in[QMC_SLOT_FFN_IN], &L->ffn_norm, NULL, p, o))) return rc;
    }
    return QMC_OK;
}
