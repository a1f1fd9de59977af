/* levels.c — from a profile's level model to the level-confusion matrix.
 *
 * A cell written to level w reads as level r when its analog value falls in
 * [t_{r-1}, t_r) (t_{-1} = -inf, t_{L-1} = +inf).  With a Gaussian level
 * N(mu_w, sigma_w):
 *   r < w:  P = Phi(t_r) - Phi(t_{r-1})        (lower tail: from erfc, no cancellation)
 *   r > w:  P = Q(t_{r-1}) - Q(t_r)            (upper tail, Q = 1 - Phi)
 *   r = w:  1 - the others
 * Stuck-at cells (probability s0 / s1 per cell) read the lowest / highest level
 * whatever was written: C = (1 - s0 - s1) C_gauss + s0 e_0 + s1 e_{L-1}. */
#include <math.h>
#include <string.h>

#include "device/profile.h"
#include "util/util.h"

double qmc_normal_cdf(double x, double mu, double sigma) { return 0.5 * erfc(-(x - mu) / (sigma * M_SQRT2)); }
double qmc_normal_sf(double x, double mu, double sigma) { return 0.5 * erfc((x - mu) / (sigma * M_SQRT2)); }

bool qmc_gaussian_intersection(double m1, double s1, double m2, double s2, double *x) {
    /* In u = (x - m1) / d, d = m2 - m1, equal densities mean
     *   u^2 / (2 a1^2) - (u - 1)^2 / (2 a2^2) + ln(s1 / s2) = 0,  a_i = s_i / d,
     * i.e. A u^2 + B u + C = 0 with A = 1/(2 a1^2) - 1/(2 a2^2), B = 1/a2^2,
     * C = -1/(2 a2^2) + ln(s1/s2).  A = 0 (equal sigmas) gives u = 1/2. */
    double d = m2 - m1;
    if (!(d > 0) || !(s1 > 0) || !(s2 > 0)) return false;
    double a1 = s1 / d, a2 = s2 / d;
    double A = 0.5 / (a1 * a1) - 0.5 / (a2 * a2), B = 1.0 / (a2 * a2), C = -0.5 / (a2 * a2) + log(s1 / s2);
    double u[2];
    int n = 0;
    if (A == 0) {
        u[n++] = -C / B;
    } else {
        double disc = B * B - 4 * A * C;
        if (disc < 0) return false;
        /* stable roots: q = -(B + sign(B) sqrt(disc)) / 2, u = q / A and C / q */
        double q = -0.5 * (B + copysign(sqrt(disc), B));
        u[n++] = q / A;
        if (q != 0) u[n++] = C / q;
    }
    for (int i = 0; i < n; i++)
        if (u[i] > 0 && u[i] < 1) {
            *x = m1 + u[i] * d;
            return true;
        }
    return false;
}

void qmc_cell_model_finish(qmc_cell_model *c) {
    for (int w = 0; w < c->n_levels; w++) {
        double e = 0;
        for (int r = 0; r < c->n_levels; r++)
            if (r != w) e += c->confusion[w][r];
        c->err[w] = e;
    }
}

/* Thresholds of L Gaussian levels by the profile's rule. */
static int gaussian_thresholds(const qmc_device_profile *p, qmc_cell_model *c) {
    for (int i = 0; i + 1 < c->n_levels; i++) {
        if (p->rule == QMC_THRESHOLDS_MIDPOINT) {
            c->threshold[i] = 0.5 * (c->mean[i] + c->mean[i + 1]);
        } else if (!qmc_gaussian_intersection(c->mean[i], c->sigma[i], c->mean[i + 1], c->sigma[i + 1], &c->threshold[i])) {
            return qmc_fail(QMC_ERR_FORMAT,
                            "%s: the densities of levels %d and %d (%d-bit cells) do not cross between their means; "
                            "give the thresholds explicitly",
                            p->origin, i, i + 1, c->bits);
        }
    }
    return QMC_OK;
}

static void gaussian_confusion(qmc_cell_model *c) {
    const int L = c->n_levels;
    for (int w = 0; w < L; w++) {
        double off = 0;
        for (int r = 0; r < L; r++) {
            if (r == w) continue;
            double lo = r > 0 ? c->threshold[r - 1] : -INFINITY, hi = r < L - 1 ? c->threshold[r] : INFINITY;
            double pr = r < w ? qmc_normal_cdf(hi, c->mean[w], c->sigma[w]) - qmc_normal_cdf(lo, c->mean[w], c->sigma[w])
                              : qmc_normal_sf(lo, c->mean[w], c->sigma[w]) - qmc_normal_sf(hi, c->mean[w], c->sigma[w]);
            c->confusion[w][r] = pr > 0 ? pr : 0;
            off += c->confusion[w][r];
        }
        c->confusion[w][w] = 1.0 - off;
    }
}

static void fold_stuck_at(const qmc_device_profile *p, qmc_cell_model *c) {
    const double s0 = p->stuck_at_0, s1 = p->stuck_at_1, keep = 1.0 - s0 - s1;
    if (s0 == 0 && s1 == 0) return;
    for (int w = 0; w < c->n_levels; w++) {
        for (int r = 0; r < c->n_levels; r++) c->confusion[w][r] *= keep;
        c->confusion[w][0] += s0;
        c->confusion[w][c->n_levels - 1] += s1;
    }
}

static double poly_sigma(const qmc_device_profile *p, int ti, double g) {
    double x = g / p->g_max, s = 0, pw = 1;
    for (int k = 0; k < p->n_coeffs; k++, pw *= x) s += p->coeff[ti][k] * pw;
    return s * p->g_max / p->g_ref;
}

/* Sigma at conductance g and time t: the fitted polynomial at a fitted time,
 * linear in log(t) between two fitted times (our interpolation). */
static int sigma_at(const qmc_device_profile *p, double t, double g, double *s) {
    if (t == 0) t = p->time_s[0];
    for (int i = 0; i < p->n_times; i++)
        if (fabs(t - p->time_s[i]) <= 1e-9 * p->time_s[i]) {
            *s = poly_sigma(p, i, g);
            return QMC_OK;
        }
    for (int i = 0; i + 1 < p->n_times; i++)
        if (t > p->time_s[i] && t < p->time_s[i + 1]) {
            double f = (log(t) - log(p->time_s[i])) / (log(p->time_s[i + 1]) - log(p->time_s[i]));
            *s = (1 - f) * poly_sigma(p, i, g) + f * poly_sigma(p, i + 1, g);
            return QMC_OK;
        }
    return qmc_fail(QMC_ERR_RANGE, "%s: retention time %g s is outside the profile's data (%g s to %g s)", p->origin, t,
                    p->time_s[0], p->time_s[p->n_times - 1]);
}

static void widths_text(const qmc_device_profile *p, char *buf, size_t cap) {
    buf[0] = 0;
    for (int b = 1; b <= QMC_CELL_MAX_BITS; b++)
        if (p->width_mask & (1u << b)) {
            size_t n = strlen(buf);
            snprintf(buf + n, cap - n, "%s%d", n ? ", " : "", b);
        }
}

int qmc_device_cell_model(const qmc_device_profile *p, int bits, double t_s, qmc_cell_model *c) {
    memset(c, 0, sizeof *c);
    if (bits < 1 || bits > QMC_CELL_MAX_BITS) return qmc_fail(QMC_ERR_ARG, "cell width %d is not 1..4 bits", bits);
    if (!(p->width_mask & (1u << bits))) {
        char w[32];
        widths_text(p, w, sizeof w);
        return qmc_fail(QMC_ERR_ARG, "%s: profile '%s' has no model for %d-bit cells (it defines %s-bit cells)", p->origin,
                        p->name, bits, w);
    }
    if (t_s < 0 || !isfinite(t_s)) return qmc_fail(QMC_ERR_ARG, "retention time %g s is not a time", t_s);
    if (t_s > 0 && p->kind != QMC_DEVICE_SIGMA_POLY)
        return qmc_fail(QMC_ERR_ARG, "%s: profile '%s' has no retention-time data (only sigma_poly profiles do)", p->origin,
                        p->name);
    c->bits = bits;
    c->n_levels = 1 << bits;
    const int L = c->n_levels;
    int rc = QMC_OK;
    switch (p->kind) {
    case QMC_DEVICE_IDEAL:
        for (int w = 0; w < L; w++) c->confusion[w][w] = 1.0;
        break;
    case QMC_DEVICE_CONFUSION:
        for (int i = 0; i < p->n_cells; i++)
            if (p->cells[i].bits == bits) memcpy(c->confusion, p->cells[i].matrix, sizeof c->confusion);
        break;
    case QMC_DEVICE_GAUSSIAN:
        for (int i = 0; i < p->n_cells; i++)
            if (p->cells[i].bits == bits) {
                const qmc_device_cells *pc = &p->cells[i];
                memcpy(c->mean, pc->mean, sizeof c->mean);
                memcpy(c->sigma, pc->sigma, sizeof c->sigma);
                if (pc->has_thresholds) memcpy(c->threshold, pc->threshold, sizeof c->threshold);
                else rc = gaussian_thresholds(p, c);
            }
        c->has_gaussian = true;
        break;
    case QMC_DEVICE_SIGMA_POLY:
        c->retention_s = t_s > 0 ? t_s : p->time_s[0];
        for (int i = 0; i < L && !rc; i++) {
            c->mean[i] = p->g_min + (p->g_max - p->g_min) * i / (L - 1);
            rc = sigma_at(p, c->retention_s, c->mean[i], &c->sigma[i]);
            if (!rc && !(c->sigma[i] > 0))
                rc = qmc_fail(QMC_ERR_FORMAT, "%s: the sigma polynomial is %g (not positive) at level %d of %d-bit cells",
                              p->origin, c->sigma[i], i, bits);
        }
        if (!rc) rc = gaussian_thresholds(p, c);
        c->has_gaussian = true;
        break;
    }
    if (rc) return rc;
    if (c->has_gaussian) gaussian_confusion(c);
    fold_stuck_at(p, c);
    qmc_cell_model_finish(c);
    return QMC_OK;
}
