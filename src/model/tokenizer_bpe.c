/* tokenizer_bpe.c — placeholder until byte-level BPE lands (being written). */
#include "model/tokenizer.h"
#include "util/util.h"

int qmc_bpe_init(qmc_tokenizer *t, const char *const *merges, const int32_t *merge_lens, int64_t n_merges,
                 const char *pre) {
    return qmc_fail(QMC_ERR_UNSUPPORTED, "byte-level BPE tokenizers are not supported yet");
}
void qmc_bpe_free(struct qmc_bpe *b) {}
int qmc_tok_encode_bpe(const qmc_tokenizer *t, const char *text, size_t len, int32_t **out, int64_t *n) {
    return qmc_fail(QMC_ERR_UNSUPPORTED, "byte-level BPE tokenizers are not supported yet");
}
int qmc_tok_decode_bpe(const qmc_tokenizer *t, int32_t tok, char *buf, int cap) { return 0; }
int qmc_bpe_to_gguf(const qmc_tokenizer *t, gguf_writer *w) {
    return qmc_fail(QMC_ERR_UNSUPPORTED, "byte-level BPE tokenizers are not supported yet");
}
int qmc_tok_load_hf(const char *path, qmc_tokenizer **out) {
    return qmc_fail(QMC_ERR_UNSUPPORTED, "%s: tokenizer.json is not supported yet", path);
}
int qmc_tok_parse_hf(const char *json, size_t len, const char *label, qmc_tokenizer **out) {
    return qmc_fail(QMC_ERR_UNSUPPORTED, "%s: tokenizer.json is not supported yet", label);
}
int qmc_tok_save_hf(const qmc_tokenizer *t, const char *dir) {
    return qmc_fail(QMC_ERR_UNSUPPORTED, "%s: tokenizer.json writing is not supported yet", dir);
}
