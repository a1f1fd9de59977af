/* study_sim.c — the system-level numbers of a study (src/sim): per memory
 * architecture (Fig. 4) and, for the qmc architecture, per rho of the sweep
 * (Fig. 3), for the study's model shape and for each preset shape of the
 * config (e.g. the paper's hymba-1.5b). */
#include <math.h>
#include <string.h>

#include "eval/study_internal.h"
#include "sim/sim.h"
#include "util/util.h"

/* The sweep: noise-free cells of method "qmc", ascending rho (first bits seen). */
static void find_sweep(const qmc_study_config *c, qmc_study_results *res) {
    res->n_sweep = 0;
    int bits = 0;
    for (int i = 0; i < res->n_rows; i++) {
        const qmc_study_cell *x = &res->rows[i].cell;
        if (strcmp(x->method, "qmc") != 0 || strcmp(x->device, "none") != 0) continue;
        if (!bits) bits = x->bits;
        if (x->bits != bits || res->n_sweep >= QMC_STUDY_MAX_SWEEP) continue;
        int k = res->n_sweep;
        while (k > 0 && res->sweep_rho[k - 1] > x->rho) {
            res->sweep_rho[k] = res->sweep_rho[k - 1];
            res->sweep_row[k] = res->sweep_row[k - 1];
            k--;
        }
        res->sweep_rho[k] = x->rho;
        res->sweep_row[k] = i;
        res->n_sweep++;
    }
    (void)c;
}

static double weight_bytes(const sim_result *r) {
    double b = 0;
    for (int t = 0; t < SIM_TIER_COUNT; t++)
        if (t != SIM_TIER_FLASH) b += r->weight_bits[t] / 8;
    return b;
}

/* Architectures of Fig. 4: the five of the simulator, qmc in both cell modes. */
static int simulate_one(const sim_workload *w, const sim_hw *hw, const qmc_study_results *res, qmc_study_sys *s) {
    static const struct {
        sim_arch arch;
        int cell_bits;
        const char *label;
    } k_rows[] = {{SIM_ARCH_FP16_DRAM, 3, "fp16-dram"},     {SIM_ARCH_INT4_DRAM, 3, "int4-dram"},
                  {SIM_ARCH_EMEMS_MRAM, 3, "emems-mram"},   {SIM_ARCH_EMEMS_RERAM, 3, "emems-reram"},
                  {SIM_ARCH_QMC, 3, "qmc (3-bit cells)"}, {SIM_ARCH_QMC, 2, "qmc (2-bit cells)"}};
    snprintf(s->name, sizeof s->name, "%s", w->name);
    s->n_arch = 0;
    for (size_t i = 0; i < QMC_ARRAY_LEN(k_rows); i++) {
        sim_params p;
        sim_params_default(&p);
        p.cell_bits = k_rows[i].cell_bits;
        sim_result r;
        int rc = sim_run(w, hw, &p, k_rows[i].arch, &r);
        if (rc) return qmc_error_prefix(rc, "simulator, workload %s", w->name);
        int k = s->n_arch++;
        snprintf(s->arch[k], sizeof s->arch[k], "%s", k_rows[i].label);
        s->energy_j[k] = r.tok_energy_j;
        s->latency_s[k] = r.tok_latency_s;
        s->weight_bytes[k] = weight_bytes(&r);
    }
    for (int k = 0; k < res->n_sweep; k++) {
        sim_params p;
        sim_params_default(&p);
        p.rho = res->sweep_rho[k];
        p.inlier_bits = res->rows[res->sweep_row[k]].cell.bits;
        sim_result r;
        int rc = sim_run(w, hw, &p, SIM_ARCH_QMC, &r);
        if (rc) return qmc_error_prefix(rc, "simulator, workload %s, rho %g", w->name, p.rho);
        s->sweep_energy_j[k] = r.tok_energy_j;
        s->sweep_latency_s[k] = r.tok_latency_s;
    }
    return 0;
}

int qmc_study_simulate(const qmc_study_config *c, qmc_model *m, qmc_study_results *res) {
    find_sweep(c, res);
    sim_datapath dp;
    sim_hw hw;
    int rc = sim_datapath_init(&dp, NULL);
    if (!rc) rc = sim_hw_load(&dp, c->platform, &hw);
    if (rc) return qmc_error_prefix(rc, "%s", c->path);
    res->n_sys = 0;
    for (int i = -1; i < c->n_shapes && !rc; i++) {
        sim_workload w;
        rc = i < 0 ? sim_workload_from_model(m, &w) : sim_workload_load(&dp, c->shapes[i], &w);
        if (rc) return qmc_error_prefix(rc, "%s", c->path);
        rc = simulate_one(&w, &hw, res, &res->sys[res->n_sys]);
        if (!rc) res->n_sys++;
        sim_workload_free(&w);
    }
    return rc;
}
