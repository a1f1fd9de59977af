/* qmc.h — public API of the qmc library.
 *
 * qmc loads small language models (llama2.c checkpoints, GGUF, Hugging Face
 * safetensors directories), quantizes them with QMC (outlier-aware
 * dual-precision quantization for MRAM + MLC ReRAM) and other methods, runs
 * them (straight from the packed planes), evaluates them under simulated
 * device noise, and models the memory system they would run on.
 *
 * Conventions: every function that can fail returns a qmc_status (0 = OK,
 * negative = error) and records a one-line message for qmc_errmsg().
 * Handles are opaque; each constructor (_new, _load) has a matching _free. */
#ifndef QMC_H
#define QMC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define QMC_VERSION_STRING "0.1.0"
#define QMC_MAX_NAME 64   /* tensor names, as GGML_MAX_NAME */

typedef enum {
    QMC_OK = 0,
    QMC_ERR_IO = -1,          /* open/read/write failed */
    QMC_ERR_FORMAT = -2,      /* malformed or truncated file */
    QMC_ERR_NOMEM = -3,       /* allocation failed or over the cap */
    QMC_ERR_ARG = -4,         /* invalid argument or option */
    QMC_ERR_UNSUPPORTED = -5, /* valid but not supported (dtype, architecture) */
    QMC_ERR_RANGE = -6,       /* value out of range (context too long, ...) */
    QMC_ERR_STATE = -7,       /* internal inconsistency */
} qmc_status;

/* The last error message of this thread (never NULL). */
const char *qmc_errmsg(void);
const char *qmc_status_name(int status);

/* Cap on the total bytes qmc allocates at once (0 = no cap). Also settable
 * through the environment variable QMC_MAX_ALLOC. */
void qmc_set_alloc_cap(uint64_t bytes);
/* Threads used by parallel loops (default: OMP_NUM_THREADS or all cores). */
void qmc_set_threads(int n);

/* ---- models ------------------------------------------------------------- */

typedef struct qmc_model qmc_model;

typedef enum { QMC_ARCH_LLAMA = 0, QMC_ARCH_QWEN2 = 1 } qmc_arch;
typedef enum { QMC_ROPE_NORM = 0,  /* adjacent pairs (x[2i], x[2i+1]): llama2.c, GGUF llama */
               QMC_ROPE_NEOX = 1   /* halves (x[i], x[i+d/2]): HF, GGUF qwen2 */ } qmc_rope_style;

/* Hyperparameters of a Llama-family decoder. */
typedef struct {
    qmc_arch arch;
    int dim;          /* model width */
    int hidden_dim;   /* SwiGLU inner width */
    int n_layers;
    int n_heads;
    int n_kv_heads;   /* grouped-query attention when < n_heads */
    int head_dim;     /* dim / n_heads unless the file says otherwise */
    int vocab_size;
    int seq_len;      /* training context length */
    float norm_eps;
    float rope_theta;
    qmc_rope_style rope_style;
    /* Llama-3 rope scaling (rope_scaling_factor == 0: none) */
    float rope_scaling_factor, rope_low_freq_factor, rope_high_freq_factor;
    int rope_orig_max_pos;
    bool qkv_bias;    /* Qwen2 q/k/v bias */
    bool tied_output; /* output head shares the token embedding */
    int bos_id, eos_id;
} qmc_config;

typedef struct {
    bool no_mmap;        /* copy weights into memory instead of mapping */
    const char *tokenizer_path; /* llama2.c checkpoints: tokenizer.bin (default: next to the model) */
} qmc_load_opts;

int  qmc_model_load(const char *path, const qmc_load_opts *opts, qmc_model **out);
void qmc_model_free(qmc_model *m);
const qmc_config *qmc_model_config(const qmc_model *m);
int64_t qmc_model_n_params(const qmc_model *m);
/* Format the model was read from: "llama2c-v0", "llama2c-v1", "gguf", "safetensors". */
const char *qmc_model_source_format(const qmc_model *m);

/* Write the model as GGUF; weights converted to F32 or F16 (or kept if already
 * packed). The write is crash-safe (temporary file + rename). */
typedef enum { QMC_WRITE_F32 = 0, QMC_WRITE_F16 = 1, QMC_WRITE_KEEP = 2 } qmc_write_type;
int qmc_model_save_gguf(const qmc_model *m, const char *path, qmc_write_type type);
/* Write a Hugging Face directory (config.json, model.safetensors, tokenizer
 * files where the vocabulary allows). */
int qmc_model_save_hf(const qmc_model *m, const char *dir, qmc_write_type type);

/* ---- tokenizer ---------------------------------------------------------- */

typedef struct qmc_tokenizer qmc_tokenizer;
/* The model's tokenizer (owned by the model; may be NULL if the file has none). */
const qmc_tokenizer *qmc_model_tokenizer(const qmc_model *m);
/* Encode UTF-8 text. bos: prepend BOS. *n_out receives the count; tokens is
 * allocated with qmc's allocator (free with qmc_free_tokens). */
int  qmc_tokenize(const qmc_tokenizer *t, const char *text, size_t len, bool bos,
                  int32_t **tokens, int64_t *n_out);
void qmc_free_tokens(int32_t *tokens);
/* Text of one token as it appears in decoded output (piece after the previous
 * token). Returns the number of bytes written to buf (<= cap). */
int  qmc_token_to_text(const qmc_tokenizer *t, int32_t prev, int32_t tok, char *buf, int cap);
int  qmc_tokenizer_vocab_size(const qmc_tokenizer *t);

/* ---- inference ---------------------------------------------------------- */

typedef struct qmc_session qmc_session;   /* KV cache + scratch buffers */

int  qmc_session_new(const qmc_model *m, int max_ctx, qmc_session **out);
void qmc_session_free(qmc_session *s);
/* Run n tokens at positions pos..pos+n-1 (the cache must hold pos tokens).
 * logits: NULL, or [n][vocab] (all positions) when all_logits, else [vocab]
 * for the last position only. */
int  qmc_forward(qmc_session *s, const int32_t *tokens, int n, int pos,
                 float *logits, bool all_logits);

#ifdef __cplusplus
}
#endif
#endif
