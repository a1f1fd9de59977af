/* sample.c — next-token selection (as llama2.c's sampler). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/sample.h"

int qmc_sampler_init(qmc_sampler *s, int vocab, float temperature, float top_p, uint64_t seed) {
    memset(s, 0, sizeof *s);
    s->temperature = temperature;
    s->top_p = top_p;
    s->vocab = vocab;
    qmc_rng_seed(&s->rng, seed);
    s->probs = qmc_alloc((size_t)vocab, sizeof(float));
    s->idx = qmc_alloc((size_t)vocab, sizeof(int32_t));
    return s->probs && s->idx ? QMC_OK : QMC_ERR_NOMEM;
}

void qmc_sampler_free(qmc_sampler *s) {
    qmc_free(s->probs);
    qmc_free(s->idx);
}

int32_t qmc_argmax(const float *x, int n) {
    int32_t best = 0;
    for (int i = 1; i < n; i++)
        if (x[i] > x[best]) best = i;
    return best;
}

static const float *g_sort_probs; /* qsort has no user pointer; used single-threaded */
static int by_prob_desc(const void *a, const void *b) {
    float pa = g_sort_probs[*(const int32_t *)a], pb = g_sort_probs[*(const int32_t *)b];
    if (pa != pb) return pa < pb ? 1 : -1;
    return *(const int32_t *)a - *(const int32_t *)b; /* deterministic ties */
}

int32_t qmc_sample(qmc_sampler *s, const float *logits) {
    const int n = s->vocab;
    if (s->temperature <= 0.0f) return qmc_argmax(logits, n);
    float mx = logits[0];
    for (int i = 1; i < n; i++) mx = logits[i] > mx ? logits[i] : mx;
    double sum = 0;
    for (int i = 0; i < n; i++) {
        s->probs[i] = expf((logits[i] - mx) / s->temperature);
        sum += s->probs[i];
    }
    for (int i = 0; i < n; i++) s->probs[i] = (float)(s->probs[i] / sum);
    double r = qmc_rng_unit(&s->rng);
    if (s->top_p <= 0.0f || s->top_p >= 1.0f) {
        double cdf = 0;
        for (int i = 0; i < n; i++) {
            cdf += s->probs[i];
            if (r < cdf) return i;
        }
        return n - 1;
    }
    /* nucleus: smallest set of most likely tokens whose mass exceeds top_p;
     * tokens below (1 - top_p) / (n - 1) cannot be in it, so skip them */
    const float cutoff = (1.0f - s->top_p) / (float)(n - 1);
    int m = 0;
    for (int i = 0; i < n; i++)
        if (s->probs[i] >= cutoff) s->idx[m++] = i;
    g_sort_probs = s->probs;
    qsort(s->idx, (size_t)m, sizeof(int32_t), by_prob_desc);
    double cum = 0;
    int last = m - 1;
    for (int i = 0; i < m; i++) {
        cum += s->probs[s->idx[i]];
        if (cum > s->top_p) {
            last = i;
            break;
        }
    }
    double target = r * cum, acc = 0;
    for (int i = 0; i <= last; i++) {
        acc += s->probs[s->idx[i]];
        if (target < acc) return s->idx[i];
    }
    return s->idx[last];
}
