/* cmd_eval.c — qmc eval: zero-shot tasks scored as lm-evaluation-harness does. */
#include <math.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_device.h"
#include "cli/json.h"
#include "device/montecarlo.h"
#include "eval/zeroshot.h"

static const cli_opt k_opts[] = {
    {"model", 'm', "MODEL", "model (any supported format, packed .qmc.gguf included)"},
    {"task", 0, "NAME|FILE", "task name (see --list), a task file, or several separated by commas"},
    {"limit", 0, "N", "score only the first N examples of each task"},
    {"strict", 0, NULL, "stop at the first malformed line (default: skip it, count it and warn)"},
    {"format", 0, "NAME", "layout of a task FILE: auto (default), foundry, hellaswag or arc"},
    {"data-dir", 0, "DIR", "directory of the named tasks' files (default: $QMC_ZEROSHOT_DIR, else "
                           "$QMC_SHARED/data/zeroshot, ../shared/data/zeroshot, ../../shared/data/zeroshot)"},
    {"ctx", 'c', "N", "tokens per model input (default: the model's context); longer requests lose their "
                      "oldest context tokens"},
    {"no-bos", 0, NULL, "do not start inputs with BOS (lm-eval's HF default for Llama tokenizers)"},
    {"batch", 'b', "N", "tokens per forward batch (default 64)"},
    {"list", 0, NULL, "list the named tasks and exit"},
    {"show", 0, "N", "print the requests (context, continuation, gold) of the first N examples as JSON and exit"},
    {"tokenizer", 0, "FILE", "tokenizer for llama2.c checkpoints"},
    CLI_DEVICE_OPTS,
    {"trials", 'n', "N", "with --device: noise trials per task (default 10)"},
    {"seed", 's', "S", "with --device: seed of the noise (default 1); trial k uses (S, k), as qmc noise"},
    {"json", 0, NULL, "machine-readable output"},
    {0},
};

static const cli_command_info k_info = {
    "eval",
    "qmc eval -m MODEL --task NAME|FILE[,NAME|FILE...] [--limit N] [--strict] [--device PROFILE [--mlc 2|3] "
    "[--trials N] [--seed S]] [--json]",
    "Zero-shot accuracy on multiple-choice and cloze tasks, scored as lm-evaluation-harness does.",
    "Each choice is scored by the sum of log-probabilities of its continuation given the context;\n"
    "acc = argmax of the sums, acc_norm = argmax of the sums divided by the choice's length in characters\n"
    "(lm-eval's acc_norm; acc_bytes divides by UTF-8 bytes). WinoGrande uses partial scoring (the shared\n"
    "continuation after each option); LAMBADA reports last-word accuracy (all tokens greedy) and perplexity.\n"
    "Standard errors are lm-eval's mean_stderr, sqrt(p(1-p)/(n-1)). See docs/zeroshot.md.\n"
    "--device PROFILE (packed models): also the metrics under simulated device noise, as qmc noise --task draws it\n"
    "(the ReRAM cells of the packed block linears read through the profile), over --trials independent trials:\n"
    "mean and 95% confidence interval, mean +- t(0.975, N-1) sd / sqrt(N). See docs/device-noise.md.",
    k_opts};

static void list_tasks(void) {
    printf("%-14s %-7s %-36s %s\n", "task", "n", "file (under the data directory)", "split and prompt");
    for (int i = 0; qmc_task_named(i); i++) {
        const qmc_task_info *t = qmc_task_named(i);
        printf("%-14s %-7lld %-36s %s\n", t->name, (long long)t->expected, t->file, t->about);
    }
    const char *dir = qmc_task_data_dir();
    printf("\ndata directory: %s\n", dir ? dir : "(none found; give --data-dir)");
}

static void warn_skipped(const qmc_task_set *t) {
    if (!t->n_skipped) return;
    const char *p = t->problems.s;
    while (p && *p) {
        const char *nl = strchr(p, '\n');
        int n = nl ? (int)(nl - p) : (int)strlen(p);
        fprintf(stderr, "qmc eval: warning: %.*s\n", n, p);
        p = nl ? nl + 1 : p + n;
    }
    if (t->n_skipped > t->n_problems_kept)
        fprintf(stderr, "qmc eval: warning: %s: %lld more bad lines\n", t->path,
                (long long)(t->n_skipped - t->n_problems_kept));
    fprintf(stderr, "qmc eval: warning: %s: %lld malformed examples skipped (--strict stops instead)\n", t->path,
            (long long)t->n_skipped);
}

/* The text requests of the first n examples, one JSON object per example. */
static void show_examples(const qmc_task_set *t, int64_t n) {
    for (int64_t e = 0; e < n && e < t->n_examples; e++) {
        const qmc_task_example *ex = &t->examples[e];
        cJSON *j = cJSON_CreateObject(), *opts = NULL;
        cJSON_AddStringToObject(j, "task", t->name);
        cJSON_AddNumberToObject(j, "line", (double)ex->line);
        cJSON_AddNumberToObject(j, "gold", ex->gold);
        opts = cJSON_AddArrayToObject(j, "requests");
        for (int i = 0; i < ex->n_options; i++) {
            const qmc_task_option *op = qmc_task_opt(t, ex, i);
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "context", qmc_task_text(t, op->context));
            cJSON_AddStringToObject(o, "continuation", qmc_task_text(t, op->continuation));
            cJSON_AddNumberToObject(o, "norm_chars", op->norm_chars);
            cJSON_AddItemToArray(opts, o);
        }
        char *s = cJSON_PrintUnformatted(j);
        if (s) puts(s);
        cJSON_free(s);
        cJSON_Delete(j);
    }
}

static void add_num(cJSON *j, const char *k, double v) {
    if (isfinite(v)) cJSON_AddNumberToObject(j, k, v);
    else cJSON_AddNullToObject(j, k);
}

static cJSON *result_json(const qmc_task_set *t, const qmc_zs_result *r) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "task", r->task);
    cJSON_AddStringToObject(j, "file", t->path);
    cJSON_AddStringToObject(j, "layout", qmc_task_format_name(t->format));
    cJSON_AddStringToObject(j, "kind", qmc_task_kind_name(r->kind));
    cJSON_AddNumberToObject(j, "n", (double)r->n);
    cJSON_AddNumberToObject(j, "examples_in_file", (double)t->n_examples);
    cJSON_AddNumberToObject(j, "skipped_lines", (double)t->n_skipped);
    cJSON_AddNumberToObject(j, "skipped_too_long", (double)r->n_too_long);
    add_num(j, "acc", r->acc);
    add_num(j, "acc_stderr", r->acc_stderr);
    if (r->has_acc_norm) {
        add_num(j, "acc_norm", r->acc_norm);
        add_num(j, "acc_norm_stderr", r->acc_norm_stderr);
        add_num(j, "acc_bytes", r->acc_bytes);
        add_num(j, "acc_bytes_stderr", r->acc_bytes_stderr);
    }
    if (r->has_ppl) {
        add_num(j, "perplexity", r->ppl);
        add_num(j, "perplexity_stderr", r->ppl_stderr);
        add_num(j, "mean_loglikelihood", r->mean_ll);
    }
    cJSON_AddNumberToObject(j, "requests", (double)r->n_requests);
    cJSON_AddNumberToObject(j, "truncated", (double)r->n_truncated);
    cJSON_AddNumberToObject(j, "split_fallbacks", (double)r->n_split_fallback);
    cJSON_AddNumberToObject(j, "tokens_requested", (double)r->tokens_requested);
    cJSON_AddNumberToObject(j, "tokens_run", (double)r->tokens_run);
    cJSON_AddNumberToObject(j, "seconds", r->seconds);
    return j;
}

static void print_row(const qmc_zs_result *r) {
    char norm[32] = "-", ppl[32] = "-";
    if (r->has_acc_norm) snprintf(norm, sizeof norm, "%.4f ± %.4f", r->acc_norm, r->acc_norm_stderr);
    if (r->has_ppl) snprintf(ppl, sizeof ppl, "%.3f", r->ppl);
    printf("%-14s %6lld  %.4f ± %.4f  %-17s %-10s %9lld %8.2f %9.0f\n", r->task, (long long)r->n, r->acc,
           r->acc_stderr, norm, ppl, (long long)r->n_truncated, r->seconds,
           r->seconds > 0 ? (double)r->tokens_run / r->seconds : 0.0);
}

/* ---- --device: the task's metrics under noise ----------------------------------- */

typedef struct {
    qmc_zs_trial zs;          /* the task's requests, tokenized once */
    qmc_zs_result *res;       /* [trials]: each trial's full result */
    int next;                 /* trials evaluated so far */
} noisy_task;

static int noisy_task_trial(const qmc_model *m, void *user, double *value) {
    noisy_task *e = user;
    int rc = qmc_zs_trial_eval(m, &e->zs, value);
    if (!rc) e->res[e->next++] = e->zs.last;
    return rc;
}

typedef enum { NOISY_ACC, NOISY_ACC_NORM, NOISY_PPL } noisy_metric;

static bool noisy_stats(const qmc_zs_result *res, int n, noisy_metric which, double *buf, qmc_sample_stats *st) {
    for (int t = 0; t < n; t++) {
        const qmc_zs_result *r = &res[t];
        if ((which == NOISY_ACC_NORM && !r->has_acc_norm) || (which == NOISY_PPL && !r->has_ppl)) return false;
        buf[t] = which == NOISY_ACC ? r->acc : which == NOISY_ACC_NORM ? r->acc_norm : r->ppl;
    }
    qmc_sample_stats_compute(buf, n, 0.95, st);
    return true;
}

/* Run the trials of one task on the noisy view; report them into j (JSON) or stdout. */
static int eval_noisy(qmc_noisy_model *noisy, const qmc_task_set *set, const qmc_zs_opts *o, int trials, uint64_t seed,
                      cJSON *j) {
    noisy_task e = {{0}, NULL, 0};
    e.zs.task = set;
    e.zs.opts = *o;
    e.zs.opts.progress = false;
    e.zs.metric = QMC_ZS_METRIC_ACC;
    qmc_trial_result *res = qmc_alloc((size_t)trials, sizeof *res);
    double *buf = qmc_alloc((size_t)trials, sizeof *buf);
    e.res = qmc_alloc((size_t)trials, sizeof *e.res);
    int rc = res && buf && e.res ? QMC_OK : QMC_ERR_NOMEM;
    if (!rc) rc = qmc_noise_trials(noisy, trials, seed, noisy_task_trial, &e, res, NULL);
    if (!rc) {
        static const char *const names[] = {"acc", "acc_norm", "perplexity"};
        qmc_noise_counts tot = {0};
        for (int t = 0; t < trials; t++) qmc_noise_counts_add(&tot, &res[t].counts);
        cJSON *nj = j ? cJSON_AddObjectToObject(j, "noise") : NULL;
        if (nj) {
            cJSON_AddNumberToObject(nj, "trials", trials);
            cJSON_AddNumberToObject(nj, "seed", (double)seed);
            cJSON_AddNumberToObject(nj, "cells_per_trial", (double)res[0].counts.cells);
            cJSON_AddNumberToObject(nj, "cell_error_rate", tot.cells ? (double)tot.cell_errors / (double)tot.cells : 0);
            cJSON_AddNumberToObject(nj, "expected_cell_error_rate", tot.cells ? tot.expected_errors / (double)tot.cells : 0);
            cJSON *arr = cJSON_AddArrayToObject(nj, "per_trial");
            for (int t = 0; t < trials; t++) {
                cJSON *tj = cJSON_CreateObject();
                cJSON_AddNumberToObject(tj, "acc", e.res[t].acc);
                if (e.res[t].has_acc_norm) cJSON_AddNumberToObject(tj, "acc_norm", e.res[t].acc_norm);
                if (e.res[t].has_ppl) cJSON_AddNumberToObject(tj, "perplexity", e.res[t].ppl);
                cJSON_AddNumberToObject(tj, "cell_errors", (double)res[t].counts.cell_errors);
                cJSON_AddItemToArray(arr, tj);
            }
        }
        for (int k = 0; k < 3; k++) {
            qmc_sample_stats st;
            if (!noisy_stats(e.res, trials, (noisy_metric)k, buf, &st)) continue;
            if (nj) cJSON_AddItemToObject(nj, names[k], cli_stats_json(&st));
            else if (trials > 1)
                printf("  under noise, %d trials: %-10s %.4f ± %.4f (95%% CI [%.4f, %.4f], sd %.4f)\n", trials, names[k],
                       st.mean, (st.ci_hi - st.ci_lo) / 2, st.ci_lo, st.ci_hi, st.sd);
            else printf("  under noise, 1 trial: %-10s %.4f (no interval from one trial)\n", names[k], st.mean);
        }
        if (!nj)
            printf("  cell error rate %.4e measured, %.4e expected (%lld cells per trial)\n",
                   tot.cells ? (double)tot.cell_errors / (double)tot.cells : 0,
                   tot.cells ? tot.expected_errors / (double)tot.cells : 0, (long long)res[0].counts.cells);
        fflush(stdout);
    }
    qmc_zs_trial_free(&e.zs);
    qmc_free(e.res);
    qmc_free(buf);
    qmc_free(res);
    return rc;
}

int cmd_eval(int argc, char **argv) {
    cli_args a;
    int prc = cli_parse(&k_info, argc, argv, &a);
    if (prc) return prc == 1 ? 0 : 2;
    if (cli_flag(&a, "list")) {
        list_tasks();
        return 0;
    }
    int64_t limit, ctx, batch, show, trials, seed;
    if (!cli_int(&a, "limit", 1, INT64_MAX, 0, &limit) || !cli_int(&a, "ctx", 2, 1 << 20, 0, &ctx) ||
        !cli_int(&a, "batch", 1, 4096, 64, &batch) || !cli_int(&a, "show", 1, INT64_MAX, 0, &show) ||
        !cli_int(&a, "trials", 1, 1000000, 10, &trials) || !cli_int(&a, "seed", 0, INT64_MAX, 1, &seed))
        return 2;
    cli_device dev;
    bool have_dev;
    int drc = cli_device_load("eval", &a, NULL, &dev, &have_dev);
    if (drc) return drc;
    if (!have_dev && (cli_get(&a, "trials") || cli_get(&a, "seed")))
        return cli_error("eval", "--%s needs --device PROFILE", cli_get(&a, "trials") ? "trials" : "seed");
    qmc_noise_model nm;
    qmc_noise_p np;
    if (have_dev && (drc = cli_device_noise_p("eval", &dev, 3, &nm, &np))) return drc;
    if (a.n_positional) return cli_error("eval", "unexpected argument '%s' (see qmc eval --help)", a.positional[0]);
    const char *tasks_arg = cli_get(&a, "task");
    if (!tasks_arg || !*tasks_arg) return cli_error("eval", "no task given (--task NAME|FILE; --list shows the names)");
    qmc_task_load_opts lo = {0};
    lo.strict = cli_flag(&a, "strict");
    lo.data_dir = cli_get(&a, "data-dir");
    const char *fmt = cli_get(&a, "format");
    if (fmt) {
        int f = qmc_task_format_from_name(fmt);
        if (f < 0) return cli_error("eval", "--format must be auto, foundry, hellaswag or arc, not '%s'", fmt);
        lo.format = (qmc_task_format)f;
    }
    const bool json = cli_flag(&a, "json");

    /* load every task first: a bad name or file fails before the model loads */
    enum { MAX_TASKS = 32 };
    qmc_task_set *sets[MAX_TASKS] = {0};
    int n_sets = 0, status = 1;
    qmc_model *m = NULL;
    qmc_noisy_model *noisy = NULL;
    char *list = qmc_strdup(tasks_arg);
    if (!list) return cli_fail("eval");
    for (char *save = NULL, *name = strtok_r(list, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
        if (n_sets == MAX_TASKS) {
            cli_error("eval", "more than %d tasks", MAX_TASKS);
            goto done;
        }
        if (qmc_task_load(name, &lo, &sets[n_sets])) {
            cli_fail("eval");
            goto done;
        }
        warn_skipped(sets[n_sets++]);
    }
    if (n_sets == 0) {
        cli_error("eval", "no task given (--task NAME|FILE)");
        goto done;
    }
    if (show) {
        for (int i = 0; i < n_sets; i++) show_examples(sets[i], show);
        status = 0;
        goto done;
    }
    if (!(m = cli_load_model("eval", cli_get(&a, "model"), &a))) goto done;
    if (!m->tok) {
        cli_error("eval", "%s: the model has no tokenizer (use --tokenizer FILE)", m->path);
        goto done;
    }
    if (have_dev && qmc_noisy_model_new(m, &nm, QMC_NOISE_SCOPE_BLOCKS, &noisy)) {
        cli_fail("eval");
        goto done;
    }
    qmc_zs_opts o = {0};
    o.limit = limit;
    o.max_ctx = (int)ctx;
    o.no_bos = cli_flag(&a, "no-bos");
    o.batch = (int)batch;
    o.progress = !json;
    cJSON *out = json ? cJSON_CreateObject() : NULL, *arr = NULL;
    if (json) {
        cJSON_AddStringToObject(out, "model", m->path);
        cJSON_AddNumberToObject(out, "n_ctx", ctx ? (double)ctx : (double)m->cfg.seq_len);
        cJSON_AddBoolToObject(out, "bos", !o.no_bos);
        cJSON_AddNumberToObject(out, "threads", qmc_threads());
        if (limit) cJSON_AddNumberToObject(out, "limit", (double)limit);
        if (noisy) {
            cJSON *d = cli_device_json(out, &dev, &nm, &np);
            cJSON_AddNumberToObject(d, "packed_tensors", qmc_noisy_model_tensors(noisy));
        }
        arr = cJSON_AddArrayToObject(out, "tasks");
    } else {
        if (noisy)
            printf("device %s (%s): %d-bit cells, %s encoding, misread per cell %.3e; %d packed tensors in ReRAM; "
                   "noise-free rows first\n",
                   dev.profile.name, dev.profile.origin, nm.cell.bits, qmc_encoding_name(nm.encoding), np.cell_error,
                   qmc_noisy_model_tensors(noisy));
        printf("%-14s %6s  %-15s  %-17s %-10s %9s %8s %9s\n", "task", "n", "acc", "acc_norm", "ppl", "truncated",
               "seconds", "tokens/s");
    }
    for (int i = 0; i < n_sets; i++) {
        qmc_zs_result r;
        if (qmc_zeroshot_eval(m, sets[i], &o, &r)) {
            cli_fail("eval");
            cJSON_Delete(out);
            goto done;
        }
        cJSON *rj = json ? result_json(sets[i], &r) : NULL;
        if (json) cJSON_AddItemToArray(arr, rj);
        else {
            print_row(&r);
            fflush(stdout);
        }
        if (noisy && eval_noisy(noisy, sets[i], &o, (int)trials, (uint64_t)seed, rj)) {
            cli_fail("eval");
            cJSON_Delete(out);
            goto done;
        }
        if (r.n_too_long)
            fprintf(stderr, "qmc eval: warning: %s: %lld examples not scored (a continuation is longer than the %d-token window)\n",
                    r.task, (long long)r.n_too_long, ctx ? (int)ctx : m->cfg.seq_len);
    }
    if (json) cli_json_print(out);
    status = 0;
done:
    for (int i = 0; i < n_sets; i++) qmc_task_free(sets[i]);
    qmc_free(list);
    qmc_noisy_model_free(noisy);
    qmc_model_free(m);
    return status;
}
