/* quantize.h — every quantizer of qmc, behind one interface.
 *
 * All methods (QMC, RTN per-channel / per-group, MXINT4, MXFP4, and the
 * calibrated GPTQ / AWQ / QMC+GPTQ) turn a plain tensor into a packed
 * tensor (quant/qtensor.h), so the engine, the noise injector and the
 * simulator treat their outputs alike.  The algorithms, the scale grid and
 * the storage accounting are described in docs/quantization.md. */
#ifndef QMC_QUANTIZE_H
#define QMC_QUANTIZE_H

#include <stdbool.h>
#include <stdint.h>

#include "model/model.h"
#include "quant/qtensor.h"

typedef struct {
    qmc_method method;   /* QMC_METHOD_QMC, _RTN, _MXINT, _MXFP4; _GPTQ, _AWQ, _QMC_GPTQ need calibration (quant/calib.h) */
    float rho;           /* QMC, QMC+GPTQ: fraction of weights kept as outliers, [0, 1) */
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

/* Grid defaults (chosen by measurement, docs/quantization.md). RTN uses one
 * candidate (f = 1: the max-abs scale) unless a grid is given. */
#define QMC_GRID_DEFAULT 100
#define QMC_GRID_LO_DEFAULT 0.25f
#define QMC_MX_BLOCK 32      /* OCP MX block size */

/* Defaults of the paper: QMC, rho 0.3, 3-bit inliers, 5-bit outliers, per
 * output channel, plain MSE; asymmetric planes (the paper does not say; chosen
 * by measurement, docs/quantization.md). */
void qmc_quant_params_default(qmc_quant_params *p);
/* Parameters for a method named on a command line or in a study config:
 * "qmc", "rtn", "mxint4" (alias "mxint"), "mxint8", "mxfp4", and any other
 * qmc_method_name() (e.g. "gptq", "awq", "qmc-gptq").  Resets *p to the
 * defaults, sets the method, its default code width (*default_bits: qmc 3,
 * mxint8 8, others 4), rho (qmc 0.3, others 0) and symmetry (MX formats are
 * symmetric).  *uses_rho (may be NULL) says whether the method has an
 * outlier fraction.  Unknown names fail with a message listing the names. */
int qmc_quant_params_for_method(const char *name, qmc_quant_params *p, int *default_bits, bool *uses_rho);
/* Validate parameters (rho in [0,1), bits in 2..8, ...); message names the option. */
int qmc_quant_params_check(const qmc_quant_params *p);
/* The grid a method actually uses (resolving the 0 = default fields). */
void qmc_quant_params_resolve(const qmc_quant_params *p, int *grid, float *grid_lo);

/* Quantize one 2-D plain tensor into a new packed tensor (same name and shape). */
int qmc_quantize_tensor(const qmc_tensor *src, const qmc_quant_params *p, qmc_tensor *dst);

/* Reconstruction error of a quantization, accumulated in double. */
typedef struct {
    double sse;      /* sum over weights of (w - w_hat)^2 */
    double energy;   /* sum over weights of w^2 */
    int64_t n;       /* weights */
} qmc_quant_error;
/* Same as qmc_quantize_tensor, also writing the quantizer's own
 * reconstruction deq[rows*cols] (from its codes, before packing; NULL to
 * skip) and the error (NULL to skip). */
int qmc_quantize_tensor_ex(const qmc_tensor *src, const qmc_quant_params *p, qmc_tensor *dst, float *deq,
                           qmc_quant_error *err);

/* ---- whole models ------------------------------------------------------- */

typedef struct {
    qmc_quant_params blocks;  /* the transformer-block linears */
    int embed_bits;           /* token embedding and output head: RTN INT<embed_bits> per row,
                                 symmetric max-abs (default 8); 0 keeps them as stored */
    bool quantize_embeddings; /* quantize embedding and head with `blocks` instead */
    /* GPTQ / AWQ / QMC+GPTQ (quant/calib.h): statistics of the model's block
     * inputs (AWQ transforms them while folding its scales) and settings */
    struct qmc_calib_stats *calib;
    const struct qmc_calib_opts *calib_opts;
    /* progress: fraction of weights done, and the tensor being quantized (may be NULL) */
    void (*progress)(void *user, double done, const char *tensor);
    void *progress_user;
} qmc_model_quant_opts;

void qmc_model_quant_opts_default(qmc_model_quant_opts *o);

/* What happened to one tensor. */
typedef struct {
    char name[QMC_MAX_NAME];
    int64_t rows, cols;
    bool block_linear;        /* one of the transformer-block linears */
    bool quantized;           /* now packed */
    qmc_quant_error err;      /* reconstruction error (quantized tensors) */
} qmc_tensor_quant_report;

typedef struct {
    qmc_tensor_quant_report *tensors;
    int n_tensors;
    double seconds;
} qmc_model_quant_report;

/* Quantize the model in place: the chosen tensors become packed (the
 * others stay as they are).  Fails, naming the tensor, on unsupported
 * sources (already packed, non-finite values, values beyond F16 scales).
 * rep may be NULL; free it with qmc_model_quant_report_free. */
int qmc_quantize_model(qmc_model *m, const qmc_model_quant_opts *o, qmc_model_quant_report *rep);
void qmc_model_quant_report_free(qmc_model_quant_report *rep);

/* ---- the packed model file ------------------------------------------------
 * Global metadata of a .qmc.gguf (the per-tensor formats are in the
 * "qmc.tensor.NAME" descriptors, quant/packfile.h). */
#define QMC_PACKED_FORMAT_VERSION 1
typedef struct {
    qmc_model_quant_opts opts;
    int mlc_bits;             /* ReRAM cell mode: bits per MLC cell, 2 or 3 */
    const char *device;       /* device-noise profile name, or "none" */
    const char *source;       /* source model path (recorded by basename) */
    const char *calib_text;   /* calibrated methods: calibration text (by basename), else NULL */
    int64_t calib_tokens;     /* calibration tokens run */
    const char *p_source;     /* where opts.blocks.p_minus/p_plus came from: "none" (NULL), "device",
                                 "explicit" or "device+explicit" */
    const char *encoding;     /* level encoding of the cells the pair was derived for (NULL: none) */
} qmc_quant_meta;
/* Write the quantized model m with its qmc.* keys (crash-safe). */
int qmc_save_quantized(const qmc_model *m, const qmc_quant_meta *meta, const char *path);

/* ---- storage accounting ---------------------------------------------------
 * Bits per weight over a set of tensors.  nominal: the paper's count
 * ((1-rho)*bits_in + rho*bits_out for packed tensors, the element width for
 * plain ones); honest: every stored byte (planes incl. positions, scales,
 * stream padding), split by plane. */
typedef struct {
    int64_t weights;
    double nominal_bits;      /* sum of nominal bits */
    int64_t bytes;            /* all stored bytes */
    int64_t in_codes, in_scales, mask, out_codes, out_scales, plain; /* bytes by plane */
} qmc_bpw_acc;
void qmc_bpw_add(qmc_bpw_acc *a, const qmc_tensor *t);
static inline double qmc_bpw_nominal(const qmc_bpw_acc *a) { return a->weights ? a->nominal_bits / (double)a->weights : 0; }
static inline double qmc_bpw_honest(const qmc_bpw_acc *a) { return a->weights ? 8.0 * (double)a->bytes / (double)a->weights : 0; }
static inline double qmc_bpw_of(const qmc_bpw_acc *a, int64_t bytes) { return a->weights ? 8.0 * (double)bytes / (double)a->weights : 0; }

/* Model totals: the block linears, and every 2-D weight (embedding and head included). */
typedef struct { qmc_bpw_acc blocks, all; } qmc_model_bpw;
void qmc_model_bpw_compute(const qmc_model *m, qmc_model_bpw *out);

#endif
