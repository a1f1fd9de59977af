/* fuzz_tasks.c — zero-shot task files (qmc_task_parse): llm-foundry jsonl
 * (choices, context_options, context/continuation; BoolQ and PIQA prompt
 * rewriting), the HellaSwag 6-line layout and ai2_arc jsonl, detected or
 * forced, strict and skipping bad lines.  Every example must then be usable:
 * options inside the arrays, strings NUL-terminated inside the text arena,
 * gold inside the options, every kept problem naming the file and line. */
#include <string.h>

#include "eval/tasks.h"
#include "fuzz.h"

static void check_set(const qmc_task_set *t) {
    FUZZ_CHECK(t->n_examples > 0 && t->n_options >= t->n_examples);
    for (int64_t i = 0; i < t->n_examples; i++) {
        const qmc_task_example *e = &t->examples[i];
        FUZZ_CHECK(e->n_options >= 1 && e->n_options <= QMC_TASK_MAX_CHOICES);
        FUZZ_CHECK(e->first_option >= 0 && e->first_option + e->n_options <= t->n_options);
        FUZZ_CHECK(e->gold >= 0 && e->gold < e->n_options && e->line >= 1);
        for (int k = 0; k < e->n_options; k++) {
            const qmc_task_option *o = qmc_task_opt(t, e, k);
            FUZZ_CHECK(o->context >= 0 && o->context < t->text_len);
            FUZZ_CHECK(o->continuation >= 0 && o->continuation < t->text_len);
            FUZZ_CHECK(memchr(t->text + o->context, 0, (size_t)(t->text_len - o->context)) != NULL);
            FUZZ_CHECK(memchr(t->text + o->continuation, 0, (size_t)(t->text_len - o->continuation)) != NULL);
            FUZZ_CHECK(o->norm_chars >= 0 && o->norm_chars <= o->norm_bytes);
        }
    }
    FUZZ_CHECK(t->n_problems_kept <= QMC_TASK_MAX_PROBLEMS && t->n_problems_kept <= t->n_skipped);
    /* kept problems: one line each, "file:line: problem" */
    for (const char *p = t->problems.s; p && *p;) {
        FUZZ_CHECK(strncmp(p, FUZZ_LABEL ":", strlen(FUZZ_LABEL) + 1) == 0);
        const char *nl = strchr(p, '\n');
        FUZZ_CHECK(nl != NULL);
        p = nl + 1;
    }
}

QMC_FUZZ_TARGET(tasks) {
    static const struct { qmc_task_format fmt; qmc_task_prompt prompt; bool strict; } runs[] = {
        {QMC_TASK_FMT_AUTO, QMC_PROMPT_AS_IS, false},     {QMC_TASK_FMT_AUTO, QMC_PROMPT_AS_IS, true},
        {QMC_TASK_FMT_FOUNDRY, QMC_PROMPT_BOOLQ, false},  {QMC_TASK_FMT_FOUNDRY, QMC_PROMPT_PIQA, false},
        {QMC_TASK_FMT_HELLASWAG, QMC_PROMPT_AS_IS, false}, {QMC_TASK_FMT_ARC, QMC_PROMPT_AS_IS, false},
    };
    for (size_t i = 0; i < QMC_ARRAY_LEN(runs); i++) {
        qmc_task_set *t = NULL;
        int rc = qmc_task_parse((const char *)data, size, FUZZ_LABEL, runs[i].fmt, runs[i].prompt, runs[i].strict, &t);
        fuzz_check_status(rc, "qmc_task_parse");
        if (rc) {
            FUZZ_CHECK(t == NULL);
            continue;
        }
        check_set(t);
        qmc_task_free(t);
    }
}
