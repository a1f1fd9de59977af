/* fuzz_hf_config.c — Hugging Face config.json (qmc_hf_config_parse):
 * architecture, sizes, rope scaling, special ids; the Llama-3 rope factors
 * are computed from what it accepted. */
#include <math.h>
#include <string.h>

#include "fuzz.h"
#include "model/model.h"

QMC_FUZZ_TARGET(hf_config) {
    qmc_model m;
    memset(&m, 0, sizeof m);
    int rc = qmc_hf_config_parse((const char *)data, size, FUZZ_LABEL, &m);
    fuzz_check_status(rc, "qmc_hf_config_parse");
    if (rc) return;
    const qmc_config *c = &m.cfg;
    FUZZ_CHECK(c->dim > 0 && c->hidden_dim > 0 && c->n_layers > 0 && c->n_heads > 0 && c->n_kv_heads > 0);
    FUZZ_CHECK(c->vocab_size > 0 && c->seq_len > 0 && c->head_dim > 0 && c->head_dim % 2 == 0);
    FUZZ_CHECK(c->n_heads % c->n_kv_heads == 0 && c->norm_eps > 0 && isfinite(c->rope_theta));
    FUZZ_CHECK(memchr(m.name, 0, sizeof m.name) != NULL);
    if (c->rope_scaling_factor > 0) {
        float f[QMC_MAX_HEAD_DIM / 2];
        FUZZ_CHECK(c->head_dim <= QMC_MAX_HEAD_DIM);
        qmc_llama3_rope_factors(c, f);
    }
}
