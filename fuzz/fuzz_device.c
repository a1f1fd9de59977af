/* fuzz_device.c — device profiles (qmc_device_parse: the JSON of
 * data/devices/NAME.json and of users' own profile files): gaussian levels
 * with derived or given thresholds, sigma_poly with retention times,
 * confusion matrices given directly, ideal; stuck-at and MRAM knobs.
 * Every accepted profile is then used: the cell model of every width it
 * defines at its times (and between / after them) must be a probability
 * matrix, the noise model and the quantizer's p_minus / p_plus derived from
 * it must be finite, and noise sampled with it must leave every cell a valid
 * level.  Short inputs are also read as a retention time ("1.5h"). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "device/cellmap.h"
#include "device/inject.h"
#include "device/profile.h"
#include "fuzz.h"

static bool prob(double x) { return x >= 0 && x <= 1; }

static void check_cell_model(const qmc_cell_model *c, int bits) {
    FUZZ_CHECK(c->bits == bits && c->n_levels == 1 << bits);
    for (int w = 0; w < c->n_levels; w++) {
        double sum = 0;
        for (int r = 0; r < c->n_levels; r++) {
            FUZZ_CHECK(prob(c->confusion[w][r]));
            sum += c->confusion[w][r];
        }
        if (!(fabs(sum - 1) <= 1e-5)) fuzz_abort("confusion row %d of %d-bit cells sums to %.17g", w, bits, sum);
        FUZZ_CHECK(c->err[w] >= 0 && c->err[w] <= 1 + 1e-5);
    }
    if (c->has_gaussian)
        for (int i = 0; i + 1 < c->n_levels; i++) FUZZ_CHECK(isfinite(c->threshold[i]));
}

/* Noise from one cell width at one time: a noise model in both encodings,
 * (derive_p) p_minus / p_plus of 3-bit codes, and a sampled stream. */
static void use_width(const qmc_device_profile *p, int bits, double t_s, bool derive_p) {
    qmc_cell_model c;
    int rc = qmc_device_cell_model(p, bits, t_s, &c);
    fuzz_check_result(rc, "qmc_device_cell_model");
    if (rc) return;
    check_cell_model(&c, bits);
    for (int e = QMC_ENC_BINARY; e <= QMC_ENC_GRAY; e++) {
        qmc_noise_model nm;
        rc = qmc_noise_model_init(&nm, p, bits, t_s, (qmc_level_encoding)e);
        fuzz_check_result(rc, "qmc_noise_model_init");
        if (rc) continue;
        check_cell_model(&nm.cell, bits);
        FUZZ_CHECK(prob(nm.mram_ber));
        if (derive_p) { /* 3-bit codes (the paper's inliers); the costliest step, so at one time only */
            qmc_noise_p np;
            rc = qmc_noise_p_derive(&nm.cell, (qmc_level_encoding)e, 3, NULL, &np);
            fuzz_check_result(rc, "qmc_noise_p_derive");
            if (rc) continue;
            FUZZ_CHECK(isfinite(np.p_minus) && isfinite(np.p_plus) && np.p_minus >= 0 && np.p_plus >= 0);
            FUZZ_CHECK(np.p_code_error >= 0 && np.p_code_error <= 1 + 1e-9 && isfinite(np.mean_dq));
            FUZZ_CHECK(np.cell_error >= 0 && np.cell_error <= 1 + 1e-9);
        }
        /* 96 cells, written with every level in turn; the sampler reads them back */
        enum { N_CELLS = 96 };
        uint8_t stream[(N_CELLS * QMC_CELL_MAX_BITS + 7) / 8 + QMC_BITS_PAD];
        memset(stream, 0, sizeof stream);
        for (int64_t j = 0; j < N_CELLS; j++)
            qmc_cell_set_level(stream, j, bits, (qmc_level_encoding)e, (uint32_t)(j % c.n_levels));
        int64_t changed = qmc_noise_stream(stream, N_CELLS, bits, (qmc_level_encoding)e, &nm.cell, 0x5eed);
        FUZZ_CHECK(changed >= 0 && changed <= N_CELLS);
        int64_t hist[QMC_CELL_MAX_LEVELS] = {0};
        qmc_cell_level_hist(stream, N_CELLS, bits, (qmc_level_encoding)e, hist);
        int64_t total = 0;
        for (int l = 0; l < QMC_CELL_MAX_LEVELS; l++) total += hist[l];
        FUZZ_CHECK(total == N_CELLS);
        for (int l = c.n_levels; l < QMC_CELL_MAX_LEVELS; l++) FUZZ_CHECK(hist[l] == 0);
    }
}

QMC_FUZZ_TARGET(device) {
    if (size <= 40) {
        char *s = fuzz_cstring(data, size);
        double t;
        for (int unit = 0; unit <= 1; unit++)
            if (qmc_device_parse_time(s, unit, &t)) FUZZ_CHECK(t > 0 && isfinite(t));
        free(s);
    }
    qmc_device_profile *p = malloc(sizeof *p);
    if (!p) abort();
    int rc = qmc_device_parse((const char *)data, size, FUZZ_LABEL, p);
    fuzz_check_status(rc, "qmc_device_parse");
    if (rc) {
        free(p);
        return;
    }
    FUZZ_CHECK(p->name[0] && p->sources[0] && strcmp(p->origin, FUZZ_LABEL) == 0);
    FUZZ_CHECK(prob(p->stuck_at_0) && prob(p->stuck_at_1) && p->stuck_at_0 + p->stuck_at_1 <= 1);
    FUZZ_CHECK(p->mram_ber >= 0 && p->mram_ber <= 0.5);
    FUZZ_CHECK(p->width_mask != 0 && (p->width_mask & ~0x1eu) == 0);
    /* the default time; sigma_poly also: the last fitted time, one between
     * the first two (interpolated) and one past the last (extrapolated) */
    double times[4] = {0};
    int n_times = 1;
    if (p->kind == QMC_DEVICE_SIGMA_POLY) {
        const int nt = p->n_times;
        FUZZ_CHECK(nt >= 1 && nt <= QMC_DEVICE_MAX_TIMES);
        times[n_times++] = p->time_s[nt - 1];
        if (nt > 1) times[n_times++] = 0.5 * (p->time_s[0] + p->time_s[1]);
        times[n_times++] = 2 * p->time_s[nt - 1];
    }
    for (int bits = 1; bits <= QMC_CELL_MAX_BITS; bits++)
        for (int i = 0; i < n_times; i++) {
            if (!(p->width_mask & (1u << bits))) {
                qmc_cell_model c;
                rc = qmc_device_cell_model(p, bits, times[i], &c);
                FUZZ_CHECK(rc < 0);
                fuzz_check_named(rc, "qmc_device_cell_model", FUZZ_LABEL);
                break;
            }
            use_width(p, bits, times[i], i == 0);
        }
    free(p);
}
