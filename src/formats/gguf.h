/* gguf.h — GGUF v2/v3 reader and v3 writer (github.com/ggml-org/ggml docs/gguf.md).
 *
 * The reader parses a buffer (usually a mapped file) and never allocates more
 * than the buffer can justify: every count is checked against the bytes that
 * remain before anything is allocated.  Strings and tensor data stay in the
 * buffer; the context points into it. */
#ifndef QMC_GGUF_H
#define QMC_GGUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/tensor.h"
#include "util/strmap.h"
#include "util/util.h"

typedef enum {
    GGUF_TYPE_UINT8 = 0, GGUF_TYPE_INT8 = 1, GGUF_TYPE_UINT16 = 2, GGUF_TYPE_INT16 = 3,
    GGUF_TYPE_UINT32 = 4, GGUF_TYPE_INT32 = 5, GGUF_TYPE_FLOAT32 = 6, GGUF_TYPE_BOOL = 7,
    GGUF_TYPE_STRING = 8, GGUF_TYPE_ARRAY = 9, GGUF_TYPE_UINT64 = 10, GGUF_TYPE_INT64 = 11,
    GGUF_TYPE_FLOAT64 = 12, GGUF_TYPE_COUNT
} gguf_type;

#define GGUF_DEFAULT_ALIGNMENT 32
#define GGUF_MAX_ENTRIES (1 << 24) /* metadata keys, and tensors, accepted per file */

typedef struct { const char *s; uint64_t len; } gguf_str;   /* not NUL-terminated */

typedef struct {
    char *key;                /* NUL-terminated copy */
    gguf_type type;
    union { uint64_t u; int64_t i; double f; bool b; gguf_str s; } v;  /* scalars */
    /* arrays */
    gguf_type arr_type;
    uint64_t arr_n;
    const uint8_t *arr_data;  /* raw little-endian elements (numeric arrays) */
    gguf_str *arr_str;        /* string arrays: arr_n entries pointing into the buffer */
} gguf_kv;

typedef struct {
    char name[QMC_MAX_NAME];
    uint32_t n_dims;
    int64_t ne[4];
    uint32_t type;            /* ggml type number */
    uint64_t offset;          /* relative to the data section */
    uint64_t nbytes;
    const uint8_t *data;      /* into the buffer */
} gguf_tensor_info;

typedef struct gguf_ctx {
    uint32_t version;
    gguf_kv *kv;
    int64_t n_kv;
    gguf_tensor_info *tensors;
    int64_t n_tensors;
    uint64_t alignment;
    uint64_t data_offset;     /* start of the tensor data section */
    const uint8_t *base;
    size_t size;
    qmc_strmap kv_index;      /* key -> index into kv */
    qmc_strmap tensor_index;  /* tensor name -> index into tensors */
} gguf_ctx;

/* Parse; `label` (usually the path) prefixes error messages. */
int  gguf_parse(const uint8_t *buf, size_t size, const char *label, gguf_ctx **out);
void gguf_free(gguf_ctx *g);

const gguf_kv *gguf_find(const gguf_ctx *g, const char *key);
const gguf_tensor_info *gguf_find_tensor(const gguf_ctx *g, const char *name);
/* Typed getters: return false when the key is missing or has an incompatible
 * type (any integer type is accepted for integers if the value fits). */
bool gguf_get_i64(const gguf_ctx *g, const char *key, int64_t *out);
bool gguf_get_f64(const gguf_ctx *g, const char *key, double *out);
bool gguf_get_bool(const gguf_ctx *g, const char *key, bool *out);
/* NUL-terminated copy into buf (truncated); false if missing / not a string. */
bool gguf_get_str(const gguf_ctx *g, const char *key, char *buf, size_t cap);
const char *gguf_type_name(gguf_type t);
/* Bytes of one value of scalar type t (0 for strings, arrays, unknown types). */
int gguf_type_size(gguf_type t);

/* ggml tensor types: name, block size and bytes per block (all known types,
 * so files with types qmc cannot compute are still parsed and reported). */
const char *ggml_type_name(uint32_t type);
bool ggml_type_known(uint32_t type);
/* Bytes of a row-major tensor; false on overflow or ne[0] not a multiple of the block. */
bool ggml_tensor_nbytes(uint32_t type, const int64_t ne[4], uint64_t *out);

/* ---- writer --------------------------------------------------------------- */
typedef struct gguf_writer gguf_writer;
/* Produces exactly nbytes of a tensor's data. */
typedef int (*gguf_fill_fn)(void *user, qmc_out *o);

gguf_writer *gguf_writer_new(void);
void gguf_writer_free(gguf_writer *w);
/* Setting a key twice replaces it. All return QMC_OK or an error. */
int gguf_set_u32(gguf_writer *w, const char *key, uint32_t v);
int gguf_set_i32(gguf_writer *w, const char *key, int32_t v);
int gguf_set_u64(gguf_writer *w, const char *key, uint64_t v);
int gguf_set_f32(gguf_writer *w, const char *key, float v);
int gguf_set_bool(gguf_writer *w, const char *key, bool v);
int gguf_set_str(gguf_writer *w, const char *key, const char *v);
/* Numeric array: n elements of type t, raw little-endian data copied. */
int gguf_set_arr(gguf_writer *w, const char *key, gguf_type t, const void *data, uint64_t n);
int gguf_set_arr_str(gguf_writer *w, const char *key, const char *const *strs, const uint64_t *lens,
                     uint64_t n);
/* Copy a key (any type) from a parsed file. */
int gguf_copy_kv(gguf_writer *w, const gguf_kv *kv);
void gguf_remove_kv(gguf_writer *w, const char *key);
/* Tensor whose bytes are at data (kept by the caller until gguf_write). */
int gguf_add_tensor(gguf_writer *w, const char *name, uint32_t type, int n_dims, const int64_t *ne,
                    const void *data);
/* Tensor whose bytes are produced by fill(user, out) during gguf_write. */
int gguf_add_tensor_fn(gguf_writer *w, const char *name, uint32_t type, int n_dims, const int64_t *ne,
                       gguf_fill_fn fill, void *user);
/* Write the file crash-safely (temporary + rename). progress may be NULL. */
int gguf_write(gguf_writer *w, const char *path, void (*progress)(void *, double), void *pu);

#endif
