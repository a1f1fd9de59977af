/* inject.c — sampling cell read errors into packed planes (method in inject.h). */
#include <math.h>
#include <string.h>

#include "device/inject.h"
#include "util/util.h"

/* Plane ids mixed into the keys (stable: changing them changes every result). */
enum { PLANE_RERAM = 1, PLANE_OUT_CODES = 2, PLANE_OUT_SCALE = 3, PLANE_OUT_MIN = 4, PLANE_IN_SCALE = 5, PLANE_IN_MIN = 6 };

typedef struct {
    int n_levels;
    double err[QMC_CELL_MAX_LEVELS];
    double emax, log1m;                          /* largest err, log(1 - emax) */
    int n_alt[QMC_CELL_MAX_LEVELS];              /* read levels other than w with P > 0 */
    int alt[QMC_CELL_MAX_LEVELS][QMC_CELL_MAX_LEVELS];
    double alt_cum[QMC_CELL_MAX_LEVELS][QMC_CELL_MAX_LEVELS]; /* cumulative P of alt[w][0..i] */
} sampler;

static void sampler_init(sampler *s, const qmc_cell_model *c) {
    memset(s, 0, sizeof *s);
    s->n_levels = c->n_levels;
    for (int w = 0; w < c->n_levels; w++) {
        s->err[w] = c->err[w];
        s->emax = QMC_MAX(s->emax, c->err[w]);
        double cum = 0;
        for (int r = 0; r < c->n_levels; r++) {
            if (r == w || c->confusion[w][r] <= 0) continue;
            cum += c->confusion[w][r];
            s->alt[w][s->n_alt[w]] = r;
            s->alt_cum[w][s->n_alt[w]++] = cum;
        }
    }
    s->log1m = s->emax < 1 ? log1p(-s->emax) : -INFINITY;
}

/* Cells [j0, j1) of one block; returns the number of cells changed. */
static int64_t sample_block(uint8_t *stream, int64_t j0, int64_t j1, int cb, qmc_level_encoding e, const sampler *s,
                            uint64_t bkey) {
    int64_t changed = 0, j = j0 - 1;
    uint64_t ctr = 0;
    for (;;) {
        if (s->emax >= 1) {
            j++;
        } else {
            /* failures before the next candidate: floor(log(1 - u) / log(1 - emax)), u in [0, 1) */
            double g = floor(log1p(-qmc_rand_unit(bkey, ctr++)) / s->log1m);
            if (!(g < (double)(j1 - j - 1))) break;
            j += 1 + (int64_t)g;
        }
        if (j >= j1) break;
        uint32_t w = qmc_cell_level(stream, j, cb, e);
        double ew = s->err[w];
        if (ew < s->emax && qmc_rand_unit(bkey, ctr++) * s->emax >= ew) continue;
        double u = qmc_rand_unit(bkey, ctr++) * ew;
        int n = s->n_alt[w];
        if (n == 0) continue;
        int r = s->alt[w][n - 1];
        for (int i = 0; i < n; i++)
            if (u < s->alt_cum[w][i]) {
                r = s->alt[w][i];
                break;
            }
        qmc_cell_set_level(stream, j, cb, e, (uint32_t)r);
        changed++;
    }
    return changed;
}

int64_t qmc_noise_stream(uint8_t *stream, int64_t n_cells, int cell_bits, qmc_level_encoding e,
                         const qmc_cell_model *cell, uint64_t key) {
    sampler s;
    sampler_init(&s, cell);
    if (s.emax <= 0 || n_cells <= 0) return 0;
    const int64_t nb = (n_cells + QMC_NOISE_BLOCK_CELLS - 1) / QMC_NOISE_BLOCK_CELLS;
    int64_t changed = 0;
    int nt = nb > 1 ? qmc_threads() : 1;
#pragma omp parallel for schedule(static) num_threads(nt) reduction(+ : changed)
    for (int64_t b = 0; b < nb; b++) {
        int64_t j0 = b * QMC_NOISE_BLOCK_CELLS, j1 = QMC_MIN(n_cells, j0 + QMC_NOISE_BLOCK_CELLS);
        changed += sample_block(stream, j0, j1, cell_bits, e, &s, qmc_rand_u64(key, (uint64_t)b));
    }
    return changed;
}

void qmc_noise_counts_add(qmc_noise_counts *sum, const qmc_noise_counts *c) {
    sum->cells += c->cells;
    sum->cell_errors += c->cell_errors;
    sum->expected_errors += c->expected_errors;
    sum->expected_var += c->expected_var;
    sum->mram_bits += c->mram_bits;
    sum->mram_flips += c->mram_flips;
}

int qmc_noise_model_init(qmc_noise_model *nm, const qmc_device_profile *p, int cell_bits, double t_s,
                         qmc_level_encoding e) {
    memset(nm, 0, sizeof *nm);
    int rc = qmc_device_cell_model(p, cell_bits, t_s, &nm->cell);
    if (rc) return rc;
    nm->encoding = e;
    nm->mram_ber = p->mram_ber;
    return QMC_OK;
}

int64_t qmc_noise_tensor_cells(const qmc_qtensor *q, int cell_bits) {
    return qmc_cells_for_codes(q->rows * q->cols - q->n_out, q->in.bits, cell_bits);
}

void qmc_noise_tensor_hist(const qmc_qtensor *q, int cell_bits, qmc_level_encoding e, int64_t *hist) {
    qmc_cell_level_hist(q->in_codes, qmc_noise_tensor_cells(q, cell_bits), cell_bits, e, hist);
}

/* One MRAM plane of nbits bits as 1-bit cells flipping with probability ber. */
static int64_t flip_bits(const uint8_t *plane, int64_t nbits, const qmc_cell_model *bitcell, uint64_t key) {
    if (!plane || nbits <= 0) return 0;
    return qmc_noise_stream(qmc_qt_mut(plane), nbits, 1, QMC_ENC_BINARY, bitcell, key);
}

int qmc_noise_inject(qmc_qtensor *q, const qmc_noise_model *nm, const int64_t *hist, uint64_t key,
                     qmc_noise_counts *counts) {
    memset(counts, 0, sizeof *counts);
    const qmc_cell_model *c = &nm->cell;
    if (c->bits < 1 || c->bits > QMC_CELL_MAX_BITS || c->n_levels != 1 << c->bits)
        return qmc_fail(QMC_ERR_ARG, "noise model has no valid cell width");
    const int64_t n_cells = qmc_noise_tensor_cells(q, c->bits);
    int64_t own[QMC_CELL_MAX_LEVELS] = {0};
    if (!hist) {
        qmc_noise_tensor_hist(q, c->bits, nm->encoding, own);
        hist = own;
    }
    counts->cells = n_cells;
    for (int w = 0; w < c->n_levels; w++) {
        counts->expected_errors += (double)hist[w] * c->err[w];
        counts->expected_var += (double)hist[w] * c->err[w] * (1 - c->err[w]);
    }
    counts->cell_errors = qmc_noise_stream(qmc_qt_mut(q->in_codes), n_cells, c->bits, nm->encoding, c,
                                           qmc_rand_u64(key, PLANE_RERAM));
    if (nm->mram_ber > 0) {
        qmc_cell_model bit;
        memset(&bit, 0, sizeof bit);
        bit.bits = 1;
        bit.n_levels = 2;
        bit.confusion[0][0] = bit.confusion[1][1] = 1 - nm->mram_ber;
        bit.confusion[0][1] = bit.confusion[1][0] = nm->mram_ber;
        qmc_cell_model_finish(&bit);
        const int64_t ng = q->rows * qmc_qt_groups(q), sb = 8 * qmc_qt_scale_bytes(&q->in);
        const struct { const uint8_t *p; int64_t bits; int id; } planes[] = {
            {q->n_out > 0 ? q->out_codes : NULL, q->n_out * q->out.bits, PLANE_OUT_CODES},
            {q->n_out > 0 ? q->out_scale : NULL, q->rows * 16, PLANE_OUT_SCALE},
            {q->n_out > 0 && q->out.asym ? q->out_min : NULL, q->rows * 16, PLANE_OUT_MIN},
            {q->in_scale, ng * sb, PLANE_IN_SCALE},
            {q->in.asym ? q->in_min : NULL, ng * 16, PLANE_IN_MIN},
        };
        for (size_t i = 0; i < QMC_ARRAY_LEN(planes); i++) {
            if (!planes[i].p) continue;
            counts->mram_bits += planes[i].bits;
            counts->mram_flips += flip_bits(planes[i].p, planes[i].bits, &bit, qmc_rand_u64(key, (uint64_t)planes[i].id));
        }
    }
    return QMC_OK;
}
