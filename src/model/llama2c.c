/* llama2c.c — llama2.c checkpoints (github.com/karpathy/llama2.c).
 *
 * Legacy v0: 7 x int32 header {dim, hidden_dim, n_layers, n_heads,
 *   n_kv_heads, vocab_size, seq_len} (vocab_size < 0: separate classifier),
 *   then fp32: token_embedding, rms_att[L], wq[L], wk[L], wv[L], wo[L],
 *   rms_ffn[L], w1[L], w2[L], w3[L], rms_final, freq_cis_real, freq_cis_imag
 *   (seq_len*head_size/2 each, unused), wcls (if not shared).
 * v1 ("version1_export"): 256-byte header {u32 magic 0x616b3432 "ak42",
 *   i32 version 1, 7 x i32 params, u8 shared_classifier, zero padding}, then
 *   fp32: rms_att[L], rms_ffn[L], rms_final, token_embedding, wq[L], wk[L],
 *   wv[L], wo[L], w1[L], w2[L], w3[L], wcls (if not shared).
 * The weights are used in place from the mapped file. */
#include <string.h>

#include "model/model.h"

#define V1_MAGIC 0x616b3432u

typedef struct {
    qmc_model *m;
    const uint8_t *base;
    size_t size, pos;
} cursor;

/* Take count floats for `what`; the size check was done up front. */
static const float *take(cursor *c, int64_t count) {
    const float *p = (const float *)(c->base + c->pos);
    c->pos += (size_t)count * 4;
    return p;
}

static void set_f32(qmc_tensor *t, const char *name, const float *data, int64_t ne0, int64_t ne1) {
    qmc_tensor_init(t, name, QMC_TYPE_F32, ne1 > 1 ? 2 : 1, ne0, ne1);
    t->data = data;
}

/* Per-layer tensors of one kind, stored back to back for all layers. */
static void take_layers(cursor *c, size_t slot_off, const char *what, int64_t ne0, int64_t ne1) {
    qmc_model *m = c->m;
    for (int l = 0; l < m->cfg.n_layers; l++) {
        char name[QMC_MAX_NAME];
        if (strstr(what, "norm")) snprintf(name, sizeof name, "blk.%d.%s.weight", l, what);
        else qmc_block_tensor_name(name, sizeof name, l, what);
        set_f32((qmc_tensor *)((char *)&m->layers[l] + slot_off), name, take(c, ne0 * ne1), ne0, ne1);
    }
}

static int find_tokenizer(const char *model_path, const qmc_load_opts *opts, int vocab, char *out, size_t cap) {
    if (opts->tokenizer_path) {
        snprintf(out, cap, "%s", opts->tokenizer_path);
        return qmc_file_exists(out) ? 1 : -1;
    }
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", model_path);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = 0;
    else snprintf(dir, sizeof dir, ".");
    char name[64];
    qmc_path_join(out, cap, dir, "tokenizer.bin");
    if (qmc_file_exists(out)) return 1;
    snprintf(name, sizeof name, "tok%d.bin", vocab);
    qmc_path_join(out, cap, dir, name);
    if (qmc_file_exists(out)) return 1;
    return 0;
}

int qmc_llama2c_parse(const uint8_t *data, size_t size, const char *path, qmc_model *m) {
    int rc;
    if (size < 28) return qmc_fail(QMC_ERR_FORMAT, "%s: not a model file (%zu bytes; expected GGUF, llama2.c or safetensors)", path, size);
    int32_t h[7];
    size_t header;
    bool shared;
    uint32_t magic;
    memcpy(&magic, data, 4);
    if (magic == V1_MAGIC) {
        int32_t version;
        if (size < 256) return qmc_fail(QMC_ERR_FORMAT, "%s: truncated llama2.c v1 header", path);
        memcpy(&version, data + 4, 4);
        if (version != 1)
            return qmc_fail(QMC_ERR_UNSUPPORTED, "%s: llama2.c export version %d is not supported (only fp32 v0 and v1)", path, version);
        memcpy(h, data + 8, sizeof h);
        shared = data[36] != 0;
        header = 256;
        snprintf(m->source_format, sizeof m->source_format, "llama2c-v1");
    } else {
        memcpy(h, data, sizeof h);
        shared = h[5] > 0;
        if (h[5] < 0 && h[5] != INT32_MIN) h[5] = -h[5];
        header = 28;
        snprintf(m->source_format, sizeof m->source_format, "llama2c-v0");
    }
    qmc_config *c = &m->cfg;
    memset(c, 0, sizeof *c);
    c->arch = QMC_ARCH_LLAMA;
    c->dim = h[0];
    c->hidden_dim = h[1];
    c->n_layers = h[2];
    c->n_heads = h[3];
    c->n_kv_heads = h[4];
    c->vocab_size = h[5];
    c->seq_len = h[6];
    c->rope_style = QMC_ROPE_NORM;
    c->tied_output = shared;
    c->bos_id = 1;
    c->eos_id = 2;
    bool v1 = header == 256;
    for (int i = 0; i < 7; i++)
        if (h[i] <= 0 || h[i] > (1 << 24))
            return qmc_fail(QMC_ERR_FORMAT, "%s: not a model file: llama2.c header field %d is %d (expected GGUF, llama2.c or safetensors)",
                            path, i, h[i]);
    if (c->dim % c->n_heads || c->n_heads % c->n_kv_heads)
        return qmc_fail(QMC_ERR_FORMAT, "%s: not a valid llama2.c checkpoint (dim %d, heads %d, kv heads %d)", path, c->dim, c->n_heads, c->n_kv_heads);
    qmc_config_finish(c);
    /* bytes this header implies, with overflow checks */
    int64_t d = c->dim, hd = c->hidden_dim, L = c->n_layers, hs = c->head_dim;
    int64_t qd = (int64_t)c->n_heads * hs, kvd = (int64_t)c->n_kv_heads * hs, V = c->vocab_size;
    int64_t per_layer = 2 * d + d * qd + 2 * d * kvd + qd * d + 3 * d * hd;
    int64_t total = 0, t;
    bool ok = qmc_mul_ok(per_layer, L, &total) && qmc_add_ok(total, V * d + d, &total);
    if (ok && !shared) ok = qmc_add_ok(total, V * d, &total);
    if (ok && !v1) ok = qmc_add_ok(total, (int64_t)c->seq_len * hs, &total);
    if (ok) ok = qmc_mul_ok(total, 4, &t) && qmc_add_ok(t, (int64_t)header, &t);
    if (!ok || (uint64_t)t != size)
        return qmc_fail(QMC_ERR_FORMAT, "%s: not a valid llama2.c checkpoint: its header (dim %d, hidden %d, %d layers, vocab %d) needs %lld bytes but the file has %zu",
                        path, c->dim, c->hidden_dim, c->n_layers, c->vocab_size, ok ? (long long)t : -1LL, size);
    if ((rc = qmc_model_alloc_layers(m))) return rc;
    cursor cur = {m, data, size, header};
    if (v1) {
        take_layers(&cur, offsetof(qmc_layer, attn_norm), "attn_norm", d, 1);
        take_layers(&cur, offsetof(qmc_layer, ffn_norm), "ffn_norm", d, 1);
        set_f32(&m->output_norm, "output_norm.weight", take(&cur, d), d, 1);
        set_f32(&m->token_embd, "token_embd.weight", take(&cur, V * d), d, V);
    } else {
        set_f32(&m->token_embd, "token_embd.weight", take(&cur, V * d), d, V);
        take_layers(&cur, offsetof(qmc_layer, attn_norm), "attn_norm", d, 1);
    }
    take_layers(&cur, offsetof(qmc_layer, wq), "attn_q", d, qd);
    take_layers(&cur, offsetof(qmc_layer, wk), "attn_k", d, kvd);
    take_layers(&cur, offsetof(qmc_layer, wv), "attn_v", d, kvd);
    take_layers(&cur, offsetof(qmc_layer, wo), "attn_output", qd, d);
    if (!v1) take_layers(&cur, offsetof(qmc_layer, ffn_norm), "ffn_norm", d, 1);
    take_layers(&cur, offsetof(qmc_layer, w_gate), "ffn_gate", d, hd);
    take_layers(&cur, offsetof(qmc_layer, w_down), "ffn_down", hd, d);
    take_layers(&cur, offsetof(qmc_layer, w_up), "ffn_up", d, hd);
    if (!v1) {
        set_f32(&m->output_norm, "output_norm.weight", take(&cur, d), d, 1);
        take(&cur, (int64_t)c->seq_len * hs); /* freq_cis_real + freq_cis_imag: recomputed */
    }
    if (!shared) set_f32(&m->output, "output.weight", take(&cur, V * d), d, V);

    return QMC_OK;
}

int qmc_load_llama2c(const char *path, const qmc_load_opts *opts, qmc_model *m) {
    m->files = qmc_alloc(1, sizeof(qmc_mapped_file));
    if (!m->files) return QMC_ERR_NOMEM;
    int rc = opts->no_mmap ? qmc_read_whole_file(path, &m->files[0]) : qmc_map_file(path, &m->files[0]);
    if (rc) return rc;
    m->n_files = 1;
    if ((rc = qmc_llama2c_parse(m->files[0].data, m->files[0].size, path, m))) return rc;
    qmc_config *c = &m->cfg;
    char tok_path[4096];
    int found = find_tokenizer(path, opts, c->vocab_size, tok_path, sizeof tok_path);
    if (found < 0) return qmc_fail(QMC_ERR_IO, "%s: tokenizer file not found", tok_path);
    if (found > 0) {
        rc = qmc_tok_load_llama2c(tok_path, c->vocab_size, &m->tok);
        if (rc) return rc;
        c->bos_id = m->tok->bos_id;
        c->eos_id = m->tok->eos_id;
    }
    return QMC_OK;
}
