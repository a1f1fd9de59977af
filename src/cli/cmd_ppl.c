/* cmd_ppl.c — qmc ppl: perplexity of a text file, optional KL vs a base model. */
#include <string.h>

#include "cli/cli.h"
#include "cli/json.h"
#include "eval/eval.h"

static const cli_opt k_opts[] = {
    {"model", 'm', "MODEL", "model (any supported format, packed .qmc.gguf included)"},
    {"file", 'f', "TEXT", "UTF-8 text file"},
    {"protocol", 0, "NAME", "llamacpp (default) or full"},
    {"ctx", 'c', "N", "tokens per chunk/window incl. BOS (default: llamacpp 512, full the model's context; both capped at the model's)"},
    {"chunks", 0, "N", "evaluate at most N chunks"},
    {"batch", 'b', "N", "tokens per forward batch (default 64)"},
    {"strip-cr", 0, NULL, "remove carriage returns (CRLF -> LF) before tokenizing"},
    {"kl-base", 0, "FILE", "save base log-probs to FILE if it does not exist, else report KL and top-1 agreement against it"},
    {"kl-save", 0, NULL, "with --kl-base: always (over)write FILE"},
    {"tokenizer", 0, "FILE", "tokenizer for llama2.c checkpoints"},
    {"json", 0, NULL, "machine-readable output"},
    {0},
};

static const cli_command_info k_info = {
    "ppl", "qmc ppl -m MODEL -f TEXT [--protocol llamacpp|full] [-c N] [--kl-base FILE] [--json]",
    "Perplexity of a text under a model.",
    "Protocols:\n"
    "  llamacpp  as llama.cpp's llama-perplexity: the text (BOS first) is cut into non-overlapping chunks of\n"
    "            N tokens, the first token of each chunk is replaced by BOS, and only the second half of each\n"
    "            chunk is scored (N-1-N/2 tokens per chunk); a partial last chunk is dropped.\n"
    "  full      as the GPTQ/AWQ papers: windows of BOS + N-1 text tokens, every token scored (the last,\n"
    "            partial window too).",
    k_opts};

int cmd_ppl(int argc, char **argv) {
    cli_args a;
    int prc = cli_parse(&k_info, argc, argv, &a);
    if (prc) return prc == 1 ? 0 : 2;
    qmc_ppl_opts o = {0};
    if (!cli_ppl_opts(&a, &o)) return 2;
    const char *file = cli_get(&a, "file");
    o.kl_base = cli_get(&a, "kl-base");
    o.kl_save = o.kl_base && (cli_flag(&a, "kl-save") || !qmc_file_exists(o.kl_base));
    o.progress = !cli_flag(&a, "json");
    size_t len;
    char *text = cli_read_eval_text("ppl", &a, &len);
    if (!text) return 1;
    qmc_model *m = cli_load_model("ppl", cli_get(&a, "model"), &a);
    if (!m) {
        qmc_free(text);
        return 1;
    }
    int status = 1;
    int32_t *toks = NULL;
    int64_t n = 0;
    qmc_ppl_result r;
    if (!m->tok) {
        cli_error("ppl", "%s: the model has no tokenizer (use --tokenizer FILE)", m->path);
        goto done;
    }
    cli_ppl_default_ctx(&o, m);
    if (qmc_tok_encode(m->tok, text, len, false, &toks, &n) || qmc_perplexity(m, toks, n, &o, &r)) {
        cli_error("ppl", "%s", qmc_errmsg());
        goto done;
    }
    if (cli_flag(&a, "json")) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "model", m->path);
        cJSON_AddStringToObject(j, "text", file);
        cJSON_AddStringToObject(j, "protocol", qmc_ppl_protocol_name(o.protocol));
        cJSON_AddNumberToObject(j, "n_ctx", r.n_ctx);
        cJSON_AddNumberToObject(j, "perplexity", r.ppl);
        cJSON_AddNumberToObject(j, "mean_nll", r.nll_mean);
        cJSON_AddNumberToObject(j, "mean_nll_stderr", r.nll_stderr);
        cJSON_AddNumberToObject(j, "tokens_scored", (double)r.n_scored);
        cJSON_AddNumberToObject(j, "tokens_evaluated", (double)r.n_evaluated);
        cJSON_AddNumberToObject(j, "text_tokens", (double)n);
        cJSON_AddNumberToObject(j, "chunks", (double)r.n_chunks);
        cJSON_AddNumberToObject(j, "seconds", r.seconds);
        cJSON_AddNumberToObject(j, "tokens_per_s", r.tokens_per_s);
        cJSON_AddNumberToObject(j, "threads", qmc_threads());
        if (o.kl_base) {
            cJSON_AddStringToObject(j, "kl_base", o.kl_base);
            cJSON_AddStringToObject(j, "kl_mode", o.kl_save ? "saved" : "compared");
        }
        if (r.has_kl) {
            cJSON_AddNumberToObject(j, "kl_mean", r.kl_mean);
            cJSON_AddNumberToObject(j, "kl_stderr", r.kl_stderr);
            cJSON_AddNumberToObject(j, "top1_agreement", r.top1_agree);
        }
        cli_json_print(j);
    } else {
        printf("perplexity %.4f  (mean NLL %.5f +- %.5f nats, %lld tokens scored in %lld chunks of %d, %s protocol)\n",
               r.ppl, r.nll_mean, r.nll_stderr, (long long)r.n_scored, (long long)r.n_chunks, r.n_ctx,
               qmc_ppl_protocol_name(o.protocol));
        printf("%.2f s, %.1f tokens/s\n", r.seconds, r.tokens_per_s);
        if (o.kl_save) printf("base log-probabilities saved to %s\n", o.kl_base);
        if (r.has_kl)
            printf("KL divergence vs %s: %.6f +- %.6f nats; top-1 agreement %.2f%%\n", o.kl_base, r.kl_mean, r.kl_stderr,
                   100 * r.top1_agree);
    }
    status = 0;
done:
    qmc_free(toks);
    qmc_free(text);
    qmc_model_free(m);
    return status;
}
