/* json.h — JSON output of the measuring commands (cJSON). */
#ifndef QMC_CLI_JSON_H
#define QMC_CLI_JSON_H
#include <cJSON.h>

#include "eval/stats.h"

/* Print to stdout with a newline and free. */
void cli_json_print(cJSON *o);

/* Summary of Monte-Carlo trials (eval/stats.h): n, mean, sd, sem, t, ci95_lo/hi
 * (null sd and interval from one trial), min, max. */
cJSON *cli_stats_json(const qmc_sample_stats *s);
#endif
