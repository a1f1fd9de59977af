/* fuzz_sim_config.c — model shapes from a Hugging Face config.json as the
 * simulator reads them (sim_workload_from_hf_config: llama, mistral, qwen2,
 * phi, hymba), simulated on the built-in hardware for every architecture. */
#include <math.h>
#include <stdlib.h>

#include "fuzz.h"
#include "sim/sim.h"

QMC_FUZZ_TARGET(sim_config) {
    static sim_hw hw;
    static int ready;
    if (!ready) {
        sim_datapath dp;
        if (sim_datapath_init(&dp, NULL) || sim_hw_load(&dp, "jetson-orin-nano", &hw))
            fuzz_abort("cannot load the built-in hardware: %s", qmc_errmsg());
        ready = 1;
    }
    char *text = fuzz_cstring(data, size);
    sim_workload w;
    int rc = sim_workload_from_hf_config(text, FUZZ_LABEL, &w);
    free(text);
    fuzz_check_status(rc, "sim_workload_from_hf_config");
    if (rc) return;
    FUZZ_CHECK(w.n_params > 0 && w.n_tensors > 0);
    sim_params p;
    sim_params_default(&p);
    p.prompt = 16;
    p.gen = 4;
    p.dse_max_channels = 4;
    p.dse_max_arrays = 8;
    for (int a = 0; a < SIM_ARCH_COUNT; a++) {
        sim_result r;
        rc = sim_run(&w, &hw, &p, (sim_arch)a, &r);
        fuzz_check_result(rc, "sim_run");
        if (rc) continue;
        FUZZ_CHECK(isfinite(r.tok_latency_s) && r.tok_latency_s >= 0);
        FUZZ_CHECK(isfinite(r.tok_energy_j) && r.tok_energy_j >= 0);
        FUZZ_CHECK(isfinite(r.bpw_stored) && r.bpw_stored > 0);
    }
    sim_workload_free(&w);
}
