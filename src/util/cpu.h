/* cpu.h — run-time CPU feature checks and the entry points of the files
 * compiled with extra instruction sets (*_avx2.c, *_avx512.c). */
#ifndef QMC_CPU_H
#define QMC_CPU_H
#include <stdbool.h>
#include <stdint.h>

bool qmc_cpu_has_avx2(void);    /* AVX2 + FMA + F16C + BMI2 */
bool qmc_cpu_has_avx512(void);  /* AVX-512 F/BW/VL/VBMI/VBMI2/VNNI */
/* QMC_NO_SIMD=1 in the environment (or qmc_cpu_force_scalar) turns every SIMD
 * path off so the scalar reference kernels run. */
void qmc_cpu_force_scalar(bool on);

/* src/util/half_avx2.c: converts a prefix of the row, returns how many done. */
int64_t qmc_f16_to_f32_row_avx2(const uint16_t *src, float *dst, int64_t n);
#endif
