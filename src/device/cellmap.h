/* cellmap.h — how the ReRAM plane's bit stream is stored in multi-level cells.
 *
 * The inlier plane (qtensor.h in_codes) is one little-endian bit stream:
 * code k occupies stream bits [k*b, k*b + b).  With c bits per cell, cell j
 * holds stream bits [j*c, j*c + c): consecutive c-bit slices of the stream,
 * whatever the code width.  So 3-bit codes in 3-bit cells are one code per
 * cell, and 3-bit codes in 2-bit cells straddle cells (1.5 cells per code:
 * cell 0 = code 0 bits 0-1, cell 1 = code 0 bit 2 + code 1 bit 0, cell 2 =
 * code 1 bits 1-2, ...).  The cell's stored value v is its slice read as a
 * c-bit little-endian number (lowest stream bit = bit 0 of v).
 *
 * Level encoding (which analog level stores which value):
 *   binary: level = v                 (3-bit cells + offset-binary codes: one
 *                                      level of error = one code step = +-Delta)
 *   gray:   v = level ^ (level >> 1)  (neighbouring levels differ in one bit:
 *                                      a one-level error flips exactly one bit)
 * The last cell of a stream may be partly filled; its spare bits are the
 * stream's zero padding (qmc_bits_bytes adds QMC_BITS_PAD bytes). */
#ifndef QMC_DEVICE_CELLMAP_H
#define QMC_DEVICE_CELLMAP_H

#include <stdint.h>

#include "device/profile.h"
#include "quant/qtensor.h"

typedef enum { QMC_ENC_BINARY = 0, QMC_ENC_GRAY = 1 } qmc_level_encoding;

const char *qmc_encoding_name(qmc_level_encoding e);
int qmc_encoding_from_name(const char *s); /* -1 if unknown */

/* Stored value of a level and level of a stored value. */
static inline uint32_t qmc_level_to_value(uint32_t level, qmc_level_encoding e) {
    return e == QMC_ENC_GRAY ? level ^ (level >> 1) : level;
}
static inline uint32_t qmc_value_to_level(uint32_t v, qmc_level_encoding e) {
    if (e != QMC_ENC_GRAY) return v;
    for (uint32_t s = v >> 1; s; s >>= 1) v ^= s;
    return v;
}

/* Cells that hold n_codes codes of code_bits bits (the last one maybe partly). */
static inline int64_t qmc_cells_for_codes(int64_t n_codes, int code_bits, int cell_bits) {
    return (n_codes * code_bits + cell_bits - 1) / cell_bits;
}
/* Stored value of cell j.  Touches only the bytes that hold the cell's bits,
 * so it also works on planes without read padding (scales). */
static inline uint32_t qmc_cell_value(const uint8_t *stream, int64_t j, int cell_bits) {
    const int64_t pos = j * cell_bits;
    const uint8_t *b = stream + (pos >> 3);
    const int sh = (int)(pos & 7);
    uint32_t v = (uint32_t)b[0] >> sh;
    if (sh + cell_bits > 8) v |= (uint32_t)b[1] << (8 - sh);
    return v & ((1u << cell_bits) - 1);
}
/* Level of cell j of a stream, and writing a level into it. */
static inline uint32_t qmc_cell_level(const uint8_t *stream, int64_t j, int cell_bits, qmc_level_encoding e) {
    return qmc_value_to_level(qmc_cell_value(stream, j, cell_bits), e);
}
static inline void qmc_cell_set_level(uint8_t *stream, int64_t j, int cell_bits, qmc_level_encoding e, uint32_t level) {
    qmc_bits_put(stream, j * cell_bits, cell_bits, qmc_level_to_value(level, e));
}
/* hist[level] += number of cells [0, n_cells) written at that level. */
void qmc_cell_level_hist(const uint8_t *stream, int64_t n_cells, int cell_bits, qmc_level_encoding e, int64_t *hist);

/* ---- the noise-aware quantizer's p_minus / p_plus ----------------------------
 * The paper's inlier loss is ||W - Q(W;s)||^2 + n (p_minus + p_plus) Delta^2,
 * the expected squared read error when each code is read one step low/high
 * with probabilities p_minus/p_plus.  With real cells a code can move by more
 * than one step (2-bit cells: a cell error can flip a code's top bit, +-4
 * steps), so qmc derives the pair from the exact distribution of the code
 * error dq (in steps) that the cell model, cell width and encoding imply:
 *   p_minus = E[dq^2; dq < 0],  p_plus = E[dq^2; dq > 0]
 * so that n (p_minus + p_plus) Delta^2 is the expected noise energy exactly
 * (with one-step errors only, as for 3-bit codes in 3-bit binary cells, these
 * are the probabilities of reading one step low/high).  One pair, averaged
 * over codes, because the loss has one pair per tensor: codes are drawn
 * independently from code_prob (NULL: uniform), every alignment of a code
 * relative to the cell boundaries weighted equally. */
typedef struct {
    double p_minus, p_plus;   /* squared-error-equivalent one-step probabilities */
    double p_code_error;      /* P(dq != 0): a code reads wrong */
    double mean_dq;           /* E[dq] (bias, in steps) */
    double cell_p_minus;      /* P(a cell reads one level low), averaged over levels */
    double cell_p_plus;       /* P(a cell reads one level high), averaged over levels */
    double cell_error;        /* P(a cell reads any other level), averaged over levels */
} qmc_noise_p;

int qmc_noise_p_derive(const qmc_cell_model *cell, qmc_level_encoding e, int code_bits, const double *code_prob,
                       qmc_noise_p *out);

#endif
