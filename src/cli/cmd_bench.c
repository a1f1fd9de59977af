/* cmd_bench.c — qmc bench: prefill and decode speed of a model on random
 * token ids, with the weight-read bandwidth decode achieves. */
#include <string.h>

#include "cli/cli.h"
#include "cli/json.h"
#include "engine/engine.h"

static const cli_opt k_opts[] = {
    {"model", 'm', "MODEL", "model (any supported format, packed included)"},
    {"prompt", 'p', "N", "prompt tokens for the prefill measurement (default 128)"},
    {"decode", 'n', "N", "single-token decode steps (default 32)"},
    {"reps", 'r', "N", "repeat the measurement N times and keep the fastest (default 3)"},
    {"seed", 's', "N", "seed of the random token ids (default 1)"},
    {"json", 0, NULL, "machine-readable output"},
    {0},
};

static const cli_command_info k_info = {
    "bench", "qmc bench -m MODEL [-p PROMPT_TOKENS] [-n DECODE_STEPS] [-t THREADS] [--json]",
    "Time prompt prefill (one batch) and single-token decode on random token ids.",
    "Decode bandwidth = bytes of every weight read per token (all block linears and the output head)\n"
    "x decode tokens/s; compare it with the machine's memory bandwidth (bench/membw).  The first\n"
    "repetition also pages the weights in; the fastest repetition is reported.",
    k_opts};

static int add_bytes(qmc_model *m, qmc_tensor *t, int layer, void *user) {
    /* bytes read per decoded token: every matrix but the embedding (one row), plus the head */
    if (t != &m->token_embd && t->n_dims == 2) *(int64_t *)user += qmc_tensor_nbytes(t);
    return 0;
}

int cmd_bench(int argc, char **argv) {
    cli_args a;
    int prc = cli_parse(&k_info, argc, argv, &a);
    if (prc) return prc == 1 ? 0 : 2;
    int64_t np, nd, reps, seed;
    if (!cli_int(&a, "prompt", 1, 1 << 20, 128, &np) || !cli_int(&a, "decode", 1, 1 << 20, 32, &nd) ||
        !cli_int(&a, "reps", 1, 1000, 3, &reps) || !cli_int(&a, "seed", 0, INT64_MAX, 1, &seed))
        return 2;
    qmc_model *m = cli_load_model("bench", cli_get(&a, "model"), &a);
    if (!m) return 1;
    int status = 1;
    const qmc_config *c = &m->cfg;
    int ctx = (int)(np + nd);
    int32_t *toks = qmc_alloc((size_t)ctx, sizeof(int32_t));
    float *logits = qmc_alloc((size_t)c->vocab_size, sizeof(float));
    qmc_session *s = NULL;
    if (!toks || !logits || qmc_session_new_batch(m, ctx, (int)QMC_MIN(np, 512), &s)) {
        cli_fail("bench");
        goto done;
    }
    for (int i = 0; i < ctx; i++) toks[i] = (int32_t)(qmc_rand_u64((uint64_t)seed, (uint64_t)i) % (uint64_t)c->vocab_size);
    int64_t weight_bytes = 0;
    qmc_model_for_each_tensor(m, add_bytes, &weight_bytes);
    if (c->tied_output) weight_bytes += qmc_tensor_nbytes(&m->token_embd);
    double best_pf = 1e30, best_dec = 1e30;
    for (int64_t r = 0; r < reps; r++) {
        double t0 = qmc_now();
        if (qmc_forward(s, toks, (int)np, 0, logits, false)) {
            cli_fail("bench");
            goto done;
        }
        double t1 = qmc_now();
        for (int64_t i = 0; i < nd; i++)
            if (qmc_forward(s, &toks[np + i], 1, (int)(np + i), logits, false)) {
                cli_fail("bench");
                goto done;
            }
        double t2 = qmc_now();
        best_pf = QMC_MIN(best_pf, t1 - t0);
        best_dec = QMC_MIN(best_dec, t2 - t1);
    }
    double pf_tps = (double)np / best_pf, dec_tps = (double)nd / best_dec;
    double gbs = (double)weight_bytes * dec_tps / 1e9;
    if (cli_flag(&a, "json")) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "model", m->path);
        cJSON_AddNumberToObject(o, "n_params", (double)qmc_model_n_params(m));
        cJSON_AddNumberToObject(o, "threads", qmc_threads());
        cJSON_AddNumberToObject(o, "prompt_tokens", (double)np);
        cJSON_AddNumberToObject(o, "prefill_tokens_per_s", pf_tps);
        cJSON_AddNumberToObject(o, "decode_steps", (double)nd);
        cJSON_AddNumberToObject(o, "decode_tokens_per_s", dec_tps);
        cJSON_AddNumberToObject(o, "weight_bytes_per_token", (double)weight_bytes);
        cJSON_AddNumberToObject(o, "decode_weight_gb_per_s", gbs);
        cli_json_print(o);
    } else {
        printf("%s: %d threads\n", m->path, qmc_threads());
        printf("  prefill %lld tokens: %.1f tokens/s\n", (long long)np, pf_tps);
        printf("  decode  %lld steps:  %.2f tokens/s, %.1f MB of weights per token -> %.2f GB/s\n", (long long)nd,
               dec_tps, (double)weight_bytes / 1e6, gbs);
    }
    status = 0;
done:
    qmc_free(toks);
    qmc_free(logits);
    qmc_session_free(s);
    qmc_model_free(m);
    return status;
}
