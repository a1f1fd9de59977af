/* qdecode_avx512.c — packed rows with AVX-512 (F/BW/VL/VBMI/VBMI2; entered
 * only after qmc_cpu_has_avx512()): the bit-exact row decoder and the fused
 * decode + dot product of single-token decoding.
 *
 * 64 columns at a time:
 *   unpack   64 codes of b bits from a stream at any bit position: one 64-byte
 *            load, vpermb gives qword L the 8 bytes holding codes 8L..8L+7,
 *            vpmultishiftqb picks each code's 8 bits at offset s + j*b of its
 *            qword, an AND keeps b bits (VBMI);
 *   merge    with the 64 outlier-mask bits k, vpexpandb puts the first
 *            popcount(~k) inlier codes into the lanes of ~k and the first
 *            popcount(k) outlier codes into the lanes of k (VBMI2);
 *   values   16 lanes at a time.  Narrow codes (inliers <= 4 bits, outliers
 *            <= 5 bits, the QMC defaults) look their values up in per-row
 *            tables (vpermps / vpermi2ps) holding exactly the reference's
 *            d * (q - z) or fmaf(d, q, m); wider codes convert, fma(q - Z, D, M)
 *            as in qdecode_avx2.c; MXFP4 looks up x * fp4[q].
 * The fused dot multiplies the 16 values by x and accumulates (4 independent
 * accumulators); planes without outliers skip the values and scale the sums
 * of q * x once per row.  The QMC layout has its own loop (dot_rows_qmc:
 * interleaved columns, raw codes, see there). */
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

/* 64 codes from bit position pos of a stream of `size` bytes, each byte
 * holding its code in the low b bits and the following stream bits above
 * ("raw": for lookups that read only the low bits of their index, from
 * tables repeating every 2^b entries).  One 64-byte load; `checked` masks
 * it near the end of the stream (which carries only QMC_BITS_PAD spare
 * bytes). */
static inline __m512i unpack64_raw(const unpacker *u, const uint8_t *stream, size_t size, int64_t pos, bool checked) {
    const int64_t at = pos >> 3, left = (int64_t)size - at;
    const __m512i src = !checked || left >= 64
                            ? _mm512_loadu_si512(stream + at)
                            : _mm512_maskz_loadu_epi8(left > 0 ? _bzhi_u64(~0ull, (unsigned)left) : 0, stream + at);
    return _mm512_multishift_epi64_epi8(u->ctrl[pos & 7], _mm512_permutexvar_epi8(u->perm, src));
}

/* The same with only the code's b bits kept. */
static inline __m512i unpack64(const unpacker *u, const uint8_t *stream, size_t size, int64_t pos) {
    return _mm512_and_si512(unpack64_raw(u, stream, size, pos, true), u->keep);
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
    __m512i m = unpack64(&L->ui, q->in_codes, q->in_codes_bytes, *pin);
    *pin += (int64_t)L->ui.b * (n_valid - no);
    const bool sub = !L->tables && !L->asym && !L->fp4;
    if (sub) m = _mm512_sub_epi8(m, zi);
    if (no) {
        __m512i co = unpack64(&L->uo, q->out_codes, q->out_codes_bytes, *pout);
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

/* The QMC layout (value tables, outliers, per-channel scales).  Columns are
 * taken interleaved: lane i of quarter J of a 64-column chunk is column
 * 4i + J, so quarter J's codes are byte J of each dword of the merged codes —
 * one dword shift instead of widening shuffles (vpermps/vpermi2ps ignore
 * the index bits above 4) — and x comes pre-permuted the same way (xi).
 * Per 16 lanes: look up the outlier value (vpermi2ps), overwrite the inlier
 * lanes from the inlier table (masked vpermps), one FMA with x. */
#define NIB 0x1111111111111111ull

/* One plane's value table for codes iota (16 of them) — the reference's
 * d * (q - z) or fmaf(d, q, m) — from the F16 scale (and offset). */
static inline __m512 table_f16(const uint8_t *scale, const uint8_t *min, int64_t i, bool asym, int z, __m512 iota) {
    uint16_t h;
    memcpy(&h, scale + 2 * i, 2);
    const __m512 d = _mm512_set1_ps(_cvtsh_ss(h));
    if (!asym) return _mm512_mul_ps(d, _mm512_sub_ps(iota, _mm512_set1_ps((float)z)));
    memcpy(&h, min + 2 * i, 2);
    return _mm512_fmadd_ps(d, iota, _mm512_set1_ps(_cvtsh_ss(h)));
}

/* The chunk loop of dot_rows_qmc; `tail` masks the last, partial chunk. */
#define QMC_CHUNK(tail, checked)                                                                            \
    do {                                                                                                    \
        const uint64_t valid = tail ? valid64(cols - c) : ~0ull;                                            \
        uint64_t kraw;                                                                                      \
        if (byte_aligned) memcpy(&kraw, mask + ((mpos + c) >> 3), 8);                                       \
        else kraw = mask64(mask, mpos + c);                                                                 \
        const uint64_t k = kraw & valid, nk = ~k & valid;                                                   \
        const int64_t no = __builtin_popcountll(k);                                                         \
        _mm_prefetch((const char *)(inb + (pin >> 3) + 2048), _MM_HINT_T0);  /* streams from DRAM */        \
        _mm_prefetch((const char *)(outb + (pout >> 3) + 1024), _MM_HINT_T0);                               \
        const __m512i ci = unpack64_raw(ui, inb, in_bytes, pin, checked);                                   \
        const __m512i co = unpack64_raw(uo, outb, out_bytes, pout, checked);                                \
        pin += bi * (tail ? __builtin_popcountll(nk) : 64 - no);                                            \
        pout += bo * no;                                                                                    \
        const __m512i m = _mm512_mask_expand_epi8(_mm512_maskz_expand_epi8(nk, ci), k, co);                 \
        QMC_Q(0, a0, tail);                                                                                       \
        QMC_Q(1, a1, tail);                                                                                       \
        QMC_Q(2, a2, tail);                                                                                       \
        QMC_Q(3, a3, tail);                                                                                       \
    } while (0)
#define QMC_Q(J, A, TAIL)                                                                                       \
    do {                                                                                                    \
        const __m512i idx = J ? _mm512_srli_epi32(m, 8 * J) : m;                                            \
        __m512 v = _mm512_permutex2var_ps(tlo, idx, thi);                                                   \
        v = _mm512_mask_permutexvar_ps(v, (__mmask16)_pext_u64(nk, NIB << J), idx, tin);                    \
        if (TAIL) v = _mm512_maskz_mov_ps((__mmask16)_pext_u64(valid, NIB << J), v); /* past the end: 0 */ \
        A = _mm512_fmadd_ps(v, _mm512_loadu_ps(xi + c + 16 * J), A);                                        \
    } while (0)

static void dot_rows_qmc(const qmc_qtensor *q, const layout *L, int64_t r0, int64_t r1, const float *xi, float *y) {
    const int64_t cols = q->cols, full = cols & ~(int64_t)63, bi = L->ui.b, bo = L->uo.b;
    const unpacker *ui = &L->ui, *uo = &L->uo;
    const uint8_t *inb = q->in_codes, *outb = q->out_codes, *mask = q->mask;
    const size_t in_bytes = q->in_codes_bytes, out_bytes = q->out_codes_bytes;
    const bool asym = L->asym, byte_aligned = cols % 8 == 0;   /* every row's mask starts on a byte */
    const int zi = 1 << (q->in.bits - 1), zo = 1 << (q->out.bits - 1);
    /* the codes keep the neighbouring bits above them (no AND after the unpack): the lookups read
     * index bits 0..3 (inliers) and 0..4 (outliers), so the tables repeat every 2^b entries */
    float iin[16], iout[32];
    for (int i = 0; i < 32; i++) {
        if (i < 16) iin[i] = (float)(i & ((1 << bi) - 1));
        iout[i] = (float)(i & ((1 << bo) - 1));
    }
    const __m512 iota_in = _mm512_loadu_ps(iin), iota0 = _mm512_loadu_ps(iout), iota1 = _mm512_loadu_ps(iout + 16);
    for (int64_t r = r0; r < r1; r++) {
        const int64_t mpos = r * cols;
        const __m512 tin = table_f16(q->in_scale, q->in_min, r, asym, zi, iota_in);
        const __m512 tlo = table_f16(q->out_scale, q->out_min, r, asym, zo, iota0);
        const __m512 thi = table_f16(q->out_scale, q->out_min, r, asym, zo, iota1);
        int64_t pin = q->row_in[r] * bi, pout = (mpos - q->row_in[r]) * bo, c = 0;
        __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        /* rows whose codes end 64 bytes before their streams do need no bounds checks */
        const bool unchecked = (q->row_in[r + 1] * bi >> 3) + 64 <= (int64_t)in_bytes &&
                               ((mpos + cols - q->row_in[r + 1]) * bo >> 3) + 64 <= (int64_t)out_bytes;
        if (unchecked)
            for (; c < full; c += 64) QMC_CHUNK(false, false);
        else
            for (; c < full; c += 64) QMC_CHUNK(false, true);
        if (c < cols) QMC_CHUNK(true, true);
        y[r - r0] = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
    }
}
#undef QMC_Q
#undef QMC_CHUNK

/* Symmetric 8-bit rows without outliers (the default embedding / head
 * format): codes are whole bytes, q - 128 is the byte with its top bit
 * flipped, read as signed; sum (q - z) x, times the row's scale. */
static float dot_row_u8(const qmc_qtensor *q, int64_t r, const float *x) {
    const int64_t cols = q->cols;
    const uint8_t *codes = q->in_codes + q->row_in[r];
    const __m128i flip = _mm_set1_epi8((char)0x80);
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    int64_t c = 0;
#define W16(J) _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_xor_si128(_mm_loadu_si128((const __m128i *)(codes + c + 16 * J)), flip)))
    for (; c + 64 <= cols; c += 64) {
        _mm_prefetch((const char *)(codes + c + 4096), _MM_HINT_T0);   /* a row ahead: the head streams from DRAM */
        a0 = _mm512_fmadd_ps(W16(0), _mm512_loadu_ps(x + c), a0);
        a1 = _mm512_fmadd_ps(W16(1), _mm512_loadu_ps(x + c + 16), a1);
        a2 = _mm512_fmadd_ps(W16(2), _mm512_loadu_ps(x + c + 32), a2);
        a3 = _mm512_fmadd_ps(W16(3), _mm512_loadu_ps(x + c + 48), a3);
    }
#undef W16
    for (; c < cols; c += 16) {
        const __mmask16 v = (__mmask16)valid64(cols - c);
        const __m128i b = _mm_xor_si128(_mm_maskz_loadu_epi8(v, codes + c), flip);
        a0 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_maskz_cvtepi8_epi32(v, b)), _mm512_maskz_loadu_ps(v, x + c), a0);
    }
    return f16(q->in_scale, r) * _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
}

/* x in the interleaved column order of dot_row_qmc (zeros past the end). */
static void interleave_x(const float *x, int64_t cols, float *xi) {
    for (int64_t c = 0; c < cols; c += 64)
        for (int j = 0; j < 4; j++)
            for (int i = 0; i < 16; i++) {
                int64_t col = c + 4 * i + j;
                xi[c + 16 * j + i] = col < cols ? x[col] : 0.0f;
            }
}

void qmc_qt_dot_prepare_avx512(const qmc_qtensor *q, qmc_qt_dot_in *in) {
    layout L;
    layout_init(q, &L);
    const int64_t cols = q->cols;
    in->xsum = 0.0f;
    if (L.asym) {
        __m512 s = _mm512_setzero_ps();
        for (int64_t c = 0; c < cols; c += 16)
            s = _mm512_add_ps(s, _mm512_maskz_loadu_ps((__mmask16)valid64(cols - c), in->x + c));
        in->xsum = _mm512_reduce_add_ps(s);
    }
    if (L.tables && L.outliers) interleave_x(in->x, cols, in->xi);
}

void qmc_qt_dot_rows_avx512(const qmc_qtensor *q, int64_t r0, int64_t r1, const qmc_qt_dot_in *in, float *y) {
    layout L;
    layout_init(q, &L);
    const float *x = in->x;
    /* the common layouts get their own code; the rest the generic one */
    if (L.tables && L.outliers) dot_rows_qmc(q, &L, r0, r1, in->xi, y);
    else if (!L.outliers && !L.asym && q->in.bits == 8 && q->in.elem == QMC_ELEM_INT)
        for (int64_t r = r0; r < r1; r++) y[r - r0] = dot_row_u8(q, r, x);
    else if (!L.tables && !L.outliers && !L.asym) dot_rows(q, &L, r0, r1, x, in->xsum, y, false, false, false);
    else dot_rows(q, &L, r0, r1, x, in->xsum, y, L.tables, L.outliers, L.asym);
}
