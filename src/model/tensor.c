/* tensor.c — operations on the one tensor abstraction. */
#include <string.h>

#include "model/tensor.h"
#include "quant/qtensor.h"
#include "util/util.h"

const char *qmc_type_name(qmc_type t) {
    switch (t) {
    case QMC_TYPE_F32: return "F32";
    case QMC_TYPE_F16: return "F16";
    case QMC_TYPE_BF16: return "BF16";
    case QMC_TYPE_I8: return "I8";
    case QMC_TYPE_I16: return "I16";
    case QMC_TYPE_I32: return "I32";
    case QMC_TYPE_PACKED: return "PACKED";
    }
    return "?";
}

int qmc_type_size(qmc_type t) {
    switch (t) {
    case QMC_TYPE_F32: case QMC_TYPE_I32: return 4;
    case QMC_TYPE_F16: case QMC_TYPE_BF16: case QMC_TYPE_I16: return 2;
    case QMC_TYPE_I8: return 1;
    default: return 0;
    }
}

bool qmc_type_is_plain_float(qmc_type t) {
    return t == QMC_TYPE_F32 || t == QMC_TYPE_F16 || t == QMC_TYPE_BF16;
}

void qmc_tensor_init(qmc_tensor *t, const char *name, qmc_type type, int n_dims, int64_t ne0, int64_t ne1) {
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->type = type;
    t->n_dims = n_dims;
    t->ne[0] = ne0;
    t->ne[1] = n_dims > 1 ? ne1 : 1;
    t->ne[2] = t->ne[3] = 1;
}

void qmc_tensor_get_row(const qmc_tensor *t, int64_t r, float *out) {
    int64_t n = t->ne[0];
    switch (t->type) {
    case QMC_TYPE_F32: memcpy(out, (const float *)t->data + r * n, (size_t)n * sizeof(float)); break;
    case QMC_TYPE_F16: qmc_f16_to_f32_row((const uint16_t *)t->data + r * n, out, n); break;
    case QMC_TYPE_BF16: {
        const uint16_t *p = (const uint16_t *)t->data + r * n;
        for (int64_t i = 0; i < n; i++) out[i] = qmc_bf16_to_f32(p[i]);
        break;
    }
    case QMC_TYPE_PACKED: qmc_qt_decode_row(t->q, r, out); break;
    default: memset(out, 0, (size_t)n * sizeof(float)); break;
    }
}

int64_t qmc_tensor_nbytes(const qmc_tensor *t) {
    if (t->type == QMC_TYPE_PACKED) {
        qmc_plane_sizes s;
        qmc_qt_plane_sizes(t->q, &s);
        return s.total;
    }
    return qmc_tensor_nelem(t) * qmc_type_size(t->type);
}

void qmc_tensor_release(qmc_tensor *t) {
    qmc_free(t->owned);
    t->owned = NULL;
    if (t->q) qmc_qt_free(t->q);
    t->q = NULL;
    t->data = NULL;
}

int qmc_tensor_to_f32(const qmc_tensor *src, qmc_tensor *dst) {
    int64_t rows = qmc_tensor_rows(src), cols = src->ne[0];
    float *buf = qmc_alloc((size_t)rows, (size_t)cols * sizeof(float));
    if (!buf) return qmc_error_prefix(QMC_ERR_NOMEM, "%s", src->name);
    for (int64_t r = 0; r < rows; r++) qmc_tensor_get_row(src, r, buf + r * cols);
    qmc_tensor_init(dst, src->name, QMC_TYPE_F32, src->n_dims, src->ne[0], src->ne[1]);
    memcpy(dst->ne, src->ne, sizeof dst->ne);
    dst->data = buf;
    dst->owned = buf;
    return QMC_OK;
}
