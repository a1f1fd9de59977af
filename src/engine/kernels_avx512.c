/* kernels_avx512.c — AVX-512 kernels (entered only after qmc_cpu_has_avx512()). */
#include <immintrin.h>

#include "engine/kernels.h"

float qmc_dot_avx512(const float *a, const float *b, int64_t n) {
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
        s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), s1);
    }
    if (i + 16 <= n) {
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
        i += 16;
    }
    if (i < n) {
        __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
        s1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i), s1);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}


/* Register tiles.  Every (row, token) sum is accumulated the same way in
 * every tile shape — one 16-lane accumulator over k in steps of 16, a masked
 * step for the K % 16 tail, then one horizontal reduction — so a token's
 * result does not depend on which other tokens share its batch (prefill and
 * token-by-token decode give bit-identical logits). */
static inline __mmask16 kmask(int64_t K, int64_t k) {
    return K - k >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (K - k)) - 1);
}

static void tile_4x4(const float *W, int64_t ldw, const float *X, int64_t ldx, float *Y, int64_t ldy, int64_t K) {
    __m512 c00 = _mm512_setzero_ps(), c01 = c00, c02 = c00, c03 = c00, c10 = c00, c11 = c00, c12 = c00, c13 = c00,
           c20 = c00, c21 = c00, c22 = c00, c23 = c00, c30 = c00, c31 = c00, c32 = c00, c33 = c00;
    const float *w0 = W, *w1 = W + ldw, *w2 = W + 2 * ldw, *w3 = W + 3 * ldw;
    const float *x0 = X, *x1 = X + ldx, *x2 = X + 2 * ldx, *x3 = X + 3 * ldx;
    for (int64_t k = 0; k < K; k += 16) {
        __mmask16 m = kmask(K, k);
        __m512 a0 = _mm512_maskz_loadu_ps(m, w0 + k), a1 = _mm512_maskz_loadu_ps(m, w1 + k),
               a2 = _mm512_maskz_loadu_ps(m, w2 + k), a3 = _mm512_maskz_loadu_ps(m, w3 + k);
        __m512 b = _mm512_maskz_loadu_ps(m, x0 + k);
        c00 = _mm512_fmadd_ps(a0, b, c00); c01 = _mm512_fmadd_ps(a1, b, c01);
        c02 = _mm512_fmadd_ps(a2, b, c02); c03 = _mm512_fmadd_ps(a3, b, c03);
        b = _mm512_maskz_loadu_ps(m, x1 + k);
        c10 = _mm512_fmadd_ps(a0, b, c10); c11 = _mm512_fmadd_ps(a1, b, c11);
        c12 = _mm512_fmadd_ps(a2, b, c12); c13 = _mm512_fmadd_ps(a3, b, c13);
        b = _mm512_maskz_loadu_ps(m, x2 + k);
        c20 = _mm512_fmadd_ps(a0, b, c20); c21 = _mm512_fmadd_ps(a1, b, c21);
        c22 = _mm512_fmadd_ps(a2, b, c22); c23 = _mm512_fmadd_ps(a3, b, c23);
        b = _mm512_maskz_loadu_ps(m, x3 + k);
        c30 = _mm512_fmadd_ps(a0, b, c30); c31 = _mm512_fmadd_ps(a1, b, c31);
        c32 = _mm512_fmadd_ps(a2, b, c32); c33 = _mm512_fmadd_ps(a3, b, c33);
    }
    Y[0] = _mm512_reduce_add_ps(c00); Y[1] = _mm512_reduce_add_ps(c01);
    Y[2] = _mm512_reduce_add_ps(c02); Y[3] = _mm512_reduce_add_ps(c03);
    Y += ldy;
    Y[0] = _mm512_reduce_add_ps(c10); Y[1] = _mm512_reduce_add_ps(c11);
    Y[2] = _mm512_reduce_add_ps(c12); Y[3] = _mm512_reduce_add_ps(c13);
    Y += ldy;
    Y[0] = _mm512_reduce_add_ps(c20); Y[1] = _mm512_reduce_add_ps(c21);
    Y[2] = _mm512_reduce_add_ps(c22); Y[3] = _mm512_reduce_add_ps(c23);
    Y += ldy;
    Y[0] = _mm512_reduce_add_ps(c30); Y[1] = _mm512_reduce_add_ps(c31);
    Y[2] = _mm512_reduce_add_ps(c32); Y[3] = _mm512_reduce_add_ps(c33);
}

/* The decode tiles read F32 rows, or F16 rows widened in registers (exact),
 * so an F16 row gives the same sums, bit for bit, as its F32 copy. */
#define INLINE static inline __attribute__((always_inline))
INLINE __m512 load_w(__mmask16 m, const void *row, int64_t k, bool f16) {
    return f16 ? _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, (const uint16_t *)row + k))
               : _mm512_maskz_loadu_ps(m, (const float *)row + k);
}
INLINE const void *row_at(const void *W, int64_t ldw, int64_t r, bool f16) {
    return (const char *)W + r * ldw * (f16 ? 2 : 4);
}

/* 4 rows x 1 token (decode): four independent FMA chains keep the pipes busy. */
INLINE void tile_4x1_w(const void *W, int64_t ldw, const float *X, float *Y, int64_t K, bool f16) {
    __m512 c0 = _mm512_setzero_ps(), c1 = c0, c2 = c0, c3 = c0;
    const void *w0 = W, *w1 = row_at(W, ldw, 1, f16), *w2 = row_at(W, ldw, 2, f16), *w3 = row_at(W, ldw, 3, f16);
    for (int64_t k = 0; k < K; k += 16) {
        __mmask16 m = kmask(K, k);
        __m512 b = _mm512_maskz_loadu_ps(m, X + k);
        c0 = _mm512_fmadd_ps(load_w(m, w0, k, f16), b, c0);
        c1 = _mm512_fmadd_ps(load_w(m, w1, k, f16), b, c1);
        c2 = _mm512_fmadd_ps(load_w(m, w2, k, f16), b, c2);
        c3 = _mm512_fmadd_ps(load_w(m, w3, k, f16), b, c3);
    }
    Y[0] = _mm512_reduce_add_ps(c0);
    Y[1] = _mm512_reduce_add_ps(c1);
    Y[2] = _mm512_reduce_add_ps(c2);
    Y[3] = _mm512_reduce_add_ps(c3);
}

INLINE float tile_1x1_w(const void *W, const float *X, int64_t K, bool f16) {
    __m512 c = _mm512_setzero_ps();
    for (int64_t k = 0; k < K; k += 16) {
        __mmask16 m = kmask(K, k);
        c = _mm512_fmadd_ps(load_w(m, W, k, f16), _mm512_maskz_loadu_ps(m, X + k), c);
    }
    return _mm512_reduce_add_ps(c);
}

static void tile_4x1(const float *W, int64_t ldw, const float *X, float *Y, int64_t K) {
    tile_4x1_w(W, ldw, X, Y, K, false);
}

static float tile_1x1(const float *W, const float *X, int64_t K) { return tile_1x1_w(W, X, K, false); }

/* F16 rows x 1 token: groups of 4 rows, then single rows, as qmc_matmul hands
 * F32 rows to qmc_gemm_tile_avx512 — the same sums, at half the bytes. */
void qmc_gemv_f16_avx512(const uint16_t *W, int64_t ldw, int nr, const float *X, float *Y, int64_t K) {
    int r = 0;
    for (; r + 4 <= nr; r += 4) tile_4x1_w(W + r * ldw, ldw, X, Y + r, K, true);
    for (; r < nr; r++) Y[r] = tile_1x1_w(W + r * ldw, X, K, true);
}
#undef INLINE

void qmc_gemm_tile_avx512(const float *W, int64_t ldw, int nr, const float *X, int64_t ldx, int nt, float *Y,
                          int64_t ldy, int64_t K) {
    if (nr == 4 && nt == 4) tile_4x4(W, ldw, X, ldx, Y, ldy, K);
    else if (nr == 4)
        for (int t = 0; t < nt; t++) tile_4x1(W, ldw, X + t * ldx, Y + t * ldy, K);
    else
        for (int t = 0; t < nt; t++)
            for (int r = 0; r < nr; r++) Y[t * ldy + r] = tile_1x1(W + r * ldw, X + t * ldx, K);
}
