/* tokenizer_bpe.h — internals of the byte-level BPE tokenizer, shared by its
 * GGUF side (tokenizer_bpe.c) and the tokenizer.json reader/writer
 * (tokenizer_hf.c).  Everyone else uses the qmc_tok_* functions. */
#ifndef QMC_TOKENIZER_BPE_H
#define QMC_TOKENIZER_BPE_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "model/tokenizer.h"

#define QMC_BPE_MAX_PATTERNS 4

/* The pre-tokenizer regexes qmc knows by name (GGUF tokenizer.ggml.pre). */
extern const char *const qmc_bpe_regex_gpt2;   /* GPT-2: "gpt-2", "default" */
extern const char *const qmc_bpe_regex_llama3; /* Llama-3: "llama-bpe" */
extern const char *const qmc_bpe_regex_qwen2;  /* Qwen2: "qwen2" */

struct qmc_bpe {
    /* GPT-2 byte map: byte b is written as the code point byte_cp[b] */
    uint16_t byte_cp[256];
    int16_t cp_byte[512];          /* inverse for code points < 512, -1 elsewhere */
    int32_t byte_ids[256];         /* token of each byte's character, or -1 */

    /* merges as token ids, rank = index */
    int64_t n_merges;
    uint64_t *pair_key;            /* [n_merges] left id << 32 | right id (keys of pair_rank) */
    int32_t *merge_result;         /* [n_merges] id of left+right */
    qmc_strmap pair_rank;          /* 8-byte pair_key -> rank (the lowest when listed twice) */

    /* pre-tokenizer: the text between special tokens is split by each regex in
     * turn (matches and the gaps between them both become pieces) */
    int n_patterns;
    char *patterns[QMC_BPE_MAX_PATTERNS];
    pcre2_code *re[QMC_BPE_MAX_PATTERNS];
    bool ignore_merges;            /* a piece that is itself a token is not merged (Llama-3) */

    /* special tokens (CONTROL and USER_DEFINED pieces), matched in the raw text
     * before pre-tokenization, longest first: ids grouped by first byte */
    int32_t *special_ids;
    int32_t special_start[257];    /* special_ids[special_start[c] .. special_start[c+1]) start with byte c */
};

/* One merge rule: two pieces (not NUL-terminated). */
typedef struct { const char *left, *right; int32_t left_len, right_len; } qmc_bpe_merge;

/* Set up t->bpe: merges[i] has rank i; the pre-tokenizer is n_patterns
 * regexes (PCRE2 syntax) applied in order. */
int qmc_bpe_init_patterns(qmc_tokenizer *t, const qmc_bpe_merge *merges, int64_t n_merges, const char *const *patterns,
                          int n_patterns, bool ignore_merges);
/* Pre-tokenization alone (tests, tools): fn gets every piece in order, with
 * special = the token id of a special token, else -1.  Stops at a non-zero return. */
typedef int (*qmc_bpe_piece_fn)(void *user, const char *piece, size_t len, int32_t special);
int qmc_bpe_pretokenize(const qmc_tokenizer *t, const char *text, size_t len, qmc_bpe_piece_fn fn, void *user);
/* Id of the piece left+right, or -1 (also when *buf, a scratch buffer of *cap
 * bytes grown as needed, cannot grow). */
int32_t qmc_bpe_merge_id(const qmc_tokenizer *t, const qmc_bpe_merge *m, char **buf, int64_t *cap);
/* GGUF tokenizer.ggml.pre name of a pre-tokenizer, or NULL if it has none. */
const char *qmc_bpe_pre_name(const struct qmc_bpe *b);
/* UTF-8 of the character standing for byte b (1 or 2 bytes). */
int qmc_bpe_byte_char(const struct qmc_bpe *b, uint8_t byte, char out[4]);

#endif
