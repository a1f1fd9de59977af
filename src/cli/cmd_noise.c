/* cmd_noise.c — qmc noise: Monte-Carlo perplexity (or zero-shot accuracy) of
 * a packed model whose ReRAM cells (and optionally MRAM bits) are read
 * through a device model. */
#include <math.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_device.h"
#include "cli/json.h"
#include "device/montecarlo.h"
#include "eval/eval.h"
#include "eval/stats.h"
#include "eval/zeroshot.h"

static const cli_opt k_opts[] = {
    {"model", 'm', "MODEL", "packed model (.qmc.gguf)"},
    {"file", 'f', "TEXT", "UTF-8 text file: the metric is its perplexity"},
    {"task", 0, "NAME|FILE", "zero-shot task instead of -f (qmc eval --list shows the names)"},
    {"metric", 0, "NAME", "with --task: acc (default), acc_norm, or ppl (target tasks such as LAMBADA)"},
    {"limit", 0, "N", "with --task: score only the first N examples"},
    {"data-dir", 0, "DIR", "with --task: directory of the named tasks' files (as qmc eval)"},
    {"no-bos", 0, NULL, "with --task: do not start inputs with BOS (as qmc eval)"},
    CLI_DEVICE_OPTS,
    {"trials", 'n', "N", "noise trials (default 10)"},
    {"seed", 's', "S", "seed of the noise (default 1); trial k uses (S, k)"},
    {"scope", 0, "WHAT", "blocks (default: packed transformer-block linears) or all (every packed tensor)"},
    {"no-clean", 0, NULL, "skip the noise-free reference evaluation"},
    {"protocol", 0, "NAME", "perplexity protocol: llamacpp (default) or full (see qmc ppl --help)"},
    {"ctx", 'c', "N", "tokens per chunk/window incl. BOS (as qmc ppl); with --task, tokens per input"},
    {"chunks", 0, "N", "evaluate at most N chunks"},
    {"batch", 'b', "N", "tokens per forward batch (default 64)"},
    {"strip-cr", 0, NULL, "remove carriage returns (CRLF -> LF) before tokenizing"},
    {"tokenizer", 0, "FILE", "tokenizer for llama2.c checkpoints"},
    {"json", 0, NULL, "machine-readable output"},
    {0},
};

static const cli_command_info k_info = {
    "noise",
    "qmc noise -m MODEL.qmc.gguf (-f TEXT | --task NAME) --device PROFILE [--mlc 2|3] [--trials N] [--seed S] "
    "[--json]",
    "Perplexity (or zero-shot accuracy) of a packed model under simulated device noise: mean, standard deviation "
    "and 95% confidence interval over independent noise trials.",
    "Each trial copies the packed planes, reads every ReRAM cell of the inlier plane through the profile's\n"
    "level-confusion matrix (--mlc 3: one 3-bit code per cell; --mlc 2: the code bit stream cut into 2-bit cells,\n"
    "1.5 cells per 3-bit code), flips MRAM bits when the profile's MRAM bit-error rate is non-zero, and evaluates\n"
    "the perturbed copy (perplexity of -f TEXT, or the --metric of a zero-shot --task scored as qmc eval does);\n"
    "the model file is never written.  Trial k of seed S is the same on any thread count.\n"
    "The 95% interval is mean +- t(0.975, N-1) sd / sqrt(N).  Also reported: the measured cell error rate against\n"
    "the rate the profile implies for the levels actually stored (a z score), and the noise-free perplexity.",
    k_opts};

/* The evaluation run on every trial: perplexity of a text, or a zero-shot task metric. */
typedef struct {
    bool task;
    const char *metric;        /* "perplexity", "acc", "acc_norm", "ppl" */
    /* perplexity */
    const int32_t *tokens;
    int64_t n_tokens;
    qmc_ppl_opts opts;
    qmc_ppl_result *ppl;       /* [trials]: the full result of each trial */
    /* zero-shot */
    qmc_zs_trial zs;
    qmc_zs_result *zs_res;     /* [trials] */
    int next;                  /* trials evaluated so far */
    bool json;
    int trials;
} noise_eval;

static int eval_trial(const qmc_model *m, void *user, double *value) {
    noise_eval *e = user;
    int rc;
    if (e->task) {
        rc = qmc_zs_trial_eval(m, &e->zs, value);
        if (!rc) e->zs_res[e->next] = e->zs.last;
    } else {
        rc = qmc_perplexity(m, e->tokens, e->n_tokens, &e->opts, &e->ppl[e->next]);
        if (!rc) *value = e->ppl[e->next].ppl;
    }
    if (!rc) e->next++;
    return rc;
}

/* The noise-free reference: the same evaluation on the clean model. */
static int eval_clean(const qmc_model *m, noise_eval *e, double *value) {
    if (e->task) return qmc_zs_trial_eval(m, &e->zs, value);
    qmc_ppl_result r;
    int rc = qmc_perplexity(m, e->tokens, e->n_tokens, &e->opts, &r);
    *value = r.ppl;
    return rc;
}

static void on_trial(int t, const qmc_trial_result *r, void *user) {
    noise_eval *e = user;
    if (e->json) {
        fprintf(stderr, "\rtrial %d/%d: %s %.4f", t + 1, e->trials, e->metric, r->value);
        if (t + 1 == e->trials) fprintf(stderr, "\n");
        return;
    }
    const qmc_noise_counts *c = &r->counts;
    printf("trial %3d: %s %.4f  cell errors %lld / %lld (%.3e)", t + 1, e->metric, r->value, (long long)c->cell_errors,
           (long long)c->cells, c->cells ? (double)c->cell_errors / (double)c->cells : 0.0);
    if (c->mram_bits) printf("  MRAM flips %lld / %lld", (long long)c->mram_flips, (long long)c->mram_bits);
    printf("  [%.1f s]\n", r->seconds);
    fflush(stdout);
}

/* Per-trial details of the evaluation for --json. */
static void trial_detail_json(cJSON *o, const noise_eval *e, int t) {
    if (!e->task) {
        cJSON_AddNumberToObject(o, "perplexity", e->ppl[t].ppl);
        cJSON_AddNumberToObject(o, "mean_nll", e->ppl[t].nll_mean);
        return;
    }
    const qmc_zs_result *r = &e->zs_res[t];
    cJSON_AddNumberToObject(o, "acc", r->acc);
    if (r->has_acc_norm) cJSON_AddNumberToObject(o, "acc_norm", r->acc_norm);
    if (r->has_ppl) cJSON_AddNumberToObject(o, "ppl", r->ppl);
}

/* --task: load the task and choose the metric; 0 or an exit status. */
static int setup_task(const cli_args *a, const char *name, noise_eval *e, qmc_task_set **set) {
    const char *metric = cli_get(a, "metric");
    e->task = true;
    e->metric = metric ? metric : "acc";
    if (strcmp(e->metric, "acc") == 0) e->zs.metric = QMC_ZS_METRIC_ACC;
    else if (strcmp(e->metric, "acc_norm") == 0) e->zs.metric = QMC_ZS_METRIC_ACC_NORM;
    else if (strcmp(e->metric, "ppl") == 0) e->zs.metric = QMC_ZS_METRIC_PPL;
    else {
        cli_error("noise", "--metric must be acc, acc_norm or ppl, not '%s'", metric);
        return 2;
    }
    int64_t limit, ctx, batch;
    if (!cli_int(a, "limit", 1, INT64_MAX, 0, &limit) || !cli_int(a, "ctx", 2, 1 << 20, 0, &ctx) ||
        !cli_int(a, "batch", 1, 4096, 64, &batch))
        return 2;
    qmc_task_load_opts lo = {0};
    lo.data_dir = cli_get(a, "data-dir");
    if (qmc_task_load(name, &lo, set)) return cli_fail("noise");
    e->zs.task = *set;
    e->zs.opts.limit = limit;
    e->zs.opts.max_ctx = (int)ctx;
    e->zs.opts.no_bos = cli_flag(a, "no-bos");
    e->zs.opts.batch = (int)batch;
    return 0;
}

int cmd_noise(int argc, char **argv) {
    cli_args a;
    int prc = cli_parse(&k_info, argc, argv, &a);
    if (prc) return prc == 1 ? 0 : 2;
    const bool json = cli_flag(&a, "json");
    int64_t trials, seed;
    noise_eval ev = {0};
    ev.metric = "perplexity";
    ev.json = json;
    if (!cli_int(&a, "trials", 1, 1000000, 10, &trials) || !cli_int(&a, "seed", 0, INT64_MAX, 1, &seed) ||
        !cli_ppl_opts(&a, &ev.opts))
        return 2;
    ev.trials = (int)trials;
    const char *scope_s = cli_get(&a, "scope");
    qmc_noise_scope scope = QMC_NOISE_SCOPE_BLOCKS;
    if (scope_s && strcmp(scope_s, "all") == 0) scope = QMC_NOISE_SCOPE_ALL;
    else if (scope_s && strcmp(scope_s, "blocks") != 0)
        return cli_error("noise", "--scope must be blocks or all, not '%s'", scope_s);
    const char *file = cli_get(&a, "file"), *task = cli_get(&a, "task");
    if (file && task) return cli_error("noise", "give -f TEXT (perplexity) or --task NAME (zero-shot), not both");
    if (!file && !task) return cli_error("noise", "nothing to evaluate: give -f TEXT or --task NAME");
    static const char *const task_only[] = {"metric", "limit", "data-dir", "no-bos"};
    for (size_t i = 0; i < QMC_ARRAY_LEN(task_only) && !task; i++)
        if (cli_get(&a, task_only[i])) return cli_error("noise", "--%s applies to --task only", task_only[i]);
    cli_device dev;
    bool have_dev;
    int rc = cli_device_load("noise", &a, NULL, &dev, &have_dev);
    if (rc) return rc;
    if (!have_dev) return cli_error("noise", "no device profile given (--device PROFILE; qmc device lists them)");
    qmc_noise_model nm;
    qmc_noise_p np;
    if ((rc = cli_device_noise_p("noise", &dev, 3, &nm, &np))) return rc;

    int status = 1;
    char *text = NULL;
    qmc_task_set *set = NULL;
    int32_t *toks = NULL;
    qmc_model *m = NULL;
    qmc_noisy_model *noisy = NULL;
    qmc_trial_result *res = NULL;
    double *vals = NULL;
    size_t len = 0;
    if (task) {
        if ((rc = setup_task(&a, task, &ev, &set))) {
            status = rc;
            goto done;
        }
    } else if (!(text = cli_read_eval_text("noise", &a, &len))) {
        goto done;
    }
    if (!(m = cli_load_model("noise", cli_get(&a, "model"), &a))) goto done;
    if (!m->tok) {
        cli_error("noise", "%s: the model has no tokenizer (use --tokenizer FILE)", m->path);
        goto done;
    }
    if (!task) {
        cli_ppl_default_ctx(&ev.opts, m);
        if (qmc_tok_encode(m->tok, text, len, false, &toks, &ev.n_tokens)) {
            cli_fail("noise");
            goto done;
        }
        ev.tokens = toks;
    }
    if (qmc_noisy_model_new(m, &nm, scope, &noisy)) {
        cli_fail("noise");
        goto done;
    }
    res = qmc_alloc((size_t)trials, sizeof *res);
    vals = qmc_alloc((size_t)trials, sizeof *vals);
    if (task) ev.zs_res = qmc_alloc((size_t)trials, sizeof *ev.zs_res);
    else ev.ppl = qmc_alloc((size_t)trials, sizeof *ev.ppl);
    if (!res || !vals || (!ev.zs_res && !ev.ppl)) {
        cli_fail("noise");
        goto done;
    }
    const int64_t *hist = qmc_noisy_model_hist(noisy);
    int64_t cells = 0;
    for (int w = 0; w < nm.cell.n_levels; w++) cells += hist[w];
    if (!json) {
        printf("device %s (%s): %d-bit cells, %s encoding; misread per cell %.3e with levels equally likely\n",
               dev.profile.name, dev.profile.origin, nm.cell.bits, qmc_encoding_name(nm.encoding), np.cell_error);
        if (nm.cell.retention_s > 0) printf("retention time %g s\n", nm.cell.retention_s);
        printf("model %s: %d packed tensors in ReRAM, %lld cells per trial; MRAM bit-error rate %g\n", m->path,
               qmc_noisy_model_tensors(noisy), (long long)cells, nm.mram_ber);
        fflush(stdout);
    }
    double clean = NAN;
    const bool have_clean = !cli_flag(&a, "no-clean");
    if (have_clean) {
        if (eval_clean(m, &ev, &clean)) {
            cli_fail("noise");
            goto done;
        }
        if (!json) printf("noise-free %s %.4f\n", ev.metric, clean);
    }
    if (qmc_noise_trials(noisy, (int)trials, (uint64_t)seed, eval_trial, &ev, res, on_trial)) {
        cli_fail("noise");
        goto done;
    }
    qmc_noise_counts tot = {0};
    for (int t = 0; t < trials; t++) {
        vals[t] = res[t].value;
        qmc_noise_counts_add(&tot, &res[t].counts);
    }
    qmc_sample_stats st;
    qmc_sample_stats_compute(vals, (int)trials, 0.95, &st);
    double measured = tot.cells ? (double)tot.cell_errors / (double)tot.cells : 0;
    double expected = tot.cells ? tot.expected_errors / (double)tot.cells : 0;
    double z = tot.expected_var > 0 ? ((double)tot.cell_errors - tot.expected_errors) / sqrt(tot.expected_var) : 0;
    if (json) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "model", m->path);
        if (task) {
            cJSON_AddStringToObject(j, "task", set->name);
            cJSON_AddStringToObject(j, "task_file", set->path);
            cJSON_AddNumberToObject(j, "examples", (double)ev.zs_res[0].n);
        } else {
            cJSON_AddStringToObject(j, "text", file);
            cJSON_AddStringToObject(j, "protocol", qmc_ppl_protocol_name(ev.opts.protocol));
            cJSON_AddNumberToObject(j, "n_ctx", ev.opts.n_ctx);
            cJSON_AddNumberToObject(j, "tokens_scored", (double)ev.ppl[0].n_scored);
        }
        cJSON_AddStringToObject(j, "metric", ev.metric);
        cli_device_json(j, &dev, &nm, &np);
        cJSON_AddStringToObject(j, "scope", scope == QMC_NOISE_SCOPE_ALL ? "all" : "blocks");
        cJSON_AddNumberToObject(j, "packed_tensors", qmc_noisy_model_tensors(noisy));
        cJSON_AddNumberToObject(j, "cells_per_trial", (double)cells);
        cJSON_AddNumberToObject(j, "seed", (double)seed);
        cJSON_AddNumberToObject(j, "threads", qmc_threads());
        char key[64];
        snprintf(key, sizeof key, "clean_%s", ev.metric);
        if (have_clean) cJSON_AddNumberToObject(j, key, clean);
        else cJSON_AddNullToObject(j, key);
        cJSON *arr = cJSON_AddArrayToObject(j, "trials");
        for (int t = 0; t < trials; t++) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddNumberToObject(o, "trial", t);
            cJSON_AddNumberToObject(o, "value", res[t].value);
            trial_detail_json(o, &ev, t);
            cJSON_AddNumberToObject(o, "cells", (double)res[t].counts.cells);
            cJSON_AddNumberToObject(o, "cell_errors", (double)res[t].counts.cell_errors);
            cJSON_AddNumberToObject(o, "expected_cell_errors", res[t].counts.expected_errors);
            cJSON_AddNumberToObject(o, "mram_bits", (double)res[t].counts.mram_bits);
            cJSON_AddNumberToObject(o, "mram_flips", (double)res[t].counts.mram_flips);
            cJSON_AddNumberToObject(o, "seconds", res[t].seconds);
            cJSON_AddItemToArray(arr, o);
        }
        cJSON_AddItemToObject(j, ev.metric, cli_stats_json(&st));
        cJSON *ce = cJSON_AddObjectToObject(j, "cell_error_rate");
        cJSON_AddNumberToObject(ce, "measured", measured);
        cJSON_AddNumberToObject(ce, "expected", expected);
        cJSON_AddNumberToObject(ce, "z", z);
        cJSON_AddNumberToObject(ce, "profile_uniform_levels", np.cell_error);
        cJSON_AddNumberToObject(ce, "cells", (double)tot.cells);
        cJSON_AddNumberToObject(ce, "errors", (double)tot.cell_errors);
        if (tot.mram_bits) {
            cJSON *mr = cJSON_AddObjectToObject(j, "mram_bit_error_rate");
            cJSON_AddNumberToObject(mr, "measured", (double)tot.mram_flips / (double)tot.mram_bits);
            cJSON_AddNumberToObject(mr, "expected", nm.mram_ber);
            cJSON_AddNumberToObject(mr, "bits", (double)tot.mram_bits);
        }
        cli_json_print(j);
    } else {
        if (trials > 1)
            printf("%s over %lld trials: mean %.4f  sd %.4f  95%% CI [%.4f, %.4f] (t = %.3f, %lld df)  range "
                   "%.4f .. %.4f\n",
                   ev.metric, (long long)trials, st.mean, st.sd, st.ci_lo, st.ci_hi, st.t, (long long)trials - 1, st.min,
                   st.max);
        else printf("%s over 1 trial: %.4f (no interval from one trial)\n", ev.metric, st.mean);
        printf("cell error rate: measured %.4e (%lld of %lld cells), expected %.4e for the stored levels (z = %.2f); "
               "profile %.4e with levels equally likely\n",
               measured, (long long)tot.cell_errors, (long long)tot.cells, expected, z, np.cell_error);
        if (tot.mram_bits)
            printf("MRAM bit-error rate: measured %.4e (%lld of %lld bits), expected %.4e\n",
                   (double)tot.mram_flips / (double)tot.mram_bits, (long long)tot.mram_flips, (long long)tot.mram_bits,
                   nm.mram_ber);
    }
    status = 0;
done:
    qmc_zs_trial_free(&ev.zs);
    qmc_free(ev.zs_res);
    qmc_free(ev.ppl);
    qmc_free(vals);
    qmc_free(res);
    qmc_noisy_model_free(noisy);
    qmc_free(toks);
    qmc_free(text);
    qmc_model_free(m);
    qmc_task_free(set);
    return status;
}
