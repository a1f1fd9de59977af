/* tensor_out.c — see tensor_out.h. */
#include <string.h>

#include "model/tensor_out.h"

int64_t qmc_rope_source_row(int64_t r, int hd, qmc_row_order order) {
    if (order == QMC_ROWS_AS_IS || hd <= 0) return r;
    const int64_t head = r / hd, k = r % hd, half = hd / 2;
    switch (order) {
    case QMC_ROWS_NEOX_TO_NORM: /* output 2i+j <- input j*hd/2 + i */
        return head * hd + (k % 2) * half + k / 2;
    case QMC_ROWS_NORM_TO_NEOX: /* output j*hd/2 + i <- input 2i+j */
        return head * hd + 2 * (k % half) + k / half;
    case QMC_ROWS_AS_IS: break;
    }
    return r;
}

/* Encode n floats as `type` into out (F32: copied). */
static void encode_row(const float *row, qmc_type type, int64_t n, void *out) {
    if (type == QMC_TYPE_F32) memcpy(out, row, (size_t)n * sizeof(float));
    else if (type == QMC_TYPE_F16) qmc_f32_to_f16_row(row, out, n);
    else
        for (int64_t i = 0; i < n; i++) ((uint16_t *)out)[i] = qmc_f32_to_bf16(row[i]);
}

int qmc_tensor_job_fill(void *user, qmc_out *o) {
    const qmc_tensor_job *job = user;
    const qmc_tensor *t = job->src;
    const int64_t rows = qmc_tensor_rows(t), cols = t->ne[0];
    const int in_size = qmc_type_size(t->type), out_size = qmc_type_size(job->type);
    if (!qmc_type_is_plain_float(t->type) || !qmc_type_is_plain_float(job->type))
        return qmc_fail(QMC_ERR_UNSUPPORTED, "%s: cannot write a %s tensor as %s", t->name, qmc_type_name(t->type),
                        qmc_type_name(job->type));
    const bool reorder = job->order != QMC_ROWS_AS_IS;
    if (reorder && (job->head_dim <= 0 || job->head_dim % 2 || (t->n_dims == 1 ? cols : rows) % job->head_dim))
        return qmc_fail(QMC_ERR_STATE, "%s: cannot reorder for RoPE with head size %d", t->name, job->head_dim);
    if (t->type == job->type && !reorder) return qmc_out_write(o, t->data, (size_t)(rows * cols * in_size));
    float *row = qmc_alloc((size_t)cols, sizeof(float));
    float *perm = reorder && t->n_dims == 1 ? qmc_alloc((size_t)cols, sizeof(float)) : NULL;
    void *enc = qmc_alloc((size_t)cols, (size_t)out_size);
    int rc = row && enc && (perm || !(reorder && t->n_dims == 1)) ? QMC_OK : QMC_ERR_NOMEM;
    for (int64_t r = 0; r < rows && !rc; r++) {
        if (t->n_dims == 1 && reorder) { /* a Q/K bias: reorder its elements */
            qmc_tensor_get_row(t, r, row);
            for (int64_t i = 0; i < cols; i++) perm[i] = row[qmc_rope_source_row(i, job->head_dim, job->order)];
            encode_row(perm, job->type, cols, enc);
            rc = qmc_out_write(o, enc, (size_t)(cols * out_size));
            continue;
        }
        int64_t sr = t->n_dims == 2 ? qmc_rope_source_row(r, job->head_dim, job->order) : r;
        if (t->type == job->type) {
            rc = qmc_out_write(o, (const uint8_t *)t->data + sr * cols * in_size, (size_t)(cols * in_size));
            continue;
        }
        qmc_tensor_get_row(t, sr, row);
        encode_row(row, job->type, cols, enc);
        rc = qmc_out_write(o, enc, (size_t)(cols * out_size));
    }
    qmc_free(row);
    qmc_free(perm);
    qmc_free(enc);
    return rc;
}
