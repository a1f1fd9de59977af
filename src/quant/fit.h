/* fit.h — fitting one group of values to a packed plane format: the uniform
 * integer grid search (QMC inliers/outliers, RTN) and the OCP MX block
 * conversion (MXINT, MXFP4).  Internal to src/quant; tests use it directly.
 *
 * Uniform integer planes (qtensor.h): with b bits and z = 2^(b-1),
 *   symmetric   w = d * (q - z),   q in 0..2^b-1  (levels -z .. z-1 times d)
 *   asymmetric  w = d * q + m,     q in 0..2^b-1
 * d and m are stored as F16, so every candidate is evaluated with its
 * F16-rounded d and m — the values the decoder will use.
 *
 * The grid (candidate i of G, f_i = lo + (1 - lo) * i / (G - 1); G = 1: f = 1):
 *   symmetric   d_i = -f_i * M / z, M the value of largest magnitude (first one
 *               on ties).  At f = 1, M is exactly the level -z (the extra
 *               negative level of two's complement is used by the largest
 *               value, as llama.cpp's Q4_0 does); smaller f clip it.
 *   asymmetric  the range [min, max] shrunk by f about its centre c:
 *               d_i = f_i * (max - min) / (2^b - 1),  m_i = c - f_i * (max - min) / 2.
 * Loss of a candidate (QMC paper eq. 7):
 *   L = sum_j (v_j - Q(v_j))^2 + n * noise * d^2,   noise = p_minus + p_plus
 * (noise = 0: plain MSE).  Codes are q = clamp(rne(v / d)) (sym, plus z) or
 * clamp(rne((v - m) / d)) (asym), computed as v * (1/d); the search and the
 * final encoding use the same rounding, so the reported loss is the stored one.
 * The smallest loss wins; ties go to the larger f (the first seen scanning
 * from f = 1 down). */
#ifndef QMC_FIT_H
#define QMC_FIT_H

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    int bits;        /* 2..8 */
    bool asym;
    int grid;        /* candidates, >= 1 */
    float grid_lo;   /* smallest f, (0, 1] */
    double noise;    /* p_minus + p_plus (0: MSE) */
} qmc_int_fit_opts;

typedef struct {
    uint16_t d, m;   /* F16 scale and offset (m = 0 when symmetric) */
    float f;         /* the chosen grid point */
    double loss;     /* its loss, as defined above */
} qmc_int_fit;

/* Candidate f of index i (i = 0 is f = 1, scanning down to lo). */
float qmc_grid_point(const qmc_int_fit_opts *o, int i);
/* Scale and offset of candidate f for values v[n] (before F16 rounding). */
void qmc_int_candidate(const float *v, int64_t n, const qmc_int_fit_opts *o, float f, float *d, float *m);
/* Loss of a given (F16-decoded) d, m. */
double qmc_int_loss(const float *v, int64_t n, const qmc_int_fit_opts *o, float d, float m);
/* The grid search. n may be 0 (d = m = 0). */
void qmc_int_fit_search(const float *v, int64_t n, const qmc_int_fit_opts *o, qmc_int_fit *out);
/* Codes of v[n] under (d, m) and the quantizer's own reconstruction deq[n]
 * (deq may be NULL). */
void qmc_int_encode(const float *v, int64_t n, int bits, bool asym, uint16_t d, uint16_t m, uint8_t *codes,
                    float *deq);

/* The squared-error sums of the search: scalar (8 lanes, j mod 8, summed in
 * lane order) and AVX2 versions giving bit-identical results. */
double qmc_sse_sym_ref(const float *v, int64_t n, int bits, float d);
double qmc_sse_asym_ref(const float *v, int64_t n, int bits, float d, float m);
double qmc_sse_sym_avx2(const float *v, int64_t n, int bits, float d);
double qmc_sse_asym_avx2(const float *v, int64_t n, int bits, float d, float m);

/* codes[n] (one per byte, < 2^bits) into the continuous little-endian bit
 * stream of qtensor.h (out holds qmc_bits_bytes(n, bits) bytes). */
void qmc_pack_codes(const uint8_t *codes, int64_t n, int bits, uint8_t *out);

/* ---- OCP MX (v1.0 section 6.3; microsoft/microxcaling mx_ops._quantize_mx) ----
 * Shared scale X = 2^(floor(log2(max|v|)) - emax_elem) stored as an E8M0 byte
 * (E + 127, E clamped to [-127, 127]; an all-zero block gets E = -127);
 * elements v / X are rounded to nearest, ties away from zero (microxcaling's
 * default round="nearest"), and saturate at the element's largest normal.
 *   MXINT b bits ("int4" of microxcaling): element k / 2^(b-2), k in
 *     -(2^(b-1)-1) .. 2^(b-1)-1, emax_elem = 0; code = k + 2^(b-1).
 *   MXFP4 (E2M1): element in +-{0, 0.5, 1, 1.5, 2, 3, 4, 6}, emax_elem = 2;
 *     code = sign * 8 + index into qmc_fp4_e2m1_values. */
int qmc_mx_emax_elem(int elem);  /* QMC_ELEM_MXINT: 0, QMC_ELEM_MXFP4: 2 */
/* Encode one block v[n] (n >= 1): returns the E8M0 byte, writes codes[n]
 * and the reconstruction deq[n] (may be NULL). */
uint8_t qmc_mx_encode_block(const float *v, int n, int elem, int bits, uint8_t *codes, float *deq);

#endif
