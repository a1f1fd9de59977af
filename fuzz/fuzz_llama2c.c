/* fuzz_llama2c.c — llama2.c v0/v1 checkpoints from a buffer (header checks,
 * size implied by the header), then used: rows decoded, a forward pass. */
#include "fuzz.h"
#include "model/model.h"

QMC_FUZZ_TARGET(llama2c) {
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
