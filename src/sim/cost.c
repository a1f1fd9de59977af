/* cost.c — latency, energy, cells, area and capacity of one architecture.
 *
 * Latency of a step (docs/simulator.md has the derivation):
 *   T_tier,g = t_access + t_link + t_queue + s_g / b      per fetch group g
 *   T_w      = sum_g [ max(T_mram,g, T_reram,g) + T_sync ] (the paper's Eq. 3, per group)
 *   T_step   = max(T_w, T_dram, T_compute)                  (tiers stream concurrently;
 *                                                            the compute roofline)
 * where T_dram covers the KV cache, activations and recurrent state (plus
 * the weights for the DRAM architectures, which then have T_w = 0). */
#include <math.h>
#include <string.h>

#include "sim/sim_internal.h"

void sim_params_default(sim_params *p) {
    memset(p, 0, sizeof *p);
    p->rho = 0.3;
    p->inlier_bits = 3;
    p->outlier_bits = 5;
    p->cell_bits = 3;
    p->int4 = SIM_INT4_G128;
    p->emems_bits = 4;
    p->honest = true;
    p->prompt = 128;
    p->gen = 128;
    p->batch = 1;
    p->kv_bits = 16;
    p->act_bits = 16;
    p->kv_traffic = true;
    p->act_traffic = true;
    p->t_sync_cycles = 3;
    p->cdc_mw = 1.5;
    p->dram_efficiency = 1.0;
    p->e_net_pj = -1;
    p->dse_max_channels = 16;
    p->dse_max_arrays = 256;
}

int sim_params_validate(const sim_params *p) {
    if (!(p->rho >= 0 && p->rho < 1)) return qmc_fail(QMC_ERR_ARG, "rho %g must be in [0, 1)", p->rho);
    if (p->inlier_bits < 1 || p->inlier_bits > 16 || p->outlier_bits < 1 || p->outlier_bits > 16)
        return qmc_fail(QMC_ERR_ARG, "inlier/outlier bits must be in 1..16");
    if (p->cell_bits != 2 && p->cell_bits != 3) return qmc_fail(QMC_ERR_ARG, "ReRAM cell mode must be 2 or 3 bits, not %d", p->cell_bits);
    if ((unsigned)p->int4 >= SIM_INT4_COUNT) return qmc_fail(QMC_ERR_ARG, "bad int4 format");
    if (!(p->emems_bits > 0 && p->emems_bits <= 32)) return qmc_fail(QMC_ERR_ARG, "eMEMs bits %g must be in (0, 32]", p->emems_bits);
    if (p->embed_bits < 0 || p->embed_bits > 32) return qmc_fail(QMC_ERR_ARG, "embedding bits %d must be in 0..32", p->embed_bits);
    if (p->prompt < 0 || p->prompt > (1 << 24) || p->gen < 0 || p->gen > (1 << 22))
        return qmc_fail(QMC_ERR_ARG, "prompt must be in 0..2^24 and generated tokens in 0..2^22");
    if (p->prompt + p->gen == 0) return qmc_fail(QMC_ERR_ARG, "nothing to simulate: prompt and generated tokens are both 0");
    if (p->batch < 1 || p->batch > 65536) return qmc_fail(QMC_ERR_ARG, "batch %lld must be in 1..65536", (long long)p->batch);
    if (p->ubatch < 0 || p->ubatch > (1 << 24)) return qmc_fail(QMC_ERR_ARG, "ubatch must be in 0..2^24");
    if (p->kv_bits < 1 || p->kv_bits > 32 || p->act_bits < 1 || p->act_bits > 32)
        return qmc_fail(QMC_ERR_ARG, "KV/activation bits must be in 1..32");
    if (p->mram_channels < 0 || p->reram_arrays < 0 || p->mram_channels > 1000000 || p->reram_arrays > 100000000)
        return qmc_fail(QMC_ERR_ARG, "unit counts must be >= 0 (0: chosen automatically)");
    if (!(p->power_budget_w >= 0) || !isfinite(p->power_budget_w))
        return qmc_fail(QMC_ERR_ARG, "power budget %g W must be >= 0 (0: iso-power default)", p->power_budget_w);
    if (!(p->max_latency_s >= 0)) return qmc_fail(QMC_ERR_ARG, "latency limit must be >= 0");
    if (!(p->t_queue_ns >= 0 && p->t_queue_ns < 1e9)) return qmc_fail(QMC_ERR_ARG, "t_queue %g ns must be >= 0", p->t_queue_ns);
    if (!(p->t_sync_cycles >= 0 && p->t_sync_cycles < 1e6)) return qmc_fail(QMC_ERR_ARG, "T_sync cycles must be >= 0");
    if (!(p->cdc_mw >= 0 && p->cdc_mw < 1e6)) return qmc_fail(QMC_ERR_ARG, "CDC power must be >= 0");
    if (!(p->dram_efficiency > 0 && p->dram_efficiency <= 1))
        return qmc_fail(QMC_ERR_ARG, "DRAM efficiency %g must be in (0, 1]", p->dram_efficiency);
    if (!(p->e_net_pj < 0 || p->e_net_pj < 1e6) || !isfinite(p->e_net_pj)) return qmc_fail(QMC_ERR_ARG, "bad E_net");
    if (!(p->mram_capacity_mib >= 0) || !(p->reram_capacity_mib >= 0)) return qmc_fail(QMC_ERR_ARG, "capacities must be >= 0");
    if (p->dse_max_channels < 1 || p->dse_max_arrays < 1 || p->dse_max_channels > 100000 || p->dse_max_arrays > 10000000)
        return qmc_fail(QMC_ERR_ARG, "DSE unit ranges must be >= 1");
    return QMC_OK;
}

void sim_prep_free(sim_prep *pp) {
    sim_layout_free(&pp->lay);
    sim_traffic_free(&pp->tr);
}

int sim_prep_build(const sim_workload *w, const sim_hw *hw, const sim_params *p, sim_arch arch, double rho, sim_prep *pp) {
    memset(pp, 0, sizeof *pp);
    int rc;
    if ((unsigned)arch >= SIM_ARCH_COUNT) return qmc_fail(QMC_ERR_ARG, "bad architecture %d", (int)arch);
    if ((rc = sim_params_validate(p))) return rc;
    pp->arch = arch;
    pp->rho = rho;
    pp->w = w;
    pp->hw = hw;
    pp->p = p;
    const sim_memory_tech *reram = sim_hw_reram(hw, p->cell_bits);
    pp->tech[SIM_TIER_DRAM] = &hw->dram;
    pp->tech[SIM_TIER_MRAM] = &hw->mram;
    pp->tech[SIM_TIER_RERAM] = reram;
    pp->tech[SIM_TIER_FLASH] = &hw->flash;
    const double tq = p->t_queue_ns * 1e-9;
    /* links: DRAM is the platform's LPDDR5 (its energy includes the I/O); qmc
     * reaches MRAM over UCIe and ReRAM over the off-chip bus; eMEMs is off-chip */
    const sim_link_tech *mram_link = arch == SIM_ARCH_QMC ? &hw->ucie : &hw->nvm_bus;
    const sim_link_tech *links[SIM_TIER_COUNT] = {NULL, mram_link, &hw->nvm_bus, NULL};
    for (int k = 0; k < SIM_TIER_COUNT; k++) {
        const sim_link_tech *l = links[k];
        pp->link_bw[k] = l ? sim_link_bw(l) : 0;
        pp->e_link_pj[k] = l ? (p->e_net_pj >= 0 ? p->e_net_pj : l->energy_pj_per_bit) : 0;
        pp->t_acc[k] = pp->tech[k]->read_latency_ns * 1e-9 + (l ? l->latency_ns * 1e-9 : 0) + tq;
        pp->unit_bw[k] = pp->tech[k]->read_bw_gib_s * SIM_GIB;
    }
    pp->link_bw[SIM_TIER_DRAM] = hw->platform.dram_bw_gb_s * 1e9;
    pp->on_package[SIM_TIER_MRAM] = arch == SIM_ARCH_QMC;
    pp->t_sync = arch == SIM_ARCH_QMC ? p->t_sync_cycles / (hw->nvm_bus.gt_s_per_io * 1e9) : 0;
    if ((rc = sim_layout_build(w, hw, p, arch, rho, &pp->lay)) || (rc = sim_traffic_build(pp))) {
        sim_prep_free(pp);
        return rc;
    }
    const double cells_per_array = reram->array_rows * reram->array_cols;
    pp->max_units[SIM_TIER_RERAM] =
        ceil(pp->lay.store_bits[SIM_TIER_RERAM] / (cells_per_array * reram->bits_per_cell));
    /* DRAM in use: weights kept there + KV cache + state + activations */
    pp->dram_need_bytes = pp->lay.store_bits[SIM_TIER_DRAM] / 8 + pp->kv_max_bytes + pp->state_bytes + pp->act_buf_bytes;
    pp->p_static_w = hw->dram.background_mw_per_gib * 1e-3 * pp->dram_need_bytes / SIM_GIB +
                     (arch == SIM_ARCH_QMC ? p->cdc_mw * 1e-3 : 0);
    pp->power_budget_w = p->power_budget_w > 0
                             ? p->power_budget_w
                             : hw->platform.dram_bw_gb_s * 1e9 * 8 * hw->dram.read_energy_pj_per_bit * 1e-12;
    /* energies that do not depend on the unit counts */
    const sim_traffic *tr = &pp->tr;
    const double steps_dec = (double)tr->n_dec, steps_pre = (double)tr->n_chunks;
    for (int k = SIM_TIER_MRAM; k <= SIM_TIER_RERAM; k++) {
        const double e_dev = pp->tech[k]->read_energy_pj_per_bit * 1e-12, e_net = pp->e_link_pj[k] * 1e-12;
        const double bits_dec = pp->lay.step_bits[k] * steps_dec + pp->lay.lookup_bits[k] * tr->tokens_dec;
        const double bits_pre = pp->lay.step_bits[k] * steps_pre + pp->lay.lookup_bits[k] * tr->tokens_pre;
        pp->e_wread_dev_dec += bits_dec * e_dev;
        pp->e_wread_net_dec += bits_dec * e_net;
        pp->e_wread_dev_pre += bits_pre * e_dev;
        pp->e_wread_net_pre += bits_pre * e_net;
        pp->e_read_tier[k] = (bits_dec + bits_pre) * e_dev;
    }
    pp->e_nvm_dec = pp->e_wread_dev_dec + pp->e_wread_net_dec;
    pp->e_nvm_pre = pp->e_wread_dev_pre + pp->e_wread_net_pre;
    const double e_rd = hw->dram.read_energy_pj_per_bit * 1e-12, e_wr = hw->dram.write_energy_pj_per_bit * 1e-12;
    pp->e_dram_rd_dec = tr->rd_bits_dec * e_rd;
    pp->e_dram_wr_dec = tr->wr_bits_dec * e_wr;
    pp->e_dram_rd_pre = tr->rd_bits_pre * e_rd;
    pp->e_dram_wr_pre = tr->wr_bits_pre * e_wr;
    pp->e_read_tier[SIM_TIER_DRAM] = pp->e_dram_rd_dec + pp->e_dram_rd_pre;
    if (arch == SIM_ARCH_FP16_DRAM || arch == SIM_ARCH_INT4_DRAM) {
        /* the weight share of the DRAM reads */
        const double wb_dec = pp->lay.step_bits[SIM_TIER_DRAM] * steps_dec + pp->lay.lookup_bits[SIM_TIER_DRAM] * tr->tokens_dec;
        const double wb_pre = pp->lay.step_bits[SIM_TIER_DRAM] * steps_pre + pp->lay.lookup_bits[SIM_TIER_DRAM] * tr->tokens_pre;
        pp->e_wread_dev_dec = wb_dec * e_rd;
        pp->e_wread_dev_pre = wb_pre * e_rd;
    }
    return QMC_OK;
}

/* NVM weight time of one step that reads `tokens` embedding rows. */
static double weights_time(const sim_prep *pp, const double bw[SIM_TIER_COUNT], double tokens, double t_tier[SIM_TIER_COUNT],
                           double *t_sync_total) {
    const sim_layout *lay = &pp->lay;
    double total = 0;
    for (int g = 0; g < lay->n_groups; g++) {
        double tmax = 0;
        int tiers = 0;
        for (int k = SIM_TIER_MRAM; k <= SIM_TIER_RERAM; k++) {
            double bits = lay->fixed_bits[(size_t)g * SIM_TIER_COUNT + k];
            if (g == lay->n_groups - 1) bits += lay->lookup_bits[k] * tokens;
            if (bits <= 0) continue;
            double t = pp->t_acc[k] + bits / (8.0 * bw[k]);
            if (t_tier) t_tier[k] += t;
            tmax = fmax(tmax, t);
            tiers++;
        }
        total += tmax;
        if (tiers == 2) {
            total += pp->t_sync;
            if (t_sync_total) *t_sync_total += pp->t_sync;
        }
    }
    return total;
}

void sim_prep_eval(const sim_prep *pp, int mram_channels, int reram_arrays, bool with_prefill, sim_eval *e) {
    memset(e, 0, sizeof *e);
    const sim_traffic *tr = &pp->tr;
    const double B = (double)pp->p->batch;
    e->bw[SIM_TIER_DRAM] = pp->link_bw[SIM_TIER_DRAM] * pp->p->dram_efficiency;
    const bool nvm = pp->arch != SIM_ARCH_FP16_DRAM && pp->arch != SIM_ARCH_INT4_DRAM;
    if (nvm) {
        if (sim_arch_uses_mram_units(pp->arch))
            e->bw[SIM_TIER_MRAM] = fmin(mram_channels * pp->unit_bw[SIM_TIER_MRAM], pp->link_bw[SIM_TIER_MRAM]);
        if (sim_arch_uses_reram_units(pp->arch))
            e->bw[SIM_TIER_RERAM] = fmin(reram_arrays * pp->unit_bw[SIM_TIER_RERAM], pp->link_bw[SIM_TIER_RERAM]);
        for (int k = SIM_TIER_MRAM; k <= SIM_TIER_RERAM; k++)
            e->power_w += e->bw[k] * 8 * (pp->tech[k]->read_energy_pj_per_bit + pp->e_link_pj[k]) * 1e-12;
        e->tw_dec = weights_time(pp, e->bw, B, e->t_tier, &e->t_sync_total);
    }
    /* decode: sum_i max(T_w, f_i); f is nondecreasing, so T_w wins on a prefix */
    const int64_t n = tr->n_dec;
    const double tw = e->tw_dec;
    if (tr->monotonic) {
        int64_t lo = 0, hi = n; /* first index with f > tw */
        while (lo < hi) {
            int64_t mid = lo + (hi - lo) / 2;
            if (tr->f_dec[mid] > tw) hi = mid;
            else lo = mid + 1;
        }
        e->decode_s = (double)lo * tw + (tr->f_prefix[n] - tr->f_prefix[lo]);
    } else {
        for (int64_t i = 0; i < n; i++) e->decode_s += fmax(tw, tr->f_dec[i]);
    }
    e->decode_compute_bound = n > 0 && tr->t_comp0 >= fmax(tw, tr->t_dram0);
    if (with_prefill) {
        for (int64_t j = 0; j < tr->n_chunks; j++) {
            double tw_j = nvm ? weights_time(pp, e->bw, tr->tok_pre[j], NULL, NULL) : 0;
            e->prefill_s += fmax(tw_j, tr->f_pre[j]);
            if (j == 0) e->prefill_compute_bound = tr->t_comp_pre0 >= fmax(tw_j, tr->t_dram_pre0);
        }
    }
}

/* DRAM reads already include the weights of the DRAM architectures. */
double sim_prep_decode_energy(const sim_prep *pp, const sim_eval *e) {
    return pp->e_nvm_dec + pp->e_dram_rd_dec + pp->e_dram_wr_dec + pp->p_static_w * e->decode_s;
}

double sim_prep_prefill_energy(const sim_prep *pp, const sim_eval *e) {
    return pp->e_nvm_pre + pp->e_dram_rd_pre + pp->e_dram_wr_pre + pp->p_static_w * e->prefill_s;
}

double sim_prep_nvm_area(const sim_prep *pp) {
    double a = 0;
    for (int k = SIM_TIER_MRAM; k <= SIM_TIER_RERAM; k++)
        a += pp->lay.store_bits[k] / (pp->tech[k]->density_mbit_per_mm2 * SIM_MBIT);
    return a;
}

/* ---- the whole simulation ----------------------------------------------------- */

static double gib(double bytes) { return bytes / SIM_GIB; }

static int check_capacity(const sim_prep *pp, const sim_result *r) {
    const char *arch = sim_arch_name(pp->arch);
    const sim_platform *pl = &pp->hw->platform;
    if (r->need_bytes[SIM_TIER_DRAM] > r->have_bytes[SIM_TIER_DRAM])
        return qmc_fail(QMC_ERR_RANGE,
                        "%s: the workload needs %.3f GiB of DRAM (weights %.3f + KV cache %.3f + state %.3f + activations "
                        "%.3f GiB) but %s has %.3g GiB",
                        arch, gib(r->need_bytes[SIM_TIER_DRAM]), gib(pp->lay.store_bits[SIM_TIER_DRAM] / 8),
                        gib(pp->kv_max_bytes), gib(pp->state_bytes), gib(pp->act_buf_bytes), pl->name, pl->dram_capacity_gib);
    if (r->need_bytes[SIM_TIER_FLASH] > r->have_bytes[SIM_TIER_FLASH])
        return qmc_fail(QMC_ERR_RANGE, "%s: the weights need %.3f GB of Flash but %s has %.3g GB", arch,
                        r->need_bytes[SIM_TIER_FLASH] / 1e9, pl->name, pl->flash_capacity_gb);
    const double cap_mib[SIM_TIER_COUNT] = {0, pp->p->mram_capacity_mib, pp->p->reram_capacity_mib, 0};
    for (int k = SIM_TIER_MRAM; k <= SIM_TIER_RERAM; k++)
        if (cap_mib[k] > 0 && r->need_bytes[k] > r->have_bytes[k])
            return qmc_fail(QMC_ERR_RANGE, "%s: the weights need %.2f MiB of %s but it is configured with %.2f MiB", arch,
                            r->need_bytes[k] / SIM_MBIT, sim_tier_name((sim_tier)k), cap_mib[k]);
    return QMC_OK;
}

/* Pick unit counts: lowest decode latency within the power budget. */
static int choose_units(const sim_prep *pp, int *c_out, int *a_out) {
    const sim_params *p = pp->p;
    const bool um = sim_arch_uses_mram_units(pp->arch), ur = sim_arch_uses_reram_units(pp->arch);
    int c_lo = um ? (p->mram_channels ? p->mram_channels : 1) : 0;
    int c_hi = um ? (p->mram_channels ? p->mram_channels : p->dse_max_channels) : 0;
    int a_lo = ur ? (p->reram_arrays ? p->reram_arrays : 1) : 0;
    int a_hi = ur ? (p->reram_arrays ? p->reram_arrays : p->dse_max_arrays) : 0;
    if (ur && pp->max_units[SIM_TIER_RERAM] > 0) {
        if (p->reram_arrays > pp->max_units[SIM_TIER_RERAM])
            return qmc_fail(QMC_ERR_RANGE, "%s: %d ReRAM arrays requested but the inliers fill only %.0f arrays",
                            sim_arch_name(pp->arch), p->reram_arrays, pp->max_units[SIM_TIER_RERAM]);
        a_hi = (int)fmin(a_hi, pp->max_units[SIM_TIER_RERAM]);
    }
    sim_dse_point best = {0}, cand = {0};
    int64_t best_i = -1, idx = 0;
    double min_power = INFINITY;
    for (int c = c_lo; c <= c_hi; c++)
        for (int a = a_lo; a <= a_hi; a++, idx++) {
            sim_eval e;
            sim_prep_eval(pp, c, a, false, &e);
            min_power = fmin(min_power, e.power_w);
            if (!(pp->power_budget_w > e.power_w)) continue;
            cand.mram_channels = c;
            cand.reram_arrays = a;
            cand.power_w = e.power_w;
            cand.latency_s = pp->tr.n_dec ? e.decode_s / (double)pp->tr.n_dec : e.tw_dec;
            cand.energy_j = sim_prep_decode_energy(pp, &e);
            if (p->max_latency_s > 0 && cand.latency_s > p->max_latency_s) continue;
            if (best_i < 0 || sim_dse_better(&cand, idx, &best, best_i)) best = cand, best_i = idx;
        }
    if (best_i < 0)
        return qmc_fail(QMC_ERR_RANGE,
                        "%s: no memory configuration meets the power budget of %.3f W%s (the smallest needs %.3f W; raise "
                        "--power-budget or lower the unit counts)",
                        sim_arch_name(pp->arch), pp->power_budget_w, p->max_latency_s > 0 ? " and the latency limit" : "",
                        min_power);
    *c_out = best.mram_channels;
    *a_out = best.reram_arrays;
    return QMC_OK;
}

int sim_run(const sim_workload *w, const sim_hw *hw, const sim_params *p, sim_arch arch, sim_result *r) {
    memset(r, 0, sizeof *r);
    sim_prep pp;
    int rc = sim_prep_build(w, hw, p, arch, p->rho, &pp);
    if (rc) return rc;
    r->arch = arch;
    r->rho = arch == SIM_ARCH_QMC ? p->rho : 0;
    if (arch == SIM_ARCH_QMC && w->has_packed) { /* the file's own outlier fraction */
        double no = 0, ne = 0;
        for (int i = 0; i < w->n_tensors; i++)
            if (w->tensors[i].packed) no += (double)w->tensors[i].n_out, ne += (double)w->tensors[i].nelem;
        r->rho = ne > 0 ? no / ne : 0;
    }
    const sim_layout *lay = &pp.lay;
    const sim_traffic *tr = &pp.tr;
    /* storage */
    double stored = 0;
    for (int k = 0; k < SIM_TIER_COUNT; k++) {
        const sim_memory_tech *t = pp.tech[k];
        r->weight_bits[k] = lay->store_bits[k];
        r->cells[k] = lay->store_bits[k] / t->bits_per_cell;
        r->area_mm2[k] = lay->store_bits[k] / (t->density_mbit_per_mm2 * SIM_MBIT);
        r->on_package[k] = pp.on_package[k];
        if (k != SIM_TIER_FLASH) stored += lay->store_bits[k];
    }
    r->bpw_stored = stored / (double)w->n_params;
    r->bpw_nominal = lay->nominal_bits / (double)w->n_params;
    r->sram_alt_area_mm2 = lay->store_bits[SIM_TIER_MRAM] / (hw->sram.density_mbit_per_mm2 * SIM_MBIT);
    /* capacity */
    r->need_bytes[SIM_TIER_DRAM] = pp.dram_need_bytes;
    r->have_bytes[SIM_TIER_DRAM] = hw->platform.dram_capacity_gib * SIM_GIB;
    r->dram_dynamic_bytes = pp.kv_max_bytes + pp.state_bytes + pp.act_buf_bytes;
    r->need_bytes[SIM_TIER_FLASH] = lay->store_bits[SIM_TIER_FLASH] / 8;
    r->have_bytes[SIM_TIER_FLASH] = lay->store_bits[SIM_TIER_FLASH] > 0 ? hw->platform.flash_capacity_gb * 1e9 : 0;
    const double cap_mib[SIM_TIER_COUNT] = {0, p->mram_capacity_mib, p->reram_capacity_mib, 0};
    for (int k = SIM_TIER_MRAM; k <= SIM_TIER_RERAM; k++) {
        r->need_bytes[k] = lay->store_bits[k] / 8;
        r->have_bytes[k] = cap_mib[k] > 0 ? cap_mib[k] * SIM_MBIT : r->need_bytes[k];
    }
    if ((rc = check_capacity(&pp, r))) goto done;
    /* units and timing */
    int c = 0, a = 0;
    const bool nvm = arch != SIM_ARCH_FP16_DRAM && arch != SIM_ARCH_INT4_DRAM;
    if (nvm) {
        r->units_auto = (sim_arch_uses_mram_units(arch) && !p->mram_channels) ||
                        (sim_arch_uses_reram_units(arch) && !p->reram_arrays);
        if ((rc = choose_units(&pp, &c, &a))) goto done;
    }
    sim_eval e;
    sim_prep_eval(&pp, c, a, true, &e);
    r->mram_channels = c;
    r->reram_arrays = a;
    for (int k = 0; k < SIM_TIER_COUNT; k++) r->bw_bytes_s[k] = e.bw[k];
    r->nvm_power_w = e.power_w;
    r->power_budget_w = nvm ? pp.power_budget_w : 0;
    r->decode_s = e.decode_s;
    r->prefill_s = e.prefill_s;
    r->total_s = e.decode_s + e.prefill_s;
    r->decode_compute_bound = e.decode_compute_bound;
    r->prefill_compute_bound = e.prefill_compute_bound;
    r->decode_j = sim_prep_decode_energy(&pp, &e);
    r->prefill_j = sim_prep_prefill_energy(&pp, &e);
    r->total_j = r->decode_j + r->prefill_j;
    /* one decode step */
    for (int k = SIM_TIER_MRAM; k <= SIM_TIER_RERAM; k++) r->step_t_tier_s[k] = e.t_tier[k];
    r->step_t_sync_s = e.t_sync_total;
    r->step_t_weights_s = e.tw_dec;
    r->step_t_dram_s = tr->t_dram0;
    r->step_t_compute_s = tr->t_comp0;
    /* per token (decode phase) */
    const double B = (double)p->batch;
    for (int k = 0; k < SIM_TIER_COUNT; k++) r->w_read_bits_step[k] = lay->step_bits[k] + lay->lookup_bits[k] * B;
    if (tr->n_dec > 0) {
        const double toks = tr->tokens_dec;
        r->tok_latency_s = e.decode_s / (double)tr->n_dec;
        r->decode_tok_s = toks / e.decode_s;
        r->tok_energy_j = r->decode_j / toks;
        r->tok_kv_read_bytes = tr->kv_rd_dec / toks;
        r->tok_kv_write_bytes = tr->kv_wr_dec / toks;
        r->tok_act_bytes = tr->act_dec / toks;
        r->tok_state_bytes = tr->state_dec / toks;
        r->tok_weight_energy_dev_j = pp.e_wread_dev_dec / toks;
        r->tok_weight_energy_net_j = pp.e_wread_net_dec / toks;
    }
    for (int k = 0; k < SIM_TIER_COUNT; k++) {
        double bytes = r->w_read_bits_step[k] / 8 / B;
        if (r->on_package[k]) r->tok_weight_onpkg_bytes += bytes;
        else r->tok_weight_offchip_bytes += bytes;
    }
    r->tok_offchip_bytes = r->tok_weight_offchip_bytes + r->tok_kv_read_bytes + r->tok_kv_write_bytes + r->tok_act_bytes +
                           r->tok_state_bytes;
    /* energy breakdown, whole run */
    for (int k = 0; k < SIM_TIER_COUNT; k++) r->e_read_j[k] = pp.e_read_tier[k];
    r->e_net_j = pp.e_wread_net_dec + pp.e_wread_net_pre;
    r->e_dram_write_j = pp.e_dram_wr_dec + pp.e_dram_wr_pre;
    r->e_dram_bg_j = hw->dram.background_mw_per_gib * 1e-3 * pp.dram_need_bytes / SIM_GIB * r->total_s;
    r->e_cdc_j = arch == SIM_ARCH_QMC ? p->cdc_mw * 1e-3 * r->total_s : 0;
    /* cold start from Flash (the NVM architectures keep their weights) */
    if (lay->store_bits[SIM_TIER_FLASH] > 0) {
        const double bits = lay->store_bits[SIM_TIER_FLASH];
        r->cold_start_s = bits / 8 / (hw->flash.read_bw_gib_s * SIM_GIB);
        r->cold_start_j = bits * (hw->flash.read_energy_pj_per_bit + hw->dram.write_energy_pj_per_bit) * 1e-12;
    }
done:
    sim_prep_free(&pp);
    return rc;
}
