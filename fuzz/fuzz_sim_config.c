/* fuzz_sim_config.c — model shapes from a Hugging Face config.json as the
 * simulator reads them (sim_workload_from_hf_config: llama, mistral, qwen2,
 * phi, hymba), simulated on the built-in hardware for every architecture. */
#include <stdlib.h>

#include "fuzz.h"
#include "sim/sim.h"

QMC_FUZZ_TARGET(sim_config) {
    const void *hw = fuzz_builtin_hw();
    char *text = fuzz_cstring(data, size); /* the parser reads a C string */
    sim_workload w;
    int rc = sim_workload_from_hf_config(text, FUZZ_LABEL, &w);
    free(text);
    fuzz_check_status(rc, "sim_workload_from_hf_config");
    if (rc) return;
    FUZZ_CHECK(w.n_params > 0 && w.n_tensors > 0);
    fuzz_simulate(&w, hw);
    sim_workload_free(&w);
}
