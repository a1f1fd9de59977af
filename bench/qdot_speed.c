/* qdot_speed.c — speed of the single-token packed product (the fused decode +
 * dot of qmc_qt_dot_rows) on one thread, separated from the rest of decoding.
 * A synthetic weight matrix (Student-t-like: normal times a random per-row
 * scale, plus a few heavy entries) is quantized with the given method, then
 * its rows are dotted with x again and again:
 *   cache   a matrix of ~0.5 MB of codes (fits L2: the kernel's own speed)
 *   stream  a matrix of ~64 MB+ (from DRAM: what decoding sees)
 * Usage: qdot_speed [--json] [METHOD [ROWS_STREAM [COLS]]]
 *   METHOD: qmc (default) | rtn8 (the 8-bit head format)
 * Prints G weights/s and GB/s of planes read per case (--json: one JSON
 * object per case).  bench/quant_speed.sh measures the end-to-end figure. */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/qdecode.h"
#include "quant/quantize.h"
#include "util/util.h"

static qmc_tensor make(int64_t rows, int64_t cols, const char *method) {
    float *w = qmc_alloc((size_t)(rows * cols), sizeof(float));
    for (int64_t r = 0; r < rows; r++) {
        double s = 0.02 * (1.0 + 0.5 * fabs(qmc_rand_normal(3, (uint64_t)r)));
        for (int64_t c = 0; c < cols; c++) {
            double v = qmc_rand_normal(5, (uint64_t)(r * cols + c));
            if (qmc_rand_u64(9, (uint64_t)(r * cols + c)) % 997 == 0) v *= 8;
            w[r * cols + c] = (float)(s * v);
        }
    }
    qmc_tensor t, d;
    qmc_tensor_init(&t, "w", QMC_TYPE_F32, 2, cols, rows);
    t.data = w;
    qmc_quant_params p;
    qmc_quant_params_default(&p);
    if (!strcmp(method, "rtn8")) {
        p.method = QMC_METHOD_RTN;
        p.rho = 0;
        p.bits_in = 8;
        p.asym = false;   /* the embedding / head format */
    }
    p.grid = 20;
    if (qmc_quantize_tensor(&t, &p, &d)) {
        fprintf(stderr, "qdot_speed: %s\n", qmc_errmsg());
        exit(1);
    }
    qmc_free(w);
    return d;
}

static bool json;

static void run(const char *label, int64_t rows, int64_t cols, const char *method, double min_s) {
    qmc_tensor d = make(rows, cols, method);
    const qmc_qtensor *q = d.q;
    float *x = qmc_alloc((size_t)cols, 4), *xi = qmc_alloc((size_t)qmc_qt_dot_xi_len(cols), 4);
    float *y = qmc_alloc((size_t)rows, 4);
    for (int64_t c = 0; c < cols; c++) x[c] = (float)qmc_rand_normal(11, (uint64_t)c);
    qmc_qt_dot_in in = {x, xi, 0.0f};
    qmc_qt_dot_prepare(q, &in);
    qmc_plane_sizes sz;
    qmc_qt_plane_sizes(q, &sz);
    int reps = 0;
    double t0 = qmc_now(), t;
    do {
        qmc_qt_dot_rows(q, 0, rows, &in, y);
        reps++;
    } while ((t = qmc_now() - t0) < min_s);
    double chk = 0;
    for (int64_t r = 0; r < rows; r++) chk += y[r];
    const double gw = (double)rows * cols * reps / t / 1e9, gb = (double)sz.total * reps / t / 1e9;
    if (json)
        printf("{\"case\": \"%s\", \"method\": \"%s\", \"rows\": %lld, \"cols\": %lld, \"plane_bytes\": %lld, "
               "\"g_weights_per_s\": %.4f, \"gb_per_s\": %.4f, \"threads\": %d, \"checksum\": %.9g}\n",
               label, method, (long long)rows, (long long)cols, (long long)sz.total, gw, gb, qmc_threads(), chk);
    else
        printf("%-7s %-5s %6lld x %5lld  %6.1f MB  %6.2f G weights/s  %6.2f GB/s  (checksum %.6g)\n", label, method,
               (long long)rows, (long long)cols, sz.total / 1e6, gw, gb, chk);
    qmc_free(x);
    qmc_free(xi);
    qmc_free(y);
    qmc_tensor_release(&d);
}

int main(int argc, char **argv) {
    if (argc > 1 && !strcmp(argv[1], "--json")) {
        json = true;
        argc--;
        argv++;
    }
    const char *method = argc > 1 ? argv[1] : "qmc";
    int64_t rows_stream = argc > 2 ? atoll(argv[2]) : 65536, cols = argc > 3 ? atoll(argv[3]) : 2048;
    if (strcmp(method, "qmc") && strcmp(method, "rtn8")) {
        fprintf(stderr, "qdot_speed: unknown method '%s' (qmc or rtn8)\n", method);
        return 2;
    }
    if (rows_stream < 1 || cols < 1 || cols > (1 << 20) || rows_stream * cols > ((int64_t)1 << 32)) {
        fprintf(stderr, "qdot_speed: rows %lld x cols %lld out of range\n", (long long)rows_stream, (long long)cols);
        return 2;
    }
    run("cache", 512 * 2048 / cols, cols, method, 2.0);
    run("stream", rows_stream, cols, method, 3.0);
    return 0;
}
