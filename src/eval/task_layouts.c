/* task_layouts.c — parsers of the llm-foundry jsonl, HellaSwag 6-line text
 * and ai2_arc jsonl layouts, and the prompts lm-evaluation-harness builds
 * from them (the task YAMLs are cited in docs/zeroshot.md).  Every line is
 * validated; a bad one is reported as "file:line: problem" and, unless
 * loading is strict, its example is skipped. */
#include <ctype.h>
#include <math.h>
#include <string.h>

#include <cJSON.h>

#include "eval/task_layouts.h"

#define DELIM " " /* lm-eval's default target_delimiter */

/* ---- lines -------------------------------------------------------------------- */

typedef struct {
    const char *p, *end;
    int64_t next_line;     /* 1-based number of the next line */
} line_reader;

typedef struct {
    const char *s;
    size_t n;              /* without the '\n' and a trailing '\r' */
    int64_t line;
} text_line;

static bool read_line(line_reader *r, text_line *l) {
    if (r->p >= r->end) return false;
    const char *nl = memchr(r->p, '\n', (size_t)(r->end - r->p));
    const char *e = nl ? nl : r->end;
    l->s = r->p;
    l->n = (size_t)(e - r->p);
    if (l->n && l->s[l->n - 1] == '\r') l->n--;
    l->line = r->next_line++;
    r->p = nl ? nl + 1 : r->end;
    return true;
}

static bool is_blank(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!isspace((unsigned char)s[i])) return false;
    return true;
}

/* ---- building options ------------------------------------------------------------ */

/* Offset of a + b in the text arena (-1: out of memory). */
static int64_t add_joined(qmc_task_set *t, qmc_str *tmp, const char *a, size_t na, const char *b, size_t nb) {
    tmp->len = 0;
    qmc_str_append(tmp, "", 0);
    qmc_str_append(tmp, a, na);
    qmc_str_append(tmp, b, nb);
    if (tmp->failed) return -1;
    return qmc_task_add_text(t, tmp->s, tmp->len);
}

/* Fill option i: context at ctx_off, continuation DELIM + cont, acc_norm on norm. */
static int set_option(qmc_task_set *t, qmc_str *tmp, qmc_task_example *e, int i, int64_t ctx_off, const char *cont,
                      size_t cont_n, const char *norm, size_t norm_n) {
    int64_t c = add_joined(t, tmp, DELIM, strlen(DELIM), cont, cont_n);
    if (ctx_off < 0 || c < 0) return qmc_fail(QMC_ERR_NOMEM, "%s: out of memory", t->path);
    qmc_task_option *o = &t->options[e->first_option + i];
    o->context = ctx_off;
    o->continuation = c;
    o->norm_chars = qmc_utf8_chars(norm, norm_n);
    o->norm_bytes = (int32_t)QMC_MIN(norm_n, (size_t)INT32_MAX);
    return QMC_OK;
}

static int add_example_or_fail(qmc_task_set *t, int n, int gold, int64_t line, qmc_task_example **e) {
    *e = qmc_task_add_example(t, n, gold, line);
    return *e ? QMC_OK : qmc_fail(QMC_ERR_NOMEM, "%s: out of memory", t->path);
}

/* Drop the options of the last example (after a failure while filling it). */
static void drop_last_example(qmc_task_set *t) {
    t->n_options = t->examples[t->n_examples - 1].first_option;
    t->n_examples--;
}

/* ---- JSON helpers ---------------------------------------------------------------- */

/* Parse one line as a JSON object; on failure *why says what is wrong. */
static cJSON *parse_object(const text_line *l, char *why, size_t cap) {
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(l->s, l->n, &end, 0);
    if (!j) {
        const char *at = cJSON_GetErrorPtr();
        long off = at && at >= l->s && at <= l->s + l->n ? (long)(at - l->s) : -1;
        snprintf(why, cap, "not valid JSON (at byte %ld of the line)", off + 1);
        return NULL;
    }
    if (end && !is_blank(end, (size_t)(l->s + l->n - end))) {
        snprintf(why, cap, "characters after the JSON object (byte %ld)", (long)(end - l->s) + 1);
        cJSON_Delete(j);
        return NULL;
    }
    if (!cJSON_IsObject(j)) {
        snprintf(why, cap, "not a JSON object");
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

static const char *get_string(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* An array of 2..QMC_TASK_MAX_CHOICES non-empty strings; count or -1 with *why. */
static int string_array(const cJSON *o, const char *key, const char **out, char *why, size_t cap) {
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!a) return snprintf(why, cap, "no \"%s\"", key), -1;
    if (!cJSON_IsArray(a)) return snprintf(why, cap, "\"%s\" is not an array", key), -1;
    int n = cJSON_GetArraySize(a);
    if (n < 2 || n > QMC_TASK_MAX_CHOICES)
        return snprintf(why, cap, "\"%s\" has %d entries (need 2..%d)", key, n, QMC_TASK_MAX_CHOICES), -1;
    for (int i = 0; i < n; i++) {
        const cJSON *v = cJSON_GetArrayItem(a, i);
        if (!cJSON_IsString(v)) return snprintf(why, cap, "\"%s\"[%d] is not a string", key, i), -1;
        if (!v->valuestring[0]) return snprintf(why, cap, "\"%s\"[%d] is empty", key, i), -1;
        out[i] = v->valuestring;
    }
    return n;
}

/* "gold": an integer in [0, n). */
static bool get_gold(const cJSON *o, int n, int *gold, char *why, size_t cap) {
    const cJSON *g = cJSON_GetObjectItemCaseSensitive(o, "gold");
    if (!g) return snprintf(why, cap, "no \"gold\""), false;
    double v = cJSON_IsNumber(g) ? g->valuedouble : -1;
    if (!cJSON_IsNumber(g) || !(v >= 0 && v < n) || v != floor(v)) { /* range first: no out-of-range cast */
        snprintf(why, cap, "\"gold\" must be an integer in [0, %d)", n);
        return false;
    }
    *gold = (int)v;
    return true;
}

/* ---- llm-foundry jsonl ----------------------------------------------------------- */

static const char *kind_word(qmc_task_kind k) {
    return k == QMC_TASK_CHOICE ? "query/choices" : k == QMC_TASK_PARTIAL ? "context_options" : "context/continuation";
}

/* The context lm-eval builds from an llm-foundry query (see qmc_task_prompt). */
static int64_t foundry_context(qmc_task_set *t, qmc_str *tmp, const char *q, qmc_task_prompt prompt, char *why,
                               size_t cap) {
    size_t n = strlen(q);
    switch (prompt) {
    case QMC_PROMPT_BOOLQ: {
        static const char pre[] = "Passage: ";
        if (strncmp(q, pre, strlen(pre)) != 0 || !strstr(q, "\nQuestion: ") || q[n - 1] != '?') {
            snprintf(why, cap, "BoolQ query is not \"Passage: ...\\nQuestion: ...?\"");
            return -2;
        }
        return add_joined(t, tmp, q + strlen(pre), n - strlen(pre), "\nAnswer:", 8);
    }
    case QMC_PROMPT_PIQA:
        if (strncmp(q, "Question: ", 10) != 0 || q[n - 1] != '\n') {
            snprintf(why, cap, "PIQA query is not \"Question: ...\\n\"");
            return -2;
        }
        return add_joined(t, tmp, q, n, "Answer:", 7);
    default: return qmc_task_add_text(t, q, n);
    }
}

/* One line; returns 0 (added), 1 (bad: *why set) or a negative error. */
static int foundry_line(qmc_task_set *t, qmc_str *tmp, const cJSON *j, int64_t line, qmc_task_prompt prompt,
                        bool *have_kind, char *why, size_t cap) {
    qmc_task_kind kind;
    if (cJSON_GetObjectItemCaseSensitive(j, "query")) kind = QMC_TASK_CHOICE;
    else if (cJSON_GetObjectItemCaseSensitive(j, "context_options")) kind = QMC_TASK_PARTIAL;
    else if (cJSON_GetObjectItemCaseSensitive(j, "context")) kind = QMC_TASK_TARGET;
    else return snprintf(why, cap, "no \"query\", \"context_options\" or \"context\" key"), 1;
    if (*have_kind && kind != t->kind)
        return snprintf(why, cap, "a %s example in a file of %s examples", kind_word(kind), kind_word(t->kind)), 1;

    const char *items[QMC_TASK_MAX_CHOICES];
    qmc_task_example *e;
    int gold = 0, n, rc;
    if (kind == QMC_TASK_CHOICE) {
        const char *q = get_string(j, "query");
        if (!q) return snprintf(why, cap, "\"query\" is not a string"), 1;
        if (!q[0]) return snprintf(why, cap, "\"query\" is empty"), 1;
        if ((n = string_array(j, "choices", items, why, cap)) < 0 || !get_gold(j, n, &gold, why, cap)) return 1;
        int64_t ctx = foundry_context(t, tmp, q, prompt, why, cap);
        if (ctx == -2) return 1;
        if ((rc = add_example_or_fail(t, n, gold, line, &e))) return rc;
        for (int i = 0; i < n; i++)
            if ((rc = set_option(t, tmp, e, i, ctx, items[i], strlen(items[i]), items[i], strlen(items[i])))) return rc;
    } else if (kind == QMC_TASK_PARTIAL) {
        const char *cont = get_string(j, "continuation");
        if (!cont || !cont[0]) return snprintf(why, cap, "\"continuation\" is missing, empty or not a string"), 1;
        if ((n = string_array(j, "context_options", items, why, cap)) < 0 || !get_gold(j, n, &gold, why, cap)) return 1;
        if ((rc = add_example_or_fail(t, n, gold, line, &e))) return rc;
        /* lm-eval's doc_to_choice of WinoGrande is the list of partial contexts:
         * acc_norm would divide by their length */
        for (int i = 0; i < n; i++) {
            int64_t ctx = qmc_task_add_text(t, items[i], strlen(items[i]));
            if ((rc = set_option(t, tmp, e, i, ctx, cont, strlen(cont), items[i], strlen(items[i])))) return rc;
        }
    } else {
        const char *ctx_s = get_string(j, "context"), *cont = get_string(j, "continuation");
        if (!ctx_s || !ctx_s[0]) return snprintf(why, cap, "\"context\" is empty or not a string"), 1;
        if (!cont || !cont[0]) return snprintf(why, cap, "\"continuation\" is missing, empty or not a string"), 1;
        if ((rc = add_example_or_fail(t, 1, 0, line, &e))) return rc;
        int64_t ctx = qmc_task_add_text(t, ctx_s, strlen(ctx_s));
        if ((rc = set_option(t, tmp, e, 0, ctx, cont, strlen(cont), cont, strlen(cont)))) return rc;
    }
    t->kind = kind;
    *have_kind = true;
    return 0;
}

/* The jsonl driver: each non-blank line is parsed and handed to line_fn,
 * which returns 0 (example added), 1 (bad line: why says why) or an error. */
typedef int (*jsonl_line_fn)(qmc_task_set *t, qmc_str *tmp, const cJSON *j, int64_t line, void *user, char *why,
                             size_t cap);

static int parse_jsonl(qmc_task_set *t, const char *data, size_t size, bool strict, jsonl_line_fn fn, void *user) {
    line_reader r = {data, data + size, 1};
    text_line l;
    qmc_str tmp = {0};
    int rc = QMC_OK;
    while (!rc && read_line(&r, &l)) {
        if (is_blank(l.s, l.n)) continue;
        char why[256] = "";
        cJSON *j = parse_object(&l, why, sizeof why);
        int bad = 1;
        if (j) {
            int64_t n_ex = t->n_examples;
            bad = fn(t, &tmp, j, l.line, user, why, sizeof why);
            if (bad < 0 && t->n_examples > n_ex) drop_last_example(t);
            cJSON_Delete(j);
        }
        if (bad < 0) rc = bad;
        else if (bad) rc = qmc_task_problem(t, strict, l.line, "%s", why);
    }
    qmc_str_free(&tmp);
    return rc;
}

typedef struct {
    qmc_task_prompt prompt;
    bool have_kind;   /* the first valid line has fixed t->kind */
} foundry_state;

static int foundry_line_fn(qmc_task_set *t, qmc_str *tmp, const cJSON *j, int64_t line, void *user, char *why,
                           size_t cap) {
    foundry_state *st = user;
    return foundry_line(t, tmp, j, line, st->prompt, &st->have_kind, why, cap);
}

int qmc_parse_foundry(qmc_task_set *t, const char *data, size_t size, qmc_task_prompt prompt, bool strict) {
    foundry_state st = {prompt, false};
    return parse_jsonl(t, data, size, strict, foundry_line_fn, &st);
}

/* ---- ai2_arc jsonl ------------------------------------------------------------------ */

/* A label as text ("A", or a number written as an integer). */
static bool label_text(const cJSON *v, char *buf, size_t cap) {
    if (cJSON_IsString(v)) return snprintf(buf, cap, "%s", v->valuestring), true;
    if (cJSON_IsNumber(v) && fabs(v->valuedouble) < 1e15 && v->valuedouble == floor(v->valuedouble))
        return snprintf(buf, cap, "%lld", (long long)v->valuedouble), true;
    return false;
}

static int arc_line(qmc_task_set *t, qmc_str *tmp, const cJSON *j, int64_t line, void *user, char *why, size_t cap) {
    const char *q = get_string(j, "question");
    if (!q || !q[0]) return snprintf(why, cap, "\"question\" is missing, empty or not a string"), 1;
    const cJSON *ch = cJSON_GetObjectItemCaseSensitive(j, "choices");
    if (!cJSON_IsObject(ch)) return snprintf(why, cap, "\"choices\" is not an object with \"text\" and \"label\""), 1;
    const char *texts[QMC_TASK_MAX_CHOICES];
    int n = string_array(ch, "text", texts, why, cap);
    if (n < 0) return 1;
    const cJSON *labels = cJSON_GetObjectItemCaseSensitive(ch, "label");
    if (!cJSON_IsArray(labels) || cJSON_GetArraySize(labels) != n)
        return snprintf(why, cap, "\"choices\".\"label\" is not an array of %d labels", n), 1;
    char key[64];
    if (!label_text(cJSON_GetObjectItemCaseSensitive(j, "answerKey"), key, sizeof key))
        return snprintf(why, cap, "\"answerKey\" is missing or not a string"), 1;
    int gold = -1;
    for (int i = 0; i < n; i++) {
        char lab[64];
        if (!label_text(cJSON_GetArrayItem(labels, i), lab, sizeof lab))
            return snprintf(why, cap, "label %d is not a string", i), 1;
        if (gold < 0 && strcmp(lab, key) == 0) gold = i; /* lm-eval: choices.label.index(answerKey) */
    }
    if (gold < 0) return snprintf(why, cap, "answerKey \"%.20s\" is not one of the labels", key), 1;
    /* lm-eval arc_easy.yaml: doc_to_text "Question: {{question}}\nAnswer:" */
    qmc_str_free(tmp);
    qmc_str_printf(tmp, "Question: %s\nAnswer:", q);
    int64_t ctx = tmp->failed ? -1 : qmc_task_add_text(t, tmp->s, tmp->len);
    qmc_task_example *e;
    int rc = add_example_or_fail(t, n, gold, line, &e);
    for (int i = 0; !rc && i < n; i++) rc = set_option(t, tmp, e, i, ctx, texts[i], strlen(texts[i]), texts[i], strlen(texts[i]));
    return rc;
}

int qmc_parse_arc(qmc_task_set *t, const char *data, size_t size, bool strict) {
    t->kind = QMC_TASK_CHOICE;
    return parse_jsonl(t, data, size, strict, arc_line, NULL);
}

/* ---- HellaSwag 6-line text ---------------------------------------------------------- */

size_t qmc_hellaswag_preprocess(const char *s, size_t n, char *out, size_t cap) {
    if (cap == 0) return 0;
    /* text.strip() */
    while (n && isspace((unsigned char)*s)) s++, n--;
    while (n && isspace((unsigned char)s[n - 1])) n--;
    /* text.replace(" [title]", ". ") then re.sub("\\[.*?\\]", "", text): the
     * first pass writes into out, the second compacts out in place */
    size_t w = 0;
    for (size_t i = 0; i < n && w + 2 < cap;) {
        if (n - i >= 8 && memcmp(s + i, " [title]", 8) == 0) {
            out[w++] = '.';
            out[w++] = ' ';
            i += 8;
        } else out[w++] = s[i++];
    }
    size_t m = 0;
    for (size_t i = 0; i < w;) {
        if (out[i] == '[') {
            const char *close = memchr(out + i + 1, ']', w - i - 1);
            const char *nl = memchr(out + i + 1, '\n', w - i - 1);
            if (close && (!nl || nl > close)) {
                i = (size_t)(close - out) + 1;
                continue;
            }
        }
        out[m++] = out[i++];
    }
    /* text.replace("  ", " "): non-overlapping, left to right */
    size_t k = 0;
    for (size_t i = 0; i < m;) {
        if (i + 1 < m && out[i] == ' ' && out[i + 1] == ' ') {
            out[k++] = ' ';
            i += 2;
        } else out[k++] = out[i++];
    }
    out[k] = 0;
    return k;
}

/* lm-eval's query is preprocess(activity + ": " + ctx_a + " " + ctx_b.capitalize()).
 * The text layout keeps ctx = ctx_a + " " + ctx_b without the split, so ctx_b is
 * taken to be the words after the last sentence end (". ", "! ", "? ") when the
 * context does not itself end a sentence, and is capitalized only when it starts
 * with a lower-case letter (Python's str.capitalize: first letter upper, the
 * rest lower; ASCII only here). */
static void capitalize_ctx_b(char *s, size_t n) {
    char *ctx = strstr(s, ": ");
    ctx = ctx ? ctx + 2 : s;
    size_t len = n - (size_t)(ctx - s);
    if (len == 0 || strchr(".!?\"')", ctx[len - 1])) return;
    char *b = NULL;
    for (size_t i = 0; i + 2 < len; i++)
        if (strchr(".!?", ctx[i]) && ctx[i + 1] == ' ') b = ctx + i + 2;
    if (!b || !islower((unsigned char)*b)) return;
    *b = (char)toupper((unsigned char)*b);
    for (char *p = b + 1; p < s + n; p++) *p = (char)tolower((unsigned char)*p);
}

/* One group of 6 lines; returns 0, 1 (bad: *why, *bad_line set) or a negative error. */
static int hellaswag_example(qmc_task_set *t, qmc_str *tmp, const text_line *g, int64_t *bad_line, char *why,
                             size_t cap) {
    *bad_line = g[0].line;
    if (is_blank(g[0].s, g[0].n)) return snprintf(why, cap, "empty context line"), 1;
    const char *gs = g[1].s;
    *bad_line = g[1].line;
    if (g[1].n != 1 || gs[0] < '0' || gs[0] > '3')
        return snprintf(why, cap, "gold label must be 0, 1, 2 or 3 (is this a 6-line HellaSwag file?)"), 1;
    for (int i = 0; i < 4; i++) {
        *bad_line = g[2 + i].line;
        if (is_blank(g[2 + i].s, g[2 + i].n)) return snprintf(why, cap, "ending %d is empty", i), 1;
    }
    /* context: capitalized ctx_b, then preprocess */
    size_t cap_b = g[0].n * 2 + 3;
    char *a = qmc_alloc(cap_b, 1), *b = qmc_alloc(cap_b, 1);
    int rc = a && b ? QMC_OK : QMC_ERR_NOMEM;
    if (!rc) {
        memcpy(a, g[0].s, g[0].n);
        a[g[0].n] = 0;
        capitalize_ctx_b(a, g[0].n);
        size_t cn = qmc_hellaswag_preprocess(a, g[0].n, b, cap_b);
        if (cn == 0) {
            *bad_line = g[0].line;
            snprintf(why, cap, "context is empty after preprocessing");
            qmc_free(a);
            qmc_free(b);
            return 1;
        }
        int64_t ctx = qmc_task_add_text(t, b, cn);
        qmc_task_example *e;
        rc = ctx < 0 ? qmc_fail(QMC_ERR_NOMEM, "%s: out of memory", t->path)
                     : add_example_or_fail(t, 4, gs[0] - '0', g[0].line, &e);
        for (int i = 0; !rc && i < 4; i++) {
            size_t need = g[2 + i].n * 2 + 3;
            char *end = qmc_alloc(need, 1);
            if (!end) {
                rc = QMC_ERR_NOMEM;
                break;
            }
            size_t en = qmc_hellaswag_preprocess(g[2 + i].s, g[2 + i].n, end, need);
            if (en == 0) {
                /* nothing left to score (and acc_norm would divide by 0) */
                qmc_free(end);
                drop_last_example(t);
                *bad_line = g[2 + i].line;
                snprintf(why, cap, "ending %d is empty after preprocessing", i);
                rc = 1;
                break;
            }
            rc = set_option(t, tmp, e, i, ctx, end, en, end, en);
            qmc_free(end);
        }
    }
    qmc_free(a);
    qmc_free(b);
    return rc;
}

int qmc_parse_hellaswag(qmc_task_set *t, const char *data, size_t size, bool strict) {
    line_reader r = {data, data + size, 1};
    qmc_str tmp = {0};
    int rc = QMC_OK;
    t->kind = QMC_TASK_CHOICE;
    text_line g[6];
    while (!rc) {
        int got = 0;
        while (got < 6 && read_line(&r, &g[got])) got++;
        if (got == 0) break;
        if (got < 6) {
            /* a final newline-only remainder is not an example */
            bool blank = true;
            for (int i = 0; i < got; i++) blank = blank && g[i].n == 0;
            if (!blank) rc = qmc_task_problem(t, strict, g[0].line, "incomplete example: %d of 6 lines", got);
            break;
        }
        char why[256] = "";
        int64_t n_ex = t->n_examples, bad_line;
        int bad = hellaswag_example(t, &tmp, g, &bad_line, why, sizeof why);
        if (bad < 0 && t->n_examples > n_ex) drop_last_example(t);
        if (bad < 0) rc = bad;
        else if (bad) rc = qmc_task_problem(t, strict, bad_line, "%s (example of lines %lld-%lld)", why,
                                            (long long)g[0].line, (long long)g[5].line);
    }
    qmc_str_free(&tmp);
    return rc;
}
