/* hf_model.c — Llama / Qwen2 models from and to Hugging Face directories
 * (config.json + model.safetensors or sharded model-*.safetensors with
 * model.safetensors.index.json + tokenizer.json).  See docs/formats-hf.md.
 *
 * Loading maps every shard once; matrices point straight into the mapping
 * (F32, F16 and BF16 used in place), only norm vectors and biases become
 * owned F32 copies.  HF Llama and Qwen2 use half-split RoPE (QMC_ROPE_NEOX).
 * Writing un-permutes the Q/K rows of adjacent-pair RoPE models (llama2.c,
 * GGUF llama) into HF's order, so the directory computes the same logits. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "formats/jsonfile.h"
#include "formats/safetensors.h"
#include "model/model.h"
#include "model/tensor_out.h"

#define CONFIG_MAX ((size_t)16 << 20)
#define INDEX_MAX ((size_t)64 << 20)

/* Tensors of one block: HF name suffix, GGUF name suffix, slot, vector? */
typedef struct { const char *hf, *gguf; size_t off; bool vec; } block_slot;
static const block_slot k_block[] = {
    {"input_layernorm.weight", "attn_norm.weight", offsetof(qmc_layer, attn_norm), true},
    {"self_attn.q_proj.weight", "attn_q.weight", offsetof(qmc_layer, wq), false},
    {"self_attn.k_proj.weight", "attn_k.weight", offsetof(qmc_layer, wk), false},
    {"self_attn.v_proj.weight", "attn_v.weight", offsetof(qmc_layer, wv), false},
    {"self_attn.q_proj.bias", "attn_q.bias", offsetof(qmc_layer, bq), true},
    {"self_attn.k_proj.bias", "attn_k.bias", offsetof(qmc_layer, bk), true},
    {"self_attn.v_proj.bias", "attn_v.bias", offsetof(qmc_layer, bv), true},
    {"self_attn.o_proj.weight", "attn_output.weight", offsetof(qmc_layer, wo), false},
    {"post_attention_layernorm.weight", "ffn_norm.weight", offsetof(qmc_layer, ffn_norm), true},
    {"mlp.gate_proj.weight", "ffn_gate.weight", offsetof(qmc_layer, w_gate), false},
    {"mlp.up_proj.weight", "ffn_up.weight", offsetof(qmc_layer, w_up), false},
    {"mlp.down_proj.weight", "ffn_down.weight", offsetof(qmc_layer, w_down), false},
};

static bool is_bias_slot(size_t i) { return strstr(k_block[i].hf, ".bias") != NULL; }

/* Expected [rows, cols] of a block slot (vectors: [1, n]). */
static void slot_shape(const qmc_config *c, size_t off, int64_t *rows, int64_t *cols) {
    const int64_t qd = (int64_t)c->n_heads * c->head_dim, kvd = (int64_t)c->n_kv_heads * c->head_dim;
    *rows = 1;
    if (off == offsetof(qmc_layer, attn_norm) || off == offsetof(qmc_layer, ffn_norm)) *cols = c->dim;
    else if (off == offsetof(qmc_layer, bq)) *cols = qd;
    else if (off == offsetof(qmc_layer, bk) || off == offsetof(qmc_layer, bv)) *cols = kvd;
    else if (off == offsetof(qmc_layer, wq)) *rows = qd, *cols = c->dim;
    else if (off == offsetof(qmc_layer, wk) || off == offsetof(qmc_layer, wv)) *rows = kvd, *cols = c->dim;
    else if (off == offsetof(qmc_layer, wo)) *rows = c->dim, *cols = qd;
    else if (off == offsetof(qmc_layer, w_down)) *rows = c->dim, *cols = c->hidden_dim;
    else *rows = c->hidden_dim, *cols = c->dim; /* gate, up */
}

/* ---- loading ------------------------------------------------------------------ */

typedef struct {
    qmc_model *m;
    char dir[4096];
    st_file *shards;        /* [m->n_files], parallel to m->files */
    bool has_index;
    st_index index;         /* model.safetensors.index.json, when has_index */
    char index_path[4096];
} hf_loader;

static void dir_of(const char *path, char *out, size_t cap) {
    snprintf(out, cap, "%s", path);
    char *slash = strrchr(out, '/');
    if (slash) *slash = 0;
    else snprintf(out, cap, ".");
}

static int map_shard(hf_loader *L, const char *path) {
    qmc_model *m = L->m;
    int rc = qmc_map_file(path, &m->files[m->n_files]);
    if (rc) return rc;
    m->n_files++;
    return st_parse(m->files[m->n_files - 1].data, m->files[m->n_files - 1].size, path, &L->shards[m->n_files - 1]);
}

/* Map the weights: one file, or every shard named by the index (each once). */
static int open_weights(hf_loader *L, const char *explicit_file) {
    qmc_model *m = L->m;
    char path[4096];
    qmc_path_join(L->index_path, sizeof L->index_path, L->dir, "model.safetensors.index.json");
    if (explicit_file || !qmc_file_exists(L->index_path)) {
        if (explicit_file) snprintf(path, sizeof path, "%s", explicit_file);
        else qmc_path_join(path, sizeof path, L->dir, "model.safetensors");
        if (!qmc_file_exists(path))
            return qmc_fail(QMC_ERR_IO, "%s: no model.safetensors or model.safetensors.index.json in this directory", L->dir);
        m->files = qmc_alloc(1, sizeof(qmc_mapped_file));
        L->shards = qmc_alloc(1, sizeof(st_file));
        if (!m->files || !L->shards) return QMC_ERR_NOMEM;
        return map_shard(L, path);
    }
    char *text = NULL;
    size_t len = 0;
    int rc = qmc_read_file(L->index_path, INDEX_MAX, &text, &len);
    if (rc) return rc;
    rc = st_index_parse(text, len, L->index_path, &L->index);
    qmc_free(text);
    if (rc) return rc;
    L->has_index = true;
    const int n = L->index.n_shards;
    m->files = qmc_alloc((size_t)n + 1, sizeof(qmc_mapped_file));
    L->shards = qmc_alloc((size_t)n + 1, sizeof(st_file));
    if (!m->files || !L->shards) return QMC_ERR_NOMEM;
    for (int i = 0; i < n; i++) {
        qmc_path_join(path, sizeof path, L->dir, L->index.shards[i]);
        if (!qmc_file_exists(path))
            return qmc_fail(QMC_ERR_IO, "%s: shard '%s' named by the index is missing", L->index_path, L->index.shards[i]);
        if ((rc = map_shard(L, path))) return rc;
    }
    return QMC_OK;
}

/* Find HF tensor `name`; *file receives the shard holding it. */
static const st_tensor *find_hf(const hf_loader *L, const char *name, int *file, int *rc) {
    *rc = QMC_OK;
    *file = 0;
    if (!L->has_index) return st_find(&L->shards[0], name);
    *file = st_index_find(&L->index, name);
    if (*file < 0) {
        *file = 0;
        return NULL;
    }
    const st_tensor *t = st_find(&L->shards[*file], name);
    if (!t)
        *rc = qmc_fail(QMC_ERR_FORMAT, "%s: tensor '%s' is listed for this shard by the index but is not in it",
                       L->m->files[*file].path, name);
    return t;
}

/* Load HF tensor `hf` as `gguf` into t; rows == 1 means a vector of cols. */
static int load_tensor(hf_loader *L, const char *hf, const char *gguf, int64_t rows, int64_t cols, bool vec,
                       bool optional, qmc_tensor *t) {
    int file = 0, rc;
    const st_tensor *s = find_hf(L, hf, &file, &rc);
    if (rc) return rc;
    const char *where = L->has_index ? L->index_path : L->m->files[0].path;
    if (!s) return optional ? QMC_OK : qmc_fail(QMC_ERR_FORMAT, "%s: tensor '%s' is missing", where, hf);
    where = L->m->files[file].path;
    if (s->type != QMC_TYPE_F32 && s->type != QMC_TYPE_F16 && s->type != QMC_TYPE_BF16)
        return qmc_fail(QMC_ERR_UNSUPPORTED, "%s: tensor '%s' has dtype %s; qmc loads F32, F16 and BF16", where, hf, s->dtype);
    bool ok = vec ? s->n_dims == 1 && s->shape[0] == cols : s->n_dims == 2 && s->shape[0] == rows && s->shape[1] == cols;
    if (!ok) {
        char got[128] = "";
        for (int d = 0; d < s->n_dims && strlen(got) < 100; d++)
            snprintf(got + strlen(got), sizeof got - strlen(got), "%s%lld", d ? ", " : "", (long long)s->shape[d]);
        if (vec)
            return qmc_fail(QMC_ERR_FORMAT, "%s: tensor '%s' has shape [%s], expected [%lld]", where, hf, got, (long long)cols);
        return qmc_fail(QMC_ERR_FORMAT, "%s: tensor '%s' has shape [%s], expected [%lld, %lld]", where, hf, got,
                        (long long)rows, (long long)cols);
    }
    qmc_tensor_init(t, gguf, s->type, vec ? 1 : 2, cols, rows);
    t->data = s->data;
    bool aligned = (uintptr_t)s->data % (uintptr_t)qmc_type_size(s->type) == 0;
    if (vec && s->type != QMC_TYPE_F32 && aligned) {
        qmc_tensor f;
        if ((rc = qmc_tensor_to_f32(t, &f))) return rc;
        *t = f;
    } else if (!aligned) { /* a 2-byte dtype before it left this one misaligned: copy */
        void *copy = qmc_alloc_aligned((size_t)s->nbytes, 1);
        if (!copy) return qmc_error_prefix(QMC_ERR_NOMEM, "%s", where);
        memcpy(copy, s->data, (size_t)s->nbytes);
        t->data = copy;
        t->owned = copy;
        if (vec && s->type != QMC_TYPE_F32) {
            qmc_tensor f;
            rc = qmc_tensor_to_f32(t, &f);
            qmc_tensor_release(t);
            if (rc) return rc;
            *t = f;
        }
    }
    return QMC_OK;
}

static bool all_zero(const qmc_tensor *t) {
    const float *v = t->data;
    for (int64_t i = 0; i < qmc_tensor_nelem(t); i++)
        if (v[i] != 0.0f) return false;
    return true;
}

/* bos/eos ids: an integer, or (eos) a list whose first entry is used. */
static int token_id(const cJSON *cfg, const char *key, const char *label, int *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg, key);
    if (cJSON_IsArray(v)) v = v->child;
    if (!v || cJSON_IsNull(v)) return QMC_OK;
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble >= (1 << 24) || v->valuedouble != (int)v->valuedouble)
        return qmc_fail(QMC_ERR_FORMAT, "%s: \"%s\" must be a token id or a list of them", label, key);
    *out = (int)v->valuedouble;
    return QMC_OK;
}

static int parse_rope_scaling(const cJSON *cfg, const char *label, qmc_config *c) {
    const cJSON *rs = cJSON_GetObjectItemCaseSensitive(cfg, "rope_scaling");
    if (!rs || cJSON_IsNull(rs)) return QMC_OK;
    if (!cJSON_IsObject(rs)) return qmc_fail(QMC_ERR_FORMAT, "%s: \"rope_scaling\" must be an object or null", label);
    const char *type = qmc_json_get_str(rs, "rope_type");
    if (!type) type = qmc_json_get_str(rs, "type");
    if (!type) return qmc_fail(QMC_ERR_FORMAT, "%s: \"rope_scaling\" has no rope_type", label);
    if (strcmp(type, "default") == 0) return QMC_OK;
    if (strcmp(type, "llama3") != 0)
        return qmc_fail(QMC_ERR_UNSUPPORTED, "%s: rope_scaling type '%.40s' is not supported (llama3)", label, type);
    int64_t orig = 0;
    int r;
    if ((r = qmc_json_get_float(rs, "factor", label, &c->rope_scaling_factor)) <= 0 ||
        (r = qmc_json_get_float(rs, "low_freq_factor", label, &c->rope_low_freq_factor)) <= 0 ||
        (r = qmc_json_get_float(rs, "high_freq_factor", label, &c->rope_high_freq_factor)) <= 0 ||
        (r = qmc_json_get_int(rs, "original_max_position_embeddings", label, 1, 1 << 24, &orig)) <= 0)
        return r < 0 ? r : qmc_fail(QMC_ERR_FORMAT, "%s: llama3 rope_scaling needs factor, low_freq_factor, high_freq_factor and original_max_position_embeddings", label);
    if (!(c->rope_scaling_factor > 0) || !(c->rope_low_freq_factor > 0) ||
        !(c->rope_high_freq_factor > c->rope_low_freq_factor))
        return qmc_fail(QMC_ERR_FORMAT, "%s: llama3 rope_scaling needs factor > 0 and high_freq_factor > low_freq_factor > 0", label);
    c->rope_orig_max_pos = (int)orig;
    return QMC_OK;
}

static int parse_config(const cJSON *cfg, const char *label, qmc_model *m) {
    qmc_config *c = &m->cfg;
    memset(c, 0, sizeof *c);
    if (!cJSON_IsObject(cfg)) return qmc_fail(QMC_ERR_FORMAT, "%s: not a JSON object", label);
    const char *arch = NULL;
    const cJSON *archs = cJSON_GetObjectItemCaseSensitive(cfg, "architectures");
    if (cJSON_IsArray(archs) && cJSON_IsString(archs->child)) arch = archs->child->valuestring;
    const char *mt = qmc_json_get_str(cfg, "model_type");
    if (!arch && mt) arch = strcmp(mt, "llama") == 0 ? "LlamaForCausalLM" : strcmp(mt, "qwen2") == 0 ? "Qwen2ForCausalLM" : mt;
    if (!arch) return qmc_fail(QMC_ERR_FORMAT, "%s: no \"architectures\" (or \"model_type\") entry", label);
    if (strcmp(arch, "LlamaForCausalLM") == 0) c->arch = QMC_ARCH_LLAMA;
    else if (strcmp(arch, "Qwen2ForCausalLM") == 0) c->arch = QMC_ARCH_QWEN2;
    else return qmc_fail(QMC_ERR_UNSUPPORTED, "%s: unsupported architecture '%.60s' (LlamaForCausalLM, Qwen2ForCausalLM)", label, arch);
    c->rope_style = QMC_ROPE_NEOX;
    static const struct { const char *key; size_t off; bool required; int64_t lo, hi; } ints[] = {
        {"hidden_size", offsetof(qmc_config, dim), true, 1, 1 << 20},
        {"intermediate_size", offsetof(qmc_config, hidden_dim), true, 1, 1 << 22},
        {"num_hidden_layers", offsetof(qmc_config, n_layers), true, 1, 4096},
        {"num_attention_heads", offsetof(qmc_config, n_heads), true, 1, 4096},
        {"num_key_value_heads", offsetof(qmc_config, n_kv_heads), false, 1, 4096},
        {"head_dim", offsetof(qmc_config, head_dim), false, 2, 4096},
        {"vocab_size", offsetof(qmc_config, vocab_size), true, 1, 1 << 24},
        {"max_position_embeddings", offsetof(qmc_config, seq_len), false, 1, 1 << 24},
    };
    for (size_t i = 0; i < QMC_ARRAY_LEN(ints); i++) {
        int64_t v;
        int r = qmc_json_get_int(cfg, ints[i].key, label, ints[i].lo, ints[i].hi, &v);
        if (r < 0) return r;
        if (r == 0 && ints[i].required) return qmc_fail(QMC_ERR_FORMAT, "%s: missing \"%s\"", label, ints[i].key);
        if (r == 1) *(int *)((char *)c + ints[i].off) = (int)v;
    }
    if (c->seq_len == 0) c->seq_len = 2048; /* transformers' LlamaConfig default */
    c->norm_eps = 1e-6f;                    /* LlamaConfig / Qwen2Config default */
    int r;
    if ((r = qmc_json_get_float(cfg, "rms_norm_eps", label, &c->norm_eps)) < 0 ||
        (r = qmc_json_get_float(cfg, "rope_theta", label, &c->rope_theta)) < 0)
        return r;
    if (!(c->norm_eps > 0)) return qmc_fail(QMC_ERR_FORMAT, "%s: \"rms_norm_eps\" must be positive", label);
    bool b = false;
    if ((r = qmc_json_get_bool(cfg, "tie_word_embeddings", label, &b)) < 0) return r;
    c->tied_output = b;
    b = false;
    if ((r = qmc_json_get_bool(cfg, "attention_bias", label, &b)) < 0) return r;
    c->qkv_bias = c->arch == QMC_ARCH_QWEN2 || b;
    b = false;
    if ((r = qmc_json_get_bool(cfg, "mlp_bias", label, &b)) < 0) return r;
    if (b) return qmc_fail(QMC_ERR_UNSUPPORTED, "%s: \"mlp_bias\": true is not supported", label);
    b = false;
    if (c->arch == QMC_ARCH_QWEN2 && (r = qmc_json_get_bool(cfg, "use_sliding_window", label, &b)) < 0) return r;
    if (b) return qmc_fail(QMC_ERR_UNSUPPORTED, "%s: sliding-window attention is not supported", label);
    const char *act = qmc_json_get_str(cfg, "hidden_act");
    if (act && strcmp(act, "silu") != 0)
        return qmc_fail(QMC_ERR_UNSUPPORTED, "%s: hidden_act '%.40s' is not supported (silu)", label, act);
    c->bos_id = c->eos_id = -1;
    if ((r = token_id(cfg, "bos_token_id", label, &c->bos_id)) || (r = token_id(cfg, "eos_token_id", label, &c->eos_id)) ||
        (r = parse_rope_scaling(cfg, label, c)))
        return r;
    qmc_config_finish(c);
    if (c->head_dim * c->n_heads != c->dim && !cJSON_GetObjectItemCaseSensitive(cfg, "head_dim"))
        return qmc_fail(QMC_ERR_FORMAT, "%s: hidden_size %d is not a multiple of num_attention_heads %d", label, c->dim, c->n_heads);
    if (c->n_heads % c->n_kv_heads)
        return qmc_fail(QMC_ERR_FORMAT, "%s: num_attention_heads %d is not a multiple of num_key_value_heads %d", label,
                        c->n_heads, c->n_kv_heads);
    if (c->head_dim % 2 || c->head_dim > QMC_MAX_HEAD_DIM)
        return qmc_fail(QMC_ERR_FORMAT, "%s: head_dim %d (hidden_size / num_attention_heads unless given) must be even and at most %d",
                        label, c->head_dim, QMC_MAX_HEAD_DIM);
    const char *name = qmc_json_get_str(cfg, "_name_or_path");
    if (name) snprintf(m->name, sizeof m->name, "%s", name);
    return QMC_OK;
}

int qmc_hf_config_parse(const char *json, size_t len, const char *label, qmc_model *m) {
    cJSON *cfg = NULL;
    int rc = qmc_json_parse(json, len, label, &cfg);
    if (!rc) rc = parse_config(cfg, label, m);
    cJSON_Delete(cfg);
    return rc;
}

static int load_weights(hf_loader *L) {
    qmc_model *m = L->m;
    qmc_config *c = &m->cfg;
    int rc;
    if ((rc = load_tensor(L, "model.embed_tokens.weight", "token_embd.weight", c->vocab_size, c->dim, false, false,
                          &m->token_embd)) ||
        (rc = load_tensor(L, "model.norm.weight", "output_norm.weight", 1, c->dim, true, false, &m->output_norm)))
        return rc;
    if (!c->tied_output &&
        (rc = load_tensor(L, "lm_head.weight", "output.weight", c->vocab_size, c->dim, false, false, &m->output)))
        return rc;
    if ((rc = qmc_model_alloc_layers(m))) return rc;
    char hf[160], gg[QMC_MAX_NAME];
    for (int l = 0; l < c->n_layers; l++) {
        qmc_layer *Ly = &m->layers[l];
        for (size_t i = 0; i < QMC_ARRAY_LEN(k_block); i++) {
            if (is_bias_slot(i) && !c->qkv_bias) continue;
            int64_t rows, cols;
            slot_shape(c, k_block[i].off, &rows, &cols);
            snprintf(hf, sizeof hf, "model.layers.%d.%s", l, k_block[i].hf);
            snprintf(gg, sizeof gg, "blk.%d.%s", l, k_block[i].gguf);
            if ((rc = load_tensor(L, hf, gg, rows, cols, k_block[i].vec, false, (qmc_tensor *)((char *)Ly + k_block[i].off))))
                return rc;
        }
        if (c->arch == QMC_ARCH_LLAMA && c->qkv_bias) {
            /* Llama's attention_bias also gives o_proj a bias; qmc has none, so only zeros are accepted */
            qmc_tensor ob = {0};
            snprintf(hf, sizeof hf, "model.layers.%d.self_attn.o_proj.bias", l);
            snprintf(gg, sizeof gg, "blk.%d.attn_output.bias", l);
            rc = load_tensor(L, hf, gg, 1, c->dim, true, true, &ob);
            bool nonzero = !rc && ob.data && !all_zero(&ob);
            qmc_tensor_release(&ob);
            if (rc) return rc;
            if (nonzero) return qmc_fail(QMC_ERR_UNSUPPORTED, "%s: tensor '%s' is not zero; qmc has no o_proj bias", L->dir, hf);
        }
    }
    return QMC_OK;
}

int qmc_load_safetensors(const char *path, const qmc_load_opts *opts, qmc_model *m) {
    hf_loader L = {.m = m};
    const char *explicit_file = NULL;
    if (qmc_is_dir(path)) snprintf(L.dir, sizeof L.dir, "%s", path);
    else {
        dir_of(path, L.dir, sizeof L.dir);
        if (qmc_ends_with(path, ".safetensors")) explicit_file = path;
        else if (strcmp(qmc_basename(path), "config.json") != 0 &&
                 strcmp(qmc_basename(path), "model.safetensors.index.json") != 0)
            return qmc_fail(QMC_ERR_ARG, "%s: expected a Hugging Face directory, its config.json or a .safetensors file", path);
    }
    snprintf(m->source_format, sizeof m->source_format, "safetensors");
    char cfg_path[4096];
    qmc_path_join(cfg_path, sizeof cfg_path, L.dir, "config.json");
    if (!qmc_file_exists(cfg_path)) return qmc_fail(QMC_ERR_IO, "%s: config.json is missing", L.dir);
    char *cfg_text = NULL;
    size_t cfg_len = 0;
    int rc = qmc_read_file(cfg_path, CONFIG_MAX, &cfg_text, &cfg_len);
    if (!rc) rc = qmc_hf_config_parse(cfg_text, cfg_len, cfg_path, m);
    qmc_free(cfg_text);
    if (!rc) rc = open_weights(&L, explicit_file);
    if (!rc) rc = load_weights(&L);
    if (!rc && m->cfg.rope_scaling_factor > 0) {
        int half = m->cfg.head_dim / 2;
        float *f = qmc_alloc((size_t)half, sizeof(float));
        if (!f) rc = QMC_ERR_NOMEM;
        else {
            qmc_llama3_rope_factors(&m->cfg, f);
            qmc_tensor_init(&m->rope_freqs, "rope_freqs.weight", QMC_TYPE_F32, 1, half, 1);
            m->rope_freqs.data = f;
            m->rope_freqs.owned = f;
        }
    }
    char tok_path[4096];
    qmc_path_join(tok_path, sizeof tok_path, L.dir, "tokenizer.json");
    if (!rc && qmc_file_exists(tok_path)) rc = qmc_tok_load_hf(tok_path, &m->tok);
    if (!rc && m->tok) {
        qmc_config *c = &m->cfg;
        if (m->tok->bos_id < 0 && c->bos_id >= 0 && c->bos_id < m->tok->n_vocab) m->tok->bos_id = c->bos_id;
        if (m->tok->eos_id < 0 && c->eos_id >= 0 && c->eos_id < m->tok->n_vocab) m->tok->eos_id = c->eos_id;
        if (c->bos_id < 0) c->bos_id = m->tok->bos_id;
        if (c->eos_id < 0) c->eos_id = m->tok->eos_id;
    }
    if (!m->name[0]) snprintf(m->name, sizeof m->name, "%s", qmc_basename(L.dir));
    for (int i = 0; L.shards && i < m->n_files; i++) st_free(&L.shards[i]);
    qmc_free(L.shards);
    st_index_free(&L.index);
    (void)opts;
    return rc;
}

/* ---- writing ------------------------------------------------------------------ */

typedef struct {
    st_writer *w;
    qmc_tensor_job *jobs;
    int n_jobs;
    qmc_write_type type;
    const qmc_config *c;
    qmc_tensor zero_bias; /* o_proj bias of Llama models with attention_bias, all zeros */
    qmc_tensor zero_qkv[3]; /* q/k/v biases of Qwen2 models that have none */
} hf_writer;

static int add_tensor(hf_writer *hw, const char *name, const qmc_tensor *t, bool qk) {
    if (t->type == QMC_TYPE_PACKED)
        return qmc_fail(QMC_ERR_UNSUPPORTED, "tensor '%s' is packed; Hugging Face directories hold F32, F16 or BF16 weights", t->name);
    qmc_tensor_job *job = &hw->jobs[hw->n_jobs++];
    job->src = t;
    job->type = t->type;
    if (hw->type == QMC_WRITE_F32 || t->n_dims == 1) job->type = QMC_TYPE_F32;
    else if (hw->type == QMC_WRITE_F16) job->type = QMC_TYPE_F16;
    job->order = qk && hw->c->rope_style == QMC_ROPE_NORM ? QMC_ROWS_NORM_TO_NEOX : QMC_ROWS_AS_IS;
    job->head_dim = hw->c->head_dim;
    int64_t shape[2] = {t->n_dims == 2 ? t->ne[1] : t->ne[0], t->ne[0]};
    return st_add(hw->w, name, job->type, t->n_dims, t->n_dims == 2 ? shape : shape + 1, qmc_tensor_job_fill, job);
}

static int write_weights(const qmc_model *m, const char *path, qmc_write_type type) {
    const qmc_config *c = &m->cfg;
    hf_writer hw = {.w = st_writer_new(), .type = type, .c = c};
    int max_jobs = 3 + c->n_layers * ((int)QMC_ARRAY_LEN(k_block) + 1);
    hw.jobs = qmc_alloc((size_t)max_jobs, sizeof(qmc_tensor_job));
    float *zeros = qmc_alloc((size_t)QMC_MAX(c->dim, c->n_heads * c->head_dim), sizeof(float));
    int rc = hw.w && hw.jobs && zeros ? QMC_OK : qmc_error_prefix(QMC_ERR_NOMEM, "%s", path);
    if (!rc) rc = st_set_meta(hw.w, "format", "pt");
    qmc_tensor_init(&hw.zero_bias, "zero", QMC_TYPE_F32, 1, c->dim, 1);
    hw.zero_bias.data = zeros;
    const int64_t qd = (int64_t)c->n_heads * c->head_dim, kvd = (int64_t)c->n_kv_heads * c->head_dim;
    for (int i = 0; i < 3; i++) {
        qmc_tensor_init(&hw.zero_qkv[i], "zero", QMC_TYPE_F32, 1, i == 0 ? qd : kvd, 1);
        hw.zero_qkv[i].data = zeros;
    }
    if (!rc) rc = add_tensor(&hw, "model.embed_tokens.weight", &m->token_embd, false);
    char hf[160];
    for (int l = 0; l < c->n_layers && !rc; l++) {
        const qmc_layer *Ly = &m->layers[l];
        for (size_t i = 0; i < QMC_ARRAY_LEN(k_block) && !rc; i++) {
            const qmc_tensor *t = (const qmc_tensor *)((const char *)Ly + k_block[i].off);
            size_t off = k_block[i].off;
            if (is_bias_slot(i) && !c->qkv_bias) {
                if (c->arch != QMC_ARCH_QWEN2) continue;
                t = &hw.zero_qkv[off == offsetof(qmc_layer, bq) ? 0 : off == offsetof(qmc_layer, bk) ? 1 : 2];
            }
            snprintf(hf, sizeof hf, "model.layers.%d.%s", l, k_block[i].hf);
            bool qk = off == offsetof(qmc_layer, wq) || off == offsetof(qmc_layer, wk) || off == offsetof(qmc_layer, bq) ||
                      off == offsetof(qmc_layer, bk);
            rc = add_tensor(&hw, hf, t, qk);
            if (!rc && off == offsetof(qmc_layer, bv) && c->arch == QMC_ARCH_LLAMA) {
                snprintf(hf, sizeof hf, "model.layers.%d.self_attn.o_proj.bias", l);
                rc = add_tensor(&hw, hf, &hw.zero_bias, false);
            }
        }
    }
    if (!rc) rc = add_tensor(&hw, "model.norm.weight", &m->output_norm, false);
    if (!rc && !c->tied_output) rc = add_tensor(&hw, "lm_head.weight", &m->output, false);
    if (rc) qmc_error_prefix(rc, "%s", path);
    else rc = st_write(hw.w, path);
    st_writer_free(hw.w);
    qmc_free(hw.jobs);
    qmc_free(zeros);
    return rc;
}

static const char *torch_dtype(const qmc_model *m, qmc_write_type type) {
    if (type == QMC_WRITE_F32) return "float32";
    if (type == QMC_WRITE_F16) return "float16";
    qmc_type t = m->token_embd.type;
    return t == QMC_TYPE_F16 ? "float16" : t == QMC_TYPE_BF16 ? "bfloat16" : "float32";
}

static int write_config(const qmc_model *m, const char *path, qmc_write_type type) {
    const qmc_config *c = &m->cfg;
    bool qwen = c->arch == QMC_ARCH_QWEN2;
    cJSON *o = cJSON_CreateObject();
    cJSON *archs = cJSON_AddArrayToObject(o, "architectures");
    cJSON_AddItemToArray(archs, cJSON_CreateString(qwen ? "Qwen2ForCausalLM" : "LlamaForCausalLM"));
    cJSON_AddStringToObject(o, "model_type", qwen ? "qwen2" : "llama");
    cJSON_AddNumberToObject(o, "hidden_size", c->dim);
    cJSON_AddNumberToObject(o, "intermediate_size", c->hidden_dim);
    cJSON_AddNumberToObject(o, "num_hidden_layers", c->n_layers);
    cJSON_AddNumberToObject(o, "num_attention_heads", c->n_heads);
    cJSON_AddNumberToObject(o, "num_key_value_heads", c->n_kv_heads);
    cJSON_AddNumberToObject(o, "head_dim", c->head_dim);
    cJSON_AddNumberToObject(o, "vocab_size", c->vocab_size);
    cJSON_AddNumberToObject(o, "max_position_embeddings", c->seq_len);
    cJSON_AddItemToObject(o, "rms_norm_eps", qmc_json_float(c->norm_eps));
    cJSON_AddItemToObject(o, "rope_theta", qmc_json_float(c->rope_theta));
    if (c->rope_scaling_factor > 0) {
        cJSON *rs = cJSON_AddObjectToObject(o, "rope_scaling");
        cJSON_AddStringToObject(rs, "rope_type", "llama3");
        cJSON_AddItemToObject(rs, "factor", qmc_json_float(c->rope_scaling_factor));
        cJSON_AddItemToObject(rs, "low_freq_factor", qmc_json_float(c->rope_low_freq_factor));
        cJSON_AddItemToObject(rs, "high_freq_factor", qmc_json_float(c->rope_high_freq_factor));
        cJSON_AddNumberToObject(rs, "original_max_position_embeddings", c->rope_orig_max_pos);
    } else cJSON_AddNullToObject(o, "rope_scaling");
    cJSON_AddBoolToObject(o, "tie_word_embeddings", c->tied_output);
    if (!qwen) {
        cJSON_AddBoolToObject(o, "attention_bias", c->qkv_bias);
        cJSON_AddBoolToObject(o, "mlp_bias", false);
    } else cJSON_AddBoolToObject(o, "use_sliding_window", false);
    cJSON_AddStringToObject(o, "hidden_act", "silu");
    cJSON_AddNumberToObject(o, "attention_dropout", 0);
    cJSON_AddNumberToObject(o, "initializer_range", 0.02);
    if (c->bos_id >= 0) cJSON_AddNumberToObject(o, "bos_token_id", c->bos_id);
    if (c->eos_id >= 0) cJSON_AddNumberToObject(o, "eos_token_id", c->eos_id);
    cJSON_AddStringToObject(o, "torch_dtype", torch_dtype(m, type));
    cJSON_AddBoolToObject(o, "use_cache", true);
    int rc = qmc_json_write(path, o);
    cJSON_Delete(o);
    return rc;
}

static int write_generation_config(const qmc_model *m, const char *path) {
    cJSON *o = cJSON_CreateObject();
    if (m->cfg.bos_id >= 0) cJSON_AddNumberToObject(o, "bos_token_id", m->cfg.bos_id);
    if (m->cfg.eos_id >= 0) cJSON_AddNumberToObject(o, "eos_token_id", m->cfg.eos_id);
    int rc = qmc_json_write(path, o);
    cJSON_Delete(o);
    return rc;
}

/* ---- staging ------------------------------------------------------------------ */

/* Move every file of stage into dir (config.json last) and sync dir. */
static int publish_stage(const char *stage, const char *dir) {
    DIR *d = opendir(stage);
    if (!d) return qmc_fail(QMC_ERR_IO, "%s: cannot read directory: %s", stage, strerror(errno));
    char names[16][64];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 16) {
        size_t len = strlen(e->d_name);
        if (e->d_name[0] != '.' && len < sizeof names[0]) memcpy(names[n++], e->d_name, len + 1);
    }
    closedir(d);
    int rc = QMC_OK;
    for (int pass = 0; pass < 2 && !rc; pass++)
        for (int i = 0; i < n && !rc; i++) {
            if ((strcmp(names[i], "config.json") == 0) != (pass == 1)) continue;
            char from[4200], to[4200];
            qmc_path_join(from, sizeof from, stage, names[i]);
            qmc_path_join(to, sizeof to, dir, names[i]);
            if (rename(from, to) != 0) rc = qmc_fail(QMC_ERR_IO, "%s: cannot move into place: %s", to, strerror(errno));
        }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    return rc;
}

/* Remove the staging directory and whatever is left in it. */
static void remove_stage(const char *stage) {
    DIR *d = opendir(stage);
    if (d) {
        int fd = dirfd(d);
        struct dirent *e;
        while ((e = readdir(d)))
            if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) unlinkat(fd, e->d_name, 0);
        closedir(d);
    }
    rmdir(stage);
}

/* Errors name the files as they will be called in dir, not in the stage. */
static void unstage_error(int rc, const char *stage, const char *dir) {
    char msg[2048];
    snprintf(msg, sizeof msg, "%s", qmc_errmsg());
    const char *at = strstr(msg, stage);
    if (!at) return;
    qmc_fail(rc, "%.*s%s%s", (int)(at - msg), msg, dir, at + strlen(stage));
}

static int check_packed(qmc_model *m, qmc_tensor *t, int layer, void *user) {
    if (t->type != QMC_TYPE_PACKED) return QMC_OK;
    return qmc_fail(QMC_ERR_UNSUPPORTED, "%s: tensor '%s' is packed (%s); Hugging Face directories hold F32, F16 or BF16 weights",
                    (const char *)user, t->name, qmc_type_name(t->type));
}

int qmc_model_save_hf(const qmc_model *m, const char *dir, qmc_write_type type) {
    const qmc_config *c = &m->cfg;
    int rc = qmc_model_for_each_tensor((qmc_model *)m, check_packed, (void *)dir);
    if (rc) return rc;
    if (m->rope_freqs.data) {
        /* config.json can only say "llama3"; the factors must be exactly those */
        int half = c->head_dim / 2;
        float *f = qmc_alloc((size_t)half, sizeof(float));
        if (!f) return QMC_ERR_NOMEM;
        bool same = c->rope_scaling_factor > 0 && m->rope_freqs.type == QMC_TYPE_F32;
        if (same) {
            qmc_llama3_rope_factors(c, f);
            same = memcmp(f, m->rope_freqs.data, (size_t)half * sizeof(float)) == 0;
        }
        qmc_free(f);
        if (!same)
            return qmc_fail(QMC_ERR_UNSUPPORTED, "%s: the model's rope_freqs are not Llama-3 scaling with known parameters; config.json cannot express them",
                            dir);
    }
    if (!qmc_is_dir(dir) && mkdir(dir, 0755) != 0 && errno != EEXIST)
        return qmc_fail(QMC_ERR_IO, "%s: cannot create directory: %s", dir, strerror(errno));
    /* Every file is written (crash-safely) into a hidden staging directory
     * inside dir and only then moved into place, config.json last: a failure
     * while writing (a full disk) leaves dir as it was, and a new directory
     * only becomes loadable once everything is in place. */
    char stage[4096], path[4200];
    snprintf(path, sizeof path, ".qmc-new.%d", (int)getpid());
    qmc_path_join(stage, sizeof stage, dir, path);
    if (mkdir(stage, 0755) != 0) return qmc_fail(QMC_ERR_IO, "%s: cannot create directory: %s", stage, strerror(errno));
    qmc_path_join(path, sizeof path, stage, "model.safetensors");
    rc = write_weights(m, path, type);
    if (!rc && m->tok) rc = qmc_tok_save_hf(m->tok, stage);
    qmc_path_join(path, sizeof path, stage, "generation_config.json");
    if (!rc) rc = write_generation_config(m, path);
    qmc_path_join(path, sizeof path, stage, "config.json");
    if (!rc) rc = write_config(m, path, type);
    if (!rc) rc = publish_stage(stage, dir);
    if (rc) unstage_error(rc, stage, dir);
    remove_stage(stage);
    return rc;
}
