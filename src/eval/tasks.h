/* tasks.h — zero-shot evaluation tasks held in memory, and the loaders of
 * the three file layouts they come in.
 *
 * Every task, whatever its source layout, becomes one qmc_task_set: a list of
 * examples, each with its options.  An option is one loglikelihood request of
 * lm-evaluation-harness: a context string and a continuation string (the
 * continuation includes the target delimiter, normally " ").  The kind says
 * how options relate and how they are scored (see zeroshot.h):
 *
 *   QMC_TASK_CHOICE   one context, one continuation per choice (HellaSwag,
 *                     ARC, BoolQ, PIQA, OpenBookQA): acc, acc_norm.
 *   QMC_TASK_PARTIAL  one context per option, one shared continuation
 *                     (WinoGrande "partial evaluation"): acc.
 *   QMC_TASK_TARGET   one context, one continuation (LAMBADA): accuracy =
 *                     every continuation token is the greedy argmax;
 *                     perplexity = exp(-mean loglikelihood per example).
 *
 * Layouts (see docs/zeroshot.md):
 *   QMC_TASK_FMT_FOUNDRY    mosaicml llm-foundry jsonl: {"query","choices","gold"},
 *                           {"context_options","continuation","gold"} or
 *                           {"context","continuation"} per line.
 *   QMC_TASK_FMT_HELLASWAG  6 lines per example: "activity: context", gold
 *                           index, 4 endings (klosax/hellaswag_text_data).
 *   QMC_TASK_FMT_ARC        ai2_arc jsonl: {"id","question","choices":{"text","label"},"answerKey"}.
 *
 * Bad lines are reported as "file:line: problem".  With strict loading the
 * first one is the error; otherwise the example is skipped, counted, and its
 * message kept (the first QMC_TASK_MAX_PROBLEMS of them). */
#ifndef QMC_TASKS_H
#define QMC_TASKS_H

#include <stdbool.h>
#include <stdint.h>

#include "util/util.h"

typedef enum { QMC_TASK_CHOICE = 0, QMC_TASK_PARTIAL = 1, QMC_TASK_TARGET = 2 } qmc_task_kind;

typedef enum {
    QMC_TASK_FMT_AUTO = 0,
    QMC_TASK_FMT_FOUNDRY = 1,
    QMC_TASK_FMT_HELLASWAG = 2,
    QMC_TASK_FMT_ARC = 3,
} qmc_task_format;

/* How a named task turns an llm-foundry query into lm-eval's prompt. */
typedef enum {
    QMC_PROMPT_AS_IS = 0,  /* context = query (OpenBookQA, WinoGrande, LAMBADA, files) */
    QMC_PROMPT_BOOLQ = 1,  /* "Passage: P\nQuestion: Q?" -> "P\nQuestion: Q?\nAnswer:" */
    QMC_PROMPT_PIQA = 2,   /* "Question: G\n" -> "Question: G\nAnswer:" */
} qmc_task_prompt;

#define QMC_TASK_MAX_CHOICES 32
#define QMC_TASK_MAX_PROBLEMS 20

typedef struct {
    int64_t context;       /* offset in text of the NUL-terminated context */
    int64_t continuation;  /* offset in text of the continuation (target delimiter included) */
    int32_t norm_chars;    /* Unicode code points of the string lm-eval's acc_norm divides by:
                            * the choice without the delimiter (CHOICE), the option's context
                            * (PARTIAL, as lm-eval's doc_to_choice), the continuation (TARGET) */
    int32_t norm_bytes;    /* UTF-8 bytes of the same string (acc_bytes) */
} qmc_task_option;

typedef struct {
    int64_t first_option;  /* index of the first option in options[] */
    int32_t n_options;
    int32_t gold;          /* index of the correct option (0 for TARGET tasks) */
    int64_t line;          /* 1-based line of the source file where the example starts */
} qmc_task_example;

typedef struct {
    char name[64];          /* task name ("hellaswag") or the file's base name */
    char path[4096];        /* file read */
    qmc_task_kind kind;
    qmc_task_format format;
    bool report_acc_norm;   /* lm-eval's metric list for the task has acc_norm */
    qmc_task_example *examples;  /* [n_examples] */
    int64_t n_examples, cap_examples;
    qmc_task_option *options;    /* [n_options] */
    int64_t n_options, cap_options;
    char *text;             /* [text_len] every context/continuation, NUL-terminated, back to back */
    int64_t text_len, text_cap;
    int64_t n_skipped;      /* examples dropped for a bad line (non-strict loading) */
    qmc_str problems;       /* the first QMC_TASK_MAX_PROBLEMS messages, one per line (s may be NULL) */
    int n_problems_kept;
} qmc_task_set;

static inline const char *qmc_task_text(const qmc_task_set *t, int64_t off) { return t->text + off; }
static inline const qmc_task_option *qmc_task_opt(const qmc_task_set *t, const qmc_task_example *e, int i) {
    return &t->options[e->first_option + i];
}

typedef struct {
    qmc_task_format format;  /* FILE layout (AUTO: detect from the first line) */
    bool strict;             /* stop at the first bad line (else skip and count) */
    const char *data_dir;    /* directory of named tasks' files (NULL: qmc_task_data_dir()) */
} qmc_task_load_opts;

/* A task name ("hellaswag", "arc_easy", ...; see qmc_task_names()) or a file
 * path.  Unknown names that are not files are an error listing the names. */
int  qmc_task_load(const char *name_or_file, const qmc_task_load_opts *o, qmc_task_set **out);
/* Load one file in a given layout (AUTO detects) with a prompt transform. */
int  qmc_task_load_file(const char *path, qmc_task_format fmt, qmc_task_prompt prompt, bool strict,
                        qmc_task_set **out);
/* The parser behind qmc_task_load_file: a file's bytes, `path` naming it in
 * messages (data need not be NUL-terminated). */
int  qmc_task_parse(const char *data, size_t size, const char *path, qmc_task_format fmt, qmc_task_prompt prompt,
                    bool strict, qmc_task_set **out);
void qmc_task_free(qmc_task_set *t);

/* Named tasks: name, aliases, file under the data directory, layout. */
typedef struct {
    const char *name;
    const char *aliases;     /* comma-separated, or "" */
    const char *file;        /* relative to the data directory */
    qmc_task_format format;
    qmc_task_prompt prompt;
    bool report_acc_norm;
    int64_t expected;        /* examples in the shipped file */
    const char *about;       /* one line: split and prompt */
} qmc_task_info;
const qmc_task_info *qmc_task_find(const char *name);       /* NULL when unknown */
const qmc_task_info *qmc_task_named(int i);                 /* NULL past the end */
/* The data directory: $QMC_ZEROSHOT_DIR, else $QMC_SHARED/data/zeroshot,
 * ../shared/data/zeroshot, ../../shared/data/zeroshot (the first that exists),
 * else NULL. */
const char *qmc_task_data_dir(void);

const char *qmc_task_kind_name(qmc_task_kind k);
const char *qmc_task_format_name(qmc_task_format f);
int qmc_task_format_from_name(const char *s);  /* -1 if unknown */

/* ---- building (used by the layout parsers and by tests) ------------------ */
/* Copy a string into the text arena; returns its offset or -1 (out of memory). */
int64_t qmc_task_add_text(qmc_task_set *t, const char *s, size_t n);
/* Append an example of n options; the options are then filled by the caller. */
qmc_task_example *qmc_task_add_example(qmc_task_set *t, int n_options, int gold, int64_t line);
/* Unicode code points of a UTF-8 string (continuation bytes are not counted). */
int32_t qmc_utf8_chars(const char *s, size_t n);
/* Record a bad line: strict -> returns the error; else counts it and returns 0. */
int qmc_task_problem(qmc_task_set *t, bool strict, int64_t line, const char *fmt, ...) QMC_PRINTF(4, 5);

/* lm-eval's HellaSwag preprocess(): strip, " [title]" -> ". ", drop "[...]",
 * "  " -> " ".  Writes at most cap-1 bytes and a NUL; returns the length. */
size_t qmc_hellaswag_preprocess(const char *s, size_t n, char *out, size_t cap);

#endif
