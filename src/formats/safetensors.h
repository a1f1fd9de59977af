/* safetensors.h — the safetensors container (huggingface.co/docs/safetensors).
 *
 * Layout: u64 little-endian N, then N bytes of JSON
 *   {"__metadata__": {str: str} (optional),
 *    NAME: {"dtype": "F16", "shape": [d0, d1, ...], "data_offsets": [begin, end]}, ...}
 * (shape outermost first, row-major), then the data section; offsets are
 * relative to its start.  The reader checks everything before use: N within
 * the file and below ST_MAX_HEADER, known dtypes, offsets inside the data
 * section, end - begin == product(shape) * dtype size (overflow-checked), and
 * that the tensors cover the data section without holes or overlaps (the
 * reference implementation's rule).  Tensor data stays in the caller's buffer
 * (usually a mapped file). */
#ifndef QMC_SAFETENSORS_H
#define QMC_SAFETENSORS_H

#include <stdint.h>

#include "formats/gguf.h"
#include "model/tensor.h"
#include "util/strmap.h"
#include "util/util.h"

#define ST_MAX_HEADER ((uint64_t)100 << 20) /* bytes of JSON header accepted */
#define ST_MAX_DIMS 8

typedef struct {
    const char *name;          /* NUL-terminated, owned by the st_file */
    char dtype[8];             /* as in the header: "F32", "BF16", "I64", ... */
    int dtype_size;            /* bytes per element */
    qmc_type type;             /* F32, F16 or BF16; QMC_TYPE_PACKED for dtypes qmc cannot compute with */
    int n_dims;                /* 0 (scalar) .. ST_MAX_DIMS */
    int64_t shape[ST_MAX_DIMS];/* outermost first, as in the header */
    const uint8_t *data;       /* into the parsed buffer */
    uint64_t nbytes;
} st_tensor;

typedef struct {
    st_tensor *tensors;        /* [n] in header order */
    int64_t n;
    char *names;               /* all names, NUL-terminated, back to back */
    qmc_strmap by_name;        /* name -> index into tensors */
    uint64_t data_offset;      /* 8 + N: start of the data section in the buffer */
} st_file;

/* Parse a whole safetensors buffer; `label` (the path) prefixes errors. */
int  st_parse(const uint8_t *buf, size_t size, const char *label, st_file *out);
void st_free(st_file *f);
const st_tensor *st_find(const st_file *f, const char *name);

/* ---- model.safetensors.index.json --------------------------------------------
 * {"metadata": {...}, "weight_map": {TENSOR: SHARD, ...}}: every SHARD must be
 * a plain file name (no '/', not "." or ".."), at most ST_MAX_SHARDS distinct. */
#define ST_MAX_SHARDS 4096

typedef struct {
    struct cJSON *root;        /* the parsed file */
    const struct cJSON *weight_map;
    const char **shards;       /* [n_shards] distinct shard names, in order of first appearance */
    int n_shards;
    qmc_strmap shard_of;       /* shard name -> index into shards */
} st_index;

/* Parse the index text; `label` (the path) prefixes errors. */
int  st_index_parse(const char *json, size_t len, const char *label, st_index *out);
/* Index into ix->shards of the shard holding tensor `name`, or -1 when the
 * index does not list it. */
int  st_index_find(const st_index *ix, const char *name);
void st_index_free(st_index *ix);

/* ---- writer ---------------------------------------------------------------- */
typedef struct st_writer st_writer;

st_writer *st_writer_new(void);
void st_writer_free(st_writer *w);
/* A tensor of `type` (F32, F16, BF16) and shape[n_dims] (outermost first) whose
 * bytes fill(user, out) produces during st_write.  Names are copied. */
int st_add(st_writer *w, const char *name, qmc_type type, int n_dims, const int64_t *shape, gguf_fill_fn fill,
           void *user);
/* Metadata entry for "__metadata__" (strings are copied). */
int st_set_meta(st_writer *w, const char *key, const char *value);
/* Write crash-safely (temporary + rename).  Tensors are stored 4-byte types
 * first so that every tensor is aligned to its element size. */
int st_write(st_writer *w, const char *path);

#endif
