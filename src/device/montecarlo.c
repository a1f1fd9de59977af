/* montecarlo.c — noisy model views and the trial loop (see montecarlo.h). */
#include <string.h>

#include "device/montecarlo.h"
#include "util/util.h"

typedef struct {
    const qmc_qtensor *clean;   /* planes of the loaded model (read only, maybe mapped) */
    qmc_qtensor *noisy;         /* owned clone that the view's tensor points at */
    int index;                  /* position in qmc_model_for_each_tensor order (part of the key) */
    int64_t hist[QMC_CELL_MAX_LEVELS]; /* written levels of the clean cells */
} noisy_entry;

struct qmc_noisy_model {
    qmc_model view;             /* shallow copy of the clean model, layers below */
    qmc_layer *layers;          /* copy of the clean layer array (tensor headers only) */
    qmc_noise_model nm;
    qmc_noise_scope scope;
    noisy_entry *e;
    int n, cap;
    int64_t hist[QMC_CELL_MAX_LEVELS];
    int next_index;
};

static int add_entry(qmc_model *view, qmc_tensor *t, int layer, void *user) {
    qmc_noisy_model *n = user;
    int index = n->next_index++;
    if (t->type != QMC_TYPE_PACKED || !t->q) return 0;
    if (n->scope == QMC_NOISE_SCOPE_BLOCKS && !qmc_tensor_is_block_linear(view, t)) return 0;
    if (n->n == n->cap) {
        int cap = n->cap ? 2 * n->cap : 16;
        noisy_entry *ne = qmc_realloc(n->e, (size_t)cap, sizeof *ne);
        if (!ne) return QMC_ERR_NOMEM;
        n->e = ne;
        n->cap = cap;
    }
    noisy_entry *e = &n->e[n->n];
    memset(e, 0, sizeof *e);
    e->clean = t->q;
    e->index = index;
    int rc = qmc_qt_clone(t->q, &e->noisy);
    if (rc) return qmc_error_prefix(rc, "tensor '%s'", t->name);
    qmc_noise_tensor_hist(e->clean, n->nm.cell.bits, n->nm.encoding, e->hist);
    for (int w = 0; w < QMC_CELL_MAX_LEVELS; w++) n->hist[w] += e->hist[w];
    t->q = e->noisy;
    n->n++;
    return 0;
}

int qmc_noisy_model_new(const qmc_model *clean, const qmc_noise_model *nm, qmc_noise_scope scope,
                        qmc_noisy_model **out) {
    *out = NULL;
    qmc_noisy_model *n = qmc_alloc(1, sizeof *n);
    if (!n) return QMC_ERR_NOMEM;
    n->nm = *nm;
    n->scope = scope;
    n->view = *clean;
    n->layers = qmc_alloc((size_t)clean->cfg.n_layers, sizeof(qmc_layer));
    if (!n->layers) {
        qmc_free(n);
        return QMC_ERR_NOMEM;
    }
    memcpy(n->layers, clean->layers, (size_t)clean->cfg.n_layers * sizeof(qmc_layer));
    n->view.layers = n->layers;
    int rc = qmc_model_for_each_tensor(&n->view, add_entry, n);
    if (!rc && n->n == 0)
        rc = qmc_fail(QMC_ERR_ARG, "%s: no packed %stensors: nothing is stored in ReRAM (quantize the model first)",
                      clean->path, scope == QMC_NOISE_SCOPE_BLOCKS ? "block-linear " : "");
    if (rc) {
        qmc_noisy_model_free(n);
        return rc;
    }
    *out = n;
    return QMC_OK;
}

void qmc_noisy_model_free(qmc_noisy_model *n) {
    if (!n) return;
    for (int i = 0; i < n->n; i++) qmc_qt_free(n->e[i].noisy);
    qmc_free(n->e);
    qmc_free(n->layers);
    qmc_free(n);
}

const qmc_model *qmc_noisy_model_view(const qmc_noisy_model *n) { return &n->view; }
int qmc_noisy_model_tensors(const qmc_noisy_model *n) { return n->n; }
const int64_t *qmc_noisy_model_hist(const qmc_noisy_model *n) { return n->hist; }

/* Copy the clean planes that injection may have changed back into the clone. */
static void restore_entry(const noisy_entry *e, bool mram) {
    const qmc_qtensor *c = e->clean;
    qmc_qtensor *q = e->noisy;
    memcpy(qmc_qt_mut(q->in_codes), c->in_codes, c->in_codes_bytes);
    if (!mram) return;
    qmc_plane_sizes s;
    qmc_qt_plane_sizes(c, &s);
    memcpy(qmc_qt_mut(q->in_scale), c->in_scale, (size_t)s.in_scale);
    if (s.in_min) memcpy(qmc_qt_mut(q->in_min), c->in_min, (size_t)s.in_min);
    if (c->n_out > 0) {
        memcpy(qmc_qt_mut(q->out_codes), c->out_codes, c->out_codes_bytes);
        memcpy(qmc_qt_mut(q->out_scale), c->out_scale, (size_t)s.out_scale);
        if (s.out_min) memcpy(qmc_qt_mut(q->out_min), c->out_min, (size_t)s.out_min);
    }
}

void qmc_noisy_model_restore(qmc_noisy_model *n) {
    for (int i = 0; i < n->n; i++) restore_entry(&n->e[i], n->nm.mram_ber > 0);
}

int qmc_noisy_model_draw(qmc_noisy_model *n, uint64_t seed, int64_t trial, qmc_noise_counts *counts) {
    memset(counts, 0, sizeof *counts);
    const uint64_t trial_key = qmc_rand_u64(qmc_key(seed, "qmc-noise"), (uint64_t)trial);
    for (int i = 0; i < n->n; i++) {
        noisy_entry *e = &n->e[i];
        restore_entry(e, n->nm.mram_ber > 0);
        qmc_noise_counts c;
        int rc = qmc_noise_inject(e->noisy, &n->nm, e->hist, qmc_rand_u64(trial_key, (uint64_t)e->index), &c);
        if (rc) return rc;
        qmc_noise_counts_add(counts, &c);
    }
    return QMC_OK;
}

int qmc_noise_trials(qmc_noisy_model *n, int n_trials, uint64_t seed, qmc_trial_eval_fn eval, void *user,
                     qmc_trial_result *out, void (*on_trial)(int trial, const qmc_trial_result *r, void *user)) {
    if (n_trials < 1) return qmc_fail(QMC_ERR_ARG, "the number of trials must be at least 1 (got %d)", n_trials);
    for (int t = 0; t < n_trials; t++) {
        double t0 = qmc_now();
        qmc_trial_result *r = &out[t];
        memset(r, 0, sizeof *r);
        int rc = qmc_noisy_model_draw(n, seed, t, &r->counts);
        if (!rc) rc = eval(&n->view, user, &r->value);
        if (rc) return qmc_error_prefix(rc, "noise trial %d", t);
        r->seconds = qmc_now() - t0;
        if (on_trial) on_trial(t, r, user);
    }
    qmc_noisy_model_restore(n);
    return QMC_OK;
}
