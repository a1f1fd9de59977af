/* calib_stats.c — calibration statistics (calib.h): H = 2/N X^T X and mean |x|
 * of every block linear's input, from one pass of the model over calibration
 * tokens. */
#include <cblas.h>
#include <math.h>
#include <string.h>

#include "engine/engine.h"
#include "quant/calib.h"
#include "util/util.h"

void qmc_calib_opts_default(qmc_calib_opts *o) {
    memset(o, 0, sizeof *o);
    o->damp = 0.01;
    o->block = 128;
    o->awq_grid = 20;
    o->clip_grid = 20;
    o->clip_max_shrink = 0.5;
}

int qmc_calib_slot_of(const qmc_model *m, int layer, const qmc_tensor *t) {
    if (layer < 0 || layer >= m->cfg.n_layers) return -1;
    const qmc_layer *L = &m->layers[layer];
    if (t == &L->wq || t == &L->wk || t == &L->wv) return QMC_SLOT_ATTN_IN;
    if (t == &L->wo) return QMC_SLOT_ATTN_OUT;
    if (t == &L->w_gate || t == &L->w_up) return QMC_SLOT_FFN_IN;
    if (t == &L->w_down) return QMC_SLOT_FFN_MID;
    return -1;
}

int qmc_calib_input_init(qmc_calib_input *in, int64_t cols) {
    memset(in, 0, sizeof *in);
    qmc_calib_blas_serial();
    int64_t nn;
    if (cols <= 0 || !qmc_mul_ok(cols, cols, &nn)) return qmc_fail(QMC_ERR_ARG, "calibration input of %lld columns", (long long)cols);
    in->cols = cols;
    in->h = qmc_alloc((size_t)nn, sizeof(double));
    in->absmean = qmc_alloc((size_t)cols, sizeof(double));
    if (!in->h || !in->absmean) {
        qmc_calib_input_free(in);
        return qmc_error_prefix(QMC_ERR_NOMEM, "calibration statistics of %lld columns", (long long)cols);
    }
    return QMC_OK;
}

/* Sums of x x^T (upper triangle) and |x| over x[n][cols].  BLAS runs on one
 * thread (see calib_blas_serial), so the sums are the same whatever the
 * thread count. */
void qmc_calib_input_add(qmc_calib_input *in, const float *x, int64_t n) {
    const int64_t cols = in->cols;
    enum { CHUNK = 64 };
    double buf[CHUNK * 64];
    double *xd = cols <= 64 ? buf : qmc_alloc((size_t)(CHUNK * cols), sizeof(double));
    for (int64_t t0 = 0; t0 < n; t0 += CHUNK) {
        const int64_t k = QMC_MIN((int64_t)CHUNK, n - t0);
        for (int64_t t = 0; t < k; t++)
            for (int64_t c = 0; c < cols; c++) {
                double v = x[(t0 + t) * cols + c];
                in->absmean[c] += fabs(v);
                if (xd) xd[t * cols + c] = v;
            }
        if (xd) cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)cols, (int)k, 1.0, xd, (int)cols, 1.0, in->h,
                            (int)cols);
        else /* no memory for the chunk: the same sums, slowly */
            for (int64_t t = 0; t < k; t++)
                for (int64_t i = 0; i < cols; i++)
                    for (int64_t j = i; j < cols; j++)
                        in->h[i * cols + j] += (double)x[(t0 + t) * cols + i] * (double)x[(t0 + t) * cols + j];
    }
    if (xd != buf) qmc_free(xd);
}

void qmc_calib_input_finish(qmc_calib_input *in, int64_t n) {
    const int64_t cols = in->cols;
    const double f = n > 0 ? 2.0 / (double)n : 0.0;
    for (int64_t i = 0; i < cols; i++) {
        in->absmean[i] = n > 0 ? in->absmean[i] / (double)n : 0.0;
        for (int64_t j = i; j < cols; j++) {
            in->h[i * cols + j] *= f;
            in->h[j * cols + i] = in->h[i * cols + j];
        }
    }
}

void qmc_calib_input_free(qmc_calib_input *in) {
    if (!in) return;
    qmc_free(in->h);
    qmc_free(in->absmean);
    memset(in, 0, sizeof *in);
}

void qmc_calib_stats_free(qmc_calib_stats *s) {
    if (!s) return;
    if (s->in)
        for (int i = 0; i < s->n_layers * QMC_SLOT_COUNT; i++) qmc_calib_input_free(&s->in[i]);
    qmc_free(s->in);
    qmc_free(s);
}

/* ---- collection through the engine's capture hook ------------------------------ */

typedef struct {
    const qmc_model *m;
    qmc_calib_stats *st;
} capture_ctx;

static void capture(void *user, int layer, const qmc_tensor *w, const float *x, int n_tok) {
    capture_ctx *c = user;
    const qmc_layer *L = &c->m->layers[layer];
    /* each input once: the first linear that reads it */
    if (w != &L->wq && w != &L->wo && w != &L->w_gate && w != &L->w_down) return;
    int slot = qmc_calib_slot_of(c->m, layer, w);
    qmc_calib_input_add(&c->st->in[layer * QMC_SLOT_COUNT + slot], x, n_tok);
}

int qmc_calib_collect(const qmc_model *m, const int32_t *tokens, int64_t n, int ctx,
                      void (*progress)(void *user, double done), void *user, qmc_calib_stats **out) {
    *out = NULL;
    const qmc_config *c = &m->cfg;
    if (n <= 0) return qmc_fail(QMC_ERR_ARG, "no calibration tokens");
    if (ctx < 2) return qmc_fail(QMC_ERR_ARG, "calibration context of %d tokens is too short (at least 2)", ctx);
    for (int l = 0; l < c->n_layers; l++) {
        const qmc_layer *L = &m->layers[l];
        const qmc_tensor *ts[7] = {&L->wq, &L->wk, &L->wv, &L->wo, &L->w_gate, &L->w_up, &L->w_down};
        for (int i = 0; i < 7; i++)
            if (!qmc_type_is_plain_float(ts[i]->type))
                return qmc_fail(QMC_ERR_UNSUPPORTED, "%s: tensor '%s' is already quantized; calibrate on the original model",
                                m->path, ts[i]->name);
    }
    const int32_t bos = c->bos_id >= 0 && c->bos_id < c->vocab_size ? c->bos_id : 1;
    qmc_calib_stats *st = qmc_alloc(1, sizeof *st);
    if (!st) return QMC_ERR_NOMEM;
    st->n_layers = c->n_layers;
    st->in = qmc_alloc((size_t)c->n_layers * QMC_SLOT_COUNT, sizeof *st->in);
    int32_t *win = qmc_alloc((size_t)ctx, sizeof(int32_t));
    qmc_session *s = NULL;
    int rc = !st->in || !win ? QMC_ERR_NOMEM : QMC_OK;
    const int64_t qd = (int64_t)c->n_heads * c->head_dim;
    for (int l = 0; l < c->n_layers && !rc; l++) {
        const int64_t cols[QMC_SLOT_COUNT] = {c->dim, qd, c->dim, c->hidden_dim};
        for (int k = 0; k < QMC_SLOT_COUNT && !rc; k++) rc = qmc_calib_input_init(&st->in[l * QMC_SLOT_COUNT + k], cols[k]);
    }
    if (!rc) rc = qmc_session_new(m, ctx, &s);
    if (!rc) {
        capture_ctx cc = {m, st};
        s->capture = capture;
        s->capture_user = &cc;
        int64_t run = 0;
        for (int64_t done = 0; done < n && !rc;) {
            const int64_t k = QMC_MIN((int64_t)ctx - 1, n - done);
            win[0] = bos;
            memcpy(win + 1, tokens + done, (size_t)k * sizeof(int32_t));
            rc = qmc_forward(s, win, (int)k + 1, 0, NULL, false);
            done += k;
            run += k + 1;
            if (progress) progress(user, (double)done / (double)n);
        }
        st->n_tokens = run;
    }
    if (!rc)
        for (int i = 0; i < c->n_layers * QMC_SLOT_COUNT; i++) qmc_calib_input_finish(&st->in[i], st->n_tokens);
    qmc_session_free(s);
    qmc_free(win);
    if (rc) {
        qmc_calib_stats_free(st);
        return rc;
    }
    *out = st;
    return QMC_OK;
}
