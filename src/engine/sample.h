/* sample.h — next-token selection: greedy, temperature, nucleus (top-p). */
#ifndef QMC_SAMPLE_H
#define QMC_SAMPLE_H
#include <stdint.h>

#include "util/util.h"

typedef struct {
    float temperature;  /* 0: greedy */
    float top_p;        /* in (0, 1]; 1: plain temperature sampling */
    qmc_rng rng;
    float *probs;       /* [vocab] work buffers */
    int32_t *idx;
    int vocab;
} qmc_sampler;

int  qmc_sampler_init(qmc_sampler *s, int vocab, float temperature, float top_p, uint64_t seed);
void qmc_sampler_free(qmc_sampler *s);
/* Pick a token from logits[vocab] (logits are not modified). */
int32_t qmc_sample(qmc_sampler *s, const float *logits);
int32_t qmc_argmax(const float *x, int n);
#endif
