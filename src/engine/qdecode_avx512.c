/* qdecode_avx512.c — packed rows with AVX-512 (F/BW/VL/VBMI/VBMI2/VNNI;
 * entered only after qmc_cpu_has_avx512()): the bit-exact row decoder and the
 * fused decode + dot products of single-token decoding.
 *
 * 64 columns at a time:
 *   unpack   64 codes of b bits from a stream at any bit position: one 64-byte
 *            load, vpermb gives qword L the 8 bytes holding codes 8L..8L+7,
 *            vpmultishiftqb picks each code's 8 bits at offset s + j*b of its
 *            qword, an AND keeps b bits (VBMI);
 *   merge    with the 64 outlier-mask bits k, vpexpandb puts the first
 *            popcount(~k) inlier codes into the lanes of ~k and the first
 *            popcount(k) outlier codes into the lanes of k (VBMI2);
 *   values   (the row decoder) 16 lanes at a time.  Narrow codes (inliers <=
 *            4 bits, outliers <= 5 bits, the QMC defaults) look their values
 *            up in per-row tables (vpermps / vpermi2ps) holding exactly the
 *            reference's d * (q - z) or fmaf(d, q, m); wider codes convert,
 *            fma(q - Z, D, M) as in qdecode_avx2.c; MXFP4 looks up x * fp4[q].
 * The fused dot products of planes up to 7 bits (QMC, RTN) and of the 8-bit
 * embedding / head never make values: they sum codes times x rounded to
 * 16-bit integers with vpdpbusd (VNNI) and scale the sums once per row (see
 * "integer products" below).  Other per-channel layouts multiply the values
 * of 16 lanes by x (4 independent accumulators). */
#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "engine/kernels.h"
#include "engine/qdecode.h"

#define K8 0x0101010101010101ull

/* Unpacking constants of one code width. */
typedef struct {
    __m512i perm;      /* vpermb index: byte 8L + j <- L*b + j */
    __m512i ctrl[8];   /* vpmultishiftqb offsets s + j*b, for s = pos & 7 */
    __m512i keep;      /* b low bits of every byte */
    int b;
} unpacker;

static void unpacker_init(unpacker *u, int b) {
    u->b = b;
    const uint64_t j = 0x0706050403020100ull;
    u->perm = _mm512_set_epi64((long long)(7 * b * K8 + j), (long long)(6 * b * K8 + j), (long long)(5 * b * K8 + j),
                               (long long)(4 * b * K8 + j), (long long)(3 * b * K8 + j), (long long)(2 * b * K8 + j),
                               (long long)(b * K8 + j), (long long)j);
    for (int s = 0; s < 8; s++) u->ctrl[s] = _mm512_set1_epi64((long long)(j * (uint64_t)b + K8 * (uint64_t)s)); /* <= 63: no carries */
    u->keep = _mm512_set1_epi8((char)(b == 8 ? 0xff : (1 << b) - 1));
}

/* 64 codes of b bits from bit position pos of a stream of `size` bytes, one
 * per byte.  One 64-byte load; `checked` masks it near the end of the
 * stream (which carries only QMC_BITS_PAD spare bytes). */
static inline __m512i unpack64(const unpacker *u, const uint8_t *stream, size_t size, int64_t pos, bool checked) {
    const int64_t at = pos >> 3, left = (int64_t)size - at;
    const __m512i src = !checked || left >= 64
                            ? _mm512_loadu_si512(stream + at)
                            : _mm512_maskz_loadu_epi8(left > 0 ? _bzhi_u64(~0ull, (unsigned)left) : 0, stream + at);
    return _mm512_and_si512(_mm512_multishift_epi64_epi8(u->ctrl[pos & 7], _mm512_permutexvar_epi8(u->perm, src)),
                            u->keep);
}

/* 64 mask bits from bit position pos (the mask carries 8 padding bytes). */
static inline uint64_t mask64(const uint8_t *mask, int64_t pos) {
    const uint8_t *p = mask + (pos >> 3);
    const int s = (int)(pos & 7);
    uint64_t lo;
    memcpy(&lo, p, 8);
    return s ? (lo >> s) | ((uint64_t)p[8] << (64 - s)) : lo;
}

static inline __mmask64 valid64(int64_t left) { return left >= 64 ? ~0ull : _bzhi_u64(~0ull, (unsigned)left); }

static inline float f16(const uint8_t *p, int64_t i) {
    uint16_t h;
    memcpy(&h, p + 2 * i, 2);
    return _cvtsh_ss(h);
}

/* ---- per-row value tables ----------------------------------------------------------
 * Tables hold the reference's values: symmetric and MX integers d * (q - z)
 * (for MX d = 2^(E-127) / 2^(b-2), exact), asymmetric fmaf(d, q, m). */

static const float k_iota[32] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
                                 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31};

static inline __m512 table16(const qmc_qd_par *p, bool asym, const float *iota) {
    const __m512 q = _mm512_loadu_ps(iota), d = _mm512_set1_ps(p->d);
    if (asym) return _mm512_fmadd_ps(d, q, _mm512_set1_ps(p->m));
    return _mm512_mul_ps(d, _mm512_sub_ps(q, _mm512_set1_ps((float)p->z)));
}

/* Plane layout of a tensor, fixed for all its rows. */
typedef struct {
    unpacker ui, uo;
    bool outliers;      /* an outlier plane exists */
    bool tables;        /* value tables (inliers <= 4 bits, outliers <= 5 bits) */
    bool fp4;
    bool asym;          /* unsigned codes (asymmetric integer planes) */
} layout;

static void layout_init(const qmc_qtensor *q, layout *L) {
    L->outliers = q->n_out > 0;
    L->fp4 = q->in.elem == QMC_ELEM_MXFP4;
    L->asym = q->in.elem == QMC_ELEM_INT && q->in.asym;
    L->tables = !L->fp4 && q->in.bits <= 4 && (!L->outliers || q->out.bits <= 5);
    unpacker_init(&L->ui, q->in.bits);
    unpacker_init(&L->uo, L->outliers ? q->out.bits : 2);
}

/* The 64 lanes' codes of the chunk at column c (tables: raw codes; else Z
 * subtracted for signed planes), advancing the stream bit positions. */
static inline __m512i chunk_codes(const qmc_qtensor *q, const layout *L, uint64_t k, int n_valid, int64_t *pin,
                                  int64_t *pout, __m512i zi, __m512i zo) {
    const int no = __builtin_popcountll(k);
    __m512i m = unpack64(&L->ui, q->in_codes, q->in_codes_bytes, *pin, true);
    *pin += (int64_t)L->ui.b * (n_valid - no);
    const bool sub = !L->tables && !L->asym && !L->fp4;
    if (sub) m = _mm512_sub_epi8(m, zi);
    if (no) {
        __m512i co = unpack64(&L->uo, q->out_codes, q->out_codes_bytes, *pout, true);
        *pout += (int64_t)L->uo.b * no;
        if (sub) co = _mm512_sub_epi8(co, zo);
        m = _mm512_mask_expand_epi8(_mm512_maskz_expand_epi8(~k, m), k, co);
    }
    return m;
}

/* Values of 16 lanes from their codes (bytes b16) and outlier bits k16. */
typedef struct {
    __m512 tin, tlo, thi;   /* tables: inlier values, outlier values 0..15 and 16..31 (fp4: tin) */
    __m512 din, min, dout, mout;
} lane_consts;

static inline __attribute__((always_inline)) __m512 values16(const lane_consts *K, __m128i b16, __mmask16 k16,
                                                             bool tables, bool outliers, bool asym) {
    if (tables) {
        const __m512i idx = _mm512_cvtepu8_epi32(b16);
        __m512 v = _mm512_permutexvar_ps(idx, K->tin);
        if (outliers) v = _mm512_mask_blend_ps(k16, v, _mm512_permutex2var_ps(K->tlo, idx, K->thi));
        return v;
    }
    const __m512 qf = _mm512_cvtepi32_ps(asym ? _mm512_cvtepu8_epi32(b16) : _mm512_cvtepi8_epi32(b16));
    if (!outliers) return _mm512_fmadd_ps(qf, K->din, K->min);
    return _mm512_fmadd_ps(qf, _mm512_mask_blend_ps(k16, K->din, K->dout), _mm512_mask_blend_ps(k16, K->min, K->mout));
}

/* Row constants: tables or scales of the inlier group g and the outlier plane. */
static void row_consts(const qmc_qtensor *q, const layout *L, int64_t r, int64_t g, lane_consts *K) {
    const int64_t ng = qmc_qt_groups(q), idx = r * ng + g;
    if (L->fp4) {
        K->tin = _mm512_mul_ps(_mm512_set1_ps(qmc_e8m0_to_f32(q->in_scale[idx])), _mm512_loadu_ps(qmc_fp4_e2m1_values));
        return;
    }
    qmc_qd_par pin, pout = {0, 0, 0};
    qmc_qd_in_par(q, r, g, &pin);
    if (L->outliers) {
        pout.d = f16(q->out_scale, r);
        pout.m = q->out.asym ? f16(q->out_min, r) : -0.0f;
        pout.z = q->out.asym ? 0 : 1 << (q->out.bits - 1);
    }
    if (L->tables) {
        K->tin = table16(&pin, L->asym, k_iota);
        if (L->outliers) {
            K->tlo = table16(&pout, L->asym, k_iota);
            K->thi = table16(&pout, L->asym, k_iota + 16);
        }
        return;
    }
    K->din = _mm512_set1_ps(pin.d);
    K->min = _mm512_set1_ps(pin.m);
    K->dout = _mm512_set1_ps(pout.d);
    K->mout = _mm512_set1_ps(pout.m);
}

/* ---- bit-exact row decoding ---------------------------------------------------- */

void qmc_qt_decode_row_avx512(const qmc_qtensor *q, int64_t r, float *out) {
    qmc_qd_row R;
    if (!qmc_qd_row_init(q, r, 16, &R)) {
        qmc_qt_decode_row_ref(q, r, out);
        return;
    }
    layout L;
    layout_init(q, &L);
    const int64_t cols = q->cols, ng = qmc_qt_groups(q);
    int64_t pin = R.ii * L.ui.b, pout = R.oi * L.uo.b, g_cur = -1;
    lane_consts K;
    const __m512i zi = _mm512_set1_epi8((char)(L.asym ? 0 : 1 << (q->in.bits - 1)));
    const __m512i zo = _mm512_set1_epi8((char)(L.asym || !L.outliers ? 0 : 1 << (q->out.bits - 1)));
    for (int64_t c = 0; c < cols; c += 64) {
        const __mmask64 valid = valid64(cols - c);
        const uint64_t k = L.outliers ? mask64(q->mask, R.mpos + c) & valid : 0;
        const __m512i m = chunk_codes(q, &L, k, __builtin_popcountll(valid), &pin, &pout, zi, zo);
#define STEP(J)                                                                                             \
    do {                                                                                                    \
        const int64_t c16 = c + 16 * J, g = ng > 1 ? c16 / R.gs : 0;                                        \
        if (g != g_cur) {                                                                                   \
            g_cur = g;                                                                                      \
            row_consts(q, &L, r, g, &K);                                                                    \
        }                                                                                                   \
        const __m512 v = values16(&K, _mm512_extracti32x4_epi32(m, J), (__mmask16)(k >> (16 * J)),          \
                                  L.tables || L.fp4, L.outliers, L.asym);                                   \
        _mm512_mask_storeu_ps(out + c16, (__mmask16)(valid >> (16 * J)), v);                                \
    } while (0)
        STEP(0);
        if (cols - c > 16) STEP(1);
        if (cols - c > 32) STEP(2);
        if (cols - c > 48) STEP(3);
#undef STEP
    }
}

/* ---- fused decode + dot ------------------------------------------------------------
 * The flags (tables, outliers, asym) are compile-time constants in each
 * specialisation below. */

#define FLAGS bool tables, bool outliers, bool asym
#define INLINE static inline __attribute__((always_inline))

/* One chunk of 64 columns; `tail`: the row's last, partial chunk. */
INLINE void dot_chunk(const qmc_qtensor *q, const layout *L, const lane_consts *K, const float *x, int64_t c,
                      int64_t cols, uint64_t k, int64_t *pin, int64_t *pout, __m512i zi, __m512i zo, __m512 acc[4],
                      bool tail, FLAGS) {
    const __mmask64 valid = tail ? valid64(cols - c) : ~0ull;
    if (tail) k &= valid;
    const __m512i m = chunk_codes(q, L, k, tail ? __builtin_popcountll(valid) : 64, pin, pout, zi, zo);
#define STEP(J)                                                                                             \
    do {                                                                                                    \
        const __m128i b16 = _mm512_extracti32x4_epi32(m, J);                                                \
        const __m512 xv = tail ? _mm512_maskz_loadu_ps((__mmask16)(valid >> (16 * J)), x + c + 16 * J)      \
                               : _mm512_loadu_ps(x + c + 16 * J);                                           \
        __m512 v;                                                                                           \
        if (outliers || tables) v = values16(K, b16, (__mmask16)(k >> (16 * J)), tables, outliers, asym);   \
        else /* one plane: sum q * x now, scale the sum once per row */                                     \
            v = _mm512_cvtepi32_ps(asym ? _mm512_cvtepu8_epi32(b16) : _mm512_cvtepi8_epi32(b16));           \
        /* lanes past the row's end: exactly 0 (a table value there may be inf or NaN, and NaN * 0 = NaN) */ \
        if (tail) v = _mm512_maskz_mov_ps((__mmask16)(valid >> (16 * J)), v);                               \
        acc[J] = _mm512_fmadd_ps(v, xv, acc[J]);                                                            \
    } while (0)
    STEP(0);
    STEP(1);
    STEP(2);
    STEP(3);
#undef STEP
}

INLINE float dot_row(const qmc_qtensor *q, const layout *L, int64_t r, const float *x, float xsum, FLAGS) {
    const int64_t cols = q->cols, full = cols & ~(int64_t)63, mpos = r * cols;
    lane_consts K;
    row_consts(q, L, r, 0, &K);
    int64_t pin = q->row_in[r] * L->ui.b, pout = (mpos - q->row_in[r]) * L->uo.b;
    const __m512i zi = _mm512_set1_epi8((char)(asym ? 0 : 1 << (q->in.bits - 1)));
    const __m512i zo = _mm512_set1_epi8((char)(asym || !outliers ? 0 : 1 << (q->out.bits - 1)));
    __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
    for (int64_t c = 0; c < full; c += 64)
        dot_chunk(q, L, &K, x, c, cols, outliers ? mask64(q->mask, mpos + c) : 0, &pin, &pout, zi, zo, acc, false,
                  tables, outliers, asym);
    if (full < cols)
        dot_chunk(q, L, &K, x, full, cols, outliers ? mask64(q->mask, mpos + full) : 0, &pin, &pout, zi, zo, acc, true,
                  tables, outliers, asym);
    const float s = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3])));
    if (outliers || tables) return s;
    /* one plane, per channel: the sum of (q - z) * x or q * x times the row's scale (plus offset * sum x) */
    const float d = f16(q->in_scale, r);
    return asym ? d * s + f16(q->in_min, r) * xsum : d * s;
}

INLINE void dot_rows(const qmc_qtensor *q, const layout *L, int64_t r0, int64_t r1, const float *x, float xsum,
                     float *y, FLAGS) {
    for (int64_t r = r0; r < r1; r++) y[r - r0] = dot_row(q, L, r, x, xsum, tables, outliers, asym);
}

/* ---- integer products for per-channel integer planes ---------------------------
 * The planes' codes are small unsigned integers, so a row's product is, per
 * plane, an integer sum of codes times x, scaled once per row:
 *   row . x = d_in * S_in + d_out * S_out + (offsets) * (sums of x over the
 *             inlier / outlier positions),
 * with S_p = sum over the plane's positions of q_c * x_c.  x is read as
 * 16-bit integers (qmc_qt_dot_xq, rounded once per input vector), so each
 * S_p is computed exactly in 32-bit integers by VNNI: X = 256 * hi + lo with
 * hi signed and lo unsigned bytes, and vpdpbusd (unsigned x signed bytes, 4
 * products per 32-bit lane) takes codes x hi and lo x codes.  Per 64 columns:
 * unpack both planes, vpexpandb each into its lanes (zeros elsewhere), six
 * vpdpbusd (inliers, outliers, and the outlier indicator for the sums of x).
 * The integer sums of each block of QMC_XQ_BLOCK columns are converted and
 * scaled by the block's step s_b. */

/* The view of x built by qmc_qt_dot_prepare (see qmc_qt_dot_xq in qdecode.h). */
typedef struct {
    int8_t *hi;        /* [cols rounded up to 64] high bytes of X (zero past cols) */
    uint8_t *lo;       /* [same] low bytes */
    float *step;       /* [nb] s_b */
    int32_t *hsum;     /* [nb][16] per vpdpbusd lane: 128 * (sum of the block's hi bytes in that lane) */
    float *sum;        /* [1] sum of all s_b * X_c (the x the kernels see) */
    int64_t nb;
} xq_view;

static void xq_view_of(const qmc_qt_dot_in *in, int64_t cols, xq_view *v) {
    const int64_t cp = (cols + 63) & ~(int64_t)63;
    uint8_t *b = (uint8_t *)in->xi;
    v->nb = (cols + QMC_XQ_BLOCK - 1) / QMC_XQ_BLOCK;
    v->hi = (int8_t *)b;
    v->lo = b + cp;
    v->hsum = (int32_t *)(void *)(b + 2 * cp);
    v->step = (float *)(void *)(v->hsum + 16 * v->nb);
    v->sum = v->step + v->nb;
}

/* x rounded per block: X_c = round(x_c / s_b), s_b = max|x_b| / 32767. */
static void xq_prepare(const qmc_qt_dot_in *in, int64_t cols) {
    xq_view V;
    xq_view_of(in, cols, &V);
    const float *x = in->x;
    const __m512i lim = _mm512_set1_epi32(32767), k128 = _mm512_set1_epi8((char)128);
    double total = 0;
    for (int64_t b = 0; b < V.nb; b++) {
        const int64_t c0 = b * QMC_XQ_BLOCK, c1 = QMC_MIN(cols, c0 + QMC_XQ_BLOCK);
        __m512 mx = _mm512_setzero_ps();
        __mmask16 nan = 0;
        for (int64_t c = c0; c < c1; c += 16) {
            const __m512 xv = _mm512_maskz_loadu_ps((__mmask16)valid64(c1 - c), x + c);
            mx = _mm512_max_ps(mx, _mm512_abs_ps(xv));
            nan |= _mm512_cmp_ps_mask(xv, xv, _CMP_UNORD_Q);
        }
        const float m = nan ? NAN : _mm512_reduce_max_ps(mx);
        /* a block below 1e-30 reads as zeros (the inverse of its step would overflow); inf or NaN in x
         * gives a non-finite step, so the product is not finite either */
        const bool zero = m < 1e-30f;
        V.step[b] = zero ? 0.0f : m / 32767.0f;
        const __m512 inv = _mm512_set1_ps(zero || !(m < INFINITY) ? 0.0f : 32767.0f / m);
        __m512i hs = _mm512_setzero_si512(), xs = _mm512_setzero_si512();
        for (int64_t c = c0; c < ((c1 + 63) & ~(int64_t)63); c += 16) {   /* up to the chunk's end: zeros past cols */
            const __mmask16 v = (__mmask16)(c < c1 ? valid64(c1 - c) : 0);
            __m512i X = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_maskz_loadu_ps(v, x + c), inv));
            X = _mm512_max_epi32(_mm512_min_epi32(X, lim), _mm512_sub_epi32(_mm512_setzero_si512(), lim));
            xs = _mm512_add_epi32(xs, X);
            _mm_storeu_si128((__m128i *)(V.hi + c), _mm512_cvtepi32_epi8(_mm512_srai_epi32(X, 8)));
            _mm_storeu_si128((__m128i *)(V.lo + c), _mm512_cvtepi32_epi8(X));
        }
        total += (double)V.step[b] * (double)_mm512_reduce_add_epi32(xs);
        for (int64_t c = c0; c < c1; c += 64)
            hs = _mm512_dpbusd_epi32(hs, k128, _mm512_loadu_si512(V.hi + c));
        _mm512_storeu_si512(V.hsum + 16 * b, hs);
    }
    *V.sum = (float)total;
}

float qmc_qt_dot_xq(const qmc_qt_dot_in *in, int64_t cols, int64_t c) {
    xq_view V;
    xq_view_of(in, cols, &V);
    return V.step[c / QMC_XQ_BLOCK] * (float)(256 * (int)V.hi[c] + (int)V.lo[c]);
}

#define DPBUSD _mm512_dpbusd_epi32

/* 256 * hi + lo of one block's 32-bit lane sums, times the block's step, added to acc. */
static inline __m512 xq_flush(__m512 acc, __m512i hi, __m512i lo, float step) {
    return _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(_mm512_slli_epi32(hi, 8), lo)), _mm512_set1_ps(step),
                           acc);
}

/* One chunk of 64 columns of dot_rows_int; `tail` masks the row's last, partial chunk. */
#define INT_CHUNK(tail, checked)                                                                            \
    do {                                                                                                    \
        const uint64_t valid = tail ? valid64(cols - c) : ~0ull;                                            \
        uint64_t k = 0;                                                                                     \
        if (outliers) {                                                                                     \
            if (byte_aligned) memcpy(&k, mask + ((mpos + c) >> 3), 8);                                      \
            else k = mask64(mask, mpos + c);                                                                \
            k &= valid;                                                                                     \
        }                                                                                                   \
        const uint64_t nk = ~k & valid;                                                                     \
        const int64_t no = __builtin_popcountll(k);                                                         \
        _mm_prefetch((const char *)(inb + (pin >> 3) + 2048), _MM_HINT_T0); /* streams from DRAM */         \
        const __m512i ie = _mm512_maskz_expand_epi8(nk, unpack64(ui, inb, in_bytes, pin, checked));         \
        pin += bi * (tail ? __builtin_popcountll(nk) : 64 - no);                                            \
        const __m512i xh = _mm512_loadu_si512(V.hi + c), xl = _mm512_loadu_si512(V.lo + c);                 \
        ih = DPBUSD(ih, ie, xh);                                                                            \
        il = DPBUSD(il, xl, ie);                                                                            \
        if (outliers) {                                                                                     \
            _mm_prefetch((const char *)(outb + (pout >> 3) + 1024), _MM_HINT_T0);                           \
            const __m512i oe = _mm512_maskz_expand_epi8(k, unpack64(uo, outb, out_bytes, pout, checked));   \
            const __m512i ne = _mm512_maskz_mov_epi8(k, ones);                                              \
            pout += bo * no;                                                                                \
            oh = DPBUSD(oh, oe, xh);                                                                        \
            ol = DPBUSD(ol, xl, oe);                                                                        \
            nh = DPBUSD(nh, ne, xh);                                                                        \
            nl = DPBUSD(nl, xl, ne);                                                                        \
        }                                                                                                   \
    } while (0)

/* Per-channel integer planes of at most 7 bits (codes fit a signed byte). */
INLINE void dot_rows_int(const qmc_qtensor *q, const layout *L, int64_t r0, int64_t r1, const qmc_qt_dot_in *in,
                         float *y, bool outliers) {
    const int64_t cols = q->cols, full = cols & ~(int64_t)63, bi = L->ui.b, bo = L->uo.b;
    const unpacker *ui = &L->ui, *uo = &L->uo;
    const uint8_t *inb = q->in_codes, *outb = q->out_codes, *mask = q->mask;
    const size_t in_bytes = q->in_codes_bytes, out_bytes = q->out_codes_bytes;
    const bool byte_aligned = cols % 8 == 0, asym = L->asym;
    const float zi = asym ? 0.0f : (float)(1 << (q->in.bits - 1));
    const float zo = asym || !outliers ? 0.0f : (float)(1 << (q->out.bits - 1));
    const __m512i ones = _mm512_set1_epi8(1);
    xq_view V;
    xq_view_of(in, cols, &V);
    for (int64_t r = r0; r < r1; r++) {
        const int64_t mpos = r * cols, rin = q->row_in[r], rin1 = q->row_in[r + 1];
        int64_t pin = rin * bi, pout = (mpos - rin) * bo, c = 0;
        __m512 ai = _mm512_setzero_ps(), ao = ai, an = ai;   /* sums of q x over inliers, outliers; of x over outliers */
        __m512i ih = _mm512_setzero_si512(), il = ih, oh = ih, ol = ih, nh = ih, nl = ih;
        /* rows whose codes end 64 bytes before their streams do need no bounds checks */
        const bool unchecked = (rin1 * bi >> 3) + 64 <= (int64_t)in_bytes &&
                               (!outliers || ((mpos + cols - rin1) * bo >> 3) + 64 <= (int64_t)out_bytes);
#define FLUSH(b)                                                                                            \
    do {                                                                                                    \
        ai = xq_flush(ai, ih, il, V.step[b]);                                                               \
        if (outliers) {                                                                                     \
            ao = xq_flush(ao, oh, ol, V.step[b]);                                                           \
            an = xq_flush(an, nh, nl, V.step[b]);                                                           \
        }                                                                                                   \
        ih = il = oh = ol = nh = nl = _mm512_setzero_si512();                                               \
    } while (0)
        /* one loop over the chunks, the block's sums flushed after its last one (a loop per block is slower) */
        if (unchecked)
            for (; c < full;) {
                INT_CHUNK(false, false);
                c += 64;
                if (c % QMC_XQ_BLOCK == 0) FLUSH(c / QMC_XQ_BLOCK - 1);
            }
        else
            for (; c < full;) {
                INT_CHUNK(false, true);
                c += 64;
                if (c % QMC_XQ_BLOCK == 0) FLUSH(c / QMC_XQ_BLOCK - 1);
            }
        if (c < cols) INT_CHUNK(true, true);
        if (cols % QMC_XQ_BLOCK) FLUSH(V.nb - 1);
#undef FLUSH
        const float si = _mm512_reduce_add_ps(ai), so = _mm512_reduce_add_ps(ao), sn = _mm512_reduce_add_ps(an);
        const float sx = *V.sum;
        /* the inliers' x-sum is sx - sn: asymmetric planes add offset * x-sum, symmetric ones subtract
         * d * z * x-sum; a plane with no position in the row adds nothing (its scale may be anything) */
        float yr = 0.0f;
        if (rin1 > rin) {
            const float di = f16(q->in_scale, r);
            yr = asym ? di * si + f16(q->in_min, r) * (sx - sn) : di * (si - zi * (sx - sn));
        }
        if (outliers && rin1 - rin < cols) {
            const float dout = f16(q->out_scale, r);
            yr += asym ? dout * so + f16(q->out_min, r) * sn : dout * (so - zo * sn);
        }
        y[r - r0] = yr;
    }
}
#undef INT_CHUNK

/* Symmetric 8-bit rows without outliers (the default embedding / head
 * format): codes are whole bytes; sum (q - 128) X = 256 (sum q hi - 128 sum hi)
 * + sum lo (q - 128), the last with q - 128 as a signed byte (top bit flipped). */
static float dot_row_u8(const qmc_qtensor *q, int64_t r, const xq_view *V) {
    const int64_t cols = q->cols;
    const uint8_t *codes = q->in_codes + q->row_in[r];
    const __m512i flip = _mm512_set1_epi8((char)0x80);
    __m512 acc = _mm512_setzero_ps();
    int64_t c = 0;
    for (int64_t b = 0; b < V->nb; b++) {
        const int64_t end = QMC_MIN(cols, c + QMC_XQ_BLOCK);
        __m512i hi = _mm512_setzero_si512(), lo = hi;
        for (; c < end; c += 64) {
            _mm_prefetch((const char *)(codes + c + 4096), _MM_HINT_T0);   /* a row ahead: the head streams from DRAM */
            const __m512i w = _mm512_maskz_loadu_epi8(valid64(end - c), codes + c);
            hi = DPBUSD(hi, w, _mm512_loadu_si512(V->hi + c));
            lo = DPBUSD(lo, _mm512_loadu_si512(V->lo + c), _mm512_xor_si512(w, flip));
        }
        acc = xq_flush(acc, _mm512_sub_epi32(hi, _mm512_loadu_si512(V->hsum + 16 * b)), lo, V->step[b]);
    }
    return f16(q->in_scale, r) * _mm512_reduce_add_ps(acc);
}

void qmc_qt_dot_prepare_avx512(const qmc_qtensor *q, qmc_qt_dot_in *in) {
    layout L;
    layout_init(q, &L);
    const int64_t cols = q->cols;
    in->xsum = 0.0f;
    if (qmc_qt_dot_kind(q) != QMC_DOT_FLOAT) {
        xq_prepare(in, cols);
        return;
    }
    if (L.asym) {
        __m512 s = _mm512_setzero_ps();
        for (int64_t c = 0; c < cols; c += 16)
            s = _mm512_add_ps(s, _mm512_maskz_loadu_ps((__mmask16)valid64(cols - c), in->x + c));
        in->xsum = _mm512_reduce_add_ps(s);
    }
}

void qmc_qt_dot_rows_avx512(const qmc_qtensor *q, int64_t r0, int64_t r1, const qmc_qt_dot_in *in, float *y) {
    layout L;
    layout_init(q, &L);
    const float *x = in->x;
    switch (qmc_qt_dot_kind(q)) {
    case QMC_DOT_INT:
        if (L.outliers) dot_rows_int(q, &L, r0, r1, in, y, true);
        else dot_rows_int(q, &L, r0, r1, in, y, false);
        break;
    case QMC_DOT_U8: {
        xq_view V;
        xq_view_of(in, q->cols, &V);
        for (int64_t r = r0; r < r1; r++) y[r - r0] = dot_row_u8(q, r, &V);
        break;
    }
    case QMC_DOT_FLOAT:   /* an 8-bit plane beside another plane or an offset: rare, never value tables */
        dot_rows(q, &L, r0, r1, x, in->xsum, y, false, L.outliers, L.asym);
        break;
    }
}
