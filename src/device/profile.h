/* profile.h — device profiles: how the cells of a multi-level ReRAM read back.
 *
 * A profile is a human-readable JSON file (data/devices/NAME.json, format in
 * docs/device-noise.md) describing one device:
 *   - a level model for one or more cell widths (bits per cell):
 *       "gaussian"   per-level Gaussian read distributions (means, sigmas);
 *       "sigma_poly" levels spread uniformly over [g_min, g_max] with a
 *                    conductance-dependent sigma polynomial, possibly at
 *                    several retention times (aihwkit's ReRamWan2022 form);
 *       "confusion"  the level-confusion matrix given directly (measurements);
 *       "ideal"      no read errors at any width;
 *   - optional knobs: stuck-at-0 / stuck-at-1 cell rates (a cell reads its
 *     lowest / highest level whatever was written) and an MRAM bit-error rate.
 *
 * From a profile, a cell width and a retention time, qmc_device_cell_model()
 * derives the level-confusion matrix P(read r | written w): read thresholds
 * at the intersections of neighbouring Gaussians (or their midpoints, or
 * given), normal tail probabilities from erfc, stuck-at cells folded in.
 *
 * Profiles are found by name (see qmc_device_load for the search order:
 * --device-dir, $QMC_DATA/devices, data/devices next to the binary, then the
 * copies of data/devices/NAME.json compiled into qmc), or by path. */
#ifndef QMC_DEVICE_PROFILE_H
#define QMC_DEVICE_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define QMC_CELL_MAX_BITS 4
#define QMC_CELL_MAX_LEVELS 16
#define QMC_DEVICE_MAX_TIMES 8
#define QMC_DEVICE_MAX_COEFFS 8

typedef enum {
    QMC_DEVICE_GAUSSIAN = 0,
    QMC_DEVICE_SIGMA_POLY = 1,
    QMC_DEVICE_CONFUSION = 2,
    QMC_DEVICE_IDEAL = 3,
} qmc_device_kind;

typedef enum {
    QMC_THRESHOLDS_INTERSECTION = 0, /* where neighbouring level densities are equal */
    QMC_THRESHOLDS_MIDPOINT = 1,     /* halfway between neighbouring means */
} qmc_threshold_rule;

/* One cell width as the profile file gives it. */
typedef struct {
    int bits;                                        /* bits per cell, 1..4 */
    double mean[QMC_CELL_MAX_LEVELS];                /* gaussian: level means */
    double sigma[QMC_CELL_MAX_LEVELS];               /* gaussian: level sigmas (> 0) */
    bool has_thresholds;                             /* gaussian: thresholds given */
    double threshold[QMC_CELL_MAX_LEVELS - 1];
    double matrix[QMC_CELL_MAX_LEVELS][QMC_CELL_MAX_LEVELS]; /* confusion: [written][read] */
} qmc_device_cells;

typedef struct {
    char name[64];
    char description[512];
    char sources[1024];          /* the "sources" entries joined by " | " */
    char origin[4096];           /* file it was read from, or "builtin:NAME" */
    qmc_device_kind kind;
    qmc_threshold_rule rule;
    /* gaussian / confusion: the widths the file defines */
    int n_cells;
    qmc_device_cells cells[QMC_CELL_MAX_BITS];
    /* sigma_poly: levels at g_min + i (g_max - g_min) / (L - 1),
     * sigma(g) = (g_max / g_ref) * sum_k coeff[t][k] (g / g_max)^k */
    double g_min, g_max, g_ref;
    unsigned width_mask;         /* bit b set: width b supported */
    int n_times, n_coeffs;
    double time_s[QMC_DEVICE_MAX_TIMES];            /* increasing */
    double coeff[QMC_DEVICE_MAX_TIMES][QMC_DEVICE_MAX_COEFFS];
    /* knobs */
    double stuck_at_0, stuck_at_1; /* per-cell probabilities, sum <= 1 */
    double mram_ber;               /* per-bit flip probability of the MRAM plane */
} qmc_device_profile;

/* The read behaviour of one cell width, ready for noise injection. */
typedef struct {
    int bits, n_levels;
    bool has_gaussian;            /* mean/sigma/threshold describe the levels */
    double mean[QMC_CELL_MAX_LEVELS], sigma[QMC_CELL_MAX_LEVELS];
    double threshold[QMC_CELL_MAX_LEVELS - 1];
    /* P(read r | written w), stuck-at cells included; rows sum to 1 */
    double confusion[QMC_CELL_MAX_LEVELS][QMC_CELL_MAX_LEVELS];
    /* P(read != w | written w), summed from the off-diagonal (no cancellation) */
    double err[QMC_CELL_MAX_LEVELS];
    double retention_s;           /* time the model is for (0: not time-dependent) */
} qmc_cell_model;

/* Parse and validate a profile from JSON text; origin names it in errors. */
int qmc_device_parse(const char *json, size_t len, const char *origin, qmc_device_profile *p);
/* Read a profile file. */
int qmc_device_read_file(const char *path, qmc_device_profile *p);

/* What a profile name selects besides the file: NAME[-TIME][-Nb], e.g.
 * "wan2022-1s-2b" = profile "wan2022" at t = 1 s with 2-bit cells.  TIME is
 * a number with unit s, m, h or d.  0 = not given. */
typedef struct {
    int cell_bits;
    double retention_s;
} qmc_device_name_sel;

/* A time such as "1s", "1.5h", "1d", "30m" (or plain seconds unless
 * unit_required); false when it is not a positive time. */
bool qmc_device_parse_time(const char *s, bool unit_required, double *seconds);

/* Load a profile by path (contains '/' or ends in .json) or by name.  Names
 * are looked up as NAME.json in: dir (if not NULL), $QMC_DATA/devices,
 * <binary dir>/../data/devices, <binary dir>/../share/qmc/devices, and
 * finally the built-in copies; suffixes -Nb and -TIME are peeled off when the
 * full name is not found, and reported in sel. */
int qmc_device_load(const char *spec, const char *dir, qmc_device_profile *p, qmc_device_name_sel *sel);

/* Names of the profiles that qmc_device_load finds (directories and built-in
 * ones, deduplicated, sorted), written one per line into buf. */
int qmc_device_list(const char *dir, char *buf, size_t cap);

/* Cell model of width bits at retention time t_s (0: the profile's earliest
 * time).  Fails when the profile lacks that width or time. */
int qmc_device_cell_model(const qmc_device_profile *p, int bits, double t_s, qmc_cell_model *out);

/* Fill err[] from confusion[][] (also used for matrices built by hand). */
void qmc_cell_model_finish(qmc_cell_model *c);

/* ---- the Gaussian level arithmetic (exposed for tests) -------------------- */
/* P(X <= x) and P(X > x) for X ~ N(mu, sigma^2), both from erfc (accurate tails). */
double qmc_normal_cdf(double x, double mu, double sigma);
double qmc_normal_sf(double x, double mu, double sigma);
/* The point in (m1, m2) where the densities N(m1, s1) and N(m2, s2) are equal
 * (the quadratic's root between the means; the midpoint when s1 == s2).
 * Returns false when no root lies strictly between the means. */
bool qmc_gaussian_intersection(double m1, double s1, double m2, double s2, double *x);

/* Built-in copies of data/devices/NAME.json (src/device/profiles_builtin.c,
 * regenerated by scripts/embed-profiles.sh; a test checks they match). */
typedef struct {
    const char *name;
    const char *json;
} qmc_builtin_profile;
extern const qmc_builtin_profile qmc_builtin_profiles[];

#endif
