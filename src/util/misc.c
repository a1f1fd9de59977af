/* misc.c — time, strings, number parsing, paths, thread count. */
#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

double qmc_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void qmc_str_append(qmc_str *b, const char *s, size_t n) {
    if (b->failed) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1) cap *= 2;
        char *ns = qmc_realloc(b->s, cap, 1);
        if (!ns) {
            b->failed = true;
            return;
        }
        b->s = ns;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = 0;
}

void qmc_str_printf(qmc_str *b, const char *fmt, ...) {
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof small) {
        qmc_str_append(b, small, (size_t)n);
        return;
    }
    char *big = qmc_alloc((size_t)n + 1, 1);
    if (!big) {
        b->failed = true;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    qmc_str_append(b, big, (size_t)n);
    qmc_free(big);
}

void qmc_str_free(qmc_str *b) {
    qmc_free(b->s);
    b->s = NULL;
    b->len = b->cap = 0;
}

bool qmc_ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && memcmp(s + a - b, suffix, b) == 0;
}

bool qmc_parse_size(const char *s, uint64_t *out) {
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (errno || end == s || !(v >= 0) || !isfinite(v)) return false;
    double mul = 1;
    switch (*end) {
    case 'k': case 'K': mul = 1024.0; end++; break;
    case 'm': case 'M': mul = 1048576.0; end++; break;
    case 'g': case 'G': mul = 1073741824.0; end++; break;
    case 't': case 'T': mul = 1099511627776.0; end++; break;
    default: break;
    }
    if (*end == 'B' || *end == 'b') end++;
    if (*end) return false;
    v *= mul;
    if (v > 1.8e19) return false;
    *out = (uint64_t)v;
    return true;
}

bool qmc_parse_int(const char *s, int64_t lo, int64_t hi, int64_t *out) {
    if (!s || !*s) return false;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < lo || v > hi) return false;
    *out = v;
    return true;
}

bool qmc_parse_double(const char *s, double *out) {
    if (!s || !*s) return false;
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (errno || *end || !isfinite(v)) return false;
    *out = v;
    return true;
}

void qmc_path_join(char *out, size_t cap, const char *dir, const char *name) {
    size_t n = strlen(dir);
    if (n && dir[n - 1] == '/')
        snprintf(out, cap, "%s%s", dir, name);
    else
        snprintf(out, cap, "%s/%s", dir, name);
}

const char *qmc_basename(const char *path) {
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static int g_threads;

void qmc_set_threads(int n) {
    g_threads = n > 0 ? n : 0;
    if (n > 0) omp_set_num_threads(n);
}

int qmc_threads(void) { return g_threads > 0 ? g_threads : omp_get_max_threads(); }

void qmc_progress_bar(void *label, double f) {
    static _Thread_local int last = -1;
    if (!isatty(2)) return;
    int pct = (int)(f * 100.0);
    if (pct == last && f < 1.0) return;
    last = pct;
    int filled = (int)(f * 30.0);
    fprintf(stderr, "\r%-12s [%.*s%*s] %3d%%", label ? (const char *)label : "", filled,
            "##############################", 30 - filled, "", pct);
    if (f >= 1.0) {
        fprintf(stderr, "\n");
        last = -1;
    }
}

size_t qmc_strip_cr(char *text, size_t len) {
    size_t w = 0;
    for (size_t i = 0; i < len; i++)
        if (text[i] != '\r') text[w++] = text[i];
    text[w] = 0;
    return w;
}
