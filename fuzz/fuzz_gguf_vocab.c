/* fuzz_gguf_vocab.c — the tokenizer.ggml.* vocabulary of a GGUF file
 * (qmc_tok_from_gguf: SPM or byte-level BPE with merges and pre-tokenizer),
 * used to encode and decode, and written back to GGUF keys. */
#include "formats/gguf.h"
#include "fuzz.h"
#include "model/tokenizer.h"

QMC_FUZZ_TARGET(gguf_vocab) {
    gguf_ctx *g = NULL;
    int rc = gguf_parse(data, size, FUZZ_LABEL, &g);
    fuzz_check_status(rc, "gguf_parse");
    if (rc) return;
    qmc_tokenizer *t = NULL;
    rc = qmc_tok_from_gguf(g, FUZZ_LABEL, &t);
    fuzz_check_status(rc, "qmc_tok_from_gguf");
    if (t) {
        fuzz_exercise_tokenizer(t);
        gguf_writer *w = gguf_writer_new();
        FUZZ_CHECK(w != NULL);
        fuzz_check_result(qmc_tok_to_gguf(t, w), "qmc_tok_to_gguf");
        gguf_writer_free(w);
        qmc_tok_free(t);
    }
    gguf_free(g);
}
