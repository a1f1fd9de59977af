/* json.c — see json.h. */
#include <stdio.h>

#include "cli/json.h"

cJSON *cli_stats_json(const qmc_sample_stats *s) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "n", s->n);
    cJSON_AddNumberToObject(o, "mean", s->mean);
    if (s->n > 1) {
        cJSON_AddNumberToObject(o, "sd", s->sd);
        cJSON_AddNumberToObject(o, "sem", s->sem);
        cJSON_AddNumberToObject(o, "t", s->t);
        cJSON_AddNumberToObject(o, "ci95_lo", s->ci_lo);
        cJSON_AddNumberToObject(o, "ci95_hi", s->ci_hi);
    } else {
        cJSON_AddNullToObject(o, "sd");
        cJSON_AddNullToObject(o, "ci95_lo");
        cJSON_AddNullToObject(o, "ci95_hi");
    }
    cJSON_AddNumberToObject(o, "min", s->min);
    cJSON_AddNumberToObject(o, "max", s->max);
    return o;
}

void cli_json_print(cJSON *o) {
    char *s = cJSON_Print(o);
    if (s) {
        puts(s);
        cJSON_free(s);
    }
    cJSON_Delete(o);
}
