/* packfile.c — packed tensors inside GGUF files (layout in packfile.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "quant/packfile.h"
#include "util/util.h"

static const char *elem_name(int e) {
    switch (e) {
    case QMC_ELEM_INT: return "int";
    case QMC_ELEM_MXINT: return "mxint";
    case QMC_ELEM_MXFP4: return "mxfp4";
    }
    return "?";
}

void qmc_packed_describe(const qmc_qtensor *q, char *buf, size_t cap) {
    snprintf(buf, cap, "rows=%lld cols=%lld method=%s in=%d:%s:%s:%d out=%d:%s:%s nout=%lld rho=%.9g tau=%.9g",
             (long long)q->rows, (long long)q->cols, qmc_method_name(q->method), q->in.bits, elem_name(q->in.elem),
             q->in.asym ? "asym" : "sym", q->in.group, q->out.bits, elem_name(q->out.elem),
             q->out.asym ? "asym" : "sym", (long long)q->n_out, (double)q->rho, (double)q->tau);
}

static int parse_fmt(const char *v, bool with_group, qmc_plane_fmt *f) {
    char elem[16], sym[8];
    int bits, group = 0, n;
    if (with_group) {
        if (sscanf(v, "%d:%15[a-z0-9]:%7[a-z]:%d%n", &bits, elem, sym, &group, &n) != 4 || v[n]) return -1;
    } else if (sscanf(v, "%d:%15[a-z0-9]:%7[a-z]%n", &bits, elem, sym, &n) != 3 || v[n])
        return -1;
    if (bits < 0 || bits > 8 || group < 0) return -1;
    f->bits = (uint8_t)bits;
    f->group = group;
    if (strcmp(elem, "int") == 0) f->elem = QMC_ELEM_INT;
    else if (strcmp(elem, "mxint") == 0) f->elem = QMC_ELEM_MXINT;
    else if (strcmp(elem, "mxfp4") == 0) f->elem = QMC_ELEM_MXFP4;
    else return -1;
    if (strcmp(sym, "sym") == 0) f->asym = 0;
    else if (strcmp(sym, "asym") == 0) f->asym = 1;
    else return -1;
    return 0;
}

int qmc_packed_parse_desc(const char *desc, const char *label, const char *name, qmc_qtensor *q) {
    char buf[512];
    if (strlen(desc) >= sizeof buf) return qmc_fail(QMC_ERR_FORMAT, "%s: descriptor of '%s' is too long", label, name);
    snprintf(buf, sizeof buf, "%s", desc);
    memset(q, 0, sizeof *q);
    unsigned seen = 0;
    char *save = NULL;
    for (char *tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq) goto bad;
        *eq = 0;
        const char *k = tok, *v = eq + 1;
        int64_t iv;
        double dv;
        if (strcmp(k, "rows") == 0 && qmc_parse_int(v, 1, (int64_t)1 << 31, &iv)) q->rows = iv, seen |= 1;
        else if (strcmp(k, "cols") == 0 && qmc_parse_int(v, 1, (int64_t)1 << 31, &iv)) q->cols = iv, seen |= 2;
        else if (strcmp(k, "method") == 0 && qmc_method_from_name(v) >= 0) q->method = (qmc_method)qmc_method_from_name(v), seen |= 4;
        else if (strcmp(k, "in") == 0 && parse_fmt(v, true, &q->in) == 0) seen |= 8;
        else if (strcmp(k, "out") == 0 && parse_fmt(v, false, &q->out) == 0) seen |= 16;
        else if (strcmp(k, "nout") == 0 && qmc_parse_int(v, 0, INT64_MAX, &iv)) q->n_out = iv, seen |= 32;
        else if (strcmp(k, "rho") == 0 && qmc_parse_double(v, &dv) && dv >= 0 && dv < 1) q->rho = (float)dv, seen |= 64;
        else if (strcmp(k, "tau") == 0 && qmc_parse_double(v, &dv) && dv >= 0) q->tau = (float)dv, seen |= 128;
        else goto bad;
    }
    if (seen != 255) goto bad;
    return QMC_OK;
bad:
    return qmc_fail(QMC_ERR_FORMAT, "%s: malformed qmc descriptor for tensor '%s': \"%.200s\"", label, name, desc);
}

/* Find plane N.suffix with the given type and exact byte size. */
static int plane(const gguf_ctx *g, const char *label, const char *name, const char *suffix, uint32_t type,
                 uint64_t nbytes, bool required, const uint8_t **out, size_t *out_bytes) {
    char full[QMC_MAX_NAME + 16];
    snprintf(full, sizeof full, "%s.%s", name, suffix);
    const gguf_tensor_info *ti = gguf_find_tensor(g, full);
    *out = NULL;
    if (!ti) return required ? qmc_fail(QMC_ERR_FORMAT, "%s: packed tensor '%s' lacks its plane '%s'", label, name, full) : QMC_OK;
    if (ti->type != type)
        return qmc_fail(QMC_ERR_FORMAT, "%s: plane '%s' has type %s, expected %s", label, full, ggml_type_name(ti->type), ggml_type_name(type));
    if (nbytes != UINT64_MAX && ti->nbytes != nbytes)
        return qmc_fail(QMC_ERR_FORMAT, "%s: plane '%s' has %llu bytes, expected %llu", label, full,
                        (unsigned long long)ti->nbytes, (unsigned long long)nbytes);
    *out = ti->data;
    if (out_bytes) *out_bytes = (size_t)ti->nbytes;
    return QMC_OK;
}

int qmc_packed_read(const gguf_ctx *g, const char *label, const char *name, qmc_tensor *t) {
    char key[QMC_MAX_NAME + 16];
    snprintf(key, sizeof key, "qmc.tensor.%s", name);
    const gguf_kv *kv = gguf_find(g, key);
    if (!kv) return 0;
    if (kv->type != GGUF_TYPE_STRING || kv->v.s.len > 511)
        return qmc_fail(QMC_ERR_FORMAT, "%s: %s must be a short string", label, key);
    char desc[512];
    memcpy(desc, kv->v.s.s, kv->v.s.len);
    desc[kv->v.s.len] = 0;
    qmc_qtensor hdr;
    int rc = qmc_packed_parse_desc(desc, label, name, &hdr);
    if (rc) return rc;
    int64_t n;
    /* at most 2^40 weights (as qmc_qt_alloc), so that bit counts cannot overflow */
    if (!qmc_mul_ok(hdr.rows, hdr.cols, &n) || n > ((int64_t)1 << 40) || hdr.n_out > n)
        return qmc_fail(QMC_ERR_FORMAT, "%s: packed tensor '%s': bad shape or outlier count", label, name);
    if (hdr.in.bits < 2 || (hdr.n_out > 0 && (hdr.out.bits < 2 || hdr.out.elem != QMC_ELEM_INT)) ||
        (hdr.in.elem == QMC_ELEM_MXFP4 && hdr.in.bits != 4) || (hdr.in.elem != QMC_ELEM_INT && hdr.in.asym) ||
        hdr.in.group > hdr.cols)
        return qmc_fail(QMC_ERR_FORMAT, "%s: packed tensor '%s': unsupported plane format", label, name);
    qmc_qtensor *q = qmc_alloc(1, sizeof *q);
    if (!q) return QMC_ERR_NOMEM;
    *q = hdr;
    int64_t ng = q->rows * qmc_qt_groups(q);
    uint32_t st = q->in.elem == QMC_ELEM_INT ? QMC_TYPE_F16 : QMC_TYPE_I8;
    uint64_t sb = (uint64_t)ng * (uint64_t)qmc_qt_scale_bytes(&q->in);
    if ((rc = plane(g, label, name, "qin", QMC_TYPE_I8, qmc_bits_bytes(n - q->n_out, q->in.bits), true, &q->in_codes, &q->in_codes_bytes)) ||
        (rc = plane(g, label, name, "qin_s", st, sb, true, &q->in_scale, NULL)) ||
        (rc = plane(g, label, name, "qin_m", QMC_TYPE_F16, (uint64_t)ng * 2, q->in.asym, &q->in_min, NULL)))
        goto fail;
    if (q->n_out > 0 &&
        ((rc = plane(g, label, name, "qmask", QMC_TYPE_I8, qmc_bits_bytes(n, 1), true, &q->mask, &q->mask_bytes)) ||
         (rc = plane(g, label, name, "qout", QMC_TYPE_I8, qmc_bits_bytes(q->n_out, q->out.bits), true, &q->out_codes, &q->out_codes_bytes)) ||
         (rc = plane(g, label, name, "qout_s", QMC_TYPE_F16, (uint64_t)q->rows * 2, true, &q->out_scale, NULL)) ||
         (rc = plane(g, label, name, "qout_m", QMC_TYPE_F16, (uint64_t)q->rows * 2, q->out.asym, &q->out_min, NULL))))
        goto fail;
    q->row_in = qmc_alloc((size_t)q->rows + 1, sizeof(int64_t));
    if (!q->row_in) {
        rc = QMC_ERR_NOMEM;
        goto fail;
    }
    if ((rc = qmc_qt_finish(q))) {
        qmc_error_prefix(rc, "%s: packed tensor '%s'", label, name);
        goto fail;
    }
    qmc_tensor_init(t, name, QMC_TYPE_PACKED, 2, q->cols, q->rows);
    t->q = q;
    return 1;
fail:
    qmc_qt_free(q);
    return rc;
}

static int add_plane(gguf_writer *w, const char *name, const char *suffix, uint32_t type, int n_dims, int64_t ne0,
                     int64_t ne1, const void *data) {
    char full[QMC_MAX_NAME + 16];
    snprintf(full, sizeof full, "%s.%s", name, suffix);
    if (strlen(full) >= QMC_MAX_NAME) return qmc_fail(QMC_ERR_ARG, "tensor name '%s' too long for its planes", name);
    int64_t ne[2] = {ne0, ne1};
    return gguf_add_tensor(w, full, type, n_dims, ne, data);
}

int qmc_packed_write(gguf_writer *w, const qmc_tensor *t) {
    const qmc_qtensor *q = t->q;
    char desc[512], key[QMC_MAX_NAME + 16];
    qmc_packed_describe(q, desc, sizeof desc);
    snprintf(key, sizeof key, "qmc.tensor.%s", t->name);
    int rc = gguf_set_str(w, key, desc);
    int64_t ng = qmc_qt_groups(q);
    bool mx = q->in.elem != QMC_ELEM_INT;
    if (!rc) rc = add_plane(w, t->name, "qin", QMC_TYPE_I8, 1, (int64_t)q->in_codes_bytes, 1, q->in_codes);
    if (!rc) rc = add_plane(w, t->name, "qin_s", mx ? QMC_TYPE_I8 : QMC_TYPE_F16, 2, ng, q->rows, q->in_scale);
    if (!rc && q->in.asym) rc = add_plane(w, t->name, "qin_m", QMC_TYPE_F16, 2, ng, q->rows, q->in_min);
    if (q->n_out > 0) {
        if (!rc) rc = add_plane(w, t->name, "qmask", QMC_TYPE_I8, 1, (int64_t)q->mask_bytes, 1, q->mask);
        if (!rc) rc = add_plane(w, t->name, "qout", QMC_TYPE_I8, 1, (int64_t)q->out_codes_bytes, 1, q->out_codes);
        if (!rc) rc = add_plane(w, t->name, "qout_s", QMC_TYPE_F16, 1, q->rows, 1, q->out_scale);
        if (!rc && q->out.asym) rc = add_plane(w, t->name, "qout_m", QMC_TYPE_F16, 1, q->rows, 1, q->out_min);
    }
    return rc;
}
