/* tokenizer.h — vocabularies and the two tokenization algorithms qmc supports.
 *
 *  - SentencePiece-style BPE ("llama" in GGUF; llama2.c tokenizer.bin):
 *    score-ordered merges over UTF-8 characters, spaces written as U+2581 "▁",
 *    a "▁" prefixed to the text, <0xNN> byte tokens for what the vocabulary
 *    lacks.  Implemented in tokenizer.c.
 *  - Byte-level BPE ("gpt2" in GGUF; Hugging Face tokenizer.json): bytes
 *    mapped to printable characters (GPT-2 byte map), text split by the
 *    pre-tokenizer regex (GPT-2, Llama-3, Qwen2), rank-ordered merges.
 *    Implemented in tokenizer_bpe.c.
 *
 * Pieces are stored as in GGUF (SPM pieces with "▁", BPE pieces in the byte
 * map's alphabet). */
#ifndef QMC_TOKENIZER_H
#define QMC_TOKENIZER_H

#include <stdbool.h>
#include <stdint.h>

#include "formats/gguf.h"
#include "util/strmap.h"

typedef enum { QMC_TOK_SPM = 0, QMC_TOK_BPE = 1 } qmc_tok_kind;

/* GGUF token types (llama_token_type). */
enum { QMC_TT_NORMAL = 1, QMC_TT_UNKNOWN = 2, QMC_TT_CONTROL = 3, QMC_TT_USER = 4,
       QMC_TT_UNUSED = 5, QMC_TT_BYTE = 6 };

struct qmc_bpe;   /* merges + pre-tokenizer, tokenizer_bpe.c */

struct qmc_tokenizer {
    qmc_tok_kind kind;
    int32_t n_vocab;
    char *arena;            /* all piece bytes, back to back */
    int64_t *piece_off;     /* [n_vocab] offset into arena */
    int32_t *piece_len;     /* [n_vocab] */
    float *scores;          /* [n_vocab] SPM merge scores (BPE: 0) */
    int32_t *types;         /* [n_vocab] QMC_TT_* */
    qmc_strmap map;         /* piece -> id */
    int32_t bos_id, eos_id, unk_id, pad_id;
    bool add_bos;           /* tokenizer.ggml.add_bos_token */
    bool add_space_prefix;  /* SPM: prefix "▁" (tokenizer.ggml.add_space_prefix) */
    bool spm_word_merges;   /* SPM: no piece has "▁" after another character, so merges
                               never cross a word start and words are merged one by one */
    int32_t byte_tokens[256]; /* SPM: id of <0xNN>, or -1 */
    char model_name[32];    /* "llama" or "gpt2" (tokenizer.ggml.model) */
    char pre[32];           /* BPE pre-tokenizer name (tokenizer.ggml.pre) */
    struct qmc_bpe *bpe;    /* BPE only */
};
typedef struct qmc_tokenizer qmc_tokenizer;

static inline const char *qmc_tok_piece(const qmc_tokenizer *t, int32_t id, int32_t *len) {
    *len = t->piece_len[id];
    return t->arena + t->piece_off[id];
}

/* Build the common part: n pieces (copied), scores/types may be NULL. */
int  qmc_tok_create(qmc_tok_kind kind, int32_t n, const char *const *pieces, const int32_t *lens,
                    const float *scores, const int32_t *types, qmc_tokenizer **out);
void qmc_tok_free(qmc_tokenizer *t);
/* Find special ids by their usual pieces when the file does not say. */
void qmc_tok_guess_specials(qmc_tokenizer *t);

/* llama2.c tokenizer.bin (max_token_length, then per token: f32 score,
 * i32 len, bytes).  vocab_size comes from the model header; 0 takes every
 * token the file holds (a tokenizer on its own). */
int qmc_tok_load_llama2c(const char *path, int32_t vocab_size, qmc_tokenizer **out);
int qmc_tok_parse_llama2c(const uint8_t *buf, size_t size, const char *label, int32_t vocab_size,
                          qmc_tokenizer **out);
/* tokenizer.ggml.* keys of a parsed GGUF file; *out = NULL if there are none. */
int qmc_tok_from_gguf(const gguf_ctx *g, const char *label, qmc_tokenizer **out);
/* Write tokenizer.ggml.* keys. */
int qmc_tok_to_gguf(const qmc_tokenizer *t, gguf_writer *w);

/* Encode/decode (dispatch on kind). */
int qmc_tok_encode(const qmc_tokenizer *t, const char *text, size_t len, bool bos, int32_t **out,
                   int64_t *n);
/* Bytes of token `tok` as text (prev: the previous token, for SPM's
 * leading-space rule after BOS).  Writes at most cap bytes, returns count. */
int qmc_tok_decode(const qmc_tokenizer *t, int32_t prev, int32_t tok, char *buf, int cap);

/* SPM implementation (tokenizer.c). */
int qmc_tok_encode_spm(const qmc_tokenizer *t, const char *text, size_t len, int32_t **out, int64_t *n);

/* Byte-level BPE implementation (tokenizer_bpe.c). */
int  qmc_bpe_init(qmc_tokenizer *t, const char *const *merges, const int32_t *merge_lens, int64_t n_merges,
                  const char *pre_regex_or_name);
void qmc_bpe_free(struct qmc_bpe *b);
int  qmc_tok_encode_bpe(const qmc_tokenizer *t, const char *text, size_t len, int32_t **out, int64_t *n);
int  qmc_tok_decode_bpe(const qmc_tokenizer *t, int32_t tok, char *buf, int cap);
/* tokenizer.ggml.merges and tokenizer.ggml.pre of a BPE tokenizer. */
int  qmc_bpe_to_gguf(const qmc_tokenizer *t, gguf_writer *w);
/* Hugging Face tokenizer.json (byte-level BPE, or SPM-style BPE with byte
 * fallback as Llama-2 repositories ship). */
int qmc_tok_load_hf(const char *path, qmc_tokenizer **out);
int qmc_tok_parse_hf(const char *json, size_t len, const char *label, qmc_tokenizer **out);
int qmc_tok_save_hf(const qmc_tokenizer *t, const char *dir);

#endif
