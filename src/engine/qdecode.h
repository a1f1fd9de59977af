/* qdecode.h — the SIMD packed-row decoders' shared scalar set-up
 * (qdecode_avx2.c, qdecode_avx512.c: which rows they take, where a row's
 * streams start, each plane's per-lane constants), and the fused
 * decode + dot product of single-token decoding. */
#ifndef QMC_QDECODE_H
#define QMC_QDECODE_H

#include <stdbool.h>
#include <stdint.h>

#include "quant/qtensor.h"
#include "util/util.h"

/* qmc_qd_lane_bits[b]: the b low bits of every byte of a 64-bit word (pdep masks). */
extern const uint64_t qmc_qd_lane_bits[9];

/* One plane's lane constants: value = fma(q - z, d, m). */
typedef struct {
    float d, m;  /* m = -0.0 for symmetric and MX integer planes */
    int z;       /* subtracted from codes: 2^(b-1), or 0 for asymmetric planes */
} qmc_qd_par;

typedef struct {
    int64_t ii, oi;        /* stream index of the row's first inlier / outlier code */
    int64_t mpos;          /* bit position of the row in the outlier mask */
    int64_t gs;            /* columns per scale group */
    bool fp4;              /* MXFP4 inlier plane (table lookups, no outliers) */
    bool unsigned_codes;   /* asymmetric planes: codes convert unsigned, z = 0 */
    qmc_qd_par out;        /* the outlier plane (n_out > 0) */
    float tab[16];         /* fp4: the current group's 16 values */
} qmc_qd_row;

/* false when the row's layout needs the reference decoder: group size not a
 * multiple of `width` columns (with more than one group), symmetric and
 * asymmetric planes mixed, or MXFP4 with outliers. */
bool qmc_qd_row_init(const qmc_qtensor *q, int64_t r, int width, qmc_qd_row *R);
void qmc_qd_in_par(const qmc_qtensor *q, int64_t r, int64_t g, qmc_qd_par *p);
void qmc_qd_fp4_table(const qmc_qtensor *q, int64_t r, int64_t g, qmc_qd_row *R);

/* ---- single-token decode: rows dotted with x without materialising them ----
 * y[r - r0] = (row r of q) . x[cols] for r in [r0, r1).  The fused kernels
 * (AVX-512) take per-channel integer planes (QMC, RTN per channel, the 8-bit
 * embedding); qmc_qt_dot_fused() says whether they run for q.  They read x
 * through a view built once per input vector by qmc_qt_dot_prepare and shared
 * by the threads.  For planes of at most 7 bits, and the 8-bit symmetric
 * embedding / head, the view is x rounded to 16-bit integers per block of
 * QMC_XQ_BLOCK columns, X_c = round(x_c / s_b) with s_b = max|x| over the
 * block / 32767, and the kernels sum codes times X exactly in integers (VNNI):
 * the product is that of the row with x^_c = s_b X_c, which differs from x_c
 * by at most s_b / 2 (qmc_qt_dot_xq returns x^_c).  Blocks whose largest |x|
 * is below 1e-30 read as zeros; inf or NaN in a block gives a non-finite
 * result.  Wider planes read x as floats.  The reference decodes each row
 * with qmc_qt_decode_row_ref and sums in double. */
#define QMC_XQ_BLOCK 256
typedef struct {
    const float *x;   /* [cols] */
    float *xi;        /* [qmc_qt_dot_xi_len(cols)] the kernels' view of x (caller's buffer) */
    float xsum;
} qmc_qt_dot_in;
/* floats: bytes hi and lo (2 x cols rounded up to 64), per block 16 lane sums and a step, the sum */
static inline int64_t qmc_qt_dot_xi_len(int64_t cols) {
    return ((cols + 63) & ~(int64_t)63) / 2 + 17 * ((cols + QMC_XQ_BLOCK - 1) / QMC_XQ_BLOCK) + 1;
}
bool qmc_qt_dot_fused(const qmc_qtensor *q);
void qmc_qt_dot_prepare(const qmc_qtensor *q, qmc_qt_dot_in *in);
void qmc_qt_dot_rows(const qmc_qtensor *q, int64_t r0, int64_t r1, const qmc_qt_dot_in *in, float *y);
void qmc_qt_dot_rows_ref(const qmc_qtensor *q, int64_t r0, int64_t r1, const float *x, float *y);
void qmc_qt_dot_prepare_avx512(const qmc_qtensor *q, qmc_qt_dot_in *in);
void qmc_qt_dot_rows_avx512(const qmc_qtensor *q, int64_t r0, int64_t r1, const qmc_qt_dot_in *in, float *y);
/* Which fused kernel takes q (when qmc_qt_dot_fused): integer sums for
 * planes of at most 7 bits and for the symmetric 8-bit format without
 * outliers (both read x^), value tables or conversions otherwise (read x). */
typedef enum { QMC_DOT_FLOAT, QMC_DOT_INT, QMC_DOT_U8 } qmc_dot_kind;
static inline qmc_dot_kind qmc_qt_dot_kind(const qmc_qtensor *q) {
    if (q->in.bits <= 7 && (q->n_out == 0 || q->out.bits <= 7)) return QMC_DOT_INT;
    if (q->n_out == 0 && !q->in.asym && q->in.bits == 8) return QMC_DOT_U8;
    return QMC_DOT_FLOAT;
}
/* x^_c, the value the integer kernels multiplied (after qmc_qt_dot_prepare,
 * for a tensor they take). */
float qmc_qt_dot_xq(const qmc_qt_dot_in *in, int64_t cols, int64_t c);

#endif
