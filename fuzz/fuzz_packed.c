/* fuzz_packed.c — packed QMC planes inside GGUF (qmc_packed_read): the
 * "qmc.tensor.NAME" descriptors, plane types and sizes, the outlier position
 * bitmap and the derived row index.  Every accepted tensor is then used the
 * way the engine uses it, on copies of its planes in heap blocks of exactly
 * the size the file declared (inside the file, reading past a plane only
 * reaches the next plane; in its own block AddressSanitizer sees it):
 *   - every row decoded by the reference and the fast (AVX2 / AVX-512)
 *     decoder, which must agree bit for bit;
 *   - every row dotted with a vector by qmc_qt_dot_rows (the fused
 *     decode + dot kernel where it applies, which loads the code streams 64
 *     bytes at a time) and by the reference, over all rows and over the
 *     second half (a start row > 0); for symmetric planes with finite values
 *     the two must agree to within float rounding. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/qdecode.h"
#include "formats/gguf.h"
#include "fuzz.h"
#include "quant/packfile.h"

/* A heap copy of n bytes (n > 0) that ends exactly where the plane ends. */
static const uint8_t *isolate(const uint8_t *p, int64_t n, void **hold) {
    if (!p) return NULL;
    FUZZ_CHECK(n > 0);
    uint8_t *c = malloc((size_t)n);
    if (!c) abort();
    memcpy(c, p, (size_t)n);
    *hold = c;
    return c;
}

static void check_dots(const qmc_qtensor *q, int64_t r0, const float *x, const float *y, const float *yr) {
    const int64_t cols = q->cols;
    if (q->in.asym || (q->n_out > 0 && q->out.asym)) return; /* offsets cancel: no simple error bound */
    float *row = malloc((size_t)cols * sizeof(float));
    if (!row) abort();
    for (int64_t r = r0; r < q->rows; r++) {
        qmc_qt_decode_row_ref(q, r, row);
        double s = 0;
        for (int64_t c = 0; c < cols; c++) s += fabs((double)row[c] * x[c]);
        if (!(s < 1e30)) continue; /* inf / NaN scales */
        double tol = 4.0 * (double)(cols + 16) * 1.2e-7 * s + 1e-30;
        double d = fabs((double)y[r - r0] - (double)yr[r - r0]);
        if (!(d <= tol))
            fuzz_abort("row %lld: dot %.9g, reference %.9g (|row|.|x| = %.9g)", (long long)r, (double)y[r - r0],
                       (double)yr[r - r0], s);
    }
    free(row);
}

static void dot_all_rows(const qmc_qtensor *q) {
    const int64_t rows = q->rows, cols = q->cols;
    float *x = malloc((size_t)cols * sizeof(float)), *xi = malloc((size_t)qmc_qt_dot_xi_len(cols) * sizeof(float));
    float *y = malloc((size_t)rows * sizeof(float)), *yr = malloc((size_t)rows * sizeof(float));
    if (!x || !xi || !y || !yr) abort();
    for (int64_t c = 0; c < cols; c++) x[c] = (float)((c * 37) % 17 - 8) * 0.125f;
    qmc_qt_dot_in in = {.x = x, .xi = xi};
    qmc_qt_dot_prepare(q, &in);
    /* the integer kernels multiply x rounded to 16 bits (x^): the reference takes the same x */
    if (qmc_qt_dot_fused(q) && qmc_qt_dot_kind(q) != QMC_DOT_FLOAT)
        for (int64_t c = 0; c < cols; c++) x[c] = qmc_qt_dot_xq(&in, cols, c);
    const int64_t starts[2] = {0, rows / 2};
    for (int k = 0; k < (rows > 1 ? 2 : 1); k++) {
        qmc_qt_dot_rows(q, starts[k], rows, &in, y);
        qmc_qt_dot_rows_ref(q, starts[k], rows, x, yr);
        check_dots(q, starts[k], x, y, yr);
    }
    free(x);
    free(xi);
    free(y);
    free(yr);
}

/* Decode and dot every row of t with each plane in its own exact-size block. */
static void exercise_isolated(const qmc_tensor *t) {
    const qmc_qtensor *q = t->q;
    qmc_plane_sizes ps;
    qmc_qt_plane_sizes(q, &ps);
    void *hold[8] = {0};
    qmc_qtensor iq = *q;
    memset(iq.owned, 0, sizeof iq.owned);
    iq.in_codes = isolate(q->in_codes, ps.in_codes, &hold[0]);
    iq.in_scale = isolate(q->in_scale, ps.in_scale, &hold[1]);
    iq.in_min = q->in.asym ? isolate(q->in_min, ps.in_min, &hold[2]) : NULL;
    if (q->n_out > 0) {
        iq.mask = isolate(q->mask, ps.mask, &hold[3]);
        iq.out_codes = isolate(q->out_codes, ps.out_codes, &hold[4]);
        iq.out_scale = isolate(q->out_scale, ps.out_scale, &hold[5]);
        iq.out_min = q->out.asym ? isolate(q->out_min, ps.out_min, &hold[6]) : NULL;
    }
    iq.row_in = (int64_t *)isolate((const uint8_t *)q->row_in, (q->rows + 1) * (int64_t)sizeof(int64_t), &hold[7]);
    /* the row index: non-decreasing, ending at the number of inliers */
    FUZZ_CHECK(iq.row_in[0] == 0 && iq.row_in[q->rows] == q->rows * q->cols - q->n_out);
    for (int64_t r = 0; r < q->rows; r++) FUZZ_CHECK(iq.row_in[r + 1] - iq.row_in[r] <= q->cols && iq.row_in[r + 1] >= iq.row_in[r]);
    qmc_tensor it = *t;
    it.q = &iq;
    fuzz_exercise_tensor(&it);
    dot_all_rows(&iq);
    for (int i = 0; i < 8; i++) free(hold[i]);
}

QMC_FUZZ_TARGET(packed) {
    gguf_ctx *g = NULL;
    int rc = gguf_parse(data, size, FUZZ_LABEL, &g);
    fuzz_check_status(rc, "gguf_parse");
    if (rc) return;
    for (int64_t i = 0; i < g->n_kv; i++) {
        const char *key = g->kv[i].key;
        if (strncmp(key, "qmc.tensor.", 11) != 0) continue;
        qmc_tensor t = {0};
        rc = qmc_packed_read(g, FUZZ_LABEL, key + 11, &t);
        fuzz_check_status(rc < 0 ? rc : 0, "qmc_packed_read");
        if (rc != 1) continue;
        FUZZ_CHECK(t.type == QMC_TYPE_PACKED && t.q != NULL);
        exercise_isolated(&t);
        qmc_tensor_release(&t);
    }
    /* descriptors on their own (the string parser) */
    for (int64_t i = 0; i < g->n_kv; i++) {
        const gguf_kv *kv = &g->kv[i];
        if (kv->type != GGUF_TYPE_STRING || kv->v.s.len > 600) continue;
        char desc[601];
        memcpy(desc, kv->v.s.s, kv->v.s.len);
        desc[kv->v.s.len] = 0;
        qmc_qtensor q;
        fuzz_check_status(qmc_packed_parse_desc(desc, FUZZ_LABEL, "t", &q), "qmc_packed_parse_desc");
    }
    gguf_free(g);
}
