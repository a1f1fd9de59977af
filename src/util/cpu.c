/* cpu.c — run-time CPU feature detection. */
#include <stdatomic.h>
#include <stdlib.h>

#include "cpu.h"

static atomic_int g_state = -1; /* -1 unknown; bit0 avx2, bit1 avx512 */
static atomic_bool g_forced;

static int detect(void) {
    int s = atomic_load(&g_state);
    if (s >= 0) return s;
    s = 0;
    const char *e = getenv("QMC_NO_SIMD");
    if (!(e && *e && *e != '0')) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
            __builtin_cpu_supports("bmi2"))
            s |= 1;
        if ((s & 1) && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
            __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vbmi") &&
            __builtin_cpu_supports("avx512vbmi2") && __builtin_cpu_supports("avx512vnni"))
            s |= 2;
#endif
    }
    atomic_store(&g_state, s);
    return s;
}

bool qmc_cpu_has_avx2(void) { return !atomic_load(&g_forced) && (detect() & 1); }
bool qmc_cpu_has_avx512(void) { return !atomic_load(&g_forced) && (detect() & 2); }
void qmc_cpu_force_scalar(bool on) { atomic_store(&g_forced, on); }
