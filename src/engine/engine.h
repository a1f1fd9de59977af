/* engine.h — inference state: KV cache and activation buffers. */
#ifndef QMC_ENGINE_H
#define QMC_ENGINE_H

#include "engine/kernels.h"
#include "model/model.h"

/* Called with the input of every block linear before it is multiplied:
 * x is [n_tok][cols of w].  For calibration (GPTQ/AWQ statistics). */
typedef void (*qmc_capture_fn)(void *user, int layer, const qmc_tensor *w, const float *x, int n_tok);

struct qmc_session {
    const qmc_model *m;
    int max_ctx;        /* tokens the KV cache holds */
    int max_batch;      /* tokens per forward batch */
    int n_threads;
    float *key_cache;   /* [n_layers][max_ctx][n_kv_heads*head_dim] */
    float *value_cache; /* [n_layers][max_ctx][n_kv_heads*head_dim] */
    float *x;           /* [batch][dim] residual stream */
    float *xb;          /* [batch][max(dim, q_dim)] normed input / projection output */
    float *q;           /* [batch][n_heads*head_dim] */
    float *k, *v;       /* [batch][n_kv_heads*head_dim] */
    float *att_out;     /* [batch][n_heads*head_dim] attention output before Wo */
    float *hb, *hb2;    /* [batch][hidden_dim] gate and up projections */
    float *att;         /* [n_threads][max_ctx] attention scores */
    float *logits;      /* [vocab] convenience buffer for single-position callers */
    float *rope_cos, *rope_sin; /* [max_ctx][head_dim/2] */
    qmc_scratch scratch;        /* row-decoding buffers of the matmul */
    qmc_capture_fn capture;     /* optional: sees every block linear's input */
    void *capture_user;
};

/* Session with an explicit batch size (default 64 tokens). */
int qmc_session_new_batch(const qmc_model *m, int max_ctx, int max_batch, qmc_session **out);

#endif
