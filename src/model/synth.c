/* synth.c — random models with real shapes (see synth.h). */
#include <math.h>
#include <omp.h>
#include <string.h>

#include "model/synth.h"

#define LLAMA(d, h, l, nh, kv, hd, v, ctx, theta, tied)                                                           \
    {.arch = QMC_ARCH_LLAMA, .dim = d, .hidden_dim = h, .n_layers = l, .n_heads = nh, .n_kv_heads = kv,         \
     .head_dim = hd, .vocab_size = v, .seq_len = ctx, .norm_eps = 1e-5f, .rope_theta = theta,                    \
     .rope_style = QMC_ROPE_NORM, .tied_output = tied, .bos_id = 1, .eos_id = 2}

const qmc_synth_shape qmc_synth_shapes[] = {
    {"llama-3.2-1b", "meta-llama/Llama-3.2-1B config.json",
     {.arch = QMC_ARCH_LLAMA, .dim = 2048, .hidden_dim = 8192, .n_layers = 16, .n_heads = 32, .n_kv_heads = 8,
      .head_dim = 64, .vocab_size = 128256, .seq_len = 131072, .norm_eps = 1e-5f, .rope_theta = 500000.0f,
      .rope_style = QMC_ROPE_NORM, .rope_scaling_factor = 32.0f, .rope_low_freq_factor = 1.0f,
      .rope_high_freq_factor = 4.0f, .rope_orig_max_pos = 8192, .tied_output = true, .bos_id = 1, .eos_id = 2}},
    {"llama-3.2-3b", "meta-llama/Llama-3.2-3B config.json",
     {.arch = QMC_ARCH_LLAMA, .dim = 3072, .hidden_dim = 8192, .n_layers = 28, .n_heads = 24, .n_kv_heads = 8,
      .head_dim = 128, .vocab_size = 128256, .seq_len = 131072, .norm_eps = 1e-5f, .rope_theta = 500000.0f,
      .rope_style = QMC_ROPE_NORM, .rope_scaling_factor = 32.0f, .rope_low_freq_factor = 1.0f,
      .rope_high_freq_factor = 4.0f, .rope_orig_max_pos = 8192, .tied_output = true, .bos_id = 1, .eos_id = 2}},
    {"qwen2.5-0.5b", "Qwen/Qwen2.5-0.5B config.json",
     {.arch = QMC_ARCH_QWEN2, .dim = 896, .hidden_dim = 4864, .n_layers = 24, .n_heads = 14, .n_kv_heads = 2,
      .head_dim = 64, .vocab_size = 151936, .seq_len = 32768, .norm_eps = 1e-6f, .rope_theta = 1000000.0f,
      .rope_style = QMC_ROPE_NEOX, .qkv_bias = true, .tied_output = true, .bos_id = 1, .eos_id = 2}},
    {"qwen2.5-1.5b", "Qwen/Qwen2.5-1.5B config.json",
     {.arch = QMC_ARCH_QWEN2, .dim = 1536, .hidden_dim = 8960, .n_layers = 28, .n_heads = 12, .n_kv_heads = 2,
      .head_dim = 128, .vocab_size = 151936, .seq_len = 32768, .norm_eps = 1e-6f, .rope_theta = 1000000.0f,
      .rope_style = QMC_ROPE_NEOX, .qkv_bias = true, .tied_output = true, .bos_id = 1, .eos_id = 2}},
    {"smollm-135m", "HuggingFaceTB/SmolLM-135M config.json",
     LLAMA(576, 1536, 30, 9, 3, 64, 49152, 2048, 10000.0f, true)},
    {"stories15m", "karpathy/tinyllamas stories15M (llama2.c)", LLAMA(288, 768, 6, 6, 6, 48, 32000, 256, 10000.0f, true)},
    {"stories42m", "karpathy/tinyllamas stories42M (llama2.c)", LLAMA(512, 1376, 8, 8, 8, 64, 32000, 1024, 10000.0f, true)},
    {"stories110m", "karpathy/tinyllamas stories110M (llama2.c)", LLAMA(768, 2048, 12, 12, 12, 64, 32000, 1024, 10000.0f, true)},
    {NULL, NULL, {0}},
};

const qmc_synth_shape *qmc_synth_find(const char *name) {
    for (const qmc_synth_shape *s = qmc_synth_shapes; s->name; s++)
        if (strcmp(s->name, name) == 0) return s;
    return NULL;
}

/* Student-t(nu) by Bailey's polar method, from counter-based uniforms. */
static double student_t(uint64_t key, uint64_t i, double nu) {
    for (uint64_t attempt = 0;; attempt++) {
        uint64_t c = (i << 4) | (attempt & 15);
        double u = 2.0 * qmc_rand_unit(key, 2 * c) - 1.0, v = 2.0 * qmc_rand_unit(key, 2 * c + 1) - 1.0;
        double w = u * u + v * v;
        if (w > 0.0 && w <= 1.0) return u * sqrt(nu * (pow(w, -2.0 / nu) - 1.0) / w);
        if (attempt == 15) return 0.0; /* probability (1 - pi/4)^16 ~ 1e-11 */
    }
}

/* How one tensor's values are drawn. */
typedef struct {
    uint64_t key;
    int64_t rows, cols;
    double nu, std;
    bool norm;            /* 1 + N(0, 0.05) */
    qmc_type out_type;
    int64_t outlier_every;  /* input columns c with hash(c) % outlier_every == 0 are scaled */
} gen_spec;

static float gen_value(const gen_spec *g, int64_t r, int64_t c) {
    uint64_t idx = (uint64_t)(r * g->cols + c);
    if (g->norm) return (float)(1.0 + 0.05 * qmc_rand_normal(g->key, idx));
    /* t(nu) has variance nu/(nu-2): normalise to unit variance */
    double x = student_t(g->key, idx, g->nu) * sqrt((g->nu - 2.0) / g->nu) * g->std;
    if (g->outlier_every > 0) {
        uint64_t h = qmc_hash64(g->key ^ (uint64_t)c);
        if (h % (uint64_t)g->outlier_every == 0) x *= 4.0 + (double)(h >> 60) / 4.0; /* 4..7.75x */
    }
    return (float)x;
}

static int fill_gen(void *user, qmc_out *o) {
    const gen_spec *g = user;
    const int64_t chunk_rows = QMC_MAX((int64_t)1, (int64_t)(1 << 20) / g->cols);
    float *buf = qmc_alloc((size_t)(chunk_rows * g->cols), sizeof(float));
    uint16_t *h = g->out_type == QMC_TYPE_F16 ? qmc_alloc((size_t)(chunk_rows * g->cols), sizeof(uint16_t)) : NULL;
    if (!buf || (g->out_type == QMC_TYPE_F16 && !h)) {
        qmc_free(buf);
        qmc_free(h);
        return QMC_ERR_NOMEM;
    }
    int rc = QMC_OK;
    for (int64_t r0 = 0; r0 < g->rows && !rc; r0 += chunk_rows) {
        int64_t nr = QMC_MIN(chunk_rows, g->rows - r0);
#pragma omp parallel for schedule(static) num_threads(qmc_threads())
        for (int64_t r = 0; r < nr; r++)
            for (int64_t c = 0; c < g->cols; c++) buf[r * g->cols + c] = gen_value(g, r0 + r, c);
        if (h) {
            qmc_f32_to_f16_row(buf, h, nr * g->cols);
            rc = qmc_out_write(o, h, (size_t)(nr * g->cols) * 2);
        } else rc = qmc_out_write(o, buf, (size_t)(nr * g->cols) * 4);
    }
    qmc_free(buf);
    qmc_free(h);
    return rc;
}

/* Byte-fallback SentencePiece vocabulary of n pieces: <unk> <s> </s>, the 256
 * byte tokens, "▁", then filler pieces that never match text. */
static int synth_vocab(int32_t n, qmc_tokenizer **out) {
    const char **pieces = qmc_alloc((size_t)n, sizeof(char *));
    int32_t *lens = qmc_alloc((size_t)n, sizeof(int32_t));
    int32_t *types = qmc_alloc((size_t)n, sizeof(int32_t));
    char *store = qmc_alloc((size_t)n, 24);
    int rc = pieces && lens && types && store ? QMC_OK : QMC_ERR_NOMEM;
    for (int32_t i = 0; i < n && !rc; i++) {
        char *p = store + (int64_t)i * 24;
        if (i == 0) snprintf(p, 24, "<unk>"), types[i] = QMC_TT_UNKNOWN;
        else if (i == 1) snprintf(p, 24, "<s>"), types[i] = QMC_TT_CONTROL;
        else if (i == 2) snprintf(p, 24, "</s>"), types[i] = QMC_TT_CONTROL;
        else if (i < 259) snprintf(p, 24, "<0x%02X>", i - 3), types[i] = QMC_TT_BYTE;
        else if (i == 259) snprintf(p, 24, "\xe2\x96\x81"), types[i] = QMC_TT_NORMAL;
        else snprintf(p, 24, "<synth%d>", i), types[i] = QMC_TT_UNUSED;
        pieces[i] = p;
        lens[i] = (int32_t)strlen(p);
    }
    if (!rc) rc = qmc_tok_create(QMC_TOK_SPM, n, pieces, lens, NULL, types, out);
    if (!rc) {
        (*out)->unk_id = 0;
        (*out)->bos_id = 1;
        (*out)->eos_id = 2;
        (*out)->add_bos = true;
    }
    qmc_free(pieces);
    qmc_free(lens);
    qmc_free(types);
    qmc_free(store);
    return rc;
}

int qmc_synth_write(const qmc_synth_shape *shape, const qmc_synth_opts *o, const char *path) {
    qmc_model m;
    memset(&m, 0, sizeof m);
    m.cfg = shape->cfg;
    if (o->layers > 0 && o->layers < m.cfg.n_layers) m.cfg.n_layers = o->layers;
    snprintf(m.name, sizeof m.name, "synthetic %s (seed %llu)", shape->name, (unsigned long long)o->seed);
    snprintf(m.path, sizeof m.path, "%s", path);
    const qmc_config *c = &m.cfg;
    const int64_t d = c->dim, hd = c->head_dim, qd = (int64_t)c->n_heads * hd, kvd = (int64_t)c->n_kv_heads * hd;
    const qmc_type wt = o->type == QMC_WRITE_F16 ? QMC_TYPE_F16 : QMC_TYPE_F32;
    int max_specs = 16 * c->n_layers + 8, n_specs = 0;
    gen_spec *specs = qmc_alloc((size_t)max_specs, sizeof(gen_spec));
    float *rope = NULL;
    gguf_writer *w = gguf_writer_new();
    int rc = specs && w ? QMC_OK : QMC_ERR_NOMEM;
    if (!rc) rc = synth_vocab(c->vocab_size, &m.tok);
    if (!rc) rc = qmc_gguf_model_kv(w, &m, o->type);
    if (!rc) rc = gguf_set_str(w, "qmc.synthetic", shape->name);
    if (!rc) rc = gguf_set_u64(w, "qmc.synthetic_seed", o->seed);
    uint64_t base = qmc_hash64(o->seed * 0x9E3779B97F4A7C15ull + 17);
#define ADD(name_, rows_, cols_, nu_, std_, norm_, type_)                                                          \
    do {                                                                                                          \
        if (rc) break;                                                                                            \
        gen_spec *g = &specs[n_specs++];                                                                          \
        *g = (gen_spec){qmc_hash64(base + (uint64_t)n_specs), rows_, cols_, nu_, std_, norm_, type_, 0};          \
        if (!(norm_) && (rows_) > 1 && strcmp(name_, "token_embd.weight") != 0) g->outlier_every = 100;           \
        int64_t ne_[2] = {cols_, rows_};                                                                          \
        rc = gguf_add_tensor_fn(w, name_, (uint32_t)(type_), (rows_) > 1 ? 2 : 1, ne_, fill_gen, g);              \
    } while (0)
    ADD("token_embd.weight", (int64_t)c->vocab_size, d, 5.0, 0.02, false, wt);
    char name[QMC_MAX_NAME];
    for (int l = 0; l < c->n_layers && !rc; l++) {
        double grow = 1.0 + 0.5 * (double)l / (double)c->n_layers;
        struct { const char *what; int64_t rows, cols; } mats[] = {
            {"attn_q", qd, d}, {"attn_k", kvd, d}, {"attn_v", kvd, d}, {"attn_output", d, qd},
            {"ffn_gate", c->hidden_dim, d}, {"ffn_down", d, c->hidden_dim}, {"ffn_up", c->hidden_dim, d},
        };
        snprintf(name, sizeof name, "blk.%d.attn_norm.weight", l);
        ADD(name, 1, d, 0, 0, true, QMC_TYPE_F32);
        for (int k = 0; k < 7; k++) {
            qmc_block_tensor_name(name, sizeof name, l, mats[k].what);
            double nu = 3.0 + (double)((l * 7 + k) % 6);
            ADD(name, mats[k].rows, mats[k].cols, nu, grow / sqrt((double)mats[k].cols), false, wt);
            if (c->qkv_bias && k < 3) {
                snprintf(name, sizeof name, "blk.%d.%s.bias", l, mats[k].what);
                ADD(name, 1, mats[k].rows, 5.0, 0.02, false, QMC_TYPE_F32);
            }
        }
        snprintf(name, sizeof name, "blk.%d.ffn_norm.weight", l);
        ADD(name, 1, d, 0, 0, true, QMC_TYPE_F32);
    }
    ADD("output_norm.weight", 1, d, 0, 0, true, QMC_TYPE_F32);
    if (!c->tied_output) ADD("output.weight", (int64_t)c->vocab_size, d, 5.0, 1.0 / sqrt((double)d), false, wt);
#undef ADD
    if (!rc && c->rope_scaling_factor > 0) {
        rope = qmc_alloc((size_t)(hd / 2), sizeof(float));
        if (!rope) rc = QMC_ERR_NOMEM;
        else {
            qmc_llama3_rope_factors(c, rope);
            int64_t ne[1] = {hd / 2};
            rc = gguf_add_tensor(w, "rope_freqs.weight", QMC_TYPE_F32, 1, ne, rope);
        }
    }
    if (!rc) rc = gguf_write(w, path, o->progress ? qmc_progress_bar : NULL, (void *)"synth");
    gguf_writer_free(w);
    qmc_free(specs);
    qmc_free(rope);
    qmc_tok_free(m.tok);
    return rc;
}
