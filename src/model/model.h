/* model.h — a loaded Llama-family model: hyperparameters, weights, tokenizer.
 *
 * Every loader (llama2.c, GGUF, safetensors) fills this one structure; the
 * engine, quantizers, writers and the simulator read it. */
#ifndef QMC_MODEL_H
#define QMC_MODEL_H

#include "formats/gguf.h"
#include "model/tensor.h"
#include "model/tokenizer.h"
#include "qmc.h"
#include "util/util.h"

#define QMC_MAX_HEAD_DIM 2048 /* largest head the engine accepts */

/* Weights of one transformer block.  Linear weights are [out x in]
 * (ne[0] = in); norms are F32 vectors of length dim. */
typedef struct {
    qmc_tensor attn_norm;  /* [dim] RMSNorm weight before attention */
    qmc_tensor wq;         /* [n_heads*head_dim x dim] */
    qmc_tensor wk;         /* [n_kv_heads*head_dim x dim] */
    qmc_tensor wv;         /* [n_kv_heads*head_dim x dim] */
    qmc_tensor bq, bk, bv; /* biases (Qwen2), F32 vectors; type F32 with data NULL when absent */
    qmc_tensor wo;         /* [dim x n_heads*head_dim] */
    qmc_tensor ffn_norm;   /* [dim] */
    qmc_tensor w_gate;     /* [hidden x dim]  (llama2.c w1, HF gate_proj, GGUF ffn_gate) */
    qmc_tensor w_down;     /* [dim x hidden]  (w2, down_proj, ffn_down) */
    qmc_tensor w_up;       /* [hidden x dim]  (w3, up_proj, ffn_up) */
} qmc_layer;

/* Metadata carried from the source file into files we write (GGUF KVs that
 * are not hyperparameters: tokenizer arrays, general.*, qmc.*). */
struct qmc_model {
    qmc_config cfg;
    qmc_tensor token_embd;  /* [vocab x dim] */
    qmc_tensor output_norm; /* [dim] */
    qmc_tensor output;      /* [vocab x dim]; unused (empty) when cfg.tied_output */
    qmc_tensor rope_freqs;  /* [head_dim/2] Llama-3 frequency divisors, or data NULL */
    qmc_layer *layers;      /* [n_layers] */

    qmc_tokenizer *tok;     /* may be NULL */
    char source_format[16]; /* "llama2c-v0", "llama2c-v1", "gguf", "safetensors" */
    char path[4096];
    char name[256];         /* general.name when known */

    /* Backing storage of mapped weights (several for sharded safetensors). */
    qmc_mapped_file *files;
    int n_files;
    gguf_ctx *gguf;         /* when loaded from GGUF: its metadata (for inspect / copying) */
};

/* Iterate over every weight tensor of the model (embedding, blocks, head),
 * in file order; the callback returns non-zero to stop (that value is returned). */
typedef int (*qmc_tensor_fn)(qmc_model *m, qmc_tensor *t, int layer, void *user);
int qmc_model_for_each_tensor(qmc_model *m, qmc_tensor_fn fn, void *user);

/* The output head: the embedding when tied. */
static inline const qmc_tensor *qmc_model_head(const qmc_model *m) {
    return m->cfg.tied_output ? &m->token_embd : &m->output;
}

/* Allocate the layer array and zero everything; cfg must be set. */
int qmc_model_alloc_layers(qmc_model *m);
/* Check every tensor's shape against the config; message names the file. */
int qmc_model_validate(const qmc_model *m);
/* Fill defaults that derive from others (head_dim, bos/eos). */
void qmc_config_finish(qmc_config *c);
/* True for the tensors that belong to transformer-block linears. */
bool qmc_tensor_is_block_linear(const qmc_model *m, const qmc_tensor *t);

/* Loaders (qmc_model_load validates what they leave in m). */
int qmc_load_llama2c(const char *path, const qmc_load_opts *opts, qmc_model *m);
int qmc_load_gguf(const char *path, const qmc_load_opts *opts, qmc_model *m);
int qmc_load_safetensors(const char *path, const qmc_load_opts *opts, qmc_model *m);
/* Their buffer entry points (the path versions map the file and call them):
 * weights point into buf, which must outlive m; label names it in errors.
 * llama2.c: no tokenizer (it is a separate file). */
int qmc_llama2c_parse(const uint8_t *buf, size_t size, const char *label, qmc_model *m);
int qmc_gguf_model_parse(const uint8_t *buf, size_t size, const char *label, qmc_model *m);
/* Hugging Face config.json text: fills m->cfg (and m->name). */
int qmc_hf_config_parse(const char *json, size_t len, const char *label, qmc_model *m);
/* A GGUF or llama2.c model held in memory (by its magic), validated as
 * qmc_model_load does; buf must outlive the model. */
int qmc_model_from_buffer(const uint8_t *buf, size_t size, const char *label, qmc_model **out);

/* GGUF writer with a hook that adds metadata (e.g. the quantizer's qmc.* keys). */
int qmc_model_save_gguf_with(const qmc_model *m, const char *path, qmc_write_type type,
                             int (*extra_kv)(gguf_writer *, void *), void *user);

/* Llama-3 rope scaling as per-frequency divisors (llama.cpp's rope_freqs):
 * out[i] for i < head_dim/2, from cfg's rope_scaling_* and rope_theta. */
void qmc_llama3_rope_factors(const qmc_config *c, float *out);

/* The GGUF metadata of a model (architecture keys, tokenizer, carried qmc.*). */
int qmc_gguf_model_kv(gguf_writer *w, const qmc_model *m, qmc_write_type type);

/* Canonical GGUF tensor names, e.g. qmc_tensor_name(buf, "attn_q", 3) ->
 * "blk.3.attn_q.weight". */
void qmc_block_tensor_name(char *buf, size_t cap, int layer, const char *what);

#endif
