/* qtensor.c — packed planes: allocation, sizes, and the reference decoder. */
#include <math.h>
#include <string.h>

#include "quant/qtensor.h"
#include "util/cpu.h"
#include "util/util.h"

static const char *k_method_names[QMC_METHOD_COUNT] = {"qmc", "rtn", "mxint", "mxfp4", "gptq", "awq", "qmc-gptq"};

const char *qmc_method_name(qmc_method m) {
    return (unsigned)m < QMC_METHOD_COUNT ? k_method_names[m] : "unknown";
}

int qmc_method_from_name(const char *s) {
    for (int i = 0; i < QMC_METHOD_COUNT; i++)
        if (strcmp(s, k_method_names[i]) == 0) return i;
    return -1;
}

const float qmc_fp4_e2m1_values[16] = {0.0f,  0.5f,  1.0f,  1.5f,  2.0f,  3.0f,  4.0f,  6.0f,
                                       -0.0f, -0.5f, -1.0f, -1.5f, -2.0f, -3.0f, -4.0f, -6.0f};

float qmc_e8m0_to_f32(uint8_t e) {
    if (e == 255) return NAN;
    if (e == 0) return 0x1p-127f;
    uint32_t u = (uint32_t)e << 23;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

void qmc_qt_plane_sizes(const qmc_qtensor *q, qmc_plane_sizes *s) {
    memset(s, 0, sizeof *s);
    int64_t n = q->rows * q->cols, ng = q->rows * qmc_qt_groups(q);
    s->in_codes = (int64_t)q->in_codes_bytes;
    s->in_scale = ng * qmc_qt_scale_bytes(&q->in);
    s->in_min = q->in.asym ? ng * 2 : 0;
    if (q->n_out > 0) {
        s->mask = (int64_t)q->mask_bytes;
        s->out_codes = (int64_t)q->out_codes_bytes;
        s->out_scale = q->rows * 2;
        s->out_min = q->out.asym ? q->rows * 2 : 0;
    }
    (void)n;
    s->total = s->in_codes + s->in_scale + s->in_min + s->mask + s->out_codes + s->out_scale + s->out_min;
}

double qmc_qt_honest_bpw(const qmc_qtensor *q) {
    qmc_plane_sizes s;
    qmc_qt_plane_sizes(q, &s);
    return 8.0 * (double)s.total / (double)(q->rows * q->cols);
}

double qmc_qt_nominal_bpw(const qmc_qtensor *q) {
    double n = (double)(q->rows * q->cols);
    double fo = n > 0 ? (double)q->n_out / n : 0;
    return (1.0 - fo) * q->in.bits + (q->n_out ? fo * q->out.bits : 0.0);
}

void qmc_qt_free(qmc_qtensor *q) {
    if (!q) return;
    for (size_t i = 0; i < QMC_ARRAY_LEN(q->owned); i++) qmc_free(q->owned[i]);
    qmc_free(q->row_in);
    qmc_free(q);
}

static bool fmt_ok(const qmc_plane_fmt *f, bool allow_zero) {
    if (allow_zero && f->bits == 0) return true;
    if (f->bits < 2 || f->bits > 8) return false;
    if (f->elem > QMC_ELEM_MXFP4) return false;
    if (f->elem == QMC_ELEM_MXFP4 && f->bits != 4) return false;
    if (f->elem != QMC_ELEM_INT && f->asym) return false;
    return f->group >= 0;
}

int qmc_qt_alloc(int64_t rows, int64_t cols, qmc_plane_fmt in, qmc_plane_fmt out, int64_t n_out,
                 qmc_qtensor **out_q) {
    *out_q = NULL;
    int64_t n;
    if (rows <= 0 || cols <= 0 || !qmc_mul_ok(rows, cols, &n) || n > ((int64_t)1 << 40))
        return qmc_fail(QMC_ERR_ARG, "bad packed tensor shape %lld x %lld", (long long)rows, (long long)cols);
    if (!fmt_ok(&in, false) || !fmt_ok(&out, true) || (n_out > 0 && (out.bits == 0 || out.elem != QMC_ELEM_INT)))
        return qmc_fail(QMC_ERR_ARG, "bad plane format (bits %d/%d)", in.bits, out.bits);
    if (n_out < 0 || n_out > n) return qmc_fail(QMC_ERR_ARG, "bad outlier count %lld", (long long)n_out);
    if (in.group > cols) in.group = 0;
    qmc_qtensor *q = qmc_alloc(1, sizeof *q);
    if (!q) return QMC_ERR_NOMEM;
    q->rows = rows;
    q->cols = cols;
    q->in = in;
    q->out = out;
    q->n_out = n_out;
    int64_t ng = rows * qmc_qt_groups(q);
    int k = 0;
    q->in_codes_bytes = qmc_bits_bytes(n - n_out, in.bits);
    uint8_t *p;
#define ALLOC_PLANE(field, bytes)                       \
    do {                                                \
        p = qmc_alloc((size_t)(bytes), 1);              \
        if (!p) goto nomem;                             \
        q->owned[k++] = p;                              \
        q->field = p;                                   \
    } while (0)
    ALLOC_PLANE(in_codes, q->in_codes_bytes);
    ALLOC_PLANE(in_scale, ng * qmc_qt_scale_bytes(&in));
    if (in.asym) ALLOC_PLANE(in_min, ng * 2);
    if (n_out > 0) {
        q->mask_bytes = qmc_bits_bytes(n, 1);
        q->out_codes_bytes = qmc_bits_bytes(n_out, out.bits);
        ALLOC_PLANE(mask, q->mask_bytes);
        ALLOC_PLANE(out_codes, q->out_codes_bytes);
        ALLOC_PLANE(out_scale, rows * 2);
        if (out.asym) ALLOC_PLANE(out_min, rows * 2);
    }
#undef ALLOC_PLANE
    q->row_in = qmc_alloc((size_t)rows + 1, sizeof(int64_t));
    if (!q->row_in) goto nomem;
    *out_q = q;
    return QMC_OK;
nomem:
    qmc_qt_free(q);
    return QMC_ERR_NOMEM;
}

/* Set bits of the stream in [a, b). */
static int64_t popcount_range(const uint8_t *bits, int64_t a, int64_t b) {
    int64_t n = 0;
    while (a < b && (a & 63)) {
        n += (bits[a >> 3] >> (a & 7)) & 1;
        a++;
    }
    for (; a + 64 <= b; a += 64) {
        uint64_t w;
        memcpy(&w, bits + (a >> 3), 8);
        n += __builtin_popcountll(w);
    }
    for (; a < b; a++) n += (bits[a >> 3] >> (a & 7)) & 1;
    return n;
}

int qmc_qt_finish(qmc_qtensor *q) {
    int64_t inl = 0;
    for (int64_t r = 0; r < q->rows; r++) {
        q->row_in[r] = inl;
        int64_t o = q->n_out > 0 ? popcount_range(q->mask, r * q->cols, (r + 1) * q->cols) : 0;
        inl += q->cols - o;
    }
    q->row_in[q->rows] = inl;
    if (q->rows * q->cols - inl != q->n_out)
        return qmc_fail(QMC_ERR_FORMAT, "outlier mask has %lld set bits but %lld outliers are stored",
                        (long long)(q->rows * q->cols - inl), (long long)q->n_out);
    /* the code planes must hold every code plus the read padding */
    if (q->in_codes_bytes < qmc_bits_bytes(inl, q->in.bits) ||
        (q->n_out > 0 && (q->out_codes_bytes < qmc_bits_bytes(q->n_out, q->out.bits) ||
                          q->mask_bytes < qmc_bits_bytes(q->rows * q->cols, 1))))
        return qmc_fail(QMC_ERR_FORMAT, "packed planes are smaller than their codes");
    return QMC_OK;
}

int qmc_qt_clone(const qmc_qtensor *src, qmc_qtensor **dst) {
    int rc = qmc_qt_alloc(src->rows, src->cols, src->in, src->out, src->n_out, dst);
    if (rc) return rc;
    qmc_qtensor *q = *dst;
    q->method = src->method;
    q->rho = src->rho;
    q->tau = src->tau;
    qmc_plane_sizes s;
    qmc_qt_plane_sizes(src, &s);
    memcpy(qmc_qt_mut(q->in_codes), src->in_codes, src->in_codes_bytes);
    memcpy(qmc_qt_mut(q->in_scale), src->in_scale, (size_t)s.in_scale);
    if (s.in_min) memcpy(qmc_qt_mut(q->in_min), src->in_min, (size_t)s.in_min);
    if (src->n_out > 0) {
        memcpy(qmc_qt_mut(q->mask), src->mask, src->mask_bytes);
        memcpy(qmc_qt_mut(q->out_codes), src->out_codes, src->out_codes_bytes);
        memcpy(qmc_qt_mut(q->out_scale), src->out_scale, (size_t)s.out_scale);
        if (s.out_min) memcpy(qmc_qt_mut(q->out_min), src->out_min, (size_t)s.out_min);
    }
    memcpy(q->row_in, src->row_in, (size_t)(src->rows + 1) * sizeof(int64_t));
    return QMC_OK;
}

static inline float f16_at(const uint8_t *p, int64_t i) {
    uint16_t h;
    memcpy(&h, p + 2 * i, 2);
    return qmc_f16_to_f32(h);
}

float qmc_qt_dequant_code(const qmc_plane_fmt *f, uint32_t code, const uint8_t *scale, const uint8_t *min,
                          int64_t idx) {
    switch (f->elem) {
    case QMC_ELEM_INT: {
        float d = f16_at(scale, idx);
        if (f->asym) return fmaf(d, (float)code, f16_at(min, idx));
        return d * (float)((int32_t)code - (1 << (f->bits - 1)));
    }
    case QMC_ELEM_MXINT: {
        float x = qmc_e8m0_to_f32(scale[idx]);
        return x * ((float)((int32_t)code - (1 << (f->bits - 1))) / (float)(1 << (f->bits - 2)));
    }
    case QMC_ELEM_MXFP4: return qmc_e8m0_to_f32(scale[idx]) * qmc_fp4_e2m1_values[code & 15];
    }
    return 0.0f;
}

void qmc_qt_decode_span_ref(const qmc_qtensor *q, int64_t r, int64_t c0, int64_t c1, int64_t ii, int64_t oi, float *out) {
    const int64_t cols = q->cols, gs = qmc_qt_group_size(q), ng = qmc_qt_groups(q);
    const int bi = q->in.bits, bo = q->out.bits;
    for (int64_t c = c0; c < c1; c++) {
        int64_t pos = r * cols + c;
        if (q->n_out > 0 && ((q->mask[pos >> 3] >> (pos & 7)) & 1)) {
            uint32_t code = qmc_bits_get(q->out_codes, oi * bo, bo);
            out[c] = qmc_qt_dequant_code(&q->out, code, q->out_scale, q->out_min, r);
            oi++;
        } else {
            uint32_t code = qmc_bits_get(q->in_codes, ii * bi, bi);
            out[c] = qmc_qt_dequant_code(&q->in, code, q->in_scale, q->in_min, r * ng + c / gs);
            ii++;
        }
    }
}

void qmc_qt_decode_row_ref(const qmc_qtensor *q, int64_t r, float *out) {
    qmc_qt_decode_span_ref(q, r, 0, q->cols, q->row_in[r], r * q->cols - q->row_in[r], out);
}
