/* traffic.c — what each prefill pass and decode step moves through LPDDR5
 * (KV cache, recurrent state, activations, and the weights of the DRAM
 * architectures) and how many FLOPs it computes; from these, the part of
 * each step's time that does not depend on the NVM unit counts. */
#include <math.h>
#include <string.h>

#include "sim/sim_internal.h"

void sim_traffic_free(sim_traffic *tr) {
    qmc_free(tr->f_dec);
    qmc_free(tr->f_prefix);
    qmc_free(tr->f_pre);
    qmc_free(tr->tok_pre);
    memset(tr, 0, sizeof *tr);
}

/* Tokens layer l attends when the cache holds c tokens (the current one
 * included): all of them, or the sliding window plus the meta tokens. */
static double attended(const sim_layer *l, int meta, double c) {
    return l->window > 0 ? fmin(c, (double)l->window + meta) : c;
}

/* sum of attended(c) for c = a+1 .. b */
static double attended_sum(const sim_layer *l, int meta, double a, double b) {
    if (b <= a) return 0;
    double cap = l->window > 0 ? (double)l->window + meta : INFINITY;
    double lo = a + 1, hi = b, s = 0;
    double m = fmin(hi, cap); /* c in [lo, m] contributes c */
    if (m >= lo) s += (lo + m) * (m - lo + 1) / 2;
    if (hi > cap) s += (hi - fmax(cap, lo - 1)) * cap;
    return s;
}

/* Per-token quantities of the workload, one sequence. */
typedef struct {
    double kv_wr_bits;      /* K/V written per token */
    double state_bits;      /* recurrent state, read once and written once per pass */
    double act_rd_bits, act_wr_bits;
    double mm_flops;        /* 2 x matmul weights */
    double scan_flops;
} per_token;

static per_token token_costs(const sim_workload *w, const sim_params *p) {
    per_token t = {0};
    for (int l = 0; l < w->n_layers; l++) {
        const sim_layer *L = &w->layers[l];
        if (p->kv_traffic) {
            t.kv_wr_bits += (double)L->kv_elems * p->kv_bits;
            t.state_bits += (double)L->state_elems * p->kv_bits;
        }
        if (p->act_traffic) {
            t.act_rd_bits += (double)L->act_in_elems * p->act_bits;
            t.act_wr_bits += (double)L->act_out_elems * p->act_bits;
        }
        t.scan_flops += (double)L->scan_flops;
    }
    for (int i = 0; i < w->n_tensors; i++)
        if (w->tensors[i].matmul) t.mm_flops += 2.0 * (double)w->tensors[i].nelem;
    return t;
}

/* KV bits read and attention FLOPs of queries at contexts a+1..b (one pass). */
static void attention(const sim_workload *w, const sim_params *p, double a, double b, bool one_pass, double *kv_rd_bits,
                      double *flops) {
    *kv_rd_bits = 0;
    *flops = 0;
    for (int l = 0; l < w->n_layers; l++) {
        const sim_layer *L = &w->layers[l];
        if (L->kv_src < 0) continue;
        const sim_layer *S = &w->layers[L->kv_src];
        double per_ctx = 2.0 * L->q_heads * (double)(L->qk_dim + L->v_dim);
        *flops += per_ctx * attended_sum(L, w->meta_tokens, a, b);
        /* the pass streams the cache it attends once (flash-attention style) */
        double ctx = one_pass ? attended(L, w->meta_tokens, b) : attended_sum(L, w->meta_tokens, a, b);
        if (p->kv_traffic) *kv_rd_bits += ctx * (double)S->kv_elems * p->kv_bits;
    }
}

int sim_traffic_build(sim_prep *pp) {
    sim_traffic *tr = &pp->tr;
    const sim_workload *w = pp->w;
    const sim_params *p = pp->p;
    memset(tr, 0, sizeof *tr);
    const double B = (double)p->batch;
    const double P = (double)(p->prompt > 0 ? p->prompt + w->meta_tokens : 0);
    const double U = p->ubatch > 0 ? (double)p->ubatch : (P > 0 ? P : 1);
    tr->n_dec = p->gen;
    tr->n_chunks = P > 0 ? (int64_t)ceil(P / U) : 0;
    tr->f_dec = qmc_alloc((size_t)tr->n_dec + 1, sizeof(double));
    tr->f_prefix = qmc_alloc((size_t)tr->n_dec + 1, sizeof(double));
    tr->f_pre = qmc_alloc((size_t)tr->n_chunks + 1, sizeof(double));
    tr->tok_pre = qmc_alloc((size_t)tr->n_chunks + 1, sizeof(double));
    if (!tr->f_dec || !tr->f_prefix || !tr->f_pre || !tr->tok_pre) {
        sim_traffic_free(tr);
        return QMC_ERR_NOMEM;
    }
    const per_token tc = token_costs(w, p);
    const bool dram_weights = pp->arch == SIM_ARCH_FP16_DRAM || pp->arch == SIM_ARCH_INT4_DRAM;
    const double w_step = dram_weights ? pp->lay.step_bits[SIM_TIER_DRAM] : 0;
    const double w_lookup = dram_weights ? pp->lay.lookup_bits[SIM_TIER_DRAM] : 0;
    const double bw_bits = pp->link_bw[SIM_TIER_DRAM] * 8.0 * p->dram_efficiency;
    const double n_fetch = (double)pp->lay.n_groups;
    const double flops_s = pp->hw->platform.peak_tflops_fp16 * 1e12;

    /* prefill: chunks of U tokens, weights once per chunk */
    for (int64_t j = 0; j < tr->n_chunks; j++) {
        double a = (double)j * U, b = fmin(P, a + U), u = b - a;
        double kv_rd, attn_flops;
        attention(w, p, a, b, true, &kv_rd, &attn_flops);
        double rd = w_step + B * (u * w_lookup + kv_rd + tc.state_bits + u * tc.act_rd_bits);
        double wr = B * (u * tc.kv_wr_bits + tc.state_bits + u * tc.act_wr_bits);
        double fl = B * (u * (tc.mm_flops + tc.scan_flops) + attn_flops);
        double t_dram = (rd + wr) > 0 ? n_fetch * pp->t_acc[SIM_TIER_DRAM] + (rd + wr) / bw_bits : 0;
        double t_comp = fl / flops_s;
        tr->f_pre[j] = fmax(t_dram, t_comp);
        tr->tok_pre[j] = B * u;
        if (j == 0) tr->t_dram_pre0 = t_dram, tr->t_comp_pre0 = t_comp;
        tr->rd_bits_pre += rd;
        tr->wr_bits_pre += wr;
        tr->tokens_pre += B * u;
    }
    /* decode: one token per sequence per step, the cache holds P + i before it */
    tr->monotonic = true;
    for (int64_t i = 0; i < tr->n_dec; i++) {
        double c = P + (double)i;
        double kv_rd, attn_flops;
        attention(w, p, c, c + 1, false, &kv_rd, &attn_flops);
        double rd = w_step + B * (w_lookup + kv_rd + tc.state_bits + tc.act_rd_bits);
        double wr = B * (tc.kv_wr_bits + tc.state_bits + tc.act_wr_bits);
        double fl = B * (tc.mm_flops + tc.scan_flops + attn_flops);
        double t_dram = (rd + wr) > 0 ? n_fetch * pp->t_acc[SIM_TIER_DRAM] + (rd + wr) / bw_bits : 0;
        double t_comp = fl / flops_s;
        tr->f_dec[i] = fmax(t_dram, t_comp);
        tr->f_prefix[i + 1] = tr->f_prefix[i] + tr->f_dec[i];
        if (i > 0 && tr->f_dec[i] < tr->f_dec[i - 1]) tr->monotonic = false;
        if (i == 0) tr->t_dram0 = t_dram, tr->t_comp0 = t_comp;
        tr->rd_bits_dec += rd;
        tr->wr_bits_dec += wr;
        tr->kv_rd_dec += B * kv_rd / 8;
        tr->kv_wr_dec += B * tc.kv_wr_bits / 8;
        tr->act_dec += B * (tc.act_rd_bits + tc.act_wr_bits) / 8;
        tr->state_dec += B * 2 * tc.state_bits / 8;
        tr->tokens_dec += B;
    }
    /* capacity: the cache at the longest context, the state, one pass of activations */
    const double ctx_max = P + (double)tr->n_dec;
    double kv_max = 0, state = 0, act_peak = 0;
    for (int l = 0; l < w->n_layers; l++) {
        const sim_layer *L = &w->layers[l];
        kv_max += attended(L, w->meta_tokens, ctx_max) * (double)L->kv_elems * p->kv_bits / 8;
        state += (double)L->state_elems * p->kv_bits / 8;
        act_peak = fmax(act_peak, (double)L->act_peak_elems * p->act_bits / 8);
    }
    pp->kv_max_bytes = B * kv_max;
    pp->state_bytes = B * state;
    pp->act_buf_bytes = B * fmin(U, fmax(P, 1)) * act_peak;
    return QMC_OK;
}
