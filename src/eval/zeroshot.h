/* zeroshot.h — zero-shot scoring of a task set with a model, following
 * lm-evaluation-harness (see docs/zeroshot.md for the protocol in full).
 *
 * Each option (context, continuation) of an example is one loglikelihood
 * request.  It is tokenized as lm-eval's HFLM._encode_pair does: trailing
 * whitespace of the context moves to the front of the continuation, the
 * whole string context+continuation is encoded, the context alone is
 * encoded, and the continuation tokens are whole[len(context tokens):].  The
 * model input is BOS (optional) + context tokens + continuation tokens minus
 * the last one; when that exceeds the context window the oldest tokens are
 * dropped (after BOS), as lm-eval truncates from the left; an example with
 * a continuation longer than the window is skipped and counted.  The option's
 * loglikelihood is the sum over continuation tokens of log-softmax(logits)
 * at the target; "greedy" says whether every target is the argmax.
 *
 * Requests are run through one KV cache per thread with prefix reuse within
 * an example: the tokens already in the cache that agree with the new input
 * are kept, and only the rest is run (at least the continuation and the last
 * context position, whose logits are needed).  The options of a
 * multiple-choice example therefore run their shared context once.  Examples
 * are spread over threads; every number is independent of the thread count,
 * and bit-identical to scoring each full sequence from scratch (the engine's
 * per-token results do not depend on batching); tests/test_zeroshot.c checks
 * both.
 *
 * The model is any qmc_model: F32, packed, or a noisy copy of a packed one,
 * so a Monte-Carlo noise loop calls qmc_zeroshot_eval() once per trial
 * (or qmc_zs_prepare() once and qmc_zs_run() + qmc_zs_aggregate() per trial). */
#ifndef QMC_ZEROSHOT_H
#define QMC_ZEROSHOT_H

#include <stdbool.h>
#include <stdint.h>

#include "eval/tasks.h"
#include "model/model.h"

typedef struct {
    int64_t limit;      /* score the first `limit` examples (0: all) */
    int max_ctx;        /* tokens per model input (0: the model's seq_len) */
    bool no_bos;        /* do not prepend BOS (lm-eval's HF default for Llama tokenizers) */
    int batch;          /* tokens per forward batch (0: 64) */
    bool progress;      /* progress line on stderr */
} qmc_zs_opts;

/* One tokenized request. */
typedef struct {
    int64_t tok;        /* offset in qmc_zs_requests.tokens of the full sequence:
                         * [BOS] + context + continuation, after truncation */
    int32_t n_full;     /* its length; the model input is the first n_full - 1 tokens */
    int32_t n_cont;     /* continuation tokens (the last n_cont of the sequence) */
    bool truncated;     /* the oldest context tokens were dropped to fit max_ctx */
} qmc_zs_request;

typedef struct {
    const qmc_task_set *task;
    int64_t n_examples;        /* examples covered (after the limit) */
    int64_t n_requests;        /* = options of those examples; request i is option i */
    qmc_zs_request *req;       /* [n_requests] */
    int32_t *tokens;           /* all sequences back to back */
    int64_t n_tokens;
    int max_ctx;               /* window used */
    int longest;               /* longest model input (n_full - 1) of any request */
    int longest_cont;          /* most continuation tokens of any request */
    int64_t n_truncated;       /* requests cut from the left */
    int64_t n_split_fallback;  /* requests whose joint encoding left no continuation
                                * token, encoded as context + continuation separately */
    uint8_t *skip;             /* [n_examples] 1: not scored (a continuation is longer than max_ctx;
                                * its requests are empty and its scores NaN) */
    int64_t n_too_long;        /* examples skipped so */
} qmc_zs_requests;

/* Score of one option. */
typedef struct {
    double ll;          /* sum of log-probabilities of the continuation tokens (nats) */
    bool greedy;        /* every continuation token is the argmax of its logits */
} qmc_zs_score;

typedef struct {
    char task[64];
    qmc_task_kind kind;
    int64_t n;                       /* examples scored */
    int64_t n_too_long;              /* examples skipped: a continuation is longer than the window */
    double acc, acc_stderr;          /* CHOICE/PARTIAL: argmax of ll; TARGET: greedy match */
    bool has_acc_norm;               /* CHOICE (and PARTIAL, where it equals lm-eval's definition) */
    double acc_norm, acc_norm_stderr;   /* argmax of ll / characters (lm-eval acc_norm) */
    double acc_bytes, acc_bytes_stderr; /* argmax of ll / UTF-8 bytes (lm-eval acc_bytes) */
    bool has_ppl;                    /* TARGET tasks */
    double ppl, ppl_stderr;          /* exp(-mean ll); stderr by the delta method */
    double mean_ll;                  /* mean ll per example (TARGET) */
    int64_t n_requests, n_truncated, n_split_fallback;
    int64_t tokens_run;              /* tokens run through the model (after prefix reuse) */
    int64_t tokens_requested;        /* model input tokens of all requests (without reuse) */
    double seconds;                  /* tokenization + scoring */
} qmc_zs_result;

/* Tokenize the first opts->limit examples of t with m's tokenizer. */
int  qmc_zs_prepare(const qmc_model *m, const qmc_task_set *t, const qmc_zs_opts *o, qmc_zs_requests **out);
void qmc_zs_requests_free(qmc_zs_requests *r);
/* Run every request through m; scores[n_requests].  *tokens_run (may be NULL)
 * receives the number of tokens run after prefix reuse. */
int  qmc_zs_run(const qmc_model *m, const qmc_zs_requests *r, const qmc_zs_opts *o, qmc_zs_score *scores,
                int64_t *tokens_run);
/* Metrics from per-option scores (scores[i] belongs to option i of the
 * first n_examples examples), leaving out examples with skip[e] != 0 (skip
 * may be NULL).  Fills everything but the timing/token counts. */
void qmc_zs_aggregate(const qmc_task_set *t, int64_t n_examples, const qmc_zs_score *scores, const uint8_t *skip,
                      qmc_zs_result *res);
/* Prepare + run + aggregate. */
int  qmc_zeroshot_eval(const qmc_model *m, const qmc_task_set *t, const qmc_zs_opts *o, qmc_zs_result *res);

/* One Monte-Carlo noise trial: the evaluation callback of a trial loop
 * (signature int (*)(const qmc_model *m, void *user, double *value)), with
 * user a qmc_zs_trial.  The first call tokenizes the task's requests; later
 * calls (each trial's noisy view of the same packed model, same tokenizer and
 * vocabulary) only score them.  *value is the chosen metric; the whole
 * result of the latest trial is in last. */
typedef enum {
    QMC_ZS_METRIC_ACC = 0,
    QMC_ZS_METRIC_ACC_NORM = 1,  /* falls back to acc where lm-eval reports no acc_norm */
    QMC_ZS_METRIC_PPL = 2,       /* target tasks (LAMBADA) */
} qmc_zs_metric;

typedef struct {
    const qmc_task_set *task;
    qmc_zs_opts opts;
    qmc_zs_metric metric;
    qmc_zs_requests *req;    /* made by the first call; released by qmc_zs_trial_free */
    int vocab_size;          /* of the model the requests were made with */
    qmc_zs_result last;      /* the latest trial's full result */
} qmc_zs_trial;

int  qmc_zs_trial_eval(const qmc_model *m, void *user, double *value);
void qmc_zs_trial_free(qmc_zs_trial *tr);

/* lm-eval's mean_stderr of a 0/1 metric with mean p over n examples:
 * sqrt(p (1 - p) / (n - 1)); NaN for n < 2. */
double qmc_zs_binary_stderr(double p, int64_t n);

#endif
