/* fit_int.c — the 1-D scale grid search of uniform integer planes (fit.h). */
#include <math.h>
#include <string.h>

#include "quant/fit.h"
#include "util/cpu.h"
#include "util/util.h"

/* Round to nearest, ties to even, for |t| < 2^22 (the clamped code range). */
static inline float rne(float t) {
    const float magic = 12582912.0f; /* 1.5 * 2^23 */
    return (t + magic) - magic;
}

float qmc_grid_point(const qmc_int_fit_opts *o, int i) {
    if (o->grid <= 1) return 1.0f;
    return 1.0f - (1.0f - o->grid_lo) * (float)i / (float)(o->grid - 1);
}

/* What the candidates of a group depend on. */
typedef struct {
    float big;      /* the value of largest magnitude (first on ties) */
    float lo, hi;   /* min and max */
} value_range;

static value_range range_of(const float *v, int64_t n) {
    value_range g = {v[0], v[0], v[0]};
    for (int64_t j = 1; j < n; j++) {
        if (fabsf(v[j]) > fabsf(g.big)) g.big = v[j];
        g.lo = v[j] < g.lo ? v[j] : g.lo;
        g.hi = v[j] > g.hi ? v[j] : g.hi;
    }
    return g;
}

static void candidate(const value_range *g, const qmc_int_fit_opts *o, float f, float *d, float *m) {
    if (!o->asym) {
        *d = -f * g->big / (float)(1 << (o->bits - 1));
        *m = 0.0f;
        return;
    }
    float range = g->hi - g->lo, centre = g->lo + 0.5f * range;
    *d = f * range / (float)((1 << o->bits) - 1);
    *m = centre - 0.5f * f * range;
}

void qmc_int_candidate(const float *v, int64_t n, const qmc_int_fit_opts *o, float f, float *d, float *m) {
    *d = *m = 0.0f;
    if (n <= 0) return;
    value_range g = range_of(v, n);
    candidate(&g, o, f, d, m);
}

/* Sum of squared errors, accumulated in 8 lanes (lane j takes elements j mod 8)
 * and summed in a fixed order: the same result whatever the compiler vectorises. */
double qmc_sse_sym_ref(const float *v, int64_t n, int bits, float d) {
    const float inv = 1.0f / d, lo = -(float)(1 << (bits - 1)), hi = (float)((1 << (bits - 1)) - 1);
    float acc[8] = {0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++) {
            float t = v[i + j] * inv;
            t = t < lo ? lo : t;
            t = t > hi ? hi : t;
            float e = v[i + j] - d * rne(t);
            acc[j] += e * e;
        }
    for (int j = 0; i < n; i++, j++) {
        float t = v[i] * inv;
        t = t < lo ? lo : t;
        t = t > hi ? hi : t;
        float e = v[i] - d * rne(t);
        acc[j] += e * e;
    }
    double s = 0;
    for (int j = 0; j < 8; j++) s += acc[j];
    return s;
}

double qmc_sse_asym_ref(const float *v, int64_t n, int bits, float d, float m) {
    const float inv = 1.0f / d, hi = (float)((1 << bits) - 1);
    float acc[8] = {0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++) {
            float t = (v[i + j] - m) * inv;
            t = t < 0.0f ? 0.0f : t;
            t = t > hi ? hi : t;
            float e = v[i + j] - (d * rne(t) + m);
            acc[j] += e * e;
        }
    for (int j = 0; i < n; i++, j++) {
        float t = (v[i] - m) * inv;
        t = t < 0.0f ? 0.0f : t;
        t = t > hi ? hi : t;
        float e = v[i] - (d * rne(t) + m);
        acc[j] += e * e;
    }
    double s = 0;
    for (int j = 0; j < 8; j++) s += acc[j];
    return s;
}

double qmc_int_loss(const float *v, int64_t n, const qmc_int_fit_opts *o, float d, float m) {
    double sse = 0;
    if (d == 0.0f) { /* every code decodes to 0 (sym) or m (asym) */
        for (int64_t j = 0; j < n; j++) sse += ((double)v[j] - m) * ((double)v[j] - m);
    } else if (qmc_cpu_has_avx2())
        sse = o->asym ? qmc_sse_asym_avx2(v, n, o->bits, d, m) : qmc_sse_sym_avx2(v, n, o->bits, d);
    else sse = o->asym ? qmc_sse_asym_ref(v, n, o->bits, d, m) : qmc_sse_sym_ref(v, n, o->bits, d);
    return sse + (double)n * o->noise * (double)d * (double)d;
}

void qmc_int_fit_search(const float *v, int64_t n, const qmc_int_fit_opts *o, qmc_int_fit *out) {
    memset(out, 0, sizeof *out);
    out->f = 1.0f;
    if (n <= 0) return;
    uint16_t last_d = 0xffff, last_m = 0xffff;
    bool first = true;
    const value_range g = range_of(v, n);
    for (int i = 0; i < QMC_MAX(o->grid, 1); i++) {
        float f = qmc_grid_point(o, i), d, m;
        candidate(&g, o, f, &d, &m);
        uint16_t d16 = qmc_f32_to_f16(d), m16 = o->asym ? qmc_f32_to_f16(m) : 0;
        if ((d16 & 0x7fff) == 0) d16 = 0;  /* no negative zeros */
        if ((m16 & 0x7fff) == 0) m16 = 0;
        if (d16 == last_d && m16 == last_m) continue;  /* same stored values as the previous candidate */
        last_d = d16;
        last_m = m16;
        double loss = qmc_int_loss(v, n, o, qmc_f16_to_f32(d16), qmc_f16_to_f32(m16));
        if (first || loss < out->loss) {
            out->d = d16;
            out->m = m16;
            out->f = f;
            out->loss = loss;
            first = false;
        }
    }
}

void qmc_int_encode(const float *v, int64_t n, int bits, bool asym, uint16_t d16, uint16_t m16, uint8_t *codes,
                    float *deq) {
    const float d = qmc_f16_to_f32(d16), m = asym ? qmc_f16_to_f32(m16) : 0.0f;
    const int z = 1 << (bits - 1);
    if (d == 0.0f) { /* one level: zero (sym) or m (asym) */
        for (int64_t j = 0; j < n; j++) {
            codes[j] = (uint8_t)(asym ? 0 : z);
            if (deq) deq[j] = asym ? fmaf(d, 0.0f, m) : d * 0.0f;
        }
        return;
    }
    const float inv = 1.0f / d;
    if (!asym) {
        const float lo = -(float)z, hi = (float)(z - 1);
        for (int64_t j = 0; j < n; j++) {
            float t = v[j] * inv;
            t = t < lo ? lo : t;
            t = t > hi ? hi : t;
            int q = (int)rne(t);
            codes[j] = (uint8_t)(q + z);
            if (deq) deq[j] = d * (float)q;
        }
    } else {
        const float hi = (float)((1 << bits) - 1);
        for (int64_t j = 0; j < n; j++) {
            float t = (v[j] - m) * inv;
            t = t < 0.0f ? 0.0f : t;
            t = t > hi ? hi : t;
            int q = (int)rne(t);
            codes[j] = (uint8_t)q;
            if (deq) deq[j] = fmaf(d, (float)q, m);
        }
    }
}
