/* calib.h — calibrated quantizers: GPTQ, AWQ and QMC+GPTQ.
 *
 * Calibration statistics come from one pass of the unquantized model over
 * calibration tokens (engine capture hook, engine/engine.h).  For every block
 * and every distinct input of its linears (the "slots" below) they hold
 *   H      = 2/N * sum_t x_t x_t^T     (cols x cols, double; GPTQ's Hessian)
 *   absmean = 1/N * sum_t |x_t|        (cols; AWQ's activation scale)
 * over the N calibration tokens.  Each linear's output error
 * ||X W^T - X Q^T||_F^2 / N equals 1/2 * sum_r (w_r - q_r)^T H (w_r - q_r), so
 * both GPTQ and AWQ work from H alone.  The algorithms, defaults and choices are
 * described in docs/calibration.md. */
#ifndef QMC_CALIB_H
#define QMC_CALIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/model.h"
#include "quant/quantize.h"

/* The inputs a block's linears see. */
typedef enum {
    QMC_SLOT_ATTN_IN = 0,   /* rmsnorm(x): wq, wk, wv */
    QMC_SLOT_ATTN_OUT = 1,  /* attention output: wo */
    QMC_SLOT_FFN_IN = 2,    /* rmsnorm(x): w_gate, w_up */
    QMC_SLOT_FFN_MID = 3,   /* silu(gate) * up: w_down */
    QMC_SLOT_COUNT
} qmc_calib_slot;

typedef struct {
    int64_t cols;
    double *h;        /* [cols][cols] 2/N X^T X (full symmetric matrix) */
    double *absmean;  /* [cols] mean |x| per input channel */
} qmc_calib_input;

typedef struct qmc_calib_stats {
    int n_layers;
    int64_t n_tokens;              /* tokens run (N) */
    qmc_calib_input *in;           /* [n_layers][QMC_SLOT_COUNT] */
} qmc_calib_stats;

/* Algorithm settings (defaults: qmc_calib_opts_default). */
typedef struct qmc_calib_opts {
    double damp;          /* GPTQ: damping, fraction of mean(diag H) added to the diagonal (0.01) */
    bool act_order;       /* GPTQ: columns in decreasing diag(H) order */
    int block;            /* GPTQ: columns per lazy batch (128) */
    int awq_grid;         /* AWQ: alpha candidates i/awq_grid, i = 0..awq_grid-1 (20) */
    int clip_grid;        /* AWQ: clipping candidates (20) */
    double clip_max_shrink; /* AWQ: largest shrink of the max range (0.5) */
} qmc_calib_opts;

void qmc_calib_opts_default(qmc_calib_opts *o);

/* Which slot a block linear reads, or -1 when t is not one of layer's linears. */
int qmc_calib_slot_of(const qmc_model *m, int layer, const qmc_tensor *t);

/* Run the (unquantized) model over tokens[n] (no BOS; each window of ctx
 * tokens is run as BOS + ctx-1 tokens, as the `full` perplexity protocol) and
 * accumulate the statistics.  progress(user, fraction) may be NULL. */
int qmc_calib_collect(const qmc_model *m, const int32_t *tokens, int64_t n, int ctx,
                      void (*progress)(void *user, double done), void *user, qmc_calib_stats **out);
/* Statistics of one input from explicit activations x[n][cols] (tests, and collect). */
int qmc_calib_input_init(qmc_calib_input *in, int64_t cols);
void qmc_calib_input_add(qmc_calib_input *in, const float *x, int64_t n);
/* Turn the sums of n tokens into the means above. */
void qmc_calib_input_finish(qmc_calib_input *in, int64_t n);
void qmc_calib_input_free(qmc_calib_input *in);
void qmc_calib_stats_free(qmc_calib_stats *s);

/* The default calibration text (a WikiText-2 valid slice, data/text/README.md),
 * looked up like the simulator's data files ($QMC_DATA, <binary>/../data, ...). */
#define QMC_CALIB_DEFAULT_TEXT "text/wikitext2-valid-slice.txt"
#define QMC_CALIB_DEFAULT_TOKENS 2048
int qmc_calib_default_text(char *out, size_t cap);
/* Statistics from the text file at path (carriage returns removed, tokenised
 * with m's tokenizer): the first *n_tokens tokens (lowered to the text's count
 * when it has fewer) in windows of *ctx tokens incl. BOS (0: the model's
 * context, at most 2048; set on return).  An empty text is an error. */
int qmc_calib_collect_text(const qmc_model *m, const char *path, int64_t *n_tokens, int *ctx,
                           void (*progress)(void *user, double done), void *user, qmc_calib_stats **out);

/* ---- one matrix -------------------------------------------------------------
 * w[rows][cols] F32, H of its input.  Outputs a packed tensor of the same kind
 * as RTN (GPTQ, AWQ) or QMC (QMC+GPTQ), the reconstruction deq[rows*cols]
 * (NULL to skip) and the weight error.  p: method QMC_METHOD_GPTQ /
 * QMC_METHOD_QMC_GPTQ / QMC_METHOD_AWQ, bits, group, asym, rho (QMC+GPTQ). */
int qmc_gptq_matrix(const float *w, int64_t rows, int64_t cols, const double *h, const qmc_quant_params *p,
                    const qmc_calib_opts *o, qmc_qtensor **out, float *deq, qmc_quant_error *err);
/* AWQ's clipping search and RTN (on weights already scaled by AWQ). */
int qmc_awq_clip_matrix(const float *w, int64_t rows, int64_t cols, const double *h, const qmc_quant_params *p,
                        const qmc_calib_opts *o, qmc_qtensor **out, float *deq, qmc_quant_error *err);
/* Output error 1/2 sum_r (w_r - q_r)^T H (w_r - q_r) of a reconstruction. */
double qmc_calib_output_error(const float *w, const float *q, int64_t rows, int64_t cols, const double *h);

/* ---- AWQ scales ----------------------------------------------------------------
 * The per-input-channel scale s of a set of linears sharing one input:
 * s_alpha = absmean^alpha, normalised by sqrt(max*min), alpha = i/awq_grid; the
 * alpha minimising the summed output error of RTN(W diag(s)) diag(s)^-1 wins.
 * ws[k] are [rows[k]][cols].  Writes s[cols] and the chosen alpha. */
int qmc_awq_search_scale(const float *const *ws, const int64_t *rows, int n_w, const qmc_calib_input *in,
                         const qmc_quant_params *p, const qmc_calib_opts *o, float *s, double *alpha);
/* Search and fold AWQ scales into the model (in place; touched tensors become
 * owned F32): RMSNorm weights / previous linears divided by s, the following
 * linears' columns multiplied by s, and the statistics transformed alike
 * (H <- S^-1 H S^-1).  The model computes the same function afterwards. */
int qmc_awq_fold_model(qmc_model *m, qmc_calib_stats *st, const qmc_quant_params *p, const qmc_calib_opts *o);

/* ---- whole tensors ------------------------------------------------------------ */
/* Quantize block linear t of layer with its calibration statistics. */
int qmc_calib_quantize_tensor(const qmc_model *m, const qmc_tensor *t, const qmc_calib_stats *st,
                              const qmc_calib_opts *o, const qmc_quant_params *p, qmc_tensor *dst,
                              qmc_quant_error *err);
/* True for GPTQ, AWQ and QMC+GPTQ. */
static inline bool qmc_method_is_calibrated(qmc_method m) {
    return m == QMC_METHOD_GPTQ || m == QMC_METHOD_AWQ || m == QMC_METHOD_QMC_GPTQ;
}

/* BLAS on one thread: the sums of H and of GPTQ's deferred updates are then
 * the same whatever the thread count (our own parallel loops split rows). */
void qmc_calib_blas_serial(void);

/* ---- packing -------------------------------------------------------------------
 * A packed uniform-integer tensor from per-element codes: codes[rows*cols]
 * (one byte each, row-major), outlier[rows*cols] (non-zero: outlier; NULL when
 * fout.bits == 0), per (row, group) F16 scale/offset of the inliers and per-row
 * scale/offset of the outliers (offsets ignored when symmetric). */
int qmc_pack_int_tensor(int64_t rows, int64_t cols, qmc_plane_fmt fin, qmc_plane_fmt fout, const uint8_t *codes,
                        const uint8_t *outlier, const uint16_t *in_d, const uint16_t *in_m, const uint16_t *out_d,
                        const uint16_t *out_m, qmc_qtensor **out);

#endif
