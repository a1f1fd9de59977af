/* montecarlo.h — Monte-Carlo evaluation of a packed model under device noise.
 *
 * A qmc_noisy_model holds, for every packed tensor in scope, a private clone
 * of its planes (qmc_qt_clone) and a view of the model whose tensors point at
 * those clones; the loaded model and its file are never written.  Each trial
 * restores the clones from the clean planes and injects fresh noise with the
 * key qmc_rand_u64(qmc_rand_u64(qmc_key(seed, "qmc-noise"), trial), tensor
 * index): trials are independent, reproducible from (seed, trial) alone, and
 * the same whatever the thread count.  The evaluation run on each trial's
 * view is a callback (perplexity today; zero-shot accuracy can be swapped in). */
#ifndef QMC_DEVICE_MONTECARLO_H
#define QMC_DEVICE_MONTECARLO_H

#include "device/inject.h"
#include "model/model.h"

typedef enum {
    QMC_NOISE_SCOPE_BLOCKS = 0,  /* packed transformer-block linears (the paper's quantized weights) */
    QMC_NOISE_SCOPE_ALL = 1,     /* every packed tensor (embedding and head too, when packed) */
} qmc_noise_scope;

typedef struct qmc_noisy_model qmc_noisy_model;

/* Fails when no packed tensor is in scope (nothing is stored in ReRAM). */
int qmc_noisy_model_new(const qmc_model *clean, const qmc_noise_model *nm, qmc_noise_scope scope,
                        qmc_noisy_model **out);
void qmc_noisy_model_free(qmc_noisy_model *n);
/* The model to evaluate: the clean model with the noisy planes. */
const qmc_model *qmc_noisy_model_view(const qmc_noisy_model *n);
/* Tensors in scope, and the written-level histogram of all their cells. */
int qmc_noisy_model_tensors(const qmc_noisy_model *n);
const int64_t *qmc_noisy_model_hist(const qmc_noisy_model *n);
/* Draw trial `trial` of `seed` into the view (restoring the clean planes first). */
int qmc_noisy_model_draw(qmc_noisy_model *n, uint64_t seed, int64_t trial, qmc_noise_counts *counts);
/* Put the clean planes back (the view then equals the clean model). */
void qmc_noisy_model_restore(qmc_noisy_model *n);

/* One evaluation of a model: writes its metric into *value. */
typedef int (*qmc_trial_eval_fn)(const qmc_model *m, void *user, double *value);

typedef struct {
    double value;              /* the metric of this trial */
    qmc_noise_counts counts;   /* what was injected */
    double seconds;            /* injection + evaluation */
} qmc_trial_result;

/* Run trials 0..n_trials-1 of seed: draw, evaluate; results in out[n_trials].
 * on_trial (may be NULL) is called after each trial (progress output). */
int qmc_noise_trials(qmc_noisy_model *n, int n_trials, uint64_t seed, qmc_trial_eval_fn eval, void *user,
                     qmc_trial_result *out, void (*on_trial)(int trial, const qmc_trial_result *r, void *user));

#endif
