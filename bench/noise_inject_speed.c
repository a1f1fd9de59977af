/* noise_inject_speed.c — how fast qmc injects cell errors (bench/noise_inject_speed.sh builds and runs it).
 * Prints, per case, the time to count the stored levels (one pass) and to
 * inject, for 10^9 2-bit cells at nvmexplorer's 7.7e-9 (geometric skipping:
 * almost free) and 6.7e8 3-bit cells at 3.8e-3. */
#include <stdio.h>
#include <stdlib.h>

#include "device/inject.h"
#include "util/util.h"

static int run(const char *profile, int cell_bits, int64_t n_cells) {
    qmc_device_profile p;
    qmc_device_name_sel sel;
    qmc_cell_model c;
    if (qmc_device_load(profile, NULL, &p, &sel) || qmc_device_cell_model(&p, cell_bits, sel.retention_s, &c)) {
        fprintf(stderr, "%s\n", qmc_errmsg());
        return 1;
    }
    size_t bytes = (size_t)((n_cells * cell_bits + 7) / 8) + QMC_BITS_PAD;
    uint8_t *s = qmc_alloc(bytes, 1);
    if (!s) {
        fprintf(stderr, "%s\n", qmc_errmsg());
        return 1;
    }
    for (size_t i = 0; i + QMC_BITS_PAD < bytes; i++) s[i] = (uint8_t)qmc_rand_u64(1, i);
    int64_t hist[QMC_CELL_MAX_LEVELS] = {0};
    double t0 = qmc_now();
    qmc_cell_level_hist(s, n_cells, cell_bits, QMC_ENC_BINARY, hist);
    double t1 = qmc_now();
    int64_t errors = qmc_noise_stream(s, n_cells, cell_bits, QMC_ENC_BINARY, &c, 7);
    double t2 = qmc_now();
    double expected = 0;
    for (int w = 0; w < c.n_levels; w++) expected += (double)hist[w] * c.err[w];
    printf("%-14s %d-bit cells: %.3g cells, level count %.3f s, injection %.3f s (%.1f ns/cell), %lld errors (expected %.1f), %d threads\n",
           profile, cell_bits, (double)n_cells, t1 - t0, t2 - t1, 1e9 * (t2 - t1) / (double)n_cells, (long long)errors,
           expected, qmc_threads());
    qmc_free(s);
    return 0;
}

int main(void) {
    return run("nvmexplorer", 2, 1000000000) || run("nvmexplorer", 3, 666666667) || run("wan2022-1s", 3, 666666667);
}
