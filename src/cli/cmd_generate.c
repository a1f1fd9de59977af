/* cmd_generate.c — qmc generate: prompt prefill, then sampled decoding. */
#include <string.h>

#include "cli/cli.h"
#include "cli/json.h"
#include "engine/engine.h"
#include "engine/sample.h"

static const cli_opt k_opts[] = {
    {"model", 'm', "MODEL", "model file or directory (GGUF, llama2.c .bin, HF directory, .qmc.gguf)"},
    {"prompt", 'p', "TEXT", "prompt (default: empty, i.e. start from BOS)"},
    {"steps", 'n', "N", "tokens to generate (default 64)"},
    {"temp", 0, "T", "temperature; 0 = greedy (default 0)"},
    {"top-p", 0, "P", "nucleus sampling threshold in (0,1] (default 0.9)"},
    {"seed", 's', "N", "random seed (default 42)"},
    {"tokenizer", 0, "FILE", "tokenizer for llama2.c checkpoints (default: next to the model)"},
    {"json", 0, NULL, "print the text and timings as JSON"},
    {0},
};

static const cli_command_info k_info = {
    "generate", "qmc generate -m MODEL [-p PROMPT] [-n N] [--temp T] [--top-p P] [--seed S]",
    "Generate text.  The prompt is encoded with BOS and run as one batch (prefill); each new token is then "
    "decoded with the KV cache.  Prints the text, then prefill and decode speed on stderr.",
    NULL, k_opts};

int cmd_generate(int argc, char **argv) {
    cli_args a;
    int prc = cli_parse(&k_info, argc, argv, &a);
    if (prc) return prc == 1 ? 0 : 2;
    int64_t steps, seed;
    double temp, top_p;
    if (!cli_int(&a, "steps", 0, 1 << 24, 64, &steps) || !cli_int(&a, "seed", 0, INT64_MAX, 42, &seed) ||
        !cli_double(&a, "temp", 0, 100, 0, &temp) || !cli_double(&a, "top-p", 0, 1, 0.9, &top_p))
        return 2;
    if (top_p <= 0) return cli_error("generate", "--top-p must be in (0, 1]");
    qmc_model *m = cli_load_model("generate", cli_get(&a, "model"), &a);
    if (!m) return 1;
    int status = 1;
    const qmc_tokenizer *tok = m->tok;
    qmc_session *s = NULL;
    qmc_sampler smp = {0};
    int32_t *toks = NULL;
    int64_t n_prompt = 0;
    qmc_str text = {0};
    if (!tok) {
        cli_error("generate", "%s: the model has no tokenizer (use --tokenizer FILE)", m->path);
        goto done;
    }
    const char *prompt = cli_get(&a, "prompt");
    if (!prompt) prompt = "";
    if (qmc_tok_encode(tok, prompt, strlen(prompt), true, &toks, &n_prompt)) {
        cli_fail("generate");
        goto done;
    }
    int ctx = m->cfg.seq_len;
    if (n_prompt + steps > ctx) {
        cli_error("generate", "prompt (%lld tokens) + %lld steps exceed the model's context of %d", (long long)n_prompt,
                  (long long)steps, ctx);
        goto done;
    }
    if (qmc_session_new_batch(m, (int)(n_prompt + steps), 512, &s) ||
        qmc_sampler_init(&smp, m->cfg.vocab_size, (float)temp, (float)top_p, (uint64_t)seed)) {
        cli_fail("generate");
        goto done;
    }
    bool json = cli_flag(&a, "json");
    double t0 = qmc_now();
    if (qmc_forward(s, toks, (int)n_prompt, 0, s->logits, false)) {
        cli_fail("generate");
        goto done;
    }
    double t_prefill = qmc_now() - t0;
    char piece[256];
    /* the prompt is echoed as text (without the BOS) */
    for (int64_t i = 1; i < n_prompt; i++) {
        int k = qmc_tok_decode(tok, toks[i - 1], toks[i], piece, sizeof piece);
        qmc_str_append(&text, piece, (size_t)k);
        if (!json) fwrite(piece, 1, (size_t)k, stdout);
    }
    int32_t prev = toks[n_prompt - 1];
    int64_t generated = 0, decode_steps = 0;
    double t_decode = 0;
    for (int64_t i = 0; i < steps; i++) {
        int32_t next = qmc_sample(&smp, s->logits);
        if (next == m->cfg.eos_id || next == tok->bos_id) break;
        int k = qmc_tok_decode(tok, prev, next, piece, sizeof piece);
        qmc_str_append(&text, piece, (size_t)k);
        if (!json) {
            fwrite(piece, 1, (size_t)k, stdout);
            fflush(stdout);
        }
        generated++;
        prev = next;
        if (i + 1 < steps) {
            double t1 = qmc_now();
            if (qmc_forward(s, &next, 1, (int)(n_prompt + i), s->logits, false)) {
                cli_fail("generate");
                goto done;
            }
            t_decode += qmc_now() - t1;
            decode_steps++;
        }
    }
    double pf_tps = t_prefill > 0 ? (double)n_prompt / t_prefill : 0;
    double dec_tps = t_decode > 0 ? (double)decode_steps / t_decode : 0; /* single-token forward passes */
    if (json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "model", m->path);
        cJSON_AddStringToObject(o, "text", text.s ? text.s : "");
        cJSON_AddNumberToObject(o, "prompt_tokens", (double)n_prompt);
        cJSON_AddNumberToObject(o, "generated_tokens", (double)generated);
        cJSON_AddNumberToObject(o, "prefill_seconds", t_prefill);
        cJSON_AddNumberToObject(o, "prefill_tokens_per_s", pf_tps);
        cJSON_AddNumberToObject(o, "decode_steps", (double)decode_steps);
        cJSON_AddNumberToObject(o, "decode_seconds", t_decode);
        cJSON_AddNumberToObject(o, "decode_tokens_per_s", dec_tps);
        cJSON_AddNumberToObject(o, "threads", qmc_threads());
        cJSON_AddNumberToObject(o, "temperature", temp);
        cJSON_AddNumberToObject(o, "top_p", top_p);
        cJSON_AddNumberToObject(o, "seed", (double)seed);
        cli_json_print(o);
    } else {
        printf("\n");
        fflush(stdout); /* the text before the statistics when both streams go to one file */
        fprintf(stderr, "prefill: %lld tokens, %.1f tok/s; decode: %lld tokens, %.1f tok/s (%d threads)\n",
                (long long)n_prompt, pf_tps, (long long)generated, dec_tps, qmc_threads());
    }
    status = 0;
done:
    qmc_str_free(&text);
    qmc_free(toks);
    qmc_sampler_free(&smp);
    qmc_session_free(s);
    qmc_model_free(m);
    return status;
}
