/* stats.c — t distribution (through the incomplete beta function) and sample summaries. */
#include <math.h>

#include "eval/stats.h"

/* Continued fraction of I_x(a, b) (modified Lentz), valid for x < (a + 1) / (a + b + 2). */
static double beta_cf(double a, double b, double x) {
    const double tiny = 1e-300, eps = 1e-16;
    double c = 1, d = 1 - (a + b) * x / (a + 1);
    if (fabs(d) < tiny) d = tiny;
    d = 1 / d;
    double f = d;
    for (int m = 1; m <= 10000; m++) {
        /* even step: d_{2m} = m (b - m) x / ((a + 2m - 1)(a + 2m)) */
        double num = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m));
        d = 1 + num * d;
        c = 1 + num / c;
        if (fabs(d) < tiny) d = tiny;
        if (fabs(c) < tiny) c = tiny;
        d = 1 / d;
        f *= c * d;
        /* odd step: d_{2m+1} = -(a + m)(a + b + m) x / ((a + 2m)(a + 2m + 1)) */
        num = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1));
        d = 1 + num * d;
        c = 1 + num / c;
        if (fabs(d) < tiny) d = tiny;
        if (fabs(c) < tiny) c = tiny;
        d = 1 / d;
        double delta = c * d;
        f *= delta;
        if (fabs(delta - 1) < eps) break;
    }
    return f;
}

double qmc_incomplete_beta(double a, double b, double x) {
    if (x <= 0) return 0;
    if (x >= 1) return 1;
    /* x^a (1-x)^b / (a B(a, b)) times the continued fraction */
    double lfront = a * log(x) + b * log1p(-x) + lgamma(a + b) - lgamma(a) - lgamma(b);
    if (x < (a + 1) / (a + b + 2)) return exp(lfront) * beta_cf(a, b, x) / a;
    return 1 - exp(lfront) * beta_cf(b, a, 1 - x) / b;
}

double qmc_student_t_cdf(double t, double df) {
    /* P(|T| > |t|) = I_{df / (df + t^2)}(df / 2, 1 / 2) */
    double tail = 0.5 * qmc_incomplete_beta(0.5 * df, 0.5, df / (df + t * t));
    return t >= 0 ? 1 - tail : tail;
}

double qmc_student_t_quantile(double p, double df) {
    if (p == 0.5) return 0;
    if (p < 0.5) return -qmc_student_t_quantile(1 - p, df);
    /* bracket, then bisect to the last bit (the cdf is monotone) */
    double lo = 0, hi = 1;
    while (qmc_student_t_cdf(hi, df) < p && hi < 1e300) hi *= 2;
    for (int i = 0; i < 200 && hi - lo > 1e-15 * hi; i++) {
        double mid = 0.5 * (lo + hi);
        if (qmc_student_t_cdf(mid, df) < p) lo = mid;
        else hi = mid;
    }
    return 0.5 * (lo + hi);
}

void qmc_sample_stats_compute(const double *x, int n, double level, qmc_sample_stats *s) {
    *s = (qmc_sample_stats){0};
    s->n = n;
    if (n < 1) return;
    double sum = 0;
    s->min = s->max = x[0];
    for (int i = 0; i < n; i++) {
        sum += x[i];
        s->min = fmin(s->min, x[i]);
        s->max = fmax(s->max, x[i]);
    }
    s->mean = sum / n;
    s->ci_lo = s->ci_hi = s->mean;
    if (n < 2) return;
    double ss = 0;
    for (int i = 0; i < n; i++) ss += (x[i] - s->mean) * (x[i] - s->mean);
    s->sd = sqrt(ss / (n - 1));
    s->sem = s->sd / sqrt((double)n);
    s->t = qmc_student_t_quantile(0.5 + 0.5 * level, n - 1);
    s->ci_lo = s->mean - s->t * s->sem;
    s->ci_hi = s->mean + s->t * s->sem;
}
