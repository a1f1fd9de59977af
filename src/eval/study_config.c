/* study_config.c — the `qmc study` config file: parsing, validation of every
 * method / device profile / task up front, and the expansion of the grids
 * into cells (docs/study.md). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "device/profile.h"
#include "eval/study.h"
#include "eval/tasks.h"
#include "formats/jsonfile.h"
#include "quant/calib.h"
#include "quant/quantize.h"
#include "sim/sim.h"
#include "util/util.h"

#define MAX_CELLS 10000   /* far beyond any real study; keeps the duplicate check (quadratic) cheap */
#define MAX_LIST 64

/* Only known keys: a typo is an error, not a silently ignored setting. */
static int check_keys(const cJSON *obj, const char *const *keys, const char *label, const char *where) {
    for (const cJSON *it = obj->child; it; it = it->next) {
        bool ok = false;
        for (int i = 0; keys[i] && !ok; i++) ok = strcmp(it->string, keys[i]) == 0;
        if (!ok) return qmc_fail(QMC_ERR_FORMAT, "%s: unknown key '%s' in %s", label, it->string, where);
    }
    return 0;
}

static int get_str(const cJSON *o, const char *key, const char *label, bool required, char *out, size_t cap) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v || cJSON_IsNull(v)) return required ? qmc_fail(QMC_ERR_FORMAT, "%s: missing \"%s\"", label, key) : 0;
    if (!cJSON_IsString(v) || !v->valuestring[0]) return qmc_fail(QMC_ERR_FORMAT, "%s: \"%s\" must be a non-empty string", label, key);
    if (strlen(v->valuestring) >= cap) return qmc_fail(QMC_ERR_FORMAT, "%s: \"%s\" is too long", label, key);
    snprintf(out, cap, "%s", v->valuestring);
    return 0;
}

/* A list of strings (a single string counts as a list of one). */
static int get_str_list(const cJSON *o, const char *key, const char *label, char (*out)[QMC_STUDY_NAME], int cap, int *n) {
    *n = 0;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v || cJSON_IsNull(v)) return 0;
    const cJSON *it = cJSON_IsArray(v) ? v->child : v;
    for (; it; it = cJSON_IsArray(v) ? it->next : NULL) {
        if (!cJSON_IsString(it) || !it->valuestring[0] || strlen(it->valuestring) >= QMC_STUDY_NAME)
            return qmc_fail(QMC_ERR_FORMAT, "%s: \"%s\" must be a string or a list of strings (each under %d characters)",
                            label, key, QMC_STUDY_NAME);
        if (*n >= cap) return qmc_fail(QMC_ERR_FORMAT, "%s: \"%s\" has more than %d entries", label, key, cap);
        snprintf(out[(*n)++], QMC_STUDY_NAME, "%s", it->valuestring);
    }
    return 0;
}

/* A list of numbers in [lo, hi] (a single number counts as a list of one). */
static int get_num_list(const cJSON *o, const char *key, const char *label, double lo, double hi, bool integer,
                        double *out, int *n) {
    *n = 0;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v || cJSON_IsNull(v)) return 0;
    const cJSON *it = cJSON_IsArray(v) ? v->child : v;
    for (; it; it = cJSON_IsArray(v) ? it->next : NULL) {
        if (!cJSON_IsNumber(it) || !(it->valuedouble >= lo && it->valuedouble <= hi) ||
            (integer && it->valuedouble != floor(it->valuedouble)))
            return qmc_fail(QMC_ERR_FORMAT, "%s: \"%s\" must hold %s in [%g, %g]", label, key, integer ? "integers" : "numbers",
                            lo, hi);
        if (*n >= MAX_LIST) return qmc_fail(QMC_ERR_FORMAT, "%s: \"%s\" has more than %d entries", label, key, MAX_LIST);
        out[(*n)++] = it->valuedouble;
    }
    return 0;
}

static int add_cell(qmc_study_config *c, int64_t *cap, const qmc_study_cell *cell) {
    for (int i = 0; i < c->n_cells; i++)
        if (strcmp(c->cells[i].key, cell->key) == 0) return 0; /* the same cell from two grids */
    if (c->n_cells >= MAX_CELLS) return qmc_fail(QMC_ERR_RANGE, "%s: more than %d cells", c->path, MAX_CELLS);
    if (qmc_grow((void **)&c->cells, cap, c->n_cells + 1, sizeof *c->cells)) return QMC_ERR_NOMEM;
    c->cells[c->n_cells++] = *cell;
    return 0;
}

static void cell_key(qmc_study_cell *x) {
    snprintf(x->key, sizeof x->key, "%s bits=%d rho=%.6g device=%s cells=%d trials=%d", x->method, x->bits, x->rho,
             x->device, x->cell_bits, x->trials);
}

/* Expand one grid object into cells. */
static int parse_grid(qmc_study_config *c, const cJSON *g, int gi, int64_t *cap) {
    char label[4200];
    snprintf(label, sizeof label, "%s: grid[%d]", c->path, gi);
    static const char *const keys[] = {"methods", "bits", "rho", "noise", "cells", "trials", NULL};
    if (!cJSON_IsObject(g)) return qmc_fail(QMC_ERR_FORMAT, "%s: must be an object", label);
    int rc = check_keys(g, keys, c->path, "a grid");
    if (rc) return rc;
    char methods[MAX_LIST][QMC_STUDY_NAME], noise[MAX_LIST][QMC_STUDY_NAME];
    double bits[MAX_LIST], rhos[MAX_LIST], cells[MAX_LIST], trials_d[MAX_LIST];
    int n_methods, n_noise, n_bits, n_rho, n_cells, n_trials;
    if ((rc = get_str_list(g, "methods", label, methods, MAX_LIST, &n_methods)) ||
        (rc = get_str_list(g, "noise", label, noise, MAX_LIST, &n_noise)) ||
        (rc = get_num_list(g, "bits", label, 2, 8, true, bits, &n_bits)) ||
        (rc = get_num_list(g, "rho", label, 0, 0.99, false, rhos, &n_rho)) ||
        (rc = get_num_list(g, "cells", label, 2, 3, true, cells, &n_cells)) ||
        (rc = get_num_list(g, "trials", label, 1, 100000, true, trials_d, &n_trials)))
        return rc;
    if (!n_methods) return qmc_fail(QMC_ERR_FORMAT, "%s: missing \"methods\"", label);
    if (n_trials > 1) return qmc_fail(QMC_ERR_FORMAT, "%s: \"trials\" must be one number", label);
    if (!n_noise) snprintf(noise[n_noise++], QMC_STUDY_NAME, "none");
    if (!n_cells) cells[n_cells++] = 3;
    const int trials = n_trials ? (int)trials_d[0] : 10;
    for (int mi = 0; mi < n_methods; mi++) {
        const bool fp32 = strcmp(methods[mi], "fp32") == 0;
        qmc_quant_params p;
        int def_bits = 0;
        bool uses_rho = false;
        if (!fp32 && qmc_quant_params_for_method(methods[mi], &p, &def_bits, &uses_rho))
            return qmc_error_prefix(QMC_ERR_FORMAT, "%s", label);
        const int nb = fp32 || !n_bits ? 1 : n_bits, nr = uses_rho && n_rho ? n_rho : 1;
        for (int bi = 0; bi < nb; bi++)
            for (int ri = 0; ri < nr; ri++) {
                qmc_study_cell x = {0};
                snprintf(x.method, sizeof x.method, "%.63s", methods[mi]);
                x.bits = fp32 ? 0 : (n_bits ? (int)bits[bi] : def_bits);
                x.rho = uses_rho ? (n_rho ? rhos[ri] : p.rho) : 0;
                x.rho = (double)(float)x.rho; /* what the quantizer receives */
                if (!fp32) {
                    p.bits_in = x.bits;
                    p.rho = (float)x.rho;
                    if (qmc_quant_params_check(&p)) return qmc_error_prefix(QMC_ERR_FORMAT, "%s: method %s", label, x.method);
                }
                for (int ni = 0; ni < n_noise; ni++) {
                    snprintf(x.device, sizeof x.device, "%.63s", noise[ni]);
                    if (strcmp(noise[ni], "none") == 0) {
                        x.cell_bits = 0;
                        x.trials = 1;
                        cell_key(&x);
                        if ((rc = add_cell(c, cap, &x))) return rc;
                        continue;
                    }
                    if (fp32) continue; /* plain weights are not stored in ReRAM */
                    qmc_device_profile prof;
                    qmc_device_name_sel sel;
                    if (qmc_device_load(noise[ni], c->device_dir[0] ? c->device_dir : NULL, &prof, &sel))
                        return qmc_error_prefix(QMC_ERR_FORMAT, "%s", label);
                    for (int ci = 0; ci < (sel.cell_bits ? 1 : n_cells); ci++) {
                        x.cell_bits = sel.cell_bits ? sel.cell_bits : (int)cells[ci];
                        x.trials = trials;
                        cell_key(&x);
                        if ((rc = add_cell(c, cap, &x))) return rc;
                    }
                }
            }
    }
    return 0;
}

/* Order cells so that those sharing one quantized model are consecutive
 * (first appearance order; stable within a group). */
static int group_cells(qmc_study_config *c) {
    if (c->n_cells == 0) /* e.g. only fp32 under noise: plain weights are never put in ReRAM */
        return qmc_fail(QMC_ERR_FORMAT, "%s: the grid selects no cells (fp32 is not run under device noise)", c->path);
    qmc_study_cell *out = qmc_alloc((size_t)c->n_cells + 1, sizeof *out);
    uint8_t *used = qmc_alloc((size_t)c->n_cells + 1, 1);
    if (!out || !used) {
        qmc_free(out);
        qmc_free(used);
        return QMC_ERR_NOMEM;
    }
    int k = 0;
    for (int i = 0; i < c->n_cells; i++) {
        if (used[i]) continue;
        const qmc_study_cell *a = &c->cells[i];
        for (int j = i; j < c->n_cells; j++) {
            const qmc_study_cell *b = &c->cells[j];
            if (!used[j] && strcmp(a->method, b->method) == 0 && a->bits == b->bits && a->rho == b->rho) {
                out[k++] = *b;
                used[j] = 1;
            }
        }
    }
    memcpy(c->cells, out, (size_t)c->n_cells * sizeof *out);
    qmc_free(out);
    qmc_free(used);
    return 0;
}

/* "shared/REL" that is not a path from the working directory: the project's
 * shared data ($QMC_SHARED/REL, ../shared/REL, ../../shared/REL, first found). */
static void resolve_shared(char *path, size_t cap) {
    if (strncmp(path, "shared/", 7) != 0 || qmc_file_exists(path)) return;
    const char *env = getenv("QMC_SHARED");
    const char *roots[] = {env, "../shared", "../../shared"};
    for (size_t i = 0; i < QMC_ARRAY_LEN(roots); i++) {
        if (!roots[i] || !roots[i][0]) continue;
        char buf[8300];
        snprintf(buf, sizeof buf, "%s/%s", roots[i], path + 7);
        if (qmc_file_exists(buf) && strlen(buf) < cap) {
            snprintf(path, cap, "%s", buf);
            return;
        }
    }
}

static uint64_t fnv1a(const char *s) {
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

static int parse_root(qmc_study_config *c, const cJSON *root) {
    const char *L = c->path;
    static const char *const keys[] = {"name", "model", "tokenizer", "text", "protocol", "ctx", "max_tokens", "tasks",
                                       "task_limit", "task_dir", "calib", "calib_tokens", "seed", "strip_cr", "device_dir", "out", "platform", "shapes",
                                       "grid", NULL};
    if (!cJSON_IsObject(root)) return qmc_fail(QMC_ERR_FORMAT, "%s: the config must be a JSON object", L);
    int rc = check_keys(root, keys, L, "the config");
    char proto[32] = "full";
    if (rc || (rc = get_str(root, "model", L, true, c->model, sizeof c->model)) ||
        (rc = get_str(root, "tokenizer", L, false, c->tokenizer, sizeof c->tokenizer)) ||
        (rc = get_str(root, "text", L, true, c->text, sizeof c->text)) ||
        (rc = get_str(root, "protocol", L, false, proto, sizeof proto)) ||
        (rc = get_str(root, "task_dir", L, false, c->task_dir, sizeof c->task_dir)) ||
        (rc = get_str(root, "calib", L, false, c->calib, sizeof c->calib)) ||
        (rc = get_str(root, "device_dir", L, false, c->device_dir, sizeof c->device_dir)) ||
        (rc = get_str(root, "out", L, true, c->out, sizeof c->out)) ||
        (rc = get_str(root, "platform", L, false, c->platform, sizeof c->platform)))
        return rc;
    resolve_shared(c->model, sizeof c->model);
    resolve_shared(c->tokenizer, sizeof c->tokenizer);
    resolve_shared(c->text, sizeof c->text);
    resolve_shared(c->calib, sizeof c->calib);
    if (strcmp(proto, "full") == 0) c->protocol = QMC_PPL_FULL;
    else if (strcmp(proto, "llamacpp") == 0) c->protocol = QMC_PPL_LLAMACPP;
    else return qmc_fail(QMC_ERR_FORMAT, "%s: \"protocol\" must be full or llamacpp, not '%s'", L, proto);
    int64_t v = 0;
    if ((rc = qmc_json_get_int(root, "ctx", L, 0, 1 << 20, &v)) < 0) return rc;
    c->ctx = (int)v;
    if (c->ctx == 1) return qmc_fail(QMC_ERR_FORMAT, "%s: \"ctx\" must be 0 (model default) or at least 2", L);
    if ((rc = qmc_json_get_int(root, "max_tokens", L, 0, INT64_MAX, &c->max_tokens)) < 0) return rc;
    if ((rc = qmc_json_get_int(root, "task_limit", L, 0, INT64_MAX, &c->task_limit)) < 0) return rc;
    if ((rc = qmc_json_get_bool(root, "strip_cr", L, &c->strip_cr)) < 0) return rc;
    c->calib_tokens = QMC_CALIB_DEFAULT_TOKENS;
    if ((rc = qmc_json_get_int(root, "calib_tokens", L, 1, 1 << 24, &c->calib_tokens)) < 0) return rc;
    if (c->calib[0] && !qmc_file_exists(c->calib))
        return qmc_fail(QMC_ERR_FORMAT, "%s: calibration text '%s' not found", L, c->calib);
    int64_t seed = 1;
    if ((rc = qmc_json_get_int(root, "seed", L, 0, INT64_MAX, &seed)) < 0) return rc;
    c->seed = (uint64_t)seed;
    if (!c->platform[0]) snprintf(c->platform, sizeof c->platform, "jetson-agx-orin");
    if ((rc = get_str_list(root, "tasks", L, c->tasks, QMC_STUDY_MAX_TASKS, &c->n_tasks)) ||
        (rc = get_str_list(root, "shapes", L, c->shapes, QMC_STUDY_MAX_SHAPES, &c->n_shapes)))
        return rc;
    for (int i = 0; i < c->n_tasks; i++)
        if (!qmc_task_find(c->tasks[i]) && !qmc_file_exists(c->tasks[i]))
            return qmc_fail(QMC_ERR_FORMAT, "%s: unknown task '%s' (neither a task name, see qmc eval --list, nor a file)", L,
                            c->tasks[i]);
    sim_datapath dp;
    if (c->n_shapes && (rc = sim_datapath_init(&dp, NULL))) return rc;
    for (int i = 0; i < c->n_shapes; i++) {
        char rel[128];
        snprintf(rel, sizeof rel, "configs/%s.json", c->shapes[i]);
        if (!sim_data_has(&dp, rel) && !qmc_file_exists(c->shapes[i]))
            return qmc_fail(QMC_ERR_FORMAT, "%s: unknown shape '%s' (neither a data/configs preset, see qmc sim --help, nor a file)",
                            L, c->shapes[i]);
    }
    const cJSON *grid = cJSON_GetObjectItemCaseSensitive(root, "grid");
    if (!grid) return qmc_fail(QMC_ERR_FORMAT, "%s: missing \"grid\"", L);
    int64_t cap = 0;
    if (cJSON_IsObject(grid)) return (rc = parse_grid(c, grid, 0, &cap)) ? rc : group_cells(c);
    if (!cJSON_IsArray(grid) || !grid->child)
        return qmc_fail(QMC_ERR_FORMAT, "%s: \"grid\" must be an object or a non-empty list of objects", L);
    int gi = 0;
    for (const cJSON *g = grid->child; g; g = g->next, gi++)
        if ((rc = parse_grid(c, g, gi, &cap))) return rc;
    return group_cells(c);
}

int qmc_study_config_parse(const char *json, size_t len, const char *label, qmc_study_config *c) {
    memset(c, 0, sizeof *c);
    snprintf(c->path, sizeof c->path, "%s", label);
    cJSON *root = NULL;
    int rc = qmc_json_parse(json, len, label, &root);
    if (rc) return rc;
    rc = parse_root(c, root);
    if (!rc) {
        /* The hash covers every setting (canonical form) except the output directory. */
        cJSON_DeleteItemFromObjectCaseSensitive(root, "out");
        char *canon = cJSON_PrintUnformatted(root);
        if (!canon) rc = qmc_fail(QMC_ERR_NOMEM, "%s: out of memory", label);
        else c->hash = fnv1a(canon);
        cJSON_free(canon);
    }
    cJSON_Delete(root);
    if (rc) qmc_study_config_free(c);
    return rc;
}

int qmc_study_config_load(const char *path, qmc_study_config *c) {
    char *text = NULL;
    size_t len = 0;
    memset(c, 0, sizeof *c);
    int rc = qmc_read_file(path, (size_t)1 << 24, &text, &len);
    if (rc) return rc;
    rc = qmc_study_config_parse(text, len, path, c);
    qmc_free(text);
    return rc;
}

void qmc_study_config_free(qmc_study_config *c) {
    if (!c) return;
    qmc_free(c->cells);
    c->cells = NULL;
    c->n_cells = 0;
}
