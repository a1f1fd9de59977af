/* tensor.h — the one weight abstraction of qmc.
 *
 * A qmc_tensor is what the loaders produce, the engine multiplies with, the
 * quantizers read and write, the noise injector perturbs and the simulator
 * measures.  Plain tensors (F32/F16/BF16) point at row-major elements, usually
 * straight into a memory-mapped file; packed tensors (QMC_TYPE_PACKED) carry a
 * qmc_qtensor: separate bit planes for inliers (ReRAM), outliers + positions
 * (MRAM) and scales — see src/quant/qtensor.h.
 *
 * Shapes follow GGUF/ggml: ne[0] is the innermost dimension.  A linear layer
 * y = W x with W of out_features x in_features has ne[0] = in_features
 * ("cols", the row length) and ne[1] = out_features ("rows"). */
#ifndef QMC_TENSOR_H
#define QMC_TENSOR_H

#include <stdbool.h>
#include <stdint.h>

#include "qmc.h"

/* Plain element types use the GGML type numbers, so GGUF files map 1:1. */
typedef enum {
    QMC_TYPE_F32 = 0,
    QMC_TYPE_F16 = 1,
    QMC_TYPE_I8 = 24,
    QMC_TYPE_I16 = 25,
    QMC_TYPE_I32 = 26,
    QMC_TYPE_BF16 = 30,
    QMC_TYPE_PACKED = 1000, /* qmc planes (not a GGML type: stored as several I8/F16 tensors) */
} qmc_type;

struct qmc_qtensor;

typedef struct qmc_tensor {
    char name[QMC_MAX_NAME];   /* GGUF name, e.g. "blk.0.attn_q.weight" */
    qmc_type type;
    int n_dims;                /* 1 or 2 for model weights */
    int64_t ne[4];             /* ne[0] innermost; unused dims are 1 */
    const void *data;          /* plain types: the elements (maybe mapped) */
    struct qmc_qtensor *q;     /* QMC_TYPE_PACKED: the planes (owned) */
    void *owned;               /* heap copy of data to release, or NULL */
} qmc_tensor;

static inline int64_t qmc_tensor_rows(const qmc_tensor *t) { return t->ne[1] * t->ne[2] * t->ne[3]; }
static inline int64_t qmc_tensor_cols(const qmc_tensor *t) { return t->ne[0]; }
static inline int64_t qmc_tensor_nelem(const qmc_tensor *t) {
    return t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3];
}

const char *qmc_type_name(qmc_type t);
/* Bytes per element for plain types, 0 for packed/unknown. */
int qmc_type_size(qmc_type t);
bool qmc_type_is_plain_float(qmc_type t); /* F32, F16, BF16 */

/* Decode row r of a 2-D tensor (any type) into out[cols] floats. */
void qmc_tensor_get_row(const qmc_tensor *t, int64_t r, float *out);
/* Stored bytes: elements for plain types, all planes for packed ones. */
int64_t qmc_tensor_nbytes(const qmc_tensor *t);
/* Release owned storage (data copy and packed planes). */
void qmc_tensor_release(qmc_tensor *t);
/* Make an owned F32 copy of any tensor (dequantized for packed ones). */
int qmc_tensor_to_f32(const qmc_tensor *src, qmc_tensor *dst);
/* Initialise a tensor header; n_dims 1 or 2. */
void qmc_tensor_init(qmc_tensor *t, const char *name, qmc_type type, int n_dims, int64_t ne0, int64_t ne1);

#endif
