/* sim_internal.h — the prepared state the cost model evaluates: built once
 * per (workload, architecture, rho), then evaluated for any number of unit
 * counts (MRAM channels, ReRAM arrays) without allocating. */
#ifndef QMC_SIM_INTERNAL_H
#define QMC_SIM_INTERNAL_H

#include "sim/sim.h"

#define SIM_GIB 1073741824.0
#define SIM_MBIT 1048576.0

/* Where the weights live and what one step reads. */
typedef struct {
    int n_groups;                       /* fetch groups: one per block + one for the rest */
    double *fixed_bits;                 /* [n_groups][SIM_TIER_COUNT] weight bits read per step */
    double lookup_bits[SIM_TIER_COUNT]; /* embedding-row bits read per token (last group) */
    double store_bits[SIM_TIER_COUNT];  /* stored weight bits (FLASH: the storage copy) */
    double nominal_bits;                /* the paper's count of all weights */
    double step_bits[SIM_TIER_COUNT];   /* sum of fixed_bits over groups */
} sim_layout;

/* DRAM traffic and compute of every step; weights are included for the
 * architectures that keep them in DRAM. */
typedef struct {
    int64_t n_dec;          /* decode steps (= generated tokens) */
    int64_t n_chunks;       /* prefill passes */
    double *f_dec;          /* [n_dec] max(T_dram, T_compute) of decode step i */
    double *f_prefix;       /* [n_dec + 1] prefix sums of f_dec */
    double *f_pre;          /* [n_chunks] same for prefill chunks */
    double *tok_pre;        /* [n_chunks] tokens of each chunk (all sequences) */
    bool monotonic;         /* f_dec nondecreasing (binary search allowed) */
    double t_dram0, t_comp0;            /* first decode step */
    double t_dram_pre0, t_comp_pre0;    /* first prefill chunk */
    /* totals (bits) of the phases; DRAM reads include weights when they live there */
    double rd_bits_dec, wr_bits_dec, rd_bits_pre, wr_bits_pre;
    double kv_rd_dec, kv_wr_dec, act_dec, state_dec; /* bytes over the decode phase */
    double tokens_dec, tokens_pre;      /* tokens processed (all sequences) */
} sim_traffic;

typedef struct {
    sim_arch arch;
    double rho;
    const sim_workload *w;
    const sim_hw *hw;
    const sim_params *p;
    sim_layout lay;
    sim_traffic tr;
    const sim_memory_tech *tech[SIM_TIER_COUNT];
    bool on_package[SIM_TIER_COUNT];
    double e_link_pj[SIM_TIER_COUNT];   /* interconnect energy per bit of each tier */
    double link_bw[SIM_TIER_COUNT];     /* link bandwidth cap, bytes/s (0: none) */
    double t_acc[SIM_TIER_COUNT];       /* per fetch: device + link latency + queueing, s */
    double t_sync;                      /* per group fetched from two tiers, s */
    double unit_bw[SIM_TIER_COUNT];     /* bytes/s per channel (MRAM) or array (ReRAM) */
    double max_units[SIM_TIER_COUNT];   /* arrays that exist (ReRAM); 0: no limit */
    /* capacity, bytes */
    double kv_max_bytes, state_bytes, act_buf_bytes, dram_need_bytes;
    /* power and energy not depending on the unit counts */
    double p_static_w;                  /* DRAM background + CDC FIFOs */
    double power_budget_w;
    double e_wread_dev_dec, e_wread_net_dec, e_wread_dev_pre, e_wread_net_pre; /* weight reads (any tier), J */
    double e_nvm_dec, e_nvm_pre;        /* NVM weight reads incl. interconnect, J */
    double e_dram_rd_dec, e_dram_wr_dec, e_dram_rd_pre, e_dram_wr_pre;         /* DRAM KV/act (+weights), J */
    double e_read_tier[SIM_TIER_COUNT];  /* whole run, device read energy per tier (J) */
} sim_prep;

/* Time and power of one unit configuration. */
typedef struct {
    double bw[SIM_TIER_COUNT];
    double power_w;
    double tw_dec;          /* NVM weight fetch per decode step */
    double t_tier[SIM_TIER_COUNT], t_sync_total;
    double decode_s, prefill_s;
    bool prefill_compute_bound, decode_compute_bound;
} sim_eval;

int  sim_prep_build(const sim_workload *w, const sim_hw *hw, const sim_params *p, sim_arch arch, double rho,
                    sim_prep *pp);
void sim_prep_free(sim_prep *pp);
/* Evaluate unit counts; with_prefill false skips the prefill phase. */
void sim_prep_eval(const sim_prep *pp, int mram_channels, int reram_arrays, bool with_prefill, sim_eval *e);
/* Energies of a finished evaluation. */
double sim_prep_decode_energy(const sim_prep *pp, const sim_eval *e);
double sim_prep_prefill_energy(const sim_prep *pp, const sim_eval *e);
/* Weight area (mm^2) of the NVM tiers. */
double sim_prep_nvm_area(const sim_prep *pp);
/* Which unit counts the architecture uses. */
bool sim_arch_uses_mram_units(sim_arch a);
bool sim_arch_uses_reram_units(sim_arch a);

int  sim_layout_build(const sim_workload *w, const sim_hw *hw, const sim_params *p, sim_arch arch, double rho,
                      sim_layout *lay);
void sim_layout_free(sim_layout *lay);
int  sim_traffic_build(sim_prep *pp);
void sim_traffic_free(sim_traffic *tr);

#endif
