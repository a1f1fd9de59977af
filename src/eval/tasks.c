/* tasks.c — the in-memory task set, the table of named tasks and loading
 * (name lookup, layout detection, dispatch to the parsers of task_layouts.c). */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "eval/task_layouts.h"
#include "eval/tasks.h"

/* The files backing each name (the asserted counts are those of the split
 * lm-eval evaluates: HellaSwag/PIQA/WinoGrande/BoolQ validation, ARC and
 * OpenBookQA test, LAMBADA (OpenAI) test). */
static const qmc_task_info k_tasks[] = {
    {"hellaswag", "", "hellaswag/hellaswag_val_full.txt", QMC_TASK_FMT_HELLASWAG, QMC_PROMPT_AS_IS, true, 10042,
     "HellaSwag validation; lm-eval preprocess, \"{activity}: {ctx_a} {Ctx_b}\" + \" {ending}\""},
    {"boolq", "", "llm-foundry/boolq.jsonl", QMC_TASK_FMT_FOUNDRY, QMC_PROMPT_BOOLQ, false, 3270,
     "BoolQ validation; \"{passage}\\nQuestion: {question}?\\nAnswer:\" + \" no\" / \" yes\""},
    {"arc_easy", "arc-e,arc_e,arc-easy", "arc-hf/ARC-Easy-test.jsonl", QMC_TASK_FMT_ARC, QMC_PROMPT_AS_IS, true, 2376,
     "ARC-Easy test; \"Question: {question}\\nAnswer:\" + \" {choice}\""},
    {"arc_challenge", "arc-c,arc_c,arc-challenge", "arc-hf/ARC-Challenge-test.jsonl", QMC_TASK_FMT_ARC,
     QMC_PROMPT_AS_IS, true, 1172, "ARC-Challenge test; \"Question: {question}\\nAnswer:\" + \" {choice}\""},
    {"piqa", "", "llm-foundry/piqa.jsonl", QMC_TASK_FMT_FOUNDRY, QMC_PROMPT_PIQA, true, 1838,
     "PIQA validation; \"Question: {goal}\\nAnswer:\" + \" {solution}\""},
    {"winogrande", "", "llm-foundry/winogrande.jsonl", QMC_TASK_FMT_FOUNDRY, QMC_PROMPT_AS_IS, false, 1267,
     "WinoGrande (xl) validation; partial scoring: \"{sentence up to _}{option}\" + \" {rest}\""},
    {"openbookqa", "obqa,openbook_qa", "llm-foundry/openbook_qa.jsonl", QMC_TASK_FMT_FOUNDRY, QMC_PROMPT_AS_IS, true,
     500, "OpenBookQA test; \"{question_stem}\" + \" {choice}\""},
    {"lambada", "lambada_openai", "llm-foundry/lambada_openai.jsonl", QMC_TASK_FMT_FOUNDRY, QMC_PROMPT_AS_IS, false,
     5153, "LAMBADA (OpenAI) test; \"{text but the last word}\" + \" {last word}\": accuracy, perplexity"},
};

const qmc_task_info *qmc_task_named(int i) {
    return i >= 0 && i < (int)QMC_ARRAY_LEN(k_tasks) ? &k_tasks[i] : NULL;
}

static bool in_list(const char *list, const char *name) {
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && strncmp(p, name, n) == 0) return true;
        if (!e) break;
        p = e + 1;
    }
    return false;
}

const qmc_task_info *qmc_task_find(const char *name) {
    for (size_t i = 0; i < QMC_ARRAY_LEN(k_tasks); i++)
        if (strcmp(k_tasks[i].name, name) == 0 || in_list(k_tasks[i].aliases, name)) return &k_tasks[i];
    return NULL;
}

const char *qmc_task_data_dir(void) {
    static char buf[4096];
    const char *env = getenv("QMC_ZEROSHOT_DIR");
    if (env && *env) return env;
    const char *shared = getenv("QMC_SHARED");
    const char *roots[] = {shared && *shared ? shared : NULL, "../shared", "../../shared"};
    for (size_t i = 0; i < QMC_ARRAY_LEN(roots); i++) {
        if (!roots[i]) continue;
        snprintf(buf, sizeof buf, "%s/data/zeroshot", roots[i]);
        if (qmc_is_dir(buf)) return buf;
    }
    return NULL;
}

const char *qmc_task_kind_name(qmc_task_kind k) {
    return k == QMC_TASK_CHOICE ? "multiple_choice" : k == QMC_TASK_PARTIAL ? "partial" : "target";
}

static const char *k_format_names[] = {"auto", "foundry", "hellaswag", "arc"};

const char *qmc_task_format_name(qmc_task_format f) {
    return (unsigned)f < QMC_ARRAY_LEN(k_format_names) ? k_format_names[f] : "?";
}

int qmc_task_format_from_name(const char *s) {
    for (size_t i = 0; i < QMC_ARRAY_LEN(k_format_names); i++)
        if (strcmp(s, k_format_names[i]) == 0) return (int)i;
    return -1;
}

/* ---- the set ---------------------------------------------------------------- */

void qmc_task_free(qmc_task_set *t) {
    if (!t) return;
    qmc_free(t->examples);
    qmc_free(t->options);
    qmc_free(t->text);
    qmc_str_free(&t->problems);
    qmc_free(t);
}

int64_t qmc_task_add_text(qmc_task_set *t, const char *s, size_t n) {
    if ((uint64_t)n >= (uint64_t)1 << 40) return -1;
    if (t->text_len + (int64_t)n + 1 > t->text_cap) {
        int64_t cap = t->text_cap ? t->text_cap : 1 << 16;
        while (cap < t->text_len + (int64_t)n + 1) cap *= 2;
        char *p = qmc_realloc(t->text, (size_t)cap, 1);
        if (!p) return -1;
        t->text = p;
        t->text_cap = cap;
    }
    int64_t off = t->text_len;
    memcpy(t->text + off, s, n);
    t->text[off + (int64_t)n] = 0;
    t->text_len += (int64_t)n + 1;
    return off;
}

qmc_task_example *qmc_task_add_example(qmc_task_set *t, int n_options, int gold, int64_t line) {
    if (n_options <= 0 || n_options > QMC_TASK_MAX_CHOICES) return NULL;
    if (t->n_examples == t->cap_examples) {
        int64_t cap = t->cap_examples ? t->cap_examples * 2 : 1024;
        qmc_task_example *p = qmc_realloc(t->examples, (size_t)cap, sizeof *p);
        if (!p) return NULL;
        t->examples = p;
        t->cap_examples = cap;
    }
    if (t->n_options + n_options > t->cap_options) {
        int64_t cap = t->cap_options ? t->cap_options : 4096;
        while (cap < t->n_options + n_options) cap *= 2;
        qmc_task_option *p = qmc_realloc(t->options, (size_t)cap, sizeof *p);
        if (!p) return NULL;
        t->options = p;
        t->cap_options = cap;
    }
    qmc_task_example *e = &t->examples[t->n_examples++];
    e->first_option = t->n_options;
    e->n_options = n_options;
    e->gold = gold;
    e->line = line;
    memset(&t->options[t->n_options], 0, (size_t)n_options * sizeof(qmc_task_option));
    t->n_options += n_options;
    return e;
}

int32_t qmc_utf8_chars(const char *s, size_t n) {
    int64_t c = 0;
    for (size_t i = 0; i < n; i++) c += ((unsigned char)s[i] & 0xC0) != 0x80;
    return (int32_t)QMC_MIN(c, INT32_MAX);
}

int qmc_task_problem(qmc_task_set *t, bool strict, int64_t line, const char *fmt, ...) {
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (strict) return qmc_fail(QMC_ERR_FORMAT, "%s:%lld: %s", t->path, (long long)line, msg);
    t->n_skipped++;
    if (t->n_problems_kept < QMC_TASK_MAX_PROBLEMS) {
        qmc_str_printf(&t->problems, "%s:%lld: %s\n", t->path, (long long)line, msg);
        t->n_problems_kept++;
    }
    return QMC_OK;
}

/* ---- loading ------------------------------------------------------------------ */

/* Layout of a file from its first non-blank line. */
static qmc_task_format detect_format(const char *data, size_t size) {
    const char *p = data, *end = p + size;
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) p++;
    if (p == end) return QMC_TASK_FMT_FOUNDRY; /* empty: reported as "no examples" */
    if (*p != '{') return QMC_TASK_FMT_HELLASWAG;
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
    /* the ai2_arc layout names "answerKey" and "question"; the llm-foundry one does not */
    bool answer_key = false, question = false;
    for (size_t i = 0; i + 11 <= n; i++) {
        if (memcmp(p + i, "\"answerKey\"", 11) == 0) answer_key = true;
        if (i + 10 <= n && memcmp(p + i, "\"question\"", 10) == 0) question = true;
    }
    return answer_key && question ? QMC_TASK_FMT_ARC : QMC_TASK_FMT_FOUNDRY;
}

int qmc_task_load_file(const char *path, qmc_task_format fmt, qmc_task_prompt prompt, bool strict,
                       qmc_task_set **out) {
    *out = NULL;
    qmc_mapped_file f;
    int rc = qmc_map_file(path, &f);
    if (rc) return rc;
    rc = qmc_task_parse((const char *)f.data, f.size, path, fmt, prompt, strict, out);
    qmc_unmap_file(&f);
    return rc;
}

int qmc_task_parse(const char *data, size_t size, const char *path, qmc_task_format fmt, qmc_task_prompt prompt,
                   bool strict, qmc_task_set **out) {
    *out = NULL;
    int rc;
    qmc_task_set *t = qmc_alloc(1, sizeof *t);
    if (!t) return QMC_ERR_NOMEM;
    snprintf(t->path, sizeof t->path, "%s", path);
    snprintf(t->name, sizeof t->name, "%s", qmc_basename(path));
    t->format = fmt == QMC_TASK_FMT_AUTO ? detect_format(data, size) : fmt;
    t->report_acc_norm = true;
    switch (t->format) {
    case QMC_TASK_FMT_FOUNDRY: rc = qmc_parse_foundry(t, data, size, prompt, strict); break;
    case QMC_TASK_FMT_HELLASWAG: rc = qmc_parse_hellaswag(t, data, size, strict); break;
    case QMC_TASK_FMT_ARC: rc = qmc_parse_arc(t, data, size, strict); break;
    default: rc = qmc_fail(QMC_ERR_ARG, "%s: unknown layout %d", path, (int)t->format);
    }
    if (!rc && t->problems.failed) rc = qmc_fail(QMC_ERR_NOMEM, "%s: out of memory", path);
    if (!rc && t->n_examples == 0)
        rc = t->n_skipped ? qmc_fail(QMC_ERR_FORMAT, "%s: no valid examples (%lld bad: %.300s)", path,
                                     (long long)t->n_skipped, t->problems.s ? t->problems.s : "")
                          : qmc_fail(QMC_ERR_FORMAT, "%s: no examples (empty file?)", path);
    if (!rc && t->kind == QMC_TASK_TARGET) t->report_acc_norm = false;
    if (!rc && t->kind == QMC_TASK_PARTIAL) t->report_acc_norm = false; /* lm-eval's winogrande: acc only */
    if (rc) {
        qmc_task_free(t);
        return rc;
    }
    *out = t;
    return QMC_OK;
}

static void known_names(char *buf, size_t cap) {
    size_t n = 0;
    buf[0] = 0;
    for (size_t i = 0; i < QMC_ARRAY_LEN(k_tasks) && n < cap; i++)
        n += (size_t)snprintf(buf + n, cap - n, "%s%s", i ? ", " : "", k_tasks[i].name);
}

int qmc_task_load(const char *name, const qmc_task_load_opts *o, qmc_task_set **out) {
    *out = NULL;
    qmc_task_load_opts def = {0};
    if (!o) o = &def;
    const qmc_task_info *info = qmc_task_find(name);
    if (!info) {
        struct stat st;
        if (stat(name, &st) == 0) return qmc_task_load_file(name, o->format, QMC_PROMPT_AS_IS, o->strict, out);
        char names[512];
        known_names(names, sizeof names);
        return qmc_fail(QMC_ERR_ARG, "unknown task '%s' (not a file either; tasks: %s)", name, names);
    }
    const char *dir = o->data_dir ? o->data_dir : qmc_task_data_dir();
    if (!dir)
        return qmc_fail(QMC_ERR_IO,
                        "task '%s': no data directory (give --data-dir DIR, or set QMC_ZEROSHOT_DIR or QMC_SHARED)",
                        info->name);
    char path[4096];
    qmc_path_join(path, sizeof path, dir, info->file);
    int rc = qmc_task_load_file(path, info->format, info->prompt, o->strict, out);
    if (rc) return rc;
    snprintf((*out)->name, sizeof (*out)->name, "%s", info->name);
    (*out)->report_acc_norm = info->report_acc_norm && (*out)->kind == QMC_TASK_CHOICE;
    return QMC_OK;
}
