/* kernels.h — the engine's numeric kernels.
 *
 * Each kernel has a scalar reference (*_ref) and SIMD versions selected at
 * run time; tests/test_kernels.c checks them against each other.  Decoding
 * kernels are bit-exact with their reference; dot products differ from the
 * reference only by summation order (relative error ~1e-6 of the sum of
 * |products|). */
#ifndef QMC_KERNELS_H
#define QMC_KERNELS_H

#include <stdint.h>

#include "model/tensor.h"
#include "quant/qtensor.h"

float qmc_dot_ref(const float *a, const float *b, int64_t n);
float qmc_dot(const float *a, const float *b, int64_t n);

/* Y[t][r] = sum_c W[r][c] * X[t][c] for t < n_tok, r < rows(W); X is
 * [n_tok][cols], Y is [n_tok][ld_y] (ld_y >= rows).  Parallel over rows
 * (OpenMP); every output is computed by one thread in a fixed order, so the
 * result does not depend on the thread count. */
typedef struct {
    float *buf;            /* [n_threads][per_thread] */
    int64_t per_thread;    /* floats: QMC_MATMUL_ROWS * max cols */
    int n_threads;
} qmc_scratch;
#define QMC_MATMUL_ROWS 16 /* rows decoded at a time by each thread */
/* Multiply-adds below which a loop is not worth a parallel region. */
#define QMC_PARALLEL_MIN_WORK (1 << 18)
int  qmc_scratch_init(qmc_scratch *s, int64_t max_cols, int n_threads);
void qmc_scratch_free(qmc_scratch *s);
/* scratch may be NULL (allocated for the call). */
int qmc_matmul(const qmc_tensor *W, const float *X, int n_tok, float *Y, int64_t ld_y, qmc_scratch *scratch);

/* Y[t*ldy + r] = dot(W[r*ldw ..], X[t*ldx ..], K) for r < nr, t < nt, with
 * nr, nt <= 4: the register tile of the matmul.  The reference accumulates
 * in order; SIMD versions in 16/8 lanes. */
void qmc_gemm_tile_ref(const float *W, int64_t ldw, int nr, const float *X, int64_t ldx, int nt, float *Y,
                       int64_t ldy, int64_t K);
void qmc_gemm_tile(const float *W, int64_t ldw, int nr, const float *X, int64_t ldx, int nt, float *Y,
                   int64_t ldy, int64_t K);
void qmc_gemm_tile_avx2(const float *W, int64_t ldw, int nr, const float *X, int64_t ldx, int nt, float *Y,
                        int64_t ldy, int64_t K);
void qmc_gemm_tile_avx512(const float *W, int64_t ldw, int nr, const float *X, int64_t ldx, int nt, float *Y,
                          int64_t ldy, int64_t K);
/* Single-token product of 4-row groups of F16 rows (then single rows), bit-identical to converting
 * the rows to F32 and running qmc_gemm_tile_avx512 on them: y[r] = W[r] . x for r < nr. */
void qmc_gemv_f16_avx512(const uint16_t *W, int64_t ldw, int nr, const float *X, float *Y, int64_t K);

/* SIMD entry points (compiled with -mavx2 / -mavx512*, see Makefile). */
float qmc_dot_avx2(const float *a, const float *b, int64_t n);
float qmc_dot_avx512(const float *a, const float *b, int64_t n);
void qmc_qt_decode_row_avx2(const qmc_qtensor *q, int64_t r, float *out);
void qmc_qt_decode_row_avx512(const qmc_qtensor *q, int64_t r, float *out);

#endif
