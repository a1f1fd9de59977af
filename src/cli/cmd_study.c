/* cmd_study.c — qmc study CONFIG: run a grid of quantization methods x bits
 * x rho x device noise x trials x tasks, resumably, and write the results
 * (CSV + JSON), a markdown report and the figures (docs/study.md). */
#include <string.h>

#include "cli/cli.h"
#include "cli/sim_common.h"
#include "eval/study.h"

static const cli_opt k_opts[] = {
    {"out", 'o', "DIR", "output directory (default: the config's \"out\")"},
    {"quiet", 'q', NULL, "no progress on stderr"},
    {"no-print", 0, NULL, "do not print the report on stdout at the end"},
    {"no-plots", 0, NULL, "skip the gnuplot figures"},
    {"list", 0, NULL, "print the cells of the grid and exit"},
    {"stop-after", 0, "N", "stop after running N cells (rerun to resume)"},
    {"json", 0, NULL, "print results.json instead of the report"},
    {0},
};

static const cli_command_info k_info = {
    "study",
    "qmc study CONFIG.json [-o DIR] [--quiet] [--no-plots] [--list]",
    "Run a study grid (methods x bits x rho x device noise x trials x zero-shot tasks) and write results + report.",
    "CONFIG names the model, the evaluation text, protocol and context, the zero-shot tasks and the grid (see\n"
    "docs/study.md).  Each finished cell is appended to DIR/cells.jsonl (fsync'd); a rerun skips the cells already\n"
    "there, so an interrupted study resumes.  Records of a different config are refused.  When every cell is done,\n"
    "DIR/results.csv, DIR/results.json and DIR/report.md (Table 2, Table 3, rho sweep, system comparison) are\n"
    "written crash-safely, the figures rendered with gnuplot (DIR/fig3-rho-sweep.png, DIR/fig4-system.png), and\n"
    "the report printed.",
    k_opts};

static int plots(const char *dir, const qmc_study_report *rep) {
    int rc = 0;
    if (rep->fig3_gp[0]) rc = sim_cli_plot("study", dir, "fig3-rho-sweep", rep->fig3_dat, rep->fig3_gp);
    if (rc >= 0 && rep->fig4_gp[0]) rc = sim_cli_plot("study", dir, "fig4-system", rep->fig4_dat, rep->fig4_gp);
    return rc < 0 ? 1 : 0;
}

int cmd_study(int argc, char **argv) {
    cli_args a;
    int prc = cli_parse(&k_info, argc, argv, &a);
    if (prc) return prc == 1 ? 0 : 2;
    if (a.n_positional != 1) {
        cli_error("study", "give exactly one CONFIG.json (qmc study --help)");
        return 2;
    }
    int64_t stop;
    if (!cli_int(&a, "stop-after", 1, INT32_MAX, 0, &stop)) return 2;
    qmc_study_config c;
    if (qmc_study_config_load(a.positional[0], &c)) return cli_fail("study");
    const char *out = cli_get(&a, "out");
    if (out) snprintf(c.out, sizeof c.out, "%s", out);
    if (cli_flag(&a, "list")) {
        for (int i = 0; i < c.n_cells; i++) printf("%s\n", c.cells[i].key);
        qmc_study_config_free(&c);
        return 0;
    }
    qmc_study_run_opts o = {0};
    o.progress = !cli_flag(&a, "quiet");
    o.stop_after = (int)stop;
    qmc_study_results res;
    int status = 0;
    if (qmc_study_run(&c, &o, &res)) {
        status = cli_fail("study");
    } else if (!res.complete) {
        fprintf(stderr, "qmc study: stopped with %d of %d cells done; rerun to resume\n", res.n_resumed + res.n_run,
                c.n_cells);
    } else {
        qmc_study_report rep;
        if (qmc_study_report_make(&c, &res, &rep)) {
            status = cli_fail("study");
        } else {
            if (!cli_flag(&a, "no-plots")) status = plots(c.out, &rep);
            if (o.progress)
                fprintf(stderr, "study: %d cells (%d run now, %d resumed) in %.1f s; wrote %s/results.csv, results.json, "
                                "report.md\n",
                        c.n_cells, res.n_run, res.n_resumed, res.seconds, c.out);
            if (cli_flag(&a, "json")) {
                char path[4200];
                qmc_path_join(path, sizeof path, c.out, "results.json");
                char *text = NULL;
                size_t len = 0;
                if (qmc_read_file(path, (size_t)1 << 30, &text, &len)) status = cli_fail("study");
                else fwrite(text, 1, len, stdout);
                qmc_free(text);
            } else if (!cli_flag(&a, "no-print")) {
                fputs(rep.markdown, stdout);
            }
            qmc_study_report_free(&rep);
        }
    }
    qmc_study_results_free(&res);
    qmc_study_config_free(&c);
    return status;
}
