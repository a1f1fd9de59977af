/* util.h — the small things every part of qmc uses: error reporting, counted
 * allocation with a cap, mapped input files, crash-safe output files, half
 * floats, a counter-based random generator and a few string helpers. */
#ifndef QMC_UTIL_H
#define QMC_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "qmc.h"

#define QMC_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define QMC_MIN(a, b) ((a) < (b) ? (a) : (b))
#define QMC_MAX(a, b) ((a) > (b) ? (a) : (b))

#if defined(__GNUC__)
#define QMC_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define QMC_UNUSED __attribute__((unused))
#else
#define QMC_PRINTF(f, a)
#define QMC_UNUSED
#endif

/* ---- errors -------------------------------------------------------------
 * A failing function records a one-line message (thread-local) and returns a
 * negative qmc_status.  Callers that add context use qmc_error_prefix(). */
int qmc_fail(int status, const char *fmt, ...) QMC_PRINTF(2, 3);
/* Prepend "prefix: " to the current message (e.g. the file name); returns status. */
int qmc_error_prefix(int status, const char *fmt, ...) QMC_PRINTF(2, 3);

/* ---- checked arithmetic ---------------------------------------------------*/
/* *out = a * b; returns false on overflow (or negative input). */
bool qmc_mul_ok(int64_t a, int64_t b, int64_t *out);
bool qmc_add_ok(int64_t a, int64_t b, int64_t *out);

/* ---- allocation ------------------------------------------------------------
 * Every sizeable allocation goes through these so that a hostile header cannot
 * make qmc ask for unbounded memory: the total live size is capped by
 * qmc_set_alloc_cap() / the QMC_MAX_ALLOC environment variable (bytes, with an
 * optional K/M/G suffix).  On failure they set the error and return NULL. */
void *qmc_alloc(size_t n, size_t size);        /* zeroed, n*size checked */
void *qmc_alloc_aligned(size_t n, size_t size); /* 64-byte aligned, zeroed */
void *qmc_realloc(void *p, size_t n, size_t size);
/* Make the array *p (capacity *cap elements of `size` bytes) hold at least
 * `need` elements: the capacity doubles (from 64), contents are kept. */
int   qmc_grow(void **p, int64_t *cap, int64_t need, size_t size);
void  qmc_free(void *p);                       /* for both kinds */
char *qmc_strdup(const char *s);
size_t qmc_alloc_live(void);

/* ---- files -----------------------------------------------------------------*/
typedef struct {
    const uint8_t *data;   /* read-only view of the whole file */
    size_t size;
    bool mapped;           /* mmap'd (else a heap copy) */
    char path[4096];
} qmc_mapped_file;

int  qmc_map_file(const char *path, qmc_mapped_file *f);
/* Same interface, but the bytes are read into (anonymous, huge-page capable) memory. */
int  qmc_read_whole_file(const char *path, qmc_mapped_file *f);
void qmc_unmap_file(qmc_mapped_file *f);
/* Read a whole (small) file into a NUL-terminated heap buffer, at most max bytes. */
int  qmc_read_file(const char *path, size_t max, char **out, size_t *len);
bool qmc_file_exists(const char *path);
bool qmc_is_dir(const char *path);

/* Crash-safe output: bytes go to an unnamed (O_TMPFILE) or hidden temporary
 * file in the destination's directory; qmc_out_commit() fsyncs and renames it
 * into place, so a reader never sees a half-written file and a killed writer
 * leaves the previous file intact.  Write errors (ENOSPC, EIO) are sticky and
 * reported by commit. */
typedef struct qmc_out qmc_out;
int  qmc_out_open(const char *path, qmc_out **out);
int  qmc_out_write(qmc_out *o, const void *buf, size_t n);
int  qmc_out_printf(qmc_out *o, const char *fmt, ...) QMC_PRINTF(2, 3);
int  qmc_out_pad(qmc_out *o, size_t align);   /* zero bytes up to a multiple */
uint64_t qmc_out_tell(const qmc_out *o);
int  qmc_out_commit(qmc_out *o);              /* frees o */
void qmc_out_abort(qmc_out *o);               /* frees o, removes the temp file */
/* Whole-buffer convenience. */
int  qmc_write_file_atomic(const char *path, const void *buf, size_t n);

/* ---- half precision ----------------------------------------------------------*/
float    qmc_f16_to_f32(uint16_t h);
uint16_t qmc_f32_to_f16(float f);              /* round to nearest even */
float    qmc_bf16_to_f32(uint16_t h);
uint16_t qmc_f32_to_bf16(float f);             /* round to nearest even */
/* Row conversions (use F16C when the CPU has it). */
void qmc_f16_to_f32_row(const uint16_t *src, float *dst, int64_t n);
void qmc_f32_to_f16_row(const float *src, uint16_t *dst, int64_t n);

/* ---- deterministic random numbers --------------------------------------------
 * Counter based: the value depends only on (key, counter), so parallel loops
 * produce the same numbers whatever the thread count. */
uint64_t qmc_hash64(uint64_t x);                         /* splitmix64 finaliser */
static inline uint64_t qmc_rand_u64(uint64_t key, uint64_t ctr) {
    return qmc_hash64(key ^ qmc_hash64(ctr + 0x9E3779B97F4A7C15ull));
}
/* uniform in [0,1) with 53 random bits */
static inline double qmc_rand_unit(uint64_t key, uint64_t ctr) {
    return (double)(qmc_rand_u64(key, ctr) >> 11) * (1.0 / 9007199254740992.0);
}
double qmc_rand_normal(uint64_t key, uint64_t ctr);     /* N(0,1), Box-Muller */
uint64_t qmc_key(uint64_t seed, const char *label);     /* derive a key from seed+string */

/* Sequential generator (xoshiro256**) for sampling and shuffles. */
typedef struct { uint64_t s[4]; } qmc_rng;
void     qmc_rng_seed(qmc_rng *r, uint64_t seed);
uint64_t qmc_rng_next(qmc_rng *r);
double   qmc_rng_unit(qmc_rng *r);

/* ---- misc ---------------------------------------------------------------------*/
double qmc_now(void);                 /* monotonic seconds */
/* Growable string. */
typedef struct { char *s; size_t len, cap; bool failed; } qmc_str;
void qmc_str_append(qmc_str *b, const char *s, size_t n);
void qmc_str_printf(qmc_str *b, const char *fmt, ...) QMC_PRINTF(2, 3);
void qmc_str_free(qmc_str *b);
bool qmc_ends_with(const char *s, const char *suffix);
/* Parse "123", "1.5e9", "64M" style sizes; false on junk. */
bool qmc_parse_size(const char *s, uint64_t *out);
bool qmc_parse_int(const char *s, int64_t lo, int64_t hi, int64_t *out);
bool qmc_parse_double(const char *s, double *out);
/* Path helpers */
void qmc_path_join(char *out, size_t cap, const char *dir, const char *name);
/* Remove every carriage return (CRLF -> LF) from text[len] in place; returns the new length and
 * NUL-terminates it (text must have room for the terminator, as qmc_read_file's buffers do). */
size_t qmc_strip_cr(char *text, size_t len);
const char *qmc_basename(const char *path);

/* Progress bar on stderr (only when it is a terminal): label is a C string
 * passed as the user pointer, fraction in [0, 1]. */
void qmc_progress_bar(void *label, double fraction);

/* Number of threads for OpenMP regions (qmc_set_threads). */
int qmc_threads(void);

#endif
