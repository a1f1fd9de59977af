/* cmd_tokenize.c — qmc tokenize: token ids of a text. */
#include <string.h>

#include "cli/cli.h"
#include "cli/json.h"

static const cli_opt k_opts[] = {
    {"model", 'm', "MODEL", "model whose tokenizer to use"},
    {"file", 'f', "TEXT", "read the text from a file"},
    {"prompt", 'p', "TEXT", "the text"},
    {"bos", 0, NULL, "prepend BOS"},
    {"count", 0, NULL, "print only the number of tokens and the time taken"},
    {"tokenizer", 0, "FILE", "tokenizer for llama2.c checkpoints; without -m, the tokenizer to use (tokenizer.json or llama2.c tokenizer.bin)"},
    {"json", 0, NULL, "machine-readable output"},
    {0},
};

static const cli_command_info k_info = {"tokenize", "qmc tokenize (-m MODEL | --tokenizer FILE) (-p TEXT | -f FILE) [--bos] [--count]",
                                        "Print the token ids (and pieces) of a text.", NULL, k_opts};

int cmd_tokenize(int argc, char **argv) {
    cli_args a;
    int prc = cli_parse(&k_info, argc, argv, &a);
    if (prc) return prc == 1 ? 0 : 2;
    const char *file = cli_get(&a, "file"), *prompt = cli_get(&a, "prompt");
    if (!file == !prompt) return cli_error("tokenize", "give exactly one of -p TEXT or -f FILE");
    qmc_model *m = NULL;
    qmc_tokenizer *own = NULL; /* a tokenizer loaded on its own (no -m) */
    const char *tok_path = cli_get(&a, "tokenizer");
    if (!cli_get(&a, "model") && tok_path) {
        int trc = qmc_ends_with(tok_path, ".json") ? qmc_tok_load_hf(tok_path, &own) : qmc_tok_load_llama2c(tok_path, 0, &own);
        if (trc) return cli_fail("tokenize");
        if (!(m = qmc_alloc(1, sizeof *m))) {
            qmc_tok_free(own);
            return cli_fail("tokenize");
        }
        m->tok = own;
    } else {
        m = cli_load_model("tokenize", cli_get(&a, "model"), &a);
        if (!m) return 1;
        if (!m->tok) {
            int erc = cli_error("tokenize", "%s: the model has no tokenizer", m->path);
            qmc_model_free(m);
            return erc;
        }
    }
    char *text = NULL;
    size_t len = 0;
    if (file) {
        text = cli_read_text("tokenize", file, &len);
        if (!text) {
            qmc_model_free(m);
            return 1;
        }
    }
    int32_t *toks = NULL;
    int64_t n = 0;
    double t0 = qmc_now();
    int rc = qmc_tok_encode(m->tok, text ? text : prompt, text ? len : strlen(prompt), cli_flag(&a, "bos"), &toks, &n);
    double secs = qmc_now() - t0;
    if (rc) {
        cli_fail("tokenize");
    } else if (cli_flag(&a, "json")) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "n_tokens", (double)n);
        cJSON_AddNumberToObject(o, "bytes", (double)(text ? len : strlen(prompt)));
        cJSON_AddNumberToObject(o, "seconds", secs);
        if (!cli_flag(&a, "count")) {
            cJSON *ids = cJSON_AddArrayToObject(o, "ids");
            for (int64_t i = 0; i < n; i++) cJSON_AddItemToArray(ids, cJSON_CreateNumber(toks[i]));
        }
        cli_json_print(o);
    } else if (cli_flag(&a, "count")) {
        printf("%lld tokens from %zu bytes in %.3f s\n", (long long)n, text ? len : strlen(prompt), secs);
    } else {
        char piece[256];
        for (int64_t i = 0; i < n; i++) {
            int k = qmc_tok_decode(m->tok, i ? toks[i - 1] : -1, toks[i], piece, sizeof piece - 1);
            piece[k] = 0;
            printf("%d\t'%s'\n", toks[i], piece);
        }
    }
    qmc_free(toks);
    qmc_free(text);
    qmc_model_free(m);
    return rc ? 1 : 0;
}
