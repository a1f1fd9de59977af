/* kernels_avx2.c — AVX2/FMA kernels (entered only after qmc_cpu_has_avx2()). */
#include <immintrin.h>

#include "engine/kernels.h"

static inline float hsum256(__m256 v) {
    __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
    lo = _mm_add_ps(lo, hi);
    lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
    lo = _mm_add_ss(lo, _mm_movehdup_ps(lo));
    return _mm_cvtss_f32(lo);
}

float qmc_dot_avx2(const float *a, const float *b, int64_t n) {
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps(), s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
        s2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16), s2);
        s3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24), s3);
    }
    for (; i + 8 <= n; i += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    float s = hsum256(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
    for (; i < n; i++) s += a[i] * b[i];
    return s;
}

void qmc_qt_decode_row_avx2(const qmc_qtensor *q, int64_t r, float *out) { qmc_qt_decode_row_ref(q, r, out); }

/* As in the AVX-512 tiles, every (row, token) sum is accumulated the same way
 * whatever the tile shape: one 8-lane accumulator, a horizontal sum, then the
 * K % 8 tail in order. */
static float dot8(const float *w, const float *x, int64_t K) {
    __m256 c = _mm256_setzero_ps();
    const int64_t K8 = K & ~(int64_t)7;
    for (int64_t k = 0; k < K8; k += 8) c = _mm256_fmadd_ps(_mm256_loadu_ps(w + k), _mm256_loadu_ps(x + k), c);
    float s = hsum256(c);
    for (int64_t k = K8; k < K; k++) s += w[k] * x[k];
    return s;
}

void qmc_gemm_tile_avx2(const float *W, int64_t ldw, int nr, const float *X, int64_t ldx, int nt, float *Y,
                        int64_t ldy, int64_t K) {
    if (nr != 4) {
        for (int t = 0; t < nt; t++)
            for (int r = 0; r < nr; r++) Y[t * ldy + r] = dot8(W + r * ldw, X + t * ldx, K);
        return;
    }
    __m256 acc[4][4];
    for (int t = 0; t < 4; t++)
        for (int r = 0; r < 4; r++) acc[t][r] = _mm256_setzero_ps();
    const int64_t K8 = K & ~(int64_t)7;
    for (int64_t k = 0; k < K8; k += 8) {
        __m256 w0 = _mm256_loadu_ps(W + k), w1 = _mm256_loadu_ps(W + ldw + k), w2 = _mm256_loadu_ps(W + 2 * ldw + k),
               w3 = _mm256_loadu_ps(W + 3 * ldw + k);
        for (int t = 0; t < nt; t++) {
            __m256 x = _mm256_loadu_ps(X + t * ldx + k);
            acc[t][0] = _mm256_fmadd_ps(w0, x, acc[t][0]);
            acc[t][1] = _mm256_fmadd_ps(w1, x, acc[t][1]);
            acc[t][2] = _mm256_fmadd_ps(w2, x, acc[t][2]);
            acc[t][3] = _mm256_fmadd_ps(w3, x, acc[t][3]);
        }
    }
    for (int t = 0; t < nt; t++)
        for (int r = 0; r < 4; r++) {
            float s = hsum256(acc[t][r]);
            for (int64_t k = K8; k < K; k++) s += W[r * ldw + k] * X[t * ldx + k];
            Y[t * ldy + r] = s;
        }
}
