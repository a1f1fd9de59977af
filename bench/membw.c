/* membw.c — STREAM-like memory bandwidth of this machine: a read (sum) and a
 * copy over arrays much larger than the caches, with 1..N OpenMP threads.
 * Prints GB/s (1e9 bytes/s); --json for machine-readable output.
 * Build: make bench-tools; run: build/bench/membw [MiB] [--json] */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv) {
    size_t mib = 1024;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) json = 1;
        else mib = (size_t)atol(argv[i]);
    }
    size_t n = mib * 1024 * 1024 / sizeof(float) / 16 * 16;
    float *a = aligned_alloc(64, n * sizeof(float)), *b = aligned_alloc(64, n * sizeof(float));
    if (!a || !b) return 1;
#pragma omp parallel for
    for (size_t i = 0; i < n; i++) a[i] = b[i] = (float)(i & 1023);
    int maxt = omp_get_max_threads();
    if (json) printf("{\"mib\": %zu, \"results\": [", mib);
    for (int t = 1; t <= maxt; t++) {
        double best_read = 0, best_copy = 0;
        volatile float sink = 0;
        for (int rep = 0; rep < 5; rep++) {
            double t0 = now();
            float s = 0;
            /* 16 independent partial sums per thread so the loop is load-bound, not add-latency-bound */
#pragma omp parallel num_threads(t) reduction(+ : s)
            {
                float p[16] = {0};
#pragma omp for schedule(static)
                for (size_t i = 0; i < n; i += 16)
                    for (int k = 0; k < 16; k++) p[k] += a[i + k];
                for (int k = 0; k < 16; k++) s += p[k];
            }
            double t1 = now();
            sink += s;
#pragma omp parallel for num_threads(t)
            for (size_t i = 0; i < n; i++) b[i] = a[i];
            double t2 = now();
            double rd = (double)n * 4 / (t1 - t0) / 1e9, cp = (double)n * 8 / (t2 - t1) / 1e9;
            if (rd > best_read) best_read = rd;
            if (cp > best_copy) best_copy = cp;
        }
        if (json) printf("%s{\"threads\": %d, \"read_gbs\": %.2f, \"copy_gbs\": %.2f}", t > 1 ? ", " : "", t, best_read, best_copy);
        else printf("threads %d: read %.2f GB/s, copy %.2f GB/s (read+write bytes)\n", t, best_read, best_copy);
    }
    if (json) printf("]}\n");
    free(a);
    free(b);
    return 0;
}
