/* paper.c — the paper's headline numbers, computed by the simulator next to
 * the paper's values and the hand arithmetic of spec section 5. */
#include <math.h>
#include <string.h>

#include "sim/sim_internal.h"

static double cells_total(const sim_result *r, bool with_flash) {
    double c = r->cells[SIM_TIER_DRAM] + r->cells[SIM_TIER_MRAM] + r->cells[SIM_TIER_RERAM];
    return with_flash ? c + r->cells[SIM_TIER_FLASH] : c;
}

int sim_paper_check(const sim_workload *w, const sim_hw *hw_in, const sim_params *p_in, sim_paper_row *rows, int cap,
                    int *n_rows) {
    *n_rows = 0;
    sim_params p = *p_in;
    p.int4 = SIM_INT4_NOMINAL;
    p.emems_bits = 4;
    sim_hw hw = *hw_in;
    sim_result fp16, fp16_slc, int4, q3, q2, em, er;
    int rc;
    p.cell_bits = 3;
    if ((rc = sim_run(w, &hw, &p, SIM_ARCH_FP16_DRAM, &fp16)) || (rc = sim_run(w, &hw, &p, SIM_ARCH_INT4_DRAM, &int4)) ||
        (rc = sim_run(w, &hw, &p, SIM_ARCH_QMC, &q3)) || (rc = sim_run(w, &hw, &p, SIM_ARCH_EMEMS_MRAM, &em)) ||
        (rc = sim_run(w, &hw, &p, SIM_ARCH_EMEMS_RERAM, &er)))
        return rc;
    p.cell_bits = 2;
    if ((rc = sim_run(w, &hw, &p, SIM_ARCH_QMC, &q2))) return rc;
    p.cell_bits = 3;
    hw.flash.bits_per_cell = 1; /* the paper counts one Flash cell per bit */
    if ((rc = sim_run(w, &hw, &p, SIM_ARCH_FP16_DRAM, &fp16_slc))) return rc;

    const double N = (double)w->n_params, rho = p.rho, bi = p.inlier_bits, bo = p.outlier_bits;
    const double nominal = (1 - rho) * bi + rho * bo;
    const double cells3 = (1 - rho) * bi / 3.0 + rho * bo, cells2 = (1 - rho) * bi / 2.0 + rho * bo;
    const double e_dram = hw_in->dram.read_energy_pj_per_bit, e_mram = hw_in->mram.read_energy_pj_per_bit;
    const double e_reram = hw_in->reram3.read_energy_pj_per_bit;
    const double mi = SIM_MBIT;
    const double reram_area = (1 - rho) * N * bi / (hw_in->reram3.density_mbit_per_mm2 * mi);
    const double mram_area = rho * N * bo / (hw_in->mram.density_mbit_per_mm2 * mi);
    const double dram_flash_area =
        16 * N / (hw_in->dram.density_mbit_per_mm2 * mi) + 16 * N / (hw_in->flash.density_mbit_per_mm2 * mi);
    const double q3_weight_bits = q3.w_read_bits_step[SIM_TIER_MRAM] + q3.w_read_bits_step[SIM_TIER_RERAM];
    const double e_fp16_w = fp16.tok_weight_energy_dev_j, e_q3_w = q3.tok_weight_energy_dev_j;
    const double e_net_implied = (e_fp16_w / 10.98 - e_q3_w) / (q3_weight_bits / (double)p.batch) * 1e12;
    const double lat_ratio = fp16.total_s / q3.total_s;

    const sim_paper_row all[] = {
        {"compression_vs_fp16", "bits per weight, FP16 / QMC", 4.44, fp16.bpw_stored / q3.bpw_stored, 16 / nominal,
         "the paper counts no outlier positions or scales"},
        {"cells_vs_fp16_3bit", "memory cells, FP16 DRAM / QMC (3-bit cells)", 7.27, cells_total(&fp16, false) / cells_total(&q3, false),
         16 / cells3, "inliers 1 cell each, outliers 5 cells"},
        {"cells_vs_fp16_2bit", "memory cells, FP16 DRAM / QMC (2-bit cells)", 6.27, cells_total(&fp16, false) / cells_total(&q2, false),
         16 / cells2, "inliers bit-packed, 1.5 cells each"},
        {"cells_vs_dram_flash_3bit", "memory cells, FP16 DRAM + Flash (1 bit/cell) / QMC 3-bit", 14.54,
         cells_total(&fp16_slc, true) / cells_total(&q3, false), 32 / cells3, "the paper counts Flash at one bit per cell"},
        {"cells_vs_dram_tlc_flash_3bit", "memory cells, FP16 DRAM + TLC Flash / QMC 3-bit", NAN,
         cells_total(&fp16, true) / cells_total(&q3, false), (16 + 16 / hw_in->flash.bits_per_cell) / cells3,
         "Flash at its real bits per cell (data/tech/nand-tlc.json)"},
        {"offchip_weight_traffic", "off-chip weight bytes per token, FP16 / QMC", 7.62,
         fp16.tok_weight_offchip_bytes / q3.tok_weight_offchip_bytes, 16 / ((1 - rho) * bi),
         "only the ReRAM inliers leave the package"},
        {"weight_read_energy", "weight-read energy per token (device), FP16 / QMC 3-bit", 11.7,
         e_fp16_w / e_q3_w, 16 * e_dram / ((1 - rho) * bi * e_reram + rho * bo * e_mram), "Table 1 read energies, no interconnect"},
        {"reram_area_3bit_mm2", "ReRAM area, 3-bit cells (mm^2)", 100.65, q3.area_mm2[SIM_TIER_RERAM], reram_area,
         "Mbit = 2^20 bits"},
        {"nvm_area_3bit_mm2", "ReRAM + MRAM area (mm^2)", 133.66, q3.area_mm2[SIM_TIER_RERAM] + q3.area_mm2[SIM_TIER_MRAM],
         reram_area + mram_area, ""},
        {"dram_flash_area_mm2", "FP16 DRAM + Flash area removed (mm^2)", 112.04,
         fp16.area_mm2[SIM_TIER_DRAM] + fp16.area_mm2[SIM_TIER_FLASH], dram_flash_area,
         "Flash density cited in data/tech/nand-tlc.json"},
        {"net_area_mm2", "net area increase (mm^2)", 21.62,
         q3.area_mm2[SIM_TIER_RERAM] + q3.area_mm2[SIM_TIER_MRAM] - fp16.area_mm2[SIM_TIER_DRAM] - fp16.area_mm2[SIM_TIER_FLASH],
         reram_area + mram_area - dram_flash_area, ""},
        {"memory_vs_emems", "memory cells, eMEMs-MRAM (INT4) / QMC 3-bit", 1.82, cells_total(&em, false) / cells_total(&q3, false),
         4 / cells3, "eMEMs stores 4-bit weights, one bit per MRAM cell"},
        {"energy_e2e_vs_fp16", "end-to-end memory energy, FP16 / QMC 3-bit", 10.98, fp16.total_j / q3.total_j, NAN,
         "moves with E_net, KV/activation traffic and background power: docs/simulator.md"},
        {"latency_e2e_vs_fp16", "end-to-end latency, FP16 / QMC 3-bit", 12.48, lat_ratio, NAN,
         "moves with the ReRAM bandwidth the bus/power budget allows and the DRAM efficiency"},
        {"latency_vs_int4", "end-to-end latency, INT4 (AWQ/GPTQ) / QMC 3-bit", 3.12, int4.total_s / q3.total_s, NAN, ""},
        {"latency_vs_emems", "end-to-end latency, eMEMs-MRAM / QMC 3-bit", 1.9, em.total_s / q3.total_s, NAN, ""},
        {"energy_vs_emems_reram", "end-to-end memory energy, eMEMs-ReRAM / QMC 3-bit", 1.35, er.total_j / q3.total_j, NAN, ""},
        {"implied_e_net_pj", "E_net (pJ/bit, both tiers) that turns the weight-read ratio into 10.98x", NAN, e_net_implied,
         (16 * e_dram / 10.98 - ((1 - rho) * bi * e_reram + rho * bo * e_mram)) / nominal, "solve 56/10.98 = 4.78 + 3.6 E_net"},
        {"implied_dram_efficiency", "DRAM efficiency at which FP16 / QMC latency is 12.48x", NAN,
         p.dram_efficiency * lat_ratio / 12.48, NAN, "FP16 decode is DRAM-bound: its time scales as 1/efficiency"},
    };
    int n = (int)QMC_ARRAY_LEN(all);
    if (n > cap) return qmc_fail(QMC_ERR_ARG, "paper check needs %d rows", n);
    memcpy(rows, all, sizeof all);
    *n_rows = n;
    return QMC_OK;
}
