/* cmd_inspect.c — qmc inspect: the planes of a packed .qmc.gguf, per tensor. */
#include <math.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/json.h"
#include "cli/quant_report.h"
#include "quant/quantize.h"

static const cli_opt k_opts[] = {
    {"ref", 0, "MODEL", "source model: adds the weight-reconstruction RMSE and SQNR of every tensor"},
    {"tokenizer", 0, "FILE", "tokenizer for a llama2.c --ref model"},
    {"json", 0, NULL, "machine-readable output"},
    {0},
};

static const cli_command_info k_info = {
    "inspect", "qmc inspect FILE.qmc.gguf [--ref SOURCE] [--json]",
    "Per-tensor table of a packed model: shape, method, rho, threshold tau, bits of each plane, nominal and honest "
    "bits per weight, and (with --ref) reconstruction RMSE and SQNR against the source.",
    "Columns (bits per weight of the tensor): ReRAM = inlier codes, sc = inlier scales (and offsets),\n"
    "map = outlier bitmap, MRAM = outlier codes, osc = outlier scales; nom = the paper's nominal count\n"
    "(1-rho)*bits_in + rho*bits_out; honest = everything stored.",
    k_opts};

typedef struct {
    const char *name;
    const qmc_tensor *found;
} find_ctx;

static int find_one(qmc_model *m, qmc_tensor *t, int layer, void *user) {
    find_ctx *f = user;
    if (strcmp(t->name, f->name) == 0) {
        f->found = t;
        return 1;
    }
    return 0;
}

static const qmc_tensor *find_tensor(const qmc_model *m, const char *name) {
    find_ctx f = {name, NULL};
    qmc_model_for_each_tensor((qmc_model *)m, find_one, &f);
    return f.found;
}

/* Reconstruction error of t against the same tensor of ref. */
static int compare(const qmc_tensor *t, const qmc_model *ref, qmc_quant_error *e) {
    memset(e, 0, sizeof *e);
    const qmc_tensor *r = find_tensor(ref, t->name);
    if (!r) return qmc_fail(QMC_ERR_ARG, "%s: has no tensor '%s'", ref->path, t->name);
    const int64_t rows = qmc_tensor_rows(t), cols = t->ne[0];
    if (qmc_tensor_rows(r) != rows || r->ne[0] != cols)
        return qmc_fail(QMC_ERR_ARG, "%s: tensor '%s' is %lld x %lld, the packed one %lld x %lld", ref->path, t->name,
                        (long long)qmc_tensor_rows(r), (long long)r->ne[0], (long long)rows, (long long)cols);
    float *a = qmc_alloc((size_t)cols * 2, sizeof(float));
    if (!a) return QMC_ERR_NOMEM;
    float *b = a + cols;
    for (int64_t i = 0; i < rows; i++) {
        qmc_tensor_get_row(t, i, a);
        qmc_tensor_get_row(r, i, b);
        for (int64_t c = 0; c < cols; c++) {
            double d = (double)a[c] - (double)b[c];
            e->sse += d * d;
            e->energy += (double)b[c] * (double)b[c];
        }
    }
    e->n = rows * cols;
    qmc_free(a);
    return QMC_OK;
}

static void fmt_bits(char *buf, size_t cap, const qmc_tensor *t) {
    if (t->type != QMC_TYPE_PACKED) snprintf(buf, cap, "%s", qmc_type_name(t->type));
    else if (t->q->n_out > 0) snprintf(buf, cap, "%d/%d%s", t->q->in.bits, t->q->out.bits, t->q->in.asym ? "a" : "");
    else snprintf(buf, cap, "%d%s%s", t->q->in.bits, t->q->in.asym ? "a" : "",
                  t->q->in.group > 0 ? (t->q->in.elem == QMC_ELEM_INT ? " g" : " b") : "");
}

/* Shannon bound of a tensor's outlier positions: n * H(k/n) bits for k of n
 * positions (no encoding of an i.i.d. position set can do better on average). */
static double position_entropy_bits(const qmc_tensor *t) {
    if (t->type != QMC_TYPE_PACKED || t->q->n_out == 0) return 0;
    const double n = (double)(t->q->rows * t->q->cols), p = (double)t->q->n_out / n;
    if (p >= 1) return 0;
    return n * (-p * log2(p) - (1 - p) * log2(1 - p));
}

typedef struct {
    double entropy_bits, bitmap_bits;   /* block linears with outliers */
} positions_acc;

static int positions_one(qmc_model *m, qmc_tensor *t, int layer, void *user) {
    positions_acc *a = user;
    if (!qmc_tensor_is_block_linear(m, t) || t->type != QMC_TYPE_PACKED || t->q->n_out == 0) return 0;
    a->entropy_bits += position_entropy_bits(t);
    a->bitmap_bits += 8.0 * (double)t->q->mask_bytes;
    return 0;
}

typedef struct {
    const qmc_model *ref;
    cJSON *arr;               /* JSON rows, or NULL for the table */
    qmc_quant_error *errs;    /* per 2-D tensor, in iteration order (with --ref) */
    int n, i;
    qmc_quant_error blocks;   /* totals over block linears (with --ref) */
    int rc;
} inspect_ctx;

/* First pass with --ref: every error is computed (and every mismatch
 * reported) before anything is printed. */
static int compare_one(qmc_model *m, qmc_tensor *t, int layer, void *user) {
    inspect_ctx *x = user;
    if (t->n_dims != 2) return 0;
    if (x->errs) {
        if ((x->rc = compare(t, x->ref, &x->errs[x->n]))) return 1;
        if (qmc_tensor_is_block_linear(m, t)) {
            x->blocks.sse += x->errs[x->n].sse;
            x->blocks.energy += x->errs[x->n].energy;
            x->blocks.n += x->errs[x->n].n;
        }
    }
    x->n++;
    return 0;
}

static int inspect_one(qmc_model *m, qmc_tensor *t, int layer, void *user) {
    inspect_ctx *x = user;
    if (t->n_dims != 2) return 0;
    qmc_bpw_acc a = {0};
    qmc_bpw_add(&a, t);
    qmc_quant_error e = {0};
    if (x->ref) e = x->errs[x->i];
    x->i++;
    const qmc_qtensor *q = t->type == QMC_TYPE_PACKED ? t->q : NULL;
    if (x->arr) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", t->name);
        cJSON_AddNumberToObject(o, "rows", (double)qmc_tensor_rows(t));
        cJSON_AddNumberToObject(o, "cols", (double)t->ne[0]);
        cJSON_AddStringToObject(o, "type", q ? "packed" : qmc_type_name(t->type));
        if (q) {
            cJSON_AddStringToObject(o, "method", qmc_method_name(q->method));
            cJSON_AddNumberToObject(o, "rho", q->rho);
            cJSON_AddNumberToObject(o, "tau", q->tau);
            cJSON_AddNumberToObject(o, "n_outliers", (double)q->n_out);
            cJSON_AddNumberToObject(o, "bits_in", q->in.bits);
            cJSON_AddNumberToObject(o, "bits_out", q->n_out ? q->out.bits : 0);
            cJSON_AddNumberToObject(o, "group", q->in.group);
            cJSON_AddBoolToObject(o, "asym", q->in.asym);
        }
        cJSON_AddItemToObject(o, "bpw", cli_bpw_json(&a));
        if (x->ref) {
            cJSON_AddNumberToObject(o, "rmse", cli_rmse(&e));
            cJSON_AddNumberToObject(o, "sqnr_db", cli_sqnr_db(&e));
        }
        cJSON_AddItemToArray(x->arr, o);
        return 0;
    }
    char shape[48], bits[24];
    snprintf(shape, sizeof shape, "%lldx%lld", (long long)qmc_tensor_rows(t), (long long)t->ne[0]);
    fmt_bits(bits, sizeof bits, t);
    printf("%-26s %-12s %-6s %5.3f %9.3g %-7s %5.2f %5.3f %5.3f %5.2f %5.3f %5.2f %6.3f", t->name, shape,
           q ? qmc_method_name(q->method) : "-", q ? q->rho : 0.0, q ? q->tau : 0.0, bits, qmc_bpw_of(&a, a.in_codes),
           qmc_bpw_of(&a, a.in_scales), qmc_bpw_of(&a, a.mask), qmc_bpw_of(&a, a.out_codes),
           qmc_bpw_of(&a, a.out_scales), qmc_bpw_nominal(&a), qmc_bpw_honest(&a));
    if (x->ref) printf(" %10.4g %7.2f", cli_rmse(&e), cli_sqnr_db(&e));
    printf("\n");
    return 0;
}

/* A qmc.* key as text ("" when absent). */
static void meta_str(const gguf_ctx *g, const char *key, char *buf, size_t cap) {
    buf[0] = 0;
    const gguf_kv *kv = gguf_find(g, key);
    if (!kv) return;
    int64_t i;
    double f;
    bool b;
    if (kv->type == GGUF_TYPE_STRING) gguf_get_str(g, key, buf, cap);
    else if (kv->type == GGUF_TYPE_BOOL && gguf_get_bool(g, key, &b)) snprintf(buf, cap, "%s", b ? "true" : "false");
    else if ((kv->type == GGUF_TYPE_FLOAT32 || kv->type == GGUF_TYPE_FLOAT64) && gguf_get_f64(g, key, &f))
        snprintf(buf, cap, "%.9g", f);
    else if (gguf_get_i64(g, key, &i)) snprintf(buf, cap, "%lld", (long long)i);
}

int cmd_inspect(int argc, char **argv) {
    cli_args a;
    int prc = cli_parse(&k_info, argc, argv, &a);
    if (prc) return prc == 1 ? 0 : 2;
    if (a.n_positional != 1) return cli_error("inspect", "expected one packed model file, got %d", a.n_positional);
    const char *path = a.positional[0];
    qmc_load_opts lo = {0};
    qmc_model *m = NULL, *ref = NULL;
    inspect_ctx x = {NULL, NULL, NULL, 0, 0, {0, 0, 0}, 0};
    if (qmc_model_load(path, &lo, &m)) return cli_fail("inspect");
    int status = 1;
    if (!m->gguf || !gguf_find(m->gguf, "qmc.format_version")) {
        cli_error("inspect", "%s: not a qmc packed model (no qmc.* metadata; make one with qmc quantize)", path);
        goto done;
    }
    if (cli_get(&a, "ref") && !(ref = cli_load_model("inspect", cli_get(&a, "ref"), &a))) goto done;
    static const char *keys[] = {"qmc.format_version", "qmc.version", "qmc.method", "qmc.rho", "qmc.bits_in",
                                 "qmc.bits_out", "qmc.group", "qmc.asym", "qmc.grid", "qmc.grid_lo",
                                 "qmc.p_minus", "qmc.p_plus", "qmc.mlc_bits_per_cell", "qmc.device",
                                 "qmc.noise_p_source", "qmc.mlc_encoding",
                                 "qmc.position_encoding", "qmc.embed_bits", "qmc.quantize_embeddings", "qmc.source"};
    char val[256];
    qmc_model_bpw bpw;
    qmc_model_bpw_compute(m, &bpw);
    int64_t mlc = 3;
    gguf_get_i64(m->gguf, "qmc.mlc_bits_per_cell", &mlc);
    if (mlc < 2 || mlc > 3) mlc = 3;
    positions_acc pos = {0, 0};
    qmc_model_for_each_tensor(m, positions_one, &pos);
    const double wb = bpw.blocks.weights ? (double)bpw.blocks.weights : 1;
    /* ReRAM cells per weight of the block linears in the recorded cell mode */
    double cells = qmc_bpw_of(&bpw.blocks, bpw.blocks.in_codes) / (double)mlc;
    x.ref = ref;
    qmc_model_for_each_tensor(m, compare_one, &x);   /* counts the 2-D tensors */
    if (ref) {
        x.errs = qmc_alloc((size_t)x.n + 1, sizeof *x.errs);
        if (!x.errs) {
            cli_fail("inspect");
            goto done;
        }
        x.n = 0;
        qmc_model_for_each_tensor(m, compare_one, &x);
        if (x.rc) {
            cli_fail("inspect");
            goto done;
        }
    }
    if (cli_flag(&a, "json")) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "file", path);
        cJSON *meta = cJSON_AddObjectToObject(j, "metadata");
        for (size_t i = 0; i < QMC_ARRAY_LEN(keys); i++) {
            meta_str(m->gguf, keys[i], val, sizeof val);
            if (val[0]) cJSON_AddStringToObject(meta, keys[i] + 4, val);
        }
        x.arr = cJSON_AddArrayToObject(j, "tensors");
        qmc_model_for_each_tensor(m, inspect_one, &x);
        cJSON_AddItemToObject(j, "block_linears", cli_bpw_json(&bpw.blocks));
        cJSON_AddItemToObject(j, "all_weights", cli_bpw_json(&bpw.all));
        cJSON_AddNumberToObject(j, "reram_cells_per_weight", cells);
        cJSON_AddNumberToObject(j, "position_bitmap_bpw", pos.bitmap_bits / wb);
        cJSON_AddNumberToObject(j, "position_entropy_bound_bpw", pos.entropy_bits / wb);
        if (ref) {
            cJSON_AddNumberToObject(j, "block_rmse", cli_rmse(&x.blocks));
            cJSON_AddNumberToObject(j, "block_sqnr_db", cli_sqnr_db(&x.blocks));
        }
        cli_json_print(j);
    } else {
        printf("%s\n", path);
        for (size_t i = 0; i < QMC_ARRAY_LEN(keys); i++) {
            meta_str(m->gguf, keys[i], val, sizeof val);
            if (val[0]) printf("  %-24s %s\n", keys[i], val);
        }
        printf("\n%-26s %-12s %-6s %5s %9s %-7s %5s %5s %5s %5s %5s %5s %6s%s\n", "tensor", "shape", "method", "rho", "tau",
               "bits", "ReRAM", "sc", "map", "MRAM", "osc", "nom", "honest", ref ? "       RMSE SQNR_dB" : "");
        qmc_model_for_each_tensor(m, inspect_one, &x);
        printf("\n");
        cli_bpw_print(stdout, "block linears", &bpw.blocks);
        cli_bpw_print(stdout, "all weights", &bpw.all);
        printf("ReRAM cells per block weight (%lld-bit cells): %.3f\n", (long long)mlc, cells);
        if (pos.bitmap_bits > 0)
            printf("outlier positions of the block linears: bitmap %.4f bpw, entropy bound n*H(rho) %.4f bpw\n",
                   pos.bitmap_bits / wb, pos.entropy_bits / wb);
        if (ref) printf("block linears vs %s: RMSE %.6g, SQNR %.2f dB\n", ref->path, cli_rmse(&x.blocks), cli_sqnr_db(&x.blocks));
    }
    status = 0;
done:
    qmc_free(x.errs);
    qmc_model_free(ref);
    qmc_model_free(m);
    return status;
}
