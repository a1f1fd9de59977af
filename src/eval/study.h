/* study.h — `qmc study`: a grid of quantization methods x bits x rho x
 * device-noise settings x trials, each cell evaluated for perplexity and
 * zero-shot accuracy, with resumable per-cell records, one results file
 * (CSV + JSON) and a markdown report laid out like the paper's Table 2,
 * Table 3, Fig. 3 (rho sweep) and Fig. 4 (system comparison).
 * docs/study.md describes the config format and the outputs. */
#ifndef QMC_EVAL_STUDY_H
#define QMC_EVAL_STUDY_H

#include <stdbool.h>
#include <stdint.h>

#include "eval/eval.h"
#include "eval/stats.h"

#define QMC_STUDY_MAX_TASKS 16
#define QMC_STUDY_MAX_SHAPES 4
#define QMC_STUDY_NAME 64

/* One cell of the grid: what is quantized how, and read through which device. */
typedef struct {
    char method[QMC_STUDY_NAME];   /* "fp32" (no quantization) or a quantizer name (qmc_quant_params_for_method) */
    int bits;                      /* inlier / main code width (0 for fp32) */
    double rho;                    /* outlier fraction (0 for methods without outliers) */
    char device[QMC_STUDY_NAME];   /* device-noise profile name or path; "none": noise-free */
    int cell_bits;                 /* ReRAM bits per cell under noise (2 or 3); 0 when noise-free */
    int trials;                    /* noise trials (1 when noise-free) */
    char key[256];                 /* unique text key of the cell (resume) */
} qmc_study_cell;

/* The parsed config. */
typedef struct {
    char path[4096];               /* the config file (errors name it) */
    uint64_t hash;                 /* of the canonical config: results of another config are never mixed */
    char model[4096], tokenizer[4096];  /* tokenizer: "" unless given (llama2.c checkpoints) */
    char text[4096];               /* evaluation text */
    bool strip_cr;                 /* remove carriage returns (CRLF -> LF) before tokenizing */
    qmc_ppl_protocol protocol;
    int ctx;                       /* tokens per window incl. BOS (0: the model's default) */
    int64_t max_tokens;            /* evaluate the first max_tokens tokens of the text (0: all) */
    char tasks[QMC_STUDY_MAX_TASKS][QMC_STUDY_NAME];
    int n_tasks;
    int64_t task_limit;            /* examples per task (0: all) */
    char task_dir[4096];           /* "" = the default zero-shot data directory */
    char calib[4096];              /* gptq/awq/qmc-gptq: calibration text ("" = QMC_CALIB_DEFAULT_TEXT) */
    int64_t calib_tokens;          /* calibration tokens (default QMC_CALIB_DEFAULT_TOKENS) */
    uint64_t seed;                 /* noise seed: trial k of every noisy cell uses (seed, k) */
    char device_dir[4096];         /* "" = the default profile search path */
    char out[4096];                /* output directory */
    char platform[QMC_STUDY_NAME]; /* simulator platform */
    char shapes[QMC_STUDY_MAX_SHAPES][QMC_STUDY_NAME]; /* extra simulator workloads (data/configs presets) */
    int n_shapes;
    qmc_study_cell *cells;         /* [n_cells] in run order (grouped by quantization) */
    int n_cells;
} qmc_study_config;

/* Parse a config file (path) / text (label names it in errors).  Every
 * method, device profile and task is checked up front; the first problem
 * fails with a one-line message naming the file. */
int  qmc_study_config_load(const char *path, qmc_study_config *c);
int  qmc_study_config_parse(const char *json, size_t len, const char *label, qmc_study_config *c);
void qmc_study_config_free(qmc_study_config *c);

typedef struct {
    int64_t n;
    double acc, acc_stderr;        /* mean over trials of acc and of its stderr */
    bool has_acc_norm;
    double acc_norm, acc_norm_stderr;
} qmc_study_task_score;

/* The measured result of one cell. */
typedef struct {
    qmc_study_cell cell;
    qmc_sample_stats ppl;          /* perplexity over trials (n = 1 noise-free) */
    double ppl_clean;              /* the same model without noise */
    int64_t ppl_tokens;            /* tokens scored */
    double bpw_nominal, bpw_honest;/* transformer-block linears: nominal and stored bits per weight */
    double bpw_honest_all;         /* every 2-D weight incl. embedding/head */
    qmc_study_task_score task[QMC_STUDY_MAX_TASKS];
    int n_tasks;
    double seconds;                /* quantization + evaluation */
} qmc_study_row;

typedef struct {
    bool progress;                 /* progress on stderr */
    int stop_after;                /* > 0: stop after running this many cells (tests: simulated interruption) */
} qmc_study_run_opts;

/* Simulator numbers of one workload (the study's model or a preset shape). */
#define QMC_STUDY_MAX_ARCH 8
#define QMC_STUDY_MAX_SWEEP 64
typedef struct {
    char name[256];
    int n_arch;
    char arch[QMC_STUDY_MAX_ARCH][40];       /* architecture label, row 0 = fp16-dram (the baseline) */
    double energy_j[QMC_STUDY_MAX_ARCH];     /* per decode token */
    double latency_s[QMC_STUDY_MAX_ARCH];    /* per decode step */
    double weight_bytes[QMC_STUDY_MAX_ARCH]; /* weights stored in the serving memories (no Flash copy) */
    /* the qmc architecture at each rho of the sweep */
    double sweep_energy_j[QMC_STUDY_MAX_SWEEP], sweep_latency_s[QMC_STUDY_MAX_SWEEP];
} qmc_study_sys;

typedef struct {
    qmc_study_row *rows;           /* [n_rows], in config cell order */
    int n_rows;
    int n_resumed, n_run;          /* cells taken from the record / run now */
    bool complete;                 /* every cell has a row */
    double seconds;                /* wall time of this run */
    double seconds_cells;          /* sum of the cells' own seconds (the whole study's cost) */
    /* simulator: the model's shape, then each config shape */
    qmc_study_sys sys[1 + QMC_STUDY_MAX_SHAPES];
    int n_sys;
    double sweep_rho[QMC_STUDY_MAX_SWEEP]; /* rho of the noise-free cells of the sweep method (ascending) */
    int sweep_row[QMC_STUDY_MAX_SWEEP];    /* their rows */
    int n_sweep;
} qmc_study_results;

/* Run the cells of c that have no record in c->out/cells.jsonl yet (each
 * finished cell is appended and fsync'd), then, when complete, write
 * results.csv, results.json and report.md in c->out (crash-safe). */
int  qmc_study_run(const qmc_study_config *c, const qmc_study_run_opts *o, qmc_study_results *res);
void qmc_study_results_free(qmc_study_results *r);

/* Records: one JSON line per cell. */
int  qmc_study_row_to_json(const qmc_study_config *c, const qmc_study_row *r, char **line);
int  qmc_study_row_from_json(const qmc_study_config *c, const char *line, qmc_study_row *r);

/* ---- report -------------------------------------------------------------- */
/* The markdown report and the gnuplot data of the figures (heap strings,
 * qmc_free).  fig3_dat: rho, ppl, energy and latency per workload;
 * fig4_dat: architecture rows with energy/latency/memory ratios vs FP16. */
typedef struct {
    char *markdown;
    char *fig3_dat, *fig3_gp;
    char *fig4_dat, *fig4_gp;
} qmc_study_report;
int  qmc_study_report_make(const qmc_study_config *c, const qmc_study_results *r, qmc_study_report *rep);
void qmc_study_report_free(qmc_study_report *rep);

#endif
