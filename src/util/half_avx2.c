/* half_avx2.c — F16C row conversion (compiled with -mavx2 -mf16c). */
#include <immintrin.h>

#include "cpu.h"

int64_t qmc_f16_to_f32_row_avx2(const uint16_t *src, float *dst, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(src + i))));
    return i;
}
