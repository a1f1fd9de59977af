/* cmd_dse.c — qmc dse: design-space exploration of the QMC memory system
 * (MRAM channels x ReRAM arrays x rho under the power budget of Eq. 4). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/json.h"
#include "cli/sim_common.h"

static const cli_opt k_opts[] = {
    SIM_CLI_OPTS,
    {"rho-list", 0, "LIST", "outlier fractions: a,b,c or FROM:TO:STEP (default 0.05:0.5:0.05)"},
    {"channels", 0, "LO:HI", "MRAM channels to enumerate (default 1:16)"},
    {"arrays", 0, "LO:HI", "ReRAM arrays read concurrently to enumerate (default 1:256)"},
    {"design-rho", 0, "R", "rho whose best configuration is kept fixed for the rho sweep (default --rho, 0.3)"},
    {"top", 0, "N", "Pareto points to print (default 15; --json and --csv carry all)"},
    {0},
};

static const cli_command_info k_info = {
    "dse", "qmc dse (-m SPEC | --params N) [--rho-list LIST] [--channels LO:HI] [--arrays LO:HI] [options]",
    "Design-space exploration of the QMC memory system: MRAM channels x ReRAM arrays x rho.",
    "Every configuration is evaluated for decode latency and energy per token and weight area; those violating\n"
    "the power budget P_budget > BW_mram (E_mram + E_net) + BW_reram (E_reram + E_net) (the paper's Eq. 4) or\n"
    "--max-latency-ms are dropped.  Reports the lowest-latency configuration, the Pareto front of (latency,\n"
    "energy, area), and the rho sweep twice: with the best configuration for each rho, and with the hardware\n"
    "chosen at --design-rho kept fixed (the paper's Fig. 3: latency is U-shaped in rho).",
    k_opts};

static int parse_range(const char *cmd, const char *opt, const char *v, int def_lo, int def_hi, int *lo, int *hi) {
    *lo = def_lo;
    *hi = def_hi;
    if (!v) return 0;
    long a, b;
    int n = 0;
    if (sscanf(v, "%ld:%ld%n", &a, &b, &n) != 2 || v[n] || a < 1 || b < a || b > 10000000)
        return cli_error(cmd, "--%s: '%s' is not LO:HI with 1 <= LO <= HI", opt, v);
    *lo = (int)a;
    *hi = (int)b;
    return 0;
}

static int parse_rhos(const char *v, double *rhos, int cap, int *n) {
    *n = 0;
    double a, b, step;
    int used = 0;
    if (sscanf(v, "%lf:%lf:%lf%n", &a, &b, &step, &used) == 3 && !v[used]) {
        if (!(step > 0) || b < a) return cli_error("dse", "--rho-list: '%s' needs FROM <= TO and STEP > 0", v);
        for (int i = 0;; i++) {
            double r = a + i * step;
            if (r > b + 1e-9 * step) break;
            if (*n >= cap) return cli_error("dse", "--rho-list: at most %d values", cap);
            rhos[(*n)++] = round(r * 1e9) / 1e9;
        }
    } else {
        char buf[1024];
        snprintf(buf, sizeof buf, "%s", v);
        char *save = NULL;
        for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            double r;
            if (!qmc_parse_double(t, &r)) return cli_error("dse", "--rho-list: '%s' is not a number", t);
            if (*n >= cap) return cli_error("dse", "--rho-list: at most %d values", cap);
            rhos[(*n)++] = r;
        }
    }
    for (int i = 0; i < *n; i++)
        if (!(rhos[i] >= 0 && rhos[i] < 1)) return cli_error("dse", "--rho-list: rho %g is not in [0, 1)", rhos[i]);
    if (*n == 0) return cli_error("dse", "--rho-list is empty");
    return 0;
}

static cJSON *point_json(const sim_dse_point *p) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "rho", p->rho);
    cJSON_AddNumberToObject(o, "mram_channels", p->mram_channels);
    cJSON_AddNumberToObject(o, "reram_arrays", p->reram_arrays);
    cJSON_AddNumberToObject(o, "bw_mram_bytes_s", p->bw_mram);
    cJSON_AddNumberToObject(o, "bw_reram_bytes_s", p->bw_reram);
    cJSON_AddNumberToObject(o, "power_w", p->power_w);
    cJSON_AddBoolToObject(o, "feasible", p->feasible);
    cJSON_AddBoolToObject(o, "pareto", p->pareto);
    cJSON_AddNumberToObject(o, "latency_s", p->latency_s);
    cJSON_AddNumberToObject(o, "energy_j", p->energy_j);
    cJSON_AddNumberToObject(o, "area_mm2", p->area_mm2);
    cJSON_AddNumberToObject(o, "t_mram_s", p->t_mram_s);
    cJSON_AddNumberToObject(o, "t_reram_s", p->t_reram_s);
    return o;
}

static int by_latency(const void *x, const void *y, void *ctx) {
    const sim_dse_point *pts = ctx;
    int64_t i = *(const int64_t *)x, j = *(const int64_t *)y;
    return sim_dse_better(&pts[i], i, &pts[j], j) ? -1 : (sim_dse_better(&pts[j], j, &pts[i], i) ? 1 : 0);
}

static const char *bottleneck(const sim_dse_point *p) {
    double m = p->t_mram_s, r = p->t_reram_s;
    if (fabs(m - r) <= 0.02 * fmax(m, r)) return "balanced";
    return m > r ? "MRAM" : "ReRAM";
}

int cmd_dse(int argc, char **argv) {
    cli_args a;
    int prc = cli_parse(&k_info, argc, argv, &a);
    if (prc) return prc == 1 ? 0 : 2;
    sim_cli_ctx c;
    int rc = sim_cli_setup("dse", &a, true, &c);
    if (rc) return rc;
    double rhos[64];
    int n_rho = 0;
    sim_dse_space sp = {0};
    int64_t top;
    double design = c.p.rho;
    if (parse_range("dse", "channels", cli_get(&a, "channels"), 1, 16, &sp.c_lo, &sp.c_hi) ||
        parse_range("dse", "arrays", cli_get(&a, "arrays"), 1, 256, &sp.a_lo, &sp.a_hi) ||
        !cli_int(&a, "top", 0, 1000000, 15, &top) || !cli_double(&a, "design-rho", 0, 0.999, design, &design)) {
        sim_cli_free(&c);
        return 2;
    }
    if (c.w.has_packed && c.p.honest) {
        /* stored planes fix rho: explore only the units */
        if (cli_get(&a, "rho-list")) {
            sim_cli_free(&c);
            return cli_error("dse", "%s: a packed workload fixes rho; use --nominal to explore rho with nominal bits", c.w.name);
        }
        double no = 0, ne = 0;
        for (int i = 0; i < c.w.n_tensors; i++)
            if (c.w.tensors[i].packed) no += (double)c.w.tensors[i].n_out, ne += (double)c.w.tensors[i].nelem;
        rhos[n_rho++] = ne > 0 ? no / ne : 0;
        design = rhos[0];
    } else if (parse_rhos(cli_get(&a, "rho-list") ? cli_get(&a, "rho-list") : "0.05:0.5:0.05", rhos, 64, &n_rho)) {
        sim_cli_free(&c);
        return 2;
    }
    int design_i = -1;
    for (int i = 0; i < n_rho; i++)
        if (fabs(rhos[i] - design) < 1e-9) design_i = i;
    if (design_i < 0) {
        sim_cli_free(&c);
        return cli_error("dse", "--design-rho %g is not one of the explored rho values", design);
    }
    sp.rhos = rhos;
    sp.n_rho = n_rho;
    sim_dse_point *pts = NULL;
    sim_dse_summary s;
    if (sim_dse_run(&c.w, &c.hw, &c.p, &sp, &pts, &s)) {
        sim_cli_free(&c);
        return cli_fail("dse");
    }
    const int64_t per_rho = (int64_t)(sp.c_hi - sp.c_lo + 1) * (sp.a_hi - sp.a_lo + 1);
    const sim_dse_point *design_best = s.best_per_rho[design_i] >= 0 ? &pts[s.best_per_rho[design_i]] : NULL;
    /* the fixed-hardware sweep: the design point's (channels, arrays) at every rho */
    int64_t fixed[64];
    for (int r = 0; r < n_rho; r++)
        fixed[r] = design_best ? r * per_rho + (int64_t)(design_best->mram_channels - sp.c_lo) * (sp.a_hi - sp.a_lo + 1) +
                                     (design_best->reram_arrays - sp.a_lo)
                               : -1;
    double budget = c.p.power_budget_w > 0 ? c.p.power_budget_w
                                           : c.hw.platform.dram_bw_gb_s * 1e9 * 8 * c.hw.dram.read_energy_pj_per_bit * 1e-12;
    if (cli_flag(&a, "json")) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToObject(o, "workload", sim_cli_workload_json(&c.w));
        cJSON_AddItemToObject(o, "assumptions", sim_cli_params_json(&c.p));
        cJSON_AddStringToObject(o, "platform", c.hw.platform.name);
        cJSON_AddNumberToObject(o, "power_budget_w", budget);
        cJSON *sm = cJSON_AddObjectToObject(o, "summary");
        cJSON_AddNumberToObject(sm, "configurations", (double)s.n_points);
        cJSON_AddNumberToObject(sm, "feasible", (double)s.n_feasible);
        cJSON_AddNumberToObject(sm, "pareto", (double)s.n_pareto);
        cJSON_AddNumberToObject(sm, "seconds", s.seconds);
        if (s.best >= 0) cJSON_AddItemToObject(o, "best", point_json(&pts[s.best]));
        cJSON *pr = cJSON_AddArrayToObject(o, "best_per_rho");
        cJSON *fx = cJSON_AddArrayToObject(o, "fixed_hardware_sweep");
        for (int r = 0; r < n_rho; r++) {
            cJSON_AddItemToArray(pr, s.best_per_rho[r] >= 0 ? point_json(&pts[s.best_per_rho[r]]) : cJSON_CreateNull());
            cJSON_AddItemToArray(fx, fixed[r] >= 0 ? point_json(&pts[fixed[r]]) : cJSON_CreateNull());
        }
        cJSON *pa = cJSON_AddArrayToObject(o, "pareto_front");
        for (int64_t i = 0; i < s.n_points; i++)
            if (pts[i].pareto) cJSON_AddItemToArray(pa, point_json(&pts[i]));
        cli_json_print(o);
    } else {
        printf("qmc dse: %s [%s] on %s; %lld configurations (%d rho x %d channels x %d arrays) in %.3f s\n", c.w.name,
               c.w.source, c.hw.platform.name, (long long)s.n_points, n_rho, sp.c_hi - sp.c_lo + 1, sp.a_hi - sp.a_lo + 1,
               s.seconds);
        printf("power budget %.3f W%s; %lld feasible; Pareto front of (latency, energy, area): %lld points\n", budget,
               c.p.power_budget_w > 0 ? "" : " (iso-power default)", (long long)s.n_feasible, (long long)s.n_pareto);
        if (s.best >= 0) {
            const sim_dse_point *b = &pts[s.best];
            printf("lowest latency: rho %.3g, %d MRAM channels (%.1f GB/s), %d ReRAM arrays (%.1f GB/s), %.3f W: %.4f ms and "
                   "%.4f mJ per token, %.2f mm^2\n",
                   b->rho, b->mram_channels, b->bw_mram / 1e9, b->reram_arrays, b->bw_reram / 1e9, b->power_w,
                   b->latency_s * 1e3, b->energy_j * 1e3, b->area_mm2);
        } else {
            printf("no configuration meets the constraints\n");
        }
        printf("\nrho sweep: best configuration per rho | hardware of the best at rho %.3g kept fixed\n", design);
        printf("%6s %4s %6s %10s %10s %9s | %10s %7s %10s %7s %10s\n", "rho", "ch", "arrays", "ms/token", "mJ/token", "mm^2",
               "ms/token", "norm", "mJ/token", "norm", "bottleneck");
        for (int r = 0; r < n_rho; r++) {
            printf("%6.3f", rhos[r]);
            if (s.best_per_rho[r] >= 0) {
                const sim_dse_point *b = &pts[s.best_per_rho[r]];
                printf(" %4d %6d %10.4f %10.4f %9.2f", b->mram_channels, b->reram_arrays, b->latency_s * 1e3, b->energy_j * 1e3,
                       b->area_mm2);
            } else {
                printf(" %4s %6s %10s %10s %9s", "-", "-", "-", "-", "-");
            }
            if (fixed[r] >= 0 && design_best) {
                const sim_dse_point *f = &pts[fixed[r]];
                printf(" | %10.4f %7.3f %10.4f %7.3f %10s\n", f->latency_s * 1e3, f->latency_s / design_best->latency_s,
                       f->energy_j * 1e3, f->energy_j / design_best->energy_j, bottleneck(f));
            } else {
                printf(" | %10s\n", "-");
            }
        }
        printf("\nPareto front (first %lld by latency):\n%6s %4s %6s %10s %10s %9s %8s\n", (long long)top, "rho", "ch",
               "arrays", "ms/token", "mJ/token", "mm^2", "W");
        int64_t *front = qmc_alloc((size_t)(s.n_pareto > 0 ? s.n_pareto : 1), sizeof *front);
        int64_t nf = 0;
        for (int64_t i = 0; front && i < s.n_points; i++)
            if (pts[i].pareto) front[nf++] = i;
        if (front) qsort_r(front, (size_t)nf, sizeof *front, by_latency, pts);
        for (int64_t i = 0; i < nf && i < top; i++) {
            const sim_dse_point *b = &pts[front[i]];
            printf("%6.3f %4d %6d %10.4f %10.4f %9.2f %8.3f\n", b->rho, b->mram_channels, b->reram_arrays, b->latency_s * 1e3,
                   b->energy_j * 1e3, b->area_mm2, b->power_w);
        }
        qmc_free(front);
    }
    rc = 0;
    if (cli_get(&a, "csv")) {
        qmc_str t = {0};
        qmc_str_printf(&t, "rho,mram_channels,reram_arrays,bw_mram_bytes_s,bw_reram_bytes_s,power_w,feasible,pareto,"
                           "latency_s,energy_j,area_mm2,t_mram_s,t_reram_s\n");
        for (int64_t i = 0; i < s.n_points; i++) {
            const sim_dse_point *q = &pts[i];
            qmc_str_printf(&t, "%.6g,%d,%d,%.9g,%.9g,%.9g,%d,%d,%.9g,%.9g,%.9g,%.9g,%.9g\n", q->rho, q->mram_channels,
                           q->reram_arrays, q->bw_mram, q->bw_reram, q->power_w, q->feasible, q->pareto, q->latency_s,
                           q->energy_j, q->area_mm2, q->t_mram_s, q->t_reram_s);
        }
        rc = t.failed ? cli_error("dse", "out of memory") : sim_cli_write("dse", cli_get(&a, "csv"), t.s, t.len);
        qmc_str_free(&t);
    }
    if (!rc && cli_get(&a, "plot") && design_best) {
        qmc_str d = {0};
        qmc_str_printf(&d, "# rho  best_latency_norm best_energy_norm fixed_latency_norm fixed_energy_norm\n");
        for (int r = 0; r < n_rho; r++) {
            double bl = s.best_per_rho[r] >= 0 ? pts[s.best_per_rho[r]].latency_s / design_best->latency_s : NAN;
            double be = s.best_per_rho[r] >= 0 ? pts[s.best_per_rho[r]].energy_j / design_best->energy_j : NAN;
            qmc_str_printf(&d, "%.6g %.9g %.9g %.9g %.9g\n", rhos[r], bl, be, pts[fixed[r]].latency_s / design_best->latency_s,
                           pts[fixed[r]].energy_j / design_best->energy_j);
        }
        char cmds[1024];
        snprintf(cmds, sizeof cmds,
                 "set title 'latency and energy per token vs outlier ratio (normalised to rho = %.3g)'\n"
                 "set xlabel 'outlier ratio rho'\nset ylabel 'normalised'\nset grid\nset key top center\n"
                 "plot 'rho_sweep.dat' using 1:4 with linespoints lw 2 title 'latency, hardware fixed at rho %.3g', \\\n"
                 "     '' using 1:5 with linespoints lw 2 title 'energy, hardware fixed', \\\n"
                 "     '' using 1:2 with linespoints dt 2 title 'latency, best hardware per rho', \\\n"
                 "     '' using 1:3 with linespoints dt 2 title 'energy, best hardware per rho'\n",
                 design, design);
        int prc2 = d.failed ? -1 : sim_cli_plot("dse", cli_get(&a, "plot"), "rho_sweep", d.s, cmds);
        qmc_str_free(&d);
        if (prc2 == 0) {
            qmc_str q = {0};
            qmc_str_printf(&q, "# latency_ms energy_mJ pareto\n");
            for (int64_t i = 0; i < s.n_points; i++)
                if (pts[i].feasible) qmc_str_printf(&q, "%.9g %.9g %d\n", pts[i].latency_s * 1e3, pts[i].energy_j * 1e3, pts[i].pareto);
            const char *pc = "set title 'feasible configurations and the Pareto front'\nset xlabel 'latency per token (ms)'\n"
                             "set ylabel 'energy per token (mJ)'\nset logscale x\nset grid\n"
                             "plot 'pareto.dat' using 1:2 with points pt 7 ps 0.3 title 'feasible', \\\n"
                             "     '' using ($3 > 0 ? $1 : 1/0):2 with points pt 7 ps 1.2 title 'Pareto front'\n";
            prc2 = q.failed ? -1 : sim_cli_plot("dse", cli_get(&a, "plot"), "pareto", q.s, pc);
            qmc_str_free(&q);
        }
        rc = prc2 < 0 ? 1 : 0;
    }
    qmc_free(pts);
    sim_cli_free(&c);
    return rc;
}
