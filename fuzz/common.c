/* common.c — registry, checks and helpers shared by the fuzz targets. */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "fuzz.h"
#include "model/model.h"
#include "model/tokenizer.h"
#include "quant/qtensor.h"
#include "sim/sim.h"

#define MAX_TARGETS 64

static qmc_fuzz_target g_targets[MAX_TARGETS];
static int g_n;

void qmc_fuzz_register(const char *name, qmc_fuzz_fn run) {
    if (g_n == MAX_TARGETS) abort();
    int i = g_n++;
    /* insertion sort by name: constructors run in link order */
    while (i > 0 && strcmp(g_targets[i - 1].name, name) > 0) {
        g_targets[i] = g_targets[i - 1];
        i--;
    }
    g_targets[i] = (qmc_fuzz_target){name, run};
}

int qmc_fuzz_count(void) { return g_n; }
const qmc_fuzz_target *qmc_fuzz_at(int i) { return i >= 0 && i < g_n ? &g_targets[i] : NULL; }

const qmc_fuzz_target *qmc_fuzz_find(const char *name) {
    for (int i = 0; i < g_n; i++)
        if (strcmp(g_targets[i].name, name) == 0) return &g_targets[i];
    return NULL;
}

void fuzz_abort(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "qmc fuzz: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    abort();
}

void qmc_fuzz_run(const qmc_fuzz_target *t, const uint8_t *data, size_t size) {
    qmc_set_alloc_cap(FUZZ_ALLOC_CAP);
    size_t live = qmc_alloc_live();
    t->run(data, size);
    if (qmc_alloc_live() != live)
        fuzz_abort("%s: %zu bytes allocated by qmc were not freed", t->name, qmc_alloc_live() - live);
}

static void check_error(int rc, const char *what, const char *must_name) {
    if (rc == QMC_OK) return;
    const char *msg = qmc_errmsg();
    if (rc > 0 || rc < QMC_ERR_STATE) fuzz_abort("%s returned %d, not a qmc status", what, rc);
    if (rc == QMC_ERR_NOMEM)
        fuzz_abort("%s: out of memory on a small input (an allocation sized from an unchecked field?): %s", what, msg);
    if (rc == QMC_ERR_STATE) fuzz_abort("%s: internal inconsistency on hostile input: %s", what, msg);
    if (!msg[0]) fuzz_abort("%s failed (%s) with no message", what, qmc_status_name(rc));
    if (strchr(msg, '\n')) fuzz_abort("%s: error message spans lines: %s", what, msg);
    if (must_name && !strstr(msg, must_name)) fuzz_abort("%s: error message does not name the input: %s", what, msg);
}

void fuzz_check_status(int rc, const char *what) { check_error(rc, what, FUZZ_LABEL); }
void fuzz_check_named(int rc, const char *what, const char *name) { check_error(rc, what, name); }
void fuzz_check_result(int rc, const char *what) { check_error(rc, what, NULL); }

char *fuzz_cstring(const uint8_t *data, size_t size) {
    char *s = malloc(size + 1);
    if (!s) abort();
    memcpy(s, data, size);
    s[size] = 0;
    return s;
}

const char *const fuzz_texts[] = {
    "Once upon a time, there was a little girl named Lily. She loved to play outside.",
    "  leading and  double  spaces\tand tabs\nand\r\nline ends  ",
    "caf\xc3\xa9 na\xc3\xafve \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xf0\x9f\x99\x82 \xe2\x96\x81x",
    "bad utf-8: \xff\xfe \xc3 \xe2\x82 \x80\x80 \xf4\x90\x80\x80 end",
    "<s></s><unk><|endoftext|><|begin_of_text|>[PAD3]<0x41>",
    "1234567 3.14159 +-*/ 'll 've 's 're don't",
    "",
    " ",
};
const int fuzz_n_texts = (int)QMC_ARRAY_LEN(fuzz_texts);

void fuzz_exercise_tokenizer(const qmc_tokenizer *t) {
    FUZZ_CHECK(t->n_vocab > 0);
    for (int i = 0; i < fuzz_n_texts; i++) {
        int32_t *toks = NULL;
        int64_t n = 0;
        int rc = qmc_tok_encode(t, fuzz_texts[i], strlen(fuzz_texts[i]), i % 2 == 0, &toks, &n);
        /* encoding may fail for a vocabulary that cannot spell a byte, or a
         * regex that exceeds PCRE2's match limit; cleanly */
        if (rc) {
            fuzz_check_result(rc, "qmc_tok_encode");
            continue;
        }
        char buf[64];
        for (int64_t k = 0; k < n; k++) {
            FUZZ_CHECK(toks[k] >= 0 && toks[k] < t->n_vocab);
            int w = qmc_tok_decode(t, k ? toks[k - 1] : -1, toks[k], buf, (int)sizeof buf);
            FUZZ_CHECK(w >= 0 && w <= (int)sizeof buf);
        }
        qmc_free(toks);
    }
    char small[3];
    for (int32_t id = -1; id <= t->n_vocab; id++) {
        int w = qmc_tok_decode(t, id - 1, id, small, (int)sizeof small);
        FUZZ_CHECK(w >= 0 && w <= (int)sizeof small);
    }
}

void fuzz_exercise_tensor(const qmc_tensor *t) {
    const int64_t rows = qmc_tensor_rows(t), cols = qmc_tensor_cols(t);
    FUZZ_CHECK(rows > 0 && cols > 0);
    float *a = malloc((size_t)cols * sizeof(float)), *b = malloc((size_t)cols * sizeof(float));
    if (!a || !b) abort();
    if (t->type == QMC_TYPE_PACKED) {
        const qmc_qtensor *q = t->q;
        FUZZ_CHECK(q->rows == rows && q->cols == cols);
        for (int64_t r = 0; r < rows; r++) {
            qmc_qt_decode_row_ref(q, r, a);
            qmc_qt_decode_row(q, r, b);
            if (memcmp(a, b, (size_t)cols * sizeof(float)) != 0)
                fuzz_abort("%s: row %lld: the fast decoder differs from the reference", t->name, (long long)r);
        }
        qmc_plane_sizes ps;
        qmc_qt_plane_sizes(q, &ps);
        FUZZ_CHECK(ps.total > 0 && ps.in_codes == (int64_t)q->in_codes_bytes);
    } else {
        qmc_tensor_get_row(t, 0, a);
        qmc_tensor_get_row(t, rows - 1, b);
    }
    free(a);
    free(b);
}

static int exercise_one(qmc_model *m, qmc_tensor *t, int layer, void *user) {
    fuzz_exercise_tensor(t);
    *(int64_t *)user += qmc_tensor_nelem(t);
    return 0;
}

void fuzz_exercise_model(const qmc_model *cm) {
    qmc_model *m = (qmc_model *)cm;
    int64_t n = 0;
    qmc_model_for_each_tensor(m, exercise_one, &n);
    FUZZ_CHECK(n == qmc_model_n_params(m));
    const qmc_config *c = &m->cfg;
    qmc_session *s = NULL;
    int rc = qmc_session_new(m, 4, &s);
    fuzz_check_result(rc, "qmc_session_new");
    if (!rc) {
        int32_t toks[2] = {c->bos_id >= 0 && c->bos_id < c->vocab_size ? c->bos_id : 0, c->vocab_size - 1};
        float *logits = malloc((size_t)c->vocab_size * sizeof(float));
        if (!logits) abort();
        fuzz_check_result(qmc_forward(s, toks, 2, 0, logits, false), "qmc_forward");
        free(logits);
        qmc_session_free(s);
    }
    if (m->tok) fuzz_exercise_tokenizer(m->tok);
}

void fuzz_model_buffer(const uint8_t *data, size_t size) {
    qmc_model *m = NULL;
    int rc = qmc_model_from_buffer(data, size, FUZZ_LABEL, &m);
    fuzz_check_status(rc, "qmc_model_from_buffer");
    if (rc) {
        FUZZ_CHECK(m == NULL);
        return;
    }
    fuzz_exercise_model(m);
    qmc_model_free(m);
}

const void *fuzz_builtin_hw(void) {
    static sim_hw hw;
    static int ready;
    if (!ready) {
        sim_datapath dp;
        if (sim_datapath_init(&dp, NULL) || sim_hw_load(&dp, "jetson-orin-nano", &hw))
            fuzz_abort("cannot load the built-in hardware: %s", qmc_errmsg());
        ready = 1;
    }
    return &hw;
}

void fuzz_simulate(const void *workload, const void *hardware) {
    const sim_workload *w = workload;
    const sim_hw *hw = hardware;
    sim_params p;
    sim_params_default(&p);
    p.prompt = 16;
    p.gen = 4;
    p.dse_max_channels = 4;
    p.dse_max_arrays = 8;
    for (int a = 0; a < SIM_ARCH_COUNT; a++) {
        sim_result r;
        int rc = sim_run(w, hw, &p, (sim_arch)a, &r);
        fuzz_check_result(rc, "sim_run");
        if (rc) continue;
        FUZZ_CHECK(isfinite(r.tok_latency_s) && r.tok_latency_s >= 0);
        FUZZ_CHECK(isfinite(r.tok_energy_j) && r.tok_energy_j >= 0);
        FUZZ_CHECK(isfinite(r.total_s) && isfinite(r.total_j));
        FUZZ_CHECK(isfinite(r.bpw_stored) && r.bpw_stored > 0);
    }
}
