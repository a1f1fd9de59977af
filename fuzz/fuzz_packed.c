/* fuzz_packed.c — packed QMC planes inside GGUF (qmc_packed_read): the
 * "qmc.tensor.NAME" descriptors, plane types and sizes, the outlier position
 * bitmap and the derived row index; every row is decoded by the reference and
 * the fast decoder, which must agree bit for bit. */
#include <string.h>

#include "formats/gguf.h"
#include "fuzz.h"
#include "quant/packfile.h"

QMC_FUZZ_TARGET(packed) {
    gguf_ctx *g = NULL;
    int rc = gguf_parse(data, size, FUZZ_LABEL, &g);
    fuzz_check_status(rc, "gguf_parse");
    if (rc) return;
    for (int64_t i = 0; i < g->n_kv; i++) {
        const char *key = g->kv[i].key;
        if (strncmp(key, "qmc.tensor.", 11) != 0) continue;
        qmc_tensor t = {0};
        rc = qmc_packed_read(g, FUZZ_LABEL, key + 11, &t);
        fuzz_check_status(rc < 0 ? rc : 0, "qmc_packed_read");
        if (rc != 1) continue;
        FUZZ_CHECK(t.type == QMC_TYPE_PACKED && t.q != NULL);
        fuzz_exercise_tensor(&t);
        qmc_tensor_release(&t);
    }
    /* descriptors on their own (the string parser) */
    for (int64_t i = 0; i < g->n_kv; i++) {
        const gguf_kv *kv = &g->kv[i];
        if (kv->type != GGUF_TYPE_STRING || kv->v.s.len > 600) continue;
        char desc[601];
        memcpy(desc, kv->v.s.s, kv->v.s.len);
        desc[kv->v.s.len] = 0;
        qmc_qtensor q;
        fuzz_check_status(qmc_packed_parse_desc(desc, FUZZ_LABEL, "t", &q), "qmc_packed_parse_desc");
    }
    gguf_free(g);
}
