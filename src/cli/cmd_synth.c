/* cmd_synth.c — qmc synth: random heavy-tailed weights with a real model's shapes. */
#include <string.h>

#include "cli/cli.h"
#include "model/synth.h"

static const cli_opt k_opts[] = {
    {"shape", 0, "NAME", "model shape (see --list)"},
    {"output", 'o', "OUT", "output GGUF file"},
    {"outtype", 0, "TYPE", "f32 (default) or f16"},
    {"seed", 's', "N", "random seed (default 1)"},
    {"layers", 0, "N", "keep only the first N blocks (quick experiments)"},
    {"list", 0, NULL, "list the known shapes"},
    {0},
};

static const cli_command_info k_info = {
    "synth", "qmc synth --shape NAME -o OUT.gguf [--outtype f32|f16] [--seed N]",
    "Write a GGUF model with the exact shapes of a real small language model and random weights.",
    "Weights: per tensor Student-t with 3..8 degrees of freedom (varying by layer and kind), std\n"
    "1/sqrt(fan_in) growing 1x..1.5x with depth, 1% of input columns scaled 4-8x (outlier channels);\n"
    "norms 1 + N(0, 0.05); a byte-fallback vocabulary padded to the real vocabulary size.  The same seed\n"
    "gives the same file on any machine and thread count.",
    k_opts};

int cmd_synth(int argc, char **argv) {
    cli_args a;
    int prc = cli_parse(&k_info, argc, argv, &a);
    if (prc) return prc == 1 ? 0 : 2;
    if (cli_flag(&a, "list")) {
        for (const qmc_synth_shape *s = qmc_synth_shapes; s->name; s++) {
            qmc_model tmp;
            memset(&tmp, 0, sizeof tmp);
            const qmc_config *c = &s->cfg;
            int64_t qd = (int64_t)c->n_heads * c->head_dim, kvd = (int64_t)c->n_kv_heads * c->head_dim;
            int64_t per = (int64_t)c->dim * (2 * qd + 2 * kvd) + 3LL * c->dim * c->hidden_dim + 2LL * c->dim;
            int64_t n = per * c->n_layers + (int64_t)c->vocab_size * c->dim * (c->tied_output ? 1 : 2) + c->dim;
            printf("%-14s %6.3fB params  dim %d, hidden %d, %d layers, %d/%d heads, vocab %d  (%s)\n", s->name,
                   (double)n / 1e9, c->dim, c->hidden_dim, c->n_layers, c->n_heads, c->n_kv_heads, c->vocab_size,
                   s->source);
        }
        return 0;
    }
    const char *name = cli_get(&a, "shape"), *out = cli_get(&a, "output"), *ot = cli_get(&a, "outtype");
    if (!name) return cli_error("synth", "no shape given (--shape NAME; --list shows them)");
    if (!out) return cli_error("synth", "no output given (-o OUT.gguf)");
    const qmc_synth_shape *s = qmc_synth_find(name);
    if (!s) return cli_error("synth", "unknown shape '%s' (--list shows the known ones)", name);
    if (ot && strcmp(ot, "f32") != 0 && strcmp(ot, "f16") != 0)
        return cli_error("synth", "--outtype must be f32 or f16, not '%s'", ot);
    int64_t seed, layers;
    if (!cli_int(&a, "seed", 0, INT64_MAX, 1, &seed) || !cli_int(&a, "layers", 1, 4096, 0, &layers)) return 2;
    qmc_synth_opts o = {(uint64_t)seed, ot && strcmp(ot, "f16") == 0 ? QMC_WRITE_F16 : QMC_WRITE_F32, (int)layers, true};
    if (qmc_synth_write(s, &o, out)) return cli_fail("synth");
    return 0;
}
