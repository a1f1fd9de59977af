/* quantize_model.c — quantizing whole models: which tensors, with which
 * parameters; the qmc.* metadata of the packed file; bits-per-weight totals. */
#include <string.h>

#include "quant/calib.h"
#include "quant/quantize.h"
#include "util/util.h"

void qmc_model_quant_opts_default(qmc_model_quant_opts *o) {
    memset(o, 0, sizeof *o);
    qmc_quant_params_default(&o->blocks);
    o->embed_bits = 8;
}

static bool is_embedding_or_head(const qmc_model *m, const qmc_tensor *t) {
    return t == &m->token_embd || t == &m->output;
}

/* Parameters for tensor t, or false when t stays as it is. */
static bool params_for(const qmc_model *m, const qmc_tensor *t, const qmc_model_quant_opts *o, qmc_quant_params *p) {
    if (qmc_tensor_is_block_linear(m, t)) {
        *p = o->blocks;
        return true;
    }
    if (!is_embedding_or_head(m, t)) return false;
    if (o->quantize_embeddings) {
        *p = o->blocks;
        return true;
    }
    if (o->embed_bits == 0) return false;
    qmc_quant_params_default(p);
    p->method = QMC_METHOD_RTN;
    p->rho = 0.0f;
    p->bits_in = o->embed_bits;
    p->asym = false;   /* symmetric max-abs rows */
    return true;
}

typedef struct {
    const qmc_model_quant_opts *o;
    qmc_tensor **list;       /* tensors to quantize, in file order */
    int n;
    int64_t weights;
} plan;

static int plan_one(qmc_model *m, qmc_tensor *t, int layer, void *user) {
    plan *pl = user;
    qmc_quant_params p;
    if (!params_for(m, t, pl->o, &p)) return 0;
    if (t->type == QMC_TYPE_PACKED)
        return qmc_fail(QMC_ERR_UNSUPPORTED, "%s: tensor '%s' is already quantized (%s); quantize the original model", m->path,
                        t->name, qmc_method_name(t->q->method));
    if (pl->list) pl->list[pl->n] = t;
    pl->n++;
    pl->weights += qmc_tensor_nelem(t);
    return 0;
}

int qmc_quantize_model(qmc_model *m, const qmc_model_quant_opts *o, qmc_model_quant_report *rep) {
    if (rep) memset(rep, 0, sizeof *rep);
    int rc = qmc_quant_params_check(&o->blocks);
    if (rc) return rc;
    if (o->embed_bits != 0 && (o->embed_bits < 2 || o->embed_bits > 8))
        return qmc_fail(QMC_ERR_ARG, "--embed-bits %d is neither 0 (keep) nor in 2..8", o->embed_bits);
    if (m->cfg.arch == QMC_ARCH_LLAMA && m->cfg.rope_style == QMC_ROPE_NEOX)
        return qmc_fail(QMC_ERR_UNSUPPORTED,
                        "%s: llama weights in Hugging Face row order cannot be packed for GGUF; run `qmc convert` first and quantize the .gguf",
                        m->path);
    const bool calibrated = qmc_method_is_calibrated(o->blocks.method);
    if (calibrated && (!o->calib || !o->calib_opts))
        return qmc_fail(QMC_ERR_ARG, "method '%s' needs calibration data", qmc_method_name(o->blocks.method));
    if (calibrated && o->quantize_embeddings)
        return qmc_fail(QMC_ERR_ARG, "--quantize-embeddings does not apply to calibrated methods (%s)",
                        qmc_method_name(o->blocks.method));
    plan pl = {o, NULL, 0, 0};
    if ((rc = qmc_model_for_each_tensor(m, plan_one, &pl))) return rc;
    pl.list = qmc_alloc((size_t)pl.n + 1, sizeof(qmc_tensor *));
    qmc_tensor_quant_report *tr = qmc_alloc((size_t)pl.n + 1, sizeof *tr);
    if (!pl.list || !tr) {
        qmc_free(pl.list);
        qmc_free(tr);
        return QMC_ERR_NOMEM;
    }
    const int64_t total = pl.weights;
    pl.n = 0;
    pl.weights = 0;
    qmc_model_for_each_tensor(m, plan_one, &pl);
    double t0 = qmc_now();
    if (o->blocks.method == QMC_METHOD_AWQ && (rc = qmc_awq_fold_model(m, o->calib, &o->blocks, o->calib_opts)))
        qmc_error_prefix(rc, "%s: AWQ scales", m->path);
    int64_t done = 0;
    for (int i = 0; i < pl.n && !rc; i++) {
        qmc_tensor *t = pl.list[i];
        qmc_quant_params p;
        params_for(m, t, o, &p);
        if (o->progress) o->progress(o->progress_user, total ? (double)done / (double)total : 1.0, t->name);
        qmc_tensor_quant_report *r = &tr[i];
        snprintf(r->name, sizeof r->name, "%s", t->name);
        r->rows = qmc_tensor_rows(t);
        r->cols = t->ne[0];
        r->block_linear = qmc_tensor_is_block_linear(m, t);
        qmc_tensor packed;
        if (calibrated && r->block_linear) rc = qmc_calib_quantize_tensor(m, t, o->calib, o->calib_opts, &p, &packed, &r->err);
        else rc = qmc_quantize_tensor_ex(t, &p, &packed, NULL, &r->err);
        if (rc) {
            qmc_error_prefix(rc, "%s", m->path);
            break;
        }
        r->quantized = true;
        qmc_tensor_release(t);
        *t = packed;
        done += qmc_tensor_nelem(t);
    }
    if (!rc && o->progress) o->progress(o->progress_user, 1.0, NULL);
    qmc_free(pl.list);
    if (rep && !rc) {
        rep->tensors = tr;
        rep->n_tensors = pl.n;
        rep->seconds = qmc_now() - t0;
    } else qmc_free(tr);
    return rc;
}

void qmc_model_quant_report_free(qmc_model_quant_report *rep) {
    if (!rep) return;
    qmc_free(rep->tensors);
    memset(rep, 0, sizeof *rep);
}

/* ---- the packed file's metadata ------------------------------------------------ */

static int write_meta(gguf_writer *w, void *user) {
    const qmc_quant_meta *mt = user;
    const qmc_quant_params *p = &mt->opts.blocks;
    int grid;
    float grid_lo;
    qmc_quant_params_resolve(p, &grid, &grid_lo);
    const bool mx = p->method == QMC_METHOD_MXINT || p->method == QMC_METHOD_MXFP4;
    int rc = 0;
    if (!rc) rc = gguf_set_u32(w, "qmc.format_version", QMC_PACKED_FORMAT_VERSION);
    if (!rc) rc = gguf_set_str(w, "qmc.version", QMC_VERSION_STRING);
    if (!rc) rc = gguf_set_str(w, "qmc.method", qmc_method_name(p->method));
    if (!rc) rc = gguf_set_f32(w, "qmc.rho", p->rho);
    if (!rc) rc = gguf_set_u32(w, "qmc.bits_in", (uint32_t)p->bits_in);
    if (!rc) rc = gguf_set_u32(w, "qmc.bits_out", p->method == QMC_METHOD_QMC || p->method == QMC_METHOD_QMC_GPTQ ? (uint32_t)p->bits_out : 0);
    if (!rc) rc = gguf_set_u32(w, "qmc.group", (uint32_t)(mx && p->group == 0 ? QMC_MX_BLOCK : p->group));
    if (!rc) rc = gguf_set_bool(w, "qmc.asym", p->asym);
    if (!rc) rc = gguf_set_u32(w, "qmc.grid", mx ? 0 : (uint32_t)grid);
    if (!rc) rc = gguf_set_f32(w, "qmc.grid_lo", mx ? 0.0f : grid_lo);
    if (!rc) rc = gguf_set_f32(w, "qmc.p_minus", (float)p->p_minus);
    if (!rc) rc = gguf_set_f32(w, "qmc.p_plus", (float)p->p_plus);
    if (!rc) rc = gguf_set_u32(w, "qmc.mlc_bits_per_cell", (uint32_t)mt->mlc_bits);
    if (!rc) rc = gguf_set_str(w, "qmc.device", mt->device && *mt->device ? mt->device : "none");
    if (!rc) rc = gguf_set_str(w, "qmc.noise_p_source", mt->p_source ? mt->p_source : "none");
    if (!rc && mt->encoding) rc = gguf_set_str(w, "qmc.mlc_encoding", mt->encoding);
    if (!rc) rc = gguf_set_str(w, "qmc.position_encoding", "bitmap");
    if (!rc) rc = gguf_set_u32(w, "qmc.embed_bits", (uint32_t)mt->opts.embed_bits);
    if (!rc) rc = gguf_set_bool(w, "qmc.quantize_embeddings", mt->opts.quantize_embeddings);
    if (!rc && mt->source) rc = gguf_set_str(w, "qmc.source", qmc_basename(mt->source));
    if (!rc && mt->calib_text) rc = gguf_set_str(w, "qmc.calib.text", qmc_basename(mt->calib_text));
    if (!rc && mt->calib_text) rc = gguf_set_u32(w, "qmc.calib.tokens", (uint32_t)mt->calib_tokens);
    return rc;
}

int qmc_save_quantized(const qmc_model *m, const qmc_quant_meta *meta, const char *path) {
    if (meta->mlc_bits != 2 && meta->mlc_bits != 3)
        return qmc_fail(QMC_ERR_ARG, "--mlc %d: ReRAM cells hold 2 or 3 bits", meta->mlc_bits);
    return qmc_model_save_gguf_with(m, path, QMC_WRITE_KEEP, write_meta, (void *)meta);
}

/* ---- bits per weight ---------------------------------------------------------------- */

void qmc_bpw_add(qmc_bpw_acc *a, const qmc_tensor *t) {
    const int64_t n = qmc_tensor_nelem(t);
    a->weights += n;
    if (t->type == QMC_TYPE_PACKED) {
        qmc_plane_sizes s;
        qmc_qt_plane_sizes(t->q, &s);
        a->in_codes += s.in_codes;
        a->in_scales += s.in_scale + s.in_min;
        a->mask += s.mask;
        a->out_codes += s.out_codes;
        a->out_scales += s.out_scale + s.out_min;
        a->bytes += s.total;
        a->nominal_bits += qmc_qt_nominal_bpw(t->q) * (double)n;
    } else {
        int64_t b = qmc_tensor_nbytes(t);
        a->plain += b;
        a->bytes += b;
        a->nominal_bits += 8.0 * (double)b;
    }
}

static int bpw_one(qmc_model *m, qmc_tensor *t, int layer, void *user) {
    qmc_model_bpw *b = user;
    if (t->n_dims != 2) return 0;
    qmc_bpw_add(&b->all, t);
    if (qmc_tensor_is_block_linear(m, t)) qmc_bpw_add(&b->blocks, t);
    return 0;
}

void qmc_model_bpw_compute(const qmc_model *m, qmc_model_bpw *out) {
    memset(out, 0, sizeof *out);
    qmc_model_for_each_tensor((qmc_model *)m, bpw_one, out);
}
