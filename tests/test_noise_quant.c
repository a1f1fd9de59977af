/* test_noise_quant.c — the links between the device-noise subsystem and the
 * quantizer: `qmc quantize --device PROFILE --mlc 2|3` derives the inlier
 * loss's p_minus/p_plus exactly as the device code does (qmc_noise_p_derive),
 * explicit --p-minus/--p-plus override it, and with a noisy profile the
 * stored inlier scales are the minimisers of the noise-aware loss over the
 * documented grid (checked by a slow re-evaluation of the loss here), not the
 * plain-MSE ones.  Also `qmc eval --device` (zero-shot under noise) and
 * `qmc noise --task` on a file made by `qmc quantize`. */
#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "device/cellmap.h"
#include "eval/stats.h"
#include "formats/gguf.h"
#include "model/model.h"
#include "testutil.h"
#include "util/util.h"

static const char *STORIES = "models/stories260K/stories260K.bin";

static cJSON *run_json(const char *cmd) {
    char *out;
    int rc = tu_run(&out, "%s", cmd);
    if (rc != 0) fail_msg("command failed (%d): %s\n%s", rc, cmd, out);
    char *brace = strchr(out, '{');
    cJSON *j = brace ? cJSON_Parse(brace) : NULL;
    if (!j) fail_msg("no JSON in: %s", out);
    free(out);
    return j;
}

static const cJSON *item(const cJSON *o, const char *k) {
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!x) fail_msg("JSON lacks %s", k);
    return x;
}
static double num(const cJSON *o, const char *k) {
    const cJSON *x = item(o, k);
    if (!cJSON_IsNumber(x)) fail_msg("%s is not a number", k);
    return x->valuedouble;
}
static const char *str(const cJSON *o, const char *k) {
    const cJSON *x = item(o, k);
    if (!cJSON_IsString(x)) fail_msg("%s is not a string", k);
    return x->valuestring;
}

/* The device code's pair for profile spec at cell width cell_bits, code_bits-bit codes, binary levels. */
static qmc_noise_p device_p(const char *spec, int cell_bits, int code_bits) {
    qmc_device_profile prof;
    qmc_device_name_sel sel;
    assert_int_equal(qmc_device_load(spec, NULL, &prof, &sel), 0);
    qmc_cell_model cell;
    assert_int_equal(qmc_device_cell_model(&prof, cell_bits, sel.retention_s, &cell), 0);
    qmc_noise_p np;
    assert_int_equal(qmc_noise_p_derive(&cell, QMC_ENC_BINARY, code_bits, NULL, &np), 0);
    return np;
}

static float meta_f32(const qmc_model *m, const char *key) {
    double v;
    if (!gguf_get_f64(m->gguf, key, &v)) fail_msg("%s: no %s", m->path, key);
    return (float)v;
}

static void test_p_from_device(void **state) {
    (void)state;
    struct {
        const char *args;    /* device options */
        const char *spec;    /* profile as qmc_device_load takes it */
        int cell_bits, code_bits;
    } cases[] = {
        {"--device wan2022-1s-2b", "wan2022-1s", 2, 3},
        {"--device wan2022-1s --mlc 3", "wan2022-1s", 3, 3},
        {"--device nvmexplorer --mlc 3", "nvmexplorer", 3, 3},
        {"--device nvmexplorer-2b --method rtn --bits-in 4", "nvmexplorer", 2, 4},
    };
    const char *out = tu_tmp("p.qmc.gguf");
    const size_t n_cases = tu_quick() ? 2 : QMC_ARRAY_LEN(cases);   /* sanitizer builds: fewer quantize runs */
    for (size_t k = 0; k < n_cases; k++) {
        char cmd[1024];
        snprintf(cmd, sizeof cmd, "%s quantize -q -m %s -o %s --json %s", tu_qmc(), STORIES, out, cases[k].args);
        cJSON *j = run_json(cmd);
        qmc_noise_p np = device_p(cases[k].spec, cases[k].cell_bits, cases[k].code_bits);
        assert_true(np.p_minus > 0 && np.p_plus > 0);
        const cJSON *na = item(j, "noise_aware");
        assert_true(num(na, "p_minus") == np.p_minus && num(na, "p_plus") == np.p_plus);
        assert_true(num(j, "p_minus") == np.p_minus && num(j, "p_plus") == np.p_plus);
        assert_int_equal((int)num(j, "mlc_bits_per_cell"), cases[k].cell_bits);
        assert_string_equal(str(na, "p_source"), "device");
        assert_string_equal(str(na, "encoding"), "binary");
        cJSON_Delete(j);
        /* recorded in the file */
        qmc_model *m;
        qmc_load_opts lo = {0};
        assert_int_equal(qmc_model_load(out, &lo, &m), 0);
        assert_true(meta_f32(m, "qmc.p_minus") == (float)np.p_minus);
        assert_true(meta_f32(m, "qmc.p_plus") == (float)np.p_plus);
        int64_t mlc;
        assert_true(gguf_get_i64(m->gguf, "qmc.mlc_bits_per_cell", &mlc));
        assert_int_equal(mlc, cases[k].cell_bits);
        char s[256];
        assert_true(gguf_get_str(m->gguf, "qmc.noise_p_source", s, sizeof s));
        assert_string_equal(s, "device");
        assert_true(gguf_get_str(m->gguf, "qmc.device", s, sizeof s));
        assert_non_null(strstr(cases[k].args, s));
        qmc_model_free(m);
    }
    /* precedence: an explicit value replaces only its own half of the pair */
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s quantize -q -m %s -o %s --json --device wan2022-1s-2b --p-plus 0.01", tu_qmc(), STORIES,
             out);
    cJSON *j = run_json(cmd);
    qmc_noise_p np = device_p("wan2022-1s", 2, 3);
    const cJSON *na = item(j, "noise_aware");
    assert_true(num(na, "p_minus") == np.p_minus && num(na, "p_plus") == 0.01);
    assert_true(num(na, "derived_p_plus") == np.p_plus);
    assert_string_equal(str(na, "p_source"), "device+explicit");
    cJSON_Delete(j);
    /* no device: explicit values, or none */
    snprintf(cmd, sizeof cmd, "%s quantize -q -m %s -o %s --json --p-minus 0.02 --mlc 2", tu_qmc(), STORIES, out);
    j = run_json(cmd);
    na = item(j, "noise_aware");
    assert_true(num(na, "p_minus") == 0.02 && num(na, "p_plus") == 0);
    assert_string_equal(str(na, "p_source"), "explicit");
    assert_int_equal((int)num(j, "mlc_bits_per_cell"), 2);
    cJSON_Delete(j);
}

static void expect_error(const char *want, const char *args) {
    const char *out = tu_tmp("err.qmc.gguf");
    unlink(out);
    char *log;
    int rc = tu_run(&log, "%s quantize -q -m %s -o %s %s", tu_qmc(), STORIES, out, args);
    if (rc == 0 || !strstr(log, want)) fail_msg("expected failure with '%s' from %s\n got (%d): %s", want, args, rc, log);
    if (strchr(log, '\n') != log + strlen(log) - 1) fail_msg("error is not one line: %s", log);
    assert_int_not_equal(access(out, F_OK), 0);
    free(log);
}

static void test_bad_device_options(void **state) {
    (void)state;
    expect_error("unknown device profile 'no-such-device'", "--device no-such-device");
    expect_error("--encoding needs --device", "--encoding gray");
    expect_error("contradicts", "--device wan2022-1s-2b --mlc 3");
    expect_error("mlc", "--device nvmexplorer --mlc 4");
    expect_error("2 or 3 bits", "--device nvmexplorer-1b");
}

/* ---- the stored scales minimise the noise-aware loss ---------------------------
 * A slow re-evaluation in double of the loss of fit.h: for inlier values v of a
 * row and an asymmetric b-bit plane (d, m):
 *   L = sum (v - (d q + m))^2 + n noise d^2,  q = clamp(round((v - m) / d), 0, 2^b - 1)
 * over the grid f_i = lo + (1 - lo) i / (G - 1) with d_i = f (max - min) / (2^b - 1),
 * m_i = c - f (max - min) / 2, both rounded to F16. */
static double loss_of(const float *v, int n, int bits, double d, double m, double noise) {
    const double top = (1 << bits) - 1;
    double l = 0;
    for (int j = 0; j < n; j++) {
        double q = d > 0 ? nearbyint((v[j] - m) / d) : 0;
        q = q < 0 ? 0 : q > top ? top : q;
        double e = v[j] - (d * q + m);
        l += e * e;
    }
    return l + n * noise * d * d;
}

static double best_grid_loss(const float *v, int n, int bits, double noise) {
    const int G = 100;
    const float lo = 0.25f;
    float mn = v[0], mx = v[0];
    for (int j = 1; j < n; j++) mn = fminf(mn, v[j]), mx = fmaxf(mx, v[j]);
    double best = INFINITY;
    for (int i = 0; i < G; i++) {
        float f = lo + (1 - lo) * (float)(G - 1 - i) / (float)(G - 1);
        float d = f * (mx - mn) / (float)((1 << bits) - 1), m = (mx + mn) / 2 - f * (mx - mn) / 2;
        double dd = qmc_f16_to_f32(qmc_f32_to_f16(d)), mm = qmc_f16_to_f32(qmc_f32_to_f16(m));
        best = fmin(best, loss_of(v, n, bits, dd, mm, noise));
    }
    return best;
}

static double f16_at(const uint8_t *plane, int64_t i) {
    uint16_t h;
    memcpy(&h, plane + 2 * i, 2);
    return qmc_f16_to_f32(h);
}

static void test_noise_aware_scales_minimise_the_loss(void **state) {
    (void)state;
    /* wan2022-1s, 3-bit cells: ~9% of cells misread, the noisiest shipped 3-bit case */
    const char *aware = tu_tmp("aware.qmc.gguf"), *mse = tu_tmp("mse.qmc.gguf");
    char *log;
    assert_int_equal(tu_run(&log, "%s quantize -q -m %s -o %s --device wan2022-1s-3b", tu_qmc(), STORIES, aware), 0);
    free(log);
    assert_int_equal(tu_run(&log, "%s quantize -q -m %s -o %s", tu_qmc(), STORIES, mse), 0);
    free(log);
    qmc_noise_p np = device_p("wan2022-1s", 3, 3);
    const double noise = np.p_minus + np.p_plus;
    assert_true(noise > 0.05);
    qmc_load_opts lo = {0};
    qmc_model *src, *ma, *mm;
    assert_int_equal(qmc_model_load(STORIES, &lo, &src), 0);
    assert_int_equal(qmc_model_load(aware, &lo, &ma), 0);
    assert_int_equal(qmc_model_load(mse, &lo, &mm), 0);
    int rows_checked = 0, rows_differ = 0;
    double la_sum = 0, lm_sum = 0, da_sum = 0, dm_sum = 0;
    for (int layer = 0; layer < src->cfg.n_layers; layer += src->cfg.n_layers - 1) {
        const qmc_tensor *ts[] = {&src->layers[layer].wq, &src->layers[layer].w_down};
        const qmc_tensor *ta[] = {&ma->layers[layer].wq, &ma->layers[layer].w_down};
        const qmc_tensor *tm[] = {&mm->layers[layer].wq, &mm->layers[layer].w_down};
        for (int k = 0; k < 2; k++) {
            const qmc_qtensor *qa = ta[k]->q, *qm = tm[k]->q;
            assert_int_equal(ta[k]->type, QMC_TYPE_PACKED);
            assert_int_equal(qa->in.bits, 3);
            assert_true(qa->in.asym && qmc_qt_groups(qa) == 1);
            const int64_t rows = qa->rows, cols = qa->cols;
            float *w = malloc((size_t)cols * sizeof *w), *v = malloc((size_t)cols * sizeof *v);
            for (int64_t r = 0; r < rows; r++) {
                qmc_tensor_get_row(ts[k], r, w);
                int n = 0;
                for (int64_t c = 0; c < cols; c++) {
                    int64_t bit = r * cols + c;
                    int out_a = (qa->mask[bit >> 3] >> (bit & 7)) & 1, out_m = (qm->mask[bit >> 3] >> (bit & 7)) & 1;
                    assert_int_equal(out_a, out_m);   /* the partition does not depend on the noise */
                    if (!out_a) v[n++] = w[c];
                }
                assert_true(n > 1);
                double da = f16_at(qa->in_scale, r), ma_ = f16_at(qa->in_min, r);
                double dm = f16_at(qm->in_scale, r), mm_ = f16_at(qm->in_min, r);
                double la = loss_of(v, n, 3, da, ma_, noise), lm = loss_of(v, n, 3, dm, mm_, noise);
                /* the stored noise-aware scale is the grid minimiser of the noise-aware loss ... */
                double best = best_grid_loss(v, n, 3, noise);
                assert_true(la <= best * (1 + 1e-6) + 1e-12);
                /* ... and the MSE file's scale the minimiser of the plain squared error */
                assert_true(loss_of(v, n, 3, dm, mm_, 0) <= best_grid_loss(v, n, 3, 0) * (1 + 1e-6) + 1e-12);
                assert_true(la <= lm * (1 + 1e-6) + 1e-12);
                la_sum += la, lm_sum += lm, da_sum += da, dm_sum += dm;
                rows_differ += da != dm || ma_ != mm_;
                rows_checked++;
            }
            free(w);
            free(v);
        }
    }
    print_message("%d rows: noise-aware scales differ in %d; noise-aware loss %.6g (aware scales) vs %.6g (MSE scales); "
                  "mean step %.5g vs %.5g\n",
                  rows_checked, rows_differ, la_sum, lm_sum, da_sum / rows_checked, dm_sum / rows_checked);
    assert_true(rows_differ > rows_checked / 2);
    assert_true(la_sum < lm_sum * 0.99);   /* the noise term shrinks the step: a real gain on this loss */
    assert_true(da_sum < dm_sum);
    qmc_model_free(src);
    qmc_model_free(ma);
    qmc_model_free(mm);
}

/* ---- zero-shot under noise ------------------------------------------------------------ */

static const char *write_task(void) {
    const char *p = tu_tmp("noisy-task.jsonl");
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    for (int i = 0; i < 16; i++)
        fprintf(f, "{\"query\": \"Tom found a %s.\", \"choices\": [\"He was happy.\", \"The sun went down.\", "
                   "\"It was small and blue.\"], \"gold\": %d}\n",
                i % 2 ? "box" : "toy", i % 3);
    fclose(f);
    return p;
}

static cJSON *task_noise(const cJSON *j) {
    const cJSON *tasks = item(j, "tasks");
    assert_int_equal(cJSON_GetArraySize(tasks), 1);
    return cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(tasks, 0), "noise");
}

static void test_eval_under_noise(void **state) {
    (void)state;
    const char *task = write_task(), *packed = tu_tmp("eval.qmc.gguf");
    char cmd[2048], *log;
    assert_int_equal(tu_run(&log, "%s quantize -q -m %s -o %s", tu_qmc(), STORIES, packed), 0);
    free(log);
    const int T = 4;
    snprintf(cmd, sizeof cmd, "%s eval -m %s --task %s --device wan2022-1s-3b --trials %d --seed 7 --json -t 1",
             tu_qmc(), packed, task, T);
    cJSON *j1 = run_json(cmd);
    snprintf(cmd, sizeof cmd, "%s eval -m %s --task %s --device wan2022-1s-3b --trials %d --seed 7 --json -t 2",
             tu_qmc(), packed, task, T);
    cJSON *j2 = run_json(cmd);
    const cJSON *n1 = task_noise(j1), *n2 = task_noise(j2);
    assert_non_null(n1);
    assert_int_equal((int)num(n1, "trials"), T);
    assert_int_equal((int)num(item(j1, "device"), "cell_bits"), 3);
    /* the summary is the mean and t interval of the per-trial values (t(0.975, 3) = 3.182446305) */
    const cJSON *pt1 = item(n1, "per_trial"), *pt2 = item(n2, "per_trial");
    assert_int_equal(cJSON_GetArraySize(pt1), T);
    double x[8], s = 0, ss = 0;
    for (int t = 0; t < T; t++) {
        x[t] = num(cJSON_GetArrayItem(pt1, t), "acc_norm");
        s += x[t];
        /* the same at any thread count */
        assert_true(x[t] == num(cJSON_GetArrayItem(pt2, t), "acc_norm"));
        assert_true(num(cJSON_GetArrayItem(pt1, t), "cell_errors") > 0);
    }
    const double mean = s / T;
    for (int t = 0; t < T; t++) ss += (x[t] - mean) * (x[t] - mean);
    const double half = 3.182446305 * sqrt(ss / (T - 1)) / sqrt(T);
    const cJSON *an = item(n1, "acc_norm");
    assert_true(fabs(num(an, "mean") - mean) < 1e-12);
    assert_true(fabs(num(an, "ci95_hi") - (mean + half)) < 1e-9 && fabs(num(an, "ci95_lo") - (mean - half)) < 1e-9);
    /* measured cell error rate near the expected one (~9.6% of 158600 cells per trial) */
    assert_true(fabs(num(n1, "cell_error_rate") - num(n1, "expected_cell_error_rate")) < 0.01);
    /* qmc noise --task draws the same trials from the same seed: same per-trial metric */
    snprintf(cmd, sizeof cmd, "%s noise -m %s --task %s --metric acc_norm --device wan2022-1s-3b --trials %d --seed 7 --json",
             tu_qmc(), packed, task, T);
    cJSON *jn = run_json(cmd);
    const cJSON *trials = item(jn, "trials");
    for (int t = 0; t < T; t++) assert_true(num(cJSON_GetArrayItem(trials, t), "value") == x[t]);
    cJSON_Delete(jn);
    cJSON_Delete(j1);
    cJSON_Delete(j2);
    /* an error-free device changes nothing: every trial equals the noise-free result */
    snprintf(cmd, sizeof cmd, "%s eval -m %s --task %s --device ideal --trials 2 --json", tu_qmc(), packed, task);
    j1 = run_json(cmd);
    const cJSON *t0 = cJSON_GetArrayItem(item(j1, "tasks"), 0);
    n1 = task_noise(j1);
    for (int t = 0; t < 2; t++) {
        assert_true(num(cJSON_GetArrayItem(item(n1, "per_trial"), t), "acc") == num(t0, "acc"));
        assert_true(num(cJSON_GetArrayItem(item(n1, "per_trial"), t), "acc_norm") == num(t0, "acc_norm"));
    }
    cJSON_Delete(j1);
    /* bad input */
    int rc = tu_run(&log, "%s eval -m %s --task %s --device wan2022-1s-3b", tu_qmc(), STORIES, task);
    assert_int_not_equal(rc, 0);
    assert_non_null(strstr(log, "nothing is stored in ReRAM"));
    free(log);
    rc = tu_run(&log, "%s eval -m %s --task %s --trials 3", tu_qmc(), packed, task);
    assert_int_not_equal(rc, 0);
    assert_non_null(strstr(log, "--trials needs --device"));
    free(log);
    rc = tu_run(&log, "%s eval -m %s --task %s --device wan2022-1s-3b --trials 0", tu_qmc(), packed, task);
    assert_int_not_equal(rc, 0);
    free(log);
}

int main(void) {
    tu_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_p_from_device),
        cmocka_unit_test(test_bad_device_options),
        cmocka_unit_test(test_noise_aware_scales_minimise_the_loss),
        cmocka_unit_test(test_eval_under_noise),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
