/* cellmap.c — level encodings, cell histograms, and the p_minus/p_plus derivation. */
#include <math.h>
#include <string.h>

#include "device/cellmap.h"
#include "util/util.h"

const char *qmc_encoding_name(qmc_level_encoding e) { return e == QMC_ENC_GRAY ? "gray" : "binary"; }

int qmc_encoding_from_name(const char *s) {
    if (strcmp(s, "binary") == 0) return QMC_ENC_BINARY;
    if (strcmp(s, "gray") == 0) return QMC_ENC_GRAY;
    return -1;
}

void qmc_cell_level_hist(const uint8_t *stream, int64_t n_cells, int cell_bits, qmc_level_encoding e, int64_t *hist) {
    for (int64_t j = 0; j < n_cells; j++) hist[qmc_cell_level(stream, j, cell_bits, e)]++;
}

static int gcd(int a, int b) { return b ? gcd(b, a % b) : a; }

#define DQ_MAX 255                 /* |dq| < 2^8 */
#define DQ_SIZE (2 * DQ_MAX + 1)

/* Marginal probability that code value q has bits `val` at the positions in `mask`. */
static double marginal(const double *prob, int code_bits, uint32_t mask, uint32_t val) {
    double s = 0;
    for (uint32_t q = 0; q < (1u << code_bits); q++)
        if ((q & mask) == val) s += prob[q];
    return s;
}

/* dist (over dq + DQ_MAX) convolved with one cell's contribution. */
static void convolve(double *dist, const double *contrib_p, const int *contrib_d, int n, double *tmp) {
    memset(tmp, 0, DQ_SIZE * sizeof *tmp);
    for (int d = 0; d < DQ_SIZE; d++) {
        if (dist[d] == 0) continue;
        for (int i = 0; i < n; i++) {
            int nd = d + contrib_d[i];
            if (nd >= 0 && nd < DQ_SIZE) tmp[nd] += dist[d] * contrib_p[i];
        }
    }
    memcpy(dist, tmp, DQ_SIZE * sizeof *tmp);
}

int qmc_noise_p_derive(const qmc_cell_model *cell, qmc_level_encoding e, int code_bits, const double *code_prob,
                       qmc_noise_p *out) {
    memset(out, 0, sizeof *out);
    const int b = code_bits, c = cell->bits, L = cell->n_levels;
    if (b < 1 || b > 8) return qmc_fail(QMC_ERR_ARG, "code width %d is not 1..8 bits", b);
    if (c < 1 || c > QMC_CELL_MAX_BITS || L != 1 << c) return qmc_fail(QMC_ERR_ARG, "bad cell model (%d bits)", c);
    const int nq = 1 << b;
    double uniform[256];
    const double *prob = uniform;
    if (code_prob) {
        double sum = 0;
        for (int q = 0; q < nq; q++) {
            if (!(code_prob[q] >= 0)) return qmc_fail(QMC_ERR_ARG, "code probability %d is negative", q);
            sum += code_prob[q];
        }
        if (fabs(sum - 1) > 1e-6) return qmc_fail(QMC_ERR_ARG, "code probabilities sum to %.9g, not 1", sum);
        prob = code_prob;
    } else {
        for (int q = 0; q < nq; q++) uniform[q] = 1.0 / nq;
    }
    const int period = b * c / gcd(b, c), phases = period / b;
    double total[DQ_SIZE] = {0}, dist[DQ_SIZE], tmp[DQ_SIZE];
    for (int k = 0; k < phases; k++) {
        const int cs = k * b, ce = cs + b;                 /* the code's stream bits [cs, ce) */
        const int j0 = cs / c, j1 = (ce - 1) / c;          /* cells it touches */
        const int ws = j0 * c, we = (j1 + 1) * c;          /* window of those cells */
        /* neighbour bits: window positions outside the code */
        int nb_pos[2 * QMC_CELL_MAX_BITS], m = 0;
        for (int pos = ws; pos < we; pos++)
            if (pos < cs || pos >= ce) nb_pos[m++] = pos;
        for (uint32_t pat = 0; pat < (1u << m); pat++) {
            /* probability of the neighbour pattern: product over the neighbour codes of their marginals */
            double p_pat = 1;
            for (int i = 0; i < m;) {
                int owner = nb_pos[i] / b;
                uint32_t mask = 0, val = 0;
                for (; i < m && nb_pos[i] / b == owner; i++) {
                    mask |= 1u << (nb_pos[i] % b);
                    if ((pat >> i) & 1) val |= 1u << (nb_pos[i] % b);
                }
                p_pat *= marginal(prob, b, mask, val);
            }
            if (p_pat == 0) continue;
            for (uint32_t q = 0; q < (uint32_t)nq; q++) {
                double pw = p_pat * prob[q] / phases;
                if (pw == 0) continue;
                /* window bits: code q at [cs, ce), the pattern elsewhere */
                uint32_t win = 0;
                for (int pos = ws, i = 0; pos < we; pos++) {
                    uint32_t bit = pos >= cs && pos < ce ? (q >> (pos - cs)) & 1 : (pat >> i++) & 1;
                    win |= bit << (pos - ws);
                }
                memset(dist, 0, sizeof dist);
                dist[DQ_MAX] = 1;
                for (int j = j0; j <= j1; j++) {
                    uint32_t v = (win >> ((j - j0) * c)) & ((1u << c) - 1);
                    uint32_t w = qmc_value_to_level(v, e);
                    double cp[QMC_CELL_MAX_LEVELS];
                    int cd[QMC_CELL_MAX_LEVELS], n = 0;
                    for (int r = 0; r < L; r++) {
                        if (cell->confusion[w][r] == 0) continue;
                        uint32_t nv = qmc_level_to_value((uint32_t)r, e);
                        int d = 0;
                        for (int t = 0; t < c; t++) {
                            int pos = j * c + t;
                            if (pos < cs || pos >= ce) continue;
                            d += ((int)((nv >> t) & 1) - (int)((v >> t) & 1)) * (1 << (pos - cs));
                        }
                        cp[n] = cell->confusion[w][r];
                        cd[n++] = d;
                    }
                    convolve(dist, cp, cd, n, tmp);
                }
                for (int d = 0; d < DQ_SIZE; d++) total[d] += pw * dist[d];
            }
        }
    }
    for (int d = 0; d < DQ_SIZE; d++) {
        double dq = d - DQ_MAX, pd = total[d];
        if (dq < 0) out->p_minus += pd * dq * dq;
        if (dq > 0) out->p_plus += pd * dq * dq;
        if (dq != 0) out->p_code_error += pd;
        out->mean_dq += pd * dq;
    }
    for (int w = 0; w < L; w++) {
        if (w > 0) out->cell_p_minus += cell->confusion[w][w - 1] / L;
        if (w + 1 < L) out->cell_p_plus += cell->confusion[w][w + 1] / L;
        out->cell_error += cell->err[w] / L;
    }
    return QMC_OK;
}
