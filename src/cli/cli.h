/* cli.h — shared pieces of the qmc command-line tool: option parsing,
 * usage text, and the subcommand entry points. */
#ifndef QMC_CLI_H
#define QMC_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "eval/eval.h"
#include "model/model.h"
#include "util/util.h"

typedef struct {
    const char *name;      /* long name without "--" */
    char short_name;       /* 0 for none */
    const char *arg;       /* NULL: a flag; else the metavariable shown in help */
    const char *help;
} cli_opt;

typedef struct {
    const char *name;
    const char *synopsis;  /* "qmc ppl -m MODEL -f TEXT [options]" */
    const char *summary;   /* one line for `qmc --help` */
    const char *details;   /* paragraphs after the synopsis (may be NULL) */
    const cli_opt *opts;   /* terminated by {0} */
} cli_command_info;

/* Parsed options: values by long name (flags have value "1"). */
typedef struct {
    const cli_command_info *info;
    const char *values[64];
    int count[64];
    char *positional[16];
    int n_positional;
} cli_args;

/* Parse argv (argv[0] is the subcommand name).  Prints usage and returns 1
 * for --help; returns 2 after printing a one-line error for unknown or
 * malformed options; 0 otherwise.  The common options (--threads, --max-alloc,
 * --help) are handled here. */
int cli_parse(const cli_command_info *info, int argc, char **argv, cli_args *a);
const char *cli_get(const cli_args *a, const char *name);
bool cli_flag(const cli_args *a, const char *name);
/* Typed getters: print a one-line error and return false when invalid. */
bool cli_int(const cli_args *a, const char *name, int64_t lo, int64_t hi, int64_t def, int64_t *out);
bool cli_double(const cli_args *a, const char *name, double lo, double hi, double def, double *out);
void cli_usage(const cli_command_info *info, FILE *fp);

/* "qmc <cmd>: <message>" on stderr; returns the exit status 1. */
int cli_error(const char *cmd, const char *fmt, ...) QMC_PRINTF(2, 3);
/* Print qmc_errmsg() as the error; returns 1. */
int cli_fail(const char *cmd);

/* Load a model with the usual options (--tokenizer); prints the error. */
qmc_model *cli_load_model(const char *cmd, const char *path, const cli_args *a);
/* Read a text file (normalising CRLF to LF if crlf is true). */
char *cli_read_text(const char *cmd, const char *path, size_t *len);

/* Perplexity options shared by qmc ppl and qmc noise: --protocol, --ctx,
 * --chunks, --batch into o (n_ctx stays 0 without --ctx: see
 * cli_ppl_default_ctx).  Prints the error and returns false when invalid. */
bool cli_ppl_opts(const cli_args *a, qmc_ppl_opts *o);
/* Without --ctx: llamacpp 512, full the model's seq_len (at most 2048), both capped at seq_len. */
void cli_ppl_default_ctx(qmc_ppl_opts *o, const qmc_model *m);
/* The text of -f TEXT, carriage returns removed with --strip-cr; prints the error. */
char *cli_read_eval_text(const char *cmd, const cli_args *a, size_t *len);

/* Subcommands. */
int cmd_generate(int argc, char **argv);
int cmd_ppl(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_convert(int argc, char **argv);
int cmd_synth(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_sim(int argc, char **argv);
int cmd_dse(int argc, char **argv);
int cmd_quantize(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_device(int argc, char **argv);
int cmd_noise(int argc, char **argv);
int cmd_study(int argc, char **argv);

#endif
