/* main.c — the qmc command-line tool: dispatch to subcommands. */
#include <string.h>

#include "cli/cli.h"

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command k_commands[] = {
    {"generate", cmd_generate, "generate text from a prompt"},
    {"ppl", cmd_ppl, "perplexity of a text file (llama.cpp or full protocol), KL vs a base model"},
    {"eval", cmd_eval, "zero-shot tasks (HellaSwag, ARC, BoolQ, ...) scored as lm-evaluation-harness"},
    {"convert", cmd_convert, "write any supported model as GGUF (F32 or F16)"},
    {"synth", cmd_synth, "write a model with random heavy-tailed weights and a real model's shapes"},
    {"tokenize", cmd_tokenize, "print the token ids of a text"},
    {"info", cmd_info, "print a model's hyperparameters and tensors"},
    {"bench", cmd_bench, "prefill and decode speed, achieved weight-read bandwidth"},
    {"sim", cmd_sim, "simulate the memory system (FP16/INT4 LPDDR5, eMEMs, QMC ReRAM+MRAM): bytes, energy, latency, area"},
    {"dse", cmd_dse, "design-space exploration of the QMC memory system: channels x arrays x rho, Pareto front"},
    {"quantize", cmd_quantize, "quantize a model (QMC, RTN, MXINT4, MXFP4) into a packed .qmc.gguf"},
    {"inspect", cmd_inspect, "per-tensor planes, bits per weight and errors of a packed .qmc.gguf"},
    {"device", cmd_device, "list device profiles, or show one's confusion matrix, misread rates and p_minus/p_plus"},
    {"noise", cmd_noise, "Monte-Carlo perplexity of a packed model under ReRAM/MRAM device noise"},
    {"study", cmd_study, "run a grid of methods x noise x tasks and write the paper-style tables and figures"},
};

static void usage(FILE *fp) {
    fprintf(fp, "usage: qmc COMMAND [options]   (qmc COMMAND --help for details)\n\n"
                "qmc %s — outlier-aware quantization of small language models for MRAM + MLC ReRAM,\n"
                "with an inference engine, device-noise evaluation and a memory-system simulator.\n\ncommands:\n",
            QMC_VERSION_STRING);
    for (size_t i = 0; i < QMC_ARRAY_LEN(k_commands); i++)
        fprintf(fp, "  %-10s %s\n", k_commands[i].name, k_commands[i].summary);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("qmc %s\n", QMC_VERSION_STRING);
        return 0;
    }
    for (size_t i = 0; i < QMC_ARRAY_LEN(k_commands); i++)
        if (strcmp(argv[1], k_commands[i].name) == 0) return k_commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "qmc: unknown command '%s' (see qmc --help)\n", argv[1]);
    return 2;
}
