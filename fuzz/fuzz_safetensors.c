/* fuzz_safetensors.c — the safetensors container (st_parse): header length,
 * JSON header, dtypes, shapes, data offsets tiling the data section. */
#include <string.h>

#include "formats/safetensors.h"
#include "fuzz.h"

QMC_FUZZ_TARGET(safetensors) {
    st_file f;
    int rc = st_parse(data, size, FUZZ_LABEL, &f);
    fuzz_check_status(rc, "st_parse");
    if (rc) return;
    uint64_t covered = 0;
    for (int64_t i = 0; i < f.n; i++) {
        const st_tensor *t = &f.tensors[i];
        FUZZ_CHECK(st_find(&f, t->name) == t);
        FUZZ_CHECK(t->n_dims >= 0 && t->n_dims <= ST_MAX_DIMS && t->dtype_size > 0);
        uint64_t n = (uint64_t)t->dtype_size;
        for (int d = 0; d < t->n_dims; d++) n *= (uint64_t)t->shape[d];
        FUZZ_CHECK(n == t->nbytes);
        FUZZ_CHECK(t->data >= data + f.data_offset && t->nbytes <= (uint64_t)(data + size - t->data));
        covered += t->nbytes;
    }
    FUZZ_CHECK(covered == size - f.data_offset);
    st_free(&f);
}
