/* layout.c — where each architecture stores every weight, how many bits that
 * takes (nominal or as actually stored), and what one step reads. */
#include <math.h>
#include <string.h>

#include "quant/qtensor.h"
#include "sim/sim_internal.h"

static const char *k_arch_names[SIM_ARCH_COUNT] = {"fp16-dram", "int4-dram", "emems-mram", "emems-reram", "qmc"};
static const char *k_int4_names[SIM_INT4_COUNT] = {"nominal", "rtn", "g128", "mxint4", "mlc-q4f16"};
static const char *k_tier_names[SIM_TIER_COUNT] = {"dram", "mram", "reram", "flash"};

const char *sim_arch_name(sim_arch a) { return (unsigned)a < SIM_ARCH_COUNT ? k_arch_names[a] : "?"; }
int sim_arch_from_name(const char *s) {
    for (int i = 0; i < SIM_ARCH_COUNT; i++)
        if (strcmp(s, k_arch_names[i]) == 0) return i;
    return -1;
}
const char *sim_int4_name(sim_int4_format f) { return (unsigned)f < SIM_INT4_COUNT ? k_int4_names[f] : "?"; }
int sim_int4_from_name(const char *s) {
    for (int i = 0; i < SIM_INT4_COUNT; i++)
        if (strcmp(s, k_int4_names[i]) == 0) return i;
    return -1;
}
const char *sim_tier_name(sim_tier t) { return (unsigned)t < SIM_TIER_COUNT ? k_tier_names[t] : "?"; }

/* Bits per weight of a 4-bit format with its scales, rows of `cols`. */
double sim_int4_bits(sim_int4_format f, int64_t cols) {
    if (cols <= 0) cols = 1;
    double c = (double)cols;
    switch (f) {
    case SIM_INT4_NOMINAL: return 4.0;
    case SIM_INT4_RTN: return 4.0 + 16.0 / c;
    case SIM_INT4_G128: return 4.0 + 20.0 * ceil(c / 128.0) / c;
    case SIM_INT4_MXINT4: return 4.0 + 8.0 * ceil(c / 32.0) / c;
    case SIM_INT4_MLC_Q4F16: return 4.0 + 16.0 * ceil(c / 32.0) / c;
    default: return NAN;
    }
}

bool sim_arch_uses_mram_units(sim_arch a) { return a == SIM_ARCH_QMC || a == SIM_ARCH_EMEMS_MRAM; }
bool sim_arch_uses_reram_units(sim_arch a) { return a == SIM_ARCH_QMC || a == SIM_ARCH_EMEMS_RERAM; }

void sim_layout_free(sim_layout *lay) {
    qmc_free(lay->fixed_bits);
    memset(lay, 0, sizeof *lay);
}

/* Add `bits` stored in tier k to the layout; what one step reads follows
 * the class: everything once per step, except untied embedding tables, of
 * which a token reads one row. */
static void place(sim_layout *lay, const sim_tensor *t, int group, sim_tier k, double bits) {
    lay->store_bits[k] += bits;
    if (t->cls == SIM_W_EMBED) {
        double rows = (double)t->nelem / (double)(t->cols > 0 ? t->cols : 1);
        lay->lookup_bits[k] += bits / (rows > 0 ? rows : 1);
    } else {
        lay->fixed_bits[(size_t)group * SIM_TIER_COUNT + k] += bits;
    }
}

int sim_layout_build(const sim_workload *w, const sim_hw *hw, const sim_params *p, sim_arch arch, double rho,
                     sim_layout *lay) {
    memset(lay, 0, sizeof *lay);
    lay->n_groups = w->n_layers + 1;
    lay->fixed_bits = qmc_alloc((size_t)lay->n_groups * SIM_TIER_COUNT, sizeof(double));
    if (!lay->fixed_bits) return QMC_ERR_NOMEM;
    const bool honest = p->honest;
    for (int i = 0; i < w->n_tensors; i++) {
        const sim_tensor *t = &w->tensors[i];
        const int g = (t->layer >= 0 && t->layer < w->n_layers) ? t->layer : w->n_layers;
        const double n = (double)t->nelem;
        const bool small = t->cls == SIM_W_SMALL;
        const bool embed_like = t->cls == SIM_W_EMBED || t->cls == SIM_W_TIED || t->cls == SIM_W_HEAD;
        const bool embed_override = embed_like && p->embed_bits > 0 && arch != SIM_ARCH_FP16_DRAM;
        /* the paper's count: quantized weights at their nominal bits, the rest at 16 */
        /* plain (unquantized) weights inside a packed file stay as they are, on the reliable tier */
        const bool plain_in_packed = arch == SIM_ARCH_QMC && w->has_packed && !t->packed;
        double nominal;
        if (small || plain_in_packed) nominal = 16.0 * n;
        else if (t->packed && arch == SIM_ARCH_QMC)
            nominal = (n - (double)t->n_out) * t->in_bits + (double)t->n_out * t->out_bits;
        else if (embed_override) nominal = p->embed_bits * n;
        else switch (arch) {
            case SIM_ARCH_FP16_DRAM: nominal = 16.0 * n; break;
            case SIM_ARCH_INT4_DRAM: nominal = sim_int4_bits(p->int4, t->cols) * n; break;
            case SIM_ARCH_EMEMS_MRAM:
            case SIM_ARCH_EMEMS_RERAM: nominal = p->emems_bits * n; break;
            default: nominal = ((1.0 - rho) * p->inlier_bits + rho * p->outlier_bits) * n; break;
            }
        lay->nominal_bits += nominal;
        switch (arch) {
        case SIM_ARCH_FP16_DRAM:
        case SIM_ARCH_INT4_DRAM:
            place(lay, t, g, SIM_TIER_DRAM, nominal);
            lay->store_bits[SIM_TIER_FLASH] += nominal;
            break;
        case SIM_ARCH_EMEMS_MRAM: place(lay, t, g, SIM_TIER_MRAM, nominal); break;
        case SIM_ARCH_EMEMS_RERAM: place(lay, t, g, SIM_TIER_RERAM, nominal); break;
        default: /* qmc */
            if (small || embed_override || plain_in_packed) {
                place(lay, t, g, SIM_TIER_MRAM, honest && w->has_packed && t->stored_bytes ? 8.0 * (double)t->stored_bytes : nominal);
            } else if (t->packed) {
                if (honest) {
                    place(lay, t, g, SIM_TIER_RERAM, 8.0 * (double)t->reram_bytes);
                    place(lay, t, g, SIM_TIER_MRAM, 8.0 * (double)t->mram_bytes);
                } else {
                    place(lay, t, g, SIM_TIER_RERAM, (n - (double)t->n_out) * t->in_bits);
                    place(lay, t, g, SIM_TIER_MRAM, (double)t->n_out * t->out_bits);
                }
            } else if (p->format_overhead) {
                /* what qtensor.h would store for this shape: code planes, outlier
                 * bitmap, per-row F16 scales of both planes (stream padding included) */
                const int64_t n_out = llround(rho * n), rows = t->cols > 0 ? (t->nelem + t->cols - 1) / t->cols : 1;
                place(lay, t, g, SIM_TIER_RERAM, 8.0 * (double)qmc_bits_bytes(t->nelem - n_out, p->inlier_bits));
                double mram = (double)(n_out > 0 ? qmc_bits_bytes(t->nelem, 1) + qmc_bits_bytes(n_out, p->outlier_bits) + 2 * rows : 0);
                place(lay, t, g, SIM_TIER_MRAM, 8.0 * (mram + 2.0 * (double)rows));
            } else {
                place(lay, t, g, SIM_TIER_RERAM, (1.0 - rho) * p->inlier_bits * n);
                place(lay, t, g, SIM_TIER_MRAM, rho * p->outlier_bits * n);
            }
            break;
        }
    }
    for (int g = 0; g < lay->n_groups; g++)
        for (int k = 0; k < SIM_TIER_COUNT; k++) lay->step_bits[k] += lay->fixed_bits[(size_t)g * SIM_TIER_COUNT + k];
    (void)hw;
    return QMC_OK;
}
