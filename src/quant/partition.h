/* partition.h — QMC's outlier partition: the exact top-k weights of a tensor
 * by magnitude.
 *
 * Order: element i ranks above element j when |w_i| > |w_j|, or when
 * |w_i| == |w_j| and i < j (ties go to the lower flat index, so the result
 * is deterministic and exactly k elements are selected).  Both are encoded in
 * one 64-bit key per element — the 31 magnitude bits of the float above
 * (2^33 - 1 - i) — so "ranks above" is "has the larger key", every key is
 * distinct, and the outlier set is { i : key(i) >= the k-th largest key }.
 *
 * Selection is exact and linear in expected time, without sorting: one pass
 * histograms the top 16 magnitude bits (65536 buckets), which names the bucket
 * holding the k-th largest key; a second pass gathers that bucket's keys and
 * a quickselect (median-of-three, with a heap-sort fallback after 2 log2 n
 * levels so the worst case stays O(n log n)) finds the exact key among them. */
#ifndef QMC_PARTITION_H
#define QMC_PARTITION_H

#include <stdbool.h>
#include <stdint.h>

#define QMC_PARTITION_MAX_N ((int64_t)1 << 33)   /* elements per tensor the keys can index */

static inline uint64_t qmc_mag_key(const float *w, int64_t i) {
    uint32_t u;
    __builtin_memcpy(&u, &w[i], 4);
    return ((uint64_t)(u & 0x7fffffffu) << 33) | (uint64_t)(QMC_PARTITION_MAX_N - 1 - i);
}

typedef struct {
    int64_t k;        /* outliers selected */
    uint64_t key;     /* smallest outlier key; UINT64_MAX when k == 0 */
    float tau;        /* largest inlier magnitude (0 when every element is an outlier) */
} qmc_partition;

/* The number of outliers for a fraction rho of n weights: round(rho*n), halves away from zero. */
int64_t qmc_outlier_count(double rho, int64_t n);

/* Select the k largest-magnitude elements of w[n] (finite values; n <= QMC_PARTITION_MAX_N).
 * Fails only on allocation. */
int qmc_partition_select(const float *w, int64_t n, int64_t k, qmc_partition *out);

static inline bool qmc_partition_is_outlier(const qmc_partition *p, const float *w, int64_t i) {
    return p->k > 0 && qmc_mag_key(w, i) >= p->key;
}

#endif
