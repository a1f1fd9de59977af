/* dse.c — design-space exploration of the qmc memory system: every
 * (rho, MRAM channels, ReRAM arrays) point, the power-budget filter of the
 * paper's Eq. 4, the lowest-latency choice and the Pareto front of
 * (latency, energy, area). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim_internal.h"

bool sim_dse_better(const sim_dse_point *a, int64_t ia, const sim_dse_point *b, int64_t ib) {
    if (a->latency_s != b->latency_s) return a->latency_s < b->latency_s;
    if (a->energy_j != b->energy_j) return a->energy_j < b->energy_j;
    if (a->power_w != b->power_w) return a->power_w < b->power_w;
    int ua = a->mram_channels + a->reram_arrays, ub = b->mram_channels + b->reram_arrays;
    if (ua != ub) return ua < ub;
    return ia < ib;
}

static int cmp_objectives(const void *x, const void *y, void *ctx) {
    const sim_dse_point *pts = ctx;
    const sim_dse_point *a = &pts[*(const int64_t *)x], *b = &pts[*(const int64_t *)y];
    if (a->latency_s != b->latency_s) return a->latency_s < b->latency_s ? -1 : 1;
    if (a->energy_j != b->energy_j) return a->energy_j < b->energy_j ? -1 : 1;
    if (a->area_mm2 != b->area_mm2) return a->area_mm2 < b->area_mm2 ? -1 : 1;
    int64_t ix = *(const int64_t *)x, iy = *(const int64_t *)y;
    return ix < iy ? -1 : ix > iy;
}

static int cmp_double(const void *x, const void *y) {
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

/* Processing the feasible points in (latency, energy, area, index) order, a
 * point is dominated exactly when an earlier one has energy <= and area <=
 * (the order gives latency <=; an identical earlier point makes it a
 * duplicate, not a front member).  A Fenwick tree over energy ranks keeps the
 * least area seen at or below each energy: O(n log n). */
int64_t sim_pareto_mark(sim_dse_point *pts, int64_t n) {
    int64_t nf = 0;
    for (int64_t i = 0; i < n; i++) {
        pts[i].pareto = false;
        nf += pts[i].feasible;
    }
    if (nf == 0) return 0;
    int64_t *order = qmc_alloc((size_t)nf, sizeof *order);
    double *energies = qmc_alloc((size_t)nf, sizeof *energies);
    double *tree = qmc_alloc((size_t)nf + 1, sizeof *tree);
    if (!order || !energies || !tree) {
        qmc_free(order);
        qmc_free(energies);
        qmc_free(tree);
        return -1;
    }
    int64_t k = 0;
    for (int64_t i = 0; i < n; i++)
        if (pts[i].feasible) order[k] = i, energies[k++] = pts[i].energy_j;
    qsort_r(order, (size_t)nf, sizeof *order, cmp_objectives, pts);
    qsort(energies, (size_t)nf, sizeof *energies, cmp_double);
    int64_t ne = 0;
    for (int64_t i = 0; i < nf; i++)
        if (i == 0 || energies[i] != energies[ne - 1]) energies[ne++] = energies[i];
    for (int64_t i = 0; i <= ne; i++) tree[i] = INFINITY;
    int64_t nfront = 0;
    const sim_dse_point *prev = NULL;
    for (int64_t i = 0; i < nf; i++) {
        sim_dse_point *p = &pts[order[i]];
        /* rank of p's energy, 1-based */
        int64_t lo = 0, hi = ne;
        while (lo < hi) {
            int64_t mid = lo + (hi - lo) / 2;
            if (energies[mid] < p->energy_j) lo = mid + 1;
            else hi = mid;
        }
        const int64_t rank = lo + 1;
        double least_area = INFINITY;
        for (int64_t j = rank; j > 0; j -= j & -j) least_area = fmin(least_area, tree[j]);
        bool duplicate = prev && prev->latency_s == p->latency_s && prev->energy_j == p->energy_j && prev->area_mm2 == p->area_mm2;
        if (!duplicate && !(least_area <= p->area_mm2)) {
            p->pareto = true;
            nfront++;
        }
        for (int64_t j = rank; j <= ne; j += j & -j) tree[j] = fmin(tree[j], p->area_mm2);
        prev = p;
    }
    qmc_free(order);
    qmc_free(energies);
    qmc_free(tree);
    return nfront;
}

int sim_dse_run(const sim_workload *w, const sim_hw *hw, const sim_params *p, const sim_dse_space *space,
                sim_dse_point **pts_out, sim_dse_summary *s) {
    *pts_out = NULL;
    memset(s, 0, sizeof *s);
    const double t0 = qmc_now();
    if (space->n_rho < 1 || space->n_rho > (int)QMC_ARRAY_LEN(s->best_per_rho))
        return qmc_fail(QMC_ERR_ARG, "the rho list must have 1 to %d values", (int)QMC_ARRAY_LEN(s->best_per_rho));
    if (space->c_lo < 1 || space->c_hi < space->c_lo || space->a_lo < 1 || space->a_hi < space->a_lo ||
        space->c_hi > 100000 || space->a_hi > 10000000)
        return qmc_fail(QMC_ERR_ARG, "bad unit ranges: channels %d..%d, arrays %d..%d (need 1 <= lo <= hi)", space->c_lo,
                        space->c_hi, space->a_lo, space->a_hi);
    for (int r = 0; r < space->n_rho; r++)
        if (!(space->rhos[r] >= 0 && space->rhos[r] < 1)) return qmc_fail(QMC_ERR_ARG, "rho %g must be in [0, 1)", space->rhos[r]);
    if (p->gen < 1) return qmc_fail(QMC_ERR_ARG, "the exploration ranks decode latency: generate at least one token");
    const int64_t nc = space->c_hi - space->c_lo + 1, na = space->a_hi - space->a_lo + 1;
    int64_t n;
    if (!qmc_mul_ok(nc, na, &n) || !qmc_mul_ok(n, space->n_rho, &n) || n > 100000000)
        return qmc_fail(QMC_ERR_ARG, "the design space has too many points (at most 1e8)");
    sim_dse_point *pts = qmc_alloc((size_t)n, sizeof *pts);
    if (!pts) return QMC_ERR_NOMEM;
    int64_t idx = 0;
    s->best = -1;
    for (int r = 0; r < space->n_rho; r++) {
        sim_params pr = *p;
        pr.rho = space->rhos[r];
        sim_prep pp;
        int rc = sim_prep_build(w, hw, &pr, SIM_ARCH_QMC, pr.rho, &pp);
        if (rc) {
            qmc_free(pts);
            return rc;
        }
        const double area = sim_prep_nvm_area(&pp), steps = (double)pp.tr.n_dec, toks = pp.tr.tokens_dec;
        const double max_arrays = pp.max_units[SIM_TIER_RERAM];
        s->best_per_rho[r] = -1;
        for (int c = space->c_lo; c <= space->c_hi; c++)
            for (int a = space->a_lo; a <= space->a_hi; a++, idx++) {
                sim_eval e;
                sim_prep_eval(&pp, c, a, false, &e);
                sim_dse_point *pt = &pts[idx];
                pt->rho = pr.rho;
                pt->mram_channels = c;
                pt->reram_arrays = a;
                pt->bw_mram = e.bw[SIM_TIER_MRAM];
                pt->bw_reram = e.bw[SIM_TIER_RERAM];
                pt->power_w = e.power_w;
                pt->latency_s = e.decode_s / steps;
                pt->energy_j = sim_prep_decode_energy(&pp, &e) / toks;
                pt->area_mm2 = area;
                pt->t_mram_s = e.t_tier[SIM_TIER_MRAM];
                pt->t_reram_s = e.t_tier[SIM_TIER_RERAM];
                pt->feasible = pp.power_budget_w > e.power_w && (max_arrays <= 0 || a <= max_arrays) &&
                               (p->max_latency_s <= 0 || pt->latency_s <= p->max_latency_s);
                if (!pt->feasible) continue;
                s->n_feasible++;
                if (s->best_per_rho[r] < 0 || sim_dse_better(pt, idx, &pts[s->best_per_rho[r]], s->best_per_rho[r]))
                    s->best_per_rho[r] = idx;
                if (s->best < 0 || sim_dse_better(pt, idx, &pts[s->best], s->best)) s->best = idx;
            }
        sim_prep_free(&pp);
    }
    s->n_points = n;
    s->n_pareto = sim_pareto_mark(pts, n);
    if (s->n_pareto < 0) {
        qmc_free(pts);
        return QMC_ERR_NOMEM;
    }
    s->seconds = qmc_now() - t0;
    *pts_out = pts;
    return QMC_OK;
}
