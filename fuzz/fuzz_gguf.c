/* fuzz_gguf.c — the GGUF reader (gguf_parse) and its getters. */
#include <string.h>

#include "formats/gguf.h"
#include "fuzz.h"

static bool inside(const void *p, uint64_t n, const uint8_t *data, size_t size) {
    const uint8_t *b = p;
    return b >= data && b <= data + size && n <= (uint64_t)(data + size - b);
}

QMC_FUZZ_TARGET(gguf) {
    gguf_ctx *g = NULL;
    int rc = gguf_parse(data, size, FUZZ_LABEL, &g);
    fuzz_check_status(rc, "gguf_parse");
    if (rc) {
        FUZZ_CHECK(g == NULL);
        return;
    }
    FUZZ_CHECK(g->version == 2 || g->version == 3);
    /* every value points inside the buffer; getters agree with the parsed values */
    gguf_writer *w = gguf_writer_new();
    FUZZ_CHECK(w != NULL);
    for (int64_t i = 0; i < g->n_kv; i++) {
        const gguf_kv *kv = &g->kv[i];
        FUZZ_CHECK(kv->key[0] != 0 && gguf_find(g, kv->key) == kv);
        FUZZ_CHECK((unsigned)kv->type < GGUF_TYPE_COUNT);
        int64_t iv;
        double dv;
        bool bv;
        char sv[16];
        bool is_int = gguf_get_i64(g, kv->key, &iv);
        bool is_num = gguf_get_f64(g, kv->key, &dv);
        FUZZ_CHECK(!is_int || is_num);
        FUZZ_CHECK(gguf_get_bool(g, kv->key, &bv) == (kv->type == GGUF_TYPE_BOOL));
        FUZZ_CHECK(gguf_get_str(g, kv->key, sv, sizeof sv) == (kv->type == GGUF_TYPE_STRING));
        if (kv->type == GGUF_TYPE_STRING) FUZZ_CHECK(inside(kv->v.s.s, kv->v.s.len, data, size));
        if (kv->type == GGUF_TYPE_ARRAY) {
            if (kv->arr_type == GGUF_TYPE_STRING)
                for (uint64_t k = 0; k < kv->arr_n; k++) FUZZ_CHECK(inside(kv->arr_str[k].s, kv->arr_str[k].len, data, size));
            else
                FUZZ_CHECK(gguf_type_size(kv->arr_type) > 0 &&
                           inside(kv->arr_data, kv->arr_n * (uint64_t)gguf_type_size(kv->arr_type), data, size));
        }
        fuzz_check_result(gguf_copy_kv(w, kv), "gguf_copy_kv");
    }
    gguf_writer_free(w);
    for (int64_t i = 0; i < g->n_tensors; i++) {
        const gguf_tensor_info *ti = &g->tensors[i];
        FUZZ_CHECK(gguf_find_tensor(g, ti->name) == ti);
        FUZZ_CHECK(ti->n_dims >= 1 && ti->n_dims <= 4 && memchr(ti->name, 0, sizeof ti->name));
        uint64_t nb;
        FUZZ_CHECK(ggml_tensor_nbytes(ti->type, ti->ne, &nb) && nb == ti->nbytes);
        FUZZ_CHECK(ti->offset % g->alignment == 0 && inside(ti->data, ti->nbytes, data, size));
        FUZZ_CHECK(ti->data == data + g->data_offset + ti->offset);
    }
    gguf_free(g);
}
