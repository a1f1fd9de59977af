/* cmd_convert.c — qmc convert: any supported model to GGUF (or a HF directory). */
#include <string.h>

#include "cli/cli.h"

static const cli_opt k_opts[] = {
    {"output", 'o', "OUT", "output GGUF file (or directory with --format hf)"},
    {"outtype", 0, "TYPE", "f32 or f16 (default: f32 for F32 sources, f16 otherwise)"},
    {"format", 0, "FMT", "gguf (default) or hf (config.json + model.safetensors + tokenizer)"},
    {"tokenizer", 0, "FILE", "tokenizer for llama2.c checkpoints"},
    {0},
};

static const cli_command_info k_info = {
    "convert", "qmc convert IN -o OUT.gguf [--outtype f32|f16] [--format gguf|hf]",
    "Write a model (llama2.c v0/v1, GGUF, HF directory) as GGUF v3 with llama.cpp's names and keys, "
    "or as a Hugging Face directory.  Output is written to a temporary file and renamed into place.",
    NULL, k_opts};

static int first_type(qmc_model *m, qmc_tensor *t, int layer, void *user) {
    *(qmc_type *)user = t->type;
    return 1;
}

int cmd_convert(int argc, char **argv) {
    cli_args a;
    int prc = cli_parse(&k_info, argc, argv, &a);
    if (prc) return prc == 1 ? 0 : 2;
    if (a.n_positional != 1) return cli_error("convert", "expected one input model, got %d", a.n_positional);
    const char *out = cli_get(&a, "output");
    if (!out) return cli_error("convert", "no output given (-o OUT)");
    const char *fmt = cli_get(&a, "format");
    bool hf = fmt && strcmp(fmt, "hf") == 0;
    if (fmt && !hf && strcmp(fmt, "gguf") != 0) return cli_error("convert", "--format must be gguf or hf, not '%s'", fmt);
    const char *ot = cli_get(&a, "outtype");
    if (ot && strcmp(ot, "f32") != 0 && strcmp(ot, "f16") != 0)
        return cli_error("convert", "--outtype must be f32 or f16, not '%s'", ot);
    qmc_model *m = cli_load_model("convert", a.positional[0], &a);
    if (!m) return 1;
    qmc_write_type wt;
    if (ot) wt = strcmp(ot, "f16") == 0 ? QMC_WRITE_F16 : QMC_WRITE_F32;
    else {
        qmc_type t = QMC_TYPE_F32;
        qmc_model_for_each_tensor(m, first_type, &t);
        wt = t == QMC_TYPE_F32 ? QMC_WRITE_F32 : QMC_WRITE_F16;
    }
    int rc = hf ? qmc_model_save_hf(m, out, wt) : qmc_model_save_gguf(m, out, wt);
    if (rc) {
        cli_fail("convert");
        qmc_model_free(m);
        return 1;
    }
    fprintf(stderr, "wrote %s (%s, %s)\n", out, hf ? "hf" : "gguf", wt == QMC_WRITE_F16 ? "f16" : "f32");
    qmc_model_free(m);
    return 0;
}
