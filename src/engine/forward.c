/* forward.c — the Llama-family forward pass, read top to bottom.
 *
 * A call runs a batch of n tokens at consecutive positions through every
 * block (RMSNorm -> Q/K/V (+bias) -> RoPE -> causal GQA attention over the KV
 * cache -> output projection -> residual; RMSNorm -> SwiGLU -> residual) and
 * the output head.  Weight matrices are multiplied once per batch, so prompt
 * prefill and perplexity windows read each weight once per batch rather than
 * once per token. */
#include <math.h>
#include <omp.h>
#include <string.h>

#include "engine/engine.h"
#include "engine/kernels.h"

/* ---- session ------------------------------------------------------------- */

void qmc_session_free(qmc_session *s) {
    if (!s) return;
    qmc_free(s->key_cache);
    qmc_free(s->value_cache);
    qmc_free(s->x);
    qmc_free(s->xb);
    qmc_free(s->q);
    qmc_free(s->k);
    qmc_free(s->v);
    qmc_free(s->att_out);
    qmc_free(s->hb);
    qmc_free(s->hb2);
    qmc_free(s->att);
    qmc_free(s->logits);
    qmc_free(s->rope_cos);
    qmc_free(s->rope_sin);
    qmc_scratch_free(&s->scratch);
    qmc_free(s);
}

/* RoPE angle tables: angle(pos, i) = pos * theta^(-2i/head_dim) / factor_i,
 * factor_i from rope_freqs (Llama-3 scaling) or 1. */
static void rope_tables(qmc_session *s) {
    const qmc_config *c = &s->m->cfg;
    const int half = c->head_dim / 2;
    const float *factors = s->m->rope_freqs.data;
    for (int i = 0; i < half; i++) {
        float freq = 1.0f / powf(c->rope_theta, (float)(2 * i) / (float)c->head_dim);
        if (factors) freq /= factors[i];
        for (int p = 0; p < s->max_ctx; p++) {
            float a = (float)p * freq;
            s->rope_cos[(int64_t)p * half + i] = cosf(a);
            s->rope_sin[(int64_t)p * half + i] = sinf(a);
        }
    }
}

int qmc_session_new_batch(const qmc_model *m, int max_ctx, int max_batch, qmc_session **out) {
    *out = NULL;
    const qmc_config *c = &m->cfg;
    if (max_ctx <= 0) max_ctx = c->seq_len;
    if (max_ctx > (1 << 22)) return qmc_fail(QMC_ERR_RANGE, "context of %d tokens is too large", max_ctx);
    if (max_batch <= 0) max_batch = 64;
    if (max_batch > max_ctx) max_batch = max_ctx;
    qmc_session *s = qmc_alloc(1, sizeof *s);
    if (!s) return QMC_ERR_NOMEM;
    s->m = m;
    s->max_ctx = max_ctx;
    s->max_batch = max_batch;
    s->n_threads = qmc_threads();
    const int64_t kvd = (int64_t)c->n_kv_heads * c->head_dim, qd = (int64_t)c->n_heads * c->head_dim;
    const int64_t B = max_batch, cache = (int64_t)c->n_layers * max_ctx * kvd;
    int64_t max_cols = QMC_MAX(QMC_MAX(c->dim, c->hidden_dim), qd);
    s->key_cache = qmc_alloc((size_t)cache, sizeof(float));
    s->value_cache = qmc_alloc((size_t)cache, sizeof(float));
    s->x = qmc_alloc((size_t)(B * c->dim), sizeof(float));
    s->xb = qmc_alloc((size_t)(B * QMC_MAX(c->dim, qd)), sizeof(float));
    s->q = qmc_alloc((size_t)(B * qd), sizeof(float));
    s->k = qmc_alloc((size_t)(B * kvd), sizeof(float));
    s->v = qmc_alloc((size_t)(B * kvd), sizeof(float));
    s->att_out = qmc_alloc((size_t)(B * qd), sizeof(float));
    s->hb = qmc_alloc((size_t)(B * c->hidden_dim), sizeof(float));
    s->hb2 = qmc_alloc((size_t)(B * c->hidden_dim), sizeof(float));
    s->att = qmc_alloc((size_t)s->n_threads * (size_t)max_ctx, sizeof(float));
    s->logits = qmc_alloc((size_t)c->vocab_size, sizeof(float));
    s->rope_cos = qmc_alloc((size_t)max_ctx * (size_t)(c->head_dim / 2), sizeof(float));
    s->rope_sin = qmc_alloc((size_t)max_ctx * (size_t)(c->head_dim / 2), sizeof(float));
    if (!s->key_cache || !s->value_cache || !s->x || !s->xb || !s->q || !s->k || !s->v || !s->att_out || !s->hb ||
        !s->hb2 || !s->att || !s->logits || !s->rope_cos || !s->rope_sin ||
        qmc_scratch_init(&s->scratch, max_cols, s->n_threads)) {
        qmc_session_free(s);
        return qmc_error_prefix(QMC_ERR_NOMEM, "session for %d tokens", max_ctx);
    }
    rope_tables(s);
    *out = s;
    return QMC_OK;
}

int qmc_session_new(const qmc_model *m, int max_ctx, qmc_session **out) {
    return qmc_session_new_batch(m, max_ctx, 0, out);
}

/* ---- building blocks ------------------------------------------------------ */

static void rmsnorm(float *o, const float *x, const float *w, int n, float eps) {
    float ss = 0.0f;
    for (int j = 0; j < n; j++) ss += x[j] * x[j];
    ss = 1.0f / sqrtf(ss / (float)n + eps);
    for (int j = 0; j < n; j++) o[j] = w[j] * (ss * x[j]);
}

/* RoPE on one head vector.  Attention always runs on heads in adjacent-pair
 * order ((x0,x1) (x2,x3) ...): a half-split (NEOX) head is first reordered
 * into it, so a model and its row-permuted twin (llama2.c vs Hugging Face)
 * compute bit-identical q.k sums. */
static void rope_head(float *v, int hd, const float *cs, const float *sn, qmc_rope_style style) {
    const int half = hd / 2;
    if (style == QMC_ROPE_NEOX) {
        float t[QMC_MAX_HEAD_DIM];
        for (int i = 0; i < half; i++) {
            t[2 * i] = v[i];
            t[2 * i + 1] = v[i + half];
        }
        memcpy(v, t, (size_t)hd * sizeof(float));
    }
    for (int i = 0; i < half; i++) {
        float v0 = v[2 * i], v1 = v[2 * i + 1];
        v[2 * i] = v0 * cs[i] - v1 * sn[i];
        v[2 * i + 1] = v0 * sn[i] + v1 * cs[i];
    }
}

static void softmax(float *x, int n) {
    float mx = x[0];
    for (int i = 1; i < n; i++) mx = x[i] > mx ? x[i] : mx;
    float sum = 0.0f;
    for (int i = 0; i < n; i++) {
        x[i] = expf(x[i] - mx);
        sum += x[i];
    }
    for (int i = 0; i < n; i++) x[i] /= sum;
}

static void add_bias(float *y, const qmc_tensor *b, int n_tok, int64_t width) {
    if (!b->data) return;
    const float *bb = b->data;
    for (int t = 0; t < n_tok; t++)
        for (int64_t i = 0; i < width; i++) y[t * width + i] += bb[i];
}

/* ---- forward -------------------------------------------------------------- */

/* y = W x for a block linear, letting a calibration hook see x first. */
static int linear(qmc_session *s, int layer, const qmc_tensor *w, const float *x, int n, float *y, int64_t ld_y) {
    if (s->capture) s->capture(s->capture_user, layer, w, x, n);
    return qmc_matmul(w, x, n, y, ld_y, &s->scratch);
}

static int forward_batch(qmc_session *s, const int32_t *tokens, int n, int pos, float *logits, bool all_logits) {
    const qmc_model *m = s->m;
    const qmc_config *c = &m->cfg;
    const int dim = c->dim, hd = c->head_dim, half = hd / 2;
    const int64_t qd = (int64_t)c->n_heads * hd, kvd = (int64_t)c->n_kv_heads * hd;
    const int kv_mul = c->n_heads / c->n_kv_heads;
    const float att_scale = 1.0f / sqrtf((float)hd);
    int rc;

    /* token embeddings into the residual stream x[n][dim] */
    for (int t = 0; t < n; t++) qmc_tensor_get_row(&m->token_embd, tokens[t], s->x + (int64_t)t * dim);

    for (int l = 0; l < c->n_layers; l++) {
        const qmc_layer *L = &m->layers[l];
        float *kc = s->key_cache + (int64_t)l * s->max_ctx * kvd;   /* [max_ctx][kvd] */
        float *vc = s->value_cache + (int64_t)l * s->max_ctx * kvd;

        /* attention: xb = rmsnorm(x); q,k,v = W xb (+ b) */
        for (int t = 0; t < n; t++)
            rmsnorm(s->xb + (int64_t)t * dim, s->x + (int64_t)t * dim, L->attn_norm.data, dim, c->norm_eps);
        if ((rc = linear(s, l, &L->wq, s->xb, n, s->q, qd)) || (rc = linear(s, l, &L->wk, s->xb, n, s->k, kvd)) ||
            (rc = linear(s, l, &L->wv, s->xb, n, s->v, kvd)))
            return rc;
        add_bias(s->q, &L->bq, n, qd);
        add_bias(s->k, &L->bk, n, kvd);
        add_bias(s->v, &L->bv, n, kvd);

        /* RoPE on q and k, then k and v into the cache at their positions */
        for (int t = 0; t < n; t++) {
            const float *cs = s->rope_cos + (int64_t)(pos + t) * half, *sn = s->rope_sin + (int64_t)(pos + t) * half;
            for (int h = 0; h < c->n_heads; h++) rope_head(s->q + t * qd + (int64_t)h * hd, hd, cs, sn, c->rope_style);
            for (int h = 0; h < c->n_kv_heads; h++) rope_head(s->k + t * kvd + (int64_t)h * hd, hd, cs, sn, c->rope_style);
            memcpy(kc + (int64_t)(pos + t) * kvd, s->k + t * kvd, (size_t)kvd * sizeof(float));
            memcpy(vc + (int64_t)(pos + t) * kvd, s->v + t * kvd, (size_t)kvd * sizeof(float));
        }

        /* causal attention, one (token, head) pair per iteration */
        const int64_t att_work = (int64_t)n * c->n_heads * (pos + n) * hd;
#pragma omp parallel for schedule(static) num_threads(s->n_threads) if (att_work >= QMC_PARALLEL_MIN_WORK)
        for (int th = 0; th < n * c->n_heads; th++) {
            const int t = th / c->n_heads, h = th % c->n_heads, kvh = h / kv_mul, len = pos + t + 1;
            const float *qh = s->q + t * qd + (int64_t)h * hd;
            float *att = s->att + (int64_t)omp_get_thread_num() * s->max_ctx;
            for (int p = 0; p < len; p++) att[p] = qmc_dot(qh, kc + (int64_t)p * kvd + (int64_t)kvh * hd, hd) * att_scale;
            softmax(att, len);
            float *o = s->att_out + t * qd + (int64_t)h * hd;
            memset(o, 0, (size_t)hd * sizeof(float));
            for (int p = 0; p < len; p++) {
                const float *vh = vc + (int64_t)p * kvd + (int64_t)kvh * hd;
                const float a = att[p];
                for (int i = 0; i < hd; i++) o[i] += a * vh[i];
            }
        }
        /* x += Wo att_out */
        if ((rc = linear(s, l, &L->wo, s->att_out, n, s->xb, dim))) return rc;
        for (int64_t i = 0; i < (int64_t)n * dim; i++) s->x[i] += s->xb[i];

        /* feed-forward: x += W_down (silu(W_gate xb) * W_up xb) */
        for (int t = 0; t < n; t++)
            rmsnorm(s->xb + (int64_t)t * dim, s->x + (int64_t)t * dim, L->ffn_norm.data, dim, c->norm_eps);
        if ((rc = linear(s, l, &L->w_gate, s->xb, n, s->hb, c->hidden_dim)) ||
            (rc = linear(s, l, &L->w_up, s->xb, n, s->hb2, c->hidden_dim)))
            return rc;
        for (int64_t i = 0; i < (int64_t)n * c->hidden_dim; i++) {
            float g = s->hb[i];
            s->hb[i] = g / (1.0f + expf(-g)) * s->hb2[i];
        }
        if ((rc = linear(s, l, &L->w_down, s->hb, n, s->xb, dim))) return rc;
        for (int64_t i = 0; i < (int64_t)n * dim; i++) s->x[i] += s->xb[i];
    }

    /* final norm and the output head (all positions, or the last one) */
    if (!logits) return QMC_OK;
    const int first = all_logits ? 0 : n - 1, count = n - first;
    for (int t = first; t < n; t++)
        rmsnorm(s->xb + (int64_t)(t - first) * dim, s->x + (int64_t)t * dim, m->output_norm.data, dim, c->norm_eps);
    return qmc_matmul(qmc_model_head(m), s->xb, count, logits, c->vocab_size, &s->scratch);
}

int qmc_forward(qmc_session *s, const int32_t *tokens, int n, int pos, float *logits, bool all_logits) {
    const qmc_config *c = &s->m->cfg;
    if (n <= 0) return qmc_fail(QMC_ERR_ARG, "no tokens to run");
    if (pos < 0 || pos + n > s->max_ctx)
        return qmc_fail(QMC_ERR_RANGE, "positions %d..%d exceed the context of %d tokens", pos, pos + n - 1, s->max_ctx);
    for (int i = 0; i < n; i++)
        if (tokens[i] < 0 || tokens[i] >= c->vocab_size)
            return qmc_fail(QMC_ERR_RANGE, "token id %d is outside the vocabulary (%d)", tokens[i], c->vocab_size);
    /* batches of at most max_batch tokens */
    for (int done = 0; done < n;) {
        int k = QMC_MIN(n - done, s->max_batch);
        bool last = done + k == n;
        float *lg = NULL;
        if (all_logits) lg = logits + (int64_t)done * c->vocab_size;
        else if (last) lg = logits;
        int rc = forward_batch(s, tokens + done, k, pos + done, lg, all_logits);
        if (rc) return rc;
        done += k;
    }
    return QMC_OK;
}
