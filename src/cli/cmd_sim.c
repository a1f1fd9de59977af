/* cmd_sim.c — qmc sim: the memory-system simulator (one workload, one or
 * more architectures), the paper's headline numbers, the calibration check. */
#include <math.h>
#include <string.h>

#include "cli/json.h"
#include "cli/sim_common.h"

static const cli_opt k_opts[] = {
    SIM_CLI_OPTS,
    {"arch", 'a', "LIST", "architectures, comma-separated: fp16-dram, int4-dram, emems-mram, emems-reram, qmc (default: all)"},
    {"vs", 0, "ARCH", "baseline of the ratios (default fp16-dram)"},
    {"mram-channels", 0, "N", "MRAM channels (default: chosen by design-space exploration)"},
    {"reram-arrays", 0, "N", "concurrently read ReRAM arrays (default: chosen by design-space exploration)"},
    {"mram-mib", 0, "MIB", "MRAM capacity; the workload must fit (default: sized to the weights)"},
    {"reram-mib", 0, "MIB", "ReRAM capacity; the workload must fit (default: sized to the weights)"},
    {"paper", 0, NULL, "the paper's headline numbers (default workload --params 1.52e9), nominal and honest"},
    {"calibrate", 0, NULL, "predict the platform's measured reference points (data/platforms/*.json)"},
    {"list", 0, NULL, "print every technology and platform value with its source"},
    {0},
};

static const cli_command_info k_info = {
    "sim",
    "qmc sim (-m SPEC | --params N) [-a ARCHS] [-p PLATFORM] [options] [--json | --csv FILE] [--plot DIR]\n"
    "       qmc sim --paper [-m SPEC | --params N]     qmc sim --calibrate -p PLATFORM     qmc sim --list",
    "Simulate the memory system of an edge LLM: FP16/INT4 in LPDDR5, eMEMs, or QMC (MLC ReRAM + MRAM + LPDDR5).",
    "Per tier and per token: bytes moved (on-package vs off-chip), read energy (device + interconnect), DRAM\n"
    "background power for the capacity in use, and latency with the paper's concurrency rule\n"
    "T_final = max(T_mram, T_reram) + T_sync (T = t_access + size/bandwidth + t_queue) under a compute roofline;\n"
    "prefill and decode separately; memory cells and silicon area per tier; capacity checks.  Unit counts not\n"
    "given are chosen by design-space exploration (lowest latency within the power budget, see qmc dse).\n"
    "Every equation and default, with its source: docs/simulator.md.",
    k_opts};

/* ---- the table ------------------------------------------------------------------ */

enum {
    M_BPW, M_BPW_NOM, M_W_DRAM, M_W_MRAM, M_W_RERAM, M_W_FLASH, M_CELLS, M_CELLS_FLASH, M_A_DRAM, M_A_MRAM, M_A_RERAM,
    M_A_FLASH, M_CH, M_ARR, M_BW_DRAM, M_BW_MRAM, M_BW_RERAM, M_PWR, M_BUDGET, M_TOK_ONPKG, M_TOK_OFFW, M_TOK_KVR, M_TOK_KVW,
    M_TOK_ACT, M_TOK_STATE, M_TOK_WE_DEV, M_TOK_WE_NET, M_T_MRAM, M_T_RERAM, M_T_SYNC, M_T_W, M_T_DRAM, M_T_COMP, M_DEC_MS,
    M_DEC_TOKS, M_DEC_MJ, M_PRE_MS, M_PRE_MJ, M_TOT_MS, M_TOT_MJ, M_E_DRAM_R, M_E_DRAM_W, M_E_BG, M_E_MRAM, M_E_RERAM, M_E_NET,
    M_E_CDC, M_COLD, M_DRAM_NEED, M_DYN,
};

static double cells(const sim_result *r, bool flash) {
    return r->cells[SIM_TIER_DRAM] + r->cells[SIM_TIER_MRAM] + r->cells[SIM_TIER_RERAM] + (flash ? r->cells[SIM_TIER_FLASH] : 0);
}

static double metric(const sim_result *r, int m) {
    switch (m) {
    case M_BPW: return r->bpw_stored;
    case M_BPW_NOM: return r->bpw_nominal;
    case M_W_DRAM: return r->weight_bits[SIM_TIER_DRAM] / 8 / 1048576;
    case M_W_MRAM: return r->weight_bits[SIM_TIER_MRAM] / 8 / 1048576;
    case M_W_RERAM: return r->weight_bits[SIM_TIER_RERAM] / 8 / 1048576;
    case M_W_FLASH: return r->weight_bits[SIM_TIER_FLASH] / 8 / 1048576;
    case M_CELLS: return cells(r, false) / 1e9;
    case M_CELLS_FLASH: return cells(r, true) / 1e9;
    case M_A_DRAM: return r->area_mm2[SIM_TIER_DRAM];
    case M_A_MRAM: return r->area_mm2[SIM_TIER_MRAM];
    case M_A_RERAM: return r->area_mm2[SIM_TIER_RERAM];
    case M_A_FLASH: return r->area_mm2[SIM_TIER_FLASH];
    case M_CH: return r->mram_channels;
    case M_ARR: return r->reram_arrays;
    case M_BW_DRAM: return r->bw_bytes_s[SIM_TIER_DRAM] / 1e9;
    case M_BW_MRAM: return r->bw_bytes_s[SIM_TIER_MRAM] / 1e9;
    case M_BW_RERAM: return r->bw_bytes_s[SIM_TIER_RERAM] / 1e9;
    case M_PWR: return r->nvm_power_w;
    case M_BUDGET: return r->power_budget_w;
    case M_TOK_ONPKG: return r->tok_weight_onpkg_bytes / 1048576;
    case M_TOK_OFFW: return r->tok_weight_offchip_bytes / 1048576;
    case M_TOK_KVR: return r->tok_kv_read_bytes / 1048576;
    case M_TOK_KVW: return r->tok_kv_write_bytes / 1048576;
    case M_TOK_ACT: return r->tok_act_bytes / 1048576;
    case M_TOK_STATE: return r->tok_state_bytes / 1048576;
    case M_TOK_WE_DEV: return r->tok_weight_energy_dev_j * 1e3;
    case M_TOK_WE_NET: return r->tok_weight_energy_net_j * 1e3;
    case M_T_MRAM: return r->step_t_tier_s[SIM_TIER_MRAM] * 1e3;
    case M_T_RERAM: return r->step_t_tier_s[SIM_TIER_RERAM] * 1e3;
    case M_T_SYNC: return r->step_t_sync_s * 1e6;
    case M_T_W: return r->step_t_weights_s * 1e3;
    case M_T_DRAM: return r->step_t_dram_s * 1e3;
    case M_T_COMP: return r->step_t_compute_s * 1e3;
    case M_DEC_MS: return r->tok_latency_s * 1e3;
    case M_DEC_TOKS: return r->decode_tok_s;
    case M_DEC_MJ: return r->tok_energy_j * 1e3;
    case M_PRE_MS: return r->prefill_s * 1e3;
    case M_PRE_MJ: return r->prefill_j * 1e3;
    case M_TOT_MS: return r->total_s * 1e3;
    case M_TOT_MJ: return r->total_j * 1e3;
    case M_E_DRAM_R: return r->e_read_j[SIM_TIER_DRAM] * 1e3;
    case M_E_DRAM_W: return r->e_dram_write_j * 1e3;
    case M_E_BG: return r->e_dram_bg_j * 1e3;
    case M_E_MRAM: return r->e_read_j[SIM_TIER_MRAM] * 1e3;
    case M_E_RERAM: return r->e_read_j[SIM_TIER_RERAM] * 1e3;
    case M_E_NET: return r->e_net_j * 1e3;
    case M_E_CDC: return r->e_cdc_j * 1e3;
    case M_COLD: return r->cold_start_s;
    case M_DRAM_NEED: return r->need_bytes[SIM_TIER_DRAM] / 1073741824.0;
    case M_DYN: return r->dram_dynamic_bytes / 1048576;
    }
    return NAN;
}

typedef struct {
    int m;
    const char *label;
    const char *fmt;
} row_def;

static const row_def k_rows[] = {
    {-1, "weights", NULL},
    {M_BPW, "bits/weight, stored", "%.3f"},
    {M_BPW_NOM, "bits/weight, nominal (paper count)", "%.3f"},
    {M_W_DRAM, "in LPDDR5 (MiB)", "%.1f"},
    {M_W_MRAM, "in MRAM (MiB)", "%.1f"},
    {M_W_RERAM, "in MLC ReRAM (MiB)", "%.1f"},
    {M_W_FLASH, "Flash copy (MiB)", "%.1f"},
    {M_CELLS, "memory cells (1e9), no Flash", "%.3f"},
    {M_CELLS_FLASH, "memory cells (1e9), with Flash", "%.3f"},
    {M_A_DRAM, "area LPDDR5 (mm^2)", "%.2f"},
    {M_A_MRAM, "area MRAM (mm^2)", "%.2f"},
    {M_A_RERAM, "area ReRAM (mm^2)", "%.2f"},
    {M_A_FLASH, "area Flash (mm^2)", "%.2f"},
    {M_DRAM_NEED, "LPDDR5 in use (GiB)", "%.3f"},
    {M_DYN, "  of it KV+state+activations (MiB)", "%.2f"},
    {-1, "memory system", NULL},
    {M_CH, "MRAM channels", "%.0f"},
    {M_ARR, "ReRAM arrays read concurrently", "%.0f"},
    {M_BW_DRAM, "LPDDR5 bandwidth (GB/s)", "%.1f"},
    {M_BW_MRAM, "MRAM bandwidth (GB/s)", "%.1f"},
    {M_BW_RERAM, "ReRAM bandwidth (GB/s)", "%.1f"},
    {M_PWR, "NVM read power at full BW (W)", "%.3f"},
    {M_BUDGET, "power budget (W)", "%.3f"},
    {-1, "per generated token (decode)", NULL},
    {M_TOK_ONPKG, "weights on-package (MiB)", "%.2f"},
    {M_TOK_OFFW, "weights off-chip (MiB)", "%.2f"},
    {M_TOK_KVR, "KV cache read (MiB)", "%.3f"},
    {M_TOK_KVW, "KV cache written (MiB)", "%.4f"},
    {M_TOK_ACT, "activations (MiB)", "%.4f"},
    {M_TOK_STATE, "recurrent state (MiB)", "%.4f"},
    {M_TOK_WE_DEV, "weight-read energy, device (mJ)", "%.4f"},
    {M_TOK_WE_NET, "weight-read energy, interconnect (mJ)", "%.4f"},
    {M_DEC_MS, "latency per step (ms)", "%.3f"},
    {M_DEC_TOKS, "tokens/s", "%.1f"},
    {M_DEC_MJ, "memory energy (mJ)", "%.4f"},
    {-1, "first decode step (ms; T_sync in us)", NULL},
    {M_T_MRAM, "T_mram", "%.4f"},
    {M_T_RERAM, "T_reram", "%.4f"},
    {M_T_SYNC, "T_sync (us)", "%.3f"},
    {M_T_W, "T_final = max(T_mram,T_reram)+T_sync", "%.4f"},
    {M_T_DRAM, "T_dram (KV/act; + weights for DRAM)", "%.4f"},
    {M_T_COMP, "T_compute (roofline)", "%.4f"},
    {-1, "run", NULL},
    {M_PRE_MS, "prefill (ms)", "%.2f"},
    {M_PRE_MJ, "prefill energy (mJ)", "%.3f"},
    {M_TOT_MS, "end to end (ms)", "%.2f"},
    {M_TOT_MJ, "end-to-end memory energy (mJ)", "%.3f"},
    {M_E_DRAM_R, "  LPDDR5 reads (mJ)", "%.3f"},
    {M_E_DRAM_W, "  LPDDR5 writes (mJ)", "%.3f"},
    {M_E_BG, "  LPDDR5 background (mJ)", "%.3f"},
    {M_E_MRAM, "  MRAM reads (mJ)", "%.3f"},
    {M_E_RERAM, "  ReRAM reads (mJ)", "%.3f"},
    {M_E_NET, "  interconnect (mJ)", "%.3f"},
    {M_E_CDC, "  CDC FIFOs (mJ)", "%.4f"},
    {M_COLD, "cold start from Flash (s)", "%.2f"},
};

typedef struct {
    const char *key;
    const char *label;
} ratio_def;

static const ratio_def k_ratios[] = {
    {"memory_cells", "memory cells (no Flash)"},
    {"memory_cells_with_flash", "memory cells (baseline with Flash)"},
    {"offchip_weight_traffic", "off-chip weight traffic"},
    {"weight_read_energy_device", "weight-read energy (device)"},
    {"weight_read_energy_with_net", "weight-read energy (+interconnect)"},
    {"decode_latency", "decode latency per token"},
    {"decode_energy", "decode energy per token"},
    {"end_to_end_latency", "end-to-end latency"},
    {"end_to_end_energy", "end-to-end memory energy"},
    {"weight_area", "weight silicon area (no Flash)"},
};

static double ratio(const sim_result *b, const sim_result *r, int i) {
    switch (i) {
    case 0: return cells(b, false) / cells(r, false);
    case 1: return cells(b, true) / cells(r, false);
    case 2: return b->tok_weight_offchip_bytes / r->tok_weight_offchip_bytes;
    case 3: return b->tok_weight_energy_dev_j / r->tok_weight_energy_dev_j;
    case 4: return (b->tok_weight_energy_dev_j + b->tok_weight_energy_net_j) / (r->tok_weight_energy_dev_j + r->tok_weight_energy_net_j);
    case 5: return b->tok_latency_s / r->tok_latency_s;
    case 6: return b->tok_energy_j / r->tok_energy_j;
    case 7: return b->total_s / r->total_s;
    case 8: return b->total_j / r->total_j;
    case 9: {
        double ab = b->area_mm2[0] + b->area_mm2[1] + b->area_mm2[2], ar = r->area_mm2[0] + r->area_mm2[1] + r->area_mm2[2];
        return ab / ar;
    }
    }
    return NAN;
}

static void print_header(const sim_cli_ctx *c, const sim_result *rs, int n) {
    const sim_params *p = &c->p;
    printf("workload: %s [%s], %lld parameters", c->w.name, c->w.source, (long long)c->w.n_params);
    if (c->w.has_packed) printf(", packed planes counted %s", p->honest ? "as stored (honest)" : "at nominal bits");
    printf("\nplatform: %s (%.1f GB/s LPDDR5, %.3g GiB, %.1f TFLOPS FP16)\n", c->hw.platform.title, c->hw.platform.dram_bw_gb_s,
           c->hw.platform.dram_capacity_gib, c->hw.platform.peak_tflops_fp16);
    printf("run: prompt %lld%s, generate %lld, batch %lld; rho %.3g, inliers %d b, outliers %d b, ReRAM %d-bit cells; KV %s, "
           "activations %s\n",
           (long long)p->prompt, c->w.meta_tokens ? " (+ meta tokens)" : "", (long long)p->gen, (long long)p->batch, p->rho,
           p->inlier_bits, p->outlier_bits, p->cell_bits, p->kv_traffic ? "counted" : "not counted",
           p->act_traffic ? "counted" : "not counted");
    printf("\n%-40s", "");
    for (int i = 0; i < n; i++) printf("%14s", sim_arch_name(rs[i].arch));
    printf("\n");
}

static void print_table(const sim_cli_ctx *c, const sim_result *rs, int n, int base) {
    print_header(c, rs, n);
    for (size_t k = 0; k < QMC_ARRAY_LEN(k_rows); k++) {
        const row_def *d = &k_rows[k];
        if (d->m < 0) {
            printf("%s\n", d->label);
            continue;
        }
        printf("  %-38s", d->label);
        for (int i = 0; i < n; i++) {
            double v = metric(&rs[i], d->m);
            char cell[32];
            if (d->m == M_DEC_MS || d->m == M_PRE_MS) {
                bool cb = d->m == M_DEC_MS ? rs[i].decode_compute_bound : rs[i].prefill_compute_bound;
                snprintf(cell, sizeof cell, d->fmt, v);
                size_t len = strlen(cell);
                snprintf(cell + len, sizeof cell - len, "%s", cb ? " c" : " m");
            } else {
                snprintf(cell, sizeof cell, d->fmt, v);
            }
            printf("%14s", cell);
        }
        printf("\n");
    }
    printf("  (m = memory-bound, c = compute-bound)\n");
    printf("ratios: %s / architecture\n", sim_arch_name(rs[base].arch));
    for (size_t k = 0; k < QMC_ARRAY_LEN(k_ratios); k++) {
        printf("  %-38s", k_ratios[k].label);
        for (int i = 0; i < n; i++) {
            double v = ratio(&rs[base], &rs[i], (int)k);
            if (isfinite(v)) printf("%14.3f", v);
            else printf("%14s", "-");
        }
        printf("\n");
    }
}

static cJSON *tiers_json(const double *v, double scale) {
    cJSON *o = cJSON_CreateObject();
    for (int k = 0; k < SIM_TIER_COUNT; k++) cJSON_AddNumberToObject(o, sim_tier_name((sim_tier)k), v[k] * scale);
    return o;
}

static cJSON *result_json(const sim_result *r) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "arch", sim_arch_name(r->arch));
    cJSON *hw = cJSON_AddObjectToObject(o, "hardware");
    cJSON_AddNumberToObject(hw, "mram_channels", r->mram_channels);
    cJSON_AddNumberToObject(hw, "reram_arrays", r->reram_arrays);
    cJSON_AddStringToObject(hw, "units_chosen_by", r->units_auto ? "design-space exploration" : "user");
    cJSON_AddItemToObject(hw, "bandwidth_bytes_s", tiers_json(r->bw_bytes_s, 1));
    cJSON_AddNumberToObject(hw, "nvm_power_w", r->nvm_power_w);
    cJSON_AddNumberToObject(hw, "power_budget_w", r->power_budget_w);
    cJSON *onp = cJSON_AddObjectToObject(hw, "on_package");
    for (int k = 0; k < SIM_TIER_COUNT; k++) cJSON_AddBoolToObject(onp, sim_tier_name((sim_tier)k), r->on_package[k]);
    cJSON *w = cJSON_AddObjectToObject(o, "weights");
    cJSON_AddNumberToObject(w, "bits_per_weight_stored", r->bpw_stored);
    cJSON_AddNumberToObject(w, "bits_per_weight_nominal", r->bpw_nominal);
    cJSON_AddItemToObject(w, "bits", tiers_json(r->weight_bits, 1));
    cJSON_AddItemToObject(w, "cells", tiers_json(r->cells, 1));
    cJSON_AddItemToObject(w, "area_mm2", tiers_json(r->area_mm2, 1));
    cJSON_AddNumberToObject(w, "mram_plane_in_sram_area_mm2", r->sram_alt_area_mm2);
    cJSON *cap = cJSON_AddObjectToObject(o, "capacity");
    cJSON_AddItemToObject(cap, "need_bytes", tiers_json(r->need_bytes, 1));
    cJSON_AddItemToObject(cap, "have_bytes", tiers_json(r->have_bytes, 1));
    cJSON_AddNumberToObject(cap, "dram_kv_state_activation_bytes", r->dram_dynamic_bytes);
    cJSON *t = cJSON_AddObjectToObject(o, "per_token");
    cJSON_AddNumberToObject(t, "weight_bytes_on_package", r->tok_weight_onpkg_bytes);
    cJSON_AddNumberToObject(t, "weight_bytes_off_chip", r->tok_weight_offchip_bytes);
    cJSON_AddNumberToObject(t, "off_chip_bytes", r->tok_offchip_bytes);
    cJSON_AddNumberToObject(t, "kv_read_bytes", r->tok_kv_read_bytes);
    cJSON_AddNumberToObject(t, "kv_write_bytes", r->tok_kv_write_bytes);
    cJSON_AddNumberToObject(t, "activation_bytes", r->tok_act_bytes);
    cJSON_AddNumberToObject(t, "state_bytes", r->tok_state_bytes);
    cJSON_AddNumberToObject(t, "weight_read_energy_device_j", r->tok_weight_energy_dev_j);
    cJSON_AddNumberToObject(t, "weight_read_energy_interconnect_j", r->tok_weight_energy_net_j);
    cJSON_AddNumberToObject(t, "energy_j", r->tok_energy_j);
    cJSON_AddNumberToObject(t, "latency_s", r->tok_latency_s);
    cJSON *s = cJSON_AddObjectToObject(o, "first_decode_step");
    cJSON_AddNumberToObject(s, "t_mram_s", r->step_t_tier_s[SIM_TIER_MRAM]);
    cJSON_AddNumberToObject(s, "t_reram_s", r->step_t_tier_s[SIM_TIER_RERAM]);
    cJSON_AddNumberToObject(s, "t_sync_s", r->step_t_sync_s);
    cJSON_AddNumberToObject(s, "t_weights_s", r->step_t_weights_s);
    cJSON_AddNumberToObject(s, "t_dram_s", r->step_t_dram_s);
    cJSON_AddNumberToObject(s, "t_compute_s", r->step_t_compute_s);
    cJSON_AddItemToObject(s, "weight_bits_read", tiers_json(r->w_read_bits_step, 1));
    cJSON *pf = cJSON_AddObjectToObject(o, "prefill");
    cJSON_AddNumberToObject(pf, "time_s", r->prefill_s);
    cJSON_AddNumberToObject(pf, "energy_j", r->prefill_j);
    cJSON_AddStringToObject(pf, "bound", r->prefill_compute_bound ? "compute" : "memory");
    cJSON *dc = cJSON_AddObjectToObject(o, "decode");
    cJSON_AddNumberToObject(dc, "time_s", r->decode_s);
    cJSON_AddNumberToObject(dc, "energy_j", r->decode_j);
    cJSON_AddNumberToObject(dc, "tokens_per_s", r->decode_tok_s);
    cJSON_AddStringToObject(dc, "bound", r->decode_compute_bound ? "compute" : "memory");
    cJSON *e = cJSON_AddObjectToObject(o, "end_to_end");
    cJSON_AddNumberToObject(e, "time_s", r->total_s);
    cJSON_AddNumberToObject(e, "energy_j", r->total_j);
    cJSON *eb = cJSON_AddObjectToObject(e, "energy_breakdown_j");
    cJSON_AddNumberToObject(eb, "dram_read", r->e_read_j[SIM_TIER_DRAM]);
    cJSON_AddNumberToObject(eb, "dram_write", r->e_dram_write_j);
    cJSON_AddNumberToObject(eb, "dram_background", r->e_dram_bg_j);
    cJSON_AddNumberToObject(eb, "mram_read", r->e_read_j[SIM_TIER_MRAM]);
    cJSON_AddNumberToObject(eb, "reram_read", r->e_read_j[SIM_TIER_RERAM]);
    cJSON_AddNumberToObject(eb, "interconnect", r->e_net_j);
    cJSON_AddNumberToObject(eb, "cdc_fifo", r->e_cdc_j);
    cJSON *cs = cJSON_AddObjectToObject(o, "cold_start");
    cJSON_AddNumberToObject(cs, "time_s", r->cold_start_s);
    cJSON_AddNumberToObject(cs, "energy_j", r->cold_start_j);
    return o;
}

static int write_csv(const char *path, const sim_cli_ctx *c, const sim_result *rs, int n) {
    qmc_str s = {0};
    qmc_str_printf(&s, "arch,workload,platform,rho,cell_bits,prompt,gen,batch,bpw_stored,bpw_nominal,weight_mib_dram,"
                       "weight_mib_mram,weight_mib_reram,weight_mib_flash,cells,area_mm2_dram,area_mm2_mram,area_mm2_reram,"
                       "area_mm2_flash,mram_channels,reram_arrays,nvm_power_w,power_budget_w,tok_weight_bytes_onpkg,"
                       "tok_weight_bytes_offchip,tok_offchip_bytes,tok_latency_s,decode_tok_s,tok_energy_j,prefill_s,"
                       "prefill_j,total_s,total_j\n");
    for (int i = 0; i < n; i++) {
        const sim_result *r = &rs[i];
        qmc_str_printf(&s, "%s,\"%s\",%s,%.6g,%d,%lld,%lld,%lld,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%d,%d,%.9g,"
                           "%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g\n",
                       sim_arch_name(r->arch), c->w.name, c->hw.platform.name, r->rho, c->p.cell_bits, (long long)c->p.prompt,
                       (long long)c->p.gen, (long long)c->p.batch, r->bpw_stored, r->bpw_nominal, metric(r, M_W_DRAM),
                       metric(r, M_W_MRAM), metric(r, M_W_RERAM), metric(r, M_W_FLASH), cells(r, false),
                       r->area_mm2[SIM_TIER_DRAM], r->area_mm2[SIM_TIER_MRAM], r->area_mm2[SIM_TIER_RERAM],
                       r->area_mm2[SIM_TIER_FLASH], r->mram_channels, r->reram_arrays, r->nvm_power_w, r->power_budget_w,
                       r->tok_weight_onpkg_bytes, r->tok_weight_offchip_bytes, r->tok_offchip_bytes, r->tok_latency_s,
                       r->decode_tok_s, r->tok_energy_j, r->prefill_s, r->prefill_j, r->total_s, r->total_j);
    }
    int rc = s.failed ? cli_error("sim", "out of memory") : sim_cli_write("sim", path, s.s, s.len);
    qmc_str_free(&s);
    return rc;
}

static int plot_energy(const char *dir, const sim_result *rs, int n) {
    qmc_str d = {0};
    qmc_str_printf(&d, "arch \"LPDDR5 read\" \"LPDDR5 write\" \"LPDDR5 background\" \"MRAM read\" \"ReRAM read\" "
                       "\"interconnect\" \"CDC FIFO\"\n");
    for (int i = 0; i < n; i++)
        qmc_str_printf(&d, "%s %.9g %.9g %.9g %.9g %.9g %.9g %.9g\n", sim_arch_name(rs[i].arch), metric(&rs[i], M_E_DRAM_R),
                       metric(&rs[i], M_E_DRAM_W), metric(&rs[i], M_E_BG), metric(&rs[i], M_E_MRAM),
                       metric(&rs[i], M_E_RERAM), metric(&rs[i], M_E_NET), metric(&rs[i], M_E_CDC));
    const char *cmds = "set title 'end-to-end memory energy by component'\n"
                       "set ylabel 'energy (mJ)'\nset style data histograms\nset style histogram rowstacked\n"
                       "set style fill solid 0.85 border -1\nset boxwidth 0.6\nset key outside right top\nset grid ytics\n"
                       "plot for [c=2:8] 'energy_breakdown.dat' using c:xtic(1) title columnheader(c)\n";
    int rc = d.failed ? -1 : sim_cli_plot("sim", dir, "energy_breakdown", d.s, cmds);
    qmc_str_free(&d);
    return rc < 0 ? 1 : 0;
}

/* ---- modes ------------------------------------------------------------------------- */

/* One line per value: "  name.field = value unit   [source]". */
static void print_values(const char *name, const cJSON *tech) {
    const cJSON *title = cJSON_GetObjectItem(tech, "title"), *origin = cJSON_GetObjectItem(tech, "origin");
    printf("%s: %s\n  (%s)\n", name, cJSON_IsString(title) ? title->valuestring : "",
           cJSON_IsString(origin) ? origin->valuestring : "");
    const cJSON *f;
    cJSON_ArrayForEach(f, tech) {
        const cJSON *v = cJSON_GetObjectItem(f, "value"), *u = cJSON_GetObjectItem(f, "unit"), *src = cJSON_GetObjectItem(f, "source");
        if (!cJSON_IsObject(f) || !cJSON_IsNumber(v)) continue;
        char lhs[96];
        snprintf(lhs, sizeof lhs, "%s.%s", name, f->string);
        printf("  %-40s %12.6g  %-26s %s\n", lhs, v->valuedouble, cJSON_IsString(u) ? u->valuestring : "",
               cJSON_IsString(src) ? src->valuestring : "");
    }
}

static void print_listing(const cJSON *o) {
    const cJSON *pl = cJSON_GetObjectItem(o, "platform"), *it;
    print_values("platform", pl);
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(o, "memories")) print_values(it->string, it);
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(o, "links")) print_values(it->string, it);
    const cJSON *av = cJSON_GetObjectItem(o, "available");
    cJSON_ArrayForEach(it, av) printf("available %s: %s\n", it->string, cJSON_IsString(it) ? it->valuestring : "");
    printf("data search path:");
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(o, "data_search_path")) printf(" %s", it->valuestring);
    printf("\n");
}

static int run_list(const cli_args *a) {
    sim_cli_ctx c;
    int rc = sim_cli_setup("sim", a, false, &c);
    if (rc) return rc;
    cJSON *o = sim_cli_hw_json(&c.hw);
    char names[2048];
    cJSON *av = cJSON_AddObjectToObject(o, "available");
    sim_data_names(&c.dp, "platforms", names, sizeof names);
    cJSON_AddStringToObject(av, "platforms", names);
    sim_data_names(&c.dp, "configs", names, sizeof names);
    cJSON_AddStringToObject(av, "configs", names);
    sim_data_names(&c.dp, "tech", names, sizeof names);
    cJSON_AddStringToObject(av, "tech", names);
    cJSON *dirs = cJSON_AddArrayToObject(o, "data_search_path");
    for (int i = 0; i < c.dp.n_dirs; i++) cJSON_AddItemToArray(dirs, cJSON_CreateString(c.dp.dirs[i]));
    cJSON_AddItemToArray(dirs, cJSON_CreateString("embedded"));
    if (cli_flag(a, "json")) {
        cli_json_print(o);
    } else {
        print_listing(o);
        cJSON_Delete(o);
    }
    sim_cli_free(&c);
    return 0;
}

static void print_paper_rows(const sim_paper_row *nom, const sim_paper_row *hon, int n) {
    printf("%-70s %10s %12s", "quantity", "paper", "ours nominal");
    if (hon) printf(" %12s", "ours honest");
    printf(" %10s %8s\n", "hand", "dev %");
    for (int i = 0; i < n; i++) {
        printf("%-70s", nom[i].what);
        if (isnan(nom[i].paper)) printf(" %10s", "-");
        else printf(" %10.4g", nom[i].paper);
        printf(" %12.4g", nom[i].ours);
        if (hon) printf(" %12.4g", hon[i].ours);
        if (isnan(nom[i].hand)) printf(" %10s", "-");
        else printf(" %10.4g", nom[i].hand);
        if (isnan(nom[i].paper)) printf(" %8s\n", "-");
        else printf(" %+8.2f\n", 100 * (nom[i].ours / nom[i].paper - 1));
    }
}

static cJSON *paper_rows_json(const sim_paper_row *rows, int n) {
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; i < n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "key", rows[i].key);
        cJSON_AddStringToObject(o, "what", rows[i].what);
        if (!isnan(rows[i].paper)) cJSON_AddNumberToObject(o, "paper", rows[i].paper);
        cJSON_AddNumberToObject(o, "ours", rows[i].ours);
        if (!isnan(rows[i].hand)) cJSON_AddNumberToObject(o, "hand", rows[i].hand);
        if (!isnan(rows[i].paper)) cJSON_AddNumberToObject(o, "deviation", rows[i].ours / rows[i].paper - 1);
        cJSON_AddStringToObject(o, "note", rows[i].note);
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

static int run_paper(const cli_args *a) {
    sim_cli_ctx c;
    int rc = sim_cli_setup("sim", a, false, &c);
    if (rc) return rc;
    if (!c.have_workload && sim_workload_params(1520000000, 2048, &c.w)) {
        sim_cli_free(&c);
        return cli_fail("sim");
    }
    /* nominal: the paper's count; honest: the stored planes of a packed file,
     * or what qmc's packed format would store for the shapes */
    sim_paper_row nom[32], hon[32];
    int n = 0, nh = 0;
    sim_params pn = c.p, ph = c.p;
    pn.honest = pn.format_overhead = false;
    ph.honest = ph.format_overhead = true;
    rc = sim_paper_check(&c.w, &c.hw, &pn, nom, 32, &n);
    if (!rc) rc = sim_paper_check(&c.w, &c.hw, &ph, hon, 32, &nh);
    if (rc) {
        sim_cli_free(&c);
        return cli_fail("sim");
    }
    if (cli_flag(a, "json")) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToObject(o, "workload", sim_cli_workload_json(&c.w));
        cJSON_AddItemToObject(o, "assumptions", sim_cli_params_json(&c.p));
        cJSON_AddItemToObject(o, "nominal", paper_rows_json(nom, n));
        cJSON_AddItemToObject(o, "honest", paper_rows_json(hon, nh));
        cJSON_AddStringToObject(o, "honest_means", c.w.has_packed ? "stored planes of the packed file" : "qmc packed-format overhead modelled from the shapes");
        cli_json_print(o);
    } else {
        printf("paper check: %s [%s], %lld parameters, rho %.3g, %d-bit inliers, %d-bit outliers, platform %s\n", c.w.name,
               c.w.source, (long long)c.w.n_params, c.p.rho, c.p.inlier_bits, c.p.outlier_bits, c.hw.platform.name);
        printf("end-to-end rows: prompt %lld, generate %lld, batch %lld, KV %s, activations %s, E_net %s\n\n",
               (long long)c.p.prompt, (long long)c.p.gen, (long long)c.p.batch, c.p.kv_traffic ? "on" : "off",
               c.p.act_traffic ? "on" : "off", c.p.e_net_pj >= 0 ? "overridden" : "per link (ucie3 / nvm-bus)");
        print_paper_rows(nom, nh ? hon : NULL, n);
        printf("\nnominal: the paper's count (no outlier positions or scales). honest: %s.\n"
               "dev %%: nominal against the paper. hand: spec section 5 arithmetic.\n",
               c.w.has_packed ? "the planes stored in the packed file (codes, bitmap, scales)"
                              : "what qmc's packed format would store for these shapes (bitmap, per-row F16 scales)");
    }
    sim_cli_free(&c);
    return 0;
}

static int run_calibrate(const cli_args *a) {
    sim_cli_ctx c;
    int rc = sim_cli_setup("sim", a, false, &c);
    if (rc) return rc;
    const sim_platform *pl = &c.hw.platform;
    if (pl->n_calib == 0) {
        sim_cli_free(&c);
        return cli_error("sim", "%s: platform '%s' has no calibration points", pl->origin, pl->name);
    }
    cJSON *arr = cJSON_CreateArray();
    if (!cli_flag(a, "json"))
        printf("%-14s %-10s %-10s %10s %10s %10s %10s  source\n", "model", "arch", "format", "predicted", "measured",
               "ratio", "bw eff.");
    for (int i = 0; i < pl->n_calib && rc == 0; i++) {
        const sim_calibration *k = &pl->calib[i];
        sim_workload w;
        sim_params p = c.p;
        p.prompt = (int64_t)k->prompt;
        p.gen = (int64_t)k->gen;
        if (k->int4_format[0]) p.int4 = (sim_int4_format)QMC_MAX(0, sim_int4_from_name(k->int4_format));
        sim_result r;
        if ((rc = sim_workload_load(&c.dp, k->config, &w))) break;
        rc = sim_run(&w, &c.hw, &p, (sim_arch)sim_arch_from_name(k->arch), &r);
        sim_workload_free(&w);
        if (rc) break;
        double ratio_v = r.decode_tok_s / k->measured_decode_tok_s;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "platform", pl->name);
        cJSON_AddStringToObject(o, "config", k->config);
        cJSON_AddStringToObject(o, "arch", k->arch);
        cJSON_AddStringToObject(o, "int4_format", sim_int4_name(p.int4));
        cJSON_AddNumberToObject(o, "prompt", (double)p.prompt);
        cJSON_AddNumberToObject(o, "gen", (double)p.gen);
        cJSON_AddNumberToObject(o, "predicted_decode_tok_s", r.decode_tok_s);
        cJSON_AddNumberToObject(o, "measured_decode_tok_s", k->measured_decode_tok_s);
        cJSON_AddNumberToObject(o, "predicted_over_measured", ratio_v);
        cJSON_AddNumberToObject(o, "implied_bandwidth_efficiency", p.dram_efficiency / ratio_v);
        cJSON_AddNumberToObject(o, "bits_per_weight", r.bpw_stored);
        cJSON_AddStringToObject(o, "source", k->source);
        cJSON_AddItemToArray(arr, o);
        if (!cli_flag(a, "json"))
            printf("%-14s %-10s %-10s %10.2f %10.2f %10.3f %10.3f  %s\n", k->config, k->arch, sim_int4_name(p.int4),
                   r.decode_tok_s, k->measured_decode_tok_s, ratio_v, p.dram_efficiency / ratio_v, k->source);
    }
    if (rc) {
        cJSON_Delete(arr);
        sim_cli_free(&c);
        return cli_fail("sim");
    }
    if (cli_flag(a, "json")) cli_json_print(arr);
    else {
        printf("(ratio = predicted / measured decode tokens/s; bw eff. = the DRAM efficiency that would match)\n");
        cJSON_Delete(arr);
    }
    sim_cli_free(&c);
    return 0;
}

int cmd_sim(int argc, char **argv) {
    cli_args a;
    int prc = cli_parse(&k_info, argc, argv, &a);
    if (prc) return prc == 1 ? 0 : 2;
    if (cli_flag(&a, "list")) return run_list(&a);
    if (cli_flag(&a, "paper")) return run_paper(&a);
    if (cli_flag(&a, "calibrate")) return run_calibrate(&a);

    sim_cli_ctx c;
    int rc = sim_cli_setup("sim", &a, true, &c);
    if (rc) return rc;
    int64_t ch, arr;
    double mram_mib = 0, reram_mib = 0;
    if (!cli_int(&a, "mram-channels", 1, 1000000, 0, &ch) || !cli_int(&a, "reram-arrays", 1, 100000000, 0, &arr) ||
        !cli_double(&a, "mram-mib", 1e-6, 1e12, 0, &mram_mib) || !cli_double(&a, "reram-mib", 1e-6, 1e12, 0, &reram_mib)) {
        sim_cli_free(&c);
        return 2;
    }
    c.p.mram_channels = (int)ch;
    c.p.reram_arrays = (int)arr;
    c.p.mram_capacity_mib = mram_mib;
    c.p.reram_capacity_mib = reram_mib;

    sim_arch archs[SIM_ARCH_COUNT];
    int n = 0;
    const char *list = cli_get(&a, "arch");
    if (!list || strcmp(list, "all") == 0) {
        for (int i = 0; i < SIM_ARCH_COUNT; i++) archs[n++] = (sim_arch)i;
    } else {
        char buf[256];
        snprintf(buf, sizeof buf, "%s", list);
        char *save = NULL;
        for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            int k = sim_arch_from_name(t);
            if (k < 0) {
                sim_cli_free(&c);
                return cli_error("sim", "--arch: unknown architecture '%s' (fp16-dram, int4-dram, emems-mram, emems-reram, qmc)", t);
            }
            bool dup = false;
            for (int i = 0; i < n; i++) dup |= archs[i] == (sim_arch)k;
            if (!dup && n < SIM_ARCH_COUNT) archs[n++] = (sim_arch)k;
        }
    }
    const char *vs = cli_get(&a, "vs") ? cli_get(&a, "vs") : "fp16-dram";
    int vs_arch = sim_arch_from_name(vs);
    if (vs_arch < 0) {
        sim_cli_free(&c);
        return cli_error("sim", "--vs: unknown architecture '%s'", vs);
    }
    int base = -1;
    for (int i = 0; i < n; i++)
        if (archs[i] == (sim_arch)vs_arch) base = i;
    if (base < 0 && n < SIM_ARCH_COUNT) {
        archs[n] = (sim_arch)vs_arch; /* the baseline is simulated too */
        base = n++;
    }
    sim_result rs[SIM_ARCH_COUNT];
    for (int i = 0; i < n; i++)
        if (sim_run(&c.w, &c.hw, &c.p, archs[i], &rs[i])) {
            sim_cli_free(&c);
            return cli_fail("sim");
        }
    if (cli_flag(&a, "json")) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToObject(o, "workload", sim_cli_workload_json(&c.w));
        cJSON_AddItemToObject(o, "assumptions", sim_cli_params_json(&c.p));
        cJSON_AddItemToObject(o, "hardware_data", sim_cli_hw_json(&c.hw));
        cJSON *res = cJSON_AddArrayToObject(o, "results");
        for (int i = 0; i < n; i++) cJSON_AddItemToArray(res, result_json(&rs[i]));
        cJSON *rat = cJSON_AddObjectToObject(o, "ratios");
        cJSON_AddStringToObject(rat, "baseline", sim_arch_name(rs[base].arch));
        for (int i = 0; i < n; i++) {
            cJSON *ro = cJSON_AddObjectToObject(rat, sim_arch_name(rs[i].arch));
            for (size_t k = 0; k < QMC_ARRAY_LEN(k_ratios); k++)
                cJSON_AddNumberToObject(ro, k_ratios[k].key, ratio(&rs[base], &rs[i], (int)k));
        }
        cli_json_print(o);
    } else {
        print_table(&c, rs, n, base);
    }
    rc = 0;
    if (cli_get(&a, "csv")) rc = write_csv(cli_get(&a, "csv"), &c, rs, n);
    if (!rc && cli_get(&a, "plot")) rc = plot_energy(cli_get(&a, "plot"), rs, n);
    sim_cli_free(&c);
    return rc;
}
