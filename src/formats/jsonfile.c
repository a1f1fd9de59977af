/* jsonfile.c — see jsonfile.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "formats/jsonfile.h"
#include "util/util.h"

int qmc_json_parse(const char *text, size_t len, const char *label, cJSON **out) {
    const char *end = NULL;
    *out = cJSON_ParseWithLengthOpts(text, len, &end, false);
    if (!*out) {
        size_t at = end && end >= text ? (size_t)(end - text) : 0;
        return qmc_fail(QMC_ERR_FORMAT, "%s: malformed JSON near byte %zu", label, at);
    }
    return QMC_OK;
}

int qmc_json_read(const char *path, size_t max, cJSON **out) {
    char *buf = NULL;
    size_t len = 0;
    *out = NULL;
    int rc = qmc_read_file(path, max, &buf, &len);
    if (rc) return rc;
    rc = qmc_json_parse(buf, len, path, out);
    qmc_free(buf);
    return rc;
}

int qmc_json_write(const char *path, const cJSON *root) {
    char *s = cJSON_Print(root);
    if (!s) return qmc_fail(QMC_ERR_NOMEM, "%s: cannot format JSON", path);
    size_t n = strlen(s);
    /* end with a newline like the Python tools do */
    char *t = qmc_alloc(n + 2, 1);
    int rc = QMC_ERR_NOMEM;
    if (t) {
        memcpy(t, s, n);
        t[n] = '\n';
        rc = qmc_write_file_atomic(path, t, n + 1);
        qmc_free(t);
    }
    cJSON_free(s);
    return rc;
}

static const cJSON *field(const cJSON *obj, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return v && !cJSON_IsNull(v) ? v : NULL;
}

int qmc_json_get_int(const cJSON *obj, const char *key, const char *label, int64_t lo, int64_t hi, int64_t *out) {
    const cJSON *v = field(obj, key);
    if (!v) return 0;
    double d = cJSON_IsNumber(v) ? v->valuedouble : NAN;
    /* (double)hi may round up past hi (INT64_MAX becomes 2^63): also stay in [-2^63, 2^63) */
    if (!(d == floor(d)) || d < (double)lo || d > (double)hi || !(d >= -0x1p63 && d < 0x1p63))
        return qmc_fail(QMC_ERR_FORMAT, "%s: \"%s\" must be an integer in [%lld, %lld]", label, key, (long long)lo, (long long)hi);
    *out = (int64_t)d;
    return 1;
}

int qmc_json_get_float(const cJSON *obj, const char *key, const char *label, float *out) {
    const cJSON *v = field(obj, key);
    if (!v) return 0;
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || fabs(v->valuedouble) > 3.0e38)
        return qmc_fail(QMC_ERR_FORMAT, "%s: \"%s\" must be a finite number", label, key);
    *out = (float)v->valuedouble;
    return 1;
}

int qmc_json_get_bool(const cJSON *obj, const char *key, const char *label, bool *out) {
    const cJSON *v = field(obj, key);
    if (!v) return 0;
    if (!cJSON_IsBool(v)) return qmc_fail(QMC_ERR_FORMAT, "%s: \"%s\" must be true or false", label, key);
    *out = cJSON_IsTrue(v);
    return 1;
}

const char *qmc_json_get_str(const cJSON *obj, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

cJSON *qmc_json_float(float f) {
    char buf[48];
    if (!isfinite(f)) return cJSON_CreateNull();
    if (f == (float)(long long)f && f > -1e15f && f < 1e15f) {
        snprintf(buf, sizeof buf, "%lld.0", (long long)f); /* 10000.0, as Python writes it */
        return cJSON_CreateRaw(buf);
    }
    /* cJSON parses numbers with strtod: the text must survive double -> float */
    for (int p = 1; p <= 9; p++) {
        snprintf(buf, sizeof buf, "%.*g", p, (double)f);
        if ((float)strtod(buf, NULL) == f) break;
    }
    if (!strpbrk(buf, ".eEn")) strcat(buf, ".0");
    return cJSON_CreateRaw(buf);
}
