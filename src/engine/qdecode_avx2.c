/* qdecode_avx2.c — packed-row decoding with AVX2 + BMI2 (entered only after
 * qmc_cpu_has_avx2()), bit-identical to qmc_qt_decode_row_ref.
 *
 * Eight columns at a time:
 *   1. the 8 mask bits m of the columns give the byte mask M (0xff in the
 *      bytes of outlier columns): M = pdep(m, 0x0101..01) * 0xff;
 *   2. the next 8 codes of each stream are spread one per byte with
 *      pdep(stream bits, b low bits of every byte), then the inlier codes are
 *      deposited into the bytes of ~M and the outlier codes into M
 *      (pdep again), so the two streams merge in column order;
 *   3. the stream positions advance by (8 - popcount m) inlier codes and
 *      popcount m outlier codes.
 * Values: every integer plane is  fma(q - Z, D, M)  per lane — symmetric and
 * MX integers: Z = 2^(b-1), D = d (MX: 2^(E-127) / 2^(b-2), exact), M = -0.0
 * so that fma(k, d, -0.0) is exactly k*d, signed zeros included; asymmetric:
 * Z = 0, D = d, M = m — the reference's d * (q - z) and fmaf(d, q, m).
 * MXFP4 looks its 16 values up in a table of x * fp4[q] (the reference's
 * products).  Other layouts (group sizes not a multiple of 8, mixed
 * symmetric/asymmetric planes, MXFP4 with outliers) use the reference. */
#include <immintrin.h>
#include <string.h>

#include "engine/kernels.h"
#include "engine/qdecode.h"

static inline uint64_t load64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* The stream's bits from bit position pos on (at least 57 valid bits; codes
 * of 8 bits always start on a byte, so 64). */
static inline uint64_t stream_at(const uint8_t *p, int64_t pos) { return load64(p + (pos >> 3)) >> (pos & 7); }

/* 8 codes of `bits` bits from the stream, one per byte. */
static inline uint64_t codes8(const uint8_t *p, int64_t pos, int bits) {
    return _pdep_u64(stream_at(p, pos), qmc_qd_lane_bits[bits]);
}

static inline __m256 fp4_lookup(__m256 lo, __m256 hi, uint64_t codes) {
    __m256i idx = _mm256_cvtepu8_epi32(_mm_cvtsi64_si128((long long)codes));
    __m256 a = _mm256_permutevar8x32_ps(lo, idx), b = _mm256_permutevar8x32_ps(hi, idx);
    return _mm256_blendv_ps(a, b, _mm256_castsi256_ps(_mm256_slli_epi32(idx, 28)));  /* bit 3 selects hi */
}

void qmc_qt_decode_row_avx2(const qmc_qtensor *q, int64_t r, float *out) {
    qmc_qd_row R;
    if (!qmc_qd_row_init(q, r, 8, &R)) {
        qmc_qt_decode_row_ref(q, r, out);
        return;
    }
    const int64_t cols = q->cols;
    int64_t ii = R.ii, oi = R.oi, c = 0;
    const int bi = q->in.bits, bo = q->out.bits;
    if (R.fp4) {
        for (int64_t g = 0; c + 8 <= cols; g++) {
            qmc_qd_fp4_table(q, r, g, &R);
            __m256 lo = _mm256_loadu_ps(R.tab), hi = _mm256_loadu_ps(R.tab + 8);
            for (int64_t end = QMC_MIN(cols, c + R.gs); c + 8 <= end; c += 8, ii += 8)
                _mm256_storeu_ps(out + c, fp4_lookup(lo, hi, codes8(q->in_codes, ii * bi, bi)));
        }
        qmc_qt_decode_span_ref(q, r, c, cols, ii, oi, out);
        return;
    }
    qmc_qd_par pin, pout = R.out;
    __m256 dout = _mm256_set1_ps(pout.d), mout = _mm256_set1_ps(pout.m);
    for (int64_t g = 0; c + 8 <= cols; g++) {
        qmc_qd_in_par(q, r, g, &pin);
        const __m256 din = _mm256_set1_ps(pin.d), min = _mm256_set1_ps(pin.m);
        const int64_t end = QMC_MIN(cols, c + R.gs);
        if (q->n_out == 0) {
            const __m128i z = _mm_set1_epi8((char)pin.z);
            for (; c + 8 <= end; c += 8, ii += 8) {
                __m128i k = _mm_cvtsi64_si128((long long)codes8(q->in_codes, ii * bi, bi));
                __m256i k32 = R.unsigned_codes ? _mm256_cvtepu8_epi32(k) : _mm256_cvtepi8_epi32(_mm_sub_epi8(k, z));
                _mm256_storeu_ps(out + c, _mm256_fmadd_ps(_mm256_cvtepi32_ps(k32), din, min));
            }
            continue;
        }
        const uint64_t zin = 0x0101010101010101ull * pin.z, zout = 0x0101010101010101ull * pout.z;
        for (; c + 8 <= end; c += 8) {
            const uint64_t m = stream_at(q->mask, R.mpos + c) & 0xff;
            const uint64_t M = _pdep_u64(m, 0x0101010101010101ull) * 0xff;
            const int no = __builtin_popcountll(m);
            uint64_t k = _pdep_u64(codes8(q->in_codes, ii * bi, bi), ~M) | _pdep_u64(codes8(q->out_codes, oi * bo, bo), M);
            ii += 8 - no;
            oi += no;
            const __m128i Mx = _mm_cvtsi64_si128((long long)M);
            const __m256 lane = _mm256_castsi256_ps(_mm256_cvtepi8_epi32(Mx));  /* all ones in outlier lanes */
            __m256i k32;
            if (R.unsigned_codes) k32 = _mm256_cvtepu8_epi32(_mm_cvtsi64_si128((long long)k));
            else k32 = _mm256_cvtepi8_epi32(_mm_sub_epi8(_mm_cvtsi64_si128((long long)k),
                                                         _mm_cvtsi64_si128((long long)((zin & ~M) | (zout & M)))));
            const __m256 d = _mm256_blendv_ps(din, dout, lane), mm = _mm256_blendv_ps(min, mout, lane);
            _mm256_storeu_ps(out + c, _mm256_fmadd_ps(_mm256_cvtepi32_ps(k32), d, mm));
        }
    }
    qmc_qt_decode_span_ref(q, r, c, cols, ii, oi, out);
}
