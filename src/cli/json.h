/* json.h — JSON output of the measuring commands (cJSON). */
#ifndef QMC_CLI_JSON_H
#define QMC_CLI_JSON_H
#include <cJSON.h>

/* Print to stdout with a newline and free. */
void cli_json_print(cJSON *o);
#endif
