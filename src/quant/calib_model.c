/* calib_model.c — one block linear of a model through its calibrated
 * quantizer (GPTQ, QMC+GPTQ, or AWQ's clipping on the folded weights). */
#include <math.h>
#include <string.h>

#include "quant/calib.h"
#include "util/util.h"

int qmc_calib_quantize_tensor(const qmc_model *m, const qmc_tensor *t, const qmc_calib_stats *st,
                              const qmc_calib_opts *o, const qmc_quant_params *p, qmc_tensor *dst,
                              qmc_quant_error *err) {
    int layer = -1, slot = -1;
    for (int l = 0; l < m->cfg.n_layers && slot < 0; l++)
        if ((slot = qmc_calib_slot_of(m, l, t)) >= 0) layer = l;
    if (slot < 0) return qmc_fail(QMC_ERR_ARG, "tensor '%s' is not a transformer-block linear", t->name);
    if (!st || layer >= st->n_layers) return qmc_fail(QMC_ERR_ARG, "no calibration statistics for tensor '%s'", t->name);
    const qmc_calib_input *in = &st->in[layer * QMC_SLOT_COUNT + slot];
    const int64_t rows = qmc_tensor_rows(t), cols = t->ne[0];
    if (in->cols != cols)
        return qmc_fail(QMC_ERR_ARG, "tensor '%s' has %lld columns, its calibration input %lld", t->name, (long long)cols,
                        (long long)in->cols);
    if (!qmc_type_is_plain_float(t->type) || !t->data)
        return qmc_fail(QMC_ERR_UNSUPPORTED, "tensor '%s' has type %s; only F32/F16/BF16 tensors can be quantized", t->name,
                        qmc_type_name(t->type));
    qmc_tensor f32 = {0};
    const float *w = t->data;
    int rc;
    if (t->type != QMC_TYPE_F32) {
        if ((rc = qmc_tensor_to_f32(t, &f32))) return rc;
        w = f32.data;
    }
    rc = QMC_OK;
    for (int64_t i = 0; i < rows * cols && !rc; i++)
        if (!(fabsf(w[i]) <= 65504.0f))
            rc = qmc_fail(QMC_ERR_UNSUPPORTED, "tensor '%s' has %g at row %lld, column %lld (non-finite or beyond F16 scales)",
                          t->name, (double)w[i], (long long)(i / cols), (long long)(i % cols));
    qmc_qtensor *q = NULL;
    if (!rc) rc = p->method == QMC_METHOD_AWQ ? qmc_awq_clip_matrix(w, rows, cols, in->h, p, o, &q, NULL, err)
                                              : qmc_gptq_matrix(w, rows, cols, in->h, p, o, &q, NULL, err);
    qmc_tensor_release(&f32);
    if (rc) return qmc_error_prefix(rc, "quantizing '%s'", t->name);
    qmc_tensor_init(dst, t->name, QMC_TYPE_PACKED, 2, cols, rows);
    dst->q = q;
    return QMC_OK;
}
