/* kernels.c — reference kernels, run-time dispatch and the threaded matmul. */
#include <omp.h>
#include <string.h>

#include "engine/kernels.h"
#include "util/cpu.h"
#include "util/util.h"

float qmc_dot_ref(const float *a, const float *b, int64_t n) {
    float s = 0.0f;
    for (int64_t i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

float qmc_dot(const float *a, const float *b, int64_t n) {
    if (qmc_cpu_has_avx512()) return qmc_dot_avx512(a, b, n);
    if (qmc_cpu_has_avx2()) return qmc_dot_avx2(a, b, n);
    return qmc_dot_ref(a, b, n);
}

void qmc_qt_decode_row(const qmc_qtensor *q, int64_t r, float *out) {
    if (qmc_cpu_has_avx512()) qmc_qt_decode_row_avx512(q, r, out);
    else if (qmc_cpu_has_avx2()) qmc_qt_decode_row_avx2(q, r, out);
    else qmc_qt_decode_row_ref(q, r, out);
}

int qmc_scratch_init(qmc_scratch *s, int64_t max_cols, int n_threads) {
    s->n_threads = n_threads > 0 ? n_threads : 1;
    s->per_thread = (max_cols + 16) * QMC_MATMUL_ROWS;
    s->buf = qmc_alloc((size_t)s->n_threads, (size_t)s->per_thread * sizeof(float));
    return s->buf ? QMC_OK : QMC_ERR_NOMEM;
}

void qmc_scratch_free(qmc_scratch *s) {
    qmc_free(s->buf);
    s->buf = NULL;
}

int qmc_matmul(const qmc_tensor *W, const float *X, int n_tok, float *Y, int64_t ld_y, qmc_scratch *scratch) {
    const int64_t rows = qmc_tensor_rows(W), cols = W->ne[0];
    qmc_scratch local = {0};
    int nt = qmc_threads();
    const bool direct = W->type == QMC_TYPE_F32;
    if (!direct && (!scratch || scratch->n_threads < nt || scratch->per_thread < QMC_MATMUL_ROWS * cols)) {
        int rc = qmc_scratch_init(&local, cols, nt);
        if (rc) return rc;
        scratch = &local;
    }
    const int64_t nblk = (rows + QMC_MATMUL_ROWS - 1) / QMC_MATMUL_ROWS;
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int64_t blk = 0; blk < nblk; blk++) {
        int64_t r0 = blk * QMC_MATMUL_ROWS, r1 = QMC_MIN(rows, r0 + QMC_MATMUL_ROWS);
        const float *w;
        int64_t ldw = cols;
        if (direct) w = (const float *)W->data + r0 * cols;
        else {
            float *buf = scratch->buf + (int64_t)omp_get_thread_num() * scratch->per_thread;
            for (int64_t r = r0; r < r1; r++) qmc_tensor_get_row(W, r, buf + (r - r0) * cols);
            w = buf;
        }
        for (int t = 0; t < n_tok; t++) {
            const float *x = X + (int64_t)t * cols;
            float *y = Y + (int64_t)t * ld_y;
            for (int64_t r = r0; r < r1; r++) y[r] = qmc_dot(w + (r - r0) * ldw, x, cols);
        }
    }
    qmc_scratch_free(&local);
    return QMC_OK;
}
