/* cmd_quantize.c — qmc quantize: a model to a packed .qmc.gguf. */
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cli_calib.h"
#include "cli/cli_device.h"
#include "cli/json.h"
#include "cli/quant_report.h"
#include "quant/quantize.h"

static const cli_opt k_opts[] = {
    {"model", 'm', "MODEL", "source model (llama2.c .bin, GGUF F32/F16/BF16, HF directory)"},
    {"output", 'o', "OUT", "packed output file (.qmc.gguf), written crash-safely"},
    {"method", 0, "NAME", "qmc (default), rtn, mxint4, mxfp4 (mxint: MX integers of --bits-in bits); calibrated: gptq, awq, qmc-gptq"},
    {"calib", 0, "FILE", "gptq/awq/qmc-gptq: calibration text (default: data/text/wikitext2-valid-slice.txt)"},
    {"calib-tokens", 0, "N", "calibration tokens taken from the start of the text (default 2048)"},
    {"calib-ctx", 0, "N", "calibration window incl. BOS (default: the model's context, at most 2048)"},
    {"act-order", 0, NULL, "gptq/qmc-gptq: quantize columns in decreasing Hessian-diagonal order"},
    {"damp", 0, "F", "gptq/qmc-gptq: damping, fraction of the mean Hessian diagonal (default 0.01)"},
    {"rho", 0, "R", "qmc: fraction of weights per tensor kept as outliers, in [0, 1) (default 0.3)"},
    {"bits-in", 0, "B", "inlier (ReRAM) / main code bits, 2..8 (default: qmc 3, others 4)"},
    {"bits-out", 0, "B", "qmc: outlier (MRAM) code bits, 2..8 (default 5)"},
    {"group", 0, "N", "columns per scale group; 0 = per output channel (default; MX: 32)"},
    {"asym", 0, NULL, "asymmetric planes: scale and offset per group (the default)"},
    {"sym", 0, NULL, "symmetric planes: scale only"},
    {"grid", 0, "N", "scale candidates of the grid search (default 100; rtn: 1 = max-abs scale)"},
    {"grid-lo", 0, "F", "smallest candidate as a fraction of the max-range scale, in (0, 1] (default 0.25)"},
    {"embed-bits", 0, "B", "token embedding / output head: RTN INT-B per row (default 8); 0 keeps them as stored"},
    {"quantize-embeddings", 0, NULL, "quantize embedding and head with the main method instead"},
    {"no-quantize-embeddings", 0, NULL, "the default: embedding and head follow --embed-bits"},
    {"p-minus", 0, "P", "noise-aware inlier loss: code read one step low (default: from --device, else 0)"},
    {"p-plus", 0, "P", "noise-aware inlier loss: code read one step high (default: from --device, else 0)"},
    CLI_DEVICE_OPTS,
    {"quiet", 'q', NULL, "no progress bar"},
    {"tokenizer", 0, "FILE", "tokenizer for llama2.c checkpoints"},
    {"json", 0, NULL, "print the result as JSON (bits per weight nominal and honest, per plane, errors)"},
    {0},
};

static const cli_command_info k_info = {
    "quantize",
    "qmc quantize -m MODEL -o OUT.qmc.gguf [--method qmc|rtn|mxint4|mxfp4|gptq|awq|qmc-gptq] [--rho R] [--bits-in B] [--bits-out B]\n"
    "                    [--group N] [--asym|--sym] [--embed-bits 8|0] [--quantize-embeddings] [--p-minus P --p-plus P]\n"
    "                    [--device PROFILE [--mlc 2|3]] [--calib FILE --calib-tokens N --calib-ctx N --act-order --damp F]\n"
    "                    [--json]",
    "Quantize a model into a packed GGUF file that `qmc ppl`, `qmc generate` and any GGUF reader load.",
    "QMC (arXiv 2601.14549): per tensor, the round(rho*n) largest-magnitude weights are outliers, quantized\n"
    "per output channel at --bits-out bits (MRAM plane + position bitmap); the rest are inliers at --bits-in\n"
    "bits (ReRAM plane).  Scales come from a 1-D grid search minimising the squared error, plus\n"
    "n*(p_minus+p_plus)*Delta^2 for inliers, the pair derived from --device PROFILE for its --mlc cells\n"
    "(qmc device PROFILE shows it; --p-minus/--p-plus override either).  rtn: one uniform plane (per channel or per --group columns),\n"
    "max-abs scale unless --grid is given.  mxint4/mxfp4: OCP Microscaling, blocks of 32 with an E8M0 scale.\n"
    "gptq/awq/qmc-gptq calibrate on --calib text (docs/calibration.md).  All transformer-block linears are\n"
    "quantized; see docs/quantization.md.",
    k_opts};

typedef struct {
    bool tty, quiet;
    double last;
    int last_decile;
} progress_state;

static void progress(void *user, double done, const char *tensor) {
    progress_state *ps = user;
    if (ps->quiet) return;
    double now = qmc_now();
    if (ps->tty) {
        if (done < 1.0 && now - ps->last < 0.1) return;
        ps->last = now;
        int w = 30, fill = (int)(done * w);
        fprintf(stderr, "\rquantizing [%.*s%*s] %5.1f%% %-32.32s", fill, "##############################", w - fill, "",
                100 * done, tensor ? tensor : "");
        if (done >= 1.0) fprintf(stderr, "\n");
    } else {
        int decile = (int)(done * 10);
        if (decile <= ps->last_decile) return;
        ps->last_decile = decile;
        fprintf(stderr, "quantizing: %3d%%%s%s\n", decile * 10, tensor ? " " : "", tensor ? tensor : "");
    }
}

int cmd_quantize(int argc, char **argv) {
    cli_args a;
    int prc = cli_parse(&k_info, argc, argv, &a);
    if (prc) return prc == 1 ? 0 : 2;
    if (a.n_positional) return cli_error("quantize", "unexpected argument '%s'", a.positional[0]);
    qmc_model_quant_opts o;
    qmc_model_quant_opts_default(&o);
    qmc_quant_params *p = &o.blocks;
    int def_bits;
    const char *method = cli_get(&a, "method");
    if (qmc_quant_params_for_method(method ? method : "qmc", p, &def_bits, NULL)) {
        qmc_error_prefix(QMC_ERR_ARG, "--method");
        return cli_fail("quantize");
    }
    const bool outliers = p->method == QMC_METHOD_QMC || p->method == QMC_METHOD_QMC_GPTQ;
    const bool calibrated = qmc_method_is_calibrated(p->method);
    double rho, glo;
    int64_t bits_in, bits_out, group, grid, embed_bits;
    if (!cli_double(&a, "rho", -INFINITY, INFINITY, outliers ? 0.3 : 0.0, &rho) ||
        !cli_int(&a, "bits-in", INT32_MIN, INT32_MAX, def_bits, &bits_in) ||
        !cli_int(&a, "bits-out", INT32_MIN, INT32_MAX, 5, &bits_out) || !cli_int(&a, "group", 0, 1 << 24, 0, &group) ||
        !cli_int(&a, "grid", 1, 100000, 0, &grid) || !cli_double(&a, "grid-lo", 0, 1, 0, &glo) ||
        !cli_int(&a, "embed-bits", INT32_MIN, INT32_MAX, 8, &embed_bits))
        return 2;
    cli_quant_device qd;  /* --device/--mlc: cell mode and the derived p pair */
    int drc = cli_quant_device_load("quantize", &a, (int)bits_in, &qd);
    if (drc) return drc;
    if (cli_get(&a, "rho") && !outliers) return cli_error("quantize", "--rho applies to --method qmc and qmc-gptq only");
    if (cli_get(&a, "bits-out") && !outliers)
        return cli_error("quantize", "--bits-out applies to --method qmc and qmc-gptq only");
    cli_calib cal;
    if (!cli_calib_opts("quantize", &a, &cal)) return 2;
    if (!calibrated && (cli_get(&a, "calib") || cli_get(&a, "calib-tokens") || cli_get(&a, "calib-ctx") ||
                        cli_flag(&a, "act-order") || cli_get(&a, "damp")))
        return cli_error("quantize", "--calib, --calib-tokens, --calib-ctx, --act-order and --damp apply to gptq, awq and qmc-gptq only");
    if (cli_flag(&a, "act-order") && p->method == QMC_METHOD_AWQ) return cli_error("quantize", "--act-order applies to gptq and qmc-gptq only");
    if (cli_get(&a, "grid-lo") && glo <= 0) return cli_error("quantize", "--grid-lo must be in (0, 1]");
    if (cli_flag(&a, "quantize-embeddings") && cli_flag(&a, "no-quantize-embeddings"))
        return cli_error("quantize", "--quantize-embeddings and --no-quantize-embeddings contradict each other");
    p->rho = (float)rho;
    p->bits_in = (int)bits_in;
    p->bits_out = (int)bits_out;
    p->group = (int)group;
    if (cli_flag(&a, "asym") && cli_flag(&a, "sym")) return cli_error("quantize", "--asym and --sym contradict each other");
    p->asym = !cli_flag(&a, "sym") && p->method != QMC_METHOD_MXINT && p->method != QMC_METHOD_MXFP4;
    if (cli_flag(&a, "asym") && !p->asym) return cli_error("quantize", "MX formats are symmetric (no --asym)");
    p->grid = (int)grid;
    p->grid_lo = (float)glo;
    p->p_minus = qd.p_minus;
    p->p_plus = qd.p_plus;
    o.embed_bits = (int)embed_bits;
    o.quantize_embeddings = cli_flag(&a, "quantize-embeddings");
    if (qmc_quant_params_check(p)) {
        cli_fail("quantize");
        return 2;
    }
    if (o.embed_bits != 0 && (o.embed_bits < 2 || o.embed_bits > 8)) {
        cli_error("quantize", "--embed-bits %d is neither 0 (keep) nor in 2..8", o.embed_bits);
        return 2;
    }
    const char *out = cli_get(&a, "output");
    if (!out) {
        cli_error("quantize", "no output given (-o OUT.qmc.gguf)");
        return 2;
    }
    const bool json = cli_flag(&a, "json");
    progress_state ps = {isatty(2) != 0, cli_flag(&a, "quiet"), 0, -1};
    o.progress = progress;
    o.progress_user = &ps;

    const char *src = cli_get(&a, "model");
    qmc_model *m = cli_load_model("quantize", src, &a);
    if (!m) return 1;
    qmc_model_quant_report rep;
    int status = 1;
    double t0 = qmc_now();
    if (calibrated) {
        if (!cli_calib_collect("quantize", m, ps.quiet, &cal)) goto done;
        o.calib = cal.stats;
        o.calib_opts = &cal.opts;
    }
    if (qmc_quantize_model(m, &o, &rep)) {
        if (ps.tty && !ps.quiet) fprintf(stderr, "\n");
        cli_fail("quantize");
        goto done;
    }
    double t_quant = qmc_now() - t0;
    qmc_quant_meta meta = {.opts = o, .mlc_bits = qd.cell_bits, .device = cli_get(&a, "device"), .source = src,
                           .p_source = qd.p_source, .encoding = qd.present ? qmc_encoding_name(qd.dev.encoding) : NULL,
                           .calib_text = calibrated ? cal.text : NULL, .calib_tokens = cal.tokens};
    if (qmc_save_quantized(m, &meta, out)) {
        cli_fail("quantize");
        qmc_model_quant_report_free(&rep);
        goto done;
    }
    double t_total = qmc_now() - t0;
    qmc_model_bpw bpw;
    qmc_model_bpw_compute(m, &bpw);
    qmc_quant_error blk = {0};
    for (int i = 0; i < rep.n_tensors; i++)
        if (rep.tensors[i].block_linear) {
            blk.sse += rep.tensors[i].err.sse;
            blk.energy += rep.tensors[i].err.energy;
            blk.n += rep.tensors[i].err.n;
        }
    if (json) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "model", src);
        cJSON_AddStringToObject(j, "output", out);
        cJSON_AddStringToObject(j, "method", qmc_method_name(p->method));
        cJSON_AddNumberToObject(j, "rho", p->rho);
        cJSON_AddNumberToObject(j, "bits_in", p->bits_in);
        if (outliers) cJSON_AddNumberToObject(j, "bits_out", p->bits_out);
        if (calibrated) {
            cJSON_AddStringToObject(j, "calib", cal.text);
            cJSON_AddNumberToObject(j, "calib_tokens", (double)cal.tokens);
            cJSON_AddNumberToObject(j, "calib_ctx", cal.ctx);
            if (p->method != QMC_METHOD_AWQ) cJSON_AddBoolToObject(j, "act_order", cal.opts.act_order);
            if (p->method != QMC_METHOD_AWQ) cJSON_AddNumberToObject(j, "damp", cal.opts.damp);
        }
        cJSON_AddNumberToObject(j, "group", p->group);
        cJSON_AddBoolToObject(j, "asym", p->asym);
        int grid_used;
        float lo_used;
        qmc_quant_params_resolve(p, &grid_used, &lo_used);
        cJSON_AddNumberToObject(j, "grid", grid_used);
        cJSON_AddNumberToObject(j, "grid_lo", lo_used);
        cJSON_AddNumberToObject(j, "p_minus", p->p_minus);
        cJSON_AddNumberToObject(j, "p_plus", p->p_plus);
        cJSON_AddNumberToObject(j, "mlc_bits_per_cell", qd.cell_bits);
        cJSON_AddStringToObject(j, "device", meta.device ? meta.device : "none");
        cli_quant_device_json(j, &qd);
        cJSON_AddNumberToObject(j, "embed_bits", o.embed_bits);
        cJSON_AddBoolToObject(j, "quantize_embeddings", o.quantize_embeddings);
        /* flat copies of the headline numbers (for scripts) */
        cJSON_AddNumberToObject(j, "block_nominal_bpw", qmc_bpw_nominal(&bpw.blocks));
        cJSON_AddNumberToObject(j, "block_honest_bpw", qmc_bpw_honest(&bpw.blocks));
        cJSON_AddNumberToObject(j, "all_nominal_bpw", qmc_bpw_nominal(&bpw.all));
        cJSON_AddNumberToObject(j, "all_honest_bpw", qmc_bpw_honest(&bpw.all));
        cJSON_AddItemToObject(j, "block_linears", cli_bpw_json(&bpw.blocks));
        cJSON_AddItemToObject(j, "all_weights", cli_bpw_json(&bpw.all));
        cJSON_AddNumberToObject(j, "block_rmse", cli_rmse(&blk));
        cJSON_AddNumberToObject(j, "block_sqnr_db", cli_sqnr_db(&blk));
        cJSON_AddNumberToObject(j, "seconds_quantize", t_quant);
        cJSON_AddNumberToObject(j, "seconds_total", t_total);
        cJSON_AddNumberToObject(j, "threads", qmc_threads());
        cJSON *arr = cJSON_AddArrayToObject(j, "tensors");
        for (int i = 0; i < rep.n_tensors; i++) {
            const qmc_tensor_quant_report *r = &rep.tensors[i];
            cJSON *t = cJSON_CreateObject();
            cJSON_AddStringToObject(t, "name", r->name);
            cJSON_AddNumberToObject(t, "rows", (double)r->rows);
            cJSON_AddNumberToObject(t, "cols", (double)r->cols);
            cJSON_AddNumberToObject(t, "rmse", cli_rmse(&r->err));
            cJSON_AddNumberToObject(t, "sqnr_db", cli_sqnr_db(&r->err));
            cJSON_AddItemToArray(arr, t);
        }
        cli_json_print(j);
    } else {
        printf("wrote %s: %s, %d tensors quantized in %.1f s (%.1f s with writing)\n", out, qmc_method_name(p->method),
               rep.n_tensors, t_quant, t_total);
        cli_bpw_print(stdout, "block linears", &bpw.blocks);
        cli_bpw_print(stdout, "all weights", &bpw.all);
        printf("block linears: RMSE %.6g, SQNR %.2f dB\n", cli_rmse(&blk), cli_sqnr_db(&blk));
        cli_quant_device_print(stdout, &qd);
    }
    qmc_model_quant_report_free(&rep);
    status = 0;
done:
    qmc_calib_stats_free(cal.stats);
    qmc_model_free(m);
    return status;
}
