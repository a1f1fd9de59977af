/* qdecode.c — see qdecode.h. */
#include <math.h>
#include <string.h>

#include "engine/qdecode.h"
#include "util/cpu.h"

const uint64_t qmc_qd_lane_bits[9] = {0,
                                      0x0101010101010101ull, 0x0303030303030303ull, 0x0707070707070707ull,
                                      0x0f0f0f0f0f0f0f0full, 0x1f1f1f1f1f1f1f1full, 0x3f3f3f3f3f3f3f3full,
                                      0x7f7f7f7f7f7f7f7full, 0xffffffffffffffffull};

static inline float f16_at(const uint8_t *p, int64_t i) {
    uint16_t h;
    memcpy(&h, p + 2 * i, 2);
    return qmc_f16_to_f32(h);
}

static void int_par(const qmc_plane_fmt *f, const uint8_t *scale, const uint8_t *min, int64_t idx, qmc_qd_par *p) {
    if (f->elem == QMC_ELEM_MXINT) {
        p->d = qmc_e8m0_to_f32(scale[idx]) * (1.0f / (float)(1 << (f->bits - 2))); /* exact: powers of two */
        p->m = -0.0f;
        p->z = 1 << (f->bits - 1);
    } else if (f->asym) {
        p->d = f16_at(scale, idx);
        p->m = f16_at(min, idx);
        p->z = 0;
    } else {
        p->d = f16_at(scale, idx);
        p->m = -0.0f;
        p->z = 1 << (f->bits - 1);
    }
}

bool qmc_qd_row_init(const qmc_qtensor *q, int64_t r, int width, qmc_qd_row *R) {
    R->gs = qmc_qt_group_size(q);
    if (qmc_qt_groups(q) > 1 && R->gs % width != 0) return false;
    R->ii = q->row_in[r];
    R->oi = r * q->cols - R->ii;
    R->mpos = r * q->cols;
    R->fp4 = q->in.elem == QMC_ELEM_MXFP4;
    if (R->fp4) return q->n_out == 0;
    R->unsigned_codes = q->in.elem == QMC_ELEM_INT && q->in.asym;
    if (q->n_out > 0) {
        if (q->out.asym != R->unsigned_codes) return false;
        int_par(&q->out, q->out_scale, q->out_min, r, &R->out);
    }
    return true;
}

void qmc_qd_in_par(const qmc_qtensor *q, int64_t r, int64_t g, qmc_qd_par *p) {
    int_par(&q->in, q->in_scale, q->in_min, r * qmc_qt_groups(q) + g, p);
}

void qmc_qd_fp4_table(const qmc_qtensor *q, int64_t r, int64_t g, qmc_qd_row *R) {
    const float x = qmc_e8m0_to_f32(q->in_scale[r * qmc_qt_groups(q) + g]);
    for (int i = 0; i < 16; i++) R->tab[i] = x * qmc_fp4_e2m1_values[i];
}

bool qmc_qt_dot_fused(const qmc_qtensor *q) {
    if (!qmc_cpu_has_avx512() || q->in.elem != QMC_ELEM_INT || qmc_qt_groups(q) != 1) return false;
    return q->n_out == 0 || q->out.asym == q->in.asym;
}

void qmc_qt_dot_rows_ref(const qmc_qtensor *q, int64_t r0, int64_t r1, const float *x, float *y) {
    float *row = qmc_alloc((size_t)q->cols, sizeof(float));
    if (!row) {
        for (int64_t r = r0; r < r1; r++) y[r - r0] = NAN;  /* visible, never silent */
        return;
    }
    for (int64_t r = r0; r < r1; r++) {
        qmc_qt_decode_row_ref(q, r, row);
        double s = 0;
        for (int64_t c = 0; c < q->cols; c++) s += (double)row[c] * (double)x[c];
        y[r - r0] = (float)s;
    }
    qmc_free(row);
}

void qmc_qt_dot_prepare(const qmc_qtensor *q, qmc_qt_dot_in *in) {
    if (qmc_qt_dot_fused(q)) qmc_qt_dot_prepare_avx512(q, in);
}

void qmc_qt_dot_rows(const qmc_qtensor *q, int64_t r0, int64_t r1, const qmc_qt_dot_in *in, float *y) {
    if (qmc_qt_dot_fused(q)) qmc_qt_dot_rows_avx512(q, r0, r1, in, y);
    else qmc_qt_dot_rows_ref(q, r0, r1, in->x, y);
}
