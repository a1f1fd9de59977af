/* main.c — libFuzzer entry points of a fuzz binary (one fuzz_<name>.c linked in). */
#include <stdlib.h>

#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    if (qmc_fuzz_count() != 1) fuzz_abort("a fuzz binary must link exactly one target, not %d", qmc_fuzz_count());
    qmc_set_threads(1);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    qmc_fuzz_run(qmc_fuzz_at(0), data, size);
    return 0;
}
