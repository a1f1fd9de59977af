/* synth.h — models with the exact shapes of real SLMs and random,
 * heavy-tailed weights, so speed, memory and quantization can be measured at
 * real scale without downloading checkpoints. */
#ifndef QMC_SYNTH_H
#define QMC_SYNTH_H

#include "model/model.h"

typedef struct {
    const char *name;       /* e.g. "llama-3.2-1b" */
    const char *source;     /* where the shape comes from (model card / config.json) */
    qmc_config cfg;
} qmc_synth_shape;

/* Known shapes; NULL-terminated by name. */
extern const qmc_synth_shape qmc_synth_shapes[];
const qmc_synth_shape *qmc_synth_find(const char *name);

typedef struct {
    uint64_t seed;
    qmc_write_type type;    /* QMC_WRITE_F32 or QMC_WRITE_F16 */
    int layers;             /* 0: the shape's; else truncate to this many blocks (quick tests) */
    bool progress;
} qmc_synth_opts;

/* Weight distribution (per tensor): Student-t with nu = 3 + (layer*7 + kind) % 6
 * degrees of freedom, scaled to std 1/sqrt(fan_in) * (1 + 0.5 * layer / n_layers),
 * with 1% of input columns scaled by 4-8x (outlier channels, as real LLMs have).
 * Norm weights 1 + N(0, 0.05); embeddings t(5) with std 0.02. The vocabulary is a
 * byte-fallback SentencePiece vocabulary padded to vocab_size.  The file is
 * streamed: memory use does not grow with the model. */
int qmc_synth_write(const qmc_synth_shape *shape, const qmc_synth_opts *opts, const char *path);

#endif
