/* safetensors.c — safetensors reader and writer; see safetensors.h. */
#include <cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "formats/jsonfile.h"
#include "formats/safetensors.h"

static const struct { const char *name; int size; qmc_type type; } k_dtypes[] = {
    {"F32", 4, QMC_TYPE_F32},       {"F16", 2, QMC_TYPE_F16},       {"BF16", 2, QMC_TYPE_BF16},
    {"F64", 8, QMC_TYPE_PACKED},    {"I64", 8, QMC_TYPE_PACKED},    {"U64", 8, QMC_TYPE_PACKED},
    {"I32", 4, QMC_TYPE_PACKED},    {"U32", 4, QMC_TYPE_PACKED},    {"I16", 2, QMC_TYPE_PACKED},
    {"U16", 2, QMC_TYPE_PACKED},    {"I8", 1, QMC_TYPE_PACKED},     {"U8", 1, QMC_TYPE_PACKED},
    {"BOOL", 1, QMC_TYPE_PACKED},   {"F8_E4M3", 1, QMC_TYPE_PACKED}, {"F8_E5M2", 1, QMC_TYPE_PACKED},
};

/* A JSON number that is a whole number in [0, 2^53]. */
static bool json_uint(const cJSON *v, uint64_t *out) {
    if (!cJSON_IsNumber(v)) return false;
    double d = v->valuedouble;
    if (!(d >= 0) || d > 9007199254740992.0 || d != floor(d)) return false;
    *out = (uint64_t)d;
    return true;
}

typedef struct { uint64_t begin, end; int64_t idx; } span;

static int cmp_span(const void *a, const void *b) {
    const span *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return 0;
}

/* Fill t from one header entry; spans[i] gets its offsets. */
static int parse_entry(const cJSON *e, const char *label, st_tensor *t, span *sp) {
    const char *name = e->string;
    if (!cJSON_IsObject(e)) return qmc_fail(QMC_ERR_FORMAT, "%s: header entry '%s' is not an object", label, name);
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(e, "dtype");
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(e, "shape");
    const cJSON *of = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
    if (!cJSON_IsString(dt)) return qmc_fail(QMC_ERR_FORMAT, "%s: tensor '%s' has no dtype string", label, name);
    size_t k = 0;
    while (k < QMC_ARRAY_LEN(k_dtypes) && strcmp(k_dtypes[k].name, dt->valuestring) != 0) k++;
    if (k == QMC_ARRAY_LEN(k_dtypes))
        return qmc_fail(QMC_ERR_FORMAT, "%s: tensor '%s' has unknown dtype '%.20s'", label, name, dt->valuestring);
    snprintf(t->dtype, sizeof t->dtype, "%s", k_dtypes[k].name);
    t->dtype_size = k_dtypes[k].size;
    t->type = k_dtypes[k].type;
    if (!cJSON_IsArray(sh)) return qmc_fail(QMC_ERR_FORMAT, "%s: tensor '%s' has no shape array", label, name);
    int nd = cJSON_GetArraySize(sh);
    if (nd > ST_MAX_DIMS) return qmc_fail(QMC_ERR_FORMAT, "%s: tensor '%s' has %d dimensions (at most %d)", label, name, nd, ST_MAX_DIMS);
    t->n_dims = nd;
    int64_t nelem = 1;
    int d = 0;
    for (const cJSON *v = sh->child; v; v = v->next, d++) {
        uint64_t x;
        if (!json_uint(v, &x) || x > ((uint64_t)1 << 40))
            return qmc_fail(QMC_ERR_FORMAT, "%s: tensor '%s' has a bad shape (dimension %d)", label, name, d);
        if (!qmc_mul_ok(nelem, (int64_t)x, &nelem))
            return qmc_fail(QMC_ERR_FORMAT, "%s: tensor '%s' has too many elements", label, name);
        t->shape[d] = (int64_t)x;
    }
    uint64_t b = 0, en = 0;
    if (!cJSON_IsArray(of) || cJSON_GetArraySize(of) != 2 || !json_uint(of->child, &b) || !json_uint(of->child->next, &en) ||
        en < b)
        return qmc_fail(QMC_ERR_FORMAT, "%s: tensor '%s' has bad data_offsets (need [begin, end] with begin <= end)", label, name);
    int64_t want;
    if (!qmc_mul_ok(nelem, t->dtype_size, &want))
        return qmc_fail(QMC_ERR_FORMAT, "%s: tensor '%s' is too large", label, name);
    if (en - b != (uint64_t)want)
        return qmc_fail(QMC_ERR_FORMAT, "%s: tensor '%s' has %llu bytes of data but its shape and dtype %s need %lld",
                        label, name, (unsigned long long)(en - b), t->dtype, (long long)want);
    t->nbytes = en - b;
    sp->begin = b;
    sp->end = en;
    return QMC_OK;
}

int st_parse(const uint8_t *buf, size_t size, const char *label, st_file *out) {
    memset(out, 0, sizeof *out);
    if (size < 8) return qmc_fail(QMC_ERR_FORMAT, "%s: %zu bytes is too short for a safetensors file", label, size);
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--) n = n << 8 | buf[i];
    if (n > ST_MAX_HEADER)
        return qmc_fail(QMC_ERR_FORMAT, "%s: safetensors header length %llu exceeds the limit of %llu bytes", label,
                        (unsigned long long)n, (unsigned long long)ST_MAX_HEADER);
    if (n > size - 8)
        return qmc_fail(QMC_ERR_FORMAT, "%s: safetensors header length %llu runs past the end of the %zu-byte file (truncated?)",
                        label, (unsigned long long)n, size);
    if (n < 2 || buf[8] != '{')
        return qmc_fail(QMC_ERR_FORMAT, "%s: not a safetensors file (header does not start with '{')", label);
    cJSON *root = cJSON_ParseWithLength((const char *)buf + 8, (size_t)n);
    if (!root || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return qmc_fail(QMC_ERR_FORMAT, "%s: safetensors header is not valid JSON", label);
    }
    int64_t count = 0;
    size_t name_bytes = 0;
    for (const cJSON *e = root->child; e; e = e->next) {
        if (strcmp(e->string, "__metadata__") == 0) continue;
        count++;
        name_bytes += strlen(e->string) + 1;
    }
    out->data_offset = 8 + n;
    const uint64_t data_size = size - 8 - n;
    const uint8_t *data = buf + 8 + n;
    span *spans = qmc_alloc((size_t)count + 1, sizeof(span));
    out->tensors = qmc_alloc((size_t)count + 1, sizeof(st_tensor));
    out->names = qmc_alloc(name_bytes + 1, 1);
    int rc = QMC_OK;
    if (!spans || !out->tensors || !out->names || qmc_strmap_init(&out->by_name, (uint64_t)count)) {
        rc = qmc_error_prefix(QMC_ERR_NOMEM, "%s", label);
        goto done;
    }
    size_t pos = 0;
    for (const cJSON *e = root->child; e && !rc; e = e->next) {
        if (strcmp(e->string, "__metadata__") == 0) {
            if (!cJSON_IsObject(e)) rc = qmc_fail(QMC_ERR_FORMAT, "%s: __metadata__ is not an object", label);
            continue;
        }
        st_tensor *t = &out->tensors[out->n];
        size_t len = strlen(e->string);
        memcpy(out->names + pos, e->string, len + 1);
        t->name = out->names + pos;
        pos += len + 1;
        if ((rc = parse_entry(e, label, t, &spans[out->n]))) break;
        if (qmc_strmap_get(&out->by_name, t->name, (uint32_t)len) >= 0) {
            rc = qmc_fail(QMC_ERR_FORMAT, "%s: tensor '%s' appears twice in the header", label, t->name);
            break;
        }
        if ((rc = qmc_strmap_put(&out->by_name, t->name, (uint32_t)len, (int32_t)out->n))) break;
        spans[out->n].idx = out->n;
        out->n++;
    }
    if (rc) goto done;
    /* the tensors must tile the data section exactly */
    qsort(spans, (size_t)out->n, sizeof(span), cmp_span);
    uint64_t at = 0;
    for (int64_t i = 0; i < out->n; i++) {
        const st_tensor *t = &out->tensors[spans[i].idx];
        if (spans[i].end > data_size) {
            rc = qmc_fail(QMC_ERR_FORMAT, "%s: tensor '%s' data [%llu, %llu) runs past the end of the data section (%llu bytes; truncated file?)",
                          label, t->name, (unsigned long long)spans[i].begin, (unsigned long long)spans[i].end,
                          (unsigned long long)data_size);
            goto done;
        }
        if (spans[i].begin != at) {
            rc = qmc_fail(QMC_ERR_FORMAT, "%s: tensor '%s' data starts at %llu but the previous tensor ends at %llu (overlap or hole)",
                          label, t->name, (unsigned long long)spans[i].begin, (unsigned long long)at);
            goto done;
        }
        at = spans[i].end;
        out->tensors[spans[i].idx].data = data + spans[i].begin;
    }
    if (at != data_size)
        rc = qmc_fail(QMC_ERR_FORMAT, "%s: %llu bytes after the last tensor's data (the header does not describe the file)",
                      label, (unsigned long long)(data_size - at));
done:
    cJSON_Delete(root);
    qmc_free(spans);
    if (rc) st_free(out);
    return rc;
}

void st_free(st_file *f) {
    qmc_free(f->tensors);
    qmc_free(f->names);
    qmc_strmap_free(&f->by_name);
    memset(f, 0, sizeof *f);
}

const st_tensor *st_find(const st_file *f, const char *name) {
    int32_t i = qmc_strmap_get(&f->by_name, name, (uint32_t)strlen(name));
    return i >= 0 ? &f->tensors[i] : NULL;
}

/* ---- index ------------------------------------------------------------------- */

int st_index_parse(const char *json, size_t len, const char *label, st_index *out) {
    memset(out, 0, sizeof *out);
    int rc = qmc_json_parse(json, len, label, &out->root);
    if (rc) return rc;
    out->weight_map = cJSON_GetObjectItemCaseSensitive(out->root, "weight_map");
    if (!cJSON_IsObject(out->weight_map)) {
        rc = qmc_fail(QMC_ERR_FORMAT, "%s: \"weight_map\" is missing or not an object", label);
        goto fail;
    }
    int64_t cap = 0;
    if ((rc = qmc_strmap_init(&out->shard_of, 64))) goto fail;
    for (const cJSON *e = out->weight_map->child; e; e = e->next) {
        if (!cJSON_IsString(e)) {
            rc = qmc_fail(QMC_ERR_FORMAT, "%s: weight_map entry '%.80s' is not a file name", label, e->string);
            goto fail;
        }
        const char *f = e->valuestring;
        if (!*f || strchr(f, '/') || strcmp(f, ".") == 0 || strcmp(f, "..") == 0) {
            rc = qmc_fail(QMC_ERR_FORMAT, "%s: shard name '%.80s' is not a plain file name", label, f);
            goto fail;
        }
        if (qmc_strmap_get(&out->shard_of, f, (uint32_t)strlen(f)) >= 0) continue;
        if (out->n_shards == ST_MAX_SHARDS) {
            rc = qmc_fail(QMC_ERR_FORMAT, "%s: more than %d shards", label, ST_MAX_SHARDS);
            goto fail;
        }
        if ((rc = qmc_grow((void **)&out->shards, &cap, out->n_shards + 1, sizeof(char *))) ||
            (rc = qmc_strmap_put(&out->shard_of, f, (uint32_t)strlen(f), out->n_shards)))
            goto fail;
        out->shards[out->n_shards++] = f;
    }
    return QMC_OK;
fail:
    if (rc == QMC_ERR_NOMEM) qmc_error_prefix(rc, "%s", label);
    st_index_free(out);
    return rc;
}

int st_index_find(const st_index *ix, const char *name) {
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(ix->weight_map, name);
    if (!cJSON_IsString(e)) return -1;
    return qmc_strmap_get(&ix->shard_of, e->valuestring, (uint32_t)strlen(e->valuestring));
}

void st_index_free(st_index *ix) {
    cJSON_Delete(ix->root);
    qmc_free(ix->shards);
    qmc_strmap_free(&ix->shard_of);
    memset(ix, 0, sizeof *ix);
}

/* ---- writer ------------------------------------------------------------------ */

typedef struct {
    char *name;
    qmc_type type;
    int n_dims;
    int64_t shape[ST_MAX_DIMS];
    uint64_t nbytes;
    gguf_fill_fn fill;
    void *user;
} st_entry;

struct st_writer {
    st_entry *e;
    int64_t n, cap;
    char *meta_keys[16], *meta_vals[16];
    int n_meta;
};

st_writer *st_writer_new(void) { return qmc_alloc(1, sizeof(st_writer)); }

void st_writer_free(st_writer *w) {
    if (!w) return;
    for (int64_t i = 0; i < w->n; i++) qmc_free(w->e[i].name);
    for (int i = 0; i < w->n_meta; i++) {
        qmc_free(w->meta_keys[i]);
        qmc_free(w->meta_vals[i]);
    }
    qmc_free(w->e);
    qmc_free(w);
}

int st_add(st_writer *w, const char *name, qmc_type type, int n_dims, const int64_t *shape, gguf_fill_fn fill,
           void *user) {
    if (type != QMC_TYPE_F32 && type != QMC_TYPE_F16 && type != QMC_TYPE_BF16)
        return qmc_fail(QMC_ERR_UNSUPPORTED, "%s: safetensors writer takes F32, F16 or BF16, not %s", name, qmc_type_name(type));
    if (n_dims < 0 || n_dims > ST_MAX_DIMS) return qmc_fail(QMC_ERR_ARG, "%s: %d dimensions", name, n_dims);
    int64_t bytes = qmc_type_size(type);
    for (int d = 0; d < n_dims; d++)
        if (!qmc_mul_ok(bytes, shape[d], &bytes)) return qmc_fail(QMC_ERR_ARG, "%s: bad shape", name);
    int rc = qmc_grow((void **)&w->e, &w->cap, w->n + 1, sizeof(st_entry));
    if (rc) return rc;
    st_entry *e = &w->e[w->n];
    memset(e, 0, sizeof *e);
    if (!(e->name = qmc_strdup(name))) return QMC_ERR_NOMEM;
    e->type = type;
    e->n_dims = n_dims;
    memcpy(e->shape, shape, (size_t)n_dims * sizeof(int64_t));
    e->nbytes = (uint64_t)bytes;
    e->fill = fill;
    e->user = user;
    w->n++;
    return QMC_OK;
}

int st_set_meta(st_writer *w, const char *key, const char *value) {
    if (w->n_meta == (int)QMC_ARRAY_LEN(w->meta_keys)) return qmc_fail(QMC_ERR_ARG, "too many safetensors metadata keys");
    w->meta_keys[w->n_meta] = qmc_strdup(key);
    w->meta_vals[w->n_meta] = qmc_strdup(value);
    if (!w->meta_keys[w->n_meta] || !w->meta_vals[w->n_meta]) {
        qmc_free(w->meta_keys[w->n_meta]);
        qmc_free(w->meta_vals[w->n_meta]);
        return QMC_ERR_NOMEM;
    }
    w->n_meta++;
    return QMC_OK;
}

static void json_string(qmc_str *b, const char *s) {
    qmc_str_append(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            qmc_str_append(b, esc, 2);
        } else if (c < 0x20) qmc_str_printf(b, "\\u%04x", c);
        else qmc_str_append(b, s, 1);
    }
    qmc_str_append(b, "\"", 1);
}

int st_write(st_writer *w, const char *path) {
    /* order: 4-byte types first, then 2-byte ones, each in insertion order */
    int64_t *order = qmc_alloc((size_t)w->n + 1, sizeof(int64_t));
    if (!order) return qmc_error_prefix(QMC_ERR_NOMEM, "%s", path);
    int64_t k = 0;
    for (int pass = 0; pass < 2; pass++)
        for (int64_t i = 0; i < w->n; i++)
            if ((qmc_type_size(w->e[i].type) == 4) == (pass == 0)) order[k++] = i;
    qmc_str h = {0};
    qmc_str_append(&h, "{", 1);
    if (w->n_meta) {
        qmc_str_append(&h, "\"__metadata__\":{", 16);
        for (int i = 0; i < w->n_meta; i++) {
            if (i) qmc_str_append(&h, ",", 1);
            json_string(&h, w->meta_keys[i]);
            qmc_str_append(&h, ":", 1);
            json_string(&h, w->meta_vals[i]);
        }
        qmc_str_append(&h, "}", 1);
    }
    uint64_t off = 0;
    for (int64_t j = 0; j < w->n; j++) {
        const st_entry *e = &w->e[order[j]];
        if (j || w->n_meta) qmc_str_append(&h, ",", 1);
        json_string(&h, e->name);
        qmc_str_printf(&h, ":{\"dtype\":\"%s\",\"shape\":[", qmc_type_name(e->type));
        for (int d = 0; d < e->n_dims; d++) qmc_str_printf(&h, "%s%lld", d ? "," : "", (long long)e->shape[d]);
        qmc_str_printf(&h, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)off, (unsigned long long)(off + e->nbytes));
        off += e->nbytes;
    }
    qmc_str_append(&h, "}", 1);
    while (!h.failed && (8 + h.len) % 8) qmc_str_append(&h, " ", 1);
    int rc = h.failed ? qmc_error_prefix(QMC_ERR_NOMEM, "%s", path) : QMC_OK;
    qmc_out *o = NULL;
    if (!rc) rc = qmc_out_open(path, &o);
    if (!rc) {
        uint8_t len8[8];
        for (int i = 0; i < 8; i++) len8[i] = (uint8_t)((uint64_t)h.len >> (8 * i));
        rc = qmc_out_write(o, len8, 8);
    }
    if (!rc) rc = qmc_out_write(o, h.s, h.len);
    for (int64_t j = 0; j < w->n && !rc; j++) {
        const st_entry *e = &w->e[order[j]];
        uint64_t before = qmc_out_tell(o);
        rc = e->fill(e->user, o);
        if (!rc && qmc_out_tell(o) - before != e->nbytes)
            rc = qmc_fail(QMC_ERR_STATE, "%s: tensor '%s' produced %llu bytes, expected %llu", path, e->name,
                          (unsigned long long)(qmc_out_tell(o) - before), (unsigned long long)e->nbytes);
    }
    if (o) {
        if (rc) qmc_out_abort(o);
        else rc = qmc_out_commit(o);
    }
    qmc_str_free(&h);
    qmc_free(order);
    return rc;
}
