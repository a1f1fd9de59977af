/* qtensor.h — packed quantized weights: the block format of qmc, defined once.
 *
 * Every quantizer (QMC, RTN per-channel / per-group, MXINT4, MXFP4, GPTQ, AWQ,
 * the 8-bit embedding/head format) produces this one structure, the engine's
 * kernels decode it, the noise injector perturbs its ReRAM plane and the
 * simulator sizes its planes.
 *
 * A weight matrix of rows x cols is split by a per-tensor magnitude threshold
 * tau into outliers (|w| > tau; the MRAM plane) and inliers (the rest; the
 * ReRAM plane).  With no outliers (rho = 0, RTN, MX formats) only the inlier
 * plane exists.
 *
 *   in_codes   ReRAM plane.  One code of in.bits bits per inlier, in row-major
 *              order of the inlier positions (outlier positions are skipped),
 *              packed as one continuous little-endian bit stream: code k
 *              occupies bits [k*b, k*b+b) (bit i of the stream is bit i%8 of
 *              byte i/8).  Rows are not padded.
 *   in_scale   per (row, group) scale; group = in.group columns (the whole row
 *              for per-channel).  F16 scales, or E8M0 exponent bytes (MX).
 *   in_min     asymmetric only: per (row, group) F16 offset m (w = d*q + m).
 *   mask       MRAM plane.  Outlier positions: a continuous bit stream of
 *              rows*cols bits, bit r*cols+c set when W[r][c] is an outlier.
 *   out_codes  MRAM plane.  out.bits-bit codes of the outliers, row-major in
 *              position order, same bit-stream packing as in_codes.
 *   out_scale, out_min: per-row F16 scale (and offset) of the outliers.
 *
 * Dequantization of a code q of a uniform integer plane with b bits:
 *   symmetric:  w = d * (q - 2^(b-1))          (levels -2^(b-1) .. 2^(b-1)-1)
 *   asymmetric: w = d * q + m                  (q in 0 .. 2^b-1)
 * MXINT (OCP MX, as in microsoft/microxcaling "int"): w = 2^(E-127) * (q - 2^(b-1)) / 2^(b-2)
 * MXFP4 (E2M1): w = 2^(E-127) * fp4(q), fp4 = sign * {0,0.5,1,1.5,2,3,4,6}.
 */
#ifndef QMC_QTENSOR_H
#define QMC_QTENSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    QMC_ELEM_INT = 0,    /* uniform integer levels with an F16 scale (+ offset) */
    QMC_ELEM_MXINT = 1,  /* two's-complement-like integer with an E8M0 block scale */
    QMC_ELEM_MXFP4 = 2,  /* E2M1 with an E8M0 block scale */
} qmc_elem;

/* Format of one code plane. */
typedef struct {
    uint8_t bits;     /* code width, 2..8 */
    uint8_t elem;     /* qmc_elem */
    uint8_t asym;     /* 1: w = d*q + m; 0: symmetric */
    int32_t group;    /* columns per scale group; cols (or 0) = per output channel */
} qmc_plane_fmt;

/* Quantization method that made the tensor (informational; decoding depends
 * only on the plane formats). */
typedef enum {
    QMC_METHOD_QMC = 0,
    QMC_METHOD_RTN = 1,
    QMC_METHOD_MXINT = 2,
    QMC_METHOD_MXFP4 = 3,
    QMC_METHOD_GPTQ = 4,
    QMC_METHOD_AWQ = 5,
    QMC_METHOD_QMC_GPTQ = 6,
    QMC_METHOD_COUNT
} qmc_method;

const char *qmc_method_name(qmc_method m);
int qmc_method_from_name(const char *s); /* -1 if unknown */

typedef struct qmc_qtensor {
    int64_t rows, cols;
    qmc_method method;
    float rho;        /* requested outlier fraction */
    float tau;        /* magnitude threshold: outliers have |w| > tau */
    int64_t n_out;    /* number of outliers (= popcount of mask) */
    qmc_plane_fmt in, out;

    /* inlier (ReRAM) plane */
    const uint8_t *in_codes;
    size_t in_codes_bytes;
    const uint8_t *in_scale;   /* F16 (2 bytes) or E8M0 (1 byte) per (row, group) */
    const uint8_t *in_min;     /* F16 per (row, group), asymmetric only */
    /* outlier (MRAM) plane; NULL when n_out == 0 */
    const uint8_t *mask;
    size_t mask_bytes;
    const uint8_t *out_codes;
    size_t out_codes_bytes;
    const uint8_t *out_scale;  /* F16 per row */
    const uint8_t *out_min;    /* F16 per row, asymmetric only */

    /* derived at load time, not stored: index of the first inlier code of each
     * row (rows + 1 entries; the first outlier of row r is r*cols - row_in[r]). */
    int64_t *row_in;
    void *owned[8];            /* heap buffers to release */
} qmc_qtensor;

static inline int64_t qmc_qt_groups(const qmc_qtensor *q) {
    int64_t g = q->in.group > 0 ? q->in.group : q->cols;
    return (q->cols + g - 1) / g;
}
static inline int64_t qmc_qt_group_size(const qmc_qtensor *q) {
    return q->in.group > 0 ? q->in.group : q->cols;
}
static inline int qmc_qt_scale_bytes(const qmc_plane_fmt *f) { return f->elem == QMC_ELEM_INT ? 2 : 1; }

/* Sizes of the stored planes in bytes (what an honest bit count counts). */
typedef struct {
    int64_t in_codes, in_scale, in_min;        /* ReRAM codes; scales (stored with the MRAM plane) */
    int64_t mask, out_codes, out_scale, out_min;
    int64_t total;
} qmc_plane_sizes;
void qmc_qt_plane_sizes(const qmc_qtensor *q, qmc_plane_sizes *s);
/* Everything stored, in bits per weight. */
double qmc_qt_honest_bpw(const qmc_qtensor *q);
/* The paper's count: (1-rho)*bits_in + rho*bits_out, no scales or positions. */
double qmc_qt_nominal_bpw(const qmc_qtensor *q);

/* ---- bit streams -------------------------------------------------------- */
static inline uint32_t qmc_bits_get(const uint8_t *p, int64_t bitpos, int bits) {
    const uint8_t *b = p + (bitpos >> 3);
    uint32_t v = b[0] | ((uint32_t)b[1] << 8);   /* codes are <= 8 bits: 2 bytes suffice */
    return (v >> (bitpos & 7)) & ((1u << bits) - 1);
}
static inline void qmc_bits_put(uint8_t *p, int64_t bitpos, int bits, uint32_t v) {
    for (int i = 0; i < bits; i++, bitpos++) {
        uint8_t m = (uint8_t)(1u << (bitpos & 7));
        if ((v >> i) & 1) p[bitpos >> 3] |= m;
        else p[bitpos >> 3] &= (uint8_t)~m;
    }
}
/* Stream sizes carry QMC_BITS_PAD spare bytes so that readers may load 8
 * bytes at any code position (the padding is counted as stored; the AVX-512
 * decoders load 64 bytes and mask the load near a stream's end). */
#define QMC_BITS_PAD 8
static inline size_t qmc_bits_bytes(int64_t n_codes, int bits) {
    return (size_t)((n_codes * bits + 7) / 8) + QMC_BITS_PAD;
}

/* ---- construction ------------------------------------------------------- */
/* Allocate an empty qtensor with planes sized for n_out outliers (all zero).
 * The caller fills codes/scales/mask (through the non-const aliases below)
 * and then calls qmc_qt_finish() to build the derived row index. */
int qmc_qt_alloc(int64_t rows, int64_t cols, qmc_plane_fmt in, qmc_plane_fmt out, int64_t n_out,
                 qmc_qtensor **out_q);
int qmc_qt_finish(qmc_qtensor *q);   /* validates mask popcount, builds row_in */
void qmc_qt_free(qmc_qtensor *q);
/* Deep copy (e.g. for noise trials: planes become owned, writable copies). */
int qmc_qt_clone(const qmc_qtensor *src, qmc_qtensor **dst);
static inline uint8_t *qmc_qt_mut(const uint8_t *p) { return (uint8_t *)(uintptr_t)p; }

/* ---- decoding ----------------------------------------------------------- */
/* Dequantize row r into out[cols]: the reference scalar kernel. */
void qmc_qt_decode_row_ref(const qmc_qtensor *q, int64_t r, float *out);
/* The reference for columns [c0, c1) of row r only, given the stream indices
 * of the first inlier code (ii) and outlier code (oi) at or after c0; writes
 * out[c0..c1).  SIMD kernels finish a row's last columns with it. */
void qmc_qt_decode_span_ref(const qmc_qtensor *q, int64_t r, int64_t c0, int64_t c1, int64_t ii, int64_t oi, float *out);
/* Same, fastest kernel for this CPU (bit-identical to the reference). */
void qmc_qt_decode_row(const qmc_qtensor *q, int64_t r, float *out);
/* Value of one code (used by quantizers to report what they stored). */
float qmc_qt_dequant_code(const qmc_plane_fmt *f, uint32_t code, const uint8_t *scale,
                          const uint8_t *min, int64_t idx);
/* Scales as floats */
float qmc_e8m0_to_f32(uint8_t e);
extern const float qmc_fp4_e2m1_values[16];

#endif
