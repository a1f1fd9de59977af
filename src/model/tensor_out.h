/* tensor_out.h — writing a tensor's elements into an output file (GGUF or
 * safetensors), converted to another element type and, for attention Q/K
 * weights and biases, reordered between the two RoPE conventions.
 *
 * Adjacent-pair RoPE (QMC_ROPE_NORM: llama2.c, GGUF llama) rotates the pairs
 * (x[2i], x[2i+1]) of each head; half-split RoPE (QMC_ROPE_NEOX: Hugging Face)
 * rotates (x[i], x[i+hd/2]).  Reordering the rows of W_q and W_k (and the
 * elements of their biases) within every head turns one into the other
 * without changing the model's outputs. */
#ifndef QMC_TENSOR_OUT_H
#define QMC_TENSOR_OUT_H

#include "model/tensor.h"
#include "util/util.h"

typedef enum {
    QMC_ROWS_AS_IS = 0,
    QMC_ROWS_NEOX_TO_NORM = 1, /* HF -> GGUF llama (convert_hf_to_gguf.py's permute) */
    QMC_ROWS_NORM_TO_NEOX = 2, /* llama2.c / GGUF llama -> HF (its inverse) */
} qmc_row_order;

/* One tensor to write; pass it as the user pointer of qmc_tensor_job_fill. */
typedef struct {
    const qmc_tensor *src;  /* plain F32/F16/BF16 tensor (1-D vectors or 2-D [rows x cols]) */
    qmc_type type;          /* element type written: F32, F16 or BF16 */
    qmc_row_order order;    /* reordering of rows (2-D) or elements (1-D) within each head */
    int head_dim;           /* head size for the reordering */
} qmc_tensor_job;

/* Index in the source of row (or element) r of the output, head size hd. */
int64_t qmc_rope_source_row(int64_t r, int hd, qmc_row_order order);
/* Write the job's elements (a gguf_fill_fn). */
int qmc_tensor_job_fill(void *job, qmc_out *o);

#endif
