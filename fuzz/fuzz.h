/* fuzz.h — the fuzz targets of qmc (see docs/fuzzing.md).
 *
 * Each fuzz/fuzz_<name>.c defines one target with QMC_FUZZ_TARGET(name): a
 * function that feeds one input to one parser through its buffer entry point
 * (the same code the path-based loaders run) and then uses what it parsed.
 * The same functions are linked into
 *   - build-fuzz/fuzz/<name>: a libFuzzer binary (fuzz/main.c), one per file;
 *   - build/tests/test_regress: replays tests/regress/<name>/ (minimised
 *     inputs of every crash found) and the seed corpus fuzz/corpus/<name>/.
 *
 * Beyond "no crash, no sanitizer report", every target checks the promises
 * qmc makes about hostile input (fuzz_check_* abort with a message when one
 * is broken, which libFuzzer reports as a crash):
 *   - a failure is a negative status with a one-line message naming the input;
 *   - a small input never makes qmc ask for more than FUZZ_ALLOC_CAP bytes
 *     (QMC_ERR_NOMEM is a finding: an allocation sized from an unchecked field);
 *   - everything allocated is freed (qmc's allocation counter returns to zero). */
#ifndef QMC_FUZZ_H
#define QMC_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

/* Cap on live qmc allocations while a target runs: far above what any input
 * of a few hundred KB justifies. */
#define FUZZ_ALLOC_CAP ((uint64_t)256 << 20)
/* Label under which targets parse their input (errors must name it). */
#define FUZZ_LABEL "fuzz-input"

typedef void (*qmc_fuzz_fn)(const uint8_t *data, size_t size);

typedef struct {
    const char *name;
    qmc_fuzz_fn run;
} qmc_fuzz_target;

void qmc_fuzz_register(const char *name, qmc_fuzz_fn run);
/* Registered targets (every linked fuzz_*.c), sorted by name. */
int qmc_fuzz_count(void);
const qmc_fuzz_target *qmc_fuzz_at(int i);
const qmc_fuzz_target *qmc_fuzz_find(const char *name);
/* Run one input through a target with the cap set, checking that qmc's live
 * allocations are the same afterwards. */
void qmc_fuzz_run(const qmc_fuzz_target *t, const uint8_t *data, size_t size);

#define QMC_FUZZ_TARGET(name)                                                        \
    static void fuzz_##name(const uint8_t *data, size_t size);                       \
    __attribute__((constructor)) static void fuzz_register_##name(void) {            \
        qmc_fuzz_register(#name, fuzz_##name);                                       \
    }                                                                                \
    static void fuzz_##name(const uint8_t *data, size_t size)

/* ---- checks (abort with a message on a broken promise) ------------------------ */
void fuzz_abort(const char *fmt, ...) QMC_PRINTF(1, 2);
/* rc is a parser's result: 0, or a negative status other than QMC_ERR_NOMEM
 * whose message is one line naming FUZZ_LABEL.  `what` names the call. */
void fuzz_check_status(int rc, const char *what);
/* The same with the message naming `name` (a file the call read). */
void fuzz_check_named(int rc, const char *what, const char *name);
/* The same for calls whose messages need not name the input (e.g. a
 * simulation of a parsed file that does not fit a memory). */
void fuzz_check_result(int rc, const char *what);
#define FUZZ_CHECK(cond)                                                             \
    do {                                                                             \
        if (!(cond)) fuzz_abort("%s:%d: check failed: %s", __FILE__, __LINE__, #cond); \
    } while (0)

/* A NUL-terminated heap copy of the input (for parsers of C strings). */
char *fuzz_cstring(const uint8_t *data, size_t size);

/* Texts the tokenizer targets encode: ASCII, spaces, UTF-8 of 2-4 bytes,
 * invalid UTF-8, control characters and common special-token spellings. */
extern const char *const fuzz_texts[];
extern const int fuzz_n_texts;

struct qmc_tokenizer;
struct qmc_model;
struct qmc_tensor;
/* Encode every fuzz text and decode every token (ids must be in range and
 * decoding must stay within its buffer). */
void fuzz_exercise_tokenizer(const struct qmc_tokenizer *t);
/* Decode rows of a tensor (packed: every row, fast decoder bit-identical to
 * the reference). */
void fuzz_exercise_tensor(const struct qmc_tensor *t);
/* Decode the model's tensors, run a two-token forward pass, use its tokenizer. */
void fuzz_exercise_model(const struct qmc_model *m);
/* A model held in the input (qmc_model_from_buffer: GGUF or llama2.c by the
 * magic), exercised when it loads. */
void fuzz_model_buffer(const uint8_t *data, size_t size);

/* The simulator's built-in hardware (embedded data files, jetson-orin-nano): a sim_hw. */
const void *fuzz_builtin_hw(void);
/* Simulate a sim_workload on a sim_hw with every architecture (short run,
 * small DSE): each either fails cleanly or gives finite, non-negative results. */
void fuzz_simulate(const void *workload, const void *hw);

#endif
