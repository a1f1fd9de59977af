/* quantize.c — one tensor to packed planes: QMC (partition + two uniform
 * planes), RTN (one uniform plane, per channel or per group) and the OCP MX
 * formats, all producing the qtensor of quant/qtensor.h. */
#include <math.h>
#include <omp.h>
#include <string.h>

#include "quant/fit.h"
#include "quant/partition.h"
#include "quant/quantize.h"
#include "util/util.h"

void qmc_quant_params_default(qmc_quant_params *p) {
    memset(p, 0, sizeof *p);
    p->method = QMC_METHOD_QMC;
    p->rho = 0.3f;
    p->bits_in = 3;
    p->bits_out = 5;
    p->asym = true;   /* chosen by measurement (docs/quantization.md) */
}

void qmc_quant_params_resolve(const qmc_quant_params *p, int *grid, float *grid_lo) {
    /* RTN and the calibrated RTN-grid methods (GPTQ, AWQ): max-range scale */
    const bool rtn = p->method == QMC_METHOD_RTN || p->method == QMC_METHOD_GPTQ || p->method == QMC_METHOD_AWQ;
    *grid = p->grid > 0 ? p->grid : (rtn ? 1 : QMC_GRID_DEFAULT);
    *grid_lo = p->grid_lo > 0 ? p->grid_lo : QMC_GRID_LO_DEFAULT;
}

int qmc_quant_params_check(const qmc_quant_params *p) {
    if ((unsigned)p->method >= QMC_METHOD_COUNT) return qmc_fail(QMC_ERR_ARG, "unknown quantization method %d", (int)p->method);
    const bool outliers = p->method == QMC_METHOD_QMC || p->method == QMC_METHOD_QMC_GPTQ;
    if (!(p->rho >= 0.0f && p->rho < 1.0f)) return qmc_fail(QMC_ERR_ARG, "--rho %g is outside [0, 1)", (double)p->rho);
    if (!outliers && p->rho != 0.0f)
        return qmc_fail(QMC_ERR_ARG, "--rho applies to --method qmc and qmc-gptq only");
    if (p->bits_in < 2 || p->bits_in > 8) return qmc_fail(QMC_ERR_ARG, "--bits-in %d is outside 2..8", p->bits_in);
    if (outliers && (p->bits_out < 2 || p->bits_out > 8))
        return qmc_fail(QMC_ERR_ARG, "--bits-out %d is outside 2..8", p->bits_out);
    if (p->method == QMC_METHOD_MXFP4 && p->bits_in != 4)
        return qmc_fail(QMC_ERR_ARG, "MXFP4 elements have 4 bits, not %d", p->bits_in);
    if ((p->method == QMC_METHOD_MXINT || p->method == QMC_METHOD_MXFP4) && p->asym)
        return qmc_fail(QMC_ERR_ARG, "MX formats are symmetric (no --asym)");
    if (p->group < 0 || p->group > (1 << 24)) return qmc_fail(QMC_ERR_ARG, "--group %d is out of range", p->group);
    if (p->grid < 0 || p->grid > 100000) return qmc_fail(QMC_ERR_ARG, "--grid %d is outside 1..100000", p->grid);
    if (!(p->grid_lo >= 0.0f && p->grid_lo <= 1.0f))
        return qmc_fail(QMC_ERR_ARG, "--grid-lo %g is outside (0, 1]", (double)p->grid_lo);
    if (!(p->p_minus >= 0 && p->p_minus <= 1) || !(p->p_plus >= 0 && p->p_plus <= 1) || p->p_minus + p->p_plus > 1)
        return qmc_fail(QMC_ERR_ARG, "--p-minus %g / --p-plus %g must be probabilities summing to at most 1", p->p_minus,
                        p->p_plus);
    return QMC_OK;
}

/* ---- packing ---------------------------------------------------------------- */

/* codes[n] (one per byte) into the continuous little-endian bit stream out.
 * Chunks of 8 codes fill exactly `bits` bytes, so chunks pack in parallel. */
void qmc_pack_codes(const uint8_t *codes, int64_t n, int bits, uint8_t *out) {
    const int64_t chunks = (n + 7) / 8;
#pragma omp parallel for schedule(static) num_threads(qmc_threads())
    for (int64_t ch = 0; ch < chunks; ch++) {
        uint64_t acc = 0;
        const int64_t base = ch * 8;
        for (int j = 0; j < 8 && base + j < n; j++) acc |= (uint64_t)codes[base + j] << (j * bits);
        for (int b = 0; b < bits; b++) out[ch * bits + b] = (uint8_t)(acc >> (8 * b));
    }
}

static inline void put_f16(const uint8_t *plane, int64_t i, uint16_t h) { memcpy(qmc_qt_mut(plane) + 2 * i, &h, 2); }

/* ---- per-thread scratch ------------------------------------------------------ */

typedef struct {
    float *in_v, *out_v, *in_deq, *out_deq, *row_deq;  /* [cols] each */
    int64_t *gstart;                                   /* [groups + 1] */
} row_scratch;

static bool scratch_alloc(row_scratch *s, int64_t cols, int64_t ng) {
    s->in_v = qmc_alloc((size_t)cols, sizeof(float) * 5);
    s->gstart = qmc_alloc((size_t)ng + 1, sizeof(int64_t));
    if (!s->in_v || !s->gstart) return false;
    s->out_v = s->in_v + cols;
    s->in_deq = s->out_v + cols;
    s->out_deq = s->in_deq + cols;
    s->row_deq = s->out_deq + cols;
    return true;
}

static void scratch_free(row_scratch *s) {
    qmc_free(s->in_v);
    qmc_free(s->gstart);
}

/* ---- uniform integer planes (QMC and RTN) --------------------------------------- */

typedef struct {
    const float *w;           /* [rows][cols] source */
    qmc_qtensor *q;
    const qmc_partition *part;
    qmc_int_fit_opts fin, fout;
    uint8_t *cin, *cout;      /* one code per byte: [n_in], [n_out] */
    float *deq;               /* [rows][cols] or NULL */
    double *row_sse, *row_energy;
} int_job;

static void quantize_int_row(const int_job *J, int64_t r, row_scratch *s) {
    const qmc_qtensor *q = J->q;
    const int64_t cols = q->cols, gs = qmc_qt_group_size(q), ng = qmc_qt_groups(q);
    const float *w = J->w + r * cols;
    int64_t ni = 0, no = 0;
    for (int64_t g = 0; g < ng; g++) {
        s->gstart[g] = ni;
        for (int64_t c = g * gs; c < QMC_MIN(cols, (g + 1) * gs); c++) {
            if (qmc_partition_is_outlier(J->part, J->w, r * cols + c)) s->out_v[no++] = w[c];
            else s->in_v[ni++] = w[c];
        }
    }
    s->gstart[ng] = ni;
    uint8_t *cin = J->cin + q->row_in[r];
    for (int64_t g = 0; g < ng; g++) {
        qmc_int_fit fit;
        const int64_t a = s->gstart[g], cnt = s->gstart[g + 1] - a;
        qmc_int_fit_search(s->in_v + a, cnt, &J->fin, &fit);
        put_f16(q->in_scale, r * ng + g, fit.d);
        if (q->in.asym) put_f16(q->in_min, r * ng + g, fit.m);
        qmc_int_encode(s->in_v + a, cnt, q->in.bits, q->in.asym, fit.d, fit.m, cin + a, s->in_deq + a);
    }
    if (q->n_out > 0) {
        qmc_int_fit fit;
        qmc_int_fit_search(s->out_v, no, &J->fout, &fit);
        put_f16(q->out_scale, r, fit.d);
        if (q->out.asym) put_f16(q->out_min, r, fit.m);
        qmc_int_encode(s->out_v, no, q->out.bits, q->out.asym, fit.d, fit.m, J->cout + (r * cols - q->row_in[r]),
                       s->out_deq);
    }
    /* the row's reconstruction, in column order */
    float *row = J->deq ? J->deq + r * cols : s->row_deq;
    double sse = 0, energy = 0;
    for (int64_t c = 0, i = 0, o = 0; c < cols; c++) {
        row[c] = qmc_partition_is_outlier(J->part, J->w, r * cols + c) ? s->out_deq[o++] : s->in_deq[i++];
        double e = (double)w[c] - (double)row[c];
        sse += e * e;
        energy += (double)w[c] * (double)w[c];
    }
    J->row_sse[r] = sse;
    J->row_energy[r] = energy;
}

/* Outlier bitmap: 64-bit words of the stream are independent, so they fill in parallel. */
static void build_mask(const float *w, int64_t n, const qmc_partition *part, uint8_t *mask) {
    const int64_t words = (n + 63) / 64;
#pragma omp parallel for schedule(static) num_threads(qmc_threads())
    for (int64_t wi = 0; wi < words; wi++) {
        uint64_t bits = 0;
        for (int64_t j = 0; j < 64 && wi * 64 + j < n; j++)
            if (qmc_partition_is_outlier(part, w, wi * 64 + j)) bits |= 1ull << j;
        for (int b = 0; b < 8; b++) mask[wi * 8 + b] = (uint8_t)(bits >> (8 * b));
    }
}

/* Run fn(job, r, scratch) for every row in parallel; false if scratch allocation failed. */
typedef void (*row_fn)(const void *job, int64_t r, row_scratch *s);
static bool for_rows(int64_t rows, int64_t cols, int64_t ng, row_fn fn, const void *job) {
    bool ok = true;
#pragma omp parallel num_threads(qmc_threads())
    {
        row_scratch s = {0};
        bool mine = scratch_alloc(&s, cols, ng);
        if (!mine) {
#pragma omp atomic write
            ok = false;
        }
#pragma omp for schedule(dynamic, 4)
        for (int64_t r = 0; r < rows; r++)
            if (mine) fn(job, r, &s);
        scratch_free(&s);
    }
    return ok;
}

static void int_row_fn(const void *job, int64_t r, row_scratch *s) { quantize_int_row(job, r, s); }

static int quantize_int(const float *w, int64_t rows, int64_t cols, const qmc_quant_params *p, float *deq,
                        double *row_sse, double *row_energy, qmc_qtensor **out_q) {
    const int64_t n = rows * cols;
    const bool qmc = p->method == QMC_METHOD_QMC;
    int64_t k = qmc ? qmc_outlier_count(p->rho, n) : 0;
    qmc_partition part;
    int rc = qmc_partition_select(w, n, k, &part);
    if (rc) return rc;
    qmc_plane_fmt fin = {(uint8_t)p->bits_in, QMC_ELEM_INT, p->asym, p->group >= cols ? 0 : p->group};
    qmc_plane_fmt fout = {0};
    if (k > 0) fout = (qmc_plane_fmt){(uint8_t)p->bits_out, QMC_ELEM_INT, p->asym, 0};
    qmc_qtensor *q;
    if ((rc = qmc_qt_alloc(rows, cols, fin, fout, k, &q))) return rc;
    q->method = p->method;
    q->rho = qmc ? p->rho : 0.0f;
    q->tau = k > 0 ? part.tau : 0.0f;
    if (k > 0) build_mask(w, n, &part, qmc_qt_mut(q->mask));
    if ((rc = qmc_qt_finish(q))) goto fail;
    int_job J = {w, q, &part, {0}, {0}, NULL, NULL, deq, row_sse, row_energy};
    int grid;
    float grid_lo;
    qmc_quant_params_resolve(p, &grid, &grid_lo);
    J.fin = (qmc_int_fit_opts){p->bits_in, p->asym, grid, grid_lo, p->p_minus + p->p_plus};
    J.fout = (qmc_int_fit_opts){p->bits_out, p->asym, grid, grid_lo, 0.0};
    J.cin = qmc_alloc((size_t)(n - k) + 1, 1);
    J.cout = qmc_alloc((size_t)k + 1, 1);
    if (!J.cin || !J.cout) rc = QMC_ERR_NOMEM;
    else if (!for_rows(rows, cols, qmc_qt_groups(q), int_row_fn, &J)) rc = QMC_ERR_NOMEM;
    if (!rc) {
        qmc_pack_codes(J.cin, n - k, q->in.bits, qmc_qt_mut(q->in_codes));
        if (k > 0) qmc_pack_codes(J.cout, k, q->out.bits, qmc_qt_mut(q->out_codes));
    }
    qmc_free(J.cin);
    qmc_free(J.cout);
    if (rc) goto fail;
    *out_q = q;
    return QMC_OK;
fail:
    qmc_qt_free(q);
    return rc;
}

/* ---- OCP MX ------------------------------------------------------------------ */

typedef struct {
    const float *w;
    qmc_qtensor *q;
    uint8_t *codes;           /* [rows*cols], one per byte */
    float *deq;
    double *row_sse, *row_energy;
} mx_job;

static void mx_row_fn(const void *job, int64_t r, row_scratch *s) {
    const mx_job *J = job;
    const qmc_qtensor *q = J->q;
    const int64_t cols = q->cols, gs = qmc_qt_group_size(q), ng = qmc_qt_groups(q);
    const float *w = J->w + r * cols;
    float *row = J->deq ? J->deq + r * cols : s->row_deq;
    for (int64_t g = 0; g < ng; g++) {
        int64_t c0 = g * gs, len = QMC_MIN(cols, c0 + gs) - c0;
        qmc_qt_mut(q->in_scale)[r * ng + g] =
            qmc_mx_encode_block(w + c0, (int)len, q->in.elem, q->in.bits, J->codes + r * cols + c0, row + c0);
    }
    double sse = 0, energy = 0;
    for (int64_t c = 0; c < cols; c++) {
        double e = (double)w[c] - (double)row[c];
        sse += e * e;
        energy += (double)w[c] * (double)w[c];
    }
    J->row_sse[r] = sse;
    J->row_energy[r] = energy;
}

static int quantize_mx(const float *w, int64_t rows, int64_t cols, const qmc_quant_params *p, float *deq,
                       double *row_sse, double *row_energy, qmc_qtensor **out_q) {
    const int64_t n = rows * cols;
    int group = p->group > 0 ? p->group : QMC_MX_BLOCK;
    qmc_plane_fmt fin = {(uint8_t)p->bits_in, p->method == QMC_METHOD_MXFP4 ? QMC_ELEM_MXFP4 : QMC_ELEM_MXINT, 0,
                         group >= cols ? 0 : group};
    qmc_plane_fmt fout = {0};
    qmc_qtensor *q;
    int rc = qmc_qt_alloc(rows, cols, fin, fout, 0, &q);
    if (rc) return rc;
    q->method = p->method;
    if ((rc = qmc_qt_finish(q))) goto fail;
    mx_job J = {w, q, qmc_alloc((size_t)n, 1), deq, row_sse, row_energy};
    if (!J.codes) rc = QMC_ERR_NOMEM;
    else if (!for_rows(rows, cols, qmc_qt_groups(q), mx_row_fn, &J)) rc = QMC_ERR_NOMEM;
    if (!rc) qmc_pack_codes(J.codes, n, q->in.bits, qmc_qt_mut(q->in_codes));
    qmc_free(J.codes);
    if (rc) goto fail;
    *out_q = q;
    return QMC_OK;
fail:
    qmc_qt_free(q);
    return rc;
}

/* ---- entry points ---------------------------------------------------------------- */

/* Non-finite values, or (uniform integer planes) magnitudes whose scales would overflow F16. */
static int check_values(const qmc_tensor *src, const float *w, int64_t n, bool int_planes) {
    int64_t bad = -1;
    float big = 0.0f;
#pragma omp parallel for schedule(static) reduction(max : big) num_threads(qmc_threads())
    for (int64_t i = 0; i < n; i++) {
        float a = fabsf(w[i]);
        if (!(a <= 3.0e38f)) a = INFINITY; /* NaN and inf */
        big = a > big ? a : big;
    }
    if (isinf(big)) {
        for (int64_t i = 0; i < n && bad < 0; i++)
            if (!isfinite(w[i])) bad = i;
        return qmc_fail(QMC_ERR_UNSUPPORTED, "tensor '%s' has a non-finite value at row %lld, column %lld", src->name,
                        (long long)(bad / src->ne[0]), (long long)(bad % src->ne[0]));
    }
    if (int_planes && big > 65504.0f)
        return qmc_fail(QMC_ERR_UNSUPPORTED, "tensor '%s' has |w| = %g, beyond the range of F16 scales", src->name,
                        (double)big);
    return QMC_OK;
}

int qmc_quantize_tensor_ex(const qmc_tensor *src, const qmc_quant_params *p, qmc_tensor *dst, float *deq,
                           qmc_quant_error *err) {
    int rc = qmc_quant_params_check(p);
    if (rc) return rc;
    if (p->method == QMC_METHOD_GPTQ || p->method == QMC_METHOD_AWQ || p->method == QMC_METHOD_QMC_GPTQ)
        return qmc_fail(QMC_ERR_ARG, "method '%s' needs calibration statistics (quant/calib.h)", qmc_method_name(p->method));
    if (!qmc_type_is_plain_float(src->type) || !src->data)
        return qmc_fail(QMC_ERR_UNSUPPORTED, "tensor '%s' has type %s; only F32/F16/BF16 tensors can be quantized",
                        src->name, qmc_type_name(src->type));
    const int64_t rows = qmc_tensor_rows(src), cols = src->ne[0];
    int64_t n;
    if (src->n_dims != 2 || rows <= 0 || cols <= 0 || !qmc_mul_ok(rows, cols, &n) || n > QMC_PARTITION_MAX_N)
        return qmc_fail(QMC_ERR_UNSUPPORTED, "tensor '%s' is not a 2-D weight matrix that can be quantized", src->name);
    qmc_tensor f32 = {0};
    const float *w = src->data;
    if (src->type != QMC_TYPE_F32) {
        if ((rc = qmc_tensor_to_f32(src, &f32))) return rc;
        w = f32.data;
    }
    const bool mx = p->method == QMC_METHOD_MXINT || p->method == QMC_METHOD_MXFP4;
    double *row_sse = qmc_alloc((size_t)rows * 2, sizeof(double));
    qmc_qtensor *q = NULL;
    if (!row_sse) rc = QMC_ERR_NOMEM;
    if (!rc) rc = check_values(src, w, n, !mx);
    if (!rc) rc = mx ? quantize_mx(w, rows, cols, p, deq, row_sse, row_sse + rows, &q)
                     : quantize_int(w, rows, cols, p, deq, row_sse, row_sse + rows, &q);
    if (!rc && err) {
        memset(err, 0, sizeof *err);
        for (int64_t r = 0; r < rows; r++) {
            err->sse += row_sse[r];
            err->energy += row_sse[rows + r];
        }
        err->n = n;
    }
    qmc_free(row_sse);
    qmc_tensor_release(&f32);
    if (rc) return rc == QMC_ERR_NOMEM ? qmc_error_prefix(rc, "quantizing '%s'", src->name) : rc;
    qmc_tensor_init(dst, src->name, QMC_TYPE_PACKED, 2, cols, rows);
    dst->q = q;
    return QMC_OK;
}

int qmc_quantize_tensor(const qmc_tensor *src, const qmc_quant_params *p, qmc_tensor *dst) {
    return qmc_quantize_tensor_ex(src, p, dst, NULL, NULL);
}
