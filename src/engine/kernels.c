/* kernels.c — reference kernels, run-time dispatch and the threaded matmul. */
#include <omp.h>
#include <string.h>

#include "engine/kernels.h"
#include "engine/qdecode.h"
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

void qmc_gemm_tile_ref(const float *W, int64_t ldw, int nr, const float *X, int64_t ldx, int nt, float *Y,
                       int64_t ldy, int64_t K) {
    for (int t = 0; t < nt; t++)
        for (int r = 0; r < nr; r++) Y[t * ldy + r] = qmc_dot_ref(W + r * ldw, X + t * ldx, K);
}

void qmc_gemm_tile(const float *W, int64_t ldw, int nr, const float *X, int64_t ldx, int nt, float *Y, int64_t ldy,
                   int64_t K) {
    if (qmc_cpu_has_avx512()) qmc_gemm_tile_avx512(W, ldw, nr, X, ldx, nt, Y, ldy, K);
    else if (qmc_cpu_has_avx2()) qmc_gemm_tile_avx2(W, ldw, nr, X, ldx, nt, Y, ldy, K);
    else qmc_gemm_tile_ref(W, ldw, nr, X, ldx, nt, Y, ldy, K);
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
    if (n_tok == 1 && W->type == QMC_TYPE_PACKED && qmc_qt_dot_fused(W->q)) {
        /* single-token decode of packed rows: fused decode + dot (engine/qdecode.h); x's view is
         * built once, rows go out in chunks of 64 (each row's result is independent of the thread) */
        if (!scratch || scratch->per_thread < qmc_qt_dot_xi_len(cols)) {
            int rc = qmc_scratch_init(&local, cols, 1);
            if (rc) return rc;
            scratch = &local;
        }
        qmc_qt_dot_in in = {X, scratch->buf, 0.0f};
        qmc_qt_dot_prepare(W->q, &in);
        const int64_t nchunk = (rows + 63) / 64;
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt)
        for (int64_t ch = 0; ch < nchunk; ch++)
            qmc_qt_dot_rows(W->q, ch * 64, QMC_MIN(rows, ch * 64 + 64), &in, Y + ch * 64);
        qmc_scratch_free(&local);
        return QMC_OK;
    }
    /* single-token F16: rows widened in registers (qmc_gemv_f16_avx512), no scratch copy */
    const bool f16_gemv = n_tok == 1 && W->type == QMC_TYPE_F16 && qmc_cpu_has_avx512();
    const bool direct = W->type == QMC_TYPE_F32 || f16_gemv;
    if (!direct && (!scratch || scratch->n_threads < nt || scratch->per_thread < QMC_MATMUL_ROWS * cols)) {
        int rc = qmc_scratch_init(&local, cols, nt);
        if (rc) return rc;
        scratch = &local;
    }
    const int64_t nblk = (rows + QMC_MATMUL_ROWS - 1) / QMC_MATMUL_ROWS;
    /* small products run on one thread: a parallel region costs more than they do */
    const bool parallel = nt > 1 && rows * cols * (int64_t)n_tok >= QMC_PARALLEL_MIN_WORK;
#pragma omp parallel for schedule(static) num_threads(nt) if (parallel)
    for (int64_t blk = 0; blk < nblk; blk++) {
        const int64_t r0 = blk * QMC_MATMUL_ROWS, nr = QMC_MIN(rows - r0, (int64_t)QMC_MATMUL_ROWS);
        if (f16_gemv) {
            qmc_gemv_f16_avx512((const uint16_t *)W->data + r0 * cols, cols, (int)nr, X, Y + r0, cols);
            continue;
        }
        const float *w;
        if (direct) w = (const float *)W->data + r0 * cols;
        else {
            float *buf = scratch->buf + (int64_t)omp_get_thread_num() * scratch->per_thread;
            for (int64_t r = 0; r < nr; r++) qmc_tensor_get_row(W, r0 + r, buf + r * cols);
            w = buf;
        }
        /* 4 x 4 register tiles: rows of this block x tokens */
        for (int t0 = 0; t0 < n_tok; t0 += 4)
            for (int64_t r = 0; r < nr; r += 4)
                qmc_gemm_tile(w + r * cols, cols, (int)QMC_MIN(4, nr - r), X + (int64_t)t0 * cols, cols,
                              QMC_MIN(4, n_tok - t0), Y + (int64_t)t0 * ld_y + r0 + r, ld_y, cols);
    }
    qmc_scratch_free(&local);
    return QMC_OK;
}
