/* partition.c — exact top-k by magnitude (see partition.h). */
#include <math.h>
#include <omp.h>
#include <string.h>

#include "quant/partition.h"
#include "util/util.h"

#define BUCKET_SHIFT 15                 /* key magnitude bits 30..15 name the bucket */
#define N_BUCKETS (1 << 16)

int64_t qmc_outlier_count(double rho, int64_t n) {
    int64_t k = llround(rho * (double)n);
    return k < 0 ? 0 : (k > n ? n : k);
}

static inline uint32_t bucket_of(const float *w, int64_t i) {
    uint32_t u;
    memcpy(&u, &w[i], 4);
    return (u & 0x7fffffffu) >> BUCKET_SHIFT;
}

static inline void swap_u64(uint64_t *a, uint64_t *b) {
    uint64_t t = *a;
    *a = *b;
    *b = t;
}

/* Heap sort, descending (the quickselect's fallback). */
static void sift_down(uint64_t *a, int64_t n, int64_t i) {
    for (;;) {
        int64_t c = 2 * i + 1;
        if (c >= n) return;
        if (c + 1 < n && a[c + 1] < a[c]) c++;   /* min-heap: the root ends up last */
        if (a[i] <= a[c]) return;
        swap_u64(&a[i], &a[c]);
        i = c;
    }
}

static void heap_sort_desc(uint64_t *a, int64_t n) {
    for (int64_t i = n / 2 - 1; i >= 0; i--) sift_down(a, n, i);
    for (int64_t end = n - 1; end > 0; end--) {
        swap_u64(&a[0], &a[end]);
        sift_down(a, end, 0);
    }
}

/* The element of rank r (0 = largest) of the distinct keys a[n]; reorders a. */
static uint64_t select_desc(uint64_t *a, int64_t n, int64_t r) {
    int64_t lo = 0, hi = n - 1;   /* rank r lies in a[lo..hi] */
    int depth = 0, max_depth = 2;
    for (int64_t m = n; m > 1; m >>= 1) max_depth += 2;
    while (hi > lo) {
        if (++depth > max_depth) {
            heap_sort_desc(a + lo, hi - lo + 1);
            return a[r];
        }
        /* median of three as the pivot, moved to a[hi] */
        int64_t mid = lo + (hi - lo) / 2;
        if (a[mid] > a[lo]) swap_u64(&a[mid], &a[lo]);
        if (a[hi] > a[lo]) swap_u64(&a[hi], &a[lo]);
        if (a[mid] > a[hi]) swap_u64(&a[mid], &a[hi]);
        uint64_t pivot = a[hi];
        int64_t store = lo;
        for (int64_t i = lo; i < hi; i++)
            if (a[i] > pivot) swap_u64(&a[i], &a[store++]);
        swap_u64(&a[store], &a[hi]);  /* a[lo..store-1] > pivot = a[store] > a[store+1..hi] */
        if (store == r) return a[r];
        if (r < store) hi = store - 1;
        else lo = store + 1;
    }
    return a[r];
}

int qmc_partition_select(const float *w, int64_t n, int64_t k, qmc_partition *out) {
    memset(out, 0, sizeof *out);
    out->key = UINT64_MAX;
    if (n <= 0 || n > QMC_PARTITION_MAX_N || k < 0 || k > n)
        return qmc_fail(QMC_ERR_ARG, "cannot select %lld of %lld elements", (long long)k, (long long)n);
    out->k = k;
    if (k > 0) {
        /* pass 1: per-thread histograms of the top magnitude bits, summed in a fixed order */
        int nt = qmc_threads();
        int64_t *hist = qmc_alloc((size_t)nt * N_BUCKETS, sizeof(int64_t));
        if (!hist) return QMC_ERR_NOMEM;
#pragma omp parallel num_threads(nt)
        {
            int64_t *h = hist + (int64_t)omp_get_thread_num() * N_BUCKETS;
#pragma omp for schedule(static)
            for (int64_t i = 0; i < n; i++) h[bucket_of(w, i)]++;
        }
        for (int t = 1; t < nt; t++)
            for (int b = 0; b < N_BUCKETS; b++) hist[b] += hist[(int64_t)t * N_BUCKETS + b];
        int64_t above = 0;
        int bucket = N_BUCKETS - 1;
        while (above + hist[bucket] < k) above += hist[bucket--];
        int64_t cnt = hist[bucket];
        qmc_free(hist);
        /* pass 2: the keys of that bucket; the outlier threshold is the one of rank k-1-above */
        uint64_t *cand = qmc_alloc((size_t)cnt, sizeof(uint64_t));
        if (!cand) return QMC_ERR_NOMEM;
        int64_t c = 0;
        for (int64_t i = 0; i < n; i++)
            if (bucket_of(w, i) == (uint32_t)bucket) cand[c++] = qmc_mag_key(w, i);
        out->key = select_desc(cand, cnt, k - 1 - above);
        qmc_free(cand);
    }
    /* tau: the largest inlier magnitude */
    float tau = 0.0f;
    const uint64_t key = out->key;
#pragma omp parallel for schedule(static) reduction(max : tau) num_threads(qmc_threads())
    for (int64_t i = 0; i < n; i++)
        if (qmc_mag_key(w, i) < key && fabsf(w[i]) > tau) tau = fabsf(w[i]);
    out->tau = tau;
    return QMC_OK;
}
