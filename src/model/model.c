/* model.c — loading dispatch, validation and iteration over a model's tensors. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "model/model.h"
#include "quant/qtensor.h"

void qmc_block_tensor_name(char *buf, size_t cap, int layer, const char *what) {
    snprintf(buf, cap, "blk.%d.%s.weight", layer, what);
}

void qmc_config_finish(qmc_config *c) {
    if (c->head_dim <= 0 && c->n_heads > 0) c->head_dim = c->dim / c->n_heads;
    if (c->n_kv_heads <= 0) c->n_kv_heads = c->n_heads;
    if (c->norm_eps <= 0) c->norm_eps = 1e-5f;
    if (c->rope_theta <= 0) c->rope_theta = 10000.0f;
}

void qmc_llama3_rope_factors(const qmc_config *c, float *out) {
    /* transformers' _compute_llama3_parameters, expressed as divisors */
    const double factor = c->rope_scaling_factor, lo = c->rope_low_freq_factor, hi = c->rope_high_freq_factor;
    const double old_ctx = c->rope_orig_max_pos;
    const double low_wavelen = old_ctx / lo, high_wavelen = old_ctx / hi;
    for (int i = 0; i < c->head_dim / 2; i++) {
        double freq = 1.0 / pow((double)c->rope_theta, (double)(2 * i) / (double)c->head_dim);
        double wavelen = 2.0 * M_PI / freq;
        if (wavelen < high_wavelen) out[i] = 1.0f;
        else if (wavelen > low_wavelen) out[i] = (float)factor;
        else {
            double smooth = (old_ctx / wavelen - lo) / (hi - lo);
            out[i] = (float)(1.0 / ((1.0 - smooth) / factor + smooth));
        }
    }
}

int qmc_model_alloc_layers(qmc_model *m) {
    if (m->cfg.n_layers <= 0 || m->cfg.n_layers > 4096)
        return qmc_fail(QMC_ERR_FORMAT, "%s: bad layer count %d", m->path, m->cfg.n_layers);
    m->layers = qmc_alloc((size_t)m->cfg.n_layers, sizeof(qmc_layer));
    return m->layers ? QMC_OK : qmc_error_prefix(QMC_ERR_NOMEM, "%s", m->path);
}

/* Tensors of one layer in GGUF order, with their canonical short names. */
typedef struct { const char *what; size_t off; } layer_slot;
static const layer_slot k_layer_slots[] = {
    {"attn_norm", offsetof(qmc_layer, attn_norm)}, {"attn_q", offsetof(qmc_layer, wq)},
    {"attn_k", offsetof(qmc_layer, wk)},           {"attn_v", offsetof(qmc_layer, wv)},
    {"attn_q_bias", offsetof(qmc_layer, bq)},      {"attn_k_bias", offsetof(qmc_layer, bk)},
    {"attn_v_bias", offsetof(qmc_layer, bv)},      {"attn_output", offsetof(qmc_layer, wo)},
    {"ffn_norm", offsetof(qmc_layer, ffn_norm)},   {"ffn_gate", offsetof(qmc_layer, w_gate)},
    {"ffn_down", offsetof(qmc_layer, w_down)},     {"ffn_up", offsetof(qmc_layer, w_up)},
};

int qmc_model_for_each_tensor(qmc_model *m, qmc_tensor_fn fn, void *user) {
    int rc;
    if ((rc = fn(m, &m->token_embd, -1, user))) return rc;
    for (int l = 0; l < m->cfg.n_layers; l++)
        for (size_t i = 0; i < QMC_ARRAY_LEN(k_layer_slots); i++) {
            qmc_tensor *t = (qmc_tensor *)((char *)&m->layers[l] + k_layer_slots[i].off);
            if (!t->data && !t->q) continue; /* absent bias */
            if ((rc = fn(m, t, l, user))) return rc;
        }
    if ((rc = fn(m, &m->output_norm, -1, user))) return rc;
    if (!m->cfg.tied_output && (rc = fn(m, &m->output, -1, user))) return rc;
    if (m->rope_freqs.data && (rc = fn(m, &m->rope_freqs, -1, user))) return rc;
    return QMC_OK;
}

bool qmc_tensor_is_block_linear(const qmc_model *m, const qmc_tensor *t) {
    for (int l = 0; l < m->cfg.n_layers; l++) {
        const qmc_layer *L = &m->layers[l];
        if (t == &L->wq || t == &L->wk || t == &L->wv || t == &L->wo || t == &L->w_gate || t == &L->w_down ||
            t == &L->w_up)
            return true;
    }
    return false;
}

static int check_shape(const qmc_model *m, const qmc_tensor *t, int64_t ne0, int64_t ne1) {
    int64_t rows = qmc_tensor_rows(t);
    if (t->ne[0] != ne0 || rows != ne1)
        return qmc_fail(QMC_ERR_FORMAT, "%s: tensor '%s' has shape [%lld, %lld], expected [%lld, %lld]", m->path, t->name,
                        (long long)t->ne[0], (long long)rows, (long long)ne0, (long long)ne1);
    if (!t->data && !t->q) return qmc_fail(QMC_ERR_FORMAT, "%s: tensor '%s' has no data", m->path, t->name);
    if (t->type == QMC_TYPE_PACKED && (t->q->rows != ne1 || t->q->cols != ne0))
        return qmc_fail(QMC_ERR_FORMAT, "%s: packed tensor '%s' planes do not match its shape", m->path, t->name);
    return QMC_OK;
}

static int check_vec(const qmc_model *m, const qmc_tensor *t, int64_t n) {
    int rc = check_shape(m, t, n, 1);
    if (rc) return rc;
    if (t->type != QMC_TYPE_F32)
        return qmc_fail(QMC_ERR_STATE, "%s: vector '%s' must be F32 in memory", m->path, t->name);
    return QMC_OK;
}

int qmc_model_validate(const qmc_model *m) {
    const qmc_config *c = &m->cfg;
    if (c->dim <= 0 || c->hidden_dim <= 0 || c->n_layers <= 0 || c->n_heads <= 0 || c->n_kv_heads <= 0 ||
        c->vocab_size <= 0 || c->head_dim <= 0 || c->seq_len <= 0)
        return qmc_fail(QMC_ERR_FORMAT, "%s: hyperparameters must be positive (dim %d, hidden %d, layers %d, heads %d/%d, vocab %d, seq_len %d)",
                        m->path, c->dim, c->hidden_dim, c->n_layers, c->n_heads, c->n_kv_heads, c->vocab_size, c->seq_len);
    if (c->n_heads % c->n_kv_heads)
        return qmc_fail(QMC_ERR_FORMAT, "%s: n_heads %d is not a multiple of n_kv_heads %d", m->path, c->n_heads, c->n_kv_heads);
    if (c->head_dim % 2) return qmc_fail(QMC_ERR_FORMAT, "%s: head_dim %d is odd (RoPE needs pairs)", m->path, c->head_dim);
    if (c->dim > (1 << 20) || c->hidden_dim > (1 << 22) || c->vocab_size > (1 << 24) || c->head_dim > QMC_MAX_HEAD_DIM ||
        c->n_heads > 4096)
        return qmc_fail(QMC_ERR_FORMAT, "%s: hyperparameters out of range", m->path);
    int64_t qd = (int64_t)c->n_heads * c->head_dim, kvd = (int64_t)c->n_kv_heads * c->head_dim;
    int rc;
    if ((rc = check_shape(m, &m->token_embd, c->dim, c->vocab_size))) return rc;
    if ((rc = check_vec(m, &m->output_norm, c->dim))) return rc;
    if (!c->tied_output && (rc = check_shape(m, &m->output, c->dim, c->vocab_size))) return rc;
    if (m->rope_freqs.data && (rc = check_vec(m, &m->rope_freqs, c->head_dim / 2))) return rc;
    for (int l = 0; l < c->n_layers; l++) {
        const qmc_layer *L = &m->layers[l];
        if ((rc = check_vec(m, &L->attn_norm, c->dim)) || (rc = check_vec(m, &L->ffn_norm, c->dim)) ||
            (rc = check_shape(m, &L->wq, c->dim, qd)) || (rc = check_shape(m, &L->wk, c->dim, kvd)) ||
            (rc = check_shape(m, &L->wv, c->dim, kvd)) || (rc = check_shape(m, &L->wo, qd, c->dim)) ||
            (rc = check_shape(m, &L->w_gate, c->dim, c->hidden_dim)) ||
            (rc = check_shape(m, &L->w_up, c->dim, c->hidden_dim)) ||
            (rc = check_shape(m, &L->w_down, c->hidden_dim, c->dim)))
            return rc;
        if (c->qkv_bias && ((rc = check_vec(m, &L->bq, qd)) || (rc = check_vec(m, &L->bk, kvd)) ||
                            (rc = check_vec(m, &L->bv, kvd))))
            return rc;
    }
    if (m->tok && m->tok->n_vocab != c->vocab_size) {
        /* a vocabulary smaller than the embedding is allowed (padding rows) */
        if (m->tok->n_vocab > c->vocab_size)
            return qmc_fail(QMC_ERR_FORMAT, "%s: tokenizer has %d tokens but the model only %d", m->path,
                            m->tok->n_vocab, c->vocab_size);
    }
    return QMC_OK;
}

void qmc_model_free(qmc_model *m) {
    if (!m) return;
    /* every slot, also of a model whose loading stopped half-way (the
     * layers may not exist yet while the embedding and norms do) */
    qmc_tensor_release(&m->token_embd);
    qmc_tensor_release(&m->output_norm);
    qmc_tensor_release(&m->output);
    qmc_tensor_release(&m->rope_freqs);
    for (int l = 0; m->layers && l < m->cfg.n_layers; l++)
        for (size_t i = 0; i < QMC_ARRAY_LEN(k_layer_slots); i++)
            qmc_tensor_release((qmc_tensor *)((char *)&m->layers[l] + k_layer_slots[i].off));
    qmc_free(m->layers);
    qmc_tok_free(m->tok);
    if (m->gguf) gguf_free(m->gguf);
    for (int i = 0; i < m->n_files; i++) qmc_unmap_file(&m->files[i]);
    qmc_free(m->files);
    qmc_free(m);
}

const qmc_config *qmc_model_config(const qmc_model *m) { return &m->cfg; }
const char *qmc_model_source_format(const qmc_model *m) { return m->source_format; }
const qmc_tokenizer *qmc_model_tokenizer(const qmc_model *m) { return m->tok; }

static int count_params(qmc_model *m, qmc_tensor *t, int layer, void *user) {
    *(int64_t *)user += qmc_tensor_nelem(t);
    return 0;
}

int64_t qmc_model_n_params(const qmc_model *m) {
    int64_t n = 0;
    qmc_model_for_each_tensor((qmc_model *)m, count_params, &n);
    return n;
}

static bool is_gguf(const uint8_t *p, size_t n) { return n >= 4 && memcmp(p, "GGUF", 4) == 0; }

int qmc_model_from_buffer(const uint8_t *buf, size_t size, const char *label, qmc_model **out) {
    *out = NULL;
    qmc_model *m = qmc_alloc(1, sizeof *m);
    if (!m) return QMC_ERR_NOMEM;
    snprintf(m->path, sizeof m->path, "%s", label);
    int rc = is_gguf(buf, size) ? qmc_gguf_model_parse(buf, size, label, m) : qmc_llama2c_parse(buf, size, label, m);
    if (rc == QMC_OK) rc = qmc_model_validate(m);
    if (rc) {
        qmc_model_free(m);
        return rc;
    }
    *out = m;
    return QMC_OK;
}

int qmc_model_load(const char *path, const qmc_load_opts *opts, qmc_model **out) {
    *out = NULL;
    qmc_load_opts defaults = {0};
    if (!opts) opts = &defaults;
    qmc_model *m = qmc_alloc(1, sizeof *m);
    if (!m) return QMC_ERR_NOMEM;
    snprintf(m->path, sizeof m->path, "%s", path);
    int rc;
    if (qmc_is_dir(path) || qmc_ends_with(path, ".safetensors") || qmc_ends_with(path, ".json")) {
        rc = qmc_load_safetensors(path, opts, m);
    } else {
        FILE *fp = fopen(path, "rb");
        if (!fp) {
            qmc_free(m);
            return qmc_fail(QMC_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
        }
        uint8_t magic[4] = {0};
        size_t got = fread(magic, 1, 4, fp);
        fclose(fp);
        if (is_gguf(magic, got)) rc = qmc_load_gguf(path, opts, m);
        else rc = qmc_load_llama2c(path, opts, m);
    }
    if (rc == QMC_OK) rc = qmc_model_validate(m);
    if (rc) {
        qmc_model_free(m);
        return rc;
    }
    *out = m;
    return QMC_OK;
}
