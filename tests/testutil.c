/* testutil.c — see testutil.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/engine.h"
#include "testutil.h"

static char g_tmp[256];

const char *tu_shared(const char *rel) {
    static char buf[8][4096];
    static int k;
    const char *root = getenv("QMC_SHARED");
    char *p = buf[k++ % 8];
    const char *roots[] = {root, "../shared", "../../shared", NULL};
    for (int i = 0; i < 4; i++) {
        if (!roots[i] && i == 0) continue;
        if (!roots[i]) break;
        snprintf(p, 4096, "%s/%s", roots[i], rel);
        struct stat st;
        if (stat(p, &st) == 0) return p;
    }
    return NULL;
}

const char *tu_repo(const char *rel) {
    static char buf[8][4096];
    static int k;
    char *p = buf[k++ % 8];
    snprintf(p, 4096, "%s", rel);
    return p;
}

static void cleanup(void) {
    if (g_tmp[0] && !getenv("QMC_KEEP_TMP")) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_tmp);
        if (system(cmd)) {
        }
    }
}

const char *tu_tmpdir(void) {
    if (!g_tmp[0]) {
        snprintf(g_tmp, sizeof g_tmp, "/tmp/qmc-test-XXXXXX");
        if (!mkdtemp(g_tmp)) abort();
        atexit(cleanup);
    }
    return g_tmp;
}

const char *tu_tmp(const char *name) {
    static char buf[8][4096];
    static int k;
    char *p = buf[k++ % 8];
    snprintf(p, 4096, "%s/%s", tu_tmpdir(), name);
    return p;
}

int tu_run(char **out, const char *fmt, ...) {
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    char full[8192 + 512];
    static char log[400];
    snprintf(log, sizeof log, "%.300s/last-command.log", tu_tmpdir());
    snprintf(full, sizeof full, "( %s ) > '%s' 2>&1", cmd, log);
    int st = system(full);
    if (out) {
        FILE *f = fopen(log, "rb");
        size_t cap = 1 << 16, n = 0;
        char *b = malloc(cap);
        if (f) {
            size_t r;
            while ((r = fread(b + n, 1, cap - n - 1, f)) > 0) {
                n += r;
                if (n + 1 >= cap) b = realloc(b, cap *= 2);
            }
            fclose(f);
        }
        b[n] = 0;
        *out = b;
    }
    if (st == -1 || !WIFEXITED(st)) return -1;
    return WEXITSTATUS(st);
}

const char *tu_qmc(void) {
    const char *b = getenv("QMC_BIN");
    return b ? b : "build/qmc";
}

void tu_init(void) {
    const char *f = getenv("QMC_TEST_FILTER");
    if (f && *f) cmocka_set_test_filter(f);
}

int tu_quick(void) { return getenv("QMC_TEST_QUICK") != NULL; }

static float *rand_vec(int64_t n, float scale, uint64_t key) {
    float *v = qmc_alloc((size_t)n, sizeof(float));
    for (int64_t i = 0; i < n; i++) v[i] = (float)(qmc_rand_normal(key, (uint64_t)i) * scale);
    return v;
}

static void set_mat(qmc_tensor *t, const char *name, int64_t ne0, int64_t ne1, float scale, uint64_t key) {
    qmc_tensor_init(t, name, QMC_TYPE_F32, ne1 > 1 ? 2 : 1, ne0, ne1);
    float *d = rand_vec(ne0 * ne1, scale, key);
    t->data = d;
    t->owned = d;
}

static void set_norm(qmc_tensor *t, const char *name, int64_t n, uint64_t key) {
    qmc_tensor_init(t, name, QMC_TYPE_F32, 1, n, 1);
    float *d = rand_vec(n, 0.1f, key);
    for (int64_t i = 0; i < n; i++) d[i] += 1.0f;
    t->data = d;
    t->owned = d;
}

static qmc_tokenizer *byte_vocab(int vocab) {
    const char **pieces = calloc((size_t)vocab, sizeof(char *));
    int32_t *lens = calloc((size_t)vocab, sizeof(int32_t));
    float *scores = calloc((size_t)vocab, sizeof(float));
    int32_t *types = calloc((size_t)vocab, sizeof(int32_t));
    char (*store)[16] = calloc((size_t)vocab, 16);
    const char *special[3] = {"<unk>", "<s>", "</s>"};
    static const char *extra[] = {"\xe2\x96\x81", "e", "t", "a", "\xe2\x96\x81t", "he", "\xe2\x96\x81the", "in", "an", "er"};
    for (int i = 0; i < vocab; i++) {
        if (i < 3) snprintf(store[i], 16, "%s", special[i]), types[i] = i == 0 ? QMC_TT_UNKNOWN : QMC_TT_CONTROL;
        else if (i < 259) snprintf(store[i], 16, "<0x%02X>", i - 3), types[i] = QMC_TT_BYTE;
        else if (i - 259 < (int)(sizeof extra / sizeof *extra)) snprintf(store[i], 16, "%s", extra[i - 259]), types[i] = QMC_TT_NORMAL;
        else snprintf(store[i], 16, "<x%d>", i), types[i] = QMC_TT_USER;
        pieces[i] = store[i];
        lens[i] = (int32_t)strlen(store[i]);
        scores[i] = i >= 259 ? -(float)(i - 259) : 0.0f;
    }
    qmc_tokenizer *t = NULL;
    if (qmc_tok_create(QMC_TOK_SPM, vocab, pieces, lens, scores, types, &t) == 0) {
        t->unk_id = 0;
        t->bos_id = 1;
        t->eos_id = 2;
        t->add_bos = true;
    }
    free(pieces);
    free(lens);
    free(scores);
    free(types);
    free(store);
    return t;
}

qmc_model *tu_random_model(const tu_model_spec *sp, uint64_t seed) {
    qmc_model *m = qmc_alloc(1, sizeof *m);
    snprintf(m->path, sizeof m->path, "random-model");
    snprintf(m->source_format, sizeof m->source_format, "memory");
    qmc_config *c = &m->cfg;
    c->arch = sp->arch;
    c->dim = sp->dim;
    c->hidden_dim = sp->hidden;
    c->n_layers = sp->layers;
    c->n_heads = sp->heads;
    c->n_kv_heads = sp->kv_heads;
    c->head_dim = sp->head_dim ? sp->head_dim : sp->dim / sp->heads;
    c->vocab_size = sp->vocab;
    c->seq_len = sp->seq_len;
    c->norm_eps = 1e-5f;
    c->rope_theta = sp->rope_theta > 0 ? sp->rope_theta : 10000.0f;
    c->rope_style = sp->rope;
    c->qkv_bias = sp->qkv_bias;
    c->tied_output = sp->tied;
    c->bos_id = 1;
    c->eos_id = 2;
    qmc_model_alloc_layers(m);
    int64_t d = c->dim, hd = c->head_dim, qd = (int64_t)c->n_heads * hd, kvd = (int64_t)c->n_kv_heads * hd;
    float ws = 1.0f / sqrtf((float)d);
    uint64_t k = seed * 1000;
    set_mat(&m->token_embd, "token_embd.weight", d, c->vocab_size, 1.0f, k++);
    set_norm(&m->output_norm, "output_norm.weight", d, k++);
    if (!c->tied_output) set_mat(&m->output, "output.weight", d, c->vocab_size, ws, k++);
    char name[QMC_MAX_NAME];
    for (int l = 0; l < c->n_layers; l++) {
        qmc_layer *L = &m->layers[l];
#define N(what) (qmc_block_tensor_name(name, sizeof name, l, what), name)
        set_norm(&L->attn_norm, N("attn_norm"), d, k++);
        set_norm(&L->ffn_norm, N("ffn_norm"), d, k++);
        set_mat(&L->wq, N("attn_q"), d, qd, ws, k++);
        set_mat(&L->wk, N("attn_k"), d, kvd, ws, k++);
        set_mat(&L->wv, N("attn_v"), d, kvd, ws, k++);
        set_mat(&L->wo, N("attn_output"), qd, d, 1.0f / sqrtf((float)qd), k++);
        set_mat(&L->w_gate, N("ffn_gate"), d, c->hidden_dim, ws, k++);
        set_mat(&L->w_up, N("ffn_up"), d, c->hidden_dim, ws, k++);
        set_mat(&L->w_down, N("ffn_down"), c->hidden_dim, d, 1.0f / sqrtf((float)c->hidden_dim), k++);
#undef N
        if (c->qkv_bias) {
            snprintf(name, sizeof name, "blk.%d.attn_q.bias", l);
            set_mat(&L->bq, name, qd, 1, 0.1f, k++);
            snprintf(name, sizeof name, "blk.%d.attn_k.bias", l);
            set_mat(&L->bk, name, kvd, 1, 0.1f, k++);
            snprintf(name, sizeof name, "blk.%d.attn_v.bias", l);
            set_mat(&L->bv, name, kvd, 1, 0.1f, k++);
        }
    }
    if (sp->llama3_scaling) {
        c->rope_scaling_factor = 8.0f;
        c->rope_low_freq_factor = 1.0f;
        c->rope_high_freq_factor = 4.0f;
        c->rope_orig_max_pos = 64;
        qmc_tensor_init(&m->rope_freqs, "rope_freqs.weight", QMC_TYPE_F32, 1, hd / 2, 1);
        float *f = qmc_alloc((size_t)(hd / 2), sizeof(float));
        qmc_llama3_rope_factors(c, f);
        m->rope_freqs.data = f;
        m->rope_freqs.owned = f;
    }
    if (sp->with_tokenizer) m->tok = byte_vocab(c->vocab_size);
    if (qmc_model_validate(m)) {
        fprintf(stderr, "tu_random_model: %s\n", qmc_errmsg());
        abort();
    }
    return m;
}

float *tu_logits(const qmc_model *m, const int32_t *tokens, int n) {
    qmc_session *s = NULL;
    if (qmc_session_new(m, n, &s)) return NULL;
    float *lg = malloc(sizeof(float) * (size_t)n * (size_t)m->cfg.vocab_size);
    if (qmc_forward(s, tokens, n, 0, lg, true)) {
        free(lg);
        lg = NULL;
    }
    qmc_session_free(s);
    return lg;
}

double tu_max_abs_diff(const float *a, const float *b, int64_t n) {
    double mx = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (d > mx || isnan(d)) mx = isnan(d) ? INFINITY : d;
    }
    return mx;
}
