/* fuzz_tokbin.c — llama2.c tokenizer.bin (qmc_tok_parse_llama2c), as a file on
 * its own (every token it holds) and as a model's vocabulary of 3 tokens. */
#include "fuzz.h"
#include "model/tokenizer.h"

QMC_FUZZ_TARGET(tokbin) {
    static const int32_t vocab_sizes[] = {0, 3};
    for (int k = 0; k < 2; k++) {
        qmc_tokenizer *t = NULL;
        int rc = qmc_tok_parse_llama2c(data, size, FUZZ_LABEL, vocab_sizes[k], &t);
        fuzz_check_status(rc, "qmc_tok_parse_llama2c");
        if (rc) {
            FUZZ_CHECK(t == NULL);
            continue;
        }
        FUZZ_CHECK(vocab_sizes[k] == 0 || t->n_vocab == vocab_sizes[k]);
        fuzz_exercise_tokenizer(t);
        qmc_tok_free(t);
    }
}
