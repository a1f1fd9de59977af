/* jsonfile.h — small JSON files (config.json, tokenizer.json, ...) read and
 * written with cJSON: size-limited reads, one-line parse errors naming the
 * file, crash-safe writes, and typed field getters. */
#ifndef QMC_JSONFILE_H
#define QMC_JSONFILE_H

#include <cJSON.h>
#include <stdbool.h>
#include <stdint.h>

/* Read and parse path (at most max bytes). */
int qmc_json_read(const char *path, size_t max, cJSON **out);
/* Parse a buffer; label names it in errors. */
int qmc_json_parse(const char *text, size_t len, const char *label, cJSON **out);
/* Print (indented) and write crash-safely. */
int qmc_json_write(const char *path, const cJSON *root);

/* Field getters: 0 when the field is absent or null (out unchanged), 1 when
 * read, or a negative status (message names label and key) when it has the
 * wrong type or is out of range. */
int qmc_json_get_int(const cJSON *obj, const char *key, const char *label, int64_t lo, int64_t hi, int64_t *out);
int qmc_json_get_float(const cJSON *obj, const char *key, const char *label, float *out);
int qmc_json_get_bool(const cJSON *obj, const char *key, const char *label, bool *out);
/* A string field (NULL when absent or not a string). */
const char *qmc_json_get_str(const cJSON *obj, const char *key);

/* A JSON number that reads back as exactly f (shortest such decimal). */
cJSON *qmc_json_float(float f);

#endif
