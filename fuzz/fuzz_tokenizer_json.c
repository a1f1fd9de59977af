/* fuzz_tokenizer_json.c — Hugging Face tokenizer.json (qmc_tok_parse_hf:
 * vocab, added tokens, merges, normalizers, pre-tokenizer regexes), used to
 * encode and decode. */
#include "fuzz.h"
#include "model/tokenizer.h"

QMC_FUZZ_TARGET(tokenizer_json) {
    qmc_tokenizer *t = NULL;
    int rc = qmc_tok_parse_hf((const char *)data, size, FUZZ_LABEL, &t);
    fuzz_check_status(rc, "qmc_tok_parse_hf");
    if (rc) {
        FUZZ_CHECK(t == NULL);
        return;
    }
    fuzz_exercise_tokenizer(t);
    qmc_tok_free(t);
}
