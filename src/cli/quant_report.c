/* quant_report.c — see quant_report.h. */
#include <math.h>

#include "cli/quant_report.h"

cJSON *cli_bpw_json(const qmc_bpw_acc *a) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "weights", (double)a->weights);
    cJSON_AddNumberToObject(o, "nominal_bpw", qmc_bpw_nominal(a));
    cJSON_AddNumberToObject(o, "honest_bpw", qmc_bpw_honest(a));
    cJSON_AddNumberToObject(o, "bytes", (double)a->bytes);
    cJSON *p = cJSON_AddObjectToObject(o, "planes_bpw");
    cJSON_AddNumberToObject(p, "reram_codes", qmc_bpw_of(a, a->in_codes));
    cJSON_AddNumberToObject(p, "inlier_scales", qmc_bpw_of(a, a->in_scales));
    cJSON_AddNumberToObject(p, "outlier_bitmap", qmc_bpw_of(a, a->mask));
    cJSON_AddNumberToObject(p, "mram_codes", qmc_bpw_of(a, a->out_codes));
    cJSON_AddNumberToObject(p, "outlier_scales", qmc_bpw_of(a, a->out_scales));
    cJSON_AddNumberToObject(p, "plain", qmc_bpw_of(a, a->plain));
    return o;
}

void cli_bpw_print(FILE *fp, const char *label, const qmc_bpw_acc *a) {
    fprintf(fp, "%s: %lld weights, nominal %.3f bpw, honest %.3f bpw = ReRAM codes %.3f + inlier scales %.3f"
                " + outlier bitmap %.3f + MRAM codes %.3f + outlier scales %.3f + plain %.3f\n",
            label, (long long)a->weights, qmc_bpw_nominal(a), qmc_bpw_honest(a), qmc_bpw_of(a, a->in_codes),
            qmc_bpw_of(a, a->in_scales), qmc_bpw_of(a, a->mask), qmc_bpw_of(a, a->out_codes),
            qmc_bpw_of(a, a->out_scales), qmc_bpw_of(a, a->plain));
}

double cli_rmse(const qmc_quant_error *e) { return e->n ? sqrt(e->sse / (double)e->n) : 0.0; }

double cli_sqnr_db(const qmc_quant_error *e) {
    if (e->sse <= 0) return INFINITY;
    return 10.0 * log10(e->energy / e->sse);
}
