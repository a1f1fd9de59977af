/* quantize.h — every quantizer of qmc, behind one interface.
 *
 * All methods (QMC, RTN per-channel / per-group, MXINT4, MXFP4, and the
 * calibrated GPTQ / AWQ / QMC+GPTQ) turn a plain tensor into a packed
 * tensor (quant/qtensor.h), so the engine, the noise injector and the
 * simulator treat their outputs alike. */
#ifndef QMC_QUANTIZE_H
#define QMC_QUANTIZE_H

#include <stdbool.h>
#include <stdint.h>

#include "model/model.h"
#include "quant/qtensor.h"

typedef struct {
    qmc_method method;   /* QMC_METHOD_QMC, _RTN, _MXINT, _MXFP4 (GPTQ/AWQ: quant/calib.h) */
    float rho;           /* QMC: fraction of weights kept as outliers, [0, 1) */
    int bits_in;         /* inlier / main code width, 2..8 */
    int bits_out;        /* QMC outlier code width, 2..8 */
    int group;           /* columns per scale group; 0 = per output channel */
    bool asym;           /* asymmetric (scale + offset) instead of symmetric */
    int grid;            /* scale candidates of the 1-D search (0: default) */
    float grid_lo;       /* smallest candidate as a fraction of the max-abs scale (0: default) */
    /* Noise-aware inlier loss: ||W - Q(W;s)||^2 + n (p_minus + p_plus) Delta(s)^2.
     * p_minus/p_plus: probability that a ReRAM cell reads one level low/high.
     * Both 0 = plain MSE. */
    double p_minus, p_plus;
} qmc_quant_params;

/* Defaults of the paper: QMC, rho 0.3, 3-bit inliers, 5-bit outliers,
 * per-channel symmetric, plain MSE. */
void qmc_quant_params_default(qmc_quant_params *p);
/* Validate parameters (rho in [0,1), bits in 2..8, ...); message names the option. */
int qmc_quant_params_check(const qmc_quant_params *p);

/* Quantize one 2-D plain tensor into a new packed tensor (same name and shape). */
int qmc_quantize_tensor(const qmc_tensor *src, const qmc_quant_params *p, qmc_tensor *dst);

#endif
