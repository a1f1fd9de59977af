/* calib_pack.c — what the calibrated quantizers share: packing per-element
 * codes into a qtensor, and the output error of a reconstruction under H. */
#include <cblas.h>
#include <string.h>

#include "quant/calib.h"
#include "quant/fit.h"
#include "util/util.h"

void qmc_calib_blas_serial(void) {
    static int done;
    if (!done) openblas_set_num_threads(1);
    done = 1;
}

int qmc_pack_int_tensor(int64_t rows, int64_t cols, qmc_plane_fmt fin, qmc_plane_fmt fout, const uint8_t *codes,
                        const uint8_t *outlier, const uint16_t *in_d, const uint16_t *in_m, const uint16_t *out_d,
                        const uint16_t *out_m, qmc_qtensor **out) {
    *out = NULL;
    const int64_t n = rows * cols;
    int64_t n_out = 0;
    if (outlier && fout.bits)
        for (int64_t i = 0; i < n; i++) n_out += outlier[i] != 0;
    qmc_qtensor *q;
    int rc = qmc_qt_alloc(rows, cols, fin, n_out ? fout : (qmc_plane_fmt){0}, n_out, &q);
    if (rc) return rc;
    if (n_out) {
        uint8_t *mask = qmc_qt_mut(q->mask);
        for (int64_t i = 0; i < n; i++)
            if (outlier[i]) mask[i >> 3] |= (uint8_t)(1u << (i & 7));
    }
    if ((rc = qmc_qt_finish(q))) goto fail;
    const int64_t ng = qmc_qt_groups(q);
    for (int64_t i = 0; i < rows * ng; i++) {
        memcpy(qmc_qt_mut(q->in_scale) + 2 * i, &in_d[i], 2);
        if (fin.asym) memcpy(qmc_qt_mut(q->in_min) + 2 * i, &in_m[i], 2);
    }
    if (n_out)
        for (int64_t r = 0; r < rows; r++) {
            memcpy(qmc_qt_mut(q->out_scale) + 2 * r, &out_d[r], 2);
            if (fout.asym) memcpy(qmc_qt_mut(q->out_min) + 2 * r, &out_m[r], 2);
        }
    uint8_t *cin = qmc_alloc((size_t)(n - n_out) + 1, 1), *cout = qmc_alloc((size_t)n_out + 1, 1);
    if (!cin || !cout) rc = QMC_ERR_NOMEM;
    else {
        int64_t ni = 0, no = 0;
        for (int64_t i = 0; i < n; i++) {
            if (n_out && outlier[i]) cout[no++] = codes[i];
            else cin[ni++] = codes[i];
        }
        qmc_pack_codes(cin, ni, fin.bits, qmc_qt_mut(q->in_codes));
        if (n_out) qmc_pack_codes(cout, no, fout.bits, qmc_qt_mut(q->out_codes));
    }
    qmc_free(cin);
    qmc_free(cout);
    if (rc) goto fail;
    *out = q;
    return QMC_OK;
fail:
    qmc_qt_free(q);
    return rc;
}

double qmc_calib_output_error(const float *w, const float *q, int64_t rows, int64_t cols, const double *h) {
    qmc_calib_blas_serial();
    double total = 0;
    double *e = qmc_alloc((size_t)cols * 2, sizeof(double));
    if (!e) return -1.0;
    double *he = e + cols;
    for (int64_t r = 0; r < rows; r++) {
        for (int64_t c = 0; c < cols; c++) e[c] = (double)w[r * cols + c] - (double)q[r * cols + c];
        cblas_dsymv(CblasRowMajor, CblasUpper, (int)cols, 1.0, h, (int)cols, e, 1, 0.0, he, 1);
        total += cblas_ddot((int)cols, e, 1, he, 1);
    }
    qmc_free(e);
    return 0.5 * total;
}
