/* sim_report.c — how `qmc sim` shows results: the readable table with the
 * breakdowns, the JSON object of one result, CSV, the energy-breakdown plot. */
#include <math.h>
#include <string.h>

#include "cli/sim_common.h"

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

const ratio_def sim_report_ratios[SIM_REPORT_N_RATIOS] = {
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

double sim_report_ratio(const sim_result *b, const sim_result *r, int i) {
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

void sim_report_table(const sim_cli_ctx *c, const sim_result *rs, int n, int base) {
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
    for (size_t k = 0; k < QMC_ARRAY_LEN(sim_report_ratios); k++) {
        printf("  %-38s", sim_report_ratios[k].label);
        for (int i = 0; i < n; i++) {
            double v = sim_report_ratio(&rs[base], &rs[i], (int)k);
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

cJSON *sim_report_result_json(const sim_result *r) {
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

int sim_report_csv(const char *path, const sim_cli_ctx *c, const sim_result *rs, int n) {
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

int sim_report_plot_energy(const char *dir, const sim_result *rs, int n) {
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

