/* fuzz_sim_tech.c — the simulator's data files (sim_memory_parse,
 * sim_link_parse, sim_platform_parse); what parses replaces the matching part
 * of the built-in hardware, and every architecture is simulated with it:
 * results must be finite and non-negative. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sim/sim.h"

/* The built-in hardware (embedded data files) and a 1M-parameter workload. */
static const sim_hw *base_hw(void) {
    static sim_hw hw;
    static int ready;
    if (!ready) {
        sim_datapath dp;
        if (sim_datapath_init(&dp, NULL) || sim_hw_load(&dp, "jetson-orin-nano", &hw))
            fuzz_abort("cannot load the built-in hardware: %s", qmc_errmsg());
        ready = 1;
    }
    return &hw;
}

static void simulate(const sim_hw *hw) {
    if (sim_hw_validate(hw)) return; /* a parsed file may not suit its slot (e.g. ReRAM without arrays) */
    sim_workload w;
    FUZZ_CHECK(sim_workload_params(1000000, 256, &w) == 0);
    sim_params p;
    sim_params_default(&p);
    p.prompt = 16;
    p.gen = 4;
    p.dse_max_channels = 4;
    p.dse_max_arrays = 8;
    for (int a = 0; a < SIM_ARCH_COUNT; a++) {
        sim_result r;
        int rc = sim_run(&w, hw, &p, (sim_arch)a, &r);
        fuzz_check_result(rc, "sim_run");
        if (rc) continue;
        FUZZ_CHECK(isfinite(r.tok_latency_s) && r.tok_latency_s >= 0);
        FUZZ_CHECK(isfinite(r.tok_energy_j) && r.tok_energy_j >= 0);
        FUZZ_CHECK(isfinite(r.total_s) && isfinite(r.total_j));
    }
    sim_workload_free(&w);
}

QMC_FUZZ_TARGET(sim_tech) {
    const char *text = (const char *)data;
    sim_hw *hw = malloc(sizeof *hw);
    FUZZ_CHECK(hw != NULL);
    sim_memory_tech mem;
    int rc = sim_memory_parse(text, size, FUZZ_LABEL, "fuzz", &mem);
    fuzz_check_status(rc, "sim_memory_parse");
    if (!rc) {
        *hw = *base_hw();
        if (mem.is_volatile) hw->dram = mem;
        else if (mem.array_rows > 0) hw->reram3 = mem;
        else hw->mram = mem;
        simulate(hw);
    }
    sim_link_tech link;
    rc = sim_link_parse(text, size, FUZZ_LABEL, "fuzz", &link);
    fuzz_check_status(rc, "sim_link_parse");
    if (!rc) {
        *hw = *base_hw();
        hw->ucie = link;
        simulate(hw);
    }
    rc = sim_platform_parse(text, size, FUZZ_LABEL, "fuzz", &hw->platform);
    fuzz_check_status(rc, "sim_platform_parse");
    if (!rc) {
        sim_platform plat = hw->platform;
        *hw = *base_hw();
        hw->platform = plat;
        simulate(hw);
    }
    free(hw);
}
