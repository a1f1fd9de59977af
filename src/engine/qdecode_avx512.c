/* qdecode_avx512.c — placeholder until the 16-wide kernel: the AVX2 one. */
#include "engine/kernels.h"
void qmc_qt_decode_row_avx512(const qmc_qtensor *q, int64_t r, float *out) { qmc_qt_decode_row_avx2(q, r, out); }
