/* gguf.c — GGUF reader and writer.
 *
 * File layout (little-endian):
 *   "GGUF" u32 version, u64 n_tensors, u64 n_kv,
 *   n_kv x { string key, u32 type, value },
 *   n_tensors x { string name, u32 n_dims, u64 ne[n_dims], u32 ggml_type, u64 offset },
 *   padding to general.alignment (default 32), tensor data (each tensor's
 *   offset, relative to the data section, a multiple of the alignment).
 * A string is u64 length + bytes (no NUL); an array is u32 element type,
 * u64 count, elements. */
#include <inttypes.h>
#include <string.h>

#include "formats/gguf.h"

/* ---- ggml types ---------------------------------------------------------- */

typedef struct { const char *name; int blck; int size; } ggml_type_desc;

static const ggml_type_desc k_types[] = {
    [0] = {"F32", 1, 4},      [1] = {"F16", 1, 2},       [2] = {"Q4_0", 32, 18},
    [3] = {"Q4_1", 32, 20},   [6] = {"Q5_0", 32, 22},    [7] = {"Q5_1", 32, 24},
    [8] = {"Q8_0", 32, 34},   [9] = {"Q8_1", 32, 36},    [10] = {"Q2_K", 256, 84},
    [11] = {"Q3_K", 256, 110}, [12] = {"Q4_K", 256, 144}, [13] = {"Q5_K", 256, 176},
    [14] = {"Q6_K", 256, 210}, [15] = {"Q8_K", 256, 292}, [16] = {"IQ2_XXS", 256, 66},
    [17] = {"IQ2_XS", 256, 74}, [18] = {"IQ3_XXS", 256, 98}, [19] = {"IQ1_S", 256, 50},
    [20] = {"IQ4_NL", 32, 18}, [21] = {"IQ3_S", 256, 110}, [22] = {"IQ2_S", 256, 82},
    [23] = {"IQ4_XS", 256, 136}, [24] = {"I8", 1, 1},     [25] = {"I16", 1, 2},
    [26] = {"I32", 1, 4},     [27] = {"I64", 1, 8},      [28] = {"F64", 1, 8},
    [29] = {"IQ1_M", 256, 56}, [30] = {"BF16", 1, 2},    [34] = {"TQ1_0", 256, 54},
    [35] = {"TQ2_0", 256, 66}, [39] = {"MXFP4", 32, 17},
};

bool ggml_type_known(uint32_t type) {
    return type < QMC_ARRAY_LEN(k_types) && k_types[type].name != NULL;
}

const char *ggml_type_name(uint32_t type) { return ggml_type_known(type) ? k_types[type].name : "unknown"; }

bool ggml_tensor_nbytes(uint32_t type, const int64_t ne[4], uint64_t *out) {
    if (!ggml_type_known(type)) return false;
    const ggml_type_desc *d = &k_types[type];
    if (ne[0] % d->blck) return false;
    int64_t n, t;
    if (!qmc_mul_ok(ne[0] / d->blck, d->size, &n)) return false;
    for (int i = 1; i < 4; i++) {
        if (!qmc_mul_ok(n, ne[i], &t)) return false;
        n = t;
    }
    *out = (uint64_t)n;
    return true;
}

static const char *k_gguf_type_names[GGUF_TYPE_COUNT] = {
    "u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string", "array", "u64", "i64", "f64"};

const char *gguf_type_name(gguf_type t) { return (unsigned)t < GGUF_TYPE_COUNT ? k_gguf_type_names[t] : "?"; }

int gguf_type_size(gguf_type t) {
    switch (t) {
    case GGUF_TYPE_UINT8: case GGUF_TYPE_INT8: case GGUF_TYPE_BOOL: return 1;
    case GGUF_TYPE_UINT16: case GGUF_TYPE_INT16: return 2;
    case GGUF_TYPE_UINT32: case GGUF_TYPE_INT32: case GGUF_TYPE_FLOAT32: return 4;
    case GGUF_TYPE_UINT64: case GGUF_TYPE_INT64: case GGUF_TYPE_FLOAT64: return 8;
    default: return 0;
    }
}

/* ---- reader -------------------------------------------------------------- */

typedef struct {
    const uint8_t *p, *end;
    const char *label;
    const char *what;   /* for error messages: what is being read */
} rd;

static int rd_bytes(rd *r, void *dst, size_t n) {
    memset(dst, 0, n);
    if ((size_t)(r->end - r->p) < n) return qmc_fail(QMC_ERR_FORMAT, "%s: truncated GGUF file while reading %s", r->label, r->what);
    memcpy(dst, r->p, n);
    r->p += n;
    return QMC_OK;
}
static int rd_u32(rd *r, uint32_t *v) { return rd_bytes(r, v, 4); }
static int rd_u64(rd *r, uint64_t *v) { return rd_bytes(r, v, 8); }

static int rd_str(rd *r, gguf_str *s) {
    uint64_t n = 0;
    int rc = rd_u64(r, &n);
    if (rc) return rc;
    if (n > (uint64_t)(r->end - r->p))
        return qmc_fail(QMC_ERR_FORMAT, "%s: GGUF %s: string of %" PRIu64 " bytes runs past the end of the file",
                        r->label, r->what, n);
    s->s = (const char *)r->p;
    s->len = n;
    r->p += n;
    return QMC_OK;
}

static int read_value(rd *r, gguf_kv *kv, gguf_type t) {
    int sz = gguf_type_size(t);
    if (sz) {
        uint8_t raw[8] = {0};
        int rc = rd_bytes(r, raw, (size_t)sz);
        if (rc) return rc;
        switch (t) {
        case GGUF_TYPE_UINT8: kv->v.u = raw[0]; break;
        case GGUF_TYPE_INT8: kv->v.i = (int8_t)raw[0]; break;
        case GGUF_TYPE_BOOL:
            if (raw[0] > 1) return qmc_fail(QMC_ERR_FORMAT, "%s: GGUF key '%s': bool value %u is not 0 or 1", r->label, kv->key, raw[0]);
            kv->v.b = raw[0];
            break;
        case GGUF_TYPE_UINT16: { uint16_t x; memcpy(&x, raw, 2); kv->v.u = x; break; }
        case GGUF_TYPE_INT16: { int16_t x; memcpy(&x, raw, 2); kv->v.i = x; break; }
        case GGUF_TYPE_UINT32: { uint32_t x; memcpy(&x, raw, 4); kv->v.u = x; break; }
        case GGUF_TYPE_INT32: { int32_t x; memcpy(&x, raw, 4); kv->v.i = x; break; }
        case GGUF_TYPE_FLOAT32: { float x; memcpy(&x, raw, 4); kv->v.f = x; break; }
        case GGUF_TYPE_UINT64: memcpy(&kv->v.u, raw, 8); break;
        case GGUF_TYPE_INT64: memcpy(&kv->v.i, raw, 8); break;
        case GGUF_TYPE_FLOAT64: memcpy(&kv->v.f, raw, 8); break;
        default: break;
        }
        return QMC_OK;
    }
    if (t == GGUF_TYPE_STRING) return rd_str(r, &kv->v.s);
    if (t != GGUF_TYPE_ARRAY)
        return qmc_fail(QMC_ERR_FORMAT, "%s: GGUF key '%s' has unknown value type %u", r->label, kv->key, (unsigned)t);
    uint32_t at = 0;
    uint64_t n = 0;
    int rc = rd_u32(r, &at);
    if (!rc) rc = rd_u64(r, &n);
    if (rc) return rc;
    kv->arr_type = (gguf_type)at;
    kv->arr_n = n;
    uint64_t left = (uint64_t)(r->end - r->p);
    if (at == GGUF_TYPE_STRING) {
        if (n > left / 8)
            return qmc_fail(QMC_ERR_FORMAT, "%s: GGUF key '%s': array of %" PRIu64 " strings cannot fit in the file",
                            r->label, kv->key, n);
        kv->arr_str = qmc_alloc(n ? n : 1, sizeof(gguf_str));
        if (!kv->arr_str) return qmc_error_prefix(QMC_ERR_NOMEM, "%s", r->label);
        for (uint64_t i = 0; i < n; i++) {
            rc = rd_str(r, &kv->arr_str[i]);
            if (rc) return rc;
        }
        return QMC_OK;
    }
    int esz = gguf_type_size((gguf_type)at);
    if (!esz)
        return qmc_fail(QMC_ERR_FORMAT, "%s: GGUF key '%s': arrays of type %u are not allowed", r->label,
                        kv->key, at);
    if (n > left / (uint64_t)esz)
        return qmc_fail(QMC_ERR_FORMAT, "%s: GGUF key '%s': array of %" PRIu64 " elements runs past the end of the file",
                        r->label, kv->key, n);
    kv->arr_data = r->p;
    r->p += n * (uint64_t)esz;
    return QMC_OK;
}

void gguf_free(gguf_ctx *g) {
    if (!g) return;
    for (int64_t i = 0; i < g->n_kv; i++) {
        qmc_free(g->kv[i].key);
        qmc_free(g->kv[i].arr_str);
    }
    qmc_free(g->kv);
    qmc_free(g->tensors);
    qmc_strmap_free(&g->kv_index);
    qmc_strmap_free(&g->tensor_index);
    qmc_free(g);
}


int gguf_parse(const uint8_t *buf, size_t size, const char *label, gguf_ctx **out) {
    *out = NULL;
    rd r = {buf, buf + size, label, "header"};
    char magic[4];
    if (size < 4 || memcmp(buf, "GGUF", 4) != 0) {
        if (size < 4) return qmc_fail(QMC_ERR_FORMAT, "%s: not a GGUF file (only %zu bytes)", label, size);
        return qmc_fail(QMC_ERR_FORMAT, "%s: not a GGUF file (bad magic)", label);
    }
    rd_bytes(&r, magic, 4);
    uint32_t version = 0;
    uint64_t n_tensors = 0, n_kv = 0;
    int rc = rd_u32(&r, &version);
    if (rc) return rc;
    if (version == 1) return qmc_fail(QMC_ERR_UNSUPPORTED, "%s: GGUF version 1 is not supported (only 2 and 3)", label);
    if (version != 2 && version != 3)
        return qmc_fail(QMC_ERR_FORMAT, "%s: unknown GGUF version %u", label, version);
    if ((rc = rd_u64(&r, &n_tensors)) || (rc = rd_u64(&r, &n_kv))) return rc;
    uint64_t left = (uint64_t)(r.end - r.p);
    /* smallest kv: 8 (key len) + 1 + 4 + 1 bytes; smallest tensor info: 8+1+4+8+4+8 */
    if (n_kv > left / 13) return qmc_fail(QMC_ERR_FORMAT, "%s: GGUF header claims %" PRIu64 " metadata keys, more than the file can hold", label, n_kv);
    if (n_tensors > left / 33) return qmc_fail(QMC_ERR_FORMAT, "%s: GGUF header claims %" PRIu64 " tensors, more than the file can hold", label, n_tensors);
    if (n_kv > GGUF_MAX_ENTRIES || n_tensors > GGUF_MAX_ENTRIES)
        return qmc_fail(QMC_ERR_FORMAT, "%s: GGUF header claims %" PRIu64 " metadata keys and %" PRIu64 " tensors (at most %d each)",
                        label, n_kv, n_tensors, GGUF_MAX_ENTRIES);

    gguf_ctx *g = qmc_alloc(1, sizeof *g);
    if (!g) return qmc_error_prefix(QMC_ERR_NOMEM, "%s", label);
    g->version = version;
    g->base = buf;
    g->size = size;
    g->alignment = GGUF_DEFAULT_ALIGNMENT;
    g->kv = qmc_alloc(n_kv ? n_kv : 1, sizeof(gguf_kv));
    g->tensors = qmc_alloc(n_tensors ? n_tensors : 1, sizeof(gguf_tensor_info));
    if (!g->kv || !g->tensors || qmc_strmap_init(&g->kv_index, 0) || qmc_strmap_init(&g->tensor_index, 0)) {
        gguf_free(g);
        return qmc_error_prefix(QMC_ERR_NOMEM, "%s", label);
    }
    for (uint64_t i = 0; i < n_kv; i++) {
        r.what = "metadata key";
        gguf_kv *kv = &g->kv[i];
        gguf_str key;
        uint32_t t = 0;
        if ((rc = rd_str(&r, &key))) goto fail;
        g->n_kv = (int64_t)i + 1;
        if (key.len == 0 || key.len > 65535 || memchr(key.s, 0, key.len)) {
            rc = qmc_fail(QMC_ERR_FORMAT, "%s: GGUF metadata key %" PRIu64 " has an invalid name", label, i);
            goto fail;
        }
        kv->key = qmc_alloc(key.len + 1, 1);
        if (!kv->key) { rc = qmc_error_prefix(QMC_ERR_NOMEM, "%s", label); goto fail; }
        memcpy(kv->key, key.s, key.len);
        if (qmc_strmap_get(&g->kv_index, kv->key, (uint32_t)key.len) >= 0) {
            rc = qmc_fail(QMC_ERR_FORMAT, "%s: GGUF metadata key '%s' appears twice", label, kv->key);
            goto fail;
        }
        if (qmc_strmap_put(&g->kv_index, kv->key, (uint32_t)key.len, (int32_t)i)) {
            rc = qmc_error_prefix(QMC_ERR_NOMEM, "%s", label);
            goto fail;
        }
        if ((rc = rd_u32(&r, &t))) goto fail;
        if (t >= GGUF_TYPE_COUNT) {
            rc = qmc_fail(QMC_ERR_FORMAT, "%s: GGUF key '%s' has unknown value type %u", label, kv->key, t);
            goto fail;
        }
        kv->type = (gguf_type)t;
        r.what = kv->key;
        if ((rc = read_value(&r, kv, kv->type))) goto fail;
        if (strcmp(kv->key, "general.alignment") == 0) {
            if (kv->type != GGUF_TYPE_UINT32 || kv->v.u == 0 || (kv->v.u & (kv->v.u - 1)) || kv->v.u > (1u << 20)) {
                rc = qmc_fail(QMC_ERR_FORMAT, "%s: general.alignment must be a u32 power of two (<= 1 MiB)", label);
                goto fail;
            }
            g->alignment = kv->v.u;
        }
    }
    for (uint64_t i = 0; i < n_tensors; i++) {
        r.what = "tensor info";
        gguf_tensor_info *ti = &g->tensors[i];
        gguf_str name;
        if ((rc = rd_str(&r, &name))) goto fail;
        if (name.len == 0 || name.len >= QMC_MAX_NAME || memchr(name.s, 0, name.len)) {
            rc = qmc_fail(QMC_ERR_FORMAT, "%s: GGUF tensor %" PRIu64 " has an invalid name (length %" PRIu64 ", limit %d)",
                          label, i, name.len, QMC_MAX_NAME - 1);
            goto fail;
        }
        memcpy(ti->name, name.s, name.len);
        g->n_tensors = (int64_t)i + 1;
        if ((rc = rd_u32(&r, &ti->n_dims))) goto fail;
        if (ti->n_dims < 1 || ti->n_dims > 4) {
            rc = qmc_fail(QMC_ERR_FORMAT, "%s: tensor '%s' has %u dimensions (1..4 allowed)", label, ti->name, ti->n_dims);
            goto fail;
        }
        for (int d = 0; d < 4; d++) ti->ne[d] = 1;
        for (uint32_t d = 0; d < ti->n_dims; d++) {
            uint64_t v = 0;
            if ((rc = rd_u64(&r, &v))) goto fail;
            if (v > INT64_MAX) {
                rc = qmc_fail(QMC_ERR_FORMAT, "%s: tensor '%s' dimension %u is too large", label, ti->name, d);
                goto fail;
            }
            ti->ne[d] = (int64_t)v;
        }
        if ((rc = rd_u32(&r, &ti->type)) || (rc = rd_u64(&r, &ti->offset))) goto fail;
        if (!ggml_type_known(ti->type)) {
            rc = qmc_fail(QMC_ERR_FORMAT, "%s: tensor '%s' has unknown ggml type %u", label, ti->name, ti->type);
            goto fail;
        }
        if (!ggml_tensor_nbytes(ti->type, ti->ne, &ti->nbytes)) {
            rc = qmc_fail(QMC_ERR_FORMAT, "%s: tensor '%s': shape [%" PRId64 ", %" PRId64 ", %" PRId64 ", %" PRId64 "] overflows or does not fit type %s",
                          label, ti->name, ti->ne[0], ti->ne[1], ti->ne[2], ti->ne[3], ggml_type_name(ti->type));
            goto fail;
        }
        if (qmc_strmap_get(&g->tensor_index, ti->name, (uint32_t)name.len) >= 0) {
            rc = qmc_fail(QMC_ERR_FORMAT, "%s: tensor '%s' appears twice", label, ti->name);
            goto fail;
        }
        if (qmc_strmap_put(&g->tensor_index, ti->name, (uint32_t)name.len, (int32_t)i)) {
            rc = qmc_error_prefix(QMC_ERR_NOMEM, "%s", label);
            goto fail;
        }
    }
    uint64_t pos = (uint64_t)(r.p - buf);
    uint64_t data_off = (pos + g->alignment - 1) / g->alignment * g->alignment;
    g->data_offset = data_off;
    for (int64_t i = 0; i < g->n_tensors; i++) {
        gguf_tensor_info *ti = &g->tensors[i];
        if (ti->offset % g->alignment) {
            rc = qmc_fail(QMC_ERR_FORMAT, "%s: tensor '%s' data offset %" PRIu64 " is not a multiple of the alignment %" PRIu64,
                          label, ti->name, ti->offset, g->alignment);
            goto fail;
        }
        if (data_off > size || ti->offset > size - data_off || ti->nbytes > size - data_off - ti->offset) {
            rc = qmc_fail(QMC_ERR_FORMAT, "%s: tensor '%s' needs %" PRIu64 " bytes at offset %" PRIu64 " but the file has only %zu bytes (truncated?)",
                          label, ti->name, ti->nbytes, data_off + ti->offset, size);
            goto fail;
        }
        ti->data = buf + data_off + ti->offset;
    }
    *out = g;
    return QMC_OK;
fail:
    gguf_free(g);
    return rc;
}

const gguf_kv *gguf_find(const gguf_ctx *g, const char *key) {
    int32_t i = qmc_strmap_get(&g->kv_index, key, (uint32_t)strlen(key));
    return i >= 0 ? &g->kv[i] : NULL;
}

const gguf_tensor_info *gguf_find_tensor(const gguf_ctx *g, const char *name) {
    int32_t i = qmc_strmap_get(&g->tensor_index, name, (uint32_t)strlen(name));
    return i >= 0 ? &g->tensors[i] : NULL;
}

bool gguf_get_i64(const gguf_ctx *g, const char *key, int64_t *out) {
    const gguf_kv *kv = gguf_find(g, key);
    if (!kv) return false;
    switch (kv->type) {
    case GGUF_TYPE_UINT8: case GGUF_TYPE_UINT16: case GGUF_TYPE_UINT32: case GGUF_TYPE_UINT64:
        if (kv->v.u > INT64_MAX) return false;
        *out = (int64_t)kv->v.u;
        return true;
    case GGUF_TYPE_INT8: case GGUF_TYPE_INT16: case GGUF_TYPE_INT32: case GGUF_TYPE_INT64:
        *out = kv->v.i;
        return true;
    default: return false;
    }
}

bool gguf_get_f64(const gguf_ctx *g, const char *key, double *out) {
    const gguf_kv *kv = gguf_find(g, key);
    if (!kv) return false;
    if (kv->type == GGUF_TYPE_FLOAT32 || kv->type == GGUF_TYPE_FLOAT64) {
        *out = kv->v.f;
        return true;
    }
    int64_t i;
    if (gguf_get_i64(g, key, &i)) {
        *out = (double)i;
        return true;
    }
    return false;
}

bool gguf_get_bool(const gguf_ctx *g, const char *key, bool *out) {
    const gguf_kv *kv = gguf_find(g, key);
    if (!kv || kv->type != GGUF_TYPE_BOOL) return false;
    *out = kv->v.b;
    return true;
}

bool gguf_get_str(const gguf_ctx *g, const char *key, char *buf, size_t cap) {
    const gguf_kv *kv = gguf_find(g, key);
    if (!kv || kv->type != GGUF_TYPE_STRING || cap == 0) return false;
    size_t n = kv->v.s.len < cap - 1 ? (size_t)kv->v.s.len : cap - 1;
    memcpy(buf, kv->v.s.s, n);
    buf[n] = 0;
    return true;
}

/* ---- writer -------------------------------------------------------------- */

typedef struct {
    char *key;
    gguf_type type;
    uint8_t scalar[8];
    char *str;            /* string value (heap, with length) */
    uint64_t str_len;
    gguf_type arr_type;
    uint64_t arr_n;
    uint8_t *arr_data;    /* numeric arrays: copied; string arrays: serialized (len+bytes)* */
    uint64_t arr_bytes;
} wkv;

typedef struct {
    char name[QMC_MAX_NAME];
    uint32_t type;
    int n_dims;
    int64_t ne[4];
    uint64_t nbytes, offset;
    const void *data;
    gguf_fill_fn fill;
    void *user;
} wtensor;

struct gguf_writer {
    wkv *kv;
    int64_t n_kv, cap_kv;
    wtensor *t;
    int64_t n_t, cap_t;
    uint64_t alignment;
};

gguf_writer *gguf_writer_new(void) {
    gguf_writer *w = qmc_alloc(1, sizeof *w);
    if (w) w->alignment = GGUF_DEFAULT_ALIGNMENT;
    return w;
}

static void wkv_clear(wkv *k) {
    qmc_free(k->key);
    qmc_free(k->str);
    qmc_free(k->arr_data);
    memset(k, 0, sizeof *k);
}

void gguf_writer_free(gguf_writer *w) {
    if (!w) return;
    for (int64_t i = 0; i < w->n_kv; i++) wkv_clear(&w->kv[i]);
    qmc_free(w->kv);
    qmc_free(w->t);
    qmc_free(w);
}

void gguf_remove_kv(gguf_writer *w, const char *key) {
    for (int64_t i = 0; i < w->n_kv; i++)
        if (strcmp(w->kv[i].key, key) == 0) {
            wkv_clear(&w->kv[i]);
            memmove(&w->kv[i], &w->kv[i + 1], (size_t)(w->n_kv - i - 1) * sizeof(wkv));
            w->n_kv--;
            return;
        }
}

/* Slot for key: replaced if present, appended otherwise. */
static wkv *kv_slot(gguf_writer *w, const char *key) {
    for (int64_t i = 0; i < w->n_kv; i++)
        if (strcmp(w->kv[i].key, key) == 0) {
            char *k = w->kv[i].key;
            w->kv[i].key = NULL;
            wkv_clear(&w->kv[i]);
            w->kv[i].key = k;
            return &w->kv[i];
        }
    if (w->n_kv == w->cap_kv) {
        int64_t nc = w->cap_kv ? w->cap_kv * 2 : 32;
        wkv *nk = qmc_realloc(w->kv, (size_t)nc, sizeof(wkv));
        if (!nk) return NULL;
        w->kv = nk;
        w->cap_kv = nc;
    }
    wkv *s = &w->kv[w->n_kv];
    memset(s, 0, sizeof *s);
    s->key = qmc_strdup(key);
    if (!s->key) return NULL;
    w->n_kv++;
    return s;
}

static int set_scalar(gguf_writer *w, const char *key, gguf_type t, const void *v) {
    wkv *s = kv_slot(w, key);
    if (!s) return QMC_ERR_NOMEM;
    s->type = t;
    memcpy(s->scalar, v, (size_t)gguf_type_size(t));
    if (t == GGUF_TYPE_UINT32 && strcmp(key, "general.alignment") == 0) {
        uint32_t a;
        memcpy(&a, v, 4);
        if (a && !(a & (a - 1))) w->alignment = a;
    }
    return QMC_OK;
}

int gguf_set_u32(gguf_writer *w, const char *key, uint32_t v) { return set_scalar(w, key, GGUF_TYPE_UINT32, &v); }
int gguf_set_i32(gguf_writer *w, const char *key, int32_t v) { return set_scalar(w, key, GGUF_TYPE_INT32, &v); }
int gguf_set_u64(gguf_writer *w, const char *key, uint64_t v) { return set_scalar(w, key, GGUF_TYPE_UINT64, &v); }
int gguf_set_f32(gguf_writer *w, const char *key, float v) { return set_scalar(w, key, GGUF_TYPE_FLOAT32, &v); }
int gguf_set_bool(gguf_writer *w, const char *key, bool v) {
    uint8_t b = v;
    return set_scalar(w, key, GGUF_TYPE_BOOL, &b);
}

static int set_str_n(gguf_writer *w, const char *key, const char *v, uint64_t n) {
    wkv *s = kv_slot(w, key);
    if (!s) return QMC_ERR_NOMEM;
    s->type = GGUF_TYPE_STRING;
    s->str = qmc_alloc(n + 1, 1);
    if (!s->str) return QMC_ERR_NOMEM;
    memcpy(s->str, v, n);
    s->str_len = n;
    return QMC_OK;
}

int gguf_set_str(gguf_writer *w, const char *key, const char *v) { return set_str_n(w, key, v, strlen(v)); }

int gguf_set_arr(gguf_writer *w, const char *key, gguf_type t, const void *data, uint64_t n) {
    int esz = gguf_type_size(t);
    if (!esz) return qmc_fail(QMC_ERR_ARG, "gguf_set_arr: bad element type");
    wkv *s = kv_slot(w, key);
    if (!s) return QMC_ERR_NOMEM;
    s->type = GGUF_TYPE_ARRAY;
    s->arr_type = t;
    s->arr_n = n;
    s->arr_bytes = n * (uint64_t)esz;
    s->arr_data = qmc_alloc(s->arr_bytes ? s->arr_bytes : 1, 1);
    if (!s->arr_data) return QMC_ERR_NOMEM;
    if (n) memcpy(s->arr_data, data, s->arr_bytes);
    return QMC_OK;
}

static int set_arr_str_impl(gguf_writer *w, const char *key, uint64_t n, const char *const *strs,
                            const uint64_t *lens, const gguf_str *gs) {
    uint64_t total = 0;
    for (uint64_t i = 0; i < n; i++) total += 8 + (gs ? gs[i].len : lens ? lens[i] : strlen(strs[i]));
    wkv *s = kv_slot(w, key);
    if (!s) return QMC_ERR_NOMEM;
    s->type = GGUF_TYPE_ARRAY;
    s->arr_type = GGUF_TYPE_STRING;
    s->arr_n = n;
    s->arr_bytes = total;
    s->arr_data = qmc_alloc(total ? total : 1, 1);
    if (!s->arr_data) return QMC_ERR_NOMEM;
    uint8_t *p = s->arr_data;
    for (uint64_t i = 0; i < n; i++) {
        const char *str = gs ? gs[i].s : strs[i];
        uint64_t len = gs ? gs[i].len : lens ? lens[i] : strlen(strs[i]);
        memcpy(p, &len, 8);
        memcpy(p + 8, str, len);
        p += 8 + len;
    }
    return QMC_OK;
}

int gguf_set_arr_str(gguf_writer *w, const char *key, const char *const *strs, const uint64_t *lens,
                     uint64_t n) {
    return set_arr_str_impl(w, key, n, strs, lens, NULL);
}

int gguf_copy_kv(gguf_writer *w, const gguf_kv *kv) {
    switch (kv->type) {
    case GGUF_TYPE_STRING: return set_str_n(w, kv->key, kv->v.s.s, kv->v.s.len);
    case GGUF_TYPE_ARRAY:
        if (kv->arr_type == GGUF_TYPE_STRING) return set_arr_str_impl(w, kv->key, kv->arr_n, NULL, NULL, kv->arr_str);
        return gguf_set_arr(w, kv->key, kv->arr_type, kv->arr_data, kv->arr_n);
    default: {
        uint8_t raw[8] = {0};
        int sz = gguf_type_size(kv->type);
        switch (kv->type) {
        case GGUF_TYPE_FLOAT32: { float f = (float)kv->v.f; memcpy(raw, &f, 4); break; }
        case GGUF_TYPE_FLOAT64: memcpy(raw, &kv->v.f, 8); break;
        case GGUF_TYPE_BOOL: raw[0] = kv->v.b; break;
        case GGUF_TYPE_INT8: case GGUF_TYPE_INT16: case GGUF_TYPE_INT32: case GGUF_TYPE_INT64:
            memcpy(raw, &kv->v.i, (size_t)sz); break;
        default: memcpy(raw, &kv->v.u, (size_t)sz); break;
        }
        return set_scalar(w, kv->key, kv->type, raw);
    }
    }
}

static int add_tensor(gguf_writer *w, const char *name, uint32_t type, int n_dims, const int64_t *ne,
                      const void *data, gguf_fill_fn fill, void *user) {
    if (strlen(name) >= QMC_MAX_NAME) return qmc_fail(QMC_ERR_ARG, "tensor name '%s' is too long for GGUF", name);
    if (n_dims < 1 || n_dims > 4) return qmc_fail(QMC_ERR_ARG, "tensor '%s': %d dims", name, n_dims);
    for (int64_t i = 0; i < w->n_t; i++)
        if (strcmp(w->t[i].name, name) == 0) return qmc_fail(QMC_ERR_ARG, "tensor '%s' added twice", name);
    if (w->n_t == w->cap_t) {
        int64_t nc = w->cap_t ? w->cap_t * 2 : 64;
        wtensor *nt = qmc_realloc(w->t, (size_t)nc, sizeof(wtensor));
        if (!nt) return QMC_ERR_NOMEM;
        w->t = nt;
        w->cap_t = nc;
    }
    wtensor *t = &w->t[w->n_t];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->type = type;
    t->n_dims = n_dims;
    for (int d = 0; d < 4; d++) t->ne[d] = d < n_dims ? ne[d] : 1;
    if (!ggml_tensor_nbytes(type, t->ne, &t->nbytes))
        return qmc_fail(QMC_ERR_ARG, "tensor '%s': bad shape for type %s", name, ggml_type_name(type));
    t->data = data;
    t->fill = fill;
    t->user = user;
    w->n_t++;
    return QMC_OK;
}

int gguf_add_tensor(gguf_writer *w, const char *name, uint32_t type, int n_dims, const int64_t *ne,
                    const void *data) {
    return add_tensor(w, name, type, n_dims, ne, data, NULL, NULL);
}

int gguf_add_tensor_fn(gguf_writer *w, const char *name, uint32_t type, int n_dims, const int64_t *ne,
                       gguf_fill_fn fill, void *user) {
    return add_tensor(w, name, type, n_dims, ne, NULL, fill, user);
}

static int put_str(qmc_out *o, const char *s, uint64_t n) {
    int rc = qmc_out_write(o, &n, 8);
    return rc ? rc : qmc_out_write(o, s, n);
}

int gguf_write(gguf_writer *w, const char *path, void (*progress)(void *, double), void *pu) {
    qmc_out *o;
    int rc = qmc_out_open(path, &o);
    if (rc) return rc;
    uint32_t version = 3;
    uint64_t nt = (uint64_t)w->n_t, nk = (uint64_t)w->n_kv;
    if ((rc = qmc_out_write(o, "GGUF", 4)) || (rc = qmc_out_write(o, &version, 4)) ||
        (rc = qmc_out_write(o, &nt, 8)) || (rc = qmc_out_write(o, &nk, 8)))
        goto fail;
    for (int64_t i = 0; i < w->n_kv; i++) {
        wkv *k = &w->kv[i];
        uint32_t t = k->type;
        if ((rc = put_str(o, k->key, strlen(k->key))) || (rc = qmc_out_write(o, &t, 4))) goto fail;
        if (k->type == GGUF_TYPE_STRING) rc = put_str(o, k->str, k->str_len);
        else if (k->type == GGUF_TYPE_ARRAY) {
            uint32_t at = k->arr_type;
            if (!(rc = qmc_out_write(o, &at, 4)) && !(rc = qmc_out_write(o, &k->arr_n, 8)))
                rc = qmc_out_write(o, k->arr_data, k->arr_bytes);
        } else rc = qmc_out_write(o, k->scalar, (size_t)gguf_type_size(k->type));
        if (rc) goto fail;
    }
    uint64_t off = 0;
    for (int64_t i = 0; i < w->n_t; i++) {
        wtensor *t = &w->t[i];
        t->offset = off;
        off += (t->nbytes + w->alignment - 1) / w->alignment * w->alignment;
        uint32_t nd = (uint32_t)t->n_dims;
        if ((rc = put_str(o, t->name, strlen(t->name))) || (rc = qmc_out_write(o, &nd, 4))) goto fail;
        for (int d = 0; d < t->n_dims; d++)
            if ((rc = qmc_out_write(o, &t->ne[d], 8))) goto fail;
        if ((rc = qmc_out_write(o, &t->type, 4)) || (rc = qmc_out_write(o, &t->offset, 8))) goto fail;
    }
    if ((rc = qmc_out_pad(o, w->alignment))) goto fail;
    uint64_t data_start = qmc_out_tell(o);
    for (int64_t i = 0; i < w->n_t; i++) {
        wtensor *t = &w->t[i];
        if (t->fill) {
            uint64_t before = qmc_out_tell(o);
            if ((rc = t->fill(t->user, o))) goto fail;
            if (qmc_out_tell(o) - before != t->nbytes) {
                rc = qmc_fail(QMC_ERR_STATE, "%s: tensor '%s' produced %llu bytes, expected %llu", path, t->name,
                              (unsigned long long)(qmc_out_tell(o) - before), (unsigned long long)t->nbytes);
                goto fail;
            }
        } else if ((rc = qmc_out_write(o, t->data, t->nbytes))) goto fail;
        if ((rc = qmc_out_pad(o, w->alignment))) goto fail;
        if (qmc_out_tell(o) - data_start != (i + 1 < w->n_t ? w->t[i + 1].offset : off)) {
            rc = qmc_fail(QMC_ERR_STATE, "%s: tensor data misaligned", path);
            goto fail;
        }
        if (progress) progress(pu, (double)(i + 1) / (double)w->n_t);
    }
    return qmc_out_commit(o);
fail:
    qmc_out_abort(o);
    return rc;
}
