/* fit_mx.c — OCP Microscaling block conversion (see fit.h for the rules). */
#include <math.h>

#include "quant/fit.h"
#include "quant/qtensor.h"

int qmc_mx_emax_elem(int elem) { return elem == QMC_ELEM_MXFP4 ? 2 : 0; }

/* floor(log2(x)) of a finite x > 0, exactly. */
static int floor_log2(float x) {
    int e;
    frexpf(x, &e);   /* x = m * 2^e, m in [0.5, 1) */
    return e - 1;
}

/* Round half away from zero of a >= 0 (microxcaling: floor(|A| + 0.5)). */
static inline float round_half_away(float a) { return floorf(a + 0.5f); }

/* E2M1 magnitude of a >= 0 (already divided by the shared scale): index into
 * {0, 0.5, 1, 1.5, 2, 3, 4, 6}.  Private exponent pe = max(floor(log2 a), 0);
 * the mantissa keeps one bit: a / 2^pe * 2 rounded, then saturation at 6. */
static int fp4_index(float a) {
    if (!(a > 0.0f)) return 0;
    int pe = floor_log2(a);
    if (pe < 0) pe = 0;
    float t = round_half_away(ldexpf(a, 1 - pe));       /* units of 2^(pe-1) */
    float mag = ldexpf(t, pe - 1);
    if (mag >= 6.0f) return 7;
    static const float k_mags[8] = {0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f};
    for (int i = 0; i < 8; i++)
        if (k_mags[i] == mag) return i;
    return 0; /* unreachable: every rounded value is in the table */
}

uint8_t qmc_mx_encode_block(const float *v, int n, int elem, int bits, uint8_t *codes, float *deq) {
    float amax = 0.0f;
    for (int j = 0; j < n; j++) amax = fabsf(v[j]) > amax ? fabsf(v[j]) : amax;
    int e = amax > 0.0f ? floor_log2(amax) - qmc_mx_emax_elem(elem) : -127;
    if (e < -127) e = -127;
    if (e > 127) e = 127;   /* finite floats have floor(log2) <= 127 */
    const uint8_t e8 = (uint8_t)(e + 127);
    const float x = qmc_e8m0_to_f32(e8);
    for (int j = 0; j < n; j++) {
        float a = ldexpf(fabsf(v[j]), -e);   /* |v| / X, exact unless it underflows */
        bool neg = signbit(v[j]);
        if (elem == QMC_ELEM_MXFP4) {
            int idx = fp4_index(a);
            codes[j] = (uint8_t)((neg ? 8 : 0) + idx);
            if (deq) deq[j] = x * qmc_fp4_e2m1_values[codes[j]];
        } else {
            const int z = 1 << (bits - 1), kmax = z - 1;
            float k = round_half_away(ldexpf(a, bits - 2));
            if (k > (float)kmax) k = (float)kmax;
            int ki = neg ? -(int)k : (int)k;
            codes[j] = (uint8_t)(ki + z);
            if (deq) deq[j] = x * ((float)ki / (float)(1 << (bits - 2)));
        }
    }
    return e8;
}
