/* method_name.c — quantizer parameters from a method's name (shared by the
 * commands and configs that name methods). */
#include <string.h>

#include "quant/quantize.h"
#include "util/util.h"

int qmc_quant_params_for_method(const char *name, qmc_quant_params *p, int *default_bits, bool *uses_rho) {
    qmc_quant_params_default(p);
    int bits = 4;
    int m;
    if (!name) return qmc_fail(QMC_ERR_ARG, "no quantization method named");
    if (strcmp(name, "mxint4") == 0) m = QMC_METHOD_MXINT;
    else if (strcmp(name, "mxint8") == 0) m = QMC_METHOD_MXINT, bits = 8;
    else m = qmc_method_from_name(name);
    if (m < 0) {
        qmc_str names = {0};
        for (int i = 0; i < QMC_METHOD_COUNT; i++) qmc_str_printf(&names, "%s%s", i ? ", " : "", qmc_method_name((qmc_method)i));
        int rc = qmc_fail(QMC_ERR_ARG, "unknown quantization method '%s' (known: %s, mxint4, mxint8)", name,
                          names.s ? names.s : "");
        qmc_str_free(&names);
        return rc;
    }
    p->method = (qmc_method)m;
    const bool rho = m == QMC_METHOD_QMC || m == QMC_METHOD_QMC_GPTQ;
    if (rho) bits = 3;
    p->bits_in = bits;
    p->rho = rho ? p->rho : 0.0f;
    p->asym = p->asym && m != QMC_METHOD_MXINT && m != QMC_METHOD_MXFP4;
    if (default_bits) *default_bits = bits;
    if (uses_rho) *uses_rho = rho;
    return QMC_OK;
}
