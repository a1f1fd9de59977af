/* sim_common.c — see sim_common.h. */
#include <errno.h>
#include <math.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/sim_common.h"

extern char **environ;

static int fail(const char *cmd) { return cli_error(cmd, "%s", qmc_errmsg()); }

/* Apply one platform override given by its own option. */
static int set_option(const char *cmd, const cli_args *a, const char *opt, const char *field, sim_hw *hw) {
    const char *v = cli_get(a, opt);
    if (!v) return 0;
    char buf[256];
    snprintf(buf, sizeof buf, "platform.%s=%s", field, v);
    if (sim_hw_set(hw, buf)) return cli_error(cmd, "--%s %s: %s", opt, v, qmc_errmsg());
    return 0;
}

static bool get_pos_double(const char *cmd, const cli_args *a, const char *name, double lo_excl, double hi, double *out) {
    const char *v = cli_get(a, name);
    if (!v) return true;
    double d;
    if (!qmc_parse_double(v, &d) || !(d > lo_excl) || d > hi) {
        cli_error(cmd, "--%s: '%s' must be a number > %g and <= %g", name, v, lo_excl, hi);
        return false;
    }
    *out = d;
    return true;
}

int sim_cli_setup(const char *cmd, const cli_args *a, bool need_workload, sim_cli_ctx *c) {
    memset(c, 0, sizeof *c);
    if (sim_datapath_init(&c->dp, cli_get(a, "data-dir"))) return fail(cmd);
    const char *platform = cli_get(a, "platform") ? cli_get(a, "platform") : "jetson-agx-orin";
    if (sim_hw_load(&c->dp, platform, &c->hw)) return fail(cmd);
    if (set_option(cmd, a, "dram-bw", "dram_bw_gb_s", &c->hw) || set_option(cmd, a, "dram-gib", "dram_capacity_gib", &c->hw))
        return 1;
    if (cli_get(a, "set") && sim_hw_set(&c->hw, cli_get(a, "set"))) return fail(cmd);

    sim_params *p = &c->p;
    sim_params_default(p);
    int64_t iv[12];
    if (!cli_double(a, "rho", 0, 0.999, p->rho, &p->rho) || !cli_int(a, "inlier-bits", 1, 16, p->inlier_bits, &iv[0]) ||
        !cli_int(a, "outlier-bits", 1, 16, p->outlier_bits, &iv[1]) || !cli_int(a, "cell-bits", 2, 3, p->cell_bits, &iv[2]) ||
        !cli_int(a, "embed-bits", 0, 32, 0, &iv[3]) || !cli_int(a, "prompt", 0, 1 << 24, p->prompt, &p->prompt) ||
        !cli_int(a, "gen", 0, 1 << 22, p->gen, &p->gen) || !cli_int(a, "batch", 1, 65536, 1, &p->batch) ||
        !cli_int(a, "ubatch", 1, 1 << 24, 0, &p->ubatch) || !cli_int(a, "kv-bits", 1, 32, 16, &iv[4]) ||
        !cli_int(a, "act-bits", 1, 32, 16, &iv[5]) || !cli_double(a, "t-queue", 0, 1e9, 0, &p->t_queue_ns) ||
        !cli_double(a, "t-sync-cycles", 0, 1e6, p->t_sync_cycles, &p->t_sync_cycles) ||
        !cli_double(a, "cdc-mw", 0, 1e6, p->cdc_mw, &p->cdc_mw) || !cli_double(a, "e-net", 0, 1e6, -1, &p->e_net_pj) ||
        !get_pos_double(cmd, a, "emems-bits", 0, 32, &p->emems_bits) ||
        !get_pos_double(cmd, a, "power-budget", 0, 1e6, &p->power_budget_w) ||
        !get_pos_double(cmd, a, "dram-efficiency", 0, 1, &p->dram_efficiency))
        return 2;
    p->inlier_bits = (int)iv[0];
    p->outlier_bits = (int)iv[1];
    p->cell_bits = (int)iv[2];
    p->embed_bits = (int)iv[3];
    p->kv_bits = (int)iv[4];
    p->act_bits = (int)iv[5];
    double max_lat_ms = 0;
    if (!get_pos_double(cmd, a, "max-latency-ms", 0, 1e9, &max_lat_ms)) return 2;
    p->max_latency_s = max_lat_ms * 1e-3;
    p->honest = !cli_flag(a, "nominal");
    p->format_overhead = cli_flag(a, "format-overhead");
    p->kv_traffic = !cli_flag(a, "no-kv-traffic");
    p->act_traffic = !cli_flag(a, "no-act-traffic");
    const char *fmt = cli_get(a, "int4");
    if (fmt) {
        int f = sim_int4_from_name(fmt);
        if (f < 0) return cli_error(cmd, "--int4: unknown format '%s' (g128, nominal, rtn, mxint4, mlc-q4f16)", fmt);
        p->int4 = (sim_int4_format)f;
    }
    if (sim_params_validate(p)) return fail(cmd);

    const char *spec = cli_get(a, "model") ? cli_get(a, "model") : (a->n_positional ? a->positional[0] : NULL);
    const char *params = cli_get(a, "params");
    if (spec && params) return cli_error(cmd, "give either a model (-m) or --params, not both");
    if (params) {
        double n;
        int64_t row;
        if (!qmc_parse_double(params, &n) || !(n >= 1) || n > 1.1259e15)
            return cli_error(cmd, "--params: '%s' is not a parameter count in [1, 2^50]", params);
        if (!cli_int(a, "row-len", 1, 1 << 24, 2048, &row)) return 2;
        if (sim_workload_params((int64_t)llround(n), row, &c->w)) return fail(cmd);
        c->have_workload = true;
    } else if (spec) {
        if (sim_workload_load(&c->dp, spec, &c->w)) return fail(cmd);
        c->have_workload = true;
    } else if (need_workload) {
        return cli_error(cmd, "no workload: give -m PRESET|CONFIG|MODEL or --params N (see qmc %s --help)", cmd);
    }
    return 0;
}

void sim_cli_free(sim_cli_ctx *c) { sim_workload_free(&c->w); }

/* ---- JSON dumps ------------------------------------------------------------------ */

static void add_fields(cJSON *o, const char *kind, int n, const double *vals, char (*src)[SIM_SRC_LEN]) {
    const sim_field_info *f;
    sim_tech_fields(kind, &f);
    for (int i = 0; i < n; i++) {
        if (!src[i][0]) continue; /* optional and absent */
        cJSON *v = cJSON_AddObjectToObject(o, f[i].key);
        cJSON_AddNumberToObject(v, "value", vals[i]);
        cJSON_AddStringToObject(v, "unit", f[i].unit);
        cJSON_AddStringToObject(v, "source", src[i]);
    }
}

static cJSON *memory_json(const sim_memory_tech *t) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "title", t->title);
    cJSON_AddStringToObject(o, "origin", t->origin);
    cJSON_AddStringToObject(o, "bw_unit", t->bw_unit);
    cJSON_AddBoolToObject(o, "volatile", t->is_volatile);
    const sim_field_info *f;
    int n = sim_tech_fields("memory", &f);
    double v[SIM_MAX_FIELDS];
    for (int i = 0; i < n; i++) v[i] = sim_memory_field(t, i);
    add_fields(o, "memory", n, v, (char(*)[SIM_SRC_LEN])t->sources);
    return o;
}

static cJSON *link_json(const sim_link_tech *t) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "title", t->title);
    cJSON_AddStringToObject(o, "origin", t->origin);
    cJSON_AddNumberToObject(o, "bandwidth_gb_s", sim_link_bw(t) / 1e9);
    const sim_field_info *f;
    int n = sim_tech_fields("link", &f);
    double v[SIM_MAX_FIELDS];
    for (int i = 0; i < n; i++) v[i] = sim_link_field(t, i);
    add_fields(o, "link", n, v, (char(*)[SIM_SRC_LEN])t->sources);
    return o;
}

cJSON *sim_cli_hw_json(const sim_hw *hw) {
    cJSON *o = cJSON_CreateObject();
    cJSON *pl = cJSON_AddObjectToObject(o, "platform");
    cJSON_AddStringToObject(pl, "name", hw->platform.name);
    cJSON_AddStringToObject(pl, "title", hw->platform.title);
    cJSON_AddStringToObject(pl, "origin", hw->platform.origin);
    cJSON_AddStringToObject(pl, "dram", hw->platform.dram);
    cJSON_AddStringToObject(pl, "flash", hw->platform.flash);
    const sim_field_info *f;
    int n = sim_tech_fields("platform", &f);
    double v[SIM_MAX_FIELDS];
    for (int i = 0; i < n; i++) v[i] = sim_platform_field(&hw->platform, i);
    add_fields(pl, "platform", n, v, (char(*)[SIM_SRC_LEN])hw->platform.sources);
    cJSON *mem = cJSON_AddObjectToObject(o, "memories");
    const sim_memory_tech *m[] = {&hw->dram, &hw->mram, &hw->reram3, &hw->reram2, &hw->flash, &hw->sram};
    for (size_t i = 0; i < QMC_ARRAY_LEN(m); i++) cJSON_AddItemToObject(mem, m[i]->name, memory_json(m[i]));
    cJSON *links = cJSON_AddObjectToObject(o, "links");
    cJSON_AddItemToObject(links, hw->ucie.name, link_json(&hw->ucie));
    cJSON_AddItemToObject(links, hw->nvm_bus.name, link_json(&hw->nvm_bus));
    return o;
}

cJSON *sim_cli_params_json(const sim_params *p) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "rho", p->rho);
    cJSON_AddNumberToObject(o, "inlier_bits", p->inlier_bits);
    cJSON_AddNumberToObject(o, "outlier_bits", p->outlier_bits);
    cJSON_AddNumberToObject(o, "cell_bits", p->cell_bits);
    cJSON_AddStringToObject(o, "int4_format", sim_int4_name(p->int4));
    cJSON_AddNumberToObject(o, "emems_bits", p->emems_bits);
    cJSON_AddNumberToObject(o, "embed_bits", p->embed_bits);
    cJSON_AddStringToObject(o, "packed_counting", p->honest ? "stored planes (honest)" : "nominal bits");
    cJSON_AddBoolToObject(o, "format_overhead", p->format_overhead);
    cJSON_AddNumberToObject(o, "prompt_tokens", (double)p->prompt);
    cJSON_AddNumberToObject(o, "generated_tokens", (double)p->gen);
    cJSON_AddNumberToObject(o, "batch", (double)p->batch);
    cJSON_AddNumberToObject(o, "ubatch", (double)p->ubatch);
    cJSON_AddNumberToObject(o, "kv_bits", p->kv_bits);
    cJSON_AddNumberToObject(o, "act_bits", p->act_bits);
    cJSON_AddBoolToObject(o, "kv_traffic", p->kv_traffic);
    cJSON_AddBoolToObject(o, "act_traffic", p->act_traffic);
    cJSON_AddNumberToObject(o, "mram_channels", p->mram_channels);
    cJSON_AddNumberToObject(o, "reram_arrays", p->reram_arrays);
    cJSON_AddNumberToObject(o, "power_budget_w", p->power_budget_w);
    cJSON_AddStringToObject(o, "power_budget_default", "iso-power: platform DRAM peak bandwidth x LPDDR5 read energy (assumed)");
    cJSON_AddNumberToObject(o, "max_latency_s", p->max_latency_s);
    cJSON_AddNumberToObject(o, "t_queue_ns", p->t_queue_ns);
    cJSON_AddNumberToObject(o, "t_sync_cycles", p->t_sync_cycles);
    cJSON_AddNumberToObject(o, "cdc_mw", p->cdc_mw);
    cJSON_AddNumberToObject(o, "dram_efficiency", p->dram_efficiency);
    if (p->e_net_pj >= 0) cJSON_AddNumberToObject(o, "e_net_pj_per_bit", p->e_net_pj);
    else cJSON_AddStringToObject(o, "e_net_pj_per_bit", "per link (data/tech/ucie3.json, nvm-bus.json)");
    return o;
}

cJSON *sim_cli_workload_json(const sim_workload *w) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", w->name);
    cJSON_AddStringToObject(o, "source", w->source);
    cJSON_AddNumberToObject(o, "parameters", (double)w->n_params);
    cJSON_AddNumberToObject(o, "tensors", w->n_tensors);
    cJSON_AddNumberToObject(o, "layers", w->n_layers);
    cJSON_AddNumberToObject(o, "meta_tokens", w->meta_tokens);
    cJSON_AddBoolToObject(o, "packed", w->has_packed);
    double kv = 0, state = 0;
    for (int l = 0; l < w->n_layers; l++) {
        kv += (double)w->layers[l].kv_elems;
        state += (double)w->layers[l].state_elems;
    }
    cJSON_AddNumberToObject(o, "kv_elements_per_token", kv);
    cJSON_AddNumberToObject(o, "recurrent_state_elements", state);
    return o;
}

/* ---- files and plots ----------------------------------------------------------------- */

int sim_cli_write(const char *cmd, const char *path, const char *text, size_t len) {
    if (qmc_write_file_atomic(path, text, len)) return fail(cmd);
    return 0;
}

static bool find_gnuplot(char *out, size_t cap) {
    const char *env = getenv("QMC_GNUPLOT");
    if (env) {
        snprintf(out, cap, "%s", env);
        return *env && access(env, X_OK) == 0;
    }
    const char *path = getenv("PATH");
    if (!path) return false;
    char buf[8192];
    snprintf(buf, sizeof buf, "%s", path);
    char *save = NULL;
    for (char *d = strtok_r(buf, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        char cand[4200];
        qmc_path_join(cand, sizeof cand, *d ? d : ".", "gnuplot");
        struct stat st;
        if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) && access(cand, X_OK) == 0) {
            snprintf(out, cap, "%s", cand);
            return true;
        }
    }
    return false;
}

int sim_cli_plot(const char *cmd, const char *dir, const char *name, const char *data, const char *plot_cmds) {
    char gp[4200];
    if (!find_gnuplot(gp, sizeof gp)) {
        fprintf(stderr, "qmc %s: plots skipped: gnuplot not found (install gnuplot-nox)\n", cmd);
        return 1;
    }
    if (!qmc_is_dir(dir)) {
        cli_error(cmd, "--plot: %s is not a directory", dir);
        return -1;
    }
    if (strchr(dir, '\'') || strchr(dir, '\n')) {
        cli_error(cmd, "--plot: directory names with quotes or newlines are not supported");
        return -1;
    }
    char path[4400], script_path[4400];
    snprintf(path, sizeof path, "%s/%s.dat", dir, name);
    if (sim_cli_write(cmd, path, data, strlen(data))) return -1;
    qmc_str s = {0};
    qmc_str_printf(&s, "# %s.gp — written by qmc %s; render with: gnuplot %s.gp\n", name, cmd, name);
    qmc_str_printf(&s, "cd '%s'\nset terminal png size 1000,620 noenhanced\nset output '.%s.png.tmp'\n%s\n", dir, name, plot_cmds);
    qmc_str_printf(&s, "set terminal svg size 1000,620 noenhanced\nset output '.%s.svg.tmp'\nreplot\nunset output\n", name);
    if (s.failed) {
        qmc_str_free(&s);
        cli_error(cmd, "out of memory");
        return -1;
    }
    snprintf(script_path, sizeof script_path, "%s/%s.gp", dir, name);
    int rc = sim_cli_write(cmd, script_path, s.s, s.len);
    qmc_str_free(&s);
    if (rc) return -1;
    char *argv[] = {gp, script_path, NULL};
    pid_t pid;
    int err = posix_spawn(&pid, gp, NULL, NULL, argv, environ);
    int status = 0;
    if (err == 0 && waitpid(pid, &status, 0) < 0) err = errno;
    char tmp[4400], final[4400];
    const char *ext[] = {"png", "svg"};
    bool ok = err == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    for (int i = 0; i < 2; i++) {
        snprintf(tmp, sizeof tmp, "%s/.%s.%s.tmp", dir, name, ext[i]);
        snprintf(final, sizeof final, "%s/%s.%s", dir, name, ext[i]);
        if (ok && rename(tmp, final) != 0) {
            cli_error(cmd, "%s: cannot rename the plot: %s", final, strerror(errno));
            ok = false;
        }
        unlink(tmp);
    }
    if (!ok) {
        if (err) cli_error(cmd, "%s: cannot run gnuplot: %s", gp, strerror(err));
        else cli_error(cmd, "%s: gnuplot failed on %s", gp, script_path);
        return -1;
    }
    return 0;
}
