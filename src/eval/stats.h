/* stats.h — summary statistics of repeated measurements (Monte-Carlo trials). */
#ifndef QMC_STATS_H
#define QMC_STATS_H

/* Student t distribution with df > 0 degrees of freedom. */
double qmc_student_t_cdf(double t, double df);
/* The t with P(T <= t) = p, 0 < p < 1. */
double qmc_student_t_quantile(double p, double df);
/* Regularized incomplete beta function I_x(a, b), a, b > 0, 0 <= x <= 1. */
double qmc_incomplete_beta(double a, double b, double x);

typedef struct {
    int n;
    double mean;
    double sd;          /* sample standard deviation (n - 1); 0 when n < 2 */
    double sem;         /* sd / sqrt(n) */
    double t;           /* t quantile used for the interval (0 when n < 2) */
    double ci_lo, ci_hi;/* mean -+ t * sem: the two-sided confidence interval (= mean when n < 2) */
    double min, max;
} qmc_sample_stats;

/* Mean, standard deviation and the two-sided `level` (e.g. 0.95) confidence
 * interval of the mean from the t distribution with n - 1 degrees of freedom. */
void qmc_sample_stats_compute(const double *x, int n, double level, qmc_sample_stats *s);

#endif
