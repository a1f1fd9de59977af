/* strmap.h — open-addressing hash map from byte strings to int32 values.
 * Keys are not copied: they must outlive the map (vocabularies own them). */
#ifndef QMC_STRMAP_H
#define QMC_STRMAP_H
#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char **keys;
    uint32_t *lens;
    int32_t *vals;
    uint64_t cap;   /* power of two */
    uint64_t n;
} qmc_strmap;

int  qmc_strmap_init(qmc_strmap *m, uint64_t expected);
void qmc_strmap_free(qmc_strmap *m);
/* Insert or replace. */
int  qmc_strmap_put(qmc_strmap *m, const char *key, uint32_t len, int32_t val);
/* Value or -1. */
int32_t qmc_strmap_get(const qmc_strmap *m, const char *key, uint32_t len);
uint64_t qmc_hash_bytes(const void *p, size_t n);
#endif
