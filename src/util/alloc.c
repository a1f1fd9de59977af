/* alloc.c — counted allocation with a global cap.
 *
 * Each block carries a 64-byte header holding its size, so frees can be
 * counted and aligned and plain blocks are freed the same way. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "util.h"

#define HDR 64u
#define MAGIC 0x716d6361u /* "qmca" */

typedef struct { size_t size; uint32_t magic; uint32_t mapped; } hdr_t;

/* Blocks from 1 MiB up come straight from mmap: the kernel zero-fills pages
 * lazily (a large KV cache costs nothing until used) and they can use
 * transparent huge pages.  Under AddressSanitizer every block comes from the
 * heap, so that overflows of large buffers are caught too. */
#if defined(__SANITIZE_ADDRESS__)
#define QMC_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define QMC_ASAN 1
#endif
#endif
#ifdef QMC_ASAN
#define MAP_THRESHOLD SIZE_MAX
#else
#define MAP_THRESHOLD (1u << 20)
#endif

static _Atomic uint64_t g_live;
static _Atomic uint64_t g_cap;
static atomic_int g_cap_init;

static uint64_t cap(void) {
    if (!atomic_load(&g_cap_init)) {
        const char *e = getenv("QMC_MAX_ALLOC");
        uint64_t v = 0;
        if (e && *e && qmc_parse_size(e, &v)) atomic_store(&g_cap, v);
        atomic_store(&g_cap_init, 1);
    }
    return atomic_load(&g_cap);
}

void qmc_set_alloc_cap(uint64_t bytes) {
    atomic_store(&g_cap_init, 1);
    atomic_store(&g_cap, bytes);
}

size_t qmc_alloc_live(void) { return (size_t)atomic_load(&g_live); }

static bool reserve(size_t bytes) {
    uint64_t c = cap();
    uint64_t now = atomic_fetch_add(&g_live, bytes) + bytes;
    if (c && now > c) {
        uint64_t in_use = atomic_fetch_sub(&g_live, bytes) - bytes;
        qmc_fail(QMC_ERR_NOMEM,
                 "allocation of %zu bytes would exceed the memory cap of %llu bytes with %llu in use "
                 "(raise it with --max-alloc or QMC_MAX_ALLOC)",
                 bytes, (unsigned long long)c, (unsigned long long)in_use);
        return false;
    }
    return true;
}

void *qmc_alloc(size_t n, size_t size) {
    int64_t total;
    if (!qmc_mul_ok((int64_t)n, (int64_t)size, &total) || n > INT64_MAX || size > INT64_MAX ||
        (uint64_t)total > SIZE_MAX - HDR) {
        qmc_fail(QMC_ERR_NOMEM, "allocation size overflows (%zu x %zu bytes)", n, size);
        return NULL;
    }
    size_t bytes = (size_t)total;
    if (!reserve(bytes)) return NULL;
    void *raw = NULL;
    bool mapped = bytes >= MAP_THRESHOLD;
    if (mapped) {
        raw = mmap(NULL, bytes + HDR, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (raw == MAP_FAILED) raw = NULL;
#ifdef MADV_HUGEPAGE
        if (raw) madvise(raw, bytes + HDR, MADV_HUGEPAGE);
#endif
    } else if (posix_memalign(&raw, HDR, bytes + HDR) != 0) {
        raw = NULL;
    }
    if (!raw) {
        atomic_fetch_sub(&g_live, bytes);
        qmc_fail(QMC_ERR_NOMEM, "out of memory allocating %zu bytes", bytes);
        return NULL;
    }
    if (!mapped) memset(raw, 0, bytes + HDR);
    hdr_t *h = raw;
    h->size = bytes;
    h->magic = MAGIC;
    h->mapped = mapped;
    return (uint8_t *)raw + HDR;
}

void *qmc_alloc_aligned(size_t n, size_t size) { return qmc_alloc(n, size); }

void qmc_free(void *p) {
    if (!p) return;
    hdr_t *h = (hdr_t *)((uint8_t *)p - HDR);
    if (h->magic != MAGIC) abort(); /* not ours: a programming error */
    h->magic = 0;
    atomic_fetch_sub(&g_live, h->size);
    if (h->mapped) munmap(h, h->size + HDR);
    else free(h);
}

void *qmc_realloc(void *p, size_t n, size_t size) {
    if (!p) return qmc_alloc(n, size);
    hdr_t *h = (hdr_t *)((uint8_t *)p - HDR);
    void *q = qmc_alloc(n, size);
    if (!q) return NULL;
    size_t keep = QMC_MIN(h->size, n * size);
    memcpy(q, p, keep);
    qmc_free(p);
    return q;
}

int qmc_grow(void **p, int64_t *cap, int64_t need, size_t size) {
    if (need <= *cap) return QMC_OK;
    int64_t nc = *cap > 0 ? *cap : 64;
    while (nc < need) {
        if (nc > INT64_MAX / 2) return qmc_fail(QMC_ERR_NOMEM, "array of %lld elements is too large", (long long)need);
        nc *= 2;
    }
    void *np = qmc_realloc(*p, (size_t)nc, size);
    if (!np) return QMC_ERR_NOMEM;
    *p = np;
    *cap = nc;
    return QMC_OK;
}

char *qmc_strdup(const char *s) {
    size_t n = strlen(s);
    char *d = qmc_alloc(n + 1, 1);
    if (d) memcpy(d, s, n + 1);
    return d;
}

bool qmc_mul_ok(int64_t a, int64_t b, int64_t *out) {
    if (a < 0 || b < 0) return false;
    if (__builtin_mul_overflow(a, b, out)) return false;
    return true;
}

bool qmc_add_ok(int64_t a, int64_t b, int64_t *out) {
    if (a < 0 || b < 0) return false;
    if (__builtin_add_overflow(a, b, out)) return false;
    return true;
}
