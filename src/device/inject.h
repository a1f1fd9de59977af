/* inject.h — read noise on packed tensors: ReRAM cells and (optionally) MRAM bits.
 *
 * The ReRAM plane (in_codes) is cut into cells (device/cellmap.h); each cell
 * written at level w independently reads as level r with probability
 * confusion[w][r] of the cell model, and the read level is written back into
 * the stream, so an error lands on whatever code bits share the cell.  The
 * MRAM plane is left untouched unless mram_ber > 0: then every bit of the
 * outlier codes and of all scales and offsets (F16 or E8M0) flips
 * independently with that probability.  The outlier position bitmap is
 * treated as ECC-protected and never flips (a flipped position bit would
 * shift the decoding of every later code of the tensor).
 *
 * Sampling: cells are visited in fixed blocks of QMC_NOISE_BLOCK_CELLS; in
 * each block the next candidate cell is found by geometric skipping with the
 * largest per-level error rate e_max, a candidate written at level w is
 * accepted with probability err[w]/e_max (thinning, so each cell errs
 * independently with exactly err[w]), and the read level is drawn from
 * confusion[w][.] without w.  Every random number is qmc_rand_u64(block key,
 * counter), the block key derived from (key, plane, block): the result is
 * bit-identical whatever the thread count, and a block of a rate-1e-8 plane
 * costs a few hash calls.  Planes are modified in place: callers perturb a
 * clone (qmc_qt_clone), never a mapped file. */
#ifndef QMC_DEVICE_INJECT_H
#define QMC_DEVICE_INJECT_H

#include <stdint.h>

#include "device/cellmap.h"
#include "device/profile.h"
#include "quant/qtensor.h"

#define QMC_NOISE_BLOCK_CELLS ((int64_t)1 << 16)   /* a multiple of 8: blocks own whole bytes */

/* What is injected. */
typedef struct {
    qmc_cell_model cell;          /* ReRAM read model (confusion incl. stuck-at) */
    qmc_level_encoding encoding;  /* level <-> stored value */
    double mram_ber;              /* per-bit flip probability of the MRAM plane */
} qmc_noise_model;

/* Counts of one injection (summed over tensors by the caller). */
typedef struct {
    int64_t cells;              /* ReRAM cells holding codes */
    int64_t cell_errors;        /* cells read at another level than written */
    double expected_errors;     /* sum over those cells of err[written level] */
    double expected_var;        /* sum of err (1 - err): binomial variance of cell_errors */
    int64_t mram_bits;          /* MRAM bits exposed to mram_ber (0 when it is 0) */
    int64_t mram_flips;
} qmc_noise_counts;

void qmc_noise_counts_add(qmc_noise_counts *sum, const qmc_noise_counts *c);

/* Build the noise model of a profile; cell_bits 1..4, t_s 0 = default time. */
int qmc_noise_model_init(qmc_noise_model *nm, const qmc_device_profile *p, int cell_bits, double t_s,
                         qmc_level_encoding e);

/* Cells of a packed tensor's ReRAM plane, and their written-level histogram
 * (hist[QMC_CELL_MAX_LEVELS], added to). */
int64_t qmc_noise_tensor_cells(const qmc_qtensor *q, int cell_bits);
void qmc_noise_tensor_hist(const qmc_qtensor *q, int cell_bits, qmc_level_encoding e, int64_t *hist);

/* Perturb the planes of q in place.  hist: the written-level histogram of
 * q's cells (NULL: computed here); it gives the expected counts.  key: the
 * tensor's noise key (e.g. from seed, trial and tensor index). */
int qmc_noise_inject(qmc_qtensor *q, const qmc_noise_model *nm, const int64_t *hist, uint64_t key,
                     qmc_noise_counts *counts);

/* The sampler on a raw stream of n_cells cells of cell_bits bits (exposed
 * for tests and for 1-bit MRAM planes); returns the number of cells changed. */
int64_t qmc_noise_stream(uint8_t *stream, int64_t n_cells, int cell_bits, qmc_level_encoding e,
                         const qmc_cell_model *cell, uint64_t key);

#endif
