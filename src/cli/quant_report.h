/* quant_report.h — printing bits-per-weight accounting and reconstruction
 * error, shared by `qmc quantize` and `qmc inspect`. */
#ifndef QMC_CLI_QUANT_REPORT_H
#define QMC_CLI_QUANT_REPORT_H

#include <cJSON.h>
#include <stdio.h>

#include "quant/quantize.h"

/* {"weights", "nominal_bpw", "honest_bpw", "bytes", "planes": {...bpw by plane}} */
cJSON *cli_bpw_json(const qmc_bpw_acc *a);
/* One line: "block linears: nominal 3.600 bpw, honest 4.640 bpw (ReRAM codes 2.10, ...)" */
void cli_bpw_print(FILE *fp, const char *label, const qmc_bpw_acc *a);
/* RMSE and SQNR (dB) of an error; SQNR is +inf for an exact reconstruction. */
double cli_rmse(const qmc_quant_error *e);
double cli_sqnr_db(const qmc_quant_error *e);

#endif
