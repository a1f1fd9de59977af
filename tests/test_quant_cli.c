/* test_quant_cli.c — `qmc quantize` and `qmc inspect` end to end: the packed
 * file's JSON accounting, loading it back, bad input with clear errors, and
 * a quantize killed mid-write leaving no partial output. */
#include <cJSON.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "quant/quantize.h"
#include "testutil.h"

static const char *STORIES = "models/stories260K/stories260K.bin";
static const char *TEXT = "data/text/tinystories-valid-sample.txt";

static cJSON *run_json(const char *fmt, const char *a, const char *b) {
    char *out;
    int rc = tu_run(&out, fmt, tu_qmc(), a, b);
    if (rc != 0) fail_msg("command failed (%d): %s", rc, out);
    /* stderr (progress) and stdout share the log: the JSON object starts at the first '{' */
    char *brace = strchr(out, '{');
    cJSON *j = brace ? cJSON_Parse(brace) : NULL;
    if (!j) fail_msg("no JSON in: %s", out);
    free(out);
    return j;
}

static double num(const cJSON *o, const char *path1, const char *path2) {
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, path1);
    if (path2) x = cJSON_GetObjectItemCaseSensitive(x, path2);
    if (!cJSON_IsNumber(x)) fail_msg("JSON lacks %s.%s", path1, path2 ? path2 : "");
    return x->valuedouble;
}

static void test_quantize_json_and_inspect(void **state) {
    const char *out = tu_tmp("s.qmc.gguf");
    cJSON *j = run_json("%s quantize -m %s -o %s --json", STORIES, out);
    /* the paper's nominal count at the defaults, and the honest one above it */
    double nominal = num(j, "block_linears", "nominal_bpw"), honest = num(j, "block_linears", "honest_bpw");
    assert_true(fabs(nominal - 3.6) < 0.005);
    assert_true(honest > nominal + 1.0);   /* + 1 bit of outlier bitmap, scales, padding */
    const cJSON *planes = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "block_linears"), "planes_bpw");
    double sum = num(planes, "reram_codes", NULL) + num(planes, "inlier_scales", NULL) + num(planes, "outlier_bitmap", NULL) +
                 num(planes, "mram_codes", NULL) + num(planes, "outlier_scales", NULL) + num(planes, "plain", NULL);
    assert_true(fabs(sum - honest) < 1e-9);
    assert_true(fabs(num(planes, "outlier_bitmap", NULL) - 1.0) < 0.1);   /* 1 bit + 8 bytes of padding per tensor */
    assert_true(num(j, "block_sqnr_db", NULL) > 20);
    cJSON_Delete(j);
    /* inspect: same accounting, per-tensor errors against the source */
    j = run_json("%s inspect %s --ref %s --json", out, STORIES);
    assert_true(fabs(num(j, "block_linears", "nominal_bpw") - nominal) < 1e-9);
    assert_true(fabs(num(j, "block_linears", "honest_bpw") - honest) < 1e-9);
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(j, "metadata");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(meta, "method")->valuestring, "qmc");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(meta, "position_encoding")->valuestring, "bitmap");
    const cJSON *tensors = cJSON_GetObjectItemCaseSensitive(j, "tensors");
    int packed = 0;
    const cJSON *t;
    cJSON_ArrayForEach(t, tensors) {
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(t, "method");
        if (!m) continue;
        packed++;
        if (strcmp(m->valuestring, "qmc") == 0) {
            assert_true(num(t, "tau", NULL) > 0);
            assert_true(num(t, "sqnr_db", NULL) > 15);
        }
    }
    assert_int_equal(packed, 1 + 5 * 7);   /* the 8-bit embedding/head and 35 block linears */
    cJSON_Delete(j);
    /* the packed file runs in the other commands unchanged */
    char *log;
    assert_int_equal(tu_run(&log, "%s ppl -m %s -f %s --protocol full --chunks 2", tu_qmc(), out, TEXT), 0);
    assert_non_null(strstr(log, "perplexity"));
    free(log);
    assert_int_equal(tu_run(&log, "%s generate -m %s -p 'Once upon a time' -n 8", tu_qmc(), out), 0);
    assert_non_null(strstr(log, "Once upon a time"));
    free(log);
}

/* The command fails (non-zero exit) with one message line containing `want`. */
static void expect_error(const char *want, const char *fmt, ...) {
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    char *out;
    int rc = tu_run(&out, "%s", cmd);
    if (rc == 0 || !strstr(out, want)) fail_msg("expected failure with '%s' from: %s\n got (%d): %s", want, cmd, rc, out);
    if (strchr(out, '\n') != out + strlen(out) - 1) fail_msg("error is not one line: %s", out);
    free(out);
}

static void test_bad_input(void **state) {
    const char *q = tu_qmc(), *out = tu_tmp("bad.qmc.gguf");
    expect_error("--rho 1 is outside [0, 1)", "%s quantize -m %s -o %s --rho 1", q, STORIES, out);
    expect_error("--rho -0.1 is outside [0, 1)", "%s quantize -m %s -o %s --rho -0.1", q, STORIES, out);
    expect_error("--rho: 'x' is not a number", "%s quantize -m %s -o %s --rho x", q, STORIES, out);
    expect_error("--bits-in 9 is outside 2..8", "%s quantize -m %s -o %s --bits-in 9", q, STORIES, out);
    expect_error("--bits-in 1 is outside 2..8", "%s quantize -m %s -o %s --bits-in 1", q, STORIES, out);
    expect_error("--bits-out 9 is outside 2..8", "%s quantize -m %s -o %s --bits-out 9", q, STORIES, out);
    expect_error("--method: unknown quantization method", "%s quantize -m %s -o %s --method gptq9", q, STORIES, out);
    expect_error("MXFP4 elements have 4 bits", "%s quantize -m %s -o %s --method mxfp4 --bits-in 3", q, STORIES, out);
    expect_error("--rho applies to --method qmc and qmc-gptq only", "%s quantize -m %s -o %s --method rtn --rho 0.2", q, STORIES, out);
    expect_error("--embed-bits 1 is neither", "%s quantize -m %s -o %s --embed-bits 1", q, STORIES, out);
    expect_error("no output given", "%s quantize -m %s", q, STORIES);
    expect_error("nonexistent.bin", "%s quantize -m /nonexistent.bin -o %s", q, out);
    assert_false(qmc_file_exists(out));
    /* an already packed model is not a source */
    const char *packed = tu_tmp("src.qmc.gguf");
    assert_int_equal(tu_run(NULL, "%s quantize -q -m %s -o %s", q, STORIES, packed), 0);
    expect_error("is already quantized", "%s quantize -m %s -o %s", q, packed, out);
    assert_false(qmc_file_exists(out));
    /* inspect: a GGUF without qmc planes, a missing file, garbage */
    const char *plain = tu_tmp("plain.gguf");
    assert_int_equal(tu_run(NULL, "%s convert %s -o %s", q, STORIES, plain), 0);
    expect_error("not a qmc packed model", "%s inspect %s", q, plain);
    expect_error("/nonexistent.gguf", "%s inspect /nonexistent.gguf", q);
    const char *junk = tu_tmp("junk.gguf");
    FILE *f = fopen(junk, "wb");
    fputs("GGUF\x03\0\0\0garbage", f);
    fclose(f);
    expect_error(junk, "%s inspect %s", q, junk);
    /* inspect --ref with a model of other shapes */
    tu_model_spec sp = {.arch = QMC_ARCH_LLAMA, .dim = 32, .hidden = 64, .layers = 1, .heads = 4, .kv_heads = 2,
                        .vocab = 300, .seq_len = 16, .with_tokenizer = true};
    qmc_model *m = tu_random_model(&sp, 2);
    const char *other = tu_tmp("other.gguf");
    assert_int_equal(qmc_model_save_gguf(m, other, QMC_WRITE_F32), 0);
    qmc_model_free(m);
    expect_error("tensor 'token_embd.weight' is 300 x 32, the packed one 512 x 64", "%s inspect %s --ref %s", q, packed, other);
}

/* A quantize killed at any moment leaves the previous file intact and no
 * temporary files. */
static void test_killed_quantize_leaves_no_partial_output(void **state) {
    const char *dir = tu_tmp("kill");
    mkdir(dir, 0755);
    /* a source large enough that quantize + write take a noticeable time */
    tu_model_spec sp = {.arch = QMC_ARCH_LLAMA, .dim = 256, .hidden = 768, .layers = tu_quick() ? 2 : 8, .heads = 8,
                        .kv_heads = 4, .vocab = 1024, .seq_len = 64, .with_tokenizer = true};
    qmc_model *m = tu_random_model(&sp, 1);
    char src[512], out[512];
    snprintf(src, sizeof src, "%s/src.gguf", dir);
    snprintf(out, sizeof out, "%s/out.qmc.gguf", dir);
    assert_int_equal(qmc_model_save_gguf(m, src, QMC_WRITE_F32), 0);
    qmc_model_free(m);
    assert_int_equal(qmc_write_file_atomic(out, "previous", 8), 0);
    const double delays[] = {0.0, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5};
    for (size_t i = 0; i < QMC_ARRAY_LEN(delays); i++) {
        char *log;
        tu_run(&log, "%s quantize -q -m %s -o %s & p=$!; sleep %.2f; kill -9 $p 2>/dev/null; wait $p; true", tu_qmc(), src,
               out, delays[i]);
        free(log);
        /* the output is either the previous file or a complete new one */
        char *buf;
        size_t n;
        assert_int_equal(qmc_read_file(out, (size_t)1 << 30, &buf, &n), 0);
        if (!(n == 8 && memcmp(buf, "previous", 8) == 0)) {
            qmc_model *b = NULL;
            if (qmc_model_load(out, NULL, &b)) fail_msg("after kill at %.2f s: %s is neither old nor complete: %s", delays[i], out,
                                                       qmc_errmsg());
            qmc_model_free(b);
            assert_int_equal(qmc_write_file_atomic(out, "previous", 8), 0);
        }
        qmc_free(buf);
        char *ls;
        tu_run(&ls, "ls -A '%s'", dir);
        if (strcmp(ls, "out.qmc.gguf\nsrc.gguf\n") != 0) fail_msg("after kill at %.2f s the directory holds: %s", delays[i], ls);
        free(ls);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quantize_json_and_inspect),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_killed_quantize_leaves_no_partial_output),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
