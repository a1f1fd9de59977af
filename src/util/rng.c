/* rng.c — counter-based hashing and a sequential xoshiro256** generator. */
#include <math.h>

#include "util.h"

uint64_t qmc_hash64(uint64_t x) {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

double qmc_rand_normal(uint64_t key, uint64_t ctr) {
    double u1 = qmc_rand_unit(key, 2 * ctr);
    double u2 = qmc_rand_unit(key, 2 * ctr + 1);
    if (u1 < 1e-300) u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

uint64_t qmc_key(uint64_t seed, const char *label) {
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a over the label */
    for (const unsigned char *p = (const unsigned char *)label; *p; p++) h = (h ^ *p) * 0x100000001b3ull;
    return qmc_hash64(seed * 0x9E3779B97F4A7C15ull ^ h);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void qmc_rng_seed(qmc_rng *r, uint64_t seed) {
    for (int i = 0; i < 4; i++) r->s[i] = qmc_hash64(seed + 0x9E3779B97F4A7C15ull * (uint64_t)(i + 1));
}

uint64_t qmc_rng_next(qmc_rng *r) {
    uint64_t *s = r->s;
    uint64_t res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return res;
}

double qmc_rng_unit(qmc_rng *r) { return (double)(qmc_rng_next(r) >> 11) * (1.0 / 9007199254740992.0); }
