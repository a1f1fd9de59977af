/* fit_avx2.c — the grid search's squared-error sums with AVX2 (entered only
 * after qmc_cpu_has_avx2()).  Lane j accumulates elements j mod 8 with the
 * same operations in the same order as the scalar loops of fit_int.c (no
 * fused multiply-adds; a masked last step adds exact zeros), so both give
 * bit-identical sums and the search picks the same scale on any CPU. */
#include <immintrin.h>

#include "quant/fit.h"

static inline __m256 load_tail(const float *v, int64_t left) {
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)left), idx);
    return _mm256_maskload_ps(v, m);
}

static inline double lanes_sum(__m256 acc) {
    float a[8];
    _mm256_storeu_ps(a, acc);
    double s = 0;
    for (int j = 0; j < 8; j++) s += a[j];
    return s;
}

double qmc_sse_sym_avx2(const float *v, int64_t n, int bits, float d) {
    const __m256 inv = _mm256_set1_ps(1.0f / d), dd = _mm256_set1_ps(d), magic = _mm256_set1_ps(12582912.0f);
    const __m256 lo = _mm256_set1_ps(-(float)(1 << (bits - 1))), hi = _mm256_set1_ps((float)((1 << (bits - 1)) - 1));
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n; i += 8) {
        __m256 x = n - i >= 8 ? _mm256_loadu_ps(v + i) : load_tail(v + i, n - i);
        __m256 t = _mm256_min_ps(_mm256_max_ps(_mm256_mul_ps(x, inv), lo), hi);
        __m256 q = _mm256_sub_ps(_mm256_add_ps(t, magic), magic);
        __m256 e = _mm256_sub_ps(x, _mm256_mul_ps(dd, q));
        /* a masked-out lane has x = 0, q = 0, e = 0 (or -0 * d: e*e = +0) */
        acc = _mm256_add_ps(acc, _mm256_mul_ps(e, e));
    }
    return lanes_sum(acc);
}

double qmc_sse_asym_avx2(const float *v, int64_t n, int bits, float d, float m) {
    const __m256 inv = _mm256_set1_ps(1.0f / d), dd = _mm256_set1_ps(d), mm = _mm256_set1_ps(m),
                 magic = _mm256_set1_ps(12582912.0f), zero = _mm256_setzero_ps(),
                 hi = _mm256_set1_ps((float)((1 << bits) - 1));
    __m256 acc = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 x = _mm256_loadu_ps(v + i);
        __m256 t = _mm256_min_ps(_mm256_max_ps(_mm256_mul_ps(_mm256_sub_ps(x, mm), inv), zero), hi);
        __m256 q = _mm256_sub_ps(_mm256_add_ps(t, magic), magic);
        __m256 e = _mm256_sub_ps(x, _mm256_add_ps(_mm256_mul_ps(dd, q), mm));
        acc = _mm256_add_ps(acc, _mm256_mul_ps(e, e));
    }
    if (i < n) { /* the tail's lanes beyond n must add exact zeros: mask the squares */
        const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        __m256 live = _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n - i)), idx));
        __m256 x = load_tail(v + i, n - i);
        __m256 t = _mm256_min_ps(_mm256_max_ps(_mm256_mul_ps(_mm256_sub_ps(x, mm), inv), zero), hi);
        __m256 q = _mm256_sub_ps(_mm256_add_ps(t, magic), magic);
        __m256 e = _mm256_sub_ps(x, _mm256_add_ps(_mm256_mul_ps(dd, q), mm));
        acc = _mm256_add_ps(acc, _mm256_and_ps(_mm256_mul_ps(e, e), live));
    }
    return lanes_sum(acc);
}
