/* sim_common.h — what `qmc sim` and `qmc dse` share: their common options,
 * the set-up of data files, hardware, parameters and workload, JSON dumps of
 * the assumptions, and the gnuplot runner. */
#ifndef QMC_CLI_SIM_COMMON_H
#define QMC_CLI_SIM_COMMON_H

#include <cJSON.h>

#include "cli/cli.h"
#include "sim/sim.h"

/* Options both commands accept (spliced into each command's table). */
#define SIM_CLI_OPTS                                                                                                      \
    {"model", 'm', "SPEC", "workload: a data/configs preset (hymba-1.5b, qwen2.5-1.5b, llama-3.2-3b, phi-1.5), a "     \
                          "config.json or HF directory (shapes only), or a GGUF / .qmc.gguf / llama2.c file"},            \
    {"params", 0, "N", "workload of N parameters in one quantizable tensor (the paper's counting), e.g. 1.52e9"},         \
    {"row-len", 0, "N", "row length of the --params tensor, for per-row scale overheads (default 2048)"},                \
    {"platform", 'p', "NAME|FILE", "jetson-agx-orin (default), jetson-orin-nx, jetson-orin-nano, jetson-orin-nano-super"}, \
    {"data-dir", 0, "DIR", "look here first for tech/, platforms/, configs/ (then $QMC_DATA, <bin>/../data, embedded)"},   \
    {"set", 0, "T.F=V,...", "override data values, e.g. mram.read_bw_gib_s=40,nvm-bus.energy_pj_per_bit=0.5"},            \
    {"dram-bw", 0, "GB/s", "platform DRAM peak bandwidth (default from the platform)"},                                    \
    {"dram-gib", 0, "GiB", "platform DRAM capacity"},                                                                      \
    {"rho", 0, "R", "outlier fraction (default 0.3)"},                                                                     \
    {"inlier-bits", 0, "B", "inlier bits (default 3)"},                                                                    \
    {"outlier-bits", 0, "B", "outlier bits (default 5)"},                                                                  \
    {"cell-bits", 0, "2|3", "ReRAM cell mode (default 3)"},                                                                \
    {"int4", 0, "FMT", "int4-dram format: g128 (AWQ/GPTQ, default), nominal (4.0 bits), rtn, mxint4, mlc-q4f16"},           \
    {"emems-bits", 0, "B", "eMEMs weight bits (default 4)"},                                                               \
    {"embed-bits", 0, "B", "keep embedding/head at B bits (MRAM for qmc); 0 = like the blocks (default)"},                 \
    {"nominal", 0, NULL, "packed workloads: count nominal bits instead of the stored planes"},                             \
    {"format-overhead", 0, NULL, "shape workloads: count qmc's packed format (outlier bitmap, row scales), not nominal bits"}, \
    {"prompt", 0, "N", "prompt tokens per sequence (default 128)"},                                                        \
    {"gen", 0, "N", "generated tokens per sequence (default 128)"},                                                        \
    {"batch", 'b', "N", "concurrent sequences (default 1)"},                                                               \
    {"ubatch", 0, "N", "prompt tokens per prefill pass (default: the whole prompt)"},                                     \
    {"kv-bits", 0, "B", "bits per KV-cache / recurrent-state element (default 16)"},                                      \
    {"act-bits", 0, "B", "bits per activation element (default 16)"},                                                     \
    {"no-kv-traffic", 0, NULL, "do not count KV-cache / state traffic"},                                                   \
    {"no-act-traffic", 0, NULL, "do not count activation traffic"},                                                        \
    {"power-budget", 0, "W", "NVM power budget of Eq. 4 (default: iso-power, platform DRAM bandwidth x its read energy)"}, \
    {"max-latency-ms", 0, "MS", "drop configurations slower than this per decode step"},                                   \
    {"t-queue", 0, "NS", "queueing delay per fetch (default 0)"},                                                          \
    {"t-sync-cycles", 0, "N", "clock-domain-crossing cycles at the NVM bus clock (default 3; paper: 2-4)"},                \
    {"cdc-mw", 0, "MW", "dual-clock FIFO power in mW (default 1.5; paper: 1-2)"},                                          \
    {"dram-efficiency", 0, "F", "sustained / peak DRAM bandwidth (default 1)"},                                            \
    {"e-net", 0, "PJ", "interconnect energy per bit for both NVM links (default: ucie3 0.5, nvm-bus 1.0)"},               \
    {"json", 0, NULL, "machine-readable output"},                                                                          \
    {"csv", 0, "FILE", "write the results as CSV"},                                                                        \
    {"plot", 0, "DIR", "write PNG + SVG plots with gnuplot (skipped when gnuplot is absent)"}

typedef struct {
    sim_datapath dp;
    sim_hw hw;
    sim_params p;
    sim_workload w;
    bool have_workload;
} sim_cli_ctx;

/* Parse the shared options; loads data, hardware and (when need_workload)
 * the workload.  Prints a one-line error and returns non-zero on failure. */
int  sim_cli_setup(const char *cmd, const cli_args *a, bool need_workload, sim_cli_ctx *c);
void sim_cli_free(sim_cli_ctx *c);

/* Every value in use, with its unit and source. */
cJSON *sim_cli_hw_json(const sim_hw *hw);
cJSON *sim_cli_params_json(const sim_params *p);
cJSON *sim_cli_workload_json(const sim_workload *w);
/* "assumed"/"cited" counts etc. are left to the caller. */

/* Plots: write DIR/NAME.dat and DIR/NAME.gp, render DIR/NAME.png and
 * DIR/NAME.svg with gnuplot (each written to a temporary and renamed).
 * Returns 0 on success, 1 when gnuplot is absent (message printed), -1 on error. */
int sim_cli_plot(const char *cmd, const char *dir, const char *name, const char *data, const char *plot_cmds);

/* Results of `qmc sim` (sim_report.c). */
typedef struct {
    const char *key;
    const char *label;
} ratio_def;
#define SIM_REPORT_N_RATIOS 10
extern const ratio_def sim_report_ratios[SIM_REPORT_N_RATIOS];
/* Ratio i of sim_report_ratios: baseline / r (NAN when undefined). */
double sim_report_ratio(const sim_result *base, const sim_result *r, int i);
void   sim_report_table(const sim_cli_ctx *c, const sim_result *rs, int n, int base);
cJSON *sim_report_result_json(const sim_result *r);
int    sim_report_csv(const char *path, const sim_cli_ctx *c, const sim_result *rs, int n);
int    sim_report_plot_energy(const char *dir, const sim_result *rs, int n);

/* Write text to a file crash-safely; prints the error. */
int sim_cli_write(const char *cmd, const char *path, const char *text, size_t len);

#endif
