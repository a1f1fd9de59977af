/* study_report.c — the markdown report of a study: Table 2 (methods
 * without noise), Table 3 (device x cell mode x method under noise), the
 * rho sweep (Fig. 3) and the system comparison (Fig. 4), plus the data and
 * gnuplot commands of the two figures. */
#include <math.h>
#include <string.h>

#include "eval/study_internal.h"
#include "util/util.h"

static bool noise_free(const qmc_study_row *r) { return strcmp(r->cell.device, "none") == 0; }

static void method_label(const qmc_study_row *r, char *buf, size_t cap) {
    const qmc_study_cell *x = &r->cell;
    if (strcmp(x->method, "fp32") == 0) snprintf(buf, cap, "FP32");
    else if (x->rho > 0) snprintf(buf, cap, "%s W%d rho=%g", x->method, x->bits, x->rho);
    else snprintf(buf, cap, "%s W%d", x->method, x->bits);
}

static void task_header(qmc_str *s, const qmc_study_config *c) {
    for (int t = 0; t < c->n_tasks; t++) qmc_str_printf(s, " %s acc | %s acc_norm |", c->tasks[t], c->tasks[t]);
}

static void task_cells(qmc_str *s, const qmc_study_row *r) {
    for (int t = 0; t < r->n_tasks; t++) {
        const qmc_study_task_score *x = &r->task[t];
        qmc_str_printf(s, " %.4f ± %.4f |", x->acc, x->acc_stderr);
        if (x->has_acc_norm) qmc_str_printf(s, " %.4f ± %.4f |", x->acc_norm, x->acc_norm_stderr);
        else qmc_str_printf(s, " – |");
    }
}

static void task_rule(qmc_str *s, const qmc_study_config *c) {
    for (int t = 0; t < c->n_tasks; t++) qmc_str_printf(s, "---:|---:|");
}

static void table2(qmc_str *s, const qmc_study_config *c, const qmc_study_results *r) {
    qmc_str_printf(s, "## Table 2 — methods without device noise\n\n");
    qmc_str_printf(s, "| Method | bpw nominal | bpw honest | PPL |");
    task_header(s, c);
    qmc_str_printf(s, "\n|---|---:|---:|---:|");
    task_rule(s, c);
    qmc_str_printf(s, "\n");
    for (int i = 0; i < r->n_rows; i++) {
        const qmc_study_row *x = &r->rows[i];
        if (!noise_free(x)) continue;
        char m[160];
        method_label(x, m, sizeof m);
        qmc_str_printf(s, "| %s | %.3f | %.3f | %.4f |", m, x->bpw_nominal, x->bpw_honest, x->ppl.mean);
        task_cells(s, x);
        qmc_str_printf(s, "\n");
    }
    qmc_str_printf(s, "\nbpw: bits per weight of the transformer-block linears; nominal = the paper's count, honest = "
                      "every stored byte (planes, outlier bitmap, scales).\n\n");
}

static void table3(qmc_str *s, const qmc_study_config *c, const qmc_study_results *r) {
    int n = 0;
    for (int i = 0; i < r->n_rows; i++) n += !noise_free(&r->rows[i]);
    if (!n) return;
    qmc_str_printf(s, "## Table 3 — under device noise (Monte-Carlo trials)\n\n");
    qmc_str_printf(s, "| Device | Cell mode | Method | trials | PPL mean ± sd | 95%% CI | PPL noise-free |");
    task_header(s, c);
    qmc_str_printf(s, "\n|---|---|---|---:|---:|---:|---:|");
    task_rule(s, c);
    qmc_str_printf(s, "\n");
    for (int i = 0; i < r->n_rows; i++) {
        const qmc_study_row *x = &r->rows[i];
        if (noise_free(x)) continue;
        char m[160];
        method_label(x, m, sizeof m);
        qmc_str_printf(s, "| %s | %d-bit | %s | %d | %.4f ± %.4f | [%.4f, %.4f] | %.4f |", x->cell.device, x->cell.cell_bits,
                       m, x->cell.trials, x->ppl.mean, x->ppl.sd, x->ppl.ci_lo, x->ppl.ci_hi, x->ppl_clean);
        task_cells(s, x);
        qmc_str_printf(s, "\n");
    }
    qmc_str_printf(s, "\n");
    if (c->n_tasks) qmc_str_printf(s, "Task accuracies under noise: means over the trials of acc and of its standard error.\n\n");
}

static const char *eng(double v, const char *unit, char *buf, size_t cap) {
    static const struct {
        double f;
        const char *p;
    } k[] = {{1, ""}, {1e-3, "m"}, {1e-6, "µ"}, {1e-9, "n"}, {1e-12, "p"}};
    size_t i = 0;
    while (i + 1 < QMC_ARRAY_LEN(k) && fabs(v) < k[i].f) i++;
    snprintf(buf, cap, "%.4g %s%s", v / k[i].f, k[i].p, unit);
    return buf;
}

static void fig3(qmc_str *s, qmc_str *dat, const qmc_study_results *r) {
    if (!r->n_sweep) return;
    qmc_str_printf(s, "## Fig. 3 — rho sweep (qmc, no noise; energy and latency per decode token from the simulator)\n\n");
    qmc_str_printf(s, "| rho | bpw nominal | bpw honest | PPL |");
    for (int w = 0; w < r->n_sys; w++) qmc_str_printf(s, " energy %s | latency %s |", r->sys[w].name, r->sys[w].name);
    qmc_str_printf(s, "\n|---:|---:|---:|---:|");
    for (int w = 0; w < r->n_sys; w++) qmc_str_printf(s, "---:|---:|");
    qmc_str_printf(s, "\n");
    qmc_str_printf(dat, "# rho ppl");
    for (int w = 0; w < r->n_sys; w++) qmc_str_printf(dat, " energy_j[%s] latency_s[%s]", r->sys[w].name, r->sys[w].name);
    qmc_str_printf(dat, "\n");
    for (int k = 0; k < r->n_sweep; k++) {
        const qmc_study_row *x = &r->rows[r->sweep_row[k]];
        qmc_str_printf(s, "| %g | %.3f | %.3f | %.4f |", r->sweep_rho[k], x->bpw_nominal, x->bpw_honest, x->ppl.mean);
        qmc_str_printf(dat, "%.17g %.17g", r->sweep_rho[k], x->ppl.mean);
        for (int w = 0; w < r->n_sys; w++) {
            char a[64], b[64];
            qmc_str_printf(s, " %s | %s |", eng(r->sys[w].sweep_energy_j[k], "J", a, sizeof a),
                           eng(r->sys[w].sweep_latency_s[k], "s", b, sizeof b));
            qmc_str_printf(dat, " %.17g %.17g", r->sys[w].sweep_energy_j[k], r->sys[w].sweep_latency_s[k]);
        }
        qmc_str_printf(s, "\n");
        qmc_str_printf(dat, "\n");
    }
    qmc_str_printf(s, "\nPlot: fig3-rho-sweep.png / .svg (when gnuplot is installed).\n\n");
}

static void fig4(qmc_str *s, qmc_str *dat, const qmc_study_results *r) {
    qmc_str_printf(s, "## Fig. 4 — system comparison (simulator, per decode token; ratios = FP16 / architecture)\n\n");
    qmc_str_printf(dat, "# arch");
    for (int w = 0; w < r->n_sys; w++)
        qmc_str_printf(dat, " energy_ratio[%s] latency_ratio[%s] memory_ratio[%s]", r->sys[w].name, r->sys[w].name,
                       r->sys[w].name);
    qmc_str_printf(dat, "\n");
    for (int w = 0; w < r->n_sys; w++) {
        const qmc_study_sys *y = &r->sys[w];
        qmc_str_printf(s, "### %s\n\n| Architecture | energy/token | latency/token | weight memory | energy vs FP16 | "
                          "latency vs FP16 | memory vs FP16 |\n|---|---:|---:|---:|---:|---:|---:|\n",
                       y->name);
        for (int k = 0; k < y->n_arch; k++) {
            char a[64], b[64];
            qmc_str_printf(s, "| %s | %s | %s | %.4g MiB | %.2fx | %.2fx | %.2fx |\n", y->arch[k],
                           eng(y->energy_j[k], "J", a, sizeof a), eng(y->latency_s[k], "s", b, sizeof b),
                           y->weight_bytes[k] / 1048576.0, y->energy_j[0] / y->energy_j[k], y->latency_s[0] / y->latency_s[k],
                           y->weight_bytes[0] / y->weight_bytes[k]);
        }
        qmc_str_printf(s, "\n");
    }
    const qmc_study_sys *y0 = &r->sys[0];
    for (int k = 0; k < y0->n_arch; k++) {
        qmc_str_printf(dat, "\"%s\"", y0->arch[k]);
        for (int w = 0; w < r->n_sys; w++) {
            const qmc_study_sys *y = &r->sys[w];
            qmc_str_printf(dat, " %.17g %.17g %.17g", y->energy_j[0] / y->energy_j[k], y->latency_s[0] / y->latency_s[k],
                           y->weight_bytes[0] / y->weight_bytes[k]);
        }
        qmc_str_printf(dat, "\n");
    }
    qmc_str_printf(s, "Plot: fig4-system.png / .svg (when gnuplot is installed).\n\n");
}

static char *take(qmc_str *s) {
    if (s->failed) {
        qmc_str_free(s);
        return NULL;
    }
    if (!s->s) qmc_str_printf(s, "%s", "");
    return s->s;
}

int qmc_study_report_make(const qmc_study_config *c, const qmc_study_results *r, qmc_study_report *rep) {
    memset(rep, 0, sizeof *rep);
    qmc_str s = {0}, d3 = {0}, d4 = {0}, g3 = {0}, g4 = {0};
    qmc_str_printf(&s, "# Study %s\n\n", qmc_basename(c->path));
    qmc_str_printf(&s, "Model %s; text %s (%s protocol, ctx %d", c->model, c->text, qmc_ppl_protocol_name(c->protocol),
                   c->ctx);
    if (c->max_tokens) qmc_str_printf(&s, ", first %lld tokens", (long long)c->max_tokens);
    qmc_str_printf(&s, "); %d cells; cells took %.1f s in all.\n", r->n_rows, r->seconds_cells);
    if (c->n_tasks)
        qmc_str_printf(&s, "Zero-shot tasks scored on the first %lld examples each (0 = all).\n",
                       (long long)c->task_limit);
    qmc_str_printf(&s, "Config hash %016llx.  Regenerate: `qmc study %s`.\n\n", (unsigned long long)c->hash, c->path);
    table2(&s, c, r);
    table3(&s, c, r);
    fig3(&s, &d3, r);
    if (r->n_sys) fig4(&s, &d4, r);
    /* gnuplot commands (data file in the same directory) */
    if (r->n_sweep > 1) {
        qmc_str_printf(&g3, "set multiplot layout 1,3 title 'rho sweep'\nset xlabel 'rho'\nset grid\nset key font ',9'\n"
                            "set ylabel 'perplexity'\nplot 'fig3-rho-sweep.dat' using 1:2 with linespoints title 'PPL'\n"
                            "set ylabel 'energy per token / at rho=%g'\nplot ", r->sweep_rho[0]);
        /* energy and latency relative to the first rho: the workloads differ by orders of magnitude */
        for (int w = 0; w < r->n_sys; w++)
            qmc_str_printf(&g3, "%s'fig3-rho-sweep.dat' using 1:($%d/%.17g) with linespoints title '%s'", w ? ", " : "",
                           3 + 2 * w, r->sys[w].sweep_energy_j[0], r->sys[w].name);
        qmc_str_printf(&g3, "\nset ylabel 'latency per token / at rho=%g'\nplot ", r->sweep_rho[0]);
        for (int w = 0; w < r->n_sys; w++)
            qmc_str_printf(&g3, "%s'fig3-rho-sweep.dat' using 1:($%d/%.17g) with linespoints title '%s'", w ? ", " : "",
                           4 + 2 * w, r->sys[w].sweep_latency_s[0], r->sys[w].name);
        qmc_str_printf(&g3, "\nunset multiplot\n");
    }
    if (r->n_sys) {
        qmc_str_printf(&g4, "set multiplot layout 1,3 title 'system comparison (FP16 / architecture)'\nset style data "
                            "histograms\nset style fill solid 0.8\nset xtics rotate by -35\nset grid y\nset yrange [0:*]\nset offsets 0, 0, graph 0.2, 0\n"
                            "set key top left font ',9'\nset bmargin 7\n");
        static const char *const what[3] = {"energy", "latency", "memory"};
        for (int q = 0; q < 3; q++) {
            qmc_str_printf(&g4, "set ylabel '%s vs FP16 (x)'\nplot ", what[q]);
            for (int w = 0; w < r->n_sys; w++)
                qmc_str_printf(&g4, "%s'fig4-system.dat' using %d:xtic(1) title '%s'", w ? ", " : "", 2 + 3 * w + q,
                               r->sys[w].name);
            qmc_str_printf(&g4, "\n");
        }
        qmc_str_printf(&g4, "unset multiplot\n");
    }
    rep->markdown = take(&s);
    rep->fig3_dat = take(&d3);
    rep->fig3_gp = take(&g3);
    rep->fig4_dat = take(&d4);
    rep->fig4_gp = take(&g4);
    if (!rep->markdown || !rep->fig3_dat || !rep->fig3_gp || !rep->fig4_dat || !rep->fig4_gp) {
        qmc_study_report_free(rep);
        return qmc_fail(QMC_ERR_NOMEM, "out of memory writing the study report");
    }
    return 0;
}

void qmc_study_report_free(qmc_study_report *rep) {
    if (!rep) return;
    qmc_free(rep->markdown);
    qmc_free(rep->fig3_dat);
    qmc_free(rep->fig3_gp);
    qmc_free(rep->fig4_dat);
    qmc_free(rep->fig4_gp);
    memset(rep, 0, sizeof *rep);
}
