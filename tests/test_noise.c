/* test_noise.c — noise on packed tensors and models: the MRAM plane is never
 * touched at BER 0, the cell errors land where the cell model says, the
 * loaded model is never written, trials are reproducible on any thread
 * count, and qmc noise / qmc device behave (output and bad input). */
#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device/montecarlo.h"
#include "eval/eval.h"
#include "testutil.h"

/* ---- a deliberately plain packer for the tests (the real quantizer is src/quant) ----
 * The rho largest |w| of the tensor become outliers (bits_out, per-row max-abs
 * scale), the rest inliers (bits_in, per-row max-abs scale), both symmetric. */
static uint32_t sym_code(float w, float d, int bits) {
    const int half = 1 << (bits - 1);
    long q = d > 0 ? lrintf(w / d) + half : half;
    return (uint32_t)(q < 0 ? 0 : q > 2 * half - 1 ? 2 * half - 1 : q);
}

static float f16_scale(float maxabs, int bits) {
    float d = maxabs / (float)((1 << (bits - 1)) - 1);
    return qmc_f16_to_f32(qmc_f32_to_f16(d > 0 ? d : 1e-8f));
}

static int cmp_abs_desc(const void *a, const void *b) {
    float x = fabsf(*(const float *)a), y = fabsf(*(const float *)b);
    return (x < y) - (x > y);
}

static void pack_tensor(qmc_tensor *t, float rho, int bi, int bo) {
    const int64_t R = qmc_tensor_rows(t), C = qmc_tensor_cols(t), n = R * C;
    float *w = malloc(sizeof(float) * (size_t)n), *sorted = malloc(sizeof(float) * (size_t)n);
    for (int64_t r = 0; r < R; r++) qmc_tensor_get_row(t, r, w + r * C);
    memcpy(sorted, w, sizeof(float) * (size_t)n);
    qsort(sorted, (size_t)n, sizeof(float), cmp_abs_desc);
    int64_t n_out = (int64_t)(rho * (double)n);
    float tau = n_out > 0 ? fabsf(sorted[n_out]) : INFINITY;
    n_out = 0;
    for (int64_t i = 0; i < n; i++) n_out += fabsf(w[i]) > tau;
    qmc_plane_fmt fi = {(uint8_t)bi, QMC_ELEM_INT, 0, 0}, fo = {(uint8_t)(n_out ? bo : 0), QMC_ELEM_INT, 0, 0};
    qmc_qtensor *q;
    if (qmc_qt_alloc(R, C, fi, fo, n_out, &q)) fail_msg("%s", qmc_errmsg());
    q->method = QMC_METHOD_QMC;
    q->rho = rho;
    q->tau = n_out ? tau : 0;
    int64_t ii = 0, oi = 0;
    for (int64_t r = 0; r < R; r++) {
        float mi = 0, mo = 0;
        for (int64_t c = 0; c < C; c++) {
            float a = fabsf(w[r * C + c]);
            if (a > tau) mo = fmaxf(mo, a);
            else mi = fmaxf(mi, a);
        }
        float di = f16_scale(mi, bi), dout = n_out ? f16_scale(mo, bo) : 0;
        uint16_t h = qmc_f32_to_f16(di);
        memcpy(qmc_qt_mut(q->in_scale) + 2 * r, &h, 2);
        if (n_out) {
            h = qmc_f32_to_f16(dout);
            memcpy(qmc_qt_mut(q->out_scale) + 2 * r, &h, 2);
        }
        for (int64_t c = 0; c < C; c++) {
            float x = w[r * C + c];
            if (fabsf(x) > tau) {
                int64_t pos = r * C + c;
                qmc_qt_mut(q->mask)[pos >> 3] |= (uint8_t)(1u << (pos & 7));
                qmc_bits_put(qmc_qt_mut(q->out_codes), oi++ * bo, bo, sym_code(x, dout, bo));
            } else {
                qmc_bits_put(qmc_qt_mut(q->in_codes), ii++ * bi, bi, sym_code(x, di, bi));
            }
        }
    }
    if (qmc_qt_finish(q)) fail_msg("%s", qmc_errmsg());
    qmc_tensor_release(t);
    t->type = QMC_TYPE_PACKED;
    t->data = NULL;
    t->q = q;
    free(w);
    free(sorted);
}

typedef struct { float rho; int bi, bo; bool embedding; } pack_opts;

static int pack_one(qmc_model *m, qmc_tensor *t, int layer, void *user) {
    const pack_opts *o = user;
    if (qmc_tensor_is_block_linear(m, t) || (o->embedding && t == &m->token_embd)) pack_tensor(t, o->rho, o->bi, o->bo);
    return 0;
}

static void pack_model(qmc_model *m, float rho, int bi, int bo, bool embedding) {
    pack_opts o = {rho, bi, bo, embedding};
    qmc_model_for_each_tensor(m, pack_one, &o);
}

static const tu_model_spec k_spec = {.arch = QMC_ARCH_LLAMA, .dim = 64, .hidden = 96, .layers = 2, .heads = 4,
                                     .kv_heads = 2, .vocab = 300, .seq_len = 64, .with_tokenizer = true};

static void noise_model(const char *profile, int bits, qmc_level_encoding e, double mram_ber, qmc_noise_model *nm) {
    qmc_device_profile p;
    qmc_device_name_sel sel;
    if (qmc_device_load(profile, NULL, &p, &sel)) fail_msg("%s", qmc_errmsg());
    p.mram_ber = mram_ber;
    if (qmc_noise_model_init(nm, &p, bits ? bits : sel.cell_bits, sel.retention_s, e)) fail_msg("%s", qmc_errmsg());
}

/* ---- tensor level -------------------------------------------------------------- */

static void test_mram_plane_untouched_at_ber_0(void **state) {
    qmc_model *m = tu_random_model(&k_spec, 1);
    pack_model(m, 0.3f, 3, 5, false);
    const qmc_qtensor *clean = m->layers[0].w_gate.q;
    assert_true(clean->n_out > 0);
    for (int cb = 2; cb <= 3; cb++) {
        qmc_noise_model nm;
        noise_model("wan2022-1d", cb, QMC_ENC_BINARY, 0, &nm);   /* a very noisy device */
        qmc_qtensor *q;
        assert_int_equal(qmc_qt_clone(clean, &q), 0);
        qmc_noise_counts c;
        assert_int_equal(qmc_noise_inject(q, &nm, NULL, 77, &c), 0);
        qmc_plane_sizes s;
        qmc_qt_plane_sizes(clean, &s);
        assert_memory_equal(q->mask, clean->mask, clean->mask_bytes);
        assert_memory_equal(q->out_codes, clean->out_codes, clean->out_codes_bytes);
        assert_memory_equal(q->out_scale, clean->out_scale, (size_t)s.out_scale);
        assert_memory_equal(q->in_scale, clean->in_scale, (size_t)s.in_scale);
        assert_int_equal(c.mram_bits, 0);
        /* the ReRAM plane did change, exactly in c.cell_errors cells */
        int64_t n_cells = qmc_cells_for_codes(clean->rows * clean->cols - clean->n_out, 3, cb), diff = 0;
        assert_int_equal(c.cells, n_cells);
        for (int64_t j = 0; j < n_cells; j++)
            diff += qmc_cell_level(q->in_codes, j, cb, QMC_ENC_BINARY) != qmc_cell_level(clean->in_codes, j, cb, QMC_ENC_BINARY);
        assert_true(diff > 0);
        assert_int_equal(diff, c.cell_errors);
        qmc_qt_free(q);
    }
    qmc_model_free(m);
}

static void test_mram_ber_flips_codes_and_scales_not_positions(void **state) {
    qmc_model *m = tu_random_model(&k_spec, 2);
    pack_model(m, 0.3f, 3, 5, false);
    const qmc_qtensor *clean = m->layers[1].w_down.q;
    qmc_noise_model nm;
    noise_model("ideal", 3, QMC_ENC_BINARY, 0.01, &nm);
    qmc_qtensor *q;
    assert_int_equal(qmc_qt_clone(clean, &q), 0);
    qmc_noise_counts c;
    assert_int_equal(qmc_noise_inject(q, &nm, NULL, 5, &c), 0);
    assert_memory_equal(q->mask, clean->mask, clean->mask_bytes);
    assert_memory_equal(q->in_codes, clean->in_codes, clean->in_codes_bytes);   /* ideal ReRAM */
    assert_int_equal(c.cell_errors, 0);
    /* exposed bits: 5-bit outlier codes + F16 inlier and outlier scales */
    assert_int_equal(c.mram_bits, clean->n_out * 5 + clean->rows * 16 * 2);
    double e = 0.01 * (double)c.mram_bits, sd = sqrt(e * 0.99);
    assert_true(fabs((double)c.mram_flips - e) < 4 * sd);
    int64_t flips = 0;
#define BIT(p, b) (((p)[(b) >> 3] >> ((b) & 7)) & 1)
    for (int64_t b = 0; b < clean->n_out * 5; b++) flips += BIT(q->out_codes, b) != BIT(clean->out_codes, b);
    for (int64_t b = 0; b < clean->rows * 16; b++)
        flips += (BIT(q->in_scale, b) != BIT(clean->in_scale, b)) + (BIT(q->out_scale, b) != BIT(clean->out_scale, b));
#undef BIT
    assert_int_equal(flips, c.mram_flips);
    qmc_qt_free(q);
    qmc_model_free(m);
}

/* ---- model level ------------------------------------------------------------------ */

static uint64_t planes_hash(const qmc_model *m) {
    uint64_t h = 0;
    for (int l = 0; l < m->cfg.n_layers; l++) {
        const qmc_qtensor *q = m->layers[l].wq.q;
        for (size_t i = 0; i < q->in_codes_bytes; i++) h = qmc_hash64(h ^ q->in_codes[i]);
    }
    return h;
}

static void test_ideal_view_equals_clean(void **state) {
    qmc_model *m = tu_random_model(&k_spec, 3);
    pack_model(m, 0.3f, 3, 5, false);
    const int32_t toks[] = {1, 70, 71, 80, 90, 100, 5, 9};
    float *ref = tu_logits(m, toks, 8);
    qmc_noise_model nm;
    noise_model("ideal", 2, QMC_ENC_GRAY, 0, &nm);
    qmc_noisy_model *n;
    assert_int_equal(qmc_noisy_model_new(m, &nm, QMC_NOISE_SCOPE_BLOCKS, &n), 0);
    assert_int_equal(qmc_noisy_model_tensors(n), 2 * 7);
    qmc_noise_counts c;
    assert_int_equal(qmc_noisy_model_draw(n, 1, 0, &c), 0);
    assert_int_equal(c.cell_errors, 0);
    float *got = tu_logits(qmc_noisy_model_view(n), toks, 8);
    assert_memory_equal(ref, got, sizeof(float) * 8 * (size_t)m->cfg.vocab_size);
    free(got);
    free(ref);
    qmc_noisy_model_free(n);
    qmc_model_free(m);
}

static void test_noise_changes_view_not_model(void **state) {
    qmc_model *m = tu_random_model(&k_spec, 4);
    pack_model(m, 0.3f, 3, 5, true);
    uint64_t h0 = planes_hash(m);
    const int32_t toks[] = {1, 70, 71, 80, 90, 100, 5, 9};
    float *ref = tu_logits(m, toks, 8);
    qmc_noise_model nm;
    noise_model("wan2022-1s", 3, QMC_ENC_BINARY, 0, &nm);
    qmc_noisy_model *n, *all;
    assert_int_equal(qmc_noisy_model_new(m, &nm, QMC_NOISE_SCOPE_BLOCKS, &n), 0);
    assert_int_equal(qmc_noisy_model_new(m, &nm, QMC_NOISE_SCOPE_ALL, &all), 0);
    assert_int_equal(qmc_noisy_model_tensors(all), qmc_noisy_model_tensors(n) + 1);   /* + the packed embedding */
    qmc_noise_counts c;
    assert_int_equal(qmc_noisy_model_draw(n, 9, 0, &c), 0);
    assert_true(c.cell_errors > 0);
    float *got = tu_logits(qmc_noisy_model_view(n), toks, 8);
    assert_true(tu_max_abs_diff(ref, got, 8 * m->cfg.vocab_size) > 0);
    free(got);
    assert_int_equal(planes_hash(m), h0);
    /* the clean model still gives the clean logits; restore makes the view clean again */
    float *again = tu_logits(m, toks, 8);
    assert_memory_equal(ref, again, sizeof(float) * 8 * (size_t)m->cfg.vocab_size);
    qmc_noisy_model_restore(n);
    float *restored = tu_logits(qmc_noisy_model_view(n), toks, 8);
    assert_memory_equal(ref, restored, sizeof(float) * 8 * (size_t)m->cfg.vocab_size);
    free(again);
    free(restored);
    free(ref);
    qmc_noisy_model_free(all);
    qmc_noisy_model_free(n);
    /* an unpacked model has nothing in ReRAM */
    qmc_model *plain = tu_random_model(&k_spec, 5);
    assert_int_not_equal(qmc_noisy_model_new(plain, &nm, QMC_NOISE_SCOPE_BLOCKS, &n), 0);
    assert_non_null(strstr(qmc_errmsg(), "no packed"));
    qmc_model_free(plain);
    qmc_model_free(m);
}

typedef struct { const int32_t *toks; int n; } logit_eval;

/* Metric: the sum of all logits (any change of any weight shows). */
static int eval_logit_sum(const qmc_model *m, void *user, double *value) {
    const logit_eval *e = user;
    float *lg = tu_logits(m, e->toks, e->n);
    if (!lg) return QMC_ERR_STATE;
    double s = 0;
    for (int64_t i = 0; i < (int64_t)e->n * m->cfg.vocab_size; i++) s += lg[i];
    free(lg);
    *value = s;
    return QMC_OK;
}

static void test_trials_reproducible_on_any_thread_count(void **state) {
    qmc_model *m = tu_random_model(&k_spec, 6);
    pack_model(m, 0.3f, 3, 5, false);
    const int32_t toks[] = {1, 70, 71, 80, 90, 100, 5, 9};
    logit_eval le = {toks, 8};
    qmc_noise_model nm;
    noise_model("wan2022-1s", 2, QMC_ENC_BINARY, 1e-4, &nm);
    qmc_noisy_model *n;
    assert_int_equal(qmc_noisy_model_new(m, &nm, QMC_NOISE_SCOPE_BLOCKS, &n), 0);
    qmc_trial_result a[4], b[4], c[1];
    qmc_set_threads(1);
    assert_int_equal(qmc_noise_trials(n, 4, 42, eval_logit_sum, &le, a, NULL), 0);
    qmc_set_threads(2);
    assert_int_equal(qmc_noise_trials(n, 4, 42, eval_logit_sum, &le, b, NULL), 0);
    qmc_set_threads(0);
    for (int t = 0; t < 4; t++) {
        assert_memory_equal(&a[t].value, &b[t].value, sizeof(double));
        assert_int_equal(a[t].counts.cell_errors, b[t].counts.cell_errors);
        assert_int_equal(a[t].counts.mram_flips, b[t].counts.mram_flips);
    }
    assert_true(a[0].value != a[1].value);   /* trials differ */
    /* trial k does not depend on the trials before it */
    qmc_noise_counts cnt;
    assert_int_equal(qmc_noisy_model_draw(n, 42, 3, &cnt), 0);
    assert_int_equal(eval_logit_sum(qmc_noisy_model_view(n), &le, &c[0].value), 0);
    assert_memory_equal(&c[0].value, &a[3].value, sizeof(double));
    assert_int_equal(qmc_noise_trials(n, 0, 42, eval_logit_sum, &le, c, NULL), QMC_ERR_ARG);
    qmc_noisy_model_free(n);
    qmc_model_free(m);
}

/* ---- command line -------------------------------------------------------------------- */

static const char *g_model, *g_text;

static int setup_files(void **state) {
    qmc_model *m = tu_random_model(&k_spec, 7);
    pack_model(m, 0.3f, 3, 5, false);
    g_model = tu_tmp("tiny.qmc.gguf");
    g_text = tu_tmp("text.txt");
    if (qmc_model_save_gguf(m, g_model, QMC_WRITE_KEEP)) fail_msg("%s", qmc_errmsg());
    qmc_model_free(m);
    const char *text = "the cat sat on the mat and then the cat ate the hat; the end. another tale begins here and ends there.\n";
    char big[4096] = "";
    for (int i = 0; i < 12; i++) strcat(big, text);
    return qmc_write_file_atomic(g_text, big, strlen(big));
}

static cJSON *run_json(const char *args) {
    char *out;
    int rc = tu_run(&out, "%s noise -m '%s' -f '%s' --ctx 32 --chunks 3 --json %s 2>/dev/null", tu_qmc(), g_model, g_text, args);
    if (rc != 0) fail_msg("qmc noise %s failed (%d): %s", args, rc, out);
    cJSON *j = cJSON_Parse(out);
    if (!j) fail_msg("not JSON: %s", out);
    free(out);
    return j;
}

static double num(const cJSON *o, const char *path) {
    char buf[128];
    snprintf(buf, sizeof buf, "%s", path);
    const cJSON *cur = o;
    for (char *tok = strtok(buf, "."); tok; tok = strtok(NULL, ".")) cur = cJSON_GetObjectItemCaseSensitive(cur, tok);
    if (!cJSON_IsNumber(cur)) fail_msg("no number at %s", path);
    return cur->valuedouble;
}

static void test_cli_noise(void **state) {
    char *before, *after;
    size_t nb, na;
    assert_int_equal(qmc_read_file(g_model, 1 << 26, &before, &nb), 0);
    cJSON *j = run_json("--device wan2022-1s-3b --trials 4 --seed 3 --threads 1");
    const cJSON *trials = cJSON_GetObjectItemCaseSensitive(j, "trials");
    assert_int_equal(cJSON_GetArraySize(trials), 4);
    double lo = num(j, "perplexity.ci95_lo"), hi = num(j, "perplexity.ci95_hi"), mean = num(j, "perplexity.mean");
    assert_true(lo < mean && mean < hi);
    assert_true(num(j, "perplexity.min") <= mean && mean <= num(j, "perplexity.max"));
    /* the interval by hand from the per-trial values */
    double v[4], s = 0, ss = 0;
    for (int t = 0; t < 4; t++) s += v[t] = num(cJSON_GetArrayItem(trials, t), "perplexity");
    for (int t = 0; t < 4; t++) ss += (v[t] - s / 4) * (v[t] - s / 4);
    assert_true(fabs(hi - (s / 4 + 3.1824463052837096 * sqrt(ss / 3) / 2)) < 1e-9 * hi);
    assert_true(num(j, "clean_perplexity") > 0);
    assert_true(fabs(num(j, "cell_error_rate.z")) < 4);
    assert_true(num(j, "cell_error_rate.measured") > 0.01);   /* wan2022 3-bit cells: ~9e-2 */
    /* same numbers on two threads */
    cJSON *j2 = run_json("--device wan2022-1s-3b --trials 4 --seed 3 --threads 2");
    for (int t = 0; t < 4; t++)
        assert_true(num(cJSON_GetArrayItem(trials, t), "perplexity") ==
                    num(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j2, "trials"), t), "perplexity"));
    cJSON_Delete(j2);
    cJSON_Delete(j);
    /* the ideal device reproduces the noise-free perplexity exactly; 2-bit cells, Gray */
    j = run_json("--device ideal --mlc 2 --encoding gray --trials 2");
    assert_true(num(j, "perplexity.mean") == num(j, "clean_perplexity"));
    assert_true(num(j, "perplexity.sd") == 0);
    assert_true(num(j, "cell_error_rate.errors") == 0);
    cJSON_Delete(j);
    /* MRAM bit errors are reported when asked for */
    j = run_json("--device nvmexplorer-3b --mram-ber 1e-3 --trials 1");
    assert_true(num(j, "mram_bit_error_rate.bits") > 0);
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "perplexity"), "sd")));
    cJSON_Delete(j);
    /* the model file was never written */
    assert_int_equal(qmc_read_file(g_model, 1 << 26, &after, &na), 0);
    assert_int_equal(na, nb);
    assert_memory_equal(before, after, nb);
    qmc_free(before);
    qmc_free(after);
}

static void test_cli_noise_task(void **state) {
    /* a small multiple-choice task file (llm-foundry layout) scored on every trial */
    const char *task = tu_tmp("task.jsonl");
    char buf[4096] = "";
    for (int i = 0; i < 12; i++) {
        char line[256];
        snprintf(line, sizeof line, "{\"query\": \"the cat sat on the %s\", \"choices\": [\"mat\", \"hat\", \"end\"], \"gold\": %d}\n",
                 i % 2 ? "hat and" : "mat then", i % 3);
        strcat(buf, line);
    }
    assert_int_equal(qmc_write_file_atomic(task, buf, strlen(buf)), 0);
    char *out;
    int rc = tu_run(&out, "%s noise -m '%s' --task '%s' --device ideal --trials 2 --json 2>/dev/null", tu_qmc(), g_model, task);
    if (rc) fail_msg("%s", out);
    cJSON *j = cJSON_Parse(out);
    assert_non_null(j);
    free(out);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(j, "metric")->valuestring, "acc");
    assert_true(num(j, "examples") == 12);
    assert_true(num(j, "acc.mean") == num(j, "clean_acc"));
    cJSON_Delete(j);
    /* a noisy device: the same numbers on 1 and 2 threads */
    double v[2][3];
    for (int th = 1; th <= 2; th++) {
        rc = tu_run(&out, "%s noise -m '%s' --task '%s' --metric acc_norm --device wan2022-1d-2b --trials 3 --threads %d --json 2>/dev/null",
                    tu_qmc(), g_model, task, th);
        if (rc) fail_msg("%s", out);
        j = cJSON_Parse(out);
        free(out);
        for (int t = 0; t < 3; t++) v[th - 1][t] = num(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "trials"), t), "value");
        cJSON_Delete(j);
    }
    assert_memory_equal(v[0], v[1], sizeof v[0]);
}

/* exit status and a one-line message containing needle */
static void expect_fail(int want_rc, const char *needle, const char *fmt, const char *arg) {
    char cmd[2048], *out;
    snprintf(cmd, sizeof cmd, fmt, arg);
    int rc = tu_run(&out, "%s %s", tu_qmc(), cmd);
    if (rc != want_rc || !strstr(out, needle) || strchr(out, '\n') != out + strlen(out) - 1)
        fail_msg("'%s': exit %d (want %d), output '%s' (want one line with '%s')", cmd, rc, want_rc, out, needle);
    free(out);
}

static void test_cli_bad_input(void **state) {
    char base[1024];
    snprintf(base, sizeof base, "noise -m '%s' -f '%s' --ctx 32 --chunks 1 %%s", g_model, g_text);
    expect_fail(2, "--trials: '0' is not an integer", base, "--device ideal --trials 0");
    expect_fail(2, "--trials", base, "--device ideal --trials -3");
    expect_fail(1, "unknown device profile 'nosuch'", base, "--device nosuch");
    expect_fail(1, "not both", base, "--device ideal --task arc_easy");
    expect_fail(1, "--metric applies to --task only", base, "--device ideal --metric acc");
    char task_base[1024];
    snprintf(task_base, sizeof task_base, "noise -m '%s' --device ideal %%s", g_model);
    expect_fail(2, "--metric must be acc, acc_norm or ppl", task_base, "--task arc_easy --metric f1");
    expect_fail(1, "unknown task 'nosuchtask'", task_base, "--task nosuchtask");
    expect_fail(1, "nothing to evaluate", task_base, "");
    expect_fail(1, "no device profile given", base, "");
    expect_fail(2, "contradicts the profile name", base, "--device nvmexplorer-3b --mlc 2");
    expect_fail(2, "--mlc", base, "--device nvmexplorer --mlc 7");
    expect_fail(2, "--encoding must be binary or gray", base, "--device nvmexplorer --encoding bcd");
    expect_fail(1, "no model for 1-bit cells", base, "--device nvmexplorer --mlc 1");
    expect_fail(1, "no retention-time data", base, "--device nvmexplorer-3b --retention 1d");
    expect_fail(2, "--stuck-at-0", base, "--device ideal --stuck-at-0 2");
    const char *bad = tu_tmp("bad-profile.json");
    const char *json = "{\"qmc_device_profile\": 1, \"name\": \"b\", \"sources\": [\"x\"], \"reram\": {\"model\": \"confusion\", "
                       "\"cells\": [{\"bits\": 2, \"matrix\": [[0.5, 0.5, 0, 0], [0, 1, 0, 0], [0, 0, 0.9, 0], [0, 0, 0, 1]]}]}}";
    assert_int_equal(qmc_write_file_atomic(bad, json, strlen(json)), 0);
    char arg[512];
    snprintf(arg, sizeof arg, "--device '%s' --mlc 2", bad);
    expect_fail(1, "probabilities sum to 0.9, not 1", base, arg);
    snprintf(arg, sizeof arg, "--device '%s'", tu_tmp("missing.json"));
    expect_fail(1, "missing.json: cannot open", base, arg);
    const char *trunc = tu_tmp("trunc.json");
    assert_int_equal(qmc_write_file_atomic(trunc, json, 40), 0);
    snprintf(arg, sizeof arg, "--device '%s'", trunc);
    expect_fail(1, "trunc.json: not valid JSON", base, arg);
    /* a model with no packed tensors */
    qmc_model *m = tu_random_model(&k_spec, 8);
    const char *plain = tu_tmp("plain.gguf");
    assert_int_equal(qmc_model_save_gguf(m, plain, QMC_WRITE_F32), 0);
    qmc_model_free(m);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "noise -m '%s' -f '%s' --device ideal", plain, g_text);
    expect_fail(1, "no packed block-linear tensors", "%s", cmd);
    expect_fail(2, "unknown option '--bogus'", "noise --bogus%s", "");
    expect_fail(1, "unknown device profile 'zzz'", "device zzz%s", "");
}

static void test_cli_device(void **state) {
    char *out;
    assert_int_equal(tu_run(&out, "%s device", tu_qmc()), 0);
    assert_non_null(strstr(out, "nvmexplorer"));
    assert_non_null(strstr(out, "wan2022"));
    free(out);
    assert_int_equal(tu_run(&out, "%s device nvmexplorer-3b --json", tu_qmc()), 0);
    cJSON *j = cJSON_Parse(out);
    assert_non_null(j);
    const cJSON *cells = cJSON_GetObjectItemCaseSensitive(j, "cells");
    assert_int_equal(cJSON_GetArraySize(cells), 1);
    /* mpmath reference (tests/data/device_reference.py): mean misread 3.8036903e-3, worst level 9.3735886e-3 */
    assert_true(fabs(num(cJSON_GetArrayItem(cells, 0), "misread_mean") / 3.80369033e-3 - 1) < 1e-6);
    assert_true(fabs(num(cJSON_GetArrayItem(cells, 0), "misread_worst") / 9.37358858e-3 - 1) < 1e-6);
    cJSON_Delete(j);
    free(out);
    /* from another directory, the built-in copies are found */
    assert_int_equal(tu_run(&out, "cd / && %s/%s device wan2022-1d-2b", getenv("PWD") ? getenv("PWD") : ".", tu_qmc()), 0);
    assert_non_null(strstr(out, "86400 s after programming"));
    free(out);
}

/* ---- the real model ------------------------------------------------------------------- */

static void test_stories260k(void **state) {
    TU_REQUIRE_SHARED(model, "models/stories260K/stories260K.bin");
    TU_REQUIRE_SHARED(text, "data/tinystories/TinyStories-valid-sample-30k.txt");
    qmc_model *m;
    if (qmc_model_load(model, NULL, &m)) fail_msg("%s", qmc_errmsg());
    pack_model(m, 0.3f, 3, 5, false);
    const char *path = tu_tmp("stories.qmc.gguf");
    assert_int_equal(qmc_model_save_gguf(m, path, QMC_WRITE_KEEP), 0);
    qmc_model_free(m);
    char *out;
    int rc = tu_run(&out, "%s noise -m '%s' -f '%s' --strip-cr --ctx 128 --chunks %d --device nvmexplorer --mlc 2 --trials 2 --json 2>/dev/null",
                    tu_qmc(), path, text, tu_quick() ? 1 : 3);
    if (rc) fail_msg("%s", out);
    cJSON *j = cJSON_Parse(out);
    assert_non_null(j);
    /* 2-bit cells of nvmexplorer misread ~1e-8: a few thousand cells, no errors expected */
    double clean = num(j, "clean_perplexity"), mean = num(j, "perplexity.mean");
    print_message("stories260K packed: clean %.4f, nvmexplorer 2-bit cells %.4f, %g cells per trial\n", clean, mean,
                  num(j, "cells_per_trial"));
    assert_true(clean > 1 && clean < 20);
    assert_true(fabs(mean - clean) < 1e-9 * clean || num(j, "cell_error_rate.errors") > 0);
    cJSON_Delete(j);
    free(out);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mram_plane_untouched_at_ber_0),
        cmocka_unit_test(test_mram_ber_flips_codes_and_scales_not_positions),
        cmocka_unit_test(test_ideal_view_equals_clean),
        cmocka_unit_test(test_noise_changes_view_not_model),
        cmocka_unit_test(test_trials_reproducible_on_any_thread_count),
        cmocka_unit_test(test_cli_noise),
        cmocka_unit_test(test_cli_noise_task),
        cmocka_unit_test(test_cli_bad_input),
        cmocka_unit_test(test_cli_device),
        cmocka_unit_test(test_stories260k),
    };
    return cmocka_run_group_tests(tests, setup_files, NULL);
}
