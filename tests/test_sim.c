/* test_sim.c — the memory-system simulator: the paper's headline ratios
 * (against the paper and against hand arithmetic from spec section 5),
 * honest bits from a packed .qmc.gguf, model configs, latency/energy
 * equations, capacity and bad-input errors, DSE determinism and the U-shape,
 * Pareto front correctness, data files, CLI JSON/CSV/plots. */
#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "quant/qtensor.h"
#include "sim/sim.h"
#include "testutil.h"

#define N152 1520000000LL
#define MIB 1048576.0

static sim_datapath g_dp;
static sim_hw g_hw;

static int setup(void **state) {
    assert_int_equal(sim_datapath_init(&g_dp, tu_repo("data")), 0);
    if (sim_hw_load(&g_dp, "jetson-agx-orin", &g_hw)) {
        fprintf(stderr, "%s\n", qmc_errmsg());
        return -1;
    }
    return 0;
}

static void assert_rel(double got, double want, double tol, const char *what) {
    double rel = fabs(got / want - 1);
    if (!(rel <= tol)) {
        print_message("%s: got %.9g, want %.9g (relative error %.3g > %.3g)\n", what, got, want, rel, tol);
        fail();
    }
}

static double cells(const sim_result *r) {
    return r->cells[SIM_TIER_DRAM] + r->cells[SIM_TIER_MRAM] + r->cells[SIM_TIER_RERAM];
}

/* The paper's counting: 1.52e9 parameters, rho 0.3, 3-bit inliers, 5-bit outliers. */
static void paper_params(sim_params *p) {
    sim_params_default(p);
    p->kv_traffic = false;
    p->act_traffic = false;
}

static void test_paper_headline_numbers(void **state) {
    sim_workload w;
    assert_int_equal(sim_workload_params(N152, 2048, &w), 0);
    sim_params p;
    paper_params(&p);
    sim_result fp16, q3, q2;
    assert_int_equal(sim_run(&w, &g_hw, &p, SIM_ARCH_FP16_DRAM, &fp16), 0);
    assert_int_equal(sim_run(&w, &g_hw, &p, SIM_ARCH_QMC, &q3), 0);
    p.cell_bits = 2;
    assert_int_equal(sim_run(&w, &g_hw, &p, SIM_ARCH_QMC, &q2), 0);

    const double N = (double)N152;
    /* hand arithmetic, spec section 5 */
    const double h_cells3 = 16.0 / (0.7 * 1 + 0.3 * 5);     /* 7.27 */
    const double h_cells2 = 16.0 / (0.7 * 1.5 + 0.3 * 5);   /* 6.27 */
    const double h_offchip = 16.0 / (0.7 * 3);               /* 7.62 */
    const double h_energy = 16 * 3.5 / (0.7 * 3 * 1.56 + 0.3 * 5 * 1.0); /* 56 / 4.78 = 11.7 */
    const double h_reram = 0.7 * N * 3 / (30.1 * MIB);       /* 100.65 (Mbit = 2^20 bits) */
    const double h_nvm = h_reram + 0.3 * N * 5 / (66 * MIB);   /* 133.66 */

    double cells3 = cells(&fp16) / cells(&q3), cells2 = cells(&fp16) / cells(&q2);
    double offchip = fp16.tok_weight_offchip_bytes / q3.tok_weight_offchip_bytes;
    double energy = fp16.tok_weight_energy_dev_j / q3.tok_weight_energy_dev_j;
    double reram = q3.area_mm2[SIM_TIER_RERAM], nvm = q3.area_mm2[SIM_TIER_RERAM] + q3.area_mm2[SIM_TIER_MRAM];
    /* against the paper, within 1% */
    assert_rel(cells3, 7.27, 0.01, "cells 3-bit vs paper");
    assert_rel(cells2, 6.27, 0.01, "cells 2-bit vs paper");
    assert_rel(offchip, 7.62, 0.01, "off-chip weight traffic vs paper");
    assert_rel(energy, 11.7, 0.01, "weight-read energy vs paper");
    assert_rel(reram, 100.65, 0.01, "ReRAM area vs paper");
    assert_rel(nvm, 133.66, 0.01, "ReRAM+MRAM area vs paper");
    /* against the hand arithmetic, to rounding */
    assert_rel(cells3, h_cells3, 1e-12, "cells 3-bit vs hand");
    assert_rel(cells2, h_cells2, 1e-12, "cells 2-bit vs hand");
    assert_rel(offchip, h_offchip, 1e-12, "off-chip vs hand");
    assert_rel(energy, h_energy, 1e-12, "energy vs hand");
    assert_rel(reram, h_reram, 1e-12, "ReRAM area vs hand");
    assert_rel(nvm, h_nvm, 1e-12, "NVM area vs hand");
    /* on-package: only the MRAM outliers (UCIe chiplet) */
    assert_rel(q3.tok_weight_onpkg_bytes, 0.3 * N * 5 / 8, 1e-12, "on-package bytes");
    assert_true(fp16.tok_weight_onpkg_bytes == 0);

    /* the library's paper table agrees with the above */
    sim_paper_row rows[32];
    int n = 0;
    assert_int_equal(sim_paper_check(&w, &g_hw, &p, rows, 32, &n), 0);
    int seen = 0;
    for (int i = 0; i < n; i++) {
        if (strcmp(rows[i].key, "cells_vs_fp16_3bit") == 0) assert_rel(rows[i].ours, cells3, 1e-12, "row"), seen++;
        if (strcmp(rows[i].key, "cells_vs_fp16_2bit") == 0) assert_rel(rows[i].ours, cells2, 1e-12, "row"), seen++;
        if (strcmp(rows[i].key, "cells_vs_dram_flash_3bit") == 0) assert_rel(rows[i].ours, 14.54, 0.01, "14.54x"), seen++;
        if (strcmp(rows[i].key, "compression_vs_fp16") == 0) assert_rel(rows[i].ours, 4.44, 0.01, "4.44x"), seen++;
        if (strcmp(rows[i].key, "memory_vs_emems") == 0) assert_rel(rows[i].ours, 1.82, 0.01, "1.82x"), seen++;
        if (strcmp(rows[i].key, "implied_e_net_pj") == 0) assert_rel(rows[i].ours, (56 / 10.98 - (2.1 * 1.56 + 1.5)) / 3.6, 1e-9, "E_net"), seen++;
        if (!isnan(rows[i].hand) && !isnan(rows[i].ours) && strcmp(rows[i].key, "dram_flash_area_mm2") != 0 &&
            strcmp(rows[i].key, "net_area_mm2") != 0)
            assert_rel(rows[i].ours, rows[i].hand, 1e-9, rows[i].key);
    }
    assert_int_equal(seen, 6);
    sim_workload_free(&w);
}

/* T_final = max(T_mram, T_reram) + T_sync with T = t_access + s/b (+ t_queue). */
static void test_latency_equation(void **state) {
    sim_workload w;
    assert_int_equal(sim_workload_params(N152, 2048, &w), 0);
    sim_params p;
    paper_params(&p);
    p.prompt = 0;
    p.gen = 4;
    p.mram_channels = 4;
    p.reram_arrays = 100;
    p.t_queue_ns = 7;
    p.power_budget_w = 100;
    sim_result r;
    assert_int_equal(sim_run(&w, &g_hw, &p, SIM_ARCH_QMC, &r), 0);
    const double N = (double)N152, G = 1073741824.0;
    double bw_m = fmin(4 * 36.57 * G, 64e9 * 64 / 8), bw_r = fmin(100 * 1.8 * G, 3.3e9 * 512 / 8);
    double t_m = (3.5 + 2.0 + 7) * 1e-9 + 0.3 * N * 5 / 8 / bw_m;
    double t_r = (5.0 + 0.0 + 7) * 1e-9 + 0.7 * N * 3 / 8 / bw_r;
    double t_final = fmax(t_m, t_r) + 3 / 3.3e9;
    assert_rel(r.step_t_weights_s, t_final, 1e-12, "T_final");
    assert_rel(r.tok_latency_s, t_final, 1e-12, "decode step (memory-bound)");
    assert_rel(r.nvm_power_w, bw_m * 8 * (1.0 + 0.5) * 1e-12 + bw_r * 8 * (1.56 + 1.0) * 1e-12, 1e-12, "Eq. 4 power");
    /* FP16: one DRAM stream, t_access + bytes / bandwidth */
    sim_result f;
    assert_int_equal(sim_run(&w, &g_hw, &p, SIM_ARCH_FP16_DRAM, &f), 0);
    assert_rel(f.tok_latency_s, (1.7 + 7) * 1e-9 + 16 * N / 8 / 204.8e9, 1e-12, "FP16 step");
    /* energy: per-bit read energy + interconnect, DRAM background for the capacity in use */
    double e_w = 0.7 * N * 3 * (1.56 + 1.0) * 1e-12 + 0.3 * N * 5 * (1.0 + 0.5) * 1e-12;
    double p_static = 1.5e-3; /* CDC FIFOs; no DRAM in use for a weights-only workload */
    assert_rel(r.tok_energy_j, e_w + p_static * t_final, 1e-12, "QMC energy per token");
    double e_f = 16 * N * 3.5e-12, p_bg = 15e-3 * (16 * N / 8) / G;
    assert_rel(f.tok_energy_j, e_f + p_bg * f.tok_latency_s, 1e-12, "FP16 energy per token");
    sim_workload_free(&w);
}

/* Decode is memory-bound, a long prefill becomes compute-bound. */
static void test_roofline(void **state) {
    sim_workload w;
    assert_int_equal(sim_workload_load(&g_dp, "llama-3.2-3b", &w), 0);
    sim_params p;
    sim_params_default(&p);
    p.prompt = 2048;
    p.gen = 16;
    sim_result r;
    assert_int_equal(sim_run(&w, &g_hw, &p, SIM_ARCH_FP16_DRAM, &r), 0);
    assert_false(r.decode_compute_bound);
    assert_true(r.prefill_compute_bound);
    /* prefill time = FLOPs / peak when compute-bound: 2 x matmul weights x tokens + attention */
    double mm = 0;
    for (int i = 0; i < w.n_tensors; i++)
        if (w.tensors[i].matmul) mm += 2.0 * (double)w.tensors[i].nelem;
    double attn = 0; /* sum over positions 1..P of 2 heads (qk+v) ctx, 28 layers */
    for (int c = 1; c <= 2048; c++) attn += 28 * 2.0 * 24 * (128 + 128) * c;
    assert_rel(r.prefill_s, (mm * 2048 + attn) / 42.6e12, 1e-9, "prefill compute time");
    p.prompt = 8;
    assert_int_equal(sim_run(&w, &g_hw, &p, SIM_ARCH_FP16_DRAM, &r), 0);
    assert_false(r.prefill_compute_bound);
    sim_workload_free(&w);
}

/* ---- workloads from configs --------------------------------------------------------- */

static void test_configs(void **state) {
    sim_workload w;
    /* Hymba-1.5B, derived by hand from its config and modeling_hymba.py:
     * E = 3200; in_proj 1600 x (5760 + 3200) for the 17 layers that keep KV,
     * 1600 x (4800 + 3200) for the 15 that reuse it; per layer out_proj 3200x1600,
     * conv 3200x4 + 3200, x_proj 3200x132, dt_proj 100x3200 + 3200, A_log 3200x16,
     * D 3200, norms 2x3200 + 132 + 2x1600, MLP 3 x 1600x5504; embedding 32001x1600,
     * 128 meta tokens x 1600, final norm 1600. */
    int64_t common = 3200LL * 1600 + 3200 * 4 + 3200 + 3200 * 132 + 100 * 3200 + 3200 + 3200 * 16 + 3200 + 2 * 3200 +
                     132 + 2 * 1600 + 3LL * 1600 * 5504;
    int64_t hymba = 17 * (common + 1600LL * 8960) + 15 * (common + 1600LL * 8000) + 32001LL * 1600 + 128 * 1600 + 1600;
    assert_int_equal(sim_workload_load(&g_dp, "hymba-1.5b", &w), 0);
    assert_true(w.n_params == hymba);
    assert_true(w.n_params == 1522797824LL);
    int64_t kv = 0;
    int swa = 0, global = 0;
    for (int l = 0; l < w.n_layers; l++) {
        kv += w.layers[l].kv_elems;
        if (w.layers[l].window) swa++;
        else global++;
    }
    assert_true(kv == 17 * (320 + 640));
    assert_int_equal(global, 3);
    assert_int_equal(swa, 29);
    assert_int_equal(w.meta_tokens, 128);
    assert_int_equal(w.layers[2].kv_src, 1);
    assert_int_equal(w.layers[18].kv_src, 16);
    sim_workload_free(&w);
    /* published totals: Qwen2.5-1.5B 1,543,714,304; Llama-3.2-3B 3.21e9; Phi-1.5 1.42e9 (hand below) */
    assert_int_equal(sim_workload_load(&g_dp, "qwen2.5-1.5b", &w), 0);
    assert_true(w.n_params == 1543714304LL);
    sim_workload_free(&w);
    assert_int_equal(sim_workload_load(&g_dp, "llama-3.2-3b", &w), 0);
    int64_t llama = 28 * (2LL * 3072 * 3072 + 2LL * 3072 * 1024 + 3LL * 3072 * 8192 + 2 * 3072) + 128256LL * 3072 + 3072;
    assert_true(w.n_params == llama);
    assert_true(w.layers[0].kv_elems == 2 * 8 * 128);
    sim_workload_free(&w);
    assert_int_equal(sim_workload_load(&g_dp, "phi-1.5", &w), 0);
    int64_t phi = 24 * (4 * (2048LL * 2048 + 2048) + 2 * (2048LL * 8192) + 8192 + 2048 + 2 * 2048) + 2 * 51200LL * 2048 + 51200 +
                  2 * 2048;
    assert_true(w.n_params == phi);
    sim_workload_free(&w);
}

static void test_bad_configs(void **state) {
    sim_workload w;
    const char *bad[] = {
        "{\"model_type\": \"gpt2\", \"hidden_size\": 8}",
        "{\"model_type\": \"llama\", \"num_hidden_layers\": 2, \"num_attention_heads\": 2, \"vocab_size\": 10, \"intermediate_size\": 8}",
        "{\"model_type\": \"llama\", \"hidden_size\": -8, \"num_hidden_layers\": 2, \"num_attention_heads\": 2, \"vocab_size\": 10, \"intermediate_size\": 8}",
        "{\"model_type\": \"llama\", \"hidden_size\": 8, \"num_hidden_layers\": 2, \"num_attention_heads\": 3, \"num_key_value_heads\": 2, \"vocab_size\": 10, \"intermediate_size\": 8}",
        "[1, 2]",
        "{\"hidden_size\": 8}",
    };
    const char *expect[] = {"not modelled", "hidden_size", "hidden_size", "multiple", "not a JSON object", "model_type"};
    for (size_t i = 0; i < QMC_ARRAY_LEN(bad); i++) {
        assert_int_not_equal(sim_workload_from_hf_config(bad[i], "cfg.json", &w), 0);
        if (!strstr(qmc_errmsg(), expect[i]) || !strstr(qmc_errmsg(), "cfg.json")) {
            print_message("case %zu: %s\n", i, qmc_errmsg());
            fail();
        }
    }
    /* a Hugging Face directory, its config.json, or one of its safetensors files */
    const char *dir = tu_tmp("hfdir");
    char path[4200];
    mkdir(dir, 0755);
    snprintf(path, sizeof path, "%s/config.json", dir);
    char *text = NULL;
    assert_int_equal(qmc_read_file("data/configs/qwen2.5-1.5b.json", 1 << 20, &text, NULL), 0);
    assert_int_equal(qmc_write_file_atomic(path, text, strlen(text)), 0);
    qmc_free(text);
    const char *specs[] = {dir, path, tu_tmp("hfdir/model-00001-of-00002.safetensors")};
    for (size_t i = 0; i < QMC_ARRAY_LEN(specs); i++) {
        assert_int_equal(sim_workload_load(&g_dp, specs[i], &w), 0);
        assert_true(w.n_params == 1543714304LL);
        sim_workload_free(&w);
    }
    assert_int_not_equal(sim_workload_load(&g_dp, tu_tmp("elsewhere/x.safetensors"), &w), 0);
    assert_non_null(strstr(qmc_errmsg(), "no config.json beside it"));
    assert_int_not_equal(sim_workload_load(&g_dp, "no-such-model", &w), 0);
    assert_non_null(strstr(qmc_errmsg(), "presets: hymba-1.5b"));
}

/* ---- honest bits from a packed .qmc.gguf ------------------------------------------------ */

static void pack_tensor(qmc_tensor *t) {
    int64_t rows = qmc_tensor_rows(t), cols = qmc_tensor_cols(t), n = rows * cols, n_out = 0;
    for (int64_t i = 0; i < n; i++) n_out += i % 10 < 3;
    qmc_plane_fmt in = {3, QMC_ELEM_INT, 0, 0}, out = {5, QMC_ELEM_INT, 0, 0};
    qmc_qtensor *q = NULL;
    assert_int_equal(qmc_qt_alloc(rows, cols, in, out, n_out, &q), 0);
    for (int64_t i = 0; i < n; i++)
        if (i % 10 < 3) qmc_bits_put(qmc_qt_mut(q->mask), i, 1, 1);
    q->method = QMC_METHOD_QMC;
    q->rho = 0.3f;
    assert_int_equal(qmc_qt_finish(q), 0);
    qmc_tensor_release(t);
    t->type = QMC_TYPE_PACKED;
    t->q = q;
}

typedef struct {
    double reram_bytes, mram_bytes, plain_bytes, plain_elems, n_in, n_out;
} hand_sizes;

static int sum_sizes(qmc_model *m, qmc_tensor *t, int layer, void *user) {
    hand_sizes *h = user;
    if (t->type != QMC_TYPE_PACKED) {
        h->plain_bytes += (double)qmc_tensor_nelem(t) * qmc_type_size(t->type);
        h->plain_elems += (double)qmc_tensor_nelem(t);
        return 0;
    }
    int64_t rows = t->q->rows, n = rows * t->q->cols, no = t->q->n_out;
    h->reram_bytes += (double)qmc_bits_bytes(n - no, 3);
    h->mram_bytes += (double)(qmc_bits_bytes(n, 1) + qmc_bits_bytes(no, 5) + rows * 2 + rows * 2);
    h->n_in += (double)(n - no);
    h->n_out += (double)no;
    return 0;
}

static void test_honest_qmc_gguf(void **state) {
    tu_model_spec spec = {.arch = QMC_ARCH_LLAMA, .dim = 64, .hidden = 160, .layers = 2, .heads = 4, .kv_heads = 2,
                          .vocab = 300, .seq_len = 128};
    qmc_model *m = tu_random_model(&spec, 5);
    for (int l = 0; l < m->cfg.n_layers; l++) {
        qmc_layer *L = &m->layers[l];
        qmc_tensor *lin[] = {&L->wq, &L->wk, &L->wv, &L->wo, &L->w_gate, &L->w_up, &L->w_down};
        for (size_t i = 0; i < QMC_ARRAY_LEN(lin); i++) pack_tensor(lin[i]);
    }
    const char *path = tu_tmp("tiny.qmc.gguf");
    assert_int_equal(qmc_model_save_gguf(m, path, QMC_WRITE_KEEP), 0);
    hand_sizes h = {0};
    qmc_model_for_each_tensor(m, sum_sizes, &h);
    qmc_model_free(m);

    sim_workload w;
    assert_int_equal(sim_workload_load(&g_dp, path, &w), 0);
    assert_true(w.has_packed);
    assert_string_equal(w.source, "qmc.gguf");
    sim_params p;
    sim_params_default(&p);
    sim_result hon, nom;
    assert_int_equal(sim_run(&w, &g_hw, &p, SIM_ARCH_QMC, &hon), 0);
    /* honest: every stored byte; ReRAM = the inlier code plane, MRAM = the rest + plain tensors */
    assert_true(hon.weight_bits[SIM_TIER_RERAM] == 8 * h.reram_bytes);
    assert_true(hon.weight_bits[SIM_TIER_MRAM] == 8 * (h.mram_bytes + h.plain_bytes));
    p.honest = false;
    assert_int_equal(sim_run(&w, &g_hw, &p, SIM_ARCH_QMC, &nom), 0);
    assert_true(nom.weight_bits[SIM_TIER_RERAM] == 3 * h.n_in);
    assert_true(nom.weight_bits[SIM_TIER_MRAM] == 5 * h.n_out + 16 * h.plain_elems);
    assert_true(hon.bpw_stored > nom.bpw_stored);
    sim_workload_free(&w);

    /* the CLI reports the headline ratios with honest bits next to the nominal ones */
    char *out = NULL;
    int rc = tu_run(&out, "%s sim --paper -m '%s' --data-dir data --json", tu_qmc(), path);
    assert_int_equal(rc, 0);
    cJSON *o = cJSON_Parse(out);
    assert_non_null(o);
    cJSON *hn = cJSON_GetObjectItem(o, "honest"), *nn = cJSON_GetObjectItem(o, "nominal");
    assert_true(cJSON_IsArray(hn) && cJSON_IsArray(nn));
    double c_h = 0, c_n = 0;
    cJSON *it;
    cJSON_ArrayForEach(it, hn) if (strcmp(cJSON_GetObjectItem(it, "key")->valuestring, "cells_vs_fp16_3bit") == 0) c_h =
        cJSON_GetObjectItem(it, "ours")->valuedouble;
    cJSON_ArrayForEach(it, nn) if (strcmp(cJSON_GetObjectItem(it, "key")->valuestring, "cells_vs_fp16_3bit") == 0) c_n =
        cJSON_GetObjectItem(it, "ours")->valuedouble;
    assert_true(c_h > 0 && c_n > c_h);
    cJSON_Delete(o);
    free(out);
}

/* --format-overhead counts, for shapes alone, exactly what the packed format stores. */
static void test_format_overhead_matches_qtensor(void **state) {
    const int64_t rows = 96, cols = 2048, n = rows * cols, n_out = llround(0.3 * (double)n);
    qmc_plane_fmt in = {3, QMC_ELEM_INT, 0, 0}, out = {5, QMC_ELEM_INT, 0, 0};
    qmc_qtensor *q = NULL;
    assert_int_equal(qmc_qt_alloc(rows, cols, in, out, n_out, &q), 0);
    qmc_plane_sizes ps;
    qmc_qt_plane_sizes(q, &ps);
    qmc_qt_free(q);
    sim_workload w;
    assert_int_equal(sim_workload_params(n, cols, &w), 0);
    sim_params p;
    paper_params(&p);
    p.format_overhead = true;
    sim_result r;
    assert_int_equal(sim_run(&w, &g_hw, &p, SIM_ARCH_QMC, &r), 0);
    assert_true(r.weight_bits[SIM_TIER_RERAM] == 8.0 * (double)ps.in_codes);
    assert_true(r.weight_bits[SIM_TIER_MRAM] == 8.0 * (double)(ps.total - ps.in_codes));
    assert_rel(r.bpw_stored, 8.0 * (double)ps.total / (double)n, 1e-12, "honest bits per weight");
    sim_workload_free(&w);
}

/* ---- KV cache of a hybrid model -------------------------------------------------------- */

static void test_hymba_kv_traffic(void **state) {
    sim_workload w;
    assert_int_equal(sim_workload_load(&g_dp, "hymba-1.5b", &w), 0);
    sim_params p;
    sim_params_default(&p);
    p.prompt = 4000;
    p.gen = 1;
    p.act_traffic = false;
    sim_result r;
    assert_int_equal(sim_run(&w, &g_hw, &p, SIM_ARCH_QMC, &r), 0);
    /* the one decode token sees 4000 + 128 meta + itself; SWA layers see 1024 + 128 */
    double c = 4000 + 128 + 1, want = 0;
    for (int l = 0; l < 32; l++) {
        bool global = l == 0 || l == 15 || l == 31;
        want += (global ? c : 1024 + 128) * 960 * 2;
    }
    assert_rel(r.tok_kv_read_bytes, want, 1e-12, "Hymba KV read per token");
    assert_rel(r.tok_kv_write_bytes, 17 * 960 * 2, 1e-12, "Hymba KV write per token");
    assert_rel(r.tok_state_bytes, 2.0 * 32 * 3200 * (4 + 16) * 2, 1e-12, "SSM state per token");
    sim_workload_free(&w);
}

/* ---- calibration against measured reality -------------------------------------------- */

static void test_orin_nano_calibration(void **state) {
    sim_hw hw;
    assert_int_equal(sim_hw_load(&g_dp, "jetson-orin-nano", &hw), 0);
    assert_int_equal(hw.platform.n_calib, 1);
    const sim_calibration *k = &hw.platform.calib[0];
    assert_true(k->measured_decode_tok_s == 27.7);
    sim_workload w;
    assert_int_equal(sim_workload_load(&g_dp, k->config, &w), 0);
    sim_params p;
    sim_params_default(&p);
    p.int4 = SIM_INT4_MLC_Q4F16;
    p.prompt = 128;
    p.gen = 128;
    p.kv_traffic = p.act_traffic = false;
    sim_result r;
    assert_int_equal(sim_run(&w, &hw, &p, SIM_ARCH_INT4_DRAM, &r), 0);
    /* hand: every Llama-3.2-3B matrix row is a multiple of 32, so q4f16 = 4.5 bits; norms stay 16 */
    double small = 28 * 2 * 3072 + 3072, big = (double)w.n_params - small;
    double t = 28 * 1.7e-9 + 1.7e-9 + (4.5 * big + 16 * small) / 8 / 68e9;
    assert_rel(r.decode_tok_s, 1 / t, 1e-9, "Orin Nano INT4 tokens/s");
    double ratio = r.decode_tok_s / k->measured_decode_tok_s;
    print_message("Orin Nano Llama-3.2-3B INT4: predicted %.2f tok/s, measured %.1f, ratio %.3f\n", r.decode_tok_s,
                  k->measured_decode_tok_s, ratio);
    assert_true(ratio > 1.0 && ratio < 1.6); /* a peak-bandwidth model over-predicts, by a plausible margin */
    sim_workload_free(&w);
}

/* ---- bad input ----------------------------------------------------------------------------- */

static void test_capacity_errors(void **state) {
    sim_workload w;
    assert_int_equal(sim_workload_load(&g_dp, "llama-3.2-3b", &w), 0);
    sim_params p;
    sim_params_default(&p);
    sim_hw hw = g_hw;
    assert_int_equal(sim_hw_set(&hw, "platform.dram_capacity_gib=4"), 0);
    sim_result r;
    assert_int_equal(sim_run(&w, &hw, &p, SIM_ARCH_FP16_DRAM, &r), QMC_ERR_RANGE);
    assert_non_null(strstr(qmc_errmsg(), "fp16-dram: the workload needs 6.0"));
    assert_non_null(strstr(qmc_errmsg(), "has 4 GiB"));
    assert_int_equal(sim_run(&w, &hw, &p, SIM_ARCH_QMC, &r), 0); /* QMC keeps only the KV cache in DRAM */
    p.mram_capacity_mib = 64;
    assert_int_equal(sim_run(&w, &hw, &p, SIM_ARCH_QMC, &r), QMC_ERR_RANGE);
    assert_non_null(strstr(qmc_errmsg(), "MiB of mram but it is configured with 64.00 MiB"));
    p.mram_capacity_mib = 0;
    p.power_budget_w = 0.01;
    assert_int_equal(sim_run(&w, &hw, &p, SIM_ARCH_QMC, &r), QMC_ERR_RANGE);
    assert_non_null(strstr(qmc_errmsg(), "power budget of 0.010 W"));
    p.power_budget_w = 0;
    p.reram_arrays = 100000000;
    assert_int_not_equal(sim_run(&w, &hw, &p, SIM_ARCH_QMC, &r), 0);
    assert_non_null(strstr(qmc_errmsg(), "ReRAM arrays requested"));
    p.reram_arrays = 0;
    p.batch = 0;
    assert_int_equal(sim_run(&w, &hw, &p, SIM_ARCH_QMC, &r), QMC_ERR_ARG);
    sim_workload_free(&w);
}

static void test_bad_hardware_values(void **state) {
    sim_hw hw = g_hw;
    const char *bad[] = {"mram.read_bw_gib_s=0", "mram.read_bw_gib_s=-1", "platform.dram_bw_gb_s=0",
                         "ucie3.gt_s_per_io=-64", "reram-mlc3.density_mbit_per_mm2=0", "lpddr5.read_energy_pj_per_bit=-3",
                         "mram.bits_per_cell=0", "nosuch.read_bw_gib_s=1", "mram.nosuch=1", "mram.read_bw_gib_s=abc",
                         "mram=1"};
    for (size_t i = 0; i < QMC_ARRAY_LEN(bad); i++) {
        hw = g_hw;
        if (sim_hw_set(&hw, bad[i]) == 0) {
            print_message("accepted %s\n", bad[i]);
            fail();
        }
    }
    hw = g_hw;
    assert_int_equal(sim_hw_set(&hw, "mram.read_bw_gib_s=40,nvm-bus.energy_pj_per_bit=0.25"), 0);
    assert_true(hw.mram.read_bw_gib_s == 40 && hw.nvm_bus.energy_pj_per_bit == 0.25);
    assert_non_null(strstr(hw.mram.sources[1], "command line"));

    /* a data directory with a broken file: the error names the file and the field */
    const char *dir = tu_tmp("baddata");
    char path[4200];
    mkdir(dir, 0755);
    snprintf(path, sizeof path, "%s/tech", dir);
    mkdir(path, 0755);
    const char *cases[][2] = {
        {"{\"kind\":\"memory\",\"title\":\"x\",\"volatile\":false,\"bw_unit\":\"channel\",\"read_latency_ns\":1,\"read_bw_gib_s\":-5,"
         "\"read_energy_pj_per_bit\":1,\"density_mbit_per_mm2\":1,\"bits_per_cell\":1,\"sources\":{\"read_latency_ns\":\"a\","
         "\"read_bw_gib_s\":\"b\",\"read_energy_pj_per_bit\":\"c\",\"density_mbit_per_mm2\":\"d\",\"bits_per_cell\":\"e\"}}",
         "read_bw_gib_s = -5 is out of range"},
        {"{\"kind\":\"memory\",\"title\":\"x\",\"volatile\":false,\"bw_unit\":\"channel\",\"read_latency_ns\":1,\"read_bw_gib_s\":5,"
         "\"read_energy_pj_per_bit\":1,\"density_mbit_per_mm2\":1,\"bits_per_cell\":1,\"sources\":{}}",
         "has no entry in \"sources\""},
        {"{\"kind\":\"link\"}", "kind is \"link\", expected \"memory\""},
        {"{\"kind\":\"memory\"", "not valid JSON"},
    };
    snprintf(path, sizeof path, "%s/tech/mram.json", dir);
    for (size_t i = 0; i < QMC_ARRAY_LEN(cases); i++) {
        assert_int_equal(qmc_write_file_atomic(path, cases[i][0], strlen(cases[i][0])), 0);
        sim_datapath dp;
        assert_int_equal(sim_datapath_init(&dp, dir), 0);
        assert_int_not_equal(sim_hw_load(&dp, "jetson-agx-orin", &hw), 0);
        if (!strstr(qmc_errmsg(), cases[i][1]) || !strstr(qmc_errmsg(), "mram.json")) {
            print_message("case %zu: %s\n", i, qmc_errmsg());
            fail();
        }
    }
    assert_int_not_equal(sim_hw_load(&g_dp, "no-such-platform", &hw), 0);
    assert_non_null(strstr(qmc_errmsg(), "unknown platform 'no-such-platform' (known: jetson-agx-orin"));
    assert_int_not_equal(sim_hw_load(&g_dp, "../etc/passwd", &hw), 0);
    sim_datapath dp;
    assert_int_not_equal(sim_datapath_init(&dp, "/no/such/dir"), 0);
}

static void test_cli_errors(void **state) {
    struct {
        const char *args;
        const char *msg;
    } cases[] = {
        {"sim --params 1e9 -p nosuch", "unknown platform 'nosuch'"},
        {"sim --params 1e9 --dram-bw 0", "--dram-bw 0"},
        {"sim --params 1e9 --dram-bw -5", "--dram-bw -5"},
        {"sim --params 1e9 --power-budget -1", "--power-budget"},
        {"sim --params 1e9 --set mram.read_bw_gib_s=0", "read_bw_gib_s = 0 is out of range"},
        {"sim --params 1e9 --arch qmc,nosuch", "unknown architecture 'nosuch'"},
        {"sim -m nosuch-preset", "no such file, directory or model preset"},
        {"sim --params 0", "--params"},
        {"sim -m llama-3.2-3b -a fp16-dram --dram-gib 2", "needs"},
        {"sim", "no workload"},
        {"dse --params 1e9 --channels 5:2", "--channels"},
        {"dse --params 1e9 --rho-list 0.1,1.5", "not in [0, 1)"},
        {"dse --params 1e9 --design-rho 0.33", "not one of the explored"},
        {"sim --params 1e9 --int4 int3", "unknown format"},
    };
    for (size_t i = 0; i < QMC_ARRAY_LEN(cases); i++) {
        char *out = NULL;
        int rc = tu_run(&out, "%s %s --data-dir data", tu_qmc(), cases[i].args);
        bool one_line = out && strchr(out, '\n') == out + strlen(out) - 1;
        if (rc == 0 || !strstr(out, cases[i].msg) || !one_line || strncmp(out, "qmc ", 4) != 0) {
            print_message("qmc %s -> rc %d: %s\n", cases[i].args, rc, out);
            fail();
        }
        free(out);
    }
}

/* ---- design-space exploration ---------------------------------------------------------------- */

static void test_dse_determinism_and_size(void **state) {
    sim_workload w;
    assert_int_equal(sim_workload_load(&g_dp, "hymba-1.5b", &w), 0);
    sim_params p;
    sim_params_default(&p);
    double rhos[] = {0.1, 0.2, 0.3, 0.4, 0.5};
    sim_dse_space sp = {rhos, 5, 1, 16, 1, 160};
    sim_dse_point *a = NULL, *b = NULL;
    sim_dse_summary sa, sb;
    assert_int_equal(sim_dse_run(&w, &g_hw, &p, &sp, &a, &sa), 0);
    assert_int_equal(sim_dse_run(&w, &g_hw, &p, &sp, &b, &sb), 0);
    assert_true(sa.n_points == 5 * 16 * 160 && sa.n_points >= 10000);
    assert_memory_equal(a, b, (size_t)sa.n_points * sizeof *a);
    assert_true(sa.best == sb.best && sa.best >= 0);
    /* the best is feasible, within the budget, and no feasible point beats it */
    const sim_dse_point *best = &a[sa.best];
    assert_true(best->feasible && best->power_w < 5.7344 + 1e-9);
    for (int64_t i = 0; i < sa.n_points; i++)
        if (a[i].feasible) assert_false(a[i].latency_s < best->latency_s);
    /* sim_run's automatic choice at rho 0.3 is the DSE's best at rho 0.3 */
    sim_result r;
    assert_int_equal(sim_run(&w, &g_hw, &p, SIM_ARCH_QMC, &r), 0);
    const sim_dse_point *b3 = &a[sa.best_per_rho[2]];
    p.dse_max_arrays = 160;
    assert_int_equal(sim_run(&w, &g_hw, &p, SIM_ARCH_QMC, &r), 0);
    assert_int_equal(r.mram_channels, b3->mram_channels);
    assert_int_equal(r.reram_arrays, b3->reram_arrays);
    assert_rel(r.tok_latency_s, b3->latency_s, 1e-12, "sim vs dse latency");
    qmc_free(a);
    qmc_free(b);
    sim_workload_free(&w);
}

/* Fig. 3: with the hardware chosen at rho = 0.3, latency is U-shaped in rho
 * with its minimum at 0.3, ReRAM-bound below and MRAM-bound above. */
static void test_rho_u_shape(void **state) {
    sim_workload w;
    assert_int_equal(sim_workload_params(N152, 2048, &w), 0);
    sim_params p;
    sim_params_default(&p);
    double rhos[] = {0.1, 0.2, 0.3, 0.4, 0.5};
    sim_dse_space sp = {rhos, 5, 1, 16, 1, 256};
    sim_dse_point *pts = NULL;
    sim_dse_summary s;
    assert_int_equal(sim_dse_run(&w, &g_hw, &p, &sp, &pts, &s), 0);
    const sim_dse_point *d = &pts[s.best_per_rho[2]];
    const int64_t per = 16 * 256;
    double lat[5], en[5];
    for (int r = 0; r < 5; r++) {
        const sim_dse_point *f = &pts[r * per + (d->mram_channels - 1) * 256 + (d->reram_arrays - 1)];
        assert_true(f->mram_channels == d->mram_channels && f->reram_arrays == d->reram_arrays && f->rho == rhos[r]);
        lat[r] = f->latency_s;
        en[r] = f->energy_j;
        if (r < 2) assert_true(f->t_reram_s > f->t_mram_s);
        if (r > 2) assert_true(f->t_mram_s > f->t_reram_s);
    }
    assert_true(lat[0] > lat[1] && lat[1] > lat[2] && lat[2] < lat[3] && lat[3] < lat[4]);
    for (int r = 0; r < 5; r++) assert_rel(en[r], en[2], 0.02, "energy almost flat in rho");
    qmc_free(pts);
    sim_workload_free(&w);
}

/* The definition, quadratically: dominated by some feasible point, or
 * identical to a feasible point with a lower index. */
static bool brute_off_front(const sim_dse_point *pts, int64_t n, int64_t i) {
    for (int64_t j = 0; j < n; j++) {
        if (j == i || !pts[j].feasible) continue;
        const sim_dse_point *q = &pts[j], *p = &pts[i];
        if (q->latency_s <= p->latency_s && q->energy_j <= p->energy_j && q->area_mm2 <= p->area_mm2 &&
            (q->latency_s < p->latency_s || q->energy_j < p->energy_j || q->area_mm2 < p->area_mm2 || j < i))
            return true;
    }
    return false;
}

static void test_pareto(void **state) {
    /* hand-made: (latency, energy, area) */
    const double v[][3] = {
        {1, 5, 5}, /* 0 front: fastest */
        {2, 1, 9}, /* 1 front: least energy */
        {3, 3, 1}, /* 2 front: least area */
        {2, 5, 5}, /* 3 dominated by 0 */
        {3, 3, 2}, /* 4 dominated by 2 */
        {1, 5, 5}, /* 5 identical to 0: a duplicate, not marked */
        {0, 0, 0}, /* 6 would dominate all, but infeasible */
        {4, 4, 4}, /* 7 dominated by 2 */
        {2, 4, 4}, /* 8 front */
    };
    const bool want[] = {true, true, true, false, false, false, false, false, true};
    sim_dse_point pts[QMC_ARRAY_LEN(v)];
    memset(pts, 0, sizeof pts);
    for (size_t i = 0; i < QMC_ARRAY_LEN(v); i++) {
        pts[i].latency_s = v[i][0];
        pts[i].energy_j = v[i][1];
        pts[i].area_mm2 = v[i][2];
        pts[i].feasible = i != 6;
    }
    assert_int_equal(sim_pareto_mark(pts, (int64_t)QMC_ARRAY_LEN(v)), 4);
    for (size_t i = 0; i < QMC_ARRAY_LEN(v); i++) assert_int_equal(pts[i].pareto, want[i]);
    /* random sets with ties, against the quadratic definition */
    for (uint64_t trial = 0; trial < 20; trial++) {
        enum { N = 400 };
        sim_dse_point r[N];
        memset(r, 0, sizeof r);
        for (int i = 0; i < N; i++) {
            r[i].latency_s = (double)(qmc_rand_u64(trial, 3 * i) % 20);
            r[i].energy_j = (double)(qmc_rand_u64(trial, 3 * i + 1) % 20);
            r[i].area_mm2 = (double)(qmc_rand_u64(trial, 3 * i + 2) % 20);
            r[i].feasible = qmc_rand_u64(trial + 99, i) % 8 != 0;
        }
        int64_t count = sim_pareto_mark(r, N), c2 = 0;
        for (int i = 0; i < N; i++) {
            bool on = r[i].feasible && !brute_off_front(r, N, i);
            assert_int_equal(r[i].pareto, on);
            c2 += on;
        }
        assert_true(count == c2);
    }
}

/* ---- data files ------------------------------------------------------------------------------- */

static void test_embedded_matches_data(void **state) {
    int found = 0;
    for (int i = 0; i < sim_embedded_count; i++) {
        char path[512], *text = NULL;
        snprintf(path, sizeof path, "data/%s", sim_embedded_files[i].path);
        size_t len;
        assert_int_equal(qmc_read_file(path, 1 << 20, &text, &len), 0);
        if (strcmp(text, sim_embedded_files[i].text) != 0) {
            print_message("%s differs from its embedded copy: run scripts/embed-sim-data.sh\n", path);
            fail();
        }
        qmc_free(text);
        found++;
    }
    char *ls = NULL;
    tu_run(&ls, "ls data/tech/*.json data/platforms/*.json data/configs/*.json | wc -l");
    assert_int_equal(atoi(ls), found);
    free(ls);
    /* with no directory at all the embedded copies serve */
    sim_datapath none = {0};
    sim_hw hw;
    assert_int_equal(sim_hw_load(&none, "jetson-orin-nx", &hw), 0);
    assert_non_null(strstr(hw.platform.origin, "embedded:platforms/jetson-orin-nx.json"));
    assert_true(hw.platform.dram_bw_gb_s == 102.4);
}

static void test_data_search_order(void **state) {
    const char *dir = tu_tmp("mydata");
    char path[4200];
    mkdir(dir, 0755);
    snprintf(path, sizeof path, "%s/platforms", dir);
    mkdir(path, 0755);
    char *text = NULL;
    assert_int_equal(qmc_read_file("data/platforms/jetson-agx-orin.json", 1 << 20, &text, NULL), 0);
    char *hit = strstr(text, "204.8");
    assert_non_null(hit);
    memcpy(hit, "999.9", 5);
    snprintf(path, sizeof path, "%s/platforms/jetson-agx-orin.json", dir);
    assert_int_equal(qmc_write_file_atomic(path, text, strlen(text)), 0);
    qmc_free(text);
    sim_datapath dp;
    sim_hw hw;
    assert_int_equal(sim_datapath_init(&dp, dir), 0);
    assert_int_equal(sim_hw_load(&dp, "jetson-agx-orin", &hw), 0);
    assert_true(hw.platform.dram_bw_gb_s == 999.9);
    assert_string_equal(hw.platform.origin, path);
    assert_non_null(strstr(hw.mram.origin, "mram.json")); /* the rest from later entries */
    /* $QMC_DATA and running from another directory */
    char *out = NULL;
    char abs_qmc[4200];
    assert_non_null(realpath(tu_qmc(), abs_qmc));
    int rc = tu_run(&out, "cd / && QMC_DATA='%s' '%s' sim --params 1e9 -a fp16-dram --json", dir, abs_qmc);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "999.9"));
    free(out);
    rc = tu_run(&out, "cd / && '%s' sim --params 1e9 -a qmc --json", abs_qmc);
    assert_int_equal(rc, 0);
    cJSON *o = cJSON_Parse(out);
    assert_non_null(o);
    cJSON_Delete(o);
    free(out);
}

/* ---- CLI outputs ------------------------------------------------------------------------------ */

static int count_fields(const char *line) {
    int n = 1;
    bool q = false;
    for (const char *c = line; *c && *c != '\n'; c++) {
        if (*c == '"') q = !q;
        else if (*c == ',' && !q) n++;
    }
    return n;
}

static void check_csv(const char *path, int min_rows) {
    char *text = NULL;
    assert_int_equal(qmc_read_file(path, 1 << 26, &text, NULL), 0);
    int cols = count_fields(text), rows = 0;
    for (char *l = strchr(text, '\n'); l && l[1]; l = strchr(l + 1, '\n')) {
        assert_int_equal(count_fields(l + 1), cols);
        rows++;
    }
    assert_true(rows >= min_rows);
    qmc_free(text);
}

static void test_cli_json_csv_plots(void **state) {
    const char *csv = tu_tmp("sim.csv");
    char *out = NULL;
    int rc = tu_run(&out, "%s sim -m hymba-1.5b --data-dir data --json --csv '%s'", tu_qmc(), csv);
    assert_int_equal(rc, 0);
    cJSON *o = cJSON_Parse(out);
    assert_non_null(o);
    cJSON *res = cJSON_GetObjectItem(o, "results");
    assert_int_equal(cJSON_GetArraySize(res), 5);
    cJSON *q = cJSON_GetArrayItem(res, 4);
    assert_string_equal(cJSON_GetObjectItem(q, "arch")->valuestring, "qmc");
    assert_true(cJSON_GetObjectItem(cJSON_GetObjectItem(q, "per_token"), "latency_s")->valuedouble > 0);
    cJSON *src = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "hardware_data"), "memories"),
                                                         "mram"),
                                     "read_bw_gib_s");
    assert_non_null(strstr(cJSON_GetObjectItem(src, "source")->valuestring, "Table 1"));
    assert_true(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "ratios"), "qmc"), "memory_cells")->valuedouble > 6);
    cJSON_Delete(o);
    free(out);
    check_csv(csv, 5);

    const char *dcsv = tu_tmp("dse.csv"), *dcsv2 = tu_tmp("dse2.csv");
    rc = tu_run(&out, "%s dse --params 1.52e9 --data-dir data --json --csv '%s'", tu_qmc(), dcsv);
    assert_int_equal(rc, 0);
    o = cJSON_Parse(out);
    assert_non_null(o);
    cJSON *sm = cJSON_GetObjectItem(o, "summary");
    assert_true(cJSON_GetObjectItem(sm, "configurations")->valuedouble >= 10000);
    assert_true(cJSON_GetArraySize(cJSON_GetObjectItem(o, "pareto_front")) >= 1);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(o, "fixed_hardware_sweep")), 10);
    cJSON_Delete(o);
    free(out);
    check_csv(dcsv, 10000);
    /* deterministic: a second run writes the same bytes */
    assert_int_equal(tu_run(NULL, "%s dse --params 1.52e9 --data-dir data --csv '%s' >/dev/null", tu_qmc(), dcsv2), 0);
    assert_int_equal(tu_run(NULL, "cmp -s '%s' '%s'", dcsv, dcsv2), 0);
    /* text output */
    rc = tu_run(&out, "%s dse -m hymba-1.5b --data-dir data --rho-list 0.1:0.5:0.1", tu_qmc());
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "lowest latency: rho"));
    assert_non_null(strstr(out, "MRAM"));
    free(out);

    /* plots: real PNG + SVG when gnuplot is there; a clean skip when it is not */
    const char *pdir = tu_tmp("plots");
    mkdir(pdir, 0755);
    rc = tu_run(&out, "QMC_GNUPLOT=/nonexistent %s sim --params 1e9 --data-dir data --plot '%s'", tu_qmc(), pdir);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "plots skipped: gnuplot not found"));
    free(out);
    char png[4200];
    snprintf(png, sizeof png, "%s/energy_breakdown.png", pdir);
    assert_false(qmc_file_exists(png));
    if (tu_run(NULL, "command -v gnuplot >/dev/null") != 0) {
        print_message("skip: gnuplot not installed\n");
        return;
    }
    rc = tu_run(&out, "%s sim -m hymba-1.5b --data-dir data --plot '%s' > /dev/null && %s dse --params 1.52e9 --data-dir data "
                      "--rho-list 0.1:0.5:0.1 --plot '%s' >/dev/null",
                tu_qmc(), pdir, tu_qmc(), pdir);
    if (rc) print_message("%s\n", out);
    assert_int_equal(rc, 0);
    free(out);
    const char *files[] = {"energy_breakdown.png", "energy_breakdown.svg", "rho_sweep.png", "rho_sweep.svg", "pareto.png",
                           "pareto.svg"};
    for (size_t i = 0; i < QMC_ARRAY_LEN(files); i++) {
        char p[4200];
        snprintf(p, sizeof p, "%s/%s", pdir, files[i]);
        struct stat st;
        assert_int_equal(stat(p, &st), 0);
        assert_true(st.st_size > 1000);
        char head[8] = {0};
        FILE *f = fopen(p, "rb");
        assert_non_null(f);
        assert_true(fread(head, 1, 4, f) == 4);
        fclose(f);
        if (strstr(files[i], ".png")) assert_memory_equal(head, "\x89PNG", 4);
        else assert_true(head[0] == '<');
    }
}

int main(void) {
    tu_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paper_headline_numbers), cmocka_unit_test(test_latency_equation),
        cmocka_unit_test(test_roofline),               cmocka_unit_test(test_configs),
        cmocka_unit_test(test_bad_configs),            cmocka_unit_test(test_honest_qmc_gguf),
        cmocka_unit_test(test_format_overhead_matches_qtensor),
        cmocka_unit_test(test_hymba_kv_traffic),       cmocka_unit_test(test_orin_nano_calibration),
        cmocka_unit_test(test_capacity_errors),        cmocka_unit_test(test_bad_hardware_values),
        cmocka_unit_test(test_cli_errors),             cmocka_unit_test(test_dse_determinism_and_size),
        cmocka_unit_test(test_rho_u_shape),            cmocka_unit_test(test_pareto),
        cmocka_unit_test(test_embedded_matches_data),  cmocka_unit_test(test_data_search_order),
        cmocka_unit_test(test_cli_json_csv_plots),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
