/* cli_calib.h — calibration options of qmc quantize (--calib, --calib-tokens,
 * --calib-ctx, --act-order, --damp): the calibration text, its tokens and the
 * statistics of the model's block inputs (quant/calib.h). */
#ifndef QMC_CLI_CALIB_H
#define QMC_CLI_CALIB_H

#include "cli/cli.h"
#include "quant/calib.h"

typedef struct {
    char text[4096];          /* the calibration text file ("" until the default is looked up) */
    int64_t tokens;           /* tokens taken from it */
    int ctx;                  /* tokens per window incl. BOS */
    qmc_calib_opts opts;
    qmc_calib_stats *stats;   /* owned: qmc_calib_stats_free */
} cli_calib;

/* Parse the calibration options (without touching the model): false after a
 * one-line error. */
bool cli_calib_opts(const char *cmd, const cli_args *a, cli_calib *c);
/* Tokenise the text with m's tokenizer and collect the statistics (progress
 * on stderr unless quiet).  Prints the error and returns false on failure. */
bool cli_calib_collect(const char *cmd, const qmc_model *m, bool quiet, cli_calib *c);

#endif
