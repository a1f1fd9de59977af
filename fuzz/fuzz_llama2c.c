/* fuzz_llama2c.c — llama2.c v0/v1 checkpoints from a buffer (header checks,
 * size implied by the header), then used: rows decoded, a forward pass. */
#include "fuzz.h"

QMC_FUZZ_TARGET(llama2c) { fuzz_model_buffer(data, size); }
