/* cmd_noise.c — qmc noise: Monte-Carlo perplexity of a packed model whose
 * ReRAM cells (and optionally MRAM bits) are read through a device model. */
#include <math.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_device.h"
#include "cli/json.h"
#include "device/montecarlo.h"
#include "eval/eval.h"
#include "eval/stats.h"

static const cli_opt k_opts[] = {
    {"model", 'm', "MODEL", "packed model (.qmc.gguf)"},
    {"file", 'f', "TEXT", "UTF-8 text file for perplexity"},
    CLI_DEVICE_OPTS,
    {"trials", 'n', "N", "noise trials (default 10)"},
    {"seed", 's', "S", "seed of the noise (default 1); trial k uses (S, k)"},
    {"scope", 0, "WHAT", "blocks (default: packed transformer-block linears) or all (every packed tensor)"},
    {"no-clean", 0, NULL, "skip the noise-free reference evaluation"},
    {"protocol", 0, "NAME", "perplexity protocol: llamacpp (default) or full (see qmc ppl --help)"},
    {"ctx", 'c', "N", "tokens per chunk/window incl. BOS (as qmc ppl)"},
    {"chunks", 0, "N", "evaluate at most N chunks"},
    {"batch", 'b', "N", "tokens per forward batch (default 64)"},
    {"strip-cr", 0, NULL, "remove carriage returns (CRLF -> LF) before tokenizing"},
    {"tokenizer", 0, "FILE", "tokenizer for llama2.c checkpoints"},
    {"json", 0, NULL, "machine-readable output"},
    {0},
};

static const cli_command_info k_info = {
    "noise",
    "qmc noise -m MODEL.qmc.gguf -f TEXT --device PROFILE [--mlc 2|3] [--trials N] [--seed S] [--json]",
    "Perplexity of a packed model under simulated device noise: mean, standard deviation and 95% confidence "
    "interval over independent noise trials.",
    "Each trial copies the packed planes, reads every ReRAM cell of the inlier plane through the profile's\n"
    "level-confusion matrix (--mlc 3: one 3-bit code per cell; --mlc 2: the code bit stream cut into 2-bit cells,\n"
    "1.5 cells per 3-bit code), flips MRAM bits when the profile's MRAM bit-error rate is non-zero, and evaluates\n"
    "the perturbed copy; the model file is never written.  Trial k of seed S is the same on any thread count.\n"
    "The 95% interval is mean +- t(0.975, N-1) sd / sqrt(N).  Also reported: the measured cell error rate against\n"
    "the rate the profile implies for the levels actually stored (a z score), and the noise-free perplexity.",
    k_opts};

typedef struct {
    const int32_t *tokens;
    int64_t n_tokens;
    qmc_ppl_opts opts;
    qmc_ppl_result *results;   /* [trials]: the full result of each trial */
    int next;
    bool json;
    int trials;
} ppl_eval;

static int eval_ppl(const qmc_model *m, void *user, double *value) {
    ppl_eval *e = user;
    qmc_ppl_result *r = &e->results[e->next];
    int rc = qmc_perplexity(m, e->tokens, e->n_tokens, &e->opts, r);
    if (rc) return rc;
    e->next++;
    *value = r->ppl;
    return QMC_OK;
}

static void on_trial(int t, const qmc_trial_result *r, void *user) {
    ppl_eval *e = user;
    if (e->json) {
        fprintf(stderr, "\rtrial %d/%d: perplexity %.4f", t + 1, e->trials, r->value);
        if (t + 1 == e->trials) fprintf(stderr, "\n");
        return;
    }
    const qmc_noise_counts *c = &r->counts;
    printf("trial %3d: perplexity %.4f  cell errors %lld / %lld (%.3e)", t + 1, r->value, (long long)c->cell_errors,
           (long long)c->cells, c->cells ? (double)c->cell_errors / (double)c->cells : 0.0);
    if (c->mram_bits) printf("  MRAM flips %lld / %lld", (long long)c->mram_flips, (long long)c->mram_bits);
    printf("  [%.1f s]\n", r->seconds);
    fflush(stdout);
}

static cJSON *stats_json(const qmc_sample_stats *s) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "n", s->n);
    cJSON_AddNumberToObject(o, "mean", s->mean);
    if (s->n > 1) {
        cJSON_AddNumberToObject(o, "sd", s->sd);
        cJSON_AddNumberToObject(o, "sem", s->sem);
        cJSON_AddNumberToObject(o, "t", s->t);
        cJSON_AddNumberToObject(o, "ci95_lo", s->ci_lo);
        cJSON_AddNumberToObject(o, "ci95_hi", s->ci_hi);
    } else {
        cJSON_AddNullToObject(o, "sd");
        cJSON_AddNullToObject(o, "ci95_lo");
        cJSON_AddNullToObject(o, "ci95_hi");
    }
    cJSON_AddNumberToObject(o, "min", s->min);
    cJSON_AddNumberToObject(o, "max", s->max);
    return o;
}

int cmd_noise(int argc, char **argv) {
    cli_args a;
    int prc = cli_parse(&k_info, argc, argv, &a);
    if (prc) return prc == 1 ? 0 : 2;
    const bool json = cli_flag(&a, "json");
    int64_t trials, seed;
    qmc_ppl_opts po = {0};
    if (!cli_int(&a, "trials", 1, 1000000, 10, &trials) || !cli_int(&a, "seed", 0, INT64_MAX, 1, &seed) ||
        !cli_ppl_opts(&a, &po))
        return 2;
    const char *scope_s = cli_get(&a, "scope");
    qmc_noise_scope scope = QMC_NOISE_SCOPE_BLOCKS;
    if (scope_s && strcmp(scope_s, "all") == 0) scope = QMC_NOISE_SCOPE_ALL;
    else if (scope_s && strcmp(scope_s, "blocks") != 0)
        return cli_error("noise", "--scope must be blocks or all, not '%s'", scope_s);
    const char *file = cli_get(&a, "file");
    if (!file) return cli_error("noise", "no text given (-f TEXT)");
    cli_device dev;
    bool have_dev;
    int rc = cli_device_load("noise", &a, NULL, &dev, &have_dev);
    if (rc) return rc;
    if (!have_dev) return cli_error("noise", "no device profile given (--device PROFILE; qmc device lists them)");
    qmc_noise_model nm;
    if ((rc = cli_device_noise_model("noise", &dev, 0, &nm))) return rc;
    qmc_noise_p np;
    if (qmc_noise_p_derive(&nm.cell, nm.encoding, 3, NULL, &np)) return cli_fail("noise");

    size_t len;
    char *text = cli_read_eval_text("noise", &a, &len);
    if (!text) return 1;
    int status = 1;
    int32_t *toks = NULL;
    int64_t n_tok = 0;
    qmc_noisy_model *noisy = NULL;
    qmc_trial_result *res = NULL;
    double *vals = NULL;
    ppl_eval pe = {0};
    qmc_ppl_result clean = {0};
    const bool have_clean = !cli_flag(&a, "no-clean");
    qmc_model *m = cli_load_model("noise", cli_get(&a, "model"), &a);
    if (!m) goto done;
    if (!m->tok) {
        cli_error("noise", "%s: the model has no tokenizer (use --tokenizer FILE)", m->path);
        goto done;
    }
    cli_ppl_default_ctx(&po, m);
    if (qmc_tok_encode(m->tok, text, len, false, &toks, &n_tok) || qmc_noisy_model_new(m, &nm, scope, &noisy)) {
        cli_fail("noise");
        goto done;
    }
    res = qmc_alloc((size_t)trials, sizeof *res);
    vals = qmc_alloc((size_t)trials, sizeof *vals);
    pe = (ppl_eval){toks, n_tok, po, qmc_alloc((size_t)trials + 1, sizeof(qmc_ppl_result)), 0, json, (int)trials};
    if (!res || !vals || !pe.results) {
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
    if (have_clean) {
        if (qmc_perplexity(m, toks, n_tok, &po, &clean)) {
            cli_fail("noise");
            goto done;
        }
        if (!json) printf("noise-free perplexity %.4f (%lld tokens scored, %s protocol, n_ctx %d)\n", clean.ppl,
                          (long long)clean.n_scored, qmc_ppl_protocol_name(po.protocol), clean.n_ctx);
    }
    if (qmc_noise_trials(noisy, (int)trials, (uint64_t)seed, eval_ppl, &pe, res, on_trial)) {
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
        cJSON_AddStringToObject(j, "text", file);
        cJSON *d = cJSON_AddObjectToObject(j, "device");
        cJSON_AddStringToObject(d, "profile", dev.profile.name);
        cJSON_AddStringToObject(d, "origin", dev.profile.origin);
        cJSON_AddNumberToObject(d, "cell_bits", nm.cell.bits);
        cJSON_AddStringToObject(d, "encoding", qmc_encoding_name(nm.encoding));
        if (nm.cell.retention_s > 0) cJSON_AddNumberToObject(d, "retention_s", nm.cell.retention_s);
        cJSON_AddNumberToObject(d, "stuck_at_0", dev.profile.stuck_at_0);
        cJSON_AddNumberToObject(d, "stuck_at_1", dev.profile.stuck_at_1);
        cJSON_AddNumberToObject(d, "mram_ber", nm.mram_ber);
        cJSON_AddNumberToObject(d, "misread_mean", np.cell_error);
        cJSON_AddItemToObject(d, "misread_per_level", cJSON_CreateDoubleArray(nm.cell.err, nm.cell.n_levels));
        cJSON_AddStringToObject(j, "scope", scope == QMC_NOISE_SCOPE_ALL ? "all" : "blocks");
        cJSON_AddNumberToObject(j, "packed_tensors", qmc_noisy_model_tensors(noisy));
        cJSON_AddNumberToObject(j, "cells_per_trial", (double)cells);
        cJSON_AddStringToObject(j, "protocol", qmc_ppl_protocol_name(po.protocol));
        cJSON_AddNumberToObject(j, "n_ctx", po.n_ctx);
        cJSON_AddNumberToObject(j, "seed", (double)seed);
        cJSON_AddNumberToObject(j, "threads", qmc_threads());
        if (have_clean) {
            cJSON_AddNumberToObject(j, "clean_perplexity", clean.ppl);
            cJSON_AddNumberToObject(j, "tokens_scored", (double)clean.n_scored);
        } else {
            cJSON_AddNullToObject(j, "clean_perplexity");
        }
        cJSON *arr = cJSON_AddArrayToObject(j, "trials");
        for (int t = 0; t < trials; t++) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddNumberToObject(o, "trial", t);
            cJSON_AddNumberToObject(o, "perplexity", res[t].value);
            cJSON_AddNumberToObject(o, "mean_nll", pe.results[t].nll_mean);
            cJSON_AddNumberToObject(o, "cells", (double)res[t].counts.cells);
            cJSON_AddNumberToObject(o, "cell_errors", (double)res[t].counts.cell_errors);
            cJSON_AddNumberToObject(o, "expected_cell_errors", res[t].counts.expected_errors);
            cJSON_AddNumberToObject(o, "mram_bits", (double)res[t].counts.mram_bits);
            cJSON_AddNumberToObject(o, "mram_flips", (double)res[t].counts.mram_flips);
            cJSON_AddNumberToObject(o, "seconds", res[t].seconds);
            cJSON_AddItemToArray(arr, o);
        }
        cJSON_AddItemToObject(j, "perplexity", stats_json(&st));
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
            printf("perplexity over %lld trials: mean %.4f  sd %.4f  95%% CI [%.4f, %.4f] (t = %.3f, %lld df)  range "
                   "%.4f .. %.4f\n",
                   (long long)trials, st.mean, st.sd, st.ci_lo, st.ci_hi, st.t, (long long)trials - 1, st.min, st.max);
        else printf("perplexity over 1 trial: %.4f (no interval from one trial)\n", st.mean);
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
    qmc_free(pe.results);
    qmc_free(vals);
    qmc_free(res);
    qmc_noisy_model_free(noisy);
    qmc_free(toks);
    qmc_free(text);
    qmc_model_free(m);
    return status;
}
