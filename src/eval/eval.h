/* eval.h — perplexity (two protocols) and KL divergence against a base model. */
#ifndef QMC_EVAL_H
#define QMC_EVAL_H

#include <stdbool.h>
#include <stdint.h>

#include "model/model.h"

typedef enum {
    /* llama.cpp llama-perplexity: the text (BOS first) is cut into
     * non-overlapping chunks of n_ctx tokens, each chunk's first token is
     * replaced by BOS, and only the predictions of the second half of each
     * chunk are scored (n_ctx - 1 - n_ctx/2 per chunk); a partial last chunk
     * is dropped. */
    QMC_PPL_LLAMACPP = 0,
    /* GPTQ/AWQ papers: the text is cut into non-overlapping windows of n_ctx-1
     * tokens, each run as BOS + window, and every token is scored (the
     * partial last window too). */
    QMC_PPL_FULL = 1,
} qmc_ppl_protocol;

typedef struct {
    qmc_ppl_protocol protocol;
    int n_ctx;            /* window length in tokens including BOS (0: the model's seq_len, at most 2048 for full) */
    int64_t max_chunks;   /* 0: all */
    int batch;            /* tokens per forward call (0: 64) */
    const char *kl_base;  /* NULL, or a file of base log-probabilities */
    bool kl_save;         /* write kl_base (else compare against it) */
    bool progress;        /* progress on stderr */
} qmc_ppl_opts;

typedef struct {
    double ppl, nll_mean, nll_stderr;  /* exp(mean NLL), mean NLL (nats), its standard error */
    int64_t n_scored;      /* tokens whose NLL is in the mean */
    int64_t n_evaluated;   /* tokens run through the model */
    int64_t n_chunks;
    int n_ctx;
    double seconds, tokens_per_s; /* evaluated tokens per second */
    bool has_kl;
    double kl_mean, kl_stderr;     /* mean KL(base || model) in nats */
    double top1_agree;             /* fraction of positions with the same argmax */
} qmc_ppl_result;

/* tokens: the text without BOS. */
int qmc_perplexity(const qmc_model *m, const int32_t *tokens, int64_t n_tokens, const qmc_ppl_opts *opts,
                   qmc_ppl_result *res);
const char *qmc_ppl_protocol_name(qmc_ppl_protocol p);

/* log-softmax of logits[n] into out[n]; returns log-sum-exp. */
double qmc_log_softmax(const float *logits, int n, float *out);

#endif
