/* fuzz_gguf_model.c — a model from a GGUF buffer (qmc_model_from_buffer:
 * hyperparameters, tensors, packed planes, vocabulary, validation), then used:
 * rows decoded, a forward pass, the tokenizer. */
#include "fuzz.h"

QMC_FUZZ_TARGET(gguf_model) { fuzz_model_buffer(data, size); }
