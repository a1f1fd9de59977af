/* fuzz_st_index.c — model.safetensors.index.json (st_index_parse): the
 * weight map and its shard names. */
#include <cJSON.h>
#include <string.h>

#include "formats/safetensors.h"
#include "fuzz.h"

QMC_FUZZ_TARGET(st_index) {
    st_index ix;
    int rc = st_index_parse((const char *)data, size, FUZZ_LABEL, &ix);
    fuzz_check_status(rc, "st_index_parse");
    if (rc) return;
    FUZZ_CHECK(ix.n_shards >= 0 && ix.n_shards <= ST_MAX_SHARDS);
    for (const cJSON *e = ix.weight_map->child; e; e = e->next) {
        int s = st_index_find(&ix, e->string);
        FUZZ_CHECK(s >= 0 && s < ix.n_shards);
        /* a name listed twice resolves through its first entry, as cJSON looks it up */
        const cJSON *first = cJSON_GetObjectItemCaseSensitive(ix.weight_map, e->string);
        FUZZ_CHECK(strcmp(ix.shards[s], first->valuestring) == 0);
        FUZZ_CHECK(!strchr(ix.shards[s], '/') && ix.shards[s][0]);
    }
    st_index_free(&ix);
}
