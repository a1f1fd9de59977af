/* fuzz_sim_tech.c — the simulator's data files (sim_memory_parse,
 * sim_link_parse, sim_platform_parse); what parses replaces the matching part
 * of the built-in hardware, and every architecture is simulated with it:
 * results must be finite and non-negative. */
#include <stdlib.h>

#include "fuzz.h"
#include "sim/sim.h"

/* Simulate a 1M-parameter workload on hw if the replaced part suits its slot
 * (e.g. a ReRAM needs arrays). */
static void simulate(const sim_hw *hw) {
    if (sim_hw_validate(hw)) return;
    sim_workload w;
    FUZZ_CHECK(sim_workload_params(1000000, 256, &w) == 0);
    fuzz_simulate(&w, hw);
    sim_workload_free(&w);
}

QMC_FUZZ_TARGET(sim_tech) {
    const char *text = (const char *)data;
    const sim_hw *base = fuzz_builtin_hw();
    sim_hw *hw = malloc(sizeof *hw);
    FUZZ_CHECK(hw != NULL);
    sim_memory_tech mem;
    int rc = sim_memory_parse(text, size, FUZZ_LABEL, "fuzz", &mem);
    fuzz_check_status(rc, "sim_memory_parse");
    if (!rc) {
        *hw = *base;
        if (mem.is_volatile) hw->dram = mem;
        else if (mem.array_rows > 0) hw->reram3 = mem;
        else hw->mram = mem;
        simulate(hw);
    }
    sim_link_tech link;
    rc = sim_link_parse(text, size, FUZZ_LABEL, "fuzz", &link);
    fuzz_check_status(rc, "sim_link_parse");
    if (!rc) {
        *hw = *base;
        hw->ucie = link;
        simulate(hw);
    }
    sim_platform plat;
    rc = sim_platform_parse(text, size, FUZZ_LABEL, "fuzz", &plat);
    fuzz_check_status(rc, "sim_platform_parse");
    if (!rc) {
        *hw = *base;
        hw->platform = plat;
        simulate(hw);
    }
    free(hw);
}
