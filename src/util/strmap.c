/* strmap.c — see strmap.h. */
#include <string.h>

#include "util/strmap.h"
#include "util/util.h"

uint64_t qmc_hash_bytes(const void *p, size_t n) {
    const uint8_t *b = p;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001b3ull;
    return qmc_hash64(h);
}

int qmc_strmap_init(qmc_strmap *m, uint64_t expected) {
    memset(m, 0, sizeof *m);
    uint64_t cap = 16;
    while (cap < expected * 2) cap *= 2;
    m->keys = qmc_alloc(cap, sizeof *m->keys);
    m->lens = qmc_alloc(cap, sizeof *m->lens);
    m->vals = qmc_alloc(cap, sizeof *m->vals);
    if (!m->keys || !m->lens || !m->vals) {
        qmc_strmap_free(m);
        return QMC_ERR_NOMEM;
    }
    m->cap = cap;
    return QMC_OK;
}

void qmc_strmap_free(qmc_strmap *m) {
    qmc_free(m->keys);
    qmc_free(m->lens);
    qmc_free(m->vals);
    memset(m, 0, sizeof *m);
}

static int grow(qmc_strmap *m) {
    qmc_strmap n;
    int rc = qmc_strmap_init(&n, m->cap);
    if (rc) return rc;
    for (uint64_t i = 0; i < m->cap; i++)
        if (m->keys[i]) qmc_strmap_put(&n, m->keys[i], m->lens[i], m->vals[i]);
    qmc_strmap_free(m);
    *m = n;
    return QMC_OK;
}

int qmc_strmap_put(qmc_strmap *m, const char *key, uint32_t len, int32_t val) {
    if ((m->n + 1) * 2 > m->cap) {
        int rc = grow(m);
        if (rc) return rc;
    }
    uint64_t i = qmc_hash_bytes(key, len) & (m->cap - 1);
    while (m->keys[i]) {
        if (m->lens[i] == len && memcmp(m->keys[i], key, len) == 0) {
            m->vals[i] = val;
            return QMC_OK;
        }
        i = (i + 1) & (m->cap - 1);
    }
    m->keys[i] = key;
    m->lens[i] = len;
    m->vals[i] = val;
    m->n++;
    return QMC_OK;
}

int32_t qmc_strmap_get(const qmc_strmap *m, const char *key, uint32_t len) {
    if (!m->cap) return -1;
    uint64_t i = qmc_hash_bytes(key, len) & (m->cap - 1);
    while (m->keys[i]) {
        if (m->lens[i] == len && memcmp(m->keys[i], key, len) == 0) return m->vals[i];
        i = (i + 1) & (m->cap - 1);
    }
    return -1;
}
