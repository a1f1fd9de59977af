/* testutil.h — helpers shared by the cmocka test programs. */
#ifndef QMC_TESTUTIL_H
#define QMC_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka needs the includes above first */
#include <cmocka.h>

#include "model/model.h"

/* Path of a file under ../shared (or $QMC_SHARED), or NULL when absent. */
const char *tu_shared(const char *rel);
/* Skip the current test (with a message) when a shared file is absent. */
#define TU_REQUIRE_SHARED(var, rel)                                              \
    const char *var = tu_shared(rel);                                            \
    if (!var) {                                                                  \
        print_message("skip: ../shared/%s not found (set QMC_SHARED)\n", rel);   \
        skip();                                                                  \
    }
/* The embedded model shipped in the repository. */
const char *tu_repo(const char *rel);
/* A fresh temporary directory, removed at exit. */
const char *tu_tmpdir(void);
/* Path inside the temporary directory. */
const char *tu_tmp(const char *name);
/* Run a shell command; returns its exit status (-1 if it did not exit).
 * With out != NULL, stdout+stderr are captured (heap string, free()). */
int tu_run(char **out, const char *fmt, ...);
/* The qmc binary ($QMC_BIN, default build/qmc). */
const char *tu_qmc(void);
/* Call first in main(): QMC_TEST_FILTER=pattern runs only matching tests. */
void tu_init(void);
/* True when QMC_TEST_QUICK is set (sanitizer runs: skip the slowest cases). */
int tu_quick(void);

/* A small random model held in memory (owned F32 weights), for round trips. */
typedef struct {
    qmc_arch arch;
    int dim, hidden, layers, heads, kv_heads, vocab, seq_len;
    int head_dim;           /* 0: dim / heads */
    bool qkv_bias, tied;
    qmc_rope_style rope;
    bool llama3_scaling;    /* rope_freqs from Llama-3 scaling parameters */
    float rope_theta;
    bool with_tokenizer;    /* byte-fallback SPM vocabulary (vocab >= 259) */
} tu_model_spec;
qmc_model *tu_random_model(const tu_model_spec *spec, uint64_t seed);
/* Logits of all positions for tokens[n] (caller frees with free()). */
float *tu_logits(const qmc_model *m, const int32_t *tokens, int n);
/* Max |a-b| over n floats. */
double tu_max_abs_diff(const float *a, const float *b, int64_t n);

#endif
