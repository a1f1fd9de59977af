/* workload.c — what a model asks of the memory system: its weight tensors
 * (shapes, or real plane sizes for packed .qmc.gguf files), its KV cache and
 * recurrent state, and the activations it moves per token. */
#include <cJSON.h>
#include <math.h>
#include <string.h>

#include "quant/qtensor.h"
#include "sim/sim.h"

void sim_workload_free(sim_workload *w) {
    if (!w) return;
    qmc_free(w->tensors);
    qmc_free(w->layers);
    memset(w, 0, sizeof *w);
}

/* Append one tensor (grows the array); returns it or NULL on allocation failure. */
static sim_tensor *add_tensor(sim_workload *w, int *cap, const char *name, sim_wclass cls, int layer, int64_t rows,
                              int64_t cols, bool matmul) {
    if (w->n_tensors == *cap) {
        int nc = *cap ? 2 * *cap : 64;
        sim_tensor *t = qmc_realloc(w->tensors, (size_t)nc, sizeof *t);
        if (!t) return NULL;
        w->tensors = t;
        *cap = nc;
    }
    sim_tensor *t = &w->tensors[w->n_tensors++];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->cls = cls;
    t->layer = layer;
    t->nelem = rows * cols;
    t->cols = cols;
    t->matmul = matmul;
    w->n_params += t->nelem;
    return t;
}

int sim_workload_params(int64_t n_params, int64_t row_len, sim_workload *w) {
    memset(w, 0, sizeof *w);
    if (n_params <= 0 || n_params > ((int64_t)1 << 50))
        return qmc_fail(QMC_ERR_ARG, "parameter count %lld is out of range (1 .. 2^50)", (long long)n_params);
    if (row_len <= 0 || row_len > (1 << 24)) return qmc_fail(QMC_ERR_ARG, "row length %lld is out of range", (long long)row_len);
    snprintf(w->name, sizeof w->name, "%.4g parameters", (double)n_params);
    snprintf(w->source, sizeof w->source, "params");
    int cap = 0;
    sim_tensor *t = add_tensor(w, &cap, "weights", SIM_W_BLOCK, -1, 1, 1, true);
    if (!t) return QMC_ERR_NOMEM;
    t->nelem = n_params;
    t->cols = row_len;
    w->n_params = n_params;
    return QMC_OK;
}

/* A block with its own full-attention KV cache of n_kv heads of head_dim. */
static void plain_attention(sim_layer *ly, int l, int64_t n_heads, int64_t n_kv, int64_t head_dim) {
    ly->kv_elems = 2 * n_kv * head_dim;
    ly->kv_src = l;
    ly->q_heads = (int)n_heads;
    ly->qk_dim = ly->v_dim = (int)head_dim;
}

/* ---- loaded models (GGUF, .qmc.gguf, llama2.c) ------------------------------ */

typedef struct {
    sim_workload *w;
    int cap;
    int rc;
} walk_state;

static int walk_tensor(qmc_model *m, qmc_tensor *t, int layer, void *user) {
    walk_state *s = user;
    sim_wclass cls = SIM_W_SMALL;
    bool matmul = false;
    if (t == &m->token_embd) cls = m->cfg.tied_output ? SIM_W_TIED : SIM_W_EMBED, matmul = m->cfg.tied_output;
    else if (t == &m->output) cls = SIM_W_HEAD, matmul = true;
    else if (qmc_tensor_is_block_linear(m, t)) cls = SIM_W_BLOCK, matmul = true;
    sim_tensor *st = add_tensor(s->w, &s->cap, t->name, cls, layer, qmc_tensor_rows(t), qmc_tensor_cols(t), matmul);
    if (!st) return s->rc = QMC_ERR_NOMEM;
    st->stored_bytes = qmc_tensor_nbytes(t);
    if (t->type == QMC_TYPE_PACKED) {
        qmc_plane_sizes ps;
        qmc_qt_plane_sizes(t->q, &ps);
        st->packed = true;
        st->in_bits = t->q->in.bits;
        st->out_bits = t->q->n_out ? t->q->out.bits : 0;
        st->n_out = t->q->n_out;
        st->reram_bytes = ps.in_codes;
        st->mram_bytes = ps.total - ps.in_codes;
        s->w->has_packed = true;
    }
    return 0;
}

int sim_workload_from_model(qmc_model *m, sim_workload *w) {
    memset(w, 0, sizeof *w);
    const qmc_config *c = &m->cfg;
    snprintf(w->name, sizeof w->name, "%s", m->name[0] ? m->name : qmc_basename(m->path));
    w->layers = qmc_alloc((size_t)c->n_layers, sizeof *w->layers);
    if (!w->layers) return qmc_error_prefix(QMC_ERR_NOMEM, "%s", m->path);
    w->n_layers = c->n_layers;
    walk_state s = {w, 0, 0};
    qmc_model_for_each_tensor(m, walk_tensor, &s);
    if (s.rc) {
        sim_workload_free(w);
        return qmc_error_prefix(s.rc, "%s", m->path);
    }
    snprintf(w->source, sizeof w->source, "%s", w->has_packed ? "qmc.gguf" : m->source_format);
    const int64_t d = c->dim, hd = c->head_dim, qd = (int64_t)c->n_heads * hd, kvd = (int64_t)c->n_kv_heads * hd,
                  hid = c->hidden_dim;
    for (int l = 0; l < c->n_layers; l++) {
        sim_layer *L = &w->layers[l];
        plain_attention(L, l, c->n_heads, c->n_kv_heads, c->head_dim);
        /* inputs and outputs of q, k, v, o, gate, up, down */
        L->act_in_elems = 3 * d + qd + 2 * d + hid;
        L->act_out_elems = qd + 2 * kvd + d + 2 * hid + d;
        L->act_peak_elems = d + QMC_MAX(qd + 2 * kvd, 2 * hid);
    }
    return QMC_OK;
}

/* ---- Hugging Face config.json (shapes only) ---------------------------------- */

typedef struct {
    const cJSON *o;
    const char *label;
    int rc;
} cfg_reader;

/* Integer key in [lo, hi]; null or absent gives def (or an error when def < lo). */
static int64_t cfg_int(cfg_reader *r, const char *key, int64_t lo, int64_t hi, int64_t def) {
    if (r->rc) return def;
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(r->o, key);
    if (!it || cJSON_IsNull(it)) {
        if (def < lo) r->rc = qmc_fail(QMC_ERR_FORMAT, "%s: missing \"%s\"", r->label, key);
        return def;
    }
    double v = it->valuedouble;
    /* range first: converting a double outside int64's range is undefined */
    if (!cJSON_IsNumber(it) || !(v >= (double)lo && v <= (double)hi) || v != floor(v)) {
        r->rc = qmc_fail(QMC_ERR_FORMAT, "%s: \"%s\" must be an integer in [%lld, %lld]", r->label, key, (long long)lo,
                         (long long)hi);
        return def;
    }
    return (int64_t)v;
}

static bool cfg_bool(cfg_reader *r, const char *key, bool def) {
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(r->o, key);
    if (!it || cJSON_IsNull(it)) return def;
    if (!cJSON_IsBool(it)) {
        if (!r->rc) r->rc = qmc_fail(QMC_ERR_FORMAT, "%s: \"%s\" must be true or false", r->label, key);
        return def;
    }
    return cJSON_IsTrue(it);
}

static const char *cfg_str(cfg_reader *r, const char *key) {
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(r->o, key);
    return cJSON_IsString(it) ? it->valuestring : NULL;
}

#define MAXDIM ((int64_t)1 << 20)
#define MAXVOCAB ((int64_t)1 << 24)

typedef struct {
    sim_workload *w;
    int cap;
} builder;

static int tensor_(builder *b, const char *what, int layer, sim_wclass cls, int64_t rows, int64_t cols, bool matmul) {
    char name[QMC_MAX_NAME];
    if (layer >= 0) snprintf(name, sizeof name, "blk.%d.%s", layer, what);
    else snprintf(name, sizeof name, "%s", what);
    return add_tensor(b->w, &b->cap, name, cls, layer, rows, cols, matmul) ? QMC_OK : QMC_ERR_NOMEM;
}
/* The block array and the token embedding (tied: also the head). */
static int begin_model(builder *b, int64_t n_layers, int64_t vocab, int64_t dim, bool tied) {
    b->w->layers = qmc_alloc((size_t)n_layers, sizeof *b->w->layers);
    if (!b->w->layers) return QMC_ERR_NOMEM;
    b->w->n_layers = (int)n_layers;
    return tensor_(b, "token_embd", -1, tied ? SIM_W_TIED : SIM_W_EMBED, vocab, dim, tied);
}
#define T(what, l, cls, rows, cols, mm)                                        \
    do {                                                                       \
        if ((rc = tensor_(&b, what, l, cls, rows, cols, mm))) goto fail;       \
    } while (0)

/* Llama, Mistral, Qwen2: q/k/v/o, SwiGLU, RMSNorm. */
static int build_llama(cfg_reader *r, const char *type, sim_workload *w) {
    int64_t H = cfg_int(r, "hidden_size", 1, MAXDIM, -1), I = cfg_int(r, "intermediate_size", 1, 4 * MAXDIM, -1);
    int64_t L = cfg_int(r, "num_hidden_layers", 1, 4096, -1), nh = cfg_int(r, "num_attention_heads", 1, 4096, -1);
    int64_t nkv = cfg_int(r, "num_key_value_heads", 1, 4096, nh), V = cfg_int(r, "vocab_size", 1, MAXVOCAB, -1);
    int64_t hd = cfg_int(r, "head_dim", 1, 65536, nh > 0 ? H / nh : 1);
    bool tied = cfg_bool(r, "tie_word_embeddings", false);
    bool qwen = strcmp(type, "qwen2") == 0;
    bool attn_bias = cfg_bool(r, "attention_bias", false), mlp_bias = cfg_bool(r, "mlp_bias", false);
    int64_t window = 0, first_swa = 0;
    if (strcmp(type, "mistral") == 0) window = cfg_int(r, "sliding_window", 0, 1 << 30, 0);
    if (qwen && cfg_bool(r, "use_sliding_window", false)) {
        window = cfg_int(r, "sliding_window", 0, 1 << 30, 0);
        first_swa = cfg_int(r, "max_window_layers", 0, 4096, 0);
    }
    if (r->rc) return r->rc;
    if (nh % nkv) return qmc_fail(QMC_ERR_FORMAT, "%s: num_attention_heads %lld is not a multiple of num_key_value_heads %lld",
                                  r->label, (long long)nh, (long long)nkv);
    const int64_t qd = nh * hd, kvd = nkv * hd;
    builder b = {w, 0};
    int rc;
    if ((rc = begin_model(&b, L, V, H, tied))) goto fail;
    for (int l = 0; l < L; l++) {
        T("attn_norm", l, SIM_W_SMALL, 1, H, false);
        T("attn_q", l, SIM_W_BLOCK, qd, H, true);
        T("attn_k", l, SIM_W_BLOCK, kvd, H, true);
        T("attn_v", l, SIM_W_BLOCK, kvd, H, true);
        if (qwen || attn_bias) {
            T("attn_q_bias", l, SIM_W_SMALL, 1, qd, false);
            T("attn_k_bias", l, SIM_W_SMALL, 1, kvd, false);
            T("attn_v_bias", l, SIM_W_SMALL, 1, kvd, false);
        }
        T("attn_output", l, SIM_W_BLOCK, H, qd, true);
        if (attn_bias) T("attn_output_bias", l, SIM_W_SMALL, 1, H, false);
        T("ffn_norm", l, SIM_W_SMALL, 1, H, false);
        T("ffn_gate", l, SIM_W_BLOCK, I, H, true);
        T("ffn_up", l, SIM_W_BLOCK, I, H, true);
        T("ffn_down", l, SIM_W_BLOCK, H, I, true);
        if (mlp_bias) {
            T("ffn_gate_bias", l, SIM_W_SMALL, 1, I, false);
            T("ffn_up_bias", l, SIM_W_SMALL, 1, I, false);
            T("ffn_down_bias", l, SIM_W_SMALL, 1, H, false);
        }
        sim_layer *ly = &w->layers[l];
        plain_attention(ly, l, nh, nkv, hd);
        ly->window = (window > 0 && l >= first_swa) ? (int)window : 0;
        ly->act_in_elems = 3 * H + qd + 2 * H + I;
        ly->act_out_elems = qd + 2 * kvd + H + 2 * I + H;
        ly->act_peak_elems = H + QMC_MAX(qd + 2 * kvd, 2 * I);
    }
    T("output_norm", -1, SIM_W_SMALL, 1, H, false);
    if (!tied) T("output", -1, SIM_W_HEAD, V, H, true);
    return QMC_OK;
fail:
    return rc;
}

/* Phi-1/1.5/2: q/k/v/dense with biases, GELU MLP fc1/fc2 with biases, LayerNorm. */
static int build_phi(cfg_reader *r, sim_workload *w) {
    int64_t H = cfg_int(r, "hidden_size", 1, MAXDIM, -1), I = cfg_int(r, "intermediate_size", 1, 4 * MAXDIM, -1);
    int64_t L = cfg_int(r, "num_hidden_layers", 1, 4096, -1), nh = cfg_int(r, "num_attention_heads", 1, 4096, -1);
    int64_t nkv = cfg_int(r, "num_key_value_heads", 1, 4096, nh), V = cfg_int(r, "vocab_size", 1, MAXVOCAB, -1);
    bool tied = cfg_bool(r, "tie_word_embeddings", false);
    if (r->rc) return r->rc;
    if (H % nh || nh % nkv) return qmc_fail(QMC_ERR_FORMAT, "%s: head counts do not divide hidden_size", r->label);
    const int64_t hd = H / nh, qd = nh * hd, kvd = nkv * hd;
    builder b = {w, 0};
    int rc;
    if ((rc = begin_model(&b, L, V, H, tied))) goto fail;
    for (int l = 0; l < L; l++) {
        T("attn_norm", l, SIM_W_SMALL, 2, H, false); /* weight + bias */
        T("attn_q", l, SIM_W_BLOCK, qd, H, true);
        T("attn_k", l, SIM_W_BLOCK, kvd, H, true);
        T("attn_v", l, SIM_W_BLOCK, kvd, H, true);
        T("attn_qkv_bias", l, SIM_W_SMALL, 1, qd + 2 * kvd, false);
        T("attn_output", l, SIM_W_BLOCK, H, qd, true);
        T("attn_output_bias", l, SIM_W_SMALL, 1, H, false);
        T("ffn_up", l, SIM_W_BLOCK, I, H, true);
        T("ffn_up_bias", l, SIM_W_SMALL, 1, I, false);
        T("ffn_down", l, SIM_W_BLOCK, H, I, true);
        T("ffn_down_bias", l, SIM_W_SMALL, 1, H, false);
        sim_layer *ly = &w->layers[l];
        plain_attention(ly, l, nh, nkv, hd);
        ly->act_in_elems = 3 * H + qd + H + I;
        ly->act_out_elems = qd + 2 * kvd + H + I + H;
        ly->act_peak_elems = H + QMC_MAX(qd + 2 * kvd, I);
    }
    T("output_norm", -1, SIM_W_SMALL, 2, H, false);
    if (!tied) {
        T("output", -1, SIM_W_HEAD, V, H, true);
        T("output_bias", -1, SIM_W_SMALL, 1, V, false);
    }
    return QMC_OK;
fail:
    return rc;
}

/* A layer index in [0, L), or -1 for anything else. */
static int layer_index(const cJSON *e, int64_t L) {
    if (!cJSON_IsNumber(e) || !(e->valuedouble >= 0 && e->valuedouble < (double)L) || e->valuedouble != floor(e->valuedouble))
        return -1;
    return (int)e->valuedouble;
}

/* kv_reuse_group: null or a list of lists of layer indexes; global_attn_idx:
 * null or a list of layer indexes. */
static int check_layer_lists(cfg_reader *r, const cJSON *groups, const cJSON *global, int64_t L) {
    bool ok = true;
    if (groups && !cJSON_IsNull(groups)) {
        ok = cJSON_IsArray(groups);
        for (const cJSON *g = ok ? groups->child : NULL; g && ok; g = g->next) {
            ok = cJSON_IsArray(g);
            for (const cJSON *e = ok ? g->child : NULL; e && ok; e = e->next) ok = layer_index(e, L) >= 0;
        }
        if (!ok) return qmc_fail(QMC_ERR_FORMAT, "%s: \"kv_reuse_group\" must be lists of layer indexes in [0, %lld)", r->label, (long long)L);
    }
    if (global && !cJSON_IsNull(global)) {
        ok = cJSON_IsArray(global);
        for (const cJSON *e = ok ? global->child : NULL; e && ok; e = e->next) ok = layer_index(e, L) >= 0;
        if (!ok) return qmc_fail(QMC_ERR_FORMAT, "%s: \"global_attn_idx\" must be a list of layer indexes in [0, %lld)", r->label, (long long)L);
    }
    return QMC_OK;
}

/* Is layer l listed as a consumer (not the first) of a kv_reuse_group?  Returns
 * its producer, or -1.  (The lists were checked by check_layer_lists.) */
static int hymba_producer(const cJSON *groups, int l) {
    for (const cJSON *g = groups ? groups->child : NULL; g; g = g->next) {
        const cJSON *first = g->child;
        if (!first) continue;
        for (const cJSON *e = first->next; e; e = e->next)
            if (cJSON_IsNumber(e) && (int)e->valuedouble == l) return (int)first->valuedouble;
    }
    return -1;
}

static bool in_int_list(const cJSON *arr, int v) {
    for (const cJSON *e = arr ? arr->child : NULL; e; e = e->next)
        if (cJSON_IsNumber(e) && (int)e->valuedouble == v) return true;
    return false;
}

/* Hymba (nvidia/Hymba-1.5B): every block runs attention heads and a Mamba
 * head in parallel from one fused in_proj (HymbaBlock in modeling_hymba.py):
 *   E = mamba_expand * H (SSM width); q = H wide; k = H*nkv/nh; v = k * mamba_expand
 *   in_proj [E + q (+ k + v unless the layer reuses another's KV) + E (gate)] x H
 *   out_proj H x E; conv1d E x d_conv (+bias); x_proj (dt_rank + 2 d_state) x E;
 *   dt_proj E x dt_rank (+bias); A_log E x d_state; D E; RMSNorms (2E, dt_rank,
 *   2 d_state); MLP gate/up I x H, down H x I; input/pre-MLP RMSNorms.
 * Plus the embedding (tied head), final norm and num_memory_tokens x H meta
 * tokens.  KV cache: only the first layer of each kv_reuse_group stores K/V
 * (nkv*(H/nh) + nkv*(E/nh) per token); layers outside global_attn_idx attend a
 * sliding window of sliding_window tokens plus the meta tokens.  The SSM keeps
 * E x (d_conv + d_state) of state per layer. */
static int build_hymba(cfg_reader *r, sim_workload *w) {
    int64_t H = cfg_int(r, "hidden_size", 1, MAXDIM, -1), I = cfg_int(r, "intermediate_size", 0, 4 * MAXDIM, -1);
    int64_t L = cfg_int(r, "num_hidden_layers", 1, 4096, -1), nh = cfg_int(r, "num_attention_heads", 1, 4096, -1);
    int64_t nkv = cfg_int(r, "num_key_value_heads", 1, 4096, nh), V = cfg_int(r, "vocab_size", 1, MAXVOCAB, -1);
    int64_t expand = cfg_int(r, "mamba_expand", 1, 64, -1), d_state = cfg_int(r, "mamba_d_state", 1, 4096, -1);
    int64_t d_conv = cfg_int(r, "mamba_d_conv", 1, 64, -1), dt_rank = cfg_int(r, "mamba_dt_rank", 1, MAXDIM, -1);
    int64_t meta = cfg_int(r, "num_memory_tokens", 0, 1 << 20, 0), window = cfg_int(r, "sliding_window", 0, 1 << 30, 0);
    int64_t attn_hidden = cfg_int(r, "attn_hidden_size", -1, MAXDIM, -1), kq_dim = cfg_int(r, "kq_head_dim", -1, 65536, -1);
    int64_t n_mamba = cfg_int(r, "num_mamba", 1, 64, 1), n_experts = cfg_int(r, "num_experts", 1, 1024, 1);
    bool tied = cfg_bool(r, "tie_word_embeddings", false), conv_bias = cfg_bool(r, "mamba_conv_bias", true);
    bool proj_bias = cfg_bool(r, "mamba_proj_bias", false), inner_norms = cfg_bool(r, "mamba_inner_layernorms", true);
    const char *act = cfg_str(r, "mlp_hidden_act");
    if (r->rc) return r->rc;
    if (n_mamba != 1 || n_experts != 1 || (attn_hidden != -1 && attn_hidden != H) || (kq_dim != -1 && kq_dim * nh != H))
        return qmc_fail(QMC_ERR_UNSUPPORTED, "%s: only Hymba with num_mamba 1, num_experts 1 and default attention widths is modelled",
                        r->label);
    const int64_t E = expand * H;
    if (H % nh || E % nh || (nkv * H) % nh || nh % nkv)
        return qmc_fail(QMC_ERR_FORMAT, "%s: head counts do not divide the widths", r->label);
    const int64_t qk_dim = H / nh, v_dim = E / nh, k_w = nkv * H / nh, v_w = k_w * expand;
    bool gated = !act || strcmp(act, "silu") == 0;
    const cJSON *groups = cJSON_GetObjectItemCaseSensitive(r->o, "kv_reuse_group");
    const cJSON *global = cJSON_GetObjectItemCaseSensitive(r->o, "global_attn_idx");
    builder b = {w, 0};
    int rc;
    if ((rc = check_layer_lists(r, groups, global, L)) || (rc = begin_model(&b, L, V, H, tied))) goto fail;
    w->meta_tokens = (int)meta;
    if (meta) T("memory_tokens", -1, SIM_W_EMBED, meta, H, false);
    for (int l = 0; l < L; l++) {
        int producer = hymba_producer(groups, l);
        if (producer >= l || (producer >= 0 && hymba_producer(groups, producer) >= 0))
            return qmc_fail(QMC_ERR_FORMAT, "%s: kv_reuse_group makes layer %d reuse layer %d", r->label, l, producer);
        bool reuse = producer >= 0;
        int64_t latent = E + H + (reuse ? 0 : k_w + v_w);
        T("input_norm", l, SIM_W_SMALL, 1, H, false);
        T("in_proj", l, SIM_W_BLOCK, latent + E, H, true);
        if (proj_bias) T("in_proj_bias", l, SIM_W_SMALL, 1, latent + E, false);
        T("conv1d", l, SIM_W_SMALL, E, d_conv, false);
        if (conv_bias) T("conv1d_bias", l, SIM_W_SMALL, 1, E, false);
        T("x_proj", l, SIM_W_BLOCK, dt_rank + 2 * d_state, E, true);
        T("dt_proj", l, SIM_W_BLOCK, E, dt_rank, true);
        T("dt_proj_bias", l, SIM_W_SMALL, 1, E, false);
        T("A_log", l, SIM_W_SMALL, E, d_state, false);
        T("D", l, SIM_W_SMALL, 1, E, false);
        T("pre_avg_norms", l, SIM_W_SMALL, 2, E, false);
        if (inner_norms) T("dt_B_C_norms", l, SIM_W_SMALL, 1, dt_rank + 2 * d_state, false);
        T("out_proj", l, SIM_W_BLOCK, H, E, true);
        if (proj_bias) T("out_proj_bias", l, SIM_W_SMALL, 1, H, false);
        if (I > 0) {
            T("ffn_norm", l, SIM_W_SMALL, 1, H, false);
            if (gated) T("ffn_gate", l, SIM_W_BLOCK, I, H, true);
            T("ffn_up", l, SIM_W_BLOCK, I, H, true);
            T("ffn_down", l, SIM_W_BLOCK, H, I, true);
        }
        sim_layer *ly = &w->layers[l];
        ly->kv_elems = reuse ? 0 : k_w + v_w;
        ly->kv_src = reuse ? producer : l;
        ly->window = (window > 0 && !in_int_list(global, l)) ? (int)window : 0;
        ly->q_heads = (int)nh;
        ly->qk_dim = (int)qk_dim;
        ly->v_dim = (int)v_dim;
        ly->state_elems = E * (d_conv + d_state);
        ly->scan_flops = E * (9 * d_state + 2 * d_conv);
        /* in_proj, out_proj, x_proj, dt_proj, MLP */
        ly->act_in_elems = H + E + E + dt_rank + (I > 0 ? (gated ? 2 : 1) * H + I : 0);
        ly->act_out_elems = (latent + E) + H + (dt_rank + 2 * d_state) + E + (I > 0 ? (gated ? 2 : 1) * I + H : 0);
        ly->act_peak_elems = H + latent + E;
    }
    T("output_norm", -1, SIM_W_SMALL, 1, H, false);
    if (!tied) T("output", -1, SIM_W_HEAD, V, H, true);
    return QMC_OK;
fail:
    return rc;
}
#undef T

int sim_workload_from_hf_config(const char *json, const char *label, sim_workload *w) {
    memset(w, 0, sizeof *w);
    cJSON *o = cJSON_Parse(json);
    if (!o || !cJSON_IsObject(o)) {
        cJSON_Delete(o);
        return qmc_fail(QMC_ERR_FORMAT, "%s: not a JSON object", label);
    }
    cfg_reader r = {o, label, 0};
    const char *type = cfg_str(&r, "model_type");
    int rc;
    if (!type) rc = qmc_fail(QMC_ERR_FORMAT, "%s: missing \"model_type\"", label);
    else if (strcmp(type, "llama") == 0 || strcmp(type, "mistral") == 0 || strcmp(type, "qwen2") == 0)
        rc = build_llama(&r, type, w);
    else if (strcmp(type, "phi") == 0) rc = build_phi(&r, w);
    else if (strcmp(type, "hymba") == 0) rc = build_hymba(&r, w);
    else
        rc = qmc_fail(QMC_ERR_UNSUPPORTED, "%s: model_type \"%s\" is not modelled (llama, mistral, qwen2, phi, hymba)", label,
                      type);
    if (rc == QMC_OK) {
        snprintf(w->source, sizeof w->source, "config.json");
        snprintf(w->name, sizeof w->name, "%s (%s)", label, type);
    }
    cJSON_Delete(o);
    if (rc) {
        if (rc == QMC_ERR_NOMEM) qmc_error_prefix(rc, "%s", label);
        sim_workload_free(w);
    }
    return rc;
}

int sim_workload_load(const sim_datapath *dp, const char *spec, sim_workload *w) {
    memset(w, 0, sizeof *w);
    char *text = NULL;
    char origin[4200], path[4200];
    int rc;
    char rel[256];
    snprintf(rel, sizeof rel, "configs/%s.json", spec);
    bool plain_name = !strchr(spec, '/') && !qmc_ends_with(spec, ".json") && strlen(spec) < 100;
    if (plain_name && !qmc_file_exists(spec) && !qmc_is_dir(spec)) {
        if (!sim_data_has(dp, rel)) {
            char names[2048];
            sim_data_names(dp, "configs", names, sizeof names);
            return qmc_fail(QMC_ERR_ARG, "%s: no such file, directory or model preset (presets: %s)", spec, names);
        }
        if ((rc = sim_data_read(dp, rel, &text, origin, sizeof origin))) return rc;
        rc = sim_workload_from_hf_config(text, spec, w);
        qmc_free(text);
        return rc;
    }
    /* safetensors shards and their index: the shapes come from config.json beside them */
    if (qmc_ends_with(spec, ".safetensors") || qmc_ends_with(spec, ".safetensors.index.json")) {
        char dir[4100];
        snprintf(dir, sizeof dir, "%s", spec);
        char *slash = strrchr(dir, '/');
        if (slash) *slash = 0;
        else snprintf(dir, sizeof dir, ".");
        qmc_path_join(path, sizeof path, dir, "config.json");
        if (!qmc_file_exists(path))
            return qmc_fail(QMC_ERR_IO, "%s: no config.json beside it (the simulator reads shapes from it)", spec);
        spec = path;
    }
    if (qmc_is_dir(spec) || qmc_ends_with(spec, ".json")) {
        if (qmc_is_dir(spec)) qmc_path_join(path, sizeof path, spec, "config.json");
        else if (spec != path) snprintf(path, sizeof path, "%s", spec);
        if ((rc = qmc_read_file(path, 1 << 22, &text, NULL))) return rc;
        rc = sim_workload_from_hf_config(text, path, w);
        qmc_free(text);
        return rc;
    }
    qmc_model *m = NULL;
    if ((rc = qmc_model_load(spec, NULL, &m))) return rc;
    rc = sim_workload_from_model(m, w);
    qmc_model_free(m);
    return rc;
}
