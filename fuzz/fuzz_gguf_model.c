/* fuzz_gguf_model.c — a model from a GGUF buffer (qmc_model_from_buffer:
 * hyperparameters, tensors, packed planes, vocabulary, validation), then used:
 * rows decoded, a forward pass, the tokenizer. */
#include "fuzz.h"
#include "model/model.h"

QMC_FUZZ_TARGET(gguf_model) {
    qmc_model *m = NULL;
    int rc = qmc_model_from_buffer(data, size, FUZZ_LABEL, &m);
    fuzz_check_status(rc, "qmc_model_from_buffer");
    if (rc) {
        FUZZ_CHECK(m == NULL);
        return;
    }
    fuzz_exercise_model(m);
    qmc_model_free(m);
}
