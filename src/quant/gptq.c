/* gptq.c — GPTQ (Frantar et al., 2022) and QMC+GPTQ on one weight matrix.
 *
 * In double precision, with columns in processing order (act-order: decreasing
 * diag(H), ties by index; otherwise natural order):
 *   dead columns (H_ii = 0): H_ii = 1, W[:, i] = 0
 *   H += damp * mean(diag H) * I
 *   U = upper Cholesky factor of H^-1 (H^-1 = U^T U; LAPACK dpotrf, dpotri, dpotrf)
 *   for each column i:  q = Q(w_i);  e = (w_i - q) / U_ii;  w_j -= e * U_ij  (j > i)
 * The updates of columns beyond the current block of `block` columns are
 * deferred and applied as one matrix product at its end (lazy batches); the
 * result equals the column-by-column algorithm up to rounding.
 *
 * Q is the RTN grid (quant/fit.h) of each row (per channel) or (row, group):
 *   per channel: fitted on the row before the loop;
 *   groups, natural order: fitted on the group's columns when the first of
 *     them is reached (the updated weights; blocks are cut at group boundaries
 *     so those columns have received every earlier update);
 *   groups with act-order: fitted on the weights before the loop ("static
 *     groups"), since the packed format's groups are contiguous in the
 *     original column order.
 * QMC+GPTQ: the QMC partition (top-rho magnitudes of the original weights)
 * and QMC's outlier codes are computed first and kept; inlier fits exclude the
 * outliers; an outlier column entry takes its fixed QMC value and its error
 * is propagated like any other. */
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <string.h>

#include "quant/calib.h"
#include "quant/fit.h"
#include "quant/partition.h"
#include "util/util.h"

typedef struct {
    int64_t rows, cols, gs, ng;
    const qmc_quant_params *p;
    qmc_int_fit_opts fin;
    double *w;          /* [rows][cols] working weights, processing order */
    const int64_t *perm;/* [cols] original column of processing position i */
    const uint8_t *outlier; /* [rows*cols] original order, or NULL */
    uint8_t *codes;     /* [rows*cols] original order */
    float *deq;         /* [rows*cols] original order */
    uint16_t *in_d, *in_m; /* [rows][ng] */
} gptq_state;

/* Fit group g (original columns [g*gs, g*gs+gs)) of row r on the current
 * working weights (inliers only). */
static void fit_group(gptq_state *S, int64_t r, int64_t g, const int64_t *pos_of, float *buf) {
    int64_t n = 0;
    const int64_t c0 = g * S->gs, c1 = QMC_MIN(S->cols, c0 + S->gs);
    for (int64_t c = c0; c < c1; c++) {
        if (S->outlier && S->outlier[r * S->cols + c]) continue;
        buf[n++] = (float)S->w[r * S->cols + pos_of[c]];
    }
    qmc_int_fit fit;
    qmc_int_fit_search(buf, n, &S->fin, &fit);
    S->in_d[r * S->ng + g] = fit.d;
    S->in_m[r * S->ng + g] = fit.m;
}

static int chol_upper_of_inverse(double *h, int64_t n) {
    lapack_int info = LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'U', (lapack_int)n, h, (lapack_int)n);
    if (info == 0) info = LAPACKE_dpotri(LAPACK_ROW_MAJOR, 'U', (lapack_int)n, h, (lapack_int)n);
    if (info == 0) {
        for (int64_t i = 0; i < n; i++)
            for (int64_t j = 0; j < i; j++) h[i * n + j] = h[j * n + i];
        info = LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'U', (lapack_int)n, h, (lapack_int)n);
    }
    if (info != 0) return qmc_fail(QMC_ERR_RANGE, "the damped Hessian is not positive definite (LAPACK info %d); raise --damp", (int)info);
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < i; j++) h[i * n + j] = 0.0;
    return QMC_OK;
}

/* QMC's outliers of w: flags, codes and values (exactly as quantize.c's QMC). */
static int qmc_outliers(const float *w, int64_t rows, int64_t cols, const qmc_quant_params *p, const qmc_int_fit_opts *fout,
                        uint8_t *outlier, uint8_t *codes, float *deq, uint16_t *out_d, uint16_t *out_m, float *tau,
                        float *buf, uint8_t *cbuf) {
    const int64_t n = rows * cols, k = qmc_outlier_count(p->rho, n);
    qmc_partition part;
    int rc = qmc_partition_select(w, n, k, &part);
    if (rc) return rc;
    *tau = k > 0 ? part.tau : 0.0f;
    for (int64_t i = 0; i < n; i++) outlier[i] = qmc_partition_is_outlier(&part, w, i);
    for (int64_t r = 0; r < rows; r++) {
        int64_t no = 0;
        for (int64_t c = 0; c < cols; c++)
            if (outlier[r * cols + c]) buf[no++] = w[r * cols + c];
        qmc_int_fit fit;
        qmc_int_fit_search(buf, no, fout, &fit);
        out_d[r] = fit.d;
        out_m[r] = fit.m;
        qmc_int_encode(buf, no, fout->bits, fout->asym, fit.d, fit.m, cbuf, buf);
        for (int64_t c = 0, o = 0; c < cols; c++)
            if (outlier[r * cols + c]) {
                codes[r * cols + c] = cbuf[o];
                deq[r * cols + c] = buf[o++];
            }
    }
    return QMC_OK;
}

int qmc_gptq_matrix(const float *w, int64_t rows, int64_t cols, const double *h, const qmc_quant_params *p,
                    const qmc_calib_opts *o, qmc_qtensor **out, float *deq_out, qmc_quant_error *err) {
    *out = NULL;
    qmc_calib_blas_serial();
    if (p->method != QMC_METHOD_GPTQ && p->method != QMC_METHOD_QMC_GPTQ)
        return qmc_fail(QMC_ERR_ARG, "GPTQ: method '%s' is not gptq or qmc-gptq", qmc_method_name(p->method));
    if (!(o->damp >= 0 && o->damp <= 10)) return qmc_fail(QMC_ERR_ARG, "--damp %g is outside [0, 10]", o->damp);
    const bool with_out = p->method == QMC_METHOD_QMC_GPTQ;
    const int64_t n = rows * cols, gs = p->group > 0 && p->group < cols ? p->group : cols, ng = (cols + gs - 1) / gs;
    const int64_t B = o->block > 0 ? o->block : 128;
    int grid;
    float grid_lo;
    qmc_quant_params_resolve(p, &grid, &grid_lo);
    gptq_state S;
    memset(&S, 0, sizeof S);
    S.rows = rows;
    S.cols = cols;
    S.gs = gs;
    S.ng = ng;
    S.p = p;
    S.fin = (qmc_int_fit_opts){p->bits_in, p->asym, grid, grid_lo, p->p_minus + p->p_plus};
    qmc_int_fit_opts fout = {p->bits_out, p->asym, grid, grid_lo, 0.0};

    double *hinv = qmc_alloc((size_t)(cols * cols), sizeof(double));
    S.w = qmc_alloc((size_t)n, sizeof(double));
    double *errs = qmc_alloc((size_t)(rows * B), sizeof(double));
    int64_t *perm = qmc_alloc((size_t)cols * 2, sizeof(int64_t));
    S.codes = qmc_alloc((size_t)n, 1);
    S.deq = deq_out ? deq_out : qmc_alloc((size_t)n, sizeof(float));
    uint8_t *outlier = with_out ? qmc_alloc((size_t)n, 1) : NULL;
    S.in_d = qmc_alloc((size_t)(rows * ng) * 2, sizeof(uint16_t));
    uint16_t *out_d = qmc_alloc((size_t)rows * 2, sizeof(uint16_t));
    float *buf = qmc_alloc((size_t)cols, sizeof(float));
    uint8_t *cbuf = qmc_alloc((size_t)cols, 1);
    int rc = QMC_OK;
    if (!hinv || !S.w || !errs || !perm || !S.codes || !S.deq || (with_out && !outlier) || !S.in_d || !out_d || !buf || !cbuf) {
        rc = qmc_error_prefix(QMC_ERR_NOMEM, "GPTQ on a %lld x %lld matrix", (long long)rows, (long long)cols);
        goto done;
    }
    S.in_m = S.in_d + rows * ng;
    uint16_t *out_m = out_d + rows;
    int64_t *pos_of = perm + cols;  /* processing position of original column c */
    S.perm = perm;
    S.outlier = outlier;
    float tau = 0.0f;
    if (with_out && (rc = qmc_outliers(w, rows, cols, p, &fout, outlier, S.codes, S.deq, out_d, out_m, &tau, buf, cbuf)))
        goto done;

    /* processing order */
    for (int64_t i = 0; i < cols; i++) perm[i] = i;
    if (o->act_order) /* insertion sort by decreasing diag(H), stable */
        for (int64_t i = 1; i < cols; i++) {
            int64_t v = perm[i], j = i;
            while (j > 0 && h[perm[j - 1] * cols + perm[j - 1]] < h[v * cols + v]) {
                perm[j] = perm[j - 1];
                j--;
            }
            perm[j] = v;
        }
    for (int64_t i = 0; i < cols; i++) pos_of[perm[i]] = i;
    double mean_diag = 0;
    for (int64_t i = 0; i < cols; i++) mean_diag += h[i * cols + i];
    mean_diag /= (double)cols;
    for (int64_t a = 0; a < cols; a++) {
        const bool dead = h[perm[a] * cols + perm[a]] == 0.0;
        for (int64_t b = 0; b < cols; b++) hinv[a * cols + b] = h[perm[a] * cols + perm[b]];
        if (dead) hinv[a * cols + a] = 1.0;
        for (int64_t r = 0; r < rows; r++) S.w[r * cols + a] = dead ? 0.0 : (double)w[r * cols + perm[a]];
    }
    for (int64_t a = 0; a < cols; a++) hinv[a * cols + a] += o->damp * mean_diag;
    if ((rc = chol_upper_of_inverse(hinv, cols))) goto done;

    const bool lazy_groups = gs < cols && !o->act_order;
    if (!lazy_groups)
        for (int64_t r = 0; r < rows; r++)
            for (int64_t g = 0; g < ng; g++) fit_group(&S, r, g, pos_of, buf);
    const int bits = p->bits_in;
    bool nomem = false;
    for (int64_t i1 = 0; i1 < cols;) {
        int64_t len = B;
        if (lazy_groups) len = gs <= B ? (B / gs) * gs : QMC_MIN(B, gs - i1 % gs);
        const int64_t i2 = QMC_MIN(cols, i1 + len), nb = i2 - i1;
#pragma omp parallel num_threads(qmc_threads())
        {
            float *fb = qmc_alloc((size_t)gs, sizeof(float));
            if (!fb) {
#pragma omp atomic write
                nomem = true;
            }
#pragma omp for schedule(static)
            for (int64_t r = 0; r < rows; r++) {
                if (!fb) continue;
                double *wr = S.w + r * cols;
                for (int64_t i = i1; i < i2; i++) {
                    const int64_t c = perm[i];
                    if (lazy_groups && c % gs == 0) fit_group(&S, r, c / gs, pos_of, fb);
                    float qv;
                    if (with_out && outlier[r * cols + c]) qv = S.deq[r * cols + c];
                    else {
                        const int64_t g = c / gs;
                        float v = (float)wr[i];
                        qmc_int_encode(&v, 1, bits, p->asym, S.in_d[r * ng + g], S.in_m[r * ng + g], &S.codes[r * cols + c],
                                       &qv);
                        S.deq[r * cols + c] = qv;
                    }
                    const double e = (wr[i] - (double)qv) / hinv[i * cols + i];
                    const double *u = hinv + i * cols;
                    for (int64_t j = i + 1; j < i2; j++) wr[j] -= e * u[j];
                    errs[r * nb + (i - i1)] = e;
                }
            }
            qmc_free(fb);
        }
        /* deferred updates: W[:, i2:] -= E[:, block] U[block, i2:] */
        if (i2 < cols)
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, (int)(cols - i2), (int)nb, -1.0, errs,
                        (int)nb, hinv + i1 * cols + i2, (int)cols, 1.0, S.w + i2, (int)cols);
        i1 = i2;
    }
    if (nomem) {
        rc = qmc_error_prefix(QMC_ERR_NOMEM, "GPTQ on a %lld x %lld matrix", (long long)rows, (long long)cols);
        goto done;
    }

    qmc_plane_fmt fin = {(uint8_t)bits, QMC_ELEM_INT, p->asym, gs >= cols ? 0 : (int32_t)gs};
    qmc_plane_fmt fo = with_out ? (qmc_plane_fmt){(uint8_t)p->bits_out, QMC_ELEM_INT, p->asym, 0} : (qmc_plane_fmt){0};
    if ((rc = qmc_pack_int_tensor(rows, cols, fin, fo, S.codes, outlier, S.in_d, S.in_m, out_d, out_m, out))) goto done;
    (*out)->method = p->method;
    (*out)->rho = with_out ? p->rho : 0.0f;
    (*out)->tau = tau;
    if (err) {
        memset(err, 0, sizeof *err);
        for (int64_t i = 0; i < n; i++) {
            double e = (double)w[i] - (double)S.deq[i];
            err->sse += e * e;
            err->energy += (double)w[i] * (double)w[i];
        }
        err->n = n;
    }
done:
    qmc_free(hinv);
    qmc_free(S.w);
    qmc_free(errs);
    qmc_free(perm);
    qmc_free(S.codes);
    if (S.deq != deq_out) qmc_free(S.deq);
    qmc_free(outlier);
    qmc_free(S.in_d);
    qmc_free(out_d);
    qmc_free(buf);
    qmc_free(cbuf);
    return rc;
}
