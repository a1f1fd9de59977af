/* gguf_model.c — Llama/Qwen2 models from and to GGUF.
 *
 * Hyperparameters use llama.cpp's keys ({arch}.embedding_length, ...),
 * tensors its names (token_embd.weight, blk.N.attn_q.weight, ...).  The
 * "llama" architecture uses adjacent-pair RoPE (llama.cpp permutes Q/K rows
 * when converting from Hugging Face), "qwen2" uses half-split (NEOX) RoPE.
 * Llama-3 rope scaling is the rope_freqs.weight tensor, as llama.cpp writes. */
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "model/model.h"
#include "model/tensor_out.h"
#include "quant/packfile.h"

/* Llama-3 rope scaling parameters.  llama.cpp keeps only the rope_freqs
 * tensor they produce; qmc also stores them so that a Hugging Face
 * config.json can be written back (rope_scaling of type "llama3"). */
#define LLAMA3_FACTOR "qmc.rope.llama3.factor"
#define LLAMA3_LOW "qmc.rope.llama3.low_freq_factor"
#define LLAMA3_HIGH "qmc.rope.llama3.high_freq_factor"
#define LLAMA3_ORIG_CTX "qmc.rope.llama3.original_max_position_embeddings"

/* ---- loading ----------------------------------------------------------------- */

static int get_u(const gguf_ctx *g, const char *label, const char *arch, const char *key, bool required,
                 int64_t lo, int64_t hi, int *out) {
    char full[128];
    snprintf(full, sizeof full, "%s.%s", arch, key);
    int64_t v;
    if (!gguf_get_i64(g, full, &v)) {
        if (!required) return QMC_OK;
        if (gguf_find(g, full)) return qmc_fail(QMC_ERR_FORMAT, "%s: key %s is not an integer", label, full);
        return qmc_fail(QMC_ERR_FORMAT, "%s: missing key %s", label, full);
    }
    if (v < lo || v > hi) return qmc_fail(QMC_ERR_FORMAT, "%s: key %s = %lld is out of range", label, full, (long long)v);
    *out = (int)v;
    return QMC_OK;
}

static int get_f(const gguf_ctx *g, const char *arch, const char *key, float *out) {
    char full[128];
    snprintf(full, sizeof full, "%s.%s", arch, key);
    double v;
    if (gguf_get_f64(g, full, &v) && isfinite(v)) *out = (float)v;
    return QMC_OK;
}

/* Fill t from GGUF tensor `name` (plain or packed).  Vectors are made F32. */
static int load_tensor(qmc_model *m, const char *name, bool vector, bool optional, qmc_tensor *t) {
    const gguf_ctx *g = m->gguf;
    const gguf_tensor_info *ti = gguf_find_tensor(g, name);
    if (!ti) {
        int rc = qmc_packed_read(g, m->path, name, t);
        if (rc < 0) return rc;
        if (rc == 1) return vector ? qmc_fail(QMC_ERR_FORMAT, "%s: vector '%s' cannot be packed", m->path, name) : QMC_OK;
        if (optional) return QMC_OK;
        return qmc_fail(QMC_ERR_FORMAT, "%s: tensor '%s' is missing", m->path, name);
    }
    if (ti->type != QMC_TYPE_F32 && ti->type != QMC_TYPE_F16 && ti->type != QMC_TYPE_BF16)
        return qmc_fail(QMC_ERR_UNSUPPORTED, "%s: tensor '%s' has type %s; qmc runs F32, F16, BF16 and its own packed planes",
                        m->path, name, ggml_type_name(ti->type));
    qmc_tensor_init(t, name, (qmc_type)ti->type, (int)ti->n_dims, ti->ne[0], ti->ne[1]);
    memcpy(t->ne, ti->ne, sizeof t->ne);
    if (ti->n_dims > 2 && (ti->ne[2] != 1 || ti->ne[3] != 1))
        return qmc_fail(QMC_ERR_FORMAT, "%s: tensor '%s' has more than 2 dimensions", m->path, name);
    int esz = qmc_type_size(t->type);
    if (((uintptr_t)ti->data % (uintptr_t)esz) != 0)
        return qmc_fail(QMC_ERR_FORMAT, "%s: tensor '%s' data is misaligned", m->path, name);
    t->data = ti->data;
    if (vector && t->type != QMC_TYPE_F32) {
        qmc_tensor f;
        int rc = qmc_tensor_to_f32(t, &f);
        if (rc) return rc;
        *t = f;
    }
    return QMC_OK;
}

int qmc_load_gguf(const char *path, const qmc_load_opts *opts, qmc_model *m) {
    m->files = qmc_alloc(1, sizeof(qmc_mapped_file));
    if (!m->files) return QMC_ERR_NOMEM;
    int rc = opts->no_mmap ? qmc_read_whole_file(path, &m->files[0]) : qmc_map_file(path, &m->files[0]);
    if (rc) return rc;
    m->n_files = 1;
    return qmc_gguf_model_parse(m->files[0].data, m->files[0].size, path, m);
}

int qmc_gguf_model_parse(const uint8_t *buf, size_t size, const char *path, qmc_model *m) {
    snprintf(m->source_format, sizeof m->source_format, "gguf");
    int rc;
    if ((rc = gguf_parse(buf, size, path, &m->gguf))) return rc;
    const gguf_ctx *g = m->gguf;
    char arch[64] = "";
    if (!gguf_get_str(g, "general.architecture", arch, sizeof arch))
        return qmc_fail(QMC_ERR_FORMAT, "%s: general.architecture is missing", path);
    qmc_config *c = &m->cfg;
    memset(c, 0, sizeof *c);
    if (strcmp(arch, "llama") == 0) {
        c->arch = QMC_ARCH_LLAMA;
        c->rope_style = QMC_ROPE_NORM;
    } else if (strcmp(arch, "qwen2") == 0) {
        c->arch = QMC_ARCH_QWEN2;
        c->rope_style = QMC_ROPE_NEOX;
    } else return qmc_fail(QMC_ERR_UNSUPPORTED, "%s: architecture '%s' is not supported (llama, qwen2)", path, arch);
    gguf_get_str(g, "general.name", m->name, sizeof m->name);
    const int64_t BIG = 1 << 24;
    if ((rc = get_u(g, path, arch, "embedding_length", true, 1, 1 << 20, &c->dim)) ||
        (rc = get_u(g, path, arch, "feed_forward_length", true, 1, 1 << 22, &c->hidden_dim)) ||
        (rc = get_u(g, path, arch, "block_count", true, 1, 4096, &c->n_layers)) ||
        (rc = get_u(g, path, arch, "attention.head_count", true, 1, 4096, &c->n_heads)) ||
        (rc = get_u(g, path, arch, "attention.head_count_kv", false, 1, 4096, &c->n_kv_heads)) ||
        (rc = get_u(g, path, arch, "attention.key_length", false, 2, 4096, &c->head_dim)) ||
        (rc = get_u(g, path, arch, "context_length", true, 1, BIG, &c->seq_len)) ||
        (rc = get_u(g, path, arch, "vocab_size", false, 1, BIG, &c->vocab_size)))
        return rc;
    get_f(g, arch, "attention.layer_norm_rms_epsilon", &c->norm_eps);
    get_f(g, arch, "rope.freq_base", &c->rope_theta);
    double f;
    int64_t orig;
    if (gguf_get_f64(g, LLAMA3_FACTOR, &f) && isfinite(f) && f > 0 && gguf_get_i64(g, LLAMA3_ORIG_CTX, &orig) &&
        orig > 0 && orig <= BIG) {
        c->rope_scaling_factor = (float)f;
        c->rope_orig_max_pos = (int)orig;
        if (gguf_get_f64(g, LLAMA3_LOW, &f)) c->rope_low_freq_factor = (float)f;
        if (gguf_get_f64(g, LLAMA3_HIGH, &f)) c->rope_high_freq_factor = (float)f;
    }
    qmc_config_finish(c);
    if (c->dim % c->n_heads && !gguf_find(g, "llama.attention.key_length"))
        return qmc_fail(QMC_ERR_FORMAT, "%s: embedding_length %d is not a multiple of head_count %d", path, c->dim, c->n_heads);

    if ((rc = load_tensor(m, "token_embd.weight", false, false, &m->token_embd))) return rc;
    if (c->vocab_size == 0) c->vocab_size = (int)QMC_MIN(qmc_tensor_rows(&m->token_embd), BIG);
    if ((rc = load_tensor(m, "output_norm.weight", true, false, &m->output_norm))) return rc;
    if ((rc = load_tensor(m, "output.weight", false, true, &m->output))) return rc;
    c->tied_output = !m->output.data && !m->output.q;
    if ((rc = load_tensor(m, "rope_freqs.weight", true, true, &m->rope_freqs))) return rc;
    if ((rc = qmc_model_alloc_layers(m))) return rc;
    static const struct { const char *what; size_t off; bool vec; } slots[] = {
        {"attn_norm", offsetof(qmc_layer, attn_norm), true}, {"attn_q", offsetof(qmc_layer, wq), false},
        {"attn_k", offsetof(qmc_layer, wk), false},          {"attn_v", offsetof(qmc_layer, wv), false},
        {"attn_output", offsetof(qmc_layer, wo), false},     {"ffn_norm", offsetof(qmc_layer, ffn_norm), true},
        {"ffn_gate", offsetof(qmc_layer, w_gate), false},    {"ffn_down", offsetof(qmc_layer, w_down), false},
        {"ffn_up", offsetof(qmc_layer, w_up), false},
    };
    char name[QMC_MAX_NAME];
    for (int l = 0; l < c->n_layers; l++) {
        qmc_layer *L = &m->layers[l];
        for (size_t i = 0; i < QMC_ARRAY_LEN(slots); i++) {
            qmc_block_tensor_name(name, sizeof name, l, slots[i].what);
            if ((rc = load_tensor(m, name, slots[i].vec, false, (qmc_tensor *)((char *)L + slots[i].off)))) return rc;
        }
        static const char *bias[3] = {"attn_q", "attn_k", "attn_v"};
        qmc_tensor *bt[3] = {&L->bq, &L->bk, &L->bv};
        for (int i = 0; i < 3; i++) {
            snprintf(name, sizeof name, "blk.%d.%s.bias", l, bias[i]);
            if ((rc = load_tensor(m, name, true, true, bt[i]))) return rc;
        }
        bool has = L->bq.data || L->bk.data || L->bv.data;
        if (l == 0) c->qkv_bias = has;
        else if (has != c->qkv_bias) return qmc_fail(QMC_ERR_FORMAT, "%s: q/k/v biases present in some layers only", path);
        if (has && (!L->bq.data || !L->bk.data || !L->bv.data))
            return qmc_fail(QMC_ERR_FORMAT, "%s: layer %d has only some of the q/k/v biases", path, l);
    }
    rc = qmc_tok_from_gguf(g, path, &m->tok);
    if (rc) return rc;
    c->bos_id = m->tok ? m->tok->bos_id : 1;
    c->eos_id = m->tok ? m->tok->eos_id : 2;
    return QMC_OK;
}

/* ---- writing ----------------------------------------------------------------- */

typedef struct {
    gguf_writer *w;
    qmc_tensor_job *jobs;
    int n_jobs;
    qmc_write_type type;
    bool permute_qk;
    int head_dim;
} save_ctx;

static int add_one(qmc_model *m, qmc_tensor *t, int layer, void *user) {
    save_ctx *s = user;
    bool is_qk = layer >= 0 && (t == &m->layers[layer].wq || t == &m->layers[layer].wk ||
                                t == &m->layers[layer].bq || t == &m->layers[layer].bk);
    if (t->type == QMC_TYPE_PACKED) {
        if (s->permute_qk && is_qk)
            return qmc_fail(QMC_ERR_UNSUPPORTED, "%s: cannot reorder packed Q/K rows for GGUF llama RoPE order", m->path);
        return qmc_packed_write(s->w, t);
    }
    qmc_tensor_job *job = &s->jobs[s->n_jobs++];
    job->src = t;
    job->type = t->type;
    bool vector = t->n_dims == 1;
    if (s->type == QMC_WRITE_F32 || vector) job->type = QMC_TYPE_F32;
    else if (s->type == QMC_WRITE_F16) job->type = QMC_TYPE_F16;
    job->order = s->permute_qk && is_qk ? QMC_ROWS_NEOX_TO_NORM : QMC_ROWS_AS_IS;
    job->head_dim = s->head_dim;
    return gguf_add_tensor_fn(s->w, t->name, job->type, t->n_dims, t->ne, qmc_tensor_job_fill, job);
}

static int count_one(qmc_model *m, qmc_tensor *t, int layer, void *user) {
    (*(int *)user)++;
    return 0;
}


int qmc_model_save_gguf(const qmc_model *m, const char *path, qmc_write_type type) {
    return qmc_model_save_gguf_with(m, path, type, NULL, NULL);
}

int qmc_gguf_model_kv(gguf_writer *w, const qmc_model *m, qmc_write_type type) {
    const qmc_config *c = &m->cfg;
    const char *arch = c->arch == QMC_ARCH_QWEN2 ? "qwen2" : "llama";
    char key[128];
    int rc;
#define SETU(k, v) (snprintf(key, sizeof key, "%s.%s", arch, k), gguf_set_u32(w, key, (uint32_t)(v)))
#define SETF(k, v) (snprintf(key, sizeof key, "%s.%s", arch, k), gguf_set_f32(w, key, (float)(v)))
    if ((rc = gguf_set_str(w, "general.architecture", arch)) ||
        (rc = gguf_set_str(w, "general.name", m->name[0] ? m->name : qmc_basename(m->path))) ||
        (rc = gguf_set_u32(w, "general.file_type", type == QMC_WRITE_F16 ? 1 : 0)) ||
        (rc = SETU("context_length", c->seq_len)) || (rc = SETU("embedding_length", c->dim)) ||
        (rc = SETU("block_count", c->n_layers)) || (rc = SETU("feed_forward_length", c->hidden_dim)) ||
        (rc = SETU("attention.head_count", c->n_heads)) || (rc = SETU("attention.head_count_kv", c->n_kv_heads)) ||
        (rc = SETU("rope.dimension_count", c->head_dim)) || (rc = SETU("vocab_size", c->vocab_size)) ||
        (rc = SETF("attention.layer_norm_rms_epsilon", c->norm_eps)) || (rc = SETF("rope.freq_base", c->rope_theta)))
        return rc;
    if (c->head_dim * c->n_heads != c->dim &&
        ((rc = SETU("attention.key_length", c->head_dim)) || (rc = SETU("attention.value_length", c->head_dim))))
        return rc;
    if (c->rope_scaling_factor > 0 &&
        ((rc = gguf_set_f32(w, LLAMA3_FACTOR, c->rope_scaling_factor)) ||
         (rc = gguf_set_f32(w, LLAMA3_LOW, c->rope_low_freq_factor)) ||
         (rc = gguf_set_f32(w, LLAMA3_HIGH, c->rope_high_freq_factor)) ||
         (rc = gguf_set_u32(w, LLAMA3_ORIG_CTX, (uint32_t)c->rope_orig_max_pos))))
        return rc;
#undef SETU
#undef SETF
    if (m->tok && (rc = qmc_tok_to_gguf(m->tok, w))) return rc;
    /* carry qmc.* keys of a packed source (method, rho, device, ...) */
    if (m->gguf)
        for (int64_t i = 0; i < m->gguf->n_kv; i++)
            if (strncmp(m->gguf->kv[i].key, "qmc.", 4) == 0 && strncmp(m->gguf->kv[i].key, "qmc.tensor.", 11) != 0 &&
                (rc = gguf_copy_kv(w, &m->gguf->kv[i])))
                return rc;
    return QMC_OK;
}

int qmc_model_save_gguf_with(const qmc_model *cm, const char *path, qmc_write_type type,
                             int (*extra_kv)(gguf_writer *, void *), void *user) {
    qmc_model *m = (qmc_model *)cm;
    const qmc_config *c = &m->cfg;
    if (c->arch == QMC_ARCH_QWEN2 && c->rope_style != QMC_ROPE_NEOX)
        return qmc_fail(QMC_ERR_UNSUPPORTED, "%s: qwen2 models with adjacent-pair RoPE cannot be written", path);
    gguf_writer *w = gguf_writer_new();
    int n = 0;
    qmc_model_for_each_tensor(m, count_one, &n);
    save_ctx s = {w, qmc_alloc((size_t)n + 1, sizeof(qmc_tensor_job)), 0, type,
                  c->arch == QMC_ARCH_LLAMA && c->rope_style == QMC_ROPE_NEOX, c->head_dim};
    int rc = w && s.jobs ? QMC_OK : QMC_ERR_NOMEM;
    if (!rc) rc = qmc_gguf_model_kv(w, m, type);
    if (!rc && extra_kv) rc = extra_kv(w, user);
    if (!rc) rc = qmc_model_for_each_tensor(m, add_one, &s);
    if (!rc) rc = gguf_write(w, path, qmc_progress_bar, (void *)"writing");
    gguf_writer_free(w);
    qmc_free(s.jobs);
    return rc;
}
