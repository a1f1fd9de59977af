/* test_study.c — qmc study: config parsing and its errors, a tiny study
 * whose cells match the same evaluations done independently through the
 * library, resume after an interruption (stopped run, torn record), and the
 * report's tables. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "device/montecarlo.h"
#include "device/profile.h"
#include "eval/study.h"
#include "eval/zeroshot.h"
#include "quant/calib.h"
#include "quant/quantize.h"

static const tu_model_spec k_spec = {.arch = QMC_ARCH_LLAMA, .dim = 64, .hidden = 96, .layers = 2, .heads = 4,
                                     .kv_heads = 2, .vocab = 300, .seq_len = 64, .with_tokenizer = true};
static char g_model[4096], g_text[4096], g_task[4096];

static int setup_files(void **state) {
    (void)state;
    qmc_model *m = tu_random_model(&k_spec, 7);
    if (!m) return -1;
    snprintf(g_model, sizeof g_model, "%s", tu_tmp("study-model.gguf"));
    snprintf(g_text, sizeof g_text, "%s", tu_tmp("study-text.txt"));
    int rc = qmc_model_save_gguf(m, g_model, QMC_WRITE_KEEP);
    qmc_model_free(m);
    FILE *f = fopen(g_text, "w");
    if (rc || !f) return -1;
    for (int i = 0; i < 12; i++) fprintf(f, "Once upon a time a small robot found %d shiny stones near the river. ", i);
    fclose(f);
    /* a small multiple-choice task (llm-foundry layout) */
    snprintf(g_task, sizeof g_task, "%s", tu_tmp("study-task.jsonl"));
    char buf[4096] = "";
    for (int i = 0; i < 10; i++) {
        char line[256];
        snprintf(line, sizeof line, "{\"query\": \"the robot found %d %s\", \"choices\": [\"stones\", \"rivers\", \"a time\"], \"gold\": %d}\n",
                 i, i % 2 ? "shiny" : "small", i % 3);
        strcat(buf, line);
    }
    return qmc_write_file_atomic(g_task, buf, strlen(buf)) ? -1 : 0;
}

/* A config around the tiny model; grid is the JSON of "grid". */
static char *config_text(const char *out, const char *grid) {
    static char buf[32768];
    snprintf(buf, sizeof buf,
             "{\"model\": \"%s\", \"text\": \"%s\", \"protocol\": \"full\", \"ctx\": 32, \"out\": \"%s\", \"seed\": 3, "
             "\"tasks\": [\"%s\"], \"grid\": %s}",
             g_model, g_text, out, g_task, grid);
    return buf;
}

static const char *k_grid = "[{\"methods\": [\"fp32\", \"rtn\", \"qmc\"]},"
                            " {\"methods\": [\"qmc\"], \"noise\": [\"nvmexplorer\"], \"cells\": [3], \"trials\": 3}]";

static void expect_error(const char *json, const char *needle) {
    qmc_study_config c;
    int rc = qmc_study_config_parse(json, strlen(json), "cfg.json", &c);
    assert_true(rc < 0);
    const char *msg = qmc_errmsg();
    if (!strstr(msg, "cfg.json") || !strstr(msg, needle)) fail_msg("message '%s' lacks '%s'", msg, needle);
    assert_null(strchr(msg, '\n'));
}

static void test_config_errors(void **state) {
    (void)state;
    expect_error("{\"model\": ", "cfg.json");
    expect_error("[1, 2]", "JSON object");
    expect_error(config_text("o", "[{\"methods\": [\"fp64\"]}]"), "fp64");
    expect_error(config_text("o", "[{\"methods\": [\"qmc\"], \"noise\": [\"nosuchdevice\"]}]"), "nosuchdevice");
    expect_error(config_text("o", "[{\"methods\": [\"qmc\"], \"bits\": [9]}]"), "bits");
    expect_error(config_text("o", "[{\"methods\": [\"fp32\"], \"noise\": [\"nvmexplorer\"]}]"), "no cells");
    expect_error(config_text("o", "[{\"methods\": [\"qmc\"], \"colour\": 1}]"), "colour");
    expect_error(config_text("o", "[]"), "grid");
    expect_error(config_text("o", "[{\"noise\": [\"none\"]}]"), "methods");
    char buf[40000];
    snprintf(buf, sizeof buf, "%s", config_text("o", k_grid));
    char *at = strstr(buf, g_task);
    memcpy(at, "no_such_task", 12);
    memmove(at + 12, at + strlen(g_task), strlen(at + strlen(g_task)) + 1);
    expect_error(buf, "no_such_task");
    expect_error(config_text("o", "[{\"methods\": [\"qmc\"]}], \"shapes\": [\"no-such-shape\"]"), "no-such-shape");
    /* the CLI: a one-line error naming the file, non-zero exit */
    const char *bad = tu_tmp("bad-study.json");
    FILE *f = fopen(bad, "w");
    fputs(config_text("o", "[{\"methods\": [\"fp64\"]}]"), f);
    fclose(f);
    char *out = NULL;
    int rc = tu_run(&out, "%s study %s", tu_qmc(), bad);
    assert_int_not_equal(rc, 0);
    assert_non_null(strstr(out, "bad-study.json"));
    assert_non_null(strstr(out, "fp64"));
    free(out);
}

static void test_config_cells(void **state) {
    (void)state;
    qmc_study_config c;
    const char *grid = "[{\"methods\": [\"fp32\", \"rtn\", \"mxint4\", \"qmc\"], \"rho\": [0.1, 0.3],"
                       " \"noise\": [\"none\", \"nvmexplorer\", \"wan2022-1s-2b\"], \"cells\": [2, 3], \"trials\": 4}]";
    const char *t = config_text("o", grid);
    assert_int_equal(qmc_study_config_parse(t, strlen(t), "cfg.json", &c), 0);
    /* fp32: noise-free only (1); rtn, mxint4: rho ignored, 1 + 2 + 1 noise cells (4 each);
     * qmc: 2 rho x (1 + 2 + 1) = 8 */
    assert_int_equal(c.n_cells, 1 + 4 + 4 + 8);
    int wan = 0;
    for (int i = 0; i < c.n_cells; i++) {
        const qmc_study_cell *x = &c.cells[i];
        if (strcmp(x->method, "fp32") == 0) assert_string_equal(x->device, "none");
        if (strcmp(x->method, "qmc") != 0) assert_true(x->rho == 0);
        else assert_int_equal(x->bits, 3);
        if (strcmp(x->method, "rtn") == 0) assert_int_equal(x->bits, 4);
        if (strcmp(x->device, "wan2022-1s-2b") == 0) {
            assert_int_equal(x->cell_bits, 2);
            assert_int_equal(x->trials, 4);
            wan++;
        }
        if (strcmp(x->device, "none") == 0) assert_int_equal(x->trials, 1);
        /* cells sharing a quantization are consecutive: once a group ends it never returns */
        for (int j = 0; j + 1 < i; j++) {
            const qmc_study_cell *a = &c.cells[j], *b = &c.cells[j + 1];
            const bool a_same = strcmp(a->method, x->method) == 0 && a->rho == x->rho && a->bits == x->bits;
            const bool b_same = strcmp(b->method, x->method) == 0 && b->rho == x->rho && b->bits == x->bits;
            assert_false(a_same && !b_same && j + 1 < i);
        }
    }
    assert_int_equal(wan, 4);
    uint64_t h = c.hash;
    qmc_study_config_free(&c);
    /* another output directory: the same hash; another setting: another hash */
    t = config_text("elsewhere", grid);
    assert_int_equal(qmc_study_config_parse(t, strlen(t), "cfg.json", &c), 0);
    assert_true(c.hash == h);
    qmc_study_config_free(&c);
    t = config_text("o", "[{\"methods\": [\"fp32\"]}]");
    assert_int_equal(qmc_study_config_parse(t, strlen(t), "cfg.json", &c), 0);
    assert_true(c.hash != h);
    qmc_study_config_free(&c);
}

/* Perplexity of the text with the study's protocol on model m. */
static double ppl_of(const qmc_model *m, qmc_ppl_result *r) {
    char *text = NULL;
    size_t len = 0;
    int32_t *toks = NULL;
    int64_t n = 0;
    assert_int_equal(qmc_read_file(g_text, 1 << 20, &text, &len), 0);
    assert_int_equal(qmc_tok_encode(m->tok, text, len, false, &toks, &n), 0);
    qmc_ppl_opts o = {0};
    o.protocol = QMC_PPL_FULL;
    o.n_ctx = 32;
    assert_int_equal(qmc_perplexity(m, toks, n, &o, r), 0);
    qmc_free(text);
    qmc_free(toks);
    return r->ppl;
}

static qmc_model *quantized(const char *method) {
    qmc_model *m = NULL;
    assert_int_equal(qmc_model_load(g_model, NULL, &m), 0);
    if (strcmp(method, "fp32") == 0) return m;
    qmc_model_quant_opts o;
    qmc_model_quant_opts_default(&o);
    assert_int_equal(qmc_quant_params_for_method(method, &o.blocks, NULL, NULL), 0);
    assert_int_equal(qmc_quantize_model(m, &o, NULL), 0);
    return m;
}

/* Zero-shot accuracy of the task file on m, as qmc eval scores it. */
static double acc_of(const qmc_model *m, qmc_zs_result *z) {
    qmc_task_set *t = NULL;
    assert_int_equal(qmc_task_load(g_task, NULL, &t), 0);
    qmc_zs_opts o = {0};
    o.max_ctx = 32;
    assert_int_equal(qmc_zeroshot_eval(m, t, &o, z), 0);
    qmc_task_free(t);
    return z->acc;
}

typedef struct {
    qmc_ppl_result r;
    double sum, acc_sum;
} ppl_trial_user;

static int ppl_trial(const qmc_model *m, void *user, double *value) {
    ppl_trial_user *u = user;
    *value = ppl_of(m, &u->r);
    u->sum += *value;
    qmc_zs_result z;
    u->acc_sum += acc_of(m, &z);
    return 0;
}

static const qmc_study_row *find_row(const qmc_study_results *r, const char *method, const char *device) {
    for (int i = 0; i < r->n_rows; i++)
        if (strcmp(r->rows[i].cell.method, method) == 0 && strcmp(r->rows[i].cell.device, device) == 0) return &r->rows[i];
    fail_msg("no row %s/%s", method, device);
    return NULL;
}

static void run_study(const char *out, int stop_after, qmc_study_config *c, qmc_study_results *res) {
    const char *t = config_text(out, k_grid);
    assert_int_equal(qmc_study_config_parse(t, strlen(t), "cfg.json", c), 0);
    qmc_study_run_opts o = {0};
    o.stop_after = stop_after;
    if (qmc_study_run(c, &o, res)) fail_msg("%s", qmc_errmsg());
}

static void assert_rows_equal(const qmc_study_results *a, const qmc_study_results *b) {
    assert_int_equal(a->n_rows, b->n_rows);
    for (int i = 0; i < a->n_rows; i++) {
        assert_string_equal(a->rows[i].cell.key, b->rows[i].cell.key);
        if (a->rows[i].ppl.mean != b->rows[i].ppl.mean) fail_msg("%s: %.17g vs %.17g", a->rows[i].cell.key, a->rows[i].ppl.mean, b->rows[i].ppl.mean);
        assert_true(a->rows[i].ppl.sd == b->rows[i].ppl.sd);
        assert_true(a->rows[i].ppl.ci_lo == b->rows[i].ppl.ci_lo);
        assert_true(a->rows[i].ppl_clean == b->rows[i].ppl_clean);
        assert_true(a->rows[i].bpw_honest == b->rows[i].bpw_honest);
        assert_true(a->rows[i].bpw_nominal == b->rows[i].bpw_nominal);
    }
}

static char *slurp(const char *dir, const char *name) {
    char path[4200];
    qmc_path_join(path, sizeof path, dir, name);
    char *text = NULL;
    size_t len = 0;
    if (qmc_read_file(path, 1 << 24, &text, &len)) fail_msg("%s", qmc_errmsg());
    return text;
}

static void test_study_matches_library_and_resumes(void **state) {
    (void)state;
    char full[4096], part[4096];
    snprintf(full, sizeof full, "%s", tu_tmp("study-full"));
    snprintf(part, sizeof part, "%s", tu_tmp("study-part"));
    qmc_study_config c;
    qmc_study_results res;
    run_study(full, 0, &c, &res);
    assert_true(res.complete);
    assert_int_equal(res.n_rows, 4);
    assert_int_equal(res.n_run, 4);

    /* each cell equals the same evaluation done independently */
    qmc_ppl_result pr;
    qmc_model *m = quantized("fp32");
    assert_true(find_row(&res, "fp32", "none")->ppl.mean == ppl_of(m, &pr));
    qmc_zs_result z;
    const qmc_study_row *fr = find_row(&res, "fp32", "none");
    assert_int_equal(fr->n_tasks, 1);
    assert_true(fr->task[0].acc == acc_of(m, &z));
    assert_true(fr->task[0].acc_stderr == z.acc_stderr);
    assert_int_equal(fr->task[0].n, 10);
    assert_true(fr->task[0].has_acc_norm);
    assert_true(fr->task[0].acc_norm == z.acc_norm);
    assert_true(find_row(&res, "fp32", "none")->bpw_nominal == 32.0);
    qmc_model_free(m);
    m = quantized("rtn");
    assert_true(find_row(&res, "rtn", "none")->ppl.mean == ppl_of(m, &pr));
    assert_true(find_row(&res, "rtn", "none")->task[0].acc == acc_of(m, &z));
    qmc_model_bpw bpw;
    qmc_model_bpw_compute(m, &bpw);
    assert_true(find_row(&res, "rtn", "none")->bpw_honest == qmc_bpw_honest(&bpw.blocks));
    qmc_model_free(m);
    m = quantized("qmc");
    const double clean = ppl_of(m, &pr);
    assert_true(find_row(&res, "qmc", "none")->ppl.mean == clean);
    qmc_device_profile prof;
    qmc_device_name_sel sel;
    qmc_noise_model nm;
    assert_int_equal(qmc_device_load("nvmexplorer", NULL, &prof, &sel), 0);
    assert_int_equal(qmc_noise_model_init(&nm, &prof, 3, 0, QMC_ENC_BINARY), 0);
    qmc_noisy_model *noisy = NULL;
    assert_int_equal(qmc_noisy_model_new(m, &nm, QMC_NOISE_SCOPE_BLOCKS, &noisy), 0);
    qmc_trial_result tr[3];
    ppl_trial_user u = {0};
    assert_int_equal(qmc_noise_trials(noisy, 3, 3, ppl_trial, &u, tr, NULL), 0);
    const qmc_study_row *nr = find_row(&res, "qmc", "nvmexplorer");
    assert_int_equal(nr->ppl.n, 3);
    assert_true(fabs(nr->ppl.mean - u.sum / 3) <= 1e-12 * nr->ppl.mean);
    assert_true(nr->ppl.min == fmin(fmin(tr[0].value, tr[1].value), tr[2].value));
    assert_true(nr->ppl_clean == clean);
    assert_true(fabs(nr->task[0].acc - u.acc_sum / 3) < 1e-12);
    qmc_noisy_model_free(noisy);
    qmc_model_free(m);

    /* the report's tables */
    char *md = slurp(full, "report.md");
    assert_non_null(strstr(md, "## Table 2"));
    assert_non_null(strstr(md, "| FP32 | 32.000 | 32.000 |"));
    assert_non_null(strstr(md, "| rtn W4 |"));
    assert_non_null(strstr(md, "## Table 3"));
    assert_non_null(strstr(md, "| nvmexplorer | 3-bit | qmc W3 rho=0.3 | 3 |"));
    assert_non_null(strstr(md, "| fp16-dram |"));
    assert_non_null(strstr(md, "| qmc (2-bit cells) |"));
    qmc_free(md);
    char *csv = slurp(full, "results.csv");
    int lines = 0;
    for (char *p = csv; *p; p++) lines += *p == '\n';
    assert_int_equal(lines, 1 + 4);
    qmc_free(csv);

    /* interruption after 2 cells, then resume: only the missing cells run */
    qmc_study_config c2;
    qmc_study_results r2;
    run_study(part, 2, &c2, &r2);
    assert_false(r2.complete);
    assert_int_equal(r2.n_run, 2);
    qmc_study_results_free(&r2);
    qmc_study_config_free(&c2);
    run_study(part, 0, &c2, &r2);
    assert_true(r2.complete);
    assert_int_equal(r2.n_resumed, 2);
    assert_int_equal(r2.n_run, 2);
    assert_rows_equal(&res, &r2);
    qmc_study_results_free(&r2);
    qmc_study_config_free(&c2);

    /* a torn record (crash mid-write): the damaged last line is redone */
    char rec[4200];
    qmc_path_join(rec, sizeof rec, part, "cells.jsonl");
    char *text = slurp(part, "cells.jsonl");
    size_t len = strlen(text);
    char *last = text + len - 1;
    while (last > text && last[-1] != '\n') last--;
    FILE *f = fopen(rec, "w");
    fwrite(text, 1, (size_t)(last - text) + 10, f); /* 10 bytes of the last line */
    fclose(f);
    qmc_free(text);
    run_study(part, 0, &c2, &r2);
    assert_true(r2.complete);
    assert_int_equal(r2.n_resumed, 3);
    assert_int_equal(r2.n_run, 1);
    assert_rows_equal(&res, &r2);
    qmc_study_results_free(&r2);
    qmc_study_config_free(&c2);

    /* records of another config are refused */
    const char *t = config_text(part, "[{\"methods\": [\"fp32\"]}]");
    assert_int_equal(qmc_study_config_parse(t, strlen(t), "cfg.json", &c2), 0);
    qmc_study_run_opts o = {0};
    assert_true(qmc_study_run(&c2, &o, &r2) < 0);
    assert_non_null(strstr(qmc_errmsg(), "different config"));
    qmc_study_results_free(&r2);
    qmc_study_config_free(&c2);

    qmc_study_results_free(&res);
    qmc_study_config_free(&c);
}

/* The command: runs, prints the report, writes the outputs; a rerun resumes everything. */
/* A calibrated method (gptq) in a study equals calibrating and quantizing
 * through the library with the same text and token budget; a missing
 * calibration file is a config error. */
static void test_study_calibrated(void **state) {
    (void)state;
    char out[4096], cfg[20000];
    snprintf(out, sizeof out, "%s", tu_tmp("study-calib"));
    snprintf(cfg, sizeof cfg,
             "{\"model\": \"%s\", \"text\": \"%s\", \"ctx\": 32, \"out\": \"%s\", \"calib\": \"%s\", "
             "\"calib_tokens\": 100, \"grid\": {\"methods\": [\"gptq\"]}}",
             g_model, g_text, out, g_text);
    qmc_study_config c;
    qmc_study_results res;
    assert_int_equal(qmc_study_config_parse(cfg, strlen(cfg), "cfg.json", &c), 0);
    qmc_study_run_opts ro = {0};
    if (qmc_study_run(&c, &ro, &res)) fail_msg("%s", qmc_errmsg());
    assert_int_equal(res.n_rows, 1);

    qmc_model *m = NULL;
    assert_int_equal(qmc_model_load(g_model, NULL, &m), 0);
    qmc_model_quant_opts o;
    qmc_model_quant_opts_default(&o);
    assert_int_equal(qmc_quant_params_for_method("gptq", &o.blocks, NULL, NULL), 0);
    qmc_calib_opts co;
    qmc_calib_opts_default(&co);
    int64_t n = 100;
    int ctx = 0;
    assert_int_equal(qmc_calib_collect_text(m, g_text, &n, &ctx, NULL, NULL, &o.calib), 0);
    assert_int_equal(n, 100);
    assert_int_equal(ctx, k_spec.seq_len);
    o.calib_opts = &co;
    assert_int_equal(qmc_quantize_model(m, &o, NULL), 0);
    qmc_calib_stats_free(o.calib);
    qmc_ppl_result pr;
    const double ppl = ppl_of(m, &pr);
    qmc_model_free(m);
    if (res.rows[0].ppl.mean != ppl) fail_msg("study %.17g vs library %.17g", res.rows[0].ppl.mean, ppl);
    /* and it differs from plain RTN (the calibration did something) */
    m = quantized("rtn");
    assert_true(ppl_of(m, &pr) != ppl);
    qmc_model_free(m);
    qmc_study_results_free(&res);
    qmc_study_config_free(&c);

    snprintf(cfg, sizeof cfg,
             "{\"model\": \"%s\", \"text\": \"%s\", \"out\": \"%s\", \"calib\": \"/nonexistent/calib.txt\", "
             "\"grid\": {\"methods\": [\"gptq\"]}}",
             g_model, g_text, out);
    expect_error(cfg, "calib.txt");
}

static void test_cli_study(void **state) {
    (void)state;
    char out_dir[4096];
    snprintf(out_dir, sizeof out_dir, "%s", tu_tmp("study-cli"));
    const char *cfg = tu_tmp("study-cli.json");
    const char *t = config_text(out_dir, "{\"methods\": [\"fp32\", \"mxint4\"]}");
    assert_int_equal(qmc_write_file_atomic(cfg, t, strlen(t)), 0);
    char *out = NULL;
    int rc = tu_run(&out, "%s study --list '%s'", tu_qmc(), cfg);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "mxint4 bits=4 rho=0 device=none"));
    free(out);
    /* interrupted after one cell (--stop-after), then completed by a plain rerun */
    rc = tu_run(&out, "%s study --quiet --no-plots --stop-after 1 '%s' 2>&1", tu_qmc(), cfg);
    if (rc) fail_msg("%s", out);
    assert_non_null(strstr(out, "stopped with 1 of 2 cells done"));
    assert_null(strstr(out, "Table 2"));
    free(out);
    rc = tu_run(&out, "%s study --quiet --no-plots '%s'", tu_qmc(), cfg);
    if (rc) fail_msg("%s", out);
    assert_non_null(strstr(out, "| FP32 | 32.000 | 32.000 |"));
    assert_non_null(strstr(out, "| mxint4 W4 | 4.000 |"));
    free(out);
    const char *names[] = {"results.csv", "results.json", "report.md", "cells.jsonl"};
    for (int i = 0; i < 4; i++) {
        char path[4200];
        qmc_path_join(path, sizeof path, out_dir, names[i]);
        assert_true(qmc_file_exists(path));
    }
    rc = tu_run(&out, "%s study --no-plots --no-print '%s' 2>&1", tu_qmc(), cfg);
    if (rc) fail_msg("%s", out);
    assert_non_null(strstr(out, "2 of 2 cells already done"));
    assert_non_null(strstr(out, "0 run now, 2 resumed"));
    char *lines = slurp(out_dir, "cells.jsonl");
    int n_lines = 0;
    for (char *p = lines; *p; p++) n_lines += *p == '\n';
    assert_int_equal(n_lines, 2); /* the rerun after --stop-after appended only the missing cell */
    qmc_free(lines);
    free(out);
    rc = tu_run(&out, "%s study '%s' '%s'", tu_qmc(), cfg, cfg);
    assert_int_equal(rc, 2);
    free(out);
    rc = tu_run(&out, "%s study '%s'", tu_qmc(), tu_tmp("no-such-study.json"));
    assert_int_not_equal(rc, 0);
    assert_non_null(strstr(out, "no-such-study.json"));
    free(out);
}

int main(void) {
    tu_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_config_cells),
        cmocka_unit_test(test_study_matches_library_and_resumes),
        cmocka_unit_test(test_study_calibrated),
        cmocka_unit_test(test_cli_study),
    };
    return cmocka_run_group_tests(tests, setup_files, NULL);
}
