/* cmd_info.c — qmc info: hyperparameters and tensors of a model. */
#include "cli/cli.h"
#include "cli/json.h"
#include "quant/qtensor.h"

static const cli_opt k_opts[] = {
    {"model", 'm', "MODEL", "model file or directory"},
    {"tokenizer", 0, "FILE", "tokenizer for llama2.c checkpoints"},
    {"tensors", 0, NULL, "list every tensor"},
    {"json", 0, NULL, "machine-readable output"},
    {0},
};

static const cli_command_info k_info = {"info", "qmc info -m MODEL [--tensors] [--json]",
                                        "Print a model's format, hyperparameters, parameter count and tensors.", NULL,
                                        k_opts};

static int print_tensor(qmc_model *m, qmc_tensor *t, int layer, void *user) {
    cJSON *arr = user;
    if (arr) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", t->name);
        cJSON_AddStringToObject(o, "type", t->type == QMC_TYPE_PACKED ? qmc_method_name(t->q->method) : qmc_type_name(t->type));
        cJSON *ne = cJSON_AddArrayToObject(o, "shape");
        for (int d = 0; d < t->n_dims; d++) cJSON_AddItemToArray(ne, cJSON_CreateNumber((double)t->ne[d]));
        cJSON_AddNumberToObject(o, "bytes", (double)qmc_tensor_nbytes(t));
        cJSON_AddItemToArray(arr, o);
    } else {
        printf("  %-28s %-8s [%lld, %lld]  %lld bytes\n", t->name,
               t->type == QMC_TYPE_PACKED ? qmc_method_name(t->q->method) : qmc_type_name(t->type), (long long)t->ne[0],
               (long long)t->ne[1], (long long)qmc_tensor_nbytes(t));
    }
    return 0;
}

int cmd_info(int argc, char **argv) {
    cli_args a;
    int prc = cli_parse(&k_info, argc, argv, &a);
    if (prc) return prc == 1 ? 0 : 2;
    qmc_model *m = cli_load_model("info", cli_get(&a, "model") ? cli_get(&a, "model") : (a.n_positional ? a.positional[0] : NULL), &a);
    if (!m) return 1;
    const qmc_config *c = &m->cfg;
    const char *arch = c->arch == QMC_ARCH_QWEN2 ? "qwen2" : "llama";
    if (cli_flag(&a, "json")) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "model", m->path);
        cJSON_AddStringToObject(o, "format", m->source_format);
        cJSON_AddStringToObject(o, "architecture", arch);
        cJSON_AddNumberToObject(o, "dim", c->dim);
        cJSON_AddNumberToObject(o, "hidden_dim", c->hidden_dim);
        cJSON_AddNumberToObject(o, "n_layers", c->n_layers);
        cJSON_AddNumberToObject(o, "n_heads", c->n_heads);
        cJSON_AddNumberToObject(o, "n_kv_heads", c->n_kv_heads);
        cJSON_AddNumberToObject(o, "head_dim", c->head_dim);
        cJSON_AddNumberToObject(o, "vocab_size", c->vocab_size);
        cJSON_AddNumberToObject(o, "seq_len", c->seq_len);
        cJSON_AddNumberToObject(o, "rope_theta", c->rope_theta);
        cJSON_AddStringToObject(o, "rope_style", c->rope_style == QMC_ROPE_NEOX ? "neox" : "norm");
        cJSON_AddBoolToObject(o, "qkv_bias", c->qkv_bias);
        cJSON_AddBoolToObject(o, "tied_output", c->tied_output);
        cJSON_AddNumberToObject(o, "n_params", (double)qmc_model_n_params(m));
        if (m->tok) cJSON_AddNumberToObject(o, "tokenizer_vocab", m->tok->n_vocab);
        if (cli_flag(&a, "tensors")) qmc_model_for_each_tensor(m, print_tensor, cJSON_AddArrayToObject(o, "tensors"));
        cli_json_print(o);
    } else {
        printf("%s: %s, %s\n", m->path, m->source_format, arch);
        printf("  dim %d, hidden %d, %d layers, %d heads (%d kv, head_dim %d), vocab %d, context %d\n", c->dim,
               c->hidden_dim, c->n_layers, c->n_heads, c->n_kv_heads, c->head_dim, c->vocab_size, c->seq_len);
        printf("  rope theta %g (%s)%s, norm eps %g, %s head%s\n", c->rope_theta, c->rope_style == QMC_ROPE_NEOX ? "neox" : "norm",
               m->rope_freqs.data ? " with rope_freqs" : "", c->norm_eps, c->tied_output ? "tied" : "separate",
               c->qkv_bias ? ", q/k/v bias" : "");
        printf("  %lld parameters; tokenizer: %s\n", (long long)qmc_model_n_params(m),
               m->tok ? (m->tok->kind == QMC_TOK_SPM ? "sentencepiece-bpe" : "byte-level-bpe") : "none");
        if (cli_flag(&a, "tensors")) qmc_model_for_each_tensor(m, print_tensor, NULL);
    }
    qmc_model_free(m);
    return 0;
}
