/* test_regress.c — replays every fuzz target's regression inputs
 * (tests/regress/<target>/: the minimised input of each crash the fuzzers
 * found, see docs/fuzzing.md) and seed corpus (fuzz/corpus/<target>/) through
 * the same target code libFuzzer runs (fuzz/fuzz_*.c), with its checks: no
 * crash or sanitizer report, one-line errors naming the input, no allocation
 * beyond the cap, nothing leaked.  Then checks what each fixed crash must now
 * report. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "../fuzz/fuzz.h"
#include "device/profile.h"
#include "model/model.h"
#include "sim/sim.h"
#include "testutil.h"

/* Run every file of dir through target t; returns the count. */
static int replay_dir(const qmc_fuzz_target *t, const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        char *buf;
        size_t len;
        assert_int_equal(qmc_read_file(path, (size_t)16 << 20, &buf, &len), 0);
        /* an exact-size copy, so that reads past the end are caught under ASan */
        uint8_t *copy = malloc(len ? len : 1);
        memcpy(copy, buf, len);
        qmc_free(buf);
        qmc_fuzz_run(t, copy, len);
        free(copy);
        n++;
    }
    closedir(d);
    return n;
}

static void test_replay(void **state) {
    assert_true(qmc_fuzz_count() >= 12);
    int total_regress = 0;
    for (int i = 0; i < qmc_fuzz_count(); i++) {
        const qmc_fuzz_target *t = qmc_fuzz_at(i);
        char dir[256];
        snprintf(dir, sizeof dir, "fuzz/corpus/%s", t->name);
        int seeds = replay_dir(t, dir);
        if (seeds == 0) fail_msg("fuzz target %s has no seed corpus in %s", t->name, dir);
        snprintf(dir, sizeof dir, "tests/regress/%s", t->name);
        int regress = replay_dir(t, dir);
        total_regress += regress;
        print_message("%-16s %3d seeds, %2d regression inputs\n", t->name, seeds, regress);
    }
    assert_true(total_regress > 0);
    qmc_set_alloc_cap(0);
}

/* Every directory of tests/regress belongs to a fuzz target. */
static void test_no_orphans(void **state) {
    DIR *d = opendir("tests/regress");
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.' && !qmc_fuzz_find(e->d_name))
            fail_msg("tests/regress/%s does not match a fuzz target", e->d_name);
    closedir(d);
}

static char *read_text(const char *path, size_t *len) {
    char *buf;
    assert_int_equal(qmc_read_file(path, 1 << 20, &buf, len), 0);
    return buf;
}

/* What the fixed crashes report now: the format error, naming the file. */
static void test_fixed_messages(void **state) {
    size_t len;
    /* GGUF tensor whose ne[0] * type size overflowed int64 (UBSan, ggml_tensor_nbytes) */
    char *buf = read_text("tests/regress/llama2c/gguf-nbytes-overflow.bin", &len);
    qmc_model *m = NULL;
    assert_int_equal(qmc_model_from_buffer((const uint8_t *)buf, len, "x.gguf", &m), QMC_ERR_FORMAT);
    assert_non_null(strstr(qmc_errmsg(), "x.gguf: tensor"));
    assert_non_null(strstr(qmc_errmsg(), "overflows"));
    qmc_free(buf);

    /* "hidden_size": 1e51 converted to int64 (UBSan, cfg_int) */
    sim_workload w;
    buf = read_text("tests/regress/sim_config/int-cast-overflow.json", &len);
    assert_int_equal(sim_workload_from_hf_config(buf, "c.json", &w), QMC_ERR_FORMAT);
    assert_string_equal(qmc_errmsg(), "c.json: \"hidden_size\" must be an integer in [1, 1048576]");
    qmc_free(buf);

    /* kv_reuse_group entry 9496729630 converted to int (UBSan, hymba_producer) */
    buf = read_text("tests/regress/sim_config/hymba-group-cast.json", &len);
    assert_int_equal(sim_workload_from_hf_config(buf, "h.json", &w), QMC_ERR_FORMAT);
    assert_string_equal(qmc_errmsg(), "h.json: \"kv_reuse_group\" must be lists of layer indexes in [0, 3)");
    qmc_free(buf);

    /* head_dim = hidden_size / heads = 4586 was accepted by config.json parsing (above the engine's limit) */
    buf = read_text("tests/regress/hf_config/derived-head-dim.json", &len);
    qmc_model cfg;
    memset(&cfg, 0, sizeof cfg);
    assert_int_equal(qmc_hf_config_parse(buf, len, "config.json", &cfg), QMC_ERR_FORMAT);
    assert_non_null(strstr(qmc_errmsg(), "config.json: head_dim 4586"));
    qmc_free(buf);

    /* a device profile named "" (and citing "") was accepted (target check) */
    buf = read_text("tests/regress/device/empty-name.json", &len);
    qmc_device_profile *p = malloc(sizeof *p);
    assert_non_null(p);
    assert_int_equal(qmc_device_parse(buf, len, "d.json", p), QMC_ERR_FORMAT);
    assert_string_equal(qmc_errmsg(), "d.json: name: must be non-empty text without control characters");
    free(p);
    qmc_free(buf);
}

int main(void) {
    tu_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replay),
        cmocka_unit_test(test_no_orphans),
        cmocka_unit_test(test_fixed_messages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
