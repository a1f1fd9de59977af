/* cmd_sim.c — qmc sim: the memory-system simulator (one workload, one or
 * more architectures), the paper's headline numbers, the calibration check. */
#include <math.h>
#include <string.h>

#include "cli/json.h"
#include "cli/sim_common.h"

static const cli_opt k_opts[] = {
    SIM_CLI_OPTS,
    {"arch", 'a', "LIST", "architectures, comma-separated: fp16-dram, int4-dram, emems-mram, emems-reram, qmc (default: all)"},
    {"vs", 0, "ARCH", "baseline of the ratios (default fp16-dram)"},
    {"mram-channels", 0, "N", "MRAM channels (default: chosen by design-space exploration)"},
    {"reram-arrays", 0, "N", "concurrently read ReRAM arrays (default: chosen by design-space exploration)"},
    {"mram-mib", 0, "MIB", "MRAM capacity; the workload must fit (default: sized to the weights)"},
    {"reram-mib", 0, "MIB", "ReRAM capacity; the workload must fit (default: sized to the weights)"},
    {"paper", 0, NULL, "the paper's headline numbers (default workload --params 1.52e9), nominal and honest"},
    {"calibrate", 0, NULL, "predict the platform's measured reference points (data/platforms/*.json)"},
    {"list", 0, NULL, "print every technology and platform value with its source"},
    {0},
};

static const cli_command_info k_info = {
    "sim",
    "qmc sim (-m SPEC | --params N) [-a ARCHS] [-p PLATFORM] [options] [--json | --csv FILE] [--plot DIR]\n"
    "       qmc sim --paper [-m SPEC | --params N]     qmc sim --calibrate -p PLATFORM     qmc sim --list",
    "Simulate the memory system of an edge LLM: FP16/INT4 in LPDDR5, eMEMs, or QMC (MLC ReRAM + MRAM + LPDDR5).",
    "Per tier and per token: bytes moved (on-package vs off-chip), read energy (device + interconnect), DRAM\n"
    "background power for the capacity in use, and latency with the paper's concurrency rule\n"
    "T_final = max(T_mram, T_reram) + T_sync (T = t_access + size/bandwidth + t_queue) under a compute roofline;\n"
    "prefill and decode separately; memory cells and silicon area per tier; capacity checks.  Unit counts not\n"
    "given are chosen by design-space exploration (lowest latency within the power budget, see qmc dse).\n"
    "Every equation and default, with its source: docs/simulator.md.",
    k_opts};

/* ---- modes ------------------------------------------------------------------------- */

/* One line per value: "  name.field = value unit   [source]". */
static void print_values(const char *name, const cJSON *tech) {
    const cJSON *title = cJSON_GetObjectItem(tech, "title"), *origin = cJSON_GetObjectItem(tech, "origin");
    printf("%s: %s\n  (%s)\n", name, cJSON_IsString(title) ? title->valuestring : "",
           cJSON_IsString(origin) ? origin->valuestring : "");
    const cJSON *f;
    cJSON_ArrayForEach(f, tech) {
        const cJSON *v = cJSON_GetObjectItem(f, "value"), *u = cJSON_GetObjectItem(f, "unit"), *src = cJSON_GetObjectItem(f, "source");
        if (!cJSON_IsObject(f) || !cJSON_IsNumber(v)) continue;
        char lhs[96];
        snprintf(lhs, sizeof lhs, "%s.%s", name, f->string);
        printf("  %-40s %12.6g  %-26s %s\n", lhs, v->valuedouble, cJSON_IsString(u) ? u->valuestring : "",
               cJSON_IsString(src) ? src->valuestring : "");
    }
}

static void print_listing(const cJSON *o) {
    const cJSON *pl = cJSON_GetObjectItem(o, "platform"), *it;
    print_values("platform", pl);
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(o, "memories")) print_values(it->string, it);
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(o, "links")) print_values(it->string, it);
    const cJSON *av = cJSON_GetObjectItem(o, "available");
    cJSON_ArrayForEach(it, av) printf("available %s: %s\n", it->string, cJSON_IsString(it) ? it->valuestring : "");
    printf("data search path:");
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(o, "data_search_path")) printf(" %s", it->valuestring);
    printf("\n");
}

static int run_list(const cli_args *a) {
    sim_cli_ctx c;
    int rc = sim_cli_setup("sim", a, false, &c);
    if (rc) return rc;
    cJSON *o = sim_cli_hw_json(&c.hw);
    char names[2048];
    cJSON *av = cJSON_AddObjectToObject(o, "available");
    sim_data_names(&c.dp, "platforms", names, sizeof names);
    cJSON_AddStringToObject(av, "platforms", names);
    sim_data_names(&c.dp, "configs", names, sizeof names);
    cJSON_AddStringToObject(av, "configs", names);
    sim_data_names(&c.dp, "tech", names, sizeof names);
    cJSON_AddStringToObject(av, "tech", names);
    cJSON *dirs = cJSON_AddArrayToObject(o, "data_search_path");
    for (int i = 0; i < c.dp.n_dirs; i++) cJSON_AddItemToArray(dirs, cJSON_CreateString(c.dp.dirs[i]));
    cJSON_AddItemToArray(dirs, cJSON_CreateString("embedded"));
    if (cli_flag(a, "json")) {
        cli_json_print(o);
    } else {
        print_listing(o);
        cJSON_Delete(o);
    }
    sim_cli_free(&c);
    return 0;
}

static void print_paper_rows(const sim_paper_row *nom, const sim_paper_row *hon, int n) {
    printf("%-70s %10s %12s", "quantity", "paper", "ours nominal");
    if (hon) printf(" %12s", "ours honest");
    printf(" %10s %8s\n", "hand", "dev %");
    for (int i = 0; i < n; i++) {
        printf("%-70s", nom[i].what);
        if (isnan(nom[i].paper)) printf(" %10s", "-");
        else printf(" %10.4g", nom[i].paper);
        printf(" %12.4g", nom[i].ours);
        if (hon) printf(" %12.4g", hon[i].ours);
        if (isnan(nom[i].hand)) printf(" %10s", "-");
        else printf(" %10.4g", nom[i].hand);
        if (isnan(nom[i].paper)) printf(" %8s\n", "-");
        else printf(" %+8.2f\n", 100 * (nom[i].ours / nom[i].paper - 1));
    }
}

static cJSON *paper_rows_json(const sim_paper_row *rows, int n) {
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; i < n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "key", rows[i].key);
        cJSON_AddStringToObject(o, "what", rows[i].what);
        if (!isnan(rows[i].paper)) cJSON_AddNumberToObject(o, "paper", rows[i].paper);
        cJSON_AddNumberToObject(o, "ours", rows[i].ours);
        if (!isnan(rows[i].hand)) cJSON_AddNumberToObject(o, "hand", rows[i].hand);
        if (!isnan(rows[i].paper)) cJSON_AddNumberToObject(o, "deviation", rows[i].ours / rows[i].paper - 1);
        cJSON_AddStringToObject(o, "note", rows[i].note);
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

static int run_paper(const cli_args *a) {
    sim_cli_ctx c;
    int rc = sim_cli_setup("sim", a, false, &c);
    if (rc) return rc;
    if (!c.have_workload && sim_workload_params(1520000000, 2048, &c.w)) {
        sim_cli_free(&c);
        return cli_fail("sim");
    }
    /* nominal: the paper's count; honest: the stored planes of a packed file,
     * or what qmc's packed format would store for the shapes */
    sim_paper_row nom[32], hon[32];
    int n = 0, nh = 0;
    sim_params pn = c.p, ph = c.p;
    pn.honest = pn.format_overhead = false;
    ph.honest = ph.format_overhead = true;
    rc = sim_paper_check(&c.w, &c.hw, &pn, nom, 32, &n);
    if (!rc) rc = sim_paper_check(&c.w, &c.hw, &ph, hon, 32, &nh);
    if (rc) {
        sim_cli_free(&c);
        return cli_fail("sim");
    }
    if (cli_flag(a, "json")) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToObject(o, "workload", sim_cli_workload_json(&c.w));
        cJSON_AddItemToObject(o, "assumptions", sim_cli_params_json(&c.p));
        cJSON_AddItemToObject(o, "nominal", paper_rows_json(nom, n));
        cJSON_AddItemToObject(o, "honest", paper_rows_json(hon, nh));
        cJSON_AddStringToObject(o, "honest_means", c.w.has_packed ? "stored planes of the packed file" : "qmc packed-format overhead modelled from the shapes");
        cli_json_print(o);
    } else {
        printf("paper check: %s [%s], %lld parameters, rho %.3g, %d-bit inliers, %d-bit outliers, platform %s\n", c.w.name,
               c.w.source, (long long)c.w.n_params, c.p.rho, c.p.inlier_bits, c.p.outlier_bits, c.hw.platform.name);
        printf("end-to-end rows: prompt %lld, generate %lld, batch %lld, KV %s, activations %s, E_net %s\n\n",
               (long long)c.p.prompt, (long long)c.p.gen, (long long)c.p.batch, c.p.kv_traffic ? "on" : "off",
               c.p.act_traffic ? "on" : "off", c.p.e_net_pj >= 0 ? "overridden" : "per link (ucie3 / nvm-bus)");
        print_paper_rows(nom, nh ? hon : NULL, n);
        printf("\nnominal: the paper's count (no outlier positions or scales). honest: %s.\n"
               "dev %%: nominal against the paper. hand: spec section 5 arithmetic.\n",
               c.w.has_packed ? "the planes stored in the packed file (codes, bitmap, scales)"
                              : "what qmc's packed format would store for these shapes (bitmap, per-row F16 scales)");
    }
    sim_cli_free(&c);
    return 0;
}

static int run_calibrate(const cli_args *a) {
    sim_cli_ctx c;
    int rc = sim_cli_setup("sim", a, false, &c);
    if (rc) return rc;
    const sim_platform *pl = &c.hw.platform;
    if (pl->n_calib == 0) {
        sim_cli_free(&c);
        return cli_error("sim", "%s: platform '%s' has no calibration points", pl->origin, pl->name);
    }
    cJSON *arr = cJSON_CreateArray();
    if (!cli_flag(a, "json"))
        printf("%-14s %-10s %-10s %10s %10s %10s %10s  source\n", "model", "arch", "format", "predicted", "measured",
               "ratio", "bw eff.");
    for (int i = 0; i < pl->n_calib && rc == 0; i++) {
        const sim_calibration *k = &pl->calib[i];
        sim_workload w;
        sim_params p = c.p;
        p.prompt = (int64_t)k->prompt;
        p.gen = (int64_t)k->gen;
        if (k->int4_format[0]) p.int4 = (sim_int4_format)QMC_MAX(0, sim_int4_from_name(k->int4_format));
        sim_result r;
        if ((rc = sim_workload_load(&c.dp, k->config, &w))) break;
        rc = sim_run(&w, &c.hw, &p, (sim_arch)sim_arch_from_name(k->arch), &r);
        sim_workload_free(&w);
        if (rc) break;
        double ratio_v = r.decode_tok_s / k->measured_decode_tok_s;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "platform", pl->name);
        cJSON_AddStringToObject(o, "config", k->config);
        cJSON_AddStringToObject(o, "arch", k->arch);
        cJSON_AddStringToObject(o, "int4_format", sim_int4_name(p.int4));
        cJSON_AddNumberToObject(o, "prompt", (double)p.prompt);
        cJSON_AddNumberToObject(o, "gen", (double)p.gen);
        cJSON_AddNumberToObject(o, "predicted_decode_tok_s", r.decode_tok_s);
        cJSON_AddNumberToObject(o, "measured_decode_tok_s", k->measured_decode_tok_s);
        cJSON_AddNumberToObject(o, "predicted_over_measured", ratio_v);
        cJSON_AddNumberToObject(o, "implied_bandwidth_efficiency", p.dram_efficiency / ratio_v);
        cJSON_AddNumberToObject(o, "bits_per_weight", r.bpw_stored);
        cJSON_AddStringToObject(o, "source", k->source);
        cJSON_AddItemToArray(arr, o);
        if (!cli_flag(a, "json"))
            printf("%-14s %-10s %-10s %10.2f %10.2f %10.3f %10.3f  %s\n", k->config, k->arch, sim_int4_name(p.int4),
                   r.decode_tok_s, k->measured_decode_tok_s, ratio_v, p.dram_efficiency / ratio_v, k->source);
    }
    if (rc) {
        cJSON_Delete(arr);
        sim_cli_free(&c);
        return cli_fail("sim");
    }
    if (cli_flag(a, "json")) cli_json_print(arr);
    else {
        printf("(ratio = predicted / measured decode tokens/s; bw eff. = the DRAM efficiency that would match)\n");
        cJSON_Delete(arr);
    }
    sim_cli_free(&c);
    return 0;
}

int cmd_sim(int argc, char **argv) {
    cli_args a;
    int prc = cli_parse(&k_info, argc, argv, &a);
    if (prc) return prc == 1 ? 0 : 2;
    if (cli_flag(&a, "list")) return run_list(&a);
    if (cli_flag(&a, "paper")) return run_paper(&a);
    if (cli_flag(&a, "calibrate")) return run_calibrate(&a);

    sim_cli_ctx c;
    int rc = sim_cli_setup("sim", &a, true, &c);
    if (rc) return rc;
    int64_t ch, arr;
    double mram_mib = 0, reram_mib = 0;
    if (!cli_int(&a, "mram-channels", 1, 1000000, 0, &ch) || !cli_int(&a, "reram-arrays", 1, 100000000, 0, &arr) ||
        !cli_double(&a, "mram-mib", 1e-6, 1e12, 0, &mram_mib) || !cli_double(&a, "reram-mib", 1e-6, 1e12, 0, &reram_mib)) {
        sim_cli_free(&c);
        return 2;
    }
    c.p.mram_channels = (int)ch;
    c.p.reram_arrays = (int)arr;
    c.p.mram_capacity_mib = mram_mib;
    c.p.reram_capacity_mib = reram_mib;

    sim_arch archs[SIM_ARCH_COUNT];
    int n = 0;
    const char *list = cli_get(&a, "arch");
    if (!list || strcmp(list, "all") == 0) {
        for (int i = 0; i < SIM_ARCH_COUNT; i++) archs[n++] = (sim_arch)i;
    } else {
        char buf[256];
        snprintf(buf, sizeof buf, "%s", list);
        char *save = NULL;
        for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            int k = sim_arch_from_name(t);
            if (k < 0) {
                sim_cli_free(&c);
                return cli_error("sim", "--arch: unknown architecture '%s' (fp16-dram, int4-dram, emems-mram, emems-reram, qmc)", t);
            }
            bool dup = false;
            for (int i = 0; i < n; i++) dup |= archs[i] == (sim_arch)k;
            if (!dup && n < SIM_ARCH_COUNT) archs[n++] = (sim_arch)k;
        }
    }
    const char *vs = cli_get(&a, "vs") ? cli_get(&a, "vs") : "fp16-dram";
    int vs_arch = sim_arch_from_name(vs);
    if (vs_arch < 0) {
        sim_cli_free(&c);
        return cli_error("sim", "--vs: unknown architecture '%s'", vs);
    }
    int base = -1;
    for (int i = 0; i < n; i++)
        if (archs[i] == (sim_arch)vs_arch) base = i;
    if (base < 0 && n < SIM_ARCH_COUNT) {
        archs[n] = (sim_arch)vs_arch; /* the baseline is simulated too */
        base = n++;
    }
    sim_result rs[SIM_ARCH_COUNT];
    for (int i = 0; i < n; i++)
        if (sim_run(&c.w, &c.hw, &c.p, archs[i], &rs[i])) {
            sim_cli_free(&c);
            return cli_fail("sim");
        }
    if (cli_flag(&a, "json")) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToObject(o, "workload", sim_cli_workload_json(&c.w));
        cJSON_AddItemToObject(o, "assumptions", sim_cli_params_json(&c.p));
        cJSON_AddItemToObject(o, "hardware_data", sim_cli_hw_json(&c.hw));
        cJSON *res = cJSON_AddArrayToObject(o, "results");
        for (int i = 0; i < n; i++) cJSON_AddItemToArray(res, sim_report_result_json(&rs[i]));
        cJSON *rat = cJSON_AddObjectToObject(o, "ratios");
        cJSON_AddStringToObject(rat, "baseline", sim_arch_name(rs[base].arch));
        for (int i = 0; i < n; i++) {
            cJSON *ro = cJSON_AddObjectToObject(rat, sim_arch_name(rs[i].arch));
            for (int k = 0; k < SIM_REPORT_N_RATIOS; k++)
                cJSON_AddNumberToObject(ro, sim_report_ratios[k].key, sim_report_ratio(&rs[base], &rs[i], k));
        }
        cli_json_print(o);
    } else {
        sim_report_table(&c, rs, n, base);
    }
    rc = 0;
    if (cli_get(&a, "csv")) rc = sim_report_csv(cli_get(&a, "csv"), &c, rs, n);
    if (!rc && cli_get(&a, "plot")) rc = sim_report_plot_energy(cli_get(&a, "plot"), rs, n);
    sim_cli_free(&c);
    return rc;
}
